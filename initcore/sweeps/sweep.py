"""`initcore.sweep`: many independent networks, each simulated or trained,
stored as they finish, resumable after any crash."""
import time
import warnings

from ..common.progress import Progress
from ..common.validation import integer
from .backends import BACKENDS, Failure, run
from .grid import expand, point_key
from .store import Store

__all__ = ["SweepRun", "sweep"]


class SweepRun:
    """What one call of `sweep` did.

    Attributes
    ----------
    path : str
        The results folder.
    keys : list of str
        The keys of the grid's points, in the grid's order.
    ran, skipped : int
        Points computed now, and points found already stored.
    failed : list of (dict, str)
        Points whose task raised, with the error; they are not stored, so a
        rerun tries them again.
    corrupt : list of str
        Damaged files found when the folder was opened (set aside as
        ``*.corrupt``; their points ran again).
    seconds : float
        Wall time of the call.
    """

    def __init__(self, path, keys, ran, skipped, failed, corrupt, seconds):
        self.path, self.keys, self.ran, self.skipped = path, keys, ran, skipped
        self.failed, self.corrupt, self.seconds = failed, corrupt, seconds

    def __repr__(self):
        return (f"<SweepRun {self.path}: {len(self.keys)} points, {self.ran} run, {self.skipped} already done, "
                f"{len(self.failed)} failed, {self.seconds:.1f} s>")

    def table(self):
        """The stored rows of this sweep's points (see `read_sweep`), sorted by key."""
        store = Store(self.path)
        table = store.table()
        wanted = store.pa.array(sorted(self.keys))
        return table.filter(store.pa.compute.is_in(table.column("key"), value_set=wanted))


def sweep(out, grid, *, task="simulate", backend="local", workers=None, threads=None, scheduler=None,
          progress=None, compact=True):
    """Simulate or train a network at every point of a grid, in parallel,
    storing each result as it finishes; a rerun resumes.

    Each point is a pure function of its config and seed (see
    `initcore.sweeps.tasks.run_point`). Its result is stored under the
    BLAKE2b hash of its canonical config, in Parquet files in `out`, written
    as points finish. A rerun of the same (or a larger) grid skips the
    stored points: killing the driver at any moment loses only the points
    whose results had not yet been written, and never duplicates one. The
    final table (`read_sweep`) is the same, bit for bit, whatever the
    backend, the number of workers and the interruptions.

    Parameters
    ----------
    out : str or path-like
        The results folder, created with its parents; refused before
        anything runs when it cannot be written.
    grid : dict
        Parameter -> value or list of values; every combination is a point.
        ``architecture`` ("mlp"), ``activation`` (spec strings such as
        ``"tanh"``), ``depth``, ``width``, ``sigma_w2`` (weights
        N(0, sigma_w2 / fan_in)) or ``init`` (any initializer spec string
        that `initcore.MLP` accepts), ``sigma_b2`` (biases N(0, sigma_b2)),
        ``seed``, ``dtype``; for ``simulate`` also ``batch`` and ``q0``;
        for ``train`` also ``dataset`` ("digits", or a generated problem of
        `initcore.datasets` with ``n`` examples), ``epochs``, ``batch_size``
        and ``lr``. See `initcore.sweeps.grid.PARAMETERS` for the defaults.
    task : {"simulate", "train"}
        ``simulate``: per-layer signal propagation of a network at
        initialization; ``train``: accuracy and loss after SGD training.
    backend : {"local", "dask"}
        ``"local"``: a process pool of `workers` processes (this process
        alone for ``workers=1``). ``"dask"``: `distributed`, on `scheduler`
        or on a `LocalCluster` of `workers` processes bound to 127.0.0.1.
        A worker that dies mid-task has its points run again by another.
    workers : int, optional
        Worker processes (default: the number of cores).
    threads : int, optional
        initcore and BLAS threads per worker (default: cores / workers, at
        least 1, so the cores are not oversubscribed; 1 on a scheduler).
        The results do not depend on it.
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``
        (implies ``backend="dask"``).
    progress : bool or None
        A progress bar with an ETA on stderr (None: on a terminal, after a
        second).
    compact : bool
        When every point is done, rewrite the folder as one file sorted by
        key.

    Returns
    -------
    SweepRun

    Raises
    ------
    TypeError, ValueError
        A bad grid (unknown parameter, empty axis, sigma_w2 < 0, ...),
        backend or worker count: before anything runs.
    OSError
        An output folder that cannot be written: before anything runs.
    RuntimeError
        Another sweep is writing in `out` (each folder has one writer; reading
        it with `read_sweep` meanwhile is safe).
    ImportError
        Without pyarrow (or, for the Dask backend, dask and distributed).

    Notes
    -----
    Schoenholz et al. (2017) showed that a deep network trains only when
    its depth stays below a few correlation depth scales xi_c of mean-field
    theory (about 6 xi_c on MNIST); `initcore.sweeps.fit_depth_constant`
    fits that constant to a ``train`` sweep, and ``initcore sweep --plot``
    draws the measured diagram beside the theory.

    References
    ----------
    B. Poole et al., "Exponential expressivity in deep neural networks
    through transient chaos", NeurIPS 2016; S. S. Schoenholz, J. Gilmer,
    S. Ganguli, J. Sohl-Dickstein, "Deep information propagation", ICLR 2017.

    Examples
    --------
    >>> run = sweep("runs/tanh", {"sigma_w2": [0.5, 1.0, 2.0], "depth": [10, 20],
    ...                           "width": 32, "batch": 32})    # doctest: +SKIP
    >>> run.table().column("q_last")                            # doctest: +SKIP
    """
    start = time.perf_counter()
    points = expand(grid, task)
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if workers is not None:
        workers = integer("workers", workers, low=1)
    if threads is not None:
        threads = integer("threads", threads, low=1)
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ValueError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786', got {scheduler!r}")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    store = Store(out, write=True)
    try:
        keyed = [(point_key(config), config) for config in points]
        todo = [(key, config) for key, config in keyed if key not in store.keys]
        failed = []
        with Progress(len(todo), "sweep", progress) as bar:
            for batch in run(todo, backend, workers, threads, scheduler):
                rows = []
                for key, config, result in batch:
                    if isinstance(result, Failure):
                        failed.append((config, result.error))
                    else:
                        rows.append({"key": key, **config, **result})
                store.write(rows)
                bar.step(len(batch))
        if failed:
            warnings.warn(f"{len(failed)} of {len(todo)} points failed and were not stored (a rerun tries them "
                          f"again); the first: {failed[0][0]}: {failed[0][1]}", RuntimeWarning, stacklevel=2)
        elif compact:
            store.compact()
    finally:
        store.close()
    return SweepRun(store.path, [key for key, _ in keyed], len(todo) - len(failed), len(keyed) - len(todo),
                    failed, store.corrupt, time.perf_counter() - start)
