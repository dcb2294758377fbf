"""BLAS held to one thread while initcore calls LAPACK.

initcore's kernels run on a GEMM of its own (src/gemm.h) and call no BLAS.
The one LAPACK call, jacobian_spectrum's singular values, rounds differently
with more BLAS threads, so it runs with BLAS on one thread. BLAS's thread
count is one setting for the whole process, so calls from several Python
threads take turns: each holds the limit for its whole call and gives back
what it found (threadpoolctl lets only the thread that set a limit change it
again).
"""
import contextlib
import threading

__all__ = ["single_threaded_blas"]

_lock = threading.RLock()
_depth = 0  # nested holds in the thread that has the lock
_controller = None


@contextlib.contextmanager
def single_threaded_blas():
    """A context in which every BLAS library of the process runs on one thread.

    Other Python threads entering it wait until this one leaves; a thread
    may enter it again while it holds it.
    """
    global _depth, _controller
    with _lock:
        if _depth:
            _depth += 1
            try:
                yield
            finally:
                _depth -= 1
            return
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            _depth = 1
            try:
                yield
            finally:
                _depth = 0
