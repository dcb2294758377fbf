/* Philox4x32-10 counter-based generator (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011), written over structure-of-arrays
 * blocks so that compilers vectorize the lanes.
 *
 * Counter layout used by initcore: words 0-1 hold a 64-bit block index inside
 * a stream, words 2-3 the 64-bit stream position (one per generator call), so
 * every output word depends only on (key, position, block index). */
#ifndef INITCORE_PHILOX_H
#define INITCORE_PHILOX_H

#include <stdint.h>

/* Helpers must inline into each SIMD clone of their caller to be compiled for
 * its instruction set. */
#if defined(__GNUC__)
#define IC_INLINE static inline __attribute__((always_inline))
#else
#define IC_INLINE static __forceinline
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Counters generated per inner block: 4 words each, so 256 words (1 KiB). */
#define PHILOX_BLOCK 64

typedef struct {
    uint32_t key[2];
    uint64_t position;
} ic_stream;

/* Words of counters first .. first+count-1 (count <= PHILOX_BLOCK) into
 * w[0..3][j]. */
IC_INLINE void philox_block(const ic_stream *s, uint64_t first, int count,
                                uint32_t w[4][PHILOX_BLOCK])
{
    const uint32_t c2 = (uint32_t)s->position, c3 = (uint32_t)(s->position >> 32);
    const uint32_t k0 = s->key[0], k1 = s->key[1];
    for (int j = 0; j < count; j++) {
        uint64_t idx = first + (uint64_t)j;
        uint32_t x0 = (uint32_t)idx, x1 = (uint32_t)(idx >> 32), x2 = c2, x3 = c3;
        uint32_t ka = k0, kb = k1;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 10
#endif
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * x0;
            uint64_t p1 = (uint64_t)PHILOX_M1 * x2;
            uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ ka;
            uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ kb;
            x1 = (uint32_t)p1;
            x3 = (uint32_t)p0;
            x0 = y0;
            x2 = y2;
            ka += PHILOX_W0;
            kb += PHILOX_W1;
        }
        w[0][j] = x0;
        w[1][j] = x1;
        w[2][j] = x2;
        w[3][j] = x3;
    }
}

/* Full blocks (PHILOX_BLOCK counters from `first`) on the fastest SIMD path
 * this CPU has; identical words on every path. */
enum { IC_PHILOX_PORTABLE = 0, IC_PHILOX_AVX2 = 1, IC_PHILOX_AVX512 = 2 };
void ic_philox_block(const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK]);
/* The same on a chosen path; -1 if this CPU or build lacks it. */
int ic_philox_block_path(int path, const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK]);

#endif
