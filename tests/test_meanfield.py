"""initcore.meanfield: Gaussian expectations, fixed points, depth scales and
the critical line of mean-field signal propagation (Poole et al. 2016,
Schoenholz et al. 2017).

Every expected number comes from an independent computation: closed forms
(linear, relu's arc-cosine kernel, erf's arcsine kernel, sin's exponentials),
scipy.integrate.quad on activations written out here from their definitions
(not the registry's C code), scipy.optimize.brentq on those, or a plain NumPy
float64 network. The module's quadrature is accurate to about 1e-12 relative;
the tests ask for 1e-10 (the requirement is 1e-8).
"""
import math
import time
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import erfc, expit

from initcore import meanfield as mf
from initcore.propagation.meanfield import _Act

QS = [1e-4, 1e-2, 1.0, 100.0, 1e4, 1e6]  # pre-activation second moments
RTOL = 1e-10
SQRT2 = math.sqrt(2.0)
SELU_L, SELU_A = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def _gelu_tanh(u):
    return 0.5 * u * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u ** 3)))


def _gelu_tanh_prime(u):
    k = math.sqrt(2.0 / math.pi)
    t = math.tanh(k * (u + 0.044715 * u ** 3))
    return 0.5 * (1.0 + t) + 0.5 * u * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * u * u)


# Independent scalar references: name -> (phi, phi').
REF = {
    "tanh": (math.tanh, lambda u: 1.0 - math.tanh(u) ** 2),
    "sigmoid": (lambda u: float(expit(u)), lambda u: float(expit(u) * expit(-u))),
    "gelu": (lambda u: 0.5 * u * float(erfc(-u / SQRT2)),
             lambda u: 0.5 * float(erfc(-u / SQRT2)) + u * math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh_prime),
    "silu": (lambda u: u * float(expit(u)), lambda u: float(expit(u)) * (1.0 + u * float(expit(-u)))),
    "softplus": (lambda u: max(u, 0.0) + math.log1p(math.exp(-abs(u))), lambda u: float(expit(u))),
    "elu": (lambda u: u if u > 0 else math.expm1(u), lambda u: 1.0 if u > 0 else math.exp(u)),
    "selu": (lambda u: SELU_L * (u if u > 0 else SELU_A * math.expm1(u)),
             lambda u: SELU_L * (1.0 if u > 0 else SELU_A * math.exp(u))),
    "leaky_relu": (lambda u: u if u > 0 else 0.01 * u, lambda u: 1.0 if u > 0 else 0.01),
    "hardtanh": (lambda u: min(1.0, max(-1.0, u)), lambda u: 1.0 if -1.0 < u < 1.0 else 0.0),
    "sin": (math.sin, math.cos),
}


# ---------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------
def _pieces(sd, mean=0.0):
    """Breakpoints for quad: 0, +-{1, 3} x 10^k (kinks and bends of phi) and
    mean +- {1..10} sd (the Gaussian), over mean +- 13 sd."""
    lim = 13.0 * sd
    points = {0.0, mean - lim, mean + lim}
    for k in range(-3, 8):
        for v in (10.0 ** k, 3 * 10.0 ** k):
            points.update((v, -v))
    for t in (1, 2, 3, 4, 6, 8, 10):
        points.update((mean + t * sd, mean - t * sd))
    return sorted(p for p in points if mean - lim <= p <= mean + lim)


def quad_gauss(f, q, mean=0.0):
    """E[f(u)], u ~ N(mean, q), by scipy.integrate.quad on pieces (epsrel 1e-13).

    quad over the whole line with points=[0] misses the region where phi bends
    once sqrt(q) >> 1 (it is a sliver of one huge interval), so the line is
    cut where both phi and the Gaussian change."""
    sd = math.sqrt(q)
    norm = 1.0 / (sd * math.sqrt(2.0 * math.pi))

    def integrand(u):
        return f(u) * math.exp(-0.5 * ((u - mean) / sd) ** 2) * norm

    points = _pieces(sd, mean)
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)  # roundoff at 1e-13
        for a, b in zip(points[:-1], points[1:]):
            total += integrate.quad(integrand, a, b, epsabs=0.0, epsrel=1e-13, limit=500)[0]
    return total


def quad_gauss2(f, g, q, c):
    """E[f(u1) g(u2)] for Var u = q, corr c, as an iterated quad: outer over
    u1, inner over z2 with u2 = c u1 + sqrt(q (1 - c^2)) z2 (kinks of g at 0
    and +-1 passed as points)."""
    s = math.sqrt(q * (1.0 - c * c))
    sd = math.sqrt(q)

    def inner(u1):
        m = c * u1
        points = [(k - m) / s for k in (-1.0, 0.0, 1.0) if abs((k - m) / s) < 12.0]
        value = integrate.quad(lambda z: g(m + s * z) * math.exp(-0.5 * z * z), -12.0, 12.0,
                               points=points or None, epsabs=0.0, epsrel=1e-12, limit=200)[0]
        return f(u1) * value / math.sqrt(2.0 * math.pi)

    outer_points = [p for p in _pieces(sd) if abs(p) < 12.0 * sd] + [-12.0 * sd, 12.0 * sd]
    outer_points = sorted(set(outer_points + [k / c for k in (-1.0, 1.0) if c and abs(k / c) < 12 * sd]))
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for a, b in zip(outer_points[:-1], outer_points[1:]):
            total += integrate.quad(lambda u: inner(u) * math.exp(-0.5 * u * u / q) / (sd * math.sqrt(2 * math.pi)),
                                    a, b, epsabs=0.0, epsrel=1e-11, limit=200)[0]
    return total


def _erf_phi2(q):
    return 2.0 / math.pi * math.asin(2.0 * q / (1.0 + 2.0 * q))


def _erf_dphi2(q):
    return 4.0 / math.pi / math.sqrt(1.0 + 4.0 * q)


def _erf_kernel(q, c):
    return 2.0 / math.pi * math.asin(2.0 * c * q / (1.0 + 2.0 * q))


def _erf_dkernel(q, c):
    return 4.0 / math.pi / math.sqrt((1.0 + 2.0 * q) ** 2 - (2.0 * q * c) ** 2)


def _relu_kernel(q, c):
    theta = math.acos(c)
    return q / (2.0 * math.pi) * (math.sin(theta) + (math.pi - theta) * c)


CLOSED_1D = {  # name -> (E[phi^2](q), E[phi'^2](q))
    "linear": (lambda q: q, lambda q: 1.0),
    "relu": (lambda q: q / 2.0, lambda q: 0.5),
    "erf": (_erf_phi2, _erf_dphi2),
}


def _chi1_via_public(name, q, phi2_ref):
    """chi1 at a fixed point placed at q: sigma_w2 = q / (2 E[phi^2](q)),
    sigma_b2 = q / 2 makes q a fixed point of the length map."""
    sigma_w2 = q / (2.0 * phi2_ref)
    return sigma_w2, mf.chi1(name, sigma_w2, q / 2.0, q0=q)


def _rel(a, b):
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CLOSED_1D))
def test_one_dimensional_closed_forms(name):
    """E[phi^2] (through length_map) and E[phi'^2] (through chi1 at a fixed
    point placed at q) match the closed forms over q = 1e-4 .. 1e6."""
    phi2, dphi2 = CLOSED_1D[name]
    values = mf.length_map(name, np.array(QS), 1.0, 0.0)
    for q, value in zip(QS, values):
        assert _rel(value, phi2(q)) < RTOL, (name, q, value, phi2(q))
        sigma_w2, chi = _chi1_via_public(name, q, phi2(q))
        assert _rel(chi, sigma_w2 * dphi2(q)) < RTOL, (name, q, chi)


@pytest.mark.parametrize("q", QS)
def test_correlation_map_closed_forms(q):
    """relu (arc-cosine kernel), erf (arcsine kernel) and linear correlation
    maps, with sigma_w2 = 1.3, sigma_b2 = 0.3, for c across [-1, 1] including
    c within 1e-6 of 1."""
    sw, sb = 1.3, 0.3
    for c in [-0.99, -0.5, 0.0, 0.3, 0.5, 0.9, 0.999, 0.999999, 1.0]:
        for name, kernel in [("relu", _relu_kernel), ("erf", _erf_kernel), ("linear", lambda q, c: q * c)]:
            expected = (sw * kernel(q, c) + sb) / (sw * kernel(q, 1.0) + sb)
            got = mf.correlation_map(name, c, q, sw, sb)
            assert _rel(got, expected) < RTOL, (name, q, c, got, expected)


@pytest.mark.parametrize("q", QS)
def test_two_dimensional_rule_derivative_kernels(q):
    """The 2-D rule's E[phi'(u1) phi'(u2)] (the slope of the correlation map,
    chi_c / sigma_w2) for relu ((pi - theta) / (2 pi), a discontinuous
    integrand) and erf, and E[phi(u1) phi(u2)] itself, against closed forms."""
    for c in [-0.9, 0.0, 0.5, 0.99, 0.999999]:
        pp, dd, _, _ = _Act("relu", None).moments2(q, c)
        assert _rel(pp, _relu_kernel(q, c)) < RTOL
        assert _rel(dd, (math.pi - math.acos(c)) / (2 * math.pi)) < RTOL
        pp, dd, _, _ = _Act("erf", None).moments2(q, c)
        assert abs(pp - _erf_kernel(q, c)) < RTOL * _erf_phi2(q)
        assert _rel(dd, _erf_dkernel(q, c)) < RTOL


@pytest.mark.parametrize("q", QS)
def test_sin_closed_forms(q):
    """sin: E[sin^2] = (1 - e^{-2q}) / 2, E[cos^2] = (1 + e^{-2q}) / 2 up to
    q = 1e6 (thousands of periods under the Gaussian), and the correlation
    map (e^{-q(1-c)} - e^{-q(1+c)}) / (1 - e^{-2q}) where the 2-D rule stays
    within budget (q <= 100)."""
    phi2 = 0.5 * -math.expm1(-2 * q)
    assert _rel(mf.length_map("sin", q, 1.0, 0.0), phi2) < RTOL
    sigma_w2, chi = _chi1_via_public("sin", q, phi2)
    assert _rel(chi, sigma_w2 * 0.5 * (1 + math.exp(-2 * q))) < RTOL
    if q <= 100:
        for c in [-0.5, 0.3, 0.9, 0.999]:
            expected = (math.exp(-q * (1 - c)) - math.exp(-q * (1 + c))) / -math.expm1(-2 * q)
            # absolute: at q = 100, c = 0.3 the value is 1e-31, far below rounding of E[phi^2]
            assert abs(mf.correlation_map("sin", c, q, 1.0, 0.0) - expected) < RTOL * max(abs(expected), 1e-6)


# ---------------------------------------------------------------------------
# quad cross-checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REF))
def test_one_dimensional_against_quad(name):
    """E[phi^2], E[phi'^2] and the slope of the length map against piecewise
    adaptive quad at q = 1e-4 .. 1e6 (sin: q <= 100, see test_sin_closed_forms).
    The slope reference is the Stein form sigma_w2 E[phi^2 (u^2 - q)] / (2 q^2)
    (the module uses the chain rule E[u phi phi'] / q)."""
    phi, dphi = REF[name]
    param = 0.01 if name == "leaky_relu" else None
    worst = 0.0
    for q in QS:
        if name == "sin" and q > 100:
            continue
        phi2 = quad_gauss(lambda u: phi(u) ** 2, q)
        dphi2 = quad_gauss(lambda u: dphi(u) ** 2, q)
        value = mf.length_map(name, q, 1.0, 0.0, param=param)
        sigma_w2, chi = _chi1_via_public(name, q, phi2)
        errors = [_rel(value, phi2), _rel(chi, sigma_w2 * dphi2)]
        stein = quad_gauss(lambda u: phi(u) ** 2 * (u * u - q), q) / (2 * q * q)
        _, _, uphidphi = _Act(name, param).moments(q)
        slope = uphidphi[0] / q
        # the Stein reference itself cancels to ~1e-13 of E[phi^2 u^2] / q^2;
        # for sin the slope e^{-2q} vanishes, so compare on that scale
        scale = max(abs(stein), quad_gauss(lambda u: phi(u) ** 2 * u * u, q) / (2 * q * q))
        errors.append(abs(slope - stein) / scale)
        worst = max(worst, *errors)
        assert max(errors) < RTOL, (name, q, errors)
    print(f"{name}: worst relative error vs quad {worst:.2e}")


@pytest.mark.parametrize("name, q, c", [
    ("tanh", 1.0, 0.6), ("tanh", 100.0, 0.95), ("hardtanh", 1.0, -0.4),
    ("hardtanh", 4.0, 0.9), ("elu", 2.0, 0.7), ("selu", 1.0, 0.95), ("gelu", 1e4, 0.5),
])
def test_two_dimensional_against_quad(name, q, c):
    """E[phi(u1) phi(u2)] and E[phi'(u1) phi'(u2)] against an iterated quad,
    for smooth, kinked (hardtanh: phi' is an indicator) and saturated cases."""
    phi, dphi = REF[name]
    pp, dd, phi2, _ = _Act(name, None).moments2(q, c)
    ref_pp = quad_gauss2(phi, phi, q, c)
    ref_dd = quad_gauss2(dphi, dphi, q, c)
    assert abs(pp - ref_pp) < 1e-9 * phi2, (pp, ref_pp)
    assert _rel(dd, ref_dd) < 1e-9, (dd, ref_dd)


def test_gauss_hermite_is_not_enough():
    """Why the composite rule: 200-node Gauss-Hermite is off by far more than
    1e-8 for tanh's E[phi'^2] at q = 1e4, where the module is not."""
    z, w = np.polynomial.hermite_e.hermegauss(200)
    q = 1e4
    gh = np.sum(w * (1 - np.tanh(math.sqrt(q) * z) ** 2) ** 2) / math.sqrt(2 * math.pi)
    reference = quad_gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q)
    _, dphi2, _ = _Act("tanh", None).moments(q)
    assert _rel(gh, reference) > 1e-4
    assert _rel(dphi2[0], reference) < RTOL


# ---------------------------------------------------------------------------
# Fixed points and depth scales
# ---------------------------------------------------------------------------
def test_relu_fixed_points_closed_form():
    """relu: q* = sigma_b2 / (1 - sigma_w2 / 2) for sigma_w2 < 2, inf above;
    0 when sigma_b2 = 0 and sigma_w2 < 2; any q (the start) at sigma_w2 = 2."""
    for sw, sb in [(1.0, 0.5), (1.8, 0.1), (0.5, 2.0), (1.99, 0.01)]:
        assert _rel(mf.fixed_point_q("relu", sw, sb), sb / (1 - sw / 2)) < 1e-12
    assert mf.fixed_point_q("relu", 2.2, 0.1) == math.inf
    assert mf.fixed_point_q("relu", 2.0, 0.1) == math.inf
    assert mf.fixed_point_q("relu", 1.5, 0.0) == 0.0
    assert _rel(mf.fixed_point_q("relu", 2.0, 0.0, q0=3.0), 3.0) < 1e-12


def test_erf_fixed_point_and_scales_closed_form():
    """erf, ordered and chaotic: q*, c*, chi1, chi_c and all three depth
    scales from the closed-form kernels solved with brentq."""
    for sw, sb in [(1.5, 0.2), (4.0, 0.1), (8.0, 0.5)]:
        q_star = optimize.brentq(lambda q: sw * _erf_phi2(q) + sb - q, 1e-12, 1e6, xtol=1e-15, rtol=1e-15)
        chi = sw * _erf_dphi2(q_star)
        # slope of the length map: d/dq (2/pi) asin(2q / (1 + 2q))
        slope = sw * 4.0 / math.pi / ((1 + 2 * q_star) * math.sqrt(1 + 4 * q_star))
        if chi > 1:
            c_star = optimize.brentq(lambda c: (sw * _erf_kernel(q_star, c) + sb) / q_star - c,
                                     -0.999, 1 - 1e-9, xtol=1e-15, rtol=1e-15)
        else:
            c_star = 1.0
        chi_c = sw * _erf_dkernel(q_star, c_star)
        got = mf.depth_scales("erf", sw, sb)
        assert _rel(got["q_star"], q_star) < 1e-12
        assert abs(got["c_star"] - c_star) < 1e-10, (got["c_star"], c_star)
        assert _rel(got["chi1"], chi) < RTOL
        assert _rel(got["chi_c"], chi_c) < 1e-9
        assert _rel(got["xi_q"], -1 / math.log(slope)) < 1e-9
        assert _rel(got["xi_c"], -1 / math.log(chi_c)) < 1e-8
        assert _rel(got["xi_grad"], -1 / math.log(chi)) < 1e-9
        assert mf.fixed_point_c("erf", sw, sb) == got["c_star"]
        assert mf.chi1("erf", sw, sb) == got["chi1"]


def test_tanh_phases():
    """tanh: ordered phase (c* = 1, chi_c = chi1, xi_grad > 0), chaotic phase
    (c* < 1 checked as a fixed point of an iterated-quad correlation map,
    xi_grad < 0), sigma_b2 = 0 (odd phi: c* = 0 in the chaotic phase), and
    the critical point sigma_w2 = 1, sigma_b2 = 0 (q* = 0, infinite scales)."""
    phi, dphi = REF["tanh"]
    ordered = mf.depth_scales("tanh", 1.5, 0.05)
    assert ordered["c_star"] == 1.0 and ordered["chi1"] < 1 and ordered["xi_grad"] > 0
    assert _rel(ordered["chi_c"], ordered["chi1"]) < 1e-12
    q_star = optimize.brentq(lambda q: 1.5 * quad_gauss(lambda u: phi(u) ** 2, q) + 0.05 - q, 0.05, 10,
                             xtol=1e-14, rtol=1e-14)
    assert _rel(ordered["q_star"], q_star) < 1e-10
    assert _rel(ordered["chi1"], 1.5 * quad_gauss(lambda u: dphi(u) ** 2, q_star)) < 1e-10

    chaotic = mf.depth_scales("tanh", 2.5, 0.05)
    q, c = chaotic["q_star"], chaotic["c_star"]
    assert 0 < c < 1 and chaotic["chi1"] > 1 and chaotic["xi_grad"] < 0
    assert abs((2.5 * quad_gauss2(phi, phi, q, c) + 0.05) / q - c) < 1e-9
    assert _rel(chaotic["chi_c"], 2.5 * quad_gauss2(dphi, dphi, q, c)) < 1e-9
    assert chaotic["chi_c"] < 1 and chaotic["xi_c"] > 0

    assert abs(mf.fixed_point_c("tanh", 2.0, 0.0)) < 1e-12
    critical = mf.depth_scales("tanh", 1.0, 0.0)
    assert critical["q_star"] == 0.0 and critical["chi1"] == pytest.approx(1.0, abs=1e-15)
    assert critical["xi_grad"] == math.inf and math.isnan(critical["c_star"])


# ---------------------------------------------------------------------------
# The critical line
# ---------------------------------------------------------------------------
def test_critical_points_at_zero_bias():
    """sigma_b2 = 0: relu 2, leaky_relu 2 / (1 + a^2), linear 1, tanh 1,
    erf pi / 4 (1 / phi'(0)^2); relu and linear have no critical point with
    a finite q* for sigma_b2 > 0."""
    assert mf.critical_line("relu", 0.0) == pytest.approx(2.0, rel=1e-14)
    assert mf.critical_line("leaky_relu", 0.0, param=0.2) == pytest.approx(2 / 1.04, rel=1e-14)
    assert mf.critical_line("linear", 0.0) == pytest.approx(1.0, rel=1e-14)
    assert mf.critical_line("tanh", 0.0) == pytest.approx(1.0, rel=1e-14)
    assert mf.critical_line("erf", 0.0) == pytest.approx(math.pi / 4, rel=1e-14)
    assert np.isnan(mf.critical_line("relu", [0.5, 1.0])).all()
    with pytest.raises(ValueError, match="linear has no critical point at sigma_b2=0.1"):
        mf.critical_line("linear", 0.1)


def test_erf_critical_line_closed_form():
    """erf: sigma_b2(q*) = q* - E[phi^2] / E[phi'^2] in closed form, solved
    with brentq for each sigma_b2; sigma_w2 = 1 / E[phi'^2](q*)."""
    targets = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 5.0])
    got, q_got = mf.critical_line("erf", targets, return_q_star=True)
    for target, value, q_value in zip(targets, got, q_got):
        q_star = optimize.brentq(lambda q: q - _erf_phi2(q) / _erf_dphi2(q) - target, 1e-10, 1e6,
                                 xtol=1e-15, rtol=1e-15)
        assert _rel(q_value, q_star) < 1e-10
        assert _rel(value, 1.0 / _erf_dphi2(q_star)) < RTOL


@pytest.mark.parametrize("name", ["tanh", "hardtanh", "sin"])
def test_chi1_is_one_on_the_critical_line(name):
    """On the returned line, q* solved from a quad-based length map and chi1
    recomputed with quad at that q* equals 1 to 1e-9; so does the module's
    own chi1 (which finds q* by itself from q0 = 1)."""
    phi, dphi = REF[name]
    targets = [0.05, 0.3, 1.0]
    sigma_w2 = mf.critical_line(name, targets)
    for sb, sw in zip(targets, sigma_w2):
        q_star = optimize.brentq(lambda q: sw * quad_gauss(lambda u: phi(u) ** 2, q) + sb - q,
                                 sb, 50.0, xtol=1e-14, rtol=1e-14)
        assert abs(sw * quad_gauss(lambda u: dphi(u) ** 2, q_star) - 1.0) < 1e-9, (sb, sw, q_star)
        assert abs(mf.chi1(name, sw, sb) - 1.0) < 1e-9


def test_critical_line_speed():
    """100 values of sigma_b2 in under 2 s (the target is 1 s; measured
    ~0.15 s for tanh)."""
    values = np.linspace(0.0, 3.0, 100)
    mf.critical_line("tanh", values[:2])  # warm up
    for name in ["tanh", "gelu", "sin"]:
        start = time.perf_counter()
        result = mf.critical_line(name, values)
        elapsed = time.perf_counter() - start
        print(f"critical_line({name!r}, 100 values): {elapsed:.3f} s")
        assert elapsed < 2.0, (name, elapsed)
        assert np.isfinite(result).all() and result.shape == (100,)


def test_critical_line_is_monotone_for_tanh():
    """The tanh critical sigma_w2 rises with sigma_b2 (Poole et al. Fig. 2)."""
    values = mf.critical_line("tanh", np.linspace(0.0, 2.0, 21))
    assert np.all(np.diff(values) > 0)


# ---------------------------------------------------------------------------
# Length map, predictions, simulation
# ---------------------------------------------------------------------------
def test_length_map_shapes_and_predict_q_recursion():
    """length_map keeps q's shape (float for a scalar); predict_q applies
    q^1 = sigma_w2 q0 + sigma_b2, then the length map (relu: q^{l+1} =
    0.9 q^l + 0.1 for sigma_w2 = 1.8, sigma_b2 = 0.1)."""
    grid = np.array([[0.5, 1.0], [2.0, 4.0]])
    out = mf.length_map("relu", grid, 1.8, 0.1)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, 0.9 * grid + 0.1, rtol=1e-14)
    assert isinstance(mf.length_map("tanh", 1.0, 1.0, 0.0), float)
    predicted = mf.predict_q("relu", 12, 1.8, 0.1, 3.0)
    expected = [1.8 * 3.0 + 0.1]
    for _ in range(11):
        expected.append(0.9 * expected[-1] + 0.1)
    np.testing.assert_allclose(predicted, expected, rtol=1e-13)
    deep = mf.predict_q("tanh", 200, 1.5, 0.05, 1.0)
    assert _rel(deep[-1], mf.fixed_point_q("tanh", 1.5, 0.05)) < 1e-9


def _simulate(phi, width, depth, sigma_w2, sigma_b2, q0, seeds, batch):
    """mean_i (h_i^l)^2 of a plain float64 MLP, averaged over a batch of
    inputs with mean(x^2) = q0, for each seed: shape (len(seeds), depth)."""
    result = np.empty((len(seeds), depth))
    for k, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((width, batch))
        x *= np.sqrt(q0 / np.mean(x * x, axis=0))
        for layer in range(depth):
            weight = rng.standard_normal((width, width)) * math.sqrt(sigma_w2 / width)
            bias = rng.standard_normal((width, 1)) * math.sqrt(sigma_b2)
            h = weight @ x + bias
            result[k, layer] = np.mean(h * h)
            x = phi(h)
    return result


@pytest.mark.parametrize("name, phi, sigma_w2, sigma_b2, seeds", [
    ("tanh", np.tanh, 1.5, 0.05, 40),
    ("relu", lambda h: np.maximum(h, 0.0), 1.8, 0.1, 24),
])
def test_predict_q_matches_simulated_networks(name, phi, sigma_w2, sigma_b2, seeds):
    """Width 1000, depth 10, q0 = 1; `seeds` independent networks (seeds
    1000...), each fed 8 inputs. Per layer, the ensemble mean of
    mean_i (h_i^l)^2 must be within 5 standard errors (taken across the
    networks) plus 2/width relative of predict_q.

    Why this tolerance: given layer l-1, h^l is exactly Gaussian with
    variance Q = sigma_w2 mean(phi(h^{l-1})^2) + sigma_b2, so E[Q^{l+1}] =
    E[length_map(Q^l)] is the mean-field prediction up to a Jensen bias
    O(Var Q^l) = O(1/width) -- allowed for by the 2/width term. The spread
    of one network's q^l grows with depth: for relu its relative variance
    is about exp(5 sum_l 1/n_l) - 1 (Hanin & Rolnick 2018), 0.05 here, so
    single networks scatter by ~20% at layer 10 and only an ensemble
    average can be compared; the 8 inputs of one network share its weights,
    so the standard error is taken across networks. With 20 comparisons at
    5 standard errors a false failure has probability ~1e-5, and the seeds
    are fixed."""
    width, depth = 1000, 10
    samples = _simulate(phi, width, depth, sigma_w2, sigma_b2, 1.0, range(1000, 1000 + seeds), 8)
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / math.sqrt(seeds)
    predicted = mf.predict_q(name, depth, sigma_w2, sigma_b2, 1.0)
    tolerance = 5 * stderr + 2.0 / width * predicted
    assert np.all(np.abs(mean - predicted) <= tolerance), (mean, predicted, stderr)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
NAN = float("nan")
ERRORS = [
    ("unknown-activation", lambda: mf.length_map("nope", 1.0, 1.0, 0.0), ValueError, ["'nope'", "tanh"]),
    ("negative-sigma_w2", lambda: mf.fixed_point_q("tanh", -1.0, 0.0), ValueError, ["sigma_w2", "-1"]),
    ("negative-sigma_b2", lambda: mf.chi1("tanh", 1.0, -0.5), ValueError, ["sigma_b2", "-0.5"]),
    ("nan-sigma_w2", lambda: mf.depth_scales("tanh", NAN, 0.0), ValueError, ["sigma_w2", "nan"]),
    ("bool-sigma_b2", lambda: mf.length_map("tanh", 1.0, 1.0, True), TypeError, ["sigma_b2", "True"]),
    ("str-sigma_w2", lambda: mf.length_map("tanh", 1.0, "1", 0.0), TypeError, ["sigma_w2", "'1'"]),
    ("negative-q", lambda: mf.length_map("tanh", [1.0, -2.0], 1.0, 0.0), ValueError, ["q", "-2"]),
    ("nan-q", lambda: mf.length_map("tanh", NAN, 1.0, 0.0), ValueError, ["q", "nan"]),
    ("str-q", lambda: mf.length_map("tanh", "1", 1.0, 0.0), TypeError, ["q", "'1'"]),
    ("zero-q-correlation", lambda: mf.correlation_map("tanh", 0.5, 0.0, 1.0, 0.0), ValueError, ["q", "0"]),
    ("c-above-1", lambda: mf.correlation_map("tanh", 1.5, 1.0, 1.0, 0.0), ValueError, ["c", "1.5"]),
    ("c0-below-minus-1", lambda: mf.fixed_point_c("tanh", 1.0, 0.0, c0=-2.0), ValueError, ["c0", "-2"]),
    ("negative-q0", lambda: mf.fixed_point_q("tanh", 1.0, 0.0, q0=-1.0), ValueError, ["q0", "-1"]),
    ("zero-depth", lambda: mf.predict_q("tanh", 0, 1.0, 0.0, 1.0), ValueError, ["depth", "0"]),
    ("float-depth", lambda: mf.predict_q("tanh", 2.5, 1.0, 0.0, 1.0), TypeError, ["depth", "2.5"]),
    ("param-without-one", lambda: mf.length_map("tanh", 1.0, 1.0, 0.0, param=0.1), ValueError, ["tanh", "param"]),
    ("negative-sigma_b2-line", lambda: mf.critical_line("tanh", [0.1, -0.2]), ValueError, ["sigma_b2", "-0.2"]),
    ("sin-huge-q", lambda: mf.length_map("sin", 1e12, 1.0, 0.0), ValueError, ["q=", "sin"]),
    ("activation-not-str", lambda: mf.length_map(3, 1.0, 1.0, 0.0), TypeError, ["activation", "3"]),
]


@pytest.mark.parametrize("case", ERRORS, ids=[case[0] for case in ERRORS])
def test_errors_name_parameter_and_value(case, assert_raises):
    _, func, exc, needles = case
    assert_raises(exc, func, *needles)


def test_public_names():
    assert sorted(mf.__all__) == sorted([
        "length_map", "fixed_point_q", "correlation_map", "fixed_point_c", "chi1",
        "depth_scales", "critical_line", "predict_q", "predict_network", "gaussian_moments"])
    for name in mf.__all__:
        assert getattr(mf, name).__doc__ and "References" in getattr(mf, name).__doc__


@pytest.mark.parametrize("q", [1e-3, 0.5, 2.0, 1e4])
def test_gaussian_moments_closed_forms(q):
    # relu: E[phi^2] = q/2, E[phi'^2] = 1/2; erf (Williams 1997):
    # E[erf(u)^2] = (2/pi) asin(2q/(1+2q)), E[erf'(u)^2] = (4/pi)/sqrt(1+4q)
    f2, d2 = mf.gaussian_moments("relu", q)
    assert f2[0] == pytest.approx(q / 2, rel=1e-13) and d2[0] == pytest.approx(0.5, rel=1e-13)
    f2, d2 = mf.gaussian_moments("erf", q)
    assert f2[0] == pytest.approx(2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)), rel=1e-12)
    assert d2[0] == pytest.approx(4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-12)


def test_predict_network_linear_closed_form():
    # linear layers: q_l = s_w2[l] q_{l-1} + s_b2[l]; E[phi'^2] = 1;
    # E[delta_l^2] = prod_{k>l} s_w2[k] n_k / n_{k-1}
    widths = [5, 7, 3, 11]
    sw, sb = [0.5, 2.0, 1.5], [0.1, 0.0, 0.3]
    p = mf.predict_network(["linear"] * 3, sw, sb, widths, 2.0)
    q, expect_q = 2.0, []
    for l in range(3):
        q = sw[l] * q + sb[l]
        expect_q.append(q)
    np.testing.assert_allclose(p["q"], expect_q, rtol=1e-14)
    np.testing.assert_allclose(p["phi2"], expect_q, rtol=1e-13)
    expect_d = [sw[1] * widths[2] / widths[1] * sw[2] * widths[3] / widths[2], sw[2] * widths[3] / widths[2], 1.0]
    np.testing.assert_allclose(p["delta2"], expect_d, rtol=1e-13)


def test_predict_network_matches_predict_q():
    p = mf.predict_network(["tanh"] * 4, [1.5] * 4, [0.05] * 4, [10] * 5, 1.0)
    np.testing.assert_allclose(p["q"], mf.predict_q("tanh", 4, 1.5, 0.05, 1.0), rtol=1e-14)


def test_predict_network_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one activation"):
        mf.predict_network(["tanh"] * 2, [1.0], [0.0, 0.0], [3, 3, 3], 1.0)
