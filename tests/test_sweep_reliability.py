"""A sweep survives crashes: a worker process killed mid-sweep (on a real
Dask LocalCluster of 2 processes bound to 127.0.0.1, and in the local
process pool), and the driver killed with SIGKILL mid-sweep and rerun: every
point is stored exactly once, and the final table equals an uninterrupted
run's, bit for bit, whatever the number of workers."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import initcore

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# Points of tens of milliseconds, so that a kill lands while others are in flight.
GRID = {"sigma_w2": [0.8, 1.2, 1.6, 2.0, 2.4], "depth": [40, 80, 120, 160], "width": 32, "batch": 64,
        "sigma_b2": 0.05}
POINTS = 20


def table_bytes(table):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def stored_keys(folder):
    """Every key in every finished Parquet file of `folder`, duplicates kept."""
    return [key for name in sorted(os.listdir(folder)) if name.startswith("part-") and name.endswith(".parquet")
            for key in pq.read_table(os.path.join(folder, name), columns=["key"]).column("key").to_pylist()]


def files(folder):
    return [n for n in os.listdir(folder) if n.startswith("part-") and n.endswith(".parquet")] \
        if os.path.isdir(folder) else []


def wait_for(condition, timeout=120.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the sweep did not get there in time")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run: in this process, one worker."""
    out = tmp_path_factory.mktemp("reference")
    return table_bytes(initcore.sweep(out, GRID, workers=1).table())


def test_a_killed_dask_worker_has_its_points_run_elsewhere_each_once(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        assert len(pids) == 2

        def kill_one():
            wait_for(lambda: files(tmp_path))
            os.kill(pids[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_one)
        killer.start()
        run = initcore.sweep(tmp_path, GRID, scheduler=cluster.scheduler_address, compact=False)
        killer.join()
        assert pids[0] not in client.run(os.getpid).values()  # that worker is gone (the nanny starts another)
    assert (run.ran, run.failed) == (POINTS, [])
    keys = stored_keys(tmp_path)
    assert len(keys) == len(set(keys)) == POINTS
    assert table_bytes(run.table()) == reference


def test_a_killed_pool_worker_has_its_points_run_again_each_once(tmp_path, reference):
    import multiprocessing

    killed = []

    def kill_one():
        wait_for(lambda: files(tmp_path))
        children = multiprocessing.active_children()
        os.kill(children[0].pid, signal.SIGKILL)
        killed.append(children[0].pid)

    killer = threading.Thread(target=kill_one)
    killer.start()
    run = initcore.sweep(tmp_path, GRID, workers=2, compact=False)
    killer.join()
    assert killed and (run.ran, run.failed) == (POINTS, [])
    keys = stored_keys(tmp_path)
    assert len(keys) == len(set(keys)) == POINTS
    assert table_bytes(run.table()) == reference


DRIVER = """
import sys
import initcore
if __name__ == "__main__":
    initcore.sweep(sys.argv[1], {grid!r}, workers=2, compact=False)
"""


@pytest.mark.parametrize("backend, workers", [("local", 1), ("dask", 2)])
def test_a_driver_killed_mid_sweep_resumes_with_only_the_missing_points(tmp_path, reference, backend, workers):
    """The driver (a local pool of 2 workers) is SIGKILLed once some points
    are stored; the rerun, on another backend and worker count, runs only
    the missing points, and the table is the uninterrupted run's."""
    if backend == "dask":
        pytest.importorskip("distributed")
    from conftest import subprocess_env

    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(grid=GRID))
    out = tmp_path / "out"
    driver = subprocess.Popen([sys.executable, str(script), str(out)], cwd=tmp_path, env=subprocess_env(),
                              start_new_session=True, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(files(out)) >= 3 or driver.poll() is not None)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)  # its pool workers, if they outlive it
        except ProcessLookupError:
            pass
    assert driver.returncode == -signal.SIGKILL, driver.stderr.read().decode()
    done = set(stored_keys(out))
    assert 3 <= len(done) < POINTS
    run = initcore.sweep(out, GRID, backend=backend, workers=workers, compact=False)
    assert (run.ran, run.skipped) == (POINTS - len(done), len(done))
    keys = stored_keys(out)
    assert len(keys) == len(set(keys)) == POINTS
    assert table_bytes(run.table()) == reference
