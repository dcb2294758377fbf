"""BLAS held to one thread while initcore's kernels call it.

The layer kernels and the orthogonal initializer call BLAS from each of
their own threads on tiles of fixed shape, so BLAS's own threads would only
compete for the same cores, and a threaded BLAS call may round differently
from a single-threaded one. Calls from several Python threads share one
limit: the first to enter sets it, the last to leave restores what it found,
so the process's settings are left as they were however the calls overlap.
"""
import contextlib
import threading

__all__ = ["single_threaded_blas"]

_lock = threading.Lock()
_holders = 0
_limiter = None
_controller = None


@contextlib.contextmanager
def single_threaded_blas():
    """A context in which every BLAS library of the process runs on one thread.

    While any initcore call holds it, NumPy's and SciPy's BLAS run on one
    thread in every Python thread of the process.
    """
    global _holders, _limiter, _controller
    with _lock:
        if _holders == 0:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _limiter = _controller.limit(limits=1, user_api="blas")
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limiter.restore_original_limits()
                _limiter = None
