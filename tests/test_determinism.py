"""Seeds, Generators, threads and out=: the same seed gives the same bits."""
import math
import threading

import numpy as np
import pytest

import initcore

DTYPES = [np.float32, np.float64]
NAMES = initcore.list_initializers()


def _bits(x):
    return np.ascontiguousarray(x).view(np.uint8)


def _same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(_bits(a), _bits(b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bits_for_1_and_2_threads(name, dtype, threads, init_info):
    """Each initializer at > _random.PARALLEL_MIN elements (not a multiple of the 32768,
    4096 or 256 element chunks): 1 thread, 2 threads and 1 thread again give
    identical bits, from an int seed and from a Generator part-way through its
    stream."""
    shape = init_info.big_shapes[name]
    params = init_info.required.get(name, {})
    assert math.prod(shape) > initcore.fills._random.PARALLEL_MIN and math.prod(shape) % 256
    results = []
    for n in (1, 2, 1):
        threads(n)
        gen = initcore.Generator(123)
        gen.normal(5)  # move the stream on
        results.append((initcore.initialize(name, shape, seed=99, dtype=dtype, **params),
                        getattr(gen, name)(shape, dtype=dtype, **params)))
    for seeded, from_gen in results[1:]:
        assert _same_bits(seeded, results[0][0])
        assert _same_bits(from_gen, results[0][1])


@pytest.mark.parametrize("size", [32767, 32768, 32769, 65537, 4096 * 17 + 1, 131071, 200003])
@pytest.mark.parametrize("kernel", ["uniform", "normal", "trunc_normal"])
def test_thread_independence_around_chunk_boundaries(kernel, size, threads):
    for dtype in DTYPES:
        threads(1)
        one = getattr(initcore, kernel)(size, seed=size, dtype=dtype)
        threads(2)
        two = getattr(initcore, kernel)(size, seed=size, dtype=dtype)
        assert _same_bits(one, two), (kernel, size, dtype)


def test_threads_are_really_used_when_openmp_is_on(threads):
    if not initcore.openmp_enabled():
        pytest.skip("built without OpenMP")
    threads(2)
    assert initcore.get_num_threads() == 2
    threads(1)
    assert initcore.get_num_threads() == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_out_gets_exactly_the_new_array(name, dtype, init_info):
    """out= (pre-filled with NaN) receives the values of a new array, and is returned."""
    shape = init_info.big_shapes[name] if name in ("dirac", "delta_orthogonal") else (67, 45)
    params = init_info.required.get(name, {})
    fresh = initcore.initialize(name, shape, seed=8, dtype=dtype, **params)
    out = np.full(shape, np.nan, dtype=dtype)
    result = initcore.initialize(name, shape, seed=8, dtype=dtype, out=out, **params)
    assert result is out
    assert _same_bits(out, fresh)
    # the Generator method too
    out2 = np.full(shape, np.nan, dtype=dtype)
    assert getattr(initcore.Generator(8), name)(shape, dtype=dtype, out=out2, **params) is out2
    assert _same_bits(out2, fresh)


@pytest.mark.parametrize("name", NAMES)
def test_int_seed_equals_generator_first_call(name, init_info):
    shape = (3, 4, 5) if name in ("dirac", "delta_orthogonal") else (20, 30)
    params = init_info.required.get(name, {})
    for seed in (0, 1, 2**32 + 5, 2**70):
        by_int = initcore.initialize(name, shape, seed=seed, **params)
        assert _same_bits(getattr(initcore.Generator(seed), name)(shape, **params), by_int)
        assert _same_bits(initcore.initialize(name, shape, seed=np.random.SeedSequence(seed), **params), by_int)
        assert _same_bits(initcore.initialize(name, shape, seed=np.int64(seed % 2**63), **params),
                          initcore.initialize(name, shape, seed=seed % 2**63, **params))


def test_generator_advances_and_replays(random_initializer, init_info):
    """Consecutive calls on one Generator differ; a new Generator with the same
    seed replays the same sequence; different seeds give different arrays."""
    name = random_initializer
    shape = (3, 8, 8) if name == "delta_orthogonal" else (40, 30)
    params = init_info.required.get(name, {})
    gen = initcore.Generator(2024)
    start = gen.position
    draws = [getattr(gen, name)(shape, **params) for _ in range(4)]
    assert gen.position > start
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(draws[i], draws[j]), (name, i, j)
    replay = initcore.Generator(2024)
    for expected in draws:
        assert _same_bits(getattr(replay, name)(shape, **params), expected)
    assert replay.position == gen.position
    other = getattr(initcore.Generator(2025), name)(shape, **params)
    assert not np.array_equal(other, draws[0])


def test_generator_replays_a_mixed_sequence():
    def run(gen):
        return [
            gen.normal((50, 3)), gen.zeros(4), gen.uniform(100, -1, 2), gen.orthogonal((6, 6)),
            gen.sparse((20, 5), 0.5), gen.trunc_normal(300, 0, 1, 1, 3), gen.kaiming_uniform((9, 8)),
            gen.dirac((3, 4, 4)), gen.delta_orthogonal((3, 5, 5)), gen.normal(7, dtype=np.float64),
        ]

    first, second = run(initcore.Generator(77)), run(initcore.Generator(77))
    for a, b in zip(first, second):
        assert _same_bits(a, b)


def test_unseeded_calls_differ():
    """seed=None draws fresh OS entropy: two unseeded draws of 1000 normals
    coincide with probability ~0."""
    assert not np.array_equal(initcore.normal(1000), initcore.normal(1000))
    assert not np.array_equal(initcore.Generator().normal(1000), initcore.Generator().normal(1000))


def test_spawned_children_are_independent():
    """Two children's 10^6 normals: |Pearson r| < 5 / sqrt(n) (under independence
    r ~ N(0, 1/n), so this is a 5-sigma bound); children differ from the parent
    and from each other, and spawning replays."""
    n = 10**6
    parent = initcore.Generator(5)
    kids = parent.spawn(3)
    assert len(kids) == 3 and all(isinstance(k, initcore.Generator) for k in kids)
    x, y, z = (k.normal(n, dtype=np.float64) for k in kids)
    for a, b in ((x, y), (x, z), (y, z)):
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) < 5 / math.sqrt(n), r
    p = parent.normal(n, dtype=np.float64)
    assert abs(np.corrcoef(p, x)[0, 1]) < 5 / math.sqrt(n)
    # also no lagged overlap between two children's streams
    assert not np.intersect1d(x, y).size
    again = initcore.Generator(5).spawn(3)
    assert _same_bits(again[0].normal(n, dtype=np.float64), x)
    assert initcore.Generator(5).spawn(0) == []


def test_generator_position_counts_calls():
    gen = initcore.Generator(1)
    assert gen.position == 0
    gen.normal(10)
    after_one = gen.position
    assert after_one >= 1
    gen.normal(10**5)
    assert gen.position - after_one == after_one  # each call takes the same number of positions, whatever its size


def test_generator_is_thread_safe():
    """8 Python threads share one Generator: every call gets its own stream
    position, so the 64 arrays are all different and, as a set, equal to 64
    sequential calls on a fresh Generator with the same seed."""
    gen = initcore.Generator(3)
    results = []
    lock = threading.Lock()

    def work():
        for _ in range(8):
            x = gen.normal(1000)
            with lock:
                results.append(x.tobytes())

    workers = [threading.Thread(target=work) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    sequential = initcore.Generator(3)
    expected = {sequential.normal(1000).tobytes() for _ in range(64)}
    assert len(set(results)) == 64
    assert set(results) == expected


def test_threadpoolctl_limits_initcore(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not initcore.openmp_enabled():
        pytest.skip("built without OpenMP: initcore always runs on 1 thread")
    threads(2)
    before = initcore.get_num_threads()
    assert before == 2
    with threadpoolctl.threadpool_limits(limits=1):
        assert initcore.get_num_threads() == 1
        inside = initcore.normal(100_003, seed=4)
    assert initcore.get_num_threads() == before
    assert _same_bits(inside, initcore.normal(100_003, seed=4))


@pytest.mark.parametrize("name", NAMES)
def test_only_random_initializers_depend_on_the_seed(name, init_info):
    """The suite's list of random initializers is right: the output changes
    with the seed exactly for those."""
    shape = (3, 6, 6) if name in ("dirac", "delta_orthogonal") else (30, 20)
    params = init_info.required.get(name, {})
    a = initcore.initialize(name, shape, seed=1, **params)
    b = initcore.initialize(name, shape, seed=2, **params)
    assert (not np.array_equal(a, b)) == (name in init_info.random)
