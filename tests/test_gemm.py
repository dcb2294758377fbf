"""initcore's own GEMM (src/gemm.h), on which every layer kernel and the
orthogonal initializer run.

- Exact where the arithmetic is exact (small integers), so every element of
  every operand layout lands in the right place.
- Within the error bound of its blocked summation elsewhere, against a
  float64 (or extended-precision) reference.
- The same bits for any thread count and for every micro-kernel (AVX-512,
  AVX2, portable C): each output is the same chain of fused multiply-adds
  whichever kernel computes it. The kernels are compared in fresh processes
  through INITCORE_GEMM_KERNEL, on products and on whole runs of simulate,
  train, jacobian_spectrum and orthogonal.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import initcore
from initcore.networks import _layers
from initcore.networks.activations import ACTIVATIONS

KC = 256  # the K-block of gemm.h
THREADS = (1, 2, 3, 5, 8, 16)
# (m, k, n): ones, sizes below, at and above the micro-tile (12 x 32 or 12 x
# 16) and the K-block, primes
SHAPES = [(1, 1, 1), (1, 7, 1), (13, 1, 33), (12, 256, 32), (25, 257, 17), (97, 601, 103), (3, 1030, 65)]


def layouts(a, b):
    """(name, a, b) for each of the four layouts: row-major, or the
    transpose of a row-major array."""
    at, bt = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    return [("NN", a, b), ("TN", at, b), ("NT", a, bt), ("TT", at, bt)]


def product(a, b, nthreads=0):
    out = np.full((a.shape[0], b.shape[1]), np.nan, a.dtype)
    _layers.matmul(a, b, out, nthreads)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", SHAPES)
def test_integer_products_are_exact_in_every_layout(m, k, n, dtype):
    """Entries in [-8, 8]: every partial sum is an integer below 2**24, so
    any misplaced, missed or repeated term shows."""
    rng = np.random.default_rng(m * 1000 + k)
    a = rng.integers(-8, 9, (m, k)).astype(dtype)
    b = rng.integers(-8, 9, (k, n)).astype(dtype)
    exact = a.astype(np.int64) @ b.astype(np.int64)
    for name, x, y in layouts(a, b):
        got = product(x, y)
        assert np.array_equal(got, exact), f"{name} {m}x{k}x{n}: {np.sum(got != exact)} wrong entries"


def gamma(n, u):
    return n * u / (1 - n * u)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 255, 256, 257, 3000])
def test_rounding_error_is_within_the_blocked_bound(k, dtype):
    """|C - AB| <= gamma_n sum |a||b| with n = min(k, KC) + ceil(k / KC)
    (Higham 2002, Lemma 3.1, for a sum of blocks each summed in turn), the
    bound of K-blocked summation; one chain over all k would need n = k.
    Reference: float64 for float32 inputs (exact products), numpy.longdouble
    for float64 (64-bit significand where the platform has it; its own error
    is taken off the margin)."""
    rng = np.random.default_rng(k)
    a = rng.standard_normal((40, k)).astype(dtype)
    b = rng.standard_normal((k, 50)).astype(dtype)
    wide = np.float64 if dtype == np.float32 else np.longdouble
    ref = a.astype(wide) @ b.astype(wide)
    scale = np.abs(a).astype(wide) @ np.abs(b).astype(wide)
    u = np.finfo(dtype).eps / 2
    n = min(k, KC) + math.ceil(k / KC)
    ref_err = gamma(k, np.finfo(wide).eps / 2)
    for name, x, y in layouts(a, b):
        err = np.abs(product(x, y).astype(wide) - ref)
        assert np.all(err <= (gamma(n, u) + ref_err) * scale), f"{name}: error beyond the blocked bound"


@pytest.mark.threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_products_are_identical_at_every_thread_count(dtype):
    """Work split over the threads in tiles that follow the thread count:
    the bits must not."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((389, 1031)).astype(dtype)
    b = rng.standard_normal((1031, 263)).astype(dtype)
    for name, x, y in layouts(a, b):
        first = product(x, y, 1)
        for t in THREADS[1:]:
            assert np.array_equal(product(x, y, t), first), f"{name} differs at {t} threads"


def test_the_layer_kernels_use_the_same_product():
    """A linear layer without bias is the product itself, bit for bit; with a
    bias, the product plus the bias; backward's dX and dW are dZ W^T and
    X^T dZ."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((131, 77)).astype(np.float32)
    w = rng.standard_normal((77, 45)).astype(np.float32)
    bias = rng.standard_normal(45).astype(np.float32)
    act = ACTIVATIONS["linear"].id
    a = np.empty((131, 45), np.float32)
    _layers.forward(x, w, None, None, a, act, 0.0)
    assert np.array_equal(a, product(x, w))
    _layers.forward(x, w, bias, None, a, act, 0.0)
    assert np.array_equal(a, product(x, w) + bias)
    grad = rng.standard_normal((131, 45)).astype(np.float32)
    dz = grad.copy()
    z = rng.standard_normal((131, 45)).astype(np.float32)
    dx, dw = np.empty_like(x), np.empty_like(w)
    _layers.backward(x, w, z, dz, dx, dw, None, act, 0.0)
    assert np.array_equal(dw, product(x.T, grad))
    assert np.array_equal(dx, product(grad, w.T))


def test_matmul_refuses_operands_without_a_unit_stride_and_wrong_shapes():
    a = np.ones((6, 8), np.float32)
    with pytest.raises(ValueError, match="needs one unit stride"):
        product(a[:, ::2], np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"matmul shapes \(6, 8\) @ \(5, 3\)"):
        product(a, np.ones((5, 3), np.float32))


def test_the_kernel_in_use_is_named():
    assert _layers.gemm_kernel() in ("avx512", "avx2", "portable")


# Runs in a fresh process under INITCORE_GEMM_KERNEL: digests of products in
# every layout and of whole runs, and the kernel that ran.
RUNS = r"""
import hashlib, json, sys
import numpy as np
import initcore
from initcore.networks import _layers

def digest(*arrays):
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

out = {"kernel": _layers.gemm_kernel()}
rng = np.random.default_rng(0)
for dtype in (np.float32, np.float64):
    a = rng.standard_normal((97, 601)).astype(dtype)
    b = rng.standard_normal((601, 45)).astype(dtype)
    at, bt = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    for name, x, y in (("NN", a, b), ("TN", at, b), ("NT", a, bt), ("TT", at, bt)):
        c = np.empty((97, 45), dtype)
        _layers.matmul(x, y, c)
        out[f"matmul {name} {np.dtype(dtype).name}"] = digest(c)
    net = initcore.MLP([61, 130, 67, 5], activation=["tanh", "relu", "sigmoid"], seed=3, dtype=dtype,
                       bias=("normal", {"std": 0.1}))
    result = initcore.simulate(net, batch=203, seed=4, units=True)
    out[f"simulate {np.dtype(dtype).name}"] = json.dumps(result.to_dict(), sort_keys=True,
                                                         default=lambda v: np.asarray(v).tolist())
    out[f"orthogonal {np.dtype(dtype).name}"] = digest(initcore.orthogonal((300, 170), seed=5, dtype=dtype))
X, y = initcore.datasets.moons(300, seed=0)
net = initcore.MLP([2, 40, 40, 1], activation=["tanh", "tanh", "sigmoid"], seed=1)
initcore.train(net, X, y, epochs=2, seed=2, optimizer="adam")
out["train"] = digest(*net.weights, *net.biases)
jnet = initcore.MLP([50, 70, 30], activation="tanh", seed=7)
out["jacobian_spectrum"] = digest(*initcore.jacobian_spectrum(jnet, np.linspace(-1, 1, 50), jacobian=True))
json.dump(out, sys.stdout)
"""


def run_with_kernel(kernel):
    from conftest import subprocess_env

    env = subprocess_env()
    env.pop("INITCORE_GEMM_KERNEL", None)  # None: the CPU's own kernel, whatever this process runs
    if kernel:
        env["INITCORE_GEMM_KERNEL"] = kernel
    done = subprocess.run([sys.executable, "-c", RUNS], env=env, capture_output=True, text=True, timeout=600,
                          cwd=os.path.dirname(__file__))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.threads
def test_every_micro_kernel_gives_the_same_bits():
    """The CPU's own kernel against AVX2 and portable C (each where it can
    run; a kernel is only ever lowered, never raised beyond the CPU)."""
    native = run_with_kernel(None)
    order = ["portable", "avx2", "avx512"]
    for kernel in ("avx2", "portable"):
        got = run_with_kernel(kernel)
        expected = kernel if order.index(kernel) <= order.index(native["kernel"]) else native["kernel"]
        assert got.pop("kernel") == expected
        differ = [what for what in got if got[what] != native[what]]
        assert not differ, f"the {expected} kernel differs from {native['kernel']} in {differ}"
