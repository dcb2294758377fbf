"""initcore's initializers for JAX: factories with the signatures of
``jax.nn.initializers``, whose ``init(key, shape, dtype)`` draws on initcore's
kernels.

Each ``init`` turns the JAX key's words into the seed of an initcore stream
(``numpy.random.SeedSequence(words)``), so the same key gives the same bits
on every machine and thread count, and runs on the host through
``jax.pure_callback``: it works eagerly and under ``jax.jit``. The
distributions are JAX's: ``glorot_normal`` and ``he_normal`` are truncated
normals of the stated variance, ``uniform(scale)`` is U[0, scale).

Requires jax (``pip install jax``); ``import initcore`` never imports it.

Examples
--------
>>> import jax
>>> from initcore import jax as icj
>>> w = icj.he_normal()(jax.random.key(0), (784, 256))
"""
try:
    import jax
    import jax.numpy as jnp
except ImportError as exc:  # pragma: no cover - exercised without jax
    raise ImportError("initcore.jax needs JAX: pip install jax") from exc
import numpy as np

from .common.validation import as_shape, real
from .fills import initializers as _init
from .fills.precision import as_precision

__all__ = ["constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal", "ones", "orthogonal",
           "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros"]


def _seed(words):
    """A SeedSequence from a JAX key's words."""
    return np.random.SeedSequence([int(w) for w in np.asarray(words, np.uint64).ravel()])


def _key_words(key):
    """The uint32 words of a typed key (jax.random.key) or a raw one (PRNGKey)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def _initializer(name, params, default_dtype):
    """init(key, shape, dtype) running initcore's `name` with `params` on the host."""
    _init.expected_moments(name, (4, 4, 4), **params)  # bad parameters fail here, not at the first call

    def init(key, shape, dtype=default_dtype):
        shape = as_shape(shape)
        dtype = jax.dtypes.canonicalize_dtype(jnp.float32 if dtype is None else dtype)
        as_precision(dtype)
        _init.expected_moments(name, shape, **params)  # a bad shape fails here, not inside the callback

        def draw(words):
            return _init.initialize(name, shape, seed=_seed(words), dtype=dtype, **params)

        return jax.pure_callback(draw, jax.ShapeDtypeStruct(shape, dtype), _key_words(key))

    return init


def _axes(in_axis, out_axis, batch_axis):
    """initcore reads shapes as (*receptive field, in, out): JAX's default axes only."""
    for name, value, default in (("in_axis", in_axis, (-2,)), ("out_axis", out_axis, (-1,)),
                                 ("batch_axis", batch_axis, ())):
        if (tuple(value) if isinstance(value, (tuple, list)) else (value,)) != default:
            raise ValueError(f"{name}={value!r} is not supported: initcore.jax reads shapes as (*receptive "
                             "field, in, out), JAX's default axes (in_axis=-2, out_axis=-1, batch_axis=())")


def zeros(key, shape, dtype=None):
    """All zeros, as ``jax.nn.initializers.zeros``."""
    return jnp.zeros(shape, jnp.float32 if dtype is None else dtype)


def ones(key, shape, dtype=None):
    """All ones, as ``jax.nn.initializers.ones``."""
    return jnp.ones(shape, jnp.float32 if dtype is None else dtype)


def constant(value, dtype=None):
    """Every entry `value`."""
    return _initializer("constant", {"value": real("value", value)}, dtype)


def uniform(scale=1e-2, dtype=None):
    """U[0, scale), as ``jax.nn.initializers.uniform``."""
    scale = real("scale", scale, low=0.0, low_open=True)
    return _initializer("uniform", {"low": 0.0, "high": scale}, dtype)


def normal(stddev=1e-2, dtype=None):
    """N(0, stddev^2)."""
    return _initializer("normal", {"std": real("stddev", stddev, low=0.0)}, dtype)


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """stddev times N(0, 1) truncated to [lower, upper], as JAX's."""
    stddev = real("stddev", stddev, low=0.0, low_open=True)
    lower, upper = real("lower", lower), real("upper", upper)
    return _initializer("trunc_normal", {"std": stddev, "a": lower * stddev, "b": upper * stddev}, dtype)


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Variance scale / fan, as ``jax.nn.initializers.variance_scaling``
    (see `initcore.variance_scaling`)."""
    _axes(in_axis, out_axis, batch_axis)
    return _initializer("variance_scaling", {"scale": scale, "mode": mode, "distribution": distribution}, dtype)


def _family(scale, mode, distribution, doc):
    def factory(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype)

    factory.__doc__ = doc
    return factory


glorot_uniform = xavier_uniform = _family(1.0, "fan_avg", "uniform", "Glorot uniform: variance 1 / fan_avg.")
glorot_normal = xavier_normal = _family(1.0, "fan_avg", "truncated_normal",
                                        "Glorot normal as JAX's: truncated normal of variance 1 / fan_avg.")
he_uniform = kaiming_uniform = _family(2.0, "fan_in", "uniform", "He uniform: variance 2 / fan_in.")
he_normal = kaiming_normal = _family(2.0, "fan_in", "truncated_normal",
                                     "He normal as JAX's: truncated normal of variance 2 / fan_in.")
lecun_uniform = _family(1.0, "fan_in", "uniform", "LeCun uniform: variance 1 / fan_in.")
lecun_normal = _family(1.0, "fan_in", "truncated_normal", "LeCun normal: truncated normal of variance 1 / fan_in.")


def _column_axis(column_axis):
    if column_axis != -1:
        raise ValueError(f"column_axis={column_axis!r} is not supported: initcore.jax reads shapes as "
                         "(..., columns) (column_axis=-1, JAX's default)")


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """scale times a Haar orthogonal matrix of shape (prod(shape[:-1]), shape[-1])."""
    _column_axis(column_axis)
    return _initializer("orthogonal", {"gain": scale}, dtype)


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """Delta-orthogonal convolution kernel (*kernel, in, out) (Xiao et al. 2018)."""
    _column_axis(column_axis)
    return _initializer("delta_orthogonal", {"gain": scale}, dtype)
