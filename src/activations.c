/* Activations and their derivatives over arrays (element-wise): float32 with
 * the vectorizable float kernels of actmath.h, float64 with double libm. */
#include "activations.h"
#include "actmath.h"
#include "cpu.h"
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
                out[i] = DPHI(ID, param, z[i]);                                      \
        else                                                                         \
            for (int64_t i = 0; i < n; i++)                                          \
                out[i] = PHI(ID, param, z[i]);                                       \
        break;

/* Expects REAL (the element type), PARAM (the parameter's type), PHI and DPHI
 * defined. The float span is compiled per instruction set (IC_SIMD). */
#define IC_ACTIVATION(SUF, ATTR)                                                     \
    ATTR static void act_span_##SUF(int id, PARAM param, const REAL *z, REAL *out,   \
                                    int64_t n, int derivative)                       \
    {                                                                                \
        switch (id) {                                                                \
            IC_EACH_ACT(IC_ACT_CASE)                                                 \
        }                                                                            \
    }                                                                                \
    void ic_activation_##SUF(int id, double param, const REAL *z, REAL *out,         \
                             int64_t n, int derivative, int nthreads)                \
    {                                                                                \
        IC_FOR_CHUNKS(n, IC_ACT_CHUNK, c, start, len,                                \
                      act_span_##SUF(id, (PARAM)param, z + start, out + start, len,  \
                                     derivative));                                   \
    }

#define REAL float
#define PARAM float
#define PHI ic_phi_f32
#define DPHI ic_dphi_f32
IC_ACTIVATION(f32, IC_SIMD)
#undef REAL
#undef PARAM
#undef PHI
#undef DPHI

#define REAL double
#define PARAM double
#define PHI ic_phi
#define DPHI ic_dphi
IC_ACTIVATION(f64, )
#undef REAL
#undef PARAM
#undef PHI
#undef DPHI
