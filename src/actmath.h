/* Float32 activations: phi and phi' (ic_phi_f32, ic_dphi_f32) and the
 * elementary functions under them, written so that loops calling them
 * vectorize: straight-line code, selections through bit masks (sel_f32), no
 * libm, no early returns, integer work through the f32_bits / f32_from helpers.
 * Built only from +, -, *, / and bit operations (never contracted into FMA,
 * see meson.build), so every SIMD clone and every platform rounds alike
 * (checked: SSE2, AVX2, AVX-512 and -O0 scalar builds give identical bits).
 *
 * Accuracy, in float32 ulps of the exact result (double libm / closed forms,
 * all 2^32 inputs for the elementary functions, every third float for phi
 * and phi'; tests/test_activations.py holds them to 4 ulp):
 *   exp 0.95, expm1 1.45, log1p 0.90 (on [-1/4, 1]), tanh 1.94, sigmoid 2.40,
 *   erf 1.04, erfc 1.86 (relative all the way to its underflow at 10.05);
 *   phi <= 2.79 (silu, over all floats; sigmoid 2.40, tanh 1.94, gelu and
 *   gelu_tanh 1.90, selu 1.86, softplus 1.68), phi' <= 2.45 (sigmoid',
 *   tanh', softplus'; gelu' 1.86, silu' 1.73).
 * Exceptions, stated as absolute bounds:
 *   - sin_f32 / cos_f32 for |x| > pi/4: 9.9e-8 (1.66 * 2^-24) for |x| < 102943,
 *     where the Cody-Waite reduction is exact; beyond, the reduction's
 *     products round and the error grows about linearly (5.5e-3 at 2e5, 0.03
 *     at 1e6, 0.13 at 4e6); past 4e6 the result is only a value in [-1, 1];
 *     NaN for +-inf;
 *   - around the zero of a derivative away from 0 (gelu' and gelu_tanh' near
 *     -0.752, silu' near -1.2785), where phi' is a difference of terms of
 *     size S: a few ulp of S, not of the small difference.
 *
 * Where float arithmetic cannot deliver that cheaply, a few steps run in
 * double and are rounded to float once: the erfc rational and the Gaussian
 * tail products (erf, erfc, gelu, gelu', erf'), silu', and gelu_tanh's
 * argument u = sqrt(2/pi) (z + 0.044715 z^3), whose rounding error e^(2u)
 * would magnify 2|u|-fold. e^x itself is always the float kernel below.
 *
 * Polynomial sources:
 *   - expm1 kernel (exp, expm1, tanh and everything built on them), erf on
 *     [0, 0.477], log1p on [-1/4, 1/2], the erfcx rational: own fits. Method:
 *     minimax in relative error by Lawson's iteratively reweighted least
 *     squares on 20000-40000 Chebyshev nodes of the interval (NumPy float64
 *     against np.expm1 / np.log1p / mpmath erf / scipy.special.erfcx), the
 *     rational P/Q linearized as P - f Q with weights 1/(|f| Q_prev) (Loeb);
 *     float coefficients rounded one at a time from the lowest degree, the
 *     others refitted after each rounding. Fit errors (relative): expm1 kernel
 *     4e-10, erf 6.9e-12 (double), log1p 9e-10, erfcx 9.2e-10 (double).
 *   - tanh on [0, 0.625] (for tanh'), sin and cos on [-pi/4, pi/4]: Cephes
 *     tanhf, sinf, cosf (S. L. Moshier, Cephes Math Library 2.2, 1992).
 */
#ifndef INITCORE_ACTMATH_H
#define INITCORE_ACTMATH_H

#include <stdint.h>

#include "activations.h"
#include "vecmath.h"

#define ICF_MAGIC 12582912.0f                     /* 1.5 * 2^23: rounds |v| < 2^22 to an integer */
#define ICF_LOG2E 1.44269504088896341f
#define ICF_LN2 0.693147180559945309f
/* ln 2 = LN2_HI + LN2_LO, LN2_HI with 15 significant bits, so n * LN2_HI is
 * exact for |n| < 2^9; positive LN2_LO keeps the sign of a zero argument. */
#define ICF_LN2_HI 0.693145751953125f
#define ICF_LN2_LO 1.428606765330187e-06f
/* erf = erfc = 1/2 here: erf is a polynomial below, 1 - erfc above, so
 * neither side loses a bit to cancellation. */
#define ICF_ERF_SPLIT 0.4769362762044699f
#define ICF_TANH_SPLIT 0.625f

/* c ? a : b for c = 0 or 1 (a comparison), through bit masks. A ternary is a
 * branch in GCC's middle end until if-conversion, and PRE first moves the
 * arithmetic that follows it into the arms wherever that folds (one arm a
 * constant); under -ftrapping-math (the default) if-conversion then refuses
 * the arms, which might trap, and the loop stays scalar on SSE2 / AVX2
 * (AVX-512's masked operations hide this). Masks keep the data flow straight,
 * and GCC turns them into blends or vpternlog. */
IC_INLINE float sel_f32(int c, float a, float b)
{
    uint32_t m = 0u - (uint32_t)c;
    return f32_from((f32_bits(a) & m) | (f32_bits(b) & ~m));
}
IC_INLINE double sel_f64(int c, double a, double b)
{
    uint64_t m = 0u - (uint64_t)c;
    return f64_from((f64_bits(a) & m) | (f64_bits(b) & ~m));
}

IC_INLINE float abs_f32(float x) { return f32_from(f32_bits(x) & 0x7fffffffu); }
/* |y| with the sign of x */
IC_INLINE float signed_like_f32(float y, float x)
{
    return f32_from((f32_bits(y) & 0x7fffffffu) | (f32_bits(x) & 0x80000000u));
}
/* 2^n for -126 <= n <= 127 */
IC_INLINE float pow2i_f32(int32_t n) { return f32_from(((uint32_t)n + 127u) << 23); }
/* 2^n for -1022 <= n <= 1023 */
IC_INLINE double pow2i_f64(int32_t n) { return f64_from((uint64_t)((int64_t)n + 1023) << 52); }

/* ---------------------------------------------------------------------------
 * exp and expm1
 * ------------------------------------------------------------------------ */

/* expm1(r) for |r| <= ln2/2: r + r^2 P(r), relative error 4e-10. */
IC_INLINE float expm1_kernel_f32(float r)
{
    float p = 1.97642482817173e-4f;
    p = p * r + 1.393234240822494e-3f;
    p = p * r + 8.333543315529823e-3f;
    p = p * r + 4.166649281978607e-2f;
    p = p * r + 1.666666567325592e-1f;
    p = p * r + 0.5f;
    return r + r * r * p;
}

/* e^(h - l) = 2^n (1 + em), returning em = expm1(r) (|em| <= 0.42), for
 * -110 <= h <= 89 exactly the argument and l a small correction (|l| << 1; 0
 * for plain exp). Outside that range n and em are garbage (no trap, no UB).
 * Cody-Waite: h - n LN2_HI is exact, so r = h - l - n ln2 is good to an ulp
 * of itself. */
IC_INLINE float exp_core_f32(float h, float l, int32_t *n)
{
    float t = (h - l) * ICF_LOG2E + ICF_MAGIC;
    float fn = t - ICF_MAGIC;
    *n = (int32_t)(f32_bits(t) - 0x4b400000u);
    float r = ((h - fn * ICF_LN2_HI) - l) - fn * ICF_LN2_LO;
    return expm1_kernel_f32(r);
}

/* e^(hi - lo) = m 2^n, m in [0.70, 1.42], for hi <= 88.7 (above, garbage:
 * callers select it away): hi is clamped at -110, past which e^hi underflows,
 * and lo then dropped (it may be inf or NaN there). NaN gives m = NaN. */
IC_INLINE float exp_reduce_f32(float hi, float lo, int32_t *n)
{
    float h = sel_f32(hi < -110.0f, -110.0f, hi);
    float l = sel_f32(h == hi, lo, 0.0f);
    return 1.0f + exp_core_f32(h, l, n);
}

/* e^x for x <= 88.7 (garbage above): 0 below -103.97, subnormals rounded
 * once, NaN for NaN. */
IC_INLINE float exp_le88_f32(float x)
{
    int32_t n;
    float m = exp_reduce_f32(x, 0.0f, &n);
    int32_t n1 = n >> 1;                       /* n in [-159, 128]: both halves normal */
    return m * pow2i_f32(n1) * pow2i_f32(n - n1);
}

/* e^x: +inf above 88.72, 0 below -103.97 (subnormals in between, rounded
 * once), NaN for NaN. */
IC_INLINE float exp_f32(float x) { return exp_le88_f32(sel_f32(x > 89.0f, 89.0f, x)); }

/* e^x = (1 + em) * s1 * s2 for x <= 88.7 (returns em, |em| <= 0.42; s1 and
 * s2 powers of two, s2 = 0 below e^-110; garbage above), for a caller that
 * multiplies 1 + em by a factor w first: (w (1 + em) s1) s2 rounds once even
 * where the product is subnormal, and a large w cannot resurrect an
 * underflowed exponential. w + w em also skips the rounding of 1 + em. */
IC_INLINE float exp_split_f32(float x, float *s1, float *s2)
{
    float h = sel_f32(x < -110.0f, -110.0f, x);
    int32_t n;
    float em = exp_core_f32(h, 0.0f, &n);
    int32_t n1 = n >> 1;
    *s1 = pow2i_f32(n1);
    *s2 = sel_f32(x < -110.0f, 0.0f, pow2i_f32(n - n1));
    return em;
}

/* e^(hi - lo) in double, for hi <= 88 (see exp_reduce_f32); exactly 0 below
 * e^-110, so that a large factor cannot resurrect it. The scaling is exact:
 * the one rounding happens when the caller rounds its result to float. */
IC_INLINE double exp_hl_f64(float hi, float lo)
{
    int32_t n;
    float m = exp_reduce_f32(hi, lo, &n);
    double s = pow2i_f64(n);
    s = sel_f64(hi < -110.0f, 0.0, s);
    return (double)m * s;
}

/* e^x - 1, accurate near 0: expm1(x) = 2^n (1 + em) - 1 with em = expm1(r),
 * formed as 2 (2^(n-1) em + (2^(n-1) - 1/2)), whose terms are exact. */
IC_INLINE float expm1_f32(float x)
{
    float h = sel_f32(x > 89.0f, 89.0f, x);    /* e^89 overflows; NaN passes */
    h = sel_f32(h < -30.0f, -30.0f, h);        /* expm1(-30) rounds to -1 */
    int32_t n;
    float em = exp_core_f32(h, 0.0f, &n);
    float s = pow2i_f32(n - 1);                /* n - 1 in [-45, 127] */
    float c = sel_f32(n > 24, s, s - 0.5f);    /* exact for n <= 24 */
    float y = 2.0f * (s * em + c);
    y = sel_f32(n == 0, em, y);
    return sel_f32(x == 0.0f, x, y);           /* keeps -0 */
}

/* ---------------------------------------------------------------------------
 * log1p, tanh, sigmoid
 * ------------------------------------------------------------------------ */

/* log(1 + y) for -1/4 <= y <= 1 (softplus needs [0, 1]): y itself, or
 * (y - 1)/2 (exact for y >= 1/2) with ln 2 added, puts the argument f of
 * f - f^2/2 + f^3 P(f) in [-1/4, 1/2). */
IC_INLINE float log1p_f32(float y)
{
    int big = y >= 0.5f;
    float f = sel_f32(big, (y - 1.0f) * 0.5f, y);
    float p = 3.7625622004270554e-2f;
    p = p * f - 9.1091088950634e-2f;
    p = p * f + 1.1697833240032196e-1f;
    p = p * f - 1.2728233635425568e-1f;
    p = p * f + 1.4276699721813202e-1f;
    p = p * f - 1.6655316948890686e-1f;
    p = p * f + 1.9999581575393677e-1f;
    p = p * f - 2.500016391277313e-1f;
    p = p * f + 3.3333340287208557e-1f;
    float l = f + f * f * (p * f - 0.5f);
    return sel_f32(big, ICF_LN2 + l, l);
}

/* tanh(a) for 0 <= a < 0.625 (Cephes tanhf), for tanh' = 1 - tanh^2 there. */
IC_INLINE float tanh_small_f32(float a)
{
    float z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    return p * z * a + a;
}

/* tanh(x) = (1 - e) / (1 + e), e = e^-2|x| = 2^n (1 + em): 1 - e is
 * (1 - 2^n) - 2^n em and 1 + e is (1 + 2^n) + 2^n em, each rounded once
 * (1 -+ 2^n is exact for n >= -24), and 1 - e = -em does not cancel for
 * n = 0 (|x| < 0.17). Past |x| = 9.02 tanh rounds to 1, so e is cut at e^-87
 * (normal, one scaling). */
IC_INLINE float tanh_f32(float x)
{
    float a = abs_f32(x);
    int32_t n;
    float em = exp_core_f32(sel_f32(a > 43.5f, -87.0f, -2.0f * a), 0.0f, &n);
    float s = pow2i_f32(n);
    float y = ((1.0f - s) - s * em) / ((1.0f + s) + s * em);
    return signed_like_f32(y, x);
}

/* 1 / (1 + e^-x), from e = e^-|x| <= 1: no overflow for either sign. */
IC_INLINE float sigmoid_f32(float x)
{
    float e = exp_le88_f32(-abs_f32(x));
    return sel_f32(x >= 0.0f, 1.0f, e) / (1.0f + e);
}

/* ---------------------------------------------------------------------------
 * erf and erfc
 * ------------------------------------------------------------------------ */

/* -a^2 = hi - lo, hi exact (a's top 12 bits squared), lo = (a - ah)(a + ah)
 * good to 2^-35 a^2: e^(-a^2) is then as accurate as for an exact argument. */
IC_INLINE void neg_square_f32(float a, float *hi, float *lo)
{
    float ah = f32_from(f32_bits(a) & 0xfffff000u);
    float al = a - ah;
    *hi = sel_f32(a == a, -(ah * ah), a);     /* the mask can turn a NaN into inf */
    *lo = al * (a + ah);
}

/* erf(a) for 0 <= a <= ERF_SPLIT: a P(a^2), relative error 6.9e-12. */
IC_INLINE double erf_small_f64(double a)
{
    double z = a * a;
    double p = -7.764618702406469e-4;
    p = p * z + 5.2041800501460341e-3;
    p = p * z - 2.6863843089356656e-2;
    p = p * z + 1.1283779243920432e-1;
    p = p * z - 3.7612638659708331e-1;
    p = p * z + 1.1283791670877565;
    return a * p;
}

/* erfcx(a) = e^(a^2) erfc(a) for ERF_SPLIT <= a <= 10.5 (a is clamped there:
 * beyond, e^(-a^2) underflows anyway): P4(a) / Q5(a), all coefficients
 * positive, relative error 9.2e-10. */
IC_INLINE double erfcx_big_f64(double a)
{
    double x = sel_f64(a > 10.5, 10.5, a);
    double p = 4.3759027360809458e-2;
    p = p * x + 2.739193379784674e-1;
    p = p * x + 8.1910539842873398e-1;
    p = p * x + 1.3150443631544257;
    p = p * x + 1.0000091784520495;
    double q = 7.7560590447958974e-2;
    q = q * x + 4.8552078614278699e-1;
    q = q * x + 1.4903944392416824;
    q = q * x + 2.5759043797304688;
    q = q * x + 2.4435147915187079;
    q = q * x + 1.0;
    return p / q;
}

/* erfc(|x|) in double: 1 - erf below the split, e^(-x^2) erfcx above. */
IC_INLINE double erfc_abs_f64(float a)
{
    float hi, lo;
    neg_square_f32(a, &hi, &lo);
    double ad = a;
    double tail = exp_hl_f64(hi, lo) * erfcx_big_f64(ad);
    return sel_f64(a < ICF_ERF_SPLIT, 1.0 - erf_small_f64(ad), tail);
}

IC_INLINE float erf_f32(float x)
{
    float a = abs_f32(x);
    double ad = a;
    double r = sel_f64(a < ICF_ERF_SPLIT, erf_small_f64(ad), 1.0 - erfc_abs_f64(a));
    return signed_like_f32((float)r, x);
}

/* erfc(x): relative accuracy for x > 0 until it underflows at x = 10.05 */
IC_INLINE float erfc_f32(float x)
{
    double t = erfc_abs_f64(abs_f32(x));
    return (float)sel_f64(x < 0.0f, 2.0 - t, t);
}

/* ---------------------------------------------------------------------------
 * sin and cos
 * ------------------------------------------------------------------------ */

/* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + PIO2_4 (+ 5e-17), the first three with 8,
 * 7 and 6 significant bits, so q * PIO2_k is exact for q < 2^16 and the
 * reduction a - q pi/2 is exact to ~1e-8 for |x| < 65535.5 pi/2 = 102943. */
#define ICF_2_OVER_PI 0.6366197723675814f
#define ICF_PIO2_1 1.5703125f
#define ICF_PIO2_2 4.84466552734375e-4f
#define ICF_PIO2_3 -6.407499313354492e-7f
#define ICF_PIO2_4 9.92093629470503e-10f

/* r = a - q pi/2 in [-pi/4, pi/4] (a bit beyond, from rounding) and the
 * quadrant q in the low bits of the result (a >= 0) */
IC_INLINE uint32_t sincos_reduce_f32(float a, float *r)
{
    float t = a * ICF_2_OVER_PI + ICF_MAGIC;
    float q = t - ICF_MAGIC;
    float y = (((a - q * ICF_PIO2_1) - q * ICF_PIO2_2) - q * ICF_PIO2_3) - q * ICF_PIO2_4;
    /* past 2^22 pi/2 the quadrant is lost; keep the polynomials bounded */
    y = sel_f32(y > 1.0f, 1.0f, y);
    y = sel_f32(y < -1.0f, -1.0f, y);
    *r = y;
    return f32_bits(t);
}

/* Cephes sinf / cosf polynomials on [-pi/4, pi/4] */
IC_INLINE float sin_kernel_f32(float r, float z)
{
    return ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
}
IC_INLINE float cos_kernel_f32(float z)
{
    return ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z
           - 0.5f * z + 1.0f;
}

IC_INLINE float sin_f32(float x)
{
    float r;
    uint32_t q = sincos_reduce_f32(abs_f32(x), &r);
    float z = r * r;
    float v = sel_f32((int)(q & 1u), cos_kernel_f32(z), sin_kernel_f32(r, z));
    uint32_t flip = ((q & 2u) << 30) ^ (f32_bits(x) & 0x80000000u);
    return f32_from(f32_bits(v) ^ flip);
}

IC_INLINE float cos_f32(float x)
{
    float r;
    uint32_t q = sincos_reduce_f32(abs_f32(x), &r);
    float z = r * r;
    float v = sel_f32((int)(q & 1u), sin_kernel_f32(r, z), cos_kernel_f32(z));
    uint32_t flip = ((q + 1u) & 2u) << 30;
    return f32_from(f32_bits(v) ^ flip);
}

/* ---------------------------------------------------------------------------
 * Shared pieces of the activations
 * ------------------------------------------------------------------------ */

/* gelu: Phi(z) = erfc(-z/sqrt 2)/2 in double, and g = e^(-z^2/2). Below
 * z = -0.6745 Phi = g erfcx(u)/2 (u = |z|/sqrt 2), relative accuracy all the
 * way to underflow; g comes from z itself (exact square), not from u. */
IC_INLINE double gelu_cdf_f64(float z, double *g)
{
    float a = abs_f32(z);
    float hi, lo;
    neg_square_f32(a, &hi, &lo);
    double e = exp_hl_f64(0.5f * hi, 0.5f * lo);
    double u = (double)a * 0.70710678118654752440;
    double tail = sel_f64(u < ICF_ERF_SPLIT, 0.5 - 0.5 * erf_small_f64(u), 0.5 * e * erfcx_big_f64(u));
    *g = e;
    return sel_f64(z < 0.0f, tail, 1.0 - tail);
}

/* gelu_tanh: s = (1 + tanh u)/2 = sigmoid(2u), and sn * sp = sigmoid(2u)
 * sigmoid(-2u) = (1 - tanh^2 u)/4, from e = e^(-2|u|) as in tanh_f32, but
 * without forming 1 + tanh u, which cancels for u << 0. u in double (see
 * top). */
IC_INLINE double gelu_tanh_sigma_f64(float z, double *snsp, double *du)
{
    double x = z;
    double u = IC_SQRT_2_OVER_PI * x * (1.0 + IC_GELU_TANH_C * x * x);
    double w = sel_f64(u < 0.0, 2.0 * u, -2.0 * u);  /* -2|u|; NaN passes */
    w = sel_f64(w < -200.0, -200.0, w);
    float hi = (float)w;
    float lo = (float)((double)hi - w);
    double e = exp_hl_f64(hi, lo);
    double sp = 1.0 / (1.0 + e), sn = e * sp;
    *snsp = sn * sp;
    *du = IC_SQRT_2_OVER_PI * (1.0 + 3.0 * IC_GELU_TANH_C * x * x);
    return sel_f64(u >= 0.0, sp, sn);
}

/* silu = z sigmoid(z) from e = e^-|z| = m t1 t2 (exp_split_f32): for z < 0,
 * z e / (1 + e) with the last scaling t2 applied last, so that a subnormal
 * result is rounded once (silu(-100) is subnormal: rounding e^z first would
 * cost up to |z|/2 ulp). silu' = s (1 + z (1 - s)) is (1 + e (1 + z)) /
 * (1 + e)^2 for z >= 0 and e (1 + e + z) / (1 + e)^2 below (no cancellation
 * except around its zero at z = -1.2785), formed in double from the exact
 * e (exp_hl_f64): in float its five roundings on top of e's reach 4 ulp. */
IC_INLINE float silu_f32(float z)
{
    float s1, s2;
    float em = exp_split_f32(-abs_f32(z), &s1, &s2);
    int pos = z >= 0.0f;
    float d = 1.0f + (1.0f + em) * s1 * s2;
    float t1 = sel_f32(pos, 1.0f, s1), t2 = sel_f32(pos, 1.0f, s2);
    float zt = z * t1;                         /* exact */
    return (sel_f32(pos, z, zt + zt * em) / d) * t2;
}

IC_INLINE float dsilu_f32(float z)
{
    double e = exp_hl_f64(-abs_f32(z), 0.0f);
    double x = z, d = 1.0 + e;
    return (float)(sel_f64(z >= 0.0f, 1.0 + e * (1.0 + x), e * (d + x)) / (d * d));
}

/* w e^-|z| / (1 + e^-|z|)^2, (1 + e)^2 formed as 1 + e (2 + e) with a single
 * rounding of size 2^-24: sigmoid' (w = 1) and tanh' (z = 2x, w = 4). */
IC_INLINE float sigmoid_slope_f32(float z, float w)
{
    float s1, s2;
    float em = exp_split_f32(-abs_f32(z), &s1, &s2);
    float e = (1.0f + em) * s1 * s2;
    float dd = 1.0f + e * (2.0f + e);
    return (((w + w * em) / dd) * s1) * s2;
}

/* ---------------------------------------------------------------------------
 * phi and phi', float32: the semantics of ic_phi / ic_dphi (activations.h),
 * kinks and NaN handling included. Meant to be called with a constant id, so
 * that the switch folds away (see IC_ACT_CASE in activations.c).
 * ------------------------------------------------------------------------ */

IC_INLINE float ic_phi_f32(int id, float p, float z)
{
    switch (id) {
    case IC_ACT_LINEAR: return z;
    case IC_ACT_RELU: return sel_f32((z > 0.0f) | (z != z), z, 0.0f);   /* NaN passes */
    case IC_ACT_LEAKY_RELU: return sel_f32(z > 0.0f, z, p * z);
    case IC_ACT_ELU: return sel_f32(z > 0.0f, z, p * expm1_f32(z));
    case IC_ACT_SELU:
        return sel_f32(z > 0.0f, (float)IC_SELU_LAMBDA * z,
                       (float)(IC_SELU_LAMBDA * IC_SELU_ALPHA) * expm1_f32(z));
    case IC_ACT_GELU: {
        double g;
        return (float)((double)z * gelu_cdf_f64(z, &g));
    }
    case IC_ACT_GELU_TANH: {
        double snsp, du;
        return (float)((double)z * gelu_tanh_sigma_f64(z, &snsp, &du));
    }
    case IC_ACT_SILU: return silu_f32(z);
    case IC_ACT_SOFTPLUS:
        return sel_f32(z > 0.0f, z, 0.0f) + log1p_f32(exp_le88_f32(-abs_f32(z)));
    case IC_ACT_TANH: return tanh_f32(z);
    case IC_ACT_SIGMOID: return sigmoid_f32(z);
    case IC_ACT_ERF: return erf_f32(z);
    case IC_ACT_HARDTANH: return sel_f32(z < -1.0f, -1.0f, sel_f32(z > 1.0f, 1.0f, z));
    case IC_ACT_SIN: return sin_f32(z);
    }
    return NAN;
}

IC_INLINE float ic_dphi_f32(int id, float p, float z)
{
    switch (id) {
    case IC_ACT_LINEAR: return 1.0f;
    case IC_ACT_RELU: return sel_f32(z > 0.0f, 1.0f, 0.0f);
    case IC_ACT_LEAKY_RELU: return sel_f32(z > 0.0f, 1.0f, p);
    case IC_ACT_ELU: {
        float s1, s2;
        float em = exp_split_f32(z, &s1, &s2);  /* z <= 0 where used */
        return sel_f32(z > 0.0f, 1.0f, ((p + p * em) * s1) * s2);
    }
    case IC_ACT_SELU: {
        const float la = (float)(IC_SELU_LAMBDA * IC_SELU_ALPHA);
        float s1, s2;
        float em = exp_split_f32(z, &s1, &s2);
        return sel_f32(z > 0.0f, (float)IC_SELU_LAMBDA, ((la + la * em) * s1) * s2);
    }
    case IC_ACT_GELU: {
        double g;
        double cdf = gelu_cdf_f64(z, &g);
        return (float)(cdf + (double)z * g * IC_INV_SQRT_2PI);
    }
    case IC_ACT_GELU_TANH: {
        double snsp, du;
        double s = gelu_tanh_sigma_f64(z, &snsp, &du);
        return (float)(s + snsp * (double)z * (2.0 * du));
    }
    case IC_ACT_SILU: return dsilu_f32(z);
    case IC_ACT_SOFTPLUS: return sigmoid_f32(z);
    case IC_ACT_TANH: {
        /* 1 - tanh^2 z = 4 e / (1 + e)^2, e = e^(-2|z|) */
        float a = abs_f32(z);
        float t = tanh_small_f32(a);
        return sel_f32(a < ICF_TANH_SPLIT, 1.0f - t * t, sigmoid_slope_f32(2.0f * a, 4.0f));
    }
    case IC_ACT_SIGMOID: return sigmoid_slope_f32(z, 1.0f);
    case IC_ACT_ERF: {
        float hi, lo;
        neg_square_f32(abs_f32(z), &hi, &lo);
        return (float)(IC_TWO_OVER_SQRT_PI * exp_hl_f64(hi, lo));
    }
    case IC_ACT_HARDTANH: return sel_f32((z > -1.0f) & (z < 1.0f), 1.0f, 0.0f);
    case IC_ACT_SIN: return cos_f32(z);
    }
    return NAN;
}

/* phi(z), and phi'(z) into *d, bit for bit as ic_phi_f32 and ic_dphi_f32
 * make them; tanh and sigmoid share one exponential between the two. */
IC_INLINE float ic_phi_dphi_f32(int id, float p, float z, float *d)
{
    if (id == IC_ACT_TANH) {
        /* tanh_f32 and sigmoid_slope_f32(2|z|, 4): both reduce e^(-2|z|) the
         * same way up to |z| = 43.5, above which tanh is exactly +-1 */
        float a = abs_f32(z), s1, s2;
        float em = exp_split_f32(-2.0f * a, &s1, &s2);
        float s = s1 * s2;                     /* 2^n, exactly, where y is not selected away */
        float y = sel_f32(a > 43.5f, 1.0f, ((1.0f - s) - s * em) / ((1.0f + s) + s * em));
        float e = (1.0f + em) * s1 * s2;
        float slope = (((4.0f + 4.0f * em) / (1.0f + e * (2.0f + e))) * s1) * s2;
        float t = tanh_small_f32(a);
        *d = sel_f32(a < ICF_TANH_SPLIT, 1.0f - t * t, slope);
        return signed_like_f32(y, z);
    }
    if (id == IC_ACT_SIGMOID) {
        /* sigmoid_f32's e^-|z| is exp_split_f32's (1 + em) s1 s2 */
        float s1, s2;
        float em = exp_split_f32(-abs_f32(z), &s1, &s2);
        float e = (1.0f + em) * s1 * s2;
        *d = (((1.0f + em) / (1.0f + e * (2.0f + e))) * s1) * s2;
        return sel_f32(z >= 0.0f, 1.0f, e) / (1.0f + e);
    }
    *d = ic_dphi_f32(id, p, z);
    return ic_phi_f32(id, p, z);
}

#endif
