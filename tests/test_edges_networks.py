"""Edges of the networks layer a new user meets first: activation parameters
given as in init specs, clear errors for malformed arguments, refusal of
values the working dtype cannot hold, and the float64 activation tails.

Expected numbers come from closed forms evaluated with NumPy float64 or from
mpmath at 120 bits, never from initcore's own output.
"""
import mpmath
import numpy as np
import pytest
from scipy import special

from initcore import MLP
from initcore.activations import activation
from initcore.networks import _layers, mlp
from initcore.networks.activations import ACTIVATIONS

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny


# --------------------------------------------------------------------------
# 1. activation parameters given as (name, {key: value}) and "name:key=value"
# --------------------------------------------------------------------------

def _leaky(z, slope):
    return np.where(z > 0, z, slope * z)


@pytest.mark.parametrize("spec", [
    ("leaky_relu", {"negative_slope": 0.2}),
    "leaky_relu:negative_slope=0.2",
    "Leaky_ReLU: negative_slope = 0.2",
    ("leaky_relu", 0.2),
])
def test_activation_parameter_spellings_build_the_same_network(spec):
    net = MLP([4, 3], activation=spec, init="xavier_normal", seed=1, dtype="float64")
    assert net.activations == [("leaky_relu", 0.2)]
    x = np.random.default_rng(2).normal(size=(6, 4))
    ref = _leaky(x @ net.weights[0] + net.biases[0], 0.2)
    np.testing.assert_allclose(net.forward(x), ref, rtol=1e-14, atol=1e-15)


def test_activation_parameters_per_layer():
    net = MLP([4, 5, 6, 3], activation=[("leaky_relu", {"negative_slope": 0.3}), "elu:alpha=0.5",
                                         ("tanh", {})], seed=0, dtype="float64")
    assert net.activations == [("leaky_relu", 0.3), ("elu", 0.5), ("tanh", None)]
    assert net.layer(0)[3] == 0.3 and net.layer(1)[3] == 0.5


@pytest.mark.parametrize("spec, expected", [
    ("leaky_relu:negative_slope=0.2", ("leaky_relu", 0.2)),
    ("leaky_relu:negative_slope=1", ("leaky_relu", 1.0)),
    ("leaky_relu", ("leaky_relu", 0.01)),
    ("leaky_relu:", ("leaky_relu", 0.01)),
    (("leaky_relu", {}), ("leaky_relu", 0.01)),
    (("elu", {"alpha": 2}), ("elu", 2.0)),
    ("swish", ("silu", None)),
    (("ReLU", None), ("relu", None)),
])
def test_parse_activation(spec, expected):
    assert mlp.parse_activation(spec) == expected
    name, param = mlp.parse_activation(spec)
    assert param is None or type(param) is float


@pytest.mark.parametrize("spec, exc, needles", [
    (("leaky_relu", {"slope": 0.2}), ValueError, ["'leaky_relu'", "'negative_slope'", "'slope'"]),
    ("leaky_relu:slope=0.2", ValueError, ["'leaky_relu'", "'negative_slope'", "'slope'"]),
    (("leaky_relu", {"negative_slope": 0.2, "alpha": 1.0}), ValueError, ["'negative_slope'", "'alpha'"]),
    (("relu", {"negative_slope": 0.1}), ValueError, ["'relu'", "takes no parameter", "negative_slope"]),
    ("tanh:alpha=1", ValueError, ["'tanh'", "takes no parameter", "alpha"]),
    ("leaky_relu:negative_slope=abc", TypeError, ["negative_slope", "'abc'"]),
    ("leaky_relu:negative_slope", ValueError, ["key=value", "'negative_slope'"]),
    ("nope:alpha=1", ValueError, ["unknown activation 'nope'"]),
])
def test_parse_activation_errors_name_the_parameter(assert_raises, spec, exc, needles):
    assert_raises(exc, lambda: mlp.parse_activation(spec), *needles)
    assert_raises(exc, lambda: MLP([4, 3], activation=spec), *needles)


# --------------------------------------------------------------------------
# 2. clear errors
# --------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [("relu",), ("leaky_relu", 0.2, 0.3), (0.2, "leaky_relu"), 3, None])
def test_malformed_activation_spec(assert_raises, spec):
    assert_raises(TypeError, lambda: MLP([4, 3], activation=spec), "activation", repr(spec))


def test_malformed_activation_in_a_list_names_its_layer(assert_raises):
    assert_raises(TypeError, lambda: MLP([4, 3, 2], activation=["tanh", ("relu",)]),
                  "activation of layer 2", "('relu',)")


@pytest.mark.parametrize("index", [2, 5, -1, -3])
def test_layer_index_out_of_range(assert_raises, index):
    net = MLP([4, 3, 2], seed=0)
    assert_raises(IndexError, lambda: net.layer(index), "layer must be in 0..1", f"got {index}")


def test_layer_index_must_be_an_integer(assert_raises):
    net = MLP([4, 3, 2], seed=0)
    assert_raises(TypeError, lambda: net.layer(1.0), "layer", "1.0")
    assert net.layer(np.int64(1))[0] is net.weights[1]


@pytest.mark.parametrize("widths", [{3, 4}, frozenset({3, 4}), b"\x03\x04", bytearray(b"\x03\x04"), "34",
                                    {3: 1, 4: 1}])
def test_unordered_or_text_widths_are_refused(assert_raises, widths):
    assert_raises(TypeError, lambda: MLP(widths), "widths", type(widths).__name__)


def test_widths_still_take_sequences_and_arrays():
    assert MLP((3, 4), seed=0).widths == [3, 4]
    assert MLP(np.array([3, 4]), seed=0).widths == [3, 4]
    assert MLP(range(3, 5), seed=0).widths == [3, 4]


RAGGED = [[1.0, 2.0, 3.0], [4.0, 5.0]]


def test_ragged_x_is_refused_by_forward_and_input(assert_raises):
    net = MLP([3, 2], seed=0)
    assert_raises(ValueError, lambda: net.forward(RAGGED), "x must be a rectangular array")
    assert_raises(ValueError, lambda: net.input(RAGGED, what="inputs"), "inputs must be a rectangular array")


def test_ragged_x_is_refused_by_activation(assert_raises):
    assert_raises(ValueError, lambda: activation("tanh", RAGGED), "x must be a rectangular array")


# --------------------------------------------------------------------------
# 3. activation(name, x) refuses what is not real numbers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("x, dtype", [
    ([1 + 2j], "complex128"),
    (np.array([1.0], np.complex64), "complex64"),
    ([None], "object"),
    (["1.5"], "<U3"),
])
def test_activation_refuses_non_real_x(assert_raises, x, dtype):
    assert_raises(TypeError, lambda: activation("tanh", x), "x must be real numbers", dtype)


def test_activation_still_takes_ints_bools_and_scalars():
    np.testing.assert_array_equal(activation("relu", [-2, 3]), [0.0, 3.0])
    np.testing.assert_array_equal(activation("relu", [True, False]), [1.0, 0.0])
    assert activation("relu", 2.5).shape == ()


# --------------------------------------------------------------------------
# 4. values beyond the working dtype's range
# --------------------------------------------------------------------------

F32_MAX = float(np.finfo(np.float32).max)


def test_constant_bias_overflowing_float32(assert_raises):
    assert_raises(ValueError, lambda: MLP([3, 4], bias=1e39), "bias of layer 1", "1e+39", "overflows float32")
    assert_raises(ValueError, lambda: MLP([3, 4, 2], bias=[0.0, -1e39]), "bias of layer 2", "-1e+39",
                  "overflows float32")
    # the largest float32 itself is fine, and float64 holds 1e39
    assert MLP([3, 4], bias=F32_MAX).biases[0][0] == np.float32(F32_MAX)
    assert MLP([3, 4], bias=1e39, dtype="float64").biases[0][0] == 1e39


def test_array_weights_and_bias_overflowing_float32(assert_raises):
    w = np.full((3, 4), 0.5)
    w[1, 2] = 6e38
    assert_raises(ValueError, lambda: MLP([3, 4], init=w), "weights of layer 1", "6e+38", "overflows float32")
    assert_raises(ValueError, lambda: MLP([3, 4], bias=np.full(4, -1e39)), "bias of layer 1", "-1e+39",
                  "overflows float32")
    assert_raises(ValueError, lambda: MLP([3, 4], init=lambda s, g, d: np.full(s, 1e39)), "weights of layer 1",
                  "overflows float32")


def test_x_overflowing_float32(assert_raises):
    net = MLP([3, 4], seed=0)
    x = np.zeros((2, 3))
    x[1, 0] = 1e39
    assert_raises(ValueError, lambda: net.forward(x), "x", "1e+39", "overflows float32")
    assert_raises(ValueError, lambda: net.forward(np.full((2, 3), np.inf)), "x contains NaN or infinity")
    # float64 networks take it
    net64 = MLP([3, 4], seed=0, dtype="float64")
    ref = np.tanh(x @ net64.weights[0] + net64.biases[0])
    np.testing.assert_allclose(net64.forward(x), ref, rtol=1e-14, atol=1e-300)


# --------------------------------------------------------------------------
# 5. float64 activation tails against mpmath
# --------------------------------------------------------------------------
#
# Bound: RTOL = 1e-14 relative (45 ulp; the stable forms measure a few ulp)
# wherever the exact result is a normal double. gelu_tanh adds the condition
# of its argument: u = sqrt(2/pi) (x + 0.044715 x^3) is formed with a few
# roundings (relative error <= 4 eps, the constants' included) and
# sigma(2u) ~ e^(2u) turns an error du into 2|du| relatively, so
# 8 eps |u| more (4.8e-13 at x = -21, where the result is 1e-300).

mpmath.mp.prec = 120
_C = mpmath.sqrt(2 / mpmath.pi)
_K = mpmath.mpf("0.044715")


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _mp_u(x):
    return _C * (x + _K * x**3)


MP = {
    ("tanh", False): mpmath.tanh,
    ("tanh", True): lambda x: mpmath.sech(x) ** 2,
    ("sigmoid", False): _mp_sigmoid,
    ("sigmoid", True): lambda x: _mp_sigmoid(x) * _mp_sigmoid(-x),
    ("softplus", True): _mp_sigmoid,
    ("silu", False): lambda x: x * _mp_sigmoid(x),
    ("silu", True): lambda x: _mp_sigmoid(x) * (1 + x * _mp_sigmoid(-x)),
    ("gelu_tanh", False): lambda x: x * _mp_sigmoid(2 * _mp_u(x)),
    ("gelu_tanh", True): lambda x: (_mp_sigmoid(2 * _mp_u(x))
                                    + 2 * x * _C * (1 + 3 * _K * x * x)
                                    * _mp_sigmoid(2 * _mp_u(x)) * _mp_sigmoid(-2 * _mp_u(x))),
}
# How far out each result stays a normal double (beyond, the subnormals).
REACH = {"tanh": 354.0, "sigmoid": 708.0, "softplus": 708.0, "silu": 700.0, "gelu_tanh": 21.0}
RTOL = 1e-14


def _tail_points(name):
    """A sweep over [-reach, reach] (gelu_tanh: up to +30), the brief's
    points, and the region around 0."""
    reach = REACH[name]
    hi = 30.0 if name == "gelu_tanh" else reach
    x = np.concatenate([np.linspace(-reach, hi, 601), np.linspace(-5.0, 5.0, 101),
                        [-40.0, -20.0, -12.0, -10.0, 12.0, 20.0, 40.0, 1e-8, -1e-8]])
    return np.unique(x[(x >= -reach) & (x <= hi) & (x != 0.0)])


def _mp_reference(name, derivative, x):
    return np.array([float(MP[name, derivative](mpmath.mpf(float(v)))) for v in x])


def _allowed(name, derivative, x, ref):
    tol = RTOL * np.abs(ref)
    u = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
    if name == "gelu_tanh":
        tol = tol + 8.0 * EPS * np.abs(u) * np.abs(ref)
    # silu' and gelu_tanh' are s + (a term of the other sign), zero at -1.28
    # and -0.75: there a few ulp of the terms' sum S, not of the difference
    if derivative and name == "silu":
        s = special.expit(x)
        tol = tol + 4.0 * EPS * (s + np.abs(x) * s * special.expit(-x))
    if derivative and name == "gelu_tanh":
        s, du = special.expit(2.0 * u), np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * 0.044715 * x * x)
        tol = tol + 4.0 * EPS * (s + 2.0 * np.abs(x) * du * s * special.expit(-2.0 * u))
    return tol


def _check(got, ref, allowed, x, what):
    err = np.abs(got - ref)
    bad = ~(err <= allowed) | ~(np.abs(ref) >= TINY)
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(f"{what}: {bad.sum()} of {x.size} out of bounds; first: " + "; ".join(
            f"x={x[k]!r}: got {got[k]!r}, exact {ref[k]!r} (rel {err[k] / abs(ref[k]):.2g})" for k in i))


CASES = sorted(MP)


@pytest.mark.parametrize("name, derivative", CASES, ids=[f"{n}{chr(39) * d}" for n, d in CASES])
def test_float64_tails_match_mpmath(name, derivative):
    x = _tail_points(name)
    ref = _mp_reference(name, derivative, x)
    got = activation(name, x, derivative=derivative)
    _check(got, ref, _allowed(name, derivative, x, ref), x, f"{name}{chr(39) * derivative}")


def test_float64_tails_the_issue_names():
    """tanh'(-12) to 3e-7 and tanh'(-20), sigmoid'(40), gelu_tanh(-10) as 0
    were the reported values; closed forms: sech^2 x = 4 e^(-2|x|) /
    (1 + e^(-2|x|))^2, sigmoid' = e^-|x| / (1 + e^-|x|)^2, gelu_tanh(x) =
    x e^(2u) / (1 + e^(2u))."""
    e12, e20 = np.exp(-24.0), np.exp(-40.0)
    got = activation("tanh", [-12.0, -20.0], derivative=True)
    np.testing.assert_allclose(got, [4 * e12 / (1 + e12) ** 2, 4 * e20 / (1 + e20) ** 2], rtol=1e-14)
    e40 = np.exp(-40.0)
    assert activation("sigmoid", [40.0], derivative=True)[0] == pytest.approx(e40 / (1 + e40) ** 2, rel=1e-14)
    u = np.sqrt(2.0 / np.pi) * (-10.0 + 0.044715 * -1000.0)
    e = np.exp(2.0 * u)
    assert activation("gelu_tanh", [-10.0])[0] == pytest.approx(-10.0 * e / (1 + e), rel=1e-12)


def test_float64_limits_and_special_values():
    """The limits the definitions give, NaN passing through, and infinities
    as the float32 kernels give them (gelu_tanh'(+-inf) and silu'(+-inf) are
    inf * 0 there: NaN)."""
    x = np.array([np.inf, -np.inf, np.nan, 1e200, -1e200, 0.0, -0.0])
    with np.errstate(invalid="ignore"):
        tanh_d = activation("tanh", x, derivative=True)
        sig_d = activation("sigmoid", x, derivative=True)
        gt = activation("gelu_tanh", x)
        gt_d = activation("gelu_tanh", x, derivative=True)
        silu_d = activation("silu", x, derivative=True)
    np.testing.assert_array_equal(tanh_d, [0.0, 0.0, np.nan, 0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(sig_d, [0.0, 0.0, np.nan, 0.0, 0.0, 0.25, 0.25])
    np.testing.assert_array_equal(gt, [np.inf, np.nan, np.nan, 1e200, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gt_d, [np.nan, np.nan, np.nan, 1.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(silu_d, [np.nan, np.nan, np.nan, 1.0, 0.0, 0.5, 0.5])


@pytest.mark.parametrize("name", sorted(REACH))
def test_float64_layer_kernels_use_the_tail_forms(name):
    """The fused forward (a = phi(z)), backward (dZ = dA phi'(z)) and the
    backward that makes its input from the layer below (x = phi(z_below),
    z_below = phi'(z_below)) against mpmath, with z set exactly: x = 1,
    W = the points."""
    pts = _tail_points(name)
    n = pts.size
    act = ACTIVATIONS[name].id
    ref_phi = _mp_reference(name, False, pts) if (name, False) in MP else None
    ref_dphi = _mp_reference(name, True, pts)
    one, w = np.ones((1, 1)), pts.reshape(1, n).copy()
    z, a = np.empty((1, n)), np.empty((1, n))
    grad = np.ones((1, n))
    below_x, below_z = np.empty((1, n)), pts.reshape(1, n).copy()
    _layers.forward(one, w, None, z, a, act, 0.0)
    _layers.backward(one, w, z, grad, None, np.empty((1, n)), None, act, 0.0)
    _layers.backward(below_x, np.zeros((n, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.empty((1, n)),
                     np.empty((n, 1)), None, 0, 0.0, z_below=below_z, act_below=act)
    np.testing.assert_array_equal(z[0], pts)
    _check(grad[0], ref_dphi, _allowed(name, True, pts, ref_dphi), pts, f"backward {name}'")
    _check(below_z[0], ref_dphi, _allowed(name, True, pts, ref_dphi), pts, f"z_below {name}'")
    if ref_phi is not None:
        _check(a[0], ref_phi, _allowed(name, False, pts, ref_phi), pts, f"forward {name}")
        _check(below_x[0], ref_phi, _allowed(name, False, pts, ref_phi), pts, f"x from z_below {name}")
