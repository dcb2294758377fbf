"""What a reader sees in the figures of initcore.app.plots where the first
figures misled: an output layer among the hidden ones, gradient histograms
that were spikes at 0, comparisons without theory or title, a phase diagram
without the usual initializations, and all-zero series missing silently
from log axes.

matplotlib is optional: every test skips without it.
"""
import copy
import math

import numpy as np
import pytest
from test_plots import _legend, _panel, _strict  # tests/ is on the path (pyproject)

import initcore
from initcore.app import plots as _plots

NOT_DRAWN = "(all 0: not drawn)"


@pytest.fixture(scope="module")
def mpl():
    return pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def out_sim(mpl):
    """Eight tanh layers under a sigmoid read-out."""
    net = initcore.MLP([32] + [64] * 8 + [1], ["tanh"] * 8 + ["sigmoid"], "xavier_normal", seed=0)
    return initcore.simulate(net, batch=256, seed=1)


@pytest.fixture(scope="module")
def vanishing_sim(mpl):
    """E[delta^2] shrinks about 6x a layer down: 1e-13 of the top one at layer 1."""
    net = initcore.MLP([64] * 18, "tanh", "normal:std=0.05", seed=0)
    return initcore.simulate(net, batch=256, seed=1)


@pytest.fixture(scope="module")
def tanh_sims(mpl):
    nets = [initcore.MLP([64] * 6, "tanh", init, seed=0) for init in ("xavier_normal", "normal:std=0.02", "zeros")]
    return [initcore.simulate(net, batch=128, seed=1) for net in nets]


def _curves(ax):
    """{label: (x, y)} of the panel's labelled lines."""
    return {line.get_label(): (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
            for line in ax.get_lines() if not line.get_label().startswith("_")}


# 1. The output layer among the hidden ones


def test_simulation_histograms_leave_out_a_different_output_layer(out_sim):
    fig = _strict(out_sim.plot)
    act = _panel(fig, "Activations")
    assert "hidden" in act.get_title()
    labels = _legend(act)
    assert labels == [f"layer {n}" for n in (1, 3, 4, 6, 8)]  # 9, the sigmoid read-out, left out
    assert _legend(_panel(fig, "Back-propagated gradients")) == labels
    # the per-layer curves still cover every layer, the output included
    assert list(_panel(fig, "Forward signal").get_lines()[0].get_xdata()) == list(range(1, 10))


def test_asked_for_output_layer_is_named_by_its_activation(out_sim):
    fig = _strict(out_sim.plot, layers=[1, 9])
    act = _panel(fig, "Activations")
    assert "hidden" not in act.get_title()
    assert _legend(act) == ["layer 1 (tanh)", "layer 9 (sigmoid)"]


def test_histogram_grid_rows_hold_the_hidden_layers_only(out_sim, mpl):
    fig = _strict(_plots.plot_histogram_grid, [out_sim], ["tanh"])
    act = _panel(fig, "tanh: activations")
    assert "hidden" in act.get_title()
    assert not any("9" in label or "sigmoid" in label for label in _legend(act))


# 2. Gradient histograms of log10 |delta|


def test_gradient_histograms_are_of_the_magnitude_on_a_log_axis(vanishing_sim):
    fig = _strict(vanishing_sim.plot)
    ax = _panel(fig, "Back-propagated gradients")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert "decade" in ax.get_ylabel()
    curves = _curves(ax)
    assert list(curves) == [f"layer {n}" for n in (1, 5, 9, 13, 17)]
    peaks = []
    for number, (x, y) in zip((1, 5, 9, 13, 17), curves.values()):
        shown = np.isfinite(y)
        assert np.all(x > 0) and np.all(y[shown] >= 0)
        # a fraction per decade: no spike of 1e18, and it adds up to the
        # values inside the histogram's range (nearly all of them)
        assert y[shown].max() < 3.0
        widths = np.diff(np.log10(x)).mean()
        assert np.nansum(y) * widths == pytest.approx(1.0, abs=0.05)
        # centred on the layer's gradient scale, sqrt(E[delta^2])
        centre = np.nansum(np.log10(x) * y) / np.nansum(y)
        scale = math.log10(math.sqrt(vanishing_sim.layers[number - 1]["delta2"]))
        assert abs(centre - scale) < 0.6
        peaks.append(centre)
    # vanishing: each curve (four layers down) 1.6 decades left of the one above
    assert np.all(np.diff(peaks) > 1.2)


def test_gradient_grid_is_of_the_magnitude_too(vanishing_sim):
    fig = _strict(_plots.plot_histogram_grid, [vanishing_sim], ["small"])
    ax = _panel(fig, "small: gradients")
    assert ax.get_xscale() == "log"
    assert max(np.nanmax(y) for _, y in _curves(ax).values()) < 3.0


def test_a_gradient_of_one_value_is_a_line_at_its_magnitude(out_sim):
    fixed = copy.deepcopy(out_sim)
    # the simulation's binning of a layer of one value: a range 1e-6 wide around it
    edges = np.linspace(-0.25 * (1 + 1e-6), -0.25 * (1 - 1e-6), 65)
    fixed.histograms[0]["gradients"].update(edges=edges, counts=np.r_[np.zeros(63), 100.0], below=0, above=0)
    fig = _strict(fixed.plot, layers=[1, 3])
    ax = _panel(fig, "Back-propagated gradients")
    assert _legend(ax) == ["layer 1 (all -0.25)", "layer 3"]
    assert list(_curves(ax)["layer 1 (all -0.25)"][0]) == [0.25, 0.25]


# 3. plot_compare: title, theory and where they meet


def test_compare_has_a_title_from_the_configs(tanh_sims):
    fig = _strict(_plots.plot_compare, tanh_sims, ["xavier", "small", "zeros"])
    title = fig._suptitle.get_text()
    for part in ("tanh", "depth 5", "width 64", "batch 128"):
        assert part in title, title


def test_compare_title_names_an_output_layer_and_differences(out_sim, tanh_sims):
    fig = _strict(_plots.plot_compare, [out_sim, tanh_sims[0]], ["out", "plain"])
    title = fig._suptitle.get_text()
    assert "sigmoid output" in title and "depth 9 / 5" in title and "batch 256 / 128" in title, title


def test_compare_draws_theory_dashed(tanh_sims):
    fig = _strict(_plots.plot_compare, tanh_sims, ["xavier", "small", "zeros"])
    forward = _panel(fig, "Activation RMS")
    backward = _panel(fig, "Back-propagated gradient")
    # zeros: activations all 0, measured and theory, nothing on the log axis;
    # its gradient is 0 below the top layer only
    for ax, theory, shown in ((forward, "a2_theory", 2), (backward, "delta2_theory", 3)):
        assert ax.get_yscale() == "log"
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--" and len(line.get_xdata())]
        assert len(dashed) == shown
        for line, sim in zip(dashed, tanh_sims):
            expected = sim.column(theory)
            expected = np.sqrt(expected) if theory == "a2_theory" else expected
            np.testing.assert_allclose(line.get_ydata(), np.where(expected > 0, expected, np.nan))
        # each theory in its simulation's colour
        solid = [line for line in ax.get_lines() if line.get_linestyle() == "-" and len(line.get_xdata())]
        assert [line.get_color() for line in dashed] == [line.get_color() for line in solid]
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[-1] == "mean-field theory (dashed)"
    assert texts[0].startswith("xavier: theory (dashed) matches within ") and texts[0].endswith("%")


@pytest.mark.parametrize("scale, unit", [(1.3, "%"), (3.0, "x")])
def test_compare_says_how_far_theory_is_off(tanh_sims, scale, unit):
    off = copy.deepcopy(tanh_sims[0])
    for record in off.layers:
        record["delta2_theory"] *= scale
    fig = _strict(_plots.plot_compare, [off], ["off"])
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    # off by about 30%, or a factor of about 3
    assert texts[0].startswith("off: theory (dashed) off by up to ") and texts[0].endswith(unit)
    assert texts[1:] == ["mean-field theory (dashed)"]


# 4. The phase diagram's usual initializations


def _marks(ax):
    """{text: (x, y) of the annotated point}."""
    return {a.get_text(): tuple(float(v) for v in a.xy) for a in ax.texts if hasattr(a, "xy")}


def test_phase_diagram_marks_the_common_initializations(mpl):
    fig = _strict(_plots.plot_phase_diagram, "tanh")
    ax = fig.axes[0]
    marks = _marks(ax)
    found = {name: [xy for text, xy in marks.items() if text.startswith(name)] for name in
             ("Xavier", "He", "torch Linear default", "N(0, 1)")}
    assert all(len(v) == 1 for v in found.values()), marks
    assert found["Xavier"][0] == (0.0, 1.0)
    assert found["He"][0] == (0.0, 2.0)
    b2, w2 = found["torch Linear default"][0]
    assert w2 == pytest.approx(1 / 3) and b2 == pytest.approx(1 / (3 * 256))
    # N(0, 1) has sigma_w2 = the width: far above the axis, pinned to its top
    texts = [t for t in marks if t.startswith("N(0, 1)")]
    assert "256" in texts[0]
    assert found["N(0, 1)"][0][1] == pytest.approx(ax.get_ylim()[1])


def test_phase_diagram_width_moves_the_width_dependent_points(mpl):
    fig = _strict(_plots.plot_phase_diagram, "relu", width=1000)
    marks = _marks(fig.axes[0])
    assert any(t.startswith("N(0, 1)") and "1000" in t for t in marks)
    torch = [xy for t, xy in marks.items() if t.startswith("torch")][0]
    assert torch[0] == pytest.approx(1 / 3000)


# 5. All-zero series on log axes


def test_simulation_names_an_all_zero_series(out_sim):
    zero = copy.deepcopy(out_sim)
    for record in zero.layers:
        record["dw_norm"] = 0.0
    fig = _strict(zero.plot)
    labels = _legend(_panel(fig, "Backward signal"))
    assert f"$|dW|_F$ {NOT_DRAWN}" in labels
    zero.layers[3]["a_std"] = 1e-6  # a span of 1e5: the forward panel turns logarithmic
    for record in zero.layers:
        record["q"] = 0.0
    fig = _strict(zero.plot)
    forward = _panel(fig, "Forward signal")
    assert forward.get_yscale() == "log"
    assert rf"$\sqrt{{q}}$ measured {NOT_DRAWN}" in _legend(forward)


def test_gradient_histogram_of_zeros_is_named(tanh_sims):
    fig = _strict(tanh_sims[2].plot)
    labels = _legend(_panel(fig, "Back-propagated gradients"))
    assert labels[0] == f"layer 1 {NOT_DRAWN}"


def test_compare_names_all_zero_series_in_their_panel(tanh_sims):
    fig = _strict(_plots.plot_compare, tanh_sims, ["xavier", "small", "zeros"])
    assert _legend(_panel(fig, "Activation RMS")) == [f"zeros {NOT_DRAWN}", f"zeros theory {NOT_DRAWN}"]
    assert _panel(fig, "Back-propagated gradient").get_legend() is None  # its top layer's gradient is drawn


@pytest.fixture(scope="module")
def runs(mpl):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    y = (X[:, 0] > 0).astype(int)
    return [initcore.train(initcore.MLP([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], init, seed=0), X, y,
                           epochs=2, seed=1) for init in ("xavier_normal", "kaiming_normal")]


def test_training_loss_all_zero_is_named(runs):
    runs = copy.deepcopy(runs)
    for record in runs[0].history:
        record["loss"] = 0.0
    runs[1].history[-1]["loss"] = runs[1].history[0]["loss"] * 1e-4  # a log axis
    fig = _strict(_plots.plot_training_curves, runs, ["zero", "fine"])
    loss = _panel(fig, "Loss")
    assert loss.get_yscale() == "log"
    assert _legend(loss) == [f"zero {NOT_DRAWN}"]


def test_gradient_norms_all_zero_at_initialization_only(runs):
    runs = copy.deepcopy(runs)
    for record in runs[0].history[0]["layers"]:
        record["dw_norm"] = 0.0
    fig = _strict(_plots.plot_gradient_norms, runs, ["zero", "fine"])
    assert _legend(_panel(fig, "|dW| at initialization")) == [f"zero {NOT_DRAWN}"]
    assert _panel(fig, "|dW| after training").get_legend() is None
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["zero", "fine"]
