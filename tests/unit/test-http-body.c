/* The request-side rules of the HTTP layer that carry no server: JSON bodies (declared fields,
 * sizes, UTF-8, refusals that name the field), the Content-Type check, cookies and the Origin
 * check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/body.h"
#include "http/cookie.h"

static const lc_json_field_t fields[] = {
    {"email", 20, LC_JSON_STRING, 0},
    {"password", 30, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* Parses `body` and expects a refusal with this status, code and field. */
static void refused(const char *body, size_t len, unsigned status, const char *code,
                    const char *field)
{
    json_t *j = (json_t *)1;
    lc_body_error_t err;
    assert_int_equal(lc_json_body_parse(body, len, fields, &j, &err), -EINVAL);
    assert_null(j);
    if (err.status != status || strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0)
        fail_msg("%.*s: got %u %s field '%s' (%s), want %u %s '%s'", (int)len, body, err.status,
                 err.code, err.field, err.message, status, code, field);
    assert_true(err.message[0] != 0);
}

static void test_json_body_accepted(void **state)
{
    (void)state;
    const char body[] = "{\"email\": \"a@b.co\", \"password\": \"<b>x</b>'; DROP TABLE users;--\"}";
    json_t *j = NULL;
    lc_body_error_t err;
    assert_int_equal(lc_json_body_parse(body, sizeof body - 1, fields, &j, &err), 0);
    assert_string_equal(json_string_value(json_object_get(j, "email")), "a@b.co");
    assert_string_equal(json_string_value(json_object_get(j, "password")),
                        "<b>x</b>'; DROP TABLE users;--");
    json_decref(j);
    /* Exactly at the size limit, in bytes (ü is two). */
    const char edge[] = "{\"email\":\"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
                        "0123456789\",\"password\":\"\"}";
    assert_int_equal(lc_json_body_parse(edge, sizeof edge - 1, fields, &j, &err), 0);
    json_decref(j);
}

/* A body, its length, and the refusal it must get: status, code, field. */
#define CASE(body, status, code, field) {body, sizeof(body) - 1, status, code, field}
static const struct {
    const char *body;
    size_t len;
    unsigned status;
    const char *code, *field;
} refusals[] = {
    CASE("{\"email\":\"a@b.co\",\"password\":\"x\",\"admin\":true}", 422, "unknown_field",
         "admin"),
    CASE("{\"email\":\"a@b.co\"}", 422, "missing_field", "password"),
    CASE("{\"email\":5,\"password\":\"x\"}", 422, "invalid_field", "email"),
    CASE("{\"email\":null,\"password\":\"x\"}", 422, "invalid_field", "email"),
    CASE("{\"email\":[\"a\"],\"password\":\"x\"}", 422, "invalid_field", "email"),
    CASE("{\"email\":\"a@b.co\",\"password\":\"0123456789012345678901234567890\"}", 422,
         "invalid_field", "password"),
    /* 21 bytes in 16 characters: the limit is in bytes. */
    CASE("{\"email\":\"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
         "0123456789x\",\"password\":\"\"}",
         422, "invalid_field", "email"),
    CASE("", 400, "invalid_json", ""),
    CASE("[1,2]", 400, "invalid_json", ""),
    CASE("\"just a string\"", 400, "invalid_json", ""),
    CASE("{\"email\":\"a@b.co\",\"password\":\"x\"} trailing", 400, "invalid_json", ""),
    CASE("{\"email\":\"a@b.co\",\"email\":\"c@d.co\",\"password\":\"x\"}", 400,
         "invalid_json", ""),
    CASE("{\"email\":\"a\\u0000b\",\"password\":\"x\"}", 400, "invalid_json", "email"),
    /* Invalid UTF-8 is named by the member it is in. */
    CASE("{\"email\":\"a@b.co\",\"password\":\"ab\xff\"}", 400, "invalid_utf8", "password"),
    CASE("{\"email\":\"\xc0\xaf\",\"password\":\"x\"}", 400, "invalid_utf8", "email"),
    CASE("{\"pass\xfeword\":\"x\"}", 400, "invalid_utf8", "pass"),
    CASE("\xef\xbb\xbf\xff{}", 400, "invalid_utf8", ""),
};

static void test_json_body_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        refused(refusals[i].body, refusals[i].len, refusals[i].status, refusals[i].code,
                refusals[i].field);
    /* Too large, whatever it holds. */
    static char big[LC_HTTP_BODY_MAX + 2];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    refused(big, sizeof big, 413, "body_too_large", "");
    /* A very long unknown member name is cut in the answer, never past a character. */
    char longname[300] = "{\"";
    for (int i = 0; i < 100; i++)
        strcat(longname, "\xc3\xa4");
    strcat(longname, "\":1}");
    json_t *j = NULL;
    lc_body_error_t err;
    assert_int_equal(lc_json_body_parse(longname, strlen(longname), fields, &j, &err), -EINVAL);
    assert_string_equal(err.code, "unknown_field");
    assert_true(strlen(err.field) < sizeof err.field && strlen(err.field) % 2 == 0);
}

static void test_json_member_at(void **state)
{
    (void)state;
    const char t[] = "{\"a\": \"xy\", \"bb\": {\"c\": \"z\"}, \"d\": [1, \"e\"]}";
    char out[16];
    size_t at = strstr(t, "xy") - t;
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, at + 1, out, sizeof out), 1);
    assert_string_equal(out, "a");
    at = strstr(t, "\"z\"") - t;
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, at, out, sizeof out), 1);
    assert_string_equal(out, "bb"); /* the top-level member, not the nested one */
    at = strstr(t, "\"e\"") - t;
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, at, out, sizeof out), 1);
    assert_string_equal(out, "d");
    at = strstr(t, "bb") - t;
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, at + 1, out, sizeof out), 2);
    assert_string_equal(out, "b");
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, 0, out, sizeof out), 0);
    assert_int_equal(lc_json_member_at(t, sizeof t - 1, 1, out, sizeof out), 0);
    /* An escaped quote does not end the string. */
    const char q[] = "{\"k\\\"ey\": \"v\\\"al\", \"n\": 1}";
    at = strstr(q, "al") - q;
    assert_int_equal(lc_json_member_at(q, sizeof q - 1, at, out, sizeof out), 1);
    assert_string_equal(out, "k\\\"ey");
    /* A name longer than the output is cut. */
    const char l[] = "{\"abcdefghijklmnopqrstuvwxyz\": 1}";
    assert_int_equal(lc_json_member_at(l, sizeof l - 1, sizeof l - 3, out, 8), 1);
    assert_string_equal(out, "abcdefg");
}

static void test_content_type(void **state)
{
    (void)state;
    assert_true(lc_content_type_is_json("application/json"));
    assert_true(lc_content_type_is_json("application/json; charset=utf-8"));
    assert_true(lc_content_type_is_json("Application/JSON;charset=UTF-8"));
    assert_false(lc_content_type_is_json(NULL));
    assert_false(lc_content_type_is_json(""));
    assert_false(lc_content_type_is_json("text/plain"));
    assert_false(lc_content_type_is_json("application/x-www-form-urlencoded"));
    assert_false(lc_content_type_is_json("multipart/form-data; boundary=x"));
    assert_false(lc_content_type_is_json("application/jsonp"));
    assert_false(lc_content_type_is_json("application/json-patch+json"));
}

static void test_cookies(void **state)
{
    (void)state;
    char v[48];
    assert_int_equal(lc_cookie_get("lectern_session=abc", "lectern_session", v, sizeof v), 0);
    assert_string_equal(v, "abc");
    assert_int_equal(lc_cookie_get("a=1; lectern_session=xyz; b=2", "lectern_session", v,
                                   sizeof v), 0);
    assert_string_equal(v, "xyz");
    assert_int_equal(lc_cookie_get("lectern_session=first;lectern_session=second",
                                   "lectern_session", v, sizeof v), 0);
    assert_string_equal(v, "first");
    assert_int_equal(lc_cookie_get("x_lectern_session=no; lectern_sessionx=no", "lectern_session",
                                   v, sizeof v), -ENOENT);
    assert_int_equal(lc_cookie_get(NULL, "lectern_session", v, sizeof v), -ENOENT);
    assert_int_equal(lc_cookie_get("", "lectern_session", v, sizeof v), -ENOENT);
    assert_int_equal(lc_cookie_get("lectern_session=\"quoted\"", "lectern_session", v, sizeof v),
                     0);
    assert_string_equal(v, "quoted");
    assert_int_equal(lc_cookie_get("lectern_session=0123456789", "lectern_session", v, 5),
                     -ENAMETOOLONG);

    char c[160];
    assert_int_equal(lc_cookie_format(c, sizeof c, "lectern_session", "tok", 3600, false), 0);
    assert_string_equal(c, "lectern_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
    assert_int_equal(lc_cookie_format(c, sizeof c, "lectern_session", "", 0, true), 0);
    assert_string_equal(c, "lectern_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
    assert_int_equal(lc_cookie_format(c, 10, "lectern_session", "tok", 1, false), -ENAMETOOLONG);
}

static void test_origin(void **state)
{
    (void)state;
    assert_true(lc_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", NULL));
    assert_true(lc_origin_allowed("http://Example.COM", "example.com", NULL));
    assert_true(lc_origin_allowed("http://example.com", "example.com:80", NULL));
    assert_true(lc_origin_allowed("https://example.com:443", "example.com", NULL));
    assert_true(lc_origin_allowed("http://[::1]:8080", "[::1]:8080", NULL));
    /* Behind a proxy the Host may differ: the public URL's origin counts too. */
    assert_true(lc_origin_allowed("https://webinars.example.org", "127.0.0.1:8080",
                                  "https://webinars.example.org/lectern"));
    assert_false(lc_origin_allowed("http://webinars.example.org", "127.0.0.1:8080",
                                   "https://webinars.example.org"));
    assert_false(lc_origin_allowed("http://evil.example", "example.com", NULL));
    assert_false(lc_origin_allowed("http://example.com:8081", "example.com:8080", NULL));
    assert_false(lc_origin_allowed("http://example.com.evil.example", "example.com", NULL));
    assert_false(lc_origin_allowed("null", "example.com", NULL));
    assert_false(lc_origin_allowed("", "example.com", NULL));
    assert_false(lc_origin_allowed(NULL, "example.com", NULL));
    assert_false(lc_origin_allowed("ftp://example.com", "example.com", NULL));
    assert_false(lc_origin_allowed("http://example.com/path", "example.com", NULL));
    assert_false(lc_origin_allowed("http://user@example.com", "example.com", NULL));
    assert_false(lc_origin_allowed("http://example.com:99999", "example.com:99999", NULL));
    assert_false(lc_origin_allowed("http://example.com", NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_body_accepted),
        cmocka_unit_test(test_json_body_refused),
        cmocka_unit_test(test_json_member_at),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
