"""The command line at its edges: figures only on request, strict JSON,
output paths checked before the work, --help, memory, and odd input."""
import contextlib
import csv
import io
import json
import os
import re

import pytest

import initcore
from initcore.activations import list_activations
from initcore.app import cli

from conftest import _cli_command, subprocess_env

SMALL = ["--depth", "3", "--width", "8", "--batch", "8", "--quiet"]
# Arguments that make each subcommand quick; demo's smallest case trains for a few seconds.
QUICK = {
    "report": ["report", "--shape", "8,4"],
    "simulate": ["simulate", *SMALL],
    "compare": ["compare", *SMALL],
    "meanfield": ["meanfield"],
    "demo": ["demo", "--case", "zero", "--quiet", "--out", "demo-out"],
}


def _reject_constant(name):
    raise ValueError(f"not JSON: {name}")


def strict_json(text):
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


def _one_error_line(result, *needles):
    """Exit status 2, nothing on stdout, one line 'initcore: error: ...'
    holding every needle on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("initcore: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def no_matplotlib(tmp_path):
    """run(*args): the command with `import matplotlib` failing, from tmp_path/work."""
    import subprocess

    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib blocked by the test')\n")
    work = tmp_path / "work"
    work.mkdir()
    env = subprocess_env(PYTHONPATH=str(blocker.parent))

    def run(*args):
        return subprocess.run(_cli_command() + list(args), cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
    run.cwd = work
    return run


# --- 1. figures only with --plot ------------------------------------------------------

@pytest.mark.parametrize("command", ["report", "simulate", "compare", "meanfield"])
@pytest.mark.parametrize("fmt", [[], ["--json"], ["--csv"]])
def test_no_file_is_written_without_plot(run_cli, tmp_path, command, fmt):
    result = run_cli(*QUICK[command], *fmt)
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["report", "simulate", "compare", "meanfield"])
def test_no_matplotlib_needed_without_plot(no_matplotlib, command):
    result = no_matplotlib(*QUICK[command], "--json")
    assert result.returncode == 0, result.stderr
    strict_json(result.stdout)
    assert os.listdir(no_matplotlib.cwd) == []


@pytest.mark.parametrize("command", ["simulate", "compare", "meanfield"])
def test_plot_without_matplotlib_fails_first(no_matplotlib, command):
    _one_error_line(no_matplotlib(*QUICK[command], "--plot", "p.png"), "--plot", "'p.png'", "matplotlib")
    assert os.listdir(no_matplotlib.cwd) == []


def test_meanfield_plot_on_request(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    result = run_cli("meanfield", "--plot", "ph.svg")
    assert result.returncode == 0, result.stderr
    assert "phase diagram written to ph.svg" in result.stdout
    assert (tmp_path / "ph.svg").read_text().lstrip().startswith("<?xml")
    # the old way to ask for no plot still runs
    result = run_cli("meanfield", "--plot", "none")
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == ["ph.svg"]


# --- 2. strict JSON -------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["report", "--shape", "8,4"],
    ["--json", "--shape", "1,1"],
    ["simulate", *SMALL],
    ["simulate", "--init", "zeros,normal:std=1e30", "--units", *SMALL],      # infinities, NaN, zeros
    ["simulate", "--init", "normal:std=1e30", "--activation", "relu", "--no-backward", *SMALL],
    ["compare", *SMALL],
    ["compare", "--init", "zeros,normal:std=1e30", "--activation", "relu", *SMALL],
    ["meanfield"],
    ["meanfield", "--sigma-w2", "1e90"],                                    # no fixed point
    ["meanfield", "--activation", "relu", "--sigma-w2", "3", "--sigma-b2", "0"],
    QUICK["demo"],
], ids=lambda args: " ".join(args))
def test_json_is_strict(run_cli, args):
    result = run_cli(*args, *([] if "--json" in args else ["--json"]))
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)


# --- 3. --plot and --out checked before the work ----------------------------------------

@pytest.mark.parametrize("command", ["simulate", "compare", "meanfield"])
def test_plot_creates_missing_folders(run_cli, tmp_path, command):
    pytest.importorskip("matplotlib")
    result = run_cli(*QUICK[command], "--json", "--plot", "new/deeper/p.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "deeper" / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("command", ["simulate", "compare", "meanfield"])
@pytest.mark.parametrize("where", ["file/p.png", "file/sub/p.png", "folder", "p.unknown_format", "p", ""])
def test_plot_path_refused_before_the_work(run_cli, tmp_path, command, where):
    pytest.importorskip("matplotlib")
    (tmp_path / "file").write_text("a file")
    (tmp_path / "folder").mkdir()
    _one_error_line(run_cli(*QUICK[command], "--plot", where), "--plot", repr(where))
    assert sorted(os.listdir(tmp_path)) == ["file", "folder"]


@pytest.mark.parametrize("where", ["file", "file/sub", ""])
def test_demo_out_refused_before_the_work(run_cli, tmp_path, where):
    (tmp_path / "file").write_text("a file")
    _one_error_line(run_cli("demo", "--case", "zero", "--out", where), "--out", repr(where))
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
@pytest.mark.parametrize("args", [["simulate", *SMALL, "--plot", "locked/p.png"],
                                  ["simulate", *SMALL, "--plot", "locked/new/p.png"],
                                  ["demo", "--case", "zero", "--out", "locked/demo"]])
def test_unwritable_folder_refused_before_the_work(run_cli, tmp_path, args):
    pytest.importorskip("matplotlib")
    (tmp_path / "locked").mkdir(mode=0o500)
    try:
        _one_error_line(run_cli(*args), args[-2], repr(args[-1]))
    finally:
        (tmp_path / "locked").chmod(0o700)


@pytest.mark.parametrize("args", [["simulate", *SMALL, "--plot", "locked/p.png"],
                                  ["meanfield", "--plot", "locked/new/p.png"],
                                  ["demo", "--case", "zero", "--out", "locked/demo"]])
def test_folder_without_write_permission_refused(tmp_path, monkeypatch, capsys, args):
    """The same refusal where the tests run as root: os.access says no."""
    pytest.importorskip("matplotlib")
    (tmp_path / "locked").mkdir()
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: False if "locked" in os.fspath(path)
                        else access(path, mode, **kwargs))
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"initcore: error: {args[-2]} {args[-1]!r}: no permission to write in 'locked'")
    assert os.listdir(tmp_path / "locked") == []


# --- 4. simulate --csv ------------------------------------------------------------------

def test_simulate_csv_has_each_column_once(run_cli):
    result = run_cli("simulate", "--init", "glorot_normal,normal:std=1", "--csv", *SMALL)
    assert result.returncode == 0, result.stderr
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert len(header) == len(set(header)), header
    assert header[0] == "init" and "layer" in header and "delta2" in header
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["init"] for r in rows] == ["xavier_normal"] * 3 + ["normal:std=1"] * 3


# --- 5. --help ----------------------------------------------------------------------------

def _help(*command):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        cli.main([*command, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def _option_entries(text):
    """{option: its help text, whitespace joined} from argparse --help output."""
    entries, current = {}, None
    for line in text.splitlines():
        match = re.match(r"  (-[-\w]+)", line)
        if match:
            current = match.group(1)
            entries[current] = line
        elif current and line.startswith("   "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return {k: " ".join(v.split()) for k, v in entries.items() if k not in ("-h", "--help")}


@pytest.mark.parametrize("command", [[], ["report"], ["simulate"], ["compare"], ["meanfield"], ["demo"]])
def test_help_shows_every_default(command):
    entries = _option_entries(_help(*command))
    assert entries
    for option, text in entries.items():
        assert "(default: " in text, f"{' '.join(command)} {option}: no default in {text!r}"


@pytest.mark.parametrize("command", ["simulate", "compare", "meanfield"])
def test_help_lists_the_activations(command):
    text = _option_entries(_help(command))["--activation"]
    for name in list_activations():
        assert re.search(rf"\b{name}\b", text), (name, text)


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_help_lists_the_initializers(command):
    entries = _option_entries(_help(command))
    assert "--inits" not in entries  # the old name is a hidden alias
    for name in initcore.list_initializers():
        assert re.search(rf"\b{name}\b", entries["--init"]), (name, entries["--init"])


def test_help_lists_choices():
    assert "(default: float32)" in _option_entries(_help("simulate"))["--dtype"]
    assert "{float32,float64}" in _option_entries(_help("simulate"))["--dtype"]
    text = _option_entries(_help("demo"))["--case"]
    for case in ("zero", "constant", "small", "large", "remedies", "all"):
        assert case in text


def test_compare_takes_init_like_simulate(run_cli):
    new = run_cli("compare", "--init", "zeros,xavier_normal", "--init", "normal:std=1", "--json", *SMALL)
    old = run_cli("compare", "--inits", "zeros,xavier_normal", "--inits", "normal:std=1", "--json", *SMALL)
    assert new.returncode == 0, new.stderr
    assert [row["init"] for row in strict_json(new.stdout)["summary"]] == ["zeros", "xavier_normal", "normal:std=1"]
    assert old.stdout == new.stdout


# --- 6. memory ------------------------------------------------------------------------------

NEED = re.compile(r"needs about \d[\d.]* [KMGTPE]?i?B\b.*\b\d[\d.]* [KMGTPE]?i?B available")


@pytest.mark.parametrize("args", [
    ["--shape", "1000000,1000000"],
    ["report", "--shape", "99999999999999999999,3"],
    ["simulate", "--width", "100000"],
    ["simulate", "--batch", "1000000000"],
    ["simulate", "--depth", "300000000"],
    ["simulate", "--depth", "300000000", "--width", "1", "--batch", "1"],   # per-layer records
    ["compare", "--width", "100000"],
    ["compare", "--width", "99999999999999999999999"],
], ids=lambda args: " ".join(args))
def test_memory_refused_up_front(run_cli, args):
    line = _one_error_line(run_cli(*args, "--quiet") if args[0] in ("simulate", "compare") else run_cli(*args))
    assert NEED.search(line), line


def test_memory_error_is_one_line(monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.64 TiB for an array")

    monkeypatch.setattr(cli, "report_rows", no_memory)
    assert cli.main(["--shape", "8,4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("initcore: error: out of memory") and "3.64 TiB" in err


# --- 7. no input ends in a traceback ----------------------------------------------------------

@pytest.mark.parametrize("args, needles", [
    (["simulate", "--init", "normal:std="], ["--init 'normal:std='"]),
    (["simulate", "--init", "xavier_normal:gain=x"], ["--init 'xavier_normal:gain=x'"]),
    (["simulate", "--init", ""], ["--init", "''"]),
    (["simulate", "--bias-std", "inf"], ["--bias-std", "inf"]),
    (["meanfield", "--sigma-b2", "inf"], ["--sigma-b2", "inf"]),
    (["meanfield", "--activation", "relu"], ["relu", "sigma_w2 = 2 at sigma_b2 = 0"]),
    (["simulate", "--activation", "nope"], ["--activation 'nope'"]),
    (["compare", "--depth", "x"], ["--depth", "'x'"]),
], ids=lambda v: " ".join(v))
def test_errors_name_the_option_and_the_value(run_cli, args, needles):
    _one_error_line(run_cli(*args, *(SMALL if args[0] != "meanfield" else [])), *needles)


ODD = ["", " ", "-1", "0", "1", "1.5", "nan", "-nan", "inf", "-inf", "1e308", "-1e308", "1e-320",
       "99999999999999999999", "0x10", "x", ",", "3,", ":", "=", "tanh", "relu", "leaky_relu:0.1", "zeros",
       "constant", "normal:std=", "normal:std=nan", "normal:std=-1", "normal:std=inf", "normal:=1",
       "normal:std=1,std=2", "normal:mean", "xavier_normal:gain=x", "xavier_normal:gain=1e308",
       "kaiming_normal:mode=bad", "variance_scaling:distribution=x", "uniform:low=1,high=0",
       "trunc_normal:a=1,b=-1", "sparse:sparsity=2", "orthogonal:gain=inf", "identity", "dirac", "bogus",
       "zeros:", "a/b.png", "/", "p.png", "-", "--", "\x00", "é"]
OPTIONS = {
    "report": ["--shape", "--seed", "--dtype"],
    "simulate": ["--activation", "--init", "--depth", "--width", "--batch", "--bias-std", "--seed", "--dtype",
                 "--every", "--plot"],
    "compare": ["--activation", "--init", "--inits", "--depth", "--width", "--batch", "--seed", "--dtype",
                "--plot"],
    "meanfield": ["--activation", "--sigma-b2", "--sigma-w2", "--plot"],
    "demo": ["--case", "--out", "--seed"],
}
FORMATS = ([], ["--json"], ["--csv"])


def _fuzz_cases():
    for command, options in OPTIONS.items():
        for option in options:
            for i, value in enumerate(ODD):
                base = ["demo", "--case", "bogus"] if command == "demo" and option != "--case" else [command]
                if command == "demo" and option == "--case" and value in ("zero", "constant"):
                    continue  # a real demo: minutes of training
                yield base + [option, value] + (SMALL if command in ("simulate", "compare") else []) \
                    + FORMATS[i % 3]


@pytest.mark.parametrize("command", list(OPTIONS))
def test_odd_input_never_ends_in_a_traceback(command, tmp_path, monkeypatch, capsys):
    """Each subcommand's options over ODD: status 0 or 2; with 2, one
    'initcore: error:' line naming the problem."""
    monkeypatch.chdir(tmp_path)
    failures = []
    for argv in (a for a in _fuzz_cases() if a[0] == command):
        try:
            status = cli.main(argv)
        except SystemExit as exc:
            status = exc.code
        except BaseException as exc:  # a traceback on the command line
            failures.append((argv, f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            out, err = capsys.readouterr()
        if status not in (0, 2):
            failures.append((argv, f"status {status}"))
        elif status == 2 and not (err.count("\n") == 1 and err.startswith("initcore: error: ")):
            failures.append((argv, f"error output {err!r}"))
        elif status == 0 and "--json" in argv:
            try:
                strict_json(out)
            except ValueError as exc:
                failures.append((argv, f"JSON: {exc}"))
    assert not failures, "\n".join(f"{argv}: {what}" for argv, what in failures[:40])
