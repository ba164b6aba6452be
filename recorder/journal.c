/* The recording journal's line format: one self-checking text line per record (see
 * recorder_internal.h), so that a line torn by a crash or damaged on disk is detected on read. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"
#include "recorder/recorder_internal.h"

typedef struct {
    int64_t min, max;
} field_range_t;

typedef struct {
    char type;
    int n;
    field_range_t f[LC_JOURNAL_MAX_FIELDS];
} record_spec_t;

#define ANY_INT {INT_MIN, INT_MAX}
#define ANY_I64 {-INT64_MAX, INT64_MAX} /* INT64_MIN would not parse back */
#define NONNEG {0, INT64_MAX / 4}
#define BOOL01 {0, 1}
#define CRC32 {0, UINT32_MAX}

static const record_spec_t specs[] = {
    {LC_JREC_HEADER, 2, {{LC_JOURNAL_VERSION, LC_JOURNAL_VERSION}, ANY_I64}},
    {LC_JREC_INIT, 3, {ANY_INT, {1, LC_REC_MAX_INIT_BYTES}, CRC32}},
    {LC_JREC_SEGMENT, 4, {NONNEG, ANY_I64, BOOL01, ANY_INT}},
    {LC_JREC_PART, 6,
     {NONNEG, {0, INT_MAX}, {0, 3600LL * 1000000}, BOOL01, {1, LC_REC_MAX_PART_BYTES}, CRC32}},
    {LC_JREC_END, 4, {NONNEG, {0, INT_MAX}, NONNEG, NONNEG}},
    {LC_JREC_FINISH, 1, {NONNEG}},
};

static const record_spec_t *spec_of(char type)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (specs[i].type == type)
            return &specs[i];
    return NULL;
}

uint32_t lc_rec_crc32(const void *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    /* zlib takes uInt lengths: feed large buffers in pieces. */
    while (len) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

int lc_journal_format(const lc_jrec_t *rec, char out[static LC_JOURNAL_LINE_MAX])
{
    const record_spec_t *spec = spec_of(rec->type);
    if (!spec)
        return -EINVAL;
    size_t len = 0;
    out[len++] = rec->type;
    for (int i = 0; i < spec->n; i++) {
        if (rec->v[i] < spec->f[i].min || rec->v[i] > spec->f[i].max)
            return -EINVAL;
        if (lc_fmt(out + len, LC_JOURNAL_LINE_MAX - len, " %" PRId64, rec->v[i]) < 0)
            return -EINVAL;
        len += strlen(out + len);
    }
    uint32_t crc = lc_rec_crc32(out, len);
    if (lc_fmt(out + len, LC_JOURNAL_LINE_MAX - len, " %08" PRIx32 "\n", crc) < 0)
        return -EINVAL;
    return (int)(len + strlen(out + len));
}

static int parse_hex32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -EINVAL;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

int lc_journal_next(const char *buf, size_t len, size_t *off, lc_jrec_t *rec)
{
    if (*off >= len)
        return 0;
    const char *line = buf + *off;
    size_t avail = len - *off;
    if (avail > LC_JOURNAL_LINE_MAX)
        avail = LC_JOURNAL_LINE_MAX;
    const char *nl = memchr(line, '\n', avail);
    if (!nl)
        return -EINVAL; /* torn, or no line of ours is that long */
    size_t line_len = (size_t)(nl - line);
    /* type letter, " xxxxxxxx" checksum */
    if (line_len < 1 + 9 || line[line_len - 9] != ' ')
        return -EINVAL;
    size_t body_len = line_len - 9;
    uint32_t want;
    if (parse_hex32(line + body_len + 1, &want) < 0 || lc_rec_crc32(line, body_len) != want)
        return -EINVAL;

    const record_spec_t *spec = spec_of(line[0]);
    if (!spec)
        return -EINVAL;
    lc_jrec_t r = {.type = line[0]};
    size_t pos = 1;
    for (int i = 0; i < spec->n; i++) {
        if (pos >= body_len || line[pos] != ' ')
            return -EINVAL;
        pos++;
        size_t start = pos;
        while (pos < body_len && line[pos] != ' ')
            pos++;
        char tok[24];
        size_t tok_len = pos - start;
        if (tok_len == 0 || tok_len >= sizeof tok)
            return -EINVAL;
        memcpy(tok, line + start, tok_len);
        tok[tok_len] = 0;
        /* lc_parse_int64 accepts a sign only when min < 0, and no stray bytes. */
        if (lc_parse_int64(tok, spec->f[i].min, spec->f[i].max, &r.v[i]) < 0)
            return -EINVAL;
    }
    if (pos != body_len)
        return -EINVAL;
    *rec = r;
    *off += line_len + 1;
    return 1;
}
