/* A short reason why the ingest refused a peer's bytes. The parsers (handshake, chunk, AMF0, FLV)
 * never log: they fill an lc_why_t and return a code; the connection logs the reason once, with
 * its id ("rtmp: conn 7: chunk stream 4: message length 20000000 exceeds 16777216"). */
#ifndef LC_INGEST_WHY_H
#define LC_INGEST_WHY_H

#include <stdarg.h>
#include <stdio.h>

typedef struct {
    char text[192];
} lc_why_t;

/* Formats the reason into `w` (NULL-safe; a reason too long is cut, which is fine for a log line).
 * Returns `code`, so a parser can write `return lc_why(why, LC_EPROTO_RTMP, "...", ...)`. */
static inline int lc_why(lc_why_t *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int lc_why(lc_why_t *w, int code, const char *fmt, ...)
{
    if (w) {
        va_list ap;
        va_start(ap, fmt);
        if (vsnprintf(w->text, sizeof w->text, fmt, ap) < 0)
            w->text[0] = 0;
        va_end(ap);
    }
    return code;
}

#endif
