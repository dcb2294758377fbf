"""Half precision: float16 and bfloat16 fills are the float32 draws rounded to
nearest even, clamped so that no value leaves the initializer's bounds, and
their distribution is the exact rounded one."""
import math

import numpy as np
import pytest
from scipy import stats

import initcore
from initcore.fills import _random

F16, BF16 = _random.HALF_FORMATS["float16"], _random.HALF_FORMATS["bfloat16"]
BF16_MAX = float(np.array([0x7F7F << 16], np.uint32).view(np.float32)[0])


def kernel_round(x, fmt):
    out = np.empty(x.size, np.uint16)
    _random.round_half(np.ascontiguousarray(x, np.float32).reshape(-1), out, fmt)
    return out.reshape(np.shape(x))


def bf16_reference(x):
    """bfloat16 rounding by float64 arithmetic: 8 significant bits, ties to
    even (np.rint), float32's subnormal spacing 2**-133 below 2**-126."""
    x = np.asarray(x, np.float64)
    _, e = np.frexp(x)
    quantum = np.ldexp(1.0, np.maximum(e, -125) - 8)
    return (np.rint(x / quantum) * quantum).astype(np.float32)


def bf16_value(bits):
    return (np.asarray(bits, np.uint32) << 16).view(np.float32)


def f16_value(bits):
    return np.asarray(bits, np.uint16).view(np.float16).astype(np.float32)


def reference_bits(x, name):
    """Bit patterns of float32 values rounded to nearest even by numpy
    (float16) or by bf16_reference."""
    x = np.asarray(x, np.float32)
    if name == "float16":
        return x.astype(np.float16).view(np.uint16)
    return (bf16_reference(x).view(np.uint32) >> 16).astype(np.uint16)


def test_float16_rounding_matches_numpy():
    """4 million random float32 bit patterns in float16's range, and every
    float16 value and midpoint with its float32 neighbours (the ties)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2**32, 2**22, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = x[np.isfinite(x) & (np.abs(x) < 65504)]
    values = np.arange(0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)
    mids = (values[:-1].astype(np.float64) + values[1:]) / 2
    mids = mids.astype(np.float32)
    near = np.concatenate([values, mids, np.nextafter(mids, 0), np.nextafter(mids, 1e9)])
    x = np.concatenate([x, near, -near])
    assert np.array_equal(kernel_round(x, F16), x.astype(np.float16).view(np.uint16))


def test_bfloat16_rounding_matches_float64_arithmetic():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2**32, 2**22, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = x[np.isfinite(x) & (np.abs(x) < BF16_MAX)]
    grid = bf16_value(np.arange(0x7F7F, dtype=np.uint32))
    mids = ((grid[:-1].astype(np.float64) + grid[1:]) / 2).astype(np.float32)
    near = np.concatenate([grid, mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf)])
    x = np.concatenate([x, near, -near])
    assert np.array_equal(kernel_round(x, BF16), reference_bits(x, "bfloat16"))


HALVES = ["float16", "bfloat16"]


@pytest.mark.parametrize("half", HALVES)
@pytest.mark.parametrize("name", initcore.list_initializers())
def test_half_values_are_the_float32_draw_rounded(name, half, init_info):
    """Every initializer: the half result equals the same call's float32
    result rounded to nearest even, except where that would leave the bounds
    (uniform's top, a truncated normal's ends): there it is the largest
    magnitude the result holds, inside them."""
    shape = init_info.big_shapes[name] if name in ("sparse",) else {
        "identity": (40, 30), "eye": (40, 30), "dirac": (6, 4, 3, 3),
        "delta_orthogonal": (6, 4, 3, 3)}.get(name, (300, 201))
    params = init_info.required.get(name, {})
    single = initcore.initialize(name, shape, seed=4, **params)
    bits = initcore.initialize(name, shape, seed=4, dtype=half, out=np.empty(shape, np.uint16), **params)
    expected = reference_bits(single, half)
    value = f16_value if half == "float16" else bf16_value
    got, want = value(bits), value(expected)
    moved = bits != expected
    # only draws within half an ulp of a bound move: at most 2**-9 of
    # U[0, 1) in bfloat16 (8 significant bits), fewer elsewhere
    assert moved.mean() < 2**-8, moved.mean()
    assert np.all(np.abs(want[moved]) > np.abs(got[moved]))
    assert np.all(np.abs(got[moved]) == np.abs(got).max())


@pytest.mark.parametrize("half", HALVES)
def test_uniform_never_returns_high(half):
    """U[-1, 1) has float32 values within half an ulp of 1 that round up to
    1: they become the value below it (10**6 draws)."""
    x = initcore.uniform(10**6, -1.0, 1.0, seed=2, dtype=half, out=np.empty(10**6, np.uint16))
    v = f16_value(x) if half == "float16" else bf16_value(x)
    assert v.max() < 1.0 and v.min() >= -1.0
    top = np.nextafter(np.float16(1), np.float16(0)) if half == "float16" else bf16_value(0x3F7F)
    assert (v == np.float32(top)).any()


@pytest.mark.parametrize("half", HALVES)
def test_truncated_normal_never_leaves_its_bounds(half):
    """Bounds that lie between half values, on a nearly flat density: 10**6
    draws, every one inside [a, b] (rounding to nearest would put values
    outside at both ends), and the inward-rounded bounds are reached."""
    a, b = -0.30001, 0.30002
    x = initcore.trunc_normal(10**6, 0.0, 1.0, a, b, seed=3, dtype=half, out=np.empty(10**6, np.uint16))
    v = (f16_value(x) if half == "float16" else bf16_value(x)).astype(np.float64)
    assert v.min() >= a and v.max() <= b
    single = initcore.trunc_normal(10**6, 0.0, 1.0, a, b, seed=3).astype(np.float32)
    rounded = (f16_value(reference_bits(single, half)) if half == "float16"
               else bf16_value(reference_bits(single, half))).astype(np.float64)
    assert (rounded > b).any() and (rounded < a).any()  # the clamp had work to do
    assert (v == v.max()).sum() > 0 and (v == v.min()).sum() > 0


def rounded_cells(grid, a, b):
    """Edges of the cells of [a, b] that round to each value of `grid` (sorted
    representable values inside [a, b]): midpoints, with the end cells
    reaching the bounds (clamping)."""
    mids = (grid[:-1] + grid[1:]) / 2.0
    return np.concatenate([[a], mids, [b]])


def chi_square_p(counts, expected, min_expected=20.0):
    """Pearson's test after merging neighbouring cells until each expects at
    least min_expected draws."""
    merged_c, merged_e, c_acc, e_acc = [], [], 0.0, 0.0
    for c, e in zip(counts, expected):
        c_acc += c
        e_acc += e
        if e_acc >= min_expected:
            merged_c.append(c_acc)
            merged_e.append(e_acc)
            c_acc = e_acc = 0.0
    merged_c[-1] += c_acc
    merged_e[-1] += e_acc
    merged_e = np.array(merged_e) * (sum(merged_c) / sum(merged_e))
    return stats.chisquare(merged_c, merged_e).pvalue


@pytest.mark.parametrize("half, mean, std, a, b", [
    ("bfloat16", 0.0, 1.0, -2.0, 2.0),
    ("float16", 0.5, 0.25, 0.1, 0.9),
])
def test_truncated_normal_has_the_exact_rounded_distribution(half, mean, std, a, b):
    """2 * 10**6 draws against the exact distribution of a truncated normal
    rounded to the format (cells between midpoints, from scipy.stats.norm):
    Pearson's chi-square p > 1e-4 with a fixed seed. The same counts against
    rounding toward zero, the usual half-precision mistake, give p < 1e-12:
    the test can fail."""
    n = 2 * 10**6
    x = initcore.trunc_normal(n, mean, std, a, b, seed=8, dtype=half, out=np.empty(n, np.uint16))
    v = (f16_value(x) if half == "float16" else bf16_value(x)).astype(np.float64)
    grid, counts = np.unique(v, return_counts=True)
    all_bits = np.arange(0x10000, dtype=np.uint32)
    all_bits = all_bits[(all_bits & 0x7FFF) < (0x7C00 if half == "float16" else 0x7F80)]  # finite
    every = (f16_value(all_bits.astype(np.uint16)) if half == "float16" else bf16_value(all_bits)).astype(np.float64)
    every = np.unique(every[np.isfinite(every) & (every >= a) & (every <= b)])
    assert set(grid) <= set(every)
    full_counts = np.zeros(every.size)
    full_counts[np.searchsorted(every, grid)] = counts

    def mass(lower, upper):
        cdf = stats.norm.cdf
        total = cdf(b, mean, std) - cdf(a, mean, std)
        return (cdf(upper, mean, std) - cdf(lower, mean, std)) / total * n

    edges = rounded_cells(every, a, b)
    assert chi_square_p(full_counts, mass(edges[:-1], edges[1:])) > 1e-4
    # toward zero: v > 0 takes [v, next), v < 0 takes (previous, v], 0 both
    below, above = np.insert(every[:-1], 0, a), np.append(every[1:], b)
    lower = np.where(every > 0, every, below)
    upper = np.where(every < 0, every, above)
    assert chi_square_p(full_counts, mass(lower, upper)) < 1e-12


def test_half_fills_give_the_same_bits_at_any_thread_count(threads):
    """3 * 10**6 values (above PARALLEL_MIN) at 1, 2 and 5 threads."""
    results = []
    for n in (1, 2, 5):
        threads(n)
        results.append([initcore.initialize(name, (3000, 1000), seed=6, dtype=half,
                                            out=np.empty((3000, 1000), np.uint16))
                        for name in ("uniform", "normal", "trunc_normal") for half in HALVES])
    for other in results[1:]:
        assert all(np.array_equal(p, q) for p, q in zip(results[0], other))


def test_float16_arrays_and_their_errors():
    w = initcore.kaiming_normal((64, 32), seed=0, dtype=np.float16)
    assert w.dtype == np.float16 and w.shape == (64, 32)
    with pytest.raises(ValueError, match="overflows float16"):
        initcore.normal(10, std=1e4, seed=0, dtype=np.float16)
    with pytest.raises(ValueError, match=r"no float16 value lies in \[a, b\]"):
        initcore.trunc_normal(10, 1.0, 1.0, 1.0001, 1.0002, seed=0, dtype=np.float16)
    with pytest.raises(ValueError, match="both round to float16"):
        initcore.uniform(10, 1.0, 1.0001, seed=0, dtype=np.float16)
    with pytest.raises(TypeError, match=r"expected float16 \(<f2\) or uint16 \(<u2\) or int16"):
        initcore.normal(10, seed=0, dtype=np.float16, out=np.empty(10, np.float32))
    with pytest.raises(TypeError, match="dtype must be float16, bfloat16, float32 or float64, got int32"):
        initcore.normal(10, seed=0, dtype=np.int32)


def test_bfloat16_arrays_need_ml_dtypes_or_a_bits_out():
    try:
        import ml_dtypes
    except ImportError:
        with pytest.raises(ImportError, match=r"ml_dtypes .*or pass out= an int16/uint16 array"):
            initcore.normal(10, seed=0, dtype="bfloat16")
    else:
        w = initcore.normal((8, 4), seed=0, dtype=ml_dtypes.bfloat16)
        assert w.dtype == ml_dtypes.bfloat16
        bits = initcore.normal((8, 4), seed=0, dtype="bfloat16", out=np.empty((8, 4), np.int16))
        assert np.array_equal(w.view(np.int16), bits)
    assert math.isfinite(BF16_MAX)
