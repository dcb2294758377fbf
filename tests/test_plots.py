"""Figures of a Simulation (initcore.app.plots): files written, panels present,
layers selected, and degenerate networks (all-zero weights, NaN, infinities,
missing values) plotted without a warning escaping.

matplotlib is optional: every test that draws skips without it.
"""
import copy
import math
import sys
import warnings

import numpy as np
import pytest

import initcore
from initcore.app import plots as _plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def mpl():
    return pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def sim(mpl):
    net = initcore.MLP([64] * 6, "tanh", "xavier_normal", seed=0)
    return initcore.simulate(net, batch=128, seed=1)


@pytest.fixture(scope="module")
def forward_sim(mpl):
    net = initcore.MLP([64] * 6, "tanh", "xavier_normal", seed=0)
    return initcore.simulate(net, batch=128, seed=1, backward=False)


@pytest.fixture(scope="module")
def zero_sim(mpl):
    net = initcore.MLP([64] * 6, "tanh", "zeros", seed=0)
    return initcore.simulate(net, batch=128, seed=1)


def _strict(func, *args, **kwargs):
    """func(*args, **kwargs) with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


def _panel(fig, start):
    found = [ax for ax in fig.axes if ax.get_title().startswith(start)]
    assert len(found) == 1, f"{len(found)} panels titled {start!r}: {[ax.get_title() for ax in fig.axes]}"
    return found[0]


def _legend(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def test_plot_writes_a_png_and_returns_the_figure(sim, tmp_path):
    from matplotlib.figure import Figure

    path = tmp_path / "x.png"
    fig = _strict(sim.plot, path)
    assert isinstance(fig, Figure)
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 10_000
    # top: activation and gradient histograms; bottom: forward, saturation, backward
    assert len(fig.axes) == 5
    for title in ("Activations", "Back-propagated gradients", "Forward signal", "Saturation", "Backward signal"):
        _panel(fig, title)
    assert _legend(_panel(fig, "Activations")) == [f"layer {n}" for n in range(1, 6)]
    assert _panel(fig, "Backward signal").get_yscale() == "log"
    assert fig._suptitle.get_text().startswith(sim.config["network"])


def test_plot_without_a_path_writes_nothing(sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = _strict(_plots.plot_simulation, sim)
    assert len(fig.axes) == 5
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_format_follows_the_extension(sim, tmp_path, suffix, magic):
    path = tmp_path / f"x{suffix}"
    _strict(sim.plot, str(path))
    assert path.read_bytes().startswith(magic)


def test_forward_only_has_no_gradient_panels(forward_sim, tmp_path):
    path = tmp_path / "forward.png"
    fig = _strict(forward_sim.plot, path)
    assert path.read_bytes()[:8] == PNG
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert not any("gradient" in t.lower() or "backward" in t.lower() for t in titles), titles
    _panel(fig, "Activations")
    _panel(fig, "Forward signal")
    _panel(fig, "Saturation")


def test_layers_selects_the_histograms(sim):
    fig = _strict(sim.plot, layers=[1, 3])
    assert _legend(_panel(fig, "Activations")) == ["layer 1", "layer 3"]
    assert _legend(_panel(fig, "Back-propagated gradients")) == ["layer 1", "layer 3"]
    # the per-layer curves still cover every layer
    xs = _panel(fig, "Forward signal").get_lines()[0].get_xdata()
    assert list(xs) == [1, 2, 3, 4, 5]


def test_default_layers_are_evenly_spaced_with_first_and_last():
    assert _plots._select_layers(10, None) == [1, 3, 6, 8, 10]
    assert _plots._select_layers(3, None) == [1, 2, 3]
    assert _plots._select_layers(1, None) == [1]
    chosen = _plots._select_layers(40, None)
    assert len(chosen) == 5 and chosen[0] == 1 and chosen[-1] == 40


def test_default_layers_on_a_deeper_network(mpl):
    net = initcore.MLP([32] * 11, "tanh", "xavier_normal", seed=0)
    deep = initcore.simulate(net, batch=32, seed=1)
    fig = _strict(deep.plot)
    assert _legend(_panel(fig, "Activations")) == [f"layer {n}" for n in (1, 3, 6, 8, 10)]


def test_bad_layers_are_refused(sim, assert_raises):
    assert_raises(ValueError, lambda: sim.plot(layers=[0]), "layer 0", "1..5")
    assert_raises(ValueError, lambda: sim.plot(layers=[6]), "layer 6", "1..5")
    assert_raises(ValueError, lambda: sim.plot(layers=[]), "empty")
    assert_raises(TypeError, lambda: sim.plot(layers=[1.5]), "1.5")
    assert_raises(TypeError, lambda: sim.plot(layers=[True]), "True")


def test_zero_init_plots_without_warnings(zero_sim, tmp_path):
    assert zero_sim.layers[0]["delta2"] == 0.0  # the degenerate case this is about
    path = tmp_path / "zeros.png"
    fig = _strict(zero_sim.plot, path)
    assert path.read_bytes()[:8] == PNG
    assert len(fig.axes) == 5
    backward = _panel(fig, "Backward signal")
    assert backward.get_yscale() == "log"
    for line in backward.get_lines():  # zeros are masked, never drawn on the log axis
        y = np.asarray(line.get_ydata(), dtype=np.float64)
        assert not np.any(y <= 0)
    # all-zero gradients are a point mass at 0, which the log |delta| axis cannot show
    labels = _legend(_panel(fig, "Back-propagated gradients"))
    assert labels[0] == "layer 1 (all 0: not drawn)"
    assert labels[-1] == "layer 5"


def test_all_zero_forward_only_network(mpl, tmp_path):
    net = initcore.MLP([16] * 4, "relu", "zeros", seed=0)
    sim = initcore.simulate(net, batch=16, seed=1, backward=False)
    path = tmp_path / "relu_zeros.png"
    fig = _strict(sim.plot, path)
    assert path.read_bytes()[:8] == PNG
    assert _legend(_panel(fig, "Activations")) == [f"layer {n} (all 0)" for n in (1, 2, 3)]


def test_nan_inf_none_and_zeros_are_masked(sim, tmp_path):
    bad = copy.deepcopy(sim)
    bad.layers[0].update(a_std=math.nan, q=math.inf, delta2=None, dw_norm=0.0)
    bad.layers[1].update(q_theory=math.nan, saturated=math.nan, delta2_theory=math.inf, dw_norm=-1.0)
    bad.layers[2].update(a_std=1e6, delta2=0.0)  # spans > 100x: a log axis
    empty = bad.histograms[3]["activations"]
    empty["counts"] = np.zeros_like(empty["counts"])  # nothing finite in layer 4
    bad.histograms[4]["gradients"]["edges"] = np.full_like(bad.histograms[4]["gradients"]["edges"], np.nan)
    fig = _strict(bad.plot, tmp_path / "bad.png", layers=[1, 4, 5])
    assert (tmp_path / "bad.png").read_bytes()[:8] == PNG
    forward = _panel(fig, "Forward signal")
    assert forward.get_yscale() == "log"
    for ax in (forward, _panel(fig, "Backward signal")):
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=np.float64)
            assert not np.any(np.isinf(y)) and not np.any(y <= 0)
    assert _legend(_panel(fig, "Activations")) == ["layer 1", "layer 5"]
    assert _legend(_panel(fig, "Back-propagated gradients")) == ["layer 1", "layer 4"]


def test_nothing_drawable_on_a_log_axis(sim):
    bad = copy.deepcopy(sim)
    for record in bad.layers:
        record.update(delta2=0.0, delta2_theory=math.nan, dw_norm=None)
    fig = _strict(bad.plot)
    assert _panel(fig, "Backward signal").get_yscale() == "linear"


def test_no_pyplot_state(sim):
    had_pyplot = "matplotlib.pyplot" in sys.modules
    figures = sys.modules["matplotlib.pyplot"].get_fignums() if had_pyplot else None
    _strict(sim.plot)
    if had_pyplot:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == figures
    else:
        assert "matplotlib.pyplot" not in sys.modules


def test_plot_compare_writes_a_file(sim, forward_sim, zero_sim, tmp_path):
    path = tmp_path / "compare.png"
    labels = ["xavier", "xavier (forward)", "zeros"]
    fig = _strict(_plots.plot_compare, [sim, forward_sim, zero_sim], labels, path)
    assert path.read_bytes()[:8] == PNG
    assert len(fig.axes) == 3
    assert _panel(fig, "Back-propagated gradient").get_yscale() == "log"
    # one entry per simulation (with how well theory matches), then theory's
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert [text.split(": theory")[0] for text in texts] == [*labels, "mean-field theory (dashed)"]
    # one curve per simulation, and its theory; the forward-only one has no gradient curve
    assert len(_panel(fig, "Activation RMS").get_lines()) == 6
    assert len(_panel(fig, "Saturated fraction").get_lines()) == 3
    assert len(_panel(fig, "Back-propagated gradient").get_lines()) == 4


def test_plot_compare_forward_only_and_default_labels(forward_sim, tmp_path):
    path = tmp_path / "compare.svg"
    fig = _strict(_plots.plot_compare, [forward_sim], None, path)
    assert path.read_bytes().startswith(b"<?xml")
    assert len(fig.axes) == 2
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0].startswith(forward_sim.config["network"]) and len(texts) == 2


def test_plot_compare_checks_its_arguments(sim, mpl, assert_raises):
    assert_raises(ValueError, lambda: _plots.plot_compare([sim, sim], ["one"]), "1 labels", "2 simulations")
    assert_raises(ValueError, lambda: _plots.plot_compare([], []), "at least one")
    assert_raises(TypeError, lambda: _plots.plot_compare([sim], "one"), "labels")
    assert_raises(TypeError, lambda: _plots.plot_compare([sim, "x"], ["a", "b"]), "sims[1]", "Simulation")


def test_without_matplotlib_says_how_to_install(monkeypatch):
    # runs with or without matplotlib installed
    sim = initcore.simulate(initcore.MLP([8] * 3, "tanh", seed=0), batch=8, seed=1)
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match='pip install "initcore\\[plot\\]"'):
        sim.plot()
    with pytest.raises(ImportError, match='pip install "initcore\\[plot\\]"'):
        _plots.plot_compare([sim], ["x"])
