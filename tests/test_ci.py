"""What `.ci/run` may and may not do on a CI machine: it installs from the
network only what the package needs (never pip itself) and leaves nothing
behind (its virtual environment lives in a temporary folder that a trap
removes)."""
import re
from pathlib import Path

import pytest

CI = Path(__file__).resolve().parent.parent / ".ci" / "run"
pytestmark = pytest.mark.skipif(not CI.exists(), reason="the tests were copied out of the checkout")


def _commands():
    return [line.strip() for line in CI.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]


def test_ci_never_upgrades_pip():
    for line in _commands():
        assert not re.search(r"pip install\b.*(--upgrade|-U)\b.*\bpip\b", line), line


def test_ci_venv_lives_in_a_temporary_folder_that_a_trap_removes():
    lines = _commands()
    temp = next((re.match(r'(\w+)="\$\(mktemp -d\)"', line) for line in lines if "mktemp -d" in line), None)
    assert temp, "the work folder comes from mktemp -d"
    name = temp.group(1)
    assert any(line.startswith("trap") and f'rm -rf "${name}"' in line and "EXIT" in line for line in lines)
    assert any(line.startswith("python3 -m venv") and f'"${name}/' in line for line in lines)


def test_ci_runs_the_readme_test_command():
    readme = (CI.parent.parent / "README.md").read_text()
    command = 'pip install ".[test]" && pytest'
    assert command in readme and command in _commands()
