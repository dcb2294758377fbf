"""The whole simulation with all statistics: initcore.simulate against the GEMM
floor, plain NumPy and torch; and its peak memory at two depths.

Depth 50, batch 1024, tanh, Xavier-normal weights, float32. Every peer records
per layer what bench_layers' peers record (the statistics of z and a, the
64-bin histogram of a, per-unit mean and variance; backward: dZ's moments and
histogram, |dX|^2, |dW|^2, |db|^2, |W|^2). initcore also hashes each unit and
sets mean-field theory beside every record, which the peers do not do.

The GEMM floor is the bare products the simulation cannot avoid, made with
numpy.matmul into out= (BLAS on the benchmark's threads): one per layer
forward, and backward dW for every layer and dX for every layer but the first
(no one needs the gradient of the input; simulate, the NumPy peer and torch
autograd skip it), so 50 and 50 + 99 products.

The timed classes' second parameter, `threads`, is the thread count of
initcore, BLAS and torch alike (see `_peers.Threads`), so each ratio to the
floor compares like with like.
"""
import os
import subprocess
import sys

import numpy as np

import initcore

from ._peers import THREADS, Threads, torch_or_skip
from .bench_layers import numpy_backward, numpy_forward, torch_forward_stats, torch_gradient_stats, torch_norms

DEPTH = 50
BATCH = 1024
WIDTHS = [256, 512, 1024, 2048]


def network(width, depth=DEPTH):
    return initcore.MLP([width] * (depth + 1), activation="tanh", init="xavier_normal", seed=0)


def inputs(width, batch=BATCH, seed=1):
    """A standard normal input (q0 = 1, as simulate's default) and output cotangent."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, width), dtype=np.float32),
            rng.standard_normal((batch, width), dtype=np.float32))


def run_simulate(net, backward, batch=BATCH):
    return initcore.simulate(net, batch=batch, seed=1, backward=backward, progress=False)


# --- GEMM floor -------------------------------------------------------------

class GemmFloor:
    """The simulation's products alone, into buffers of the right shapes."""

    def __init__(self, weights, batch=BATCH):
        wide = max(max(w.shape) for w in weights)
        rng = np.random.default_rng(2)
        self.weights, self.batch = weights, batch
        self.x = np.tanh(rng.standard_normal(batch * wide, dtype=np.float32))
        self.dz = rng.standard_normal(batch * wide, dtype=np.float32)
        self.out = np.empty(batch * wide, np.float32)
        self.dw = np.empty(max(w.size for w in weights), np.float32)

    def _view(self, flat, n):
        return flat[: self.batch * n].reshape(self.batch, n)

    def forward(self):
        for w in self.weights:
            n_in, n_out = w.shape
            np.matmul(self._view(self.x, n_in), w, out=self._view(self.out, n_out))

    def backward(self):
        for index, w in enumerate(self.weights):
            n_in, n_out = w.shape
            dz = self._view(self.dz, n_out)
            if index:
                np.matmul(dz, w.T, out=self._view(self.out, n_in))
            np.matmul(self._view(self.x, n_in).T, dz, out=self.dw[: w.size].reshape(n_in, n_out))

    def full(self):
        self.forward()
        self.backward()


# --- NumPy ------------------------------------------------------------------

def numpy_simulate(weights, biases, x, g=None):
    """The same per-layer statistics in plain NumPy; backward from the output
    cotangent g when given (keeping every layer's a: tanh' = 1 - a^2)."""
    batch, wide = x.shape[0], max(w.shape[1] for w in weights)
    scratch = [np.empty(batch * wide, np.float32) for _ in range(3)]

    def view(flat, n):
        return flat[: batch * n].reshape(batch, n)

    records, kept = [], [x]
    a_in = x
    for index, (w, b) in enumerate(zip(weights, biases)):
        n = w.shape[1]
        z = view(scratch[2], n)
        a = np.empty((batch, n), np.float32) if g is not None else view(scratch[index % 2], n)
        records.append({"forward": numpy_forward(a_in, w, b, z, a)})
        kept.append(a)
        a_in = a
    if g is None:
        return records
    dz = scratch[2]
    dw = np.empty(max(w.size for w in weights), np.float32)
    db = np.empty(wide, np.float32)
    grad = g
    for index in range(len(weights) - 1, -1, -1):
        w = weights[index]
        n_in, n_out = w.shape
        dx = None if index == 0 else view(scratch[index % 2], n_in)
        records[index]["backward"] = numpy_backward(kept[index], w, kept[index + 1], grad, view(dz, n_out), dx,
                                                    dw[: w.size].reshape(n_in, n_out), db[:n_out])
        grad = dx
    return records


# --- torch ------------------------------------------------------------------

class TorchNet:
    """The network as torch.nn.Sequential((Linear, Tanh) * depth) sharing
    initcore's weights, with hooks that record the same statistics: a forward
    hook on each Tanh (z in, a out) and, when autograd is on, tensor hooks
    registered there on z (dZ: moments, histogram) and on a (the next
    layer's dX: its norm). |dW|^2, |db|^2 and |W|^2 are taken from the
    parameters after the backward pass."""

    def __init__(self, torch, weights, biases):
        self.torch = torch
        nn = torch.nn
        layers = []
        for w, b in zip(weights, biases):
            linear = nn.utils.skip_init(nn.Linear, *w.shape)
            linear.weight = nn.Parameter(torch.from_numpy(w).T)  # (out, in) view of initcore's (in, out)
            linear.bias = nn.Parameter(torch.from_numpy(b))
            tanh = nn.Tanh()
            tanh.register_forward_hook(self._forward_hook(len(layers) // 2))
            layers += [linear, tanh]
        self.model = nn.Sequential(*layers)
        self.linears = layers[::2]
        self.records = []

    def _forward_hook(self, index):
        torch = self.torch

        def on_dz(dz):
            self.records[index]["dz"] = torch_gradient_stats(torch, dz)

        def on_dx(da):  # this layer's dA is the next layer's dX
            self.records[index + 1]["dx"] = torch_norms(torch, da)[0]

        def hook(module, args, a):
            z = args[0]
            self.records[index]["forward"] = torch_forward_stats(torch, z.detach(), a.detach())
            if z.requires_grad:
                z.register_hook(on_dz)
                if index + 1 < len(self.linears):
                    a.register_hook(on_dx)
        return hook

    def run(self, x, g=None):
        """The records; a backward pass from the output cotangent g when given."""
        torch = self.torch
        self.records = [{} for _ in self.linears]
        if g is None:
            with torch.inference_mode():
                self.model(x)
            return self.records
        for p in self.model.parameters():
            p.grad = None
        self.model(x).backward(g)
        for record, linear in zip(self.records, self.linears):
            record["norms"] = torch_norms(torch, linear.weight.grad, linear.bias.grad, linear.weight.detach())
        return self.records


class _Sizes(Threads):
    """At width 2048 one NumPy full simulation takes about a minute: one call
    per sample, no warm-up, one round, a few samples at most."""

    params = [WIDTHS, THREADS]
    param_names = ["width", "threads"]
    number = 1
    repeat = (1, 5, 60.0)
    rounds = 1
    warmup_time = 0
    timeout = 900


class Simulate(_Sizes):
    """initcore.simulate and its NumPy peer against the GEMM floor."""

    def setup(self, width, threads):
        self.use_threads(threads)
        self.net = network(width)
        self.floor = GemmFloor(self.net.weights)
        self.x, self.g = inputs(width)

    def time_gemm_floor_forward(self, width, threads):
        self.floor.forward()

    def time_gemm_floor_backward(self, width, threads):
        """Forward and backward products: the floor of simulate_full."""
        self.floor.full()

    def time_simulate_forward(self, width, threads):
        run_simulate(self.net, backward=False)

    def time_simulate_full(self, width, threads):
        run_simulate(self.net, backward=True)

    def time_numpy_forward(self, width, threads):
        numpy_simulate(self.net.weights, self.net.biases, self.x)

    def time_numpy_full(self, width, threads):
        numpy_simulate(self.net.weights, self.net.biases, self.x, self.g)


class TorchSimulate(_Sizes):
    """torch (on the `threads` count, as the others) with hooks; the forward
    alone in inference mode."""

    def setup(self, width, threads):
        torch = torch_or_skip()
        self.use_threads(threads)  # after the import: it sets torch's count only when imported
        net = network(width)
        self.torch_net = TorchNet(torch, net.weights, net.biases)
        self.x, self.g = (torch.from_numpy(t) for t in inputs(width))

    def time_torch_forward(self, width, threads):
        self.torch_net.run(self.x)

    def time_torch_full(self, width, threads):
        self.torch_net.run(self.x, self.g)


# --- peak memory ------------------------------------------------------------

PEAK_DEPTHS = [20, 200]
PEAK_WIDTH = 1024

EXTRA_PEAK = """
import gc
import initcore
def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024
# warm-up on a tiny net: imports (mean-field theory, threadpoolctl), thread pools
initcore.simulate(initcore.MLP([64] * 3, seed=0), batch=16, seed=1, backward=False, progress=False)
net = initcore.MLP([{width}] * ({depth} + 1), activation="tanh", init="xavier_normal", seed=0)
gc.collect()
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark to the current RSS
before = status("VmRSS")
sim = initcore.simulate(net, batch={batch}, seed=1, backward=False, units={units}, progress=False)
print(status("VmHWM") - before)
"""


def extra_peak_bytes(depth, width=PEAK_WIDTH, batch=BATCH, units=False):
    """Peak RSS during simulate(backward=False) over the RSS just before it
    (network built, imports done), in a fresh Linux process.

    The network's own weights are left out: at width 1024 they are 4 MiB per
    layer (80 MiB at depth 20, 800 MiB at depth 200) and would dominate
    asv's peakmem_, which is the process's peak RSS. What is left is the
    simulation's own memory: its buffers and the result it returns. With
    `units` the result also keeps every layer's per-unit mean and variance
    (16 KiB per layer at width 1024), which grow with depth. Writing 5 to
    /proc/self/clear_refs resets VmHWM to the current RSS, so VmHWM - VmRSS
    is the rise during the call alone.
    """
    code = EXTRA_PEAK.format(width=width, depth=depth, batch=batch, units=units)
    # run from this folder: '-c' puts the working directory first on sys.path,
    # and the repository root holds the uncompiled initcore source
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout)


class PeakMemory:
    """Process peak RSS of a forward-only simulate, the network included
    (weights built in setup: 4 MiB per layer at width 1024, so this one
    grows with depth whatever simulate does; see ExtraPeakMemory)."""

    params = PEAK_DEPTHS
    param_names = ["depth"]
    timeout = 300

    def setup(self, depth):
        self.net = network(PEAK_WIDTH, depth)

    def peakmem_simulate_forward(self, depth):
        run_simulate(self.net, backward=False)


class ExtraPeakMemory:
    """simulate(backward=False)'s own peak memory, without the network's
    weights (see extra_peak_bytes): the issue's target is depth 200 within
    1.2x of depth 20."""

    params = PEAK_DEPTHS
    param_names = ["depth"]
    unit = "MiB"
    timeout = 300

    def setup(self, depth):
        if not os.path.exists("/proc/self/clear_refs"):
            raise NotImplementedError("needs Linux /proc")

    def track_extra_peak(self, depth):
        return extra_peak_bytes(depth) / 2**20

    def track_ratio_to_depth_20(self, depth):
        return extra_peak_bytes(depth) / extra_peak_bytes(PEAK_DEPTHS[0])

    track_ratio_to_depth_20.unit = "ratio"
