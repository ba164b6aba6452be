/* gzip (RFC 1952) of small texts, for playlists sent to clients that accept it. */
#ifndef LC_CORE_GZIP_H
#define LC_CORE_GZIP_H

#include <stddef.h>

#include "core/buf.h"

/* Compresses `len` bytes into a new buffer (one reference), or NULL on failure. Any thread. */
lc_buf_t *lc_gzip(const void *data, size_t len);

/* Whether an Accept-Encoding header value allows gzip (a "gzip" token not refused with q=0). */
int lc_accepts_gzip(const char *accept_encoding);

#endif
