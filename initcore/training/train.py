"""Mini-batch training on the fused layer kernels, recording per epoch what an
initialization does to a network: loss and accuracy, per-layer gradient
norms, and per-layer activation statistics (saturation, dead units, distinct
units and the spread across units)."""
import math
import numbers
import time

import numpy as np

from ..networks import _layers
from ..fills.generator import as_generator
from ..networks.losses import check_loss, encode_labels, loss_gradient, top_activation
from ..networks.mlp import MLP
from ..common.progress import Progress
from ..common.tables import cell, csv_text, json_text, text_table
from ..propagation.simulate import simulate
from ..common.validation import choice, integer, real
from .datasets import _permutation, check_xy

__all__ = ["TrainResult", "train"]

OPTIMIZERS = ("sgd", "adam")
# Per-layer fields of each epoch's record, from `simulate` on the evaluation subset.
LAYER_KEYS = ("a_mean", "a_std", "saturated", "zero", "dead_units", "distinct_units",
              "unit_spread", "q", "delta2", "dw_norm", "db_norm", "w_norm")
EPOCH_KEYS = ("epoch", "loss", "accuracy", "batch_loss", "steps", "seconds")
# Rows per forward call when the whole training set is evaluated.
_EVAL_CHUNK = 4096


class TrainResult:
    """What `train` recorded, epoch by epoch.

    Attributes
    ----------
    net : MLP
        The trained network (the same object that was passed in, trained in
        place).
    history : list of dict
        One record per epoch, starting with epoch 0 (before the first
        update), then after each epoch. Keys: ``epoch``; ``loss`` and
        ``accuracy`` on the whole training set; ``batch_loss`` (the mean of
        the epoch's mini-batch losses, None for epoch 0); ``steps`` (updates
        so far); ``seconds`` (since training started); and ``layers``, one
        dict per layer with the keys of `LAYER_KEYS` measured by
        `initcore.simulate` on the fixed evaluation subset (None if the
        parameters had become non-finite).
    config : dict
        The network and the run's settings.
    diverged : bool
        Training stopped because a parameter or the loss became NaN or
        infinite.
    stopped : bool
        Training stopped early because the callback returned True.
    """

    def __init__(self, net, config, history, diverged=False, stopped=False):
        self.net = net
        self.config = config
        self.history = history
        self.diverged = diverged
        self.stopped = stopped

    def __len__(self):
        return len(self.history)

    def __repr__(self):
        last = self.history[-1]
        return (f"<TrainResult of {self.config['network']}: {last['epoch']} epochs, "
                f"loss {last['loss']:.4g}, accuracy {last['accuracy']:.3f}"
                + (", diverged" if self.diverged else "") + ">")

    @property
    def epochs(self):
        """Epoch numbers of the records, float64 (0 is before training)."""
        return self.column("epoch")

    @property
    def loss(self):
        """Training-set loss per record, float64."""
        return self.column("loss")

    @property
    def accuracy(self):
        """Training-set accuracy per record, float64."""
        return self.column("accuracy")

    def column(self, key):
        """One epoch-level field across the records, as float64 (NaN for None)."""
        if key not in EPOCH_KEYS:
            raise ValueError(f"unknown key {key!r}; choose one of: {', '.join(EPOCH_KEYS)}")
        return np.array([np.nan if r[key] is None else r[key] for r in self.history], np.float64)

    def layer_column(self, key):
        """One per-layer field, shape (records, depth), float64 (NaN where
        it was not measured)."""
        if key not in LAYER_KEYS:
            raise ValueError(f"unknown key {key!r}; choose one of: {', '.join(LAYER_KEYS)}")
        depth = len(self.config["widths"]) - 1
        out = np.full((len(self.history), depth), np.nan)
        for i, record in enumerate(self.history):
            for j, layer in enumerate(record["layers"] or ()):
                if layer[key] is not None:
                    out[i, j] = layer[key]
        return out

    def epochs_to(self, accuracy):
        """The first epoch whose training accuracy is at least `accuracy`
        (0 if the network starts there), or None if it never gets there."""
        accuracy = real("accuracy", accuracy)
        for record in self.history:
            if record["accuracy"] >= accuracy:
                return record["epoch"]
        return None

    def _summary(self, record):
        layers = record["layers"]
        if layers is None:
            return [None] * 7
        hidden = layers[:-1] or layers
        widths = np.array(self.config["widths"][1:len(hidden) + 1], np.float64)
        sat = float(np.dot([h["saturated"] for h in hidden], widths) / widths.sum())
        dead = float(np.dot([h["dead_units"] for h in hidden], widths) / widths.sum())
        return [layers[0]["dw_norm"], layers[-1]["dw_norm"], sat, dead,
                min(h["distinct_units"] for h in hidden), max(h["unit_spread"] for h in hidden),
                record["batch_loss"]]

    def table(self, max_rows=20):
        """A readable per-epoch table: loss, accuracy, the gradient norm of
        the first and last layer, and over the hidden layers (every layer if
        there is only one): saturated and dead fractions (width-weighted),
        the fewest distinct units of any layer and the largest spread
        across units. At most `max_rows` evenly spaced epochs, always with
        the first and the last."""
        max_rows = integer("max_rows", max_rows, low=2)
        count = len(self.history)
        picks = sorted(set(np.linspace(0, count - 1, min(count, max_rows)).round().astype(int)))
        header = ["epoch", "loss", "accuracy", "|dW| first", "|dW| last", "saturated", "dead",
                  "distinct", "unit spread"]
        specs = ["d", ".4g", ".3f", ".3g", ".3g", ".1%", ".1%", "d", ".3g"]
        body = []
        for i in picks:
            record = self.history[i]
            first, last, sat, dead, distinct, spread, _ = self._summary(record)
            values = [record["epoch"], record["loss"], record["accuracy"], first, last, sat, dead,
                      distinct, spread]
            body.append([cell(v, s) for v, s in zip(values, specs)])
        c = self.config
        head = (f"{c['network']}, {c['optimizer']} lr={c['lr']:g}, loss {c['loss']}, "
                f"batch {c['batch_size']}, {c['n']} examples"
                + (" (diverged)" if self.diverged else ""))
        return head + "\n" + text_table(header, body)

    def __str__(self):
        return self.table()

    def to_dict(self):
        """config, history, diverged and stopped as plain Python types."""
        return {"config": self.config, "history": self.history, "diverged": self.diverged,
                "stopped": self.stopped}

    def to_json(self, path=None, **kwargs):
        """JSON text of `to_dict` (non-finite numbers as null); written to
        `path` when given."""
        return json_text(self.to_dict(), path, **kwargs)

    def to_csv(self, path=None):
        """One row per epoch and layer: the epoch's fields, then ``layer``
        and the layer's fields (an epoch without layer statistics has one
        row with those empty)."""
        rows = []
        for record in self.history:
            base = {k: record[k] for k in EPOCH_KEYS}
            for index, layer in enumerate(record["layers"] or [None]):
                rows.append(base if layer is None else {**base, "layer": index + 1, **layer})
        return csv_text(rows, [*EPOCH_KEYS, "layer", *LAYER_KEYS], path)


def _classify(a):
    """Labels from outputs: the rule of `MLP.predict` (one unit: a > 0.5;
    several: argmax)."""
    if a.shape[1] == 1:
        return a[:, 0] > 0.5
    return np.argmax(a, axis=1)


def _check_betas(betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    values = []
    for name, value in (("betas[0]", b1), ("betas[1]", b2)):
        value = real(name, value, low=0.0)
        if not value < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {value}")
        values.append(value)
    return tuple(values)


class _Optimizer:
    """SGD (optionally with momentum) or Adam on a list of parameter arrays.

    The updates are vectorized NumPy on the parameter arrays in place (not
    a fused kernel): they are element-wise and cheap beside the layers'
    GEMMs.
    """

    def __init__(self, kind, params, lr, momentum, betas, eps):
        self.kind, self.params, self.lr = kind, params, lr
        self.momentum, (self.beta1, self.beta2), self.eps = momentum, betas, eps
        self.t = 0
        if kind == "adam":
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        elif momentum > 0:
            self.velocity = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        if self.kind == "sgd":
            if self.momentum > 0:
                # PyTorch's form: v <- mu v + g, p <- p - lr v
                for p, g, v in zip(self.params, grads, self.velocity):
                    v *= self.momentum
                    v += g
                    p -= self.lr * v
            else:
                for p, g in zip(self.params, grads):
                    p -= self.lr * g
            return
        # Kingma & Ba (ICLR 2015), Algorithm 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


class _Trainer:
    """Buffers and kernel calls of one training run."""

    def __init__(self, net, loss, batch_size):
        self.net, self.loss = net, loss
        self.layers = [net.layer(i) for i in range(net.depth)]
        dtype, widths = net.dtype, net.widths
        self.x = np.empty((batch_size, widths[0]), dtype)
        self.z = [np.empty((batch_size, n), dtype) for n in widths[1:]]
        self.a = [np.empty((batch_size, n), dtype) for n in widths[1:]]
        self.g = [np.empty((batch_size, n), dtype) for n in widths[1:]]
        self.dw = [np.empty_like(w) for w in net.weights]
        self.db = [None if b is None else np.empty_like(b) for b in net.biases]

    def params(self):
        return list(self.net.weights) + [b for b in self.net.biases if b is not None]

    def grads(self):
        return list(self.dw) + [d for d in self.db if d is not None]

    def step(self, xs, targets, index):
        """Forward, loss gradient and backward on rows `index`; leaves the
        gradients of the batch-mean loss in dw and db and returns the
        batch's mean loss."""
        m = index.size
        x = np.take(xs, index, axis=0, out=self.x[:m])
        a_in = x
        for k, (w, b, act_id, param) in enumerate(self.layers):
            _layers.forward(a_in, w, b, self.z[k][:m], self.a[k][:m], act_id, param)
            a_in = self.a[k][:m]
        tb = targets[index]
        value, g = loss_gradient(self.loss, self.z[-1][:m], self.a[-1][:m], tb)
        # the kernels sum over the batch: scaling the top gradient by 1/m
        # makes every dW and db that of the batch-mean loss
        top = self.g[-1][:m]
        np.multiply(g, 1.0 / m, out=top, casting="unsafe")
        grad = top
        for k in range(len(self.layers) - 1, -1, -1):
            w, b, act_id, param = self.layers[k]
            if k == len(self.layers) - 1:
                act_id = top_activation(self.loss, act_id)
            x_in = x if k == 0 else self.a[k - 1][:m]
            dx = None if k == 0 else self.g[k - 1][:m]
            _layers.backward(x_in, w, self.z[k][:m], grad, dx, self.dw[k], self.db[k], act_id, param)
            grad = dx
        return value

    def evaluate(self, xs, labels, targets):
        """Loss and accuracy on the whole set, in chunks."""
        n = xs.shape[0]
        rows = min(n, _EVAL_CHUNK)
        net = self.net
        ping = [np.empty(rows * max(net.widths[1:]), net.dtype) for _ in range(2)]
        z_top = np.empty((rows, net.widths[-1]), net.dtype)
        total, correct = 0.0, 0
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            m = stop - start
            a_in = xs[start:stop]
            for k, (w, b, act_id, param), out in net.ping_pong(m, buffers=ping):
                z = z_top[:m] if k == net.depth - 1 else None
                _layers.forward(a_in, w, b, z, out, act_id, param)
                a_in = out
            value, _ = loss_gradient(self.loss, z_top[:m], a_in, targets[start:stop])
            total += value * m
            correct += int(np.count_nonzero(_classify(a_in) == labels[start:stop]))
        return total / n, correct / n


def _finite(arrays):
    return all(np.isfinite(p).all() for p in arrays)


def train(net, X, y, *, loss="auto", optimizer="sgd", lr=0.1, momentum=0.0, betas=(0.9, 0.999),
          eps=1e-8, epochs=100, batch_size=32, seed=None, eval_batch=None, progress=None,
          callback=None):
    """Train `net` in place by mini-batch gradient descent on the fused kernels.

    Each step runs the layers forward with `initcore.networks._layers.forward`
    (GEMM, bias and activation in one pass, keeping z and a), takes the loss
    gradient, runs `initcore.networks._layers.backward` from the top layer down
    (dZ, dW, db and dX in one pass per layer) and updates the parameters.
    Once before training and after every epoch it records the loss and
    accuracy on the whole training set and runs `initcore.simulate` on a
    fixed evaluation subset, so every record holds per-layer activation
    statistics and gradient norms measured by the same fused kernels: watch
    symmetry persist (``distinct_units``, ``unit_spread``), gradients vanish
    (``dw_norm``) and units saturate (``saturated``) over training.

    Parameters
    ----------
    net : MLP
        Trained in place; its dtype is the training precision.
    X : array_like
        Features, shape (n_samples, net.widths[0]), finite.
    y : array_like
        Class labels 0..K-1 of shape (n_samples,), or one-hot rows (see
        `initcore.datasets.check_xy`). A one-unit output takes labels 0 and
        1; an output of K units takes labels 0..K-1.
    loss : {"auto", "mse", "bce", "cross_entropy"}
        ``"bce"``: binary cross-entropy of a one-unit sigmoid output;
        ``"cross_entropy"``: softmax cross-entropy of a linear output of K
        units; ``"mse"``: mean squared error against 0/1 targets (one unit)
        or one-hot targets (K units). ``"auto"`` picks bce for a one-unit
        sigmoid output, cross_entropy for a linear output of several units,
        else mse.
    optimizer : {"sgd", "adam"}
        Mini-batch SGD (with `momentum`, PyTorch's form ``v <- mu v + g``,
        ``p <- p - lr v``), or Adam (Kingma & Ba 2015, with `betas` and
        `eps`, bias-corrected).
    lr : float
        Learning rate, positive. Adam usually wants about 1e-3 to 1e-2.
    momentum : float
        SGD momentum in [0, 1).
    betas : (float, float)
        Adam's decay rates, each in [0, 1).
    eps : float
        Adam's denominator term, positive.
    epochs : int
        Passes over the training set, at least 1.
    batch_size : int
        Rows per step, at least 1 (capped at n_samples). The last batch of an
        epoch holds the remainder.
    seed : int, None, numpy.random.SeedSequence or initcore.Generator
        Shuffles the rows every epoch and picks the evaluation subset. The
        same seed and network give the same result, bit for bit.
    eval_batch : int, optional
        Rows of the fixed evaluation subset on which the per-layer
        statistics are measured (default: min(n_samples, 1024); a random
        subset when smaller than the training set).
    progress : bool or None
        A progress bar on stderr, one step per epoch; None shows it on a
        terminal when training takes over a second.
    callback : callable, optional
        Called as ``callback(record)`` after each epoch with that epoch's
        history record; training stops early when it returns True.

    Returns
    -------
    TrainResult
        ``history[0]`` is the network before training, ``history[e]`` after
        epoch e. Gradient norms (``dw_norm``, ``db_norm``) are those of the
        loss averaged over the evaluation subset, measured at the end of the
        epoch with the epoch's final parameters (not averaged over the
        epoch's steps), like every other per-layer statistic. If a parameter
        or the loss becomes NaN or infinite, training stops after that epoch
        and ``diverged`` is True.

    Raises
    ------
    TypeError, ValueError
        Bad arguments, naming the parameter and the value.

    Examples
    --------
    >>> from initcore import MLP, datasets
    >>> X, y = datasets.moons(200, seed=0)
    >>> net = MLP([2, 16, 16, 1], activation=["relu", "relu", "sigmoid"],
    ...           init="kaiming_normal", seed=0, dtype="float64")
    >>> result = train(net, X, y, epochs=5, seed=0)
    >>> len(result.history), result.config["loss"]
    (6, 'bce')
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an initcore.MLP, got {type(net).__name__}")
    loss = check_loss(loss, net, auto=True)
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a string, got {optimizer!r}")
    optimizer = choice("optimizer", optimizer, OPTIMIZERS)
    lr = real("lr", lr, low=0.0, low_open=True)
    momentum = real("momentum", momentum, low=0.0)
    if not momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    betas = _check_betas(betas)
    eps = real("eps", eps, low=0.0, low_open=True)
    epochs = integer("epochs", epochs, low=1)
    batch_size = integer("batch_size", batch_size, low=1)
    if eval_batch is not None:
        eval_batch = integer("eval_batch", eval_batch, low=1)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    X, labels = check_xy(X, y)
    n, width = X.shape[0], net.widths[-1]
    if X.shape[1] != net.widths[0]:
        raise ValueError(f"X has {X.shape[1]} features, but the network's input width is "
                         f"{net.widths[0]}")
    n_classes = 2 if width == 1 else width
    if labels.max() >= n_classes:
        index = int(np.argmax(labels >= n_classes))
        raise ValueError(f"y has label {int(labels[index])} at index {index}, but the network's "
                         f"{width} output unit(s) encode labels 0..{n_classes - 1}")
    generator = as_generator(seed)
    xs = np.ascontiguousarray(X, dtype=net.dtype)
    targets = encode_labels(loss, labels, width)
    batch_size = min(batch_size, n)
    eval_rows = min(n, 1024 if eval_batch is None else eval_batch)
    eval_index = np.arange(n) if eval_rows == n else np.sort(_permutation(n, generator)[:eval_rows])
    x_eval, t_eval = xs[eval_index], targets[eval_index]

    trainer = _Trainer(net, loss, batch_size)
    opt = _Optimizer(optimizer, trainer.params(), lr, momentum, betas, eps)
    grads = trainer.grads()
    config = {
        "network": repr(net), "widths": list(net.widths),
        "activations": [list(a) for a in net.activations], "inits": list(net.labels),
        "dtype": net.dtype.name, "loss": loss, "optimizer": optimizer, "lr": lr,
        "momentum": momentum, "betas": list(betas), "eps": eps, "epochs": epochs,
        "batch_size": batch_size, "n": n, "eval_batch": eval_rows,
        "seed": int(seed) if isinstance(seed, numbers.Integral) else None,
    }
    history = []
    start = time.perf_counter()
    diverged = stopped = False

    def record(epoch, steps, batch_loss):
        value, accuracy = trainer.evaluate(xs, labels, targets)
        finite = _finite(trainer.params()) and math.isfinite(value)
        layers = None
        if finite:
            sim = simulate(net, x=x_eval, loss=loss, targets=t_eval, progress=False)
            layers = [{k: rec.get(k) for k in LAYER_KEYS} for rec in sim.layers]
        entry = {"epoch": epoch, "loss": value, "accuracy": accuracy, "batch_loss": batch_loss,
                 "steps": steps, "seconds": time.perf_counter() - start, "layers": layers}
        history.append(entry)
        return entry, finite

    steps = 0
    # A badly initialized network may overflow (exp of a huge logit is inf,
    # which the loss handles); a run that goes non-finite is caught below
    # and reported as diverged instead of warning at every step.
    with Progress(epochs, "train", progress) as bar, \
            np.errstate(over="ignore", invalid="ignore"):
        record(0, 0, None)
        for epoch in range(1, epochs + 1):
            order = _permutation(n, generator)
            losses = 0.0
            for begin in range(0, n, batch_size):
                index = order[begin:begin + batch_size]
                losses += trainer.step(xs, targets, index) * index.size
                opt.step(grads)
                steps += 1
            entry, finite = record(epoch, steps, losses / n)
            bar.step()
            if not finite:
                diverged = True
                break
            if callback is not None and callback(entry) is True:
                stopped = True
                break
    return TrainResult(net, config, history, diverged, stopped)
