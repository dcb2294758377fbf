"""Figures of a `Simulation`: per-layer histograms of activations and
back-propagated gradients (Glorot & Bengio 2010, Figs. 6-7) and per-layer
curves of the measurements beside mean-field theory.

matplotlib is an optional dependency (``pip install "initcore[plot]"``),
imported only when a figure is made. Figures are built on
`matplotlib.figure.Figure` with an Agg canvas, never through pyplot, so
making one changes no global state (backend, current figure) and works
without a display.
"""
import types

import numpy as np

__all__ = ["plot_compare", "plot_simulation"]

_INSTALL = 'pip install "initcore[plot]"'
# Layers whose histograms are drawn when `layers` is not given.
_DEFAULT_LAYERS = 5
# An axis of positive values turns logarithmic when they span more than this.
_LOG_SPAN = 100.0
# A histogram narrower than this (relative to its centre, or absolutely) is
# the zero-variance fallback of the simulation's binning: a point mass.
_POINT_RELATIVE, _POINT_ABSOLUTE = 4e-6, 4e-30


def require_matplotlib():
    """The few matplotlib names that the figures use.

    Returns
    -------
    types.SimpleNamespace
        ``Figure``, ``FigureCanvasAgg``, ``MaxNLocator``,
        ``PercentFormatter`` and ``colormaps``.

    Raises
    ------
    ImportError
        Without matplotlib, saying how to install it.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator, PercentFormatter
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib, an optional dependency of initcore: {_INSTALL}") from exc
    return types.SimpleNamespace(Figure=Figure, FigureCanvasAgg=FigureCanvasAgg, MaxNLocator=MaxNLocator,
                                 PercentFormatter=PercentFormatter, colormaps=matplotlib.colormaps)


def _new_figure(mpl, figsize):
    fig = mpl.Figure(figsize=figsize, layout="constrained")
    mpl.FigureCanvasAgg(fig)  # attaches itself: savefig and inline display work without pyplot
    return fig


def _save(fig, path):
    if path is not None:
        fig.savefig(path)  # the format follows the extension (png, svg, pdf, ...)


def _check_sim(sim, what="sim"):
    from ..propagation.simulate import Simulation  # not at import: simulate imports this module

    if not isinstance(sim, Simulation):
        raise TypeError(f"{what} must be an initcore.Simulation (the result of initcore.simulate), "
                        f"got {type(sim).__name__}")
    if len(sim) == 0:
        raise ValueError(f"{what} has no layers to plot")


def _as_list(items, cls, what, empty, check):
    """`items`, one `cls` or a sequence of them, as a list: ValueError
    `empty` when there is none, ``check(item, "what[i]")`` on each."""
    if isinstance(items, cls):
        items = [items]
    items = list(items)
    if not items:
        raise ValueError(empty)
    for i, item in enumerate(items):
        check(item, f"{what}[{i}]")
    return items


def _check_sims(sims, caller):
    """`sims` (one Simulation or a sequence of them) as a checked list;
    `caller` names the function in the error for none."""
    from ..propagation.simulate import Simulation

    return _as_list(sims, Simulation, "sims", f"{caller} needs at least one simulation", _check_sim)


def _select_layers(depth, layers):
    """Sorted 1-based layer numbers: `layers`, or about _DEFAULT_LAYERS evenly
    spaced ones, the first and the last included."""
    if layers is None:
        return sorted({int(round(v)) for v in np.linspace(1, depth, min(_DEFAULT_LAYERS, depth))})
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, (bool, np.bool_)):
        layers = [layers]
    try:
        values = list(layers)
    except TypeError:
        raise TypeError(f"layers must be a list of 1-based layer numbers, got {layers!r}") from None
    chosen = set()
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"layers must be 1-based layer numbers (ints), got {value!r}")
        if not 1 <= value <= depth:
            raise ValueError(f"layer {int(value)} does not exist: the network has layers 1..{depth}")
        chosen.add(int(value))
    if not chosen:
        raise ValueError("layers is empty: pass at least one 1-based layer number")
    return sorted(chosen)


def _finite(values):
    """float64 copy with non-finite values as NaN (matplotlib breaks the line there)."""
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _positive(values):
    """float64 copy with non-finite and non-positive values as NaN, for log axes."""
    out = _finite(values)
    with np.errstate(invalid="ignore"):
        out[~(out > 0)] = np.nan
    return out


def _sqrt(values):
    out = _finite(values)
    with np.errstate(invalid="ignore"):
        return np.sqrt(out)  # negative -> NaN


def _has_data(values):
    return bool(np.any(np.isfinite(values)))


def _wants_log(*arrays):
    """Whether the positive finite values span more than _LOG_SPAN."""
    values = np.concatenate([_positive(a) for a in arrays])
    values = values[np.isfinite(values)]
    return values.size > 0 and values.max() > _LOG_SPAN * values.min()


def _set_log(ax, *arrays):
    """Logarithmic y when any value can be shown there; returns whether it is."""
    if any(np.any(np.isfinite(_positive(a))) for a in arrays):
        ax.set_yscale("log", nonpositive="mask")
        return True
    return False


def _legend(ax, **kwargs):
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize="small", **kwargs)


def _note(ax, text):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def _layer_axis(mpl, ax, depth):
    ax.set_xlabel("layer")
    ax.xaxis.set_major_locator(mpl.MaxNLocator(integer=True))
    ax.set_xlim(0.5, depth + 0.5)


def _density(hist):
    """(edges, density) of one stored histogram, normalised by every finite
    value (those outside the range included, so the curve integrates to the
    fraction inside it); None when there is nothing to draw."""
    edges = np.asarray(hist["edges"], dtype=np.float64)
    counts = np.asarray(hist["counts"], dtype=np.float64)
    total = float(counts.sum()) + float(hist.get("below", 0)) + float(hist.get("above", 0))
    if edges.size < 2 or edges.size != counts.size + 1 or not np.all(np.isfinite(edges)) or total <= 0:
        return None
    widths = np.diff(edges)
    if not np.all(widths > 0):
        return None
    return edges, counts / (total * widths)


def _is_point_mass(edges):
    span, centre = edges[-1] - edges[0], 0.5 * (edges[0] + edges[-1])
    return span <= max(_POINT_RELATIVE * abs(centre), _POINT_ABSOLUTE)


def _histograms(ax, sim, which, chosen, colors):
    """One density curve per chosen layer; zero-variance layers as a vertical
    line at their single value."""
    curves, points = [], []
    for number, color in zip(chosen, colors):
        hist = sim.histograms[number - 1].get(which)
        found = None if hist is None else _density(hist)
        if found is None:
            continue
        edges, density = found
        if _is_point_mass(edges):
            points.append((number, color, 0.5 * (edges[0] + edges[-1])))
        else:
            curves.append((number, color, edges, density))
    # Peaks far apart (a layer's values much narrower than another's, as with
    # vanishing gradients): a log density axis keeps the wide curves visible.
    peaks = [density.max() for *_, density in curves if density.max() > 0]
    log = bool(peaks) and max(peaks) > _LOG_SPAN * min(peaks)
    if log:
        ax.set_yscale("log", nonpositive="mask")
    drawn = []  # (layer, artist)
    for number, color, edges, density in curves:
        if log:
            density = _positive(density)
        if density.size < 3:
            artist = ax.stairs(density, edges, color=color, linewidth=1.5, label=f"layer {number}")
        else:
            (artist,) = ax.plot(0.5 * (edges[:-1] + edges[1:]), density, color=color, linewidth=1.5,
                                label=f"layer {number}")
        drawn.append((number, artist))
    for number, color, value in points:
        drawn.append((number, ax.axvline(value, color=color, linestyle="--", linewidth=1.5,
                                          label=f"layer {number} (all {value:.3g})")))
    values = [value for *_, value in points]
    if points and not curves and max(values) - min(values) <= _POINT_ABSOLUTE:
        # only point masses at one place: give the axis a readable width
        centre = 0.5 * (max(values) + min(values))
        half = max(abs(centre), 1.0)
        ax.set_xlim(centre - half, centre + half)
    if not (curves or points):
        _note(ax, "no finite values")
    elif not log:
        ax.set_ylim(bottom=0.0)
    ax.set_ylabel("density")
    if drawn:  # the legend in layer order, point masses among the curves
        drawn.sort(key=lambda item: item[0])
        ax.legend([artist for _, artist in drawn], [artist.get_label() for _, artist in drawn], fontsize="small")


def plot_simulation(sim, path=None, *, layers=None):
    """Plot a `Simulation`: histograms per layer and per-layer curves.

    The top row shows, for a few layers, the normalised histogram (density)
    of the activations, one curve per layer on a shared x axis, as in Glorot
    & Bengio (2010), Fig. 6; and, when the simulation ran a backward pass,
    that of the back-propagated gradients ``delta = dL/dz`` (their Fig. 7).
    A layer whose values are all equal is drawn as a dashed vertical line at
    that value.

    The bottom row shows curves against the layer index, over every layer:
    the standard deviation of the activations and the root mean square
    ``sqrt(q)`` of the pre-activations, mean-field theory ``sqrt(q_theory)``
    dashed (on a log axis when the values span more than 100x); the fraction
    of saturated activations and of dead units; and, with a backward pass,
    ``E[delta^2]`` with its theory dashed and the gradient norm ``|dW|_F``,
    on a log axis. NaN, infinite, missing and (on log axes) non-positive
    values are left out of the curves.

    Parameters
    ----------
    sim : Simulation
        The result of `initcore.simulate`.
    path : str or path-like, optional
        Where to save the figure; the format follows the extension (``.png``,
        ``.svg``, ``.pdf``, or any other that matplotlib writes).
    layers : list of int, optional
        The layers (1-based) whose histograms are drawn. By default about five
        evenly spaced layers, the first and the last included.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (with an Agg canvas: no pyplot state is touched). In a
        notebook it displays itself; elsewhere save it with ``savefig``.

    Raises
    ------
    ImportError
        Without matplotlib (``pip install "initcore[plot]"``).

    References
    ----------
    X. Glorot & Y. Bengio, "Understanding the difficulty of training deep
    feedforward neural networks", AISTATS 2010; B. Poole et al., NeurIPS
    2016; S. S. Schoenholz et al., ICLR 2017.

    Examples
    --------
    >>> net = initcore.MLP([256] * 11, activation="tanh", init="xavier_normal", seed=0)
    >>> fig = initcore.simulate(net, batch=256, seed=1).plot("tanh_xavier.png")  # doctest: +SKIP
    """
    mpl = require_matplotlib()
    _check_sim(sim)
    depth = len(sim)
    chosen = _select_layers(depth, layers)
    backward = all("gradients" in h for h in sim.histograms)
    cmap = mpl.colormaps["viridis"]
    colors = [cmap(0.85 * i / max(len(chosen) - 1, 1)) for i in range(len(chosen))]

    fig = _new_figure(mpl, (14.0, 8.0) if backward else (11.0, 8.0))
    grid = fig.add_gridspec(2, 6 if backward else 2)
    if backward:
        ax_act, ax_grad = fig.add_subplot(grid[0, :3]), fig.add_subplot(grid[0, 3:])
        bottom = [fig.add_subplot(grid[1, 2 * i:2 * i + 2]) for i in range(3)]
    else:
        ax_act, ax_grad = fig.add_subplot(grid[0, :]), None
        bottom = [fig.add_subplot(grid[1, i]) for i in range(2)]

    _histograms(ax_act, sim, "activations", chosen, colors)
    ax_act.set_xlabel("activation value")
    ax_act.set_title("Activations (Glorot & Bengio 2010, Fig. 6)")
    if ax_grad is not None:
        _histograms(ax_grad, sim, "gradients", chosen, colors)
        ax_grad.set_xlabel(r"back-propagated gradient $\delta = \partial L / \partial z$")
        ax_grad.set_title("Back-propagated gradients (Fig. 7)")

    x = sim.column("layer")
    _forward_panel(mpl, bottom[0], sim, x, depth)
    _fraction_panel(mpl, bottom[1], sim, x, depth)
    if backward:
        _gradient_panel(mpl, bottom[2], sim, x, depth)

    config = sim.config
    details = [f"batch {config['batch']}" if "batch" in config else None,
               f"input q0 = {config['q0']:.4g}" if "q0" in config else None,
               f"loss {config['loss']}" if config.get("loss") else None]
    details = ", ".join(d for d in details if d)
    fig.suptitle(str(config.get("network", "simulation")) + (f"\n{details}" if details else ""))
    _save(fig, path)
    return fig


def _forward_panel(mpl, ax, sim, x, depth):
    a_std, root_q, root_q_theory = _finite(sim.column("a_std")), _sqrt(sim.column("q")), _sqrt(sim.column("q_theory"))
    log = _wants_log(a_std, root_q, root_q_theory) and _set_log(ax, a_std, root_q, root_q_theory)
    fix = _positive if log else _finite
    ax.plot(x, fix(a_std), marker="o", markersize=3, color="C0", label="std(a)")
    ax.plot(x, fix(root_q), marker="s", markersize=3, color="C1", label=r"$\sqrt{q}$ measured")
    if _has_data(fix(root_q_theory)):
        ax.plot(x, fix(root_q_theory), linestyle="--", color="C1", label=r"$\sqrt{q}$ theory")
    if not any(_has_data(fix(v)) for v in (a_std, root_q, root_q_theory)):
        _note(ax, "no finite values")
    _layer_axis(mpl, ax, depth)
    ax.set_ylabel("scale")
    ax.set_title("Forward signal")
    _legend(ax)


def _fraction_panel(mpl, ax, sim, x, depth):
    ax.plot(x, _finite(sim.column("saturated")), marker="o", markersize=3, color="C3", label="saturated")
    ax.plot(x, _finite(sim.column("dead_units")), marker="s", markersize=3, color="C7", label="dead units")
    _layer_axis(mpl, ax, depth)
    ax.set_ylim(-0.03, 1.03)
    ax.yaxis.set_major_formatter(mpl.PercentFormatter(1.0))
    ax.set_ylabel("fraction")
    ax.set_title("Saturation and dead units")
    _legend(ax)


def _gradient_panel(mpl, ax, sim, x, depth):
    delta2, theory, dw = sim.column("delta2"), sim.column("delta2_theory"), sim.column("dw_norm")
    if _set_log(ax, delta2, theory, dw):
        series = [(_positive(delta2), dict(marker="o", markersize=3, color="C2", label=r"E[$\delta^2$]")),
                  (_positive(theory), dict(linestyle="--", color="C2", label=r"E[$\delta^2$] theory")),
                  (_positive(dw), dict(marker="s", markersize=3, color="C4", label=r"$|dW|_F$"))]
        for values, style in series:
            if _has_data(values):
                ax.plot(x, values, **style)
        zeros = any(np.any(_finite(v) == 0) for v in (delta2, theory, dw))
        ax.set_title("Backward signal" + (" (zeros not shown)" if zeros else ""))
    else:
        ax.plot(x, _finite(delta2), marker="o", markersize=3, color="C2", label=r"E[$\delta^2$]")
        ax.plot(x, _finite(dw), marker="s", markersize=3, color="C4", label=r"$|dW|_F$")
        ax.set_title("Backward signal")
        _note(ax, "no positive gradients")
    _layer_axis(mpl, ax, depth)
    ax.set_ylabel("gradient scale")
    _legend(ax)


def plot_compare(sims, labels=None, path=None):
    """Plot several simulations side by side, one curve per simulation.

    Panels, against the layer index: the standard deviation of the
    activations (log axis when the values span more than 100x), the fraction
    of saturated activations, and, when any simulation ran a backward pass,
    the gradient ``E[delta^2]`` (log axis), as in the comparisons of
    initializations of Glorot & Bengio (2010).

    Parameters
    ----------
    sims : sequence of Simulation
    labels : sequence of str, optional
        One legend label per simulation; by default each network's description.
    path : str or path-like, optional
        Where to save the figure; the format follows the extension.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        Without matplotlib (``pip install "initcore[plot]"``).

    References
    ----------
    X. Glorot & Y. Bengio, AISTATS 2010.
    """
    mpl = require_matplotlib()
    sims = _check_sims(sims, "plot_compare")
    if labels is None:
        labels = [str(sim.config.get("network", f"simulation {i + 1}")) for i, sim in enumerate(sims)]
    elif isinstance(labels, str):
        raise TypeError("labels must be a sequence of strings, one per simulation, not one string")
    labels = [str(label) for label in labels]
    if len(labels) != len(sims):
        raise ValueError(f"got {len(labels)} labels for {len(sims)} simulations")
    backward = [all("gradients" in h for h in sim.histograms) for sim in sims]
    depth = max(len(sim) for sim in sims)

    panels = 3 if any(backward) else 2
    fig = _new_figure(mpl, (5.0 * panels, 4.6))
    axes = [fig.add_subplot(1, panels, i + 1) for i in range(panels)]
    xs = [sim.column("layer") for sim in sims]

    stds = [_finite(sim.column("a_std")) for sim in sims]
    fix = _positive if _wants_log(*stds) and _set_log(axes[0], *stds) else _finite
    for i, (x, values, label) in enumerate(zip(xs, stds, labels)):
        axes[0].plot(x, fix(values), marker="o", markersize=3, color=f"C{i % 10}", label=label)
    axes[0].set_ylabel("std(a)")
    axes[0].set_title("Activation std")

    for i, (x, sim) in enumerate(zip(xs, sims)):
        axes[1].plot(x, _finite(sim.column("saturated")), marker="o", markersize=3, color=f"C{i % 10}")
    axes[1].set_ylim(-0.03, 1.03)
    axes[1].yaxis.set_major_formatter(mpl.PercentFormatter(1.0))
    axes[1].set_ylabel("saturated")
    axes[1].set_title("Saturated fraction")

    if panels == 3:
        ax = axes[2]
        delta2 = [sim.column("delta2") if b else None for sim, b in zip(sims, backward)]
        log = _set_log(ax, *[d for d in delta2 if d is not None])
        for i, (x, values) in enumerate(zip(xs, delta2)):
            if values is not None:
                ax.plot(x, (_positive if log else _finite)(values), marker="o", markersize=3, color=f"C{i % 10}")
        if not log:
            _note(ax, "no positive gradients")
        ax.set_ylabel(r"E[$\delta^2$]")
        ax.set_title("Back-propagated gradient")
    for ax in axes:
        _layer_axis(mpl, ax, depth)
    handles = axes[0].get_legend_handles_labels()[0]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize="small")
    _save(fig, path)
    return fig


def plot_phase_diagram(activation, sigma_b2_max=0.5, path=None, *, points=None, param=None):
    """The order-to-chaos phase diagram of an activation in the
    (sigma_b2, sigma_w2) plane: the critical line chi1 = 1 (Poole et al.
    2016, Fig. 4; Schoenholz et al. 2017, Fig. 1), with the ordered phase
    (vanishing gradients) below it and the chaotic phase (exploding
    gradients) above.

    Parameters
    ----------
    activation : str
    sigma_b2_max : float
        Right end of the sigma_b2 axis, > 0.
    path : str or path-like, optional
        Where to save the figure.
    points : dict of str to (sigma_b2, sigma_w2), optional
        Labelled points to mark, e.g. initializers.
    param : float, optional
        The activation's parameter.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..propagation import meanfield

    mpl = require_matplotlib()
    sigma_b2 = np.linspace(0.0, sigma_b2_max, 101)
    line = np.asarray(meanfield.critical_line(activation, sigma_b2, param=param), dtype=np.float64)
    fig = _new_figure(mpl, (6.4, 4.8))
    ax = fig.add_subplot()
    ok = np.isfinite(line)
    marks = list((points or {}).values())
    top = max([*line[ok], *(w for _, w in marks)], default=2.0) * 1.3
    ax.fill_between(sigma_b2[ok], 0.0, line[ok], color="tab:blue", alpha=0.15, label="ordered: chi1 < 1")
    ax.fill_between(sigma_b2[ok], line[ok], top, color="tab:red", alpha=0.15, label="chaotic: chi1 > 1")
    ax.plot(sigma_b2[ok], line[ok], color="black", label="critical line chi1 = 1")
    for label, (b2, w2) in (points or {}).items():
        ax.plot([b2], [w2], "o")
        ax.annotate(label, (b2, w2), textcoords="offset points", xytext=(5, 5))
    ax.set_xlim(0.0, sigma_b2_max)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("sigma_b^2 (bias variance)")
    ax.set_ylabel("sigma_w^2 (weight variance x fan-in)")
    ax.set_title(f"{activation}: order-to-chaos phase diagram")
    _legend(ax, loc="upper left")
    _save(fig, path)
    return fig


# ---------------------------------------------------------------------------
# Figures of training runs (`initcore.train`), as `initcore demo` draws them.


def _check_results(results, labels, what="results"):
    from ..training.train import TrainResult

    def check(result, name):
        if not isinstance(result, TrainResult):
            raise TypeError(f"{name} must be an initcore.TrainResult (the result of initcore.train), "
                            f"got {type(result).__name__}")

    results = _as_list(results, TrainResult, what, f"{what} is empty: pass at least one initcore.TrainResult", check)
    return results, _labels(labels, len(results), [r.config["network"] for r in results])


def _labels(labels, count, default):
    if labels is None:
        return list(default)
    if isinstance(labels, str):
        raise TypeError("labels must be a sequence of strings, one per curve, not one string")
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise ValueError(f"got {len(labels)} labels for {count} curves")
    return labels


def _hidden_average(result, key):
    """Per record, `key` averaged over the hidden layers weighted by their
    width (every layer when there is only one)."""
    values = result.layer_column(key)
    widths = np.asarray(result.config["widths"][1:], np.float64)
    hidden = slice(0, max(values.shape[1] - 1, 1))
    return values[:, hidden] @ widths[hidden] / widths[hidden].sum()


def plot_training_curves(results, labels=None, path=None, *, title=None):
    """Training curves of several `initcore.train` runs, one curve per run:
    the training loss, the training accuracy (the 90% mark dotted) and the
    fraction of saturated hidden activations (width-weighted over the hidden
    layers), against the epoch (0 is before training).

    Parameters
    ----------
    results : sequence of TrainResult
    labels : sequence of str, optional
        One legend label per run; by default each network's description.
    path : str or path-like, optional
        Where to save the figure; the format follows the extension.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    mpl = require_matplotlib()
    results, labels = _check_results(results, labels)
    fig = _new_figure(mpl, (15.0, 4.6))
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    losses = [_finite(r.loss) for r in results]
    fix = _positive if _wants_log(*losses) and _set_log(axes[0], *losses) else _finite
    for i, (result, label) in enumerate(zip(results, labels)):
        color = f"C{i % 10}"
        style = dict(color=color, linewidth=1.5, marker="o" if len(result) <= 12 else None, markersize=3)
        axes[0].plot(result.epochs, fix(result.loss), label=label, **style)
        axes[1].plot(result.epochs, _finite(result.accuracy), **style)
        axes[2].plot(result.epochs, _finite(_hidden_average(result, "saturated")), **style)
    axes[0].set_ylabel("training loss")
    axes[0].set_title("Loss")
    axes[1].axhline(0.9, color="0.5", linestyle=":", linewidth=1)
    axes[1].set_ylim(0.0, 1.02)
    axes[1].yaxis.set_major_formatter(mpl.PercentFormatter(1.0))
    axes[1].set_ylabel("training accuracy")
    axes[1].set_title("Accuracy (90% dotted)")
    axes[2].set_ylim(-0.03, 1.03)
    axes[2].yaxis.set_major_formatter(mpl.PercentFormatter(1.0))
    axes[2].set_ylabel("saturated hidden activations")
    axes[2].set_title("Saturation")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(mpl.MaxNLocator(integer=True))
    fig.legend(axes[0].get_legend_handles_labels()[0], labels, loc="outside lower center",
               ncols=min(len(labels), 4), fontsize="small")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_gradient_norms(results, labels=None, path=None, *, title=None):
    """The gradient norm ``|dW|_F`` of every layer, at initialization (left)
    and after training (right), one curve per `initcore.train` run, on a log
    axis. A run whose gradients are all exactly 0 (zero initialization) has
    nothing to draw on a log axis and says so in its legend label.

    Parameters
    ----------
    results : sequence of TrainResult
    labels : sequence of str, optional
    path : str or path-like, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    mpl = require_matplotlib()
    results, labels = _check_results(results, labels)
    depth = max(len(r.config["widths"]) - 1 for r in results)
    fig = _new_figure(mpl, (12.0, 4.8))
    axes = [fig.add_subplot(1, 2, i + 1) for i in range(2)]
    norms = [r.layer_column("dw_norm") for r in results]
    for ax, row, when in ((axes[0], 0, "at initialization"), (axes[1], -1, "after training")):
        values = [n[row] for n in norms]
        log = _set_log(ax, *values)
        for i, (result, value) in enumerate(zip(results, values)):
            shown = _positive(value) if log else _finite(value)
            ax.plot(np.arange(1, value.size + 1), shown, marker="o", markersize=3, color=f"C{i % 10}")
        if not log:
            _note(ax, "no positive gradients")
        epoch = results[0].history[row]["epoch"] if row == -1 and len({len(r) for r in results}) == 1 else None
        ax.set_title(f"|dW| {when}" + (f" (epoch {epoch})" if epoch is not None else ""))
        ax.set_ylabel(r"$|dW|_F$ of the mean loss")
        _layer_axis(mpl, ax, depth)
    shown_labels = []
    for label, value in zip(labels, norms):
        finite = value[np.isfinite(value)]
        shown_labels.append(label + (" (all 0: not drawn)" if finite.size and not finite.any() else ""))
    handles = [line for line in axes[0].get_lines()]
    fig.legend(handles, shown_labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="small")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_histogram_grid(sims, labels=None, path=None, *, title=None, layers=None):
    """Per-layer histograms of the activations (left) and of the
    back-propagated gradients (right) of several simulations, one row per
    simulation, drawn as `plot_simulation` draws its top row (Glorot &
    Bengio 2010, Figs. 6-7).

    Parameters
    ----------
    sims : sequence of Simulation
    labels : sequence of str, optional
        One row title per simulation; by default each network's description.
    path : str or path-like, optional
    title : str, optional
    layers : list of int, optional
        The 1-based layers drawn (default: about five evenly spaced ones).

    Returns
    -------
    matplotlib.figure.Figure
    """
    mpl = require_matplotlib()
    sims = _check_sims(sims, "plot_histogram_grid")
    labels = _labels(labels, len(sims), [str(s.config.get("network", "")) for s in sims])
    cmap = mpl.colormaps["viridis"]
    fig = _new_figure(mpl, (12.0, 0.6 + 2.7 * len(sims)))
    for row, (sim, label) in enumerate(zip(sims, labels)):
        chosen = _select_layers(len(sim), layers)
        colors = [cmap(0.85 * i / max(len(chosen) - 1, 1)) for i in range(len(chosen))]
        for col, (which, xlabel) in enumerate((("activations", "activation value"),
                                               ("gradients", r"gradient $\delta = \partial L / \partial z$"))):
            ax = fig.add_subplot(len(sims), 2, 2 * row + col + 1)
            if all(which in h for h in sim.histograms):
                _histograms(ax, sim, which, chosen, colors)
            else:
                _note(ax, "no backward pass")
            ax.set_title(f"{label}: {which}", fontsize="medium")
            if row == len(sims) - 1:
                ax.set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_decision_boundaries(nets, X, y, labels=None, path=None, *, title=None, resolution=200,
                             feature_names=("feature 1", "feature 2")):
    """The decision boundary of networks on a two-feature problem: each
    panel shades ``net.predict_proba`` of class 1 over a grid of the feature
    plane, draws the boundary p = 0.5 in black, and the data points on top
    (class 0 blue, class 1 red).

    Parameters
    ----------
    nets : sequence of MLP
        Networks with two inputs and a probability output (see
        `MLP.predict_proba`).
    X : array_like, shape (n, 2)
    y : array_like, shape (n,)
        Labels 0 and 1.
    labels : sequence of str, optional
        One panel title per network.
    path : str or path-like, optional
    title : str, optional
    resolution : int
        Grid points along each axis.
    feature_names : (str, str)
        The axis labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..networks.mlp import MLP

    def check(net, name):
        if not isinstance(net, MLP):
            raise TypeError(f"{name} must be an initcore.MLP, got {type(net).__name__}")
        if net.widths[0] != 2:
            raise ValueError(f"{name} has {net.widths[0]} inputs; a decision boundary is drawn for 2")

    mpl = require_matplotlib()
    nets = _as_list(nets, MLP, "nets", "plot_decision_boundaries needs at least one network", check)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, 2) and y shape (n,), got {X.shape} and {y.shape}")
    labels = _labels(labels, len(nets), [repr(n) for n in nets])
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (hi - lo)
    gx = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    gy = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    columns = len(nets) if len(nets) <= 4 else 3
    rows = -(-len(nets) // columns)
    fig = _new_figure(mpl, (4.6 * columns, 4.4 * rows + 0.6))
    mappable = None
    for i, (net, label) in enumerate(zip(nets, labels)):
        ax = fig.add_subplot(rows, columns, i + 1)
        p = net.predict_proba(grid)[:, 1].reshape(xx.shape)
        mappable = ax.contourf(xx, yy, p, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", alpha=0.75)
        if p.min() < 0.5 < p.max():
            ax.contour(xx, yy, p, levels=[0.5], colors="black", linewidths=1.5)
        else:
            label = f"{label}\n(no boundary: p = {float(p.min()):.2f} to {float(p.max()):.2f} everywhere)"
        ax.scatter(X[y == 0, 0], X[y == 0, 1], s=5, color="tab:blue", edgecolors="none", alpha=0.7)
        ax.scatter(X[y == 1, 0], X[y == 1, 1], s=5, color="tab:red", edgecolors="none", alpha=0.7)
        ax.set_title(label, fontsize="medium")
        ax.set_xlabel(feature_names[0])
        ax.set_ylabel(feature_names[1])
    if mappable is not None:
        fig.colorbar(mappable, ax=fig.axes, shrink=0.8, label="P(class 1)")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig
