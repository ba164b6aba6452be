/* What the ingest counts a peer's connections by: its IPv4 address, or its IPv6 /64 (one
 * subscriber's network, where a host picks any address it likes). Held in the listener's memory
 * for as long as the connection, never logged or stored (the privacy rule). */
#ifndef LC_INGEST_PEER_KEY_H
#define LC_INGEST_PEER_KEY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* A value type: IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), IPv6 with the low 64 bits
 * cleared. */
typedef struct {
    uint8_t b[16];
} lc_peer_key_t;

/* Reduces `sa` (as accept(2) filled it, `len` bytes) to its key. An IPv4-mapped IPv6 address
 * counts as the IPv4 address. Returns 0, -EINVAL when `len` is too short for the family, or
 * -EAFNOSUPPORT for a family other than AF_INET and AF_INET6; on error *key is zeroed (all such
 * peers then share one key). Any thread; no allocation. */
int lc_peer_key(const struct sockaddr *sa, socklen_t len, lc_peer_key_t *key);

bool lc_peer_key_equal(const lc_peer_key_t *a, const lc_peer_key_t *b);

#endif
