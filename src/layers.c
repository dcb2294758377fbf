/* Instantiates layers_template.c for float and double, and holds the parts
 * that do not depend on the dtype. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activations.h"
#include "actmath.h"
#include "cpu.h"
#include "layers.h"
#include "parallel.h"
#include "vecmath.h"

#define IC_CAT_(a, b) a##_##b
#define IC_CAT(a, b) IC_CAT_(a, b)

/* FNV-1a's 64-bit prime: unit hashes only need to tell units apart. */
#define HASH_PRIME 0x100000001b3ull
/* Fixed accumulator lanes for the moments of a tensor. */
#define LANES 16
/* Interleaved histogram copies, and the values whose bins are found at once. */
#define HIST_COPIES 8
#define HIST_ROW 1024
/* Values per work item of a standalone histogram. */
#define HIST_CHUNK 65536

/* Rows per statistics block: about 1 MiB of float32, at most 256 rows, and
 * at least two blocks when the batch allows, so two threads share the work.
 * Depends on the shapes only, never on the thread count, so the statistics
 * are bit-identical for any thread count. */
static int64_t block_rows(int64_t rows, int64_t width)
{
    int64_t r = ((int64_t)1 << 18) / (width > 0 ? width : 1);
    r = r < 16 ? 16 : (r > 256 ? 256 : r);
    int64_t half = ((rows + 1) / 2 + 7) / 8 * 8;
    return r < half ? r : half;
}

/* Threads sharing `blocks` work items: each takes a contiguous run and
 * makes one GEMM call for it. */
static int64_t team_count(int nthreads, int64_t blocks)
{
    return nthreads < blocks ? (nthreads > 1 ? nthreads : 1) : (blocks > 1 ? blocks : 1);
}

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

/* Histogram bins: numpy.histogram's edges lo + k step, the last one hi. */
typedef struct {
    double lo, hi, norm, step;
    int64_t nbins;
} hist_geom;

static hist_geom hist_geometry(double lo, double hi, int64_t nbins)
{
    hist_geom g = {lo, hi, (double)nbins / (hi - lo), (hi - lo) / (double)nbins, nbins};
    return g;
}

static void moments_empty(ic_moments *m)
{
    memset(m, 0, sizeof *m);
    m->mean = m->m2 = m->min = m->max = NAN;
}

#define REAL float
#define SUF f32
#define GEMM ic_sgemm
#define PHI(id, p, z) ic_phi_f32(id, p, z)
#define DPHI(id, p, z) ic_dphi_f32(id, p, z)
#define BITS(x) f32_bits(x)
#include "layers_template.c"
#undef REAL
#undef SUF
#undef GEMM
#undef PHI
#undef DPHI
#undef BITS

#define REAL double
#define SUF f64
#define GEMM ic_dgemm
#define PHI(id, p, z) ic_phi(id, p, z)
#define DPHI(id, p, z) ic_dphi(id, p, z)
#define BITS(x) f64_bits(x)
#include "layers_template.c"
