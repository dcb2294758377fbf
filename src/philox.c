/* Philox blocks with x86 SIMD paths chosen at run time. Every path returns the
 * same words as the portable philox_block(); tests compare them. */
#include "philox.h"

#include "cpu.h"

static void philox_portable(const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK])
{
    philox_block(s, first, PHILOX_BLOCK, w);
}

#if IC_X86_PATHS
/* One Philox round on 32-bit lanes: mul_epu32 multiplies the even lanes, so the
 * odd lanes are shifted down, multiplied, and the halves blended back. All
 * groups advance together, which hides the multiply latency. */

#define AVX512_GROUPS (PHILOX_BLOCK / 16)

__attribute__((target("avx512f")))
static void philox_avx512(const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK])
{
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M0), m1 = _mm512_set1_epi64(PHILOX_M1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i x0[AVX512_GROUPS], x1[AVX512_GROUPS], x2[AVX512_GROUPS], x3[AVX512_GROUPS];
    for (int g = 0; g < AVX512_GROUPS; g++) {
        uint64_t base = first + (uint64_t)(16 * g);
        __m512i lo = _mm512_set1_epi32((int)(uint32_t)base);
        __m512i hi = _mm512_set1_epi32((int)(uint32_t)(base >> 32));
        x0[g] = _mm512_add_epi32(lo, lane);
        x1[g] = _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(x0[g], lo), hi, _mm512_set1_epi32(1));
        x2[g] = _mm512_set1_epi32((int)(uint32_t)s->position);
        x3[g] = _mm512_set1_epi32((int)(uint32_t)(s->position >> 32));
    }
    uint32_t ka = s->key[0], kb = s->key[1];
    for (int r = 0; r < 10; r++) {
        const __m512i vka = _mm512_set1_epi32((int)ka), vkb = _mm512_set1_epi32((int)kb);
        for (int g = 0; g < AVX512_GROUPS; g++) {
            __m512i p0e = _mm512_mul_epu32(x0[g], m0), p0o = _mm512_mul_epu32(_mm512_srli_epi64(x0[g], 32), m0);
            __m512i p1e = _mm512_mul_epu32(x2[g], m1), p1o = _mm512_mul_epu32(_mm512_srli_epi64(x2[g], 32), m1);
            /* a masked swap of 32-bit halves both moves and merges */
            __m512i hi0 = _mm512_mask_shuffle_epi32(p0o, 0x5555, p0e, _MM_PERM_CDAB);
            __m512i lo0 = _mm512_mask_shuffle_epi32(p0e, 0xAAAA, p0o, _MM_PERM_CDAB);
            __m512i hi1 = _mm512_mask_shuffle_epi32(p1o, 0x5555, p1e, _MM_PERM_CDAB);
            __m512i lo1 = _mm512_mask_shuffle_epi32(p1e, 0xAAAA, p1o, _MM_PERM_CDAB);
            x0[g] = _mm512_ternarylogic_epi32(hi1, x1[g], vka, 0x96);   /* three-way xor */
            x2[g] = _mm512_ternarylogic_epi32(hi0, x3[g], vkb, 0x96);
            x1[g] = lo1;
            x3[g] = lo0;
        }
        ka += PHILOX_W0;
        kb += PHILOX_W1;
    }
    for (int g = 0; g < AVX512_GROUPS; g++) {
        _mm512_storeu_si512(&w[0][16 * g], x0[g]);
        _mm512_storeu_si512(&w[1][16 * g], x1[g]);
        _mm512_storeu_si512(&w[2][16 * g], x2[g]);
        _mm512_storeu_si512(&w[3][16 * g], x3[g]);
    }
}

#define AVX2_GROUPS (PHILOX_BLOCK / 8)

__attribute__((target("avx2")))
static void philox_avx2(const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK])
{
    const __m256i m0 = _mm256_set1_epi64x(PHILOX_M0), m1 = _mm256_set1_epi64x(PHILOX_M1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    __m256i x0[AVX2_GROUPS], x1[AVX2_GROUPS], x2[AVX2_GROUPS], x3[AVX2_GROUPS];
    for (int g = 0; g < AVX2_GROUPS; g++) {
        uint64_t base = first + (uint64_t)(8 * g);
        __m256i lo = _mm256_set1_epi32((int)(uint32_t)base);
        __m256i hi = _mm256_set1_epi32((int)(uint32_t)(base >> 32));
        x0[g] = _mm256_add_epi32(lo, lane);
        /* unsigned x0 < lo means the low word wrapped: carry into the high word */
        __m256i carry = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, sign), _mm256_xor_si256(x0[g], sign));
        x1[g] = _mm256_sub_epi32(hi, carry);
        x2[g] = _mm256_set1_epi32((int)(uint32_t)s->position);
        x3[g] = _mm256_set1_epi32((int)(uint32_t)(s->position >> 32));
    }
    uint32_t ka = s->key[0], kb = s->key[1];
    for (int r = 0; r < 10; r++) {
        const __m256i vka = _mm256_set1_epi32((int)ka), vkb = _mm256_set1_epi32((int)kb);
        for (int g = 0; g < AVX2_GROUPS; g++) {
            __m256i p0e = _mm256_mul_epu32(x0[g], m0), p0o = _mm256_mul_epu32(_mm256_srli_epi64(x0[g], 32), m0);
            __m256i p1e = _mm256_mul_epu32(x2[g], m1), p1o = _mm256_mul_epu32(_mm256_srli_epi64(x2[g], 32), m1);
            __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(p0e, 32), p0o, 0xAA);
            __m256i lo0 = _mm256_blend_epi32(p0e, _mm256_slli_epi64(p0o, 32), 0xAA);
            __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(p1e, 32), p1o, 0xAA);
            __m256i lo1 = _mm256_blend_epi32(p1e, _mm256_slli_epi64(p1o, 32), 0xAA);
            x0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, x1[g]), vka);
            x2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, x3[g]), vkb);
            x1[g] = lo1;
            x3[g] = lo0;
        }
        ka += PHILOX_W0;
        kb += PHILOX_W1;
    }
    for (int g = 0; g < AVX2_GROUPS; g++) {
        _mm256_storeu_si256((__m256i *)&w[0][8 * g], x0[g]);
        _mm256_storeu_si256((__m256i *)&w[1][8 * g], x1[g]);
        _mm256_storeu_si256((__m256i *)&w[2][8 * g], x2[g]);
        _mm256_storeu_si256((__m256i *)&w[3][8 * g], x3[g]);
    }
}
#endif

typedef void (*philox_fn)(const ic_stream *, uint64_t, uint32_t[4][PHILOX_BLOCK]);

static philox_fn path_fn(int path)
{
#if IC_X86_PATHS
    if (path == IC_PHILOX_AVX512 && ic_cpu_avx512())
        return philox_avx512;
    if (path == IC_PHILOX_AVX2 && ic_cpu_avx2())
        return philox_avx2;
#endif
    return path == IC_PHILOX_PORTABLE ? philox_portable : 0;
}

static philox_fn best_fn(void)
{
    static philox_fn best = 0;   /* a race here only stores the same value twice */
    if (!best) {
        philox_fn f = path_fn(IC_PHILOX_AVX512);
        if (!f)
            f = path_fn(IC_PHILOX_AVX2);
        best = f ? f : philox_portable;
    }
    return best;
}

void ic_philox_block(const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK])
{
    best_fn()(s, first, w);
}

int ic_philox_block_path(int path, const ic_stream *s, uint64_t first, uint32_t w[4][PHILOX_BLOCK])
{
    philox_fn f = path_fn(path);
    if (!f)
        return -1;
    f(s, first, w);
    return 0;
}
