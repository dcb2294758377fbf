"""The README's program output is the program's output today.

Each fenced block right after a ``<!-- output of: COMMAND -->`` line is
checked against COMMAND run now, at the seeds the commands fix: the block's
lines must appear in the output in order, as contiguous runs, where a line
``...`` in the block stands for lines left out. ``python tests/test_readme.py``
rewrites each block from a fresh run, keeping its shape (which output lines
it shows).
"""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- output of: (?P<command>[^>]*?) -->\n```\n(?P<body>.*?)```\n", re.S)


def _blocks():
    if not README.exists():
        return []
    return list(BLOCK.finditer(README.read_text()))


def _run(command, cwd):
    from conftest import _cli_command, subprocess_env

    args = shlex.split(command)
    assert args[0] == "initcore", command
    done = subprocess.run(_cli_command() + args[1:], cwd=cwd, env=subprocess_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return [line.rstrip() for line in done.stdout.splitlines()]


def _segments(body):
    """The block's runs of lines between the ``...`` lines."""
    runs, run = [], []
    for line in body.rstrip("\n").split("\n"):
        if line.strip() == "...":
            runs.append(run)
            run = []
        else:
            run.append(line.rstrip())
    return [r for r in runs + [run] if r]


def _find(lines, run, start):
    """Index of the first contiguous occurrence of `run` in lines[start:], or -1."""
    for i in range(start, len(lines) - len(run) + 1):
        if lines[i:i + len(run)] == run:
            return i
    return -1


@pytest.mark.skipif(not _blocks(), reason="the README is not beside the tests (tests copied out of the checkout)")
@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_output_blocks_match_the_program(index, tmp_path):
    match = _blocks()[index]
    lines = _run(match["command"], tmp_path)
    at = 0
    for run in _segments(match["body"]):
        found = _find(lines, run, at)
        if found < 0:
            near = _find(lines, run[:1], at)
            shown = lines[near:near + len(run)] if near >= 0 else lines[at:at + len(run)]
            pytest.fail(f"README block for `{match['command']}` has drifted from the program.\nREADME:\n"
                        + "\n".join(run) + "\nprogram:\n" + "\n".join(shown)
                        + "\n(python tests/test_readme.py rewrites the blocks)")
        at = found + len(run)


PYTHON = re.compile(r"```python\n(?P<code>.*?)```\n", re.S)
# what a block needs beyond initcore's test extra, by the modules it names
OPTIONAL = ("torch", "ml_dtypes", "jax", "dask", "pyarrow")


def _python_blocks():
    return [m["code"] for m in PYTHON.finditer(README.read_text())] if README.exists() else []


@pytest.mark.skipif(not _python_blocks(), reason="the README is not beside the tests")
@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_python_blocks_run(index, tmp_path, monkeypatch):
    """Every Python example runs as written (in a fresh folder, after the
    README's own ``import numpy as np`` and ``import initcore``); an example
    that uses an optional package skips without it."""
    code = _python_blocks()[index]
    for name in OPTIONAL:
        if re.search(rf"\b(import|from) (initcore\.)?{name}\b", code):
            pytest.importorskip(name)
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    exec(compile("import numpy as np\nimport initcore\n" + code, f"README python block {index}", "exec"), {})


def _rewrite(body, lines):
    """`body` with each run replaced by as many output lines, starting where
    its first line (the run's header) is found, or where the last run ended."""
    out, at = [], 0
    for i, run in enumerate(_segments(body)):
        if i:
            out.append("...")
        found = _find(lines, run[:1], at)
        start = found if found >= 0 else at
        out.extend(lines[start:start + len(run)])
        at = start + len(run)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    text = README.read_text()
    for match in reversed(_blocks()):
        with tempfile.TemporaryDirectory() as tmp:
            body = _rewrite(match["body"], _run(match["command"], tmp))
        text = text[:match.start("body")] + body + text[match.end("body"):]
    README.write_text(text)
    print(f"rewrote {len(_blocks())} blocks of {README}")
