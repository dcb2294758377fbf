"""initcore.torch's drop-in functions against torch.nn.init.

Every statistical test is a two-sample KS test (scipy.stats.ks_2samp, fixture
assert_ks_2samp) of initcore's values against torch.nn.init's for the same
tensor shape, with n = m >= 20000 and a pass at p > 1e-4; both sides are
seeded (initcore's seed=, torch.manual_seed), so the tests are deterministic.
Deterministic functions are compared exactly.
"""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import initcore  # noqa: E402
import initcore.torch as it  # noqa: E402

# shapes of 2 to 5 dimensions, each >= 20000 elements, (out, in, *kernel)
SHAPES = [(200, 120), (40, 30, 20), (16, 32, 6, 7), (16, 16, 5, 5, 4)]
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
TRUNC2_STD = 0.87962566103423978  # std of N(0, 1) on [-2, 2]


def pair(shape, ours, theirs, dtype=torch.float32):
    """(initcore's values, torch's) for one shape, both seeded."""
    mine = ours(torch.empty(shape, dtype=dtype))
    torch.manual_seed(1234)
    ref = theirs(torch.empty(shape, dtype=dtype))
    return mine.double().numpy(), ref.double().numpy()


def kaiming_args(index):
    """Cycle through every nonlinearity, a slope for leaky_relu, and both modes."""
    nonlinearity = NONLINEARITIES[index % len(NONLINEARITIES)]
    return {"a": 0.2 if nonlinearity == "leaky_relu" else 0, "nonlinearity": nonlinearity,
            "mode": ("fan_in", "fan_out")[index % 2]}


@pytest.mark.parametrize("index", range(len(NONLINEARITIES) * 2))
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_matches_torch_for_every_nonlinearity_and_mode(name, index, assert_ks_2samp):
    shape = SHAPES[index % len(SHAPES)]
    kw = kaiming_args(index // 2)
    kw["mode"] = ("fan_in", "fan_out")[index % 2]
    mine, ref = pair(shape, lambda t: getattr(it, name)(t, **kw, seed=index),
                     lambda t: getattr(torch.nn.init, name)(t, **kw))
    assert_ks_2samp(mine, ref, f"{name} {shape} {kw}")


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_"])
def test_xavier_matches_torch_with_every_gain(name, nonlinearity, assert_ks_2samp):
    gain = torch.nn.init.calculate_gain(nonlinearity, 0.2 if nonlinearity == "leaky_relu" else None)
    shape = SHAPES[NONLINEARITIES.index(nonlinearity) % len(SHAPES)]
    mine, ref = pair(shape, lambda t: getattr(it, name)(t, gain, seed=7),
                     lambda t: getattr(torch.nn.init, name)(t, gain))
    assert_ks_2samp(mine, ref, f"{name} {shape} gain {gain}")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, args", [
    ("uniform_", (-0.3, 0.7)), ("normal_", (0.5, 2.0)), ("trunc_normal_", (0.1, 1.5, -1.0, 2.5)),
    ("orthogonal_", (1.3,)),
])
def test_elementwise_and_orthogonal_match_torch(name, args, shape, assert_ks_2samp):
    mine, ref = pair(shape, lambda t: getattr(it, name)(t, *args, seed=3),
                     lambda t: getattr(torch.nn.init, name)(t, *args))
    assert_ks_2samp(mine, ref, f"{name}{args} {shape}")


def test_sparse_matches_torch(assert_ks_2samp):
    """(400, 60): 24000 entries, 30% of each column zero, the rest N(0, 0.05^2)."""
    mine, ref = pair((400, 60), lambda t: it.sparse_(t, 0.3, 0.05, seed=2),
                     lambda t: torch.nn.init.sparse_(t, 0.3, 0.05))
    assert ((mine == 0).sum(axis=0) == (ref == 0).sum(axis=0)).all()
    assert_ks_2samp(mine, ref, "sparse_")


@pytest.mark.parametrize("shape", SHAPES)
def test_lecun_and_variance_scaling_match_their_torch_equivalents(shape, assert_ks_2samp):
    """lecun_uniform = kaiming_uniform(linear); lecun_normal = variance_scaling
    default = trunc_normal of std 1/sqrt(fan_in)/0.8796 cut at two of its stds;
    variance_scaling(2, fan_out, normal) = kaiming_normal(relu, fan_out)."""
    fan_in = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))[0]
    wide = 1 / math.sqrt(fan_in) / TRUNC2_STD
    cases = [
        (it.lecun_uniform_, lambda t: torch.nn.init.kaiming_uniform_(t, nonlinearity="linear")),
        (it.lecun_normal_, lambda t: torch.nn.init.trunc_normal_(t, 0, wide, -2 * wide, 2 * wide)),
        (it.variance_scaling_, lambda t: torch.nn.init.trunc_normal_(t, 0, wide, -2 * wide, 2 * wide)),
        (lambda t, seed: it.variance_scaling_(t, 2.0, "fan_out", "normal", seed=seed),
         lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
    ]
    for k, (ours, theirs) in enumerate(cases):
        mine, ref = pair(shape, lambda t: ours(t, seed=k), theirs)
        assert_ks_2samp(mine, ref, f"case {k} {shape}")


@pytest.mark.parametrize("shape", [(24, 16, 3), (24, 16, 3, 5), (24, 16, 3, 3, 3)])
def test_delta_orthogonal_is_torch_orthogonal_at_the_centre_tap(shape, assert_ks_2samp):
    """Off-centre taps exactly zero; the centre tap's 24x16 entries, 60
    independent draws (23040 values), against torch.nn.init.orthogonal_."""
    centre = (slice(None), slice(None)) + tuple(k // 2 for k in shape[2:])
    mine, ref = [], []
    torch.manual_seed(0)
    for seed in range(60):
        t = it.delta_orthogonal_(torch.empty(shape), 1.5, seed=seed)
        rest = t.clone()
        rest[centre] = 0
        assert not rest.any()
        mine.append(t[centre].numpy().ravel())
        ref.append(torch.nn.init.orthogonal_(torch.empty(shape[:2]), 1.5).numpy().ravel())
    assert_ks_2samp(np.concatenate(mine), np.concatenate(ref), f"delta_orthogonal {shape}")


def test_a_wrong_scale_fails_the_same_check(assert_ks_2samp):
    """The KS check above can fail: kaiming_normal_ with std 10% too large
    (gain 1.1 sqrt(2) instead of sqrt(2)), or the fans swapped, is rejected
    at the same n = 24000 and p > 1e-4."""
    shape = SHAPES[0]
    wrong = [lambda t: it.kaiming_normal_(t, nonlinearity="relu", seed=0).mul_(1.1),
             lambda t: it.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", seed=0)]
    for ours in wrong:
        mine, ref = pair(shape, ours, lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"))
        with pytest.raises(AssertionError, match="two-sample KS rejects"):
            assert_ks_2samp(mine, ref, "wrong scale")


@pytest.mark.parametrize("shape, groups", [((6, 4, 3), 1), ((8, 4, 3, 5), 2), ((6, 3, 3, 3, 4), 3), ((4, 9, 5, 5), 1)])
def test_dirac_is_exactly_torch(shape, groups):
    assert torch.equal(it.dirac_(torch.full(shape, 7.0), groups), torch.nn.init.dirac_(torch.empty(shape), groups))


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (8, 2)])
def test_eye_and_constants_are_exactly_torch(shape):
    assert torch.equal(it.eye_(torch.full(shape, 7.0)), torch.nn.init.eye_(torch.empty(shape)))
    assert torch.equal(it.constant_(torch.empty(shape), 0.3), torch.nn.init.constant_(torch.empty(shape), 0.3))
    assert torch.equal(it.ones_(torch.empty(shape)), torch.nn.init.ones_(torch.empty(shape)))
    assert torch.equal(it.zeros_(torch.full(shape, 7.0)), torch.nn.init.zeros_(torch.empty(shape)))


# --- behaviour ---------------------------------------------------------------


@pytest.mark.parametrize("dtype, np_dtype", [(torch.float32, np.float32), (torch.float64, np.float64)])
def test_contiguous_cpu_is_filled_in_place_with_the_core_values(dtype, np_dtype):
    param = torch.nn.Parameter(torch.empty(64, 32, 3, dtype=dtype))
    address = param.data_ptr()
    result = it.kaiming_normal_(param, nonlinearity="relu", seed=11)
    assert result is param and param.data_ptr() == address and param.requires_grad
    expected = initcore.kaiming_normal((64, 32, 3), 0, "fan_in", "relu", layout="out_in", seed=11, dtype=np_dtype)
    assert np.array_equal(param.detach().numpy(), expected)


def test_non_contiguous_tensor_gets_the_values_of_its_shape():
    base = torch.zeros(40, 30)
    view = base.t()  # (30, 40), not contiguous
    it.normal_(view, 0.0, 2.0, seed=5)
    assert np.array_equal(view.numpy(), initcore.normal((30, 40), 0.0, 2.0, seed=5))


@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("dtype, name", [(torch.float16, "float16"), (torch.bfloat16, "bfloat16")])
def test_half_precision_holds_the_core_half_values(dtype, name, contiguous):
    """Written as bit patterns in place (contiguous) or through a staging
    array (a transposed view): the core's own half-precision values."""
    base = torch.empty(200, 300, dtype=dtype)
    t = base if contiguous else base.t()
    address = t.data_ptr()
    it.xavier_uniform_(t, seed=9)
    bits = initcore.xavier_uniform(tuple(t.shape), layout="out_in", seed=9, dtype=name,
                                   out=np.empty(tuple(t.shape), np.int16))
    assert t.data_ptr() == address and torch.equal(t, torch.from_numpy(bits).view(dtype))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_trunc_normal_stays_inside_bounds(dtype):
    """Bounds that half types cannot hold (0.03 rounds up in bfloat16): no
    value may round outside them (pytorch#145498); 10^6 draws."""
    a, b = -0.03, 0.03
    t = it.trunc_normal_(torch.empty(1000, 1000, dtype=dtype), 0.0, 0.02, a, b, seed=1).double()
    assert t.min() >= a and t.max() <= b


def test_generator_draws_a_key_and_replays():
    g = torch.Generator().manual_seed(3)
    first = it.normal_(torch.empty(50, 40), generator=g).clone()
    second = it.normal_(torch.empty(50, 40), generator=g).clone()
    assert not torch.equal(first, second), "repeated calls must advance the generator"
    g.manual_seed(3)
    assert torch.equal(it.normal_(torch.empty(50, 40), generator=g), first)


def test_global_rng_makes_calls_reproducible():
    torch.manual_seed(21)
    first = it.kaiming_uniform_(torch.empty(50, 40)).clone()
    second = it.kaiming_uniform_(torch.empty(50, 40)).clone()
    torch.manual_seed(21)
    assert torch.equal(it.kaiming_uniform_(torch.empty(50, 40)), first)
    assert not torch.equal(first, second)


def test_constants_leave_torch_rng_alone():
    torch.manual_seed(4)
    state = torch.get_rng_state()
    it.zeros_(torch.empty(3, 3))
    it.constant_(torch.empty(3, 3), 2.0)
    assert torch.equal(torch.get_rng_state(), state)


def test_seed_kinds_give_the_core_stream():
    shape = (30, 20)
    by_int = it.orthogonal_(torch.empty(shape), seed=8)
    by_sequence = it.orthogonal_(torch.empty(shape), seed=np.random.SeedSequence(8))
    by_generator = it.orthogonal_(torch.empty(shape), seed=initcore.Generator(8))
    assert torch.equal(by_int, by_sequence) and torch.equal(by_int, by_generator)
    assert np.array_equal(by_int.numpy(), initcore.orthogonal(shape, layout="out_in", seed=8))


def test_torch_function_overrides_are_honoured():
    calls = []

    class Traced(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func)
            return "handled"

    t = torch.empty(4, 4).as_subclass(Traced)
    assert it.kaiming_uniform_(t, seed=0) == "handled"
    assert it.zeros_(t) == "handled"
    assert calls == [it.kaiming_uniform_, it.zeros_]


def test_rules_are_drop_ins_without_a_tensor():
    rule = it.kaiming_normal_(nonlinearity="relu", mode="fan_out")
    assert isinstance(rule, it.Rule)
    assert repr(rule) == "kaiming_normal_(mode='fan_out', nonlinearity='relu')"  # signature order
    direct = it.kaiming_normal_(torch.empty(20, 10), nonlinearity="relu", mode="fan_out", seed=2)
    assert torch.equal(rule(torch.empty(20, 10), seed=2), direct)


def test_splits_give_each_block_its_own_fans():
    """A fused QKV weight (3 x 256, 64): each (256, 64) block has xavier's
    std sqrt(2 / 320) (not sqrt(2 / (768 + 64))) within 3% (16384 values
    each, std's relative standard error ~0.6%), and the blocks differ."""
    t = it.xavier_normal_(torch.empty(768, 64), splits=3, seed=0)
    blocks = t.view(3, 256, 64)
    for block in blocks:
        assert block.std().item() == pytest.approx(math.sqrt(2 / 320), rel=0.03)
    assert not torch.equal(blocks[0], blocks[1])
    # each block is drawn like an unfused weight of its own shape
    again = it.xavier_normal_(torch.empty(768, 64), splits=3, seed=0)
    assert torch.equal(t, again)


def test_errors_name_the_bad_value(assert_raises):
    assert_raises(TypeError, lambda: it.normal_([1.0, 2.0]), "tensor must be a torch.Tensor", "list")
    assert_raises(TypeError, lambda: it.normal_(0.0, 0.02), "by keyword")
    assert_raises(ValueError, lambda: it.normal_(torch.empty(3, 3, device="meta"), seed=0), "meta",
                  "to_empty(device=...)")
    assert_raises(TypeError, lambda: it.normal_(torch.empty(3, dtype=torch.int64), seed=0), "torch.int64")
    assert_raises(ValueError, lambda: it.kaiming_normal_(torch.empty(3, 3), nonlinearity="tanhh", seed=0),
                  "'tanhh'")
    assert_raises(ValueError, lambda: it.normal_(torch.empty(3), seed=1, generator=torch.Generator()),
                  "seed or generator")
    assert_raises(TypeError, lambda: it.normal_(torch.empty(3), generator=5), "torch.Generator", "int")
    assert_raises(TypeError, lambda: it.normal_(std=0.1, seed=3), "seed=3")
    assert_raises(ValueError, lambda: it.xavier_uniform_(torch.empty(10, 4), splits=3, seed=0), "splits=3",
                  "(10, 4)")
    assert_raises(TypeError, lambda: it.normal_(torch.empty(3), nonsense=1), "normal_()", "nonsense")
