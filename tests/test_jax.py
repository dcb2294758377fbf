"""initcore.jax: JAX's initializer signatures on initcore's kernels, with
JAX's distributions (two-sample KS tests against jax.nn.initializers)."""
import numpy as np
import pytest
from scipy import stats

jax = pytest.importorskip("jax")
jnp = jax.numpy
icj = pytest.importorskip("initcore.jax")
peer = jax.nn.initializers

SHAPE = (300, 120)  # 36000 draws a side
P_MIN = 1e-4        # fixed keys: each test is deterministic

FACTORIES = [
    ("glorot_uniform", {}), ("glorot_normal", {}), ("he_uniform", {}), ("he_normal", {}),
    ("lecun_uniform", {}), ("lecun_normal", {}), ("uniform", {"scale": 0.3}), ("normal", {"stddev": 0.2}),
    ("truncated_normal", {"stddev": 0.5, "lower": -1.0, "upper": 3.0}),
    ("variance_scaling", {"scale": 0.7, "mode": "fan_geo_avg", "distribution": "uniform"}),
    ("variance_scaling", {"scale": 3.0, "mode": "fan_out", "distribution": "truncated_normal"}),
    ("orthogonal", {"scale": 1.5}),
]


def draw(module, name, params, shape=SHAPE, key=0, dtype=jnp.float32):
    return np.asarray(getattr(module, name)(**params)(jax.random.key(key), shape, dtype), np.float64).ravel()


@pytest.mark.parametrize("name, params", FACTORIES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FACTORIES)])
def test_same_distribution_as_jax(name, params):
    """36000 draws of each against JAX's own: two-sample KS p > 1e-4."""
    ours, theirs = draw(icj, name, params), draw(peer, name, params, key=1)
    assert stats.ks_2samp(ours, theirs).pvalue > P_MIN


def test_the_ks_check_can_fail():
    """The same check tells He from LeCun (a factor sqrt(2) in scale)."""
    assert stats.ks_2samp(draw(icj, "lecun_normal", {}), draw(peer, "he_normal", {}, key=1)).pvalue < 1e-12


def test_uniform_range_and_orthogonality():
    u = draw(icj, "uniform", {"scale": 0.25})
    assert u.min() >= 0.0 and u.max() < 0.25
    q = np.asarray(icj.orthogonal()(jax.random.key(3), (64, 32)), np.float64)
    assert np.abs(q.T @ q - np.eye(32)).max() < 1e-5


def test_delta_orthogonal_has_jax_structure():
    k = np.array(icj.delta_orthogonal()(jax.random.key(0), (3, 3, 8, 16)))
    centre = k[1, 1]
    assert np.abs(centre @ centre.T - np.eye(8)).max() < 1e-5
    k[1, 1] = 0
    assert not k.any()


def test_keys_seed_the_bits_eagerly_and_under_jit():
    init = icj.he_normal()
    a = init(jax.random.key(7), (50, 40))
    assert np.array_equal(a, jax.jit(lambda key: init(key, (50, 40)))(jax.random.key(7)))
    assert np.array_equal(a, init(jax.random.PRNGKey(7), (50, 40)))  # raw key, same words
    assert not np.array_equal(a, init(jax.random.key(8), (50, 40)))


def test_half_precision_follows_the_core():
    w = icj.he_normal()(jax.random.key(0), (64, 64), jnp.bfloat16)
    assert w.dtype == jnp.bfloat16
    single = np.asarray(icj.he_normal()(jax.random.key(0), (64, 64)))
    assert np.array_equal(np.asarray(w), single.astype(jnp.bfloat16))


def test_refusals_name_the_parameter():
    with pytest.raises(ValueError, match="in_axis=0 is not supported"):
        icj.he_normal(in_axis=0)
    with pytest.raises(ValueError, match="column_axis=0"):
        icj.orthogonal(column_axis=0)
    with pytest.raises(ValueError, match="scale must be greater than 0"):
        icj.uniform(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        icj.variance_scaling(1.0, "fan_sideways", "normal")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        icj.orthogonal()(jax.random.key(0), (5,))
    with pytest.raises(TypeError, match="dtype must be"):
        icj.normal()(jax.random.key(0), (5,), jnp.int32)
