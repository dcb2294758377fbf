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

from ._simulate import Simulation

__all__ = ["plot_compare", "plot_simulation"]

_INSTALL = 'pip install "initcore[plot]"'
# Layers whose histograms are drawn when `layers` is not given.
_DEFAULT_LAYERS = 5
# An axis of positive values turns logarithmic when they span more than this.
_LOG_SPAN = 100.0
# A histogram narrower than this (relative to its centre, or absolutely) is
# the zero-variance fallback of the simulation's binning: a point mass.
_POINT_RELATIVE, _POINT_ABSOLUTE = 4e-6, 4e-30


def _matplotlib():
    """The few matplotlib names used here, or an ImportError saying how to
    get them."""
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
    if not isinstance(sim, Simulation):
        raise TypeError(f"{what} must be an initcore.Simulation (the result of initcore.simulate), "
                        f"got {type(sim).__name__}")
    if len(sim) == 0:
        raise ValueError(f"{what} has no layers to plot")


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
    mpl = _matplotlib()
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
    mpl = _matplotlib()
    if isinstance(sims, Simulation):
        sims = [sims]
    sims = list(sims)
    if not sims:
        raise ValueError("plot_compare needs at least one simulation")
    for i, sim in enumerate(sims):
        _check_sim(sim, f"sims[{i}]")
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
    from . import meanfield

    mpl = _matplotlib()
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
