/* Cookies and the same-origin check, as pure functions of header values (unit-tested without a
 * server). */
#ifndef LC_HTTP_COOKIE_H
#define LC_HTTP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_SESSION_COOKIE "lectern_session"

/* Finds cookie `name` in a Cookie request header ("a=1; b=2"); the first one wins. Returns 0 and
 * the value in `out`, -ENOENT when absent (or header is NULL), -ENAMETOOLONG when it does not
 * fit. */
int lc_cookie_get(const char *header, const char *name, char *out, size_t size);

/* Writes a Set-Cookie value: "name=value; Path=/; Max-Age=N; HttpOnly; SameSite=Strict", plus
 * "; Secure" when `secure`. A Max-Age of 0 deletes the cookie. 0 or -ENAMETOOLONG. */
int lc_cookie_format(char *out, size_t size, const char *name, const char *value,
                     int64_t max_age_s, bool secure);

/* Whether a request's Origin header names this server: its scheme://host[:port] equals the
 * request's Host (default ports ignored, letter case ignored), or the origin of `public_url`
 * (may be NULL). "null" and anything malformed are refused. */
bool lc_origin_allowed(const char *origin, const char *host, const char *public_url);

#endif
