/* CSV fields (csv.h). */
#include "core/csv.h"

#include <errno.h>
#include <string.h>

int lc_csv_field(lc_bytes_t *out, const char *s, bool first)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    bool formula = len && strchr("=+-@\t\r", s[0]);
    bool quote = strpbrk(s, "\",\r\n") != NULL;
    if (!first)
        lc_bytes_append(out, ",", 1);
    if (quote)
        lc_bytes_append(out, "\"", 1);
    if (formula)
        lc_bytes_append(out, "'", 1);
    if (!quote) {
        lc_bytes_append(out, s, len);
    } else {
        for (const char *p = s, *q; *p; p = q + 1) {
            q = strchr(p, '"');
            if (!q) {
                lc_bytes_append(out, p, strlen(p));
                break;
            }
            lc_bytes_append(out, p, (size_t)(q - p) + 1);
            lc_bytes_append(out, "\"", 1); /* the quote once more */
        }
        lc_bytes_append(out, "\"", 1);
    }
    return out->failed ? -ENOMEM : 0;
}
