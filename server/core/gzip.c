/* gzip through zlib's deflate with a gzip wrapper. */
#include "core/gzip.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

lc_buf_t *lc_gzip(const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip header and trailer instead of zlib's. Level 6: playlists are a few KiB,
     * compressed once per change and sent to every viewer. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&z, (uLong)len);
    lc_buf_t *out = lc_buf_new(bound);
    lc_buf_t *result = NULL;
    if (out) {
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = lc_buf_data(out);
        z.avail_out = (uInt)bound;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END)
            result = lc_buf_new_copy(lc_buf_data(out), z.total_out);
        lc_buf_unref(out);
    }
    deflateEnd(&z);
    return result;
}

int lc_accepts_gzip(const char *h)
{
    if (!h)
        return 0;
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ')
            p++;
        size_t n = (size_t)(p - tok);
        double q = 1.0;
        while (*p == ' ')
            p++;
        if (*p == ';') {
            const char *qs = strstr(p, "q=");
            const char *end = strchr(p, ',');
            if (qs && (!end || qs < end))
                q = atof(qs + 2);
            while (*p && *p != ',')
                p++;
        }
        if (((n == 4 && strncasecmp(tok, "gzip", 4) == 0) || (n == 1 && *tok == '*')) && q > 0)
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}
