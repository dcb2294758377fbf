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

/* offset: index of out[0] in the stream, so that a fill may cover part of a
 * larger virtual array. */
void ic_uniform_f32(float *out, int64_t n, int64_t offset, const ic_stream *s,
                    double low, double high, int nthreads);
void ic_uniform_f64(double *out, int64_t n, int64_t offset, const ic_stream *s,
                    double low, double high, int nthreads);
void ic_normal_f32(float *out, int64_t n, int64_t offset, const ic_stream *s,
                   double mean, double std, int nthreads);
void ic_normal_f64(double *out, int64_t n, int64_t offset, const ic_stream *s,
                   double mean, double std, int nthreads);
void ic_truncnorm_f32(float *out, int64_t n, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads);
void ic_truncnorm_f64(double *out, int64_t n, const ic_stream *s,
                      const ic_truncnorm *p, int nthreads);
void ic_constant_f32(float *out, int64_t n, double value, int nthreads);
void ic_constant_f64(double *out, int64_t n, double value, int nthreads);
/* Zero nzeros distinct rows, chosen uniformly, in every column of a C-ordered
 * rows x cols matrix. */
void ic_sparse_zeros_f32(float *out, int64_t rows, int64_t cols, int64_t nzeros,
                         const ic_stream *s, int nthreads);
void ic_sparse_zeros_f64(double *out, int64_t rows, int64_t cols, int64_t nzeros,
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
