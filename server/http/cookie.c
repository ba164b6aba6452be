/* Cookie header parsing, Set-Cookie formatting, Origin checks. */
#include "http/cookie.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

int lc_cookie_get(const char *header, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (vlen >= size)
                return -ENAMETOOLONG;
            memcpy(out, v, vlen);
            out[vlen] = 0;
            return 0;
        }
        p = end;
    }
    return -ENOENT;
}

int lc_cookie_format(char *out, size_t size, const char *name, const char *value,
                     int64_t max_age_s, bool secure)
{
    return lc_fmt(out, size, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", name,
                  value, (long long)(max_age_s > 0 ? max_age_s : 0), secure ? "; Secure" : "");
}

/* Splits "scheme://host[:port]" (no path, no user info) into its parts, with the scheme's
 * default port when none is given. */
static bool parse_origin(const char *s, char *scheme, size_t ssize, char *host, size_t hsize,
                         char *port, size_t psize)
{
    const char *sep = strstr(s, "://");
    if (!sep || (size_t)(sep - s) >= ssize)
        return false;
    memcpy(scheme, s, (size_t)(sep - s));
    scheme[sep - s] = 0;
    bool https = strcasecmp(scheme, "https") == 0;
    if (!https && strcasecmp(scheme, "http") != 0)
        return false;
    const char *h = sep + 3;
    if (strpbrk(h, "/?#@\\ ") != NULL)
        return false;
    /* The port follows the last ':' outside an IPv6 literal's brackets. */
    const char *close = strrchr(h, ']');
    const char *colon = strrchr(close ? close : h, ':');
    size_t hlen = colon ? (size_t)(colon - h) : strlen(h);
    if (hlen == 0 || hlen >= hsize)
        return false;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    const char *p = colon ? colon + 1 : (https ? "443" : "80");
    int64_t v;
    if (lc_parse_int64(p, 1, 65535, &v) < 0 || lc_fmt(port, psize, "%lld", (long long)v) < 0)
        return false;
    return true;
}

bool lc_origin_allowed(const char *origin, const char *host, const char *public_url)
{
    char scheme[8], ohost[256], oport[8], hhost[256], hport[8], tmp[300];
    if (!origin || !parse_origin(origin, scheme, sizeof scheme, ohost, sizeof ohost, oport,
                                 sizeof oport))
        return false;
    /* The Host header has no scheme: it gets the origin's, so that a default port on either
     * side compares equal. */
    if (host && lc_fmt(tmp, sizeof tmp, "%s://%s", scheme, host) == 0 &&
        parse_origin(tmp, scheme, sizeof scheme, hhost, sizeof hhost, hport, sizeof hport) &&
        strcasecmp(ohost, hhost) == 0 && strcmp(oport, hport) == 0)
        return true;
    if (!public_url)
        return false;
    /* The public URL may carry a path: compare only its scheme://host[:port]. */
    const char *sep = strstr(public_url, "://");
    const char *slash = sep ? strchr(sep + 3, '/') : NULL;
    size_t n = slash ? (size_t)(slash - public_url) : strlen(public_url);
    char pscheme[8];
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, public_url, n);
    tmp[n] = 0;
    return parse_origin(tmp, pscheme, sizeof pscheme, hhost, sizeof hhost, hport, sizeof hport) &&
           strcasecmp(pscheme, scheme) == 0 && strcasecmp(ohost, hhost) == 0 &&
           strcmp(oport, hport) == 0;
}
