/* Per-dtype layer kernels; included by layers.c with REAL, SUF, GEMM, PHI,
 * DPHI and BITS defined. */
#define FN(name) IC_CAT(name, SUF)

/* Moments of one tensor within one block, in LANES fixed lanes so that the
 * loops vectorize and every SIMD clone rounds the same. Sums are of
 * (value - shift) over finite values, the shift being the block's first finite
 * value, so that they do not cancel. */
typedef struct {
    double s1[LANES], s2[LANES];
    REAL min[LANES], max[LANES];
    int32_t zero[LANES], saturated[LANES];   /* < 2^31: a lane sees at most one value per row and unit */
    double shift, count, nan, inf;
    int shifted;
} FN(lanes);

/* Per-unit sums of one tensor within one block (same scheme), and a hash of
 * each unit's values. */
typedef struct {
    double *s1, *s2, *shift;
    int32_t *nonfinite;
    uint64_t *hash;
} FN(units);

/* Everything one tensor accumulates, for all blocks. */
typedef struct {
    int64_t n, blocks, nbins;
    int counts;                  /* count zeros and saturated values */
    double lo, hi;
    hist_geom geom;
    FN(lanes) *lanes;            /* [block] */
    FN(units) units;             /* [block][unit], or NULL pointers */
    double *colsum;              /* [block][unit], or NULL */
    int64_t *hist;               /* [block][HIST_COPIES][nbins + 3], or NULL */
} FN(acc);

static void FN(acc_free)(FN(acc) *c)
{
    free(c->lanes);
    free(c->units.s1); free(c->units.s2); free(c->units.shift); free(c->units.nonfinite);
    free(c->units.hash);
    free(c->colsum); free(c->hist);
    memset(c, 0, sizeof *c);
}

/* Returns 0, or -1 when out of memory. */
static int FN(acc_init)(FN(acc) *c, int64_t blocks, int64_t n, int counts, double lo, double hi,
                        int with_units, int with_colsum, const ic_stats *st, int with_hist)
{
    size_t cells = (size_t)(blocks * n) + 1;
    memset(c, 0, sizeof *c);
    c->n = n;
    c->counts = counts;
    c->blocks = blocks;
    c->lo = lo;
    c->hi = hi;
    int ok = (c->lanes = calloc((size_t)blocks + 1, sizeof(FN(lanes)))) != NULL;
    if (with_units) {
        FN(units) *u = &c->units;
        ok = ok && (u->s1 = calloc(cells, sizeof(double))) && (u->s2 = calloc(cells, sizeof(double)))
             && (u->shift = calloc(cells, sizeof(double)))
             && (u->nonfinite = calloc(cells, sizeof(int32_t)))
             && (u->hash = calloc(cells, sizeof(uint64_t)));
    }
    if (with_colsum)
        ok = ok && (c->colsum = calloc(cells, sizeof(double)));
    if (with_hist && st && st->hist) {
        c->nbins = st->nbins;
        c->geom = hist_geometry(st->hist_lo, st->hist_hi, st->nbins);
        ok = ok && (c->hist = calloc((size_t)(blocks * HIST_COPIES * (st->nbins + 3)), sizeof(int64_t)));
    }
    if (!ok) {
        FN(acc_free)(c);
        return -1;
    }
    return 0;
}

/* z += b; returns nonzero when a value is not finite. */
IC_SIMD static int FN(add_bias)(REAL *restrict z, const REAL *restrict b, int64_t n)
{
    int bad = 0;
    if (b)
        for (int64_t j = 0; j < n; j++) {
            REAL v = z[j] + b[j];
            z[j] = v;
            bad |= v - v != 0;
        }
    else
        for (int64_t j = 0; j < n; j++)
            bad |= z[j] - z[j] != 0;
    return bad;
}

IC_SIMD static int FN(any_nonfinite)(const REAL *v, int64_t n)
{
    int bad = 0;
    for (int64_t j = 0; j < n; j++)
        bad |= v[j] - v[j] != 0;
    return bad;
}

/* The switch sits outside the loops so each case compiles to its own
 * vectorized loop (see activations.c). */
#define PHI_CASE(ID)                                   \
    case ID:                                           \
        for (int64_t j = 0; j < n; j++)                \
            a[j] = PHI(ID, p, z[j]);                   \
        break;
IC_SIMD static void FN(phi_row)(int id, REAL p, const REAL *z, REAL *a, int64_t n)
{
    switch (id) {
        PHI_CASE(IC_ACT_LINEAR) PHI_CASE(IC_ACT_RELU) PHI_CASE(IC_ACT_LEAKY_RELU)
        PHI_CASE(IC_ACT_ELU) PHI_CASE(IC_ACT_SELU) PHI_CASE(IC_ACT_GELU)
        PHI_CASE(IC_ACT_GELU_TANH) PHI_CASE(IC_ACT_SILU) PHI_CASE(IC_ACT_SOFTPLUS)
        PHI_CASE(IC_ACT_TANH) PHI_CASE(IC_ACT_SIGMOID) PHI_CASE(IC_ACT_ERF)
        PHI_CASE(IC_ACT_HARDTANH) PHI_CASE(IC_ACT_SIN)
    }
}
#undef PHI_CASE

/* g *= phi'(z) */
#define DPHI_CASE(ID)                                  \
    case ID:                                           \
        for (int64_t j = 0; j < n; j++)                \
            g[j] = g[j] * DPHI(ID, p, z[j]);           \
        break;
IC_SIMD static void FN(dphi_row)(int id, REAL p, const REAL *restrict z, REAL *restrict g, int64_t n)
{
    switch (id) {
        DPHI_CASE(IC_ACT_LINEAR) DPHI_CASE(IC_ACT_RELU) DPHI_CASE(IC_ACT_LEAKY_RELU)
        DPHI_CASE(IC_ACT_ELU) DPHI_CASE(IC_ACT_SELU) DPHI_CASE(IC_ACT_GELU)
        DPHI_CASE(IC_ACT_GELU_TANH) DPHI_CASE(IC_ACT_SILU) DPHI_CASE(IC_ACT_SOFTPLUS)
        DPHI_CASE(IC_ACT_TANH) DPHI_CASE(IC_ACT_SIGMOID) DPHI_CASE(IC_ACT_ERF)
        DPHI_CASE(IC_ACT_HARDTANH) DPHI_CASE(IC_ACT_SIN)
    }
}
#undef DPHI_CASE

static void FN(lanes_start)(FN(lanes) *m)
{
    for (int l = 0; l < LANES; l++) {
        m->min[l] = (REAL)INFINITY;
        m->max[l] = (REAL)-INFINITY;
    }
}

/* The shift: the block's first finite value. */
static void FN(lanes_shift)(FN(lanes) *m, const REAL *v, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        if (v[j] - v[j] == 0) {
            m->shift = v[j];
            m->shifted = 1;
            return;
        }
}

#define LANE_SUMS(x, l)                              \
    double d = (double)(x) - k;                      \
    s1[l] += d;                                      \
    s2[l] += d * d;                                  \
    mn[l] = (x) < mn[l] ? (x) : mn[l];               \
    mx[l] = (x) > mx[l] ? (x) : mx[l];
#define LANE_COUNTS(x, l)                            \
    zero[l] += (x) == 0;                             \
    sat[l] += ((double)(x) < lo) | ((double)(x) > hi);

/* A row with only finite values; zeros and saturated values are counted
 * only with `counts`. */
IC_SIMD static void FN(lanes_fast)(FN(lanes) *restrict m, const REAL *restrict v, int64_t n,
                                   int counts, double lo, double hi)
{
    double s1[LANES], s2[LANES], k = m->shift;
    REAL mn[LANES], mx[LANES];
    int32_t zero[LANES], sat[LANES];
    memcpy(s1, m->s1, sizeof s1); memcpy(s2, m->s2, sizeof s2);
    memcpy(mn, m->min, sizeof mn); memcpy(mx, m->max, sizeof mx);
    memcpy(zero, m->zero, sizeof zero); memcpy(sat, m->saturated, sizeof sat);
    int64_t j = 0;
    if (counts)
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                LANE_SUMS(v[j + l], l)
                LANE_COUNTS(v[j + l], l)
            }
    else
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                LANE_SUMS(v[j + l], l)
            }
    for (int l = 0; j < n; j++, l++) {
        LANE_SUMS(v[j], l)
        if (counts) {
            LANE_COUNTS(v[j], l)
        }
    }
    memcpy(m->s1, s1, sizeof s1); memcpy(m->s2, s2, sizeof s2);
    memcpy(m->min, mn, sizeof mn); memcpy(m->max, mx, sizeof mx);
    memcpy(m->zero, zero, sizeof zero); memcpy(m->saturated, sat, sizeof sat);
    m->count += (double)n;
}
#undef LANE_SUMS
#undef LANE_COUNTS

/* A row with NaN or infinities: they are counted and left out of the sums. */
static void FN(lanes_slow)(FN(lanes) *m, const REAL *v, int64_t n, int counts, double lo,
                           double hi)
{
    double k = m->shift;
    for (int64_t j = 0; j < n; j++) {
        REAL x = v[j];
        int l = (int)(j % LANES);
        if (x - x == 0) {
            double d = (double)x - k;
            m->s1[l] += d;
            m->s2[l] += d * d;
            m->min[l] = x < m->min[l] ? x : m->min[l];
            m->max[l] = x > m->max[l] ? x : m->max[l];
            if (counts) {
                m->zero[l] += x == 0;
                m->saturated[l] += ((double)x < lo) | ((double)x > hi);
            }
            m->count += 1;
        } else {
            *(x != x ? &m->nan : &m->inf) += 1;
        }
    }
}

IC_SIMD static void FN(units_first)(const REAL *restrict v, int64_t n, double *restrict shift)
{
    for (int64_t j = 0; j < n; j++)
        shift[j] = v[j] - v[j] == 0 ? (double)v[j] : 0.0;
}

/* A row with only finite values. */
IC_SIMD static void FN(units_fast)(const REAL *restrict v, int64_t n, double *restrict s1,
                                   double *restrict s2, const double *restrict shift,
                                   uint64_t *restrict hash)
{
    for (int64_t j = 0; j < n; j++) {
        double d = (double)v[j] - shift[j];
        s1[j] += d;
        s2[j] += d * d;
        hash[j] = (hash[j] ^ BITS(v[j])) * HASH_PRIME;
    }
}

static void FN(units_slow)(const REAL *v, int64_t n, FN(units) *u, int64_t o)
{
    for (int64_t j = 0; j < n; j++) {
        REAL x = v[j];
        if (x - x == 0) {
            double d = (double)x - u->shift[o + j];
            u->s1[o + j] += d;
            u->s2[o + j] += d * d;
        } else {
            u->nonfinite[o + j]++;
        }
        u->hash[o + j] = (u->hash[o + j] ^ BITS(x)) * HASH_PRIME;
    }
}

IC_SIMD static void FN(units_sum)(const REAL *restrict v, int64_t n, double *restrict sum)
{
    for (int64_t j = 0; j < n; j++)
        sum[j] += v[j];
}

/* Bins as numpy.histogram computes them: edges lo + k step (the last one hi),
 * each bin closed on the left, the last closed on the right too; slot 0
 * counts values below lo, nbins + 1 above hi, nbins + 2 NaN. The slots of a
 * row are found vectorized, then counted into HIST_COPIES interleaved copies
 * so that runs of equal slots do not serialize. */
IC_SIMD static void FN(hist_slots)(const REAL *restrict v, int64_t n, int32_t *restrict slot,
                                   const hist_geom *g)
{
    double lo = g->lo, hi = g->hi, norm = g->norm, step = g->step, last = (double)(g->nbins - 1);
    int32_t top = (int32_t)g->nbins - 1;
    for (int64_t j = 0; j < n; j++) {
        /* selects and bitwise logic only, so that the loop vectorizes */
        double x = (double)v[j], t = (x - lo) * norm;
        int32_t k = (int32_t)(t >= 0 ? (t <= last ? t : last) : 0.0);
        double below = (double)k * step + lo;
        double above = (double)(k + 1) * step + lo;
        above = k == top ? hi : above;
        k = k - (x < below) + ((x >= above) & (k != top));
        int32_t out = x < lo ? 0 : k + 1;
        slot[j] = x > hi ? top + 2 : out;
    }
}

static void FN(hist_row)(const REAL *v, int64_t n, int64_t *hist, const hist_geom *g, int bad)
{
    int32_t slot[HIST_ROW];
    int64_t stride = g->nbins + 3;
    for (int64_t j0 = 0; j0 < n; j0 += HIST_ROW) {
        int64_t m = n - j0 < HIST_ROW ? n - j0 : HIST_ROW;
        FN(hist_slots)(v + j0, m, slot, g);
        if (bad)
            for (int64_t j = 0; j < m; j++)
                if (v[j0 + j] != v[j0 + j])
                    slot[j] = (int32_t)g->nbins + 2;
        int64_t j = 0;
        for (; j + HIST_COPIES <= m; j += HIST_COPIES)
            for (int c = 0; c < HIST_COPIES; c++)
                hist[c * stride + slot[j + c]]++;
        for (; j < m; j++)
            hist[slot[j]]++;
    }
}

/* Accumulates row `i` of block `blk`. */
static void FN(acc_row)(FN(acc) *c, int64_t blk, int64_t i, const REAL *v, int bad)
{
    int64_t n = c->n, o = blk * n;
    FN(lanes) *m = &c->lanes[blk];
    FN(units) *u = &c->units;
    if (i == 0)
        FN(lanes_start)(m);
    if (!m->shifted)
        FN(lanes_shift)(m, v, n);
    if (bad)
        FN(lanes_slow)(m, v, n, c->counts, c->lo, c->hi);
    else
        FN(lanes_fast)(m, v, n, c->counts, c->lo, c->hi);
    if (u->s1) {
        if (i == 0)
            FN(units_first)(v, n, u->shift + o);
        if (bad)
            FN(units_slow)(v, n, u, o);
        else
            FN(units_fast)(v, n, u->s1 + o, u->s2 + o, u->shift + o, u->hash + o);
    }
    if (c->colsum)
        FN(units_sum)(v, n, c->colsum + o);
    if (c->hist)
        FN(hist_row)(v, n, c->hist + blk * HIST_COPIES * (c->nbins + 3), &c->geom, bad);
}

/* Merges the blocks in order: moments, per-unit [mean, var] (units, may be
 * NULL), unit hashes, the histogram and the column sums. */
static void FN(acc_finish)(const FN(acc) *c, const int64_t *rows_of, ic_moments *m,
                           double *units, uint64_t *hash, int64_t *hist, REAL *colsum)
{
    int64_t n = c->n;
    double lo = INFINITY, hi = -INFINITY;
    moments_empty(m);
    for (int64_t b = 0; b < c->blocks; b++) {
        const FN(lanes) *l = &c->lanes[b];
        double s1 = 0, s2 = 0;
        for (int k = 0; k < LANES; k++) {
            s1 += l->s1[k];
            s2 += l->s2[k];
            lo = l->min[k] < lo ? l->min[k] : lo;
            hi = l->max[k] > hi ? l->max[k] : hi;
            m->zero += (double)l->zero[k];
            m->saturated += (double)l->saturated[k];
        }
        m->nan += l->nan;
        m->inf += l->inf;
        if (l->count > 0) {
            double m2 = s2 - s1 * (s1 / l->count);
            chan_merge(&m->count, &m->mean, &m->m2, l->count, l->shift + s1 / l->count,
                       m2 > 0 ? m2 : 0.0);
        }
    }
    if (m->count > 0) {
        m->min = lo;
        m->max = hi;
    }
    if (c->units.s1)
        for (int64_t j = 0; j < n; j++) {
            const FN(units) *u = &c->units;
            double count = 0, mean = 0, m2 = 0;
            uint64_t h = 0;
            for (int64_t b = 0; b < c->blocks; b++) {
                int64_t o = b * n + j;
                double nb = (double)(rows_of[b] - u->nonfinite[o]);
                if (nb > 0) {
                    double s1 = u->s1[o], m2_b = u->s2[o] - s1 * (s1 / nb);
                    chan_merge(&count, &mean, &m2, nb, u->shift[o] + s1 / nb, m2_b > 0 ? m2_b : 0.0);
                }
                h = h * HASH_PRIME + u->hash[o];
            }
            if (units) {
                units[j] = count > 0 ? mean : NAN;
                units[n + j] = count > 0 ? m2 / count : NAN;
            }
            if (hash)
                hash[j] = h;
        }
    if (colsum)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t b = 0; b < c->blocks; b++)
                sum += c->colsum[b * n + j];
            colsum[j] = (REAL)sum;
        }
    if (hist && c->hist)
        for (int64_t b = 0; b < c->blocks * HIST_COPIES; b++)
            for (int64_t k = 0; k < c->nbins + 2; k++)
                hist[k] += c->hist[b * (c->nbins + 3) + k];
}

/* Sum of squares with eight fixed lanes: the same rounding in every SIMD clone. */
IC_SIMD static double FN(sum_squares)(const REAL *v, int64_t n)
{
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            lane[l] += (double)v[i + l] * (double)v[i + l];
    for (; i < n; i++)
        lane[0] += (double)v[i] * (double)v[i];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

static int64_t *FN(rows_of_blocks)(int64_t total, int64_t rows, int64_t blocks)
{
    int64_t *r = malloc(((size_t)blocks + 1) * sizeof(int64_t));
    if (r)
        for (int64_t b = 0; b < blocks; b++)
            r[b] = total - b * rows < rows ? total - b * rows : rows;
    return r;
}

int IC_CAT(ic_forward, SUF)(GEMM *gemm, int64_t batch, int64_t n_in, int64_t n_out,
                            const REAL *x, const REAL *w, const REAL *b, REAL *z, REAL *a,
                            const ic_act *act, const ic_stats *st, int nthreads)
{
    int64_t rows = block_rows(batch, n_out), blocks = (batch + rows - 1) / rows;
    REAL *c = z ? z : a, p = (REAL)act->param;
    int id = act->id;
    FN(acc) zacc, aacc;
    int64_t *rows_of = NULL;
    if (st) {
        rows_of = FN(rows_of_blocks)(batch, rows, blocks);
        if (!rows_of)
            return -1;
        if (FN(acc_init)(&zacc, blocks, n_out, 0, -INFINITY, INFINITY, 0, 0, st, 0) < 0) {
            free(rows_of);
            return -1;
        }
        if (FN(acc_init)(&aacc, blocks, n_out, 1, st->sat_lo, st->sat_hi,
                         st->units != NULL || st->unit_hash != NULL, 0, st, 1) < 0) {
            FN(acc_free)(&zacc);
            free(rows_of);
            return -1;
        }
    }
    int64_t teams = team_count(nthreads, blocks), t;
    IC_PARALLEL_FOR(teams > 1)
    for (t = 0; t < teams; t++) {
        /* one GEMM over this thread's blocks (BLAS is fastest on big
         * products), then the statistics block by block */
        int64_t b0 = t * blocks / teams, b1 = (t + 1) * blocks / teams;
        int64_t r0 = b0 * rows, r1 = b1 * rows < batch ? b1 * rows : batch;
        int m = (int)n_out, n = (int)(r1 - r0), k = (int)n_in;
        REAL one = 1, zero = 0;
        char no = 'N';
        gemm(&no, &no, &m, &n, &k, &one, (REAL *)w, &m, (REAL *)x + r0 * n_in, &k, &zero,
             c + r0 * n_out, &m);
        for (int64_t bk = b0; bk < b1; bk++) {
            int64_t first = bk * rows, nr = batch - first < rows ? batch - first : rows;
            for (int64_t i = 0; i < nr; i++) {
                REAL *zr = c + (first + i) * n_out, *ar = a + (first + i) * n_out;
                int bad = FN(add_bias)(zr, b, n_out);
                if (st)
                    FN(acc_row)(&zacc, bk, i, zr, bad);
                FN(phi_row)(id, p, zr, ar, n_out);
                if (st)
                    FN(acc_row)(&aacc, bk, i, ar, FN(any_nonfinite)(ar, n_out));
            }
        }
    }
    if (st) {
        FN(acc_finish)(&zacc, rows_of, &st->moments[0], NULL, NULL, NULL, NULL);
        FN(acc_finish)(&aacc, rows_of, &st->moments[1], st->units, st->unit_hash, st->hist, NULL);
        FN(acc_free)(&zacc);
        FN(acc_free)(&aacc);
        free(rows_of);
    }
    return 0;
}

int IC_CAT(ic_backward, SUF)(GEMM *gemm, int64_t batch, int64_t n_in, int64_t n_out,
                             const REAL *x, const REAL *w, const REAL *z, REAL *grad,
                             REAL *dx, REAL *dw, REAL *db,
                             const ic_act *act, const ic_stats *st, int nthreads)
{
    int64_t rows = block_rows(batch, n_out), blocks = (batch + rows - 1) / rows, blk;
    int64_t wrows = block_rows(n_in, n_out), slices = (n_in + wrows - 1) / wrows, s;
    REAL p = (REAL)act->param;
    int id = act->id;
    FN(acc) gacc;
    int64_t *rows_of = FN(rows_of_blocks)(batch, rows, blocks);
    double *dx_sq = calloc((size_t)blocks + 1, sizeof(double));
    double *dw_sq = calloc((size_t)slices + 1, sizeof(double));
    double *w_sq = calloc((size_t)slices + 1, sizeof(double));
    int ok = rows_of && dx_sq && dw_sq && w_sq;
    /* the accumulators also carry db's column sums when there are no statistics */
    if (ok)
        ok = FN(acc_init)(&gacc, blocks, n_out, 1, -INFINITY, INFINITY, 0, db != NULL, st, 1) == 0;
    if (!ok) {
        free(rows_of); free(dx_sq); free(dw_sq); free(w_sq);
        return -1;
    }
    int64_t teams = team_count(nthreads, blocks), t;
    IC_PARALLEL_FOR(teams > 1)
    for (t = 0; t < teams; t++) {
        int64_t b0 = t * blocks / teams, b1 = (t + 1) * blocks / teams;
        int64_t r0 = b0 * rows, r1 = b1 * rows < batch ? b1 * rows : batch;
        for (int64_t bk = b0; bk < b1; bk++) {
            int64_t first = bk * rows, nr = batch - first < rows ? batch - first : rows;
            for (int64_t i = 0; i < nr; i++) {
                REAL *gr = grad + (first + i) * n_out;
                FN(dphi_row)(id, p, z + (first + i) * n_out, gr, n_out);
                if (st)
                    FN(acc_row)(&gacc, bk, i, gr, FN(any_nonfinite)(gr, n_out));
                else if (db)
                    FN(units_sum)(gr, n_out, gacc.colsum + bk * n_out);
            }
        }
        if (dx) {
            int m = (int)n_in, n = (int)(r1 - r0), k = (int)n_out;
            REAL one = 1, zero = 0;
            char no = 'N', tr = 'T';
            gemm(&tr, &no, &m, &n, &k, &one, (REAL *)w, &k, grad + r0 * n_out, &k, &zero,
                 dx + r0 * n_in, &m);
            if (st)
                for (int64_t bk = b0; bk < b1; bk++) {
                    int64_t first = bk * rows, nr = batch - first < rows ? batch - first : rows;
                    dx_sq[bk] = FN(sum_squares)(dx + first * n_in, nr * n_in);
                }
        }
    }
    int64_t wteams = team_count(nthreads, slices);
    IC_PARALLEL_FOR(wteams > 1)
    for (t = 0; t < wteams; t++) {
        int64_t s0 = t * slices / wteams, s1 = (t + 1) * slices / wteams;
        int64_t i0 = s0 * wrows, i1 = s1 * wrows < n_in ? s1 * wrows : n_in;
        int m = (int)n_out, n = (int)(i1 - i0), k = (int)batch, ldb = (int)n_in;
        REAL one = 1, zero = 0;
        char no = 'N', tr = 'T';
        gemm(&no, &tr, &m, &n, &k, &one, grad, &m, (REAL *)x + i0, &ldb, &zero, dw + i0 * n_out, &m);
        if (st)
            for (int64_t sl = s0; sl < s1; sl++) {
                int64_t first = sl * wrows, ni = n_in - first < wrows ? n_in - first : wrows;
                dw_sq[sl] = FN(sum_squares)(dw + first * n_out, ni * n_out);
                w_sq[sl] = FN(sum_squares)(w + first * n_out, ni * n_out);
            }
    }
    ic_moments unused;
    FN(acc_finish)(&gacc, rows_of, st ? &st->moments[0] : &unused, NULL, NULL, st ? st->hist : NULL, db);
    if (st && st->sums) {
        double sums[4] = {0, 0, 0, 0};
        for (blk = 0; blk < blocks; blk++)
            sums[0] += dx_sq[blk];
        for (s = 0; s < slices; s++) {
            sums[1] += dw_sq[s];
            sums[3] += w_sq[s];
        }
        if (db)
            sums[2] = FN(sum_squares)(db, n_out);
        memcpy(st->sums, sums, sizeof sums);
    }
    FN(acc_free)(&gacc);
    free(rows_of); free(dx_sq); free(dw_sq); free(w_sq);
    return 0;
}

int IC_CAT(ic_histogram, SUF)(const REAL *v, int64_t n, double lo, double hi, int64_t nbins,
                              int64_t *hist, int nthreads)
{
    int64_t chunks = (n + HIST_CHUNK - 1) / HIST_CHUNK, stride = HIST_COPIES * (nbins + 3), c;
    hist_geom g = hist_geometry(lo, hi, nbins);
    int64_t *local = calloc((size_t)(chunks * stride) + 1, sizeof(int64_t));
    if (!local)
        return -1;
    IC_PARALLEL_FOR(nthreads > 1 && chunks > 1)
    for (c = 0; c < chunks; c++) {
        int64_t start = c * HIST_CHUNK, len = n - start < HIST_CHUNK ? n - start : HIST_CHUNK;
        FN(hist_row)(v + start, len, local + c * stride, &g, FN(any_nonfinite)(v + start, len));
    }
    for (c = 0; c < chunks * HIST_COPIES; c++)
        for (int64_t k = 0; k < nbins + 2; k++)
            hist[k] += local[c * (nbins + 3) + k];
    free(local);
    return 0;
}

#undef FN
