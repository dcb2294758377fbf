"""The fused dense-layer kernels (initcore.networks._layers.forward / backward /
histogram) against an independent plain-NumPy float64 implementation.

What is compared, and how tightly:

* z = x @ w + b against the float64 product of the same (float32 or float64)
  inputs.  A dot product of length n summed in any order in precision u
  (u = eps / 2) is within ``n u sum|x_k w_k|`` of the exact value (Higham,
  "Accuracy and Stability of Numerical Algorithms", 2nd ed., eq. 3.5), one
  more rounding for the bias: we allow ``(n_in + 2) eps (|x| @ |w| + |b|)``,
  over twice that bound (float64: twice again, the reference rounds too).
* a = phi(z) against phi evaluated in float64 by NumPy/SciPy on the kernel's
  own z: float32 allows 1 ulp (eps32 |phi|: the kernel rounds a double
  evaluation once) on top of the float64 tolerances of
  tests/test_activations.py (a few ulp, and the formulas' own cancellation).
  End to end, phi is Lipschitz with constant <= 1.76 (selu's lambda alpha;
  every other registered activation <= 1.13), so a is also checked against
  phi(reference z) with 1.8 times the z tolerance on top.
* Statistics (moments, per-unit moments, unit hashes, histograms) are
  checked against the kernel's *own* z / a / dZ outputs, so they test the
  statistics exactly: counts, minima and maxima must be identical, means and
  sums of squared deviations equal a two-pass float64 reference to 1e-12
  relative (the kernel accumulates in float64; its worst-case error for the
  largest blocks here, 2^18 values in 16 lanes, is ~2^14 eps = 4e-12 for a
  random-walk-free adversarial sum, typically ~1e-14).
* Backward: dZ = dA phi'(z) (two roundings in float32), dx, dw, db with the
  same dot-product bound (length n_out, batch and batch), and the squared
  norms ``sums`` to 1e-12 relative of the kernel's own dx, dw, db, w.

Nothing random is left to chance: every array comes from a fixed seed.
"""
import faulthandler
import math
import os
import signal
import warnings

import numpy as np
import pytest

import initcore
from initcore.networks import _layers
from initcore.networks.activations import ACTIVATIONS
from reference import GELU_TANH_C, ref_dphi, ref_phi

NAMES = tuple(ACTIVATIONS)  # all 14, in registry (id) order
FIELDS = ("count", "mean", "m2", "min", "max", "nan", "inf", "zero", "saturated")
F = {name: i for i, name in enumerate(FIELDS)}
NF = len(FIELDS)
DTYPES = [np.float32, np.float64]
EPS64 = np.finfo(np.float64).eps
TINY64 = np.finfo(np.float64).tiny
# Upper bound of |phi'| over every registered activation at its default
# parameter (selu: lambda * alpha = 1.7581).
LIPSCHITZ = 1.8
STAT_RTOL = 1e-12
# (batch, n_in, n_out): batch 1, 7, 100, 1000, 1025; n_in 1, 3, 300; n_out 1,
# 5, 67, 513 -- single rows, one partial block, several blocks with a partial
# last one, n_out below, at and above multiples of the 16 statistics lanes.
SHAPES = [(1, 1, 1), (7, 3, 5), (1, 300, 513), (100, 300, 513), (1000, 300, 5), (1025, 1, 67),
          (1025, 3, 1)]
# (bias, z given): cycled over shapes and activations so every activation
# meets every mode and every shape meets every mode.
MODES = [(True, True), (False, False), (True, False), (False, True)]
SAT = (-0.3, 0.8)           # a saturation band that every activation crosses
HIST = (-0.75, 1.3, 37)     # hist_lo, hist_hi, nbins


def eps(dtype):
    return float(np.finfo(dtype).eps)


def tiny(dtype):
    # results that underflow: a fixed absolute resolution
    return float(np.finfo(dtype).smallest_subnormal) * 4 if dtype == np.float32 else TINY64


# The float32 activations' accuracy bound, in ulp (src/actmath.h,
# tests/test_activations.py).
F32_ULPS = 4.0


def phi_tol(name, z, ref, dtype):
    """|kernel phi - reference phi| allowed (see the module docstring)."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    tol = 1e-14 * np.abs(ref) + TINY64
    if name == "gelu":       # SciPy's erfc loses (x^2/2) eps relative
        tol = tol + 4.0 * (z * z / 2.0) * EPS64 * np.abs(ref)
    if name == "gelu_tanh":  # 1 + tanh(u) cancels for x << 0
        tol = tol + 2.0 * EPS64 * z
    if dtype == np.float32:  # src/actmath.h: 4 float32 ulp (sin: of 1, absolutely)
        tol = tol + F32_ULPS * eps(np.float32) * (np.abs(ref) + (name == "sin")) + tiny(np.float32)
    return tol


def dphi_tol(name, z, ref, dtype):
    """|kernel phi' - reference phi'| allowed: float32 rounds phi' once;
    float64 as in tests/test_activations.py (a few eps absolutely, the
    bound that autograd's cancelling forms need)."""
    z = np.abs(np.asarray(z, dtype=np.float64))
    tol = 1e-14 * np.abs(ref) + 4.0 * EPS64
    if name == "gelu_tanh":
        tol = tol + 2.0 * EPS64 * z * np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * GELU_TANH_C * z * z)
    if dtype == np.float32:
        # src/actmath.h: 4 float32 ulp; where phi' is a sum of terms of size ~1
        # that cancels (sin' = cos near pi/2, silu' and gelu' near their zeros)
        # 4 ulp of those terms, absolutely
        terms = name in ("sin", "silu", "gelu", "gelu_tanh")
        tol = tol + F32_ULPS * eps(np.float32) * (np.abs(ref) + terms) + tiny(np.float32)
    return tol


def assert_within(got, ref, tol, what):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    same = (np.isnan(got) & np.isnan(ref)) | (got == ref)
    err = np.where(same, 0.0, np.abs(got - ref))
    bad = ~(err <= tol)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:4]
        tol = np.broadcast_to(tol, got.shape).ravel()
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} out of tolerance; first: "
            + "; ".join(f"got {got.ravel()[k]!r}, expected {ref.ravel()[k]!r} "
                        f"(|diff| {err.ravel()[k]:.3g} > {tol[k]:.3g})" for k in i))


def ref_moments(v, lo=-math.inf, hi=math.inf, counts=True):
    """The nine fields from their definitions, two-pass float64 over the
    finite values; zero/saturated over the finite values when `counts`."""
    v = np.asarray(v, dtype=np.float64).ravel()
    finite = v[np.isfinite(v)]
    n = finite.size
    out = np.zeros(NF)
    out[F["count"]] = n
    out[F["nan"]] = np.isnan(v).sum()
    out[F["inf"]] = np.isinf(v).sum()
    if n:
        mean = np.mean(finite)
        out[F["mean"]] = mean
        out[F["m2"]] = np.sum((finite - mean) ** 2)
        out[F["min"]], out[F["max"]] = finite.min(), finite.max()
        if counts:
            out[F["zero"]] = np.sum(finite == 0)
            out[F["saturated"]] = np.sum((finite < lo) | (finite > hi))
    else:
        out[F["mean"]] = out[F["m2"]] = out[F["min"]] = out[F["max"]] = math.nan
    return out


def mean_m2_tol(n, ref_m2, scale):
    """|mean| and |m2| tolerances: STAT_RTOL relative to the spread, plus
    the reference's own rounding of the mean (n (4 eps max|v|)^2 in m2),
    plus 64 kappa eps relative for data whose mean dwarfs their spread:
    merging blocks (Chan et al.) carries each block mean to eps |mean|, so
    its error grows like kappa = max|v| / std (Chan, Golub & LeVeque 1983,
    "Algorithms for computing the sample variance"); 64 covers the log2 of
    the number of merges and lanes.  For O(1) data kappa is a few and this
    term is ~1e-14."""
    std = math.sqrt(ref_m2 / n) if n else 0.0
    kappa = scale / std if std > 0 else 0.0
    return (STAT_RTOL * (std + scale) + 4 * EPS64 * scale,
            (STAT_RTOL + 64 * kappa * EPS64) * ref_m2 + n * (4 * EPS64 * scale) ** 2 + TINY64)


def assert_moments(got, ref, what, max_abs):
    got = np.asarray(got)
    for name in ("count", "nan", "inf", "zero", "saturated"):
        assert got[F[name]] == ref[F[name]], f"{what}: {name} {got[F[name]]} != {ref[F[name]]}"
    if ref[F["count"]] == 0:
        for name in ("mean", "m2", "min", "max"):
            assert math.isnan(got[F[name]]), f"{what}: {name} of no finite values must be NaN"
        return
    assert got[F["min"]] == ref[F["min"]], f"{what}: min {got[F['min']]!r} != {ref[F['min']]!r}"
    assert got[F["max"]] == ref[F["max"]], f"{what}: max {got[F['max']]!r} != {ref[F['max']]!r}"
    tol_mean, tol_m2 = mean_m2_tol(ref[F["count"]], ref[F["m2"]], max_abs)
    assert abs(got[F["mean"]] - ref[F["mean"]]) <= tol_mean, \
        f"{what}: mean {got[F['mean']]!r} vs {ref[F['mean']]!r}"
    assert abs(got[F["m2"]] - ref[F["m2"]]) <= tol_m2, f"{what}: m2 {got[F['m2']]!r} vs {ref[F['m2']]!r}"


def assert_units(units, a, what):
    """Per-unit mean and population variance of the finite values of a
    (two-pass float64 per column, tolerances as mean_m2_tol)."""
    a = np.asarray(a, dtype=np.float64)
    n_out = a.shape[1]
    finite = np.isfinite(a)
    n = finite.sum(axis=0)
    vals = np.where(finite, a, 0.0)
    empty = n == 0
    assert np.isnan(units[:n_out][empty]).all() and np.isnan(units[n_out:][empty]).all(), \
        f"{what}: units without finite values must be NaN"
    n1 = np.maximum(n, 1)
    mean = vals.sum(axis=0) / n1
    m2 = np.sum(np.where(finite, (a - mean) ** 2, 0.0), axis=0)
    scale = np.max(np.abs(vals), axis=0)
    std = np.sqrt(m2 / n1)
    kappa = np.divide(scale, std, out=np.zeros_like(std), where=std > 0)
    tol_mean = STAT_RTOL * (std + scale) + 4 * EPS64 * scale
    tol_m2 = (STAT_RTOL + 64 * kappa * EPS64) * m2 + n * (4 * EPS64 * scale) ** 2 + TINY64
    ok = ~empty
    assert_within(units[:n_out][ok], mean[ok], tol_mean[ok], f"{what}: unit means")
    assert_within(units[n_out:][ok], (m2 / n1)[ok], (tol_m2 / n1)[ok], f"{what}: unit variances")


def ref_hist(v, lo, hi, nbins):
    """[below, numpy.histogram counts..., above], NaN left out."""
    v = np.asarray(v, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    counts, _ = np.histogram(v, bins=nbins, range=(lo, hi))
    return np.concatenate([[np.sum(v < lo)], counts, [np.sum(v > hi)]]).astype(np.int64)


def column_partition(a):
    """Labels of the columns of a, equal exactly when the columns are equal bit for bit."""
    bits = np.ascontiguousarray(a.T).view(np.uint32 if a.dtype == np.float32 else np.uint64)
    return np.unique(bits, axis=0, return_inverse=True)[1].ravel()


def same_partition(first, second):
    pairs = np.unique(np.stack([first, second]), axis=1).shape[1]
    return pairs == np.unique(first).size == np.unique(second).size


def bits(v):
    v = np.ascontiguousarray(v)
    return v.view(np.uint8)


def same_bits(first, second):
    if first is None or second is None:
        return first is None and second is None
    return first.shape == second.shape and first.dtype == second.dtype and \
        np.array_equal(bits(first), bits(second))


def same_values(first, second):
    """same_bits, except that any NaN equals any NaN: which NaN a product of
    two NaNs gives depends on the order the compiler put its operands in."""
    if first is None or second is None or first.dtype.kind != "f":
        return same_bits(first, second)
    nan = np.isnan(first)
    return np.array_equal(nan, np.isnan(second)) and same_bits(first[~nan], second[~nan])


def run_forward(x, w, b, act, param, *, z_given=True, sat=(-math.inf, math.inf), hist=HIST, per_unit=True):
    """One kernel call with every statistic (without the per-unit ones
    unless `per_unit`); returns a dict of its outputs."""
    batch, n_out = x.shape[0], w.shape[1]
    out = {
        "z": np.full((batch, n_out), np.nan, x.dtype) if z_given else None,
        "a": np.full((batch, n_out), np.nan, x.dtype),
        "moments": np.zeros(2 * NF),
        "units": np.zeros(2 * n_out) if per_unit else None,
        "hash": np.zeros(n_out, np.uint64) if per_unit else None,
        "hist": np.zeros(hist[2] + 2, np.int64),
    }
    _layers.forward(x, w, b, out["z"], out["a"], ACTIVATIONS[act].id, param,
                    _layers.Stats(out["moments"], units=out["units"], unit_hash=out["hash"], hist=out["hist"],
                                  hist_lo=hist[0], hist_hi=hist[1], sat_lo=sat[0], sat_hi=sat[1]))
    return out


def layer_data(rng, batch, n_in, n_out, dtype, bias=True, duplicates=True):
    """x ~ N(0, 1), w ~ N(0, 1/n_in) (so z is O(1) and every activation
    bends), b ~ N(0, 0.3^2); with `duplicates`, about a quarter of the units
    copy another unit's weights and bias."""
    x = rng.normal(size=(batch, n_in)).astype(dtype)
    w = (rng.normal(size=(n_in, n_out)) / math.sqrt(n_in)).astype(dtype)
    b = (0.3 * rng.normal(size=n_out)).astype(dtype) if bias else None
    if duplicates and n_out >= 4:
        src = rng.integers(0, n_out, size=n_out // 4)
        dst = rng.integers(0, n_out, size=n_out // 4)
        w[:, dst] = w[:, src]
        if b is not None:
            b[dst] = b[src]
    return x, w, b


def z_tolerance(x, w, b, dtype):
    x64, w64 = np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64))
    mag = x64 @ w64 + (0.0 if b is None else np.abs(b.astype(np.float64)))
    factor = 1.0 if dtype == np.float32 else 2.0
    return factor * (x.shape[1] + 2) * eps(dtype) * mag + tiny(dtype)


# --------------------------------------------------------------------------
# 1. forward against the float64 reference, and its statistics
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, s)) for s in SHAPES])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", NAMES)
def test_forward_matches_float64_reference(act, dtype, shape):
    batch, n_in, n_out = shape
    bias, z_given = MODES[(NAMES.index(act) + SHAPES.index(shape)) % len(MODES)]
    rng = np.random.default_rng([NAMES.index(act), SHAPES.index(shape), dtype == np.float32])
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype, bias)
    param = ACTIVATIONS[act].default
    got = run_forward(x, w, b, act, param, z_given=z_given, sat=SAT)
    # the in-place path (z=None) must give the same bits as the z path
    other = run_forward(x, w, b, act, param, z_given=not z_given, sat=SAT)
    for key in ("a", "moments", "units", "hash", "hist"):
        assert same_bits(got[key], other[key]), f"{key} differs between z=None and z given"
    z = got["z"] if z_given else other["z"]
    a = got["a"]
    assert z.dtype == a.dtype == dtype

    # z and a against float64
    z_ref = x.astype(np.float64) @ w.astype(np.float64)
    if b is not None:
        z_ref += b.astype(np.float64)
    tol_z = z_tolerance(x, w, b, dtype)
    assert_within(z, z_ref, tol_z, f"z of {act}")
    phi_own = ref_phi(act, z, param)
    assert_within(a, phi_own, phi_tol(act, z, phi_own, dtype), f"a = {act}(z) of the kernel's z")
    phi_ref = ref_phi(act, z_ref, param)
    assert_within(a, phi_ref, LIPSCHITZ * tol_z + phi_tol(act, z_ref, phi_ref, dtype),
                  f"a vs {act}(reference z)")

    # moments of the kernel's own z and a
    mz, ma = got["moments"][:NF], got["moments"][NF:]
    assert_moments(mz, ref_moments(z, counts=False), f"z moments ({act})", float(np.max(np.abs(z))))
    assert_moments(ma, ref_moments(a, *SAT), f"a moments ({act})", float(np.max(np.abs(a))))
    # without per-unit statistics the moments of a are summed directly, not merged from the units'
    lanes = run_forward(x, w, b, act, param, z_given=z_given, sat=SAT, per_unit=False)
    assert same_bits(lanes["moments"][:NF], mz) and same_bits(lanes["hist"], got["hist"])
    assert_moments(lanes["moments"][NF:], ref_moments(a, *SAT), f"a moments without units ({act})",
                   float(np.max(np.abs(a))))
    assert_units(got["units"], a, f"units of {act}")
    assert same_partition(column_partition(a), np.unique(got["hash"], return_inverse=True)[1]), \
        "unit hashes must be equal exactly for bit-equal columns"
    np.testing.assert_array_equal(got["hist"], ref_hist(a, *HIST))


@pytest.mark.parametrize("act, param", [("leaky_relu", 0.2), ("leaky_relu", -0.5), ("elu", 0.5),
                                        ("elu", 2.0)])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_forward_activation_parameters(act, param, dtype):
    """The activation's parameter reaches phi (Lipschitz constant <= 2 here)."""
    rng = np.random.default_rng(7)
    x, w, b = layer_data(rng, 33, 20, 17, dtype)
    got = run_forward(x, w, b, act, param)
    z_ref = x.astype(np.float64) @ w.astype(np.float64) + b.astype(np.float64)
    phi_ref = ref_phi(act, z_ref, param)
    assert_within(got["a"], phi_ref, 2.0 * z_tolerance(x, w, b, dtype) + phi_tol(act, z_ref, phi_ref, dtype),
                  f"{act}({param})")
    # and a different parameter gives a different output (the check can fail)
    assert not np.allclose(got["a"], ref_phi(act, z_ref, ACTIVATIONS[act].default))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_forward_without_statistics_gives_the_same_bits(dtype):
    rng = np.random.default_rng(3)
    x, w, b = layer_data(rng, 300, 40, 70, dtype)
    with_stats = run_forward(x, w, b, "gelu", 0.0)
    z, a = np.empty_like(with_stats["z"]), np.empty_like(with_stats["a"])
    _layers.forward(x, w, b, z, a, ACTIVATIONS["gelu"].id, 0.0)
    assert same_bits(z, with_stats["z"]) and same_bits(a, with_stats["a"])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_saturation_and_zero_counts(dtype):
    """hardtanh pins a to exactly +-1 and relu to exactly 0: the counts
    include values *at* the band's edges only when strictly outside."""
    rng = np.random.default_rng(11)
    x, w, b = layer_data(rng, 257, 9, 19, dtype)
    w *= 3  # z of std ~3: many clipped values
    for act, sat in [("hardtanh", (-1.0, 1.0)), ("hardtanh", (-0.99, 0.99)), ("relu", (0.0, 2.0)),
                     ("relu", (0.5, 2.0)), ("tanh", (-0.9, 0.95))]:
        got = run_forward(x, w, b, act, 0.0, sat=sat)
        a = got["a"].astype(np.float64)
        expected_sat = np.sum((a < sat[0]) | (a > sat[1]))
        assert got["moments"][NF + F["saturated"]] == expected_sat, (act, sat)
        assert got["moments"][NF + F["zero"]] == np.sum(a == 0), (act, sat)
        if sat == (-0.99, 0.99) or sat == (0.5, 2.0):
            assert expected_sat > 0  # the band is crossed: the count is tested
        # the default band counts nothing
        none = run_forward(x, w, b, act, 0.0)
        assert none["moments"][NF + F["saturated"]] == 0
    assert np.sum(run_forward(x, w, b, "relu", 0.0)["a"] == 0) > 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("sat", [(-0.3, 0.8), (-1.0, 1.0), (0.1, 1e30), (-1e-40, 3.0)])
def test_saturation_band_ends_not_representable(dtype, sat):
    """The band's ends are float64; a value counts as saturated when its own
    float64 value lies outside. Activations sit on each end's rounding to
    the dtype and 1-2 ulp either side (linear layer, identity weights:
    a = x exactly)."""
    ends = np.array(sat, dtype).astype(np.float64)
    values = [ends]
    for direction in (np.inf, -np.inf):
        step = np.array(sat, dtype)
        for _ in range(2):
            step = np.nextafter(step, dtype(direction))
            values.append(step.astype(np.float64))
    row = np.concatenate(values + [[0.0, 0.5, -0.5]])
    row = row[np.isfinite(row)]
    x = np.tile(row.astype(dtype), (9, 1))
    n = x.shape[1]
    got = run_forward(x, np.eye(n, dtype=dtype), None, "linear", 0.0, sat=sat)
    a = got["a"].astype(np.float64)
    np.testing.assert_array_equal(a, x.astype(np.float64))
    assert got["moments"][NF + F["saturated"]] == np.sum((a < sat[0]) | (a > sat[1]))


@pytest.mark.parametrize("n_out, nonfinite", [(5, False), (37, False), (32, True)])
def test_z_zero_and_saturated_fields_are_zero(n_out, nonfinite):
    """Docstring of ic_stats / the brief: zero and saturated are counted for a
    only; for z both fields are 0.  Zero weights make every z exactly 0
    (with `nonfinite`, a NaN bias of unit 0 puts a NaN in every row)."""
    x = np.ones((3, 4))
    w = np.zeros((4, n_out))
    b = np.zeros(n_out)
    if nonfinite:
        b[0] = np.nan
    got = run_forward(x, w, b, "relu", 0.0, sat=(0.5, 2.0))
    assert got["moments"][NF + F["zero"]] == np.sum(got["a"] == 0)   # a: counted
    assert got["moments"][F["zero"]] == 0, f"z zero field {got['moments'][F['zero']]}"
    assert got["moments"][F["saturated"]] == 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_unit_hash_tells_equal_units_from_different_ones(dtype):
    """Small dyadic inputs and weights: every product and sum is exact in
    float32, so units with the same weights and bias are equal bit for bit
    whatever order BLAS sums in.  The hashes must group exactly the
    constructed groups (13 distinct units out of 40)."""
    rng = np.random.default_rng(5)
    n_in, distinct = 24, 13
    x = (rng.integers(-4, 5, size=(100, n_in)) / 4).astype(dtype)
    base_w = (rng.integers(-3, 4, size=(n_in, distinct)) / 8).astype(dtype)
    base_b = (rng.integers(-4, 5, size=distinct) / 16).astype(dtype)
    group = np.concatenate([np.arange(distinct), rng.integers(0, distinct, size=27)])
    rng.shuffle(group)
    w, b = np.ascontiguousarray(base_w[:, group]), base_b[group].copy()
    for act in ("tanh", "relu", "sin"):
        got = run_forward(x, w, b, act, 0.0)
        labels = np.unique(got["hash"], return_inverse=True)[1].ravel()
        assert np.unique(got["hash"]).size == distinct, act
        assert same_partition(labels, group), act
        # units: equal units, equal mean and variance
        n_out = w.shape[1]
        for j in range(n_out):
            first = np.flatnonzero(group == group[j])[0]
            assert got["units"][j] == got["units"][first]
            assert got["units"][n_out + j] == got["units"][n_out + first]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", ["relu", "tanh", "linear"])
def test_unit_summary_against_the_activations(act, dtype):
    """unit_summary = [dead units, distinct units, std of the unit means]
    against NumPy on the kernel's own a: columns exactly 0, columns distinct
    bit for bit, and the float64 std of the column means. Duplicated units
    (layer_data) and, for relu, units dead on the whole batch (a negative
    bias no input overcomes)."""
    rng = np.random.default_rng([31, dtype == np.float32])
    batch, n_in, n_out = 211, 17, 300
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype)
    b[::7] = -1e3
    a = np.empty((batch, n_out), dtype)
    summary = np.zeros(3)
    _layers.forward(x, w, b, None, a, ACTIVATIONS[act].id, 0.0, _layers.Stats(np.zeros(2 * NF), unit_summary=summary))
    a64 = a.astype(np.float64)
    dead = np.count_nonzero(np.all(a == 0, axis=0))
    assert summary[0] == dead and (act != "relu" or dead >= n_out // 7), summary
    assert summary[1] == np.unique(column_partition(a)).size
    means = a64.mean(axis=0)
    np.testing.assert_allclose(summary[2], np.std(means), rtol=1e-9, atol=1e-12 * np.max(np.abs(means)))

    # one unit without a finite value: no mean, so no spread either
    b[3] = np.nan
    _layers.forward(x, w, b, None, a, ACTIVATIONS[act].id, 0.0, _layers.Stats(np.zeros(2 * NF), unit_summary=summary))
    assert np.isnan(summary[2]) and summary[1] == np.unique(column_partition(a)).size


def test_unit_summary_of_identical_units_is_exact():
    """Equal units: one distinct unit and a spread of exactly 0. Dyadic x
    and w keep every product and sum exact, so the units are equal whatever
    order BLAS sums in."""
    rng = np.random.default_rng(2)
    x = (rng.integers(-4, 5, size=(100, 5)) / 4).astype(np.float32)
    w = np.repeat((rng.integers(-3, 4, size=(5, 1)) / 8).astype(np.float32), 40, axis=1)
    a, summary = np.empty((100, 40), np.float32), np.zeros(3)
    _layers.forward(x, w, None, None, a, ACTIVATIONS["tanh"].id, 0.0,
                    _layers.Stats(np.zeros(2 * NF), unit_summary=summary))
    assert summary.tolist() == [0.0, 1.0, 0.0]


def test_unit_hash_sees_a_single_changed_value():
    x = np.linspace(-1, 1, 50)[:, None] * np.ones((1, 3))
    w = np.ones((3, 4))
    got = run_forward(x, w, None, "linear", 0.0)
    assert np.unique(got["hash"]).size == 1
    x2 = x.copy()
    x2[37, 0] += 0.25
    w2 = w.copy()
    w2[0, 2] = 0.5  # unit 2 sees x2[37, 0] with another weight
    got = run_forward(x2, w2, None, "linear", 0.0)
    assert np.unique(got["hash"]).size == 2
    assert got["hash"][0] == got["hash"][1] == got["hash"][3] != got["hash"][2]


# --------------------------------------------------------------------------
# 2. non-finite values
# --------------------------------------------------------------------------

@pytest.mark.parametrize("act", ["linear", "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nonfinite_values_are_counted_and_left_out(act, dtype):
    """Rows of x with +inf, -inf and NaN (and, in float32, products that
    overflow) give inf/NaN in z (and in a for unbounded phi); counts are
    exact, moments, units and histograms use the finite values only."""
    rng = np.random.default_rng(13)
    batch, n_in, n_out = 70, 6, 21
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype, duplicates=False)
    x[3, 0] = np.inf            # +-inf in row 3, depending on w's sign
    x[10, :] = np.inf           # inf - inf: NaN where w's signs differ
    x[20, 2] = np.nan           # a NaN row
    x[30, 1] = -np.inf
    if dtype == np.float32:
        x[40, :] = 3e19         # overflows float32: |x w| ~ 1e39 > 3.4e38
        w[:, 7] *= 1e19
    with np.errstate(invalid="ignore", over="ignore"):
        got = run_forward(x, w, b, act, 0.0, sat=SAT, hist=(-2.0, 2.0, 16))
    z, a = got["z"], got["a"]
    assert np.isnan(z).sum() > 0 and np.isinf(z).sum() > 0  # the cases occur
    if dtype == np.float32:
        assert np.isinf(z[40]).any()
    for v, m, counts, what in ((z, got["moments"][:NF], False, "z"), (a, got["moments"][NF:], True, "a")):
        ref = ref_moments(v, *SAT, counts=counts)
        assert m[F["nan"]] == np.isnan(v).sum() and m[F["inf"]] == np.isinf(v).sum()
        assert m[F["count"]] == np.isfinite(v).sum()
        finite = v[np.isfinite(v)]
        assert_moments(m, ref, f"{what} moments with non-finite values ({act})",
                       float(np.max(np.abs(finite))) if finite.size else 0.0)
    assert_units(got["units"], a, f"units ({act})")
    np.testing.assert_array_equal(got["hist"], ref_hist(a, -2.0, 2.0, 16))
    assert got["hist"].sum() == np.sum(~np.isnan(a))  # NaN excluded, +-inf below/above
    # a against the reference where z is finite
    finite = np.isfinite(z)
    assert_within(a[finite], ref_phi(act, z[finite], 0.0),
                  phi_tol(act, z[finite], ref_phi(act, z[finite], 0.0), dtype), "a where z is finite")
    # phi of NaN is NaN, phi(+-inf) the limits
    assert np.isnan(a[np.isnan(z)]).all()
    with np.errstate(invalid="ignore"):
        expected_inf = ref_phi(act, z[np.isinf(z)], 0.0)
    np.testing.assert_array_equal(a[np.isinf(z)], expected_inf.astype(dtype))


def test_all_values_nonfinite_gives_nan_moments():
    x = np.full((4, 2), np.nan)
    got = run_forward(x, np.ones((2, 3)), None, "tanh", 0.0)
    m = got["moments"]
    for part in (m[:NF], m[NF:]):
        assert part[F["count"]] == 0 and part[F["nan"]] == 12
        assert all(math.isnan(part[F[k]]) for k in ("mean", "m2", "min", "max"))
    assert np.isnan(got["units"]).all()
    assert got["hist"].sum() == 0


# --------------------------------------------------------------------------
# 3. backward
# --------------------------------------------------------------------------

BACK_SHAPES = [(1, 1, 1), (7, 3, 5), (1000, 300, 17), (1025, 1, 67), (33, 513, 300)]


def run_backward(x, w, z, dA, act, param, *, with_dx=True, with_db=True, stats=True, hist=(-1.0, 1.0, 21),
                 sigmas=0.0, below=None):
    """One backward call; `sigmas` > 0 bins over the range found from the
    moments (out["range"]); `below`: the keywords of the fused input."""
    batch, n_in, n_out = x.shape[0], w.shape[0], w.shape[1]
    out = {
        "grad": dA.copy(),
        "dx": np.full((batch, n_in), np.nan, x.dtype) if with_dx else None,
        "dw": np.full((n_in, n_out), np.nan, x.dtype),
        "db": np.full(n_out, np.nan, x.dtype) if with_db else None,
        "moments": np.zeros(NF) if stats else None,
        "hist": np.zeros(hist[2] + 2, np.int64) if stats else None,
        "range": np.zeros(2) if stats and sigmas else None,
        "sums": np.full(4, np.nan) if stats else None,
    }
    measure = None if out["moments"] is None else _layers.Stats(
        out["moments"], hist=out["hist"], hist_lo=hist[0], hist_hi=hist[1], hist_sigmas=sigmas,
        hist_range=out["range"], sums=out["sums"])
    _layers.backward(x, w, z, out["grad"], out["dx"], out["dw"], out["db"], ACTIVATIONS[act].id, param,
                     measure, **(below or {}))
    return out


def forward_z(x, w, b, act, param):
    return run_forward(x, w, b, act, param)["z"]


@pytest.mark.parametrize("shape", BACK_SHAPES, ids=["x".join(map(str, s)) for s in BACK_SHAPES])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", NAMES)
def test_backward_matches_float64_reference(act, dtype, shape):
    batch, n_in, n_out = shape
    k = NAMES.index(act) + BACK_SHAPES.index(shape)
    with_dx, with_db = [(True, True), (False, True), (True, False), (False, False)][k % 4]
    rng = np.random.default_rng([100, NAMES.index(act), BACK_SHAPES.index(shape), dtype == np.float32])
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype, duplicates=False)
    param = ACTIVATIONS[act].default
    z = forward_z(x, w, b, act, param)
    dA = rng.normal(size=(batch, n_out)).astype(dtype)
    got = run_backward(x, w, z, dA, act, param, with_dx=with_dx, with_db=with_db)

    dZ = got["grad"]
    ref_dz = dA.astype(np.float64) * ref_dphi(act, z, param)
    tol = dphi_tol(act, z, ref_dphi(act, z, param), dtype) * np.abs(dA.astype(np.float64))
    if dtype == np.float32:  # (float) phi' times g, rounded: two roundings
        tol = 2.0 * tol + tiny(np.float32)
    assert_within(dZ, ref_dz, tol, f"dZ of {act}")

    factor = 1.0 if dtype == np.float32 else 2.0
    d64, x64, w64 = dZ.astype(np.float64), x.astype(np.float64), w.astype(np.float64)
    if with_dx:
        assert_within(got["dx"], d64 @ w64.T,
                      factor * (n_out + 2) * eps(dtype) * (np.abs(d64) @ np.abs(w64).T) + tiny(dtype), "dx")
    assert_within(got["dw"], x64.T @ d64,
                  factor * (batch + 2) * eps(dtype) * (np.abs(x64).T @ np.abs(d64)) + tiny(dtype), "dw")
    if with_db:
        ref_db = d64.sum(axis=0)
        # a float64 sum, rounded once to the dtype
        assert_within(got["db"], ref_db, eps(dtype) * np.abs(ref_db)
                      + (batch + 2) * EPS64 * np.abs(d64).sum(axis=0) + tiny(dtype), "db")

    # statistics of the kernel's own dZ, dx, dw, db
    scale = float(np.max(np.abs(d64)))
    assert_moments(got["moments"], ref_moments(d64), f"dZ moments ({act})", scale)
    np.testing.assert_array_equal(got["hist"], ref_hist(d64, -1.0, 1.0, 21))
    sq = lambda v: float(np.sum(np.square(v.astype(np.float64))))  # noqa: E731
    expected = [sq(got["dx"]) if with_dx else 0.0, sq(got["dw"]), sq(got["db"]) if with_db else 0.0, sq(w)]
    np.testing.assert_allclose(got["sums"], expected, rtol=STAT_RTOL, atol=0, err_msg="sums")

    # without statistics: the same bits
    plain = run_backward(x, w, z, dA, act, param, with_dx=with_dx, with_db=with_db, stats=False)
    for key in ("grad", "dx", "dw", "db"):
        assert same_bits(plain[key], got[key]), f"{key} differs with and without statistics"


KINKS = {"relu": [0.0], "leaky_relu": [0.0], "elu": [0.0], "selu": [0.0], "hardtanh": [-1.0, 1.0]}


@pytest.mark.parametrize("act", NAMES)
def test_backward_matches_central_finite_differences(act):
    """float64, loss L = sum(C * phi(x @ w + b)) for a fixed random C, so
    dA = C. Central differences with h = 1e-5 have truncation error
    ~h^2 |L'''| ~ 1e-10 and rounding error ~eps |L| / h ~ 1e-10; allowed:
    1e-7 relative to the largest gradient entry. Kinks: no z lies within
    2 h max|x| of a kink, so the one-sided derivatives do not mix."""
    rng = np.random.default_rng([200, NAMES.index(act)])
    batch, n_in, n_out = 11, 4, 3
    x, w, b = layer_data(rng, batch, n_in, n_out, np.float64, duplicates=False)
    C = rng.normal(size=(batch, n_out))
    param = ACTIVATIONS[act].default
    h = 1e-5

    def loss(x_, w_, b_):
        return float(np.sum(C * run_forward(x_, w_, b_, act, param)["a"]))

    z = forward_z(x, w, b, act, param)
    margin = 2 * h * max(1.0, float(np.max(np.abs(x))), float(np.max(np.abs(w))))
    for kink in KINKS.get(act, []):
        assert np.min(np.abs(z - kink)) > margin, "a z sits at a kink: pick another seed"
    got = run_backward(x, w, z, C, act, param)

    def fd(array, index):
        plus, minus = array.copy(), array.copy()
        plus[index] += h
        minus[index] -= h
        args_p = {"x": x, "w": w, "b": b}
        args_m = dict(args_p)
        name = next(k for k, v in args_p.items() if v is array)
        args_p[name], args_m[name] = plus, minus
        return (loss(args_p["x"], args_p["w"], args_p["b"]) - loss(args_m["x"], args_m["w"], args_m["b"])) / (2 * h)

    for name, array, grad in (("w", w, got["dw"]), ("b", b, got["db"]), ("x", x, got["dx"])):
        numeric = np.array([fd(array, i) for i in np.ndindex(array.shape)]).reshape(array.shape)
        tol = 1e-7 * max(1.0, float(np.max(np.abs(numeric))))
        assert np.max(np.abs(grad - numeric)) <= tol, f"d{name} of {act}: {grad} vs {numeric}"
        assert np.max(np.abs(numeric)) > 1e-3  # a gradient that is not trivially 0


# --------------------------------------------------------------------------
# 4./5. thread-count and block independence
# --------------------------------------------------------------------------

def test_thread_test_shape_is_above_the_parallel_threshold():
    """PARALLEL_MIN_MACS is a cdef constant of _layers.pyx (not importable):
    read it from the source so the thread test below stays above it."""
    import pathlib
    source = pathlib.Path(__file__).resolve().parents[1] / "src" / "_layers.pyx"
    if not source.exists():
        pytest.skip("source tree not available")
    text = source.read_text()
    assert "PARALLEL_MIN_MACS = 1 << 24" in text
    assert math.prod(THREAD_SHAPE) >= 1 << 24


THREAD_SHAPE = (1100, 130, 129)  # 18.4e6 multiply-adds >= 2**24; 2 tiles of 552 and 548 rows


@pytest.mark.threads
@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_one_and_two_threads_give_the_same_bits(act, dtype, threads):
    if not initcore.openmp_enabled():
        pytest.skip("built without OpenMP: one thread only")
    rng = np.random.default_rng(17)
    x, w, b = layer_data(rng, *THREAD_SHAPE, dtype)
    dA = rng.normal(size=(THREAD_SHAPE[0], THREAD_SHAPE[2])).astype(dtype)
    results = []
    for n in (1, 2):
        threads(n)
        assert initcore.get_num_threads() == n
        fwd = run_forward(x, w, b, act, 0.0, sat=SAT)
        back = run_backward(x, w, fwd["z"], dA, act, 0.0)
        results.append((fwd, back))
    (f1, b1), (f2, b2) = results
    for key in ("z", "a", "moments", "units", "hash", "hist"):
        assert same_bits(f1[key], f2[key]), f"forward {key} differs between 1 and 2 threads"
    for key in ("grad", "dx", "dw", "db", "moments", "hist", "sums"):
        assert same_bits(b1[key], b2[key]), f"backward {key} differs between 1 and 2 threads"


def cpu_sets():
    """{thread id: the CPUs it may run on}, from Linux's /proc."""
    sets = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/status") as status:
            sets[int(tid)] = status.read().split("Cpus_allowed_list:")[1].split()[0]
    return sets


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads the threads' CPU sets from Linux's /proc")
def test_kernels_give_their_threads_their_cpu_sets_back(threads):
    """A team that fills the process's CPUs is held one thread per CPU for
    the region (parallel.h); afterwards every thread of the process, the
    caller and the OpenMP workers, has the CPU set it had before. Threads
    started by the call inherit the caller's set."""
    if not initcore.openmp_enabled():
        pytest.skip("built without OpenMP: one thread only")
    import threading

    # THREAD_SHAPE has 2 tiles: 2 threads fill 2 CPUs and are held
    threads(min(len(os.sched_getaffinity(0)), 2))
    rng = np.random.default_rng(23)
    x, w, b = layer_data(rng, *THREAD_SHAPE, np.float32)
    dA = rng.normal(size=(THREAD_SHAPE[0], THREAD_SHAPE[2])).astype(np.float32)
    before = cpu_sets()
    caller = before[threading.get_native_id()]
    fwd = run_forward(x, w, b, "tanh", 0.0, sat=SAT)
    run_backward(x, w, fwd["z"], dA, "tanh", 0.0)
    after = cpu_sets()
    changed = {tid: (before.get(tid, caller), cpus) for tid, cpus in after.items() if cpus != before.get(tid, caller)}
    assert not changed, f"threads whose CPU set the kernels changed (before, after): {changed}"


@pytest.mark.parametrize("offset", [1.0, 1e4])
@pytest.mark.parametrize("batch", [1, 15, 16, 17, 255, 1000, 1025])
@pytest.mark.parametrize("n_out", [1, 5, 16, 33, 1100])
def test_moments_exact_for_any_block_split(batch, n_out, offset):
    """Rows are split into blocks that depend on (batch, n_out) (1 to 8
    blocks here); whatever the split, the merged moments equal a two-pass
    float64 reference.  The data have std ~1e-2 around `offset`: for
    offset 1 (kappa = |mean| / std ~ 100) to STAT_RTOL + 64 kappa eps =
    2.4e-12 relative; for offset 1e4 (kappa ~ 1e6) to 1.4e-8, where a
    one-pass sum of squares would keep no digit at all (its cancellation
    error is kappa^2 eps ~ 2e-4 relative)."""
    rng = np.random.default_rng([batch, n_out, int(offset)])
    x = 1.0 + 1e-6 * rng.normal(size=(batch, 1))
    w = np.full((1, n_out), offset)
    b = 1e-2 * rng.normal(size=n_out)
    got = run_forward(x, w, b, "linear", 0.0)
    a = got["a"]
    assert_moments(got["moments"][NF:], ref_moments(a), "a", float(np.max(np.abs(a))))
    assert_units(got["units"], a, "units")


# --------------------------------------------------------------------------
# 5b. the layer below's input made in the backward call; histogram ranges
#     found from the moments
# --------------------------------------------------------------------------

def ref_range(v, sigmas=4.0):
    """simulate's range for an unbounded quantity, from float64 moments made
    by NumPy: mean +- sigmas std within [min, max], never empty."""
    v = np.asarray(v, np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    mean, std = v.mean(), v.std()
    lo, hi = max(mean - sigmas * std, v.min()), min(mean + sigmas * std, v.max())
    if not hi > lo:
        half = max(abs(mean) * 1e-6, 1e-30)
        lo, hi = mean - half, mean + half
    return lo, hi


def assert_auto_hist(hist, hist_range, v, nbins, what):
    """The range is the one from NumPy's moments (to rounding: the kernel's
    are merged blocks), and the counts are numpy.histogram's over the range
    the kernel reports, exactly."""
    lo, hi = ref_range(v)
    width = hi - lo
    np.testing.assert_allclose(hist_range, [lo, hi], rtol=0, atol=1e-12 * max(width, abs(lo), abs(hi)),
                               err_msg=f"{what}: histogram range")
    np.testing.assert_array_equal(hist, ref_hist(v, *hist_range, nbins), err_msg=f"{what}: histogram")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", NAMES)
def test_backward_makes_the_input_of_the_layer_below(act, dtype):
    """With z_below, the kernel writes x = phi(z_below), bit for bit as the
    element-wise kernel makes it, turns z_below into phi'(z_below), bit for
    bit too; the layer's outputs are those of a call given x; and the layer
    below's call on the phi' it left (z_is_dphi) gives the bits of a call
    on z (bit for bit up to which NaN a NaN is: see same_values). tanh and
    sigmoid take phi and phi' from one exponential here, so this checks that
    shared path against the separate ones."""
    rng = np.random.default_rng([7, NAMES.index(act), dtype == np.float32])
    batch, n0, n1, n2 = 300, 40, 70, 50  # two layers, the lower one n0 -> n1
    param = ACTIVATIONS[act].default
    x0, w1, b1 = layer_data(rng, batch, n0, n1, dtype, duplicates=False)
    z1 = forward_z(x0, w1, b1, act, param)
    z1[0, :3] = [np.nan, np.inf, -np.inf]  # non-finite values take the same path
    _, w2, b2 = layer_data(rng, batch, n1, n2, dtype, duplicates=False)
    a1 = np.empty_like(z1)
    _layers.activation(ACTIVATIONS[act].id, param, z1.reshape(-1), a1.reshape(-1), False)
    z2 = forward_z(a1, w2, b2, "tanh", 0.0)
    dA2 = rng.normal(size=(batch, n2)).astype(dtype)
    given = run_backward(a1, w2, z2, dA2, "tanh", 0.0)

    x_made, z1_left = np.full_like(z1, np.nan), z1.copy()
    fused = run_backward(x_made, w2, z2, dA2, "tanh", 0.0,
                         below={"z_below": z1_left, "act_below": ACTIVATIONS[act].id, "param_below": param})
    assert same_values(x_made, a1), "x = phi(z_below)"
    dphi1 = np.empty_like(z1)
    _layers.activation(ACTIVATIONS[act].id, param, z1.reshape(-1), dphi1.reshape(-1), True)
    assert same_values(z1_left, dphi1), "z_below = phi'(z_below)"
    for key in ("grad", "dx", "dw", "db", "moments", "hist", "sums"):
        assert same_values(fused[key], given[key]), f"{key} differs from the call given x"

    on_z = run_backward(x0, w1, z1, given["dx"], act, param)
    on_dphi = run_backward(x0, w1, z1_left, given["dx"], act, param, below={"z_is_dphi": True})
    for key in ("grad", "dx", "dw", "db", "moments", "hist", "sums"):
        assert same_values(on_dphi[key], on_z[key]), f"{key}: phi' handed down differs from phi'(z)"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", ["relu", "linear", "gelu", "tanh"])
def test_histogram_range_from_the_moments(act, dtype):
    """hist_sigmas: forward bins a, backward bins dZ, over mean +- 4 std
    within [min, max] of the values, found from the kernel's own moments."""
    rng = np.random.default_rng([11, NAMES.index(act), dtype == np.float32])
    batch, n_in, n_out, nbins = 517, 60, 90, 23
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype)
    x[3, 5] = np.nan  # NaN values are left out of the moments and the histogram
    param = ACTIVATIONS[act].default
    out = {"z": np.empty((batch, n_out), dtype), "a": np.empty((batch, n_out), dtype),
           "moments": np.zeros(2 * NF), "hist": np.zeros(nbins + 2, np.int64), "range": np.zeros(2)}
    _layers.forward(x, w, b, out["z"], out["a"], ACTIVATIONS[act].id, param,
                    _layers.Stats(out["moments"], hist=out["hist"], hist_sigmas=4.0, hist_range=out["range"]))
    assert_auto_hist(out["hist"], out["range"], out["a"], nbins, f"forward {act}")
    assert_moments(out["moments"][NF:], ref_moments(out["a"]), "a", float(np.nanmax(np.abs(out["a"]))))

    dA = (rng.normal(size=(batch, n_out)) * 1e-3).astype(dtype)
    back = run_backward(x, w, out["z"], dA, act, param, hist=(0.0, 0.0, nbins), sigmas=4.0)
    assert_auto_hist(back["hist"], back["range"], back["grad"], nbins, f"backward {act}")
    assert_moments(back["moments"], ref_moments(back["grad"]), "dZ", float(np.nanmax(np.abs(back["grad"]))))


@pytest.mark.parametrize("values, expected", [
    (np.full((40, 3), np.nan), (-1.0, 1.0)),                 # no finite value
    (np.full((40, 3), 2.5), (2.5 - 2.5e-6, 2.5 + 2.5e-6)),  # one value: a range around it
    (np.zeros((40, 3)), (-1e-30, 1e-30)),
], ids=["all NaN", "constant", "zeros"])
def test_histogram_range_from_the_moments_is_never_empty(values, expected):
    """The backward kernel with linear phi: dZ = dA, binned over the range
    found from its moments."""
    batch, n_out = values.shape
    x, w = np.ones((batch, 2)), np.ones((2, n_out))
    got = run_backward(x, w, np.zeros((batch, n_out)), values, "linear", 0.0, hist=(0.0, 0.0, 8), sigmas=4.0)
    np.testing.assert_allclose(got["range"], expected, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(got["hist"], ref_hist(values, *got["range"], 8))


@pytest.mark.threads
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_fused_paths_give_the_same_bits_on_one_and_two_threads(dtype, threads):
    """The second histogram pass and the layer below's input run on the
    kernel's threads: bit-identical for 1 and 2."""
    if not initcore.openmp_enabled():
        pytest.skip("built without OpenMP: one thread only")
    rng = np.random.default_rng(23)
    batch, n_in, n_out = THREAD_SHAPE
    x, w, b = layer_data(rng, batch, n_in, n_out, dtype)
    z_below = rng.normal(size=(batch, n_in)).astype(dtype)
    dA = rng.normal(size=(batch, n_out)).astype(dtype)
    results = []
    for n in (1, 2):
        threads(n)
        fwd = {"a": np.empty((batch, n_out), dtype), "moments": np.zeros(2 * NF),
               "hist": np.zeros(33, np.int64), "range": np.zeros(2)}
        _layers.forward(x, w, b, None, fwd["a"], ACTIVATIONS["relu"].id, 0.0,
                        _layers.Stats(fwd["moments"], hist=fwd["hist"], hist_sigmas=4.0, hist_range=fwd["range"]))
        made, left = np.empty((batch, n_in), dtype), z_below.copy()
        back = run_backward(made, w, fwd["a"], dA, "tanh", 0.0, hist=(0.0, 0.0, 31), sigmas=4.0,
                            below={"z_below": left, "act_below": ACTIVATIONS["sigmoid"].id})
        results.append((fwd, back, made, left))
    (f1, b1, m1, l1), (f2, b2, m2, l2) = results
    for key in f1:
        assert same_bits(f1[key], f2[key]), f"forward {key} differs between 1 and 2 threads"
    for key in ("grad", "dx", "dw", "db", "moments", "hist", "range", "sums"):
        assert same_bits(b1[key], b2[key]), f"backward {key} differs between 1 and 2 threads"
    assert same_bits(m1, m2) and same_bits(l1, l2), "the layer below's x and phi' differ between 1 and 2 threads"


# --------------------------------------------------------------------------
# 6. errors
# --------------------------------------------------------------------------

STATS_KEYS = {"moments", "units", "unit_hash", "unit_summary", "hist", "hist_lo", "hist_hi", "hist_sigmas",
              "hist_range", "sat_lo", "sat_hi", "sums"}


def _call(kernel, args):
    """kernel(**args), the statistics' entries of args going into a Stats."""
    stats = {k: v for k, v in args.items() if k in STATS_KEYS}
    rest = {k: v for k, v in args.items() if k not in STATS_KEYS}
    return kernel(**rest, stats=_layers.Stats(**stats) if stats else None)


def _fwd_args(**change):
    args = {"x": np.ones((3, 4)), "w": np.ones((4, 5)), "b": None, "z": None, "a": np.empty((3, 5)),
            "act_id": 0, "param": 0.0}
    args.update(change)
    return args


@pytest.mark.parametrize("change, needle", [
    ({"w": np.ones((5, 4))}, "w must be (n_in, n_out)"),
    ({"x": np.ones((3, 0)), "w": np.ones((0, 5))}, "w must be (n_in, n_out)"),
    ({"a": np.empty((3, 4))}, "a must be (batch, n_out)"),
    ({"a": np.empty((2, 5))}, "a must be (batch, n_out)"),
    ({"b": np.ones(4)}, "b must have n_out values"),
    ({"z": np.empty((2, 5))}, "z must be (batch, n_out)"),
    ({"act_id": 14}, "unknown activation id 14"),
    ({"act_id": -1}, "unknown activation id -1"),
    ({"moments": np.zeros(9)}, "moments has the wrong length: 9 values, expected 18"),
    ({"moments": np.zeros(18), "units": np.zeros(5)}, "units must hold 2 * n_out = 10 values, got 5"),
    ({"moments": np.zeros(18), "unit_hash": np.zeros(4, np.uint64)}, "unit_hash must hold n_out = 5 values, got 4"),
    ({"moments": np.zeros(18), "unit_summary": np.zeros(2)}, "unit_summary must hold 3 values, got 2"),
    ({"moments": np.zeros(18), "hist": np.zeros(2, np.int64)}, "hist needs nbins + 2 >= 3 slots"),
    ({"moments": np.zeros(18), "hist": np.zeros(5, np.int64), "hist_lo": 1.0, "hist_hi": 1.0},
     "hi > lo"),
    ({"moments": np.zeros(18), "hist": np.zeros(5, np.int64), "hist_lo": 0.0, "hist_hi": np.nan},
     "hi > lo"),
    ({"moments": np.zeros(18), "sums": np.zeros(4)}, "sums is a backward statistic"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_forward_shape_errors(change, needle, assert_raises):
    args = _fwd_args(**change)
    assert_raises(ValueError, lambda: _call(_layers.forward, args), "layer kernel", needle)


def test_forward_type_errors(assert_raises):
    assert_raises(ValueError, lambda: _layers.forward(**_fwd_args(x=np.ones((3, 4), np.float32))),
                  "dtype mismatch")
    assert_raises(ValueError, lambda: _layers.forward(**_fwd_args(x=np.ones((4, 3)).T)), "C-contiguous")
    # a zero-row batch is a no-op, not an error
    _layers.forward(np.ones((0, 4)), np.ones((4, 5)), None, None, np.empty((0, 5)), 0, 0.0)


def _back_args(**change):
    args = {"x": np.ones((3, 4)), "w": np.ones((4, 5)), "z": np.ones((3, 5)), "grad": np.ones((3, 5)),
            "dx": None, "dw": np.empty((4, 5)), "db": None, "act_id": 0, "param": 0.0}
    args.update(change)
    return args


@pytest.mark.parametrize("change, needle", [
    ({"dx": np.empty((3, 5))}, "dx must be (batch, n_in)"),
    ({"dw": np.empty((5, 4))}, "dw must be (n_in, n_out)"),
    ({"db": np.empty(4)}, "db must have n_out values"),
    ({"z": np.ones((2, 5))}, "z and grad must be (batch, n_out)"),
    ({"grad": np.ones((3, 4))}, "z and grad must be (batch, n_out)"),
    ({"w": np.ones((5, 5))}, "w must be (n_in, n_out)"),
    ({"x": np.ones((0, 4)), "z": np.ones((0, 5)), "grad": np.ones((0, 5))}, "1 <= batch"),
    ({"moments": np.zeros(9), "sums": np.zeros(3)}, "sums must hold 4 values, got 3"),
    ({"moments": np.zeros(18)}, "moments has the wrong length: 18 values, expected 9"),
    ({"act_id": 99}, "unknown activation id 99"),
    ({"moments": np.zeros(9), "hist": np.zeros(5, np.int64), "hist_sigmas": 4.0}, "needs hist_range: 2 values, got None"),
    ({"moments": np.zeros(9), "hist": np.zeros(5, np.int64), "hist_sigmas": -1.0, "hist_range": np.zeros(2)},
     "hist_sigmas must be finite and > 0, got -1.0"),
    ({"moments": np.zeros(9), "hist": np.zeros(5, np.int64), "hist_sigmas": np.inf, "hist_range": np.zeros(2)},
     "hist_sigmas must be finite and > 0, got inf"),
    ({"moments": np.zeros(9), "hist": np.zeros(5, np.int64), "hist_sigmas": 4.0, "hist_range": np.zeros(3)},
     "needs hist_range: 2 values, got 3"),
    ({"z_below": np.ones((3, 5)), "act_below": 0}, "z_below must be (batch, n_in) = (3, 4), got (3, 5)"),
    ({"z_below": np.ones((3, 4)), "act_below": 14}, "unknown activation id 14"),
    ({"moments": np.zeros(9), "units": np.zeros(10)}, "units, unit_hash and unit_summary are forward statistics"),
    ({"moments": np.zeros(9), "sat_lo": -1.0}, "sat_lo and sat_hi are forward statistics, got [-1.0, inf]"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_backward_shape_errors(change, needle, assert_raises):
    args = _back_args(**change)
    assert_raises(ValueError, lambda: _call(_layers.backward, args), "layer kernel", needle)


def test_backward_input_of_the_layer_below_must_be_writable(assert_raises):
    x = np.ones((3, 4))
    x.flags.writeable = False
    assert_raises(ValueError, lambda: _layers.backward(**_back_args(x=x, z_below=np.ones((3, 4)), act_below=0)),
                  "read-only")


def _exit_status_of(call):
    """Runs call() in a forked child (a crash must not take the test run
    down; a fresh interpreter would be slow with an editable install).
    Returns ("raised", message), ("returned", None) or ("crashed", signal)."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork of a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        faulthandler.disable()  # pytest's traceback dump would only add noise
        try:
            call()
            message, code = b"", 1
        except ValueError as exc:
            message, code = str(exc).encode(), 0
        except BaseException as exc:
            message, code = repr(exc).encode(), 2
        os.write(write, message)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "crashed", os.WTERMSIG(status)
    return {0: "raised", 1: "returned", 2: "other error"}[os.WEXITSTATUS(status)], message


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("case", ["lo=-inf", "hi=inf with inf values", "forward hist_lo=-inf"])
def test_infinite_histogram_range_is_an_error_not_a_crash(case):
    """The call must raise ValueError (as numpy.histogram does for a
    non-finite range), not crash the interpreter."""
    calls = {
        "lo=-inf": lambda: _layers.histogram(np.ones(3), -np.inf, 0.0, np.zeros(5, np.int64)),
        "hi=inf with inf values": lambda: _layers.histogram(np.array([0.5, np.inf]), 0.0, np.inf,
                                                            np.zeros(5, np.int64)),
        "forward hist_lo=-inf": lambda: _layers.forward(
            np.ones((2, 2)), np.ones((2, 2)), None, None, np.empty((2, 2)), 0, 0.0,
            _layers.Stats(np.zeros(18), hist=np.zeros(5, np.int64), hist_lo=-np.inf, hist_hi=1.0)),
    }
    outcome, detail = _exit_status_of(calls[case])
    assert outcome == "raised", f"{case}: {outcome} ({detail})"


def test_exit_status_helper_sees_crashes_and_errors():
    """The helper above can tell the three outcomes apart (so the test using it can fail)."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    assert _exit_status_of(lambda: _layers.histogram(np.ones(3), 1.0, 0.0, np.zeros(5, np.int64)))[0] == "raised"
    assert _exit_status_of(lambda: None)[0] == "returned"
    assert _exit_status_of(lambda: os.kill(os.getpid(), signal.SIGSEGV)) == ("crashed", signal.SIGSEGV)


# --------------------------------------------------------------------------
# 7. the standalone histogram
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("n", [1, 100, 65536, 200_003])
def test_histogram_matches_numpy(dtype, n):
    """n > 65536 spans several work items (HIST_CHUNK); NaN are left out,
    -inf counts below and +inf above.  The range and the values are cast to
    float64 as the kernel does, so numpy bins the same numbers."""
    rng = np.random.default_rng(n)
    v = (1.5 * rng.normal(size=n)).astype(dtype)
    special_values = np.array([np.nan, np.inf, -np.inf, np.nan], dtype)
    v[: min(n, 4)] = special_values[: min(n, 4)]
    for lo, hi, nbins in [(-2.0, 3.0, 1), (-2.0, 3.0, 64), (-0.3, 0.7, 1000)]:
        hist = np.zeros(nbins + 2, np.int64)
        _layers.histogram(v, lo, hi, hist)
        np.testing.assert_array_equal(hist, ref_hist(v, lo, hi, nbins), err_msg=f"{lo}, {hi}, {nbins}")
        _layers.histogram(v, lo, hi, hist)  # it adds
        np.testing.assert_array_equal(hist, 2 * ref_hist(v, lo, hi, nbins))
        assert hist.sum() == 2 * np.sum(~np.isnan(v))


def test_histogram_of_empty_input_adds_nothing():
    hist = np.arange(5, dtype=np.int64)
    _layers.histogram(np.empty(0), 0.0, 1.0, hist)
    np.testing.assert_array_equal(hist, np.arange(5))


def test_histogram_range_ends_and_powers_of_two():
    """Values at lo and hi: lo in the first bin, hi in the last (numpy's
    right-closed last bin); edges that are exact binary fractions."""
    for lo, hi, nbins in [(-1.0, 1.0, 64), (0.0, 1.0, 10), (-4.0, 4.0, 3)]:
        v = np.array([lo, hi, np.nextafter(lo, -np.inf), np.nextafter(lo, np.inf), np.nextafter(hi, -np.inf),
                      -1e300, 1e300])
        hist = np.zeros(nbins + 2, np.int64)
        _layers.histogram(v, lo, hi, hist)
        np.testing.assert_array_equal(hist, ref_hist(v, lo, hi, nbins), err_msg=f"{lo}, {hi}, {nbins}")


@pytest.mark.parametrize("lo, hi, nbins, v", [
    (-1.0, 0.7, 3, None), (0.0, 0.3, 7, None), (0.1, 0.7, 3, None), (-2.5, 1.9, 64, None),
    (-1.0, 1.0, 64, [np.nextafter(1.0, 2.0)]),   # just above hi: (v - lo) rounds to hi - lo
])
def test_histogram_values_on_edges_match_numpy(lo, hi, nbins, v):
    """Every edge of np.linspace(lo, hi, nbins + 1) as a value: numpy puts
    edge k in bin k (the last edge in the last bin); a value just above hi
    is above the range."""
    v = np.linspace(lo, hi, nbins + 1) if v is None else np.array(v)
    hist = np.zeros(nbins + 2, np.int64)
    _layers.histogram(v, lo, hi, hist)
    np.testing.assert_array_equal(hist, ref_hist(v, lo, hi, nbins))


@pytest.mark.parametrize("lo, hi, nbins", [
    (-1.0, 1.0, 64), (0.0, 1.0, 10), (0.1, 0.7, 3), (-2.5, 1.9, 64), (-0.3, 0.7, 1000),
    (1e-3, 2e-3, 5), (-7.1, 3.3, 100_000),
    (1000.0, 1000.001, 64),  # float32 cannot resolve these bins: the float64 path
    # dyadic: bins per unit a power of two >= 1 and lo on a bin of the grid,
    # binned by floor(x norm) - lo norm with no edge check; and two just not
    (0.0, 1.0, 64), (-4.0, 4.0, 8), (-0.5, 0.25, 3), (-3.0, 5.0, 2048), (0.0, 256.0, 64), (-1.0, 2.0, 64),
])
def test_float32_histogram_near_edges_matches_numpy(lo, hi, nbins):
    """float32 values are binned in float32 arithmetic away from the edges
    and in float64 near them: every edge's float32 rounding and its two
    float32 neighbours, values 1-4 float32 ulps off, lo and hi themselves,
    and uniform values, against numpy.histogram of their float64 values."""
    edges = np.linspace(lo, hi, nbins + 1)
    if nbins > 1000:
        edges = edges[np.random.default_rng(0).choice(nbins + 1, 2000, replace=False)]
    at = edges.astype(np.float32)
    near = [at]
    for steps in range(1, 5):
        up = down = at
        for _ in range(steps):
            up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
        near += [up, down]
    uniform = np.random.default_rng(1).uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 100_000)
    v = np.concatenate(near + [np.array([lo, hi], np.float32), uniform.astype(np.float32)])
    hist = np.zeros(nbins + 2, np.int64)
    _layers.histogram(v, lo, hi, hist)
    np.testing.assert_array_equal(hist, ref_hist(v, lo, hi, nbins))


@pytest.mark.parametrize("lo, hi, nbins", [(-1.0, 1.0, 64), (0.0, 1.0, 64), (-0.5, 0.25, 3)])
def test_float32_dyadic_histogram_extremes(lo, hi, nbins):
    """The dyadic path on signed zeros, subnormals, the largest floats,
    infinities and NaN (left out), against numpy.histogram."""
    f32 = np.finfo(np.float32)
    tiny = np.float32(f32.smallest_subnormal)
    v = np.array([0.0, -0.0, tiny, -tiny, 3 * tiny, -3 * tiny, f32.tiny, -f32.tiny, f32.max, -f32.max,
                  np.inf, -np.inf, np.nan, lo, hi, np.nextafter(np.float32(hi), np.float32(0))], np.float32)
    hist = np.zeros(nbins + 2, np.int64)
    _layers.histogram(v, lo, hi, hist)
    np.testing.assert_array_equal(hist, ref_hist(v, lo, hi, nbins))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_histogram_errors(dtype, assert_raises):
    v = np.ones(3, dtype)
    assert_raises(ValueError, lambda: _layers.histogram(v, 0.0, 1.0, np.zeros(2, np.int64)), "hist needs nbins + 2 >= 3 slots")
    assert_raises(ValueError, lambda: _layers.histogram(v, 1.0, 0.0, np.zeros(5, np.int64)), "hi > lo")
    assert_raises(ValueError, lambda: _layers.histogram(v, 0.0, np.nan, np.zeros(5, np.int64)), "hi > lo")
    assert_raises(ValueError, lambda: _layers.histogram(v, 0.0, 1.0, np.zeros(5, np.int32)), "dtype mismatch")
