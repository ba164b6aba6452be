/* RTMP handshake state machine: stages, S0/S1/S2 contents, any input split, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "ingest/handshake.h"

#define HS LC_HANDSHAKE_SIZE

/* C0 + C1 + C2 as a client sends them, then `extra` bytes of what would be the chunk stream. */
static size_t client_bytes(uint8_t *buf, size_t extra)
{
    size_t n = 0;
    buf[n++] = 3;
    for (int i = 0; i < HS; i++)
        buf[n++] = (uint8_t)(i < 8 ? i : i * 5 + 1);
    for (int i = 0; i < HS; i++)
        buf[n++] = (uint8_t)(i * 11);
    for (size_t i = 0; i < extra; i++)
        buf[n++] = 0xC3;
    return n;
}

static void test_happy_path(void **state)
{
    (void)state;
    static uint8_t in[1 + 2 * HS + 10];
    size_t n = client_bytes(in, 0);
    lc_handshake_t hs;
    lc_handshake_init(&hs, 42);
    assert_int_equal(hs.stage, LC_HS_WAIT_C0);
    lc_bytes_t out;
    lc_bytes_init(&out);
    lc_why_t why;
    size_t used = 0;

    assert_int_equal(lc_handshake_feed(&hs, in, 1 + HS, &used, &out, &why), 0);
    assert_int_equal(used, 1 + HS);
    assert_int_equal(hs.stage, LC_HS_WAIT_C2);
    assert_int_equal(out.len, 1 + 2 * HS);
    assert_int_equal(out.data[0], 3);
    static const uint8_t zeros[8];
    assert_memory_equal(out.data + 1, zeros, 8); /* time 0, version 0: the simple handshake */
    assert_memory_equal(out.data + 1 + HS, in + 1, HS); /* S2 echoes C1 exactly */

    assert_int_equal(lc_handshake_feed(&hs, in + 1 + HS, n - 1 - HS, &used, &out, &why), 0);
    assert_int_equal(used, HS);
    assert_int_equal(hs.stage, LC_HS_DONE);
    assert_int_equal(out.len, 1 + 2 * HS); /* nothing more to send */
    assert_string_equal(lc_handshake_stage_name(hs.stage), "DONE");
    lc_bytes_free(&out);
}

/* One byte at a time gives exactly the same bytes to send as one call. */
static void test_byte_at_a_time(void **state)
{
    (void)state;
    static uint8_t in[1 + 2 * HS];
    size_t n = client_bytes(in, 0);
    lc_handshake_t a, b;
    lc_handshake_init(&a, 7);
    lc_handshake_init(&b, 7);
    lc_bytes_t oa, ob;
    lc_bytes_init(&oa);
    lc_bytes_init(&ob);
    size_t used;
    assert_int_equal(lc_handshake_feed(&a, in, n, &used, &oa, NULL), 0);
    assert_int_equal(used, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(b.stage, LC_HS_DONE);
        assert_int_equal(lc_handshake_feed(&b, in + i, 1, &used, &ob, NULL), 0);
        assert_int_equal(used, 1);
        if (i < HS)
            assert_int_equal(ob.len, 0); /* nothing before C1 is complete */
    }
    assert_int_equal(a.stage, LC_HS_DONE);
    assert_int_equal(b.stage, LC_HS_DONE);
    assert_int_equal(oa.len, ob.len);
    assert_memory_equal(oa.data, ob.data, oa.len);
    lc_bytes_free(&oa);
    lc_bytes_free(&ob);
}

/* C2 arriving in the same read as the first chunks: the handshake stops at the end of C2. */
static void test_c2_with_first_chunks(void **state)
{
    (void)state;
    static uint8_t in[1 + 2 * HS + 10];
    size_t n = client_bytes(in, 10);
    lc_handshake_t hs;
    lc_handshake_init(&hs, 1);
    lc_bytes_t out;
    lc_bytes_init(&out);
    size_t used;
    assert_int_equal(lc_handshake_feed(&hs, in, n, &used, &out, NULL), 0);
    assert_int_equal(used, 1 + 2 * HS);
    assert_int_equal(hs.stage, LC_HS_DONE);
    /* feeding after DONE takes nothing */
    assert_int_equal(lc_handshake_feed(&hs, in + used, n - used, &used, &out, NULL), 0);
    assert_int_equal(used, 0);
    lc_bytes_free(&out);
}

static void test_wrong_versions(void **state)
{
    (void)state;
    const uint8_t versions[] = {0, 1, 6, 8, 'G', 0xFF};
    for (size_t i = 0; i < sizeof versions; i++) {
        lc_handshake_t hs;
        lc_handshake_init(&hs, 1);
        lc_bytes_t out;
        lc_bytes_init(&out);
        lc_why_t why = {{0}};
        size_t used = 99;
        uint8_t in[16] = {versions[i], 1, 2, 3};
        assert_int_equal(lc_handshake_feed(&hs, in, sizeof in, &used, &out, &why), LC_EPROTO_RTMP);
        assert_int_equal(used, 0);
        assert_int_equal(hs.stage, LC_HS_FAILED);
        assert_int_equal(out.len, 0);
        assert_non_null(strstr(why.text, "version"));
        /* stays failed */
        assert_int_equal(lc_handshake_feed(&hs, in, 1, &used, &out, &why), LC_EPROTO_RTMP);
        lc_bytes_free(&out);
    }
    /* RTMPE is named as such */
    lc_handshake_t hs;
    lc_handshake_init(&hs, 1);
    lc_bytes_t out;
    lc_bytes_init(&out);
    lc_why_t why = {{0}};
    size_t used;
    uint8_t six = 6;
    assert_int_equal(lc_handshake_feed(&hs, &six, 1, &used, &out, &why), LC_EPROTO_RTMP);
    assert_non_null(strstr(why.text, "RTMPE"));
    lc_bytes_free(&out);
}

static void test_truncated(void **state)
{
    (void)state;
    static uint8_t in[1 + 2 * HS];
    client_bytes(in, 0);
    lc_handshake_t hs;
    lc_handshake_init(&hs, 1);
    lc_bytes_t out;
    lc_bytes_init(&out);
    size_t used;
    assert_int_equal(lc_handshake_feed(&hs, in, 0, &used, &out, NULL), 0);
    assert_int_equal(used, 0);
    assert_int_equal(hs.stage, LC_HS_WAIT_C0);
    assert_int_equal(lc_handshake_feed(&hs, in, 1 + 1000, &used, &out, NULL), 0);
    assert_int_equal(hs.stage, LC_HS_WAIT_C1);
    assert_int_equal(out.len, 0);
    assert_int_equal(lc_handshake_feed(&hs, in + 1001, HS - 1000 + 100, &used, &out, NULL), 0);
    assert_int_equal(hs.stage, LC_HS_WAIT_C2);
    assert_int_equal(hs.have, 100);
    assert_int_equal(out.len, 1 + 2 * HS);
    lc_bytes_free(&out);
}

static void test_seed_changes_filler(void **state)
{
    (void)state;
    static uint8_t in[1 + 2 * HS];
    client_bytes(in, 0);
    lc_bytes_t o1, o2;
    lc_bytes_init(&o1);
    lc_bytes_init(&o2);
    lc_handshake_t a, b;
    lc_handshake_init(&a, 1);
    lc_handshake_init(&b, 2);
    size_t used;
    assert_int_equal(lc_handshake_feed(&a, in, 1 + HS, &used, &o1, NULL), 0);
    assert_int_equal(lc_handshake_feed(&b, in, 1 + HS, &used, &o2, NULL), 0);
    assert_int_equal(o1.len, o2.len);
    assert_memory_not_equal(o1.data + 9, o2.data + 9, HS - 8);
    lc_bytes_free(&o1);
    lc_bytes_free(&o2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_c2_with_first_chunks),
        cmocka_unit_test(test_wrong_versions),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_seed_changes_filler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
