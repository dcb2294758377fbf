"""Tests for the activation registry (initcore.activations).

Every expected value comes from an independent computation: the published
definition of each activation evaluated with NumPy / scipy.special in float64
(tests/reference.py, shared with the layer and simulator tests), PyTorch's
implementation and autograd when installed, a finite difference, or a
documented constant -- never from initcore output,
except in the tests whose subject *is* self-consistency (1 thread == 2
threads, vector == scalar code, float32 special values == the float64 path).

Tolerances.  For float64 input initcore evaluates every activation in double
precision with the C library's libm (glibc); float32 input has its own
float32 kernels, held to 4 float32 ulp (section 3).  The references evaluate
the same definitions with NumPy's / SciPy's own elementary-function
implementations.  Each side is accurate to a few units in the last place
(ulp, eps = 2.2e-16), so where a definition is well conditioned the two agree
to ``RTOL = 1e-14`` (~45 ulp, ample margin for a couple of ulp on each side
and a few roundings in the formula).  The rare places where a definition
amplifies those ulp differences are handled by an explicit, stated extra term
(see ``_phi_tolerance``).
"""
import math

import numpy as np
import pytest
from scipy import special

import initcore
from reference import GELU_TANH_C, SELU_ALPHA, SELU_LAMBDA, ref_dphi, ref_phi
from initcore.activations import (
    ACTIVATIONS,
    ALIASES,
    Activation,
    activation,
    get_activation,
    list_activations,
)

EPS = np.finfo(np.float64).eps
RTOL = 1e-14
# Smallest normal double: below it (gradual underflow) a double carries a fixed
# absolute resolution, not a relative one, so tolerances never go below it.
TINY = np.finfo(np.float64).tiny


NAMES = (
    "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu",
    "softplus", "tanh", "sigmoid", "erf", "hardtanh", "sin",
)
# Activations and the parameter values they are checked with (None = default).
PARAM_CASES = [(name, None) for name in NAMES] + [
    ("leaky_relu", 0.2), ("leaky_relu", 0.0), ("leaky_relu", -0.5),
    ("elu", 0.5), ("elu", 2.0),
]
PARAM_IDS = [name if p is None else f"{name}-{p}" for name, p in PARAM_CASES]


def _phi_tolerance(name, x, ref):
    """Allowed |initcore - reference| per element (see the module docstring).

    * ``RTOL * |ref| + TINY`` everywhere: both sides are libm-quality double
      evaluations of the same definition (a few ulp each); TINY covers results
      that underflow into the subnormal range (gelu(x) for x < -37.5).
    * gelu: SciPy's erfc (Cephes) forms exp(-u*u) from the rounded u*u, so its
      relative error grows like u^2 * eps with u = |x|/sqrt 2 (glibc splits u*u
      exactly); allowed: ``4 * u^2 * eps * |ref|`` (1.6e-13 relative at x=-30).
    * gelu_tanh: for x << 0, 1 + tanh(u) cancels; it is formed from tanh(u)
      near -1, whose absolute error is <= 1 ulp of 1 = eps on each side, so
      the results may differ by ``~eps * |x|`` absolutely (relative accuracy
      of 1 + tanh(u) is lost by *any* evaluation of this formula, PyTorch's
      included).
    """
    x = np.asarray(x, dtype=np.float64)
    tol = RTOL * np.abs(ref) + TINY
    if name == "gelu":
        tol = tol + 4.0 * (x * x / 2.0) * EPS * np.abs(ref)
    if name == "gelu_tanh":
        tol = tol + 2.0 * EPS * np.abs(x)
    return tol


def _phi_eval_error(name, x, phi):
    """A bound on the rounding error of a double evaluation of phi(x) in the
    definition's own form: 4 ulp, times the formula's condition number where
    it exceeds 1 --
    gelu: erfc at the rounded argument -x/sqrt 2 (relative error up to
    (x^2/2) eps), gelu_tanh: 1 + tanh(u) near u << 0 (absolute eps |x|)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    err = 4.0 * EPS * np.abs(phi)
    if name == "gelu":
        err = err * (1.0 + x * x / 2.0)
    if name == "gelu_tanh":
        err = err + 2.0 * EPS * x
    return err


def _dphi_tolerance(name, x, ref):
    """Allowed |initcore phi' - reference phi'|.

    phi' is O(1), and PyTorch autograd forms several derivatives by
    cancellation -- 1 - tanh^2, s (1 - s), 1 + tanh(u) -- which are accurate
    to a few eps *absolutely* but not relatively once phi' is below ~eps
    (e.g. tanh'(30) = 3.5e-26 comes out as 0; initcore's float64 forms keep
    relative accuracy there, see tests/test_edges_networks.py).  So: RTOL |ref| +
    4 eps, and for gelu_tanh, whose phi' = (1 + t)/2 + (x/2)(1 - t^2) u'(x)
    multiplies the eps-level absolute error of 1 - t^2 by |x| u'(x) with
    u'(x) = sqrt(2/pi) (1 + 3 * 0.044715 x^2), an extra 2 eps |x| u'(x)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    tol = RTOL * np.abs(ref) + 4.0 * EPS
    if name == "gelu_tanh":
        tol = tol + 2.0 * EPS * x * np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * GELU_TANH_C * x * x)
    return tol


def _assert_within(got, ref, tol, what):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, what
    both_nan = np.isnan(got) & np.isnan(ref)
    err = np.where(both_nan, 0.0, np.abs(got - ref))
    bad = ~(err <= tol)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:5]
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} elements out of tolerance; first: "
            + "; ".join(f"got {got.ravel()[k]!r}, expected {ref.ravel()[k]!r} "
                        f"(|diff|={err.ravel()[k]:.3g} > tol={np.ravel(tol)[k]:.3g})" for k in i)
        )


# The grid: the brief's extremes (+-1e-8, +-1, +-30, +-700), tiny and exact
# values, and a dense sweep over the region where every activation bends.
EXTREMES = np.array([
    -700.0, -100.0, -30.0, -20.0, -10.0, -5.0, -3.0, -1.0, -0.5, -1e-8, -1e-300,
    0.0, 1e-300, 1e-8, 0.5, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0, 100.0, 700.0,
])
GRID = np.unique(np.concatenate([EXTREMES, np.linspace(-40.0, 40.0, 16001)]))


# --------------------------------------------------------------------------
# 1. phi against independent references
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_phi_matches_numpy_scipy_reference(name, p):
    got = activation(name, GRID, param=p)
    assert got.dtype == np.float64 and got.shape == GRID.shape
    ref = ref_phi(name, GRID, p)
    _assert_within(got, ref, _phi_tolerance(name, GRID, ref), f"{name}(x), param={p}")


@pytest.mark.parametrize("name", NAMES)
def test_phi_extremes_exact_limits(name):
    """Values the definitions pin down exactly in double precision."""
    x = np.array([0.0, 700.0, -700.0])
    got = activation(name, x)
    # phi(0) from the definitions
    at_zero = {"softplus": math.log(2.0), "sigmoid": 0.5}.get(name, 0.0)
    assert got[0] == pytest.approx(at_zero, rel=1e-15, abs=0.0)
    # large +x: identity-like activations return x exactly, saturating ones their bound
    big = {"linear": 700.0, "relu": 700.0, "leaky_relu": 700.0, "elu": 700.0,
           "selu": SELU_LAMBDA * 700.0, "gelu": 700.0, "gelu_tanh": 700.0, "silu": 700.0,
           "softplus": 700.0, "tanh": 1.0, "sigmoid": 1.0, "erf": 1.0, "hardtanh": 1.0}
    if name in big:
        assert got[1] == pytest.approx(big[name], rel=RTOL)
    small = {"linear": -700.0, "relu": 0.0, "leaky_relu": -7.0, "elu": -1.0,
             "selu": -SELU_LAMBDA * SELU_ALPHA, "gelu": 0.0, "gelu_tanh": 0.0,
             "tanh": -1.0, "erf": -1.0, "hardtanh": -1.0,
             # e^-700 = 9.86e-305 (normal double): exact to RTOL
             "softplus": math.exp(-700.0), "sigmoid": math.exp(-700.0),
             "silu": -700.0 * math.exp(-700.0)}
    if name in small:
        assert got[2] == pytest.approx(small[name], rel=RTOL, abs=0.0)


def test_selu_constants_and_fixed_point():
    """SELU(x) = lambda * x for x > 0 and -> -lambda*alpha as x -> -inf, with the
    published constants; and its defining property: for z ~ N(0, 1) the output
    has mean 0 and variance 1 (Klambauer et al.), checked by quadrature."""
    got = activation("selu", [1.0, -800.0])
    assert got[0] == SELU_LAMBDA
    assert got[1] == pytest.approx(-SELU_LAMBDA * SELU_ALPHA, rel=1e-15)
    # adaptive quadrature on each side of the kink at 0
    from scipy import integrate, stats

    def moment(k):
        f = lambda z: activation("selu", np.array([z]))[0] ** k * stats.norm.pdf(z)  # noqa: E731
        lo = integrate.quad(f, -np.inf, 0.0, epsabs=1e-14, epsrel=1e-13)[0]
        hi = integrate.quad(f, 0.0, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
        return lo + hi

    assert abs(moment(1)) < 1e-9
    assert moment(2) == pytest.approx(1.0, abs=1e-9)


# ---- PyTorch -------------------------------------------------------------

def _torch_phi(name, t, p):
    F = pytest.importorskip("torch.nn.functional")
    import torch

    if name == "linear":
        return t.clone()
    if name == "relu":
        return F.relu(t)
    if name == "leaky_relu":
        return F.leaky_relu(t, negative_slope=0.01 if p is None else p)
    if name == "elu":
        return F.elu(t, alpha=1.0 if p is None else p)
    if name == "selu":
        return F.selu(t)
    if name == "gelu":
        return F.gelu(t)  # approximate='none': the exact erf form
    if name == "gelu_tanh":
        return F.gelu(t, approximate="tanh")
    if name == "silu":
        return F.silu(t)
    if name == "softplus":
        # PyTorch's default threshold=20 returns x itself for x > 20 (an
        # approximation, 2e-9 off at x = 20); raise it so torch evaluates
        # log1p(exp(x)) on the whole grid (exp(700) does not overflow).
        return F.softplus(t, beta=1.0, threshold=800.0)
    if name == "tanh":
        return torch.tanh(t)
    if name == "sigmoid":
        return torch.sigmoid(t)
    if name == "erf":
        return torch.erf(t)
    if name == "hardtanh":
        return F.hardtanh(t, -1.0, 1.0)
    if name == "sin":
        return torch.sin(t)
    raise AssertionError(name)  # pragma: no cover


@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_phi_matches_torch(name, p):
    torch = pytest.importorskip("torch")
    ref = _torch_phi(name, torch.from_numpy(GRID.copy()), p).numpy()
    got = activation(name, GRID, param=p)
    tol = RTOL * np.abs(ref) + TINY
    if name in ("gelu", "gelu_tanh"):
        # PyTorch forms 1 + erf(x/sqrt 2) and 1 + tanh(u): for x << 0 these
        # cancel, leaving an absolute error of ~eps * |x| (relative accuracy
        # is lost on PyTorch's side; initcore's erfc form keeps it for gelu).
        tol = tol + 2.0 * EPS * np.abs(GRID)
    _assert_within(got, ref, tol, f"{name}(x) vs torch, param={p}")


# --------------------------------------------------------------------------
# 2. phi' against finite differences and autograd
# --------------------------------------------------------------------------

# Points where phi is not differentiable (or phi' jumps) for each activation.
KINKS = {
    "relu": (0.0,), "leaky_relu": (0.0,), "elu": (0.0,), "selu": (0.0,),
    "hardtanh": (-1.0, 1.0),
}
# Bounds on |phi'''| over the real line (0 on each linear piece), for the
# truncation error of the central difference: gelu xphi(x)(x^2-4) <= 1,
# erf 2/sqrt(pi)|4x^2-2|e^{-x^2} <= 2.26, tanh 2 sech^2|1-3tanh^2| <= 2,
# elu/selu alpha e^x (x<0) <= alpha resp. lambda*alpha = 1.76, sin 1, and the
# others (silu, gelu_tanh, sigmoid, softplus) are below 1.5; 3 covers all.
THIRD_DERIVATIVE_BOUND = 3.0
FD_GRID = np.unique(np.concatenate([
    np.array([-700.0, -30.0, -10.0, -3.0, -1e-8, 1e-8, 3.0, 10.0, 30.0, 700.0]),
    np.linspace(-30.0, 30.0, 6001) + 0.0005,  # offset: no grid point on 0 or +-1
]))


@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_derivative_matches_central_difference(name, p):
    """phi'(x) vs (phi(x+h) - phi(x-h)) / (2h), h = 1e-6 * max(1, |x|).

    Error of the difference quotient:
      truncation  h^2/6 * max|phi'''|   (<= 5e-13 for |x| <= 1; grows as x^2,
                                         but phi''' decays except for sin),
      rounding    (err phi(x+h) + err phi(x-h)) / (2h), each err as bounded
                  by _phi_eval_error (a few ulp; more where the formula
                  itself is ill-conditioned).
    The step is taken as the exact difference of the rounded abscissae, so x+h
    not being representable adds nothing.  The tolerance is the sum of both
    bounds plus _dphi_tolerance for phi' itself, with factor 2 margin.
    """
    x = FD_GRID
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    alpha = {"elu": 1.0 if p is None else p, "selu": SELU_LAMBDA * SELU_ALPHA}.get(name, 1.0)
    m3 = THIRD_DERIVATIVE_BOUND * max(1.0, abs(alpha))
    keep = np.ones(x.shape, dtype=bool)
    for k in KINKS.get(name, ()):
        keep &= np.abs(x - k) > 2.0 * h
    x, h = x[keep], h[keep]
    xp, xm = x + h, x - h
    step = xp - xm  # exact (Sterbenz)
    fp = activation(name, xp, param=p)
    fm = activation(name, xm, param=p)
    fd = (fp - fm) / step
    got = activation(name, x, param=p, derivative=True)
    assert got.dtype == np.float64 and got.shape == x.shape
    tol = 2.0 * (m3 * (step / 2.0) ** 2 / 6.0
                 + (_phi_eval_error(name, xp, fp) + _phi_eval_error(name, xm, fm)) / step
                 + _dphi_tolerance(name, x, got))
    _assert_within(got, fd, tol, f"{name}'(x) vs central difference, param={p}")


# phi'(x) from the definitions, for the exact-value checks below.


@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_derivative_matches_closed_form(name, p):
    """phi' vs its closed form (NumPy/SciPy, written without cancellation),
    including at +-700; tolerance from _dphi_tolerance."""
    got = activation(name, GRID, param=p, derivative=True)
    ref = ref_dphi(name, GRID, p)
    tol = _dphi_tolerance(name, GRID, ref)
    _assert_within(got, ref, tol, f"{name}'(x) vs closed form, param={p}")


# Documented kink values (activation docstring / activations.h: PyTorch
# autograd's choices): relu'(0) = 0, hardtanh'(+-1) = 0, and the negative-side
# slope for leaky_relu, elu and selu at 0.
KINK_VALUES = [
    ("relu", None, 0.0, 0.0),
    ("leaky_relu", None, 0.0, 0.01),
    ("leaky_relu", 0.2, 0.0, 0.2),
    ("elu", None, 0.0, 1.0),
    ("elu", 0.5, 0.0, 0.5),
    ("selu", None, 0.0, SELU_LAMBDA * SELU_ALPHA),
    ("hardtanh", None, -1.0, 0.0),
    ("hardtanh", None, 1.0, 0.0),
]


@pytest.mark.parametrize("name, p, x, expected", KINK_VALUES)
def test_derivative_at_kinks_documented(name, p, x, expected):
    got = activation(name, np.array([x, -0.0 if x == 0 else x]), param=p, derivative=True)
    assert got[0] == pytest.approx(expected, rel=1e-15, abs=0.0)
    assert got[1] == got[0]  # -0.0 is the same point


@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_derivative_matches_torch_autograd(name, p):
    """phi' vs torch autograd on the grid (kinks included: 0, +-1 are on it);
    tolerance from _dphi_tolerance (autograd uses the same cancelling forms)."""
    torch = pytest.importorskip("torch")
    x = np.unique(np.concatenate([GRID, [-1.0, 0.0, 1.0]]))
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    _torch_phi(name, t, p).sum().backward()
    ref = t.grad.numpy()
    got = activation(name, x, param=p, derivative=True)
    _assert_within(got, ref, _dphi_tolerance(name, x, ref), f"{name}'(x) vs autograd, param={p}")


@pytest.mark.parametrize("name, p, x, expected", KINK_VALUES)
def test_derivative_at_kinks_equals_autograd(name, p, x, expected):
    torch = pytest.importorskip("torch")
    t = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    _torch_phi(name, t, p).sum().backward()
    auto = float(t.grad[0])
    assert auto == pytest.approx(expected, rel=1e-15)  # the table above is right
    assert activation(name, [x], param=p, derivative=True)[0] == auto


# --------------------------------------------------------------------------
# NaN propagation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_phi_propagates_nan(name):
    """phi(NaN) is NaN, as for the NumPy definitions (np.maximum, np.where,
    np.clip, ...) and PyTorch (torch.relu(nan) = nan): an activation must not
    turn a diverged pre-activation into a finite number."""
    x = np.array([np.nan, 1.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(ref_phi(name, x)[0])  # the reference definition does propagate
    got = activation(name, x)
    assert np.isnan(got[0]), f"{name}(nan) = {got[0]!r}, expected nan"
    got32 = activation(name, x.astype(np.float32))
    assert np.isnan(got32[0]), f"{name}(float32 nan) = {got32[0]!r}, expected nan"


# --------------------------------------------------------------------------
# 3. float32
# --------------------------------------------------------------------------
#
# float32 input runs float32 kernels (src/actmath.h: branch-free polynomial
# exp / expm1 / log1p / tanh / erf / erfc / sin / cos), not double libm, so
# results are no longer the float64 value rounded once (the tests that
# asserted that bit for bit are replaced by the ulp bounds below). Each
# float32 result is compared with an independent float64 reference at the same
# (exactly representable) input, in float32 ulps of the exact value:
# ulp(y) = 2^(floor(log2 |y|) - 23), and the subnormal spacing 2^-149 below
# 2^-126 (so underflowing results are held to an absolute 2^-149 scale).
#
# Bound: 4 ulp everywhere (the kernels measure <= 2.8 ulp for phi and
# <= 2.45 ulp for phi' on every third float; a coefficient perturbed in its
# 5th digit, a dropped term of a range reduction, or e^(-x^2) from a rounded
# square fails it).
# Stated exceptions:
# * sin (and sin' = cos): 4 ulp relative for |x| <= pi/4, where no reduction
#   happens; beyond, 1.2e-7 absolute for |x| < 1e5 (relative accuracy is
#   meaningless next to the zeros k*pi; measured over all floats: 9.9e-8);
#   for |x| >= 1e5 only boundedness (the reduction's products round; see
#   actmath.h).
# * the derivatives that are a sum of terms with opposite signs, around their
#   zero away from the origin (gelu' at -0.7518, gelu_tanh' at -0.7523, silu'
#   at -1.2785): where the terms cancel by more than half (|phi'| < S/2, S the
#   sum of the terms' magnitudes; z in [-1.53, -0.32] for gelu and gelu_tanh,
#   [-3.14, -0.52] for silu), 4 ulp of S absolutely. Any float evaluation of
#   the sum has errors of a few ulp of its terms there.

F32_ULPS = 4.0
SIN_ABS = 1.2e-7
SIN_EXACT_RANGE = 1e5
F32_MAX = float(np.finfo(np.float32).max)
PRIME = {False: "", True: "'"}


def _ulp32(y):
    """float32 ulp of the exact value y (float64 array)."""
    a = np.abs(np.asarray(y, dtype=np.float64))
    _, e = np.frexp(a)
    return np.where(a < 2.0**-126, 2.0**-149, np.ldexp(1.0, e - 24))


def _neighbours(points, k=3):
    """Each point rounded to float32 and its k float32 neighbours on each side."""
    pts = np.asarray(points, dtype=np.float32)
    out = [pts]
    up, down = pts.copy(), pts.copy()
    for _ in range(k):
        up = np.nextafter(up, np.float32(np.inf))
        down = np.nextafter(down, np.float32(-np.inf))
        out += [up, down]
    return np.concatenate(out)


# Where the kernels switch formulas or ranges, or the results over/underflow:
# exp reduction (+-ln2/2) and overflow (88.72), exp/sigmoid/elu underflow
# (-87.34 normal, -103.97 zero), tanh's polynomial/exp split (0.625) and
# saturation (9.01), erf's split (erf = 1/2 at 0.47694) and saturation (3.92),
# erfc underflow (10.05), gelu's split (-0.6745) and underflow (-14.1),
# silu's underflow (-108.6), softplus's log1p split (e^-|z| = 1/2), the
# derivative zeros, sin's quadrant bounds, the kinks.
EDGES = np.array([
    0.34657359, 0.69314718, 88.7228, 88.72284, -87.33655, -87.3, -103.27893, -103.97, -104.0, -110.0,
    0.625, 9.0, 9.01, 0.47693628, 0.6744898, 3.92, 10.05, -14.1, -14.5, -108.6, -108.8,
    0.69314718, -0.7517916, -0.7523, -1.2784645, 0.78539816, 2.3561945, 3.1415927, 1.5707964,
    1.0, 1e-4, 1e-8, 1e-20,
])
EDGES = np.concatenate([EDGES, -EDGES])


def _f32_sweep():
    """float32 inputs: a dense grid over [-20, 20] (step 1e-4), 200000 random
    values with exponents spread over the whole float32 range (both signs),
    the kernels' edges with their neighbours, and special values."""
    rng = np.random.default_rng(20240611)
    grid = np.linspace(-20.0, 20.0, 400001)
    wide = 10.0 ** rng.uniform(-45.0, 38.5, 200000) * rng.choice([-1.0, 1.0], 200000)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, F32_MAX, -F32_MAX, 1e30, -1e30, 1e10, -1e10,
               2.0**-126, -(2.0**-126), 1e-40, -1e-40, 2.0**-149, -(2.0**-149), 1e-30, -1e-30]
    return np.concatenate([grid.astype(np.float32), wide.astype(np.float32),
                           _neighbours(EDGES), np.array(special, dtype=np.float32)])


F32_X = _f32_sweep()


def _ref32_phi(name, x, p=None):
    """phi in float64 for the float32 comparison: ref_phi, except gelu_tanh
    in the form x * sigmoid(2u) = x (1 + tanh u)/2 that keeps relative
    accuracy for x << 0 (1 + tanh u cancels)."""
    if name == "gelu_tanh":
        u = np.sqrt(2.0 / np.pi) * (x + GELU_TANH_C * x**3)
        return x * special.expit(2.0 * u)
    return ref_phi(name, x, p)


def _dphi_terms(name, x):
    """Sum of the magnitudes of the terms of phi' for the derivatives that
    are a difference (see the section comment), else None."""
    if name == "gelu":
        return special.ndtr(x) + np.abs(x) * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    if name == "gelu_tanh":
        u = np.sqrt(2.0 / np.pi) * (x + GELU_TANH_C * x**3)
        du = np.sqrt(2.0 / np.pi) * (1.0 + 3.0 * GELU_TANH_C * x * x)
        s = special.expit(2.0 * u)
        return s + 2.0 * np.abs(x) * du * s * special.expit(-2.0 * u)
    if name == "silu":
        s = special.expit(x)
        return s + np.abs(x) * s * special.expit(-x)
    return None


def _check_f32(got, ref, allowed, x, what):
    """got (float32) vs ref (float64 exact value): NaN where ref is NaN,
    equal where ref rounds to +-inf in float32, else |got - ref| <= allowed."""
    got = np.asarray(got)
    assert got.dtype == np.float32, what
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(over="ignore"):
        ref32 = ref.astype(np.float32)
    nan = np.isnan(ref)
    bad_nan = np.isnan(got) != nan
    inf = np.isinf(ref32)
    bad_inf = inf & (got != ref32)
    rest = ~nan & ~inf
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(rest, np.abs(got.astype(np.float64) - ref), 0.0)
    bad = bad_nan | bad_inf | (rest & ~(err <= allowed))
    if bad.any():
        i = np.flatnonzero(bad)[:6]
        ulps = err / _ulp32(ref)
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} float32 results out of bounds; first: "
            + "; ".join(f"x={x[k]!r}: got {got[k]!r}, exact {ref[k]!r} ({ulps[k]:.2f} ulp, allowed "
                        f"{allowed[k] / _ulp32(ref[k]):.2f})" for k in i))
    return float(np.max(np.where(rest, err / _ulp32(ref), 0.0)))


def _f32_allowed(name, x, ref, derivative):
    ulp = _ulp32(ref)
    allowed = F32_ULPS * ulp
    if name == "sin":
        big = np.abs(x) > np.pi / 4
        allowed = np.where(big, np.maximum(allowed, SIN_ABS), allowed)
    if derivative:
        terms = _dphi_terms(name, x)
        if terms is not None:
            cancels = np.abs(ref) < 0.5 * terms
            allowed = np.where(cancels, F32_ULPS * _ulp32(terms), allowed)
    return allowed


@pytest.mark.parametrize("derivative", [False, True], ids=["phi", "dphi"])
@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_float32_within_4_ulp_of_float64_reference(name, p, derivative):
    x32 = F32_X
    if name == "sin":  # beyond 1e5: test_float32_sin_large_arguments_bounded
        x32 = x32[~(np.abs(x32) >= SIN_EXACT_RANGE)]
    x = x32.astype(np.float64)
    got = activation(name, x32, param=p, derivative=derivative)
    assert got.dtype == np.float32 and got.shape == x32.shape
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ref = ref_dphi(name, x, p) if derivative else _ref32_phi(name, x, p)
        allowed = _f32_allowed(name, x, ref, derivative)
    _check_f32(got, ref, allowed, x32, f"float32 {name}{PRIME[derivative]}, param={p}")


# Where |phi'| < S/2 (see the section comment): an interval around the zero.
CANCEL_BANDS = {"silu": (-3.14, -0.52), "gelu": (-1.53, -0.32), "gelu_tanh": (-1.53, -0.32)}


@pytest.mark.parametrize("name", sorted(CANCEL_BANDS))
def test_float32_cancellation_allowance_is_confined(name):
    """The absolute allowance for phi' applies only on the stated interval
    around the zero of phi' (silu: z in [-3.14, -0.52], gelu and gelu_tanh:
    [-1.53, -0.32]); everywhere else the relative 4 ulp bound holds."""
    x = np.linspace(-30.0, 30.0, 600001)
    ref = ref_dphi(name, x)
    cancels = np.abs(ref) < 0.5 * _dphi_terms(name, x)
    lo, hi = CANCEL_BANDS[name]
    assert cancels.any() and lo <= x[cancels].min() and x[cancels].max() <= hi


def test_float32_sin_large_arguments_bounded():
    """|x| >= 1e5: the Cody-Waite reduction is exact only for |x| < 102943, so
    beyond only boundedness is promised; +-inf and NaN give NaN."""
    rng = np.random.default_rng(5)
    x = np.concatenate([10.0 ** rng.uniform(5.0, 38.5, 20000), [F32_MAX]])
    x32 = np.concatenate([x, -x]).astype(np.float32)
    for derivative in (False, True):
        got = activation("sin", x32, derivative=derivative)
        assert np.all(np.abs(got) <= 1.0)
        special_ = activation("sin", np.array([np.inf, -np.inf, np.nan], np.float32), derivative=derivative)
        assert np.all(np.isnan(special_))


@pytest.mark.parametrize("derivative", [False, True], ids=["phi", "dphi"])
@pytest.mark.parametrize("name", NAMES)
def test_float32_special_values_as_float64_path(name, derivative):
    """At +-0, +-inf, NaN, the largest floats and the smallest subnormals the
    float32 kernels follow the float64 path (ic_phi / ic_dphi): NaN in the
    same places (silu(-inf) = -inf * 0 is NaN in both), the same infinities,
    equal values (the sign of a zero result may differ where the float64 path
    adds two underflowed zeros), within the float32 bound elsewhere."""
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, F32_MAX, -F32_MAX, 1e30, -1e30,
                  2.0**-149, -(2.0**-149), 2.0**-126, -(2.0**-126)], dtype=np.float32)
    if name == "sin":  # huge arguments: test_float32_sin_large_arguments_bounded
        x = x[~(np.abs(x) >= SIN_EXACT_RANGE)]
    got = activation(name, x, derivative=derivative)
    x = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = activation(name, x, derivative=derivative)
    allowed = F32_ULPS * _ulp32(ref)
    _check_f32(got, ref, allowed, x, f"float32 {name}{PRIME[derivative]} at special values")


@pytest.mark.parametrize("name", NAMES)
def test_float32_signed_zero(name):
    """phi(+-0) keeps the float64 path's sign of zero (tanh(-0) = -0, relu(-0) = +0, ...)."""
    x = np.array([0.0, -0.0])
    got = activation(name, x.astype(np.float32))
    ref = activation(name, x).astype(np.float32)
    np.testing.assert_array_equal(got.view(np.uint32), ref.view(np.uint32))


@pytest.mark.parametrize("derivative", [False, True], ids=["phi", "dphi"])
@pytest.mark.parametrize("name", NAMES)
def test_float32_vector_and_scalar_code_agree(name, derivative):
    """The kernels run vectorized in the loop body and scalar in its tail
    (and in different target_clones); with no FMA contraction every path
    rounds the same, so an element gives the same bits alone and in a long
    array."""
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.standard_normal(300) * 4.0, 10.0 ** rng.uniform(-40, 38, 40),
                        -(10.0 ** rng.uniform(-40, 38, 40)), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    x = x.astype(np.float32)

    def bits(v):  # NaN-ness compared, not NaN payloads (operand order may pick them)
        return np.where(np.isnan(v), np.uint32(0x7FC00000), v.view(np.uint32))

    whole = activation(name, x, derivative=derivative)
    alone = np.concatenate([activation(name, x[i:i + 1], derivative=derivative) for i in range(x.size)])
    np.testing.assert_array_equal(bits(whole), bits(alone))
    # and in the middle of a longer array (an offset that changes alignment)
    padded = np.concatenate([np.zeros(5, np.float32), x])
    np.testing.assert_array_equal(bits(activation(name, padded, derivative=derivative)[5:]), bits(whole))


@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_float32_matches_reference_on_the_float64_grid(name, p):
    """float32 phi on the float64 tests' grid (and its extremes) vs the same
    independent reference, with the float32 bound."""
    x32 = GRID.astype(np.float32)
    x = x32.astype(np.float64)
    got = activation(name, x32, param=p)
    ref = _ref32_phi(name, x, p)
    _check_f32(got, ref, _f32_allowed(name, x, ref, False), x32, f"float32 {name}, param={p}")


# --------------------------------------------------------------------------
# 4. out=
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("derivative", [False, True])
def test_out_is_returned_and_filled(dtype, derivative):
    x = np.linspace(-3.0, 3.0, 24, dtype=dtype).reshape(2, 3, 4)
    out = np.full(x.shape, np.nan, dtype=dtype)
    result = activation("tanh", x, derivative=derivative, out=out)
    assert result is out
    x64 = x.astype(np.float64)
    ref = ref_dphi("tanh", x64) if derivative else np.tanh(x64)
    tol = (_dphi_tolerance("tanh", x64, ref) if derivative else _phi_tolerance("tanh", x64, ref))
    if dtype == np.float32:  # float32 kernels: the float32 bound (section 3)
        tol = F32_ULPS * _ulp32(ref)
    _assert_within(out, ref, tol, "tanh into out")


def test_out_may_alias_input():
    x = np.linspace(-2.0, 2.0, 101)
    ref = special.expit(x)
    result = activation("sigmoid", x, out=x)
    assert result is x
    _assert_within(x, ref, RTOL * ref, "in-place sigmoid")


def _bad_outs():
    x64 = np.zeros((4, 6))
    return [
        ("wrong shape", x64, np.empty((6, 4))),
        ("wrong shape (flat)", x64, np.empty(24)),
        ("wrong size", x64, np.empty((4, 5))),
        ("float32 out for float64 x", x64, np.empty((4, 6), np.float32)),
        ("float64 out for float32 x", x64.astype(np.float32), np.empty((4, 6))),
        ("int out", x64, np.empty((4, 6), np.int64)),
        ("non-contiguous slice", x64, np.empty((4, 12))[:, ::2]),
        ("Fortran order", x64, np.empty((4, 6), order="F")),
        ("read-only", x64, np.lib.stride_tricks.as_strided(np.empty((4, 6)), writeable=False)),
        ("not an ndarray", x64, [[0.0] * 6] * 4),
    ]


@pytest.mark.parametrize("what, x, out", _bad_outs(), ids=[b[0] for b in _bad_outs()])
def test_bad_out_raises_value_error(what, x, out):
    before = np.array(out, copy=True)
    with pytest.raises(ValueError, match="out"):
        activation("relu", x, out=out)
    np.testing.assert_array_equal(np.asarray(out), before)  # untouched


# --------------------------------------------------------------------------
# 5. names, aliases, parameters
# --------------------------------------------------------------------------

def test_registry_contents():
    assert list_activations() == sorted(NAMES)
    assert list_activations(aliases=True) == sorted(NAMES + ("swish", "identity"))
    assert ALIASES == {"swish": "silu", "identity": "linear"}
    assert set(ACTIVATIONS) == set(NAMES)
    for name, entry in ACTIVATIONS.items():
        assert isinstance(entry, Activation) and entry.name == name
    assert sorted(e.id for e in ACTIVATIONS.values()) == list(range(len(NAMES)))
    params = {n: (e.param_name, e.default) for n, e in ACTIVATIONS.items() if e.param_name}
    assert params == {"leaky_relu": ("negative_slope", 0.01), "elu": ("alpha", 1.0)}


@pytest.mark.parametrize("spelling, canonical", [
    ("RELU", "relu"), ("ReLU", "relu"), ("Leaky_ReLU", "leaky_relu"), ("GELU_TANH", "gelu_tanh"),
    ("Sin", "sin"), ("swish", "silu"), ("SWISH", "silu"), ("Swish", "silu"),
    ("identity", "linear"), ("IDENTITY", "linear"),
])
def test_names_case_insensitive_and_aliases(spelling, canonical):
    entry, _ = get_activation(spelling)
    assert entry is ACTIVATIONS[canonical]
    x = np.linspace(-4.0, 4.0, 33)
    np.testing.assert_array_equal(activation(spelling, x), activation(canonical, x))
    np.testing.assert_array_equal(activation(spelling, x, derivative=True),
                                  activation(canonical, x, derivative=True))


def test_alias_values_are_the_definitions():
    x = np.linspace(-5.0, 5.0, 41)
    _assert_within(activation("swish", x), x * special.expit(x), RTOL * np.abs(x), "swish")
    np.testing.assert_array_equal(activation("identity", x), x)


@pytest.mark.parametrize("bad", ["nope", "relu6", "", " relu", "swish2", "gelu-tanh"])
def test_unknown_name_lists_choices(bad):
    with pytest.raises(ValueError) as info:
        activation(bad, [0.0])
    message = str(info.value)
    assert repr(bad) in message
    for choice in list_activations(aliases=True):
        assert choice in message
    with pytest.raises(ValueError):
        get_activation(bad)


@pytest.mark.parametrize("bad", [None, 3, 1.5, b"relu", ["relu"]])
def test_non_string_name_is_type_error(bad):
    with pytest.raises(TypeError):
        get_activation(bad)


def test_get_activation_defaults_and_params():
    assert get_activation("leaky_relu") == (ACTIVATIONS["leaky_relu"], 0.01)
    assert get_activation("elu") == (ACTIVATIONS["elu"], 1.0)
    assert get_activation("relu") == (ACTIVATIONS["relu"], 0.0)
    entry, p = get_activation("LEAKY_RELU", 0.2)
    assert entry.name == "leaky_relu" and p == 0.2 and type(p) is float
    assert get_activation("elu", np.float32(0.5))[1] == 0.5
    assert get_activation("elu", 2)[1] == 2.0


@pytest.mark.parametrize("name", [n for n in NAMES if ACTIVATIONS[n].param_name is None] + ["swish"])
def test_param_to_parameterless_activation(name):
    canonical = ALIASES.get(name, name)
    with pytest.raises(ValueError, match=canonical):
        activation(name, [0.0], param=0.1)
    with pytest.raises(ValueError, match=canonical):
        get_activation(name, 0.0)


@pytest.mark.parametrize("bad", ["0.1", b"1", [0.1], (0.1,), 1 + 2j, True, np.bool_(False), object()])
@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_non_numeric_param_is_type_error(name, bad):
    with pytest.raises(TypeError):
        activation(name, [0.0], param=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_param_is_value_error(bad):
    with pytest.raises(ValueError):
        activation("leaky_relu", [0.0], param=bad)


@pytest.mark.parametrize("name, p", [("leaky_relu", 0.3), ("elu", 0.7)])
def test_param_is_used(name, p):
    x = np.array([-2.0, -0.5, 0.5])
    _assert_within(activation(name, x, param=p), ref_phi(name, x, p),
                   RTOL * np.abs(ref_phi(name, x, p)), f"{name} param={p}")
    _assert_within(activation(name, x, param=p, derivative=True), ref_dphi(name, x, p),
                   RTOL * np.abs(ref_dphi(name, x, p)), f"{name}' param={p}")


# --------------------------------------------------------------------------
# 6. shapes, input conversion, threads
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0,), (0, 3), (1,), (7,), (3, 4, 5), (2, 1, 3, 1, 2)])
@pytest.mark.parametrize("name", ["gelu", "leaky_relu", "sin"])
def test_shape_preserved(name, shape):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape) * 3.0
    for derivative in (False, True):
        got = activation(name, x, derivative=derivative)
        assert isinstance(got, np.ndarray) and got.shape == np.shape(x) and got.dtype == np.float64
        assert got.flags.c_contiguous
        ref = (ref_dphi if derivative else ref_phi)(name, x)
        _assert_within(got, ref, RTOL * np.abs(ref) + 4 * EPS * derivative, f"{name} shape {shape}")


@pytest.mark.parametrize("x", [1.5, np.float64(1.5), np.array(1.5), np.float32(1.5), np.array(1.5, np.float32)],
                         ids=["float", "np.float64", "0d-f64", "np.float32", "0d-f32"])
def test_zero_dim_input_keeps_shape(x):
    """A scalar / 0-d input is an array of shape (): the result must have shape
    () too (element-wise), and a 0-d `out` must be accepted."""
    dtype = np.float32 if np.asarray(x).dtype == np.float32 else np.float64
    got = activation("tanh", x)
    assert got.dtype == dtype
    assert got.shape == (), f"activation('tanh', {x!r}) has shape {got.shape}, expected ()"
    assert float(got) == pytest.approx(math.tanh(1.5), rel=1e-7 if dtype == np.float32 else RTOL)
    out = np.empty((), dtype=dtype)
    assert activation("tanh", x, out=out) is out
    assert float(out) == pytest.approx(math.tanh(1.5), rel=1e-7 if dtype == np.float32 else RTOL)


def test_non_contiguous_and_fortran_input():
    base = np.linspace(-5.0, 5.0, 120).reshape(10, 12)
    for x in (base[:, ::3], base.T, np.asfortranarray(base), base[::-1]):
        got = activation("silu", x)
        assert got.shape == x.shape
        ref = x * special.expit(x)
        _assert_within(got, ref, RTOL * np.abs(ref), "silu on a strided view")


def test_read_only_input_and_input_untouched():
    x = np.linspace(-3.0, 3.0, 50)
    x.flags.writeable = False
    copy = x.copy()
    got = activation("erf", x)
    np.testing.assert_array_equal(x, copy)
    _assert_within(got, special.erf(x), RTOL * np.abs(special.erf(x)), "erf on read-only input")


@pytest.mark.parametrize("x", [
    [0, 1, -2], np.array([0, 1, -2], dtype=np.int32), np.array([0.5, -1.5], dtype=np.float16),
    np.array([True, False]), [[1.0, 2.0], [3.0, 4.0]],
], ids=["list-int", "int32", "float16", "bool", "nested-list"])
def test_non_float32_input_becomes_float64(x):
    got = activation("tanh", x)
    assert got.dtype == np.float64 and got.shape == np.shape(x)
    ref = np.tanh(np.asarray(x, dtype=np.float64))
    _assert_within(got, ref, RTOL * np.abs(ref), "tanh of converted input")


# More than PARALLEL_MIN_ELEMENTS = 262144 elements (so the kernel goes
# parallel), and not a multiple of the 16384-element chunk.
BIG_SHAPE = (523, 521)  # 272483 elements


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, p", PARAM_CASES, ids=PARAM_IDS)
def test_large_arrays_thread_count_independent(threads, name, p, dtype):
    assert math.prod(BIG_SHAPE) > 262144
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(BIG_SHAPE) * 4.0).astype(dtype)
    results = {}
    for n in (1, 2):
        threads(n)
        results[n] = (activation(name, x, param=p), activation(name, x, param=p, derivative=True))
    for k in (0, 1):
        assert results[1][k].dtype == dtype and results[1][k].shape == BIG_SHAPE
        np.testing.assert_array_equal(results[1][k], results[2][k])
    # and equal to the same values computed in pieces below the parallel threshold
    flat = x.reshape(-1)
    pieces = np.concatenate([activation(name, flat[i:i + 100000], param=p)
                             for i in range(0, flat.size, 100000)])
    np.testing.assert_array_equal(results[2][0].reshape(-1), pieces)


def test_thread_fixture_restores():
    # the `threads` fixture (conftest) restores the count; check the API it uses
    original = initcore.get_num_threads()
    try:
        initcore.set_num_threads(1)
        assert initcore.get_num_threads() == 1 or not initcore.openmp_enabled()
    finally:
        initcore.set_num_threads(original)
    assert initcore.get_num_threads() == original


def test_large_array_values_match_reference(threads):
    threads(2)
    x = np.random.default_rng(3).standard_normal(300001) * 4.0
    got = activation("gelu", x)
    ref = ref_phi("gelu", x)
    _assert_within(got, ref, _phi_tolerance("gelu", x, ref), "gelu on a parallel-size array")


def test_registry_matches_the_c_table():
    from initcore.networks import _layers

    assert len(initcore.activations.ACTIVATIONS) == _layers.ACTIVATION_COUNT
