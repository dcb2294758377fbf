"""initcore: fast, seeded, thread-count-independent neural-network initializers.

Every initializer is a function ``initcore.NAME(shape, ..., seed=, dtype=, out=)``,
a method of `initcore.Generator`, and reachable by name through
`initcore.initialize`.

The public API is what this module exports, and the public modules
`initcore.activations`, `initcore.datasets` and `initcore.meanfield`. The code
lives in one folder per concern, each importing only the folders before it:
``common`` (checks, threads, buffers, tables), ``fills`` (the generator and
the initializers), ``networks`` (activations, layer kernels, `MLP`, losses),
``propagation`` (`simulate`, mean-field theory, Jacobians, the ``critical``
spec and `lsuv`), ``training`` (`train`, datasets), ``sweeps`` (`sweep`:
grids of networks in parallel, stored and resumable) and ``app`` (command
line, demo, plots).
"""
try:
    from .fills import _random  # noqa: F401  (compiled; absent in a source checkout)
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    import os as _os

    _here = _os.path.dirname(_os.path.abspath(__file__))
    if _os.path.exists(_os.path.join(_here, "..", "meson.build")):
        raise ImportError(
            "initcore's compiled modules are missing: you are importing initcore from "
            f"its source directory ({_os.path.dirname(_here)}). Run Python from another "
            "directory to use the installed package, or develop with "
            "'pip install --no-build-isolation -e .'"
        ) from exc
    raise

from . import activations
from .fills.fans import calculate_gain, fans
from .fills.generator import Generator
from .fills.initializers import *  # noqa: F403
from .fills.initializers import __all__ as _initializer_names
from .fills.threads import get_num_threads, openmp_enabled, set_num_threads
from .common.workspace import free_workspace

__version__ = "0.1.0"

__all__ = [
    "Generator",
    "LSUVResult",
    "MLP",
    "Simulation",
    "TrainResult",
    "jacobian_spectrum",
    "lsuv",
    "simulate",
    "sweep",
    "read_sweep",
    "train",
    "activations",
    "datasets",
    "meanfield",
    "calculate_gain",
    "fans",
    "free_workspace",
    "get_num_threads",
    "openmp_enabled",
    "set_num_threads",
    *_initializer_names,
]


# Loaded on first use, not at import: `import initcore` stays quick for the
# initializers alone (meanfield loads scipy.optimize, sweeps and datasets more).
_LAZY = {
    "MLP": ".networks.mlp", "Simulation": ".propagation.simulate", "jacobian_spectrum": ".propagation.simulate",
    "simulate": ".propagation.simulate", "TrainResult": ".training.train", "train": ".training.train",
    "datasets": ".datasets", "meanfield": ".meanfield", "lsuv": ".propagation.lsuv",
    "LSUVResult": ".common.lsuv", "sweep": ".sweeps.sweep", "read_sweep": ".sweeps.store",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if name == "MLP":
            # propagation registers the init specs it resolves ("critical"; see
            # networks/mlp.py) when it loads: MLP is handed out after that
            importlib.import_module(".propagation", __name__)
        module = importlib.import_module(_LAZY[name], __name__)
        return module if _LAZY[name] == "." + name else getattr(module, name)
    raise AttributeError(f"module 'initcore' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
