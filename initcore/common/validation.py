"""Argument checks shared by every public function.

Each check names the parameter and the bad value, so that no bad input reaches
a kernel.
"""
import math
import numbers
import operator
import reprlib
import sys

import numpy as np

__all__ = ["as_dtype", "as_shape", "choice", "integer", "output", "real", "real_array"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_shape(shape, name="shape"):
    """A tuple of non-negative Python ints from an int or a list, tuple or 1-D
    array of ints."""
    entries = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        entries = tuple(entries)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {shape!r}") from None
    result = []
    for entry in entries:
        if isinstance(entry, (bool, np.bool_)):
            raise TypeError(f"{name} entries must be integers, got {entry!r} in {shape!r}")
        try:
            value = operator.index(entry)
        except TypeError:
            raise TypeError(f"{name} entries must be integers, got {entry!r} in {shape!r}") from None
        if value < 0:
            raise ValueError(f"{name} entries must be non-negative, got {value} in {shape!r}")
        result.append(value)
    if not isinstance(shape, (numbers.Integral, list, tuple, np.ndarray)):
        # other iterables of ints: bytes give their byte values, sets and dicts an arbitrary order
        raise TypeError(f"{name} must be an int or a list, tuple or 1-D array of ints, "
                        f"got {type(shape).__name__} {shape!r}")
    return tuple(result)


def as_dtype(dtype):
    """float32 or float64 in native byte order, as a numpy dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if resolved.newbyteorder("=") not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved.name}")
    if not resolved.isnative:
        # its name is still float32 or float64: say what differs
        order = "big-endian" if resolved.byteorder == ">" else "little-endian"
        raise TypeError(f"dtype {resolved.str!r} has non-native ({order}) byte order; "
                        f"use native {resolved.name}")
    return resolved


def output(shape, dtype, out, also=()):
    """A new C-contiguous array, or `out` after checking it can take the
    result: its dtype is `dtype` or one of `also`."""
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > sys.maxsize:
        raise ValueError(f"shape {shape} needs {nbytes} bytes, more than this platform can address")
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if isinstance(out, np.matrix):
        # a matrix stays 2-D under reshape(-1), so no kernel accepts it
        raise TypeError("out must be a numpy.ndarray, not a numpy.matrix; pass numpy.asarray(out)")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype != dtype and out.dtype not in also:
        expected = " or ".join(f"{d.name} ({d.str})" for d in (dtype, *also))
        raise TypeError(f"out has dtype {out.dtype.name} ({out.dtype.str}), expected {expected}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out


def real(name, value, *, low=None, low_open=False, allow_inf=False):
    """`value` as a float, finite unless allow_inf, and >= low (> low if low_open)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if math.isnan(result) or (math.isinf(result) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {result}")
    if low is not None and (result < low or (low_open and result == low)):
        relation = "greater than" if low_open else "at least"
        raise ValueError(f"{name} must be {relation} {low}, got {result}")
    return result


def integer(name, value, *, low=None):
    """`value` as a Python int >= low."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    result = int(value)
    if low is not None and result < low:
        raise ValueError(f"{name} must be at least {low}, got {result}")
    return result


def choice(name, value, choices):
    """`value` lower-cased, if it is one of `choices`."""
    key = value.lower() if isinstance(value, str) else value
    if key not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
    return key


def real_array(what, x, kinds="biuf"):
    """`x` as a NumPy array of real numbers, checked before any float cast
    (which would drop an imaginary part or turn None into NaN).

    Parameters
    ----------
    what : str
        How errors name `x`.
    x : array_like
    kinds : str
        The dtype kinds accepted: bool, int and float by default.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        For a ragged nesting (rows of different lengths).
    TypeError
        For a dtype of another kind: complex, object, text.
    """
    try:
        array = np.asarray(x)
    except ValueError:  # NumPy's "inhomogeneous shape"
        raise ValueError(f"{what} must be a rectangular array: its rows have different lengths") from None
    if array.dtype.kind not in kinds:
        raise TypeError(f"{what} must be real numbers, got dtype {array.dtype}: {reprlib.repr(x)}")
    return array
