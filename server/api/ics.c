/* iCalendar (ics.h). */
#include "api/ics.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

/* One content line: the name and the already-escaped value, folded (RFC 5545 3.1): a line is at
 * most 75 octets; a continuation starts with a space. A fold never splits a UTF-8 sequence. */
static int line(lc_bytes_t *out, const char *name, const char *value)
{
    size_t used = 0;
    const char *parts[2] = {name, value};
    for (int k = 0; k < 2; k++) {
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p;) {
            size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
            if (strnlen((const char *)p, n) < n)
                n = strlen((const char *)p); /* a cut sequence: never read past the end */
            if (used + n > 75) {
                if (lc_bytes_append(out, "\r\n ", 3) < 0)
                    return -1;
                used = 1;
            }
            if (lc_bytes_append(out, p, n) < 0)
                return -1;
            used += n;
            p += n;
        }
        if (k == 0 && lc_bytes_append(out, ":", 1) < 0)
            return -1;
        used += k == 0;
    }
    return lc_bytes_append(out, "\r\n", 2);
}

/* TEXT escaping (RFC 5545 3.3.11). Control characters other than newlines are dropped. */
static int escape(lc_bytes_t *out, const char *s)
{
    for (; *s; s++) {
        const char *rep = NULL;
        char one[2] = {*s, 0};
        switch (*s) {
        case '\\': rep = "\\\\"; break;
        case ';': rep = "\\;"; break;
        case ',': rep = "\\,"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = ""; break;
        default: rep = ((unsigned char)*s < 0x20 || *s == 0x7f) ? "" : one;
        }
        if (lc_bytes_append(out, rep, strlen(rep)) < 0)
            return -1;
    }
    return 0;
}

/* The text built so far as a C string (a NUL is appended), or NULL when out of memory. */
static const char *cstr(lc_bytes_t *b)
{
    return lc_bytes_append(b, "", 1) < 0 || b->failed ? NULL : (const char *)b->data;
}

static int text_line(lc_bytes_t *out, const char *name, lc_bytes_t *text)
{
    const char *v = cstr(text);
    int rc = v ? line(out, name, v) : -1;
    lc_bytes_reset(text);
    return rc;
}

static void utc_stamp(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

lc_buf_t *lc_ics_event(const lc_ics_event_t *ev)
{
    lc_bytes_t out, text;
    lc_bytes_init(&out);
    lc_bytes_init(&text);
    char stamp[17], start[17], end[17];
    utc_stamp(ev->now_ms, stamp);
    utc_stamp(ev->starts_at_ms, start);
    utc_stamp(ev->starts_at_ms + (int64_t)ev->duration_s * 1000, end);
    lc_buf_t *b = NULL;
    bool ok = lc_bytes_printf(&out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                    "PRODID:-//lectern//webinar//EN\r\nCALSCALE:GREGORIAN\r\n"
                                    "METHOD:PUBLISH\r\nBEGIN:VEVENT\r\n") >= 0 &&
              line(&out, "UID", ev->uid) == 0 && line(&out, "DTSTAMP", stamp) == 0 &&
              line(&out, "DTSTART", start) == 0 && line(&out, "DTEND", end) == 0;
    ok = ok && escape(&text, ev->title) == 0 && text_line(&out, "SUMMARY", &text) == 0;
    ok = ok && escape(&text, ev->description) == 0 &&
         (!ev->description[0] || escape(&text, "\n\n") == 0) &&
         escape(&text, "Join: ") == 0 && escape(&text, ev->url) == 0 &&
         text_line(&out, "DESCRIPTION", &text) == 0;
    /* URL is of value type URI: not TEXT-escaped (a join link has no character to escape). */
    ok = ok && line(&out, "URL", ev->url) == 0;
    ok = ok && escape(&text, ev->url) == 0 && text_line(&out, "LOCATION", &text) == 0;
    ok = ok && lc_bytes_printf(&out, "END:VEVENT\r\nEND:VCALENDAR\r\n") >= 0;
    if (ok)
        b = lc_bytes_to_buf(&out);
    lc_bytes_free(&out);
    lc_bytes_free(&text);
    return b;
}
