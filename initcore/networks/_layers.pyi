from typing import TypeVar

import numpy as np
import numpy.typing as npt

ACTIVATION_COUNT: int
MOMENT_FIELDS: int
_Floats = npt.NDArray[np.float32] | npt.NDArray[np.float64]
# Cython's fused `floating`: every float array of one call has the same dtype.
_F = TypeVar("_F", np.float32, np.float64)

def gemm_kernel() -> str: ...
def matmul(a: npt.NDArray[_F], b: npt.NDArray[_F], out: npt.NDArray[_F], nthreads: int = 0) -> None: ...
def activation(id: int, param: float, z: npt.NDArray[_F], out: npt.NDArray[_F], derivative: bool) -> None: ...
class Stats:
    def __init__(
        self,
        moments: npt.NDArray[np.float64],
        *,
        units: npt.NDArray[np.float64] | None = None,
        unit_hash: npt.NDArray[np.uint64] | None = None,
        unit_summary: npt.NDArray[np.float64] | None = None,
        hist: npt.NDArray[np.int64] | None = None,
        hist_lo: float = 0.0,
        hist_hi: float = 1.0,
        hist_sigmas: float = 0.0,
        hist_range: npt.NDArray[np.float64] | None = None,
        sat_lo: float = ...,
        sat_hi: float = ...,
        sums: npt.NDArray[np.float64] | None = None,
    ) -> None: ...

def forward(
    x: npt.NDArray[_F],
    w: npt.NDArray[_F],
    b: npt.NDArray[_F] | None,
    z: npt.NDArray[_F] | None,
    a: npt.NDArray[_F],
    act_id: int,
    param: float,
    stats: Stats | None = None,
) -> None: ...
def backward(
    x: npt.NDArray[_F],
    w: npt.NDArray[_F],
    z: npt.NDArray[_F],
    grad: npt.NDArray[_F],
    dx: npt.NDArray[_F] | None,
    dw: npt.NDArray[_F],
    db: npt.NDArray[_F] | None,
    act_id: int,
    param: float,
    stats: Stats | None = None,
    *,
    z_is_dphi: bool = False,
    z_below: npt.NDArray[_F] | None = None,
    act_below: int = -1,
    param_below: float = 0.0,
) -> None: ...
def histogram(v: _Floats, lo: float, hi: float, hist: npt.NDArray[np.int64]) -> None: ...
