"""Shards: ``index=`` gives exactly ``f(shape, seed)[index]``, bit for bit,
for every initializer, dtype, box and thread count."""
import math
import zlib

import numpy as np
import pytest

import initcore

NAMES = initcore.list_initializers()
DTYPES = [np.float32, np.float64, np.float16]
# shapes whose boxes cross the kernels' chunks: 32768 elements (uniform and
# normal), 4096 (truncated normal) and Philox blocks of 256 or 320 values
SHAPES = {"identity": (301, 211), "eye": (301, 211), "sparse": (611, 173),
          "dirac": (12, 9, 5, 7), "delta_orthogonal": (12, 9, 5, 7),
          "orthogonal": (97, 61, 3)}
BIG = (131, 127, 11)


def shape_of(name):
    return SHAPES.get(name, BIG)


def boxes(shape, rng, count):
    """Random boxes (some empty, some single rows), ints that drop an axis,
    an ellipsis, and the rows and columns shards of tensor parallelism."""
    out = [(slice(None),), (slice(1, None),), (Ellipsis, slice(2, 5)), (3,), (slice(0, 0),),
           (slice(None), slice(shape[1] // 2, None)), (slice(shape[0] // 4, shape[0] // 2),)]
    for _ in range(count):
        box = []
        for n in shape:
            if rng.random() < 0.15:
                box.append(int(rng.integers(-n, n)))
            else:
                i, j = sorted(int(v) for v in rng.integers(0, n + 1, 2))
                box.append(slice(i, j))
        out.append(tuple(box))
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_a_shard_is_exactly_the_whole_array_there(name, dtype, init_info):
    """25 boxes per initializer and dtype, each against the whole array drawn
    with the same seed: same shape, same bits."""
    shape = shape_of(name)
    params = init_info.required.get(name, {})
    whole = initcore.initialize(name, shape, seed=7, dtype=dtype, **params)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for index in boxes(shape, rng, 18):
        part = initcore.initialize(name, shape, seed=7, dtype=dtype, index=index, **params)
        expected = whole[index]
        assert part.shape == expected.shape and part.dtype == expected.dtype, index
        assert np.array_equal(part.reshape(-1).view(np.uint8), np.ascontiguousarray(expected).reshape(-1).view(np.uint8)), index


@pytest.mark.parametrize("name", ["uniform", "normal", "trunc_normal", "sparse", "kaiming_normal"])
def test_shards_tile_the_whole_array(name, init_info, threads):
    """The 8 row shards and the 8 column shards of a tensor-parallel split,
    each drawn at 1 and 3 threads, put back together, are the whole array."""
    shape = (4000, 777)  # shards above PARALLEL_MIN: drawn by several threads
    params = init_info.required.get(name, {})
    whole = initcore.initialize(name, shape, seed=5, **params)
    for axis in (0, 1):
        cuts = np.linspace(0, shape[axis], 9).astype(int)
        for n in (1, 3):
            threads(n)
            parts = [initcore.initialize(name, shape, seed=5, **params,
                                         index=(slice(None),) * axis + (slice(int(a), int(b)),))
                     for a, b in zip(cuts[:-1], cuts[1:])]
            assert np.array_equal(np.concatenate(parts, axis=axis), whole), (axis, n)


def test_out_takes_the_shard_shape_and_a_generator_replays():
    """out= has the shard's shape; a Generator at the same state gives the
    same shard as the int seed's stream does at that position."""
    shape = (64, 48)
    out = np.empty((16, 48), np.float32)
    got = initcore.normal(shape, seed=1, index=(slice(16, 32),), out=out)
    assert got is out and np.array_equal(out, initcore.normal(shape, seed=1)[16:32])
    with pytest.raises(ValueError, match=r"out has shape \(64, 48\), expected \(16, 48\)"):
        initcore.normal(shape, seed=1, index=(slice(16, 32),), out=np.empty(shape, np.float32))
    a, b = initcore.Generator(9), initcore.Generator(9)
    assert np.array_equal(a.xavier_uniform(shape, index=(slice(None), slice(5, 9))),
                          b.xavier_uniform(shape)[:, 5:9])


@pytest.mark.parametrize("index, error, match", [
    ((slice(0, 10, 2),), ValueError, r"index\[0\] = slice\(0, 10, 2\) has step 2"),
    ((1.5,), TypeError, r"index\[0\] must be a slice or an int, got 1.5"),
    ((np.array([1, 2]),), TypeError, r"index\[0\] must be a slice or an int"),
    ((None,), TypeError, r"index\[0\] must be a slice or an int, got None"),
    ((True,), TypeError, r"index\[0\] must be a slice or an int, got True"),
    ((0, 0, 0), IndexError, r"has 3 entries for a 2-D shape \(8, 6\)"),
    ((8,), IndexError, r"index\[0\] = 8 is out of bounds for axis 0 of size 8"),
    ((slice(None), -7), IndexError, r"index\[1\] = -7 is out of bounds for axis 1 of size 6"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
])
def test_bad_index_is_refused_by_name(index, error, match):
    with pytest.raises(error, match=match):
        initcore.normal((8, 6), seed=0, index=index)


def test_a_box_merges_whole_axes_into_one_run():
    """The kernels walk a shard as runs of contiguous stream elements: a box
    of whole rows is one run, a column box one run per row, and an axis
    taken at one position only moves the start."""
    from initcore.fills.shards import Shard

    assert Shard((8, 6, 5), (slice(2, 4),)).box() == (60, (60,), (1,))
    assert Shard((8, 6, 5), (slice(None), slice(1, 3))).box() == (5, (8, 10), (30, 1))
    assert Shard((8, 6, 5), (slice(None), 2, slice(1, 4))).box() == (11, (8, 3), (30, 1))
    assert Shard((8, 6, 5), (slice(None), slice(None), 4)).box() == (4, (48, 1), (5, 1))
    assert Shard((8, 6, 5), None).box() is None
    shard = Shard((8, 6, 5), (1, slice(None), 2))
    assert shard.result_shape == (6,) and shard.counts == (1, 6, 1)
    assert math.prod(shard.counts) == shard.size
