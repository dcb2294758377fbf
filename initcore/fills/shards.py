"""Shards: a box of a larger array, filled with exactly the values the whole
array has there.

Every stream element belongs to one position of the whole array (C order),
so an element-wise initializer fills a shard by drawing those positions only.
`Shard` turns an ``index=`` (slices with step 1 and ints) into the box the
kernels take.
"""
import math
import numbers

import numpy as np

__all__ = ["Shard"]


def _entry(d, item, size):
    """(start, stop, dropped) of one index entry along an axis of `size`."""
    if isinstance(item, slice):
        start, stop, step = item.indices(size)
        if step != 1:
            raise ValueError(f"index[{d}] = {item!r} has step {step}; shards take slices with step 1")
        return start, max(start, stop), False
    if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
        raise TypeError(f"index[{d}] must be a slice or an int, got {item!r} ({type(item).__name__})")
    i = int(item)
    if not -size <= i < size:
        raise IndexError(f"index[{d}] = {i} is out of bounds for axis {d} of size {size}")
    i %= size
    return i, i + 1, True


class Shard:
    """The box ``index`` of an array of shape `shape` (all of it for None).

    Attributes
    ----------
    shape : tuple of int
        The whole array's shape.
    starts, counts : tuple of int
        Per axis, where the box starts and how long it is.
    result_shape : tuple of int
        ``counts`` without the axes that an int index drops: the shape of
        ``whole[index]``.
    """

    def __init__(self, shape, index=None):
        self.shape = shape
        if index is None:
            entries = [(0, n, False) for n in shape]
        else:
            items = index if isinstance(index, tuple) else (index,)
            ellipses = [i for i, item in enumerate(items) if item is Ellipsis]
            if len(ellipses) > 1:
                raise IndexError("index can only have a single ellipsis ('...')")
            if ellipses:
                at = ellipses[0]
                fill = len(shape) - (len(items) - 1)
                items = items[:at] + (slice(None),) * max(fill, 0) + items[at + 1:]
            if len(items) > len(shape):
                raise IndexError(f"index {index!r} has {len(items)} entries for a {len(shape)}-D shape {shape}")
            items = items + (slice(None),) * (len(shape) - len(items))
            entries = [_entry(d, item, n) for d, (item, n) in enumerate(zip(items, shape))]
        self.starts = tuple(e[0] for e in entries)
        self.counts = tuple(e[1] - e[0] for e in entries)
        self.result_shape = tuple(c for c, e in zip(self.counts, entries) if not e[2])
        self.whole = self.counts == tuple(shape)

    @property
    def size(self):
        return math.prod(self.counts)

    def box(self):
        """The kernels' box: (base, counts, strides) over the fewest axes, or
        None for the whole array."""
        if self.whole:
            return None
        strides = [math.prod(self.shape[d + 1:]) for d in range(len(self.shape))]
        base = sum(s * st for s, st in zip(self.starts, strides))
        # axes of length 1 only move the base; an axis that spans its whole
        # extent merges into the axis before it
        axes = [[c, st] for c, st in zip(self.counts, strides) if c != 1] or [[1, 1]]
        merged = [axes[-1]]
        for count, stride in reversed(axes[:-1]):
            inner = merged[0]
            if inner[0] * inner[1] == stride:
                inner[0] *= count
            else:
                merged.insert(0, [count, stride])
        if merged[-1][1] != 1:  # the innermost axis has length 1 in the box
            merged.append([1, 1])
        return base, tuple(c for c, _ in merged), tuple(st for _, st in merged)

    def points(self, coords):
        """Of the whole array's positions `coords` (one int array per axis),
        which fall in the box, and where in the box (a tuple of arrays)."""
        inside = np.ones(len(coords[0]), bool)
        for c, start, count in zip(coords, self.starts, self.counts):
            inside &= (c >= start) & (c < start + count)
        return inside, tuple(c[inside] - start for c, start in zip(coords, self.starts))
