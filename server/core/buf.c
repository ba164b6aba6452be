/* Reference-counted buffers and a growable byte string. */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_buf {
    atomic_size_t refs;
    size_t len;
    uint8_t data[];
};

lc_buf_t *lc_buf_new(size_t len)
{
    if (len > SIZE_MAX - sizeof(lc_buf_t))
        return NULL;
    lc_buf_t *b = malloc(sizeof *b + len + 1);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data[len] = 0; /* handy when the contents are text */
    return b;
}

lc_buf_t *lc_buf_new_copy(const void *data, size_t len)
{
    lc_buf_t *b = lc_buf_new(len);
    if (b && len)
        memcpy(b->data, data, len);
    return b;
}

lc_buf_t *lc_buf_ref(lc_buf_t *b)
{
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void lc_buf_unref(lc_buf_t *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

void lc_buf_release(lc_buf_t **pb)
{
    if (pb) {
        lc_buf_unref(*pb);
        *pb = NULL;
    }
}

uint8_t *lc_buf_data(lc_buf_t *b) { return b->data; }
const uint8_t *lc_buf_cdata(const lc_buf_t *b) { return b->data; }
size_t lc_buf_len(const lc_buf_t *b) { return b->len; }

void lc_bytes_init(lc_bytes_t *s) { memset(s, 0, sizeof *s); }

void lc_bytes_free(lc_bytes_t *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

void lc_bytes_reset(lc_bytes_t *s)
{
    s->len = 0;
    s->failed = 0;
}

static int reserve(lc_bytes_t *s, size_t extra)
{
    if (s->failed)
        return -ENOMEM;
    if (extra > SIZE_MAX / 2 - s->len) {
        s->failed = 1;
        return -ENOMEM;
    }
    size_t need = s->len + extra + 1;
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(s->data, cap);
    if (!p) {
        s->failed = 1;
        return -ENOMEM;
    }
    s->data = p;
    s->cap = cap;
    return 0;
}

int lc_bytes_append(lc_bytes_t *s, const void *data, size_t len)
{
    int rc = reserve(s, len);
    if (rc < 0)
        return rc;
    if (len)
        memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = 0;
    return 0;
}

int lc_bytes_printf(lc_bytes_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s->failed = 1;
        return -EINVAL;
    }
    int rc = reserve(s, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)s->data + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
    return 0;
}

lc_buf_t *lc_bytes_to_buf(const lc_bytes_t *s)
{
    if (s->failed)
        return NULL;
    return lc_buf_new_copy(s->data, s->len);
}
