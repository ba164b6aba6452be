/* CSV fields for spreadsheets (RFC 4180): what the registrations export writes. Pure; any
 * thread. */
#ifndef LC_CORE_CSV_H
#define LC_CORE_CSV_H

#include <stdbool.h>

#include "core/buf.h"

/* The end of a CSV record (RFC 4180: CRLF). */
#define LC_CSV_EOL "\r\n"

/* Appends one field of a record to `out`: a comma before it unless it is the record's first;
 * the text in double quotes when it contains '"', ',', CR or LF (a quote doubled inside); else
 * as it is. NULL is an empty field.
 *
 * Against formula injection (CSV injection): a spreadsheet evaluates a cell that starts with
 * '=', '+', '-' or '@' (and, in some, TAB or CR before one of them) as a formula, e.g.
 * =HYPERLINK(...) in a name an attendee typed. Such a text gets a leading apostrophe, which
 * makes spreadsheets take it as text (OWASP's advice); every other reader sees the apostrophe
 * as part of the value. Returns 0 or -ENOMEM. */
int lc_csv_field(lc_bytes_t *out, const char *s, bool first);

#endif
