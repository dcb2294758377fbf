"""initcore.datasets: shapes, label balance, geometry, determinism by seed, and
check_xy's errors.

Balance tests are exact binomial tests (p > 1e-4, conftest) with the sample
size written beside each; the expected rates come from the generators'
definitions (symmetry arguments in their docstrings, or exact class splits),
not from initcore output.
"""
import math

import numpy as np
import pytest
from scipy import stats

import initcore
from initcore import datasets

GENERATORS = {
    "placement": lambda n, seed: datasets.placement(n, seed=seed),
    "moons": lambda n, seed: datasets.moons(n, seed=seed),
    "circles": lambda n, seed: datasets.circles(n, seed=seed),
    "spirals": lambda n, seed: datasets.spirals(n, seed=seed),
    "spirals3": lambda n, seed: datasets.spirals(n, n_classes=3, seed=seed),
    "high_dimensional": lambda n, seed: datasets.high_dimensional(n, 40, seed=seed),
}
FEATURES = {"placement": 2, "moons": 2, "circles": 2, "spirals": 2, "spirals3": 2, "high_dimensional": 40}


def _logistic_accuracy(X, y, steps=60):
    """Training accuracy of logistic regression fitted by Newton's method
    (plain NumPy float64): the best a straight boundary does, near enough."""
    Xb = np.column_stack([X, np.ones(len(X))])
    w = np.zeros(Xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-Xb @ w))
        hessian = (Xb * (p * (1 - p))[:, None]).T @ Xb + 1e-8 * np.eye(Xb.shape[1])
        w -= np.linalg.solve(hessian, Xb.T @ (p - y))
    return float(np.mean((Xb @ w > 0) == y))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_shapes_dtypes_and_determinism(name):
    X, y = GENERATORS[name](301, 7)
    assert X.shape == (301, FEATURES[name]) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (301,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    X2, y2 = GENERATORS[name](301, 7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = GENERATORS[name](301, 8)
    assert not np.array_equal(X, X3)
    # a Generator works as the seed, and takes successive draws
    gen = initcore.Generator(7)
    first, second = GENERATORS[name](301, gen), GENERATORS[name](301, gen)
    assert np.array_equal(first[0], X) and not np.array_equal(second[0], X)


@pytest.mark.parametrize("name,classes", [("moons", 2), ("circles", 2), ("spirals", 2), ("spirals3", 3)])
def test_shape_generators_split_classes_exactly(name, classes):
    _, y = GENERATORS[name](301, 0)
    counts = np.bincount(y, minlength=classes)
    expected = [301 // classes + (k < 301 % classes) for k in range(classes)]
    assert counts.tolist() == expected
    # rows are shuffled, not sorted by class
    assert np.any(np.diff(y) < 0)


def test_placement_is_balanced(assert_binom):
    # the score is odd and every input symmetric, so P(placed) = 1/2: n = 20000
    _, y = datasets.placement(20000, seed=11)
    assert_binom(int(y.sum()), y.size, 0.5, "placed fraction")


def test_high_dimensional_is_balanced(assert_binom):
    # odd score of a symmetric X: P(y = 1) = 1/2; n = 20000 rows of 20 features
    _, y = datasets.high_dimensional(20000, 20, seed=12)
    assert_binom(int(y.sum()), y.size, 0.5, "positive fraction")


def test_placement_raw_scales(assert_ks):
    # n = 20000: CGPA ~ U[5, 10], IQ ~ N(100, 15^2), one-sample KS each
    X, _ = datasets.placement(20000, standardize=False, seed=13)
    assert X[:, 0].min() >= 5.0 and X[:, 0].max() < 10.0
    assert_ks(X[:, 0], stats.uniform(5.0, 5.0).cdf, "CGPA")
    assert_ks(X[:, 1], stats.norm(100.0, 15.0).cdf, "IQ")


def test_placement_rule_and_standardization():
    raw, y = datasets.placement(2000, standardize=False, noise=0.0, seed=14)
    u, v = (raw[:, 0] - 7.5) / 2.5, (raw[:, 1] - 100.0) / 15.0
    assert np.array_equal(y, (v + 8.0 * u ** 7 > 0).astype(np.int64))
    X, y2 = datasets.placement(2000, noise=0.0, seed=14)
    assert np.array_equal(y, y2)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(X, (raw - raw.mean(0)) / raw.std(0), rtol=1e-12, atol=1e-12)


def test_placement_needs_a_curved_boundary():
    # The docstring's claim: no straight line does well. Logistic regression
    # (n = 4000, default noise) stays near 88%, while the Bayes rule (the
    # noiseless score's sign) is right far more often.
    X, y = datasets.placement(4000, seed=15)
    linear = _logistic_accuracy(X, y)
    assert 0.84 < linear < 0.9
    raw, y_raw = datasets.placement(4000, standardize=False, seed=15)
    u, v = (raw[:, 0] - 7.5) / 2.5, (raw[:, 1] - 100.0) / 15.0
    bayes = float(np.mean((v + 8.0 * u ** 7 > 0) == y_raw))
    assert bayes > linear + 0.07


def test_moons_and_circles_geometry():
    X, y = datasets.moons(200, noise=0.0, seed=0)
    upper = X[y == 0]
    lower = X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()
    X, y = datasets.circles(200, noise=0.0, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, rtol=1e-12)


def test_noise_is_gaussian_with_the_given_std(assert_ks):
    # circles: the noise of each coordinate is N(0, noise^2); n = 2 * 4000
    clean, y0 = datasets.circles(4000, noise=0.0, seed=3)
    noisy, y1 = datasets.circles(4000, noise=0.07, seed=3)
    # same seed: same shuffle (the noise draw comes first, the order after it,
    # at the same stream positions), so rows correspond
    assert np.array_equal(y0, y1)
    assert_ks((noisy - clean).ravel(), stats.norm(0.0, 0.07).cdf, "circle noise")


def test_spirals_geometry():
    X, y = datasets.spirals(400, noise=0.0, n_classes=4, turns=1.25, seed=0)
    r = np.hypot(*X.T)
    assert r.min() >= 0.05 - 1e-12 and r.max() <= 1.0 + 1e-12
    theta = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * math.pi * (1.25 * r + y / 4)
    # the same angle modulo 2 pi
    np.testing.assert_allclose(np.cos(theta - expected), 1.0, atol=1e-10)


def test_high_dimensional_features_are_normalized():
    X, y = datasets.high_dimensional(300, 500, seed=4)
    assert X.shape == (300, 500)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    assert 0.3 < y.mean() < 0.7  # (exact balance is tested above)


def test_high_dimensional_label_is_learnable():
    # noise=0: y = [g1 + sin(2 g2) > 0] with g1 linear in X, so even a linear
    # least-squares classifier beats chance clearly on n = 3000 rows of 10
    # features (on random labels it would get about 0.5 + sqrt(10 / 3000))
    X, y = datasets.high_dimensional(3000, 10, noise=0.0, seed=5)
    design = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(design, 2.0 * y - 1.0, rcond=None)
    assert np.mean((design @ coef > 0) == y) > 0.75


@pytest.mark.parametrize("call,needles", [
    (lambda: datasets.placement(0), ("n", "0")),
    (lambda: datasets.placement(10, noise=-1.0), ("noise", "-1")),
    (lambda: datasets.moons(1), ("n", "1")),
    (lambda: datasets.circles(10, factor=1.0), ("factor", "1.0")),
    (lambda: datasets.spirals(10, n_classes=1), ("n_classes", "1")),
    (lambda: datasets.spirals(10, turns=0.0), ("turns",)),
    (lambda: datasets.high_dimensional(10, 0), ("n_features", "0")),
])
def test_generator_argument_errors(call, needles, assert_raises):
    assert_raises(ValueError, call, *needles)


def test_generator_seed_type_error(assert_raises):
    assert_raises(TypeError, lambda: datasets.moons(10, seed="x"), "seed")


def test_check_xy_accepts_every_label_encoding():
    X = np.arange(8.0).reshape(4, 2)
    for y in ([0, 1, 1, 0], np.array([0.0, 1.0, 1.0, 0.0]), np.array([False, True, True, False]),
              [[0], [1], [1], [0]], [[1, 0], [0, 1], [0, 1], [1, 0]]):
        Xc, labels = datasets.check_xy(X, y)
        assert labels.tolist() == [0, 1, 1, 0] and labels.dtype == np.int64
        assert Xc.dtype == np.float64 and Xc.flags.c_contiguous
    _, labels = datasets.check_xy(X.astype(np.float32), [0, 2, 1, 2], n_classes=3)
    assert labels.tolist() == [0, 2, 1, 2]


@pytest.mark.parametrize("X,y,kwargs,exc,needles", [
    (np.zeros((3, 2)), [0, 1], {}, ValueError, ("X has 3 rows", "y has 2")),
    (np.zeros(3), [0, 1, 0], {}, ValueError, ("X must be 2-D", "(3,)")),
    (np.zeros((3, 2, 1)), [0, 1, 0], {}, ValueError, ("X must be 2-D", "(3, 2, 1)")),
    (np.zeros((0, 2)), [], {}, ValueError, ("X needs at least one sample",)),
    ([["a", "b"]], [0], {}, TypeError, ("X must hold real numbers",)),
    ([[0.0, np.nan], [1.0, 2.0]], [0, 1], {}, ValueError, ("X contains NaN", "row 0, column 1")),
    ([[0.0, 1.0], [np.inf, 2.0]], [0, 1], {}, ValueError, ("X contains NaN or infinity", "inf", "row 1")),
    (np.zeros((3, 2)), [0, -1, 1], {}, ValueError, ("y must hold integer class labels", "-1", "index 1")),
    (np.zeros((3, 2)), [0, 0.5, 1], {}, ValueError, ("y must hold integer class labels", "0.5", "index 1")),
    (np.zeros((2, 2)), [0, np.nan], {}, ValueError, ("y contains NaN",)),
    (np.zeros((2, 2)), ["a", "b"], {}, TypeError, ("y must hold integer class labels",)),
    (np.zeros((2, 2)), [[1, 1], [0, 1]], {}, ValueError, ("one-hot", "row 0", "[1, 1]")),
    (np.zeros((2, 2)), [[0.5, 0.5], [0, 1]], {}, ValueError, ("one-hot", "row 0")),
    (np.zeros((2, 2)), [0, 3], {"n_classes": 3}, ValueError, ("label 3", "index 1", "n_classes is 3")),
    (np.zeros((2, 2)), [[0, 1, 0], [1, 0, 0]], {"n_classes": 2}, ValueError, ("3 one-hot columns", "n_classes is 2")),
    (np.zeros((2, 2)), np.zeros((2, 2, 2)), {}, ValueError, ("y must have shape", "(2, 2, 2)")),
    (np.zeros((2, 2)), 1, {}, ValueError, ("y must have shape", "()")),
])
def test_check_xy_errors(X, y, kwargs, exc, needles, assert_raises):
    assert_raises(exc, lambda: datasets.check_xy(X, y, **kwargs), *needles)
