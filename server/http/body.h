/* The rules for request bodies, kept free of libmicrohttpd so they can be tested on their own:
 * JSON only (Content-Type application/json), at most LC_HTTP_BODY_MAX bytes, well-formed UTF-8,
 * one object whose members are exactly the fields a resource declares (unknown ones are refused
 * by name), each a string within its size limit. A refusal names the field when there is one. */
#ifndef LC_HTTP_BODY_H
#define LC_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define LC_HTTP_BODY_MAX (64 * 1024)

/* The JSON type a member must have. Strict: 1 is not true, "5" and 5.0 are not integers. */
typedef enum {
    LC_JSON_STRING = 0,
    LC_JSON_BOOL,
    LC_JSON_INT,
    LC_JSON_ARRAY,  /* its elements are the resource's to check */
    LC_JSON_OBJECT, /* its members are the resource's to check */
} lc_json_type_t;

#define LC_JSON_OPTIONAL 1u /* may be left out (else missing_field) */
#define LC_JSON_NULLABLE 2u /* may be null */

/* One member a resource accepts: by default a required string of at most max_bytes. */
typedef struct {
    const char *name;
    size_t max_bytes; /* strings only */
    lc_json_type_t type;
    unsigned flags;
} lc_json_field_t;

/* Why a body was refused: the HTTP status (400, 413, 415, 422), a stable code, the field (""
 * when none) and a message for people. */
typedef struct {
    unsigned status;
    const char *code;
    char field[72];
    char message[256];
} lc_body_error_t;

/* Fills *err (the message from printf-style `fmt`, cut to valid UTF-8) and returns -EINVAL: for
 * the rules a resource checks itself after lc_json_body_parse. `field` may be NULL. */
int lc_body_error_set(lc_body_error_t *err, unsigned status, const char *code, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* True for "application/json", with optional parameters (charset=utf-8), any letter case. */
bool lc_content_type_is_json(const char *content_type);

/* Parses `body` against `fields` (terminated by a NULL name). Returns 0 and *out (a new
 * reference: an object holding exactly the declared fields), or -EINVAL with *err filled. */
int lc_json_body_parse(const char *body, size_t len, const lc_json_field_t *fields, json_t **out,
                       lc_body_error_t *err);

/* Which top-level member of the JSON object text `body` contains byte `offset`: writes its name
 * (as written in the text, cut to fit) to `out` and returns 1 when the offset is in a member's
 * value, 2 when it is inside a member's name (out: the name up to there), 0 otherwise. Reads
 * only the bytes before `offset`, so it works on text that breaks down at `offset`. */
int lc_json_member_at(const char *body, size_t len, size_t offset, char *out, size_t size);

#endif
