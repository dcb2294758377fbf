/* Stream compaction for rejection sampling: keep cand[i] where ok[i] != 0.
 * AVX-512 compresses 16 floats (8 doubles) per step, chosen at run time; the
 * portable loop gives the same result. */
#include "compact.h"

#include "cpu.h"

#define IC_COMPACT(SUF, REAL)                                                        \
    static int compact_portable_##SUF(const REAL *cand, const unsigned char *ok,     \
                                      int m, REAL *dst)                              \
    {                                                                                \
        int count = 0;                                                               \
        for (int i = 0; i < m; i++) {                                                \
            dst[count] = cand[i];                                                    \
            count += ok[i];                                                          \
        }                                                                            \
        return count;                                                                \
    }
IC_COMPACT(f32, float)
IC_COMPACT(f64, double)

#if IC_X86_PATHS
__attribute__((target("avx512f")))
static int compact_avx512_f32(const float *cand, const unsigned char *ok, int m, float *dst)
{
    int count = 0;
    for (int i = 0; i < m; i += 16) {
        __m512i flags = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ok + i)));
        __mmask16 keep = _mm512_test_epi32_mask(flags, flags);
        _mm512_storeu_ps(dst + count, _mm512_maskz_compress_ps(keep, _mm512_loadu_ps(cand + i)));
        count += __builtin_popcount(keep);
    }
    return count;
}

__attribute__((target("avx512f")))
static int compact_avx512_f64(const double *cand, const unsigned char *ok, int m, double *dst)
{
    int count = 0;
    for (int i = 0; i < m; i += 8) {
        __m512i flags = _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(ok + i)));
        __mmask8 keep = _mm512_test_epi64_mask(flags, flags);
        _mm512_storeu_pd(dst + count, _mm512_maskz_compress_pd(keep, _mm512_loadu_pd(cand + i)));
        count += __builtin_popcount(keep);
    }
    return count;
}

static int has_avx512(void)
{
    static int known = -1;   /* a race here only stores the same value twice */
    if (known < 0)
        known = ic_cpu_avx512() ? 1 : 0;
    return known;
}
#endif

int ic_compact_f32(const float *cand, const unsigned char *ok, int m, float *dst)
{
#if IC_X86_PATHS
    if (has_avx512())
        return compact_avx512_f32(cand, ok, m, dst);
#endif
    return compact_portable_f32(cand, ok, m, dst);
}

int ic_compact_f64(const double *cand, const unsigned char *ok, int m, double *dst)
{
#if IC_X86_PATHS
    if (has_avx512())
        return compact_avx512_f64(cand, ok, m, dst);
#endif
    return compact_portable_f64(cand, ok, m, dst);
}
