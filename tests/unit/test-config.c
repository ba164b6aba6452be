/* Options: defaults, flags, config file, validation, derived URLs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static int parse(lc_config_t *c, char **argv, int argc, char *err)
{
    const char *rest[2];
    int nrest;
    lc_config_default(c);
    return lc_config_parse_args(c, argc, argv, NULL, rest, 2, &nrest, err, 256);
}

static void test_defaults_and_urls(void **state)
{
    (void)state;
    lc_config_t c;
    lc_config_default(&c);
    lc_config_finish(&c, NULL, NULL);
    assert_string_equal(c.http_listen, "0.0.0.0:8080");
    assert_string_equal(c.rtmp_listen, "0.0.0.0:1935");
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.public_url, "http://localhost:8080");
    assert_string_equal(c.rtmp_url, "rtmp://localhost:1935/live");
    assert_int_equal(c.grace_ms, 60000);
    assert_true(c.part_target_s == 1.0 / 3 && c.segment_target_s == 2.0);

    lc_config_default(&c);
    strcpy(c.http_listen, "192.0.2.7:80");
    strcpy(c.public_url, "https://example.org/");
    lc_config_finish(&c, NULL, NULL);
    assert_string_equal(c.public_url, "https://example.org");
    assert_string_equal(c.rtmp_url, "rtmp://localhost:1935/live");

    /* After binding port 0 the real ports are used. */
    lc_config_default(&c);
    strcpy(c.http_listen, "127.0.0.1:0");
    lc_config_finish(&c, "127.0.0.1:40001", "[::]:40002");
    assert_string_equal(c.public_url, "http://127.0.0.1:40001");
    assert_string_equal(c.rtmp_url, "rtmp://localhost:40002/live");
}

static void test_flags(void **state)
{
    (void)state;
    lc_config_t c;
    char err[256];
    char *argv[] = {"--http", "127.0.0.1:9000", "--grace=2.5", "--demo", "--log-level", "debug",
                    "extra"};
    assert_int_equal(parse(&c, argv, 7, err), 0);
    assert_string_equal(c.http_listen, "127.0.0.1:9000");
    assert_int_equal(c.grace_ms, 2500);
    assert_true(c.demo);
    assert_int_equal(c.log_level, LC_LOG_DEBUG);

    char *bad1[] = {"--nope", "1"};
    assert_int_equal(parse(&c, bad1, 2, err), -EINVAL);
    assert_non_null(strstr(err, "--nope"));
    char *bad2[] = {"--part-target", "5"};
    assert_int_equal(parse(&c, bad2, 2, err), -EINVAL);
    assert_non_null(strstr(err, "part-target"));
    char *bad3[] = {"--grace"};
    assert_int_equal(parse(&c, bad3, 1, err), -EINVAL);
    char *bad4[] = {"--log-level", "loud"};
    assert_int_equal(parse(&c, bad4, 2, err), -EINVAL);
    char *bad5[] = {"--part-target", "1.5", "--segment-target", "1"};
    assert_int_equal(parse(&c, bad5, 4, err), -EINVAL);

    /* Organiser sessions: defaults 12 h idle, 7 days in all, cookies not Secure. */
    char *none[] = {"x"};
    assert_int_equal(parse(&c, none, 1, err), 0);
    assert_int_equal(c.session_idle_ms, 12 * 3600 * 1000LL);
    assert_int_equal(c.session_lifetime_ms, 7 * 24 * 3600 * 1000LL);
    assert_false(c.secure_cookies);
    char *sess[] = {"--session-idle", "2", "--session-lifetime=5", "--secure-cookies"};
    assert_int_equal(parse(&c, sess, 4, err), 0);
    assert_int_equal(c.session_idle_ms, 2000);
    assert_int_equal(c.session_lifetime_ms, 5000);
    assert_true(c.secure_cookies);
    char *bad6[] = {"--session-idle", "0"};
    assert_int_equal(parse(&c, bad6, 2, err), -EINVAL);
}

static void test_not_allowed_for_command(void **state)
{
    (void)state;
    lc_config_t c;
    lc_config_default(&c);
    char err[256];
    const char *rest[1];
    int nrest;
    const char *const allowed[] = {"data-dir", NULL};
    char *argv[] = {"--demo"};
    assert_int_equal(lc_config_parse_args(&c, 1, argv, allowed, rest, 1, &nrest, err, sizeof err),
                     -EINVAL);
    char *argv2[] = {"a", "b"};
    assert_int_equal(
        lc_config_parse_args(&c, 2, argv2, allowed, rest, 1, &nrest, err, sizeof err), -EINVAL);
}

static void test_config_file_and_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/lectern-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "# comment\n\n  data-dir = /srv/lectern  \nsegment-target=4\n"
                        "rtmp = 127.0.0.1:1936\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (int)sizeof text - 1);
    close(fd);
    lc_config_t c;
    char err[256];
    /* The flag wins over the file even though it comes first. */
    char *argv[] = {"--segment-target", "3", "--config", path};
    assert_int_equal(parse(&c, argv, 4, err), 0);
    assert_string_equal(c.data_dir, "/srv/lectern");
    assert_true(c.segment_target_s == 3.0);
    assert_string_equal(c.rtmp_listen, "127.0.0.1:1936");

    fd = open(path, O_WRONLY | O_TRUNC);
    const char bad[] = "data-dir = /x\nthis line has no equals\n";
    assert_int_equal(write(fd, bad, sizeof bad - 1), (int)sizeof bad - 1);
    close(fd);
    char *argv2[] = {"--config", path};
    assert_int_equal(parse(&c, argv2, 2, err), -EINVAL);
    assert_non_null(strstr(err, ":2:"));
    unlink(path);
    char *argv3[] = {"--config", "/nonexistent/lectern.conf"};
    assert_int_equal(parse(&c, argv3, 2, err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_urls),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_not_allowed_for_command),
        cmocka_unit_test(test_config_file_and_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
