/* Options table, config file reader and argv parser. One table describes every option, so the
 * flags, the file and the help text cannot drift apart. */
#include "config/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "events/events.h"

typedef enum { OPT_STR, OPT_LEVEL, OPT_SECONDS_F, OPT_SECONDS_MS, OPT_INT, OPT_BOOL } opt_type_t;

typedef struct {
    const char *name;
    opt_type_t type;
    size_t offset;
    size_t size; /* for strings */
    double min, max;
    const char *arg;
    const char *help;
} opt_t;

#define STR(field) OPT_STR, offsetof(lc_config_t, field), sizeof(((lc_config_t *)0)->field), 0, 0
static const opt_t options[] = {
    {"config", OPT_STR, 0, 0, 0, 0, "FILE",
     "read settings from FILE (lines `name = value`, names as the long options)"},
    {"http", STR(http_listen), "ADDR:PORT", "HTTP listen address (default 0.0.0.0:8080)"},
    {"rtmp", STR(rtmp_listen), "ADDR:PORT", "RTMP ingest listen address (default 0.0.0.0:1935)"},
    {"data-dir", STR(data_dir), "DIR",
     "data directory: database and recordings (default ./data)"},
    {"public-url", STR(public_url), "URL",
     "base URL attendees use, for printed links (default http://localhost:HTTP-PORT)"},
    {"rtmp-url", STR(rtmp_url), "URL",
     "RTMP URL presenters push to, without the key (default rtmp://localhost:RTMP-PORT/live)"},
    {"log-level", OPT_LEVEL, offsetof(lc_config_t, log_level), 0, 0, 0, "LEVEL",
     "error, warn, info or debug (default info)"},
    {"part-target", OPT_SECONDS_F, offsetof(lc_config_t, part_target_s), 0, 0.1, 2.0, "SECONDS",
     "HLS part (CMAF fragment) target duration (default 0.333: a third of a second)"},
    {"segment-target", OPT_SECONDS_F, offsetof(lc_config_t, segment_target_s), 0, 0.5, 12.0,
     "SECONDS", "HLS segment target duration; segments end on keyframes (default 2)"},
    {"window-segments", OPT_INT, offsetof(lc_config_t, window_segments), 0, 3, 100, "N",
     "segments listed in the live playlist (default 6)"},
    {"grace", OPT_SECONDS_MS, offsetof(lc_config_t, grace_ms), 0, 0, 3600, "SECONDS",
     "how long a dropped presenter may reconnect into the same session (default 60)"},
    {"low-latency", OPT_BOOL, offsetof(lc_config_t, low_latency), 0, 0, 0, NULL,
     "Low-Latency HLS: parts, blocking playlist reload, delta updates (default on; "
     "--low-latency=false lists whole segments only)"},
    {"demo", OPT_BOOL, offsetof(lc_config_t, demo), 0, 0, 0, NULL,
     "create a demo webinar and feed it a generated test picture and tone"},
    {"secure-cookies", OPT_BOOL, offsetof(lc_config_t, secure_cookies), 0, 0, 0, NULL,
     "mark the login cookie Secure: for running behind a TLS (HTTPS) proxy; lectern itself "
     "serves plain HTTP and never trusts X-Forwarded-* headers (default off)"},
    {"session-idle", OPT_SECONDS_MS, offsetof(lc_config_t, session_idle_ms), 0, 1, 2592000,
     "SECONDS", "an organiser's login ends after this long without use (default 43200: 12 h)"},
    {"session-lifetime", OPT_SECONDS_MS, offsetof(lc_config_t, session_lifetime_ms), 0, 1,
     31536000, "SECONDS",
     "an organiser's login ends this long after it began, used or not (default 604800: 7 days)"},
    {"retention-interval", OPT_SECONDS_MS, offsetof(lc_config_t, retention_interval_ms), 0, 1,
     86400, "SECONDS",
     "how often expired personal data, logins and recordings are deleted; also at start "
     "(default 3600: hourly)"},
    {"events-ping", OPT_SECONDS_MS, offsetof(lc_config_t, events_ping_ms), 0, 1, 300, "SECONDS",
     "a comment on every idle live-event stream this often, so that proxies keep it open and "
     "streams of vanished clients are closed (default 15)"},
    {"privacy-notice", STR(privacy_notice_file), "FILE",
     "the privacy notice (Art. 13 GDPR: who you are, how to reach you, your data protection "
     "officer) shown with every registration form whose organiser wrote none; UTF-8 text, at "
     "most 20,000 characters (default: a generic text in English and German)"},
};
#undef STR
#define NOPTIONS (sizeof options / sizeof options[0])

void lc_config_default(lc_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->http_listen, "0.0.0.0:8080");
    strcpy(cfg->rtmp_listen, "0.0.0.0:1935");
    strcpy(cfg->data_dir, "./data");
    cfg->log_level = LC_LOG_INFO;
    /* A third of a second: hls.js plays ~1.8 s behind the presenter with it against ~2.2 s with
     * 0.5 s parts (bench/README.md, glass-to-glass). Parts of 8 frames at 25 fps (0.32 s), 9 or
     * 10 at 30 fps (RTMP's millisecond timestamps make 10 frames 333 or 334 ms). */
    cfg->part_target_s = 1.0 / 3;
    cfg->segment_target_s = 2.0;
    cfg->window_segments = 6;
    cfg->grace_ms = 60000;
    cfg->low_latency = true;
    cfg->session_idle_ms = 12 * 3600 * 1000LL;
    cfg->session_lifetime_ms = 7 * 24 * 3600 * 1000LL;
    cfg->retention_interval_ms = 3600 * 1000LL;
    cfg->events_ping_ms = LC_EVENTS_PING_DEFAULT_MS;
}

static const opt_t *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static bool is_allowed(const char *name, const char *const *allowed)
{
    if (!allowed)
        return true;
    for (; *allowed; allowed++)
        if (strcmp(*allowed, name) == 0)
            return true;
    return false;
}

int lc_config_set(lc_config_t *cfg, const char *name, const char *value, char *err, size_t err_size)
{
    const opt_t *o = find_opt(name);
    char dummy[1];
    if (!err) {
        err = dummy;
        err_size = sizeof dummy;
    }
    if (!o || strcmp(name, "config") == 0) {
        snprintf(err, err_size, "unknown option '%s'", name);
        return -ENOENT;
    }
    char *field = (char *)cfg + o->offset;
    int rc = 0;
    switch (o->type) {
    case OPT_STR:
        if (!value || !*value || strlen(value) >= o->size) {
            snprintf(err, err_size, "--%s: value is empty or longer than %zu bytes", name,
                     o->size - 1);
            return -EINVAL;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case OPT_LEVEL:
        rc = lc_log_parse_level(value, (lc_log_level_t *)(void *)field);
        if (rc < 0)
            snprintf(err, err_size, "--%s: expected error, warn, info or debug", name);
        return rc;
    case OPT_BOOL:
        if (!value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcmp(value, "yes") == 0) {
            *(bool *)(void *)field = true;
            return 0;
        }
        if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0) {
            *(bool *)(void *)field = false;
            return 0;
        }
        snprintf(err, err_size, "--%s: expected true or false", name);
        return -EINVAL;
    case OPT_INT: {
        int64_t v;
        rc = lc_parse_int64(value, (int64_t)o->min, (int64_t)o->max, &v);
        if (rc < 0) {
            snprintf(err, err_size, "--%s: expected a whole number from %.0f to %.0f", name,
                     o->min, o->max);
            return rc;
        }
        *(int *)(void *)field = (int)v;
        return 0;
    }
    case OPT_SECONDS_F:
    case OPT_SECONDS_MS: {
        double v;
        rc = lc_parse_double(value, o->min, o->max, &v);
        if (rc < 0) {
            snprintf(err, err_size, "--%s: expected seconds from %g to %g", name, o->min, o->max);
            return rc;
        }
        if (o->type == OPT_SECONDS_F)
            *(double *)(void *)field = v;
        else
            *(int64_t *)(void *)field = (int64_t)(v * 1000.0 + 0.5);
        return 0;
    }
    }
    return -EINVAL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

int lc_config_load_file(lc_config_t *cfg, const char *path, char *err, size_t err_size)
{
    char *text = NULL;
    int rc = lc_read_file(path, 1 << 20, &text, NULL);
    if (rc < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(-rc));
        return rc;
    }
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, err_size, "%s:%d: expected `name = value`", path, lineno);
            rc = -EINVAL;
            break;
        }
        *eq = 0;
        char msg[256];
        rc = lc_config_set(cfg, trim(s), trim(eq + 1), msg, sizeof msg);
        if (rc < 0) {
            snprintf(err, err_size, "%s:%d: %s", path, lineno, msg);
            break;
        }
    }
    free(text);
    return rc;
}

/* "0.0.0.0:8080" → port "8080"; the host part is replaced by localhost in default URLs because
 * a wildcard address is not something a browser can open. */
static const char *port_of(const char *listen)
{
    const char *c = strrchr(listen, ':');
    return c ? c + 1 : listen;
}

static bool is_wildcard_host(const char *listen)
{
    return strncmp(listen, "0.0.0.0:", 8) == 0 || strncmp(listen, "[::]:", 5) == 0 ||
           listen[0] == ':';
}

static void default_url(char *out, size_t size, const char *scheme, const char *listen,
                        const char *suffix)
{
    if (is_wildcard_host(listen))
        snprintf(out, size, "%s://localhost:%s%s", scheme, port_of(listen), suffix);
    else
        snprintf(out, size, "%s://%s%s", scheme, listen, suffix);
}

void lc_config_finish(lc_config_t *cfg, const char *http_addr, const char *rtmp_addr)
{
    if (!cfg->public_url[0])
        default_url(cfg->public_url, sizeof cfg->public_url, "http",
                    http_addr ? http_addr : cfg->http_listen, "");
    if (!cfg->rtmp_url[0])
        default_url(cfg->rtmp_url, sizeof cfg->rtmp_url, "rtmp",
                    rtmp_addr ? rtmp_addr : cfg->rtmp_listen, "/live");
    /* Printed URLs are joined with "/path": drop a trailing slash the user may have given. */
    for (char *u = cfg->public_url; u; u = (u == cfg->public_url ? cfg->rtmp_url : NULL)) {
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
            u[--n] = 0;
    }
}

int lc_config_parse_args(lc_config_t *cfg, int argc, char **argv, const char *const *allowed,
                         const char **rest, int rest_max, int *nrest, char *err, size_t err_size)
{
    *nrest = 0;
    /* Pass 1: the config file, so flags override it whatever their order. */
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "--config needs a file name");
                return -EINVAL;
            }
            v = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            v = argv[i] + 9;
        }
        if (v) {
            if (!is_allowed("config", allowed)) {
                snprintf(err, err_size, "--config is not an option of this command");
                return -EINVAL;
            }
            int rc = lc_config_load_file(cfg, v, err, err_size);
            if (rc < 0)
                return -EINVAL;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (*nrest >= rest_max) {
                snprintf(err, err_size, "unexpected argument '%s'", a);
                return -EINVAL;
            }
            rest[(*nrest)++] = a;
            continue;
        }
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (nlen >= sizeof name) {
            snprintf(err, err_size, "unknown option '%s'", a);
            return -EINVAL;
        }
        memcpy(name, a + 2, nlen);
        name[nlen] = 0;
        const opt_t *o = find_opt(name);
        if (!o || !is_allowed(name, allowed)) {
            snprintf(err, err_size, "unknown option '--%s' (see --help)", name);
            return -EINVAL;
        }
        if (eq) {
            value = eq + 1;
        } else if (o->type != OPT_BOOL) {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "--%s needs a value", name);
                return -EINVAL;
            }
            value = argv[++i];
        }
        if (strcmp(name, "config") == 0)
            continue; /* applied in pass 1 */
        if (lc_config_set(cfg, name, value, err, err_size) < 0)
            return -EINVAL;
    }
    if (cfg->part_target_s > cfg->segment_target_s) {
        snprintf(err, err_size, "--part-target must not be longer than --segment-target");
        return -EINVAL;
    }
    return 0;
}

void lc_config_print_help(FILE *out, const char *const *allowed)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_t *o = &options[i];
        if (!is_allowed(o->name, allowed))
            continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(out, "  %-28s %s\n", left, o->help);
    }
}
