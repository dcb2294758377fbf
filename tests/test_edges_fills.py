"""Edge cases of the fills that fuzzing found: the truncated normal's
theoretical moments over the whole range of intervals, parameters whose
draws overflow the working dtype, arguments that were accepted silently,
and errors that did not say what was wrong.

Expected moments come from scipy.stats.truncnorm where it is accurate, from
the closed form evaluated in mpmath with enough digits everywhere else, and
from the asymptotic series of the Mills ratio for one-sided tails too far
out even for that; never from initcore."""
import math
import sys
import tempfile
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
from scipy import stats

import initcore

INF = math.inf
F32_MAX = float(np.finfo(np.float32).max)


def _moments(mean, std, a, b):
    """initcore's (mean, std) of trunc_normal; a warning is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return initcore.expected_moments("trunc_normal", (3,), mean, std, a, b)


def _mp_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) on [a, b] from the closed form
    E[z] = (phi(alpha) - phi(beta)) / Z, E[z^2] = 1 + (alpha phi(alpha) -
    beta phi(beta)) / Z in mpmath. The variance cancels by up to alpha^4
    (far tails) and 1 / width^2 (narrow intervals), and exp(-alpha^2 / 2)
    needs alpha^2 exactly: the working digits grow with both."""
    mean, std, a, b = (mpmath.mpf(x) for x in (mean, std, a, b))
    alpha, beta = (a - mean) / std, (b - mean) / std
    finite = [abs(x) for x in (alpha, beta) if mpmath.isfinite(x)]
    magnitude = max([mpmath.mpf(1)] + finite)
    width = beta - alpha
    digits = 40 + int(6 * mpmath.log10(magnitude)) + (int(2 * mpmath.log10(1 / width)) if width < 1 else 0)
    with mpmath.workdps(digits):
        alpha, beta = (a - mean) / std, (b - mean) / std

        def phi(x, power):
            return mpmath.mpf(0) if mpmath.isinf(x) else x**power * mpmath.npdf(x)

        root2 = mpmath.sqrt(2)
        if alpha > 0:  # both in the right tail: difference of erfc, no underflow
            mass = (mpmath.erfc(alpha / root2) - mpmath.erfc(beta / root2)) / 2
        elif beta < 0:
            mass = (mpmath.erfc(-beta / root2) - mpmath.erfc(-alpha / root2)) / 2
        else:
            mass = (mpmath.erf(beta / root2) - mpmath.erf(alpha / root2)) / 2
        m1 = (phi(alpha, 0) - phi(beta, 0)) / mass
        m2 = 1 + (phi(alpha, 1) - phi(beta, 1)) / mass
        return float(mean + std * m1), float(std * mpmath.sqrt(m2 - m1 * m1))


def _assert_moments(got, expected, rel):
    """Mean within rel of max(|mean|, std) (rounding of a mean far from 0 is
    relative to the mean), std within rel of itself."""
    (got_mean, got_std), (mean, std) = got, expected
    assert abs(got_mean - mean) <= rel * max(abs(mean), std), (got, expected)
    assert abs(got_std - std) <= rel * std, (got, expected)


# ----------------------------------------------------------------------------
# 1. expected_moments("trunc_normal"): stable over the whole range

REPORTED = [
    (0.0, 0.005, -2.0, 2.0),     # was (0, 0): quadrature missed the peak
    (0.0, 1e-3, -1.0, 1.0),
    (0.0, 1.0, -1e3, 1e3),
    (0.0, 1.0, 1e5, INF),        # std was 1.41e-5
    (5.0, 0.001, -3.0, 3.0),     # these three raised ZeroDivisionError
    (0.0, 1e-300, -1.0, 1.0),
    (0.0, 1.0, 1e10, 1e10 + 1),
]


@pytest.mark.parametrize("mean, std, a, b", REPORTED)
def test_trunc_moments_reported_cases(mean, std, a, b):
    """The cases of the report, against mpmath to 1e-12 relative."""
    _assert_moments(_moments(mean, std, a, b), _mp_moments(mean, std, a, b), 1e-12)


def test_trunc_moments_reported_values():
    """The values the report expects, by hand: a std of 0.005 (bounds 400
    stds out), 1e-3 and 1; the tail beyond 1e5 has std 1 / 1e5."""
    assert _moments(0.0, 0.005, -2.0, 2.0) == (0.0, pytest.approx(0.005, rel=1e-14))
    assert _moments(0.0, 1e-3, -1.0, 1.0) == (0.0, pytest.approx(1e-3, rel=1e-14))
    assert _moments(0.0, 1.0, -1e3, 1e3) == (0.0, pytest.approx(1.0, rel=1e-14))
    assert _moments(0.0, 1.0, 1e5, INF)[1] == pytest.approx(1e-5, rel=1e-9)


# standardized lower bounds and widths: narrow to infinite intervals, both
# tails, across the regimes' borders
ALPHAS = [-1e10, -1e5, -50.0, -8.0, -3.0, -2.83, -1.0, -1e-3, 0.0, 1e-3, 0.5, 1.0, 1.99, 2.0, 2.01,
          2.83, 3.0, 5.0, 8.0, 30.0, 1e3, 1e5, 1e10]
WIDTHS = [1e-12, 1e-8, 1e-4, 0.01, 0.1, 1.0, 1.42, 2.0, 2.83, 5.0, 30.0, 1e6, INF]
GRID = [(alpha, alpha + width) for alpha in ALPHAS for width in WIDTHS if alpha < alpha + width]


@pytest.mark.parametrize("alpha, beta", GRID)
def test_trunc_moments_vs_mpmath_standard(alpha, beta):
    """N(0, 1) on [alpha, beta] over 23 lower bounds from -1e10 to 1e10 and
    13 widths from 1e-12 to infinity, against mpmath: 1e-12 relative."""
    _assert_moments(_moments(0.0, 1.0, alpha, beta), _mp_moments(0.0, 1.0, alpha, beta), 1e-12)


@pytest.mark.parametrize("alpha, beta", GRID)
def test_trunc_moments_mirror(alpha, beta):
    """[-beta, -alpha] is the mirror image: the mean flips sign, the std stays
    (to 1e-14 of the std)."""
    mean, std = _moments(0.0, 1.0, alpha, beta)
    _assert_moments(_moments(0.0, 1.0, -beta, -alpha), (-mean, std), 1e-14)


SCALED = [
    (3.0, 0.5, -1e6, 7.0), (-2.0, 3.0, -2.0, 1e3), (1e3, 1e-2, 999.9, 1000.05), (-1e-3, 1e-4, 0.0, INF),
    (1e6, 1.0, -INF, 0.0), (0.25, 1e-8, 0.25 - 1e-9, 0.25 + 3e-9), (7.0, 1e5, -1.0, 1.0),
    (0.0, 2.0, 6.0, 6.0 + 1e-6), (-40.0, 0.1, -39.0, 1e30),
]


@pytest.mark.parametrize("mean, std, a, b", SCALED)
def test_trunc_moments_vs_mpmath_scaled(mean, std, a, b):
    """Bounds are absolute, as in PyTorch: other means and stds, against
    mpmath to 1e-12 relative."""
    _assert_moments(_moments(mean, std, a, b), _mp_moments(mean, std, a, b), 1e-12)


SCIPY_GRID = [(alpha, alpha + width) for alpha in (-8.0, -3.0, -1.0, -0.3, 0.0, 0.7, 2.0, 4.5, 8.0)
              for width in (0.5, 1.0, 3.0, 10.0, INF)]


@pytest.mark.parametrize("alpha, beta", SCIPY_GRID)
def test_trunc_moments_vs_scipy(alpha, beta):
    """Where scipy.stats.truncnorm is accurate (bounds within 8 stds, widths
    of at least half a std; it drifts to ~1e-8 for narrow and far intervals),
    the moments agree with it to 1e-9 relative, with mean 1 and std 2."""
    reference = stats.truncnorm(alpha, beta, loc=1.0, scale=2.0)
    expected = (float(reference.mean()), float(reference.std()))
    _assert_moments(_moments(1.0, 2.0, 1.0 + 2.0 * alpha, 1.0 + 2.0 * beta), expected, 1e-9)


FAR = [1e8, 1e10, 1e50, 1e150, 1e300]


@pytest.mark.parametrize("alpha", FAR)
@pytest.mark.parametrize("factor", [2.0, INF])
def test_trunc_moments_far_one_sided_tails(alpha, factor):
    """Beyond alpha >= 1e8 stds the tail is exponential to double precision:
    the Mills ratio's series gives E[z] = alpha + 1/alpha - 2/alpha^3 and
    Var = 1/alpha^2 - 5/alpha^4 + ..., so mean alpha + 1/alpha and std
    1/alpha to 1e-15 relative (an upper bound at 2 alpha weighs
    exp(-1.5 alpha^2)). Both tails; and std 1e-150 on [1, 2] (alpha = 1e150),
    whose std of 1e-300 must not underflow on the way."""
    for sign in (1.0, -1.0):
        a, b = sorted((sign * alpha, sign * alpha * factor))
        mean, std = _moments(0.0, 1.0, a, b)
        assert mean == pytest.approx(sign * (alpha + 1.0 / alpha), rel=1e-15)
        assert std == pytest.approx(1.0 / alpha, rel=1e-15)
    mean, std = _moments(0.0, 1e-150, 1.0, 2.0)
    assert mean == 1.0 and std == pytest.approx(1e-300, rel=1e-15)


def test_trunc_moments_bounds_beyond_float64():
    """Bounds so far out that (a - mean) / std overflows: the mass sits at the
    bound. Intervals so narrow that their width in stds underflows: the
    density is flat there (it varies by 1e-600), uniform on [a, b] with std
    (b - a) / sqrt(12). No error, no NaN."""
    assert _moments(0.0, 5e-324, 1.0, 2.0) == (1.0, 0.0)
    assert _moments(0.0, 5e-324, -2.0, -1.0) == (-1.0, 0.0)
    assert _moments(0.0, 5e-324, -1.0, 1.0) == (0.0, 5e-324)
    for a, b in ((1e-300, 2e-300), (1e-23, 1e-23 + 1e-30), (-1e-23 - 1e-30, -1e-23), (-3e-300, -1e-300)):
        _assert_moments(_moments(0.0, 1e300, a, b), ((a + b) / 2, (b - a) / math.sqrt(12.0)), 1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mean, std, a, b", [(0.0, 0.005, -2.0, 2.0), (5.0, 0.001, -3.0, 3.0),
                                             (0.0, 1.0, 1e5, INF), (0.0, 1.0, 30.0, 31.0)])
def test_trunc_moments_match_draws(mean, std, a, b, dtype):
    """The theory is that of the sampler: 2e5 draws have a mean within 6
    standard errors of the theoretical mean (plus the dtype's spacing there)
    and a std within 2% of the theoretical std: 6 standard errors of the
    sample variance, sqrt((kurtosis - 1) / n) with kurtosis <= 9 (the
    exponential's), are 3.8%, 1.9% on the std. The std is checked where the
    dtype resolves it (over 100 spacings)."""
    n = 200_000
    theory_mean, theory_std = _moments(mean, std, a, b)
    x = initcore.trunc_normal(n, mean, std, a, b, seed=3, dtype=dtype).astype(np.float64)
    spacing = float(np.spacing(dtype(theory_mean)))  # float32 rounding of the values
    assert abs(x.mean() - theory_mean) < 6 * theory_std / math.sqrt(n) + spacing
    if theory_std > 100 * spacing:
        assert x.std() == pytest.approx(theory_std, rel=0.02)


# ----------------------------------------------------------------------------
# 2. Parameters whose draws would overflow the working dtype are refused

OVERFLOWS = [
    ("xavier_uniform-gain-f32", lambda d: initcore.xavier_uniform((4, 5), gain=1e308, dtype=d), ["gain", "1e+308"]),
    ("xavier_normal-gain", lambda d: initcore.xavier_normal((4, 5), gain=1e308, dtype=d), ["gain", "1e+308"]),
    ("variance_scaling-scale", lambda d: initcore.variance_scaling((4, 5), scale=1e80, dtype=d), ["scale", "1e+80"]),
    ("identity-gain", lambda d: initcore.identity((2, 2), 1e39, dtype=d), ["gain", "1e+39"]),
    ("orthogonal-gain", lambda d: initcore.orthogonal((4, 5), gain=1e39, dtype=d), ["gain", "1e+39"]),
    ("delta_orthogonal-gain", lambda d: initcore.delta_orthogonal((3, 2, 2), gain=1e39, dtype=d), ["gain", "1e+39"]),
    ("normal-std", lambda d: initcore.normal((4, 5), std=3e38, dtype=d), ["std", "3e+38"]),
    ("sparse-std", lambda d: initcore.sparse((4, 5), 0.5, std=3e38, dtype=d), ["std", "3e+38"]),
    ("trunc_normal-std", lambda d: initcore.trunc_normal((4,), 0.0, 1e38, -INF, INF, dtype=d), ["std", "1e+38"]),
    ("trunc_normal-a", lambda d: initcore.trunc_normal((4,), 0.0, 1.0, 1e39, INF, dtype=d), ["a", "1e+39"]),
    ("trunc_normal-b", lambda d: initcore.trunc_normal((4,), 0.0, 1e38, -1.0, 1e39, dtype=d),
     ["std", "1e+38"]),
]


@pytest.mark.parametrize("case", OVERFLOWS, ids=[case[0] for case in OVERFLOWS])
def test_overflowing_parameters_are_refused_float32(case, assert_raises):
    """Each case gave inf or NaN in float32 (xavier_uniform: all NaN); now a
    ValueError that names the parameter, its value and float32."""
    _, call, needles = case
    assert_raises(ValueError, lambda: call(np.float32), *needles, "float32")


def test_overflowing_parameters_are_refused_float64(assert_raises):
    """float64 has its own limit: xavier_uniform's gain of 1.7e308 on (4, 5)
    gives a bound of 1.4e308, finite, but a range of 2.8e308, which is not
    (1e308: 1.6e308, accepted); a normal std of 2.1e307 reaches
    8.65 * 2.1e307 = 1.8e308 (1e307: 8.7e307, accepted)."""
    assert_raises(ValueError, lambda: initcore.xavier_uniform((4, 5), gain=1.7e308, dtype=np.float64),
                  "gain", "1.7e+308", "float64")
    assert_raises(ValueError, lambda: initcore.normal((4, 5), std=2.1e307, dtype=np.float64),
                  "std", "2.1e+307", "float64")
    for x in (initcore.xavier_uniform((4, 5), gain=1e308, seed=0, dtype=np.float64),
              initcore.normal((4, 5), std=1e307, seed=0, dtype=np.float64),
              initcore.identity((2, 2), 1e39, dtype=np.float64),
              initcore.orthogonal((4, 5), gain=1e39, seed=0, dtype=np.float64)):
        assert np.isfinite(x).all()


def test_parameters_just_inside_the_range_give_finite_values():
    """Box-Muller reaches at most sqrt(-2 ln 2^-33) = 6.76 stds in float32
    (8.65 in float64): std = max / 6.77 is accepted and its 1e6 draws are
    finite; so is a gain of 3e38 (|entries| <= gain) and a uniform bound
    just inside half the range (the width must be finite)."""
    x = initcore.normal(1_000_000, std=F32_MAX / 6.77, seed=1, dtype=np.float32)
    assert np.isfinite(x).all()
    assert np.isfinite(initcore.sparse((1000, 1000), 0.5, std=F32_MAX / 6.77, seed=1, dtype=np.float32)).all()
    assert np.isfinite(initcore.identity((3, 3), 3e38, dtype=np.float32)).all()
    assert np.isfinite(initcore.orthogonal((30, 20), 3e38, seed=1, dtype=np.float32)).all()
    bound = F32_MAX / 2.01
    assert np.isfinite(initcore.uniform(10_000, -bound, bound, seed=1, dtype=np.float32)).all()
    gain = bound / math.sqrt(3.0)  # the bound of a (1, 1) weight is sqrt(3) * gain
    assert np.isfinite(initcore.xavier_uniform((1, 1), gain=gain, seed=1, dtype=np.float32)).all()
    assert np.isfinite(initcore.trunc_normal(10_000, 0.0, 1e37, -INF, INF, seed=1, dtype=np.float32)).all()
    assert np.isfinite(initcore.trunc_normal(10_000, 0.0, 1e38, -1e38, 3e38, seed=1, dtype=np.float32)).all()


# ----------------------------------------------------------------------------
# 3. Arguments that were accepted silently

DETERMINISTIC = {
    "zeros": lambda seed: initcore.zeros((2, 2), seed=seed),
    "ones": lambda seed: initcore.ones((2, 2), seed=seed),
    "constant": lambda seed: initcore.constant((2, 2), 0.5, seed=seed),
    "identity": lambda seed: initcore.identity((2, 2), seed=seed),
    "dirac": lambda seed: initcore.dirac((3, 2, 2), seed=seed),
    "delta_orthogonal-empty": lambda seed: initcore.delta_orthogonal((3, 0, 2), seed=seed),
    "xavier_uniform-no-fan": lambda seed: initcore.xavier_uniform((0, 0), seed=seed),
}


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_seed_is_checked_by_deterministic_fills(name, assert_raises):
    """zeros, ones, constant, identity, dirac (and fills that draw nothing)
    check their seed like the random initializers: a negative int is a
    ValueError, a string or float a TypeError, each naming the seed."""
    call = DETERMINISTIC[name]
    assert_raises(ValueError, lambda: call(-1), "seed", "-1")
    assert_raises(TypeError, lambda: call("x"), "seed", "'x'")
    assert_raises(TypeError, lambda: call(1.5), "seed", "1.5")
    for seed in (None, 0, np.random.SeedSequence(4), initcore.Generator(4)):
        call(seed)


BAD_SHAPES = {"bytes": b"\x03\x04", "bytearray": bytearray(b"\x03\x04"), "str": "34", "set": {4, 5},
              "dict": {4: 1, 5: 2}, "frozenset": frozenset({3}), "memoryview": memoryview(b"\x03\x04"),
              "iterator": iter([3, 4]), "2-D array": np.array([[3, 4]]), "0-D array": np.array(3)}


@pytest.mark.parametrize("shape", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_shapes_must_be_an_int_or_a_sequence_of_ints(shape, assert_raises):
    """Bytes gave (3, 4) from their byte values and a set its iteration
    order; a shape is an int or a list, tuple or 1-D array of ints."""
    assert_raises(TypeError, lambda: initcore.zeros(shape), "shape")
    assert_raises(TypeError, lambda: initcore.normal(shape), "shape")


def test_shapes_still_accepted():
    for shape in (3, np.int64(3), [3, 4], (3, 4), np.array([3, 4]), np.array([3, 4], dtype=np.uint8), ()):
        expected = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
        assert initcore.zeros(shape).shape == expected


def test_take_refuses_negative_and_non_integer_counts(assert_raises):
    """take(-5) moved the stream back to -5; take('a') failed inside +=."""
    gen = initcore.Generator(0)
    gen.take(3)
    assert_raises(ValueError, lambda: gen.take(-5), "count", "-5")
    assert_raises(TypeError, lambda: gen.take("a"), "count", "'a'")
    assert_raises(TypeError, lambda: gen.take(1.0), "count", "1.0")
    assert_raises(TypeError, lambda: gen.take(True), "count", "True")
    assert_raises(ValueError, lambda: gen.take(2**64), "count", str(2**64), "2**64")
    assert gen.position == 3
    assert gen.take(np.int64(2))[1] == 3 and gen.position == 5
    assert gen.take(0)[1] == 5 and gen.position == 5


def test_spawn_is_bounded(assert_raises):
    """spawn(10**12) ran on and on building a list; more than 2**20 children
    at once is refused at once, naming n and the limit."""
    gen = initcore.Generator(0)
    assert_raises(ValueError, lambda: gen.spawn(10**12), "n", str(10**12), "2**20")
    assert_raises(ValueError, lambda: gen.spawn(2**20 + 1), "n", str(2**20 + 1))
    assert_raises(ValueError, lambda: gen.spawn(-1), "n", "-1")
    assert_raises(ValueError, lambda: gen.spawn(2.0), "n", "2.0")
    assert len(gen.spawn(4)) == 4


def test_uniform_refuses_bounds_that_collapse_in_float32(assert_raises):
    """1 + 1e-10 and 1 + 2e-10 both round to 1.0 in float32, and the result
    was 1.0, below low: refused, naming low, high and float32. In float64
    the values lie in [low, high)."""
    assert_raises(ValueError, lambda: initcore.uniform((5,), 1 + 1e-10, 1 + 2e-10, dtype=np.float32),
                  "low", "high", "1.0000000001", "float32")
    x = initcore.uniform(1000, 1 + 1e-10, 1 + 2e-10, seed=0, dtype=np.float64)
    assert (x >= 1 + 1e-10).all() and (x < 1 + 2e-10).all()


def test_uniform_values_lie_in_the_bounds_rounded_to_the_dtype():
    """Bounds one float32 step apart give that float32 low, never high."""
    low = 1.0
    high = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    x = initcore.uniform(1000, low, high, seed=0, dtype=np.float32)
    assert (x == np.float32(low)).all()


# ----------------------------------------------------------------------------
# 4. Errors that did not say what was wrong

@pytest.mark.skipif(sys.byteorder != "little", reason="'>f8' is native on big-endian machines")
@pytest.mark.parametrize("dtype", [">f8", ">f4", np.dtype(np.float64).newbyteorder()])
def test_non_native_byte_order_is_named(dtype, assert_raises):
    """'>f8' said 'must be float32 or float64, got float64'; now the message
    says the byte order is the problem."""
    assert_raises(TypeError, lambda: initcore.zeros((2, 2), dtype=dtype), "dtype", "byte order", "big-endian")
    assert_raises(TypeError, lambda: initcore.normal((2, 2), dtype=dtype), "dtype", "byte order")
    assert initcore.zeros((2, 2), dtype="<f8").dtype == np.float64
    assert initcore.zeros((2, 2), dtype="=f4").dtype == np.float32


def test_other_dtypes_still_named(assert_raises):
    assert_raises(TypeError, lambda: initcore.zeros((2, 2), dtype="int8"), "dtype", "int8")


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("name", ["zeros", "normal", "trunc_normal", "orthogonal", "sparse", "identity"])
def test_out_matrix_is_refused_naming_out(name, assert_raises):
    """np.matrix gave Cython's 'No matching signature found'."""
    out = np.matrix(np.zeros((3, 4), dtype=np.float32))
    params = {"sparse": {"sparsity": 0.5}}.get(name, {})
    assert_raises(TypeError, lambda: initcore.initialize(name, (3, 4), out=out, **params), "out", "matrix")


def test_out_memmap_still_filled():
    """A memory-mapped array is a plain buffer: filled in place, returned."""
    with tempfile.TemporaryDirectory() as folder:
        out = np.memmap(Path(folder) / "w.bin", dtype=np.float32, mode="w+", shape=(3, 4))
        assert initcore.normal((3, 4), seed=2, out=out) is out
        assert np.array_equal(np.asarray(out), initcore.normal((3, 4), seed=2))
        del out
