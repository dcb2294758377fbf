"""Plain distribution fills into a preallocated array, against numpy and torch.

Every impl writes into the same pre-filled (page-faulted) output, so the time
is the generator and the memory writes, never first-touch page faults.
``ndarray_fill`` (``out.fill(0.5)``) is the memory-bandwidth floor.
"""
from functools import partial

import numpy as np

import initcore

from ._peers import torch_or_skip


class Fill:
    params = (
        ["uniform", "normal", "trunc_normal"],
        [10**6, 10**8],
        ["float32", "float64"],
        ["initcore", "numpy", "torch", "ndarray_fill"],
    )
    param_names = ["dist", "size", "dtype", "impl"]
    # torch.nn.init.trunc_normal_ takes ~10-20 s per call at 10**8.
    timeout = 300

    def setup(self, dist, size, dtype, impl):
        dtype = np.dtype(dtype)
        self.out = np.full(size, 0.5, dtype=dtype)
        if impl == "initcore":
            self.run = partial(getattr(initcore, dist), self.out.shape, seed=0, dtype=dtype, out=self.out)
        elif impl == "numpy":
            rng = np.random.default_rng(0)
            # numpy has no truncated normal that writes into out= (scipy's is far slower)
            draw = {"uniform": rng.random, "normal": rng.standard_normal}.get(dist)
            if draw is None:
                raise NotImplementedError(f"numpy has no {dist} fill")
            self.run = partial(draw, dtype=dtype, out=self.out)
        elif impl == "torch":
            torch = torch_or_skip()
            t = torch.from_numpy(self.out)
            self.run = {
                "uniform": t.uniform_,
                "normal": t.normal_,
                "trunc_normal": partial(torch.nn.init.trunc_normal_, t),  # N(0, 1) on [-2, 2], as initcore
            }[dist]
        elif impl == "ndarray_fill":
            if dist != "uniform":
                raise NotImplementedError("memory-bandwidth reference is listed once, under uniform")
            self.run = partial(self.out.fill, 0.5)
        else:
            raise NotImplementedError(impl)

    def time_fill(self, dist, size, dtype, impl):
        self.run()


class ShardFill:
    """One eighth of an 8192 x 8192 weight by ``index=`` (a tensor-parallel
    rank's rows or columns) against drawing the whole weight."""

    params = (["normal", "trunc_normal", "uniform"], ["whole", "rows_1_8", "columns_1_8"])
    param_names = ["dist", "part"]
    SIDE = 8192

    def setup(self, dist, part):
        side = self.SIDE
        index = {"whole": None, "rows_1_8": (slice(3 * side // 8, 4 * side // 8),),
                 "columns_1_8": (slice(None), slice(3 * side // 8, 4 * side // 8))}[part]
        shape = (side // 8, side) if part == "rows_1_8" else (side, side // 8) if part == "columns_1_8" else (side, side)
        self.out = np.full(shape, 0.5, np.float32)
        self.run = partial(getattr(initcore, dist), (side, side), seed=0, out=self.out, index=index)

    def time_shard(self, dist, part):
        self.run()


class HalfFill:
    """float16 and bfloat16 fills, against torch's in the same dtype (torch
    draws in float32 and rounds, as initcore does)."""

    params = (["normal", "trunc_normal"], [10**7], ["float16", "bfloat16"], ["initcore", "torch"])
    param_names = ["dist", "size", "dtype", "impl"]
    timeout = 300

    def setup(self, dist, size, dtype, impl):
        bits = np.zeros(size, np.int16)
        if impl == "initcore":
            self.run = partial(getattr(initcore, dist), size, seed=0, dtype=dtype, out=bits)
            return
        torch = torch_or_skip()
        t = torch.zeros(size, dtype=getattr(torch, dtype))
        self.run = t.normal_ if dist == "normal" else partial(torch.nn.init.trunc_normal_, t)

    def time_half(self, dist, size, dtype, impl):
        self.run()
