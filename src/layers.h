/* Fused dense-layer kernels: initcore's GEMM (gemm.h) per tile of the
 * output, with bias, activation and every statistic applied to the tile while
 * it is still in cache.
 *
 * Matrices are C-contiguous: x (batch, n_in), w (n_in, n_out), z and a
 * (batch, n_out).
 *
 * The GEMM gives the same bits for any tiles and threads. The statistics are
 * accumulated in float64 per tile of a grid that depends only on the shapes
 * (layers.c), and tiles are merged in a fixed order with Chan et al.'s (1979)
 * pairwise formula. Results are bit-identical for any thread count, and no
 * BLAS library is involved. */
#ifndef INITCORE_LAYERS_H
#define INITCORE_LAYERS_H

#include <stdint.h>

/* Moments, zeros and saturated values over the finite values of a tensor,
 * and counts of NaN and infinities. Python reads it as
 * float64[IC_MOMENT_FIELDS]. */
typedef struct {
    double count, mean, m2, min, max, nan, inf, zero, saturated;
} ic_moments;
#define IC_MOMENT_FIELDS 9

typedef struct {
    int id;                    /* activation, an IC_ACT_* id */
    double param;
} ic_act;

/* What to measure; a NULL pointer skips that output. */
typedef struct {
    double sat_lo, sat_hi;     /* a value is saturated when outside [sat_lo, sat_hi] */
    double hist_lo, hist_hi;   /* finite, with nbins / (hi - lo) finite */
    double hist_sigmas;        /* > 0: the range is mean +- hist_sigmas std within [min, max] instead */
    double *hist_range;        /* with hist_sigmas: receives the range [lo, hi] */
    int64_t nbins;
    int64_t *hist;             /* nbins + 2: below range, bins, above range (NaN excluded) */
    ic_moments *moments;       /* forward: [z, a]; backward: [dz] */
    double *units;             /* forward: [mean, var] x n_out of a */
    uint64_t *unit_hash;       /* forward: a hash of each unit's activations */
    double *unit_summary;      /* forward: [dead units, distinct units, std of the unit means] */
    double *sums;              /* backward: [|dx|^2, |dw|^2, |db|^2, |w|^2] */
} ic_stats;

/* One layer's operands, for each dtype (REAL float: f32, double: f64).
 *
 * Forward: z = x @ w + b and a = phi(z). With z NULL the product is formed
 * in a and replaced by phi in place; b may be NULL (no bias).
 *
 * Backward: given dA in `grad`, replaces it by dZ = dA * phi'(z) (with
 * z_is_dphi, z already holds phi'(z)), then forms db = sum over the batch of
 * dZ (unless db is NULL), dx = dZ @ w^T (unless dx is NULL) and
 * dw = x^T @ dZ. With z_below (batch, n_in), the input is formed here:
 * x_below = phi_below(z_below), and z_below is replaced by
 * phi_below'(z_below), ready for the layer below's call (z_is_dphi); x is
 * then ignored. This saves the layer below a pass, and tanh and sigmoid share
 * one exponential between phi and phi'.
 *
 * Built with designated initializers: (ic_forward_args_f32){.batch = ...}. */
#define IC_LAYER_ARGS(REAL, SUF)                                              \
    typedef struct {                                                          \
        int64_t batch, n_in, n_out;                                           \
        const REAL *x, *w, *b;                                                \
        REAL *z, *a;                                                          \
        ic_act act;                                                           \
    } ic_forward_args_##SUF;                                                  \
    typedef struct {                                                          \
        int64_t batch, n_in, n_out;                                           \
        const REAL *x, *w, *z;                                                \
        int z_is_dphi;                                                        \
        REAL *grad, *dx, *dw, *db;                                            \
        ic_act act;                                                           \
        REAL *z_below, *x_below;                                              \
        ic_act act_below;                                                     \
    } ic_backward_args_##SUF;
IC_LAYER_ARGS(float, f32)
IC_LAYER_ARGS(double, f64)
#undef IC_LAYER_ARGS

/* stats may be NULL. Return 0, or -1 when out of memory. */
int ic_forward_f32(const ic_forward_args_f32 *layer, const ic_stats *stats, int nthreads);
int ic_forward_f64(const ic_forward_args_f64 *layer, const ic_stats *stats, int nthreads);
int ic_backward_f32(const ic_backward_args_f32 *layer, const ic_stats *stats, int nthreads);
int ic_backward_f64(const ic_backward_args_f64 *layer, const ic_stats *stats, int nthreads);

/* Adds the histogram of v[0..n) to hist (nbins + 2 slots, as in ic_stats).
 * Returns 0, or -1 when out of memory. */
int ic_histogram_f32(const float *v, int64_t n, double lo, double hi, int64_t nbins,
                     int64_t *hist, int nthreads);
int ic_histogram_f64(const double *v, int64_t n, double lo, double hi, int64_t nbins,
                     int64_t *hist, int nthreads);

#endif
