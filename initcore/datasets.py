"""Small generated classification problems (public module; the code is in
`initcore.training.datasets`)."""
from .training.datasets import *  # noqa: F403
from .training.datasets import __all__, __doc__  # noqa: F401
