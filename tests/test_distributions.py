"""Distribution tests for the three sampling kernels: uniform, normal, trunc_normal.

Every KS test is two-sided (scipy.stats.kstest) and passes at p > 1e-4; the
sample size is stated per test. Shapes and parameters are drawn from a NumPy
Generator seeded by the test id, so runs are reproducible.
"""
import math

import numpy as np
import pytest
from scipy import stats

import initcore
from initcore.fills import _random

DTYPES = [np.float32, np.float64]
INF = math.inf


# ----------------------------------------------------------------------------
# uniform


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(4))
def test_uniform_ks_random_shapes_and_bounds(case, dtype, rng, random_shape, assert_ks):
    """Random shape (1-4 dims, 3e4..2e5 elements) and bounds low ~ U(-5, 5),
    width log-uniform in [1e-3, 10]; KS against scipy.stats.uniform."""
    shape = random_shape(rng, int(rng.integers(1, 5)))
    low = float(rng.uniform(-5, 5))
    high = low + float(math.exp(rng.uniform(math.log(1e-3), math.log(10))))
    x = initcore.uniform(shape, low, high, seed=int(rng.integers(2**32)), dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    x64 = x.astype(np.float64)
    # float32 cannot hold low exactly; the nearest float32 is the smallest legal value
    assert x64.min() >= float(dtype(low))
    assert x64.max() < high, "uniform returned a value >= high"
    assert_ks(x64, stats.uniform(low, high - low).cdf, f"uniform({low}, {high}) {dtype.__name__} {shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_never_returns_high(dtype):
    """On an interval only a few ulps wide, low + span * u rounds up to high
    for about 1/16 of the draws unless the kernel prevents it (1e6 draws)."""
    low = 1.0
    ulp = float(np.spacing(dtype(1.0)))
    high = low + 8 * ulp
    x = initcore.uniform(10**6, low, high, seed=5, dtype=dtype)
    assert float(x.max()) < high
    assert not np.any(x == dtype(high))
    assert float(x.min()) >= low
    # all 8 representable values below high appear (a gross distribution check)
    assert np.unique(x).size == 8


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_unit_interval_quantiles(dtype, assert_ks):
    """Default U[0, 1) with 10^6 draws: KS, and mean/variance within 6 standard errors
    of 1/2 and 1/12."""
    n = 10**6
    x = initcore.uniform(n, seed=11, dtype=dtype).astype(np.float64)
    assert_ks(x, stats.uniform().cdf, f"uniform [0,1) {dtype.__name__}")
    assert abs(x.mean() - 0.5) < 6 * math.sqrt(1 / 12 / n)
    # Var of (U - 1/2)^2 is 1/180
    assert abs(x.var() - 1 / 12) < 6 * math.sqrt(1 / 180 / n)


# ----------------------------------------------------------------------------
# normal


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(4))
def test_normal_ks_random_shapes_and_params(case, dtype, rng, random_shape, assert_ks):
    """Random shape (1-4 dims, 3e4..2e5 elements), mean ~ U(-3, 3),
    std log-uniform in [1e-3, 10]; KS against scipy.stats.norm."""
    shape = random_shape(rng, int(rng.integers(1, 5)))
    mean = float(rng.uniform(-3, 3))
    std = float(math.exp(rng.uniform(math.log(1e-3), math.log(10))))
    x = initcore.normal(shape, mean, std, seed=int(rng.integers(2**32)), dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    assert_ks(x, stats.norm(mean, std).cdf, f"normal({mean}, {std}) {dtype.__name__} {shape}")


def test_normal_std_zero_is_constant_mean():
    x = initcore.normal((5, 7), 1.25, 0.0, seed=0, dtype=np.float64)
    assert np.all(x == 1.25)


# Tail frequencies. P(|Z| > t) = 2 * norm.sf(t); counts are tested with an
# exact binomial test, p > 1e-4. A Box-Muller radius built from a 24-bit
# uniform would stop at sqrt(2 * 24 * ln 2) = 5.77 sigma; initcore's radius
# uses 32 bits (float32: max sqrt(2 * 33 ln 2) = 6.76 sigma) or 53 bits
# (float64: 8.6 sigma). |z| > 6 has probability 2e-9, so at 10^8 draws (about
# 0.2 expected) it cannot be observed directly; instead the counts beyond 4,
# 5 and 5.5 sigma are tested, where a truncated or badly rounded radius would
# show.
TAIL_THRESHOLDS = (4.0, 5.0, 5.5)


def _tail_counts(dtype, total, chunk, seed):
    gen = initcore.Generator(seed)
    counts = np.zeros(len(TAIL_THRESHOLDS), dtype=np.int64)
    done = 0
    while done < total:
        n = min(chunk, total - done)
        z = np.abs(gen.normal(n, dtype=dtype))
        for i, t in enumerate(TAIL_THRESHOLDS):
            counts[i] += np.count_nonzero(z > t)
        done += n
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("dtype, total", [(np.float32, 10**8), (np.float64, 5 * 10**7)],
                         ids=["float32-1e8", "float64-5e7"])
def test_normal_tail_frequencies(dtype, total, assert_binom):
    """10^8 float32 (5 * 10^7 float64) standard normals: the counts with
    |z| > 4, 5 and 5.5 each pass a two-sided binomial test (p > 1e-4) against
    2 * norm.sf(t). Expected counts at 10^8: 6334, 57.3 and 3.8."""
    counts = _tail_counts(dtype, total, 10**7, seed=2024)
    for t, count in zip(TAIL_THRESHOLDS, counts):
        assert_binom(count, total, 2 * stats.norm.sf(t), f"{dtype.__name__} P(|z| > {t})")


# ----------------------------------------------------------------------------
# trunc_normal

# (mean, std, a, b) with the regime they must exercise. Regimes are
# 'normal' (normal proposal), 'uniform0' (uniform proposal, 0 inside),
# 'uniform_tail' (uniform proposal in a tail), 'exp_tail' (exponential proposal).
TRUNC_CASES = [
    ("normal", 0.0, 1.0, -2.0, 2.0),
    ("normal", 0.0, 1.0, -INF, 0.3),          # one-sided infinite
    ("normal", 0.0, 1.0, 0.0, INF),           # half normal
    ("normal", 1.5, 0.5, -INF, INF),          # no truncation at all
    ("normal", -0.2, 3.0, -4.0, 7.0),
    ("uniform0", 0.0, 1.0, -0.5, 1.0),
    ("uniform0", 0.0, 1.0, 0.0, 1.0),
    ("uniform0", 2.0, 3.0, 1.0, 5.0),
    ("uniform_tail", 0.0, 1.0, 0.5, 0.5001),  # narrow
    ("uniform_tail", 0.0, 1.0, 5.0, 5.1),
    ("uniform_tail", 0.0, 1.0, -8.001, -8.0),
    ("exp_tail", 0.0, 1.0, 2.0, 3.0),         # far tail
    ("exp_tail", 0.0, 1.0, 5.0, 6.0),
    ("exp_tail", 0.0, 1.0, -6.0, -5.0),
    ("exp_tail", 0.0, 1.0, 1.0, INF),         # one-sided infinite
    ("exp_tail", 0.0, 1.0, -INF, -3.0),
    ("exp_tail", -1.0, 0.25, 0.25, 0.5),      # z in [5, 6] with mean, std != 0, 1
    ("exp_tail", 0.0, 1.0, 30.0, 31.0),
]
TRUNC_IDS = [f"{r}[{m},{s}]({a},{b})" for r, m, s, a, b in TRUNC_CASES]


def test_trunc_cases_cover_all_regimes():
    """The case list exercises each of the four proposals at least once."""
    seen = {_random.trunc_normal_regime(m, s, a, b) for _, m, s, a, b in TRUNC_CASES}
    assert seen == {"normal", "uniform0", "uniform_tail", "exp_tail"}


@pytest.mark.parametrize("regime, mean, std, a, b", TRUNC_CASES, ids=TRUNC_IDS)
def test_trunc_case_uses_intended_regime(regime, mean, std, a, b):
    assert _random.trunc_normal_regime(mean, std, a, b) == regime


def _trunc_dist(mean, std, a, b):
    return stats.truncnorm((a - mean) / std, (b - mean) / std)


def _edge_value(bound, side, dtype):
    """The dtype value closest to `bound` from inside the interval: the
    smallest value >= a (side=+1) or the largest value <= b (side=-1)."""
    value = dtype(bound)
    if side * (float(value) - bound) < 0:
        value = np.nextafter(value, dtype(side * INF))
    return value


def _edge_probability(dist_z, mean, std, bound, side, dtype):
    """Probability that an exact draw, rounded to the nearest dtype value, ends
    on the edge value: the mass between the bound and half a step past the
    edge value, into the interval."""
    edge = _edge_value(bound, side, dtype)
    step = abs(float(np.nextafter(edge, dtype(side * INF))) - float(edge))
    far = float(edge) + side * step / 2
    lo, hi = sorted((bound, far))
    return max(float(dist_z.cdf((hi - mean) / std) - dist_z.cdf((lo - mean) / std)), 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("regime, mean, std, a, b", TRUNC_CASES, ids=TRUNC_IDS)
def test_trunc_normal_regimes(regime, mean, std, a, b, dtype, assert_ks, assert_binom):
    """200001 draws per case and dtype: KS in z-space against
    scipy.stats.truncnorm; every value inside [a, b]; no pile-up on either
    bound (one-sided binomial test, p > 1e-4, against the probability that an
    exact draw rounds onto the bound value)."""
    n = 200_001
    x = initcore.trunc_normal(n, mean, std, a, b, seed=7, dtype=dtype)
    x64 = x.astype(np.float64)
    assert np.all(x64 >= a) and np.all(x64 <= b), (x64.min(), x64.max())
    dist = _trunc_dist(mean, std, a, b)
    assert_ks((x64 - mean) / std, dist.cdf, f"trunc_normal{(mean, std, a, b)} {dtype.__name__}")
    for bound, side in ((a, 1), (b, -1)):
        if math.isinf(bound):
            continue
        edge = float(_edge_value(bound, side, dtype))
        hits = int(np.count_nonzero(x64 == edge))
        p = _edge_probability(dist, mean, std, bound, side, dtype)
        assert_binom(hits, n, max(p, 1e-12), f"pile-up at {bound} ({dtype.__name__})", alternative="greater")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(5))
def test_trunc_normal_random_params(case, dtype, rng, random_shape, assert_ks):
    """Random shape (1-3 dims, 3e4..1.5e5 elements), mean ~ U(-1, 1), std
    log-uniform in [0.1, 3], standardized bounds drawn from U(-4, 4) (one of
    them sometimes infinite); KS in z-space against scipy.stats.truncnorm and
    all values inside [a, b]."""
    shape = random_shape(rng, int(rng.integers(1, 4)), 30_000, 150_000)
    mean = float(rng.uniform(-1, 1))
    std = float(math.exp(rng.uniform(math.log(0.1), math.log(3))))
    za, zb = sorted(rng.uniform(-4, 4, size=2))
    if zb - za < 0.05:
        zb = za + 0.05
    a, b = mean + std * za, mean + std * zb
    if case == 3:
        a = -INF
    if case == 4:
        b = INF
    x = initcore.trunc_normal(shape, mean, std, a, b, seed=int(rng.integers(2**32)), dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    x64 = x.astype(np.float64)
    assert np.all(x64 >= a) and np.all(x64 <= b)
    assert_ks((x64 - mean) / std, _trunc_dist(mean, std, a, b).cdf,
              f"trunc_normal({mean}, {std}, {a}, {b}) {dtype.__name__} {shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_trunc_normal_defaults_are_pytorch_convention(dtype, assert_ks):
    """Default mean 0, std 1, absolute bounds [-2, 2] (PyTorch's trunc_normal_);
    10^5 draws, KS against truncnorm(-2, 2)."""
    x = initcore.trunc_normal(10**5, seed=3, dtype=dtype).astype(np.float64)
    assert x.min() >= -2 and x.max() <= 2
    assert_ks(x, stats.truncnorm(-2, 2).cdf, "trunc_normal defaults")
