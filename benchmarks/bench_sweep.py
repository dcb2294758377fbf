"""initcore.sweep: a 200-point simulate sweep on each backend, and the
bookkeeping that makes a sweep resumable.

The grid: tanh, sigma_b2 = 0.05, sigma_w2 from 0.5 to 4.3 in 20 steps, depth
10 to 100 in 10 steps, width 256, batch 256: 200 points of about 40-250 ms,
so that a worker's start (a spawned process importing initcore, ~0.7 s) is
a small part of the sweep, as in any sweep worth running in parallel.

* ``serial``: the points run by hand, one after another in this process
  (`run_point` in a loop, initcore's kernels on every core), no storage;
* ``pool``: `initcore.sweep` on the local process pool of 2 workers;
* ``dask``: `initcore.sweep` on a running LocalCluster of 2 single-threaded
  worker processes (the scheduler address, as on a cluster);
* ``resume``: the same sweep rerun on a folder that holds every point, so
  only the bookkeeping runs (reading and checking the stored keys).

pyarrow (and distributed for ``dask``) are needed: the benchmarks are
skipped without them.
"""
import os
import shutil
import tempfile
import uuid

import initcore

GRID = {"activation": "tanh", "sigma_b2": 0.05, "sigma_w2": [round(0.5 + 0.2 * i, 6) for i in range(20)],
        "depth": list(range(10, 101, 10)), "width": 256, "batch": 256}
POINTS = 200
WORKERS = 2


def _need(module):
    try:
        __import__(module)
    except ImportError:
        raise NotImplementedError(f"{module} is not installed") from None


def configs():
    from initcore.sweeps.grid import expand

    return expand(GRID)


class SweepSimulate:
    """Wall time of the 200-point simulate sweep on each backend."""
    params = ["serial", "pool", "dask"]
    param_names = ["backend"]
    timeout = 600
    number = 1
    repeat = 3

    def setup(self, backend):
        self.folder = tempfile.mkdtemp(prefix="initcore-bench-sweep-")
        self.cluster = self.client = None
        if backend != "serial":
            _need("pyarrow")
        if backend == "dask":
            _need("distributed")
            from distributed import LocalCluster

            self.cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address="127.0.0.1:0")
        self.points = configs()

    def teardown(self, backend):
        if self.cluster is not None:
            self.cluster.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_sweep(self, backend):
        if backend == "serial":
            from initcore.sweeps.tasks import run_point

            for config in self.points:
                run_point(config)
            return
        out = os.path.join(self.folder, uuid.uuid4().hex)
        if backend == "pool":
            initcore.sweep(out, GRID, workers=WORKERS, progress=False)
        else:
            initcore.sweep(out, GRID, scheduler=self.cluster.scheduler_address, progress=False)


class SweepResume:
    """The bookkeeping of a resumed sweep: the 200-point sweep rerun on a
    folder holding every point (time per point = time / 200)."""
    timeout = 600

    def setup(self):
        _need("pyarrow")
        self.folder = tempfile.mkdtemp(prefix="initcore-bench-resume-")
        initcore.sweep(self.folder, GRID, workers=1, progress=False, compact=False)

    def teardown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_resume(self):
        run = initcore.sweep(self.folder, GRID, workers=1, progress=False, compact=False)
        assert run.ran == 0
