"""The ``initcore`` command line, run in a subprocess from a temporary
directory (so the source tree is never on sys.path)."""
import csv
import io
import json
import math

import pytest
from scipy import stats

LABELS = [
    "zeros", "constant 0.5", "normal std=0.01", "normal std=1", "xavier_uniform",
    "xavier_normal tanh", "kaiming_normal", "lecun_normal", "trunc_normal", "orthogonal",
]
COLUMNS = ["initializer", "shape", "fan_in", "fan_out", "theory_mean", "theory_std", "sample_mean", "sample_std"]


def _theory_std(label, shape, fan_in, fan_out):
    """Independent theoretical std of each report row (published formulas)."""
    return {
        "zeros": 0.0,
        "constant 0.5": 0.0,
        "normal std=0.01": 0.01,
        "normal std=1": 1.0,
        "xavier_uniform": math.sqrt(2.0 / (fan_in + fan_out)),
        "xavier_normal tanh": 5.0 / 3.0 * math.sqrt(2.0 / (fan_in + fan_out)),
        "kaiming_normal": math.sqrt(2.0) / math.sqrt(fan_in),
        "lecun_normal": 1.0 / math.sqrt(fan_in),
        "trunc_normal": 0.02 * stats.truncnorm(-2, 2).std(),
        # read as a (prod(shape[:-1]), shape[-1]) matrix; E[x^2] = 1 / max side
        "orthogonal": 1.0 / math.sqrt(max(math.prod(shape[:-1]), shape[-1])),
    }[label]


def _check_rows(rows, shape):
    """Every row present, fans right, theory right, samples near theory.

    Tolerance: an array of n elements estimates a std sigma with relative
    standard error sqrt((kappa - 1) / (4 n)), kappa the kurtosis; kappa <= 3
    for every distribution in the report (normal 3, uniform 1.8, truncated
    normal < 3, orthogonal ~3), so the relative SE is at most 1 / sqrt(2 n).
    The bound 6 / sqrt(2 n) is six standard errors; for 512x256 (n = 131072)
    that is 1.2%. The sample mean is within 6 sigma / sqrt(n) of 0.
    """
    fan_in = shape[-2] * math.prod(shape[:-2])
    fan_out = shape[-1] * math.prod(shape[:-2])
    n = math.prod(shape)
    assert [row["initializer"] for row in rows] == LABELS
    for row in rows:
        label = row["initializer"]
        assert row["shape"] == "x".join(map(str, shape))
        assert int(row["fan_in"]) == fan_in and int(row["fan_out"]) == fan_out
        theory = _theory_std(label, shape, fan_in, fan_out)
        assert float(row["theory_std"]) == pytest.approx(theory, rel=1e-9, abs=1e-15), label
        assert float(row["theory_mean"]) == (0.5 if label == "constant 0.5" else 0.0)
        sample_std, sample_mean = float(row["sample_std"]), float(row["sample_mean"])
        if theory == 0.0:
            assert sample_std == 0.0, label
            assert sample_mean == float(row["theory_mean"]), label
        else:
            assert abs(sample_std / theory - 1) < 6 / math.sqrt(2 * n), (label, sample_std, theory)
            assert abs(sample_mean) < 6 * theory / math.sqrt(n), (label, sample_mean)


def test_default_table(run_cli):
    result = run_cli()
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "512x256" in text and "Traceback" not in result.stderr
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["initializer"])
    assert lines[header].split() == COLUMNS
    assert set(lines[header + 1].replace(" ", "")) == {"-"}
    body = lines[header + 2:]
    for label in LABELS:
        row = next((line for line in body if line.startswith(label + " ")), None)
        assert row is not None, f"no table row for {label!r}"
        cells = row[len(label):].split()
        assert len(cells) == len(COLUMNS) - 1
        assert cells[0] == "512x256" and int(cells[1]) == 512 and int(cells[2]) == 256
        for cell in cells[3:]:
            assert math.isfinite(float(cell))
    assert len([line for line in body if line.strip()]) == len(LABELS)


@pytest.mark.parametrize("extra, shape", [([], (512, 256)), (["--dtype", "float64", "--seed", "7"], (512, 256)),
                                          (["--shape", "3,3,32,64"], (3, 3, 32, 64))])
def test_json(run_cli, extra, shape):
    result = run_cli("--json", *extra)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(list(row) == COLUMNS for row in rows)
    _check_rows(rows, shape)


def test_csv(run_cli):
    result = run_cli("--csv", "--shape", "300,200")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == COLUMNS
    _check_rows(list(reader), (300, 200))


def test_report_subcommand(run_cli):
    result = run_cli("report", "--json", "--shape", "64,32")
    assert result.returncode == 0, result.stderr
    _check_rows(json.loads(result.stdout), (64, 32))


def test_options_before_the_subcommand_are_honoured(run_cli):
    """``initcore --shape 64,32 --json report`` must use the shape and the
    format given before the subcommand, not silently fall back to defaults."""
    result = run_cli("--shape", "64,32", "--json", "report")
    assert result.returncode == 0, result.stderr
    try:
        rows = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"--json before 'report' ignored; got:\n{result.stdout[:300]}")
    assert rows[0]["shape"] == "64x32", f"--shape before 'report' ignored: {rows[0]['shape']}"


def test_same_seed_same_report(run_cli):
    first = run_cli("--json", "--seed", "3")
    second = run_cli("--json", "--seed", "3")
    other = run_cli("--json", "--seed", "4")
    assert first.stdout == second.stdout
    assert first.stdout != other.stdout


@pytest.mark.parametrize("args, needle", [
    (["--shape", "3"], "'3'"),
    (["--shape", "a,b"], "'a,b'"),
    (["--shape", "0,5"], "'0,5'"),
    (["--seed", "-1"], "-1"),
    (["--seed", "x"], "'x'"),
    (["--dtype", "int8"], "int8"),
])
def test_bad_arguments(run_cli, args, needle):
    """Exit status non-zero, exactly one 'initcore: error:' line naming the bad
    value, no traceback (argparse may print its usage lines first)."""
    result = run_cli(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("initcore: error:") and needle in errors[0], errors[0]
    assert result.stdout == ""


# --- simulate / compare / meanfield -------------------------------------------------

SMALL = ["--depth", "6", "--width", "48", "--batch", "64", "--quiet"]


def test_simulate_json_matches_the_library(run_cli):
    import numpy as np

    import initcore

    result = run_cli("simulate", "--init", "xavier_normal", "--json", *SMALL)
    assert result.returncode == 0, result.stderr
    (sim,) = json.loads(result.stdout)
    net = initcore.MLP([48] * 7, activation="tanh", init="xavier_normal", seed=0)
    expect = initcore.simulate(net, batch=64, seed=1, progress=False)
    assert [rec["layer"] for rec in sim["layers"]] == list(range(1, 7))
    for got, want in zip(sim["layers"], expect.layers):
        for key in ("q", "q_theory", "a_std", "saturated", "delta2", "delta2_theory", "dw_norm"):
            assert got[key] == want[key] or (got[key] is None and not np.isfinite(want[key])), key


def test_simulate_json_per_unit_arrays_on_request(run_cli):
    plain = json.loads(run_cli("simulate", "--init", "xavier_normal", "--json", *SMALL).stdout)
    kept = json.loads(run_cli("simulate", "--init", "xavier_normal", "--json", "--units", *SMALL).stdout)
    assert plain[0]["units"] is None
    assert [len(u["mean"]) for u in kept[0]["units"]] == [48] * 6
    assert kept[0]["layers"] == plain[0]["layers"]


def test_simulate_table_shows_three_inits_and_theory(run_cli):
    result = run_cli("simulate", *SMALL, "--every", "1")
    assert result.returncode == 0, result.stderr
    for spec in ("normal:std=0.01", "normal:std=1", "xavier_normal"):
        assert f"== init {spec}" in result.stdout
    assert "q theory" in result.stdout and "ordered" in result.stdout and "chaotic" in result.stdout
    # six layer rows under each init
    assert result.stdout.count("\n    6     48") == 3


def test_simulate_csv_and_plot(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    result = run_cli("simulate", "--init", "normal:std=1,xavier_normal", "--csv", "--plot", "p.png",
                  "--no-backward", *SMALL)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["init"] for r in rows] == ["normal:std=1"] * 6 + ["xavier_normal"] * 6
    assert "delta2" not in rows[0]
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_outputs(run_cli):
    result = run_cli("compare", "--init", "zeros,normal:std=0.01,kaiming_normal", *SMALL)
    assert result.returncode == 0, result.stderr
    for what in ("std(a) per layer", "saturated per layer", "E[delta^2] per layer"):
        assert what in result.stdout
    data = json.loads(run_cli("compare", "--init", "zeros,xavier_normal", "--json", *SMALL).stdout)
    assert [row["init"] for row in data["summary"]] == ["zeros", "xavier_normal"]
    zeros = data["layers"]["zeros"]
    assert all(rec["distinct_units"] == 1 and rec["unit_spread"] == 0 for rec in zeros)


def test_meanfield_command(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    from initcore import meanfield

    result = run_cli("meanfield", "--activation", "tanh", "--sigma-b2", "0.05", "--json", "--plot", "ph.png")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["critical_sigma_w2"] == pytest.approx(float(meanfield.critical_line("tanh", 0.05)), rel=1e-12)
    assert data["chi1"] == pytest.approx(1.0, abs=1e-9)
    assert (tmp_path / "ph.png").exists()
    text = run_cli("meanfield", "--sigma-w2", "1.0", "--sigma-b2", "0.05", "--plot", "none").stdout
    assert "ordered" in text and "xi_grad" in text


@pytest.mark.parametrize("args, needle", [
    (["simulate", "--init", "bogus"], "unknown initializer 'bogus'"),
    (["simulate", "--activation", "nope"], "unknown activation 'nope'"),
    (["simulate", "--depth", "0"], "--depth must be a positive integer"),
    (["simulate", "--seed", "-1"], "--seed must be non-negative"),
    (["compare", "--init", ","], "--init needs at least one initializer"),
    (["meanfield", "--sigma-b2", "-1"], "--sigma-b2 must be non-negative"),
])
def test_new_commands_bad_arguments(run_cli, args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
