/* RTMP chunk stream: incremental reader (reassembly of interleaved chunks) and writer. */
#include "ingest/chunk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* State of one chunk stream id: the last header's fields (later headers inherit them) and the
 * message being reassembled. */
typedef struct {
    uint32_t csid;
    bool active;      /* a message is being reassembled */
    bool ext;         /* the last type 0/1/2 header carried an extended timestamp */
    uint32_t ext_val; /* ...whose value type-3 chunks may repeat */
    uint32_t ts;      /* timestamp of the current (or last) message */
    uint32_t delta;   /* timestamp field of the last type 0/1/2 header: what a type-3 header that
                       * starts a new message adds (as ffmpeg's reader and writer agree) */
    uint32_t len;
    uint8_t type;
    uint32_t stream_id;
    uint32_t got; /* payload bytes received */
    uint8_t *buf;
    size_t cap;
} cstream_t;

struct lc_chunk_reader {
    uint32_t chunk_size;
    bool failed;
    cstream_t streams[LC_CHUNK_MAX_STREAMS];
    size_t nstreams;
    size_t buffered; /* sum of the streams' buffer capacities */
    uint32_t max_message; /* see lc_chunk_reader_set_limits */
    size_t max_buffered;
    uint8_t hdr[3 + 11 + 4]; /* the chunk header being collected */
    size_t hdr_len;
    cstream_t *cur;      /* NULL while reading a header; else the stream whose payload follows */
    uint32_t chunk_left; /* payload bytes left in the current chunk */
    /* Bytes taken for a header that turned out to be payload (see apply_header), replayed before
     * the rest of the input. Never more than 4 are pending at once. */
    uint8_t pend[8];
    size_t pend_len;
};

static const uint8_t msg_header_len[4] = {11, 7, 3, 0};

static uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | rd24(p + 1); }
static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static size_t basic_len(uint8_t b0)
{
    unsigned low = b0 & 0x3F;
    return low == 0 ? 2 : low == 1 ? 3 : 1;
}

/* Only call with basic_len(h[0]) bytes present. */
static uint32_t parse_csid(const uint8_t *h)
{
    unsigned low = h[0] & 0x3F;
    if (low == 0)
        return 64u + h[1];
    if (low == 1)
        return 64u + h[1] + ((uint32_t)h[2] << 8);
    return low;
}

static cstream_t *find_stream(lc_chunk_reader_t *r, uint32_t csid)
{
    for (size_t i = 0; i < r->nstreams; i++)
        if (r->streams[i].csid == csid)
            return &r->streams[i];
    return NULL;
}

lc_chunk_reader_t *lc_chunk_reader_new(void)
{
    lc_chunk_reader_t *r = calloc(1, sizeof *r);
    if (r) {
        r->chunk_size = LC_CHUNK_DEFAULT_SIZE;
        lc_chunk_reader_set_limits(r, 0, 0);
    }
    return r;
}

void lc_chunk_reader_set_limits(lc_chunk_reader_t *r, uint32_t max_message, size_t max_buffered)
{
    r->max_message =
        max_message == 0 || max_message > LC_CHUNK_MAX_MESSAGE ? LC_CHUNK_MAX_MESSAGE : max_message;
    r->max_buffered = max_buffered == 0 || max_buffered > LC_CHUNK_MAX_BUFFERED
                          ? LC_CHUNK_MAX_BUFFERED
                          : max_buffered;
}

void lc_chunk_reader_free(lc_chunk_reader_t **pr)
{
    if (!pr || !*pr)
        return;
    lc_chunk_reader_t *r = *pr;
    for (size_t i = 0; i < r->nstreams; i++)
        free(r->streams[i].buf);
    free(r);
    *pr = NULL;
}

uint32_t lc_chunk_reader_chunk_size(const lc_chunk_reader_t *r) { return r->chunk_size; }

/* How many bytes the header in r->hdr needs in total, judging by the bytes there so far (the
 * count grows as the basic header, message header and timestamp field become known). */
static int header_need(lc_chunk_reader_t *r, size_t *need, lc_why_t *why)
{
    const uint8_t *h = r->hdr;
    size_t n = basic_len(h[0]);
    if (r->hdr_len < n) {
        *need = n;
        return 0;
    }
    unsigned fmt = h[0] >> 6;
    uint32_t csid = parse_csid(h);
    const cstream_t *cs = find_stream(r, csid);
    if (fmt != 0 && !cs)
        return lc_why(why, LC_EPROTO_RTMP,
                      "chunk stream %u: type-%u header before any type-0 header", csid, fmt);
    size_t bh = n;
    n += msg_header_len[fmt];
    if (r->hdr_len < n) {
        *need = n;
        return 0;
    }
    if (fmt < 3) {
        if (rd24(h + bh) == 0xFFFFFF)
            n += 4;
    } else if (cs->ext) {
        n += 4; /* perhaps a repeated extended timestamp: apply_header decides */
    }
    *need = n;
    return 0;
}

static int start_message(const lc_chunk_reader_t *r, cstream_t *cs, lc_why_t *why)
{
    if (cs->len > r->max_message)
        return lc_why(why, LC_EPROTO_RTMP, "chunk stream %u: message length %u exceeds %u",
                      cs->csid, cs->len, r->max_message);
    cs->active = true;
    cs->got = 0;
    return 0;
}

/* Applies the complete header in r->hdr and makes its chunk's payload the next thing to read.
 *
 * The one subtle case is a type-3 chunk on a stream whose last full header carried an extended
 * timestamp: ffmpeg (and Adobe) repeat the 4-byte extended timestamp after such a type-3 header,
 * librtmp (OBS) does not. Like SRS we look at the 4 bytes: equal to the stream's extended
 * timestamp, they are that field; otherwise they were payload (or, for a short chunk, the next
 * header) and go back to be read again. A payload that begins with exactly those 4 bytes after a
 * librtmp header would be misread, a 1 in 2^32 chance on streams that need extended timestamps
 * at all. */
static int apply_header(lc_chunk_reader_t *r, lc_why_t *why)
{
    const uint8_t *h = r->hdr;
    unsigned fmt = h[0] >> 6;
    size_t bh = basic_len(h[0]);
    uint32_t csid = parse_csid(h);
    const uint8_t *m = h + bh;
    cstream_t *cs = find_stream(r, csid);
    int rc;

    if (!cs) { /* header_need allowed this only for type 0 */
        if (r->nstreams == LC_CHUNK_MAX_STREAMS)
            return lc_why(why, LC_EPROTO_RTMP, "chunk stream %u: more than %d chunk streams",
                          csid, LC_CHUNK_MAX_STREAMS);
        cs = &r->streams[r->nstreams++];
        memset(cs, 0, sizeof *cs);
        cs->csid = csid;
    }
    if (fmt < 3) {
        if (cs->active)
            return lc_why(why, LC_EPROTO_RTMP,
                          "chunk stream %u: type-%u header inside a message (%u of %u bytes read)",
                          csid, fmt, cs->got, cs->len);
        uint32_t field = rd24(m);
        cs->ext = field == 0xFFFFFF;
        uint32_t t = cs->ext ? rd32(m + msg_header_len[fmt]) : field;
        cs->ext_val = t;
        if (fmt <= 1) {
            cs->len = rd24(m + 3);
            cs->type = m[6];
        }
        if (fmt == 0) {
            cs->stream_id = rd32le(m + 7);
            cs->ts = t;
        } else {
            cs->ts += t; /* unsigned: wraps like RTMP timestamps do */
        }
        cs->delta = t;
        if ((rc = start_message(r, cs, why)) < 0)
            return rc;
    } else {
        if (cs->ext && rd32(m) != cs->ext_val) {
            if (r->pend_len + 4 > sizeof r->pend) /* cannot happen: see lc_chunk_reader_t */
                return lc_why(why, LC_EPROTO_RTMP, "chunk stream %u: pushback overflow", csid);
            memcpy(r->pend + r->pend_len, m, 4);
            r->pend_len += 4;
        }
        if (!cs->active) {
            cs->ts += cs->delta;
            if ((rc = start_message(r, cs, why)) < 0)
                return rc;
        }
    }
    uint32_t left = cs->len - cs->got;
    r->chunk_left = left < r->chunk_size ? left : r->chunk_size;
    r->cur = cs;
    r->hdr_len = 0;
    return 0;
}

/* Stores payload, growing the stream's buffer with what actually arrives (never by the declared
 * length alone), within the reader-wide budget. */
static int append_payload(lc_chunk_reader_t *r, cstream_t *cs, const uint8_t *p, size_t n,
                          lc_why_t *why)
{
    size_t need = (size_t)cs->got + n;
    if (need > cs->cap) {
        size_t cap = cs->cap ? cs->cap : 4096;
        while (cap < need)
            cap *= 2;
        if (cap > cs->len)
            cap = cs->len;
        if (r->buffered - cs->cap + cap > r->max_buffered)
            return lc_why(why, LC_EPROTO_RTMP,
                          "chunk stream %u: partial messages hold more than %zu bytes", cs->csid,
                          r->max_buffered);
        uint8_t *b = realloc(cs->buf, cap);
        if (!b)
            return lc_why(why, -ENOMEM, "chunk stream %u: out of memory", cs->csid);
        r->buffered = r->buffered - cs->cap + cap;
        cs->buf = b;
        cs->cap = cap;
    }
    memcpy(cs->buf + cs->got, p, n);
    cs->got += (uint32_t)n;
    return 0;
}

static int set_chunk_size(lc_chunk_reader_t *r, const cstream_t *cs, lc_why_t *why)
{
    if (cs->len < 4)
        return lc_why(why, LC_EPROTO_RTMP, "Set Chunk Size: %u-byte payload", cs->len);
    uint32_t v = rd32(cs->buf);
    if (v == 0 || (v & 0x80000000u))
        return lc_why(why, LC_EPROTO_RTMP, "Set Chunk Size: invalid value %u", v);
    if (v > LC_CHUNK_MAX_SIZE)
        return lc_why(why, LC_EPROTO_RTMP, "Set Chunk Size: %u exceeds %u", v, LC_CHUNK_MAX_SIZE);
    r->chunk_size = v;
    return 0;
}

static int abort_message(lc_chunk_reader_t *r, const cstream_t *cs, lc_why_t *why)
{
    if (cs->len < 4)
        return lc_why(why, LC_EPROTO_RTMP, "Abort: %u-byte payload", cs->len);
    cstream_t *victim = find_stream(r, rd32(cs->buf));
    if (victim) {
        victim->active = false;
        victim->got = 0;
    }
    return 0;
}

/* The current chunk's payload is complete. Returns 1 with *msg for a complete message, 0 when
 * the message needs more chunks or was a chunk-layer control message, or an error. */
static int end_chunk(lc_chunk_reader_t *r, lc_rtmp_msg_t *msg, lc_why_t *why)
{
    cstream_t *cs = r->cur;
    r->cur = NULL;
    if (cs->got < cs->len)
        return 0;
    cs->active = false;
    if (cs->type == LC_RTMP_MSG_SET_CHUNK_SIZE)
        return set_chunk_size(r, cs, why);
    if (cs->type == LC_RTMP_MSG_ABORT)
        return abort_message(r, cs, why);
    msg->csid = cs->csid;
    msg->type = cs->type;
    msg->stream_id = cs->stream_id;
    msg->timestamp = cs->ts;
    msg->data = cs->len ? cs->buf : NULL;
    msg->len = cs->len;
    return 1;
}

/* Runs the reader over one contiguous buffer. Stops after a complete message (1), at an error, at
 * the end of the input (0), or early (0, *used < len) when bytes were pushed back to r->pend: those
 * must be read before the rest of `in`. */
static int process(lc_chunk_reader_t *r, const uint8_t *in, size_t len, size_t *used,
                   lc_rtmp_msg_t *msg, lc_why_t *why)
{
    size_t pos = 0;
    int rc = 0;
    while (pos < len) {
        if (!r->cur) {
            size_t need = 0;
            if (r->hdr_len == 0)
                r->hdr[r->hdr_len++] = in[pos++];
            for (;;) {
                if ((rc = header_need(r, &need, why)) < 0)
                    goto out;
                if (r->hdr_len >= need || pos == len)
                    break;
                size_t take = need - r->hdr_len;
                if (take > len - pos)
                    take = len - pos;
                memcpy(r->hdr + r->hdr_len, in + pos, take);
                r->hdr_len += take;
                pos += take;
            }
            if (r->hdr_len < need)
                break; /* the input ended inside the header */
            size_t pend_before = r->pend_len;
            if ((rc = apply_header(r, why)) < 0)
                goto out;
            if (r->chunk_left == 0 && (rc = end_chunk(r, msg, why)) != 0)
                goto out; /* a zero-length message (or an error) */
            if (r->pend_len != pend_before)
                goto out;
        } else {
            size_t take = r->chunk_left;
            if (take > len - pos)
                take = len - pos;
            if ((rc = append_payload(r, r->cur, in + pos, take, why)) < 0)
                goto out;
            pos += take;
            r->chunk_left -= (uint32_t)take;
            if (r->chunk_left == 0 && (rc = end_chunk(r, msg, why)) != 0)
                goto out;
        }
    }
out:
    *used = pos;
    return rc;
}

int lc_chunk_reader_feed(lc_chunk_reader_t *r, const uint8_t *in, size_t len, size_t *used,
                         lc_rtmp_msg_t *msg, lc_why_t *why)
{
    size_t off = 0;
    int rc = 0;
    if (r->failed) {
        *used = 0;
        return lc_why(why, LC_EPROTO_RTMP, "chunk stream: reader already failed");
    }
    for (;;) {
        while (r->pend_len > 0) {
            uint8_t tmp[sizeof r->pend];
            size_t n = r->pend_len, u = 0;
            memcpy(tmp, r->pend, n);
            r->pend_len = 0;
            rc = process(r, tmp, n, &u, msg, why);
            if (rc < 0)
                goto out;
            if (u < n) {
                /* bytes process() pushed back now (if any) come before the unread rest */
                if (r->pend_len + (n - u) > sizeof r->pend) {
                    rc = lc_why(why, LC_EPROTO_RTMP, "chunk stream: internal pushback overflow");
                    goto out;
                }
                memcpy(r->pend + r->pend_len, tmp + u, n - u);
                r->pend_len += n - u;
            }
            if (rc == 1)
                goto out;
        }
        if (off == len) {
            rc = 0;
            goto out;
        }
        size_t u = 0;
        rc = process(r, in + off, len - off, &u, msg, why);
        off += u;
        if (rc != 0 || r->pend_len == 0)
            goto out;
    }
out:
    *used = off;
    if (rc < 0)
        r->failed = true;
    return rc;
}

static size_t put_basic(uint8_t *p, unsigned fmt, uint32_t csid)
{
    if (csid < 64) {
        p[0] = (uint8_t)(fmt << 6 | csid);
        return 1;
    }
    if (csid < 64 + 256) {
        p[0] = (uint8_t)(fmt << 6);
        p[1] = (uint8_t)(csid - 64);
        return 2;
    }
    p[0] = (uint8_t)(fmt << 6 | 1);
    p[1] = (uint8_t)((csid - 64) & 0xFF);
    p[2] = (uint8_t)((csid - 64) >> 8);
    return 3;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int lc_chunk_write(lc_bytes_t *out, uint32_t chunk_size, uint32_t csid, uint8_t type,
                   uint32_t stream_id, uint32_t timestamp, const void *payload, size_t len)
{
    if (csid < 2 || csid > LC_CHUNK_CSID_MAX || chunk_size == 0 || len > 0xFFFFFF ||
        (len && !payload))
        return -EINVAL;
    bool ext = timestamp >= 0xFFFFFF;
    uint8_t h[3 + 11 + 4];
    size_t n = put_basic(h, 0, csid);
    uint32_t field = ext ? 0xFFFFFF : timestamp;
    h[n++] = (uint8_t)(field >> 16);
    h[n++] = (uint8_t)(field >> 8);
    h[n++] = (uint8_t)field;
    h[n++] = (uint8_t)(len >> 16);
    h[n++] = (uint8_t)(len >> 8);
    h[n++] = (uint8_t)len;
    h[n++] = type;
    h[n++] = (uint8_t)stream_id; /* little-endian, unlike everything else */
    h[n++] = (uint8_t)(stream_id >> 8);
    h[n++] = (uint8_t)(stream_id >> 16);
    h[n++] = (uint8_t)(stream_id >> 24);
    if (ext) {
        put32(h + n, timestamp);
        n += 4;
    }
    if (lc_bytes_append(out, h, n) < 0)
        return -ENOMEM;
    const uint8_t *p = payload;
    size_t off = 0;
    for (;;) {
        size_t take = len - off < chunk_size ? len - off : chunk_size;
        if (take && lc_bytes_append(out, p + off, take) < 0)
            return -ENOMEM;
        off += take;
        if (off >= len)
            break;
        n = put_basic(h, 3, csid);
        if (ext) {
            put32(h + n, timestamp);
            n += 4;
        }
        if (lc_bytes_append(out, h, n) < 0)
            return -ENOMEM;
    }
    return 0;
}
