"""initcore: fast, seeded, thread-count-independent neural-network initializers.

Every initializer is a function ``initcore.NAME(shape, ..., seed=, dtype=, out=)``,
a method of `initcore.Generator`, and reachable by name through
`initcore.initialize`.
"""
try:
    from . import _random  # noqa: F401  (compiled; absent in a source checkout)
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
from ._fans import calculate_gain, fans
from ._generator import Generator
from ._initializers import *  # noqa: F403
from ._initializers import __all__ as _initializer_names
from ._threads import get_num_threads, openmp_enabled, set_num_threads
from ._workspace import free_workspace

__version__ = "0.1.0"

__all__ = [
    "Generator",
    "MLP",
    "Simulation",
    "TrainResult",
    "jacobian_spectrum",
    "simulate",
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


# Loaded on first use, not at import: the layer kernels link BLAS (which loads
# scipy.linalg) and meanfield needs scipy.optimize.
_LAZY = {
    "MLP": "._network", "Simulation": "._simulate", "jacobian_spectrum": "._simulate",
    "simulate": "._simulate", "TrainResult": "._train", "train": "._train",
    "datasets": ".datasets", "meanfield": ".meanfield",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name], __name__)
        return module if _LAZY[name] == "." + name else getattr(module, name)
    raise AttributeError(f"module 'initcore' has no attribute {name!r}")
