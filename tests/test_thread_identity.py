"""The same bits for any thread count: initcore's own threads, BLAS's, and
calls from several Python threads at once.

The layer kernels run on initcore's own GEMM, whose every output is one
fixed chain of fused multiply-adds whatever the tiles (test_gemm.py), and
merge their statistics over a grid of tiles that depends on the shapes
alone, so a result cannot depend on how many threads share the tiles. These
tests compare whole results bit for bit at 1, 2, 3, 5, 8 and 16 threads
(more threads than this machine's cores is fine: the promise is about the
count, not the speed). Shapes are chosen so that every layer runs in
parallel (at least 2**24 multiply-adds) and its grid has remainder tiles in
both directions. `.ci/run` repeats this file under each OpenBLAS kernel that
the installed SciPy accepts (OPENBLAS_CORETYPE): jacobian_spectrum's LAPACK
call is the one place BLAS still computes.
"""
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import initcore
from initcore import MLP, datasets, jacobian_spectrum, simulate, train

pytestmark = pytest.mark.threads

THREADS = (1, 2, 3, 5, 8, 16)

needs_openmp = pytest.mark.skipif(not initcore.openmp_enabled(), reason="built without OpenMP: one thread only")


def text(result):
    """A result as JSON text: equal text means equal bits (floats print
    exactly, -0.0 and NaN included)."""
    return json.dumps(result, sort_keys=True, default=lambda v: np.asarray(v).tolist())


def at_each_thread_count(threads, run):
    """run() at every count of THREADS, as text, in a dict by count."""
    out = {}
    for n in THREADS:
        threads(n)
        assert initcore.get_num_threads() == n
        out[n] = run()
    return out


def assert_all_equal(results, what):
    differ = [n for n, r in results.items() if r != results[1]]
    assert not differ, f"{what} differs from 1 thread at {differ} threads"


def net_odd(dtype="float32"):
    """Prime widths, a batch that is a multiple of nothing: grids of up to
    4 x 2 tiles with remainders in rows and columns, all layers parallel."""
    return MLP([97, 1031, 601, 13], activation=["tanh", "relu", "sigmoid"],
               bias=("normal", {"std": 0.1}), seed=3, dtype=dtype)


@needs_openmp
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_simulate_is_identical_at_every_thread_count(threads, dtype):
    net = net_odd(dtype)
    results = at_each_thread_count(threads, lambda: text(simulate(net, batch=1009, seed=4, units=True).to_dict()))
    assert_all_equal(results, f"simulate ({dtype})")


@needs_openmp
def test_simulate_of_the_issue_report_is_identical_at_every_thread_count(threads):
    """The shape that differed at 5 and 8 threads when each thread made one
    GEMM over its own rows."""
    net = MLP([257, 100, 333, 17], activation="relu", seed=1)
    results = at_each_thread_count(threads, lambda: text(simulate(net, batch=777, seed=2).to_dict()))
    assert_all_equal(results, "simulate")


@needs_openmp
@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_train_is_identical_at_every_thread_count(threads, optimizer, momentum):
    """3 epochs of batches of 300 x 500 x 192 (>= 2**24 multiply-adds, so
    the kernels use their threads): every record but its wall time, and the
    final weights and biases."""
    X, y = datasets.high_dimensional(600, seed=0)

    def run():
        net = MLP([500, 192, 160, 1], activation=["tanh", "tanh", "sigmoid"], seed=5)
        result = train(net, X, y, optimizer=optimizer, momentum=momentum, lr=0.05, epochs=3,
                       batch_size=300, seed=6)
        history = [{k: v for k, v in record.items() if k != "seconds"} for record in result.history]
        return text([history, [w.tobytes().hex() for w in net.weights], [b.tobytes().hex() for b in net.biases]])

    assert_all_equal(at_each_thread_count(threads, run), f"train ({optimizer}, momentum {momentum})")


@needs_openmp
def test_train_of_the_issue_report_is_identical_at_every_thread_count(threads):
    X, y = datasets.moons(400, seed=0)

    def run():
        net = MLP([2, 40, 40, 1], activation=["tanh", "tanh", "sigmoid"], seed=1)
        train(net, X, y, epochs=3, seed=2)
        return text([w.tobytes().hex() for w in net.weights])

    assert_all_equal(at_each_thread_count(threads, run), "train (moons)")


@needs_openmp
def test_jacobian_spectrum_is_identical_at_every_thread_count(threads):
    """The backward kernel with 300 cotangent rows: 300 x 700 x 700 per layer."""
    net = MLP([300, 700, 700, 300], activation="tanh", seed=7)
    x = np.linspace(-1, 1, 300)
    results = at_each_thread_count(threads, lambda: text(jacobian_spectrum(net, x, jacobian=True)))
    assert_all_equal(results, "jacobian_spectrum")


@needs_openmp
@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_mlp_forward_float32_is_identical_at_every_thread_count(threads, activation):
    """MLP.forward differed at 3876 of 65536 outputs between 1 and 2 threads."""
    net = MLP([256, 256], activation=activation, seed=3)
    x = np.random.default_rng(0).normal(size=(256, 256))
    results = at_each_thread_count(threads, lambda: net.forward(x).tobytes())
    assert_all_equal(results, "MLP.forward")


@needs_openmp
@pytest.mark.parametrize("shape, dtype", [((256, 512), np.float32), ((1024, 1025), np.float64)])
def test_orthogonal_is_identical_for_any_initcore_or_blas_thread_count(threads, shape, dtype):
    from threadpoolctl import threadpool_limits

    results = at_each_thread_count(threads, lambda: initcore.orthogonal(shape, seed=98, dtype=dtype).tobytes())
    threads(2)
    for blas in (1, 2, 4):
        with threadpool_limits(blas, user_api="blas"):
            results[f"blas {blas}"] = initcore.orthogonal(shape, seed=98, dtype=dtype).tobytes()
    assert_all_equal(results, f"orthogonal {shape}")


def blas_threads():
    from threadpoolctl import threadpool_info

    return [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


@needs_openmp
def test_calls_from_many_python_threads_give_the_serial_bits_and_leave_blas_as_it_was(threads):
    """8 Python threads, each running simulate and orthogonal 3 times at
    once: every result equals the serial one, and afterwards every BLAS
    library has the thread count it had before (a process-wide limit set and
    restored by overlapping calls used to stay at 1)."""
    threads(2)
    net = MLP([300, 320, 310], activation="tanh", seed=2)
    before = blas_threads()

    def work():
        return (text(simulate(net, batch=260, seed=3).to_dict()),
                initcore.orthogonal((384, 300), seed=5).tobytes())

    serial = work()
    outcomes, errors = [], []

    def worker():
        try:
            for _ in range(3):
                outcomes.append(work())
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    assert len(outcomes) == 24
    assert sum(o[0] != serial[0] for o in outcomes) == 0, "a concurrent simulate differs from the serial one"
    assert sum(o[1] != serial[1] for o in outcomes) == 0, "a concurrent orthogonal differs from the serial one"
    assert blas_threads() == before


def test_thread_counts_beyond_the_bound_are_refused(threads):
    with pytest.raises(ValueError, match="n must be at most 1024 threads, got 100000"):
        initcore.set_num_threads(100000)


@needs_openmp
def test_an_environment_asking_for_100000_threads_runs_at_the_bound():
    """OMP_NUM_THREADS=100000 used to end in SIGSEGV; the kernels start at
    most 1024 threads and give the same bits as one."""
    code = ("import initcore; print(initcore.get_num_threads()); "
            "print(initcore.normal(2**20, seed=1).tobytes().hex()[:64])")
    from conftest import subprocess_env

    runs = {}
    for n in ("100000", "1"):
        done = subprocess.run([sys.executable, "-c", code], env=subprocess_env(OMP_NUM_THREADS=n),
                              capture_output=True, text=True, timeout=120, cwd=os.path.dirname(__file__))
        assert done.returncode == 0, done.stderr
        runs[n] = done.stdout.split()
    assert runs["100000"][0] == "1024"
    assert runs["100000"][1] == runs["1"][1]


@needs_openmp
def test_demo_results_are_identical_at_every_thread_count(tmp_path):
    """`initcore demo --case large` (trains 3 networks for 20 epochs) in a
    fresh process per thread count: results.json byte for byte."""
    from conftest import _cli_command, subprocess_env

    saved = {}
    for n in THREADS:
        out = tmp_path / f"t{n}"
        done = subprocess.run(_cli_command() + ["demo", "--case", "large", "--json", "--quiet", "--out", str(out)],
                              cwd=tmp_path, env=subprocess_env(OMP_NUM_THREADS=str(n)), capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        saved[n] = (out / "results.json").read_bytes()
    assert_all_equal(saved, "the demo's results.json")
