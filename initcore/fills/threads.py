"""The kernels' thread count.

initcore's kernels use the OpenMP runtime's own setting, so
``threadpoolctl.threadpool_limits`` and ``OMP_NUM_THREADS`` control them too.
Results never depend on it: every chunk of an array owns its random stream.
"""
from . import _random
from ..common.validation import integer

__all__ = ["get_num_threads", "openmp_enabled", "set_num_threads"]


def get_num_threads():
    """Threads the next kernel call may use (1 without OpenMP; at most
    1024, whatever ``OMP_NUM_THREADS`` says)."""
    return _random.get_num_threads()


def set_num_threads(n):
    """Let kernels use `n` threads (1 <= n <= 1024). A no-op in a build
    without OpenMP. Results are the same for any `n`.

    Raises
    ------
    ValueError
        If n < 1 or n > 1024.
    """
    n = integer("n", n, low=1)
    if n > _random.MAX_THREADS:
        raise ValueError(f"n must be at most {_random.MAX_THREADS} threads, got {n}")
    _random.set_num_threads(n)


def openmp_enabled():
    """Whether this build runs kernels in parallel with OpenMP."""
    return _random.openmp_enabled()
