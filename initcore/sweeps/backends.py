"""Where the points of a sweep run: in this process, in a local process pool,
or on Dask (`distributed`), each yielding batches of finished points as they
come in.

dask and distributed are optional dependencies (``pip install
"initcore[sweep]"``), imported only by the Dask backend.
"""
import collections
import concurrent.futures
import multiprocessing
import os

from ..fills.threads import get_num_threads, set_num_threads
from .tasks import run_point

__all__ = ["BACKENDS", "Failure", "WorkerCrash", "run"]

BACKENDS = ("local", "dask")
# Points in flight per worker: enough to keep every worker busy between polls.
_WINDOW = 4
# A point whose worker dies this many times stops the sweep (it kills any worker).
_MAX_CRASHES = 3
# The thread count set in this worker process, once (see `work`).
_THREADS = []


class Failure:
    """A point whose task raised: the exception's type and message."""

    def __init__(self, error):
        self.error = f"{type(error).__name__}: {error}"

    def __repr__(self):
        return f"Failure({self.error!r})"


class WorkerCrash(RuntimeError):
    """A point took down its worker process again and again."""


def work(config, threads):
    """`run_point` in a worker process, on `threads` initcore threads and as
    many BLAS threads (set for the whole process, once)."""
    if _THREADS != [threads]:
        from threadpoolctl import threadpool_limits

        set_num_threads(threads)
        threadpool_limits(limits=threads)
        _THREADS[:] = [threads]
    return _attempt(config)


def _attempt(config):
    try:
        return run_point(config)
    except Exception as exc:  # reported with the point, the sweep goes on
        return Failure(exc)


def default_threads(workers):
    """initcore threads per worker that keep `workers` workers from
    oversubscribing this machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def _serial(points, threads):
    """In this process, on `threads` initcore threads (restored after)."""
    previous = get_num_threads()
    set_num_threads(threads)
    try:
        for key, config in points:
            yield [(key, config, _attempt(config))]
    finally:
        set_num_threads(previous)


def _pool(points, workers, threads):
    """A spawn-context process pool; a worker that dies breaks the pool,
    which is started again and given back the points that were in flight."""
    pending = collections.deque(points)
    crashes = collections.Counter()
    context = multiprocessing.get_context("spawn")
    while pending:
        broken = []
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            inflight, dead = {}, False
            while (pending or inflight) and not (broken or dead):
                try:
                    while pending and len(inflight) < _WINDOW * workers:
                        inflight[pool.submit(work, pending[0][1], threads)] = pending[0]
                        pending.popleft()
                except concurrent.futures.process.BrokenProcessPool:
                    dead = True  # a worker died since the last results: theirs tell which points were lost
                done, _ = concurrent.futures.wait(inflight, return_when=concurrent.futures.FIRST_COMPLETED)
                batch = []
                for future in done:
                    key, config = inflight.pop(future)
                    try:
                        batch.append((key, config, future.result()))
                    except concurrent.futures.process.BrokenProcessPool:
                        broken.append((key, config))
                yield batch
            broken.extend(inflight.values())
        for key, config in broken:
            crashes[key] += 1
            if crashes[key] >= _MAX_CRASHES:
                raise WorkerCrash(f"the worker process running the point {config} died {crashes[key]} times "
                                  "(if no point finished at all, the workers could not start: the spawn start "
                                  "method imports the main module, so run a script whose sweep call is under "
                                  "if __name__ == '__main__')")
        pending.extendleft(reversed(broken))


def _dask(points, workers, threads, scheduler):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ImportError('the Dask backend needs dask and distributed, optional dependencies of initcore: '
                          'pip install "initcore[sweep]"') from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0")
    try:
        with Client(scheduler or cluster) as client:
            width = _WINDOW * max(workers or len(client.scheduler_info()["workers"]), 1)
            pending = collections.deque(points)
            futures = as_completed()
            origin = {}

            def submit():
                key, config = pending.popleft()
                future = client.submit(work, config, threads, key=f"initcore-point-{key}", pure=False)
                origin[future.key] = (key, config)
                futures.add(future)

            for _ in range(min(width, len(pending))):
                submit()
            for done in futures.batches():
                batch = []
                for future in done:
                    key, config = origin.pop(future.key)
                    try:
                        result = future.result()
                    except Exception as exc:  # KilledWorker: the point killed every worker it met
                        result = Failure(exc)
                    batch.append((key, config, result))
                    future.release()
                    if pending:
                        submit()
                yield batch
    finally:
        if cluster is not None:
            cluster.close()


def run(points, backend="local", workers=None, threads=None, scheduler=None):
    """Batches of ``(key, config, result)`` as points finish.

    Parameters
    ----------
    points : list of (str, dict)
        Keys and configs, in the order to submit them.
    backend : {"local", "dask"}
        ``"local"``: in this process when `workers` is 1, else a process
        pool of `workers` processes (spawn start method). ``"dask"``: a
        `distributed` client on `scheduler`, or on a new `LocalCluster` of
        `workers` single-threaded processes bound to 127.0.0.1.
    workers : int, optional
        Default: the number of cores (local pool and LocalCluster).
    threads : int, optional
        initcore and BLAS threads of each task. Default: the cores divided
        by the workers (at least 1); on a remote scheduler 1.
    scheduler : str, optional
        A Dask scheduler address such as ``tcp://10.0.0.5:8786``.

    Yields
    ------
    list of (str, dict, dict or Failure)
    """
    if scheduler is None:
        workers = workers or os.cpu_count() or 1
    if threads is None:
        threads = 1 if scheduler is not None else default_threads(workers)
    if backend == "dask" or scheduler is not None:
        return _dask(points, workers, threads, scheduler)
    if workers == 1:
        return _serial(points, threads)
    return _pool(points, workers, threads)
