"""Seeded fills and the initializers built on them: the counter-based
Philox generator (compiled `_random`, `_orthogonal`), fans and gains, and
every registered initializer; the kernels' thread count, which the
compiled modules share.
"""
