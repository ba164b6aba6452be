/* JSON request bodies: content type, UTF-8, the declared members and their sizes. */
#include "http/body.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

bool lc_content_type_is_json(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    const char *rest = ct + sizeof want - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == 0 || *rest == ';';
}

/* Copies at most size-1 bytes of `s` (n bytes) into `out`, never cutting a UTF-8 sequence and
 * stopping before anything that is not well-formed: the result can always go into JSON. */
static void copy_utf8(char *out, size_t size, const char *s, size_t n)
{
    if (n > size - 1)
        n = size - 1;
    n = lc_utf8_invalid_at(s, n); /* a cut sequence at the end shows up as invalid */
    memcpy(out, s, n);
    out[n] = 0;
}

#define refuse lc_body_error_set

int lc_body_error_set(lc_body_error_t *err, unsigned status, const char *code, const char *field,
                      const char *fmt, ...)
{
    err->status = status;
    err->code = code;
    copy_utf8(err->field, sizeof err->field, field ? field : "", field ? strlen(field) : 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* The message may quote the field: keep it valid UTF-8 whatever was cut. */
    err->message[lc_utf8_invalid_at(err->message, strlen(err->message))] = 0;
    return -EINVAL;
}

int lc_json_member_at(const char *body, size_t len, size_t offset, char *out, size_t size)
{
    int depth = 0;
    bool in_string = false, escaped = false, string_is_key = false, expect_key = false;
    size_t string_start = 0, key_start = 0, key_end = 0;
    bool have_key = false;
    if (offset > len)
        offset = len;
    out[0] = 0;
    for (size_t i = 0; i < offset; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
                if (string_is_key) {
                    key_start = string_start;
                    key_end = i;
                    have_key = true;
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            string_start = i + 1;
            string_is_key = depth == 1 && expect_key;
            break;
        case '{':
        case '[':
            depth++;
            expect_key = depth == 1 && c == '{';
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            if (depth == 1) {
                expect_key = true;
                have_key = false;
            }
            break;
        case ':':
            if (depth == 1)
                expect_key = false;
            break;
        default:
            break;
        }
    }
    if (in_string && string_is_key) {
        copy_utf8(out, size, body + string_start, offset - string_start);
        return 2;
    }
    if (depth >= 1 && have_key && !expect_key) {
        copy_utf8(out, size, body + key_start, key_end - key_start);
        return 1;
    }
    return 0;
}

/* A body that is not UTF-8: say where, and in which member when we can tell. */
static int refuse_utf8(const char *body, size_t len, size_t bad, lc_body_error_t *err)
{
    char member[64];
    int where = lc_json_member_at(body, len, bad, member, sizeof member);
    if (where == 1)
        return refuse(err, 400, "invalid_utf8", member, "%s: not valid UTF-8", member);
    if (where == 2)
        return refuse(err, 400, "invalid_utf8", member,
                      "a member name starting \"%s\" is not valid UTF-8", member);
    return refuse(err, 400, "invalid_utf8", NULL, "the body is not valid UTF-8 (byte %zu)", bad);
}

static int refuse_json(const char *body, size_t len, const json_error_t *je, lc_body_error_t *err)
{
    char member[64];
    int where = je->position >= 0
                    ? lc_json_member_at(body, len, (size_t)je->position, member, sizeof member)
                    : 0;
    return refuse(err, 400, "invalid_json", where == 1 ? member : NULL,
                  "the body is not valid JSON: %s (line %d, column %d)", je->text, je->line,
                  je->column);
}

static const char *const type_names[] = {
    [LC_JSON_STRING] = "a string",
    [LC_JSON_BOOL] = "true or false",
    [LC_JSON_INT] = "an integer",
    [LC_JSON_ARRAY] = "an array",
    [LC_JSON_OBJECT] = "an object",
};

static bool type_ok(lc_json_type_t type, const json_t *v)
{
    switch (type) {
    case LC_JSON_STRING: return json_is_string(v);
    case LC_JSON_BOOL: return json_is_boolean(v);
    case LC_JSON_INT: return json_is_integer(v);
    case LC_JSON_ARRAY: return json_is_array(v);
    case LC_JSON_OBJECT: return json_is_object(v);
    }
    return false;
}

int lc_json_body_parse(const char *body, size_t len, const lc_json_field_t *fields, json_t **out,
                       lc_body_error_t *err)
{
    *out = NULL;
    if (len > LC_HTTP_BODY_MAX)
        return refuse(err, 413, "body_too_large", NULL, "the body is larger than %d bytes",
                      LC_HTTP_BODY_MAX);
    size_t bad = lc_utf8_invalid_at(body, len);
    if (bad < len)
        return refuse_utf8(body, len, bad, err);
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return refuse_json(body, len, &je, err);
    if (!json_is_object(j)) {
        json_decref(j);
        return refuse(err, 400, "invalid_json", NULL, "the body must be a JSON object");
    }
    const char *key;
    json_t *value;
    json_object_foreach(j, key, value)
    {
        const lc_json_field_t *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        int rc = 0;
        if (!f->name)
            rc = refuse(err, 422, "unknown_field", key, "unknown field \"%s\"", key);
        else if (json_is_null(value) && (f->flags & LC_JSON_NULLABLE))
            rc = 0;
        else if (!type_ok(f->type, value))
            rc = refuse(err, 422, "invalid_field", key, "%s: must be %s%s", key,
                        type_names[f->type], (f->flags & LC_JSON_NULLABLE) ? " or null" : "");
        else if (f->type == LC_JSON_STRING && json_string_length(value) > f->max_bytes)
            rc = refuse(err, 422, "invalid_field", key, "%s: longer than %zu bytes", key,
                        f->max_bytes);
        if (rc < 0) {
            json_decref(j);
            return rc;
        }
    }
    for (const lc_json_field_t *f = fields; f->name; f++) {
        if (!(f->flags & LC_JSON_OPTIONAL) && !json_object_get(j, f->name)) {
            json_decref(j);
            return refuse(err, 422, "missing_field", f->name, "%s: required", f->name);
        }
    }
    *out = j;
    return 0;
}
