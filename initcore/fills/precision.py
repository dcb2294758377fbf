"""The element types a fill can produce: float32 and float64 natively, and the
half-precision formats float16 and bfloat16 as rounded float32 draws.

A half-precision fill draws exactly the float32 values of the same call and
rounds each to nearest even (after clamping it into the initializer's bounds,
so that rounding never leaves them). Its result is an array of
``numpy.float16``, of ``ml_dtypes.bfloat16`` (an optional dependency), or,
given as ``out``, an ``int16``/``uint16`` array that takes the bit patterns.
"""
import importlib
import math

import numpy as np

from . import _random
from ..common.validation import FLOAT_DTYPES, as_dtype

__all__ = ["Precision", "as_precision"]

_NAMES = "float16, bfloat16, float32 or float64"


class Precision:
    """One element type: its name, the array dtype of results, the dtype the
    kernels compute in (`work`) and, for the half formats, the kernel format
    code (`half`, else None)."""

    def __init__(self, name, storage, work, half):
        self.name = name
        self.storage = storage
        self.work = work
        self.half = half

    @property
    def max(self):
        """The largest finite value."""
        if self.half is None:
            return float(np.finfo(self.work).max)
        return self.value(0x7BFF if self.name == "float16" else 0x7F7F)

    def bits(self, x):
        """Bit pattern of x rounded to this half format (through float32)."""
        out = np.empty(1, np.uint16)
        _random.round_half(np.array([x], np.float32), out, self.half)
        return int(out[0])

    def value(self, bits):
        """The value of a half-format bit pattern, as a float."""
        if self.name == "float16":
            return float(np.array([bits], np.uint16).view(np.float16)[0])
        return float(np.array([bits << 16], np.uint32).view(np.float32)[0])

    def round(self, x):
        """x rounded to nearest in this type (half formats through float32)."""
        if self.half is None:
            return float(self.work.type(x))
        return self.value(self.bits(x))

    def step(self, x, up):
        """The neighbour of representable x, above it if `up`, else below."""
        if self.half is None:
            return float(np.nextafter(self.work.type(x), self.work.type(math.inf if up else -math.inf)))
        bits = self.bits(x)
        negative, magnitude = bits & 0x8000, bits & 0x7FFF
        if magnitude == 0:
            return self.value(0x0001 if up else 0x8001)
        return self.value(bits + 1 if up != bool(negative) else bits - 1)

    def inward(self, a, b):
        """[a, b] with each bound moved inward onto a representable value;
        ValueError if none lies in between."""
        lo, hi = self.round(a), self.round(b)
        if lo < a:
            lo = self.step(lo, up=True)
        if hi > b:
            hi = self.step(hi, up=False)
        if not lo <= hi:
            raise ValueError(f"no {self.name} value lies in [a, b] = [{a!r}, {b!r}]; use a wider type")
        return lo, hi

    def no_array_type(self):
        """The error for a new bfloat16 array without ml_dtypes."""
        return ImportError("bfloat16 arrays need the ml_dtypes package (pip install ml_dtypes, or "
                           "initcore[bfloat16]); or pass out= an int16/uint16 array to receive the "
                           "bit patterns")

    def kernel_view(self, arr):
        """The flat array the kernels write: the bit patterns for half formats."""
        flat = arr.reshape(-1)
        return flat if self.half is None else flat.view(np.uint16)

    def __repr__(self):
        return self.name


def _bfloat16():
    try:
        return np.dtype(importlib.import_module("ml_dtypes").bfloat16)
    except ImportError:
        return None


def as_precision(dtype):
    """The Precision for `dtype`: numpy.float32 or float64, numpy.float16, and
    bfloat16 as ``"bfloat16"`` or ``ml_dtypes.bfloat16``."""
    if isinstance(dtype, str) and dtype.lower() == "bfloat16":
        return Precision("bfloat16", _bfloat16(), np.dtype(np.float32), _random.HALF_FORMATS["bfloat16"])
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be {_NAMES}, got {dtype!r}") from None
    if resolved.name == "bfloat16":
        return Precision("bfloat16", resolved, np.dtype(np.float32), _random.HALF_FORMATS["bfloat16"])
    if resolved == np.float16:
        return Precision("float16", resolved, np.dtype(np.float32), _random.HALF_FORMATS["float16"])
    if resolved.newbyteorder("=") not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be {_NAMES}, got {resolved.name}")
    resolved = as_dtype(resolved)
    return Precision(resolved.name, resolved, resolved, None)
