"""The speed and memory ratios the project reports, from the asv workloads.

    python benchmarks/ratios.py [fills|layers|torch|sweep|all] [--repeat N] [--widths 256,1024] [--threads N]
                                [--blocks 24]
    python benchmarks/ratios.py layers [--repeat N] [--widths 256,1024] --threads 1,2,4,8,16
                                       [--depth 50] [--no-numpy]
                                       (from any directory; default: all)

fills: initializers and fills (issue 2); layers: the fused layer kernels and
the whole simulation against the GEMM floor, NumPy and torch (issue 3); torch:
initcore.torch.init_module_ on whole models against torch.nn.init (issue 14,
--blocks 2 for a quick run); sweep: initcore.sweep's parallel speed-up,
Dask's overhead and the cost of resumability (issue 15; needs
initcore[sweep]). With
a list of thread counts, layers prints the simulation's ratios to the GEMM
floor as one table row per thread count and width instead.

Runs the asv classes' own setup/time methods in one process (median of a few
repeats after a warm-up call), so each ratio compares runs made moments apart.
Peak memory runs in a fresh subprocess per impl, from Linux's VmHWM.
"""
import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# The installed package first: the repository root, added below for the
# benchmarks package, also holds the (uncompiled) initcore source folder.
import initcore  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.dirname(HERE))

# Modules, not classes: asv imports this file too and must not find the
# benchmark classes here a second time.
from benchmarks import (  # noqa: E402
    bench_fills, bench_initializers, bench_layers, bench_memory, bench_simulate, bench_sweep, bench_torch,
)
from benchmarks._peers import thread_counts  # noqa: E402

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


def row(what, value, note=""):
    print(f"{what:<58} {value:>10} {note}", flush=True)


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def fills():
    """Issue 2: fills, truncated normal, orthogonal, peak memory of a fill."""
    torch = torch_or_none()
    print(f"\n## fills (issue 2): medians of 5 repeats after one warm-up; float32; N = {N:.0e} unless stated\n")
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

    for dist in ("normal", "trunc_normal"):
        whole = timed(bench_fills.ShardFill, dist, "whole")[0]
        for part in ("rows_1_8", "columns_1_8"):
            ratio = timed(bench_fills.ShardFill, dist, part)[0] / whole
            row(f"{dist} 8192x8192, {part} by index= / whole", f"{ratio:.3f}", f"whole {whole * 1e3:.0f} ms")
    if torch:
        for dist in ("normal", "trunc_normal"):
            half = timed(bench_fills.HalfFill, dist, 10**7, "bfloat16", "initcore")[0]
            peer = timed(bench_fills.HalfFill, dist, 10**7, "bfloat16", "torch", repeat=3)[0]
            row(f"{dist} 1e7 bfloat16: torch / initcore", f"{peer / half:.1f}x", f"initcore {half * 1e3:.1f} ms")

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


# --- issue 3: fused layers and the whole simulation --------------------------

# Sleep before each timed call so that the worker threads of the call before
# have parked: OpenBLAS's idle threads spin for ~0.1 s after a multithreaded
# matmul, and a fused layer started meanwhile ran ~2x slower on this 2-core
# machine. Each impl is then timed as if run on its own, as asv does.
SETTLE = 0.15


def interleaved(funcs, repeat, settle=SETTLE):
    """{name: median seconds} of each callable, after one warm-up call each,
    timed in turns (A, B, C, A, B, C, ...) so that a slow spell of a shared
    machine hits every impl alike."""
    for func in funcs.values():
        func()
    times = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            time.sleep(settle)
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def instance(cls, *params):
    bench = cls()
    bench.setup(*params)
    return bench


def simulate_times(width, repeat, torch, depth=bench_simulate.DEPTH, numpy=True):
    """{"floor forward": median seconds, ...} of the simulation at one width
    and depth: floor, initcore, numpy (unless told not to) and torch (if
    given), forward and full, on the threads as the caller set them."""
    bs = bench_simulate
    net = bs.network(width, depth)
    floor = bs.GemmFloor(net.weights)
    x, g = bs.inputs(width)
    funcs = {
        "floor forward": floor.forward,
        "initcore forward": lambda: bs.run_simulate(net, backward=False),
        "floor full": floor.full,
        "initcore full": lambda: bs.run_simulate(net, backward=True),
    }
    if numpy:
        funcs["numpy forward"] = lambda: bs.numpy_simulate(net.weights, net.biases, x)
        funcs["numpy full"] = lambda: bs.numpy_simulate(net.weights, net.biases, x, g)
    if torch:
        torch_net = bs.TorchNet(torch, net.weights, net.biases)
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        funcs["torch forward"] = lambda: torch_net.run(tx)
        funcs["torch full"] = lambda: torch_net.run(tx, tg)
    return interleaved(funcs, repeat)


def layers(repeat=5, widths=bench_simulate.WIDTHS):
    """Issue 3: one fused layer against sgemm; the simulation against the GEMM floor."""
    from threadpoolctl import threadpool_limits

    from initcore.networks import _layers
    from initcore.activations import get_activation

    torch = torch_or_none()
    print(f"\n## layers (issue 3): batch {bench_layers.BATCH}, tanh, float32, all statistics; medians of "
          f"{repeat} interleaved repeats after one warm-up each\n")
    print(f"{'ratio':<58} {'value':>10} note")
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; a shared machine "
          "slows multithreaded runs most)")

    width = 1024
    params = (width, None)  # threads: as main set them
    lay = instance(bench_layers.Layer, *params)
    tl = instance(bench_layers.TorchLayer, *params) if torch else None
    linear = get_activation("linear")[0].id

    def fused_linear():
        _layers.forward(lay.x, lay.w, lay.b, None, lay.out, linear, 0.0)

    def sgemm_one_thread():
        with threadpool_limits(1, "blas"):
            lay.time_sgemm(*params)

    funcs = {
        "sgemm": lambda: lay.time_sgemm(*params),
        "fused": lambda: lay.time_fused_forward(*params),
        "numpy": lambda: lay.time_numpy_forward(*params),
        # where the fused layer's time goes
        "no stats": lambda: bench_layers.fused_forward(lay.x, lay.w, lay.b, lay.out, stats=False),
        "linear": fused_linear,
        "sgemm 1": sgemm_one_thread,
    }
    if tl:
        funcs["torch"] = lambda: tl.time_torch_forward(*params)
    t = interleaved(funcs, repeat)
    what = f"layer {width}x{width}"
    row(f"{what}: fused forward / sgemm", f"{t['fused'] / t['sgemm']:.2f}x",
        f"target <= 1.15; sgemm {t['sgemm'] * 1e3:.1f} ms, fused {t['fused'] * 1e3:.1f} ms")
    row(f"{what}: numpy forward / sgemm", f"{t['numpy'] / t['sgemm']:.2f}x", "issue: ~2.6x")
    if tl:
        row(f"{what}: torch forward / sgemm", f"{t['torch'] / t['sgemm']:.2f}x", "issue: ~2.1x")
    row(f"{what}: fused forward, no statistics / sgemm", f"{t['no stats'] / t['sgemm']:.2f}x", "tanh, no stats")
    row(f"{what}: fused linear, no statistics / sgemm", f"{t['linear'] / t['sgemm']:.2f}x",
        "GEMM in fixed tiles + bias")
    row(f"{what}: sgemm on one BLAS thread / sgemm", f"{t['sgemm 1'] / t['sgemm']:.2f}x")

    def fused_backward_bare(act):
        np.copyto(lay.grad, lay.da)
        _layers.backward(lay.x, lay.w, lay.z, lay.grad, lay.dx, lay.dw, lay.db, act, 0.0)

    funcs = {
        "floor": lambda: lay.time_sgemm_backward_floor(*params),
        "fused": lambda: lay.time_fused_backward(*params),
        "numpy": lambda: lay.time_numpy_backward(*params),
        "no stats": lambda: fused_backward_bare(bench_layers.TANH.id),
        "linear": lambda: fused_backward_bare(linear),
    }
    if tl:
        funcs["torch"] = lambda: tl.time_torch_backward(*params)
    t = interleaved(funcs, repeat)
    row(f"{what}: fused backward / floor (dX, dW)", f"{t['fused'] / t['floor']:.2f}x",
        f"floor {t['floor'] * 1e3:.1f} ms, fused {t['fused'] * 1e3:.1f} ms (+ a dA copy)")
    row(f"{what}: numpy backward / floor", f"{t['numpy'] / t['floor']:.2f}x")
    if tl:
        row(f"{what}: torch backward / floor", f"{t['torch'] / t['floor']:.2f}x")
    row(f"{what}: fused backward, no statistics / floor", f"{t['no stats'] / t['floor']:.2f}x",
        "tanh' from z, db, dX, dW")
    row(f"{what}: fused backward, linear, no stats / floor", f"{t['linear'] / t['floor']:.2f}x",
        "GEMMs in fixed tiles + db")
    del lay, tl

    depth = bench_simulate.DEPTH
    sweep = {}
    for width in sorted(widths, key=lambda n: n != 1024):  # the headline first
        sweep[width] = t = simulate_times(width, repeat, torch)
        if width != 1024:
            continue
        for mode, target in (("forward", "issue: numpy ~1.9x, torch ~1.5x"), ("full", "")):
            floor = t[f"floor {mode}"]
            row(f"simulate {mode}, depth {depth}, width {width}: initcore / floor",
                f"{t[f'initcore {mode}'] / floor:.2f}x",
                f"target <= 1.15; floor {floor:.2f} s, initcore {t[f'initcore {mode}']:.2f} s")
            for peer in ("numpy", "torch") if torch else ("numpy",):
                row(f"simulate {mode}, depth {depth}, width {width}: {peer} / floor",
                    f"{t[f'{peer} {mode}'] / floor:.2f}x", target if peer == "numpy" else "")

    peers = ["initcore", "numpy"] + (["torch"] if torch else [])
    print(f"\nwidth sweep, depth {depth}: seconds (ratio to the GEMM floor); target: initcore fastest at every width")
    head = f"{'width':>6} {'mode':<8} {'floor':>7}" + "".join(f" {p:>17}" for p in peers) + "  fastest"
    print(head)
    for width in sorted(sweep):
        t = sweep[width]
        for mode in ("forward", "full"):
            floor = t[f"floor {mode}"]
            cells = "".join(f" {t[f'{p} {mode}']:>8.2f} ({t[f'{p} {mode}'] / floor:4.2f}x)" for p in peers)
            fastest = min(peers, key=lambda p: t[f"{p} {mode}"])
            print(f"{width:>6} {mode:<8} {floor:>7.2f}{cells}  {fastest}", flush=True)

    print(f"(load average at end: {os.getloadavg()[0]:.1f})\n")
    try:
        low, high = bench_simulate.PEAK_DEPTHS
        what = f"peak memory, simulate forward, width {bench_simulate.PEAK_WIDTH}"
        for units in (False, True):
            peak_low, peak_high = (bench_simulate.extra_peak_bytes(d, units=units) for d in (low, high))
            row(f"{what}{', units=True' if units else ''}: depth {high} / {low}", f"{peak_high / peak_low:.2f}",
                ("target <= 1.2; " if not units else "the result keeps per-unit arrays; ")
                + f"+{peak_low / 2**20:.1f} MiB and +{peak_high / 2**20:.1f} MiB over the network's own weights")
    except (subprocess.CalledProcessError, ValueError) as exc:
        row("peak memory", "n/a", f"needs Linux /proc ({exc})")


def layers_by_threads(threads, repeat=5, widths=bench_simulate.WIDTHS, depth=bench_simulate.DEPTH, numpy=True):
    """Issue 3 per thread count: the simulation's ratios to the GEMM floor,
    one row per thread count and width, every impl and the floor on that
    many threads."""
    torch = torch_or_none()
    peers = ["initcore"] + (["numpy"] if numpy else []) + (["torch"] if torch else [])
    print(f"\n## simulate by threads: depth {depth}, batch {bench_simulate.BATCH}, tanh, float32, "
          f"all statistics; initcore, BLAS and torch on the row's threads; medians of {repeat} interleaved "
          "repeats after one warm-up each")
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; more threads than CPUs "
          "run oversubscribed)")
    print("each ratio: an impl's time / the GEMM floor's, both on the row's threads\n")
    names = f"{'floor ms':>9}" + "".join(f" {p:>8}" for p in peers)
    print(f"{'':14} | {'forward':<{len(names)}} | forward + backward")
    print(f"{'threads':>7} {'width':>6} | {names} | {names}")
    for n in threads:
        with thread_counts(n):
            for width in widths:
                t = simulate_times(width, repeat, torch, depth, numpy)
                cells = []
                for mode in ("forward", "full"):
                    floor = t[f"floor {mode}"]
                    cells.append(f"{floor * 1e3:>9.1f}" + "".join(f" {t[f'{p} {mode}'] / floor:>7.2f}x"
                                                                   for p in peers))
                print(f"{n:>7} {width:>6} | {cells[0]} | {cells[1]}", flush=True)
    print(f"(load average at end: {os.getloadavg()[0]:.1f})\n")


def torch_models(blocks, repeat=3):
    """Issue 14: init_module_ on whole models against torch.nn.init."""
    if torch_or_none() is None:
        print("\n## torch (issue 14): torch not installed, skipped")
        return
    d_model = bench_torch.InitModule.params[1][0]
    print(f"\n## torch (issue 14): medians of {repeat} repeats after one warm-up; CPU, pre-filled models\n")
    print(f"{'ratio':<58} {'value':>10} note")
    for preset, peer in (("gpt2", "torch.nn.init"), ("torch", "reset_parameters")):
        mine, bench = timed(bench_torch.InitModule, blocks, d_model, preset, "initcore", repeat=repeat)
        size = sum(p.numel() for p in bench.model.parameters())
        del bench
        theirs = timed(bench_torch.InitModule, blocks, d_model, preset, "torch", repeat=repeat)[0]
        row(f"init_module_ {preset}, {blocks}x{d_model}: {peer} / initcore", f"{theirs / mine:.2f}x",
            f"target >= 5; {blocks} blocks, {size / 1e9:.2f} B float32, initcore {mine:.2f} s, torch {theirs:.2f} s")
    mine, bench = timed(bench_torch.TruncNormalBFloat16, "initcore", repeat=repeat)
    outside = {"initcore": bench.track_outside_bounds("initcore")}
    size = sum(p.numel() for p in bench.model.parameters())
    del bench
    theirs, bench = timed(bench_torch.TruncNormalBFloat16, "torch", repeat=1)
    outside["torch"] = bench.track_outside_bounds("torch")
    del bench
    row(f"trunc_normal_ bfloat16, GPT-2 small: torch / initcore", f"{theirs / mine:.1f}x",
        f"target >= 10; {size / 1e6:.0f} M, initcore {mine:.2f} s, torch {theirs:.2f} s (1 repeat)")
    for impl, count in outside.items():
        row(f"trunc_normal_ bfloat16, values outside [a, b]: {impl}", f"{count}", "target 0")


# --- issue 15: sweeps --------------------------------------------------------

def sweeps(repeat=3):
    """Issue 15: the 200-point simulate sweep serially, on the local pool and
    on a LocalCluster; the bookkeeping of resuming and storing, per point."""
    bs = bench_sweep
    print(f"\n## sweep (issue 15): {bs.POINTS} simulate points (tanh, width 256, batch 256, depth 10-100), "
          f"{bs.WORKERS} workers; medians of {repeat} interleaved repeats after one warm-up each\n")
    print(f"{'ratio':<58} {'value':>10} note")
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    try:
        benches = {name: instance(bs.SweepSimulate, name) for name in bs.SweepSimulate.params}
    except NotImplementedError as exc:
        row("sweep", "n/a", str(exc))
        return
    try:
        t = interleaved({name: (lambda b=b, name=name: b.time_sweep(name)) for name, b in benches.items()},
                        repeat)
        started = {"dask started": lambda: initcore.sweep(os.path.join(benches["pool"].folder, os.urandom(8).hex()),
                                                          bs.GRID, backend="dask", workers=bs.WORKERS,
                                                          progress=False)}
        t.update(interleaved(started, 1))
    finally:
        for name, b in benches.items():
            b.teardown(name)
    row(f"{bs.POINTS} points: local pool / serial in one process", f"{t['pool'] / t['serial']:.2f}",
        f"target <= 0.6; serial {t['serial']:.2f} s on {initcore.get_num_threads()} threads, pool {t['pool']:.2f} s "
        "(with its start)")
    row(f"{bs.POINTS} points: running LocalCluster / local pool", f"{t['dask'] / t['pool']:.2f}",
        f"target <= 1.15; dask {t['dask']:.2f} s")
    row(f"{bs.POINTS} points: LocalCluster started by the sweep / pool", f"{t['dask started'] / t['pool']:.2f}",
        f"--workers 2 --backend dask, with the cluster's start: {t['dask started']:.2f} s")

    from initcore.sweeps.tasks import run_point

    resume = instance(bs.SweepResume)
    stored = tempfile.mkdtemp(prefix="initcore-bench-store-")
    try:
        points = bs.configs()
        t = interleaved({
            "resume": resume.time_resume,
            "by hand": lambda: [run_point(config) for config in points],
            "stored": lambda: initcore.sweep(os.path.join(stored, os.urandom(8).hex()), bs.GRID, workers=1,
                                             progress=False, compact=False),
        }, repeat)
    finally:
        resume.teardown()
        shutil.rmtree(stored, ignore_errors=True)
    row("resume: bookkeeping per stored point", f"{t['resume'] / bs.POINTS * 1e3:.2f} ms",
        f"target <= 5 ms; rerun of {bs.POINTS} stored points, one file each: {t['resume']:.2f} s")
    row("storage per point, serial sweep - the points by hand", f"{(t['stored'] - t['by hand']) / bs.POINTS * 1e3:.2f} ms",
        f"a durable file per point (one worker); by hand {t['by hand']:.2f} s, sweep {t['stored']:.2f} s")
    print(f"(load average at end: {os.getloadavg()[0]:.1f})\n")


def thread_list(text):
    """--threads: one count, or several comma-separated."""
    try:
        counts = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected counts >= 1, comma-separated; got {text!r}")
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("section", nargs="?", default="all", choices=["fills", "layers", "torch", "sweep", "all"])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repeats of the layers section (>= 1)")
    parser.add_argument("--widths", default=",".join(map(str, bench_simulate.WIDTHS)),
                        help="simulation widths of the layers section, comma-separated")
    parser.add_argument("--depth", type=int, default=bench_simulate.DEPTH,
                        help="simulation depth of the thread table (--threads with several counts)")
    parser.add_argument("--blocks", type=int, default=24,
                        help="transformer blocks (d_model 2048) of the torch section; 2 for a quick run")
    parser.add_argument("--no-numpy", action="store_true",
                        help="leave NumPy out of the thread table (at width 2048 on one thread it takes minutes)")
    parser.add_argument("--threads", type=thread_list, default=None,
                        help="threads of initcore, BLAS and torch alike (default: all); on a busy shared "
                             "machine --threads 1 compares the kernels' own work without waits at barriers. "
                             "Several, comma-separated (layers only): a table of the simulation's ratios "
                             "per thread count and width")
    args = parser.parse_args()
    sweep = args.threads and len(args.threads) > 1
    if sweep and args.section != "layers":
        parser.error("a list of thread counts is for the layers section")
    repeat, widths = max(args.repeat, 1), [int(w) for w in args.widths.split(",")]
    if args.depth < 1:
        parser.error(f"--depth must be at least 1, got {args.depth}")
    if args.blocks < 1:
        parser.error(f"--blocks must be at least 1, got {args.blocks}")
    torch = torch_or_none()  # first: thread_counts sets torch's count only once it is imported
    versions = f"initcore {initcore.__version__}, numpy {np.__version__}"
    if sweep:
        torch_info = f"torch {torch.__version__}" if torch else "torch not installed: torch columns skipped"
        print(f"{versions}, {torch_info}, openmp {initcore.openmp_enabled()}")
        layers_by_threads(args.threads, repeat, widths, args.depth, not args.no_numpy)
        return
    with thread_counts(args.threads[0]) if args.threads else contextlib.nullcontext():
        torch_info = (f"torch {torch.__version__} threads {initcore.get_num_threads()} (set to initcore's)"
                      if torch else "torch not installed: torch rows skipped")
        print(f"{versions}, {torch_info}, initcore threads {initcore.get_num_threads()}, "
              f"openmp {initcore.openmp_enabled()}")
        if args.section in ("fills", "all"):
            fills()
        if args.section in ("layers", "all"):
            layers(repeat, widths)
        if args.section in ("torch", "all"):
            torch_models(args.blocks)
        if args.section in ("sweep", "all"):
            sweeps(min(repeat, 3))


if __name__ == "__main__":
    main()
