/* Core helpers: strict number parsing, base64url, timestamps, listen addresses, buffers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "core/buf.h"
#include "core/net.h"
#include "core/util.h"

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(lc_parse_int64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(lc_parse_int64("9223372036854775807", 0, INT64_MAX, &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(lc_parse_int64("9223372036854775808", 0, INT64_MAX, &v), -ERANGE);
    assert_int_equal(lc_parse_int64("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(lc_parse_int64("-5", 0, 10, &v), -EINVAL);
    assert_int_equal(lc_parse_int64("11", 0, 10, &v), -ERANGE);
    const char *bad[] = {"", " 1", "1 ", "1a", "+1", "0x10", "-", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lc_parse_int64(bad[i], -100, 100, &v), -EINVAL);
    assert_int_equal(lc_parse_int64(NULL, 0, 1, &v), -EINVAL);
}

static void test_parse_double(void **state)
{
    (void)state;
    double d;
    assert_int_equal(lc_parse_double("0.5", 0.1, 2, &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(lc_parse_double("3", 0.1, 2, &d), -ERANGE);
    assert_int_equal(lc_parse_double("nan", 0, 2, &d), -EINVAL);
    assert_int_equal(lc_parse_double("inf", 0, 2, &d), -EINVAL);
    assert_int_equal(lc_parse_double("1x", 0, 2, &d), -EINVAL);
    assert_int_equal(lc_parse_double(" 1", 0, 2, &d), -EINVAL);
}

static void test_base64url(void **state)
{
    (void)state;
    char out[16];
    /* RFC 4648 test vectors, unpadded, url alphabet. */
    assert_int_equal(lc_base64url("f", 1, out, sizeof out), 2);
    assert_string_equal(out, "Zg");
    assert_int_equal(lc_base64url("foob", 4, out, sizeof out), 6);
    assert_string_equal(out, "Zm9vYg");
    assert_int_equal(lc_base64url("foobar", 6, out, sizeof out), 8);
    assert_string_equal(out, "Zm9vYmFy");
    const uint8_t hi[3] = {0xfb, 0xff, 0xbf};
    lc_base64url(hi, 3, out, sizeof out);
    assert_string_equal(out, "-_-_");
}

static void test_iso8601(void **state)
{
    (void)state;
    char buf[25];
    assert_string_equal(lc_iso8601(0, buf), "1970-01-01T00:00:00.000Z");
    assert_string_equal(lc_iso8601(1795737600123LL, buf), "2026-11-27T00:00:00.123Z");
}

static void test_secrets(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(lc_random_bytes(a, sizeof a), 0);
    assert_int_equal(lc_random_bytes(b, sizeof b), 0);
    assert_false(lc_ct_equal(a, b, 32));
    memcpy(b, a, 32);
    assert_true(lc_ct_equal(a, b, 32));
    uint8_t h[32];
    lc_sha256("abc", 3, h);
    assert_int_equal(h[0], 0xba);
    assert_int_equal(h[31], 0xad);
}

static void test_listen_addr(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(lc_parse_listen_addr("0.0.0.0:8080", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
    assert_int_equal(lc_parse_listen_addr(":1935", &ss, &len), 0);
    assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(lc_parse_listen_addr("[::1]:0", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    const char *bad[] = {"8080", "1.2.3.4:", "1.2.3.4:65536", "[::1:80", "::1:80", "host:80",
                         "1.2.3.4:-1", "[]:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lc_parse_listen_addr(bad[i], &ss, &len), -EINVAL);
}

static void test_bytes_and_buf(void **state)
{
    (void)state;
    lc_bytes_t s;
    lc_bytes_init(&s);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lc_bytes_printf(&s, "%d,", i % 10), 0);
    assert_int_equal(s.len, 2000);
    assert_memory_equal(s.data, "0,1,2,", 6);
    lc_buf_t *b = lc_bytes_to_buf(&s);
    lc_bytes_free(&s);
    assert_non_null(b);
    assert_int_equal(lc_buf_len(b), 2000);
    lc_buf_t *c = lc_buf_ref(b);
    assert_ptr_equal(b, c);
    lc_buf_unref(b);
    assert_memory_equal(lc_buf_data(c) + 1998, "9,", 2); /* still alive: one reference left */
    lc_buf_release(&c);
    assert_null(c);
    lc_buf_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int64), cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_base64url),   cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_secrets),     cmocka_unit_test(test_listen_addr),
        cmocka_unit_test(test_bytes_and_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
