/* Immutable, reference-counted byte buffers: how finished media (init segments, parts, segments)
 * and rendered playlists cross threads and are served to any number of HTTP connections without
 * a copy per request. */
#ifndef LC_CORE_BUF_H
#define LC_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lc_buf lc_buf_t;

/* Allocates a buffer of `len` bytes with one reference; the contents are for the creator to fill
 * before it shares the buffer (after that it is immutable). Returns NULL when out of memory. */
lc_buf_t *lc_buf_new(size_t len);
/* Same, filled with a copy of `data`. */
lc_buf_t *lc_buf_new_copy(const void *data, size_t len);

/* Adds a reference and returns `b`. Any thread. NULL-safe. */
lc_buf_t *lc_buf_ref(lc_buf_t *b);
/* Drops a reference; the last one frees the buffer. Any thread. NULL-safe. */
void lc_buf_unref(lc_buf_t *b);
/* Drops the reference in *pb and sets *pb to NULL. */
void lc_buf_release(lc_buf_t **pb);

uint8_t *lc_buf_data(lc_buf_t *b);
const uint8_t *lc_buf_cdata(const lc_buf_t *b);
size_t lc_buf_len(const lc_buf_t *b);

/* A growable byte string for building buffers (playlists, muxer output). Not thread-safe. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are ignored */
} lc_bytes_t;

void lc_bytes_init(lc_bytes_t *s);
void lc_bytes_free(lc_bytes_t *s);
void lc_bytes_reset(lc_bytes_t *s); /* len = 0, keeps the allocation */
int lc_bytes_append(lc_bytes_t *s, const void *data, size_t len);
int lc_bytes_printf(lc_bytes_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies the contents into a new lc_buf (NULL if s->failed or out of memory). */
lc_buf_t *lc_bytes_to_buf(const lc_bytes_t *s);

#endif
