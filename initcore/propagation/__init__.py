"""Signal propagation: `simulate` (measured per-layer statistics),
mean-field theory, and the input-output Jacobian's spectrum.
"""
