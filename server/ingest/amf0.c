/* AMF0 decoder (into a bounded value tree) and encoder helpers. */
#include "ingest/amf0.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

enum {
    M_NUMBER = 0x00,
    M_BOOLEAN = 0x01,
    M_STRING = 0x02,
    M_OBJECT = 0x03,
    M_MOVIECLIP = 0x04,
    M_NULL = 0x05,
    M_UNDEFINED = 0x06,
    M_REFERENCE = 0x07,
    M_ECMA_ARRAY = 0x08,
    M_OBJECT_END = 0x09,
    M_STRICT_ARRAY = 0x0A,
    M_DATE = 0x0B,
    M_LONG_STRING = 0x0C,
    M_UNSUPPORTED = 0x0D,
    M_RECORDSET = 0x0E,
    M_XML_DOCUMENT = 0x0F,
    M_TYPED_OBJECT = 0x10,
    M_AVMPLUS = 0x11,
};

struct lc_amf {
    lc_amf_type_t type;
    double num; /* number, date; boolean as 0/1 */
    int16_t tz; /* date */
    char *str;  /* string, NUL-terminated copy */
    size_t str_len;
    char *key; /* name under which this value sits in its object, or NULL */
    size_t key_len;
    lc_amf_t *items; /* children of objects, ECMA and strict arrays, in order */
    size_t count, cap;
};

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    size_t nodes;
    lc_why_t *why;
} dec_t;

static void clear_value(lc_amf_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        clear_value(&v->items[i]); /* recursion depth is bounded by LC_AMF_MAX_DEPTH */
    free(v->items);
    free(v->str);
    free(v->key);
    memset(v, 0, sizeof *v);
}

void lc_amf_free(lc_amf_t **pv)
{
    if (!pv || !*pv)
        return;
    clear_value(*pv);
    free(*pv);
    *pv = NULL;
}

static int need(dec_t *d, size_t n, const char *what)
{
    if (d->len - d->pos < n)
        return lc_why(d->why, LC_EPROTO_RTMP, "AMF0: truncated %s (%zu bytes needed, %zu left)",
                      what, n, d->len - d->pos);
    return 0;
}

static uint32_t get_u16(dec_t *d)
{
    uint32_t v = (uint32_t)d->p[d->pos] << 8 | d->p[d->pos + 1];
    d->pos += 2;
    return v;
}

static uint32_t get_u32(dec_t *d)
{
    uint32_t v = (uint32_t)d->p[d->pos] << 24 | (uint32_t)d->p[d->pos + 1] << 16 |
                 (uint32_t)d->p[d->pos + 2] << 8 | d->p[d->pos + 3];
    d->pos += 4;
    return v;
}

static double get_double(dec_t *d)
{
    uint64_t bits = (uint64_t)get_u32(d) << 32;
    bits |= get_u32(d);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Copies n bytes (already checked to be there) into a fresh NUL-terminated string. */
static int get_bytes(dec_t *d, size_t n, char **out)
{
    char *s = malloc(n + 1);
    if (!s)
        return lc_why(d->why, -ENOMEM, "AMF0: out of memory");
    memcpy(s, d->p + d->pos, n);
    s[n] = 0;
    d->pos += n;
    *out = s;
    return 0;
}

static int push_item(dec_t *d, lc_amf_t *parent, lc_amf_t *child)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        lc_amf_t *items = realloc(parent->items, cap * sizeof *items);
        if (!items)
            return lc_why(d->why, -ENOMEM, "AMF0: out of memory");
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[parent->count++] = *child; /* the parent owns it now */
    memset(child, 0, sizeof *child);
    return 0;
}

static int decode_value(dec_t *d, lc_amf_t *v, int depth);

/* Properties of an object or ECMA array: (u16 name, value)* then an empty name and the end
 * marker. An ECMA array may also simply end with the data, as some encoders write it. */
static int decode_props(dec_t *d, lc_amf_t *v, int depth, bool ecma)
{
    int rc;
    for (;;) {
        if (ecma && d->pos == d->len)
            return 0;
        if ((rc = need(d, 2, "property name")) < 0)
            return rc;
        size_t klen = get_u16(d);
        if (klen == 0) {
            if ((rc = need(d, 1, "object end")) < 0)
                return rc;
            if (d->p[d->pos] != M_OBJECT_END)
                return lc_why(d->why, LC_EPROTO_RTMP,
                              "AMF0: empty property name not followed by the end marker");
            d->pos++;
            return 0;
        }
        if ((rc = need(d, klen, "property name")) < 0)
            return rc;
        lc_amf_t child = {0};
        if ((rc = get_bytes(d, klen, &child.key)) < 0)
            return rc;
        child.key_len = klen;
        if ((rc = decode_value(d, &child, depth + 1)) < 0 ||
            (rc = push_item(d, v, &child)) < 0) {
            clear_value(&child);
            return rc;
        }
    }
}

static const char *marker_name(uint8_t m)
{
    switch (m) {
    case M_MOVIECLIP: return "movieclip";
    case M_REFERENCE: return "reference";
    case M_OBJECT_END: return "object end outside an object";
    case M_UNSUPPORTED: return "unsupported";
    case M_RECORDSET: return "recordset";
    case M_XML_DOCUMENT: return "XML document";
    case M_TYPED_OBJECT: return "typed object";
    case M_AVMPLUS: return "AMF3 switch";
    default: return "unknown";
    }
}

/* Decodes one value into *v (zeroed by the caller; on failure it may hold partial children,
 * which clear_value releases). */
static int decode_value(dec_t *d, lc_amf_t *v, int depth)
{
    int rc;
    if (++d->nodes > LC_AMF_MAX_NODES)
        return lc_why(d->why, LC_EPROTO_RTMP, "AMF0: more than %d values", LC_AMF_MAX_NODES);
    if ((rc = need(d, 1, "marker")) < 0)
        return rc;
    uint8_t m = d->p[d->pos++];
    switch (m) {
    case M_NUMBER:
        if ((rc = need(d, 8, "number")) < 0)
            return rc;
        v->type = LC_AMF_NUMBER;
        v->num = get_double(d);
        return 0;
    case M_BOOLEAN:
        if ((rc = need(d, 1, "boolean")) < 0)
            return rc;
        v->type = LC_AMF_BOOLEAN;
        v->num = d->p[d->pos++] ? 1 : 0;
        return 0;
    case M_STRING:
    case M_LONG_STRING: {
        if ((rc = need(d, m == M_STRING ? 2 : 4, "string length")) < 0)
            return rc;
        size_t n = m == M_STRING ? get_u16(d) : get_u32(d);
        if ((rc = need(d, n, "string")) < 0)
            return rc;
        v->type = LC_AMF_STRING;
        v->str_len = n;
        return get_bytes(d, n, &v->str);
    }
    case M_NULL:
        v->type = LC_AMF_NULL;
        return 0;
    case M_UNDEFINED:
        v->type = LC_AMF_UNDEFINED;
        return 0;
    case M_DATE:
        if ((rc = need(d, 10, "date")) < 0)
            return rc;
        v->type = LC_AMF_DATE;
        v->num = get_double(d);
        v->tz = (int16_t)get_u16(d);
        return 0;
    case M_OBJECT:
    case M_ECMA_ARRAY:
    case M_STRICT_ARRAY:
        if (depth >= LC_AMF_MAX_DEPTH)
            return lc_why(d->why, LC_EPROTO_RTMP, "AMF0: nesting deeper than %d",
                          LC_AMF_MAX_DEPTH);
        if (m == M_OBJECT) {
            v->type = LC_AMF_OBJECT;
            return decode_props(d, v, depth, false);
        }
        if ((rc = need(d, 4, "array count")) < 0)
            return rc;
        uint32_t count = get_u32(d); /* for ECMA arrays only a hint: the end marker rules */
        if (m == M_ECMA_ARRAY) {
            v->type = LC_AMF_ECMA_ARRAY;
            return decode_props(d, v, depth, true);
        }
        v->type = LC_AMF_STRICT_ARRAY;
        /* Each item takes at least one byte: a count beyond the data is a lie, caught before
         * anything is allocated for it. */
        if (count > d->len - d->pos)
            return lc_why(d->why, LC_EPROTO_RTMP,
                          "AMF0: strict array of %u items in %zu bytes", count, d->len - d->pos);
        for (uint32_t i = 0; i < count; i++) {
            lc_amf_t child = {0};
            if ((rc = decode_value(d, &child, depth + 1)) < 0 ||
                (rc = push_item(d, v, &child)) < 0) {
                clear_value(&child);
                return rc;
            }
        }
        return 0;
    default:
        return lc_why(d->why, LC_EPROTO_RTMP, "AMF0: %s marker 0x%02x is not supported",
                      marker_name(m), m);
    }
}

int lc_amf0_decode(const uint8_t *data, size_t len, size_t *used, lc_amf_t **out, lc_why_t *why)
{
    dec_t d = {.p = data, .len = data ? len : 0, .why = why};
    *out = NULL;
    *used = 0;
    lc_amf_t *v = calloc(1, sizeof *v);
    if (!v)
        return lc_why(why, -ENOMEM, "AMF0: out of memory");
    int rc = decode_value(&d, v, 0);
    if (rc < 0) {
        lc_amf_free(&v);
        return rc;
    }
    *used = d.pos;
    *out = v;
    return 0;
}

int lc_amf0_decode_all(const uint8_t *data, size_t len, lc_amf_t **out, lc_why_t *why)
{
    dec_t d = {.p = data, .len = data ? len : 0, .why = why};
    int rc = 0;
    *out = NULL;
    lc_amf_t *list = calloc(1, sizeof *list);
    if (!list)
        return lc_why(why, -ENOMEM, "AMF0: out of memory");
    list->type = LC_AMF_STRICT_ARRAY;
    while (d.pos < d.len) {
        lc_amf_t child = {0};
        if ((rc = decode_value(&d, &child, 0)) < 0 || (rc = push_item(&d, list, &child)) < 0) {
            clear_value(&child);
            lc_amf_free(&list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

lc_amf_type_t lc_amf_type(const lc_amf_t *v) { return v ? v->type : LC_AMF_UNDEFINED; }

size_t lc_amf_count(const lc_amf_t *v)
{
    if (!v || (v->type != LC_AMF_OBJECT && v->type != LC_AMF_ECMA_ARRAY &&
               v->type != LC_AMF_STRICT_ARRAY))
        return 0;
    return v->count;
}

const lc_amf_t *lc_amf_item(const lc_amf_t *v, size_t i)
{
    return i < lc_amf_count(v) ? &v->items[i] : NULL;
}

const char *lc_amf_key(const lc_amf_t *v, size_t i, size_t *len)
{
    const lc_amf_t *item = lc_amf_item(v, i);
    if (!item || !item->key)
        return NULL;
    if (len)
        *len = item->key_len;
    return item->key;
}

const lc_amf_t *lc_amf_get(const lc_amf_t *obj, const char *key)
{
    if (!obj || !key || (obj->type != LC_AMF_OBJECT && obj->type != LC_AMF_ECMA_ARRAY))
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < obj->count; i++) {
        const lc_amf_t *it = &obj->items[i];
        if (it->key_len == klen && memcmp(it->key, key, klen) == 0)
            return it;
    }
    return NULL;
}

const char *lc_amf_str(const lc_amf_t *v, size_t *len)
{
    if (!v || v->type != LC_AMF_STRING)
        return NULL;
    if (len)
        *len = v->str_len;
    return v->str;
}

bool lc_amf_num(const lc_amf_t *v, double *out)
{
    if (!v || (v->type != LC_AMF_NUMBER && v->type != LC_AMF_DATE))
        return false;
    *out = v->num;
    return true;
}

bool lc_amf_bool(const lc_amf_t *v, bool *out)
{
    if (!v || v->type != LC_AMF_BOOLEAN)
        return false;
    *out = v->num != 0;
    return true;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static int put_u8(lc_bytes_t *b, uint8_t v) { return lc_bytes_append(b, &v, 1); }

static int put_u16(lc_bytes_t *b, uint32_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return lc_bytes_append(b, x, 2);
}

static int put_u32(lc_bytes_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return lc_bytes_append(b, x, 4);
}

static int put_double(lc_bytes_t *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int rc = put_u32(b, (uint32_t)(bits >> 32));
    return rc < 0 ? rc : put_u32(b, (uint32_t)bits);
}

int lc_amf0_put_number(lc_bytes_t *b, double v)
{
    int rc = put_u8(b, M_NUMBER);
    return rc < 0 ? rc : put_double(b, v);
}

int lc_amf0_put_bool(lc_bytes_t *b, bool v)
{
    int rc = put_u8(b, M_BOOLEAN);
    return rc < 0 ? rc : put_u8(b, v ? 1 : 0);
}

int lc_amf0_put_string(lc_bytes_t *b, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT32_MAX)
        return -EINVAL;
    int rc = n > 0xFFFF ? put_u8(b, M_LONG_STRING) : put_u8(b, M_STRING);
    if (rc == 0)
        rc = n > 0xFFFF ? put_u32(b, (uint32_t)n) : put_u16(b, (uint32_t)n);
    return rc < 0 ? rc : lc_bytes_append(b, s, n);
}

int lc_amf0_put_null(lc_bytes_t *b) { return put_u8(b, M_NULL); }
int lc_amf0_put_undefined(lc_bytes_t *b) { return put_u8(b, M_UNDEFINED); }

int lc_amf0_put_date(lc_bytes_t *b, double ms, int16_t tz)
{
    int rc = put_u8(b, M_DATE);
    if (rc == 0)
        rc = put_double(b, ms);
    return rc < 0 ? rc : put_u16(b, (uint16_t)tz);
}

int lc_amf0_put_object_start(lc_bytes_t *b) { return put_u8(b, M_OBJECT); }

int lc_amf0_put_ecma_start(lc_bytes_t *b, uint32_t count)
{
    int rc = put_u8(b, M_ECMA_ARRAY);
    return rc < 0 ? rc : put_u32(b, count);
}

int lc_amf0_put_strict_array_start(lc_bytes_t *b, uint32_t count)
{
    int rc = put_u8(b, M_STRICT_ARRAY);
    return rc < 0 ? rc : put_u32(b, count);
}

int lc_amf0_put_key(lc_bytes_t *b, const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 0xFFFF)
        return -EINVAL; /* the empty name is the end marker */
    int rc = put_u16(b, (uint32_t)n);
    return rc < 0 ? rc : lc_bytes_append(b, key, n);
}

int lc_amf0_put_object_end(lc_bytes_t *b)
{
    int rc = put_u16(b, 0);
    return rc < 0 ? rc : put_u8(b, M_OBJECT_END);
}
