/* initcore's own GEMM (see gemm.h): the micro-kernels, the choice among
 * them, and the per-dtype packing and tiling of gemm_template.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"
#include "parallel.h"
#include "template.h"

#define MR IC_GEMM_MR
#define KC IC_GEMM_KC
/* Rows of A swept per B micro-panel: A's MC x KC block stays in L2 while
 * each KC x NR panel of B is reused from L1 across it. */
#define MC (32 * MR)

/* A micro-kernel forms one MR x NR micro-tile from kl columns of a packed A
 * panel (A[kk MR + r]) and kl rows of a packed B panel (B[kk NR + j]):
 * acc = sum of fma in kk order from 0; C = acc, or C = C + acc when add. */
typedef void kernel_f32(int64_t kl, const float *A, const float *B, float *C, int64_t ldc, int add);
typedef void kernel_f64(int64_t kl, const double *A, const double *B, double *C, int64_t ldc, int add);

/* Portable C: fmaf / fma round as the vector FMAs do. */
#define PORTABLE_KERNEL(SUF, REAL, NR, FMA)                                                    \
    static void kernel_portable_##SUF(int64_t kl, const REAL *A, const REAL *B, REAL *C,       \
                                      int64_t ldc, int add)                                    \
    {                                                                                          \
        REAL acc[MR][NR] = {{0}};                                                              \
        for (int64_t kk = 0; kk < kl; kk++, A += MR, B += NR)                                  \
            for (int r = 0; r < MR; r++)                                                       \
                for (int j = 0; j < NR; j++)                                                   \
                    acc[r][j] = FMA(A[r], B[j], acc[r][j]);                                    \
        for (int r = 0; r < MR; r++)                                                           \
            for (int j = 0; j < NR; j++)                                                       \
                C[r * ldc + j] = add ? C[r * ldc + j] + acc[r][j] : acc[r][j];                 \
    }
PORTABLE_KERNEL(f32, float, IC_GEMM_NR_F32, fmaf)
PORTABLE_KERNEL(f64, double, IC_GEMM_NR_F64, fma)

#if IC_X86_PATHS
/* AVX-512: the whole 12 x 2-vector micro-tile in 24 registers. */
#define AVX512_KERNEL(SUF, REAL, NR, V, W, SET1, FMADD, LOADU, STOREU, ADD, ZERO)             \
    __attribute__((target("avx512f,fma"))) static void kernel_avx512_##SUF(                    \
        int64_t kl, const REAL *A, const REAL *B, REAL *C, int64_t ldc, int add)               \
    {                                                                                          \
        V c0[MR], c1[MR];                                                                      \
        _Pragma("GCC unroll 12") for (int r = 0; r < MR; r++) c0[r] = c1[r] = ZERO();          \
        for (int64_t kk = 0; kk < kl; kk++, A += MR, B += NR) {                                \
            /* the panels' lines a few steps ahead: measured 5-15% on one core */              \
            _mm_prefetch((const char *)(B + 8 * NR), _MM_HINT_T0);                              \
            _mm_prefetch((const char *)(A + 8 * MR), _MM_HINT_T0);                              \
            V b0 = LOADU(B), b1 = LOADU(B + W);                                                \
            _Pragma("GCC unroll 12") for (int r = 0; r < MR; r++)                              \
            {                                                                                  \
                V a = SET1(A[r]);                                                              \
                c0[r] = FMADD(a, b0, c0[r]);                                                   \
                c1[r] = FMADD(a, b1, c1[r]);                                                   \
            }                                                                                  \
        }                                                                                      \
        _Pragma("GCC unroll 12") for (int r = 0; r < MR; r++)                                  \
        {                                                                                      \
            REAL *row = C + r * ldc;                                                           \
            if (add) {                                                                         \
                c0[r] = ADD(LOADU(row), c0[r]);                                                \
                c1[r] = ADD(LOADU(row + W), c1[r]);                                            \
            }                                                                                  \
            STOREU(row, c0[r]);                                                                \
            STOREU(row + W, c1[r]);                                                            \
        }                                                                                      \
    }
AVX512_KERNEL(f32, float, IC_GEMM_NR_F32, __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
              _mm512_storeu_ps, _mm512_add_ps, _mm512_setzero_ps)
AVX512_KERNEL(f64, double, IC_GEMM_NR_F64, __m512d, 8, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_loadu_pd,
              _mm512_storeu_pd, _mm512_add_pd, _mm512_setzero_pd)

/* AVX2 has 16 registers: the micro-tile is swept in four quarters of
 * 6 rows x 2 vectors (12 accumulators), each over the whole K-block. */
#define AVX2_KERNEL(SUF, REAL, NR, V, W, SET1, FMADD, LOADU, STOREU, ADD, ZERO)                \
    __attribute__((target("avx2,fma"))) static void kernel_avx2_##SUF(                         \
        int64_t kl, const REAL *A0, const REAL *B0, REAL *C, int64_t ldc, int add)             \
    {                                                                                          \
        for (int q = 0; q < 4; q++) {                                                          \
            int r0 = q / 2 * 6, j0 = q % 2 * 2 * W;                                            \
            const REAL *A = A0 + r0, *B = B0 + j0;                                             \
            V c0[6], c1[6];                                                                    \
            _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++) c0[r] = c1[r] = ZERO();        \
            for (int64_t kk = 0; kk < kl; kk++, A += MR, B += NR) {                            \
                _mm_prefetch((const char *)(B + 8 * NR), _MM_HINT_T0);                          \
                V b0 = LOADU(B), b1 = LOADU(B + W);                                            \
                _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++)                            \
                {                                                                              \
                    V a = SET1(A[r]);                                                          \
                    c0[r] = FMADD(a, b0, c0[r]);                                               \
                    c1[r] = FMADD(a, b1, c1[r]);                                               \
                }                                                                              \
            }                                                                                  \
            _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++)                                \
            {                                                                                  \
                REAL *row = C + (r0 + r) * ldc + j0;                                           \
                if (add) {                                                                     \
                    c0[r] = ADD(LOADU(row), c0[r]);                                            \
                    c1[r] = ADD(LOADU(row + W), c1[r]);                                        \
                }                                                                              \
                STOREU(row, c0[r]);                                                            \
                STOREU(row + W, c1[r]);                                                        \
            }                                                                                  \
        }                                                                                      \
    }
AVX2_KERNEL(f32, float, IC_GEMM_NR_F32, __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
            _mm256_storeu_ps, _mm256_add_ps, _mm256_setzero_ps)
AVX2_KERNEL(f64, double, IC_GEMM_NR_F64, __m256d, 4, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_loadu_pd,
            _mm256_storeu_pd, _mm256_add_pd, _mm256_setzero_pd)
#endif

/* 2: AVX-512, 1: AVX2, 0: portable; decided once. */
static int kernel_level(void)
{
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l >= 0)
        return l;
    l = 0;
#if IC_X86_PATHS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("fma") && ic_cpu_avx2())
        l = ic_cpu_avx512() ? 2 : 1;
#endif
    const char *cap = getenv("INITCORE_GEMM_KERNEL");
    if (cap && strcmp(cap, "avx2") == 0 && l > 1)
        l = 1;
    else if (cap && strcmp(cap, "portable") == 0)
        l = 0;
    __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    return l;
}

const char *ic_gemm_kernel(void)
{
    static const char *names[] = {"portable", "avx2", "avx512"};
    return names[kernel_level()];
}

#if IC_X86_PATHS
#define KERNEL_OF(SUF)                                                                         \
    static kernel_##SUF *kernel_of_##SUF(void)                                                 \
    {                                                                                          \
        int l = kernel_level();                                                                \
        return l == 2 ? kernel_avx512_##SUF : l == 1 ? kernel_avx2_##SUF : kernel_portable_##SUF; \
    }
#else
#define KERNEL_OF(SUF)                                                                         \
    static kernel_##SUF *kernel_of_##SUF(void)                                                 \
    {                                                                                          \
        return kernel_portable_##SUF;                                                          \
    }
#endif
KERNEL_OF(f32)
KERNEL_OF(f64)

static int64_t round_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b * b;
}

#define REAL float
#define SUF f32
#define NR IC_GEMM_NR_F32
#include "gemm_template.c"
#undef REAL
#undef SUF
#undef NR

#define REAL double
#define SUF f64
#define NR IC_GEMM_NR_F64
#include "gemm_template.c"
#undef REAL
#undef SUF
#undef NR
