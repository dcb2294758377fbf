/* Per-dtype layer kernels; included by layers.c with REAL, SUF, GEMM, PHI,
 * DPHI, PHI_DPHI, BITS, NEXTAFTER and HIST_FAST defined. */
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
    REAL lo, hi;                 /* saturated: x < lo or x > hi (the band's ends rounded inward) */
    hist_geom geom;
    int hist_later;              /* the range needs the moments: binned in a second pass */
    FN(lanes) *lanes;            /* [block] */
    FN(units) units;             /* [block][unit], or NULL pointers */
    double *colsum;              /* [block][unit], or NULL */
    distinct_set seen;           /* the units' hashes, for unit_summary */
    int64_t *hist;               /* [block][HIST_COPIES][nbins + 3], or NULL */
} FN(acc);

static void FN(acc_free)(FN(acc) *c)
{
    free(c->lanes);
    free(c->units.s1); free(c->units.s2); free(c->units.shift); free(c->units.nonfinite);
    free(c->units.hash);
    free(c->colsum); free(c->hist);
    free(c->seen.keys); free(c->seen.used);
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
    c->lo = (REAL)lo;
    if ((double)c->lo < lo)
        c->lo = NEXTAFTER(c->lo, INFINITY);
    c->hi = (REAL)hi;
    if ((double)c->hi > hi)
        c->hi = NEXTAFTER(c->hi, -INFINITY);
    int ok = (c->lanes = calloc((size_t)blocks + 1, sizeof(FN(lanes)))) != NULL;
    if (with_units) {
        FN(units) *u = &c->units;
        ok = ok && (u->s1 = calloc(cells, sizeof(double))) && (u->s2 = calloc(cells, sizeof(double)))
             && (u->shift = calloc(cells, sizeof(double)))
             && (u->nonfinite = calloc(cells, sizeof(int32_t)))
             && (u->hash = calloc(cells, sizeof(uint64_t)));
        if (st && st->unit_summary)
            ok = ok && distinct_set_init(&c->seen, n) == 0;
    }
    if (with_colsum)
        ok = ok && (c->colsum = calloc(cells, sizeof(double)));
    if (with_hist && st && st->hist) {
        c->nbins = st->nbins;
        c->hist_later = st->hist_sigmas > 0;
        if (!c->hist_later)
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
        IC_EACH_ACT(PHI_CASE)
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
        IC_EACH_ACT(DPHI_CASE)
    }
}
#undef DPHI_CASE

/* a = phi(z), and z = phi'(z) in place */
#define PHI_DPHI_CASE(ID)                              \
    case ID:                                           \
        for (int64_t j = 0; j < n; j++) {              \
            REAL d;                                    \
            a[j] = PHI_DPHI(ID, p, z[j], &d);          \
            z[j] = d;                                  \
        }                                              \
        break;
IC_SIMD static void FN(phi_dphi_row)(int id, REAL p, REAL *restrict z, REAL *restrict a, int64_t n)
{
    switch (id) {
        IC_EACH_ACT(PHI_DPHI_CASE)
    }
}
#undef PHI_DPHI_CASE

/* g *= d, d a phi' made by phi_dphi_row */
IC_SIMD static void FN(mul_row)(REAL *restrict g, const REAL *restrict d, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        g[j] = g[j] * d[j];
}

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
    s2[l] += d * d;
#define LANE_BOUNDS(x, l)                            \
    mn[l] = (x) < mn[l] ? (x) : mn[l];               \
    mx[l] = (x) > mx[l] ? (x) : mx[l];
#define LANE_COUNTS(x, l)                            \
    zero[l] += (x) == 0;                             \
    sat[l] += ((x) < lo) | ((x) > hi);
#define LANES_LOAD                                                      \
    double s1[LANES], s2[LANES], k = m->shift;                          \
    REAL mn[LANES], mx[LANES];                                          \
    int32_t zero[LANES], sat[LANES];                                    \
    memcpy(s1, m->s1, sizeof s1); memcpy(s2, m->s2, sizeof s2);         \
    memcpy(mn, m->min, sizeof mn); memcpy(mx, m->max, sizeof mx);       \
    memcpy(zero, m->zero, sizeof zero); memcpy(sat, m->saturated, sizeof sat);
#define LANES_STORE                                                     \
    memcpy(m->s1, s1, sizeof s1); memcpy(m->s2, s2, sizeof s2);         \
    memcpy(m->min, mn, sizeof mn); memcpy(m->max, mx, sizeof mx);       \
    memcpy(m->zero, zero, sizeof zero); memcpy(m->saturated, sat, sizeof sat);
/* body(x, l) over v[0..n) in LANES lanes */
#define LANES_LOOP(v, n, body)                                          \
    {                                                                   \
        int64_t j = 0;                                                  \
        for (; j + LANES <= n; j += LANES)                              \
            for (int l = 0; l < LANES; l++) {                           \
                body((v)[j + l], l)                                     \
            }                                                           \
        for (int l = 0; j < n; j++, l++) {                              \
            body((v)[j], l)                                             \
        }                                                               \
    }
#define SUMS_BOUNDS(x, l) LANE_SUMS(x, l) LANE_BOUNDS(x, l)
#define SUMS_BOUNDS_COUNTS(x, l) LANE_SUMS(x, l) LANE_BOUNDS(x, l) LANE_COUNTS(x, l)
#define BOUNDS_COUNTS(x, l) LANE_BOUNDS(x, l) LANE_COUNTS(x, l)

/* A row with only finite values. Zeros and saturated values (outside
 * [lo, hi]) are counted only with `counts`; the sums are left out with
 * `no_sums` (the per-unit sums hold them). */
IC_SIMD static void FN(lanes_fast)(FN(lanes) *restrict m, const REAL *restrict v, int64_t n,
                                   int counts, int no_sums, REAL lo, REAL hi)
{
    LANES_LOAD
    if (no_sums)
        LANES_LOOP(v, n, BOUNDS_COUNTS)
    else if (counts)
        LANES_LOOP(v, n, SUMS_BOUNDS_COUNTS)
    else
        LANES_LOOP(v, n, SUMS_BOUNDS)
    LANES_STORE
    m->count += (double)n;
}

/* z += b (b may be NULL) and the moments of z, in one pass over a row; 0 if
 * the row is all finite, else nonzero and m is left as it was. */
IC_SIMD static int FN(lanes_bias)(FN(lanes) *restrict m, REAL *restrict z, const REAL *restrict b,
                                  int64_t n)
{
    int bad = 0;
    LANES_LOAD
    (void)zero; (void)sat;
#define BIAS_SUMS(x, l) LANE_SUMS(x, l) LANE_BOUNDS(x, l)
    if (b) {
        int64_t j = 0;
        for (; j + LANES <= n; j += LANES)
            for (int l = 0; l < LANES; l++) {
                REAL x = z[j + l] + b[j + l];
                z[j + l] = x;
                bad |= x - x != 0;
                BIAS_SUMS(x, l)
            }
        for (int l = 0; j < n; j++, l++) {
            REAL x = z[j] + b[j];
            z[j] = x;
            bad |= x - x != 0;
            BIAS_SUMS(x, l)
        }
    } else {
        for (int64_t j = 0; j < n; j++)
            bad |= z[j] - z[j] != 0;
        if (!bad)
            LANES_LOOP(z, n, BIAS_SUMS)
    }
#undef BIAS_SUMS
    if (bad)
        return 1;
    LANES_STORE
    m->count += (double)n;
    return 0;
}
#undef LANE_SUMS
#undef LANE_BOUNDS
#undef LANE_COUNTS
#undef LANES_LOAD
#undef LANES_STORE
#undef LANES_LOOP
#undef SUMS_BOUNDS
#undef SUMS_BOUNDS_COUNTS
#undef BOUNDS_COUNTS

/* A row with NaN or infinities: they are counted and left out of the sums. */
static void FN(lanes_slow)(FN(lanes) *m, const REAL *v, int64_t n, int counts, REAL lo, REAL hi)
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
                m->saturated[l] += (x < lo) | (x > hi);
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

/* units_fast over UNIT_ROWS finite rows (row stride ld), rows in order: the
 * per-unit sums stay in registers across the rows instead of going through
 * L1 once per row. */
IC_SIMD static void FN(units_group)(const REAL *restrict v, int64_t ld, int64_t n, double *restrict s1,
                                    double *restrict s2, const double *restrict shift,
                                    uint64_t *restrict hash)
{
    for (int64_t j = 0; j < n; j++) {
        double a1 = s1[j], a2 = s2[j], k = shift[j];
        uint64_t h = hash[j];
        for (int r = 0; r < UNIT_ROWS; r++) {
            REAL x = v[r * ld + j];
            double d = (double)x - k;
            a1 += d;
            a2 += d * d;
            h = (h ^ BITS(x)) * HASH_PRIME;
        }
        s1[j] = a1;
        s2[j] = a2;
        hash[j] = h;
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

/* Slots as hist_slot finds them (0 below lo, nbins + 1 above hi, nbins + 2
 * NaN), counted into HIST_COPIES interleaved copies so that runs of equal
 * slots do not serialize. */
IC_SIMD static void FN(hist_slots)(const REAL *restrict v, int64_t n, int32_t *restrict slot,
                                   const hist_geom *g)
{
    for (int64_t j = 0; j < n; j++)
        slot[j] = hist_slot((double)v[j], g);
}

static void FN(hist_row)(const REAL *v, int64_t n, int64_t *hist, const hist_geom *g)
{
    int32_t slot[HIST_ROW];
    int64_t stride = g->nbins + 3;
    for (int64_t j0 = 0; j0 < n; j0 += HIST_ROW) {
        int64_t m = n - j0 < HIST_ROW ? n - j0 : HIST_ROW;
#if HIST_FAST
        if (g->dyadic) {
            hist_slots_dyadic(v + j0, m, slot, g);
        } else if (g->fast) {
            if (hist_slots_fast(v + j0, m, slot, g))
                for (int64_t j = 0; j < m; j++)
                    if (slot[j] < 0)
                        slot[j] = hist_slot((double)v[j0 + j], g);
        } else
#endif
            FN(hist_slots)(v + j0, m, slot, g);
        int64_t j = 0;
        for (; j + HIST_COPIES <= m; j += HIST_COPIES)
            for (int c = 0; c < HIST_COPIES; c++)
                hist[c * stride + slot[j + c]]++;
        for (; j < m; j++)
            hist[slot[j]]++;
    }
}

/* Accumulates row `i` of block `blk`, except the per-unit sums (acc_units).
 * With them, the sums of the moments come from the per-unit sums. */
static void FN(acc_row)(FN(acc) *c, int64_t blk, int64_t i, const REAL *v, int bad)
{
    int64_t n = c->n, o = blk * n;
    FN(lanes) *m = &c->lanes[blk];
    if (i == 0)
        FN(lanes_start)(m);
    if (!m->shifted)
        FN(lanes_shift)(m, v, n);
    if (bad)
        FN(lanes_slow)(m, v, n, c->counts, c->lo, c->hi);
    else
        FN(lanes_fast)(m, v, n, c->counts, c->units.s1 != NULL, c->lo, c->hi);
    if (c->colsum)
        FN(units_sum)(v, n, c->colsum + o);
    if (c->hist && !c->hist_later)
        FN(hist_row)(v, n, c->hist + blk * HIST_COPIES * (c->nbins + 3), &c->geom);
}

/* hist_later: the range from the merged moments m (st->hist_range receives it). */
static void FN(acc_hist_range)(FN(acc) *c, const ic_moments *m, const ic_stats *st)
{
    hist_range(m, st->hist_sigmas, &st->hist_range[0], &st->hist_range[1]);
    c->geom = hist_geometry(st->hist_range[0], st->hist_range[1], c->nbins);
}

/* hist_later: the second pass, over the nr rows v of block `blk`. */
static void FN(acc_hist_rows)(FN(acc) *c, int64_t blk, const REAL *v, int64_t nr)
{
    FN(hist_row)(v, nr * c->n, c->hist + blk * HIST_COPIES * (c->nbins + 3), &c->geom);
}

/* z += b and the moments of z for row `i` of block `blk` (an acc without
 * counts, units, histogram or column sums); returns nonzero when z + b is
 * not finite somewhere. */
static int FN(acc_bias_row)(FN(acc) *c, int64_t blk, int64_t i, REAL *z, const REAL *b)
{
    int64_t n = c->n;
    FN(lanes) *m = &c->lanes[blk];
    if (i == 0)
        FN(lanes_start)(m);
    if (m->shifted) {
        if (!FN(lanes_bias)(m, z, b, n))
            return 0;
        FN(lanes_slow)(m, z, n, 0, 0, 0);
        return 1;
    }
    int bad = FN(add_bias)(z, b, n);
    FN(lanes_shift)(m, z, n);
    if (bad)
        FN(lanes_slow)(m, z, n, 0, 0, 0);
    else
        FN(lanes_fast)(m, z, n, 0, 0, 0, 0);
    return bad;
}

/* Per-unit sums of rows i0 .. i0 + nr of block `blk` (row stride n), `bad`
 * when any of them holds NaN or infinities. */
static void FN(acc_units)(FN(acc) *c, int64_t blk, int64_t i0, const REAL *v, int64_t nr, int bad)
{
    int64_t n = c->n, o = blk * n;
    FN(units) *u = &c->units;
    if (!u->s1)
        return;
    if (i0 == 0)
        FN(units_first)(v, n, u->shift + o);
    if (!bad && nr == UNIT_ROWS) {
        FN(units_group)(v, n, n, u->s1 + o, u->s2 + o, u->shift + o, u->hash + o);
        return;
    }
    for (int64_t i = 0; i < nr; i++)
        if (bad)
            FN(units_slow)(v + i * n, n, u, o);
        else
            FN(units_fast)(v + i * n, n, u->s1 + o, u->s2 + o, u->shift + o, u->hash + o);
}

/* Merges the blocks in order: moments, per-unit [mean, var] (units, may be
 * NULL), unit hashes, their summary (may be NULL: dead units, distinct
 * units, the std of the unit means) and the column sums. With per-unit
 * sums, the moments' count, mean and m2 merge the units' in order. */
static void FN(acc_finish)(FN(acc) *c, const int64_t *rows_of, ic_moments *m,
                           double *units, uint64_t *hash, double *summary, REAL *colsum)
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
        if (l->count > 0 && !c->units.s1) {
            double m2 = s2 - s1 * (s1 / l->count);
            chan_merge(&m->count, &m->mean, &m->m2, l->count, l->shift + s1 / l->count,
                       m2 > 0 ? m2 : 0.0);
        }
    }
    double dead = 0, first = 0, s1 = 0, s2 = 0;   /* the summary's sums, of unit means - the first */
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
            if (summary) {
                double um = count > 0 ? mean : NAN;
                first = j == 0 ? um : first;
                s1 += um - first;
                s2 += (um - first) * (um - first);
                dead += um == 0 && m2 == 0;
                distinct_set_add(&c->seen, h);
            }
            chan_merge(&m->count, &m->mean, &m->m2, count, mean, m2);
        }
    if (summary) {
        double mu = s1 / (double)n, var = s2 / (double)n - mu * mu;
        summary[0] = dead;
        summary[1] = (double)c->seen.count;
        summary[2] = var != var ? NAN : sqrt(var > 0 ? var : 0.0);
    }
    if (m->count > 0) {
        m->min = lo;
        m->max = hi;
    }
    if (colsum)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t b = 0; b < c->blocks; b++)
                sum += c->colsum[b * n + j];
            colsum[j] = (REAL)sum;
        }
}

/* Adds the blocks' histograms to hist (may be NULL). */
static void FN(acc_hist_finish)(const FN(acc) *c, int64_t *hist)
{
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
    int id = act->id, later = st && st->hist && st->hist_sigmas > 0;
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
                         st->units || st->unit_hash || st->unit_summary, 0, st, 1) < 0) {
            FN(acc_free)(&zacc);
            free(rows_of);
            return -1;
        }
    }
    int64_t teams = team_count(nthreads, blocks);
    int home = ic_team_home();
    IC_PARALLEL(teams > 1)
    {
        ic_pin pin;
        ic_pin_start(&pin, home);
        int64_t t, b0, b1;
        for (t = IC_THREAD; t < teams; t += IC_THREADS) {
            /* one GEMM over this thread's blocks (BLAS is fastest on big
             * products), then the statistics block by block */
            team_blocks(t, teams, blocks, &b0, &b1);
            int64_t r0 = b0 * rows, r1 = b1 * rows < batch ? b1 * rows : batch;
            int m = (int)n_out, n = (int)(r1 - r0), k = (int)n_in;
            REAL one = 1, zero = 0;
            char no = 'N';
            gemm(&no, &no, &m, &n, &k, &one, (REAL *)w, &m, (REAL *)x + r0 * n_in, &k, &zero,
                 c + r0 * n_out, &m);
            for (int64_t bk = b0; bk < b1; bk++) {
                int64_t first = bk * rows, nr = block_len(batch, rows, bk);
                int64_t i0 = 0;
                int group_bad = 0;
                for (int64_t i = 0; i < nr; i++) {
                    REAL *zr = c + (first + i) * n_out, *ar = a + (first + i) * n_out;
                    int bad = st ? FN(acc_bias_row)(&zacc, bk, i, zr, b) : FN(add_bias)(zr, b, n_out);
                    FN(phi_row)(id, p, zr, ar, n_out);
                    if (!st)
                        continue;
                    bad = FN(any_nonfinite)(ar, n_out);
                    FN(acc_row)(&aacc, bk, i, ar, bad);
                    group_bad |= bad;
                    if (i + 1 - i0 == UNIT_ROWS || i + 1 == nr) {
                        FN(acc_units)(&aacc, bk, i0, a + (first + i0) * n_out, i + 1 - i0, group_bad);
                        i0 = i + 1;
                        group_bad = 0;
                    }
                }
            }
        }
        if (later) {
            /* the histogram's range needs every block's moments */
            IC_BARRIER
            IC_SINGLE
            {
                FN(acc_finish)(&aacc, rows_of, &st->moments[1], st->units, st->unit_hash, st->unit_summary,
                               NULL);
                FN(acc_hist_range)(&aacc, &st->moments[1], st);
            }
            for (t = IC_THREAD; t < teams; t += IC_THREADS) {
                team_blocks(t, teams, blocks, &b0, &b1);
                for (int64_t bk = b0; bk < b1; bk++)
                    FN(acc_hist_rows)(&aacc, bk, a + bk * rows * n_out, block_len(batch, rows, bk));
            }
        }
        ic_pin_end(&pin);
    }
    if (st) {
        FN(acc_finish)(&zacc, rows_of, &st->moments[0], NULL, NULL, NULL, NULL);
        if (!later)
            FN(acc_finish)(&aacc, rows_of, &st->moments[1], st->units, st->unit_hash, st->unit_summary, NULL);
        FN(acc_hist_finish)(&aacc, st->hist);
        FN(acc_free)(&zacc);
        FN(acc_free)(&aacc);
        free(rows_of);
    }
    return 0;
}

int IC_CAT(ic_backward, SUF)(GEMM *gemm, int64_t batch, int64_t n_in, int64_t n_out,
                             const REAL *x, const REAL *w, const REAL *z, int z_is_dphi, REAL *grad,
                             REAL *dx, REAL *dw, REAL *db, const ic_act *act,
                             REAL *z_below, REAL *x_below, const ic_act *act_below,
                             const ic_stats *st, int nthreads)
{
    int64_t rows = block_rows(batch, n_out), blocks = (batch + rows - 1) / rows, blk;
    int64_t wrows = block_rows(n_in, n_out), slices = (n_in + wrows - 1) / wrows, s;
    REAL p = (REAL)act->param, p_below = z_below ? (REAL)act_below->param : 0;
    int id = act->id, id_below = z_below ? act_below->id : 0;
    int later = st && st->hist && st->hist_sigmas > 0;
    const REAL *input = z_below ? x_below : x;
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
    int64_t teams = team_count(nthreads, blocks), wteams = team_count(nthreads, slices);
    int home = ic_team_home();
    IC_PARALLEL(teams > 1 || wteams > 1)
    {
        ic_pin pin;
        ic_pin_start(&pin, home);
        int64_t t, b0, b1;
        for (t = IC_THREAD; t < teams; t += IC_THREADS) {
            team_blocks(t, teams, blocks, &b0, &b1);
            for (int64_t bk = b0; bk < b1; bk++) {
                int64_t first = bk * rows, nr = block_len(batch, rows, bk);
                for (int64_t i = 0; i < nr; i++) {
                    REAL *gr = grad + (first + i) * n_out;
                    const REAL *zr = z + (first + i) * n_out;
                    if (z_is_dphi)
                        FN(mul_row)(gr, zr, n_out);
                    else
                        FN(dphi_row)(id, p, zr, gr, n_out);
                    if (st)
                        FN(acc_row)(&gacc, bk, i, gr, FN(any_nonfinite)(gr, n_out));
                    else if (db)
                        FN(units_sum)(gr, n_out, gacc.colsum + bk * n_out);
                }
            }
        }
        if (later) {
            IC_BARRIER
            IC_SINGLE
            {
                FN(acc_finish)(&gacc, rows_of, &st->moments[0], NULL, NULL, NULL, db);
                FN(acc_hist_range)(&gacc, &st->moments[0], st);
            }
            for (t = IC_THREAD; t < teams; t += IC_THREADS) {
                team_blocks(t, teams, blocks, &b0, &b1);
                for (int64_t bk = b0; bk < b1; bk++)
                    FN(acc_hist_rows)(&gacc, bk, grad + bk * rows * n_out, block_len(batch, rows, bk));
            }
        }
        for (t = IC_THREAD; t < teams; t += IC_THREADS) {
            team_blocks(t, teams, blocks, &b0, &b1);
            int64_t r0 = b0 * rows, r1 = b1 * rows < batch ? b1 * rows : batch;
            if (z_below)
                FN(phi_dphi_row)(id_below, p_below, z_below + r0 * n_in, x_below + r0 * n_in,
                                 (r1 - r0) * n_in);
            if (dx) {
                int m = (int)n_in, n = (int)(r1 - r0), k = (int)n_out;
                REAL one = 1, zero = 0;
                char no = 'N', tr = 'T';
                gemm(&tr, &no, &m, &n, &k, &one, (REAL *)w, &k, grad + r0 * n_out, &k, &zero,
                     dx + r0 * n_in, &m);
                if (st)
                    for (int64_t bk = b0; bk < b1; bk++)
                        dx_sq[bk] = FN(sum_squares)(dx + bk * rows * n_in, block_len(batch, rows, bk) * n_in);
            }
        }
        /* dW needs every row of dZ (and of the input) */
        IC_BARRIER
        for (t = IC_THREAD; t < wteams; t += IC_THREADS) {
            int64_t s0, s1;
            team_blocks(t, wteams, slices, &s0, &s1);
            int64_t i0 = s0 * wrows, i1 = s1 * wrows < n_in ? s1 * wrows : n_in;
            int m = (int)n_out, n = (int)(i1 - i0), k = (int)batch, ldb = (int)n_in;
            REAL one = 1, zero = 0;
            char no = 'N', tr = 'T';
            gemm(&no, &tr, &m, &n, &k, &one, grad, &m, (REAL *)input + i0, &ldb, &zero, dw + i0 * n_out, &m);
            if (st)
                for (int64_t sl = s0; sl < s1; sl++) {
                    int64_t len = block_len(n_in, wrows, sl) * n_out;
                    dw_sq[sl] = FN(sum_squares)(dw + sl * wrows * n_out, len);
                    w_sq[sl] = FN(sum_squares)(w + sl * wrows * n_out, len);
                }
        }
        ic_pin_end(&pin);
    }
    ic_moments unused;
    if (!later)
        FN(acc_finish)(&gacc, rows_of, st ? &st->moments[0] : &unused, NULL, NULL, NULL, db);
    FN(acc_hist_finish)(&gacc, st ? st->hist : NULL);
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
        FN(hist_row)(v + start, len, local + c * stride, &g);
    }
    for (c = 0; c < chunks * HIST_COPIES; c++)
        for (int64_t k = 0; k < nbins + 2; k++)
            hist[k] += local[c * (nbins + 3) + k];
    free(local);
    return 0;
}

#undef FN
