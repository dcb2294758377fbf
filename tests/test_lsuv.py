"""LSUV (Mishkin & Matas 2016): `initcore.lsuv` against an independent
NumPy float64 forward pass, the known one-iteration result, the orthogonal
pre-initialization, and its errors."""
import numpy as np
import pytest

import initcore


def _numpy_forward(net, x):
    """Every layer's pre-activations and activations in float64, by NumPy
    (tanh, relu and linear only)."""
    phi = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}
    a, pre, post = np.asarray(x, np.float64), [], []
    for w, b, (name, _) in zip(net.weights, net.biases, net.activations):
        z = a @ w.astype(np.float64)
        if b is not None:
            z = z + b.astype(np.float64)
        a = phi[name](z)
        pre.append(z)
        post.append(a)
    return pre, post


def _batch(n, width, seed, scale=1.0):
    return initcore.normal((n, width), std=scale, seed=seed, dtype="float64")


@pytest.mark.parametrize("dtype, tol, precision", [("float64", 1e-12, 1e-13), ("float32", 1e-5, 1e-6)])
def test_one_iteration_per_layer_with_zero_biases_on_the_pre_activations(dtype, tol, precision):
    """With zero biases the pre-activations h = a W are linear in W, so
    dividing W by sqrt(Var h) makes Var h = 1 up to rounding: every layer
    stops after exactly one rescaling, at variance 1 within 1e-13 (float64)
    or 1e-6 (float32, where the GEMM and the scaled weights round to 2^-24).
    The NumPy float64 forward pass of the resulting network agrees."""
    net = initcore.MLP([96] * 16, activation="tanh", init="normal:std=1", seed=0, dtype=dtype)
    x = _batch(200, 96, seed=1, scale=3.0)
    result = initcore.lsuv(net, x, tol=tol, max_iter=1, seed=2)
    assert result.iterations == [1] * 15 and all(result.converged)
    assert np.all(np.abs(np.array(result.variances) - 1.0) < precision), result.variances
    pre, _ = _numpy_forward(net, x.astype(dtype))
    assert np.all(np.abs([z.var() - 1.0 for z in pre]) < 10 * precision)


def test_against_numpy_with_biases_and_on_the_activations():
    """float64, relu, biases N(0, 0.1): the variance each layer reports is
    that of the NumPy float64 forward pass (to 1e-10), within tol of 1 on
    the activations (measure="post"), and biases make it take more than one
    rescaling somewhere (h is no longer linear in W)."""
    net = initcore.MLP([64] * 11, activation="relu", init="kaiming_normal", bias="normal:std=0.316",
                       seed=0, dtype="float64")
    x = _batch(300, 64, seed=1)
    result = initcore.lsuv(net, x, tol=1e-3, max_iter=30, measure="post", seed=2)
    _, post = _numpy_forward(net, x)
    measured = np.array([a.var() for a in post])
    assert np.allclose(result.variances, measured, rtol=1e-10, atol=0.0)
    assert np.all(np.abs(measured - 1.0) <= 1e-3) and all(result.converged)
    assert max(result.iterations) > 1


def test_orthogonal_pre_init_then_one_scale_per_layer():
    """Each layer's weights are an orthogonal matrix (W^T W = I for square
    layers, to 1e-5 in float32) times the layer's scale, and sigma_w2 is
    n_in E[W^2] = scale^2 for them; orthogonal=False keeps the weights'
    directions and only rescales them."""
    net = initcore.MLP([48] * 6, activation="tanh", init="normal:std=1", seed=0)
    x = _batch(128, 48, seed=1)
    result = initcore.lsuv(net, x, seed=3)
    for w, scale, sigma_w2 in zip(net.weights, result.scales, net.sigma_w2):
        q = w.astype(np.float64) / scale
        assert np.allclose(q.T @ q, np.eye(48), atol=1e-5)
        assert sigma_w2 == pytest.approx(48 * np.mean(np.square(w, dtype=np.float64)), rel=1e-5)
    assert net.labels == ["orthogonal+lsuv"] * 5
    kept = initcore.MLP([48] * 6, activation="tanh", init="normal:std=1", seed=0)
    before = [w.copy() for w in kept.weights]
    result = initcore.lsuv(kept, x, orthogonal=False)
    for w, w0, scale in zip(kept.weights, before, result.scales):
        assert np.allclose(w, w0 * np.float32(scale), rtol=1e-5)
    assert kept.labels == ["normal:std=1+lsuv"] * 5


def test_lsuv_repairs_a_badly_scaled_relu_network():
    """A 30-layer relu network from N(0, 0.01^2), width 64, multiplies the
    second moment of its signal by 0.01^2 * 64 / 2 = 0.0032 a layer: the
    output's variance is below 1e-70.
    After LSUV (orthogonal=False, only rescaling the same weights) the
    output's pre-activations have variance 1 within tol."""
    net = initcore.MLP([64] * 31, activation="relu", init="normal:std=0.01", seed=0, dtype="float64")
    x = _batch(256, 64, seed=1)
    pre, _ = _numpy_forward(net, x)
    assert pre[-1].var() < 1e-70
    initcore.lsuv(net, x, orthogonal=False)
    pre, _ = _numpy_forward(net, x)
    assert abs(pre[-1].var() - 1.0) <= 0.1


def test_same_seed_same_weights_and_the_table():
    x = _batch(64, 32, seed=1)
    nets = [initcore.MLP([32] * 5, activation="tanh", seed=0) for _ in range(2)]
    results = [initcore.lsuv(net, x, seed=7) for net in nets]
    for a, b in zip(*(net.weights for net in nets)):
        assert np.array_equal(a, b)
    assert results[0].scales == results[1].scales
    text = str(results[0])
    assert text.splitlines()[0].startswith("LSUV: variance of the pre-activations to 1 within 0.1")
    assert text.splitlines()[1].split() == ["layer", "width", "scale", "iterations", "variance", "converged"]
    assert len(text.splitlines()) == 3 + 4 and len(results[0]) == 4
    assert [row["layer"] for row in results[0].rows()] == [1, 2, 3, 4]


def test_not_converging_warns():
    """One rescaling cannot bring biased layers to 1e-9 of 1: a RuntimeWarning
    names the layer, and the result says it did not converge."""
    net = initcore.MLP([32] * 4, activation="relu", bias="normal:std=1", seed=0, dtype="float64")
    with pytest.warns(RuntimeWarning, match=r"lsuv: layer \d's pre-activations have variance"):
        result = initcore.lsuv(net, _batch(64, 32, seed=1), tol=1e-9, max_iter=1, seed=2)
    assert not all(result.converged)


@pytest.mark.parametrize("kwargs, error, needle", [
    ({"tol": -0.1}, ValueError, "tol"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"measure": "middle"}, ValueError, "measure"),
    ({"orthogonal": "yes"}, TypeError, "orthogonal must be True or False, got 'yes'"),
    ({"measure": "post"}, ValueError, "measure='post' needs activations that can have variance 1, but layer 1's tanh"),
])
def test_bad_arguments(kwargs, error, needle):
    net = initcore.MLP([8] * 3, activation="tanh", seed=0)
    with pytest.raises(error) as info:
        initcore.lsuv(net, _batch(16, 8, seed=1), **kwargs)
    assert needle in str(info.value)


def test_bad_networks_and_batches():
    with pytest.raises(TypeError, match="net must be an initcore.MLP, got list"):
        initcore.lsuv([], np.zeros((2, 2)))
    net = initcore.MLP([8] * 3, activation="tanh", seed=0)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 8\)"):
        initcore.lsuv(net, np.ones((4, 7)))
    # zero inputs and zero biases: h = 0 whatever the scale
    with pytest.raises(ValueError, match="layer 1's pre-activations have variance 0 on x"):
        initcore.lsuv(net, np.zeros((4, 8)))
    huge = initcore.MLP([8] * 3, activation="linear", init="constant:value=1e30", seed=0)
    with pytest.raises(ValueError, match=r"layer 1's pre-activations are not finite on x \(0 NaN, 32 infinite\)"):
        initcore.lsuv(huge, np.full((4, 8), 1e30, np.float32), orthogonal=False)
