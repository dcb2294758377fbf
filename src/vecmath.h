/* Branch-free log and sin/cos kernels that compilers vectorize.
 *
 * Built only from +, -, *, /, sqrt and integer bit operations, so every SIMD
 * path (and every platform) rounds identically and a seed gives the same bits
 * everywhere; libm differs between platforms and does not vectorize portably.
 * Polynomials: Cephes logf/sinf/cosf (Moshier 1992) for float, fdlibm
 * e_log/k_sin/k_cos (Sun Microsystems 1993) for double; all < 1 ulp on the
 * reduced ranges used here. */
#ifndef INITCORE_VECMATH_H
#define INITCORE_VECMATH_H

#include <stdint.h>
#include "philox.h"

IC_INLINE uint32_t f32_bits(float x) { union { float f; uint32_t u; } v; v.f = x; return v.u; }
IC_INLINE float f32_from(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }
IC_INLINE uint64_t f64_bits(double x) { union { double f; uint64_t u; } v; v.f = x; return v.u; }
IC_INLINE double f64_from(uint64_t u) { union { double f; uint64_t u; } v; v.u = u; return v.f; }

/* Natural log of a positive normal float. */
IC_INLINE float log_f32(float x)
{
    uint32_t i = f32_bits(x);
    int32_t e = (int32_t)(i >> 23) - 126;               /* x = m * 2^e, m in [0.5, 1) */
    float m = f32_from((i & 0x007fffffu) | 0x3f000000u);
    int32_t below = m < 0.70710678118654752f;
    e -= below;
    float t = below ? (m + m - 1.0f) : (m - 1.0f);       /* t in [-0.293, 0.414) */
    float z = t * t;
    float p = 7.0376836292E-2f;
    p = p * t - 1.1514610310E-1f;
    p = p * t + 1.1676998740E-1f;
    p = p * t - 1.2420140846E-1f;
    p = p * t + 1.4249322787E-1f;
    p = p * t - 1.6668057665E-1f;
    p = p * t + 2.0000714765E-1f;
    p = p * t - 2.4999993993E-1f;
    p = p * t + 3.3333331174E-1f;
    float fe = (float)e;
    float y = p * t * z - 2.12194440E-4f * fe - 0.5f * z;
    return (t + y) + 0.693359375f * fe;
}

/* sin and cos of (pi/2) * (q + f) for quadrant q in 0..3 and f in [-1/2, 1/2). */
IC_INLINE void sincos_quarter_f32(uint32_t q, float f, float *s, float *c)
{
    float x = f * 1.57079632679489662f;
    float z = x * x;
    float sx = ((-1.9515295891E-4f * z + 8.3321608736E-3f) * z - 1.6666654611E-1f) * z * x + x;
    float cx = ((2.443315711809948E-5f * z - 1.388731625493765E-3f) * z
                + 4.166664568298827E-2f) * z * z - 0.5f * z + 1.0f;
    float a = (q & 1u) ? cx : sx;
    float b = (q & 1u) ? -sx : cx;
    uint32_t flip = (q & 2u) << 30;
    *s = f32_from(f32_bits(a) ^ flip);
    *c = f32_from(f32_bits(b) ^ flip);
}

/* Natural log of a positive normal double. */
IC_INLINE double log_f64(double x)
{
    uint64_t i = f64_bits(x);
    int64_t e = (int64_t)(i >> 52) - 1023;               /* x = m * 2^e, m in [1, 2) */
    double m = f64_from((i & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    int64_t above = m > 1.41421356237309505;
    e += above;
    m = above ? 0.5 * m : m;                             /* m in [0.707, 1.414] */
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double r = t2 + t1, hfsq = 0.5 * f * f, de = (double)e;
    return de * 6.93147180369123816490e-01
           - ((hfsq - (s * (hfsq + r) + de * 1.90821492927058770002e-10)) - f);
}

IC_INLINE void sincos_quarter_f64(uint64_t q, double f, double *s, double *c)
{
    double x = f * 1.57079632679489661923;
    double z = x * x;
    double r = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04
               + z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08
               + z * 1.58969099521155010221e-10)));
    double sx = x + z * x * (-1.66666666666666324348e-01 + z * r);
    double rc = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03
                + z * (2.48015872894767294178e-05 + z * (-2.75573143513906633035e-07
                + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))));
    double hz = 0.5 * z, w = 1.0 - hz;
    double cx = w + (((1.0 - w) - hz) + z * rc);
    double a = (q & 1u) ? cx : sx;
    double b = (q & 1u) ? -sx : cx;
    uint64_t flip = (q & 2u) << 62;
    *s = f64_from(f64_bits(a) ^ flip);
    *c = f64_from(f64_bits(b) ^ flip);
}

#endif
