"""initcore.train on the fused kernels: its gradients against finite
differences, its SGD and Adam steps against a plain NumPy float64
reimplementation, the seed documents' five claims about initialization as
assertions that would fail if the claim were false, and its argument errors.

Every reference is independent of initcore: networks are re-run forward and
backward here in NumPy float64 from the same weights. Runs are seeded, so
nothing flakes; the claims' sample sizes are written beside each test.
"""
import csv
import io
import json
import math

import numpy as np
import pytest
from scipy import stats

from initcore import MLP, datasets, train


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# name -> (phi, phi')
ACT = {
    "linear": (lambda z: z, np.ones_like),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
}


def _forward(ws, bs, acts, x):
    zs, outs, a = [], [], x
    for w, b, act in zip(ws, bs, acts):
        z = a @ w + (0.0 if b is None else b)
        a = ACT[act][0](z)
        zs.append(z)
        outs.append(a)
    return zs, outs


def _onehot(y, width):
    if width == 1:
        return y[:, None].astype(np.float64)
    out = np.zeros((y.size, width))
    out[np.arange(y.size), y] = 1.0
    return out


def _loss(loss, ws, bs, acts, x, y):
    """The batch-mean loss, written out from its definition."""
    zs, outs = _forward(ws, bs, acts, x)
    z, a = zs[-1], outs[-1]
    if loss == "mse":
        return float(np.mean((a - _onehot(y, a.shape[1])) ** 2))
    if loss == "bce":
        t = y[:, None]
        return float(np.mean(-t * np.log(_sigmoid(z)) - (1 - t) * np.log(1 - _sigmoid(z))))
    log_softmax = z - z.max(1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(1, keepdims=True))
    return float(-np.mean(log_softmax[np.arange(y.size), y]))


def _grads(loss, ws, bs, acts, x, y):
    """Backpropagation written out in NumPy float64: (dWs, dbs) of the
    batch-mean loss."""
    zs, outs = _forward(ws, bs, acts, x)
    m, width = x.shape[0], ws[-1].shape[1]
    z, a = zs[-1], outs[-1]
    if loss == "mse":
        delta = 2.0 * (a - _onehot(y, width)) / (m * width) * ACT[acts[-1]][1](z)
    elif loss == "bce":
        delta = (_sigmoid(z) - y[:, None]) / m
    else:
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        delta = (p - _onehot(y, width)) / m
    dws, dbs = [None] * len(ws), [None] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        a_prev = x if l == 0 else outs[l - 1]
        dws[l] = a_prev.T @ delta
        dbs[l] = None if bs[l] is None else delta.sum(0)
        if l > 0:
            delta = (delta @ ws[l].T) * ACT[acts[l - 1]][1](zs[l - 1])
    return dws, dbs


def _params(net):
    return [w.copy() for w in net.weights], [None if b is None else b.copy() for b in net.biases]


# (loss, widths, activations): each loss with a small float64 network
CASES = {
    "mse": ("mse", [3, 4, 5, 2], ["tanh", "softplus", "tanh"]),
    "mse_one_unit": ("mse", [3, 4, 1], ["sigmoid", "sigmoid"]),
    "bce": ("bce", [3, 4, 5, 1], ["tanh", "softplus", "sigmoid"]),
    "cross_entropy": ("cross_entropy", [3, 4, 5, 3], ["sigmoid", "tanh", "linear"]),
}


def _case(name, bias, rows=9, seed=0):
    loss, widths, acts = CASES[name]
    net = MLP(widths, activation=acts, init="xavier_normal",
              bias="normal:std=0.5" if bias else None, seed=seed, dtype="float64")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, widths[0]))
    classes = 2 if widths[-1] == 1 else widths[-1]
    y = np.arange(rows) % classes  # every class present
    rng.shuffle(y)
    return net, loss, acts, x, y


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_training_gradient_matches_finite_differences(name, bias):
    """The gradient train() applies (read back from one full-batch SGD step
    with lr = 1: W_after = W_before - dW) against central differences of the
    loss, computed from its definition in NumPy float64 (h = 1e-6)."""
    net, loss, acts, x, y = _case(name, bias)
    ws, bs = _params(net)
    train(net, x, y, loss=loss, lr=1.0, epochs=1, batch_size=len(y), seed=0, progress=False)
    applied_w = [w0 - w1 for w0, w1 in zip(ws, net.weights)]
    applied_b = [None if b0 is None else b0 - b1 for b0, b1 in zip(bs, net.biases)]
    ref_w, ref_b = _grads(loss, ws, bs, acts, x, y)
    h = 1e-6
    for group, applied, ref in ((ws, applied_w, ref_w), (bs, applied_b, ref_b)):
        for index, p in enumerate(group):
            if p is None:
                assert applied[index] is None and net.biases[index] is None
                continue
            fd = np.empty_like(p)
            for i in np.ndindex(p.shape):
                saved = p[i]
                p[i] = saved + h
                up = _loss(loss, ws, bs, acts, x, y)
                p[i] = saved - h
                down = _loss(loss, ws, bs, acts, x, y)
                p[i] = saved
                fd[i] = (up - down) / (2 * h)
            scale = np.abs(fd).max()
            assert scale > 1e-6, "a gradient that is zero everywhere checks nothing"
            # the written-out backpropagation (the reference of the step
            # tests below) and the kernels' gradient both agree with the
            # differences
            np.testing.assert_allclose(ref[index], fd, rtol=1e-6, atol=1e-8 * scale)
            np.testing.assert_allclose(applied[index], fd, rtol=1e-6, atol=1e-8 * scale)


def _reference_run(optimizer, steps, net, loss, acts, x, y, lr, momentum=0.0, betas=(0.9, 0.999),
                   eps=1e-8):
    """`steps` full-batch updates in NumPy float64."""
    ws, bs = _params(net)
    params = ws + [b for b in bs if b is not None]
    state = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        dws, dbs = _grads(loss, ws, bs, acts, x, y)
        grads = dws + [d for d in dbs if d is not None]
        for p, g, m, v in zip(params, grads, state, second):
            if optimizer == "sgd":
                m[...] = momentum * m + g
                p -= lr * m
            else:
                m[...] = betas[0] * m + (1 - betas[0]) * g
                v[...] = betas[1] * v + (1 - betas[1]) * g * g
                m_hat = m / (1 - betas[0] ** t)
                v_hat = v / (1 - betas[1] ** t)
                p -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return ws, bs


@pytest.mark.parametrize("optimizer,kwargs,steps", [
    ("sgd", {"lr": 0.3}, 1),
    ("sgd", {"lr": 0.2, "momentum": 0.9}, 3),
    ("adam", {"lr": 0.05}, 1),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}, 3),
])
@pytest.mark.parametrize("name", ["bce", "cross_entropy"])
def test_optimizer_steps_match_numpy(optimizer, kwargs, steps, name):
    """Full-batch steps (one per epoch) against the same steps in NumPy
    float64: SGD, SGD with momentum (v <- mu v + g, p <- p - lr v) and Adam
    (Kingma & Ba 2015, Algorithm 1)."""
    net, loss, acts, x, y = _case(name, bias=True, seed=3)
    ref_w, ref_b = _reference_run(optimizer, steps, net, loss, acts, x, y, **kwargs)
    before = _params(net)
    result = train(net, x, y, optimizer=optimizer, epochs=steps, batch_size=len(y), seed=1,
                   progress=False, **kwargs)
    assert result.history[-1]["steps"] == steps
    for got, want, start in zip(net.weights + net.biases, ref_w + ref_b, before[0] + before[1]):
        # the update is not negligible, so agreeing with the reference means
        # the step was taken as written
        assert np.abs(want - start).max() > 1e-3
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_minibatch_epoch_covers_every_row_once():
    """An epoch of mini-batches of a linear model with mse and lr small: the
    summed updates equal one full-batch update scaled by the number of
    batches up to O(lr^2), and the step count is ceil(n / batch_size)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 3))
    y = rng.integers(0, 2, 40)
    net = MLP([3, 1], activation="linear", init="xavier_normal", seed=0, dtype="float64")
    w0 = net.weights[0].copy()
    lr = 1e-6
    result = train(net, x, y, lr=lr, epochs=1, batch_size=8, seed=2, progress=False)
    assert result.history[-1]["steps"] == 5
    # each batch's mean gradient, summed over the 5 batches = 5 x full mean
    # gradient, when the weights hardly move between steps
    full = _grads("mse", [w0], [net.biases[0] * 0], ["linear"], x, y)[0][0]
    np.testing.assert_allclose((w0 - net.weights[0]) / lr, 5 * full, rtol=1e-4)


# ---- the seed documents' claims -------------------------------------------------------------

def _fit(widths, acts, init, X, y, *, epochs, seed=0, dtype="float64", **kwargs):
    net = MLP(widths, activation=acts, init=init, seed=seed, dtype=dtype)
    return net, train(net, X, y, epochs=epochs, seed=seed + 1, progress=False, **kwargs)


@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("width", [16, 33])
def test_zero_init_stays_at_chance_with_identical_units(act, width):
    """Claim 1. All weights zero: phi(0) = 0 for relu and tanh, so every
    hidden activation is 0, every dW above is a^T dZ = 0 and every dZ below
    is dZ W^T = 0: only the output bias learns, the network predicts one
    class, and accuracy is that class's share (placement: n = 1000,
    P(placed) = 1/2, so within [0.4, 0.6] but for a 6-sigma fluke). The
    hidden units stay bit-identical (exactly 0 here), whatever the width."""
    X, y = datasets.placement(1000, seed=0)
    net, result = _fit([2, width, width, 1], [act, act, "sigmoid"], "zeros", X, y, epochs=30, lr=0.1)
    assert all(0.4 <= acc <= 0.6 for acc in result.accuracy)
    for w, b in zip(net.weights[:-1], net.biases[:-1]):
        assert (w == w[:, :1]).all() and (b == b[0]).all()
    for record in result.history:
        for layer in record["layers"][:-1]:
            assert layer["distinct_units"] == 1 and layer["unit_spread"] == 0.0
    # the same network from He init learns and its units differ
    _, control = _fit([2, width, width, 1], [act, act, "sigmoid"], "kaiming_normal", X, y,
                      epochs=30, lr=0.1)
    assert control.accuracy[-1] > 0.9
    assert control.history[-1]["layers"][0]["distinct_units"] == width


@pytest.mark.parametrize("width", [16, 33])
def test_constant_init_keeps_units_identical_and_the_boundary_straight(width):
    """Claim 2. Weights all 0.5: every unit of a layer computes the same
    thing and gets the same gradient, so the network is a function of one
    linear projection w.x of the input (w = any column of W1), its boundary
    is a straight line, and the curved placement problem (n = 1000; a
    logistic regression gets ~0.88) is never learned to 90%.

    Exactly equal in exact arithmetic is not always bit-equal here: BLAS
    computes some output columns with a different micro-kernel (for widths
    that are not a multiple of its register block, e.g. 33), whose
    summation order or FMA use differs, so identical columns can come out
    different in the last bit. On this machine width 16 stays bit-identical
    and width 33 gets float32 differences of ~1e-10 relative, which training
    does not amplify (the spread stays at rounding level for 100 epochs). So
    the test asserts what holds for any BLAS: the spread across units is
    below 1e-6 of the activations' scale."""
    X, y = datasets.placement(1000, seed=0)
    acts = ["tanh", "tanh", "sigmoid"]
    net, result = _fit([2, width, width, 1], acts, "constant:value=0.5", X, y, epochs=30, lr=0.1,
                       dtype="float32")
    for record in result.history:
        for layer in record["layers"][:-1]:
            assert layer["unit_spread"] <= 1e-6 * layer["a_std"]
    for w in net.weights[:-1]:
        assert np.abs(w - w[:, :1]).max() <= 1e-6 * np.abs(w).max()
    assert result.accuracy.max() < 0.9 and result.epochs_to(0.9) is None
    assert result.accuracy[-1] > 0.8  # it does learn the best straight line it can
    # a function of w.x alone: moving the inputs along the boundary's
    # direction (perpendicular to w) leaves every output unchanged
    w = net.weights[0][:, 0].astype(np.float64)
    along = np.array([-w[1], w[0]]) / np.hypot(*w)
    shifted = X + 1.5 * along
    np.testing.assert_allclose(net.forward(shifted), net.forward(X), rtol=1e-5, atol=1e-6)
    # a network from He init is not, and it learns the curve
    control_net, control = _fit([2, width, width, 1], ["relu", "relu", "sigmoid"], "kaiming_normal",
                                X, y, epochs=30, lr=0.1, dtype="float32")
    assert control.accuracy[-1] >= 0.95
    assert np.abs(control_net.forward(shifted) - control_net.forward(X)).max() > 0.1


def test_small_init_vanishes_in_a_deep_sigmoid_network():
    """Claim 3. N(0, 0.01^2) weights, 10 sigmoid layers of 32 units, 500
    normalized features (n = 500): each layer multiplies the backpropagated
    signal by about 0.01 sqrt(32) / 4 = 0.014, so the first layer's
    gradient norm is below 1e-3 of the last layer's, before and all through
    training, and accuracy stays at chance (n = 500 balanced labels:
    majority share below 0.6). The remedy, Xavier with tanh, keeps the
    ratio near 1 and learns (the same network with sigmoid and Xavier still
    vanishes: sigmoid' <= 1/4, Glorot & Bengio 2010)."""
    X, y = datasets.high_dimensional(500, 500, seed=3)
    widths = [500] + [32] * 9 + [1]
    _, result = _fit(widths, ["sigmoid"] * 10, "normal:std=0.01", X, y, epochs=5, lr=0.1)
    dw = result.layer_column("dw_norm")
    assert np.all(dw[:, 0] / dw[:, -1] < 1e-3)
    assert result.accuracy.max() < 0.6
    _, remedy = _fit(widths, ["tanh"] * 9 + ["sigmoid"], "xavier_normal", X, y, epochs=5, lr=0.1)
    dw = remedy.layer_column("dw_norm")
    assert dw[0, 0] / dw[0, -1] > 1e-2
    assert remedy.accuracy[-1] >= 0.9


def test_large_init_saturates():
    """Claim 4. N(0, 1) weights on 500 normalized features: the first
    layer's pre-activations are ~N(0, 500), so a tanh unit saturates
    (|tanh| > 0.99) with probability 2 P(N(0,1) > atanh(0.99) / sqrt(500))
    = 0.906 and a sigmoid unit (outside [0.01, 0.99]) with 0.837; 256-wide
    tanh layers above get ~N(0, 256 E[tanh^2]) and saturate too. Measured
    on n = 500 rows: above 0.8 before and after 3 epochs of training, and
    the first layer within 0.03 of the Gaussian prediction. Xavier keeps
    saturation below 5%."""
    X, y = datasets.high_dimensional(500, 500, seed=4)
    for act in ("tanh", "sigmoid"):
        _, result = _fit([500, 256, 256, 256, 1], [act] * 3 + ["sigmoid"], "normal:std=1", X, y,
                         epochs=3, lr=0.1)
        sat = result.layer_column("saturated")
        bound = math.atanh(0.99) if act == "tanh" else math.log(0.99 / 0.01)
        predicted = 2 * stats.norm.sf(bound / math.sqrt(500))
        assert abs(sat[0, 0] - predicted) < 0.03
        hidden = slice(0, 3) if act == "tanh" else slice(0, 1)
        assert np.all(sat[:, hidden] > 0.8), sat
    _, remedy = _fit([500, 256, 256, 256, 1], ["tanh"] * 3 + ["sigmoid"], "xavier_normal", X, y,
                     epochs=1, lr=0.1)
    assert np.all(remedy.layer_column("saturated")[:, :3] < 0.05)


@pytest.mark.parametrize("act,init,dtype", [
    ("relu", "kaiming_normal", "float64"),
    ("tanh", "xavier_normal", "float64"),
    ("relu", "kaiming_normal", "float32"),
    ("selu", "lecun_normal", "float32"),
])
def test_remedies_learn_moons(act, init, dtype):
    """Claim 5. He (relu), Xavier (tanh) and LeCun (selu) reach at least 0.95
    training accuracy on moons (n = 1000, noise 0.1) within 50 epochs of
    SGD (lr 0.1, batches of 32), the budget of the demo; the hidden units
    all differ, except relu units that died (identically 0 on every input,
    so equal to each other)."""
    X, y = datasets.moons(1000, seed=0)
    _, result = _fit([2, 16, 16, 1], [act, act, "sigmoid"], init, X, y, epochs=50, lr=0.1, dtype=dtype)
    assert result.accuracy[-1] >= 0.95
    assert result.epochs_to(0.95) is not None and result.epochs_to(0.95) <= 50
    for layer in result.history[-1]["layers"][:-1]:
        dead = round(layer["dead_units"] * 16)
        assert layer["distinct_units"] == 16 - max(dead - 1, 0)


def test_adam_and_cross_entropy_learn_three_spirals():
    # n = 600, 3 classes (chance 1/3), 60 epochs of Adam
    X, y = datasets.spirals(600, n_classes=3, seed=0)
    net, result = _fit([2, 32, 32, 3], ["relu", "relu", "linear"], "kaiming_normal", X, y,
                       epochs=60, optimizer="adam", lr=0.01)
    assert result.config["loss"] == "cross_entropy"
    assert result.accuracy[-1] > 0.8
    assert result.loss[-1] < result.loss[0] / 2


# ---- predictions, records, determinism ------------------------------------------------------

def test_predict_and_predict_proba_match_the_definitions():
    X, y = datasets.moons(200, seed=1)
    net = MLP([2, 8, 1], activation=["tanh", "sigmoid"], init="xavier_normal", bias=0.1, seed=0,
              dtype="float64")
    result = train(net, X, y, epochs=3, seed=0, progress=False)
    _, outs = _forward(net.weights, net.biases, ["tanh", "sigmoid"], X)
    p = outs[-1][:, 0]
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba, np.column_stack([1 - p, p]), rtol=1e-12)
    assert np.array_equal(net.predict(X), (p > 0.5).astype(np.int64))
    # train's accuracy is predict's
    assert result.accuracy[-1] == np.mean(net.predict(X) == y)

    X3, y3 = datasets.spirals(90, n_classes=3, seed=1)
    net3 = MLP([2, 8, 3], activation=["tanh", "linear"], init="xavier_normal", seed=0, dtype="float64")
    z = _forward(net3.weights, net3.biases, ["tanh", "linear"], X3)[0][-1]
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(net3.predict_proba(X3), softmax, rtol=1e-12)
    assert np.array_equal(net3.predict(X3), np.argmax(z, axis=1))
    assert net3.predict(X3).dtype == np.int64


def test_predict_proba_refuses_outputs_that_are_not_probabilities(assert_raises):
    net = MLP([2, 4, 1], activation=["tanh", "tanh"], seed=0)
    assert_raises(ValueError, lambda: net.predict_proba(np.zeros((3, 2))), "predict_proba", "tanh")
    assert net.predict(np.zeros((3, 2))).shape == (3,)


@pytest.mark.parametrize("widths,acts,expected", [
    ([2, 4, 1], ["tanh", "sigmoid"], "bce"),
    ([2, 4, 3], ["tanh", "linear"], "cross_entropy"),
    ([2, 4, 1], ["tanh", "tanh"], "mse"),
    ([2, 4, 1], ["tanh", "linear"], "mse"),
    ([2, 4, 3], ["tanh", "sigmoid"], "mse"),
])
def test_auto_loss(widths, acts, expected):
    X, y = datasets.moons(20, seed=0)
    net = MLP(widths, activation=acts, seed=0)
    assert train(net, X, y, epochs=1, progress=False).config["loss"] == expected


def test_same_seed_same_run_bit_for_bit():
    X, y = datasets.placement(300, seed=0)
    runs = []
    for seed in (5, 5, 6):
        net = MLP([2, 8, 8, 1], activation=["relu", "relu", "sigmoid"], init="kaiming_normal",
                  seed=0, dtype="float32")
        result = train(net, X, y, epochs=4, batch_size=16, seed=seed, eval_batch=100, progress=False)
        runs.append((net, [{k: v for k, v in r.items() if k != "seconds"} for r in result.history]))
    (a, ha), (b, hb), (c, hc) = runs
    assert all(np.array_equal(u, v) for u, v in zip(a.weights + a.biases, b.weights + b.biases))
    assert ha == hb
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_result_records_and_exports(tmp_path):
    X, y = datasets.moons(300, seed=2)
    net = MLP([2, 8, 8, 1], activation=["relu", "relu", "sigmoid"], init="kaiming_normal", seed=0)
    result = train(net, X, y, epochs=6, batch_size=50, seed=0, eval_batch=128, progress=False)
    assert len(result) == 7 and result.history[0]["epoch"] == 0 and result.history[0]["batch_loss"] is None
    assert [r["steps"] for r in result.history] == [0, 6, 12, 18, 24, 30, 36]
    assert result.config["eval_batch"] == 128 and result.config["n"] == 300
    assert result.layer_column("saturated").shape == (7, 3)
    assert np.array_equal(result.epochs, np.arange(7.0))
    # epochs_to: the first record at or above the level
    level = float(result.accuracy[3])
    first = int(np.argmax(result.accuracy >= level))
    assert result.epochs_to(level) == first
    assert result.epochs_to(1.01) is None
    text = result.table(max_rows=4)
    assert "accuracy" in text and "|dW| first" in text and len(text.splitlines()) == 3 + 4
    data = json.loads(result.to_json(tmp_path / "r.json"))
    assert data["history"][-1]["accuracy"] == result.accuracy[-1]
    assert json.loads((tmp_path / "r.json").read_text()) == data
    rows = list(csv.DictReader(io.StringIO(result.to_csv(tmp_path / "r.csv"))))
    assert len(rows) == 7 * 3 and rows[-1]["layer"] == "3"
    assert float(rows[-1]["dw_norm"]) == result.layer_column("dw_norm")[-1, -1]
    assert "TrainResult" in repr(result)


def test_callback_can_stop_training():
    X, y = datasets.moons(200, seed=3)
    net = MLP([2, 16, 1], activation=["relu", "sigmoid"], init="kaiming_normal", seed=0)
    seen = []

    def callback(record):
        seen.append(record["epoch"])
        return record["accuracy"] >= 0.8

    result = train(net, X, y, epochs=200, seed=0, callback=callback, progress=False)
    assert result.stopped and seen == list(range(1, len(result.history)))
    assert result.accuracy[-1] >= 0.8 and result.accuracy[-2] < 0.8 and len(result.history) < 201


def test_divergence_is_reported_not_raised():
    X, y = datasets.moons(100, seed=4)
    net = MLP([2, 8, 1], activation=["relu", "linear"], init="kaiming_normal", seed=0, dtype="float64")
    result = train(net, X * 100, y, loss="mse", lr=10.0, epochs=50, seed=0, progress=False)
    assert result.diverged and len(result.history) < 51
    assert not math.isfinite(result.loss[-1]) or not all(np.isfinite(w).all() for w in net.weights)
    assert result.history[-1]["layers"] is None
    json.loads(result.to_json())  # non-finite numbers become null


def test_progress_false_is_silent(capsys):
    X, y = datasets.moons(50, seed=0)
    train(MLP([2, 4, 1], activation=["tanh", "sigmoid"], seed=0), X, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""


# ---- argument errors ------------------------------------------------------------------------

def _net(widths=(2, 4, 1), acts=("tanh", "sigmoid")):
    return MLP(list(widths), activation=list(acts), seed=0)


X2 = np.zeros((4, 2))
Y2 = np.array([0, 1, 0, 1])


@pytest.mark.parametrize("call,exc,needles", [
    (lambda: train("net", X2, Y2), TypeError, ("net", "initcore.MLP")),
    (lambda: train(_net(), X2, Y2, optimizer="rmsprop"), ValueError, ("optimizer", "rmsprop", "sgd", "adam")),
    (lambda: train(_net(), X2, Y2, optimizer=3), TypeError, ("optimizer",)),
    (lambda: train(_net(), X2, Y2, loss="hinge"), ValueError, ("loss", "hinge")),
    (lambda: train(_net(), X2, Y2, loss="cross_entropy"), ValueError, ("cross_entropy", "linear")),
    (lambda: train(_net(acts=("tanh", "tanh")), X2, Y2, loss="bce"), ValueError, ("bce", "sigmoid")),
    (lambda: train(_net(), X2, Y2, lr=0.0), ValueError, ("lr", "0.0")),
    (lambda: train(_net(), X2, Y2, lr=-1), ValueError, ("lr", "-1")),
    (lambda: train(_net(), X2, Y2, lr=float("nan")), ValueError, ("lr", "nan")),
    (lambda: train(_net(), X2, Y2, lr="fast"), TypeError, ("lr", "fast")),
    (lambda: train(_net(), X2, Y2, momentum=1.0), ValueError, ("momentum", "1.0")),
    (lambda: train(_net(), X2, Y2, betas=(0.9, 1.0)), ValueError, ("betas[1]", "1.0")),
    (lambda: train(_net(), X2, Y2, betas=0.9), TypeError, ("betas",)),
    (lambda: train(_net(), X2, Y2, eps=0.0), ValueError, ("eps",)),
    (lambda: train(_net(), X2, Y2, epochs=0), ValueError, ("epochs", "0")),
    (lambda: train(_net(), X2, Y2, epochs=1.5), TypeError, ("epochs", "1.5")),
    (lambda: train(_net(), X2, Y2, batch_size=0), ValueError, ("batch_size", "0")),
    (lambda: train(_net(), X2, Y2, eval_batch=0), ValueError, ("eval_batch", "0")),
    (lambda: train(_net(), X2, Y2, callback=3), TypeError, ("callback",)),
    (lambda: train(_net(), X2, Y2, progress="yes"), TypeError, ("progress",)),
    (lambda: train(_net(), X2, Y2, seed=-1), ValueError, ("seed",)),
    (lambda: train(_net(), X2, Y2[:3]), ValueError, ("X has 4 rows", "y has 3")),
    (lambda: train(_net(), np.zeros((4, 3)), Y2), ValueError, ("X has 3 features", "input width is 2")),
    (lambda: train(_net(), X2, [0, 1, 2, 1]), ValueError, ("label 2", "index 2", "0..1")),
    (lambda: train(_net((2, 4, 3), ("tanh", "linear")), X2, [0, 1, 3, 1]), ValueError, ("label 3", "0..2")),
    (lambda: train(_net(), X2, [0, 0.5, 1, 1]), ValueError, ("y must hold integer class labels", "0.5")),
    (lambda: train(_net(), X2, [[1, 1], [0, 1], [1, 0], [0, 1]]), ValueError, ("one-hot", "row 0")),
    (lambda: train(_net(), [[0, np.nan]] * 4, Y2), ValueError, ("X contains NaN",)),
])
def test_train_argument_errors(call, exc, needles, assert_raises):
    assert_raises(exc, call, *needles)


def test_train_accepts_one_hot_labels():
    X, y = datasets.spirals(90, n_classes=3, seed=2)
    onehot = np.eye(3, dtype=np.int64)[y]
    runs = []
    for labels in (y, onehot):
        net = MLP([2, 8, 3], activation=["tanh", "linear"], seed=0, dtype="float64")
        runs.append(train(net, X, labels, epochs=2, seed=0, progress=False).history[-1]["loss"])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("loss, widths, acts, needles", [
    ("bce", [2, 4, 1], ("tanh", "tanh"), ("bce", "sigmoid last layer", "'tanh'")),
    ("cross_entropy", [2, 4, 1], ("tanh", "linear"), ("cross_entropy", "at least 2 units", "1 'linear'")),
    ("cross_entropy", [2, 4, 3], ("tanh", "relu"), ("cross_entropy", "linear last layer", "'relu'")),
])
def test_simulate_and_train_apply_one_loss_rule(loss, widths, acts, needles, assert_raises):
    """simulate and train check a loss against the output layer with the same
    rule and the same message (before, train refused bce on several sigmoid
    units and simulate took cross-entropy on one unit)."""
    from initcore import simulate

    net = MLP(widths, activation=list(acts), seed=0, dtype="float64")
    X, y = datasets.moons(8, seed=0)
    targets = np.zeros(8, int) if loss == "cross_entropy" else np.zeros((8, widths[-1]))
    messages = []
    for call in (lambda: train(net, X, y, loss=loss, epochs=1),
                 lambda: simulate(net, X, loss=loss, targets=targets)):
        with pytest.raises(ValueError) as info:
            call()
        messages.append(str(info.value))
        assert_raises(ValueError, call, *needles)
    assert messages[0] == messages[1]


def test_bce_trains_several_sigmoid_units_on_one_hot_targets():
    """Several sigmoid outputs under bce (one-vs-rest on one-hot labels): the
    loss falls, as the same loss computed in NumPy float64 says."""
    X, y = datasets.moons(200, seed=0)
    net = MLP([2, 16, 2], activation=["tanh", "sigmoid"], seed=0, dtype="float64")
    result = train(net, X, y, loss="bce", epochs=30, lr=0.5, seed=0)
    p = 1.0 / (1.0 + np.exp(-(np.tanh(X @ net.weights[0] + net.biases[0]) @ net.weights[1] + net.biases[1])))
    onehot = np.eye(2)[y]
    reference = float(np.mean(-(onehot * np.log(p) + (1 - onehot) * np.log(1 - p))))
    assert result.loss[-1] < 0.5 * result.loss[0]
    assert math.isclose(result.loss[-1], reference, rel_tol=1e-9)
