"""The summary tables printed in the README's "Using initcore with PyTorch"
section are what their blocks print today.

(tests/test_readme.py runs every Python block of the README.) A fenced block
under ``<!-- output of the python block above -->`` must be what that block
prints, except the table's last column, ``seconds``, a timing.
``python tests/test_torch_readme.py`` rewrites those blocks from a fresh run.
"""
import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SHOWN = re.compile(r"```python\n(?P<code>(?:(?!```).)*)```\n\n<!-- output of the python block above -->\n```\n"
                   r"(?P<output>.*?)```\n", re.S)


def _blocks():
    return list(SHOWN.finditer(README.read_text())) if README.exists() else []


def _timeless(text):
    """The table's lines without the seconds column (the rule line whole)."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0].split()[-1] == "seconds", lines[0]
    return [line if i == 1 else line.rsplit(None, 1)[0] for i, line in enumerate(lines)]


def _printed(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README python block", "exec"), {})
    return out.getvalue()


@pytest.mark.skipif(not _blocks(), reason="the README is not beside the tests")
@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_torch_output_is_what_the_block_prints(index):
    pytest.importorskip("torch")
    match = _blocks()[index]
    assert _timeless(_printed(match["code"])) == _timeless(match["output"]), \
        "README output drifted: python tests/test_torch_readme.py rewrites it"


if __name__ == "__main__":
    text = README.read_text()
    for match in reversed(_blocks()):
        text = text[:match.start("output")] + _printed(match["code"]) + text[match.end("output"):]
    README.write_text(text)
    print(f"rewrote {len(_blocks())} output blocks of {README}", file=sys.stderr)
