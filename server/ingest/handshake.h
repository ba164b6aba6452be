/* The RTMP handshake, server side, as a socket-free state machine: feed it the client's bytes and
 * it appends the bytes to send. Only the simple (non-digest) handshake, which ffmpeg and OBS use.
 *
 *   WAIT_C0 ──C0 (version 3)──► WAIT_C1 ──C1 (1536 bytes)──► WAIT_C2 ──C2 (1536 bytes)──► DONE
 *                                          emits S0+S1+S2
 *
 * A client may send C2 together with its first chunks: feeding stops at the end of C2 and reports
 * how many bytes it used; the rest belongs to the chunk stream. */
#ifndef LC_INGEST_HANDSHAKE_H
#define LC_INGEST_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "ingest/why.h"

#define LC_HANDSHAKE_VERSION 3
#define LC_HANDSHAKE_SIZE 1536 /* C1, C2, S1, S2 */

typedef enum {
    LC_HS_WAIT_C0 = 0, /* expecting the version byte */
    LC_HS_WAIT_C1,     /* collecting C1 */
    LC_HS_WAIT_C2,     /* S0/S1/S2 were produced; collecting C2 */
    LC_HS_DONE,        /* the chunk stream begins */
    LC_HS_FAILED,      /* refused; feeding again returns the error */
} lc_handshake_stage_t;

/* A value type (no allocation): embed it, lc_handshake_init it. */
typedef struct {
    lc_handshake_stage_t stage;
    size_t have;   /* bytes of the current packet (C1 or C2) received */
    uint64_t seed; /* for S1's random bytes: the simple handshake needs no secrecy */
    uint8_t c1[LC_HANDSHAKE_SIZE];
} lc_handshake_t;

/* Starts at WAIT_C0. `seed` makes S1's filler bytes (any value; tests pass a constant). */
void lc_handshake_init(lc_handshake_t *hs, uint64_t seed);

/* Consumes client bytes from `in` until the handshake is done or `len` is used up; *used says how
 * many. When C1 completes, appends S0+S1+S2 (3073 bytes) to `out`. Returns 0 (check hs->stage for
 * DONE), LC_EPROTO_RTMP for a version other than 3 (reason in `why`), or -ENOMEM if `out` could
 * not grow. Once failed, stays failed. */
int lc_handshake_feed(lc_handshake_t *hs, const uint8_t *in, size_t len, size_t *used,
                      lc_bytes_t *out, lc_why_t *why);

/* Name of a stage for logs and tests ("WAIT_C1"). */
const char *lc_handshake_stage_name(lc_handshake_stage_t stage);

#endif
