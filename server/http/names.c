/* Media file names in URLs. */
#include "http/names.h"

#include <string.h>

#include "core/util.h"

/* Reads a canonical decimal number at *p; advances *p. */
static int read_num(const char **p, int64_t *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > ((int64_t)1 << 53))
            return -1;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static int with_prefix(const char *name, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0)
        return -1;
    *rest = name + n;
    return 0;
}

lc_name_kind_t lc_parse_media_name(const char *name, int64_t *a, int64_t *b)
{
    const char *p;
    *a = *b = 0;
    if (strcmp(name, "master.m3u8") == 0)
        return LC_NAME_MASTER;
    if (strcmp(name, "index.m3u8") == 0)
        return LC_NAME_PLAYLIST;
    if (strcmp(name, "download.mp4") == 0)
        return LC_NAME_DOWNLOAD;
    if (with_prefix(name, "init-", &p) == 0 && read_num(&p, a) == 0 && strcmp(p, ".mp4") == 0)
        return LC_NAME_INIT;
    if (with_prefix(name, "seg-", &p) == 0 && read_num(&p, a) == 0 && strcmp(p, ".m4s") == 0)
        return LC_NAME_SEGMENT;
    if (with_prefix(name, "part-", &p) == 0 && read_num(&p, a) == 0 && *p++ == '.' &&
        read_num(&p, b) == 0 && strcmp(p, ".m4s") == 0)
        return LC_NAME_PART;
    return LC_NAME_INVALID;
}

const char *lc_hls_parse_query(const char *msn, const char *part, const char *skip,
                               lc_hls_query_t *q)
{
    memset(q, 0, sizeof *q);
    int64_t v;
    if (part && !msn)
        return "_HLS_part without _HLS_msn";
    if (msn) {
        if (lc_parse_int64(msn, 0, (int64_t)1 << 53, &q->msn) < 0)
            return "_HLS_msn is not a media sequence number";
        q->has_msn = true;
    }
    if (part) {
        if (lc_parse_int64(part, 0, 1 << 20, &v) < 0)
            return "_HLS_part is not a part index";
        q->part = (int)v;
        q->has_part = true;
    }
    if (skip) {
        if (strcmp(skip, "YES") != 0 && strcmp(skip, "v2") != 0)
            return "_HLS_skip must be YES or v2";
        q->skip = true;
    }
    return NULL;
}
