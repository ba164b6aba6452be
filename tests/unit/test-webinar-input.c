/* The webinar rules shared by the API and the CLI: every member's bounds (each ±1), character
 * counting, strict types, unknown members, invalid UTF-8, ISO 8601 times with offsets, and the
 * on-demand rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/webinar_input.h"
#include "core/util.h"

/* Parses `body` with the webinar members and applies it to `in` (defaults unless the caller set
 * it up). Returns 0, or the refusal's status with *err filled. */
static unsigned apply_to(lc_webinar_input_t *in, const char *body, size_t len,
                         lc_body_error_t *err)
{
    json_t *j = NULL;
    if (lc_json_body_parse(body, len, lc_webinar_fields, &j, err) < 0)
        return err->status;
    int rc = lc_webinar_input_apply(in, j, err);
    json_decref(j);
    if (rc == 0)
        return 0;
    assert_int_equal(rc, -EINVAL);
    return err->status;
}

/* Expects `body` (text) accepted on fresh defaults; the input is left in *in. */
static unsigned apply_str(lc_webinar_input_t *in, const char *body, lc_body_error_t *err)
{
    return apply_to(in, body, strlen(body), err);
}

static void accepted(lc_webinar_input_t *in, const char *body)
{
    lc_body_error_t err;
    lc_webinar_input_defaults(in);
    unsigned st = apply_to(in, body, strlen(body), &err);
    if (st)
        fail_msg("%.200s: refused %u %s (%s)", body, st, err.code, err.message);
}

static void refused_n(const char *body, size_t len, unsigned status, const char *code,
                      const char *field)
{
    lc_webinar_input_t in;
    lc_body_error_t err;
    lc_webinar_input_defaults(&in);
    unsigned st = apply_to(&in, body, len, &err);
    lc_webinar_input_clear(&in);
    if (st != status || strcmp(err.code, code) != 0 || strcmp(err.field, field) != 0)
        fail_msg("%.200s: got %u %s '%s', want %u %s '%s'", body, st, st ? err.code : "-",
                 st ? err.field : "", status, code, field);
    assert_true(err.message[0] != 0);
}

static void refused(const char *body, const char *field)
{
    refused_n(body, strlen(body), 422, "invalid_field", field);
}

/* {"member": "<n copies of unit>"} */
static char *repeat_member(const char *member, const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(strlen(member) + n * ul + 16);
    assert_non_null(s);
    char *p = s + sprintf(s, "{\"%s\": \"", member);
    for (size_t i = 0; i < n; i++, p += ul)
        memcpy(p, unit, ul);
    strcpy(p, "\"}");
    return s;
}

static void check_text_bounds(const char *member, const char *unit, size_t min, size_t max)
{
    lc_webinar_input_t in;
    char *s;
    if (min > 0) {
        s = repeat_member(member, unit, min - 1);
        refused(s, member);
        free(s);
    }
    s = repeat_member(member, unit, min ? min : 1);
    accepted(&in, s);
    lc_webinar_input_clear(&in);
    free(s);
    s = repeat_member(member, unit, max);
    accepted(&in, s);
    lc_webinar_input_clear(&in);
    free(s);
    s = repeat_member(member, unit, max + 1);
    refused(s, member);
    free(s);
}

static void test_text_lengths_count_characters(void **state)
{
    (void)state;
    check_text_bounds("title", "x", 1, 200);
    check_text_bounds("title", "\xc3\xa9", 1, 200);         /* é: 2 bytes, 1 character */
    check_text_bounds("title", "\xf0\x9f\x8e\xa4", 1, 200); /* 🎤: 4 bytes */
    check_text_bounds("description", "d", 0, 10000);
    check_text_bounds("description", "\xf0\x9f\x8e\xa4", 0, 10000); /* 40,000 bytes fit */
    check_text_bounds("room_password", "p", 4, 128);
    assert_int_equal(lc_utf8_chars("a\xc3\xa9\xf0\x9f\x8e\xa4", 7), 3);
    lc_webinar_input_t in;
    accepted(&in, "{\"description\": \"\"}");
    lc_webinar_input_clear(&in);
}

static void test_text_content(void **state)
{
    (void)state;
    lc_webinar_input_t in;
    /* Markup and SQL are only text: kept byte for byte. */
    accepted(&in, "{\"title\": \"<script>alert(1)</script>'; DROP TABLE webinars;--\", "
                  "\"description\": \"line 1\\nline 2\\tend\"}");
    assert_string_equal(in.title, "<script>alert(1)</script>'; DROP TABLE webinars;--");
    assert_string_equal(in.description, "line 1\nline 2\tend");
    lc_webinar_input_clear(&in);
    refused("{\"title\": \"a\\nb\"}", "title");
    refused("{\"title\": \"a\\u0007b\"}", "title");
    refused("{\"description\": \"a\\u001bb\"}", "description");
    refused("{\"presenters\": [\"a\\tb\"]}", "presenters");
    /* \u0000 and broken UTF-8 never reach the rules. */
    refused_n("{\"title\": \"a\\u0000b\"}", 19, 400, "invalid_json", "title");
    refused_n("{\"title\": \"a\xff\"}", 15, 400, "invalid_utf8", "title");
    refused_n("{\"description\": \"\xc3\"}", 20, 400, "invalid_utf8", "description");
    refused_n("{\"presenters\": [\"\xed\xa0\x80\"]}", 25, 400, "invalid_utf8", "presenters");
}

static void test_presenters(void **state)
{
    (void)state;
    lc_webinar_input_t in;
    accepted(&in, "{\"presenters\": []}");
    assert_string_equal(in.presenters_json, "[]");
    lc_webinar_input_clear(&in);
    char body[4096];
    char *p = body + sprintf(body, "{\"presenters\": [");
    for (int i = 0; i < 21; i++)
        p += sprintf(p, "%s\"P%d\"", i ? "," : "", i);
    strcpy(p, "]}");
    refused(body, "presenters"); /* 21 names */
    *strstr(body, ",\"P20\"") = 0;
    strcat(body, "]}");
    accepted(&in, body); /* 20 */
    json_t *list = json_loads(in.presenters_json, 0, NULL);
    assert_int_equal(json_array_size(list), 20);
    json_decref(list);
    lc_webinar_input_clear(&in);
    /* 100 characters per name, 101 too many; none empty; strings only. */
    char n100[128], n101[128];
    memset(n100, 'n', 100);
    n100[100] = 0;
    memset(n101, 'n', 101);
    n101[101] = 0;
    snprintf(body, sizeof body, "{\"presenters\": [\"Ada\", \"%s\"]}", n100);
    accepted(&in, body);
    list = json_loads(in.presenters_json, 0, NULL);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_array_get(list, 1)), n100);
    json_decref(list);
    lc_webinar_input_clear(&in);
    snprintf(body, sizeof body, "{\"presenters\": [\"%s\"]}", n101);
    refused(body, "presenters");
    refused("{\"presenters\": [\"\"]}", "presenters");
    refused("{\"presenters\": [1]}", "presenters");
    refused("{\"presenters\": [null]}", "presenters");
    refused("{\"presenters\": [[\"Ada\"]]}", "presenters");
    refused("{\"presenters\": \"Ada\"}", "presenters");
}

static void test_numbers_and_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *member;
        long min, max;
    } ranges[] = {
        {"duration_s", 60, 86400},
        {"retention_days", 1, 3650},
        {"recording_retention_days", 1, 3650},
    };
    char body[128];
    lc_webinar_input_t in;
    for (size_t i = 0; i < 3; i++) {
        const char *m = ranges[i].member;
        snprintf(body, sizeof body, "{\"%s\": %ld}", m, ranges[i].min - 1);
        refused(body, m);
        snprintf(body, sizeof body, "{\"%s\": %ld}", m, ranges[i].max + 1);
        refused(body, m);
        snprintf(body, sizeof body, "{\"%s\": %ld}", m, ranges[i].min);
        accepted(&in, body);
        lc_webinar_input_clear(&in);
        snprintf(body, sizeof body, "{\"%s\": %ld}", m, ranges[i].max);
        accepted(&in, body);
        lc_webinar_input_clear(&in);
        snprintf(body, sizeof body, "{\"%s\": \"%ld\"}", m, ranges[i].max);
        refused(body, m); /* a string is not a number */
        snprintf(body, sizeof body, "{\"%s\": %ld.0}", m, ranges[i].max);
        refused(body, m); /* nor is a real */
    }
    refused("{\"duration_s\": -9223372036854775808}", "duration_s");
    refused("{\"duration_s\": null}", "duration_s");
    accepted(&in, "{\"duration_s\": 60, \"retention_days\": 1, \"recording_retention_days\": 7}");
    assert_int_equal(in.settings.duration_s, 60);
    assert_int_equal(in.settings.retention_days, 1);
    assert_int_equal(in.settings.recording_retention_days, 7);
    lc_webinar_input_clear(&in);
    accepted(&in, "{\"recording_retention_days\": null}");
    assert_int_equal(in.settings.recording_retention_days, 0); /* keep */
    lc_webinar_input_clear(&in);

    static const char *const bools[] = {"on_demand",      "waiting_room",
                                        "approval",       "hide_attendee_names",
                                        "replay_enabled", "replay_requires_registration"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(body, sizeof body, "{\"%s\": 1}", bools[i]);
        refused(body, bools[i]);
        snprintf(body, sizeof body, "{\"%s\": \"true\"}", bools[i]);
        refused(body, bools[i]);
        snprintf(body, sizeof body, "{\"%s\": null}", bools[i]);
        refused(body, bools[i]);
    }
    /* Defaults, then each flipped. */
    accepted(&in, "{}");
    lc_webinar_settings_t d = in.settings;
    assert_true(!d.on_demand && !d.public_access && !d.waiting_room && !d.approval);
    assert_true(d.hide_attendee_names && d.replay_enabled && d.replay_requires_registration);
    assert_int_equal(d.retention_days, 90);
    assert_int_equal(d.duration_s, 3600);
    assert_int_equal(d.starts_at_ms, LC_DB_NO_TIME);
    assert_int_equal(in.room_password_op, LC_ROOM_PASSWORD_KEEP);
    lc_webinar_input_clear(&in);
    accepted(&in, "{\"on_demand\": true, \"waiting_room\": true, \"approval\": true, "
                  "\"hide_attendee_names\": false, \"replay_enabled\": false, "
                  "\"replay_requires_registration\": false}");
    d = in.settings;
    assert_true(d.on_demand && !d.public_access && d.waiting_room && d.approval);
    assert_true(!d.hide_attendee_names && !d.replay_enabled && !d.replay_requires_registration);
    lc_webinar_input_clear(&in);
    accepted(&in, "{\"access\": \"registration\"}");
    assert_false(in.settings.public_access);
    lc_webinar_input_clear(&in);
    /* A public webinar has nobody to approve or to hold in a waiting room. */
    refused("{\"access\": \"public\", \"approval\": true}", "access");
    refused("{\"access\": \"public\", \"waiting_room\": true}", "access");
    refused("{\"access\": \"public\", \"room_password\": \"s3cret\"}", "access");
    accepted(&in, "{\"access\": \"public\", \"room_password\": null}");
    lc_webinar_input_clear(&in);
    accepted(&in, "{\"access\": \"public\"}");
    lc_webinar_input_clear(&in);
    refused("{\"access\": \"Public\"}", "access");
    refused("{\"access\": \"\"}", "access");
    refused("{\"access\": true}", "access");
}

static void test_unknown_and_room_password(void **state)
{
    (void)state;
    refused_n("{\"title\": \"x\", \"stream_key\": \"k\"}", 33, 422, "unknown_field",
              "stream_key");
    refused_n("{\"Title\": \"x\"}", 14, 422, "unknown_field", "Title");
    refused_n("{\"title\": \"x\", \"title\": \"y\"}", 28, 400, "invalid_json", "");
    refused_n("[]", 2, 400, "invalid_json", "");
    lc_webinar_input_t in;
    accepted(&in, "{\"room_password\": \"open sesame\"}");
    assert_int_equal(in.room_password_op, LC_ROOM_PASSWORD_SET);
    assert_string_equal(in.room_password, "open sesame");
    lc_webinar_input_clear(&in);
    assert_null(in.room_password);
    accepted(&in, "{\"room_password\": null}");
    assert_int_equal(in.room_password_op, LC_ROOM_PASSWORD_CLEAR);
    lc_webinar_input_clear(&in);
    refused("{\"room_password\": 1234}", "room_password");
    /* The light parameters still make a verifiable hash. */
    char hash[LC_PASSWORD_HASH_MAX];
    assert_int_equal(lc_password_hash("open sesame", 11, &LC_SCRYPT_ROOM, hash), 0);
    assert_int_equal(lc_password_verify("open sesame", 11, hash), 0);
    assert_int_not_equal(lc_password_verify("open sesamE", 11, hash), 0);
}

static int64_t iso(const char *s)
{
    int64_t ms = -1;
    if (lc_parse_iso8601(s, &ms) < 0)
        fail_msg("%s: refused", s);
    return ms;
}

static void test_iso8601(void **state)
{
    (void)state;
    assert_int_equal(iso("1970-01-01T00:00Z"), 0);
    assert_int_equal(iso("2026-11-27T08:00:00.123Z"), 1795766400123);
    assert_int_equal(iso("2026-11-27T09:00:00.123+01:00"), 1795766400123);
    assert_int_equal(iso("2026-11-27T02:30:00.123-05:30"), 1795766400123);
    assert_int_equal(iso("2026-11-27T08:00Z"), 1795766400000);
    assert_int_equal(iso("2026-11-27T08:00:00.1Z"), 1795766400100);
    assert_int_equal(iso("2026-11-27T08:00:00.123456789Z"), 1795766400123);
    assert_int_equal(iso("2028-02-29T00:00:00Z"), 1835395200000); /* leap year */
    assert_int_equal(iso("2000-02-29T00:00:00Z"), 951782400000);  /* 400-year rule */
    assert_int_equal(iso("9999-12-31T23:59:59.999Z"), 253402300799999);
    char back[25];
    assert_string_equal(lc_iso8601(iso("2026-06-01T17:45:30+02:00"), back),
                        "2026-06-01T15:45:30.000Z");
    static const char *const bad[] = {
        "",
        "2026-11-27",
        "2026-11-27T08:00:00",       /* no offset */
        "2026-11-27 08:00:00Z",      /* space */
        "2026-11-27t08:00:00Z",      /* lower-case t */
        "2026-11-27T08:00:00z",
        "2026-13-01T00:00:00Z",      /* month */
        "2026-00-01T00:00:00Z",
        "2026-11-31T00:00:00Z",      /* November has 30 days */
        "2026-02-29T00:00:00Z",      /* not a leap year */
        "1900-02-29T00:00:00Z",      /* century rule */
        "2026-11-27T24:00:00Z",
        "2026-11-27T08:60:00Z",
        "2026-11-27T08:00:60Z",      /* no leap second */
        "2026-11-27T08:00:00.Z",
        "2026-11-27T08:00:00.1234567890Z", /* 10 fraction digits */
        "2026-11-27T08:00:00+24:00",
        "2026-11-27T08:00:00+01:60",
        "2026-11-27T08:00:00+0100",
        "2026-11-27T08:00:00+01",
        "2026-11-27T08:00:00Z ",
        "2026-11-27T08:00:00ZZ",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00", /* before 1970 in UTC */
        "+2026-11-27T08:00:00Z",
        "20261127T080000Z",
        "２０２６-11-27T08:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        if (lc_parse_iso8601(bad[i], &ms) != -EINVAL)
            fail_msg("%s: accepted as %lld", bad[i], (long long)ms);
        assert_int_equal(ms, 42);
    }
}

static void test_start_time_and_on_demand(void **state)
{
    (void)state;
    lc_webinar_input_t in;
    accepted(&in, "{\"starts_at\": \"2026-12-01T15:00:00+01:00\"}");
    assert_int_equal(in.settings.starts_at_ms, iso("2026-12-01T14:00:00Z"));
    /* Making it on-demand drops the start time... */
    lc_body_error_t err;
    assert_int_equal(apply_str(&in, "{\"on_demand\": true}", &err), 0);
    assert_true(in.settings.on_demand);
    assert_int_equal(in.settings.starts_at_ms, LC_DB_NO_TIME);
    /* ...and an on-demand webinar takes none. */
    assert_int_equal(apply_str(&in, "{\"starts_at\": \"2026-12-01T15:00:00Z\"}", &err), 422);
    assert_string_equal(err.field, "starts_at");
    lc_webinar_input_clear(&in);
    refused("{\"on_demand\": true, \"starts_at\": \"2026-12-01T15:00:00Z\"}", "starts_at");
    accepted(&in, "{\"on_demand\": false, \"starts_at\": \"2026-12-01T15:00:00Z\"}");
    assert_false(in.settings.on_demand);
    lc_webinar_input_clear(&in);
    accepted(&in, "{\"starts_at\": null}");
    assert_int_equal(in.settings.starts_at_ms, LC_DB_NO_TIME);
    lc_webinar_input_clear(&in);
    refused("{\"starts_at\": \"tomorrow\"}", "starts_at");
    refused("{\"starts_at\": \"2026-12-01T15:00:00\"}", "starts_at");
    refused("{\"starts_at\": 1764600000000}", "starts_at");
}

static void test_form_and_consent(void **state)
{
    (void)state;
    lc_webinar_input_t in;
    accepted(&in, "{\"form_fields\": [{\"id\": \"company\", \"label\": \"Company\", "
                  "\"type\": \"text\", \"required\": true}, {\"id\": \"size\", \"label\": "
                  "\"Size\", \"type\": \"select\", \"options\": [\"1-10\", \"11+\"]}, "
                  "{\"id\": \"news\", \"label\": \"News\", \"type\": \"checkbox\"}]}");
    /* Stored compact, with "required" always present and nothing but the known members. */
    assert_string_equal(in.form_fields_json,
                        "[{\"id\":\"company\",\"label\":\"Company\",\"type\":\"text\","
                        "\"required\":true},{\"id\":\"size\",\"label\":\"Size\",\"type\":"
                        "\"select\",\"required\":false,\"options\":[\"1-10\",\"11+\"]},"
                        "{\"id\":\"news\",\"label\":\"News\",\"type\":\"checkbox\","
                        "\"required\":false}]");
    lc_webinar_input_clear(&in);
    static const char *const bad[] = {
        "[{\"id\": \"a b\", \"label\": \"x\", \"type\": \"text\"}]",
        "[{\"id\": \"name\", \"label\": \"x\", \"type\": \"text\"}]",
        "[{\"id\": \"a\", \"label\": \"x\", \"type\": \"date\"}]",
        "[{\"id\": \"a\", \"label\": \"x\", \"type\": \"select\", \"options\": []}]",
        "[{\"id\": \"a\", \"label\": \"x\", \"type\": \"select\", \"options\": "
        "[\"o\", \"o\"]}]",
        "[{\"id\": \"a\", \"label\": \"x\", \"type\": \"text\", \"required\": 1}]",
        "[{\"id\": \"a\", \"label\": \"x\", \"type\": \"text\"}, {\"id\": \"a\", "
        "\"label\": \"y\", \"type\": \"text\"}]",
        "[\"a\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"form_fields\": %s}", bad[i]);
        refused(body, "form_fields");
    }
    /* A new webinar's first consent text keeps version 1. */
    accepted(&in, "{\"consent_text\": \"I agree.\"}");
    assert_string_equal(in.settings.consent_version, "1");
    /* An edit of the text gets the next version, unless one is given. */
    in.stored = true;
    lc_body_error_t err;
    assert_int_equal(apply_str(&in, "{\"consent_text\": \"I agree more.\"}", &err), 0);
    assert_string_equal(in.settings.consent_version, "2");
    assert_int_equal(apply_str(&in, "{\"consent_text\": \"I agree more.\"}", &err), 0);
    assert_string_equal(in.settings.consent_version, "2"); /* the same text: no new version */
    assert_int_equal(apply_str(&in, "{\"consent_text\": \"v3\", \"consent_version\": "
                                   "\"2027-a\"}", &err), 0);
    assert_string_equal(in.settings.consent_version, "2027-a");
    /* Not a number: the organiser must name the new version. */
    assert_int_equal(apply_str(&in, "{\"consent_text\": \"v4\"}", &err), 422);
    assert_string_equal(err.field, "consent_version");
    lc_webinar_input_clear(&in);
    refused("{\"consent_version\": \"\"}", "consent_version");
    refused("{\"privacy_notice\": \"\"}", "privacy_notice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_lengths_count_characters),
        cmocka_unit_test(test_text_content),
        cmocka_unit_test(test_presenters),
        cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_unknown_and_room_password),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_start_time_and_on_demand),
        cmocka_unit_test(test_form_and_consent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
