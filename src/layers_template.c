/* Per-dtype layer kernels; included by layers.c with REAL, SUF, GEMM, PHI,
 * DPHI, PHI_DPHI, BITS, NEXTAFTER and HIST_FAST defined. */

/* Moments of one tensor within one tile, in LANES fixed lanes so that the
 * loops vectorize and every SIMD clone rounds the same. Sums are of
 * (value - shift) over finite values, the shift being the tile's first finite
 * value, so that they do not cancel. */
typedef struct {
    double s1[LANES], s2[LANES];
    REAL min[LANES], max[LANES];
    int32_t zero[LANES], saturated[LANES];   /* < 2^31: a lane sees at most one value per row and unit */
    double shift, count, nan, inf;
    int shifted;
} FN(lanes);

/* Per-unit sums of one tensor within one row block (same scheme), and a hash
 * of each unit's values. */
typedef struct {
    double *s1, *s2, *shift;
    int32_t *nonfinite;
    uint64_t *hash;
} FN(units);

/* Everything one tensor accumulates over the tiles of a grid: moments per
 * tile, per-unit sums per row block. All of it depends on the grid alone. */
typedef struct {
    grid g;                      /* the tensor is g.rows x g.cols */
    int64_t nbins;
    int counts;                  /* count zeros and saturated values */
    REAL lo, hi;                 /* saturated: x < lo or x > hi (the band's ends rounded inward) */
    hist_geom geom;
    int hist_later;              /* the range needs the moments: binned in a second pass */
    FN(lanes) *lanes;            /* [tile] */
    FN(units) units;             /* [row block][unit], or NULL pointers */
    double *colsum;              /* [row block][unit], or NULL */
    unit_part *parts;            /* [column tile]: the merged units of each */
    uint64_t *hashes;            /* [unit], for the count of distinct units, or NULL */
    distinct_set seen;
    int64_t *hist;               /* [tile][HIST_COPIES][nbins + 3], or NULL */
} FN(acc);

static void FN(acc_free)(FN(acc) *c)
{
    free(c->lanes);
    free(c->units.s1); free(c->units.s2); free(c->units.shift); free(c->units.nonfinite);
    free(c->units.hash);
    free(c->colsum); free(c->parts); free(c->hashes); free(c->hist);
    free(c->seen.keys); free(c->seen.used);
    memset(c, 0, sizeof *c);
}

/* What an accumulator collects besides the moments. */
typedef struct {
    int counts;                  /* zeros and values outside [sat_lo, sat_hi] */
    double sat_lo, sat_hi;
    int units;                   /* per-unit moments and hashes */
    int colsum;                  /* per-unit sums (a bias gradient) */
    int hist;                    /* the histogram that stats asks for */
} FN(acc_opts);

/* Returns 0, or -1 when out of memory. */
static int FN(acc_init)(FN(acc) *c, grid g, const ic_stats *st, FN(acc_opts) o)
{
    int64_t tiles = g.nr * g.nc, n = g.cols;
    size_t cells = (size_t)(g.nr * n) + 1;
    memset(c, 0, sizeof *c);
    c->g = g;
    c->counts = o.counts;
    c->lo = (REAL)o.sat_lo;
    if ((double)c->lo < o.sat_lo)
        c->lo = NEXTAFTER(c->lo, INFINITY);
    c->hi = (REAL)o.sat_hi;
    if ((double)c->hi > o.sat_hi)
        c->hi = NEXTAFTER(c->hi, -INFINITY);
    int ok = (c->lanes = calloc((size_t)tiles + 1, sizeof(FN(lanes)))) != NULL
             && (c->parts = calloc((size_t)g.nc + 1, sizeof(unit_part))) != NULL;
    if (o.units) {
        FN(units) *u = &c->units;
        ok = ok && (u->s1 = calloc(cells, sizeof(double))) && (u->s2 = calloc(cells, sizeof(double)))
             && (u->shift = calloc(cells, sizeof(double)))
             && (u->nonfinite = calloc(cells, sizeof(int32_t)))
             && (u->hash = calloc(cells, sizeof(uint64_t)));
        if (st && st->unit_summary)
            ok = ok && (c->hashes = calloc((size_t)n + 1, sizeof(uint64_t)))
                 && distinct_set_init(&c->seen, n) == 0;
    }
    if (o.colsum)
        ok = ok && (c->colsum = calloc(cells, sizeof(double)));
    if (o.hist && st && st->hist) {
        c->nbins = st->nbins;
        c->hist_later = st->hist_sigmas > 0;
        if (!c->hist_later)
            c->geom = hist_geometry(st->hist_lo, st->hist_hi, st->nbins);
        ok = ok && (c->hist = calloc((size_t)(tiles * HIST_COPIES * (st->nbins + 3)), sizeof(int64_t)));
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

/* The shift: the tile's first finite value. */
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

static int64_t *FN(acc_hist_of)(const FN(acc) *c, const tile *t)
{
    return c->hist + t->index * HIST_COPIES * (c->nbins + 3);
}

/* Accumulates row `i` of tile t (its t->c1 - t->c0 values v), except the
 * per-unit sums (acc_units). With them, the sums of the moments come from
 * the per-unit sums. */
static void FN(acc_row)(FN(acc) *c, const tile *t, int64_t i, const REAL *v, int bad)
{
    int64_t len = t->c1 - t->c0;
    FN(lanes) *m = &c->lanes[t->index];
    if (i == 0)
        FN(lanes_start)(m);
    if (!m->shifted)
        FN(lanes_shift)(m, v, len);
    if (bad)
        FN(lanes_slow)(m, v, len, c->counts, c->lo, c->hi);
    else
        FN(lanes_fast)(m, v, len, c->counts, c->units.s1 != NULL, c->lo, c->hi);
    if (c->colsum)
        FN(units_sum)(v, len, c->colsum + t->rb * c->g.cols + t->c0);
    if (c->hist && !c->hist_later)
        FN(hist_row)(v, len, FN(acc_hist_of)(c, t), &c->geom);
}

/* hist_later: the range from the merged moments m (st->hist_range receives it). */
static void FN(acc_hist_range)(FN(acc) *c, const ic_moments *m, const ic_stats *st)
{
    hist_range(m, st->hist_sigmas, &st->hist_range[0], &st->hist_range[1]);
    c->geom = hist_geometry(st->hist_range[0], st->hist_range[1], c->nbins);
}

/* hist_later: the second pass, over tile t of v (row stride ld). */
static void FN(acc_hist_tile)(FN(acc) *c, const tile *t, const REAL *v, int64_t ld)
{
    for (int64_t r = t->r0; r < t->r1; r++)
        FN(hist_row)(v + r * ld + t->c0, t->c1 - t->c0, FN(acc_hist_of)(c, t), &c->geom);
}

/* z += b and the moments of z for row `i` of tile t (an acc without counts,
 * units, histogram or column sums); b is the tile's part of the bias, or
 * NULL. Returns nonzero when z + b is not finite somewhere. */
static int FN(acc_bias_row)(FN(acc) *c, const tile *t, int64_t i, REAL *z, const REAL *b)
{
    int64_t n = t->c1 - t->c0;
    FN(lanes) *m = &c->lanes[t->index];
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

/* Per-unit sums of rows i0 .. i0 + nr of tile t (v: row i0's values, row
 * stride the tensor's width), `bad` when any of them holds NaN or
 * infinities. */
static void FN(acc_units)(FN(acc) *c, const tile *t, int64_t i0, const REAL *v, int64_t nr, int bad)
{
    int64_t ld = c->g.cols, n = t->c1 - t->c0, o = t->rb * ld + t->c0;
    FN(units) *u = &c->units;
    if (!u->s1)
        return;
    if (i0 == 0)
        FN(units_first)(v, n, u->shift + o);
    if (!bad && nr == UNIT_ROWS) {
        FN(units_group)(v, ld, n, u->s1 + o, u->s2 + o, u->shift + o, u->hash + o);
        return;
    }
    for (int64_t i = 0; i < nr; i++)
        if (bad)
            FN(units_slow)(v + i * ld, n, u, o);
        else
            FN(units_fast)(v + i * ld, n, u->s1 + o, u->s2 + o, u->shift + o, u->hash + o);
}

/* Merges the row blocks of the units of column tile `cb`, in order: their
 * per-unit [mean, var] into `units` (may be NULL), their hashes into `hash`
 * (may be NULL) and c->hashes, their moments and the moments of their means
 * into c->parts[cb], and the column sums into colsum (may be NULL). The
 * column tiles are independent, so threads share them. */
static void FN(acc_merge_units)(FN(acc) *c, int64_t cb, double *units, uint64_t *hash, REAL *colsum)
{
    int64_t n = c->g.cols, j0 = cb * c->g.tc, j1 = j0 + c->g.tc < n ? j0 + c->g.tc : n;
    unit_part *part = &c->parts[cb];
    memset(part, 0, sizeof *part);
    if (c->units.s1)
        for (int64_t j = j0; j < j1; j++) {
            const FN(units) *u = &c->units;
            double count = 0, mean = 0, m2 = 0;
            uint64_t h = 0;
            for (int64_t b = 0; b < c->g.nr; b++) {
                int64_t o = b * n + j;
                double nb = (double)(grid_rows(&c->g, b) - u->nonfinite[o]);
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
            if (c->hashes) {
                double um = count > 0 ? mean : NAN;
                c->hashes[j] = h;
                chan_merge(&part->units, &part->unit_mean, &part->unit_m2, 1.0, um, 0.0);
                part->dead += um == 0 && m2 == 0;
            }
            chan_merge(&part->count, &part->mean, &part->m2, count, mean, m2);
        }
    if (colsum && c->colsum)
        for (int64_t j = j0; j < j1; j++) {
            double sum = 0;
            for (int64_t b = 0; b < c->g.nr; b++)
                sum += c->colsum[b * n + j];
            colsum[j] = (REAL)sum;
        }
}

/* After acc_merge_units of every column tile: the moments m, in tile order,
 * and the units' summary (may be NULL: dead units, distinct units, the std
 * of the unit means). */
static void FN(acc_finish)(FN(acc) *c, ic_moments *m, double *summary)
{
    int64_t tiles = c->g.nr * c->g.nc;
    double lo = INFINITY, hi = -INFINITY;
    moments_empty(m);
    for (int64_t t = 0; t < tiles; t++) {
        const FN(lanes) *l = &c->lanes[t];
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
    if (c->units.s1) {
        unit_part all = {0};
        for (int64_t cb = 0; cb < c->g.nc; cb++) {
            const unit_part *p = &c->parts[cb];
            chan_merge(&m->count, &m->mean, &m->m2, p->count, p->mean, p->m2);
            chan_merge(&all.units, &all.unit_mean, &all.unit_m2, p->units, p->unit_mean, p->unit_m2);
            all.dead += p->dead;
        }
        if (summary && c->hashes) {
            for (int64_t j = 0; j < c->g.cols; j++)
                distinct_set_add(&c->seen, c->hashes[j]);
            double var = all.unit_m2 / all.units;
            summary[0] = all.dead;
            summary[1] = (double)c->seen.count;
            summary[2] = var != var ? NAN : sqrt(var > 0 ? var : 0.0);
        }
    }
    if (m->count > 0) {
        m->min = lo;
        m->max = hi;
    }
}

/* Adds the tiles' histograms to hist (may be NULL). */
static void FN(acc_hist_finish)(const FN(acc) *c, int64_t *hist)
{
    if (hist && c->hist)
        for (int64_t b = 0; b < c->g.nr * c->g.nc * HIST_COPIES; b++)
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

/* Sum of squares of tile t of v (row stride ld), row by row. */
static double FN(tile_sum_squares)(const REAL *v, int64_t ld, const tile *t)
{
    double sum = 0;
    for (int64_t r = t->r0; r < t->r1; r++)
        sum += FN(sum_squares)(v + r * ld + t->c0, t->c1 - t->c0);
    return sum;
}

/* Packs both products' operands (item s of the first's, then the
 * second's); q may be NULL. */
static void FN(pack_item)(const IC_CAT(ic_product, SUF) *p, const IC_CAT(ic_product, SUF) *q, int64_t s)
{
    int64_t first = IC_CAT(ic_product_pack_items, SUF)(p);
    if (s < first)
        IC_CAT(ic_product_pack, SUF)(p, s);
    else
        IC_CAT(ic_product_pack, SUF)(q, s - first);
}

int IC_CAT(ic_forward, SUF)(const IC_CAT(ic_forward_args, SUF) *layer, const ic_stats *st,
                            int nthreads)
{
    int64_t batch = layer->batch, n_in = layer->n_in, n_out = layer->n_out;
    const REAL *x = layer->x, *w = layer->w, *b = layer->b;
    REAL *z = layer->z, *a = layer->a;
    const ic_act *act = &layer->act;
    grid g = grid_of(batch, n_out, n_in);
    int64_t tiles = g.nr * g.nc;
    REAL *c = z ? z : a, p = (REAL)act->param;
    int id = act->id, later = st && st->hist && st->hist_sigmas > 0;
    FN(acc) zacc, aacc;
    if (st) {
        if (FN(acc_init)(&zacc, g, st, (FN(acc_opts)){0}) < 0)
            return -1;
        FN(acc_opts) o = {.counts = 1, .sat_lo = st->sat_lo, .sat_hi = st->sat_hi, .hist = 1,
                          .units = st->units || st->unit_hash || st->unit_summary};
        if (FN(acc_init)(&aacc, g, st, o) < 0) {
            FN(acc_free)(&zacc);
            return -1;
        }
    }
    IC_CAT(ic_product, SUF) prod = {.m = batch, .n = n_out, .k = n_in, .a = x, .a_row = n_in, .a_col = 1,
                                    .b = w, .b_row = n_out, .b_col = 1};
    int64_t items = IC_CAT(ic_product_pack_items, SUF)(&prod);
    prod.packed = packed_take((size_t)IC_CAT(ic_product_size, SUF)(&prod) * sizeof(REAL));
    if (!prod.packed) {
        if (st) {
            FN(acc_free)(&zacc);
            FN(acc_free)(&aacc);
        }
        return -1;
    }
    nthreads = team_size(nthreads, tiles);
    int home = ic_team_home();
    IC_PARALLEL(nthreads > 1)
    {
        ic_pin pin;
        ic_pin_start(&pin, home);
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < items; s++)
            IC_CAT(ic_product_pack, SUF)(&prod, s);
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < tiles; s++) {
            tile t = tile_at(&g, s);
            int64_t len = t.c1 - t.c0, i0 = 0;
            int group_bad = 0;
            IC_CAT(ic_product_tile, SUF)(&prod, t.r0, t.r1, t.c0, t.c1, c, n_out);
            /* bias, phi and the statistics while the tile is in cache */
            for (int64_t i = 0; i < t.r1 - t.r0; i++) {
                REAL *zr = c + (t.r0 + i) * n_out + t.c0, *ar = a + (t.r0 + i) * n_out + t.c0;
                const REAL *br = b ? b + t.c0 : NULL;
                int bad = st ? FN(acc_bias_row)(&zacc, &t, i, zr, br) : FN(add_bias)(zr, br, len);
                FN(phi_row)(id, p, zr, ar, len);
                if (!st)
                    continue;
                bad = FN(any_nonfinite)(ar, len);
                FN(acc_row)(&aacc, &t, i, ar, bad);
                group_bad |= bad;
                if (i + 1 - i0 == UNIT_ROWS || t.r0 + i + 1 == t.r1) {
                    FN(acc_units)(&aacc, &t, i0, a + (t.r0 + i0) * n_out + t.c0, i + 1 - i0, group_bad);
                    i0 = i + 1;
                    group_bad = 0;
                }
            }
        }
        if (st) {
            IC_FOR
            for (int64_t cb = 0; cb < g.nc; cb++)
                FN(acc_merge_units)(&aacc, cb, st->units, st->unit_hash, NULL);
        }
        if (later) {
            /* the histogram's range needs every tile's moments */
            IC_SINGLE
            {
                FN(acc_finish)(&aacc, &st->moments[1], st->unit_summary);
                FN(acc_hist_range)(&aacc, &st->moments[1], st);
            }
            IC_FOR_DYNAMIC
            for (int64_t s = 0; s < tiles; s++) {
                tile t = tile_at(&g, s);
                FN(acc_hist_tile)(&aacc, &t, a, n_out);
            }
        }
        ic_pin_end(&pin);
    }
    packed_give(prod.packed);
    if (st) {
        FN(acc_finish)(&zacc, &st->moments[0], NULL);
        if (!later)
            FN(acc_finish)(&aacc, &st->moments[1], st->unit_summary);
        FN(acc_hist_finish)(&aacc, st->hist);
        FN(acc_free)(&zacc);
        FN(acc_free)(&aacc);
    }
    return 0;
}

int IC_CAT(ic_backward, SUF)(const IC_CAT(ic_backward_args, SUF) *layer, const ic_stats *st,
                             int nthreads)
{
    int64_t batch = layer->batch, n_in = layer->n_in, n_out = layer->n_out;
    const REAL *x = layer->x, *w = layer->w, *z = layer->z;
    REAL *grad = layer->grad, *dx = layer->dx, *dw = layer->dw, *db = layer->db;
    REAL *z_below = layer->z_below, *x_below = layer->x_below;
    const ic_act *act = &layer->act, *act_below = &layer->act_below;
    int z_is_dphi = layer->z_is_dphi;
    /* dZ's statistics over the forward's grid; dX = dZ W^T and dW = X^T dZ
     * each over a grid of its own output, K whole in every call */
    grid g = grid_of(batch, n_out, n_in), gx = grid_of(batch, n_in, n_out), gw = grid_of(n_in, n_out, batch);
    int64_t tiles = g.nr * g.nc, xtiles = dx ? gx.nr * gx.nc : 0, wtiles = gw.nr * gw.nc;
    int64_t below = z_below ? gx.nr : 0;
    REAL p = (REAL)act->param, p_below = z_below ? (REAL)act_below->param : 0;
    int id = act->id, id_below = z_below ? act_below->id : 0;
    int later = st && st->hist && st->hist_sigmas > 0;
    const REAL *input = z_below ? x_below : x;
    FN(acc) gacc;
    double *dx_sq = calloc((size_t)(gx.nr * gx.nc) + 1, sizeof(double));
    double *dw_sq = calloc((size_t)wtiles + 1, sizeof(double));
    double *w_sq = calloc((size_t)wtiles + 1, sizeof(double));
    /* the accumulator also carries db's column sums when there are no statistics */
    FN(acc_opts) o = {.counts = 1, .sat_lo = -INFINITY, .sat_hi = INFINITY, .colsum = db != NULL, .hist = 1};
    /* dW: A(i, p) = input[p, i], B = dZ; dX: A = dZ, B(p, j) = w[j, p] */
    IC_CAT(ic_product, SUF) pw = {.m = n_in, .n = n_out, .k = batch, .a = input, .a_row = 1, .a_col = n_in,
                                  .b = grad, .b_row = n_out, .b_col = 1};
    IC_CAT(ic_product, SUF) px = {.m = batch, .n = n_in, .k = n_out, .a = grad, .a_row = n_out, .a_col = 1,
                                  .b = w, .b_row = 1, .b_col = n_out};
    int64_t wsize = IC_CAT(ic_product_size, SUF)(&pw), xsize = dx ? IC_CAT(ic_product_size, SUF)(&px) : 0;
    int64_t pack_items = IC_CAT(ic_product_pack_items, SUF)(&pw) + (dx ? IC_CAT(ic_product_pack_items, SUF)(&px) : 0);
    pw.packed = packed_take((size_t)(wsize + xsize) * sizeof(REAL));
    px.packed = pw.packed ? pw.packed + wsize : NULL;
    if (!(dx_sq && dw_sq && w_sq && pw.packed) || FN(acc_init)(&gacc, g, st, o) < 0) {
        free(dx_sq); free(dw_sq); free(w_sq);
        packed_give(pw.packed);
        return -1;
    }
    int64_t most = tiles + below > xtiles + wtiles ? tiles + below : xtiles + wtiles;
    nthreads = team_size(nthreads, most);
    int home = ic_team_home();
    IC_PARALLEL(nthreads > 1)
    {
        ic_pin pin;
        ic_pin_start(&pin, home);
        /* dZ = dA phi'(z) with its statistics; the layer below's input */
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < tiles + below; s++) {
            if (s >= tiles) {
                int64_t r0 = (s - tiles) * gx.tr, rows = grid_rows(&gx, s - tiles);
                FN(phi_dphi_row)(id_below, p_below, z_below + r0 * n_in, x_below + r0 * n_in, rows * n_in);
                continue;
            }
            tile t = tile_at(&g, s);
            int64_t len = t.c1 - t.c0;
            for (int64_t i = 0; i < t.r1 - t.r0; i++) {
                REAL *gr = grad + (t.r0 + i) * n_out + t.c0;
                const REAL *zr = z + (t.r0 + i) * n_out + t.c0;
                if (z_is_dphi)
                    FN(mul_row)(gr, zr, len);
                else
                    FN(dphi_row)(id, p, zr, gr, len);
                if (st)
                    FN(acc_row)(&gacc, &t, i, gr, FN(any_nonfinite)(gr, len));
                else if (db)
                    FN(units_sum)(gr, len, gacc.colsum + t.rb * n_out + t.c0);
            }
        }
        IC_FOR
        for (int64_t cb = 0; cb < g.nc; cb++)
            FN(acc_merge_units)(&gacc, cb, NULL, NULL, db);
        if (later) {
            IC_SINGLE
            {
                FN(acc_finish)(&gacc, &st->moments[0], NULL);
                FN(acc_hist_range)(&gacc, &st->moments[0], st);
            }
            IC_FOR_DYNAMIC
            for (int64_t s = 0; s < tiles; s++) {
                tile t = tile_at(&g, s);
                FN(acc_hist_tile)(&gacc, &t, grad, n_out);
            }
        }
        /* dW = X^T dZ and dX = dZ W^T: both products' operands packed, then
         * their tiles (dW's, the larger, first) */
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < pack_items; s++)
            FN(pack_item)(&pw, dx ? &px : NULL, s);
        IC_FOR_DYNAMIC
        for (int64_t s = 0; s < wtiles + xtiles; s++) {
            if (s < wtiles) {
                tile t = tile_at(&gw, s);
                IC_CAT(ic_product_tile, SUF)(&pw, t.r0, t.r1, t.c0, t.c1, dw, n_out);
                if (st) {
                    dw_sq[t.index] = FN(tile_sum_squares)(dw, n_out, &t);
                    w_sq[t.index] = FN(tile_sum_squares)(w, n_out, &t);
                }
            } else {
                tile t = tile_at(&gx, s - wtiles);
                IC_CAT(ic_product_tile, SUF)(&px, t.r0, t.r1, t.c0, t.c1, dx, n_in);
                if (st)
                    dx_sq[t.index] = FN(tile_sum_squares)(dx, n_in, &t);
            }
        }
        ic_pin_end(&pin);
    }
    ic_moments unused;
    if (!later)
        FN(acc_finish)(&gacc, st ? &st->moments[0] : &unused, NULL);
    FN(acc_hist_finish)(&gacc, st ? st->hist : NULL);
    if (st && st->sums) {
        double sums[4] = {0, 0, 0, 0};
        for (int64_t t = 0; t < xtiles; t++)
            sums[0] += dx_sq[t];
        for (int64_t t = 0; t < wtiles; t++) {
            sums[1] += dw_sq[t];
            sums[3] += w_sq[t];
        }
        if (db)
            sums[2] = FN(sum_squares)(db, n_out);
        memcpy(st->sums, sums, sizeof sums);
    }
    FN(acc_free)(&gacc);
    free(dx_sq); free(dw_sq); free(w_sq);
    packed_give(pw.packed);
    return 0;
}

int IC_CAT(ic_histogram, SUF)(const REAL *v, int64_t n, double lo, double hi, int64_t nbins,
                              int64_t *hist, int nthreads)
{
    int64_t chunks = (n + HIST_CHUNK - 1) / HIST_CHUNK, stride = HIST_COPIES * (nbins + 3);
    hist_geom g = hist_geometry(lo, hi, nbins);
    int64_t *local = calloc((size_t)(chunks * stride) + 1, sizeof(int64_t));
    if (!local)
        return -1;
    IC_FOR_CHUNKS(n, HIST_CHUNK, c, start, len, FN(hist_row)(v + start, len, local + c * stride, &g));
    for (int64_t c = 0; c < chunks * HIST_COPIES; c++)
        for (int64_t k = 0; k < nbins + 2; k++)
            hist[k] += local[c * (nbins + 3) + k];
    free(local);
    return 0;
}
