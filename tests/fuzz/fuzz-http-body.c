/* libFuzzer: a request body through the JSON body rules, and the same bytes as a Cookie and an
 * Origin header. Whatever comes in, a refusal has a status, a code and valid UTF-8 text, and an
 * accepted body holds exactly the declared strings within their sizes; as a webinar body, the
 * webinar rules hold. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/webinar_input.h"
#include "core/util.h"
#include "http/body.h"
#include "http/cookie.h"

static const lc_json_field_t fields[] = {
    {"email", 254, LC_JSON_STRING, 0},
    {"password", 1024, LC_JSON_STRING, 0},
    {"token", 128, LC_JSON_STRING, 0},
    {NULL, 0, LC_JSON_STRING, 0},
};

/* The same bytes as a webinar body: accepted members go through the webinar rules, and a
 * refusal there names a declared member. */
static void webinar_body(const char *body, size_t size)
{
    json_t *j = NULL;
    lc_body_error_t err;
    if (lc_json_body_parse(body, size, lc_webinar_fields, &j, &err) < 0)
        return;
    lc_webinar_input_t in;
    lc_webinar_input_defaults(&in);
    int rc = lc_webinar_input_apply(&in, j, &err);
    if (rc == -EINVAL) {
        const lc_json_field_t *f = lc_webinar_fields;
        while (f->name && strcmp(f->name, err.field) != 0)
            f++;
        if (!f->name || err.status != 422)
            abort();
    } else if (rc == 0 && (in.settings.duration_s < 60 || in.settings.duration_s > 86400 ||
                           (in.settings.on_demand && in.settings.starts_at_ms != LC_DB_NO_TIME)))
        abort();
    lc_webinar_input_clear(&in);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    json_t *j = NULL;
    lc_body_error_t err;
    if (lc_json_body_parse(body, size, fields, &j, &err) == 0) {
        if (!json_is_object(j) || json_object_size(j) != 3)
            abort();
        for (const lc_json_field_t *f = fields; f->name; f++) {
            json_t *v = json_object_get(j, f->name);
            if (!json_is_string(v) || json_string_length(v) > f->max_bytes)
                abort();
        }
        json_decref(j);
    } else {
        if (j || err.status < 400 || err.status > 422 || !err.code ||
            lc_utf8_invalid_at(err.field, strlen(err.field)) != strlen(err.field) ||
            lc_utf8_invalid_at(err.message, strlen(err.message)) != strlen(err.message))
            abort();
    }
    webinar_body(body, size);
    char name[32];
    int where = lc_json_member_at(body, size, size / 2, name, sizeof name);
    if (where < 0 || where > 2 || strlen(name) >= sizeof name)
        abort();

    /* As header values (NUL-terminated, as libmicrohttpd hands them over). */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char value[64];
    if (lc_cookie_get(text, "lectern_session", value, sizeof value) == 0 &&
        strlen(value) >= sizeof value)
        abort();
    (void)lc_origin_allowed(text, "example.com:8080", "https://example.com");
    (void)lc_content_type_is_json(text);
    free(text);
    return 0;
}
