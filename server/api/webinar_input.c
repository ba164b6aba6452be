/* The rules for a webinar's members: text lengths in characters, times, bounds, booleans. */
#include "api/webinar_input.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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
    {"questions_public", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"chat_enabled", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"replay_enabled", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"replay_requires_registration", 0, LC_JSON_BOOL, LC_JSON_OPTIONAL},
    {"retention_days", 0, LC_JSON_INT, LC_JSON_OPTIONAL},
    {"recording_retention_days", 0, LC_JSON_INT, LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"form_fields", 0, LC_JSON_ARRAY, LC_JSON_OPTIONAL},
    {"privacy_notice", 4 * LC_PRIVACY_NOTICE_CHARS, LC_JSON_STRING,
     LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"consent_text", 4 * LC_CONSENT_TEXT_CHARS, LC_JSON_STRING,
     LC_JSON_OPTIONAL | LC_JSON_NULLABLE},
    {"consent_version", 4 * LC_CONSENT_VERSION_CHARS, LC_JSON_STRING, LC_JSON_OPTIONAL},
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
    {"questions_public", offsetof(lc_webinar_settings_t, questions_public)},
    {"chat_enabled", offsetof(lc_webinar_settings_t, chat_enabled)},
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
        .consent_version = "1",
    };
}

int lc_webinar_input_from(lc_webinar_input_t *in, const lc_webinar_t *w,
                          const lc_webinar_texts_t *texts)
{
    memset(in, 0, sizeof *in);
    in->settings = w->settings;
    in->stored = true;
    in->has_room_password = w->has_room_password;
    in->title = strdup(w->title);
    in->description = strdup(texts->description ? texts->description : "");
    in->presenters_json = strdup(texts->presenters_json ? texts->presenters_json : "[]");
    in->form_fields_json = strdup(texts->form_fields_json ? texts->form_fields_json : "[]");
    in->privacy_notice = texts->privacy_notice ? strdup(texts->privacy_notice) : NULL;
    in->consent_text = texts->consent_text ? strdup(texts->consent_text) : NULL;
    if (!in->title || !in->description || !in->presenters_json || !in->form_fields_json ||
        (texts->privacy_notice && !in->privacy_notice) ||
        (texts->consent_text && !in->consent_text)) {
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
    free(in->form_fields_json);
    free(in->privacy_notice);
    free(in->consent_text);
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
                              .form_fields_json = in->form_fields_json,
                              .privacy_notice = in->privacy_notice,
                              .consent_text = in->consent_text,
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

int lc_input_text(const char *name, json_t *v, size_t min, size_t max, const char *allowed,
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
        int rc = lc_input_text("presenters", name, 1, LC_WEBINAR_PRESENTER_CHARS, "", err);
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

static bool field_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= '0' && id[n] <= '9') || id[n] == '_'))
            return false;
    return n >= 1 && n <= LC_FORM_FIELD_ID_MAX && strcmp(id, "email") != 0 &&
           strcmp(id, "name") != 0;
}

#define FORM_ERR(...) lc_body_error_set(err, 422, "invalid_field", "form_fields", __VA_ARGS__)

/* One field of the registration form, rebuilt from only the members we know. */
static int form_field(json_t *f, size_t i, json_t *seen, json_t **out, lc_body_error_t *err)
{
    static const char *const types[] = {"text", "email", "select", "checkbox"};
    if (!json_is_object(f))
        return FORM_ERR("form_fields[%zu]: must be an object", i);
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        if (strcmp(key, "id") && strcmp(key, "label") && strcmp(key, "type") &&
            strcmp(key, "required") && strcmp(key, "options"))
            return FORM_ERR("form_fields[%zu]: unknown member (id, label, type, required, "
                            "options)",
                            i);
    }
    json_t *id = json_object_get(f, "id"), *label = json_object_get(f, "label");
    json_t *type = json_object_get(f, "type"), *req = json_object_get(f, "required");
    json_t *opts = json_object_get(f, "options");
    if (!json_is_string(id) || !field_id_valid(json_string_value(id)))
        return FORM_ERR("form_fields[%zu].id: 1 to %d of a-z, 0-9 and _, not \"email\" or "
                        "\"name\"",
                        i, LC_FORM_FIELD_ID_MAX);
    if (json_object_get(seen, json_string_value(id)))
        return FORM_ERR("form_fields[%zu].id: \"%s\" is used twice", i, json_string_value(id));
    if (!json_is_string(label))
        return FORM_ERR("form_fields[%zu].label: required, a string", i);
    lc_body_error_t sub;
    if (lc_input_text("label", label, 1, LC_FORM_LABEL_CHARS, "", &sub) < 0)
        return FORM_ERR("form_fields[%zu].label: 1 to %d characters, no control characters", i,
                        LC_FORM_LABEL_CHARS);
    size_t t = 0;
    while (t < 4 && (!json_is_string(type) || strcmp(json_string_value(type), types[t])))
        t++;
    if (t == 4)
        return FORM_ERR("form_fields[%zu].type: text, email, select or checkbox", i);
    if (req && !json_is_boolean(req))
        return FORM_ERR("form_fields[%zu].required: true or false", i);
    bool is_select = t == 2;
    if (is_select != (opts != NULL))
        return FORM_ERR("form_fields[%zu].options: %s", i,
                        is_select ? "a select needs options" : "only a select has options");
    if (opts) {
        size_t n = json_array_size(opts), j;
        json_t *o;
        if (!json_is_array(opts) || n < 1 || n > LC_FORM_OPTIONS_MAX)
            return FORM_ERR("form_fields[%zu].options: 1 to %d strings", i, LC_FORM_OPTIONS_MAX);
        json_array_foreach(opts, j, o)
        {
            if (!json_is_string(o) ||
                lc_input_text("options", o, 1, LC_FORM_OPTION_CHARS, "", &sub) < 0)
                return FORM_ERR("form_fields[%zu].options[%zu]: 1 to %d characters", i, j,
                                LC_FORM_OPTION_CHARS);
            for (size_t k = 0; k < j; k++)
                if (json_equal(json_array_get(opts, k), o))
                    return FORM_ERR("form_fields[%zu].options[%zu]: given twice", i, j);
        }
    }
    json_object_set(seen, json_string_value(id), json_true());
    *out = json_pack("{s:O,s:O,s:s,s:b}", "id", id, "label", label, "type", types[t],
                     "required", json_is_true(req));
    if (*out && opts && json_object_set(*out, "options", opts) < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return *out ? 0 : -ENOMEM;
}

static int apply_form(lc_webinar_input_t *in, json_t *list, lc_body_error_t *err)
{
    if (json_array_size(list) > LC_WEBINAR_FORM_FIELDS_MAX)
        return FORM_ERR("form_fields: at most %d fields", LC_WEBINAR_FORM_FIELDS_MAX);
    json_t *seen = json_object(), *clean = json_array();
    int rc = seen && clean ? 0 : -ENOMEM;
    size_t i;
    json_t *f;
    json_array_foreach(list, i, f)
    {
        json_t *one = NULL;
        if (rc == 0 && (rc = form_field(f, i, seen, &one, err)) == 0 &&
            json_array_append_new(clean, one) < 0)
            rc = -ENOMEM;
    }
    char *text = rc == 0 ? json_dumps(clean, JSON_COMPACT) : NULL;
    if (rc == 0 && !text)
        rc = -ENOMEM;
    if (rc == 0) {
        free(in->form_fields_json);
        in->form_fields_json = text;
    }
    json_decref(seen);
    json_decref(clean);
    return rc;
}

/* A text that may be null (the server's default): NULL in *dst. */
static int apply_optional_text(char **dst, const char *name, json_t *v, size_t max,
                               lc_body_error_t *err)
{
    if (json_is_null(v)) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    int rc = lc_input_text(name, v, 1, max, "\n\r\t", err);
    return rc < 0 ? rc : replace(dst, json_string_value(v));
}

/* The consent text and version: a new text needs a new version (see the header). */
static int apply_consent(lc_webinar_input_t *in, json_t *body, lc_body_error_t *err)
{
    lc_webinar_settings_t *k = &in->settings;
    json_t *text = json_object_get(body, "consent_text");
    json_t *version = json_object_get(body, "consent_version");
    int rc;
    bool text_changed = false;
    if (text) {
        const char *before = in->consent_text;
        const char *after = json_is_null(text) ? NULL : json_string_value(text);
        text_changed = in->stored && ((before == NULL) != (after == NULL) ||
                                      (before && strcmp(before, after)));
        if ((rc = apply_optional_text(&in->consent_text, "consent_text", text,
                                      LC_CONSENT_TEXT_CHARS, err)) < 0)
            return rc;
    }
    if (version) {
        if ((rc = lc_input_text("consent_version", version, 1, LC_CONSENT_VERSION_CHARS, "", err)) <
            0)
            return rc;
        snprintf(k->consent_version, sizeof k->consent_version, "%s", json_string_value(version));
    } else if (text_changed) {
        int64_t n;
        if (lc_parse_int64(k->consent_version, 0, 999999999, &n) < 0)
            return lc_body_error_set(err, 422, "invalid_field", "consent_version",
                                     "consent_version: the consent text changed; give the new "
                                     "text a new version");
        snprintf(k->consent_version, sizeof k->consent_version, "%lld", (long long)n + 1);
    }
    return 0;
}

int lc_webinar_input_apply(lc_webinar_input_t *in, json_t *body, lc_body_error_t *err)
{
    lc_webinar_settings_t *k = &in->settings;
    json_t *v;
    int rc;
    if ((v = json_object_get(body, "title"))) {
        if ((rc = lc_input_text("title", v, 1, LC_WEBINAR_TITLE_CHARS, "", err)) < 0 ||
            (rc = replace(&in->title, json_string_value(v))) < 0)
            return rc;
    }
    if ((v = json_object_get(body, "description"))) {
        if ((rc = lc_input_text("description", v, 0, LC_WEBINAR_DESCRIPTION_CHARS, "\n\r\t",
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
            if ((rc = lc_input_text("room_password", v, LC_ROOM_PASSWORD_MIN_CHARS,
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
    if ((v = json_object_get(body, "form_fields")) && (rc = apply_form(in, v, err)) < 0)
        return rc;
    if ((v = json_object_get(body, "privacy_notice")) &&
        (rc = apply_optional_text(&in->privacy_notice, "privacy_notice", v,
                                  LC_PRIVACY_NOTICE_CHARS, err)) < 0)
        return rc;
    if ((rc = apply_consent(in, body, err)) < 0)
        return rc;
    bool password = in->room_password_op == LC_ROOM_PASSWORD_SET ||
                    (in->room_password_op == LC_ROOM_PASSWORD_KEEP && in->has_room_password);
    if (k->public_access && (k->approval || k->waiting_room || password)) {
        const char *what = k->approval ? "approval" : k->waiting_room ? "waiting_room"
                                                                       : "room_password";
        static const char *const doing[] = {"approve", "hold in a waiting room",
                                            "ask for the room password (it is asked through "
                                            "each attendee's join link)"};
        /* Name what this request changed, so the message points at the organiser's edit. */
        const char *field = json_object_get(body, "access") ? "access" : what;
        return lc_body_error_set(err, 422, "invalid_field", field,
                                 "%s: a public webinar has nobody registered to %s; use access "
                                 "\"registration\" or remove %s",
                                 field, doing[k->approval ? 0 : k->waiting_room ? 1 : 2], what);
    }
    return 0;
}
