"""Signal propagation: `simulate` (measured per-layer statistics),
mean-field theory, the input-output Jacobian's spectrum, and the
initializers that fix a network from them: the ``critical`` spec of `MLP`
and `lsuv`.
"""
from . import critical  # noqa: F401  (registers MLP's "critical" spec)
