/* RTMP simple handshake (server side): C0/C1 → S0/S1/S2 → C2. */
#include "ingest/handshake.h"

#include <errno.h>
#include <string.h>

#include "core/error.h"

void lc_handshake_init(lc_handshake_t *hs, uint64_t seed)
{
    memset(hs, 0, sizeof *hs);
    hs->stage = LC_HS_WAIT_C0;
    hs->seed = seed;
}

const char *lc_handshake_stage_name(lc_handshake_stage_t stage)
{
    switch (stage) {
    case LC_HS_WAIT_C0: return "WAIT_C0";
    case LC_HS_WAIT_C1: return "WAIT_C1";
    case LC_HS_WAIT_C2: return "WAIT_C2";
    case LC_HS_DONE: return "DONE";
    case LC_HS_FAILED: return "FAILED";
    }
    return "?";
}

/* splitmix64: S1 only has to look random to the client, nothing depends on it being secret. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* S0 (version) + S1 (time 0, four zero bytes — which tells FP9-capable clients that we do the
 * simple handshake — and filler) + S2 (an exact echo of C1, which librtmp compares against). */
static int write_reply(lc_handshake_t *hs, lc_bytes_t *out)
{
    uint8_t s0s1[1 + LC_HANDSHAKE_SIZE];
    s0s1[0] = LC_HANDSHAKE_VERSION;
    memset(s0s1 + 1, 0, 8);
    for (size_t i = 9; i < sizeof s0s1; i += 8) {
        uint64_t r = next_rand(&hs->seed);
        size_t n = sizeof s0s1 - i < 8 ? sizeof s0s1 - i : 8;
        memcpy(s0s1 + i, &r, n);
    }
    if (lc_bytes_append(out, s0s1, sizeof s0s1) < 0 ||
        lc_bytes_append(out, hs->c1, LC_HANDSHAKE_SIZE) < 0)
        return -ENOMEM;
    return 0;
}

int lc_handshake_feed(lc_handshake_t *hs, const uint8_t *in, size_t len, size_t *used,
                      lc_bytes_t *out, lc_why_t *why)
{
    size_t pos = 0;
    int rc = 0;
    while (pos < len && hs->stage != LC_HS_DONE) {
        switch (hs->stage) {
        case LC_HS_WAIT_C0:
            if (in[pos] != LC_HANDSHAKE_VERSION) {
                hs->stage = LC_HS_FAILED;
                rc = lc_why(why, LC_EPROTO_RTMP,
                            "handshake: version %u is not supported (%s)", in[pos],
                            in[pos] == 6 || in[pos] == 8 ? "RTMPE" : "expected 3");
                goto out;
            }
            pos++;
            hs->stage = LC_HS_WAIT_C1;
            hs->have = 0;
            break;
        case LC_HS_WAIT_C1: {
            size_t n = LC_HANDSHAKE_SIZE - hs->have;
            if (n > len - pos)
                n = len - pos;
            memcpy(hs->c1 + hs->have, in + pos, n);
            hs->have += n;
            pos += n;
            if (hs->have == LC_HANDSHAKE_SIZE) {
                if ((rc = write_reply(hs, out)) < 0) {
                    hs->stage = LC_HS_FAILED;
                    lc_why(why, rc, "handshake: out of memory");
                    goto out;
                }
                hs->stage = LC_HS_WAIT_C2;
                hs->have = 0;
            }
            break;
        }
        case LC_HS_WAIT_C2: {
            /* C2 should echo S1; ffmpeg and OBS do, others send anything. Nothing rests on it. */
            size_t n = LC_HANDSHAKE_SIZE - hs->have;
            if (n > len - pos)
                n = len - pos;
            hs->have += n;
            pos += n;
            if (hs->have == LC_HANDSHAKE_SIZE)
                hs->stage = LC_HS_DONE;
            break;
        }
        case LC_HS_DONE:
            break;
        case LC_HS_FAILED:
            rc = lc_why(why, LC_EPROTO_RTMP, "handshake: already failed");
            goto out;
        }
    }
    if (hs->stage == LC_HS_FAILED)
        rc = lc_why(why, LC_EPROTO_RTMP, "handshake: already failed");
out:
    *used = pos;
    return rc;
}
