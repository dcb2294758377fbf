"""The speed and memory ratios the project reports, from the asv workloads.

    python benchmarks/ratios.py        (from any directory)

Runs the asv classes' own setup/time methods in one process (median of a few
repeats after a warm-up call), so each ratio compares runs made moments apart.
Peak memory runs in a fresh subprocess per impl, from Linux's VmHWM.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# The installed package first: the repository root, added below for the
# benchmarks package, also holds the (uncompiled) initcore source folder.
import initcore  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.dirname(HERE))

# Modules, not classes: asv imports this file too and must not find the
# benchmark classes here a second time.
from benchmarks import bench_fills, bench_initializers, bench_memory  # noqa: E402

N = 10**8
N_TORCH_TRUNC = 10**7  # torch.nn.init.trunc_normal_ takes ~10 s at 10**8


def timed(cls, *params, repeat=5):
    """(median seconds of cls's time_* method, the benchmark instance)."""
    bench = cls()
    bench.setup(*params)
    (name,) = [m for m in dir(cls) if m.startswith("time_")]
    method = getattr(bench, name)
    method(*params)  # warm-up: thread pools, lazy loading
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        method(*params)
        times.append(time.perf_counter() - start)
    return statistics.median(times), bench


def fill(dist, impl, size=N, repeat=5):
    return timed(bench_fills.Fill, dist, size, "float32", impl, repeat=repeat)[0]


def orthogonality_error(q):
    q = q.astype(np.float64)
    return np.abs(q.T @ q - np.eye(q.shape[1])).max()


PEAK = """
import sys
import initcore
sys.path.append({root!r})
from benchmarks import bench_memory
bench = bench_memory.PeakMemory()
bench.setup({size}, {impl!r})
def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark to the current RSS
before = status("VmRSS")
bench.peakmem_normal_float32({size}, {impl!r})
print(status("VmHWM") - before)
"""


def peak_bytes(impl, size=N):
    """Rise of peak RSS over the RSS just before the call, in a fresh process."""
    code = PEAK.format(root=os.path.dirname(HERE), size=size, impl=impl)
    # run from this folder: '-c' puts the working directory first on sys.path
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                              cwd=HERE).stdout)


def main():
    def row(what, value, note=""):
        print(f"{what:<58} {value:>10} {note}", flush=True)

    try:
        import torch

        torch_info = f"torch {torch.__version__} threads {initcore.get_num_threads()} (set to initcore's)"
    except ImportError:
        torch = None
        torch_info = "torch not installed: torch rows skipped"
    print(f"initcore {initcore.__version__}, numpy {np.__version__}, {torch_info}, "
          f"initcore threads {initcore.get_num_threads()}, openmp {initcore.openmp_enabled()}")
    print(f"medians of 5 repeats after one warm-up; float32; N = {N:.0e} unless stated\n")
    print(f"{'ratio':<58} {'value':>10} note")

    normal = fill("normal", "initcore")
    row("normal N: numpy standard_normal / initcore", f"{fill('normal', 'numpy') / normal:.2f}x",
        f"initcore {normal * 1e3:.0f} ms")
    if torch:
        row("normal N: torch normal_ / initcore", f"{fill('normal', 'torch') / normal:.2f}x")

    uniform = fill("uniform", "initcore")
    row("uniform N: ndarray.fill / initcore (1 = memory-bound)", f"{fill('uniform', 'ndarray_fill') / uniform:.2f}",
        f"initcore {uniform * 1e3:.0f} ms")

    trunc = fill("trunc_normal", "initcore")
    row("trunc_normal N: initcore normal / initcore trunc", f"{normal / trunc:.2f}", f"initcore trunc {trunc * 1e3:.0f} ms")
    if torch:
        small = fill("trunc_normal", "initcore", N_TORCH_TRUNC)
        ratio = fill("trunc_normal", "torch", N_TORCH_TRUNC, repeat=3) / small
        row(f"trunc_normal {N_TORCH_TRUNC:.0e}: torch trunc_normal_ / initcore", f"{ratio:.1f}x", "both at 1e7")

    shape = (2048, 2048)
    ortho, bench = timed(bench_initializers.Initializers, "orthogonal", shape, "float32", "initcore")
    row("orthogonal 2048x2048: initcore max|Q^T Q - I| (float64)", f"{orthogonality_error(bench.out):.1e}",
        f"initcore {ortho * 1e3:.0f} ms")
    if torch:
        torch_ortho, bench = timed(bench_initializers.Initializers, "orthogonal", shape, "float32", "torch")
        row("orthogonal 2048x2048: torch orthogonal_ / initcore", f"{torch_ortho / ortho:.2f}x")
        row("orthogonal 2048x2048: torch max|Q^T Q - I| (float64)", f"{orthogonality_error(bench.out):.1e}")
    del bench

    output = N * np.dtype(np.float32).itemsize
    try:
        for impl in bench_memory.PeakMemory.params[1]:
            peak = peak_bytes(impl)
            row(f"peak memory, new normal N ({impl}) / output bytes", f"{peak / output:.3f}",
                f"+{peak / 2**20:.0f} MiB for {output / 2**20:.0f} MiB")
    except (subprocess.CalledProcessError, ValueError) as exc:
        row("peak memory", "n/a", f"needs Linux /proc ({exc})")


if __name__ == "__main__":
    main()
