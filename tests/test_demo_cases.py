"""``initcore demo``, the cases closer to the seeds' own setups and the
report: each variant's claim as a test on the demo's own runs (seed 0), with
a well-initialized control beside it, and what the report says and how.
"""
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import initcore
from initcore.app import demo as _demo

KS_P_MIN = 1e-4  # as in conftest.py

_RUNS = {}


def _runs(case):
    """The demo's runs of `case` at seed 0, trained once per module."""
    if case not in _RUNS:
        _RUNS[case] = _demo.train_cases(case, seed=0, progress=False)
    return _RUNS[case]


def _run(case, init, activation=None):
    for run in _runs(case):
        if run.scheme.init == init and activation in (None, run.scheme.activation):
            return run
    raise LookupError((case, init, activation))


def _claim_holds(case, text):
    """The demo's check of `case` whose statement contains `text` holds."""
    rows = [run.row() for run in _runs(case)]
    found = [holds for statement, holds in _demo.checks(case, rows) if text in statement]
    assert found, (case, text, _demo.checks(case, rows))
    return all(found)


# ---- zero init on a ReLU network -------------------------------------------------------------

def test_zero_init_relu_every_activation_and_every_weight_gradient_is_zero():
    """The seeds' case 1 with ReLU: all weights 0 give z = 0, relu(0) = 0,
    so every hidden activation is exactly 0 and every weight gradient
    (a^T dZ above, dZ W^T below, relu'(0) = 0) is exactly 0, at every epoch:
    the weights never move, only the output bias learns, and accuracy is
    one class's share (chance, [0.4, 0.6] for n = 1000)."""
    run = _run("zero", "zeros", "relu")
    net, result = run.net, run.result
    assert net.widths == [2, 16, 16, 1] and result.config["epochs"] == 30
    assert all(layer["zero"] == 1.0 for layer in result.history[0]["layers"][:-1])
    for record in result.history:
        assert all(layer["dw_norm"] == 0.0 for layer in record["layers"]), record["epoch"]
        assert all(layer["db_norm"] == 0.0 for layer in record["layers"][:-1]), record["epoch"]
        assert all(layer["zero"] == 1.0 and layer["distinct_units"] == 1 for layer in record["layers"][:-1])
    for w, w0 in zip(net.weights, run.weights0):
        assert not w0.any() and np.array_equal(w, w0)
    assert not any(b.any() for b in net.biases[:-1]) and net.biases[-1].any()
    hidden = np.maximum(run.X.astype(np.float32) @ net.weights[0] + net.biases[0], 0)
    assert not hidden.any()
    assert all(0.4 <= acc <= 0.6 for acc in result.accuracy), result.accuracy
    row = run.row()
    assert row["dead_init"] == 1.0 and row["grad_max_init"] == 0.0 and row["distinct_units"] == 1
    for text in ("zeros relu: every hidden activation 0", "zeros relu: every weight gradient 0",
                 "zeros relu: accuracy in [0.4, 0.6]"):
        assert _claim_holds("zero", text), text
    rows = [r.row() for r in _runs("zero")]
    assert "relu ends at" in _demo.claim_sentence("zero", rows, _runs("zero"))
    # control: the same relu network from He has live units and gradients, and learns
    ref = _run("zero", "kaiming_normal", "relu")
    assert ref.scheme.role == "reference" and ref.net.widths == net.widths
    ref_row = ref.row()
    assert ref_row["dead_init"] < 0.5 and ref_row["grad_max_init"] > 0.01
    assert ref_row["accuracy"] >= 0.9


# ---- too-small weights from U(-0.01, 0.01) ---------------------------------------------------

def test_small_init_uniform_weights_gradient_vanishes_and_nothing_learns():
    """The seeds' case 3 as the seed states it: 500 normalized features and
    weights from U(-0.01, 0.01) (standard deviation 0.01/sqrt(3), below the
    N(0, 0.01^2) runs'), 500-32x9-1. The weights are that distribution (KS,
    n = 16000 for layer 1); in the sigmoid network the first layer's gradient
    is below 1e-3 of the last layer's at every epoch, and no activation
    (sigmoid, tanh, relu) lifts accuracy off chance in the 10 epochs."""
    for act in ("sigmoid", "tanh", "relu"):
        run = _run("small", "uniform:low=-0.01,high=0.01", act)
        assert run.net.widths == [500] + [32] * 9 + [1] and run.scheme.epochs == 10
        w0 = run.weights0[0].astype(np.float64).ravel()
        assert w0.min() >= -0.01 and w0.max() < 0.01
        assert stats.kstest(w0, "uniform", args=(-0.01, 0.02)).pvalue > KS_P_MIN
        assert run.result.accuracy.max() < 0.6, (act, run.result.accuracy)
    sigmoid = _run("small", "uniform:low=-0.01,high=0.01", "sigmoid")
    dw = sigmoid.result.layer_column("dw_norm")
    assert np.all(dw[:, 0] / dw[:, -1] < 1e-3), dw[:, 0] / dw[:, -1]
    assert _run("small", "uniform:low=-0.01,high=0.01", "relu").row()["dead_end"] > 0.1
    assert _claim_holds("small", "uniform:low=-0.01,high=0.01 sigmoid: |dW1|/|dWL| below 1e-3")
    rows = [r.row() for r in _runs("small")]
    assert "With U(-0.01, 0.01) weights, sigmoid ends at" in _demo.claim_sentence("small", rows)
    # control: the same depth and widths from U(-a, a) with Xavier's a, on tanh (the demo's pairing;
    # sigmoid's slope of at most 1/4 vanishes even from Xavier), keeps the ratio far above
    net = initcore.MLP(sigmoid.net.widths, activation=["tanh"] * 9 + ["sigmoid"], init="xavier_uniform", seed=1)
    sim = initcore.simulate(net, sigmoid.X, loss="bce", targets=sigmoid.y, progress=False)
    assert sim.layers[0]["dw_norm"] / sim.layers[-1]["dw_norm"] > 1e-3


# ---- too-large weights: sigmoid, and the loss curve ------------------------------------------

def _rises(loss):
    """Epochs after which the training loss is higher than before, and the largest rise."""
    rises = [after - before for before, after in zip(loss, loss[1:]) if after > before]
    return len(rises), max(rises, default=0.0)


def test_large_init_sigmoid_saturates_and_its_loss_goes_up_and_down():
    """N(0, 1) weights in the 500-128x9-1 sigmoid network: layer 1's
    pre-activations are about N(0, 500), so a sigmoid value is outside
    [0.01, 0.99] with probability 2 P(Z > logit(0.99) / sqrt(500)) = 0.837
    (within 0.03); the layers above take inputs in (0, 1) and keep more than
    half of the hidden activations saturated at every epoch. At lr 0.1 the
    training loss, on the whole training set after each epoch, rises in more
    epochs than that of the same network's Xavier reference, and by more
    (the seeds' "oscillating wildly"); it does not diverge to NaN."""
    run = _run("large", "normal:std=1", "sigmoid")
    ref = _run("large", "xavier_normal", "tanh")
    assert run.net.widths == ref.net.widths == [500] + [128] * 9 + [1]
    sat = run.result.layer_column("saturated")
    predicted = 2 * stats.norm.sf(math.log(0.99 / 0.01) / math.sqrt(500))
    assert abs(sat[0, 0] - predicted) < 0.03, (sat[0, 0], predicted)
    widths = np.asarray(run.net.widths[1:-1], np.float64)
    hidden = sat[:, :-1] @ widths / widths.sum()
    assert np.all(hidden > 0.5), hidden
    loss = [record["loss"] for record in run.result.history]
    ref_loss = [record["loss"] for record in ref.result.history]
    assert all(math.isfinite(v) for v in loss) and not run.result.diverged
    rises, largest = _rises(loss)
    ref_rises, ref_largest = _rises(ref_loss)
    row, ref_row = run.row(), ref.row()
    assert (row["loss_rises"], ref_row["loss_rises"]) == (rises, ref_rises)
    assert row["loss_max_rise"] == pytest.approx(largest) and ref_row["loss_max_rise"] == pytest.approx(ref_largest)
    assert rises >= 3 and rises > ref_rises and largest > ref_largest, (loss, ref_loss)
    assert _claim_holds("large", "sigmoid: the loss rises in more epochs")
    assert _claim_holds("large", "sigmoid: saturated fraction above 0.5")
    rows = [r.row() for r in _runs("large")]
    sentence = _demo.claim_sentence("large", rows)
    assert f"rises in {rises} of 20 epochs" in sentence and "none diverges to NaN" in sentence
    # the tanh network saturates too but is stuck rather than unstable
    tanh = _run("large", "normal:std=1", "tanh")
    assert tanh.result.accuracy.max() < ref.result.accuracy.max() - 0.3
    assert f"rises in {_rises(tanh.result.loss.tolist())[0]} of 20 epochs" in sentence


# ---- the report ------------------------------------------------------------------------------

def test_large_case_has_a_well_initialized_reference_on_the_same_network():
    """The N(0, 1) tanh network is shown beside the same 500-128x9-1 tanh
    network from Xavier, which is not saturated and learns, and the claim
    says so (its sentence and a check)."""
    claim = _run("large", "normal:std=1", "tanh")
    ref = _run("large", "xavier_normal", "tanh")
    assert ref.scheme.role == "reference"
    assert ref.net.widths == claim.net.widths == [500] + [128] * 9 + [1]
    assert ref.scheme.epochs == claim.scheme.epochs
    row = ref.row()
    assert row["saturated_init"] < 0.1 and row["accuracy"] >= 0.95
    rows = [run.row() for run in _runs("large")]
    assert "network from xavier_normal" in _demo.claim_sentence("large", rows)
    assert any("xavier_normal reference" in text and holds for text, holds in _demo.checks("large", rows))


@pytest.fixture(scope="module")
def remedies_report(tmp_path_factory):
    """report.md of ``--case remedies``: one case, two data sets, so two
    groups of figures."""
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("remedies")
    _demo.run_demo("remedies", out, seed=0, progress=False)
    return (out / "report.md").read_text()


def test_report_names_the_four_classic_failure_cases(remedies_report):
    """The title says what the demo shows; "seed documents" read like the
    random seed, and neither the report nor the printed legend says it."""
    title = remedies_report.splitlines()[0]
    assert title.startswith("# ") and "the four classic failure cases" in title
    for text in (remedies_report, _demo.LEGEND, _demo.FIGURE_LEGEND):
        assert "seed document" not in text.lower()


def test_report_states_each_figure_legend_once(remedies_report):
    """Seven figures in two sections (moons with a decision boundary,
    high_dimensional without): what each kind of figure shows is said once,
    at the top, and every figure is still linked."""
    for _, _, what in _demo._FIGURE_KINDS:
        assert remedies_report.count(what) == 1, what
    assert remedies_report.count(_demo.LEGEND) == 1
    top = remedies_report.index("## ")
    assert remedies_report.index(_demo.FIGURE_LEGEND) < top
    links = [line for line in remedies_report.splitlines() if line.startswith("![")]
    assert len(links) == 7
    assert all(line.endswith(".png)") for line in links)
    assert "](remedies_moons_boundary.png)" in remedies_report


# ---- the README's prose under the demo's output ----------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]\d+)?%?")


@pytest.mark.skipif(not README.exists(), reason="the README is not beside the tests")
def test_readme_prose_quotes_only_numbers_the_demo_prints():
    """The paragraph under the README's ``initcore demo`` block quotes only
    numbers of that block (which tests/test_readme.py holds to the program's
    output) or of the claim sentences of the demo's runs at seed 0 (what
    report.md says), and speaks of every variant: relu zero init, uniform
    small weights, the sigmoid network's loss."""
    text = README.read_text()
    block = re.search(r"<!-- output of: initcore demo --quiet -->\n```\n(.*?)```\n", text, re.S)[1]
    prose = text[text.index("Zero init keeps all 16 hidden units"):]
    prose = prose[:prose.index("\n\n")]
    sentences = " ".join(_demo.claim_sentence(case, [r.row() for r in _runs(case)], _runs(case))
                         for case in ("zero", "small", "large"))
    printed = set(_NUMBER.findall(block)) | set(_NUMBER.findall(sentences))
    quoted = _NUMBER.findall(prose)
    assert quoted and not [n for n in quoted if n not in printed], [n for n in quoted if n not in printed]
    for needle in ("relu", "U(−0.01, 0.01)", "sigmoid", "loss rises"):
        assert needle in prose, needle


def test_no_user_facing_text_says_seeds_for_the_teaching_material(run_cli):
    """"the seeds' claims" read like the random seed: the demo's --help, the
    CLI's help and every docstring of the package say "classic failure
    cases" instead (the check failed on the demo's --help before)."""
    import pathlib

    help_text, top_help = run_cli("demo", "--help").stdout, run_cli("--help").stdout
    assert "classic failure cases" in help_text
    package = pathlib.Path(_demo.__file__).parents[1]
    sources = [p.read_text() for p in package.rglob("*.py")]
    for text in [help_text, top_help, *sources]:
        assert "seeds'" not in text and "seed document" not in text


# ---- fixes: critical and LSUV train what N(0, 1) and N(0, 0.01^2) cannot -------------------

def _pre_activations(weights, biases, activations, X):
    """Every layer's pre-activations at `weights`, by NumPy float64."""
    phi = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    a, out = np.asarray(X, np.float64), []
    for w, b, act in zip(weights, biases, activations):
        z = a @ w.astype(np.float64) + (0.0 if b is None else b.astype(np.float64))
        out.append(z)
        a = phi[act](z)
    return out


def _initial_biases(run):
    """The biases at initialization: a fresh network from the demo's seed
    (training moves them; the weights at initialization are kept)."""
    return initcore.MLP(run.net.widths, activation=[a for a, _ in run.net.activations],
                        init=run.scheme.init.removesuffix("+lsuv"), seed=1, dtype="float32").biases


def test_fixes_normal_one_tanh_is_chaotic_and_does_not_learn():
    """N(0, 1) weights on 32-unit tanh layers: sigma_w2 = 32, chi1 above
    1 (3.2, meanfield), so the gradient grows toward the input (|dW1| / |dWL| >
    1e3 at initialization) and the 50-layer network's best accuracy in its
    20 epochs is no better than a logistic regression's on moons. Control:
    the same network from critical reaches 0.95."""
    run = _run("fixes", "normal:std=1", "tanh")
    assert run.net.widths == [2] + [32] * 50 + [1] and run.scheme.lr == 0.01
    assert initcore.meanfield.chi1("tanh", 32.0, 0.0) > 2
    row = run.row()
    assert row["grad_ratio_init"] > 1e3, row["grad_ratio_init"]
    assert row["best_accuracy"] <= row["linear_accuracy"] < 0.95
    assert _claim_holds("fixes", "normal:std=1 tanh (2-32x50-1): best accuracy no better")
    assert _run("fixes", "critical:sigma_b2=0.05", "tanh").row()["best_accuracy"] >= 0.95


def test_fixes_critical_draws_the_critical_variances_and_trains():
    """The critical run's hidden weights are N(0, sigma_w2 / 32) with
    sigma_w2 = critical_line("tanh", 0.05) (KS over n = 49 * 32 * 32 =
    50176 weights, p > 1e-4), where chi1 = 1 to 1e-8, and its biases
    N(0, 0.05) (KS, n = 1601); it reaches 0.95 accuracy within its 20
    epochs."""
    run = _run("fixes", "critical:sigma_b2=0.05", "tanh")
    sigma_w2, q_star = initcore.meanfield.critical_line("tanh", 0.05, return_q_star=True)
    assert initcore.meanfield.chi1("tanh", sigma_w2, 0.05, q0=q_star) == pytest.approx(1.0, abs=1e-8)
    hidden = np.concatenate([w.ravel() for w in run.weights0[1:-1]]).astype(np.float64)
    assert stats.kstest(hidden, "norm", args=(0.0, math.sqrt(sigma_w2 / 32))).pvalue > KS_P_MIN
    biases = np.concatenate(_initial_biases(run)).astype(np.float64)
    assert stats.kstest(biases, "norm", args=(0.0, math.sqrt(0.05))).pvalue > KS_P_MIN
    assert run.row()["best_accuracy"] >= 0.95
    assert _claim_holds("fixes", "critical:sigma_b2=0.05 tanh (2-32x50-1): reaches 95%")


def test_fixes_lsuv_gives_unit_variance_orthogonal_layers_and_trains():
    """orthogonal+lsuv: every initial weight matrix is orthogonal up to one
    scale (W^T W = s^2 I for the 32x32 layers, W W^T for the 2x32 one, to
    1e-5 relative), each layer's pre-activations on the training set have
    variance 1 within LSUV's tol of 0.1 (NumPy float64 forward pass), and
    the network reaches 0.95 accuracy within 20 epochs."""
    run = _run("fixes", "orthogonal+lsuv", "tanh")
    for w in run.weights0:
        w = w.astype(np.float64)
        gram = w @ w.T if w.shape[0] < w.shape[1] else w.T @ w
        scale2 = gram[0, 0]
        assert np.allclose(gram, scale2 * np.eye(len(gram)), rtol=0.0, atol=1e-5 * scale2)
    acts = [a for a, _ in run.net.activations]
    for z in _pre_activations(run.weights0, _initial_biases(run), acts, run.X):
        assert abs(z.var() - 1.0) <= 0.1
    assert run.row()["best_accuracy"] >= 0.95
    assert _claim_holds("fixes", "orthogonal+lsuv tanh (2-32x50-1): reaches 95%")


def test_fixes_lsuv_repairs_the_badly_scaled_relu_network():
    """N(0, 0.01^2) on the 20-layer relu network: the last layer's
    pre-activations at initialization have variance below 1e-40 (NumPy), the
    gradients vanish (|dW1| < 1e-20) and the best accuracy is no better than
    a logistic regression's. LSUV rescales the very same draws (each layer
    a positive multiple of the broken run's, to 1e-6 relative) until every
    layer's pre-activations have variance 1 within 0.1, and the network
    reaches 0.95 accuracy within 20 epochs."""
    broken = _run("fixes", "normal:std=0.01", "relu")
    fixed = _run("fixes", "normal:std=0.01+lsuv", "relu")
    acts = [a for a, _ in broken.net.activations]
    zeros = [None if b is None else np.zeros_like(b) for b in broken.net.biases]
    assert _pre_activations(broken.weights0, zeros, acts, broken.X)[-1].var() < 1e-40
    row = broken.row()
    assert row["grad_first_init"] < 1e-20 and row["best_accuracy"] <= row["linear_accuracy"]
    assert _claim_holds("fixes", "normal:std=0.01 relu (2-32x20-1): best accuracy no better")
    for w, w_broken in zip(fixed.weights0, broken.weights0):
        ratio = w.astype(np.float64) / w_broken.astype(np.float64)
        assert ratio.min() > 0 and np.allclose(ratio, ratio.flat[0], rtol=1e-6)
    for z in _pre_activations(fixed.weights0, zeros, acts, fixed.X):
        assert abs(z.var() - 1.0) <= 0.1
    assert fixed.row()["best_accuracy"] >= 0.95
    assert _claim_holds("fixes", "normal:std=0.01+lsuv relu (2-32x20-1): reaches 95%")
