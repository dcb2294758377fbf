/* Activations and their derivatives over arrays (element-wise, any dtype). */
#include "activations.h"
#include "parallel.h"

#define IC_ACT_CHUNK 16384

/* The switch sits outside each loop, so every case's loop sees a constant id,
 * inlines phi or phi' to one expression, and the simple ones vectorize. The
 * parallel loop runs over chunks: an OpenMP region inside the cases would be
 * outlined with the id as run-time data. */
#define IC_ACT_CASE(ID)                                                              \
    case ID:                                                                         \
        if (derivative)                                                              \
            for (int64_t i = 0; i < n; i++)                                          \
                out[i] = (REAL)ic_dphi(ID, param, (double)z[i]);                     \
        else                                                                         \
            for (int64_t i = 0; i < n; i++)                                          \
                out[i] = (REAL)ic_phi(ID, param, (double)z[i]);                      \
        break;

/* Expects REAL defined as the element type. */
#define IC_ACTIVATION(SUF)                                                     \
    static void act_span_##SUF(int id, double param, const REAL *z, REAL *out,       \
                               int64_t n, int derivative)                            \
    {                                                                                \
        switch (id) {                                                                \
            IC_ACT_CASE(IC_ACT_LINEAR) IC_ACT_CASE(IC_ACT_RELU)                      \
            IC_ACT_CASE(IC_ACT_LEAKY_RELU) IC_ACT_CASE(IC_ACT_ELU)                   \
            IC_ACT_CASE(IC_ACT_SELU) IC_ACT_CASE(IC_ACT_GELU)                        \
            IC_ACT_CASE(IC_ACT_GELU_TANH) IC_ACT_CASE(IC_ACT_SILU)                   \
            IC_ACT_CASE(IC_ACT_SOFTPLUS) IC_ACT_CASE(IC_ACT_TANH)                    \
            IC_ACT_CASE(IC_ACT_SIGMOID) IC_ACT_CASE(IC_ACT_ERF)                      \
            IC_ACT_CASE(IC_ACT_HARDTANH) IC_ACT_CASE(IC_ACT_SIN)                     \
        }                                                                            \
    }                                                                                \
    void ic_activation_##SUF(int id, double param, const REAL *z, REAL *out,         \
                             int64_t n, int derivative, int nthreads)                \
    {                                                                                \
        int64_t nchunks = (n + IC_ACT_CHUNK - 1) / IC_ACT_CHUNK, c;                  \
        IC_PARALLEL_FOR(nthreads > 1 && nchunks > 1)                                 \
        for (c = 0; c < nchunks; c++) {                                              \
            int64_t start = c * IC_ACT_CHUNK;                                        \
            int64_t len = n - start < IC_ACT_CHUNK ? n - start : IC_ACT_CHUNK;       \
            act_span_##SUF(id, param, z + start, out + start, len, derivative);      \
        }                                                                            \
    }

#define REAL float
IC_ACTIVATION(f32)
#undef REAL
#define REAL double
IC_ACTIVATION(f64)
#undef REAL
