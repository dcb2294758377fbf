"""initcore inside PyTorch: drop-in `torch.nn.init` functions that fill
tensors with initcore's seeded kernels, `init_module_`, whole-model init
with streams keyed by parameter name, and `lsuv_`, LSUV through forward hooks.

Importable only when PyTorch is installed; ``import initcore`` never imports
torch.
"""
try:
    import torch  # noqa: F401  (absolute: PyTorch itself, not this folder)
except ImportError as exc:
    raise ImportError("initcore.torch needs PyTorch, which is not installed: pip install torch") from exc

from .functional import *  # noqa: F403
from .functional import __all__ as _functional_names
from .lsuv import lsuv_
from .modules import PRESETS, InitSummary, init_module_

__all__ = ["PRESETS", "InitSummary", "init_module_", "lsuv_", *_functional_names]
