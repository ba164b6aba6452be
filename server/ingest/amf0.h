/* AMF0: the encoding of RTMP commands and metadata. A decoder into a small value tree (every
 * length checked, nesting and size bounded) and encoder helpers that append to an lc_bytes_t.
 *
 * Supported markers: number, boolean, string, object, null, undefined, ECMA array, strict array,
 * date, long string. Refused: movieclip, reference, unsupported, recordset, XML document, typed
 * object, AVM+ (AMF3) switch, and a stray object-end marker. */
#ifndef LC_INGEST_AMF0_H
#define LC_INGEST_AMF0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/why.h"

#define LC_AMF_MAX_DEPTH 8     /* containers inside containers */
#define LC_AMF_MAX_NODES 4096  /* values in one decode (bounds memory per byte of input) */

typedef enum {
    LC_AMF_NUMBER = 0x00,
    LC_AMF_BOOLEAN = 0x01,
    LC_AMF_STRING = 0x02, /* also what a long string (0x0C) decodes to */
    LC_AMF_OBJECT = 0x03,
    LC_AMF_NULL = 0x05,
    LC_AMF_UNDEFINED = 0x06,
    LC_AMF_ECMA_ARRAY = 0x08,
    LC_AMF_STRICT_ARRAY = 0x0A, /* also the list lc_amf0_decode_all returns */
    LC_AMF_DATE = 0x0B,
} lc_amf_type_t;

typedef struct lc_amf lc_amf_t; /* one decoded value; a tree owns its children */

/* Decodes one value from `data`; *used says how many bytes it took. Returns 0 and a tree to free
 * with lc_amf_free, or LC_EPROTO_RTMP (reason in `why`) / -ENOMEM. */
int lc_amf0_decode(const uint8_t *data, size_t len, size_t *used, lc_amf_t **out, lc_why_t *why);

/* Decodes values until `data` is used up (a command: name, transaction id, arguments) into one
 * LC_AMF_STRICT_ARRAY list. Fails if any value is malformed. */
int lc_amf0_decode_all(const uint8_t *data, size_t len, lc_amf_t **out, lc_why_t *why);

/* Frees a tree and sets *pv to NULL. NULL-safe. */
void lc_amf_free(lc_amf_t **pv);

/* Accessors; all are NULL-safe and never fail loudly: a missing or mistyped value reads as NULL,
 * false or 0. Returned pointers live as long as the tree. */
lc_amf_type_t lc_amf_type(const lc_amf_t *v); /* LC_AMF_UNDEFINED for NULL */
/* Number of properties (object, ECMA array) or items (strict array); 0 otherwise. */
size_t lc_amf_count(const lc_amf_t *v);
/* The i-th item or property value, or NULL. */
const lc_amf_t *lc_amf_item(const lc_amf_t *v, size_t i);
/* Name of the i-th property of an object or ECMA array (NUL-terminated, may contain NULs: see
 * len), or NULL. */
const char *lc_amf_key(const lc_amf_t *v, size_t i, size_t *len);
/* The value of property `key` in an object or ECMA array (first match), or NULL. */
const lc_amf_t *lc_amf_get(const lc_amf_t *obj, const char *key);
/* A string's bytes (NUL-terminated copy) and length, or NULL if `v` is not a string. */
const char *lc_amf_str(const lc_amf_t *v, size_t *len);
/* True and *out for a number or date (milliseconds); false otherwise. */
bool lc_amf_num(const lc_amf_t *v, double *out);
/* True and *out for a boolean. */
bool lc_amf_bool(const lc_amf_t *v, bool *out);

/* Encoders: append one value (or container marker) to `b`. Return 0 or -ENOMEM (then b->failed
 * is set and later appends are ignored, so a sequence can be checked once at the end). */
int lc_amf0_put_number(lc_bytes_t *b, double v);
int lc_amf0_put_bool(lc_bytes_t *b, bool v);
int lc_amf0_put_string(lc_bytes_t *b, const char *s); /* long string when over 65535 bytes */
int lc_amf0_put_null(lc_bytes_t *b);
int lc_amf0_put_undefined(lc_bytes_t *b);
int lc_amf0_put_date(lc_bytes_t *b, double ms, int16_t tz);
int lc_amf0_put_object_start(lc_bytes_t *b);
int lc_amf0_put_ecma_start(lc_bytes_t *b, uint32_t count);
int lc_amf0_put_strict_array_start(lc_bytes_t *b, uint32_t count); /* then `count` values */
int lc_amf0_put_key(lc_bytes_t *b, const char *key);              /* property name, no marker */
int lc_amf0_put_object_end(lc_bytes_t *b);                         /* ends objects and ECMA */

#endif
