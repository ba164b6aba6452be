/* RTMP chunk stream reader and writer: header forms, timestamps, extended timestamps as ffmpeg and
 * librtmp write them, interleaving, chunk size changes, limits, and any split of the input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-rtmp-client.h"

typedef struct {
    uint32_t csid, stream_id, timestamp, len;
    uint8_t type;
    uint8_t *data;
} msg_copy_t;

typedef struct {
    int n;
    msg_copy_t m[256];
    int rc;         /* the first error, or 0 */
    lc_why_t why;
    uint32_t chunk_size_after;
} parsed_t;

static void parsed_free(parsed_t *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->m[i].data);
    p->n = 0;
}

/* Parses `len` bytes fed in pieces of `step` bytes (0: all at once). */
static void parse(const uint8_t *in, size_t len, size_t step, parsed_t *out)
{
    memset(out, 0, sizeof *out);
    lc_chunk_reader_t *r = lc_chunk_reader_new();
    assert_non_null(r);
    if (step == 0)
        step = len ? len : 1;
    for (size_t off = 0; off < len && out->rc == 0; off += step) {
        size_t n = len - off < step ? len - off : step;
        const uint8_t *p = in + off;
        while (out->rc == 0) {
            lc_rtmp_msg_t m;
            size_t used = 0;
            int rc = lc_chunk_reader_feed(r, p, n, &used, &m, &out->why);
            assert_true(used <= n);
            p += used;
            n -= used;
            if (rc < 0) {
                out->rc = rc;
                break;
            }
            if (rc == 0) {
                assert_int_equal(n, 0); /* 0 means everything was taken */
                break;
            }
            assert_true(out->n < 256);
            msg_copy_t *c = &out->m[out->n++];
            c->csid = m.csid;
            c->stream_id = m.stream_id;
            c->timestamp = m.timestamp;
            c->len = m.len;
            c->type = m.type;
            c->data = malloc(m.len ? m.len : 1);
            if (m.len)
                memcpy(c->data, m.data, m.len);
        }
    }
    out->chunk_size_after = lc_chunk_reader_chunk_size(r);
    lc_chunk_reader_free(&r);
    assert_null(r);
}

static void assert_same(const parsed_t *a, const parsed_t *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        assert_int_equal(a->m[i].csid, b->m[i].csid);
        assert_int_equal(a->m[i].stream_id, b->m[i].stream_id);
        assert_int_equal(a->m[i].timestamp, b->m[i].timestamp);
        assert_int_equal(a->m[i].type, b->m[i].type);
        assert_int_equal(a->m[i].len, b->m[i].len);
        assert_memory_equal(a->m[i].data, b->m[i].data, a->m[i].len);
    }
}

static uint8_t *pattern(size_t n, uint8_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
    return p;
}

static void test_single_message(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    const uint8_t payload[5] = {1, 2, 3, 4, 5};
    tc_chunk(&b, 128, 0, 3, 1234, 20, 0x01020304, payload, 5, true);
    assert_int_equal(b.len, 12 + 5);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.m[0].csid, 3);
    assert_int_equal(p.m[0].type, 20);
    assert_int_equal(p.m[0].stream_id, 0x01020304); /* little-endian on the wire */
    assert_int_equal(p.m[0].timestamp, 1234);
    assert_int_equal(p.m[0].len, 5);
    assert_memory_equal(p.m[0].data, payload, 5);
    parsed_free(&p);
    lc_bytes_free(&b);
}

static void test_zero_length_message(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 4, 10, 9, 1, NULL, 0, true);
    tc_chunk(&b, 128, 0, 4, 20, 9, 1, "x", 1, true);
    parsed_t p;
    parse(b.data, b.len, 1, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.m[0].len, 0);
    assert_int_equal(p.m[0].timestamp, 10);
    assert_int_equal(p.m[1].len, 1);
    assert_int_equal(p.m[1].data[0], 'x');
    parsed_free(&p);
    lc_bytes_free(&b);
}

/* 300 bytes at the default chunk size 128: three chunks. */
static void test_multi_chunk(void **state)
{
    (void)state;
    uint8_t *data = pattern(300, 9);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 6, 0, 9, 1, data, 300, true);
    assert_int_equal(b.len, 12 + 300 + 2);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.m[0].len, 300);
    assert_memory_equal(p.m[0].data, data, 300);
    parsed_free(&p);
    lc_bytes_free(&b);
    free(data);
}

/* Two messages whose chunks alternate, as audio and video do on separate chunk streams. */
static void test_interleaved(void **state)
{
    (void)state;
    uint8_t *v = pattern(300, 1), *a = pattern(200, 2);
    lc_bytes_t b;
    lc_bytes_init(&b);
    /* video: csid 6, audio: csid 4; written chunk by chunk by hand */
    tc_basic(&b, 0, 6);
    tc_be(&b, 40, 3);
    tc_be(&b, 300, 3);
    tc_u8(&b, 9);
    tc_be(&b, 0x01000000, 4); /* stream id 1, little-endian */
    tc_put(&b, v, 128);
    tc_basic(&b, 0, 4);
    tc_be(&b, 23, 3);
    tc_be(&b, 200, 3);
    tc_u8(&b, 8);
    tc_be(&b, 0x01000000, 4);
    tc_put(&b, a, 128);
    tc_basic(&b, 3, 6);
    tc_put(&b, v + 128, 128);
    tc_basic(&b, 3, 4);
    tc_put(&b, a + 128, 72); /* audio completes first */
    tc_basic(&b, 3, 6);
    tc_put(&b, v + 256, 44);
    for (size_t step = 0; step <= 13; step++) {
        parsed_t p;
        parse(b.data, b.len, step, &p);
        assert_int_equal(p.rc, 0);
        assert_int_equal(p.n, 2);
        assert_int_equal(p.m[0].csid, 4);
        assert_int_equal(p.m[0].type, 8);
        assert_int_equal(p.m[0].timestamp, 23);
        assert_int_equal(p.m[0].stream_id, 1);
        assert_memory_equal(p.m[0].data, a, 200);
        assert_int_equal(p.m[1].csid, 6);
        assert_int_equal(p.m[1].timestamp, 40);
        assert_memory_equal(p.m[1].data, v, 300);
        parsed_free(&p);
    }
    lc_bytes_free(&b);
    free(v);
    free(a);
}

/* Type 0 absolute, type 1/2 deltas, type 3 repeating the last delta; and a type 3 right after a
 * type 0 adds the type 0 field (ffmpeg writes exactly this when the delta equals it). */
static void test_header_compression_timestamps(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 4, 1000, 8, 1, "aaaa", 4, true);
    tc_chunk(&b, 128, 1, 4, 40, 8, 1, "bbbbb", 5, true);   /* 1040, new length */
    tc_chunk(&b, 128, 2, 4, 40, 8, 1, "ccccc", 5, true);   /* 1080, same length */
    tc_chunk(&b, 128, 3, 4, 0, 8, 1, "ddddd", 5, true);    /* 1120 */
    tc_chunk(&b, 128, 3, 4, 0, 8, 1, "eeeee", 5, true);    /* 1160 */
    tc_chunk(&b, 128, 0, 5, 40, 9, 1, "f", 1, true);       /* csid 5 at 40 */
    tc_chunk(&b, 128, 3, 5, 0, 9, 1, "g", 1, true);        /* 80 */
    tc_chunk(&b, 128, 1, 5, 0, 18, 1, "hh", 2, true);      /* delta 0: 80, type changes */
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 8);
    const uint32_t want_ts[8] = {1000, 1040, 1080, 1120, 1160, 40, 80, 80};
    const uint32_t want_len[8] = {4, 5, 5, 5, 5, 1, 1, 2};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(p.m[i].timestamp, want_ts[i]);
        assert_int_equal(p.m[i].len, want_len[i]);
        assert_int_equal(p.m[i].stream_id, 1);
    }
    assert_int_equal(p.m[7].type, 18);
    assert_memory_equal(p.m[4].data, "eeeee", 5);
    parsed_free(&p);
    lc_bytes_free(&b);
}

static void test_basic_header_forms(void **state)
{
    (void)state;
    const uint32_t ids[] = {2, 3, 63, 64, 65, 319, 320, 321, 1000, 65599};
    lc_bytes_t b;
    lc_bytes_init(&b);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        tc_chunk(&b, 128, 0, ids[i], (uint32_t)i, 20, 0, "z", 1, true);
    parsed_t p;
    parse(b.data, b.len, 1, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(p.m[i].csid, ids[i]);
        assert_int_equal(p.m[i].timestamp, (uint32_t)i);
    }
    parsed_free(&p);
    lc_bytes_free(&b);
}

/* Extended timestamps on multi-chunk messages: repeated after type-3 headers (ffmpeg) or not
 * (librtmp, OBS). Both must read the same. */
static void test_extended_timestamps(void **state)
{
    (void)state;
    uint8_t *data = pattern(300, 0x33);
    for (int repeat = 0; repeat < 2; repeat++) {
        lc_bytes_t b;
        lc_bytes_init(&b);
        tc_chunk(&b, 128, 0, 6, 0x01000000, 9, 1, data, 300, repeat);
        tc_chunk(&b, 128, 1, 6, 40, 9, 1, data, 299, repeat);
        /* librtmp writes a step back as a huge unsigned delta, extended */
        tc_chunk(&b, 128, 1, 6, 0xFFFFFFF6u, 9, 1, data, 298, repeat);
        /* and a type-3 header starting a message right after that extended header */
        tc_chunk(&b, 128, 3, 6, 0xFFFFFFF6u, 9, 1, data, 298, repeat);
        for (size_t step = 0; step < 6; step++) {
            parsed_t p;
            parse(b.data, b.len, step, &p);
            assert_int_equal(p.rc, 0);
            assert_int_equal(p.n, 4);
            assert_int_equal(p.m[0].timestamp, 0x01000000);
            assert_int_equal(p.m[1].timestamp, 0x01000028);
            assert_int_equal(p.m[2].timestamp, 0x0100001E);
            assert_int_equal(p.m[3].timestamp, 0x01000014);
            assert_int_equal(p.m[0].len, 300);
            assert_int_equal(p.m[3].len, 298);
            for (int i = 0; i < 4; i++)
                assert_memory_equal(p.m[i].data, data, p.m[i].len);
            parsed_free(&p);
        }
        lc_bytes_free(&b);
    }
    free(data);
}

/* librtmp style (no repeated extended timestamp) where the last chunk of a message holds fewer
 * than 4 bytes: the 4 bytes looked at after the type-3 header include the next header, which
 * must still be read correctly, at any split. */
static void test_extended_short_last_chunk(void **state)
{
    (void)state;
    uint8_t *data = pattern(130, 0x77);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 6, 0x02000000, 9, 1, data, 130, false); /* 2 bytes in the last chunk */
    tc_chunk(&b, 128, 0, 4, 5, 8, 1, "audio", 5, false);
    tc_chunk(&b, 128, 0, 6, 0x02000000, 9, 1, data, 129, false); /* 1 byte */
    tc_chunk(&b, 128, 3, 4, 0, 8, 1, "again", 5, false);
    parsed_t ref;
    parse(b.data, b.len, 0, &ref);
    assert_int_equal(ref.rc, 0);
    assert_int_equal(ref.n, 4);
    assert_int_equal(ref.m[0].len, 130);
    assert_memory_equal(ref.m[0].data, data, 130);
    assert_int_equal(ref.m[1].csid, 4);
    assert_memory_equal(ref.m[1].data, "audio", 5);
    assert_int_equal(ref.m[2].len, 129);
    assert_memory_equal(ref.m[2].data, data, 129);
    assert_int_equal(ref.m[3].timestamp, 10);
    for (size_t step = 1; step < 20; step++) {
        parsed_t p;
        parse(b.data, b.len, step, &p);
        assert_same(&ref, &p);
        parsed_free(&p);
    }
    parsed_free(&ref);
    lc_bytes_free(&b);
    free(data);
}

static void test_set_chunk_size(void **state)
{
    (void)state;
    uint8_t *data = pattern(5000, 5);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_set_chunk_size(&b, 128, 4096);
    tc_chunk(&b, 4096, 0, 6, 0, 9, 1, data, 5000, true);
    tc_set_chunk_size(&b, 4096, 1);
    tc_chunk(&b, 1, 0, 6, 40, 9, 1, data, 50, true);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 2); /* the control messages are applied, not returned */
    assert_int_equal(p.m[0].len, 5000);
    assert_memory_equal(p.m[0].data, data, 5000);
    assert_int_equal(p.m[1].len, 50);
    assert_memory_equal(p.m[1].data, data, 50);
    assert_int_equal(p.chunk_size_after, 1);
    parsed_t q;
    parse(b.data, b.len, 3, &q);
    assert_same(&p, &q);
    parsed_free(&p);
    parsed_free(&q);
    lc_bytes_free(&b);
    free(data);
}

static void expect_error(const lc_bytes_t *b, const char *needle)
{
    for (size_t step = 0; step < 3; step++) {
        parsed_t p;
        parse(b->data, b->len, step, &p);
        assert_int_equal(p.rc, LC_EPROTO_RTMP);
        if (!strstr(p.why.text, needle)) {
            fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", p.why.text, needle);
            fail();
        }
        parsed_free(&p);
    }
}

static void test_absurd_chunk_sizes(void **state)
{
    (void)state;
    const uint32_t bad[] = {0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, LC_CHUNK_MAX_SIZE + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_bytes_t b;
        lc_bytes_init(&b);
        tc_set_chunk_size(&b, 128, bad[i]);
        expect_error(&b, "Set Chunk Size");
        lc_bytes_free(&b);
    }
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_set_chunk_size(&b, 128, LC_CHUNK_MAX_SIZE);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.chunk_size_after, LC_CHUNK_MAX_SIZE);
    lc_bytes_free(&b);
    /* a short Set Chunk Size payload */
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 2, 0, LC_RTMP_MSG_SET_CHUNK_SIZE, 0, "\0\0\1", 3, true);
    expect_error(&b, "Set Chunk Size");
    lc_bytes_free(&b);
}

/* Only the header is sent: a limit must be enforced before any payload is accepted. */
static void test_absurd_message_length(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_basic(&b, 0, 4);
    tc_be(&b, 0, 3);
    tc_be(&b, 0xFFFFFF, 3);
    tc_u8(&b, 9);
    tc_be(&b, 0, 4);
    expect_error(&b, "message length 16777215 exceeds");
    lc_bytes_free(&b);

    lc_bytes_init(&b);
    tc_basic(&b, 0, 4);
    tc_be(&b, 0, 3);
    tc_be(&b, LC_CHUNK_MAX_MESSAGE, 3);
    tc_u8(&b, 9);
    tc_be(&b, 0, 4);
    tc_put(&b, "abc", 3);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0); /* the largest allowed: accepted, waiting for payload */
    assert_int_equal(p.n, 0);
    lc_bytes_free(&b);
}

static void test_too_many_chunk_streams(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    for (uint32_t i = 0; i < LC_CHUNK_MAX_STREAMS; i++)
        tc_chunk(&b, 128, 0, 10 + i, 0, 20, 0, "x", 1, true);
    parsed_t p;
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, LC_CHUNK_MAX_STREAMS);
    parsed_free(&p);
    tc_chunk(&b, 128, 0, 10 + LC_CHUNK_MAX_STREAMS, 0, 20, 0, "x", 1, true);
    parse(b.data, b.len, 0, &p);
    assert_int_equal(p.rc, LC_EPROTO_RTMP);
    assert_int_equal(p.n, LC_CHUNK_MAX_STREAMS);
    assert_non_null(strstr(p.why.text, "more than 32 chunk streams"));
    parsed_free(&p);
    lc_bytes_free(&b);
}

static void test_headers_without_start(void **state)
{
    (void)state;
    for (unsigned fmt = 1; fmt <= 3; fmt++) {
        lc_bytes_t b;
        lc_bytes_init(&b);
        tc_chunk(&b, 128, fmt, 7, 0, 9, 0, "abcd", 4, true);
        expect_error(&b, "before any type-0 header");
        lc_bytes_free(&b);
    }
    /* a new message header while one is half read on the same chunk stream */
    uint8_t *data = pattern(200, 1);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 7, 0, 9, 0, data, 200, true);
    b.len = 12 + 128; /* cut after the first chunk */
    tc_chunk(&b, 128, 0, 7, 0, 9, 0, "abcd", 4, true);
    expect_error(&b, "inside a message");
    lc_bytes_free(&b);
    free(data);
}

static void test_abort(void **state)
{
    (void)state;
    uint8_t *data = pattern(200, 1);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 7, 0, 9, 0, data, 200, true);
    b.len = 12 + 128; /* half a message on csid 7 */
    lc_bytes_t p4;
    lc_bytes_init(&p4);
    tc_be(&p4, 7, 4);
    tc_msg(&b, 128, 2, LC_RTMP_MSG_ABORT, 0, 0, &p4);
    tc_chunk(&b, 128, 0, 7, 99, 9, 0, "fresh", 5, true);
    parsed_t p;
    parse(b.data, b.len, 1, &p);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.m[0].len, 5);
    assert_int_equal(p.m[0].timestamp, 99);
    parsed_free(&p);
    lc_bytes_free(&b);
    lc_bytes_free(&p4);
    free(data);
}

/* Partial messages may not pin more than LC_CHUNK_MAX_BUFFERED bytes. */
static void test_buffered_limit(void **state)
{
    (void)state;
    size_t part = LC_CHUNK_MAX_MESSAGE / 2 + 1; /* forces a full-size buffer per stream */
    uint8_t *data = pattern(part, 3);
    lc_chunk_reader_t *r = lc_chunk_reader_new();
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_set_chunk_size(&b, 128, (uint32_t)part); /* one chunk of `part` per stream */
    lc_why_t why;
    int rc = 0;
    uint32_t streams = LC_CHUNK_MAX_BUFFERED / LC_CHUNK_MAX_MESSAGE + 1;
    for (uint32_t i = 0; i < streams; i++) {
        tc_basic(&b, 0, 10 + i);
        tc_be(&b, 0, 3);
        tc_be(&b, LC_CHUNK_MAX_MESSAGE, 3);
        tc_u8(&b, 9);
        tc_be(&b, 0, 4);
        tc_put(&b, data, part);
    }
    size_t off = 0;
    while (off < b.len) {
        lc_rtmp_msg_t m;
        size_t used;
        rc = lc_chunk_reader_feed(r, b.data + off, b.len - off, &used, &m, &why);
        off += used;
        if (rc != 1)
            break;
    }
    assert_int_equal(rc, LC_EPROTO_RTMP);
    assert_non_null(strstr(why.text, "partial messages hold more than"));
    /* failed stays failed */
    lc_rtmp_msg_t m;
    size_t used;
    assert_int_equal(lc_chunk_reader_feed(r, b.data, 1, &used, &m, &why), LC_EPROTO_RTMP);
    lc_chunk_reader_free(&r);
    lc_bytes_free(&b);
    free(data);
}

/* Feeds all of `b` to `r`; returns the first error (why in *why) or 0, and counts messages. */
static int feed_all(lc_chunk_reader_t *r, const lc_bytes_t *b, lc_why_t *why, int *messages)
{
    size_t off = 0;
    while (off < b->len) {
        lc_rtmp_msg_t m;
        size_t used = 0;
        int rc = lc_chunk_reader_feed(r, b->data + off, b->len - off, &used, &m, why);
        off += used;
        if (rc < 0)
            return rc;
        if (rc == 1)
            (*messages)++;
        else
            break;
    }
    return 0;
}

/* A type-0 header on `csid` declaring a message of `len` bytes. */
static void header0(lc_bytes_t *b, uint32_t csid, uint32_t len)
{
    tc_basic(b, 0, csid);
    tc_be(b, 0, 3);
    tc_be(b, len, 3);
    tc_u8(b, LC_RTMP_MSG_COMMAND_AMF0);
    tc_be(b, 0, 4);
}

/* Limits set by the owner (a connection keeps them small until the peer authenticates):
 * message length and partial-message budget, raised later, and 0 or too much meaning the cap. */
static void test_limits(void **state)
{
    (void)state;
    uint8_t *data = pattern(1u << 20, 5);
    lc_why_t why = {{0}};
    int n = 0;
    lc_bytes_t b;
    lc_bytes_init(&b);

    /* a message of the limit passes, one byte more is refused at its header */
    lc_chunk_reader_t *r = lc_chunk_reader_new();
    lc_chunk_reader_set_limits(r, 8192, 65536);
    tc_set_chunk_size(&b, 128, 65536);
    tc_chunk(&b, 65536, 0, 3, 0, 20, 0, data, 8192, true);
    header0(&b, 3, 8193);
    assert_int_equal(feed_all(r, &b, &why, &n), LC_EPROTO_RTMP);
    assert_int_equal(n, 1);
    assert_non_null(strstr(why.text, "message length 8193 exceeds 8192"));
    lc_chunk_reader_free(&r);

    /* partial messages: 8 of 8100 bytes fit in 64 KiB, the 9th does not */
    r = lc_chunk_reader_new();
    lc_chunk_reader_set_limits(r, 8192, 65536);
    lc_bytes_reset(&b);
    tc_set_chunk_size(&b, 128, 4000);
    for (uint32_t i = 0; i < 9; i++) {
        header0(&b, 10 + i, 8100);
        tc_put(&b, data, 4000);
        tc_basic(&b, 3, 10 + i);
        tc_put(&b, data, 4000);
    }
    n = 0;
    assert_int_equal(feed_all(r, &b, &why, &n), LC_EPROTO_RTMP);
    assert_non_null(strstr(why.text, "chunk stream 18: partial messages hold more than 65536"));
    lc_chunk_reader_free(&r);

    /* raised after a first message (the peer authenticated): the same bytes, and then a 1 MiB
     * message, pass */
    r = lc_chunk_reader_new();
    lc_chunk_reader_set_limits(r, 8192, 65536);
    lc_bytes_t first;
    lc_bytes_init(&first);
    tc_chunk(&first, 128, 0, 3, 0, 20, 0, data, 300, true);
    n = 0;
    assert_int_equal(feed_all(r, &first, &why, &n), 0);
    assert_int_equal(n, 1);
    lc_chunk_reader_set_limits(r, 0, 0);
    for (uint32_t i = 0; i < 9; i++) { /* complete the 9 messages */
        tc_basic(&b, 3, 10 + i);
        tc_put(&b, data, 100);
    }
    tc_set_chunk_size(&b, 4000, 65536);
    tc_chunk(&b, 65536, 0, 4, 0, 9, 1, data, 1u << 20, true);
    n = 0;
    assert_int_equal(feed_all(r, &b, &why, &n), 0);
    assert_int_equal(n, 10);
    lc_chunk_reader_free(&r);
    lc_bytes_free(&first);

    /* 0 and values above the ceilings mean the ceilings */
    const uint32_t big[] = {0, UINT32_MAX};
    for (int k = 0; k < 2; k++) {
        r = lc_chunk_reader_new();
        lc_chunk_reader_set_limits(r, 8192, 65536);
        lc_chunk_reader_set_limits(r, big[k], k ? SIZE_MAX : 0);
        lc_bytes_reset(&b);
        header0(&b, 3, LC_CHUNK_MAX_MESSAGE);
        n = 0;
        assert_int_equal(feed_all(r, &b, &why, &n), 0);
        lc_chunk_reader_free(&r);
        r = lc_chunk_reader_new();
        lc_chunk_reader_set_limits(r, big[k], k ? SIZE_MAX : 0);
        lc_bytes_reset(&b);
        header0(&b, 3, LC_CHUNK_MAX_MESSAGE + 1);
        assert_int_equal(feed_all(r, &b, &why, &n), LC_EPROTO_RTMP);
        lc_chunk_reader_free(&r);
    }
    lc_bytes_free(&b);
    free(data);
}

/* A session-like stream with everything above; every split must give the same messages. */
static void test_any_split(void **state)
{
    (void)state;
    uint8_t *big = pattern(9100, 11);
    lc_bytes_t b;
    lc_bytes_init(&b);
    tc_chunk(&b, 128, 0, 3, 0, 20, 0, big, 250, true);
    tc_set_chunk_size(&b, 128, 4096);
    tc_chunk(&b, 4096, 0, 4, 0, 8, 1, big, 7, true);
    tc_chunk(&b, 4096, 0, 6, 0, 9, 1, big, 9000, true);
    for (uint32_t i = 1; i < 40; i++) {
        tc_chunk(&b, 4096, 1, 4, 23, 8, 1, big + i, 6 + i % 3, false);
        tc_chunk(&b, 4096, i % 2 ? 2 : 3, 6, 40, 9, 1, big + i, 9000, true);
    }
    tc_chunk(&b, 4096, 0, 400, 0x01000000, 9, 1, big, 8200, true);
    tc_chunk(&b, 4096, 0, 401, 0x01000000, 9, 1, big, 8200, false);
    tc_chunk(&b, 4096, 3, 401, 0x01000000, 9, 1, big, 8200, false);
    parsed_t ref;
    parse(b.data, b.len, 0, &ref);
    assert_int_equal(ref.rc, 0);
    assert_int_equal(ref.n, 3 + 2 * 39 + 3);
    assert_int_equal(ref.m[ref.n - 1].timestamp, 0x02000000);
    const size_t steps[] = {1, 2, 3, 5, 7, 11, 13, 17, 127, 128, 129, 4095, 4097};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        parsed_t p;
        parse(b.data, b.len, steps[i], &p);
        assert_same(&ref, &p);
        parsed_free(&p);
    }
    parsed_free(&ref);
    lc_bytes_free(&b);
    free(big);
}

/* What lc_chunk_write produces reads back the same, for every header form and size. */
static void test_writer_round_trip(void **state)
{
    (void)state;
    const uint32_t ids[] = {2, 63, 64, 319, 320, 65599};
    const size_t sizes[] = {0, 1, 128, 129, 5000};
    const uint32_t stamps[] = {0, 0xFFFFFE, 0xFFFFFF, 0x12345678};
    uint8_t *data = pattern(5000, 42);
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 5; j++)
            for (size_t k = 0; k < 4; k++) {
                lc_bytes_t b;
                lc_bytes_init(&b);
                assert_int_equal(lc_chunk_write(&b, 128, ids[i], 9, 7, stamps[k], data, sizes[j]),
                                 0);
                size_t basic = ids[i] < 64 ? 1 : ids[i] < 320 ? 2 : 3;
                size_t ext = stamps[k] >= 0xFFFFFF ? 4 : 0;
                size_t conts = sizes[j] ? (sizes[j] - 1) / 128 : 0;
                assert_int_equal(b.len, basic + 11 + ext + sizes[j] + conts * (basic + ext));
                parsed_t p;
                parse(b.data, b.len, 0, &p);
                assert_int_equal(p.rc, 0);
                assert_int_equal(p.n, 1);
                assert_int_equal(p.m[0].csid, ids[i]);
                assert_int_equal(p.m[0].stream_id, 7);
                assert_int_equal(p.m[0].timestamp, stamps[k]);
                assert_int_equal(p.m[0].len, sizes[j]);
                assert_memory_equal(p.m[0].data, data, sizes[j]);
                parsed_free(&p);
                lc_bytes_free(&b);
            }
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_int_equal(lc_chunk_write(&b, 128, 1, 9, 0, 0, data, 1), -EINVAL);
    assert_int_equal(lc_chunk_write(&b, 128, 65600, 9, 0, 0, data, 1), -EINVAL);
    assert_int_equal(lc_chunk_write(&b, 0, 3, 9, 0, 0, data, 1), -EINVAL);
    assert_int_equal(lc_chunk_write(&b, 128, 3, 9, 0, 0, data, 0x1000000), -EINVAL);
    assert_int_equal(b.len, 0);
    lc_bytes_free(&b);
    free(data);
}

static void test_garbage(void **state)
{
    (void)state;
    /* Random bytes must end in an error or in waiting, never in a crash; the sanitizers watch. */
    uint32_t x = 12345;
    uint8_t buf[4096];
    int errors = 0;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        parsed_t p;
        parse(buf, sizeof buf, (size_t)round % 7, &p);
        errors += p.rc < 0;
        parsed_free(&p);
    }
    assert_true(errors > 150); /* random headers almost always break a rule quickly */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_message),
        cmocka_unit_test(test_zero_length_message),
        cmocka_unit_test(test_multi_chunk),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_header_compression_timestamps),
        cmocka_unit_test(test_basic_header_forms),
        cmocka_unit_test(test_extended_timestamps),
        cmocka_unit_test(test_extended_short_last_chunk),
        cmocka_unit_test(test_set_chunk_size),
        cmocka_unit_test(test_absurd_chunk_sizes),
        cmocka_unit_test(test_absurd_message_length),
        cmocka_unit_test(test_too_many_chunk_streams),
        cmocka_unit_test(test_headers_without_start),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_buffered_limit),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_any_split),
        cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
