"""Shared fixtures and helpers for the initcore test suite.

Conventions used by every statistical test in this directory:

* Seeds are fixed, so every test is deterministic (it cannot flake).
* Kolmogorov-Smirnov tests are two-sided (``scipy.stats.kstest``) and pass
  when p > ``KS_P_MIN`` = 1e-4.  Binomial tests pass when p > ``BINOM_P_MIN``
  = 1e-4.  Sample sizes are stated where each test is written.
* Every expected number comes from an independent reference (a closed form,
  plain NumPy float64, scipy.stats / scipy.integrate, or a published
  constant), never from initcore output.

Helpers are exposed as fixtures (``--import-mode=importlib``: test modules
cannot import this file); the float64 activation references, which plain
helper functions need too, are in reference.py (``pythonpath = ["tests"]``).
"""
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
import warnings
import types
import zlib

import numpy as np
import pytest
from scipy import stats

import initcore

KS_P_MIN = 1e-4
BINOM_P_MIN = 1e-4

# Parameters an initializer needs besides the shape (everything else has a default).
REQUIRED_PARAMS = {"constant": {"value": 0.25}, "sparse": {"sparsity": 0.3}}
# Initializers that draw random numbers (the others are deterministic).
RANDOM_INITIALIZERS = frozenset({
    "uniform", "normal", "trunc_normal", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
    "variance_scaling", "orthogonal", "delta_orthogonal", "sparse",
})
# Which numbers of dimensions each initializer accepts.
ALLOWED_NDIMS = {
    **{name: (1, 2, 3, 4, 5) for name in ("zeros", "ones", "constant", "uniform", "normal", "trunc_normal")},
    **{name: (2, 3, 4, 5) for name in (
        "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
        "lecun_uniform", "lecun_normal", "variance_scaling", "orthogonal")},
    "identity": (2,),
    "sparse": (2,),
    "dirac": (3, 4, 5),
    "delta_orthogonal": (3, 4, 5),
}
# A shape per initializer with more than _random.PARALLEL_MIN elements (so
# kernels go parallel) whose size is not a multiple of any chunk size
# (32768, 4096, 256).
BIG_SHAPES = {name: (523, 521) for name in ALLOWED_NDIMS}
BIG_SHAPES.update({"dirac": (3, 3, 181, 179), "delta_orthogonal": (3, 3, 181, 179)})


def _ks(sample, cdf, what="", args=()):
    sample = np.asarray(sample, dtype=np.float64).ravel()
    result = stats.kstest(sample, cdf, args=args)
    assert result.pvalue > KS_P_MIN, (
        f"{what}: one-sample KS rejects (n={sample.size}, D={result.statistic:.4g}, "
        f"p={result.pvalue:.3g} <= {KS_P_MIN})"
    )
    return result


def _ks_2samp(first, second, what=""):
    first = np.asarray(first, dtype=np.float64).ravel()
    second = np.asarray(second, dtype=np.float64).ravel()
    result = stats.ks_2samp(first, second)
    assert result.pvalue > KS_P_MIN, (
        f"{what}: two-sample KS rejects (n={first.size}, m={second.size}, "
        f"D={result.statistic:.4g}, p={result.pvalue:.3g} <= {KS_P_MIN})"
    )
    return result


def _binom(count, trials, prob, what="", alternative="two-sided"):
    result = stats.binomtest(int(count), int(trials), prob, alternative=alternative)
    assert result.pvalue > BINOM_P_MIN, (
        f"{what}: binomial test ({alternative}) rejects: {count} of {trials}, expected "
        f"{trials * prob:.4g} (p={prob:.4g}); p-value {result.pvalue:.3g} <= {BINOM_P_MIN}"
    )
    return result


def _ref_fans(shape, layout="in_out"):
    """Fans written out from the definition (Keras/JAX in_out, PyTorch out_in)."""
    shape = tuple(shape)
    if layout == "in_out":
        receptive = int(np.prod(shape[:-2], dtype=np.int64)) if len(shape) > 2 else 1
        return shape[-2] * receptive, shape[-1] * receptive
    receptive = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _random_shape(rng, ndim, low=30_000, high=200_000):
    """A random shape of `ndim` dims whose size lies in [low, high]: kernel
    dims in 1..5 (first or last, at random), two log-uniform channel dims."""
    for _ in range(1000):
        target = math.exp(rng.uniform(math.log(low), math.log(high)))
        if ndim == 1:
            shape = (int(round(target)),)
        else:
            kernel = tuple(int(k) for k in rng.integers(1, 6, size=ndim - 2))
            rest = target / math.prod(kernel)
            first = int(round(math.exp(rng.uniform(math.log(2.0), math.log(rest / 2.0)))))
            channels = (first, int(round(rest / first)))
            shape = kernel + channels if rng.random() < 0.5 else channels + kernel
        if low <= math.prod(shape) <= high and min(shape) >= 1:
            return shape
    raise AssertionError("could not draw a shape")  # pragma: no cover


def _raises(exc, func, *needles):
    """Call func; it must raise `exc` with every needle in the message. Warnings
    are errors here, so a check that warns instead of raising is caught."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc) as info:
            func()
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in message {message!r}"
    assert "\n" not in message.strip()
    return message


@pytest.fixture
def assert_raises():
    """``assert_raises(exc, func, *needles)``: func raises exc, even with warnings
    as errors, in one line that contains every needle."""
    return _raises


@pytest.fixture
def assert_ks():
    """``assert_ks(sample, cdf, what)``: two-sided one-sample KS, p > 1e-4."""
    return _ks


@pytest.fixture
def assert_ks_2samp():
    """``assert_ks_2samp(a, b, what)``: two-sided two-sample KS, p > 1e-4."""
    return _ks_2samp


@pytest.fixture
def assert_binom():
    """``assert_binom(k, n, p, what, alternative)``: exact binomial test, p > 1e-4."""
    return _binom


@pytest.fixture
def ref_fans():
    """``ref_fans(shape, layout)``: independent fan-in/fan-out."""
    return _ref_fans


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test id: random choices of shapes and
    parameters, fixed from run to run."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def random_shape():
    """``random_shape(rng, ndim, low, high)``: a random shape with size in [low, high]."""
    return _random_shape


@pytest.fixture
def init_info():
    """Static facts about the initializers (parameters, ranks, big shapes)."""
    return types.SimpleNamespace(
        required=REQUIRED_PARAMS,
        random=RANDOM_INITIALIZERS,
        ndims=ALLOWED_NDIMS,
        big_shapes=BIG_SHAPES,
    )


@pytest.fixture
def threads():
    """A setter for initcore's thread count that restores the original count."""
    original = initcore.get_num_threads()
    yield initcore.set_num_threads
    initcore.set_num_threads(original)



def pytest_generate_tests(metafunc):
    # ``random_initializer``: every initializer that draws random numbers.
    if "random_initializer" in metafunc.fixturenames:
        names = sorted(n for n in initcore.list_initializers() if n in RANDOM_INITIALIZERS)
        metafunc.parametrize("random_initializer", names)


def subprocess_env(**extra):
    """This process's environment for a child Python, plus `extra`, with the
    PYTHONPATH entries inside the repository dropped: the source folder must
    never shadow the installed package, while an install elsewhere on
    PYTHONPATH (pip --target) must stay reachable."""
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, **extra}
    kept = [entry for entry in env.pop("PYTHONPATH", "").split(os.pathsep)
            if entry and not Path(entry).resolve().is_relative_to(repo)]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    return env


def _cli_command():
    """The installed console script of this interpreter, else ``python -m initcore``."""
    script = Path(sys.executable).parent / "initcore"
    if script.exists():
        return [str(script)]
    found = shutil.which("initcore")
    return [found] if found else [sys.executable, "-m", "initcore"]


@pytest.fixture
def run_cli(tmp_path):
    """run_cli(*args): the ``initcore`` command in a subprocess, from tmp_path
    (so the source tree is never on sys.path)."""
    env = subprocess_env()

    def run(*args):
        return subprocess.run(_cli_command() + list(args), cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
    return run
