/* Instantiates layers_template.c for float and double, and holds the parts
 * that do not depend on the dtype. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activations.h"
#include "actmath.h"
#include "cpu.h"
#include "gemm.h"
#include "layers.h"
#include "parallel.h"
#include "template.h"
#include "vecmath.h"

/* FNV-1a's 64-bit prime: unit hashes only need to tell units apart. */
#define HASH_PRIME 0x100000001b3ull
/* Fixed accumulator lanes for the moments of a tensor. */
#define LANES 16
/* Interleaved histogram copies, and the values whose bins are found at once. */
#define HIST_COPIES 8
#define HIST_ROW 1024
/* Rows whose per-unit sums are accumulated at once. */
#define UNIT_ROWS 8
/* Values per work item of a standalone histogram. */
#define HIST_CHUNK 65536

/* The grid of output tiles of a product with `rows` x `cols` outputs and
 * inner dimension k. Each tile is computed by initcore's GEMM (gemm.h) from
 * operands packed once per call, followed by its share of the statistics
 * while it is in cache; tiles go to whichever thread is free. The GEMM's
 * bits do not depend on the tiles, but the statistics are accumulated per
 * tile and merged in tile order, so the grid depends on the shapes only,
 * never on the thread count.
 *
 * Starting from the whole product (at most TILE_ROWS x TILE_COLS), the
 * longer side is halved until there are TILE_TARGET tiles or a tile would
 * fall below TILE_MIN_MACS: two or more tiles per core on 16 cores for
 * width 1024, and small layers in few tiles. Tiles start at multiples of
 * the GEMM's micro-tile; rows align to one micro-tile only, so that the row
 * blocks stay close in size (1024 rows: 7 x 132 + 100, where an alignment of
 * 24 gave 7 x 144 + 16 and left 16 cores a tile short).
 * The caps bound a tile's counts (a statistics lane sees at most
 * TILE_ROWS x TILE_COLS / 16 values) and its per-unit rows. */
#define TILE_ROWS 1024
#define TILE_COLS 4096
#define TILE_TARGET 32
#define TILE_MIN_MACS ((int64_t)1 << 22)
#define TILE_ROW_ALIGN IC_GEMM_MR
#define TILE_COL_ALIGN IC_GEMM_NR_F32
_Static_assert(TILE_COL_ALIGN % IC_GEMM_NR_F64 == 0, "tiles start on micro-tiles of both dtypes");

typedef struct {
    int64_t rows, cols, tr, tc, nr, nc;   /* tiles of tr x tc: nr row blocks, nc column tiles */
} grid;

typedef struct {
    int64_t index, rb, cb;   /* index = rb * nc + cb: the order in which results merge */
    int64_t r0, r1, c0, c1;
} tile;

/* At most `cap` per part, in equal parts rounded up to a multiple of `align`. */
static int64_t part_size(int64_t n, int64_t cap, int64_t align)
{
    int64_t parts = (n + cap - 1) / cap, size = (n + parts - 1) / parts;
    size = (size + align - 1) / align * align;
    return size < n ? size : n;
}

static grid grid_of(int64_t rows, int64_t cols, int64_t k)
{
    grid g = {.rows = rows, .cols = cols};
    g.tr = part_size(rows > 0 ? rows : 1, TILE_ROWS, TILE_ROW_ALIGN);
    g.tc = part_size(cols > 0 ? cols : 1, TILE_COLS, TILE_COL_ALIGN);
    for (;;) {
        g.nr = (rows + g.tr - 1) / g.tr;
        g.nc = (cols + g.tc - 1) / g.tc;
        int64_t tr = g.tr, tc = g.tc;
        if (tc >= tr && tc > TILE_COL_ALIGN)
            tc = part_size(tc, (tc + 1) / 2, TILE_COL_ALIGN);
        else if (tr > TILE_ROW_ALIGN)
            tr = part_size(tr, (tr + 1) / 2, TILE_ROW_ALIGN);
        if (g.nr * g.nc >= TILE_TARGET || (tr == g.tr && tc == g.tc) || tr * tc * k < TILE_MIN_MACS)
            return g;
        g.tr = tr;
        g.tc = tc;
    }
}

/* Rows in row block rb. */
static int64_t grid_rows(const grid *g, int64_t rb)
{
    return g->rows - rb * g->tr < g->tr ? g->rows - rb * g->tr : g->tr;
}

/* The s-th tile in the order threads take them: column tiles outer, so that
 * a thread's next tile often reuses the columns of B it just used. */
static tile tile_at(const grid *g, int64_t s)
{
    tile t;
    t.cb = s / g->nr;
    t.rb = s % g->nr;
    t.index = t.rb * g->nc + t.cb;
    t.r0 = t.rb * g->tr;
    t.r1 = t.r0 + grid_rows(g, t.rb);
    t.c0 = t.cb * g->tc;
    t.c1 = t.c0 + g->tc < g->cols ? t.c0 + g->tc : g->cols;
    return t;
}

/* Threads worth starting for `items` work items. */
static int team_size(int nthreads, int64_t items)
{
    return nthreads < items ? (nthreads > 1 ? nthreads : 1) : (int)(items > 1 ? items : 1);
}

/* The packed operands' buffer is kept for the next call (one, the latest
 * returned, up to PACKED_KEEP bytes): a fresh one would page-fault on every
 * call. Its size sits at the start of the allocation and the data starts at
 * the next 64-byte boundary at least 64 bytes in, a pointer to the
 * allocation just before it. */
#define PACKED_KEEP ((size_t)64 << 20)

static char *packed_kept;

static void *packed_data(char *h)
{
    char *data = h + 64 + (64 - (uintptr_t)h % 64) % 64;
    ((char **)data)[-1] = h;
    return data;
}

static void *packed_take(size_t bytes)
{
    char *h = __atomic_exchange_n(&packed_kept, NULL, __ATOMIC_ACQ_REL);
    if (h && *(size_t *)h >= bytes)
        return packed_data(h);
    free(h);
    h = malloc(128 + bytes);
    if (!h)
        return NULL;
    *(size_t *)h = bytes;
    return packed_data(h);
}

static void packed_give(void *data)
{
    char *h = data ? ((char **)data)[-1] : NULL;
    if (h && *(size_t *)h <= PACKED_KEEP)
        h = __atomic_exchange_n(&packed_kept, h, __ATOMIC_ACQ_REL);
    free(h);
}

/* The units of one column tile, merged: the moments of their values and of
 * their means, and how many are dead. */
typedef struct {
    double count, mean, m2, units, unit_mean, unit_m2, dead;
} unit_part;

/* Chan, Golub & LeVeque (1979): merge (nb, mean_b, m2_b) into (n, mean, m2). */
static void chan_merge(double *n, double *mean, double *m2, double nb, double mean_b, double m2_b)
{
    if (nb == 0)
        return;
    if (*n == 0) {
        *n = nb;
        *mean = mean_b;
        *m2 = m2_b;
        return;
    }
    double total = *n + nb, delta = mean_b - *mean;
    *mean += delta * (nb / total);
    *m2 += m2_b + delta * delta * (*n * (nb / total));
    *n = total;
}

/* Histogram bins: numpy.histogram's edges lo + k step, the last one hi.
 * float32 values are binned in float32 arithmetic (`fast`) when that is
 * provably exact more than `eps` bin widths away from every edge; values
 * nearer an edge are binned in float64 as numpy does. */
typedef struct {
    double lo, hi, norm, step;
    int64_t nbins;
    int fast, dyadic;
    float lo32, norm32, eps;
    float lo_up, hi_down;      /* float32 x < lo iff x < lo_up; x > hi iff x > hi_down */
    float lo_exact, hi_exact;  /* lo and hi when they are float32 numbers, else NaN */
} hist_geom;

/* The slot of x: 0 below lo, 1 + bin, nbins + 1 above hi (numpy's bins,
 * each closed on the left, the last closed on the right too), nbins + 2 for
 * NaN. Selects and bitwise logic only, so that loops calling it vectorize. */
static inline int32_t hist_slot(double x, const hist_geom *g)
{
    double t = (x - g->lo) * g->norm, last = (double)(g->nbins - 1);
    int32_t top = (int32_t)g->nbins - 1;
    int32_t k = (int32_t)(t >= 0 ? (t <= last ? t : last) : 0.0);
    double below = (double)k * g->step + g->lo;
    double above = (double)(k + 1) * g->step + g->lo;
    above = k == top ? g->hi : above;
    k = k - (x < below) + ((x >= above) & (k != top));
    int32_t out = x < g->lo ? 0 : k + 1;
    out = x > g->hi ? top + 2 : out;
    return x != x ? top + 3 : out;
}

static hist_geom hist_geometry(double lo, double hi, int64_t nbins)
{
    hist_geom g = {lo, hi, (double)nbins / (hi - lo), (hi - lo) / (double)nbins, nbins};
    if (!(fabs(lo) <= FLT_MAX && fabs(hi) <= FLT_MAX && g.norm <= FLT_MAX && nbins < (1 << 22)))
        return g;
    /* |t32 - t| in bins, t = (x - lo) norm: rounding lo and norm to float32,
     * then the subtraction and the product; plus numpy's edges' own rounding */
    double guess = 0x1p-24 * (fabs(lo) * g.norm + 3.0 * ((double)nbins + 1.0));
    double edges = 0x1p-50 * ((fabs(lo) + fabs(hi)) * g.norm + (double)nbins);
    double eps = 2.0 * (guess + edges);
    if (!(eps < 0.25))
        return g;
    float lo_up = (float)lo, hi_down = (float)hi;
    if ((double)lo_up < lo)
        lo_up = nextafterf(lo_up, INFINITY);
    if ((double)hi_down > hi)
        hi_down = nextafterf(hi_down, -INFINITY);
    g.fast = 1;
    g.lo32 = (float)lo;
    g.norm32 = (float)g.norm;
    g.eps = (float)eps;
    g.lo_up = lo_up;
    g.hi_down = hi_down;
    g.lo_exact = (double)(float)lo == lo ? (float)lo : NAN;
    g.hi_exact = (double)(float)hi == hi ? (float)hi : NAN;
    /* norm = 2^k, k >= 0, and lo norm an integer (as for [-1, 1] or [0, 1]
     * in 64 bins): x norm is exact for every float32 x, and so is its
     * floor, so the bin is floor(x norm) - lo norm with no edge to check */
    int exponent;
    double lo_scaled = lo * g.norm;
    g.dyadic = frexp(g.norm, &exponent) == 0.5 && exponent >= 1 && lo_scaled == floor(lo_scaled)
               && fabs(lo_scaled) + (double)nbins <= 0x1p24 && (double)(float)lo == lo
               && (double)(float)hi == hi;
    return g;
}

/* hist_slot of float32 values for a dyadic geometry (exact). */
IC_SIMD static void hist_slots_dyadic(const float *restrict v, int64_t n, int32_t *restrict slot,
                                      const hist_geom *g)
{
    float lo = g->lo_exact, hi = g->hi_exact, norm = g->norm32, last = (float)(g->nbins - 1);
    float first = floorf(g->lo32 * norm);       /* lo norm, exactly */
    int32_t above = (int32_t)g->nbins + 1;
    for (int64_t j = 0; j < n; j++) {
        float x = v[j], kf = floorf(x * norm) - first;
        kf = kf > 0 ? kf : 0;  /* NaN to 0 too: no undefined conversion */
        kf = kf < last ? kf : last;
        int32_t k = (int32_t)kf + 1;
        k = x < lo ? 0 : k;
        k = x > hi ? above : k;
        slot[j] = x != x ? above + 1 : k;
    }
}

/* hist_slot of float32 values in float32 arithmetic (g->fast), except that a
 * value within g->eps bins of an edge gets slot -1; returns how many did. */
IC_SIMD static int64_t hist_slots_fast(const float *restrict v, int64_t n, int32_t *restrict slot,
                                       const hist_geom *g)
{
    float lo = g->lo32, norm = g->norm32, eps = g->eps, lo_up = g->lo_up, hi_down = g->hi_down;
    float lo_exact = g->lo_exact, hi_exact = g->hi_exact, last = (float)(g->nbins - 1);
    int32_t above = (int32_t)g->nbins + 1;
    int64_t near_edges = 0;
    for (int64_t j = 0; j < n; j++) {
        float x = v[j], t = (x - lo) * norm, kf = floorf(t), frac = t - kf;
        kf = kf > 0 ? kf : 0;  /* NaN to 0 too: no undefined conversion */
        kf = kf < last ? kf : last;
        int inside = (x >= lo_up) & (x <= hi_down);
        int near = ((frac < eps) | (frac > 1 - eps)) & inside & (x != lo_exact) & (x != hi_exact);
        int32_t k = (int32_t)kf + 1;
        k = x < lo_up ? 0 : k;
        k = x > hi_down ? above : k;
        k = x != x ? above + 1 : k;
        slot[j] = near ? -1 : k;
        near_edges += near;
    }
    return near_edges;
}

/* The histogram range of an unbounded quantity with moments m: mean +- sigmas
 * std within [min, max]; never empty, and [-1, 1] without finite values. */
static void hist_range(const ic_moments *m, double sigmas, double *lo, double *hi)
{
    double std = m->count > 0 ? sqrt(m->m2 / m->count) : NAN;
    if (!(m->count > 0) || !isfinite(std)) {
        *lo = -1.0;
        *hi = 1.0;
        return;
    }
    double left = m->mean - sigmas * std, right = m->mean + sigmas * std;
    left = m->min > left ? m->min : left;
    right = m->max < right ? m->max : right;
    if (!(right > left)) {
        double half = fabs(m->mean) * 1e-6;
        half = half > 1e-30 ? half : 1e-30;
        left = m->mean - half;
        right = m->mean + half;
    }
    *lo = left;
    *hi = right;
}

/* A set of 64-bit unit hashes (open addressing), to count distinct units. */
typedef struct {
    uint64_t *keys;
    unsigned char *used;
    int64_t mask, count;
} distinct_set;

/* Room for n keys; 0, or -1 when out of memory. */
static int distinct_set_init(distinct_set *set, int64_t n)
{
    int64_t size = 16;
    while (size < 2 * n)
        size *= 2;
    set->mask = size - 1;
    set->count = 0;
    set->keys = malloc((size_t)size * sizeof(uint64_t));
    set->used = calloc((size_t)size, 1);
    return set->keys && set->used ? 0 : -1;
}

static void distinct_set_add(distinct_set *set, uint64_t key)
{
    int64_t i = (int64_t)((key ^ (key >> 31)) * 0x9e3779b97f4a7c15ull >> 20) & set->mask;
    while (set->used[i]) {
        if (set->keys[i] == key)
            return;
        i = (i + 1) & set->mask;
    }
    set->used[i] = 1;
    set->keys[i] = key;
    set->count++;
}

static void moments_empty(ic_moments *m)
{
    memset(m, 0, sizeof *m);
    m->mean = m->m2 = m->min = m->max = NAN;
}

#define REAL float
#define SUF f32
#define PHI(id, p, z) ic_phi_f32(id, p, z)
#define DPHI(id, p, z) ic_dphi_f32(id, p, z)
#define PHI_DPHI(id, p, z, d) ic_phi_dphi_f32(id, p, z, d)
#define BITS(x) f32_bits(x)
#define NEXTAFTER nextafterf
#define HIST_FAST 1
#include "layers_template.c"
#undef REAL
#undef SUF
#undef PHI
#undef DPHI
#undef PHI_DPHI
#undef BITS
#undef NEXTAFTER
#undef HIST_FAST

#define REAL double
#define SUF f64
#define PHI(id, p, z) ic_phi(id, p, z)
#define DPHI(id, p, z) ic_dphi(id, p, z)
#define PHI_DPHI(id, p, z, d) ic_phi_dphi(id, p, z, d)
#define BITS(x) f64_bits(x)
#define NEXTAFTER nextafter
#define HIST_FAST 0
#include "layers_template.c"
