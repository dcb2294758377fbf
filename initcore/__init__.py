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

from . import activations, datasets
from ._fans import calculate_gain, fans
from ._generator import Generator
from ._initializers import *  # noqa: F403
from ._initializers import __all__ as _initializer_names
from ._network import MLP
from ._simulate import Simulation, jacobian_spectrum, simulate
from ._threads import get_num_threads, openmp_enabled, set_num_threads
from ._train import TrainResult, train

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
    "get_num_threads",
    "openmp_enabled",
    "set_num_threads",
    *_initializer_names,
]


def __getattr__(name):
    # meanfield needs scipy.optimize: load it on first use, not at import
    if name == "meanfield":
        import importlib

        return importlib.import_module(".meanfield", __name__)
    raise AttributeError(f"module 'initcore' has no attribute {name!r}")
