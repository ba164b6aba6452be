/* libFuzzer: a request body through the JSON body rules, and the same bytes as a Cookie and an
 * Origin header. Whatever comes in, a refusal has a status, a code and valid UTF-8 text, and an
 * accepted body holds exactly the declared strings within their sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "http/body.h"
#include "http/cookie.h"

static const lc_json_field_t fields[] = {{"email", 254}, {"password", 1024}, {"token", 128},
                                         {NULL, 0}};

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
