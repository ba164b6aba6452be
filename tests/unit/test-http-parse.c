/* What the HTTP layer parses from requests: media file names and Range headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/webinars.h"
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

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(lc_content_type("index.m3u8"), "application/vnd.apple.mpegurl");
    assert_string_equal(lc_content_type("seg-1.m4s"), "video/iso.segment");
    assert_string_equal(lc_content_type("init-0.mp4"), "video/mp4");
    assert_string_equal(lc_content_type("noext"), "application/octet-stream");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_names),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
