/* initcore's own matrix product, row-major, float and double.
 *
 * Every output is one chain of fused multiply-adds in K order, in blocks of
 * IC_GEMM_KC: acc = 0; acc = fma(a_p, b_p, acc) over the block; c = acc for
 * the first block and c = c + acc after. The micro-kernel (AVX-512, AVX2 or
 * portable C, chosen at run time) and the split of the work into tiles
 * change only which outputs are computed together, never that chain. So a
 * product has the same bits for any thread count, any tile grid and any x86
 * or other CPU with FMA (without it, fma() gives the same bits, slowly), and
 * it depends on no BLAS library. The blocks keep the rounding error near
 * (KC + K / KC) units in the last place instead of K.
 *
 * The operands are packed once per product (Goto & van de Geijn 2008, as in
 * BLIS): A in panels of IC_GEMM_MR rows, B in panels of IC_GEMM_NR columns,
 * each K-block contiguous, the panels padded with zeros. Packing is split
 * into items that any thread may take; tiles then read the packed copies. */
#ifndef INITCORE_GEMM_H
#define INITCORE_GEMM_H

#include <stdint.h>

#define IC_GEMM_MR 12  /* rows of a micro-tile */
#define IC_GEMM_KC 256 /* the K-block */
/* Columns of a micro-tile: 32 floats or 16 doubles, two AVX-512 vectors.
 * Tiles passed to ic_product_tile_* start at multiples of MR and NR. */
#define IC_GEMM_NR_F32 32
#define IC_GEMM_NR_F64 16

/* One product C (m x n) = A (m x k) B (k x n), with any strides:
 * A(i, p) = a[i a_row + p a_col] and B(p, j) = b[p b_row + j b_col]. */
#define IC_PRODUCT(REAL, SUF)                                                   \
    typedef struct {                                                            \
        int64_t m, n, k;                                                        \
        const REAL *a;                                                          \
        int64_t a_row, a_col;                                                   \
        const REAL *b;                                                          \
        int64_t b_row, b_col;                                                   \
        REAL *packed; /* ic_product_size_##SUF values, 64-byte aligned */       \
    } ic_product_##SUF;                                                         \
    int64_t ic_product_size_##SUF(const ic_product_##SUF *p);                   \
    int64_t ic_product_pack_items_##SUF(const ic_product_##SUF *p);             \
    void ic_product_pack_##SUF(const ic_product_##SUF *p, int64_t item);        \
    void ic_product_tile_##SUF(const ic_product_##SUF *p, int64_t r0, int64_t r1, \
                               int64_t c0, int64_t c1, REAL *c, int64_t ldc);   \
    int ic_gemm_##SUF(char ta, char tb, int64_t m, int64_t n, int64_t k, REAL alpha, \
                      const REAL *a, int64_t lda, const REAL *b, int64_t ldb,   \
                      REAL beta, REAL *c, int64_t ldc, int nthreads);
IC_PRODUCT(float, f32)
IC_PRODUCT(double, f64)
#undef IC_PRODUCT

/* ic_product_size_*: how many values the packed operands take.
 * ic_product_pack_*: packs item 0 <= item < ic_product_pack_items_*; every
 * item must be packed before any tile is computed.
 * ic_product_tile_*: C[r0:r1, c0:c1] = (A B)[r0:r1, c0:c1] into c, row-major
 * with leading dimension ldc (c points at C[0, 0]).
 * ic_gemm_*: the whole row-major C = alpha op(A) op(B) + beta C, 'T'
 * transposing a row-major operand (beta = 0 ignores C), on up to nthreads
 * threads. Returns 0, or -1 when out of memory. */

/* The micro-kernel in use: "avx512", "avx2" or "portable". The environment
 * variable INITCORE_GEMM_KERNEL, read once, may choose a lower one (to check
 * that they agree); a kernel the CPU lacks is never chosen. */
const char *ic_gemm_kernel(void);

#endif
