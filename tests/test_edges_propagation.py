"""Edge cases of mean-field theory and of simulate found by fuzzing: relu and
other unbounded activations whose q^l grows without bound, theory out of the
quadrature's range beside a valid measurement, very deep predictions, and
inputs that overflow the network's dtype.

Expected numbers come from closed forms (relu's E[phi'^2] = 1/2 at every q;
the limits of E[phi'^2] as q -> inf from phi'(+-inf); relu's affine length
map) and scipy quadrature, never from initcore.
"""
import math
import time

import numpy as np
import pytest
from scipy import integrate, optimize

import initcore
from initcore import meanfield as mf
from initcore.propagation.meanfield import phase
from initcore.propagation.simulate import jacobian_spectrum
from reference import ref_dphi, ref_phi


def _quad_gauss(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), by scipy quad in z."""
    value, _ = integrate.quad(lambda z: f(math.sqrt(q) * z) * math.exp(-0.5 * z * z), -40, 40,
                              points=[0.0], limit=400, epsabs=0, epsrel=1e-13)
    return value / math.sqrt(2 * math.pi)


# ---------------------------------------------------------------------------
# 1. relu: chi1 = sigma_w2 / 2 at every q; no critical point for sigma_b2 > 0
# ---------------------------------------------------------------------------
def test_relu_critical_line_names_what_is_missing(assert_raises):
    """A single sigma_b2 > 0 has no relu critical point: the error names the
    activation and sigma_b2 and says where the critical point is."""
    message = assert_raises(ValueError, lambda: mf.critical_line("relu", 0.05),
                            "relu", "sigma_b2=0.05", "sigma_w2 = 2", "sigma_b2 = 0")
    assert "nan" not in message
    assert_raises(ValueError, lambda: mf.critical_line("linear", 0.1), "linear", "sigma_b2=0.1", "sigma_w2 = 1")
    # what is defined still is: the critical point at sigma_b2 = 0, and NaN
    # entries of a curve over several sigma_b2
    assert mf.critical_line("relu", 0.0) == pytest.approx(2.0, rel=1e-14)
    got = mf.critical_line("relu", [0.0, 0.05])
    assert got[0] == pytest.approx(2.0, rel=1e-14) and math.isnan(got[1])


def test_critical_line_without_solution_names_activation(assert_raises):
    """softplus: sigma_b2(q*) < 0 for every q*, so no critical point at all."""
    assert_raises(ValueError, lambda: mf.critical_line("softplus", 0.05), "softplus", "sigma_b2=0.05")
    assert np.isnan(mf.critical_line("softplus", [0.05])).all()


@pytest.mark.parametrize("sigma_w2", [1.0, 2.0, 3.0])
def test_relu_chi1_is_half_sigma_w2_in_every_phase(sigma_w2):
    """E[relu'(u)^2] = P(u > 0) = 1/2 at every q: chi1 = sigma_w2 / 2 whether
    q* is finite (sigma_w2 < 2), or q^l grows by sigma_b2 per layer (= 2) or
    geometrically (> 2)."""
    expected = sigma_w2 / 2
    assert mf.chi1("relu", sigma_w2, 0.05) == pytest.approx(expected, rel=1e-13)
    scales = mf.depth_scales("relu", sigma_w2, 0.05)
    assert scales["chi1"] == pytest.approx(expected, rel=1e-13)
    assert phase(scales["chi1"]) == ("ordered" if sigma_w2 < 2 else "critical" if sigma_w2 == 2 else "chaotic")
    if sigma_w2 == 2.0:
        assert scales["xi_grad"] == math.inf
    else:
        assert scales["xi_grad"] == pytest.approx(-1 / math.log(expected), rel=1e-12)


def test_chi1_at_a_given_q():
    """chi1(q=...) is sigma_w2 E[phi'^2] at that q, whether or not a fixed
    point exists: relu sigma_w2 / 2, tanh against quad."""
    for q in (1e-3, 1.0, 1e4):
        assert mf.chi1("relu", 3.0, 0.05, q=q) == pytest.approx(1.5, rel=1e-13)
    reference = 1.5 * _quad_gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, 2.0)
    assert mf.chi1("tanh", 1.5, 0.05, q=2.0) == pytest.approx(reference, rel=1e-10)


# ---------------------------------------------------------------------------
# 2. Unbounded activations: chi1 where q^l grows without bound
# ---------------------------------------------------------------------------
# lim_{q -> inf} E[phi'(sqrt(q) z)^2] = (phi'(+inf)^2 + phi'(-inf)^2) / 2
UNBOUNDED = ["relu", "gelu", "gelu_tanh", "softplus", "silu", "elu", "selu", "leaky_relu", "linear"]


@pytest.mark.parametrize("name", UNBOUNDED)
def test_unbounded_activations_have_chi1_where_q_diverges(name):
    sigma_w2 = 3.0
    with np.errstate(over="ignore"):  # exp(1e100) in the branch np.where drops
        limit = 0.5 * (float(ref_dphi(name, 1e100)) ** 2 + float(ref_dphi(name, -1e100)) ** 2)
    assert mf.fixed_point_q(name, sigma_w2, 0.05) == math.inf
    expected = sigma_w2 * limit
    assert mf.chi1(name, sigma_w2, 0.05) == pytest.approx(expected, rel=1e-12)
    scales = mf.depth_scales(name, sigma_w2, 0.05)
    assert scales["q_star"] == math.inf
    assert scales["chi1"] == pytest.approx(expected, rel=1e-12)
    assert scales["xi_grad"] == pytest.approx(-1 / math.log(expected), rel=1e-12)
    assert phase(scales["chi1"]) == "chaotic"


def test_q_diverges_above_the_limit_sigma_w2():
    """gelu: lim E[phi'^2] = 1/2, so q^l stays bounded from every q0 below
    sigma_w2 = 2 (a finite q*, checked against quad) and diverges from large
    q0 above it."""
    phi = lambda u: float(ref_phi("gelu", u))  # noqa: E731
    q_star = optimize.brentq(lambda q: 1.9 * _quad_gauss(lambda u: phi(u) ** 2, q) + 0.05 - q, 1e-3, 1e4,
                             xtol=1e-14, rtol=1e-14)
    for q0 in (1.0, 1e6):
        assert mf.fixed_point_q("gelu", 1.9, 0.05, q0=q0) == pytest.approx(q_star, rel=1e-10)
    assert mf.fixed_point_q("gelu", 2.1, 0.05, q0=1e6) == math.inf
    assert mf.chi1("gelu", 2.1, 0.05, q0=1e6) == pytest.approx(1.05, rel=1e-12)


# ---------------------------------------------------------------------------
# 3. simulate measures even where the theory is out of range
# ---------------------------------------------------------------------------
def test_simulate_keeps_measurements_where_theory_is_out_of_range():
    """sin at q ~ 1e12 is beyond the quadrature: the theory has layer 1's q
    (sigma_w2 q0 + sigma_b2, no expectation needed) and nothing else, shown
    "-"; every measurement is there."""
    net = initcore.MLP([16, 16, 16], activation="sin", seed=0, dtype="float64")
    sim = initcore.simulate(net, q0=1e12, batch=64, seed=1)
    assert len(sim) == 2
    first, second = sim.layers
    assert first["q_theory"] == pytest.approx(net.sigma_w2[0] * sim.config["q0"], rel=1e-14)
    assert second["q_theory"] is None
    for rec in sim.layers:
        assert rec["a2_theory"] is None and rec["delta2_theory"] is None
        assert math.isfinite(rec["q"]) and math.isfinite(rec["a2"]) and math.isfinite(rec["delta2"])
    x = np.random.default_rng(1).standard_normal((64, 16)) * 1e6
    sim = initcore.simulate(net, x, seed=1)
    a = np.sin(x @ net.weights[0].astype(np.float64))
    assert sim.layers[0]["a2"] == pytest.approx(np.mean(a * a), rel=1e-10)
    assert " - " in sim.table()


def test_simulate_theory_up_to_the_layer_out_of_range():
    """relu, sin, tanh at q0 ~ 1e12: the relu layer's theory is there (q =
    2 q0, E[relu(h)^2] = q / 2 = q0), the sin layer's q too (2 E[relu^2] =
    2 q0) but not its E[sin^2] (beyond the quadrature), nor anything of the
    tanh layer above; delta2 depends on every layer above, so it has none
    anywhere."""
    net = initcore.MLP([8, 8, 8, 8], activation=["relu", "sin", "tanh"], init="kaiming_normal", seed=0,
                       dtype="float64")
    sim = initcore.simulate(net, q0=1e12, batch=32, seed=1)
    q0 = sim.config["q0"]
    relu, sin, tanh = sim.layers
    assert relu["q_theory"] == pytest.approx(2.0 * q0, rel=1e-12)
    assert relu["a2_theory"] == pytest.approx(q0, rel=1e-12)
    assert sin["q_theory"] == pytest.approx(2.0 * q0, rel=1e-12) and sin["a2_theory"] is None
    assert tanh["q_theory"] is None and tanh["a2_theory"] is None
    assert all(rec["delta2_theory"] is None for rec in sim.layers)
    assert all(math.isfinite(rec["q"]) and math.isfinite(rec["delta2"]) for rec in sim.layers)


def test_predict_network_still_says_why():
    with pytest.raises(ValueError, match="sin"):
        mf.predict_network(["sin"], [1.0], [0.0], [4, 4], 1e12)


# ---------------------------------------------------------------------------
# 4. predict_q at great depth
# ---------------------------------------------------------------------------
def test_predict_q_is_cheap_once_q_is_stationary():
    """relu, sigma_w2 = 1, sigma_b2 = 0.5: q^l = 1 + (q^1 - 1) 2^(1 - l)
    (the affine map q -> q/2 + 1/2), so q reaches 1 after ~50 layers;
    the other 99,950 layers must not cost a quadrature each (~15 s)."""
    start = time.perf_counter()
    got = mf.predict_q("relu", 10**5, 1.0, 0.5, 3.0)
    elapsed = time.perf_counter() - start
    layers = np.arange(1, 10**5 + 1)
    expected = 1.0 + (1.0 * 3.0 + 0.5 - 1.0) * np.exp2(1.0 - layers)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert elapsed < 2.0, elapsed


def test_predict_q_bounds_depth(assert_raises):
    start = time.perf_counter()
    assert_raises(ValueError, lambda: mf.predict_q("tanh", 10**7, 1.0, 0.0, 1.0), "depth", "10000000", "100000")
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------------------
# 5. inputs that overflow the network's dtype
# ---------------------------------------------------------------------------
def test_jacobian_spectrum_refuses_overflowing_x(assert_raises):
    net = initcore.MLP([3, 3, 3], seed=0, dtype="float32")
    assert_raises(ValueError, lambda: jacobian_spectrum(net, np.full(3, 1e39)), "x", "float32", "1e+39")
    # the same x is fine in float64
    wide = initcore.MLP([3, 3, 3], seed=0, dtype="float64")
    assert jacobian_spectrum(wide, np.full(3, 1e39)).shape == (3,)


def test_simulate_refuses_overflowing_x(assert_raises):
    net = initcore.MLP([3, 3, 3], seed=0, dtype="float32")
    assert_raises(ValueError, lambda: initcore.simulate(net, np.full((2, 3), -1e39)), "x", "float32", "1e+39")


# ---------------------------------------------------------------------------
# 6. ragged targets
# ---------------------------------------------------------------------------
def test_ragged_targets_are_named(assert_raises):
    net = initcore.MLP([3, 3, 2], seed=0)
    assert_raises(ValueError, lambda: initcore.simulate(net, batch=2, loss="mse", targets=[[1.0, 2.0], [3.0]]),
                  "targets", "rectangular")


# ---------------------------------------------------------------------------
# 7. variances out of range are named up front
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("call, name", [
    (lambda: mf.critical_line("tanh", 1e308), "sigma_b2"),
    (lambda: mf.depth_scales("tanh", 1.0, 1e308), "sigma_b2"),
    (lambda: mf.fixed_point_q("relu", 1e200, 0.0), "sigma_w2"),
    (lambda: mf.chi1("tanh", 1.0, 1e101), "sigma_b2"),
    (lambda: mf.predict_network(["tanh"], [1.0], [1e308], [4, 4], 1.0), "sigma_b2"),
])
def test_huge_variances_are_named(call, name, assert_raises):
    message = assert_raises(ValueError, call, name, "1e+")
    assert "nan" not in message
