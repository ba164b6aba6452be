/* AMF0 decoder and encoder: every type, containers, and hostile input (truncation, unsupported
 * markers, deep nesting, lying lengths, value floods). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "ingest/amf0.h"

static void expect_fail(const uint8_t *p, size_t n, const char *needle)
{
    lc_amf_t *v = (lc_amf_t *)0x1;
    size_t used = 99;
    lc_why_t why = {{0}};
    assert_int_equal(lc_amf0_decode(p, n, &used, &v, &why), LC_EPROTO_RTMP);
    assert_null(v);
    assert_int_equal(used, 0);
    if (needle && !strstr(why.text, needle)) {
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", why.text, needle);
        fail();
    }
}

static void test_scalars_round_trip(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_number(&b, 1.5);
    lc_amf0_put_number(&b, -0.0);
    lc_amf0_put_bool(&b, true);
    lc_amf0_put_bool(&b, false);
    lc_amf0_put_string(&b, "connect");
    lc_amf0_put_string(&b, "");
    lc_amf0_put_null(&b);
    lc_amf0_put_undefined(&b);
    lc_amf0_put_date(&b, 1700000000123.0, -60);
    assert_false(b.failed);
    /* exact bytes of the first values */
    const uint8_t head[] = {0x00, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(b.data, head, sizeof head);

    lc_amf_t *list = NULL;
    lc_why_t why;
    assert_int_equal(lc_amf0_decode_all(b.data, b.len, &list, &why), 0);
    assert_int_equal(lc_amf_type(list), LC_AMF_STRICT_ARRAY);
    assert_int_equal(lc_amf_count(list), 9);
    double d;
    bool flag;
    size_t len;
    assert_true(lc_amf_num(lc_amf_item(list, 0), &d));
    assert_true(d == 1.5);
    assert_true(lc_amf_num(lc_amf_item(list, 1), &d));
    assert_true(d == 0.0);
    assert_true(lc_amf_bool(lc_amf_item(list, 2), &flag));
    assert_true(flag);
    assert_true(lc_amf_bool(lc_amf_item(list, 3), &flag));
    assert_false(flag);
    assert_string_equal(lc_amf_str(lc_amf_item(list, 4), &len), "connect");
    assert_int_equal(len, 7);
    assert_string_equal(lc_amf_str(lc_amf_item(list, 5), &len), "");
    assert_int_equal(len, 0);
    assert_int_equal(lc_amf_type(lc_amf_item(list, 6)), LC_AMF_NULL);
    assert_int_equal(lc_amf_type(lc_amf_item(list, 7)), LC_AMF_UNDEFINED);
    assert_int_equal(lc_amf_type(lc_amf_item(list, 8)), LC_AMF_DATE);
    assert_true(lc_amf_num(lc_amf_item(list, 8), &d));
    assert_true(d == 1700000000123.0);
    /* wrong-type accessors read as absent */
    assert_null(lc_amf_str(lc_amf_item(list, 0), NULL));
    assert_false(lc_amf_num(lc_amf_item(list, 4), &d));
    assert_false(lc_amf_bool(lc_amf_item(list, 0), &flag));
    assert_null(lc_amf_item(list, 9));
    lc_amf_free(&list);
    assert_null(list);
    lc_bytes_free(&b);
}

static void test_long_string(void **state)
{
    (void)state;
    size_t n = 70000;
    char *s = malloc(n + 1);
    memset(s, 'k', n);
    s[n] = 0;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_int_equal(lc_amf0_put_string(&b, s), 0);
    assert_int_equal(b.data[0], 0x0C);
    assert_int_equal(b.len, 5 + n);
    lc_amf_t *v = NULL;
    size_t used, len;
    assert_int_equal(lc_amf0_decode(b.data, b.len, &used, &v, NULL), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(lc_amf_type(v), LC_AMF_STRING);
    assert_string_equal(lc_amf_str(v, &len), s);
    assert_int_equal(len, n);
    lc_amf_free(&v);
    lc_bytes_free(&b);
    free(s);
}

/* A connect-like command object holding an ECMA array and a strict array. */
static void build_object(lc_bytes_t *b)
{
    lc_amf0_put_object_start(b);
    lc_amf0_put_key(b, "app");
    lc_amf0_put_string(b, "live");
    lc_amf0_put_key(b, "capabilities");
    lc_amf0_put_number(b, 239);
    lc_amf0_put_key(b, "meta");
    lc_amf0_put_ecma_start(b, 2);
    lc_amf0_put_key(b, "width");
    lc_amf0_put_number(b, 1280);
    lc_amf0_put_key(b, "fourCcList");
    lc_amf0_put_strict_array_start(b, 3);
    lc_amf0_put_string(b, "av01");
    lc_amf0_put_string(b, "vp09");
    lc_amf0_put_string(b, "hvc1");
    lc_amf0_put_object_end(b);
    lc_amf0_put_key(b, "fpad");
    lc_amf0_put_bool(b, false);
    lc_amf0_put_object_end(b);
}

static void test_containers(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    build_object(&b);
    lc_amf_t *v = NULL;
    size_t used, klen;
    assert_int_equal(lc_amf0_decode(b.data, b.len, &used, &v, NULL), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(lc_amf_type(v), LC_AMF_OBJECT);
    assert_int_equal(lc_amf_count(v), 4);
    assert_string_equal(lc_amf_key(v, 0, &klen), "app");
    assert_int_equal(klen, 3);
    assert_string_equal(lc_amf_str(lc_amf_get(v, "app"), NULL), "live");
    double d;
    assert_true(lc_amf_num(lc_amf_get(v, "capabilities"), &d));
    assert_true(d == 239);
    const lc_amf_t *meta = lc_amf_get(v, "meta");
    assert_int_equal(lc_amf_type(meta), LC_AMF_ECMA_ARRAY);
    assert_true(lc_amf_num(lc_amf_get(meta, "width"), &d));
    assert_true(d == 1280);
    const lc_amf_t *cc = lc_amf_get(meta, "fourCcList");
    assert_int_equal(lc_amf_type(cc), LC_AMF_STRICT_ARRAY);
    assert_int_equal(lc_amf_count(cc), 3);
    assert_string_equal(lc_amf_str(lc_amf_item(cc, 2), NULL), "hvc1");
    assert_null(lc_amf_key(cc, 0, NULL)); /* array items have no names */
    assert_null(lc_amf_get(v, "missing"));
    assert_null(lc_amf_get(cc, "app")); /* not an object */
    assert_null(lc_amf_get(NULL, "app"));
    assert_int_equal(lc_amf_count(NULL), 0);
    assert_int_equal(lc_amf_type(NULL), LC_AMF_UNDEFINED);
    lc_amf_free(&v);
    lc_amf_free(&v); /* NULL-safe */
    lc_bytes_free(&b);
}

/* Every strict prefix of an object is truncated and must be refused. */
static void test_truncated(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    build_object(&b);
    for (size_t n = 0; n < b.len; n++)
        expect_fail(b.data, n, "AMF0: ");
    lc_bytes_free(&b);
    /* and in decode_all, a truncated last value spoils the lot */
    lc_bytes_init(&b);
    lc_amf0_put_string(&b, "publish");
    lc_amf0_put_number(&b, 5);
    lc_amf_t *list = (lc_amf_t *)0x1;
    assert_int_equal(lc_amf0_decode_all(b.data, b.len - 1, &list, NULL), LC_EPROTO_RTMP);
    assert_null(list);
    lc_bytes_free(&b);
}

/* ECMA arrays whose end marker is missing at the end of the data (some encoders) are accepted;
 * objects are not. */
static void test_ecma_without_end_marker(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_string(&b, "onMetaData");
    lc_amf0_put_ecma_start(&b, 1);
    lc_amf0_put_key(&b, "videocodecid");
    lc_amf0_put_number(&b, 7);
    lc_amf_t *list = NULL;
    assert_int_equal(lc_amf0_decode_all(b.data, b.len, &list, NULL), 0);
    double d;
    assert_true(lc_amf_num(lc_amf_get(lc_amf_item(list, 1), "videocodecid"), &d));
    assert_true(d == 7);
    lc_amf_free(&list);
    lc_bytes_free(&b);

    lc_bytes_init(&b);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "a");
    lc_amf0_put_number(&b, 1);
    expect_fail(b.data, b.len, "truncated property name");
    lc_bytes_free(&b);
}

static void test_unsupported_markers(void **state)
{
    (void)state;
    const struct {
        uint8_t m;
        const char *name;
    } cases[] = {
        {0x04, "movieclip"},   {0x07, "reference"}, {0x09, "object end"},
        {0x0D, "unsupported"}, {0x0E, "recordset"}, {0x0F, "XML"},
        {0x10, "typed object"}, {0x11, "AMF3"},     {0x12, "unknown"},
        {0xFF, "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[16] = {cases[i].m, 0, 1, 'x', 0, 0, 9};
        expect_fail(p, sizeof p, cases[i].name);
    }
    /* a reference inside an object (what an AMF0 encoder reusing objects would write) */
    const uint8_t in_obj[] = {0x03, 0, 1, 'a', 0x07, 0, 0, 0, 0, 9};
    expect_fail(in_obj, sizeof in_obj, "reference");
}

static void test_depth_limit(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    for (int i = 0; i < LC_AMF_MAX_DEPTH; i++) {
        lc_amf0_put_object_start(&b);
        lc_amf0_put_key(&b, "k");
    }
    lc_amf0_put_null(&b);
    for (int i = 0; i < LC_AMF_MAX_DEPTH; i++)
        lc_amf0_put_object_end(&b);
    lc_amf_t *v = NULL;
    size_t used;
    assert_int_equal(lc_amf0_decode(b.data, b.len, &used, &v, NULL), 0); /* exactly the limit */
    const lc_amf_t *it = v;
    for (int i = 0; i < LC_AMF_MAX_DEPTH; i++)
        it = lc_amf_get(it, "k");
    assert_int_equal(lc_amf_type(it), LC_AMF_NULL);
    lc_amf_free(&v);
    lc_bytes_free(&b);

    /* one deeper, and absurdly deep (no stack to burn) */
    const int depths[] = {LC_AMF_MAX_DEPTH + 1, 100000};
    for (int k = 0; k < 2; k++) {
        lc_bytes_init(&b);
        for (int i = 0; i < depths[k]; i++)
            lc_amf0_put_strict_array_start(&b, 1);
        lc_amf0_put_null(&b);
        expect_fail(b.data, b.len, "nesting deeper than 8");
        lc_bytes_free(&b);
    }
}

static void test_lying_lengths(void **state)
{
    (void)state;
    const uint8_t s16[] = {0x02, 0xFF, 0xFF, 'a', 'b', 'c'};
    expect_fail(s16, sizeof s16, "truncated string");
    const uint8_t s32[] = {0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 'a'};
    expect_fail(s32, sizeof s32, "truncated string");
    const uint8_t key[] = {0x03, 0x10, 0x00, 'a'};
    expect_fail(key, sizeof key, "truncated property name");
    const uint8_t strict[] = {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0x05};
    expect_fail(strict, sizeof strict, "strict array of 4294967295 items");
    const uint8_t num[] = {0x00, 1, 2, 3};
    expect_fail(num, sizeof num, "truncated number");
    const uint8_t date[] = {0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_fail(date, sizeof date, "truncated date");
    const uint8_t boolean[] = {0x01};
    expect_fail(boolean, sizeof boolean, "truncated boolean");
    const uint8_t empty_key[] = {0x03, 0x00, 0x00, 0x05};
    expect_fail(empty_key, sizeof empty_key, "empty property name");
    expect_fail(NULL, 0, "truncated marker");
}

/* Many tiny values: refused past LC_AMF_MAX_NODES instead of allocating without bound. */
static void test_value_flood(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    lc_amf0_put_strict_array_start(&b, 5000);
    for (int i = 0; i < 5000; i++)
        lc_amf0_put_null(&b);
    expect_fail(b.data, b.len, "more than 4096 values");
    lc_bytes_free(&b);
    lc_bytes_init(&b);
    for (int i = 0; i < 5000; i++)
        lc_amf0_put_undefined(&b);
    lc_amf_t *list = NULL;
    lc_why_t why;
    assert_int_equal(lc_amf0_decode_all(b.data, b.len, &list, &why), LC_EPROTO_RTMP);
    assert_non_null(strstr(why.text, "more than 4096 values"));
    lc_bytes_free(&b);
}

static void test_keys_with_nul(void **state)
{
    (void)state;
    const uint8_t obj[] = {0x03, 0, 4, 'a', 'p', 0, 'x', 0x02, 0, 1, 'z', 0, 0, 9};
    lc_amf_t *v = NULL;
    size_t used, klen;
    assert_int_equal(lc_amf0_decode(obj, sizeof obj, &used, &v, NULL), 0);
    assert_null(lc_amf_get(v, "ap")); /* "ap\0x" is not "ap" */
    assert_non_null(lc_amf_key(v, 0, &klen));
    assert_int_equal(klen, 4);
    lc_amf_free(&v);
}

static void test_encoder_rejects_empty_key(void **state)
{
    (void)state;
    lc_bytes_t b;
    lc_bytes_init(&b);
    assert_int_equal(lc_amf0_put_key(&b, ""), -EINVAL);
    assert_int_equal(b.len, 0);
    lc_amf0_put_object_end(&b);
    const uint8_t end[] = {0, 0, 9};
    assert_memory_equal(b.data, end, 3);
    lc_bytes_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_round_trip),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_ecma_without_end_marker),
        cmocka_unit_test(test_unsupported_markers),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_lying_lengths),
        cmocka_unit_test(test_value_flood),
        cmocka_unit_test(test_keys_with_nul),
        cmocka_unit_test(test_encoder_rejects_empty_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
