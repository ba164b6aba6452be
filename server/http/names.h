/* Strict parsing of the media file names used in HLS URLs (see docs/urls.md). Anything that is
 * not exactly one of these forms is a 404: path traversal cannot happen by construction. */
#ifndef LC_HTTP_NAMES_H
#define LC_HTTP_NAMES_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    LC_NAME_INVALID = 0,
    LC_NAME_MASTER,   /* master.m3u8 */
    LC_NAME_PLAYLIST, /* index.m3u8 */
    LC_NAME_INIT,     /* init-<a>.mp4 */
    LC_NAME_SEGMENT,  /* seg-<a>.m4s */
    LC_NAME_PART,     /* part-<a>.<b>.m4s */
    LC_NAME_DOWNLOAD, /* download.mp4 */
} lc_name_kind_t;

/* The LL-HLS delivery directives of a media playlist request. */
typedef struct {
    bool has_msn, has_part, skip;
    int64_t msn;
    int part;
} lc_hls_query_t;

/* Parses _HLS_msn, _HLS_part and _HLS_skip (each NULL when absent). Returns NULL, or the reason
 * the request is a 400: _HLS_part without _HLS_msn, a value that is not a canonical number in
 * range, or _HLS_skip other than YES / v2. */
const char *lc_hls_parse_query(const char *msn, const char *part, const char *skip,
                               lc_hls_query_t *q);

/* Classifies `name`; numbers (decimal, no sign, no leading zeros, < 2^53) go to *a and *b. */
lc_name_kind_t lc_parse_media_name(const char *name, int64_t *a, int64_t *b);

#endif
