/* What the HTTP layer parses from requests: media file names and Range headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <zlib.h>

#include "api/webinars.h"
#include "core/gzip.h"
#include "http/http.h"
#include "http/names.h"

static void test_media_names(void **state)
{
    (void)state;
    int64_t a, b;
    assert_int_equal(lc_parse_media_name("index.m3u8", &a, &b), LC_NAME_PLAYLIST);
    assert_int_equal(lc_parse_media_name("master.m3u8", &a, &b), LC_NAME_MASTER);
    assert_int_equal(lc_parse_media_name("download.mp4", &a, &b), LC_NAME_DOWNLOAD);
    assert_int_equal(lc_parse_media_name("init-3.mp4", &a, &b), LC_NAME_INIT);
    assert_int_equal(a, 3);
    assert_int_equal(lc_parse_media_name("seg-0.m4s", &a, &b), LC_NAME_SEGMENT);
    assert_int_equal(a, 0);
    assert_int_equal(lc_parse_media_name("seg-1234567.m4s", &a, &b), LC_NAME_SEGMENT);
    assert_int_equal(a, 1234567);
    assert_int_equal(lc_parse_media_name("part-12.3.m4s", &a, &b), LC_NAME_PART);
    assert_int_equal(a, 12);
    assert_int_equal(b, 3);
    const char *bad[] = {"", "index.m3u", "seg-.m4s", "seg-01.m4s", "seg--1.m4s", "seg-1.mp4",
                         "seg-1.m4s/", "../index.m3u8", "part-1.m4s", "part-1..2.m4s",
                         "part-1.2.m4s.x", "init-99999999999999999999.mp4", "seg-1 .m4s",
                         "SEG-1.m4s", "init-1.mp4\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lc_parse_media_name(bad[i], &a, &b), LC_NAME_INVALID);
}

static void test_range(void **state)
{
    (void)state;
    size_t f, l;
    assert_int_equal(lc_http_parse_range(NULL, 100, &f, &l), 0);
    assert_int_equal(lc_http_parse_range("bytes=0-9", 100, &f, &l), 1);
    assert_true(f == 0 && l == 9);
    assert_int_equal(lc_http_parse_range("bytes=90-", 100, &f, &l), 1);
    assert_true(f == 90 && l == 99);
    assert_int_equal(lc_http_parse_range("bytes=90-500", 100, &f, &l), 1);
    assert_true(f == 90 && l == 99);
    assert_int_equal(lc_http_parse_range("bytes=-10", 100, &f, &l), 1);
    assert_true(f == 90 && l == 99);
    assert_int_equal(lc_http_parse_range("bytes=-1000", 100, &f, &l), 1);
    assert_true(f == 0 && l == 99);
    assert_int_equal(lc_http_parse_range("bytes=100-", 100, &f, &l), -1);
    assert_int_equal(lc_http_parse_range("bytes=-0", 100, &f, &l), -1);
    assert_int_equal(lc_http_parse_range("bytes=0-0", 0, &f, &l), -1);
    const char *ignored[] = {"bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=a-b", "bytes=-",
                             "bytes=1", "bytes=99999999999999999999999-"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        assert_int_equal(lc_http_parse_range(ignored[i], 100, &f, &l), 0);
}

static void test_slug(void **state)
{
    (void)state;
    assert_true(lc_slug_valid("demo"));
    assert_true(lc_slug_valid("my-webinar-k3x9ab"));
    assert_false(lc_slug_valid(""));
    assert_false(lc_slug_valid("Demo"));
    assert_false(lc_slug_valid("a/b"));
    assert_false(lc_slug_valid("a b"));
    assert_false(lc_slug_valid(".."));
    char longslug[70];
    memset(longslug, 'a', 64);
    longslug[64] = 0;
    assert_false(lc_slug_valid(longslug));
}

/* Media keys: exactly 32 lowercase hex digits, and a match only with the very key stored. */
static void test_media_key(void **state)
{
    (void)state;
    const char *key = "0123456789abcdef0123456789abcdef";
    assert_true(lc_media_key_valid(key));
    assert_false(lc_media_key_valid(""));
    assert_false(lc_media_key_valid("0123456789abcdef0123456789abcde"));   /* 31 */
    assert_false(lc_media_key_valid("0123456789abcdef0123456789abcdef0")); /* 33 */
    assert_false(lc_media_key_valid("0123456789ABCDEF0123456789ABCDEF"));
    assert_false(lc_media_key_valid("0123456789abcdeg0123456789abcdef"));
    assert_false(lc_media_key_valid("demo"));
    assert_false(lc_media_key_valid("../../../../../../../../etc/pass"));
    assert_true(lc_media_key_matches(key, "0123456789abcdef0123456789abcdef"));
    assert_false(lc_media_key_matches(key, "0123456789abcdef0123456789abcdee"));
    assert_false(lc_media_key_matches(key, "0123456789abcdef0123456789abcde"));
    assert_false(lc_media_key_matches("", ""));  /* a webinar without a key: nothing matches */
    assert_false(lc_media_key_matches("", key));
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(lc_content_type("index.m3u8"), "application/vnd.apple.mpegurl");
    assert_string_equal(lc_content_type("seg-1.m4s"), "video/iso.segment");
    assert_string_equal(lc_content_type("init-0.mp4"), "video/mp4");
    assert_string_equal(lc_content_type("noext"), "application/octet-stream");
}

static void test_hls_query(void **state)
{
    (void)state;
    lc_hls_query_t q;
    assert_null(lc_hls_parse_query(NULL, NULL, NULL, &q));
    assert_false(q.has_msn || q.has_part || q.skip);
    assert_null(lc_hls_parse_query("12", "3", NULL, &q));
    assert_true(q.has_msn && q.has_part && !q.skip);
    assert_int_equal(q.msn, 12);
    assert_int_equal(q.part, 3);
    assert_null(lc_hls_parse_query("0", NULL, "YES", &q));
    assert_true(q.has_msn && !q.has_part && q.skip);
    assert_null(lc_hls_parse_query(NULL, NULL, "v2", &q));
    assert_true(q.skip);
    /* Each of these is a 400, with a reason. */
    assert_string_equal(lc_hls_parse_query(NULL, "1", NULL, &q), "_HLS_part without _HLS_msn");
    const char *bad_msn[] = {"", "-1", "1.5", "x", "9007199254740993", " 1"};
    for (size_t i = 0; i < sizeof bad_msn / sizeof bad_msn[0]; i++)
        assert_non_null(lc_hls_parse_query(bad_msn[i], NULL, NULL, &q));
    assert_non_null(lc_hls_parse_query("1", "-1", NULL, &q));
    assert_non_null(lc_hls_parse_query("1", "2000000", NULL, &q));
    assert_non_null(lc_hls_parse_query("1", NULL, "yes", &q));
    assert_non_null(lc_hls_parse_query("1", NULL, "NO", &q));
}

static void test_accept_encoding(void **state)
{
    (void)state;
    assert_true(lc_accepts_gzip("gzip"));
    assert_true(lc_accepts_gzip("gzip, deflate, br"));
    assert_true(lc_accepts_gzip("br;q=1.0, gzip;q=0.8"));
    assert_true(lc_accepts_gzip("*"));
    assert_true(lc_accepts_gzip("GZIP"));
    assert_false(lc_accepts_gzip(NULL));
    assert_false(lc_accepts_gzip(""));
    assert_false(lc_accepts_gzip("identity"));
    assert_false(lc_accepts_gzip("gzip;q=0"));
    assert_false(lc_accepts_gzip("x-gzip2, deflate"));
}

static void test_gzip_roundtrip(void **state)
{
    (void)state;
    lc_bytes_t text;
    lc_bytes_init(&text);
    for (int i = 0; i < 200; i++)
        lc_bytes_printf(&text, "#EXT-X-PART:DURATION=0.400,URI=\"part-%d.%d.m4s\"\n", i / 5, i % 5);
    lc_buf_t *gz = lc_gzip(text.data, text.len);
    assert_non_null(gz);
    assert_true(lc_buf_len(gz) < text.len / 4);
    assert_int_equal(lc_buf_cdata(gz)[0], 0x1f);
    assert_int_equal(lc_buf_cdata(gz)[1], 0x8b);
    uint8_t out[16384];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)lc_buf_cdata(gz);
    z.avail_in = (uInt)lc_buf_len(gz);
    z.next_out = out;
    z.avail_out = sizeof out;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, text.len);
    assert_memory_equal(out, text.data, text.len);
    inflateEnd(&z);
    lc_buf_unref(gz);
    lc_bytes_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_names),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_media_key),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_hls_query),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_gzip_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
