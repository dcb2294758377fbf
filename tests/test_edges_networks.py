"""Edges of the networks layer a new user meets first: activation parameters
given as in init specs, clear errors for malformed arguments, and refusal
of values the working dtype cannot hold.

Expected numbers come from closed forms evaluated with NumPy float64, never
from initcore's own output.
"""
import numpy as np
import pytest

from initcore import MLP
from initcore.activations import activation
from initcore.networks import mlp


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
