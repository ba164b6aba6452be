/* The rules for a webinar's members: text lengths in characters, times, bounds, booleans. */
#include "api/webinar_input.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/util.h"

/* Byte caps let the body parser refuse absurd sizes early; the rules below count characters
 * (a character is at most 4 bytes of UTF-8). */
const lc_json_field_t lc_webinar_fields[] = {
    {"title", 4 * LC_WEBINAR_TITLE_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL},
    {"description", 4 * LC_WEBINAR_DESCRIPTION_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL},
    {"starts_at", 64, LC_JSON_STRING, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"duration_s", 0, LC_JSON_INT, LC_JSON_OPTIONAL},
    {"presenters", 0, LC_JSON_ARRAY, LC_JSON_OPTIONAL},
    {"on_demand", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"access", 32, LC_JSON_STRING, LC_JSON_OPTIONAL},
    {"waiting_room", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"approval", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"room_password", 4 * LC_ROOM_PASSWORD_MAX_CHARS, LC_JSON_STRING,
     LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"hide_attendee_names", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"replay_enabled", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"replay_requires_registration", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"retention_days", 0, LC_JSON_INT, LC_JSON_OPTIONAL},
    {"recording_retention_days", 0, LC_JSON_INT, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* The boolean and integer members, by where they go in lc_webinar_settings_t. */
static const struct {
    const char *name;
    size_t offset;
} bool_members[] = {
    {"on_demand", offsetof(lc_webinar_settings_t, on_demand)},
    {"waiting_room", offsetof(lc_webinar_settings_t, waiting_room)},
    {"approval", offsetof(lc_webinar_settings_t, approval)},
    {"hide_attendee_names", offsetof(lc_webinar_settings_t, hide_attendee_names)},
    {"replay_enabled", offsetof(lc_webinar_settings_t, replay_enabled)},
    {"replay_requires_registration",
     offsetof(lc_webinar_settings_t, replay_requires_registration)},
};

static const struct {
    const char *name;
    size_t offset;
    int32_t min, max;
    const char *unit;
} int_members[] = {
    {"duration_s", offsetof(lc_webinar_settings_t, duration_s), LC_WEBINAR_DURATION_MIN_S,
     LC_WEBINAR_DURATION_MAX_S, "seconds"},
    {"retention_days", offsetof(lc_webinar_settings_t, retention_days), 1,
     LC_WEBINAR_RETENTION_MAX_DAYS, "days"},
    {"recording_retention_days", offsetof(lc_webinar_settings_t, recording_retention_days), 1,
     LC_WEBINAR_RETENTION_MAX_DAYS, "days"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void lc_webinar_input_defaults(lc_webinar_input_t *in)
{
    memset(in, 0, sizeof *in);
    in->settings = (lc_webinar_settings_t){
        .starts_at_ms = LC_DB_NO_TIME,
        .duration_s = 3600,
        .hide_attendee_names = true,
        .replay_enabled = true,
        .replay_requires_registration = true,
        .retention_days = 90,
        .recording_retention_days = 0,
    };
}

int lc_webinar_input_from(lc_webinar_input_t *in, const lc_webinar_t *w,
                          const lc_webinar_texts_t *texts)
{
    memset(in, 0, sizeof *in);
    in->settings = w->settings;
    in->title = strdup(w->title);
    in->description = strdup(texts->description ? texts->description : "");
    in->presenters_json = strdup(texts->presenters_json ? texts->presenters_json : "[]");
    if (!in->title || !in->description || !in->presenters_json) {
        lc_webinar_input_clear(in);
        return -ENOMEM;
    }
    return 0;
}

void lc_webinar_input_clear(lc_webinar_input_t *in)
{
    if (!in)
        return;
    free(in->title);
    free(in->description);
    free(in->presenters_json);
    if (in->room_password) {
        OPENSSL_cleanse(in->room_password, strlen(in->room_password));
        free(in->room_password);
    }
    memset(in, 0, sizeof *in);
}

lc_webinar_row_t lc_webinar_input_row(const lc_webinar_input_t *in, const char *room_hash)
{
    return (lc_webinar_row_t){.title = in->title,
                              .description = in->description,
                              .presenters_json = in->presenters_json,
                              .room_password_hash = room_hash,
                              .settings = in->settings};
}

/* A control character other than those `allowed` ("\n\t" for multi-line text). */
static bool has_control(const char *s, size_t len, const char *allowed)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 || c == 0x7f) && !(c && strchr(allowed, c)))
            return true;
    }
    return false;
}

/* Checks a text member: `min`..`max` characters, no control characters but `allowed`.
 * (The body is well-formed UTF-8 already; the CLI checks its arguments the same way.) */
static int check_text(const char *name, json_t *v, size_t min, size_t max, const char *allowed,
                      lc_body_error_t *err)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (lc_utf8_invalid_at(s, len) < len)
        return lc_body_error_set(err, 422, "invalid_field", name, "%s: not valid UTF-8", name);
    size_t chars = lc_utf8_chars(s, len);
    if (chars > max && !min)
        return lc_body_error_set(err, 422, "invalid_field", name,
                                 "%s: must be at most %zu characters", name, max);
    if (chars < min || chars > max)
        return lc_body_error_set(err, 422, "invalid_field", name,
                                 "%s: must be %zu to %zu characters", name, min, max);
    if (has_control(s, len, allowed))
        return lc_body_error_set(err, 422, "invalid_field", name,
                                 "%s: must not contain control characters", name);
    return 0;
}

static int replace(char **dst, const char *src)
{
    char *d = strdup(src);
    if (!d)
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

static int apply_presenters(lc_webinar_input_t *in, json_t *list, lc_body_error_t *err)
{
    if (json_array_size(list) > LC_WEBINAR_PRESENTERS_MAX)
        return lc_body_error_set(err, 422, "invalid_field", "presenters",
                                 "presenters: at most %d names", LC_WEBINAR_PRESENTERS_MAX);
    size_t i;
    json_t *name;
    json_array_foreach(list, i, name)
    {
        if (!json_is_string(name))
            return lc_body_error_set(err, 422, "invalid_field", "presenters",
                                     "presenters: each name must be a string");
        int rc = check_text("presenters", name, 1, LC_WEBINAR_PRESENTER_CHARS, "", err);
        if (rc < 0)
            return rc;
    }
    char *text = json_dumps(list, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return -ENOMEM;
    free(in->presenters_json);
    in->presenters_json = text;
    return 0;
}

int lc_webinar_input_apply(lc_webinar_input_t *in, json_t *body, lc_body_error_t *err)
{
    lc_webinar_settings_t *k = &in->settings;
    json_t *v;
    int rc;
    if ((v = json_object_get(body, "title"))) {
        if ((rc = check_text("title", v, 1, LC_WEBINAR_TITLE_CHARS, "", err)) < 0 ||
            (rc = replace(&in->title, json_string_value(v))) < 0)
            return rc;
    }
    if ((v = json_object_get(body, "description"))) {
        if ((rc = check_text("description", v, 0, LC_WEBINAR_DESCRIPTION_CHARS, "\n\r\t",
                             err)) < 0 ||
            (rc = replace(&in->description, json_string_value(v))) < 0)
            return rc;
    }
    if ((v = json_object_get(body, "presenters")) && (rc = apply_presenters(in, v, err)) < 0)
        return rc;
    for (size_t i = 0; i < COUNT(bool_members); i++)
        if ((v = json_object_get(body, bool_members[i].name)))
            *(bool *)((char *)k + bool_members[i].offset) = json_is_true(v);
    for (size_t i = 0; i < COUNT(int_members); i++) {
        if (!(v = json_object_get(body, int_members[i].name)))
            continue;
        int32_t *dst = (int32_t *)(void *)((char *)k + int_members[i].offset);
        if (json_is_null(v)) { /* only the nullable ones get here: "keep the recording" */
            *dst = 0;
            continue;
        }
        json_int_t n = json_integer_value(v);
        if (n < int_members[i].min || n > int_members[i].max)
            return lc_body_error_set(err, 422, "invalid_field", int_members[i].name,
                                     "%s: must be %d to %d %s", int_members[i].name,
                                     (int)int_members[i].min, (int)int_members[i].max,
                                     int_members[i].unit);
        *dst = (int32_t)n;
    }
    if ((v = json_object_get(body, "access"))) {
        const char *a = json_string_value(v);
        if (strcmp(a, "public") != 0 && strcmp(a, "registration") != 0)
            return lc_body_error_set(err, 422, "invalid_field", "access",
                                     "access: must be \"registration\" or \"public\"");
        k->public_access = strcmp(a, "public") == 0;
    }
    if ((v = json_object_get(body, "room_password"))) {
        if (json_is_null(v)) {
            in->room_password_op = LC_ROOM_PASSWORD_CLEAR;
        } else {
            if ((rc = check_text("room_password", v, LC_ROOM_PASSWORD_MIN_CHARS,
                                 LC_ROOM_PASSWORD_MAX_CHARS, "", err)) < 0 ||
                (rc = replace(&in->room_password, json_string_value(v))) < 0)
                return rc;
            in->room_password_op = LC_ROOM_PASSWORD_SET;
        }
    }
    json_t *start = json_object_get(body, "starts_at");
    if (start && json_is_null(start)) {
        k->starts_at_ms = LC_DB_NO_TIME;
    } else if (start) {
        int64_t ms;
        if (lc_parse_iso8601(json_string_value(start), &ms) < 0)
            return lc_body_error_set(err, 422, "invalid_field", "starts_at",
                                     "starts_at: must be an ISO 8601 date and time with an "
                                     "offset or Z, e.g. 2026-11-27T15:00:00+01:00");
        k->starts_at_ms = ms;
    }
    if (k->on_demand && k->starts_at_ms != LC_DB_NO_TIME) {
        /* An explicit start time wins over nothing: refuse it, unless this very request made
         * the webinar on-demand without giving one. */
        if ((start && !json_is_null(start)) || !json_is_true(json_object_get(body, "on_demand")))
            return lc_body_error_set(err, 422, "invalid_field", "starts_at",
                                     "starts_at: an on-demand webinar has no start time (set "
                                     "on_demand to false, or starts_at to null)");
        k->starts_at_ms = LC_DB_NO_TIME;
    }
    return 0;
}
