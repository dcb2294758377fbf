"""Signal propagation through a network at initialization, measured layer by
layer by the fused kernels and set beside mean-field theory."""
import math

import numpy as np

from ..networks import _layers
from ..common import workspace
from ..fills.generator import as_generator
from ..fills.initializers import normal
from ..common.blas import single_threaded_blas
from ..networks.losses import check_loss, check_targets, from_logits, loss_gradient, top_activation
from ..networks.mlp import MLP
from ..common.progress import Progress
from ..common.tables import cell, csv_text, json_text, text_table
from ..common.validation import integer, real
from ..networks.activations import get_activation

__all__ = ["Simulation", "simulate"]

FIELDS = ("count", "mean", "m2", "min", "max", "nan", "inf", "zero", "saturated")
# Above this many bytes of stored activations, checkpoint="auto" recomputes
# segments of the forward pass instead of keeping every layer.
_STORE_BUDGET = 2 << 30
# Histograms of unbounded quantities span mean +- this many standard
# deviations (within the observed range).
_HIST_SIGMAS = 4.0
# Columns of the default table: (key, header, format).
_TABLE = (
    ("layer", "layer", "d"),
    ("width", "width", "d"),
    ("q", "q (h^2)", ".4g"),
    ("q_theory", "q theory", ".4g"),
    ("a_std", "std(a)", ".4g"),
    ("saturated", "saturated", ".1%"),
    ("zero", "zero", ".1%"),
    ("dead_units", "dead units", ".1%"),
    ("distinct_units", "distinct", "d"),
    ("unit_spread", "unit spread", ".3g"),
    ("delta2", "E[delta^2]", ".4g"),
    ("delta2_theory", "theory", ".4g"),
    ("dw_norm", "|dW|", ".4g"),
    ("update_ratio", "lr|dW|/|W|", ".3g"),
)


def _moments(raw):
    """A kernel's float64[9] as named moments over the finite values."""
    count, mean, m2, lo, hi, nan, inf, zero, saturated = raw.tolist()
    var = m2 / count if count else math.nan
    if not count:
        mean = math.nan
    return {
        "count": count, "mean": mean, "var": var, "std": math.sqrt(var) if count else math.nan,
        "second_moment": var + mean * mean if count else math.nan,
        "min": lo, "max": hi, "nan": int(nan), "inf": int(inf), "zero": zero, "saturated": saturated,
    }


def _edges(lo, hi, bins):
    """numpy.linspace(lo, hi, bins + 1), the edges the kernels bin by, made
    the way linspace makes them, in half its time."""
    edges = np.arange(bins + 1, dtype=np.float64)
    edges *= (hi - lo) / bins
    edges += lo
    edges[-1] = hi
    return edges


class Simulation:
    """The per-layer result of `simulate`.

    Attributes
    ----------
    layers : list of dict
        One record per layer (see `simulate` for the keys).
    config : dict
        The network and the run's settings.
    histograms : list of dict
        Per layer: ``activations`` and (with a backward pass) ``gradients``,
        each ``{"edges": ndarray, "counts": ndarray, "below": int,
        "above": int}``.
    units : list of dict or None
        Per layer: ``mean`` and ``var`` of each unit's activation over the
        batch, when `simulate` was asked for them (``units=True``).
    """

    def __init__(self, config, layers, histograms, units):
        self.config = config
        self.layers = layers
        self.histograms = histograms
        self.units = units

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        return f"<Simulation of {self.config['network']}: {len(self.layers)} layers>"

    def column(self, key):
        """One field across layers, as a float64 array."""
        return np.array([np.nan if rec.get(key) is None else rec[key] for rec in self.layers], dtype=np.float64)

    def table(self, columns=None):
        """A readable per-layer table, measurements beside theory."""
        specs = [c for c in _TABLE if c[0] in self.layers[0]] if columns is None else \
            [c for c in _TABLE if c[0] in columns]
        body = [[cell(rec[key], fmt) for key, _, fmt in specs] for rec in self.layers]
        lines = text_table([h for _, h, _ in specs], body)
        head = (f"{self.config['network']}, batch {self.config['batch']}, "
                f"input q0 = {self.config['q0']:.4g}"
                + (f", loss {self.config['loss']}" if self.config.get("loss") else ""))
        return head + "\n" + lines

    def __str__(self):
        return self.table()

    def to_dict(self):
        """Everything as plain Python types: config, layers, histograms, units."""
        def plain(h):
            return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in h.items()}
        return {
            "config": self.config,
            "layers": self.layers,
            "histograms": [{k: plain(v) for k, v in h.items()} for h in self.histograms],
            "units": None if self.units is None else [{k: v.tolist() for k, v in u.items()} for u in self.units],
        }

    def to_json(self, path=None, **kwargs):
        """JSON text of `to_dict` (non-finite numbers as null); written to
        `path` when given."""
        return json_text(self.to_dict(), path, **kwargs)

    def to_csv(self, path=None):
        """The per-layer records as CSV (one row per layer)."""
        return csv_text(self.layers, list(self.layers[0]), path)

    def plot(self, path=None, *, layers=None):
        """Per-layer histograms of activations and gradients (as in Glorot &
        Bengio 2010, Figs. 6-7) and per-layer curves of the activation
        std, saturation and gradient norm, theory dashed.

        Needs matplotlib (``pip install initcore[plot]``). Returns the
        figure; saves it to `path` when given.
        """
        from ..app.plots import plot_simulation

        return plot_simulation(self, path, layers=layers)


def _input(net, x, batch, q0, generator):
    if x is not None:
        return net.input(x)
    batch = integer("batch", batch, low=1)
    q0 = real("q0", q0, low=0.0)
    return normal((batch, net.widths[0]), std=math.sqrt(q0), seed=generator, dtype=net.dtype)


def _targets(loss, targets, out_width, batch):
    if loss is None:
        if targets is not None:
            raise ValueError("targets were given without a loss; pass loss='mse', 'bce' or 'cross_entropy'")
        return None
    if targets is None:
        raise ValueError(f"loss={loss!r} needs targets")
    return check_targets(loss, targets, out_width, batch)


def simulate(net, x=None, *, batch=1024, q0=1.0, seed=None, backward=True, loss=None, targets=None,
             bins=64, saturation=0.99, lr=0.01, checkpoint="auto", units=False, progress=None):
    """Push a batch through `net` and measure every layer, forward and backward.

    Each layer runs as one fused kernel call: the GEMM, bias, activation and
    every statistic below in one pass over memory (float64 accumulation,
    bit-identical for any thread count). Each record holds the measurement
    and, where mean-field theory makes a prediction (Poole et al. 2016;
    Schoenholz et al. 2017), the prediction beside it. The measurement never
    depends on the theory: where the theory is out of range (the Gaussian
    expectations of sin beyond q ~ 1e9), the prediction is None (shown as
    "-") and every measurement is still there.

    Parameters
    ----------
    net : MLP
    x : array_like, optional
        Inputs of shape (batch, n_0), finite in the network's dtype. By
        default Gaussian inputs with second moment `q0`, drawn from `seed`.
    batch : int
        Rows of the default input.
    q0 : float
        Second moment of the default input.
    seed : int, None, SeedSequence or Generator
        Draws the default input and the backward probe.
    backward : bool
        Also backpropagate, and record gradients.
    loss : {None, "mse", "bce", "cross_entropy"}
        None starts the backward pass from a standard Gaussian cotangent at
        the output (the signal-propagation probe: every E[delta^2] is then
        relative to E[g^2] = 1). "mse" is the mean squared error of the
        output; "bce" (last activation sigmoid) and "cross_entropy" (softmax
        of a linear last layer) work from the logits.
    targets : array_like, optional
        For a loss: a rectangular (batch, n_L) array of values (mse; 0/1 for
        bce), or class labels (cross_entropy).
    bins : int
        Histogram bins. Bounded activations (tanh, sigmoid, ...) are binned
        over their whole range, in the same pass as everything else; other
        quantities over mean +- 4 std within their observed range, in a
        second pass of the same kernel call, once the moments are known.
    saturation : float
        A value of a saturating activation counts as saturated within
        ``1 - saturation`` of a bound of phi (|tanh| > 0.99, sigmoid outside
        [0.01, 0.99] by default).
    lr : float
        Learning rate for the update-to-weight ratio ``lr |dW| / |W|``.
    checkpoint : "auto", None or int
        With a backward pass, keep only every k-th layer's input and
        recompute the rest when it is needed (Chen et al. 2016, sqrt(L)
        memory for one extra forward pass). "auto" does so with k = ceil(sqrt(L))
        only when keeping every layer would take more than 2 GiB.
    units : bool
        Also keep each layer's per-unit mean and variance of the activations
        (`Simulation.units`). They take 16 bytes per unit and layer, so
        they are off by default; the per-layer summaries of the units
        (``dead_units``, ``distinct_units``, ``unit_spread``) are always
        measured.
    progress : bool or None
        A progress bar on stderr; None shows one on a terminal when the run
        takes more than a second.

    Returns
    -------
    Simulation
        Per-layer records with the keys

        * ``layer``, ``width``, ``activation``, ``init``;
        * ``q`` = mean(h^2) of the pre-activations and ``q_theory`` (the
          theory's entries are None from where it is out of range: q_theory
          above the first layer whose expectations the quadrature cannot
          take, a2_theory from that layer, delta2_theory everywhere);
          ``z_mean``, ``z_std``, ``z_nan``, ``z_inf``;
        * ``a_mean``, ``a_std``, ``a_min``, ``a_max``, ``a2`` = mean(a^2) and
          ``a2_theory``;
        * ``saturated`` and ``zero`` (fractions of activations),
          ``dead_units`` (fraction of units exactly 0 on the whole batch),
          ``distinct_units`` (units whose activations differ anywhere on the
          batch; 1 means every unit is the same) and ``unit_spread`` (the
          standard deviation across units of each unit's mean activation;
          exactly 0 when every unit is identical);

        and with a backward pass

        * ``delta2`` = mean(delta^2) and ``delta2_theory``, where delta is
          each example's gradient of its own loss (or of g . a^L for the
          probe) w.r.t. the pre-activations;
        * ``dw_norm`` = |dW|_F and ``db_norm`` = |db| for the loss averaged
          over the batch, ``w_norm`` = |W|_F, and ``update_ratio`` =
          lr |dW|_F / |W|_F;
        * ``dx2`` = mean(dx^2), the per-example gradient w.r.t. the layer's
          input.

    Notes
    -----
    The working buffers (one (batch, width) array per stored layer) are kept
    for the next call, up to 512 MiB, so that a repeated simulation does not
    have the operating system map and zero fresh pages for every layer;
    `initcore.free_workspace` frees them.

    References
    ----------
    X. Glorot & Y. Bengio, AISTATS 2010; B. Poole et al., NeurIPS 2016;
    S. S. Schoenholz et al., ICLR 2017; T. Chen et al., arXiv:1604.06174.

    Examples
    --------
    >>> net = MLP([256] * 11, activation="tanh", init="xavier_normal", seed=0)
    >>> sim = simulate(net, batch=256, seed=1)
    >>> len(sim), round(sim.layers[0]["q"] / sim.layers[0]["q_theory"], 1)
    (10, 1.0)
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an initcore.MLP, got {type(net).__name__}")
    if loss is not None:
        loss = check_loss(loss, net)
    for name, flag in (("backward", backward), ("units", units)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if loss is not None and not backward:
        raise ValueError("a loss needs backward=True")
    bins = integer("bins", bins, low=1)
    lr = real("lr", lr, low=0.0)
    generator = as_generator(seed)
    x = _input(net, x, batch, q0, generator)
    batch = x.shape[0]
    y = _targets(loss, targets, net.widths[-1], batch)
    depth = net.depth
    entries = [get_activation(name)[0] for name, _ in net.activations]
    bands = [entry.saturation_band(saturation) for entry in entries]
    segment = _segment(net, batch, backward, checkpoint)

    from . import meanfield

    q_in = float(np.mean(np.square(x, dtype=np.float64)))
    theory, reach, _ = meanfield._predict_layers([n for n, _ in net.activations], [p for _, p in net.activations],
                                                 net.sigma_w2, net.sigma_b2, net.widths, q_in)
    records, histograms, kept_units = [], [], [] if units else None
    steps = depth * (2 if backward else 1)
    with Progress(steps, "simulate", progress) as bar:
        run = _Run(net, batch, bins, bands, entries, segment if backward else 0)
        saved = run.forward(x, records, histograms, kept_units, theory, bar, keep=backward)
        if backward:
            run.backward(saved, loss, y, records, histograms, theory, lr, generator, bar)
        del saved
        run.release()
    # the measurement never waits on the theory: None where it does not reach
    for record in records[reach + 1:]:
        record["q_theory"] = None
    for record in records[reach:]:
        record["a2_theory"] = None
    if backward and reach < depth:
        for record in records:
            record["delta2_theory"] = None
    config = {
        "network": repr(net), "widths": net.widths, "activations": [list(a) for a in net.activations],
        "inits": net.labels, "sigma_w2": net.sigma_w2, "sigma_b2": net.sigma_b2,
        "batch": batch, "q0": q_in, "dtype": net.dtype.name, "backward": bool(backward),
        "loss": loss, "bins": bins, "saturation": saturation, "lr": lr,
        "checkpoint": segment if backward and segment < depth else None,
    }
    if backward and loss is not None:
        config["loss_value"] = run.loss_value
    return Simulation(config, records, histograms, kept_units)


def _segment(net, batch, backward, checkpoint):
    """Layers per checkpointed segment (net.depth: keep every layer)."""
    if checkpoint is None or checkpoint is False:
        return net.depth
    if isinstance(checkpoint, str):
        if checkpoint != "auto":
            raise ValueError(f"checkpoint must be 'auto', None or a positive int, got {checkpoint!r}")
        stored = 2 * batch * sum(net.widths[1:]) * net.dtype.itemsize
        return net.depth if not backward or stored <= _STORE_BUDGET else math.ceil(math.sqrt(net.depth))
    return min(integer("checkpoint", checkpoint, low=1), net.depth)


class _Run:
    """Buffers and per-layer kernel calls of one simulation."""

    def __init__(self, net, batch, bins, bands, entries, segment):
        self.net, self.batch, self.bins, self.bands, self.entries = net, batch, bins, bands, entries
        self.segment = segment
        self.wide = max(net.widths)
        self.loss_value = None
        self.spare = {}  # width: freed (batch, width) buffers, reused by the next segment
        self.taken = []  # every buffer taken from the workspace, given back by release()

    def _take(self, shape):
        buffer = workspace.take(shape, self.net.dtype)
        self.taken.append(buffer)
        return buffer

    def _buffer(self, width):
        spare = self.spare.get(width)
        return spare.pop() if spare else self._take((self.batch, width))

    def _flat(self):
        return self._take((self.batch * self.wide,))

    def release(self):
        """Gives every buffer back to the workspace, for the next simulation
        (nothing the result holds points into them)."""
        workspace.give(self.taken)
        self.taken = []

    def _layer_forward(self, index, a_in, z, a, stats):
        w, b, act_id, param = self.net.layer(index)
        if stats is None:
            _layers.forward(a_in, w, b, z, a, act_id, param)
            return
        bounds = self.entries[index].bounds
        # a bounded activation is binned over its whole range; any other over
        # mean +- _HIST_SIGMAS std, which the kernel finds first
        lo, hi = bounds or (0.0, 0.0)
        sat_lo, sat_hi = self.bands[index]
        measure = _layers.Stats(stats["moments"], units=stats["units"], unit_summary=stats["summary"],
                                hist=stats["hist"], hist_lo=lo, hist_hi=hi, hist_sigmas=0.0 if bounds else _HIST_SIGMAS,
                                hist_range=stats["range"], sat_lo=sat_lo, sat_hi=sat_hi)
        _layers.forward(a_in, w, b, z, a, act_id, param, measure)

    def forward(self, x, records, histograms, units, theory, bar, keep):
        """All layers with statistics. Returns what the backward pass needs:
        every layer's z (or, checkpointing, the inputs of the segments), and
        the last layer's a. The backward kernel makes the other activations
        again from z, in the pass that reads z anyway: cheaper than storing
        them."""
        net, depth = self.net, self.net.depth
        kept = {"z": [None] * depth, "a": [None] * depth, "inputs": {0: x}, "dphi": [False] * depth}
        every = keep and self.segment >= depth
        ping = self.ping = [self._flat(), self._flat()]
        # every layer's statistics in one block each, filled by the kernels
        block = {"moments": np.zeros((depth, 2 * len(FIELDS))), "summary": np.zeros((depth, 3)),
                 "hist": np.zeros((depth, self.bins + 2), np.int64),
                 "range": np.array([entry.bounds or (0.0, 0.0) for entry in self.entries], dtype=np.float64)}
        measured = []
        a_in = x
        for index, _, a in net.ping_pong(self.batch, buffers=ping):
            n_out = net.widths[index + 1]
            stats = {key: rows[index] for key, rows in block.items()}
            stats["units"] = np.zeros(2 * n_out) if units is not None else None
            z = self._buffer(n_out) if every else None
            last = index == depth - 1
            if keep and last:
                z, a = self._buffer(n_out), self._buffer(n_out)  # the loss needs both
            self._layer_forward(index, a_in, z, a, stats)
            measured.append(stats)
            if every or (keep and last):
                kept["z"][index] = z
            if keep and last:
                kept["a"][index] = a
            if keep and not every and (index + 1) % self.segment == 0 and not last:
                kept["inputs"][index + 1] = self._buffer(n_out)
                np.copyto(kept["inputs"][index + 1], a)
            a_in = a
            bar.step()
        # the records once the kernels are done: a few hundred bytes of
        # statistics per layer, and Python runs faster in one stretch than
        # between kernels that have emptied the caches
        for index, stats in enumerate(measured):
            record, hist = self._forward_record(index, stats, theory)
            records.append(record)
            histograms.append({"activations": hist})
            if units is not None:
                n_out = net.widths[index + 1]
                units.append({"mean": stats["units"][:n_out], "var": stats["units"][n_out:]})
        return kept

    def _forward_record(self, index, stats, theory):
        net = self.net
        n_out = net.widths[index + 1]
        zm = _moments(stats["moments"][: len(FIELDS)])
        am = _moments(stats["moments"][len(FIELDS):])
        total = self.batch * n_out
        dead, distinct, spread = stats["summary"].tolist()
        hist = stats["hist"]
        lo, hi = stats["range"].tolist()
        record = {
            "layer": index + 1, "width": n_out, "activation": net.activations[index][0],
            "init": net.labels[index],
            "q": zm["second_moment"], "q_theory": float(theory["q"][index]),
            "z_mean": zm["mean"], "z_std": zm["std"], "z_nan": zm["nan"], "z_inf": zm["inf"],
            "a_mean": am["mean"], "a_std": am["std"], "a_min": am["min"], "a_max": am["max"],
            "a2": am["second_moment"], "a2_theory": float(theory["phi2"][index]),
            "saturated": am["saturated"] / total, "zero": am["zero"] / total,
            "dead_units": dead / n_out, "distinct_units": int(distinct), "unit_spread": spread,
        }
        return record, {"edges": _edges(lo, hi, self.bins), "counts": hist[1:-1].copy(),
                        "below": int(hist[0]), "above": int(hist[-1])}

    def _recompute(self, kept, start, stop):
        """z of layers [start, stop) again, from the segment's checkpointed
        input."""
        a_in = kept["inputs"][start]
        # the forward pass's buffers are free: its results are in kept
        for index, _, a in self.net.ping_pong(self.batch, start, stop, self.ping):
            if kept["z"][index] is not None:
                break  # the top layer's z, kept for the loss: the last of the range, and no layer needs its a
            kept["z"][index] = self._buffer(self.net.widths[index + 1])
            kept["dphi"][index] = False
            self._layer_forward(index, a_in, kept["z"][index], a, None)
            a_in = a

    def backward(self, kept, loss, y, records, histograms, theory, lr, generator, bar):
        net, depth, batch = self.net, self.net.depth, self.batch
        grads = [self._flat(), self._flat()]
        n_top = net.widths[-1]
        top = grads[(depth - 1) % 2][: batch * n_top].reshape(batch, n_top)
        if loss is None:
            normal((batch, n_top), seed=generator, dtype=net.dtype, out=top)
            scale = 1.0
        else:
            self.loss_value, g = loss_gradient(loss, kept["z"][-1], kept["a"][-1], y)
            top[...] = g
            scale = float(np.mean(g * g))
        if from_logits(loss):
            # the kernel multiplies by phi'(z); here g already is dLoss/dz
            dphi2_top = float(theory["dphi2"][-1])
            scale = scale / dphi2_top if dphi2_top > 0 else math.nan
        dw = np.empty(max(a * b for a, b in zip(net.widths[:-1], net.widths[1:])), net.dtype)
        db = np.empty(max(net.widths[1:]), net.dtype)
        grad = top
        scratch = self._flat()
        for index in range(depth - 1, -1, -1):
            start = index - index % self.segment
            if kept["z"][index] is None or (index not in kept["inputs"] and kept["z"][index - 1] is None):
                self._drop_below(kept, start + self.segment)
                self._recompute(kept, start, index + 1)
            w, b, act_id, param = net.layer(index)
            n_in, n_out = w.shape
            if index in kept["inputs"]:
                a_in, below = kept["inputs"][index], {}
            else:
                # the kernel makes this layer's input from the z below, and
                # turns that z into phi'(z) for the layer below's call
                _, _, act_below, param_below = net.layer(index - 1)
                a_in = scratch[: batch * n_in].reshape(batch, n_in)
                below = {"z_below": kept["z"][index - 1], "act_below": act_below, "param_below": param_below}
            if index == depth - 1:
                act_id = top_activation(loss, act_id)
            dx = None if index == 0 else grads[(index - 1) % 2][: batch * n_in].reshape(batch, n_in)
            moments, sums = np.zeros(len(FIELDS)), np.zeros(4)
            hist, hist_range = np.zeros(self.bins + 2, np.int64), np.zeros(2)
            _layers.backward(a_in, w, kept["z"][index], grad, dx, dw[: n_in * n_out].reshape(n_in, n_out),
                             None if b is None else db[:n_out], act_id, param,
                             _layers.Stats(moments, hist=hist, hist_sigmas=_HIST_SIGMAS, hist_range=hist_range,
                                           sums=sums),
                             z_is_dphi=kept["dphi"][index], **below)
            if below:
                kept["dphi"][index - 1] = True
            gm = _moments(moments)
            lo, hi = hist_range.tolist()
            # the kernel sums the examples' gradients; dW and db are of the mean loss
            w_norm = math.sqrt(sums[3])
            dw_norm = math.sqrt(sums[1]) / batch
            records[index].update({
                "delta2": gm["second_moment"], "delta2_theory": scale * float(theory["delta2"][index]),
                "dw_norm": dw_norm, "db_norm": math.sqrt(sums[2]) / batch if b is not None else None,
                "w_norm": w_norm,
                "update_ratio": lr * dw_norm / w_norm if w_norm > 0 else (0.0 if dw_norm == 0 else math.inf),
                "dx2": sums[0] / (batch * n_in) if dx is not None else None,
            })
            histograms[index]["gradients"] = {"edges": _edges(lo, hi, self.bins),
                                              "counts": hist[1:-1].copy(), "below": int(hist[0]),
                                              "above": int(hist[-1])}
            grad = dx
            bar.step()

    def _drop_below(self, kept, stop):
        """Frees the recomputed layers of the segment above (their z buffers
        serve the next segment: fresh memory would be faulted in again)."""
        for index in range(stop, self.net.depth):
            z = kept["z"][index]
            if z is not None:
                self.spare.setdefault(z.shape[1], []).append(z)
            kept["z"][index] = kept["a"][index] = None
            kept["dphi"][index] = False


def jacobian_spectrum(net, x, *, jacobian=False):
    """Singular values of the input-output Jacobian ``d a^L / d x`` at `x`.

    Dynamical isometry (Saxe et al. 2014; Pennington, Schoenholz & Ganguli
    2017) is a spectrum concentrated around 1: orthogonal weights at the
    critical point keep it so at any depth, Gaussian weights spread it out
    as depth grows.

    The Jacobian is formed by the backward kernel with one cotangent per
    output unit (``J = D_L W_L^T ... D_1 W_1^T`` with ``D_l =
    diag(phi'(h^l))``), so it takes memory and time of a batch of n_L rows:
    meant for moderate widths.

    Parameters
    ----------
    net : MLP
    x : array_like
        One input, of shape (n_0,) or (1, n_0), finite in the network's dtype.
    jacobian : bool
        Also return the Jacobian itself, (n_L, n_0) float64.

    Returns
    -------
    numpy.ndarray
        The min(n_0, n_L) singular values, in decreasing order, float64;
        with ``jacobian=True``, ``(singular values, J)``.

    References
    ----------
    A. M. Saxe, J. L. McClelland, S. Ganguli, ICLR 2014; J. Pennington,
    S. S. Schoenholz, S. Ganguli, NeurIPS 2017.

    Examples
    --------
    >>> net = MLP([64] * 5, activation="linear", init="orthogonal", seed=0)
    >>> s = jacobian_spectrum(net, np.ones(64))
    >>> bool(np.allclose(s, 1.0, atol=1e-5))
    True
    """
    from scipy.linalg import svdvals

    if not isinstance(net, MLP):
        raise TypeError(f"net must be an initcore.MLP, got {type(net).__name__}")
    point = np.asarray(x)
    if point.ndim == 1:
        point = point[None, :]
    if point.ndim != 2 or point.shape[0] != 1:
        raise ValueError(f"x must be one input of shape ({net.widths[0]},) or (1, {net.widths[0]}), got {np.shape(x)}")
    point = net.input(point)
    rows = net.widths[-1]
    inputs, zs = [], []
    a = point
    for index in range(net.depth):
        w, b, act_id, param = net.layer(index)
        z, out = np.empty((1, w.shape[1]), net.dtype), np.empty((1, w.shape[1]), net.dtype)
        _layers.forward(a, w, b, z, out, act_id, param)
        inputs.append(a)
        zs.append(z)
        a = out
    grad = np.eye(rows, dtype=net.dtype)
    for index in range(net.depth - 1, -1, -1):
        w, _, act_id, param = net.layer(index)
        n_in = w.shape[0]
        dx = np.empty((rows, n_in), net.dtype)
        _layers.backward(np.repeat(inputs[index], rows, axis=0), w, np.repeat(zs[index], rows, axis=0),
                         grad, dx, np.empty_like(w), None, act_id, param)
        grad = dx
    jac = grad.astype(np.float64)
    with single_threaded_blas():  # LAPACK rounds differently with more BLAS threads
        values = svdvals(jac)
    return (values, jac) if jacobian else values
