"""Working buffers kept from one simulation for the next.

A fresh buffer costs more than its size suggests: the operating system maps
and zeroes every page of it on first touch, and a deep simulation stores one
(batch, width) buffer per layer. Measured on a depth-50, width-1024 forward
and backward simulation, taking them fresh each call made it 3-11% slower
than reusing them. So `simulate` returns its buffers here when it finishes,
and the next call of the same shapes takes them back, as BLAS and cuDNN keep
their workspaces. At most `LIMIT` bytes are kept (the most recently returned
buffers); `initcore.free_workspace()` frees them.
"""
import threading

import numpy as np

__all__ = ["free_workspace"]

# Bytes kept between calls, and the smallest buffer worth keeping (smaller
# ones come from the allocator's own free lists, with no page faults).
LIMIT = 512 << 20
SMALLEST = 256 << 10

_lock = threading.Lock()
_kept = []  # oldest first


def take(shape, dtype):
    """An uninitialized array of this shape and dtype, kept or new."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    with _lock:
        for i in range(len(_kept) - 1, -1, -1):
            if _kept[i].shape == shape and _kept[i].dtype == dtype:
                return _kept.pop(i)
    return np.empty(shape, dtype)


def give(arrays):
    """Keeps `arrays` (which nothing else may use any more) for later calls,
    dropping the oldest kept ones beyond LIMIT bytes."""
    with _lock:
        _kept.extend(a for a in arrays if a.nbytes >= SMALLEST and a.base is None)
        total = sum(a.nbytes for a in _kept)
        while total > LIMIT:
            total -= _kept.pop(0).nbytes


def free_workspace():
    """Free the working buffers that `initcore.simulate` keeps for its next call.

    A simulation keeps up to 512 MiB of its (batch, width) buffers when it
    returns, so that the next simulation of the same shapes does not have the
    operating system map and zero fresh pages for every layer. Call this to
    give that memory back.

    Examples
    --------
    >>> import initcore
    >>> initcore.free_workspace()
    """
    with _lock:
        _kept.clear()
