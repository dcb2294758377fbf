"""The README's "Using initcore with PyTorch" section runs as written.

Its Python blocks run in order in one namespace (block i after blocks 0 to
i - 1). A fenced block under ``<!-- output of the python block above -->``
must be what that block printed, except the summary table's last column,
``seconds``, which is a timing. ``python tests/test_torch_readme.py`` rewrites
those output blocks from a fresh run. The shard example runs as one rank of a
gloo group on the loopback interface.
"""
import contextlib
import io
import re
import socket
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = re.compile(r"^## Using initcore with PyTorch\n.*?(?=^## )", re.S | re.M)
BLOCK = re.compile(r"```python\n(?P<code>.*?)```\n(?:\n<!-- output of the python block above -->\n```\n"
                   r"(?P<output>.*?)```\n)?", re.S)


def _blocks():
    if not README.exists():
        return []
    section = SECTION.search(README.read_text())
    return list(BLOCK.finditer(section.group(0))) if section else []


def _timeless(text):
    """The lines without their last field when the table's last column is seconds."""
    lines = text.rstrip("\n").split("\n")
    if not lines[0].rstrip().endswith("seconds"):
        return lines
    return [line.rsplit(None, 1)[0] if i != 1 else line for i, line in enumerate(lines)]


def _run(upto):
    """stdout of block `upto`, after running the blocks before it."""
    namespace = {"__name__": "readme"}
    for match in _blocks()[:upto]:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(match["code"], namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_blocks()[upto]["code"], namespace)
    return out.getvalue()


def _loopback_rank(env):
    """One-rank process group settings, as torchrun would set them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": "0", "WORLD_SIZE": "1"}.items():
        env(key, value)


@pytest.mark.skipif(not _blocks(), reason="the README is not beside the tests")
@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_torch_block_runs_and_prints_what_it_shows(index, monkeypatch):
    pytest.importorskip("torch")
    _loopback_rank(monkeypatch.setenv)
    printed = _run(index)
    shown = _blocks()[index]["output"]
    if shown is not None:
        assert _timeless(printed) == _timeless(shown), "README output drifted: python tests/test_torch_readme.py"


if __name__ == "__main__":
    import os

    text = README.read_text()
    start = SECTION.search(text).start()
    for index, match in reversed(list(enumerate(_blocks()))):
        if match["output"] is not None:
            _loopback_rank(os.environ.__setitem__)
            text = text[:start + match.start("output")] + _run(index) + text[start + match.end("output"):]
    README.write_text(text)
    print(f"rewrote the output blocks of {README}", file=sys.stderr)
