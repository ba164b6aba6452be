/* libFuzzer: the chunk stream reader, differentially. The same bytes are read in one call and in
 * pieces of a size taken from the first input byte; both must give the same messages and the same
 * verdict (the reader is specified to be split-independent). Bit 7 of that byte selects the small
 * limits a connection uses before the peer has published (lc_chunk_reader_set_limits). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/chunk.h"
#include "ingest/rtmp_conn.h"

/* A running digest of every message: enough to tell two sequences apart. */
typedef struct {
    uint64_t h;
    size_t n;
    int rc;
} digest_t;

static void mix(digest_t *d, uint64_t v)
{
    d->h ^= v + 0x9E3779B97F4A7C15ull + (d->h << 6) + (d->h >> 2);
}

static void read_all(const uint8_t *in, size_t len, size_t step, uint32_t max_message,
                     size_t max_buffered, digest_t *d)
{
    memset(d, 0, sizeof *d);
    lc_chunk_reader_t *r = lc_chunk_reader_new();
    if (!r)
        abort();
    lc_chunk_reader_set_limits(r, max_message, max_buffered);
    for (size_t off = 0; off < len && d->rc == 0; off += step) {
        size_t n = len - off < step ? len - off : step;
        const uint8_t *p = in + off;
        for (;;) {
            lc_rtmp_msg_t m;
            size_t used = 0;
            int rc = lc_chunk_reader_feed(r, p, n, &used, &m, NULL);
            if (used > n)
                abort();
            p += used;
            n -= used;
            if (rc < 0) {
                d->rc = rc;
                break;
            }
            if (rc == 0) {
                if (n != 0) /* "need more" must mean "took everything" */
                    abort();
                break;
            }
            if (m.len > max_message || (m.len && !m.data))
                abort();
            d->n++;
            mix(d, m.csid);
            mix(d, m.type);
            mix(d, m.stream_id);
            mix(d, m.timestamp);
            mix(d, m.len);
            for (uint32_t i = 0; i < m.len; i++)
                mix(d, m.data[i]);
        }
    }
    lc_chunk_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] & 0x7F) % 17 + 1;
    bool small = data[0] & 0x80;
    uint32_t max_message = small ? LC_RTMP_PREAUTH_MAX_MESSAGE : LC_CHUNK_MAX_MESSAGE;
    size_t max_buffered = small ? LC_RTMP_PREAUTH_MAX_BUFFERED : LC_CHUNK_MAX_BUFFERED;
    digest_t whole, pieces;
    read_all(data + 1, size - 1, size, max_message, max_buffered, &whole);
    read_all(data + 1, size - 1, step, max_message, max_buffered, &pieces);
    if (whole.h != pieces.h || whole.n != pieces.n || whole.rc != pieces.rc)
        abort();
    return 0;
}
