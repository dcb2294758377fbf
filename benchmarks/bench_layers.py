"""One dense tanh layer with all of simulate's statistics, against bare sgemm,
plain NumPy and torch.

Batch 1024, float32, x @ w with w of (width, width). The statistics are those
`initcore.simulate` records per layer:

* forward: mean, variance (float64), min and max of z and of a = tanh(z);
  saturated (|a| > 0.99) and zero counts; a 64-bin histogram of a over
  [-1, 1]; the mean and variance (float64) of each unit of a over the batch.
  initcore also hashes each unit's values, which the peers do not do.
* backward, from the output cotangent dA: dZ = dA * tanh'(z), db, dX = dZ W^T,
  dW = X^T dZ; mean, variance (float64), min and max of dZ; a 64-bin
  histogram of dZ over mean +- 4 std (a second pass, since the range needs
  the moments: inside the kernel call, as in simulate); |dX|^2, |dW|^2,
  |db|^2 and |W|^2. The peers
  take the norms in float32 (np.vdot / torch.dot), initcore in float64.

``sgemm`` and ``sgemm_backward_floor`` are the bare products (numpy.matmul
into out=, BLAS on the benchmark's threads): the floors the fused kernels are
measured against. initcore's kernels run on its own GEMM (src/gemm.h) and
call no BLAS.
The torch peers are a class of their own so that torch is imported only for
them and skipped where it is not installed.

The second parameter, `threads`, is the thread count of initcore, BLAS and
torch alike (see `_peers.Threads`), so each ratio compares like with like.
"""
import math

import numpy as np

from initcore.networks import _layers
from initcore.activations import get_activation

from ._peers import THREADS, Threads, torch_or_skip

BATCH = 1024
WIDTHS = [256, 512, 1024, 2048]
BINS = 64
TANH = get_activation("tanh")[0]
HIST_RANGE = TANH.bounds                 # (-1, 1): tanh is binned over its whole range
SAT_LO, SAT_HI = TANH.saturation_band()  # (-0.99, 0.99), simulate's default
MOMENT_FIELDS = _layers.MOMENT_FIELDS
HIST_SIGMAS = 4.0                        # gradient histograms span mean +- 4 std, as in simulate


def layer_data(width, batch=BATCH, seed=0):
    """x = tanh of a standard normal (a previous layer's output), Xavier-normal
    w, zero bias, z and a of the layer, and a standard normal cotangent dA."""
    rng = np.random.default_rng(seed)
    x = np.tanh(rng.standard_normal((batch, width), dtype=np.float32))
    w = rng.standard_normal((width, width), dtype=np.float32) * np.float32(1.0 / math.sqrt(width))
    b = np.zeros(width, np.float32)
    z = np.matmul(x, w) + b
    a = np.tanh(z)
    da = rng.standard_normal((batch, width), dtype=np.float32)
    return x, w, b, z, a, da


def gradient_range(mean, std, lo, hi):
    """simulate's histogram range for an unbounded quantity: mean +- 4 std
    within [lo, hi] (the observed min and max), never empty."""
    if not (math.isfinite(mean) and math.isfinite(std)):
        return -1.0, 1.0
    left, right = max(mean - HIST_SIGMAS * std, lo), min(mean + HIST_SIGMAS * std, hi)
    if not right > left:
        half = max(abs(mean) * 1e-6, 1e-30)
        left, right = mean - half, mean + half
    return float(left), float(right)


# --- initcore ---------------------------------------------------------------

def fused_forward(x, w, b, a, z=None, stats=True):
    """One fused layer as simulate(backward=False) runs it (z=None: the
    product is formed in a); returns the raw statistics."""
    n_out = w.shape[1]
    moments, units = np.zeros(2 * MOMENT_FIELDS), np.zeros(2 * n_out)
    unit_hash, hist = np.zeros(n_out, np.uint64), np.zeros(BINS + 2, np.int64)
    if stats:
        _layers.forward(x, w, b, z, a, TANH.id, 0.0,
                        _layers.Stats(moments, units=units, unit_hash=unit_hash, hist=hist, hist_lo=HIST_RANGE[0],
                                      hist_hi=HIST_RANGE[1], sat_lo=SAT_LO, sat_hi=SAT_HI))
    else:
        _layers.forward(x, w, b, z, a, TANH.id, 0.0)
    return moments, units, unit_hash, hist


def fused_backward(x, w, z, grad, dx, dw, db):
    """grad holds dA and becomes dZ."""
    moments, sums, hist = np.zeros(MOMENT_FIELDS), np.zeros(4), np.zeros(BINS + 2, np.int64)
    _layers.backward(x, w, z, grad, dx, dw, db, TANH.id, 0.0,
                     _layers.Stats(moments, hist=hist, hist_sigmas=HIST_SIGMAS, hist_range=np.zeros(2), sums=sums))
    return moments, sums, hist


# --- NumPy ------------------------------------------------------------------

def numpy_forward(x, w, b, z, a):
    np.matmul(x, w, out=z)
    z += b
    np.tanh(z, out=a)
    return numpy_forward_stats(z, a)


def numpy_forward_stats(z, a):
    moments = [(t.mean(dtype=np.float64), t.var(dtype=np.float64), t.min(), t.max()) for t in (z, a)]
    saturated = np.count_nonzero((a < SAT_LO) | (a > SAT_HI))
    zero = np.count_nonzero(a == 0)
    hist = np.histogram(a, bins=BINS, range=HIST_RANGE)[0]
    units = a.mean(axis=0, dtype=np.float64), a.var(axis=0, dtype=np.float64)
    return moments, saturated, zero, hist, units


def numpy_backward(x, w, a, da, dz, dx, dw, db):
    """dZ = dA * (1 - a^2) into dz (dA is kept); dx may be None (first layer)."""
    np.multiply(a, a, out=dz)
    np.subtract(1.0, dz, out=dz)
    dz *= da
    np.sum(dz, axis=0, out=db)
    if dx is not None:
        np.matmul(dz, w.T, out=dx)
    np.matmul(x.T, dz, out=dw)
    return numpy_backward_stats(dz, dx, dw, db, w)


def numpy_backward_stats(dz, dx, dw, db, w):
    mean, var, lo, hi = dz.mean(dtype=np.float64), dz.var(dtype=np.float64), dz.min(), dz.max()
    hist = np.histogram(dz, bins=BINS, range=gradient_range(mean, math.sqrt(var), lo, hi))[0]
    norms = [np.vdot(t, t) if t is not None else None for t in (dx, dw, db, w)]
    return (mean, var, lo, hi), hist, norms


# --- torch ------------------------------------------------------------------

def torch_forward(torch, x, w, b, z, a):
    torch.addmm(b, x, w, out=z)
    torch.tanh(z, out=a)
    return torch_forward_stats(torch, z, a)


def torch_forward_stats(torch, z, a):
    z64, a64 = z.double(), a.double()
    moments = [(*torch.var_mean(t64, correction=0), *torch.aminmax(t)) for t, t64 in ((z, z64), (a, a64))]
    saturated = torch.count_nonzero((a < SAT_LO) | (a > SAT_HI))
    zero = torch.count_nonzero(a == 0)
    hist = torch.histc(a, BINS, *HIST_RANGE)
    units = torch.var_mean(a64, dim=0, correction=0)
    return moments, saturated, zero, hist, units


def torch_backward(torch, x, w, a, da, dz, dx, dw, db):
    """As numpy_backward, with torch ops into preallocated tensors."""
    torch.mul(a, a, out=dz)
    dz.neg_().add_(1.0).mul_(da)
    torch.sum(dz, 0, out=db)
    if dx is not None:
        torch.mm(dz, w.T, out=dx)
    torch.mm(x.T, dz, out=dw)
    return torch_backward_stats(torch, dz, dx, dw, db, w)


def torch_backward_stats(torch, dz, dx, dw, db, w):
    return torch_gradient_stats(torch, dz), torch_norms(torch, dx, dw, db, w)


def torch_gradient_stats(torch, dz):
    """Moments of dZ, then its histogram over mean +- 4 std."""
    var, mean = torch.var_mean(dz.double(), correction=0)
    lo, hi = torch.aminmax(dz)
    left, right = gradient_range(mean.item(), math.sqrt(var.item()), lo.item(), hi.item())
    return (mean, var, lo, hi), torch.histc(dz, BINS, left, right)


def torch_norms(torch, *tensors):
    return [torch.dot(t.reshape(-1), t.reshape(-1)) if t is not None else None for t in tensors]


class Layer(Threads):
    params = [WIDTHS, THREADS]
    param_names = ["width", "threads"]
    timeout = 120

    def setup(self, width, threads):
        self.use_threads(threads)
        self.x, self.w, self.b, self.z, self.a, self.da = layer_data(width)
        self.out, self.zbuf, self.grad, self.dx = (np.empty_like(self.a) for _ in range(4))
        self.dz = self.da * (1 - self.a * self.a)  # the floor's operand: the real dZ
        self.dw, self.db = np.empty_like(self.w), np.empty_like(self.b)

    def time_sgemm(self, width, threads):
        np.matmul(self.x, self.w, out=self.out)

    def time_initcore_gemm(self, width, threads):
        """initcore's own GEMM (src/gemm.h) on the same product, packing included."""
        _layers.matmul(self.x, self.w, self.out)

    def time_fused_forward(self, width, threads):
        fused_forward(self.x, self.w, self.b, self.out)

    def time_numpy_forward(self, width, threads):
        numpy_forward(self.x, self.w, self.b, self.zbuf, self.out)

    def time_sgemm_backward_floor(self, width, threads):
        np.matmul(self.dz, self.w.T, out=self.dx)
        np.matmul(self.x.T, self.dz, out=self.dw)

    def time_fused_backward(self, width, threads):
        # the kernel turns dA into dZ in place: start from dA again (a 4 MiB
        # copy at width 1024, ~2% of the call), else dZ shrinks on every call
        # toward subnormals
        np.copyto(self.grad, self.da)
        fused_backward(self.x, self.w, self.z, self.grad, self.dx, self.dw, self.db)

    def time_numpy_backward(self, width, threads):
        numpy_backward(self.x, self.w, self.a, self.da, self.dz, self.dx, self.dw, self.db)


class TorchLayer(Threads):
    """The torch peers (on the `threads` count, as the others): torch.addmm and
    torch.tanh into preallocated tensors; the backward by hand, as NumPy's."""

    params = [WIDTHS, THREADS]
    param_names = ["width", "threads"]
    timeout = 120

    def setup(self, width, threads):
        torch = self.torch = torch_or_skip()
        self.use_threads(threads)  # after the import: it sets torch's count only when imported
        arrays = layer_data(width)
        self.x, self.w, self.b, self.z, self.a, self.da = (torch.from_numpy(t) for t in arrays)
        self.out, self.zbuf, self.dz, self.dx = (torch.empty_like(self.a) for _ in range(4))
        self.dw, self.db = torch.empty_like(self.w), torch.empty_like(self.b)

    def time_torch_gemm(self, width, threads):
        self.torch.mm(self.x, self.w, out=self.out)

    def time_torch_forward(self, width, threads):
        torch_forward(self.torch, self.x, self.w, self.b, self.zbuf, self.out)

    def time_torch_backward(self, width, threads):
        torch_backward(self.torch, self.x, self.w, self.a, self.da, self.dz, self.dx, self.dw, self.db)
