"""Bad arguments raise ValueError or TypeError whose message names the
parameter and the bad value; empty shapes give empty arrays."""
import math
import re

import numpy as np
import pytest

import initcore

NAMES = initcore.list_initializers()
NAN = float("nan")


# (id, callable, exception, substrings the message must contain)
CASES = [
    ("normal-negative-std", lambda: initcore.normal((3, 3), 0.0, -1.0), ValueError, ["std", "-1"]),
    ("trunc-negative-std", lambda: initcore.trunc_normal((3,), 0.0, -0.5), ValueError, ["std", "-0.5"]),
    ("trunc-zero-std", lambda: initcore.trunc_normal((3,), 0.0, 0.0), ValueError, ["std", "0"]),
    ("sparse-negative-std", lambda: initcore.sparse((3, 3), 0.1, -2.0), ValueError, ["std", "-2"]),
    ("uniform-low-eq-high", lambda: initcore.uniform((3,), 1.0, 1.0), ValueError, ["low", "high", "1.0"]),
    ("uniform-low-gt-high", lambda: initcore.uniform((3,), 2.0, 1.0), ValueError, ["low=2.0", "high=1.0"]),
    ("trunc-a-eq-b", lambda: initcore.trunc_normal((3,), a=1.0, b=1.0), ValueError, ["a=1.0", "b=1.0"]),
    ("trunc-a-gt-b", lambda: initcore.trunc_normal((3,), a=3.0, b=-3.0), ValueError, ["a=3.0", "b=-3.0"]),
    ("normal-nan-mean", lambda: initcore.normal((3,), NAN), ValueError, ["mean", "nan"]),
    ("normal-nan-std", lambda: initcore.normal((3,), 0.0, NAN), ValueError, ["std", "nan"]),
    ("normal-inf-mean", lambda: initcore.normal((3,), math.inf), ValueError, ["mean", "inf"]),
    ("uniform-nan-low", lambda: initcore.uniform((3,), NAN, 1.0), ValueError, ["low", "nan"]),
    ("uniform-nan-high", lambda: initcore.uniform((3,), 0.0, NAN), ValueError, ["high", "nan"]),
    ("trunc-nan-mean", lambda: initcore.trunc_normal((3,), NAN), ValueError, ["mean", "nan"]),
    ("trunc-nan-a", lambda: initcore.trunc_normal((3,), a=NAN), ValueError, ["a ", "nan"]),
    ("trunc-nan-b", lambda: initcore.trunc_normal((3,), b=NAN), ValueError, ["b ", "nan"]),
    ("constant-nan", lambda: initcore.constant((3,), NAN), ValueError, ["value", "nan"]),
    ("xavier-nan-gain", lambda: initcore.xavier_uniform((3, 3), NAN), ValueError, ["gain", "nan"]),
    ("xavier-negative-gain", lambda: initcore.xavier_normal((3, 3), -1.0), ValueError, ["gain", "-1"]),
    ("kaiming-nan-a", lambda: initcore.kaiming_normal((3, 3), NAN), ValueError, ["a ", "nan"]),
    ("vs-nan-scale", lambda: initcore.variance_scaling((3, 3), NAN), ValueError, ["scale", "nan"]),
    ("vs-zero-scale", lambda: initcore.variance_scaling((3, 3), 0.0), ValueError, ["scale", "0"]),
    ("orthogonal-nan-gain", lambda: initcore.orthogonal((3, 3), NAN), ValueError, ["gain", "nan"]),
    ("identity-nan-gain", lambda: initcore.identity((3, 3), NAN), ValueError, ["gain", "nan"]),
    ("delta-nan-gain", lambda: initcore.delta_orthogonal((3, 3, 3), NAN), ValueError, ["gain", "nan"]),
    ("sparse-nan-sparsity", lambda: initcore.sparse((3, 3), NAN), ValueError, ["sparsity", "nan"]),
    ("sparse-sparsity-above-1", lambda: initcore.sparse((3, 3), 1.5), ValueError, ["sparsity", "1.5"]),
    ("sparse-sparsity-negative", lambda: initcore.sparse((3, 3), -0.1), ValueError, ["sparsity", "-0.1"]),
    ("gain-nan-param", lambda: initcore.calculate_gain("leaky_relu", NAN), ValueError, ["param", "nan"]),
    ("gain-str-param", lambda: initcore.calculate_gain("leaky_relu", "0.2"), TypeError, ["param", "'0.2'"]),
    ("std-bool", lambda: initcore.normal((3,), 0.0, True), TypeError, ["std", "True"]),
    ("std-str", lambda: initcore.normal((3,), 0.0, "1"), TypeError, ["std", "'1'"]),
    ("unknown-mode", lambda: initcore.kaiming_normal((3, 3), mode="fan_sideways"), ValueError,
     ["mode", "'fan_sideways'", "fan_in", "fan_out"]),
    ("unknown-vs-mode", lambda: initcore.variance_scaling((3, 3), mode="fan_max"), ValueError,
     ["mode", "'fan_max'", "fan_in", "fan_out", "fan_avg", "fan_geo_avg"]),
    ("unknown-nonlinearity", lambda: initcore.kaiming_uniform((3, 3), nonlinearity="gelu"), ValueError,
     ["nonlinearity", "'gelu'", "relu", "leaky_relu", "tanh", "selu", "sigmoid", "linear"]),
    ("gain-unknown", lambda: initcore.calculate_gain("swish"), ValueError, ["nonlinearity", "'swish'", "relu"]),
    ("unknown-distribution", lambda: initcore.variance_scaling((3, 3), distribution="cauchy"), ValueError,
     ["distribution", "'cauchy'", "truncated_normal", "normal", "uniform"]),
    ("unknown-layout", lambda: initcore.xavier_uniform((3, 3), layout="nchw"), ValueError,
     ["layout", "'nchw'", "in_out", "out_in"]),
    ("fans-unknown-layout", lambda: initcore.fans((3, 3), "io"), ValueError, ["layout", "'io'", "in_out", "out_in"]),
    ("dirac-unknown-layout", lambda: initcore.dirac((3, 3, 3), layout="x"), ValueError, ["layout", "'x'", "in_out"]),
    ("fans-1d", lambda: initcore.fans((5,)), ValueError, ["shape", "(5,)"]),
    ("fans-0d", lambda: initcore.fans(()), ValueError, ["shape", "()"]),
    ("orthogonal-1d", lambda: initcore.orthogonal(7), ValueError, ["shape", "(7,)"]),
    ("identity-3d", lambda: initcore.identity((2, 2, 2)), ValueError, ["shape", "(2, 2, 2)"]),
    ("sparse-1d", lambda: initcore.sparse(5, 0.5), ValueError, ["shape", "(5,)"]),
    ("dirac-2d", lambda: initcore.dirac((3, 3)), ValueError, ["shape", "(3, 3)"]),
    ("dirac-6d", lambda: initcore.delta_orthogonal((1, 1, 1, 1, 3, 3)), ValueError, ["shape", "(1, 1, 1, 1, 3, 3)"]),
    ("dirac-groups-not-dividing", lambda: initcore.dirac((3, 4, 6), groups=4), ValueError, ["groups", "4", "6"]),
    ("dirac-groups-zero", lambda: initcore.dirac((3, 4, 6), groups=0), ValueError, ["groups", "0"]),
    ("dirac-groups-float", lambda: initcore.dirac((3, 4, 6), groups=2.0), TypeError, ["groups", "2.0"]),
    ("shape-negative", lambda: initcore.normal((3, -1)), ValueError, ["shape", "-1"]),
    ("shape-float-entry", lambda: initcore.normal((3, 2.0)), TypeError, ["shape", "2.0"]),
    ("shape-bool-entry", lambda: initcore.normal((3, True)), TypeError, ["shape", "True"]),
    ("shape-float", lambda: initcore.normal(4.0), TypeError, ["shape", "4.0"]),
    ("shape-none", lambda: initcore.normal(None), TypeError, ["shape", "None"]),
    ("shape-str", lambda: initcore.normal("34"), TypeError, ["shape", "'3'"]),
    ("orthogonal-side-too-big", lambda: initcore.orthogonal((2**31, 1)), ValueError, ["2147483648"]),
    ("seed-negative", lambda: initcore.normal((3,), seed=-1), ValueError, ["seed", "-1"]),
    ("seed-float", lambda: initcore.normal((3,), seed=1.5), TypeError, ["seed", "1.5"]),
    ("seed-str", lambda: initcore.normal((3,), seed="abc"), TypeError, ["seed", "abc"]),
    ("seed-bool", lambda: initcore.normal((3,), seed=True), TypeError, ["seed"]),
    ("generator-seed-negative", lambda: initcore.Generator(-5), ValueError, ["seed", "-5"]),
    ("generator-seed-float", lambda: initcore.Generator(2.5), TypeError, ["seed", "2.5"]),
    ("generator-of-generator", lambda: initcore.Generator(initcore.Generator(1)), TypeError, ["seed", "Generator"]),
    ("generator-method-seed", lambda: initcore.Generator(1).normal((3,), seed=1), TypeError, ["seed"]),
    ("generator-method-seed-none", lambda: initcore.Generator(1).orthogonal((3, 3), seed=None), TypeError, ["seed"]),
    ("spawn-negative", lambda: initcore.Generator(1).spawn(-1), ValueError, ["n", "-1"]),
    ("unknown-initializer", lambda: initcore.initialize("he_orthogonal", (3, 3)), ValueError,
     ["initializer", "'he_orthogonal'", *NAMES, "glorot_uniform"]),
    ("initializer-name-not-str", lambda: initcore.initialize(3, (3, 3)), TypeError, ["name", "3"]),
    ("moments-unknown-initializer", lambda: initcore.expected_moments("foo", (3,)), ValueError, ["'foo'"]),
    ("moments-bad-std", lambda: initcore.expected_moments("normal", (3,), std=-1.0), ValueError, ["std", "-1"]),
    ("moments-bad-mode", lambda: initcore.expected_moments("kaiming_normal", (3, 3), mode="x"), ValueError,
     ["mode", "'x'"]),
    ("threads-zero", lambda: initcore.set_num_threads(0), ValueError, ["n", "0"]),
    ("threads-float", lambda: initcore.set_num_threads(1.5), TypeError, ["n", "1.5"]),
    ("float32-empty-interval", lambda: initcore.trunc_normal((3,), 0.1, 1.0, 0.1, 0.1 + 1e-11), ValueError,
     ["a, b", "float32"]),
    ("float32-constant-overflow", lambda: initcore.constant((3,), 1e39), ValueError, ["value", "1e+39", "float32"]),
    ("float32-std-overflow", lambda: initcore.normal((3,), 0.0, 1e39), ValueError, ["std", "float32"]),
    ("float32-span-overflow", lambda: initcore.uniform((3,), -3e38, 3e38), ValueError, ["high - low", "float32"]),
]


@pytest.mark.parametrize("func, exc, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument(func, exc, needles, assert_raises):
    assert_raises(exc, func, *needles)


def test_float64_accepts_what_float32_cannot_hold():
    assert np.all(initcore.constant((3,), 1e39, dtype=np.float64) == 1e39)


def _valid_shape(name, first=4):
    """A small shape of a rank `name` accepts, with leading dimension `first`."""
    return (first, 4, 4) if name in ("dirac", "delta_orthogonal") else (first, 4)


@pytest.mark.parametrize("name", NAMES)
def test_size_overflow(name, init_info, assert_raises):
    """A shape whose byte count exceeds the address space: ValueError naming it."""
    params = init_info.required.get(name, {})
    for big in (2**62, 2**40 * 2**40):
        shape = _valid_shape(name, big)
        message = assert_raises(ValueError, lambda: initcore.initialize(name, shape, **params), str(big))
        if name != "orthogonal":
            assert "shape" in message


@pytest.mark.parametrize("name", NAMES)
def test_bad_dtype(name, init_info, assert_raises):
    params = init_info.required.get(name, {})
    shape = _valid_shape(name)
    for dtype, text in ((np.int64, "int64"), (np.int16, "int16"), ("int32", "int32"),
                        (np.complex128, "complex128"), (bool, "bool")):
        assert_raises(TypeError, lambda: initcore.initialize(name, shape, dtype=dtype, **params), "dtype", text)
    assert_raises(TypeError, lambda: initcore.initialize(name, shape, dtype="not-a-dtype", **params), "dtype", "not-a-dtype")


@pytest.mark.parametrize("name", NAMES)
def test_bad_out(name, init_info, assert_raises):
    params = init_info.required.get(name, {})
    shape = _valid_shape(name)
    wrong_shape = tuple(s + 1 for s in shape)

    def call(out, dtype=np.float32):
        return lambda: initcore.initialize(name, shape, dtype=dtype, out=out, **params)

    assert_raises(ValueError, call(np.empty(wrong_shape, np.float32)), "out", str(wrong_shape), str(shape))
    assert_raises(TypeError, call(np.empty(shape, np.float64)), "out", "float64", "float32")
    assert_raises(TypeError, call(np.empty(shape, np.float32), np.float64), "out", "float32", "float64")
    strided = np.empty(shape[:-1] + (2 * shape[-1],), np.float32)[..., ::2]
    assert_raises(ValueError, call(strided), "out", "contiguous")
    fortran = np.asfortranarray(np.empty(shape, np.float32))
    assert_raises(ValueError, call(fortran), "out", "contiguous")
    assert_raises(TypeError, call(np.zeros(shape, np.float32).tolist()), "out", "list")
    readonly = np.zeros(shape, np.float32)
    readonly.flags.writeable = False
    assert_raises(ValueError, call(readonly), "out", "writeable")
    assert not readonly.any()


def test_bad_out_byte_swapped(assert_raises):
    """A byte-swapped float32 out= is rejected; the message must tell its dtype
    apart from the expected native float32 (the bad value is '>f4' / '<f4')."""
    swapped = np.empty((4, 4), np.dtype(np.float32).newbyteorder())
    assert_raises(TypeError, lambda: initcore.normal((4, 4), out=swapped), "out", swapped.dtype.str)


def _zero_size_shapes(ndims):
    shapes = []
    for ndim in ndims:
        base = [3, 2, 4, 2, 3][:ndim]
        for i in range(ndim):
            shape = list(base)
            shape[i] = 0
            shapes.append(tuple(shape))
        shapes.append((0,) * ndim)
    return shapes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_zero_size_shapes_give_empty_arrays(name, dtype, init_info):
    """Every shape of an accepted rank with a zero dimension (in each position)
    returns an empty array of that shape and dtype, with or without out=, and
    expected_moments accepts it too."""
    params = init_info.required.get(name, {})
    failures = []
    for shape in _zero_size_shapes(init_info.ndims[name]):
        try:
            x = initcore.initialize(name, shape, seed=1, dtype=dtype, **params)
            assert isinstance(x, np.ndarray) and x.shape == shape and x.dtype == dtype and x.size == 0
            out = np.empty(shape, dtype)
            assert initcore.initialize(name, shape, seed=1, dtype=dtype, out=out, **params) is out
            mean, std = initcore.expected_moments(name, shape, **params)
            assert math.isfinite(mean) and math.isfinite(std)
        except Exception as exc:  # collect, to report every failing shape at once
            failures.append(f"{shape}: {type(exc).__name__}: {exc}")
    assert not failures, f"{name} ({np.dtype(dtype).name}) fails on empty shapes:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", NAMES)
def test_zero_size_via_generator(name, init_info):
    params = init_info.required.get(name, {})
    ndim = init_info.ndims[name][0] if name not in ("dirac", "delta_orthogonal") else 3
    shape = (0,) + (2,) * (ndim - 1)
    if name in ("dirac", "delta_orthogonal"):
        shape = (3, 0, 2)
    x = getattr(initcore.Generator(0), name)(shape, **params)
    assert x.shape == shape and x.size == 0


def test_messages_are_one_line_and_name_choices(assert_raises):
    message = assert_raises(ValueError, lambda: initcore.initialize("nope", (2, 2)), "nope")
    listed = re.split(r"[:,]\s*", message.split("choose one of:")[1])
    assert set(initcore.list_initializers(aliases=True)) <= {s.strip() for s in listed}
