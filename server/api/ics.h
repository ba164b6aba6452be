/* iCalendar (RFC 5545) for a registration: one VEVENT with the webinar's time and the personal
 * join link. Pure text building, no I/O. */
#ifndef LC_API_ICS_H
#define LC_API_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct {
    const char *uid;         /* unique and stable for this registration, e.g. "hex@host" */
    const char *title;       /* SUMMARY */
    const char *description; /* the webinar's description; the join link is added after it */
    const char *url;         /* the personal join link */
    int64_t starts_at_ms;    /* UTC */
    int32_t duration_s;
    int64_t now_ms;          /* DTSTAMP */
} lc_ics_event_t;

/* The calendar file: CRLF line ends, TEXT values escaped (\\ ; , and newlines), lines folded at
 * 75 octets without splitting a UTF-8 sequence. NULL when out of memory. */
lc_buf_t *lc_ics_event(const lc_ics_event_t *ev);

#endif
