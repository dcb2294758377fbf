/* Per-dtype packing and tiling of gemm.c; included with REAL, SUF and NR
 * defined. */

/* Rows of A and columns of B as packed: whole panels. */
static int64_t FN(packed_rows)(const IC_CAT(ic_product, SUF) *p)
{
    return round_up(p->m > 0 ? p->m : 1, MR);
}

static int64_t FN(packed_cols)(const IC_CAT(ic_product, SUF) *p)
{
    return round_up(p->n > 0 ? p->n : 1, NR);
}

/* B starts on a 64-byte boundary after A. */
static int64_t FN(b_offset)(const IC_CAT(ic_product, SUF) *p)
{
    return round_up(FN(packed_rows)(p) * p->k, 64 / (int64_t)sizeof(REAL));
}

int64_t IC_CAT(ic_product_size, SUF)(const IC_CAT(ic_product, SUF) *p)
{
    return FN(b_offset)(p) + FN(packed_cols)(p) * p->k;
}

int64_t IC_CAT(ic_product_pack_items, SUF)(const IC_CAT(ic_product, SUF) *p)
{
    return FN(packed_rows)(p) / MR + FN(packed_cols)(p) / NR;
}

/* Rows i0..i0+MR of A: for each K-block at k0 of length kl, the panel at
 * packed + k0 mp + i0 kl holds A(i0 + r, k0 + kk) at kk MR + r. */
static void FN(pack_a)(const IC_CAT(ic_product, SUF) *p, int64_t i0)
{
    int64_t mp = FN(packed_rows)(p), h = p->m - i0 < MR ? p->m - i0 : MR;
    int64_t rs = p->a_row, cs = p->a_col;
    for (int64_t k0 = 0; k0 < p->k; k0 += KC) {
        int64_t kl = p->k - k0 < KC ? p->k - k0 : KC;
        REAL *dst = p->packed + k0 * mp + i0 * kl;
        const REAL *src = p->a + i0 * rs + k0 * cs;
        if (cs == 1 && h == MR) {
            /* rows contiguous: a transpose, MR rows read side by side */
            for (int64_t kk = 0; kk < kl; kk++)
                for (int r = 0; r < MR; r++)
                    dst[kk * MR + r] = src[r * rs + kk];
        } else if (rs == 1 && h == MR) {
            for (int64_t kk = 0; kk < kl; kk++)
                for (int r = 0; r < MR; r++)
                    dst[kk * MR + r] = src[kk * cs + r];
        } else {
            for (int64_t kk = 0; kk < kl; kk++)
                for (int r = 0; r < MR; r++)
                    dst[kk * MR + r] = r < h ? src[r * rs + kk * cs] : 0;
        }
    }
}

/* Columns j0..j0+NR of B: the panel at packed + b_offset + k0 np + j0 kl
 * holds B(k0 + kk, j0 + c) at kk NR + c. */
static void FN(pack_b)(const IC_CAT(ic_product, SUF) *p, int64_t j0)
{
    int64_t np = FN(packed_cols)(p), w = p->n - j0 < NR ? p->n - j0 : NR;
    int64_t rs = p->b_row, cs = p->b_col;
    for (int64_t k0 = 0; k0 < p->k; k0 += KC) {
        int64_t kl = p->k - k0 < KC ? p->k - k0 : KC;
        REAL *dst = p->packed + FN(b_offset)(p) + k0 * np + j0 * kl;
        const REAL *src = p->b + k0 * rs + j0 * cs;
        if (cs == 1 && w == NR) {
            for (int64_t kk = 0; kk < kl; kk++)
                for (int c = 0; c < NR; c++)
                    dst[kk * NR + c] = src[kk * rs + c];
        } else if (rs == 1) {
            /* columns contiguous: each read in order, written down the panel */
            for (int64_t c = 0; c < NR; c++)
                for (int64_t kk = 0; kk < kl; kk++)
                    dst[kk * NR + c] = c < w ? src[c * cs + kk] : 0;
        } else {
            for (int64_t kk = 0; kk < kl; kk++)
                for (int64_t c = 0; c < NR; c++)
                    dst[kk * NR + c] = c < w ? src[kk * rs + c * cs] : 0;
        }
    }
}

void IC_CAT(ic_product_pack, SUF)(const IC_CAT(ic_product, SUF) *p, int64_t item)
{
    int64_t a_items = FN(packed_rows)(p) / MR;
    if (item < a_items)
        FN(pack_a)(p, item * MR);
    else
        FN(pack_b)(p, (item - a_items) * NR);
}

void IC_CAT(ic_product_tile, SUF)(const IC_CAT(ic_product, SUF) *p, int64_t r0, int64_t r1, int64_t c0,
                                   int64_t c1, REAL *c, int64_t ldc)
{
    IC_CAT(kernel, SUF) *kernel = FN(kernel_of)();
    int64_t mp = FN(packed_rows)(p), np = FN(packed_cols)(p);
    const REAL *pa = p->packed, *pb = p->packed + FN(b_offset)(p);
    REAL edge[MR * NR];
    if (p->k == 0) {
        for (int64_t i = r0; i < r1; i++)
            for (int64_t j = c0; j < c1; j++)
                c[i * ldc + j] = 0;
        return;
    }
    for (int64_t ib = r0; ib < r1; ib += MC) {
        int64_t ie = ib + MC < r1 ? ib + MC : r1;
        for (int64_t k0 = 0; k0 < p->k; k0 += KC) {
            int64_t kl = p->k - k0 < KC ? p->k - k0 : KC;
            const REAL *ak = pa + k0 * mp, *bk = pb + k0 * np;
            for (int64_t j = c0; j < c1; j += NR) {
                int64_t w = c1 - j < NR ? c1 - j : NR;
                for (int64_t i = ib; i < ie; i += MR) {
                    int64_t h = ie - i < MR ? ie - i : MR;
                    REAL *out = c + i * ldc + j;
                    if (h == MR && w == NR) {
                        kernel(kl, ak + i * kl, bk + j * kl, out, ldc, k0 > 0);
                        continue;
                    }
                    /* a partial micro-tile: the same sums, then the same addition */
                    kernel(kl, ak + i * kl, bk + j * kl, edge, NR, 0);
                    for (int64_t r = 0; r < h; r++)
                        for (int64_t q = 0; q < w; q++)
                            out[r * ldc + q] = k0 > 0 ? out[r * ldc + q] + edge[r * NR + q] : edge[r * NR + q];
                }
            }
        }
    }
}

/* Tiles of a whole product for ic_gemm: any grid gives the same bits, so
 * this one only aims at about four tiles per thread. */
static void FN(gemm_grid)(int64_t m, int64_t n, int nthreads, int64_t *tr, int64_t *tc)
{
    *tr = round_up(m < MC ? (m > 0 ? m : 1) : MC, MR);
    *tc = round_up(n < 8 * NR ? (n > 0 ? n : 1) : 8 * NR, NR);
    for (;;) {
        int64_t tiles = ((m + *tr - 1) / *tr) * ((n + *tc - 1) / *tc);
        if (tiles >= 4 * (int64_t)nthreads)
            return;
        if (*tc > NR)
            *tc = round_up(*tc / 2, NR);
        else if (*tr > MR)
            *tr = round_up(*tr / 2, MR);
        else
            return;
    }
}

int IC_CAT(ic_gemm, SUF)(char ta, char tb, int64_t m, int64_t n, int64_t k, REAL alpha, const REAL *a,
                         int64_t lda, const REAL *b, int64_t ldb, REAL beta, REAL *c, int64_t ldc,
                         int nthreads)
{
    IC_CAT(ic_product, SUF) p = {
        .m = m, .n = n, .k = k,
        .a = a, .a_row = ta == 'N' ? lda : 1, .a_col = ta == 'N' ? 1 : lda,
        .b = b, .b_row = tb == 'N' ? ldb : 1, .b_col = tb == 'N' ? 1 : ldb,
    };
    int direct = alpha == 1 && beta == 0;
    int64_t size = IC_CAT(ic_product_size, SUF)(&p), scratch = direct ? 0 : m * n;
    char *buf = malloc((size_t)(size + scratch) * sizeof(REAL) + 64);
    if (!buf)
        return -1;
    p.packed = (REAL *)(buf + (64 - (uintptr_t)buf % 64) % 64);
    REAL *prod = direct ? c : p.packed + size;
    int64_t ldp = direct ? ldc : n, tr, tc;
    FN(gemm_grid)(m, n, nthreads, &tr, &tc);
    int64_t nr = (m + tr - 1) / tr, tiles = nr * ((n + tc - 1) / tc);
    int64_t items = IC_CAT(ic_product_pack_items, SUF)(&p);
    IC_PARALLEL(nthreads > 1)
    {
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < items; s++)
            IC_CAT(ic_product_pack, SUF)(&p, s);
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < tiles; s++) {
            int64_t r0 = s % nr * tr, c0 = s / nr * tc;
            int64_t r1 = r0 + tr < m ? r0 + tr : m, c1 = c0 + tc < n ? c0 + tc : n;
            IC_CAT(ic_product_tile, SUF)(&p, r0, r1, c0, c1, prod, ldp);
            if (direct)
                continue;
            for (int64_t i = r0; i < r1; i++)
                for (int64_t j = c0; j < c1; j++)
                    c[i * ldc + j] = beta == 0 ? alpha * prod[i * n + j]
                                               : alpha * prod[i * n + j] + beta * c[i * ldc + j];
        }
    }
    free(buf);
    return 0;
}
