/* Instantiates fills_template.c for float and double and holds the parts
 * that do not depend on the dtype. */
#include <math.h>
#include <string.h>

#include "compact.h"
#include "cpu.h"
#include "fills.h"
#include "parallel.h"
#include "philox.h"
#include "template.h"
#include "vecmath.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Plane loops have 1-5 iterations; unrolled, each lane loop vectorizes. */
#if defined(__GNUC__) && !defined(__clang__)
#define IC_UNROLL _Pragma("GCC unroll 8")
#else
#define IC_UNROLL
#endif

#define PB PHILOX_BLOCK
/* Elements per parallel work item of the indexed fills. */
#define IC_CHUNK 32768

#define TWO_M24F 5.9604644775390625e-08f
#define TWO_M32F 2.3283064365386963e-10f
#define TWO_M33F 1.1641532182693481e-10f
#define TWO_M53 1.1102230246251565e-16
#define TWO_M54 5.5511151231257827e-17
#define TWO_M64 5.4210108624275222e-20

/* float: four 32-bit units per counter. */
IC_INLINE uint32_t unit_f32(uint32_t w[4][PB], int k, int j) { return w[k][j]; }
IC_INLINE float u01_f32(uint32_t x) { return (float)(x >> 8) * TWO_M24F; }               /* [0, 1) */
/* A uniform float32 needs 24 bits: the top 24 of each word, then a fifth value
 * from the spare low bytes of words 0-2, so a counter yields five. */
IC_INLINE float uniform_unit_f32(uint32_t w[4][PB], int k, int j)
{
    uint32_t bits = k < 4 ? w[k][j] >> 8
                          : (w[0][j] & 0xffu) | (w[1][j] & 0xffu) << 8 | (w[2][j] & 0xffu) << 16;
    return (float)bits * TWO_M24F;
}
IC_INLINE float u01_open_f32(uint32_t x) { return (float)x * TWO_M32F + TWO_M33F; }      /* (0, 1] */
IC_INLINE void box_muller_f32(uint32_t ur, uint32_t ua, float *z0, float *z1)
{
    /* 32 bits for the radius reach 6.8 sigma (24 bits would stop at 5.77). */
    float r = sqrtf(-2.0f * log_f32(u01_open_f32(ur)));
    float s, c;
    sincos_quarter_f32(ua >> 30, (float)(int32_t)(ua << 2) * TWO_M32F, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

/* double: two 64-bit units per counter. */
IC_INLINE uint64_t unit_f64(uint32_t w[4][PB], int k, int j)
{
    return ((uint64_t)w[2 * k][j] << 32) | w[2 * k + 1][j];
}
IC_INLINE double u01_f64(uint64_t x) { return (double)(x >> 11) * TWO_M53; }
IC_INLINE double uniform_unit_f64(uint32_t w[4][PB], int k, int j) { return u01_f64(unit_f64(w, k, j)); }
IC_INLINE double u01_open_f64(uint64_t x) { return (double)(x >> 11) * TWO_M53 + TWO_M54; }
IC_INLINE void box_muller_f64(uint64_t ur, uint64_t ua, double *z0, double *z1)
{
    double r = sqrt(-2.0 * log_f64(u01_open_f64(ur)));
    double s, c;
    sincos_quarter_f64(ua >> 62, (double)(int64_t)(ua << 2) * TWO_M64, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

#define REAL float
#define UNIT uint32_t
#define NUNIT 4
#define UNIFORM_UNITS 5
#define SUF f32
#define NEXTAFTER nextafterf
#include "fills_template.c"
#undef REAL
#undef UNIT
#undef NUNIT
#undef UNIFORM_UNITS
#undef SUF
#undef NEXTAFTER

#define REAL double
#define UNIT uint64_t
#define NUNIT 2
#define UNIFORM_UNITS 2
#define SUF f64
#define NEXTAFTER nextafter
#include "fills_template.c"

void ic_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t w[4][PB];
    ic_stream s;
    s.key[0] = key[0];
    s.key[1] = key[1];
    s.position = ((uint64_t)ctr[3] << 32) | ctr[2];
    philox_block(&s, ((uint64_t)ctr[1] << 32) | ctr[0], 1, w);
    for (int k = 0; k < 4; k++)
        out[k] = w[k][0];
}

int ic_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int ic_max_threads(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < IC_MAX_THREADS ? n : IC_MAX_THREADS;
#else
    return 1;
#endif
}

void ic_set_num_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}
