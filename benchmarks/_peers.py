"""Peers and thread counts shared by the benchmark modules."""
import contextlib
import os
import sys

import initcore

THREADS = [1, 2, 4, 8, 16]


def torch_or_skip():
    """torch with initcore's thread count; NotImplementedError (asv: skip this
    combination) when it is not installed. Imported here, not at module level,
    so initcore and numpy combinations do not pay for importing it."""
    try:
        import torch
    except ImportError:
        raise NotImplementedError("torch is not installed") from None
    torch.set_num_threads(initcore.get_num_threads())
    return torch


def available_cpus():
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextlib.contextmanager
def thread_counts(n):
    """`n` threads for initcore's kernels, BLAS and torch alike, so that a
    ratio to the GEMM floor compares like with like; the previous counts are
    restored on exit. torch is set only when already imported, so that a
    run without it does not pay for importing it."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    saved = initcore.get_num_threads(), torch.get_num_threads() if torch else None
    with threadpool_limits(n, user_api="blas"):
        try:
            initcore.set_num_threads(n)
            if torch:
                torch.set_num_threads(n)
            yield
        finally:
            # torch's OpenMP runtime may be initcore's: torch first, so that
            # initcore's count is the one left in it
            if torch:
                torch.set_num_threads(saved[1])
            initcore.set_num_threads(saved[0])


class Threads:
    """For asv classes whose last parameter is the thread count of
    initcore, BLAS and torch alike: `use_threads` in setup sets it,
    teardown restores the previous counts.

    Counts above the CPUs the process may use are skipped: asv would time
    the OS scheduler. ``ratios.py layers --threads`` runs them, passing
    threads=None (the counts as they are) and setting the counts itself.
    """

    def use_threads(self, threads):
        if threads is None:
            return
        if threads > available_cpus():
            raise NotImplementedError(f"{threads} threads on {available_cpus()} CPUs")
        self._threads = thread_counts(threads)
        self._threads.__enter__()

    def teardown(self, *params):
        # asv calls teardown after a setup that skipped too
        threads = self.__dict__.pop("_threads", None)
        if threads is not None:
            threads.__exit__(None, None, None)
