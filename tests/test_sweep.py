"""initcore.sweep: the grid and its checks, the point results, the Parquet
store (resume, duplicates, damaged files), the backends giving the same
bits, the fitted trainability constant, the `initcore sweep` command; and
crashes: a worker process killed mid-sweep (on a real Dask LocalCluster of
2 processes bound to 127.0.0.1, and in the local process pool), and the
driver killed with SIGKILL mid-sweep and rerun: every point is stored
exactly once, and the final table equals an uninterrupted run's, bit for
bit, whatever the number of workers."""
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import initcore
from initcore.propagation import meanfield
from initcore.sweeps import analysis, grid as sweep_grid
from initcore.sweeps.tasks import run_point

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# Tiny networks: every point takes milliseconds.
SMALL = {"sigma_w2": [0.5, 1.5, 2.5], "depth": [3, 6], "width": 8, "batch": 8, "sigma_b2": 0.05}


def table_bytes(table):
    """The table serialized as an Arrow IPC stream: equal bytes, equal bits."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def stored_rows(folder):
    """The key of every row of every finished Parquet file in `folder`,
    duplicates kept."""
    return [key for name in sorted(os.listdir(folder)) if name.startswith("part-") and name.endswith(".parquet")
            for key in pq.read_table(os.path.join(folder, name), columns=["key"]).column("key").to_pylist()]


# --- the grid --------------------------------------------------------------

def test_ranges_include_their_end_and_do_not_carry_rounding():
    values = sweep_grid.parse_axis("sigma_w2", "1:4:0.25")
    assert values == [1 + 0.25 * i for i in range(13)]
    assert sweep_grid.parse_axis("sigma_w2", "0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    assert sweep_grid.parse_axis("sigma_b2", "0.7:1:0.1") == [0.7, 0.8, 0.9, 1.0]
    assert sweep_grid.parse_axis("depth", "10:40:10,100") == [10, 20, 30, 40, 100]
    assert sweep_grid.parse_axis("depth", "10:45:10") == [10, 20, 30, 40]  # 50 is past the end
    assert sweep_grid.parse_axis("init", "orthogonal,normal:std=0.1,mean=0") == ["orthogonal",
                                                                               "normal:std=0.1,mean=0"]


@pytest.mark.parametrize("name, text, words", [
    ("depth", "1.5", "integers"),
    ("depth", "10:1:1", "range"),
    ("sigma_w2", "1:4", "range"),
    ("sigma_w2", "1:4:0", "range"),
    ("sigma_w2", "", "empty"),
    ("sigma_w2", "a", "numbers"),
    ("gain", "1", "unknown sweep parameter 'gain'"),
])
def test_bad_axis_text_names_the_parameter(name, text, words):
    with pytest.raises(ValueError, match=words):
        sweep_grid.parse_axis(name, text)


def test_the_grid_is_every_combination_with_defaults():
    points = sweep_grid.expand(SMALL)
    assert len(points) == 3 * 2
    assert [(p["depth"], p["sigma_w2"]) for p in points] == [(d, w) for d in (3, 6) for w in (0.5, 1.5, 2.5)]
    assert {p["activation"] for p in points} == {"tanh"} and {p["seed"] for p in points} == {0}
    assert all(p["init"] is None and p["architecture"] == "mlp" for p in points)
    train = sweep_grid.expand({"sigma_w2": 1.0}, "train")
    assert train[0]["dataset"] == "digits" and "batch" not in train[0]


@pytest.mark.parametrize("grid, task, words", [
    ({"sigma_w2": []}, "simulate", "axis 'sigma_w2' is empty"),
    ({"sigma_w2": [1.0, -0.5]}, "simulate", "sigma_w2.*-0.5"),
    ({"sigma_b2": -1.0}, "simulate", "sigma_b2"),
    ({"gain": [1.0]}, "simulate", "unknown sweep parameter 'gain'"),
    ({"epochs": 3}, "simulate", "belongs to the task 'train'"),
    ({"batch": 8}, "train", "belongs to the task 'simulate'"),
    ({"depth": [2, 0]}, "simulate", "depth.*at least 1"),
    ({"depth": [2, 2]}, "simulate", "repeats a value"),
    ({"activation": "tanhh"}, "simulate", "tanhh"),
    ({"init": "gaussian"}, "simulate", "gaussian"),
    ({"init": "orthogonal", "sigma_w2": 2.0}, "simulate", "sigma_w2 or init, not both"),
    ({"dataset": "mnist"}, "train", "unknown dataset 'mnist'"),
    ({"sigma_w2": 1.0}, "fit", "unknown task 'fit'"),
])
def test_a_bad_grid_is_one_clear_error_before_anything_runs(tmp_path, grid, task, words):
    out = tmp_path / "never"
    with pytest.raises((ValueError, TypeError), match=words):
        initcore.sweep(out, grid, task=task, workers=1)
    assert not out.exists()


def test_the_key_is_the_blake2b_of_the_sorted_json():
    config = sweep_grid.expand(SMALL)[0]
    text = json.dumps(dict(sorted(config.items())), separators=(",", ":"))
    assert sweep_grid.point_key(config) == hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    shuffled = dict(reversed(list(config.items())))
    assert sweep_grid.point_key(shuffled) == sweep_grid.point_key(config)
    assert sweep_grid.point_key({**config, "seed": 1}) != sweep_grid.point_key(config)


# --- one point -------------------------------------------------------------

def test_a_simulate_point_is_the_simulation_of_its_network():
    """Reference: the network built by hand from the point's meaning,
    weights N(0, sigma_w2 / n) and biases N(0, sigma_b2), from one stream."""
    config = {**sweep_grid.expand(SMALL)[3], "seed": 7}
    gen = initcore.Generator(7)
    width, depth = config["width"], config["depth"]
    net = initcore.MLP([width] * (depth + 1), activation="tanh",
                       init=("normal", {"std": math.sqrt(config["sigma_w2"] / width)}),
                       bias=("normal", {"std": math.sqrt(config["sigma_b2"])}), seed=gen)
    sim = initcore.simulate(net, batch=config["batch"], seed=gen, progress=False)
    result = run_point(config)
    assert result["q_last"] == sim.layers[-1]["q"]
    assert result["layer_delta2"] == sim.column("delta2").tolist()
    assert result["grad_ratio"] == sim.layers[0]["delta2"] / sim.layers[-1]["delta2"]
    assert result["sigma_w2_net"] == pytest.approx(config["sigma_w2"], rel=1e-12)
    assert run_point(config) == result


def test_a_point_with_an_init_spec_uses_it():
    config = sweep_grid.expand({"init": "orthogonal", "depth": 2, "width": 8, "batch": 8})[0]
    assert config["sigma_w2"] is None
    net = initcore.MLP([8, 8, 8], init="orthogonal", seed=initcore.Generator(0))
    assert run_point(config)["sigma_w2_net"] == pytest.approx(net.sigma_w2[0])


def test_a_train_point_is_training_on_its_dataset():
    config = sweep_grid.expand({"sigma_w2": 1.0, "depth": 2, "width": 16, "dataset": "moons", "n": 200,
                                "epochs": 3, "batch_size": 50, "lr": 0.1}, "train")[0]
    gen = initcore.Generator(0)
    X, y = initcore.datasets.moons(200, seed=0)
    fans = [2, 16, 16]
    net = initcore.MLP([2, 16, 16, 2], activation=["tanh", "tanh", "linear"],
                       init=[("normal", {"std": math.sqrt(1.0 / n)}) for n in fans], seed=gen)
    expect = initcore.train(net, X, y, loss="cross_entropy", lr=0.1, epochs=3, batch_size=50, seed=gen,
                            eval_batch=50, progress=False)
    result = run_point(config)
    assert result["accuracy"] == expect.history[-1]["accuracy"]
    assert result["loss"] == expect.history[-1]["loss"]
    assert result["steps"] == 3 * 4 and result["diverged"] is False


def test_digits_is_scikit_learns_standardized():
    sklearn = pytest.importorskip("sklearn.datasets")
    X, y = initcore.datasets.digits()
    raw = sklearn.load_digits()
    assert X.shape == (1797, 64) and y.tolist() == raw.target.tolist()
    col = raw.data[:, 20]
    np.testing.assert_allclose(X[:, 20], (col - col.mean()) / col.std(), rtol=1e-12)
    assert np.array_equal(initcore.datasets.digits(standardize=False)[0], raw.data)


# --- the sweep and its store -----------------------------------------------

def test_resume_skips_stored_points_and_a_larger_grid_runs_only_the_new(tmp_path):
    first = initcore.sweep(tmp_path, SMALL, workers=1)
    assert (first.ran, first.skipped) == (6, 0)
    again = initcore.sweep(tmp_path, SMALL, workers=1)
    assert (again.ran, again.skipped) == (0, 6)
    bigger = initcore.sweep(tmp_path, {**SMALL, "seed": [0, 1]}, workers=1)
    assert (bigger.ran, bigger.skipped) == (6, 6)
    keys = stored_rows(tmp_path)
    assert len(keys) == len(set(keys)) == 12
    assert initcore.read_sweep(tmp_path).num_rows == 12 and first.table().num_rows == 6


def test_the_table_is_the_same_bits_for_any_backend_and_worker_count(tmp_path):
    runs = {}
    for backend, workers in (("local", 1), ("local", 2)):
        runs[backend, workers] = initcore.sweep(tmp_path / f"{backend}{workers}", SMALL, backend=backend,
                                                workers=workers, compact=False).table()
    reference = table_bytes(runs["local", 1])
    assert all(table_bytes(t) == reference for t in runs.values())
    assert runs["local", 1].column("key").to_pylist() == sorted(runs["local", 1].column("key").to_pylist())


def test_an_unwritable_output_is_refused_up_front(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        initcore.sweep(a_file, SMALL, workers=1)
    with pytest.raises(PermissionError, match="cannot write the sweep output"):
        initcore.sweep(a_file / "sub", SMALL, workers=1)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        with pytest.raises(PermissionError, match="cannot write"):
            initcore.sweep(locked, SMALL, workers=1)


def test_a_cut_short_file_is_detected_and_its_points_rerun(tmp_path):
    reference = table_bytes(initcore.sweep(tmp_path / "ref", SMALL, workers=1).table())
    out = tmp_path / "cut"
    initcore.sweep(out, SMALL, workers=1)  # compacted: one file holds every point
    (only,) = [p for p in out.iterdir() if p.suffix == ".parquet"]
    data = only.read_bytes()
    only.write_bytes(data[: len(data) // 2])
    (out / ".tmp-left-by-a-crash").write_bytes(data[:100])
    with pytest.warns(RuntimeWarning, match="damaged"):
        run = initcore.sweep(out, SMALL, workers=1)
    assert (run.ran, run.skipped) == (6, 0) and run.corrupt == [str(only)]
    assert (out / (only.name + ".corrupt")).exists() and not (out / ".tmp-left-by-a-crash").exists()
    assert table_bytes(run.table()) == reference


def test_a_file_whose_rows_do_not_match_their_keys_is_detected(tmp_path):
    initcore.sweep(tmp_path, SMALL, workers=1)
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".parquet"]
    table = pq.read_table(path)
    depth = table.column("depth").to_pylist()
    depth[0] += 1  # a damaged value that Parquet still reads
    pq.write_table(table.set_column(table.schema.get_field_index("depth"), "depth", pa.array(depth, pa.int64())),
                   path)
    with pytest.warns(RuntimeWarning, match="does not hash to its key"):
        run = initcore.sweep(tmp_path, SMALL, workers=1)
    assert run.ran == 6


def test_one_sweep_writes_a_folder_and_readers_change_nothing(tmp_path):
    from initcore.sweeps.store import Store

    initcore.sweep(tmp_path, SMALL, workers=1)
    writer = Store(tmp_path, write=True)
    try:
        with pytest.raises(RuntimeError, match="another sweep is writing"):
            initcore.sweep(tmp_path, SMALL, workers=1)
        (tmp_path / ".tmp-being-written").write_bytes(b"PAR1")
        (tmp_path / "part-garbage.parquet").write_bytes(b"not parquet")
        with pytest.warns(RuntimeWarning, match="left out"):
            table = initcore.read_sweep(tmp_path)  # while the writer holds the folder
        assert table.num_rows == 6
        assert (tmp_path / ".tmp-being-written").exists() and (tmp_path / "part-garbage.parquet").exists()
    finally:
        writer.close()
    with pytest.warns(RuntimeWarning, match="set aside"):
        assert initcore.sweep(tmp_path, SMALL, workers=1).ran == 0
    assert not (tmp_path / ".tmp-being-written").exists() and (tmp_path / "part-garbage.parquet.corrupt").exists()


def test_a_failing_point_is_reported_not_stored_and_retried(tmp_path, monkeypatch):
    from initcore.sweeps import backends

    bad = sweep_grid.expand(SMALL)[2]

    def flaky(config):
        if config == bad:
            raise FloatingPointError("boom")
        return run_point(config)

    monkeypatch.setattr(backends, "run_point", flaky)
    with pytest.warns(RuntimeWarning, match="1 of 6 points failed.*FloatingPointError: boom"):
        run = initcore.sweep(tmp_path, SMALL, workers=1)
    assert run.ran == 5 and run.failed == [(bad, "FloatingPointError: boom")]
    monkeypatch.setattr(backends, "run_point", run_point)
    assert (initcore.sweep(tmp_path, SMALL, workers=1).ran, len(stored_rows(tmp_path))) == (1, 6)


def test_the_progress_bar_shows_an_eta():
    import io

    from initcore.common.progress import Progress

    stream = io.StringIO()
    with Progress(4, "sweep", enabled=True, delay=0.0, stream=stream) as bar:
        bar.step()
        bar.step(3)
    first, last = stream.getvalue().split("\r")[1:]
    assert "1/4" in first and "ETA" in first
    assert "4/4" in last and "ETA" not in last


# --- the trainability constant ---------------------------------------------

def _synthetic(c, sigma_w2, depths):
    """A table whose points are trainable exactly when depth < c xi_c
    (xi_c from meanfield directly), as a train sweep would store it."""
    rows = []
    for w2 in sigma_w2:
        xi = meanfield.depth_scales("tanh", w2, 0.05)["xi_c"]
        rows += [{"activation": "tanh", "depth": d, "sigma_w2": w2, "sigma_w2_net": w2, "sigma_b2": 0.05,
                  "accuracy": 0.9 if d < c * xi else 0.1} for d in depths]
    return pa.Table.from_pylist(rows)


def test_the_fitted_constant_recovers_the_rule_that_made_the_data():
    table = _synthetic(4.0, [1.0, 1.5, 2.0, 2.5, 3.0, 4.0], range(2, 200, 3))
    fit = analysis.fit_depth_constant(table, threshold=0.5)
    assert fit["agreement"] == 1.0 and fit["points"] == 6 * 66
    assert fit["c_low"] < 4.0 <= fit["c_high"] and fit["c_low"] < fit["c"] < fit["c_high"]
    other = analysis.fit_depth_constant(_synthetic(8.0, [1.0, 1.5, 2.0, 2.5, 3.0, 4.0], range(2, 200, 3)),
                                        threshold=0.5)
    assert other["c_low"] < 8.0 <= other["c_high"]


def test_the_depth_scale_table_marks_the_depths_the_rule_calls_trainable():
    table = _synthetic(4.0, [1.0, 3.0], [2, 50])
    text = analysis.depth_scale_table(table, c=4.0)
    xi = {w2: meanfield.depth_scales("tanh", w2, 0.05)["xi_c"] for w2 in (1.0, 3.0)}
    for line, w2 in zip(text.splitlines()[2:], (1.0, 3.0)):
        assert f"{4 * xi[w2]:.3g}" in line
        assert line.count("*") == sum(d < 4 * xi[w2] for d in (2, 50))


# --- the measured phase diagram ----------------------------------------------

def _diagram_data(sigma_w2, ys, y="depth"):
    data = {"activation": [], "depth": [], "sigma_b2": [], "sigma_w2": [], "accuracy": []}
    for w2 in sigma_w2:
        for value in ys:
            data["activation"].append("tanh")
            data["sigma_w2"].append(w2)
            data["depth"].append(value if y == "depth" else 20)
            data["sigma_b2"].append(0.05 if y == "depth" else value)
            data["accuracy"].append(0.5)
    return data


def test_the_diagram_over_depth_draws_the_critical_sigma_w2_and_c_xi_c():
    pytest.importorskip("matplotlib")
    from initcore.app.plots import plot_sweep

    fig = plot_sweep(_diagram_data([1.0, 1.5, 2.0, 2.5], [10, 20, 40]), statistic="accuracy", c=3.0)
    lines = {line.get_label().split(" ")[0]: line for line in fig.axes[0].get_lines()}
    critical = float(meanfield.critical_line("tanh", 0.05))
    assert lines["critical"].get_xdata()[0] == pytest.approx(critical)
    x, y = lines["depth"].get_xdata(), lines["depth"].get_ydata()
    i = len(x) // 3
    assert y[i] == pytest.approx(3.0 * meanfield.depth_scales("tanh", x[i], 0.05)["xi_c"], rel=1e-9)
    mesh = fig.axes[0].collections[0]
    assert mesh.get_array().size == 4 * 3


def test_the_diagram_over_sigma_b2_draws_the_critical_line():
    pytest.importorskip("matplotlib")
    from initcore.app.plots import plot_sweep

    fig = plot_sweep(_diagram_data([1.0, 2.0, 3.0], [0.0, 0.1, 0.2], y="sigma_b2"), statistic="accuracy",
                     y="sigma_b2")
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("critical")]
    b2 = line.get_ydata()[50]
    assert line.get_xdata()[50] == pytest.approx(float(meanfield.critical_line("tanh", b2)), rel=1e-9)
    assert any(ln.get_label().startswith("c xi_c = L = 20") for ln in fig.axes[0].get_lines())


def test_one_diagram_refuses_two_activations_or_two_bias_variances():
    pytest.importorskip("matplotlib")
    from initcore.app.plots import plot_sweep

    data = _diagram_data([1.0, 2.0], [10, 20])
    data["activation"][0] = "relu"
    with pytest.raises(ValueError, match="one activation"):
        plot_sweep(data, statistic="accuracy")
    with pytest.raises(ValueError, match="one sigma_b2"):
        plot_sweep(_diagram_data([1.0, 2.0], [0.0, 0.1], y="sigma_b2"), statistic="accuracy", y="depth")


# --- the command line ------------------------------------------------------

def test_the_command_runs_resumes_and_plots(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    args = ["sweep", "--sigma-w2", "0.5:2.5:1", "--depth", "3,6", "--width", "8", "--batch", "8",
            "--sigma-b2", "0.05", "--workers", "1", "--out", str(tmp_path / "out")]
    done = run_cli(*args, "--plot", str(tmp_path / "diagram.png"))
    assert done.returncode == 0, done.stderr
    assert "6 points" in done.stdout and "6 run, 0 already done" in done.stdout
    assert (tmp_path / "diagram.png").stat().st_size > 0
    again = run_cli(*args, "--csv")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.strip().splitlines()
    assert len(lines) == 7 and "layer_q" not in lines[0] and "grad_ratio" in lines[0]


@pytest.mark.parametrize("args, words", [
    (["--sigma-w2", "1,", "--depth", "0"], "depth must be at least 1"),
    (["--depth", "4:2:1"], "range"),
    (["--epochs", "3"], "belongs to the task 'train'"),
    (["--stat", "nope"], "--stat 'nope'"),
])
def test_a_bad_command_is_refused_before_anything_runs(run_cli, tmp_path, args, words):
    done = run_cli("sweep", *args, "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and words in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_digits_train_sweep_fits_c_and_prints_the_table(run_cli, tmp_path):
    """The pipeline of the README's reproduction, at a reduced size."""
    pytest.importorskip("sklearn")
    done = run_cli("sweep", "--task", "train", "--dataset", "digits", "--sigma-b2", "0.05", "--sigma-w2", "1,2.5",
                   "--depth", "2,40", "--width", "16", "--epochs", "2", "--lr", "0.05", "--workers", "1",
                   "--threshold", "0.3", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "the rule depth < c xi_c agrees best" in done.stdout
    assert "mean accuracy per (sigma_w2, depth)" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("tanh")]
    assert len(rows) == 2


def test_importing_initcore_and_the_sweep_loads_no_optional_dependency(tmp_path):
    from conftest import subprocess_env

    code = ("import sys, initcore; initcore.sweep; initcore.read_sweep; "
            "print(sorted(m for m in ('pyarrow', 'dask', 'distributed', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
                          cwd=tmp_path, check=True)
    assert done.stdout.strip() == "[]"


# --- crashes -----------------------------------------------------------------

# Points of tens of milliseconds, so that a kill lands while others are in flight.
GRID = {"sigma_w2": [0.8, 1.2, 1.6, 2.0, 2.4], "depth": [40, 80, 120, 160], "width": 32, "batch": 64,
        "sigma_b2": 0.05}
POINTS = 20


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
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
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
    keys = stored_rows(tmp_path)
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
    keys = stored_rows(tmp_path)
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
    done = set(stored_rows(out))
    assert 3 <= len(done) < POINTS
    run = initcore.sweep(out, GRID, backend=backend, workers=workers, compact=False)
    assert (run.ran, run.skipped) == (POINTS - len(done), len(done))
    keys = stored_rows(out)
    assert len(keys) == len(set(keys)) == POINTS
    assert table_bytes(run.table()) == reference


def test_a_critical_init_runs_in_a_sweep_with_the_biases_it_asks_for():
    """'critical:sigma_b2=0.05' failed at every point (the sweep passed bias
    0); now its points draw N(0, 0.05) biases, and a spec that cannot serve a
    point (relu at sigma_b2 > 0, or sigma_b2 unlike the spec's) is one error
    before anything runs."""
    config = sweep_grid.expand({"init": "critical:sigma_b2=0.05", "depth": 3, "width": 8, "batch": 8})[0]
    result = run_point(config)
    net = initcore.MLP([8] * 4, init="critical:sigma_b2=0.05", seed=0)
    assert net.sigma_b2 == [0.05] * 3 and math.isfinite(result["q_last"])
    with pytest.raises(ValueError, match=r"init 'critical:sigma_b2=0.05' with activation 'relu'"):
        sweep_grid.expand({"init": "critical:sigma_b2=0.05", "activation": "relu"})
    with pytest.raises(ValueError, match=r"init 'critical' with activation 'tanh' and sigma_b2=0.1"):
        sweep_grid.expand({"init": "critical", "sigma_b2": 0.1})


def test_an_explicit_none_takes_the_default_and_huge_ranges_are_refused():
    assert sweep_grid.expand({"sigma_w2": None, "depth": 2})[0]["sigma_w2"] == 1.0
    with pytest.raises(ValueError, match=r"the range '1:100000000:1' has 100000000 values; at most 100000 per axis"):
        sweep_grid.parse_axis("depth", "1:100000000:1")


@pytest.mark.parametrize("args, words", [
    (["--stat", "activation"], "not a numeric result of a simulate sweep"),
    (["--stat", "accuracy"], "not a numeric result of a simulate sweep"),
    (["--c", "-1"], "--c must be a positive number, got -1.0"),
    (["--threshold", "nan"], "--threshold must be a finite number, got nan"),
])
def test_bad_statistics_and_constants_are_refused_before_the_sweep(run_cli, tmp_path, args, words):
    done = run_cli("sweep", "--depth", "2", "--width", "4", "--batch", "4", "--out", str(tmp_path / "out"), *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
