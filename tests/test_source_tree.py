"""Importing initcore from a source directory (no compiled modules) stops with
a clear message, when the installed package is a regular (non-editable) install.

With an editable install the package lives in the repository and its import
hook takes precedence over the current directory, so the guard cannot fire
and both tests skip.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import initcore

REPO = Path(__file__).resolve().parents[1]
INSTALLED = Path(initcore.__file__).resolve().parent


def _is_inside(path, root):
    try:
        Path(path).resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _skip_if_editable():
    if _is_inside(INSTALLED, REPO):
        pytest.skip(f"initcore is an editable install inside the repository ({INSTALLED}); "
                    "the source-directory guard only applies to a regular install")


def _import_in(cwd):
    from conftest import subprocess_env

    return subprocess.run([sys.executable, "-c", "import initcore"], cwd=cwd, env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)


def test_import_from_repository_root_explains_itself():
    _skip_if_editable()
    if not (REPO / "meson.build").exists() or not (REPO / "initcore" / "__init__.py").exists():
        pytest.skip(f"the tests were copied out of the source checkout ({REPO} has no meson.build)")
    result = _import_in(REPO)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "source directory" in result.stderr
    assert "Traceback" in result.stderr  # a real exception, not a silent exit


def test_import_from_a_copied_source_tree_explains_itself(tmp_path):
    """The same guard on a stand-in source tree (the installed package's .py
    files next to a meson.build), so it is checked even where tests/ was
    copied out of the repository (as .ci/check-wheel does)."""
    _skip_if_editable()
    package = tmp_path / "initcore"
    package.mkdir()
    for source in INSTALLED.glob("*.py"):
        shutil.copy(source, package / source.name)
    (tmp_path / "meson.build").write_text("project('initcore', 'c')\n")
    result = _import_in(tmp_path)
    assert result.returncode != 0
    assert "source directory" in result.stderr
    assert str(tmp_path) in result.stderr
