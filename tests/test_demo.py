"""``initcore demo``: each of the seed documents' five claims as a test whose
assertion fails if the claim is false, on the demo's own runs (seed 0,
float32, SGD lr 0.1, batches of 32, n = 1000), plus the command line in a
subprocess.

Every claim test has a control: the same measurement on a well-initialized
network gives the opposite answer, so the assertion is not vacuous.
"""
import csv
import io
import json
import math

import numpy as np
import pytest
from scipy import stats

from initcore.app import demo as _demo

PNG = b"\x89PNG\r\n\x1a\n"
_RUNS = {}


def _runs(case):
    """The demo's runs of `case` at seed 0, trained once per session."""
    if case not in _RUNS:
        _RUNS[case] = _demo.train_cases(case, seed=0, progress=False)
    return _RUNS[case]


def _run(case, init, activation=None, dataset=None):
    for run in _runs(case):
        s = run.scheme
        if s.init == init and activation in (None, s.activation) and dataset in (None, s.dataset):
            return run
    raise LookupError((case, init, activation, dataset))


def _hidden_average(result, key):
    values = result.layer_column(key)
    widths = np.asarray(result.config["widths"][1:-1], np.float64)
    return values[:, :-1] @ widths / widths.sum()


# ---- claim 1: zero initialization ------------------------------------------------------------

def test_zero_init_stays_at_chance_and_every_hidden_unit_is_bit_identical():
    """All weights 0 and tanh(0) = 0: every hidden activation is exactly 0,
    so every weight gradient (a^T dZ above, dZ W^T = 0 below) is exactly 0,
    whatever the BLAS: only the output bias learns, the network predicts one
    class, and accuracy is that class's share of the placement set (1/2 in
    expectation; n = 1000, so [0.4, 0.6] unless a 6-sigma fluke). The
    hidden units are bit-identical after training: equal incoming weight
    columns and biases, equal outgoing weights."""
    run = _run("zero", "zeros")
    net, result = run.net, run.result
    assert net.widths == [2, 16, 16, 1] and result.config["epochs"] == 30
    assert all(0.4 <= acc <= 0.6 for acc in result.accuracy), result.accuracy
    for k in range(net.depth - 1):
        w, b, w_next = net.weights[k], net.biases[k], net.weights[k + 1]
        assert (w == w[:, :1]).all() and (b == b[0]).all()          # incoming
        assert (w_next == w_next[:1, :]).all()                      # outgoing
    for record in result.history:
        for layer in record["layers"][:-1]:
            assert layer["distinct_units"] == 1 and layer["unit_spread"] == 0.0
    row = run.row()
    assert row["distinct_units"] == 1 and row["epochs_to_90"] is None
    # control: the same network from Xavier learns, and its units differ
    ref = _run("zero", "xavier_normal")
    assert ref.result.accuracy[-1] >= 0.9
    assert ref.row()["distinct_units"] == 16
    w = ref.net.weights[0]
    assert len({tuple(col) for col in w.T}) == 16


# ---- claim 2: constant initialization --------------------------------------------------------

def _grid(X, n=41):
    lo, hi = X.min(axis=0), X.max(axis=0)
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    return np.column_stack([xx.ravel(), yy.ravel()])


def test_constant_init_predictions_depend_on_one_projection_so_the_boundary_is_straight():
    """Weights all 0.5: every unit of a layer computes the same function of
    w . x, w the (common) column of W1, so the prediction is a function of
    that one projection: moving points of a grid over the feature plane
    along u, perpendicular to w, changes no probability beyond float32
    rounding. The boundary p = 0.5 is then the straight line w . x = c, and
    the network does no better than a logistic regression (the best
    straight line), while the references learn the curved boundary."""
    run = _run("constant", "constant:value=0.5")
    net, X = run.net, run.X
    w = net.weights[0].astype(np.float64)
    # the columns agree to rounding (see the next test), so any one is "the" w
    assert np.abs(w - w[:, :1]).max() <= 1e-6 * np.abs(w).max()
    w = w[:, 0]
    u = np.array([-w[1], w[0]]) / np.hypot(*w)
    grid = _grid(X)
    p = net.predict_proba(grid)[:, 1]
    for t in (-2.0, 0.7, 3.0):
        np.testing.assert_allclose(net.predict_proba(grid + t * u)[:, 1], p, rtol=0, atol=2e-6)
    # ... but not constant: it does change along w itself, across p = 0.5
    assert p.min() < 0.1 and p.max() > 0.9
    row = run.row()
    assert row["accuracy"] <= row["linear_accuracy"] + 0.02
    # control: a network from Xavier is not a function of w . x and learns the curve
    for init in ("xavier_normal", "kaiming_normal"):
        ref = _run("constant", init)
        assert ref.result.accuracy[-1] >= 0.95 > row["accuracy"] + 0.05
        moved = ref.net.predict_proba(grid + 0.7 * u)[:, 1]
        assert np.abs(moved - ref.net.predict_proba(grid)[:, 1]).max() > 0.1


def test_constant_init_units_stay_identical_to_rounding():
    """What holds for any BLAS: the hidden units stay equal to float32
    rounding. In exact arithmetic they are equal exactly (same weights in,
    same gradient back); in floating point a BLAS may compute some output
    columns of the same GEMM with another micro-kernel (a different order of
    summation or FMA use, see tests/test_simulate.py), so equal columns can
    come out different in the last bit, and nothing in training pulls them
    apart further. Bound: the spread across units is below 1e-6 of the
    activations' scale, the weight columns agree to 1e-6 relative, in every
    epoch."""
    run = _run("constant", "constant:value=0.5")
    net, result = run.net, run.result
    for record in result.history:
        for layer in record["layers"][:-1]:
            assert layer["unit_spread"] <= 1e-6 * layer["a_std"], layer
    for k in range(net.depth - 1):
        w, b, w_next = net.weights[k], net.biases[k], net.weights[k + 1]
        scale = np.abs(w).max()
        assert np.abs(w - w[:, :1]).max() <= 1e-6 * scale
        assert np.abs(b - b[0]).max() <= 1e-6 * max(np.abs(b).max(), scale)
        assert np.abs(w_next - w_next[:1, :]).max() <= 1e-6 * np.abs(w_next).max()
    # and the weights did train: symmetric, not frozen
    assert not np.array_equal(net.weights[0], run.weights0[0])


def test_constant_init_units_bit_identical_unless_blas_reorders():
    """The issue's stronger statement, spread exactly 0 after training: it
    holds when the BLAS computes equal columns identically (true here for
    width 16 with the usual OpenBLAS kernels). Where it does not, the test
    is an xfail naming the cause: a statement about BLAS, not about the
    claim, which the rounding-level test above covers."""
    run = _run("constant", "constant:value=0.5")
    net, result = run.net, run.result
    exact = all((w == w[:, :1]).all() for w in net.weights[:-1])
    exact &= all(layer["distinct_units"] == 1 and layer["unit_spread"] == 0.0
                 for record in result.history for layer in record["layers"][:-1])
    if not exact:
        pytest.xfail("BLAS sums equal weight columns in different orders: units equal only to rounding")
    assert run.row()["distinct_units"] == 1


# ---- claim 3: small random weights -----------------------------------------------------------

def test_small_init_gradient_vanishes_in_a_deep_sigmoid_network():
    """N(0, 0.01^2) weights, 10 sigmoid layers (500-32x9-1): the backward
    signal is multiplied by about 0.01 sqrt(32) / 4 = 0.014 per layer, so
    the first layer's gradient norm is below 1e-3 of the last layer's (about
    1e-15 measured), at initialization and after training, and accuracy
    stays at chance (balanced labels, n = 1000: below 0.6). tanh and relu
    from the same weights do not learn in the budget either (their signal
    and gradients vanish at every layer alike: |dW| ~ 1e-12)."""
    run = _run("small", "normal:std=0.01", "sigmoid")
    assert run.net.depth == 10 and run.net.widths[0] == 500
    dw = run.result.layer_column("dw_norm")
    assert np.all(dw[:, 0] / dw[:, -1] < 1e-3), dw[:, 0] / dw[:, -1]
    assert run.row()["grad_ratio_init"] < 1e-3
    for act in ("sigmoid", "tanh", "relu"):
        assert _run("small", "normal:std=0.01", act).result.accuracy.max() < 0.6, act
    tanh = _run("small", "normal:std=0.01", "tanh").row()
    assert tanh["grad_first_init"] < 1e-9 and tanh["grad_last_init"] < 1e-9
    assert _run("small", "normal:std=0.01", "relu").row()["dead_end"] > 0.1
    # control: the same depth from Xavier (tanh) keeps the ratio near 1 and learns
    ref = _run("remedies", "xavier_normal", "tanh", "high_dimensional")
    assert ref.net.depth == 10
    assert ref.row()["grad_ratio_init"] > 1e-2 and ref.result.accuracy.max() >= 0.95


# ---- claim 4: large random weights -----------------------------------------------------------

def test_large_init_saturates_and_gradients_explode_toward_the_input():
    """N(0, 1) weights on 500 normalized features: layer 1's pre-activations
    are about N(0, 500), so |tanh| > 0.99 with probability
    2 P(Z > atanh(0.99) / sqrt(500)) = 0.906 (the first layer must be within
    0.03 of that), and the 128-wide tanh layers above saturate too: over the
    hidden layers, above 0.8 at every epoch. Zero biases put deep tanh in
    the chaotic phase: the first layer's gradient is over 100 times the last
    layer's. Accuracy stays far from what Xavier gets."""
    run = _run("large", "normal:std=1")
    sat = run.result.layer_column("saturated")
    predicted = 2 * stats.norm.sf(math.atanh(0.99) / math.sqrt(500))
    assert abs(sat[0, 0] - predicted) < 0.03, (sat[0, 0], predicted)
    hidden = _hidden_average(run.result, "saturated")
    assert np.all(hidden > 0.8), hidden
    row = run.row()
    assert row["saturated_init"] > 0.8 and row["saturated_end"] > 0.8
    assert row["grad_ratio_init"] > 100
    assert run.result.accuracy[-1] < 0.8
    # control: Xavier's deep tanh network is not saturated
    ref = _run("remedies", "xavier_normal", "tanh", "high_dimensional")
    assert ref.row()["saturated_init"] < 0.05


# ---- claim 5: remedies -----------------------------------------------------------------------

def test_remedies_learn_within_the_demo_budget():
    """He (relu) and Xavier (tanh) reach at least 0.95 accuracy on moons by
    the end of the demo's 50 epochs; every remedy (with orthogonal for tanh
    and LeCun for selu) reaches 0.95 within its budget on moons and on the
    500-feature set, and keeps its hidden units distinct (but for dead relu
    units)."""
    for init, act in (("kaiming_normal", "relu"), ("xavier_normal", "tanh")):
        run = _run("remedies", init, act, "moons")
        assert run.scheme.epochs == 50
        assert run.result.accuracy[-1] >= 0.95, (init, run.result.accuracy[-1])
    for run in _runs("remedies"):
        row = run.row()
        assert row["best_accuracy"] >= 0.95, row
        # relu units that died are all 0, so equal to each other: fewer distinct
        assert row["distinct_units"] == row["width"] or row["activation"] == "relu", row
        assert row["distinct_units"] > row["width"] // 2, row


def test_every_claim_is_reported_as_reproduced():
    rows = [run.row() for case in _demo.CASES for run in _runs(case)]
    for case in _demo.CASES:
        assert _demo.verdict(case, rows) == "reproduced", case
        assert _demo.claim_sentence(case, rows)


def test_the_table_rows():
    rows = [run.row() for case in _demo.CASES for run in _runs(case)]
    assert [r["case"] for r in rows] == ["zero"] * 4 + ["constant"] * 3 + ["small"] * 6 + ["large"] * 3 + \
        ["remedies"] * 8 + ["fixes"] * 5
    assert all(list(r) == list(_demo.COLUMNS) for r in rows)
    text = _demo.format_rows(rows)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["case", "dataset", "network", "init"]
    assert len(lines) == 2 + len(rows) and "never" in text
    assert [list(r) for r in json.loads(_demo.format_rows(rows, "json"))] == [list(_demo.COLUMNS)] * len(rows)
    parsed = list(csv.DictReader(io.StringIO(_demo.format_rows(rows, "csv"))))
    assert [p["init"] for p in parsed] == [r["init"] for r in rows]


def test_same_seed_same_rows_and_another_seed_differs():
    first = _demo.run_demo("zero", None, seed=5, progress=False)
    assert _demo.run_demo("zero", None, seed=5, progress=False) == first
    assert _demo.run_demo("zero", None, seed=6, progress=False) != first


def test_bad_case_and_seed():
    with pytest.raises(ValueError, match="unknown case 'nope'"):
        _demo.run_demo("nope")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        _demo.run_demo("zero", seed=-1)


def test_report_without_matplotlib(tmp_path, monkeypatch):
    from initcore.app import plots as _plots

    def missing():
        raise ImportError("plotting needs matplotlib (test)")

    monkeypatch.setattr(_plots, "require_matplotlib", missing)
    rows = _demo.run_demo("zero", tmp_path / "out", seed=0, progress=False)
    assert len(rows) == 4
    report = (tmp_path / "out" / "report.md").read_text()
    assert "No figures" in report and "matplotlib" in report and "![" not in report
    assert not list((tmp_path / "out").glob("*.png"))


# ---- the command line ------------------------------------------------------------------------


CONSTANT_FILES = ("constant_training.png", "constant_gradients.png", "constant_histograms.png",
                  "constant_boundary.png")


def test_cli_demo_constant_writes_table_plots_and_report(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    result = run_cli("demo", "--case", "constant", "--out", "DIR", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet, and not a terminal
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("case "))
    assert lines[header].split()[:5] == ["case", "dataset", "network", "init", "acc"]
    assert set(lines[header + 1].replace(" ", "")) == {"-"}
    body = lines[header + 2:header + 5]
    assert [line.split()[0] for line in body] == ["constant"] * 3
    assert "constant:value=0.5" in body[0] and "never" in body[0] and "1/16" in body[0]
    assert "claim 2 (constant): reproduced" in result.stdout
    out = tmp_path / "DIR"
    for name in CONSTANT_FILES:
        assert (out / name).read_bytes()[:8] == PNG, name
    report = (out / "report.md").read_text()
    for name in CONSTANT_FILES:
        assert f"]({name})" in report, name
    assert "| constant:value=0.5 |" in report and "logistic regression" in report
    saved = json.loads((out / "results.json").read_text())
    assert [r["init"] for r in saved] == ["constant:value=0.5", "xavier_normal", "kaiming_normal"]


def test_cli_demo_json_is_the_library_result(run_cli):
    """--json parses, and (same seed, another process) equals the library's rows."""
    result = run_cli("demo", "--case", "zero", "--json", "--quiet", "--out", "z", "--seed", "2")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    expect = json.loads(_demo.format_rows(_demo.run_demo("zero", None, seed=2, progress=False), "json"))
    assert rows == expect
    csv_result = run_cli("demo", "--case", "zero", "--csv", "--quiet", "--out", "z", "--seed", "2")
    assert csv_result.returncode == 0, csv_result.stderr
    parsed = list(csv.DictReader(io.StringIO(csv_result.stdout)))
    assert [p["init"] for p in parsed] == [r["init"] for r in rows]
    assert [float(p["accuracy"]) for p in parsed] == [r["accuracy"] for r in rows]


@pytest.mark.parametrize("args, needle", [
    (["--case", "bogus"], "unknown --case 'bogus'"),
    (["--seed", "-1"], "--seed must be non-negative"),
    (["--out", "afile"], "is not a directory"),
])
def test_cli_demo_bad_arguments(run_cli, tmp_path, args, needle):
    (tmp_path / "afile").write_text("")
    result = run_cli("demo", "--quiet", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("initcore: error:") and needle in lines[0], result.stderr
