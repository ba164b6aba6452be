/* A bounds-checked MSB-first bit reader for codec configuration records (H.264 SPS, AAC
 * AudioSpecificConfig). Reading past the end yields zeros and sets `overrun`: check it once after
 * a run of reads instead of after each one. */
#ifndef LC_INGEST_BITS_H
#define LC_INGEST_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t nbits;
    size_t pos;
    bool overrun;
} lc_bits_t;

static inline void lc_bits_init(lc_bits_t *b, const uint8_t *p, size_t len)
{
    b->p = p;
    b->nbits = len * 8;
    b->pos = 0;
    b->overrun = false;
}

static inline uint32_t lc_bits_read(lc_bits_t *b, unsigned n) /* n <= 32 */
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned bit = 0;
        if (b->pos < b->nbits)
            bit = b->p[b->pos >> 3] >> (7 - (b->pos & 7)) & 1;
        else
            b->overrun = true;
        b->pos++;
        v = v << 1 | bit;
    }
    return v;
}

/* Exp-Golomb ue(v); more than 31 leading zeros is an overrun (no valid field is that long). */
static inline uint32_t lc_bits_ue(lc_bits_t *b)
{
    unsigned zeros = 0;
    while (lc_bits_read(b, 1) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = true;
            return 0;
        }
    }
    if (zeros == 0)
        return 0;
    return ((1u << zeros) - 1) + lc_bits_read(b, zeros);
}

/* Exp-Golomb se(v). */
static inline int32_t lc_bits_se(lc_bits_t *b)
{
    uint32_t k = lc_bits_ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

#endif
