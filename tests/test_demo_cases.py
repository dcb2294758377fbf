"""``initcore demo``, the cases closer to the seeds' own setups and the
report: each variant's claim as a test on the demo's own runs (seed 0), with
a well-initialized control beside it, and what the report says and how.
"""
import numpy as np
import pytest

from initcore.app import demo as _demo

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
    assert "the same network from xavier_normal" in _demo.claim_sentence("large", rows)
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
