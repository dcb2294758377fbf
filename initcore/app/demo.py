"""``initcore demo``: the four classic failure cases of initialization and
their remedies, each reproduced by training small networks with
`initcore.train` on fixed seeds, measured (accuracy, distinct units,
saturation, dead units, gradient norms, rises of the loss), plotted, and
written up in a short Markdown report.

The five cases (all float32, mini-batch SGD with lr 0.1 and batches of 32,
a sigmoid output unit trained with binary cross-entropy, 1000 examples):

* ``zero``: the two-feature placement set (CGPA, IQ), 2-16-16-1 tanh and
  relu, all weights 0, beside the same networks from Xavier and He;
* ``constant``: the same with every weight 0.5, beside Xavier (tanh) and He
  (relu);
* ``small``: 500 normalized features, 500-32x9-1 sigmoid, tanh and relu
  from N(0, 0.01^2) and from U(-0.01, 0.01);
* ``large``: 500 normalized features, 500-128x9-1 tanh and sigmoid from
  N(0, 1), beside the tanh network from Xavier;
* ``remedies``: Xavier (tanh), He (relu), orthogonal (tanh) and LeCun
  (selu) on moons (2-16-16-1) and on the 500-feature set (500-32x9-1);
* ``fixes``: initializers that fix a deep network, at lr 0.01: a 50-layer
  tanh network on moons (2-32x50-1) from N(0, 1), from ``critical`` at
  sigma_b2 = 0.05 and from LSUV, and a 20-layer relu network (2-32x20-1)
  from N(0, 0.01^2), as drawn and rescaled by LSUV.

An init ending in ``+lsuv`` is the network drawn from the init before it,
then rescaled by `initcore.lsuv` (``orthogonal=False``) on the training set:
``orthogonal+lsuv`` is Mishkin & Matas' LSUV.

Each case is one `Case` record of `CASE_TABLE`: its runs, title, note,
claim sentence and checks. `run_demo` trains, and with an output directory
writes the figures and ``report.md``; it returns one row (a dict of plain
values) per scheme.
"""
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..training import datasets
from ..networks.mlp import MLP
from ..common.progress import Progress
from ..common.tables import cell, rows_text, text_table
from ..propagation.lsuv import lsuv
from ..propagation.simulate import simulate
from ..training.train import train

__all__ = ["CASES", "CASE_TABLE", "Case", "DemoRun", "Scheme", "checks", "format_rows", "run_demo",
           "train_cases", "verdict"]

# The training settings shared by every run (the fixes case's deep networks
# take lr FIXES_LR).
N_SAMPLES = 1000
N_FEATURES = 500
LR = 0.1
FIXES_LR = 0.01
# The suffix of an init that LSUV rescales after drawing (see the module's docstring).
_LSUV = "+lsuv"
BATCH = 32
DTYPE = "float32"
# Columns of the rows, in order.
COLUMNS = ("case", "role", "dataset", "network", "activation", "init", "epochs", "accuracy",
           "best_accuracy", "linear_accuracy", "epochs_to_90", "distinct_units", "width", "saturated_init", "saturated_end",
           "dead_init", "dead_end", "grad_first_init", "grad_last_init", "grad_ratio_init", "grad_max_init",
           "grad_first_end", "grad_last_end", "loss_init", "loss_rises", "loss_max_rise", "diverged")
# Readable table: (header, row key or callable, format).
_TABLE = (
    ("case", "case", "s"),
    ("dataset", "dataset", "s"),
    ("network", lambda r: f"{r['network']} {r['activation']}", "s"),
    ("init", lambda r: r["init"] + (" (ref)" if r["role"] == "reference" else ""), "s"),
    ("acc", "accuracy", ".3f"),
    ("to 90%", lambda r: "never" if r["epochs_to_90"] is None else str(r["epochs_to_90"]), "s"),
    ("distinct", lambda r: None if r["distinct_units"] is None
     else f"{r['distinct_units']}/{r['width']}", "s"),
    ("sat@0", "saturated_init", ".0%"),
    ("sat@end", "saturated_end", ".0%"),
    ("dead@0", "dead_init", ".0%"),
    ("dead@end", "dead_end", ".0%"),
    ("|dW1|@0", "grad_first_init", ".2g"),
    ("|dWL|@0", "grad_last_init", ".2g"),
    ("ratio@0", "grad_ratio_init", ".2g"),
    ("|dW1|@end", "grad_first_end", ".2g"),
    ("|dWL|@end", "grad_last_end", ".2g"),
)
LEGEND = (
    "acc: training accuracy after the run's epochs; to 90%: first epoch at 90% accuracy (never: not "
    "within the run); distinct: fewest distinct units of any hidden layer after training, of that "
    "layer's width; sat, dead: saturated activations and dead units (0 on every input) over the "
    "hidden layers; |dW1|, |dWL|: Frobenius norm of the loss gradient of the first and the last "
    "layer, ratio = |dW1|/|dWL|; @0 at initialization, @end after training. Every network ends in "
    "one sigmoid unit (binary cross-entropy); float32, SGD lr 0.1 (0.01 in the fixes case), batch 32, "
    "1000 examples; +lsuv: rescaled by LSUV on the training set before training; "
    "(ref) marks a well-initialized reference.")
# The figures of each case and data set: (file suffix, title, what it shows).
_FIGURE_KINDS = (
    ("training", "training curves",
     "loss, accuracy and saturated fraction of the hidden activations per epoch"),
    ("gradients", "gradient norm per layer", "|dW| of each layer, at initialization and after training"),
    ("histograms", "per-layer histograms at initialization",
     "the activations and the back-propagated gradients of each layer (initcore.simulate on the "
     "training set)"),
    ("boundary", "decision boundary after training",
     "P(class 1) of each network over the plane of a two-feature problem, p = 0.5 in black, the "
     "training points on top"),
)
FIGURE_LEGEND = "Figures of each case and data set: " + "; ".join(
    f"{title}: {what}" for _, title, what in _FIGURE_KINDS) + "."


class Scheme:
    """One training run of the demo: a network, an initializer, a data set
    and an epoch budget."""

    def __init__(self, case, dataset, widths, activation, init, epochs, role="claim", lr=LR):
        self.case, self.dataset, self.widths = case, dataset, list(widths)
        self.activation, self.init, self.epochs, self.role, self.lr = activation, init, epochs, role, lr

    @property
    def key(self):
        """What determines the run's result (for runs shared between cases)."""
        return (self.dataset, tuple(self.widths), self.activation, self.init, self.epochs, self.lr)

    @property
    def label(self):
        return f"{self.init} {self.activation}" + (" (ref)" if self.role == "reference" else "")

    def __repr__(self):
        return f"<Scheme {self.case}: {self.label} on {self.dataset}, {self.epochs} epochs>"


def linear_accuracy(X, y, ridge=1e-3, iterations=30):
    """Training accuracy of a logistic regression (a straight boundary),
    fitted by Newton's method with a small ridge penalty: what the best
    linear decision boundary about reaches on (X, y)."""
    A = np.column_stack([np.asarray(X, np.float64), np.ones(len(y))])
    t = np.asarray(y, np.float64)
    w = np.zeros(A.shape[1])
    penalty = ridge * np.eye(A.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ w, -500, 500)))
        grad = A.T @ (p - t) + penalty @ w
        hess = (A * (p * (1 - p))[:, None]).T @ A + penalty + 1e-12 * np.eye(A.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(np.mean((A @ w > 0) == (t > 0.5)))


def _dataset(name, seed):
    if name == "placement":
        return datasets.placement(N_SAMPLES, seed=seed)
    if name == "moons":
        return datasets.moons(N_SAMPLES, seed=seed)
    return datasets.high_dimensional(N_SAMPLES, N_FEATURES, seed=seed)


class DemoRun:
    """A trained scheme: `scheme`, the data (`X`, `y`), `net` (trained),
    `weights0` (the weights at initialization), `sim0` (`initcore.simulate`
    of the initial network on the training set, with its loss) and `result`
    (the `TrainResult`)."""

    def __init__(self, scheme, X, y, net, weights0, sim0, result, linear=None):
        self.scheme, self.X, self.y, self.net = scheme, X, y, net
        self.weights0, self.sim0, self.result = weights0, sim0, result
        self.linear = linear

    def row(self):
        """The table row of this run, plain Python values (None where not
        measured)."""
        s, r = self.scheme, self.result
        first, last = r.history[0], r.history[-1]
        hidden = self.net.widths[1:-1] or self.net.widths[1:]
        init0 = _layer_summary(first["layers"], hidden)
        end = _layer_summary(last["layers"], hidden)
        ratio = None
        if init0["grad_first"] is not None and init0["grad_last"]:
            ratio = init0["grad_first"] / init0["grad_last"]
        change = np.diff(r.loss)
        change = change[np.isfinite(change)]
        return {
            "case": s.case, "role": s.role, "dataset": s.dataset,
            "network": self.net.architecture, "activation": s.activation, "init": s.init,
            "epochs": last["epoch"], "accuracy": float(last["accuracy"]),
            "best_accuracy": float(np.max(r.accuracy)), "linear_accuracy": self.linear,
            "epochs_to_90": r.epochs_to(0.9), "distinct_units": end["distinct"],
            "width": end["distinct_width"],
            "saturated_init": init0["saturated"], "saturated_end": end["saturated"],
            "dead_init": init0["dead"], "dead_end": end["dead"],
            "grad_first_init": init0["grad_first"], "grad_last_init": init0["grad_last"],
            "grad_ratio_init": ratio, "grad_max_init": init0["grad_max"],
            "grad_first_end": end["grad_first"], "grad_last_end": end["grad_last"],
            "loss_init": float(first["loss"]), "loss_rises": int(np.sum(change > 0)),
            "loss_max_rise": float(change.max(initial=0.0)),
            "diverged": bool(r.diverged),
        }


def _layer_summary(layers, hidden_widths):
    """Width-weighted saturated and dead fractions over the hidden layers,
    their fewest distinct units, the first and last layer's |dW| and the
    largest |dW| of any layer."""
    if layers is None:
        return dict.fromkeys(("saturated", "dead", "distinct", "distinct_width", "grad_first",
                              "grad_last", "grad_max"))
    hidden = layers[:len(hidden_widths)]
    w = np.asarray(hidden_widths, np.float64)
    fewest = min(range(len(hidden)), key=lambda i: (hidden[i]["distinct_units"], i))
    return {
        "saturated": float(np.dot([h["saturated"] for h in hidden], w) / w.sum()),
        "dead": float(np.dot([h["dead_units"] for h in hidden], w) / w.sum()),
        "distinct": int(hidden[fewest]["distinct_units"]),
        "distinct_width": int(hidden_widths[fewest]),
        "grad_first": layers[0]["dw_norm"], "grad_last": layers[-1]["dw_norm"],
        "grad_max": max(layer["dw_norm"] for layer in layers),
    }


def _progress_total(plan):
    return sum(s.epochs for s in plan)


def train_cases(case="all", seed=0, progress=None):
    """Train every scheme of `case` (one of `CASE_CHOICES`).

    Parameters
    ----------
    case : str
    seed : int
        The data sets come from `seed`, the networks from ``seed + 1``, the
        shuffling from ``seed + 2``: the same seed gives the same runs, bit
        for bit.
    progress : bool or None
        One progress bar on stderr over all the epochs; None shows it on a
        terminal once the work takes more than a second.

    Returns
    -------
    list of DemoRun
        In table order. A run shared by two cases (the Xavier reference of
        ``zero`` and ``constant``) is trained once and listed in both.
    """
    if not isinstance(case, str) or case not in CASE_CHOICES:
        raise ValueError(f"unknown case {case!r}; choose one of: {', '.join(CASE_CHOICES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    plan = schemes(case)
    unique = {}
    for s in plan:
        unique.setdefault(s.key, s)
    data = {}
    runs = {}
    with Progress(_progress_total(unique.values()), "training", progress) as bar:
        def step(_record):
            bar.step()

        for key, s in unique.items():
            if s.dataset not in data:
                X, y = _dataset(s.dataset, seed)
                data[s.dataset] = X, y, linear_accuracy(X, y)
            X, y, linear = data[s.dataset]
            acts = [s.activation] * (len(s.widths) - 2) + ["sigmoid"]
            net = MLP(s.widths, activation=acts, init=s.init.removesuffix(_LSUV), seed=seed + 1, dtype=DTYPE)
            if s.init.endswith(_LSUV):
                lsuv(net, X, orthogonal=False)
            weights0 = [w.copy() for w in net.weights]
            sim0 = simulate(net, X, loss="bce", targets=y, seed=seed + 3, lr=s.lr, progress=False)
            result = train(net, X, y, lr=s.lr, batch_size=BATCH, epochs=s.epochs, seed=seed + 2,
                           progress=False, callback=step)
            runs[key] = (X, y, net, weights0, sim0, result, linear)
    return [DemoRun(s, *runs[s.key]) for s in plan]


# ---------------------------------------------------------------------------
# tables


def _cell(row, key, spec):
    return cell(key(row) if callable(key) else row[key], spec)


def format_table(rows):
    """The rows as a readable fixed-width table (case, dataset, network and
    init left-aligned)."""
    body = [[_cell(r, key, spec) for _, key, spec in _TABLE] for r in rows]
    return text_table([h for h, _, _ in _TABLE], body, left=4)


def _markdown_table(rows):
    header = [h for h, _, _ in _TABLE if h not in ("case", "dataset")]
    keys = [(k, s) for h, k, s in _TABLE if h not in ("case", "dataset")]
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in header) + " |",
             "|" + "|".join(":--" if i < 2 else "--:" for i in range(len(header))) + "|"]
    for r in rows:
        cells = [_cell(r, k, s).replace("|", "\\|") for k, s in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_rows(rows, fmt=None):
    """The rows as a readable table (fmt None), JSON (``"json"``) or CSV
    (``"csv"``); JSON and CSV have every column of `COLUMNS`."""
    return rows_text(rows, COLUMNS, fmt, format_table)


# ---------------------------------------------------------------------------
# the cases: one `Case` record each, with what it trains, what it says and
# what it checks


def _pick(rows, **match):
    for r in rows:
        if all(r[k] == v for k, v in match.items()):
            return r
    return None


def _claims(rows):
    return [r for r in rows if r["role"] == "claim"]


def _references(rows):
    return [r for r in rows if r["role"] == "reference"]


def _acc(r):
    return f"{r['accuracy']:.3f}"


def _e(value):
    return "-" if value is None else f"{value:.2g}"


def _pct(value):
    return "-" if value is None else f"{value:.0%}"


def _reached(r):
    return "never reaches 90%" if r["epochs_to_90"] is None else f"reaches 90% at epoch {r['epochs_to_90']}"


def _reaches(refs):
    """"; xavier_normal (tanh) reaches 0.973 and ..." for the references `refs`."""
    if not refs:
        return ""
    return "; " + " and ".join(f"{r['init']} ({r['activation']}) reaches {_acc(r)}" for r in refs)


def _frozen(run):
    """Every weight and hidden bias of `run` still as initialized."""
    same = all(np.array_equal(w, w0) for w, w0 in zip(run.net.weights, run.weights0))
    return same and not any(b.any() for b in run.net.biases[:-1])


def _zero_sentence(rows, runs):
    claims = _claims(rows)
    parts = []
    for r in claims:
        part = (f"{r['activation']} ends at {_acc(r)}: {_pct(r['dead_init'])} of its hidden activations "
                f"are 0 at initialization and its largest weight gradient is {_e(r['grad_max_init'])}, "
                f"its hidden layers keep {r['distinct_units']} distinct unit of {r['width']}")
        run = next((x for x in runs or () if x.scheme.init == r["init"]
                    and x.scheme.activation == r["activation"]), None)
        if run is not None and _frozen(run):
            part += ", and every weight is still exactly 0 after training (only the output bias learned)"
        parts.append(part)
    first = claims[0]
    return (f"With every weight 0 on the {first['network']} placement network and {first['epochs']} "
            f"epochs (chance: 0.5), " + "; ".join(parts) + _reaches(_references(rows)) + ".")


def _zero_checks(rows):
    out = []
    for r in _claims(rows):
        name = f"{r['init']} {r['activation']}"
        out.append((f"{name}: accuracy in [0.4, 0.6]", 0.4 <= r["accuracy"] <= 0.6))
        out.append((f"{name}: 1 distinct hidden unit", r["distinct_units"] == 1))
        out.append((f"{name}: every hidden activation 0 at initialization", r["dead_init"] == 1.0))
        out.append((f"{name}: every weight gradient 0 at initialization", r["grad_max_init"] == 0.0))
    return out


def _constant_sentence(rows, runs):
    c = _pick(rows, init="constant:value=0.5")
    text = (f"With every weight 0.5 the hidden layers keep {c['distinct_units']} distinct unit of "
            f"{c['width']} after {c['epochs']} epochs, so the network is a function of one "
            f"projection of the input and its decision boundary is a straight line: accuracy "
            f"{_acc(c)}, {_reached(c)}, where the best straight line (a logistic regression) gets "
            f"{c['linear_accuracy']:.3f}")
    refs = _references(rows)
    return text + _reaches(refs) + (" with a curved boundary" if refs else "") + "."


def _constant_checks(rows):
    out = []
    refs = _references(rows)
    for r in _claims(rows):
        out.append((f"{r['init']} {r['activation']}: 1 distinct hidden unit", r["distinct_units"] == 1))
        out.append((f"{r['init']} {r['activation']}: accuracy no better than a logistic regression's "
                    f"{r['linear_accuracy']:.3f} + 0.02", r["accuracy"] <= r["linear_accuracy"] + 0.02))
        if refs:
            out.append((f"{r['init']} {r['activation']}: accuracy below every reference's",
                        all(r["accuracy"] < x["accuracy"] for x in refs)))
    return out


def _small_sentence(rows, runs):
    sentences = []
    for init, name in _SMALL_INITS:
        parts = []
        for r in (x for x in rows if x["init"] == init):
            part = (f"{r['activation']} ends at {_acc(r)} with |dW1| = {_e(r['grad_first_init'])} and "
                    f"|dWL| = {_e(r['grad_last_init'])} at initialization")
            if r["activation"] == "sigmoid":
                part += f" (first/last ratio {_e(r['grad_ratio_init'])})"
            if r["activation"] == "relu":
                part += f", {_pct(r['dead_end'])} of its hidden units dead after training"
            parts.append(part)
        if parts:
            sentences.append(f"With {name} weights, " + "; ".join(parts) + ".")
    epochs = rows[0]["epochs"] if rows else 0
    return f"On {N_FEATURES} normalized features, {epochs} epochs. " + " ".join(sentences)


def _small_checks(rows):
    out = []
    for r in _claims(rows):
        name = f"{r['init']} {r['activation']}"
        out.append((f"{name}: accuracy below 0.6", r["accuracy"] < 0.6))
        if r["activation"] == "sigmoid":
            ratio = r["grad_ratio_init"]
            out.append((f"{name}: |dW1|/|dWL| below 1e-3 at initialization", ratio is not None and ratio < 1e-3))
    return out


def _rises(r):
    return (f"its loss starts at {r['loss_init']:.3g} and rises in {r['loss_rises']} of {r['epochs']} "
            f"epochs (the largest rise {r['loss_max_rise']:.2g})")


def _large_sentence(rows, runs):
    claims = _claims(rows)
    parts = []
    for r in claims:
        ratio = r["grad_ratio_init"]
        toward = "exploding" if ratio is not None and ratio > 1 else "vanishing"
        parts.append(f"{r['activation']} has {_pct(r['saturated_init'])} of its hidden activations "
                     f"saturated at initialization and {_pct(r['saturated_end'])} at the end, a first-layer "
                     f"gradient {_e(ratio)} times its last layer's ({toward} toward the input); "
                     f"{_rises(r)}; it ends at {_acc(r)}, {_reached(r)}")
    diverged = [r["activation"] for r in claims if r["diverged"]]
    text = (f"With N(0, 1) weights on the {claims[0]['network']} network and {claims[0]['epochs']} "
            f"epochs at lr {LR:g}: " + "; ".join(parts) + "; "
            + (" and ".join(diverged) + " diverged (NaN)" if diverged else "none diverges to NaN"))
    for ref in _references(rows):
        text += (f". The same {ref['activation']} network from {ref['init']} has "
                 f"{_pct(ref['saturated_init'])} saturated at initialization; {_rises(ref)}; it ends at "
                 f"{_acc(ref)}, {_reached(ref)}")
    return text + "."


# The saturated fraction over the hidden layers that N(0, 1) weights keep
# above, at initialization and after training: tanh's |tanh| > 0.99 is
# 0.906 of N(0, 500) in layer 1 and more above it; sigmoid's layers above the
# first take inputs in (0, 1), so their pre-activations have a variance of
# about 128 E[a^2] ~ 64, and P(|z| > 4.6) ~ 0.56.
_LARGE_SATURATED = {"tanh": 0.8, "sigmoid": 0.5}


def _large_checks(rows):
    """Both saturate; tanh (chaotic, zero biases) is stuck below the
    reference, sigmoid's loss goes up and down more often than the
    reference's."""
    out = []
    refs = _references(rows)
    for r in _claims(rows):
        least = _LARGE_SATURATED[r["activation"]]
        out.append((f"{r['activation']}: saturated fraction above {least:g} at initialization and end",
                    (r["saturated_init"] or 0) > least and (r["saturated_end"] or 0) > least))
        for ref in refs:
            if r["activation"] == "sigmoid":
                out.append((f"sigmoid: the loss rises in more epochs than the {ref['init']} reference's "
                            f"({r['loss_rises']} against {ref['loss_rises']})",
                            r["diverged"] or r["loss_rises"] > ref["loss_rises"]))
            else:
                out.append((f"{r['activation']}: accuracy below the {ref['init']} reference's",
                            r["accuracy"] < ref["accuracy"]))
    return out


def _remedies_sentence(rows, runs):
    parts = []
    for dataset in ("moons", "high_dimensional"):
        sub = [r for r in rows if r["dataset"] == dataset]
        if sub:
            accs = ", ".join(f"{r['init']} ({r['activation']}) {_acc(r)}" for r in sub)
            parts.append(f"on {dataset} ({sub[0]['network']}, {sub[0]['epochs']} epochs): {accs}")
    return "The same kinds of problems train when the scale fits the activation: " + "; ".join(parts) + "."


def _remedies_checks(rows):
    return [(f"{r['init']} {r['activation']} on {r['dataset']}: reaches 95% accuracy within {r['epochs']} epochs",
             r["best_accuracy"] >= 0.95) for r in _claims(rows)]


def _is_fix(r):
    """A row of the fixes case trained from `critical` or rescaled by LSUV."""
    return r["init"].startswith("critical") or r["init"].endswith(_LSUV)


def _fixes_sentence(rows, runs):
    parts = []
    for activation in ("tanh", "relu"):
        broken = [r for r in rows if r["activation"] == activation and not _is_fix(r)]
        fixed = [r for r in rows if r["activation"] == activation and _is_fix(r)]
        for r in broken:
            parts.append(f"the {r['network']} {activation} network from {r['init']} ends at {_acc(r)} (best "
                         f"{r['best_accuracy']:.3f}, where a logistic regression gets {r['linear_accuracy']:.3f}), "
                         f"with weight gradients |dW1| = {_e(r['grad_first_init'])} and |dWL| = "
                         f"{_e(r['grad_last_init'])} at initialization")
        parts += [f"from {r['init']} it reaches {r['best_accuracy']:.3f} and ends at {_acc(r)} ({_reached(r)})"
                  for r in fixed]
    epochs = rows[0]["epochs"] if rows else 0
    text = f"On moons, {epochs} epochs at lr {FIXES_LR:g}: " + "; ".join(parts)
    if runs:
        critical = [run for run in runs if run.scheme.init.startswith("critical")]
        text += "".join(f". {run.scheme.init} draws the {run.scheme.activation} layers with sigma_w2 = "
                        f"{run.net.sigma_w2[1]:.4g} and sigma_b2 = {run.net.sigma_b2[1]:.3g}, on the critical line"
                        for run in critical)
    return text + "."


def _fixes_checks(rows):
    out = []
    for r in rows:
        name = f"{r['init']} {r['activation']} ({r['network']})"
        if _is_fix(r):
            out.append((f"{name}: reaches 95% accuracy within {r['epochs']} epochs", r["best_accuracy"] >= 0.95))
        else:
            out.append((f"{name}: best accuracy no better than a logistic regression's {r['linear_accuracy']:.3f}",
                        r["best_accuracy"] <= r["linear_accuracy"]))
    return out


@dataclass(frozen=True)
class Case:
    """One case of the demo (a failure case or the remedies), and all the
    demo knows of it.

    Attributes
    ----------
    name : str
        The ``--case`` name.
    title : str
        The heading in the report and the figures.
    note : str
        The explanation under the measurements in the report.
    runs : tuple of tuple
        The trainings, as the `Scheme` arguments after the case:
        ``(dataset, widths, activation, init, epochs[, role[, lr]])``.
    sentence : callable
        ``sentence(rows, runs)``: what the case's rows measured, in a
        sentence or two; `runs`, the case's `DemoRun` objects or None.
    checks : callable
        ``checks(rows)``: the claim as conditions on the case's rows, a list
        of ``(statement, holds)`` (the thresholds of the test suite).
    """

    name: str
    title: str
    note: str
    runs: tuple
    sentence: Callable
    checks: Callable

    def schemes(self):
        """The case's runs as `Scheme` objects, in table order."""
        return [Scheme(self.name, *run) for run in self.runs]


_SHALLOW = (2, 16, 16, 1)  # two features, two hidden layers
_DEEP = (N_FEATURES,) + (32,) * 9 + (1,)
_WIDE = (N_FEATURES,) + (128,) * 9 + (1,)
# The small random weights: (initializer, how the report writes it).
_SMALL_INITS = (("normal:std=0.01", "N(0, 0.01^2)"), ("uniform:low=-0.01,high=0.01", "U(-0.01, 0.01)"))
# The fixes case: a 50-layer tanh network and a 20-layer relu network on moons.
_DEEP_TANH = (2,) + (32,) * 50 + (1,)
_DEEP_RELU = (2,) + (32,) * 20 + (1,)
_FIXES_EPOCHS = 20
_REMEDY_PAIRS = (("tanh", "xavier_normal"), ("relu", "kaiming_normal"), ("tanh", "orthogonal"),
                 ("selu", "lecun_normal"))
# The cases in report order.
CASE_TABLE = (
    Case(name="zero", title="Zero initialization",
         note="Symmetry: every hidden unit computes the same thing and gets the same update, so the "
              "network behaves as one neuron per layer (here tanh(0) = 0 and every weight gradient is "
              "exactly 0).",
         runs=(("placement", _SHALLOW, "tanh", "zeros", 30),
               ("placement", _SHALLOW, "relu", "zeros", 30),
               ("placement", _SHALLOW, "tanh", "xavier_normal", 30, "reference"),
               ("placement", _SHALLOW, "relu", "kaiming_normal", 30, "reference")),
         sentence=_zero_sentence, checks=_zero_checks),
    Case(name="constant", title="Constant non-zero initialization (0.5)",
         note="Every unit of a layer stays identical, so the output depends on the input only "
              "through one linear projection: the decision boundary is straight.",
         runs=(("placement", _SHALLOW, "tanh", "constant:value=0.5", 30),
               ("placement", _SHALLOW, "tanh", "xavier_normal", 30, "reference"),
               ("placement", _SHALLOW, "relu", "kaiming_normal", 30, "reference")),
         sentence=_constant_sentence, checks=_constant_checks),
    Case(name="small", title="Small random weights, " + " and ".join(name for _, name in _SMALL_INITS),
         note="The signal shrinks layer by layer (U(-0.01, 0.01) has standard deviation 0.01/sqrt(3), "
              "smaller still); sigmoid's slope of at most 1/4 makes the first layer's gradient vanish; "
              "relu units die.",
         runs=tuple(("high_dimensional", _DEEP, act, init, 10) for init, _ in _SMALL_INITS
                    for act in ("sigmoid", "tanh", "relu")),
         sentence=_small_sentence, checks=_small_checks),
    Case(name="large", title="Large random weights, N(0, 1)",
         note=f"Pre-activations of about N(0, {N_FEATURES}) saturate the first layer of tanh and sigmoid "
              "alike, and the layers above stay saturated. With zero biases the deep tanh network is in the "
              "chaotic phase, where gradients grow toward the input, and it does not learn; the sigmoid "
              "network learns, but its large steps make the loss go up and down from epoch to epoch.",
         runs=(("high_dimensional", _WIDE, "tanh", "normal:std=1", 20),
               ("high_dimensional", _WIDE, "sigmoid", "normal:std=1", 20),
               ("high_dimensional", _WIDE, "tanh", "xavier_normal", 20, "reference")),
         sentence=_large_sentence, checks=_large_checks),
    Case(name="remedies", title="Remedies: Xavier, He, orthogonal, LeCun",
         note="Note: Xavier is not a remedy for a deep sigmoid network (sigmoid's slope is at most "
              "1/4, so gradients still vanish with depth); the demo pairs Xavier with tanh.",
         runs=(tuple(("moons", _SHALLOW, act, init, 50) for act, init in _REMEDY_PAIRS)
               + tuple(("high_dimensional", _DEEP, act, init, 20) for act, init in _REMEDY_PAIRS)),
         sentence=_remedies_sentence, checks=_remedies_checks),
    Case(name="fixes", title="Initializers that fix a deep network: critical and LSUV",
         note="N(0, 1) weights put the 50-layer tanh network in the chaotic phase (chi1 > 1): its "
              "units saturate and its gradients explode toward the input. `critical` puts every layer on "
              "the critical line chi1 = 1 of mean-field theory (Schoenholz et al. 2017), where signals and "
              "gradients cross any depth; LSUV (Mishkin & Matas 2016) takes orthogonal weights and rescales "
              "each layer, in order, until its pre-activations have variance 1 on the training set. "
              "N(0, 0.01^2) shrinks the relu network's signal by 0.01^2 x 32 / 2 = 1.6e-3 a layer; LSUV "
              "rescales the same weights and the network trains.",
         runs=(("moons", _DEEP_TANH, "tanh", "normal:std=1", _FIXES_EPOCHS, "claim", FIXES_LR),
               ("moons", _DEEP_TANH, "tanh", "critical:sigma_b2=0.05", _FIXES_EPOCHS, "claim", FIXES_LR),
               ("moons", _DEEP_TANH, "tanh", "orthogonal" + _LSUV, _FIXES_EPOCHS, "claim", FIXES_LR),
               ("moons", _DEEP_RELU, "relu", "normal:std=0.01", _FIXES_EPOCHS, "claim", FIXES_LR),
               ("moons", _DEEP_RELU, "relu", "normal:std=0.01" + _LSUV, _FIXES_EPOCHS, "claim", FIXES_LR)),
         sentence=_fixes_sentence, checks=_fixes_checks),
)
CASES = tuple(c.name for c in CASE_TABLE)
CASE_CHOICES = (*CASES, "all")


def _case(name):
    """The `Case` called `name`, or a ValueError naming the choices."""
    for case in CASE_TABLE:
        if case.name == name:
            return case
    raise ValueError(f"unknown case {name!r}; choose one of: {', '.join(CASE_CHOICES)}")


def schemes(case):
    """The runs of one case (or of every case for ``"all"``), in table order."""
    if case == "all":
        return [s for c in CASE_TABLE for s in c.schemes()]
    return _case(case).schemes()


def claim_sentence(case, rows, runs=None):
    """One sentence (or two) saying what the run measured for `case`;
    `runs` (`DemoRun` objects), when given, adds what only the trained
    networks show."""
    if runs is not None:
        runs = [r for r in runs if r.scheme.case == case]
    return _case(case).sentence([r for r in rows if r["case"] == case], runs)


def checks(case, rows):
    """The claim of `case` as conditions on its rows: a list of
    ``(statement, holds)``, the thresholds of the test suite."""
    return _case(case).checks([r for r in rows if r["case"] == case])


def verdict(case, rows):
    """"reproduced", or "NOT reproduced (...)" naming the conditions that fail."""
    failed = [text for text, holds in checks(case, rows) if not holds]
    return "reproduced" if not failed else "NOT reproduced (" + "; ".join(failed) + ")"


# ---------------------------------------------------------------------------
# figures and the report

_FEATURES = {"placement": ("CGPA (standardized)", "IQ (standardized)"), "moons": ("x1", "x2")}


def _groups(runs):
    """The runs of one case split by data set, in order of appearance."""
    groups = {}
    for run in runs:
        groups.setdefault(run.scheme.dataset, []).append(run)
    return list(groups.items())


def _figures(case, dataset, runs, prefix, out, bar):
    """Writes the figures of one case's runs on one data set into `out`;
    returns [(title, file name)], the titles those of `_FIGURE_KINDS`."""
    from . import plots

    labels = [r.scheme.label for r in runs]
    titles = {kind: title for kind, title, _ in _FIGURE_KINDS}
    written = []

    def draw(kind, plot, *args, **kwargs):
        name = f"{prefix}_{kind}.png"
        plot(*args, os.path.join(out, name), title=f"{_case(case).title} ({dataset}): {titles[kind]}",
             **kwargs)
        written.append((titles[kind], name))
        bar.step()

    draw("training", plots.plot_training_curves, [r.result for r in runs], labels)
    draw("gradients", plots.plot_gradient_norms, [r.result for r in runs], labels)
    draw("histograms", plots.plot_histogram_grid, [r.sim0 for r in runs], labels)
    if runs[0].X.shape[1] == 2:
        boundary_labels = [f"{r.scheme.label}: accuracy {r.result.accuracy[-1]:.3f}" for r in runs]
        draw("boundary", plots.plot_decision_boundaries, [r.net for r in runs], runs[0].X, runs[0].y,
             boundary_labels, feature_names=_FEATURES.get(dataset, ("x1", "x2")))
    return written


def _figure_count(runs):
    return sum(3 + (group[0].X.shape[1] == 2) for _, group in _groups(runs))


def _report(cases, by_case, rows, figures, seed, seconds, note):
    lines = ["# initcore demo: the four classic failure cases of initialization, and their remedies", "",
             f"`initcore demo --case {'all' if len(cases) > 1 else cases[0]} --seed {seed}`, "
             f"{seconds:.1f} s of wall time. Every number below comes from this run.", "",
             LEGEND, ""]
    if figures:
        lines += [FIGURE_LEGEND, ""]
    if note:
        lines += [f"*{note}*", ""]
    for case in cases:
        case_rows = [r for r in rows if r["case"] == case]
        lines += [f"## {CASES.index(case) + 1}. {_case(case).title}", "",
                  "**Measured:** " + claim_sentence(case, case_rows, by_case[case]), "",
                  f"**Claim {verdict(case, case_rows)}** (" + "; ".join(t for t, _ in checks(case, case_rows))
                  + ").", "",
                  _case(case).note, ""]
        groups = _groups(by_case[case])
        for dataset, _ in groups:
            if len(groups) > 1:
                lines += [f"### {dataset}", ""]
            lines += [_markdown_table([r for r in case_rows if r["dataset"] == dataset]), ""]
            for title, name in figures.get((case, dataset), []):
                lines += [f"![{title}]({name})", ""]
    return "\n".join(lines)


def run_demo(case="all", out=None, seed=0, progress=None, *, runs_out=None):
    """Reproduce the claims of `case` and return the table rows.

    Parameters
    ----------
    case : {"zero", "constant", "small", "large", "remedies", "fixes", "all"}
    out : str or path-like, optional
        A directory (created if needed) for the figures and ``report.md``;
        None writes nothing. Without matplotlib the report has no figures
        (and says so).
    seed : int
        See `train_cases`: the same seed gives the same rows.
    progress : bool or None
        One progress bar on stderr over the training and the figures.
    runs_out : list, optional
        When given, the `DemoRun` objects (with the trained networks) are
        appended to it.

    Returns
    -------
    list of dict
        One row per scheme with the keys of `COLUMNS`.
    """
    start = time.perf_counter()
    if out is not None:
        out = os.fspath(out)
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out {out!r} exists and is not a directory")
    runs = train_cases(case, seed, progress=progress)
    rows = [r.row() for r in runs]
    if runs_out is not None:
        runs_out.extend(runs)
    if out is None:
        return rows
    os.makedirs(out, exist_ok=True)
    cases = list(CASES) if case == "all" else [case]
    by_case = {c: [r for r in runs if r.scheme.case == c] for c in cases}
    note = None
    try:
        from .plots import require_matplotlib

        require_matplotlib()
        mpl_ok = True
    except ImportError as exc:
        mpl_ok, note = False, f"No figures: {exc}"
    figures = {}
    if mpl_ok:
        total = sum(_figure_count(by_case[c]) for c in cases)
        with Progress(total, "plots", progress) as bar:
            for c in cases:
                groups = _groups(by_case[c])
                for dataset, group in groups:
                    prefix = c if len(groups) == 1 else f"{c}_{dataset}"
                    figures[(c, dataset)] = _figures(c, dataset, group, prefix, out, bar)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(_report(cases, by_case, rows, figures, seed, time.perf_counter() - start, note))
    with open(os.path.join(out, "results.json"), "w") as f:
        f.write(format_rows(rows, "json") + "\n")
    return rows
