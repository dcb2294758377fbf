"""The kernels' thread count.

initcore's kernels use the OpenMP runtime's own setting, so
``threadpoolctl.threadpool_limits`` and ``OMP_NUM_THREADS`` control them too.
Results never depend on it: every chunk of an array owns its random stream.
"""
from . import _random
from ._validation import integer

__all__ = ["get_num_threads", "openmp_enabled", "set_num_threads"]


def get_num_threads():
    """Threads the next kernel call may use (1 without OpenMP)."""
    return _random.get_num_threads()


def set_num_threads(n):
    """Let kernels use `n` threads (n >= 1). A no-op in a build without OpenMP.

    Raises
    ------
    ValueError
        If n < 1.
    """
    _random.set_num_threads(integer("n", n, low=1))


def openmp_enabled():
    """Whether this build runs kernels in parallel with OpenMP."""
    return _random.openmp_enabled()
