"""Independent float64 references for the activations, shared by the
activation, layer and simulator tests: phi and phi' written out from their
published definitions with NumPy/SciPy, in forms that neither overflow nor
cancel. A parameter of None means the activation's default."""
import numpy as np
from scipy import special

# SELU constants, Klambauer et al., "Self-Normalizing Neural Networks",
# NeurIPS 2017 (eq. 14), to 32 significant digits.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
# Hendrycks & Gimpel's tanh approximation: sqrt(2/pi) * (x + 0.044715 x^3).
GELU_TANH_C = 0.044715
DEFAULT_PARAMS = {"leaky_relu": 0.01, "elu": 1.0}


def _param(name, p):
    return DEFAULT_PARAMS.get(name) if p is None else p


def ref_phi(name, x, p=None):
    """phi(x) from the published definition."""
    x = np.asarray(x, dtype=np.float64)
    p = _param(name, p)
    if name == "linear":
        return x.copy()
    if name == "relu":
        return np.maximum(x, 0.0)  # propagates NaN
    if name == "leaky_relu":
        return np.where(x > 0, x, p * x)
    if name == "elu":
        return np.where(x > 0, x, p * np.expm1(x))
    if name == "selu":
        return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))
    if name == "gelu":
        # x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2 (the exact erf form)
        return 0.5 * x * special.erfc(-x / np.sqrt(2.0))
    if name == "gelu_tanh":
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + GELU_TANH_C * x**3)))
    if name == "silu":
        return x * special.expit(x)
    if name == "softplus":
        # log(1 + e^x) in the overflow-free form log(e^0 + e^x)
        return np.logaddexp(0.0, x)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return special.expit(x)
    if name == "erf":
        return special.erf(x)
    if name == "hardtanh":
        return np.clip(x, -1.0, 1.0)
    if name == "sin":
        return np.sin(x)
    raise AssertionError(name)  # pragma: no cover


def ref_dphi(name, x, p=None):
    """phi'(x) from the definitions."""
    x = np.asarray(x, dtype=np.float64)
    p = _param(name, p)
    if name == "linear":
        return np.ones_like(x)
    if name == "relu":
        return np.where(x > 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, p)
    if name == "elu":
        return np.where(x > 0, 1.0, p * np.exp(x))
    if name == "selu":
        return SELU_LAMBDA * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x))
    if name == "gelu":
        return special.ndtr(x) + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    if name == "gelu_tanh":
        # d/dx [x sigma(2u)] with 1 + tanh(u) = 2 sigma(2u): no cancellation
        u = np.sqrt(2.0 / np.pi) * (x + GELU_TANH_C * x**3)
        du = np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * GELU_TANH_C * x * x)
        return special.expit(2 * u) + x * 2.0 * du * special.expit(2 * u) * special.expit(-2 * u)
    if name == "silu":
        s = special.expit(x)
        return s + x * s * special.expit(-x)
    if name == "softplus":
        return special.expit(x)
    if name == "tanh":
        # sech x = 2 e^-|x| / (1 + e^-2|x|), overflow-free
        e = np.exp(-np.abs(x))
        return (2.0 * e / (1.0 + e * e)) ** 2
    if name == "sigmoid":
        return special.expit(x) * special.expit(-x)
    if name == "erf":
        return 2.0 / np.sqrt(np.pi) * np.exp(-x * x)
    if name == "hardtanh":
        return np.where(np.abs(x) < 1.0, 1.0, 0.0)
    if name == "sin":
        return np.cos(x)
    raise AssertionError(name)  # pragma: no cover
