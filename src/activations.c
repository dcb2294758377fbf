/* Activations and their derivatives over arrays (element-wise, any dtype). */
#include "activations.h"
#include "parallel.h"

#define IC_ACT_CHUNK 16384

#define IC_ACTIVATION(SUF, REAL)                                                          \
    void ic_activation_##SUF(int id, double param, const REAL *z, REAL *out, int64_t n,   \
                             int derivative, int nthreads)                                \
    {                                                                                     \
        int64_t i;                                                                        \
        IC_PARALLEL_FOR(nthreads > 1 && n > IC_ACT_CHUNK)                                  \
        for (i = 0; i < n; i++)                                                           \
            out[i] = (REAL)(derivative ? ic_dphi(id, param, (double)z[i])                 \
                                       : ic_phi(id, param, (double)z[i]));                \
    }

IC_ACTIVATION(f32, float)
IC_ACTIVATION(f64, double)
