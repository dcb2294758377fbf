"""The activation registry (public module; the code is in `initcore.networks.activations`)."""
from .networks.activations import *  # noqa: F403
from .networks.activations import __all__, __doc__  # noqa: F401
