"""Mean-field theory of signal propagation (public module; the code is in
`initcore.propagation.meanfield`)."""
from .propagation.meanfield import *  # noqa: F403
from .propagation.meanfield import __all__, __doc__  # noqa: F401
