/* Seeded parallel fill kernels. Every output element depends only on the
 * stream (key, position) and its own index, never on the thread count. */
#ifndef INITCORE_FILLS_H
#define INITCORE_FILLS_H

#include <stdint.h>
#include "philox.h"

/* Truncated-normal proposal, chosen per call (Robert 1995). */
enum {
    IC_TN_NORMAL = 0,       /* normal proposal, keep alpha <= z <= beta */
    IC_TN_UNIFORM0 = 1,     /* uniform on [alpha, beta] containing 0 */
    IC_TN_UNIFORM_TAIL = 2, /* uniform on [alpha, beta], 0 <= alpha */
    IC_TN_EXP_TAIL = 3      /* shifted exponential, 0 <= alpha */
};

typedef struct {
    int regime;
    double alpha, beta;   /* standardized bounds in working coordinates */
    double lam;           /* exponential rate of IC_TN_EXP_TAIL */
    double mean, std;     /* output = mean + std * z for IC_TN_NORMAL */
    double base, scale;   /* output = base + scale * (z - alpha) otherwise */
    double lo, hi;        /* output bounds, already representable in the dtype */
} ic_truncnorm;

void ic_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Which elements of a larger virtual array a fill writes: element k of out,
 * with k = (i_0, ..., i_{ndim-1}) in C order over count[], is element
 * base + sum_d i_d stride[d] of the stream. The innermost stride is 1. A whole
 * array is one dimension from 0; a shard (a box of the array) gets exactly the
 * values the whole array has there. */
#define IC_MAX_DIMS 64
typedef struct {
    int ndim;
    int64_t base;
    int64_t count[IC_MAX_DIMS];
    int64_t stride[IC_MAX_DIMS];
} ic_box;

static inline ic_box ic_box_whole(int64_t n)
{
    ic_box b;
    b.ndim = 1;
    b.base = 0;
    b.count[0] = n;
    b.stride[0] = 1;
    return b;
}

/* Half-precision outputs hold the bit patterns of the float32 values rounded
 * to nearest even, after clamping to [lo, hi] (bounds exact in the format). */
enum { IC_HALF_F16 = 0, IC_HALF_BF16 = 1 };

void ic_uniform_f32(float *out, const ic_box *box, const ic_stream *s,
                    double low, double high, int nthreads);
void ic_uniform_f64(double *out, const ic_box *box, const ic_stream *s,
                    double low, double high, int nthreads);
void ic_uniform_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                    double low, double high, float lo, float hi, int nthreads);
void ic_normal_f32(float *out, const ic_box *box, const ic_stream *s,
                   double mean, double std, int nthreads);
void ic_normal_f64(double *out, const ic_box *box, const ic_stream *s,
                   double mean, double std, int nthreads);
void ic_normal_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                   double mean, double std, int nthreads);
/* p->lo, p->hi bound the values; for h16 they must be exact in the format. */
void ic_truncnorm_f32(float *out, const ic_box *box, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads);
void ic_truncnorm_f64(double *out, const ic_box *box, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads);
void ic_truncnorm_h16(uint16_t *out, int format, const ic_box *box, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads);
void ic_constant_f32(float *out, int64_t n, double value, int nthreads);
void ic_constant_f64(double *out, int64_t n, double value, int nthreads);
void ic_constant_h16(uint16_t *out, int64_t n, uint16_t bits, int nthreads);
/* float32 to half bit patterns, rounded to nearest even. */
void ic_round_h16(uint16_t *out, const float *in, int64_t n, int format, int nthreads);
/* Zero nzeros distinct rows, chosen uniformly, in every column of a C-ordered
 * rows x cols matrix, writing only the box [r0, r1) x [c0, c1) of it, held in
 * out as a C-ordered (r1 - r0) x (c1 - c0) array of elem_size-byte values. */
void ic_sparse_zeros(void *out, int elem_size, int64_t rows, int64_t cols, int64_t nzeros,
                     int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                     const ic_stream *s, int nthreads);

/* Number of elements of one truncated-normal chunk; part of the stream format. */
#define IC_TRUNC_CHUNK 4096

/* The most threads a kernel starts, whatever OpenMP is set to: past the
 * core count more threads only take turns, and tens of thousands of them
 * exhaust the process. */
#define IC_MAX_THREADS 1024

int ic_openmp_enabled(void);
/* OpenMP's thread count for the next region, at most IC_MAX_THREADS. */
int ic_max_threads(void);
void ic_set_num_threads(int n);

#endif
