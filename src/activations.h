/* The activation registry's C side: phi and phi' for every activation, in
 * double precision from libm (mean-field theory needs ~1e-15 accuracy). The
 * ids match initcore/activations.py. */
#ifndef INITCORE_ACTIVATIONS_H
#define INITCORE_ACTIVATIONS_H

#include <math.h>
#include <stdint.h>

enum {
    IC_ACT_LINEAR, IC_ACT_RELU, IC_ACT_LEAKY_RELU, IC_ACT_ELU, IC_ACT_SELU,
    IC_ACT_GELU, IC_ACT_GELU_TANH, IC_ACT_SILU, IC_ACT_SOFTPLUS, IC_ACT_TANH,
    IC_ACT_SIGMOID, IC_ACT_ERF, IC_ACT_HARDTANH, IC_ACT_SIN, IC_ACT_COUNT
};

/* CASE(id) for every activation, in id order: the switches of the kernels,
 * one vectorized loop per case. */
#define IC_EACH_ACT(CASE)                                                          \
    CASE(IC_ACT_LINEAR) CASE(IC_ACT_RELU) CASE(IC_ACT_LEAKY_RELU) CASE(IC_ACT_ELU) \
    CASE(IC_ACT_SELU) CASE(IC_ACT_GELU) CASE(IC_ACT_GELU_TANH) CASE(IC_ACT_SILU)   \
    CASE(IC_ACT_SOFTPLUS) CASE(IC_ACT_TANH) CASE(IC_ACT_SIGMOID) CASE(IC_ACT_ERF)  \
    CASE(IC_ACT_HARDTANH) CASE(IC_ACT_SIN)

/* SELU constants (Klambauer et al. 2017) */
#define IC_SELU_LAMBDA 1.0507009873554804934193349852946
#define IC_SELU_ALPHA 1.6732632423543772848170429916717
#define IC_SQRT_2_OVER_PI 0.79788456080286535587989211986876
#define IC_SQRT_2 1.4142135623730950488016887242097
#define IC_INV_SQRT_2PI 0.39894228040143267793994605993438
#define IC_TWO_OVER_SQRT_PI 1.1283791670955125738961589031215
#define IC_GELU_TANH_C 0.044715

static inline double ic_sigmoid(double z)
{
    /* no overflow in exp for either sign */
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* w e^-|z| / (1 + e^-|z|)^2: sigmoid'(z) for w = 1, tanh'(x) = 1 - tanh^2 x
 * for z = 2x, w = 4. Relative accuracy in the tails, where 1 - s and 1 - t^2
 * cancel (tanh'(-20) = 1.7e-17 would come out as 0). */
static inline double ic_sigmoid_slope(double z, double w)
{
    double e = exp(-fabs(z)), d = 1.0 + e;
    return w * e / (d * d);
}

/* gelu_tanh's (1 + tanh u)/2 = sigmoid(2u), and sigmoid(2u) sigmoid(-2u) =
 * (1 - tanh^2 u)/4 into *snsp, from e = e^(-2|u|): 1 + tanh u cancels for
 * u << 0 (gelu_tanh(-10) = -1.2e-37 would come out as 0). */
static inline double ic_gelu_tanh_sigma(double z, double *snsp)
{
    double u = IC_SQRT_2_OVER_PI * z * (1.0 + IC_GELU_TANH_C * z * z);
    double e = exp(-2.0 * fabs(u));
    double sp = 1.0 / (1.0 + e), sn = e * sp;
    *snsp = sn * sp;
    return u >= 0 ? sp : sn;
}

static inline double ic_phi(int id, double p, double z)
{
    switch (id) {
    case IC_ACT_LINEAR: return z;
    case IC_ACT_RELU: return z > 0 || z != z ? z : 0.0;   /* NaN passes, as in numpy/torch */
    case IC_ACT_LEAKY_RELU: return z > 0 ? z : p * z;
    case IC_ACT_ELU: return z > 0 ? z : p * expm1(z);
    case IC_ACT_SELU: return IC_SELU_LAMBDA * (z > 0 ? z : IC_SELU_ALPHA * expm1(z));
    case IC_ACT_GELU: return 0.5 * z * erfc(-z / IC_SQRT_2);
    case IC_ACT_GELU_TANH: {
        double snsp;
        return z * ic_gelu_tanh_sigma(z, &snsp);
    }
    case IC_ACT_SILU: return z * ic_sigmoid(z);
    case IC_ACT_SOFTPLUS: return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
    case IC_ACT_TANH: return tanh(z);
    case IC_ACT_SIGMOID: return ic_sigmoid(z);
    case IC_ACT_ERF: return erf(z);
    case IC_ACT_HARDTANH: return z < -1.0 ? -1.0 : (z > 1.0 ? 1.0 : z);
    case IC_ACT_SIN: return sin(z);
    }
    return NAN;
}

/* phi'(z). At the kinks it takes PyTorch autograd's values: 0 for relu at 0
 * and hardtanh at +-1, the negative-side slope for leaky_relu and elu at 0. */
static inline double ic_dphi(int id, double p, double z)
{
    switch (id) {
    case IC_ACT_LINEAR: return 1.0;
    case IC_ACT_RELU: return z > 0 ? 1.0 : 0.0;
    case IC_ACT_LEAKY_RELU: return z > 0 ? 1.0 : p;
    case IC_ACT_ELU: return z > 0 ? 1.0 : p * exp(z);
    case IC_ACT_SELU: return IC_SELU_LAMBDA * (z > 0 ? 1.0 : IC_SELU_ALPHA * exp(z));
    case IC_ACT_GELU: return 0.5 * erfc(-z / IC_SQRT_2) + z * exp(-0.5 * z * z) * IC_INV_SQRT_2PI;
    case IC_ACT_GELU_TANH: {
        /* s + 2 z u'(z) snsp, u' = sqrt(2/pi) (1 + 3c z^2); zs = z snsp is 0
         * where z^2 would overflow (|z| > 1e154), so the product stays 0, and
         * NaN at +-inf, as in the float32 kernel */
        double snsp;
        double s = ic_gelu_tanh_sigma(z, &snsp), zs = z * snsp;
        return s + 2.0 * IC_SQRT_2_OVER_PI * (zs + 3.0 * IC_GELU_TANH_C * (zs * z) * z);
    }
    case IC_ACT_SILU: {
        double s = ic_sigmoid(z);
        return s * (1.0 + z * (1.0 - s));
    }
    case IC_ACT_SOFTPLUS: return ic_sigmoid(z);
    case IC_ACT_TANH: return ic_sigmoid_slope(2.0 * z, 4.0);
    case IC_ACT_SIGMOID: return ic_sigmoid_slope(z, 1.0);
    case IC_ACT_ERF: return IC_TWO_OVER_SQRT_PI * exp(-z * z);
    case IC_ACT_HARDTANH: return z > -1.0 && z < 1.0 ? 1.0 : 0.0;
    case IC_ACT_SIN: return cos(z);
    }
    return NAN;
}

/* phi(z), and phi'(z) into *d. */
static inline double ic_phi_dphi(int id, double p, double z, double *d)
{
    *d = ic_dphi(id, p, z);
    return ic_phi(id, p, z);
}

/* phi (derivative = 0) or phi' (derivative = 1) of z[0..n) into out. */
void ic_activation_f32(int id, double param, const float *z, float *out, int64_t n,
                       int derivative, int nthreads);
void ic_activation_f64(int id, double param, const double *z, double *out, int64_t n,
                       int derivative, int nthreads);

#endif
