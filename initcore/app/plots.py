"""Figures of a `Simulation`: per-layer histograms of activations and
back-propagated gradients (Glorot & Bengio 2010, Figs. 6-7) and per-layer
curves of the measurements beside mean-field theory.

matplotlib is an optional dependency (``pip install "initcore[plot]"``),
imported only when a figure is made. Figures are built on
`matplotlib.figure.Figure` with an Agg canvas, never through pyplot, so
making one changes no global state (backend, current figure) and works
without a display.
"""
import math
import types

import numpy as np

__all__ = ["plot_compare", "plot_simulation", "plot_sweep"]

_INSTALL = 'pip install "initcore[plot]"'
# Layers whose histograms are drawn when `layers` is not given.
_DEFAULT_LAYERS = 5
# An axis of positive values turns logarithmic when they span more than this.
_LOG_SPAN = 100.0
# A histogram narrower than this (relative to its centre, or absolutely) is
# the zero-variance fallback of the simulation's binning: a point mass.
_POINT_RELATIVE, _POINT_ABSOLUTE = 4e-6, 4e-30
# Bins per decade of the histograms of log10 |delta|.
_PER_DECADE = 10
# A |delta| curve starts this many decades below its layer's linear bin
# width: below one bin, only the spread assumed within it is known.
_BELOW_BIN_DECADES = 1.0
# The legend label's ending of a series that a log axis cannot show.
_NOT_DRAWN = "(all 0: not drawn)"
# plot_compare says that theory matches where it is within this fraction of
# the measurement on every layer.
_MATCH = 0.10
# The fan-in of the width-dependent points of the phase diagram by default
# (that of `initcore compare`).
_PHASE_WIDTH = 256


def require_matplotlib():
    """The few matplotlib names that the figures use.

    Returns
    -------
    types.SimpleNamespace
        ``Figure``, ``FigureCanvasAgg``, ``Line2D``, ``MaxNLocator``,
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
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator, PercentFormatter
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib, an optional dependency of initcore: {_INSTALL}") from exc
    return types.SimpleNamespace(Figure=Figure, FigureCanvasAgg=FigureCanvasAgg, Line2D=Line2D,
                                 MaxNLocator=MaxNLocator, PercentFormatter=PercentFormatter,
                                 colormaps=matplotlib.colormaps)


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


def _all_zero(values):
    """Whether the finite values (at least one) are all exactly 0."""
    finite = values[np.isfinite(values)]
    return finite.size > 0 and not finite.any()


def _series(ax, x, values, log, label, **style):
    """Plot one labelled series, on a log axis its positive values only;
    there an all-zero series has nothing to show, so it becomes an empty
    line whose label says so. Returns the line."""
    values = _finite(values)
    if log and _all_zero(values):
        return ax.plot([], [], label=f"{label} {_NOT_DRAWN}", **style)[0]
    return ax.plot(x, _positive(values) if log else values, label=label, **style)[0]


def _not_drawn_legend(ax):
    """A legend of the panel's series that its log axis cannot show, for
    figures whose own legend names the runs."""
    handles = [line for line in ax.get_lines() if line.get_label().endswith(_NOT_DRAWN)]
    if handles:
        ax.legend(handles=handles, fontsize="small")


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


# The x axis of each kind of histogram.
_HIST_XLABEL = {"activations": "activation value",
                "gradients": r"$|\delta|$, $\delta = \partial L / \partial z$ (log scale)"}


def _histogram_layers(sim, layers):
    """The layers whose histograms are drawn, and whether they are the
    hidden ones only: by default an output layer whose activation no hidden
    layer has (a sigmoid or linear read-out) is left out, as its values are
    of another kind than the hidden layers' beside it."""
    names = [record["activation"] for record in sim.layers]
    hidden = layers is None and len(names) > 1 and names[-1] not in names[:-1]
    return _select_layers(len(names) - hidden, layers), hidden


def _checked(hist):
    """(edges, counts, total) of one stored histogram, `total` counting every
    finite value (those outside the range too); None when there is nothing
    to draw."""
    edges = np.asarray(hist["edges"], dtype=np.float64)
    counts = np.asarray(hist["counts"], dtype=np.float64)
    total = float(counts.sum()) + float(hist.get("below", 0)) + float(hist.get("above", 0))
    if edges.size < 2 or edges.size != counts.size + 1 or not np.all(np.isfinite(edges)) or total <= 0:
        return None
    if not np.all(np.diff(edges) > 0):
        return None
    return edges, counts, total


def _is_point_mass(edges):
    span, centre = edges[-1] - edges[0], 0.5 * (edges[0] + edges[-1])
    return span <= max(_POINT_RELATIVE * abs(centre), _POINT_ABSOLUTE)


def _histograms(ax, sim, which, chosen, colors):
    """One curve per chosen layer: the density of the activations, or the
    fraction per decade of |delta| of the gradients. A layer whose values
    are all equal is a vertical line at that value. When the curves are of
    layers of different activations, each is labelled with its own."""
    names = [sim.layers[number - 1]["activation"] for number in chosen]
    curves, points = [], []
    for number, name, color in zip(chosen, names, colors):
        label = f"layer {number}" + (f" ({name})" if len(set(names)) > 1 else "")
        hist = sim.histograms[number - 1].get(which)
        found = None if hist is None else _checked(hist)
        if found is None:
            continue
        edges = found[0]
        if _is_point_mass(edges):
            points.append((number, label, color, 0.5 * (edges[0] + edges[-1])))
        else:
            curves.append((number, label, color, found))
    draw = _magnitude_curves if which == "gradients" else _density_curves
    drawn = draw(ax, curves, points)  # (layer, artist)
    if drawn:  # the legend in layer order, point masses among the curves
        drawn.sort(key=lambda item: item[0])
        ax.legend([artist for _, artist in drawn], [artist.get_label() for _, artist in drawn], fontsize="small")


def _density_curves(ax, curves, points):
    """The density of each layer's values on a linear x axis, point masses
    dashed at their value; returns [(layer, artist)]."""
    densities = [(number, label, color, edges, counts / (total * np.diff(edges)))
                 for number, label, color, (edges, counts, total) in curves]
    # Peaks far apart (a layer's values much narrower than another's): a log
    # density axis keeps the wide curves visible.
    peaks = [density.max() for *_, density in densities if density.max() > 0]
    log = bool(peaks) and max(peaks) > _LOG_SPAN * min(peaks)
    if log:
        ax.set_yscale("log", nonpositive="mask")
    drawn = []
    for number, label, color, edges, density in densities:
        if log:
            density = _positive(density)
        if density.size < 3:
            artist = ax.stairs(density, edges, color=color, linewidth=1.5, label=label)
        else:
            (artist,) = ax.plot(0.5 * (edges[:-1] + edges[1:]), density, color=color, linewidth=1.5, label=label)
        drawn.append((number, artist))
    for number, label, color, value in points:
        drawn.append((number, ax.axvline(value, color=color, linestyle="--", linewidth=1.5,
                                          label=f"{label} (all {value:.3g})")))
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
    return drawn


def _magnitude_curves(ax, curves, points):
    """Histograms of log10 |value| on a shared grid, as fractions of each
    layer's values per decade, against |value| on a log x axis: vanishing
    gradients move their layers' curves decades apart, with peaks of about
    the same height. Point masses are dashed at their magnitude, those at 0
    named as not drawn. Returns [(layer, artist)]."""
    floors = [np.log10(np.diff(edges).min()) - _BELOW_BIN_DECADES for *_, (edges, _, _) in curves]
    tops = [np.log10(np.abs(edges[[0, -1]]).max()) for *_, (edges, _, _) in curves]
    nonzero = [abs(value) for *_, value in points if value != 0]
    drawn = []
    if curves:
        low, high = min(floors), max(tops)
        grid = np.linspace(low, high, max(int(round((high - low) * _PER_DECADE)), 1) + 1)
        middle = 0.5 * (grid[:-1] + grid[1:])
        for (number, label, color, (edges, counts, total)), floor, top in zip(curves, floors, tops):
            share = _decade_share(edges, counts, total, grid)
            share[(middle < floor) | (middle > top)] = np.nan  # beyond what this layer's bins cover
            (artist,) = ax.plot(10.0 ** middle, share, color=color, linewidth=1.5, label=label)
            drawn.append((number, artist))
    if curves or nonzero:
        ax.set_xscale("log")
        ax.set_ylim(bottom=0.0)
        if not curves:  # lines only: a decade either side
            ax.set_xlim(min(nonzero) / 10.0, max(nonzero) * 10.0)
    else:
        _note(ax, "no nonzero values" if points else "no finite values")
    for number, label, color, value in points:
        if value == 0:
            artist = ax.plot([], [], color=color, linestyle="--", linewidth=1.5, label=f"{label} {_NOT_DRAWN}")[0]
        else:
            artist = ax.axvline(abs(value), color=color, linestyle="--", linewidth=1.5,
                                label=f"{label} (all {value:.3g})")
        drawn.append((number, artist))
    ax.set_ylabel("fraction per decade")
    return drawn


def _decade_share(edges, counts, total, grid):
    """The fraction of `total` values whose log10 |value| falls in each bin
    of `grid`, per decade, from counts in linear bins: the values in a bin
    are taken as spread evenly across it (its cumulative count is linear
    there), which is all that the counts tell."""
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    magnitude = 10.0 ** grid
    within = np.interp(magnitude, edges, cumulative) - np.interp(-magnitude, edges, cumulative)  # |value| <= m
    return np.diff(within) / (total * np.diff(grid))


def plot_simulation(sim, path=None, *, layers=None):
    """Plot a `Simulation`: histograms per layer and per-layer curves.

    The top row shows, for a few layers, the normalised histogram (density)
    of the activations, one curve per layer on a shared x axis, as in Glorot
    & Bengio (2010), Fig. 6; and, when the simulation ran a backward pass,
    the histogram of the magnitude of the back-propagated gradients
    ``delta = dL/dz`` (their Fig. 7, on a log scale): the fraction of each
    layer's ``log10 |delta|`` per decade, against ``|delta|`` on a log axis,
    so that vanishing or exploding gradients show as curves decades apart
    instead of spikes at 0. The simulation keeps counts in linear bins only;
    the values within a bin are taken as spread evenly across it. A layer
    whose values are all equal is drawn as a dashed vertical line at that
    value (or, for gradients all 0, named "(all 0: not drawn)").

    By default the histograms are of the hidden layers: an output layer of
    an activation that no hidden layer has (a sigmoid or linear read-out) is
    left out, and the panels' titles say "hidden layers". Asked for with
    `layers`, it is drawn, and then every curve is labelled with its layer's
    activation.

    The bottom row shows curves against the layer index, over every layer:
    the standard deviation of the activations and the root mean square
    ``sqrt(q)`` of the pre-activations, mean-field theory ``sqrt(q_theory)``
    dashed (on a log axis when the values span more than 100x); the fraction
    of saturated activations and of dead units; and, with a backward pass,
    ``E[delta^2]`` with its theory dashed and the gradient norm ``|dW|_F``,
    on a log axis. NaN, infinite, missing and (on log axes) non-positive
    values are left out of the curves; a series all 0 on a log axis is
    named "(all 0: not drawn)" in the legend.

    Parameters
    ----------
    sim : Simulation
        The result of `initcore.simulate`.
    path : str or path-like, optional
        Where to save the figure; the format follows the extension (``.png``,
        ``.svg``, ``.pdf``, or any other that matplotlib writes).
    layers : list of int, optional
        The layers (1-based) whose histograms are drawn. By default about five
        evenly spaced hidden layers, the first and the last included.

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
    chosen, hidden = _histogram_layers(sim, layers)
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

    scope = " of the hidden layers" if hidden else ""
    _histograms(ax_act, sim, "activations", chosen, colors)
    ax_act.set_xlabel(_HIST_XLABEL["activations"])
    ax_act.set_title(f"Activations{scope} (Glorot & Bengio 2010, Fig. 6)")
    if ax_grad is not None:
        _histograms(ax_grad, sim, "gradients", chosen, colors)
        ax_grad.set_xlabel(_HIST_XLABEL["gradients"])
        ax_grad.set_title(f"Back-propagated gradients{scope}, log scale (Fig. 7)")

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
    _series(ax, x, a_std, log, "std(a)", marker="o", markersize=3, color="C0")
    _series(ax, x, root_q, log, r"$\sqrt{q}$ measured", marker="s", markersize=3, color="C1")
    if _has_data(root_q_theory):
        _series(ax, x, root_q_theory, log, r"$\sqrt{q}$ theory", linestyle="--", color="C1")
    if not any(_has_data(v) for v in (a_std, root_q, root_q_theory)):
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
    log = _set_log(ax, delta2, theory, dw)
    for values, label, style in ((delta2, r"E[$\delta^2$]", dict(marker="o", markersize=3, color="C2")),
                                 (theory, r"E[$\delta^2$] theory", dict(linestyle="--", color="C2")),
                                 (dw, r"$|dW|_F$", dict(marker="s", markersize=3, color="C4"))):
        if _has_data(values):
            _series(ax, x, values, log, label, **style)
    if log:
        zeros = any(np.any(_finite(v) == 0) for v in (delta2, theory, dw))
        ax.set_title("Backward signal" + (" (zeros not shown)" if zeros else ""))
    else:
        ax.set_title("Backward signal")
        _note(ax, "no positive gradients")
    _layer_axis(mpl, ax, depth)
    ax.set_ylabel("gradient scale")
    _legend(ax)


def plot_compare(sims, labels=None, path=None):
    """Plot several simulations side by side, one curve per simulation,
    mean-field theory dashed in the same colour.

    Panels, against the layer index: the root mean square of the activations
    ``sqrt(E[a^2])`` beside its theory (the root mean square rather than the
    standard deviation, as mean-field theory predicts the second moment; for
    an odd activation such as tanh they agree), on a log axis when the
    values span more than 100x; the fraction of saturated activations; and,
    when any simulation ran a backward pass, the gradient ``E[delta^2]``
    beside its theory, on a log axis; as in the comparisons of
    initializations of Glorot & Bengio (2010), with the predictions of
    Poole et al. (2016) and Schoenholz et al. (2017).

    The title gives the activation, depth, hidden width and batch from the
    simulations' configs (each value, "/"-separated, where they differ).
    Each simulation's legend label says how far theory is from its
    measurements at most, over the layers: "theory (dashed) matches within
    x%" where that is at most 10% (the dashed curve is then hidden under the
    measured one), otherwise "off by up to x%" (or "a factor f" from 2x). A
    series all 0 on a log axis is named "(all 0: not drawn)" in its panel.

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
    X. Glorot & Y. Bengio, AISTATS 2010; B. Poole et al., NeurIPS 2016;
    S. S. Schoenholz et al., ICLR 2017.
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
    fig = _new_figure(mpl, (5.0 * panels, 5.2))
    axes = [fig.add_subplot(1, panels, i + 1) for i in range(panels)]
    xs = [sim.column("layer") for sim in sims]

    rms = [_sqrt(sim.column("a2")) for sim in sims]
    rms_theory = [_sqrt(sim.column("a2_theory")) for sim in sims]
    log = _wants_log(*rms, *rms_theory) and _set_log(axes[0], *rms, *rms_theory)
    handles = _beside_theory(axes[0], xs, rms, rms_theory, labels, log)
    axes[0].set_ylabel(r"$\sqrt{E[a^2]}$")
    axes[0].set_title("Activation RMS")

    for i, (x, sim) in enumerate(zip(xs, sims)):
        axes[1].plot(x, _finite(sim.column("saturated")), marker="o", markersize=3, color=f"C{i % 10}")
    axes[1].set_ylim(-0.03, 1.03)
    axes[1].yaxis.set_major_formatter(mpl.PercentFormatter(1.0))
    axes[1].set_ylabel("saturated")
    axes[1].set_title("Saturated fraction")

    if panels == 3:
        ax = axes[2]
        delta2 = [sim.column("delta2") if b else None for sim, b in zip(sims, backward)]
        theory = [sim.column("delta2_theory") if b else None for sim, b in zip(sims, backward)]
        log = _set_log(ax, *[d for d in delta2 + theory if d is not None])
        _beside_theory(ax, xs, delta2, theory, labels, log)
        if not log:
            _note(ax, "no positive gradients")
        ax.set_ylabel(r"E[$\delta^2$]")
        ax.set_title("Back-propagated gradient")
    for ax in axes:
        _layer_axis(mpl, ax, depth)

    shown = [label + _theory_words(_theory_gap(sim)) for sim, label in zip(sims, labels)]
    if any(line.get_linestyle() == "--" and len(line.get_xdata()) for ax in axes for line in ax.get_lines()):
        handles.append(mpl.Line2D([], [], color="0.4", linestyle="--"))
        shown.append("mean-field theory (dashed)")
    fig.legend(handles, shown, loc="outside lower center", ncols=min(len(shown), 3), fontsize="small")
    fig.suptitle(_network_words([sim.config for sim in sims]))
    _save(fig, path)
    return fig


def _beside_theory(ax, xs, measured, theory, labels, log):
    """Per simulation, its measured series solid and its theory dashed in
    the same colour (None: nothing to draw); returns the measured lines, for
    the figure's legend."""
    lines = []
    for i, (x, values, predicted, label) in enumerate(zip(xs, measured, theory, labels)):
        if values is None:
            continue
        color = f"C{i % 10}"
        lines.append(_series(ax, x, values, log, label, marker="o", markersize=3, color=color))
        if _has_data(predicted):
            _series(ax, x, predicted, log, f"{label} theory", linestyle="--", linewidth=1.2, color=color)
    _not_drawn_legend(ax)
    return lines


def _theory_gap(sim):
    """The largest factor between what `plot_compare` draws and its theory,
    ``sqrt(E[a^2])`` and ``E[delta^2]``, either way round (1 where they are
    equal), over the layers where both are finite and positive; None where
    there are none."""
    pairs = [(_sqrt(sim.column("a2")), _sqrt(sim.column("a2_theory")))]
    if all("delta2" in record for record in sim.layers):
        pairs.append((sim.column("delta2"), sim.column("delta2_theory")))
    factors = []
    for measured, theory in pairs:
        measured, theory = _positive(measured), _positive(theory)
        ok = np.isfinite(measured) & np.isfinite(theory)
        ratio = measured[ok] / theory[ok]
        factors.extend(np.maximum(ratio, 1.0 / ratio))
    return max(factors, default=None)


def _theory_words(factor):
    """What a legend label adds of how far theory is from the measurement:
    where they coincide the dashed curve hides under the measured one."""
    if factor is None:
        return ""
    if factor <= 1.0 + _MATCH:
        return f": theory (dashed) matches within {max(math.ceil(100 * (factor - 1.0)), 1)}%"
    if factor < 2.0:
        return f": theory (dashed) off by up to {math.ceil(100 * (factor - 1.0))}%"
    return f": theory (dashed) off by up to {factor:.2g}x"


def _network_words(configs):
    """'tanh network (sigmoid output), depth 8, width 64, batch 256' from
    simulations' configs; a field where they differ gives each value,
    "/"-separated."""
    def field(values):
        return " / ".join(dict.fromkeys(str(v) for v in values))

    def activations(config):
        names = [name for name, _ in config["activations"]]
        hidden = names[:-1] or names
        words = "/".join(dict.fromkeys(hidden))
        return words + (f" ({names[-1]} output)" if names[-1] not in hidden else "")

    widths = [config["widths"][1:-1] or config["widths"][1:] for config in configs]
    return (f"{field(activations(c) for c in configs)} network, "
            f"depth {field(len(c['widths']) - 1 for c in configs)}, "
            f"width {field(w for ws in widths for w in ws)}, batch {field(c['batch'] for c in configs)}")


def plot_phase_diagram(activation, sigma_b2_max=0.5, path=None, *, points=None, param=None, width=_PHASE_WIDTH,
                       common=True):
    """The order-to-chaos phase diagram of an activation in the
    (sigma_b2, sigma_w2) plane: the critical line chi1 = 1 (Poole et al.
    2016, Fig. 4; Schoenholz et al. 2017, Fig. 1), with the ordered phase
    (vanishing gradients) below it and the chaotic phase (exploding
    gradients) above.

    The common initializations are marked, for equal fans: Xavier/Glorot
    (sigma_w2 = 1) and He/Kaiming (sigma_w2 = 2), zero bias; torch's default
    for ``nn.Linear`` (kaiming_uniform with a = sqrt(5), that is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), sigma_w2 = 1/3, its bias alike,
    sigma_b2 = 1 / (3 `width`)); and unit-variance weights N(0, 1), whose
    sigma_w2 is the fan-in `width` itself: above the axis for any usual
    width, so drawn as an arrowhead at the top of the axis.

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
    width : int
        The fan-in behind the width-dependent marks (N(0, 1) and torch's
        bias); 256 by default, the width of ``initcore compare``.
    common : bool
        Mark the common initializations.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    B. Poole et al., "Exponential expressivity in deep neural networks
    through transient chaos", NeurIPS 2016; S. S. Schoenholz et al., "Deep
    information propagation", ICLR 2017; X. Glorot & Y. Bengio, AISTATS
    2010; K. He et al., ICCV 2015.
    """
    from ..propagation import meanfield

    mpl = require_matplotlib()
    sigma_b2 = np.linspace(0.0, sigma_b2_max, 101)
    line = np.asarray(meanfield.critical_line(activation, sigma_b2, param=param), dtype=np.float64)
    fig = _new_figure(mpl, (6.4, 4.8))
    ax = fig.add_subplot()
    ok = np.isfinite(line)
    fixed, scaled = _common_inits(width) if common else ({}, {})
    # the axis reaches every mark but those that grow with the width
    top = max([*line[ok], *(w for _, w in [*(points or {}).values(), *fixed.values()])], default=2.0) * 1.3
    marks = {**(points or {}), **fixed, **scaled}
    ax.fill_between(sigma_b2[ok], 0.0, line[ok], color="tab:blue", alpha=0.15, label="ordered: chi1 < 1")
    ax.fill_between(sigma_b2[ok], line[ok], top, color="tab:red", alpha=0.15, label="chaotic: chi1 > 1")
    ax.plot(sigma_b2[ok], line[ok], color="black", label="critical line chi1 = 1")
    for i, (label, (b2, w2)) in enumerate(marks.items()):
        color = f"C{i % 10}"
        if w2 <= top:
            ax.plot([b2], [w2], "o", color=color, clip_on=False)  # on the edge where sigma_b2 = 0
            ax.annotate(label, (b2, w2), textcoords="offset points", xytext=(5, 5), color=color)
        else:  # an arrow up at the top edge
            ax.plot([b2], [top], "^", color=color, markersize=9, clip_on=False)
            ax.annotate(f"{label}: above", (b2, top), textcoords="offset points", xytext=(8, -14), color=color,
                        annotation_clip=False)
    ax.set_xlim(0.0, sigma_b2_max)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("sigma_b^2 (bias variance)")
    ax.set_ylabel("sigma_w^2 (weight variance x fan-in)")
    ax.set_title(f"{activation}: order-to-chaos phase diagram")
    _legend(ax, loc="upper right")
    _save(fig, path)
    return fig


def _common_inits(width):
    """{label: (sigma_b2, sigma_w2)} of the common initializations for a
    layer of fan-in `width` (equal fans): those whose sigma_w2 is the same
    for every width, and N(0, 1), whose sigma_w2 is the width."""
    fixed = {"Xavier/Glorot (sigma_w^2 = 1)": (0.0, 1.0),
             "He/Kaiming (sigma_w^2 = 2)": (0.0, 2.0),
             "torch Linear default (sigma_w^2 = 1/3)": (1.0 / (3.0 * width), 1.0 / 3.0)}
    return fixed, {f"N(0, 1) (sigma_w^2 = width = {width})": (0.0, float(width))}


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
    log = _wants_log(*losses) and _set_log(axes[0], *losses)
    handles = []
    for i, (result, label) in enumerate(zip(results, labels)):
        color = f"C{i % 10}"
        style = dict(color=color, linewidth=1.5, marker="o" if len(result) <= 12 else None, markersize=3)
        handles.append(_series(axes[0], result.epochs, result.loss, log, label, **style))
        axes[1].plot(result.epochs, _finite(result.accuracy), **style)
        axes[2].plot(result.epochs, _finite(_hidden_average(result, "saturated")), **style)
    axes[0].set_ylabel("training loss")
    axes[0].set_title("Loss")
    _not_drawn_legend(axes[0])
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
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="small")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_gradient_norms(results, labels=None, path=None, *, title=None):
    """The gradient norm ``|dW|_F`` of every layer, at initialization (left)
    and after training (right), one curve per `initcore.train` run, on a log
    axis. A run whose gradients in a panel are all exactly 0 (zero
    initialization) has nothing to draw there, and the panel's legend names
    it "(all 0: not drawn)".

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
        for i, (label, value) in enumerate(zip(labels, values)):
            _series(ax, np.arange(1, value.size + 1), value, log, label, marker="o", markersize=3, color=f"C{i % 10}")
        if not log:
            _note(ax, "no positive gradients")
        _not_drawn_legend(ax)
        epoch = results[0].history[row]["epoch"] if row == -1 and len({len(r) for r in results}) == 1 else None
        ax.set_title(f"|dW| {when}" + (f" (epoch {epoch})" if epoch is not None else ""))
        ax.set_ylabel(r"$|dW|_F$ of the mean loss")
        _layer_axis(mpl, ax, depth)
    fig.legend(axes[0].get_lines(), labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="small")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_histogram_grid(sims, labels=None, path=None, *, title=None, layers=None):
    """Per-layer histograms of the activations (left) and of the
    back-propagated gradients (right, of log10 |delta|) of several
    simulations, one row per simulation, drawn as `plot_simulation` draws
    its top row (Glorot & Bengio 2010, Figs. 6-7): by default of the hidden
    layers, an output layer of another activation left out (the titles then
    say "hidden layers"); a gradient all 0 is named "(all 0: not drawn)".

    Parameters
    ----------
    sims : sequence of Simulation
    labels : sequence of str, optional
        One row title per simulation; by default each network's description.
    path : str or path-like, optional
    title : str, optional
    layers : list of int, optional
        The 1-based layers drawn (default: about five evenly spaced hidden
        ones); with layers of several activations, each curve is labelled
        with its own.

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
        chosen, hidden = _histogram_layers(sim, layers)
        colors = [cmap(0.85 * i / max(len(chosen) - 1, 1)) for i in range(len(chosen))]
        for col, which in enumerate(("activations", "gradients")):
            ax = fig.add_subplot(len(sims), 2, 2 * row + col + 1)
            if all(which in h for h in sim.histograms):
                _histograms(ax, sim, which, chosen, colors)
            else:
                _note(ax, "no backward pass")
            ax.set_title(f"{label}: {which}" + (" of the hidden layers" if hidden else ""), fontsize="medium")
            if row == len(sims) - 1:
                ax.set_xlabel(_HIST_XLABEL[which])
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


# ---------------------------------------------------------------------------
# The measured phase diagram of a sweep (`initcore.sweep`).

# Points of the c xi_c curve, and of the grid whose contour is c xi_c = L
# (sigma_w2 by sigma_b2): each xi_c solves two fixed points (~0.1 s).
_XI_POINTS = 48
_XI_GRID = (12, 10)

def _edges_of(values):
    """Cell edges around sorted distinct `values`: midpoints inside, half a
    spacing beyond the ends (one value: +-0.5, or +-10% when not 0)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 1:
        half = 0.1 * abs(v[0]) or 0.5
        return np.array([v[0] - half, v[0] + half])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def plot_sweep(data, path=None, *, statistic, y="depth", c=6.0, c_label=None, title=None):
    """The measured phase diagram of a sweep: `statistic` as a heat map over
    (sigma_w2, depth) or (sigma_w2, sigma_b2), with mean-field theory drawn
    over it (Schoenholz et al. 2017, Fig. 5).

    Over (sigma_w2, depth): the critical sigma_w2 (chi1 = 1) at the sweep's
    sigma_b2 as a vertical line, and the curve ``depth = c xi_c(sigma_w2)``
    below which the rule says a network trains. Over (sigma_w2, sigma_b2):
    the critical line, and (for a sweep of one depth L) the contour where
    ``c xi_c = L``.

    Parameters
    ----------
    data : dict of str to list
        The sweep's columns (see `initcore.sweeps.analysis.columns`):
        ``activation``, ``depth``, ``sigma_b2``, the weight variance
        ``sigma_w2`` (resolved where the point named an init spec) and
        `statistic`. Cells average over the other parameters (seeds).
    path : str or path-like, optional
        Where to save the figure.
    statistic : str
        The column shown; positive values spanning more than 100x are
        drawn on a logarithmic colour scale.
    y : {"depth", "sigma_b2"}
    c : float
        The constant of the c xi_c curve (6 in Schoenholz et al. 2017; the
        fitted one from `initcore.sweeps.fit_depth_constant`).
    c_label : str, optional
        How the legend names c (default: its value).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        A sweep of several activations, or over (sigma_w2, depth) of
        several sigma_b2, which one diagram cannot show.

    References
    ----------
    S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein, "Deep
    information propagation", ICLR 2017; B. Poole et al., NeurIPS 2016.
    """
    from ..networks.mlp import parse_activation
    from ..propagation import meanfield
    from ..sweeps import analysis

    if y not in ("depth", "sigma_b2"):
        raise ValueError(f"y must be 'depth' or 'sigma_b2', got {y!r}")
    activations = sorted(set(data["activation"]))
    if len(activations) != 1:
        raise ValueError(f"one diagram shows one activation; this sweep has {', '.join(activations)}")
    if y == "depth" and len(set(data["sigma_b2"])) != 1:
        raise ValueError(f"a (sigma_w2, depth) diagram shows one sigma_b2; this sweep has "
                         f"{sorted(set(data['sigma_b2']))}: plot over sigma_b2, or sweep one")
    name, param = parse_activation(activations[0])
    w2 = np.asarray(data["sigma_w2"], dtype=np.float64)
    ys = np.asarray(data[y], dtype=np.float64)
    values = np.array([np.nan if v is None else float(v) for v in data[statistic]], dtype=np.float64)
    xs_u, ys_u = np.unique(w2), np.unique(ys)
    grid = np.full((ys_u.size, xs_u.size), np.nan)
    for j, yv in enumerate(ys_u):
        for i, xv in enumerate(xs_u):
            cell_values = values[(w2 == xv) & (ys == yv) & np.isfinite(values)]
            if cell_values.size:
                grid[j, i] = cell_values.mean()
    mpl = require_matplotlib()
    import matplotlib.colors

    fig = _new_figure(mpl, (6.4, 4.8))
    ax = fig.add_subplot()
    finite = grid[np.isfinite(grid)]
    norm = None
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > _LOG_SPAN:
        norm = matplotlib.colors.LogNorm(finite.min(), finite.max())
    mesh = ax.pcolormesh(_edges_of(xs_u), _edges_of(ys_u), np.ma.masked_invalid(grid), cmap="viridis",
                         norm=norm, shading="flat")
    fig.colorbar(mesh, ax=ax, label=statistic)
    x_lo, x_hi = _edges_of(xs_u)[[0, -1]]
    y_lo, y_hi = _edges_of(ys_u)[[0, -1]]
    fine = np.linspace(max(x_lo, 1e-6), x_hi, _XI_POINTS)
    shown_c = c_label or f"c = {c:.3g}"
    if y == "depth":
        b2 = float(data["sigma_b2"][0])
        critical = meanfield.critical_line(name, np.array([b2]), param=param)[0]
        if np.isfinite(critical) and x_lo <= critical <= x_hi:
            ax.axvline(critical, color="white", linestyle="--", label=f"critical sigma_w^2 = {critical:.3g}")
        xi = analysis.xi_c([activations[0]] * len(fine), fine, [b2] * len(fine))
        ax.plot(fine, np.where(np.isfinite(xi), c * xi, np.nan), color="red",
                label=f"depth = c xi_c, {shown_c}")
        ax.set_ylabel("depth L")
        subtitle = f"sigma_b^2 = {b2:g}"
    else:
        b2_fine = np.linspace(max(y_lo, 0.0), y_hi, 200)
        line = np.asarray(meanfield.critical_line(name, b2_fine, param=param), dtype=np.float64)
        ax.plot(line, b2_fine, color="white", linestyle="--", label="critical line chi1 = 1")
        depths = sorted(set(data["depth"]))
        if len(depths) == 1:
            coarse_w = np.linspace(max(x_lo, 1e-6), x_hi, _XI_GRID[0])
            coarse_b = np.linspace(max(y_lo, 0.0), y_hi, _XI_GRID[1])
            w_grid, b_grid = np.meshgrid(coarse_w, coarse_b)
            xi = analysis.xi_c([activations[0]] * w_grid.size, w_grid.ravel(), b_grid.ravel()).reshape(w_grid.shape)
            ax.contour(coarse_w, coarse_b, c * xi, levels=[depths[0]], colors="red")
            ax.plot([], [], color="red", label=f"c xi_c = L = {depths[0]}, {shown_c}")
        ax.set_ylabel("sigma_b^2 (bias variance)")
        subtitle = f"depth {', '.join(map(str, depths))}"
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("sigma_w^2 (weight variance x fan-in)")
    ax.set_title(title or f"{activations[0]}: measured {statistic} ({subtitle})")
    _legend(ax, loc="upper right")
    _save(fig, path)
    return fig
