"""Every initializer: module-level functions, Generator methods, and lookup by name.

Each initializer validates its arguments here and then makes one call into a
compiled kernel (initcore.fills._random or initcore.fills._orthogonal).
"""
import functools
import inspect
import math

import numpy as np

from . import _random
from .fans import LAYOUTS, calculate_gain, fans
from .generator import Generator, check_seed, stream_for
from .precision import as_precision
from .shards import Shard
from ..common.validation import as_shape, choice, integer, output, real

__all__ = ["expected_moments", "initialize", "list_initializers"]

_REGISTRY = {}
_ALIASES = {}
_MOMENTS = {}

_COMMON = """\
    seed : None, int, numpy.random.SeedSequence or Generator, optional
        Where the random bits come from. The same int seed gives the same bits
        for any number of threads; a Generator advances its stream.
    dtype : {numpy.float32, numpy.float64, numpy.float16, 'bfloat16'}, optional
        Element type of the result (default float32), in native byte order.
        float16 and bfloat16 (``'bfloat16'`` or ``ml_dtypes.bfloat16``) hold
        the float32 values of the same call rounded to nearest even, clamped
        so that rounding never leaves the initializer's bounds. Parameters
        whose values would overflow the type raise ValueError.
    out : numpy.ndarray, optional
        C-contiguous, writeable array of the result's shape and dtype to fill
        instead of allocating; it gets exactly the values a new array would.
        For float16 and bfloat16 an int16 or uint16 array takes the bit
        patterns (as a framework's half tensor viewed as integers). A
        numpy.matrix is refused.
    index : tuple of slices and ints, optional
        A shard: returns exactly ``f(shape, ..., seed=seed)[index]``, bit for
        bit, where `shape` stays the whole array's shape. Slices take step 1.
        Element-wise initializers draw the shard's elements only; see the
        Notes of the others for what a shard costs. With a Generator as seed,
        every shard of one whole array must come from the same stream
        position (a Generator at the same state)."""

_LAYOUT = """\
    layout : {'in_out', 'out_in'}, optional
        How the shape is read (see `fans`): ``'in_out'`` (default) is
        ``(*kernel, in, out)``, ``'out_in'`` is PyTorch's ``(out, in, *kernel)``."""


def _register(*aliases, moments):
    """Add an initializer to the registry; `moments(shape, **params)` gives its
    theoretical per-element (mean, std)."""

    def wrap(func):
        func.__doc__ = func.__doc__.replace("{common}", _COMMON).replace("{layout}", _LAYOUT)
        _REGISTRY[func.__name__] = func
        _MOMENTS[func.__name__] = moments
        for alias in aliases:
            _ALIASES[alias] = func.__name__
        return func

    return wrap


def _canonical(name):
    if not isinstance(name, str):
        raise TypeError(f"initializer name must be a string, got {name!r}")
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ValueError(f"unknown initializer {name!r}; choose one of: {', '.join(list_initializers(aliases=True))}")
    return key


def list_initializers(aliases=False):
    """Names accepted by `initialize`, sorted; with ``aliases=True`` the aliases too."""
    names = list(_REGISTRY) + (list(_ALIASES) if aliases else [])
    return sorted(names)


def initialize(name, shape, *args, **params):
    """Run the initializer called `name` (case-insensitive; aliases accepted).

    Examples
    --------
    >>> w = initialize("glorot_uniform", (784, 256), seed=0)
    >>> w.shape, w.dtype
    ((784, 256), dtype('float32'))
    """
    return _REGISTRY[_canonical(name)](shape, *args, **params)


def expected_moments(name, shape, *args, **params):
    """Theoretical per-element (mean, std) of ``initialize(name, shape, ...)``.

    For deterministic initializers these are the moments of the array's
    entries. Raises like the initializer itself for bad arguments.

    Examples
    --------
    >>> expected_moments("kaiming_normal", (512, 256))
    (0.0, 0.0625)
    """
    name = _canonical(name)
    for key in ("seed", "dtype", "out", "index"):
        params.pop(key, None)
    return _MOMENTS[name](as_shape(shape), *args, **params)


class _Target:
    """Where a call's values go: the element type, and the box of the whole
    array `shape` that the result holds."""

    def __init__(self, shape, dtype, index):
        self.precision = as_precision(dtype)
        self.shard = Shard(shape, index)
        self.work = self.precision.work

    @property
    def name(self):
        return self.precision.name

    def array(self, out):
        """The result array: `out` after checks, or a new one."""
        shape, precision = self.shard.result_shape, self.precision
        bits = (np.dtype(np.uint16), np.dtype(np.int16)) if precision.half is not None else ()
        if out is None:
            if precision.storage is None:
                raise precision.no_array_type()
            return output(shape, precision.storage, None)
        return output(shape, precision.storage or bits[0], out, also=bits)

    def kernel_args(self, arr):
        """The flat array a kernel writes, and its box and format keywords."""
        kwargs = {"box": self.shard.box()}
        if self.precision.half is not None:
            kwargs["half"] = self.precision.half
        return self.precision.kernel_view(arr), kwargs

    def half_bits(self, values):
        """float values as bit patterns of this half format."""
        bits = np.empty(np.size(values), np.uint16)
        _random.round_half(np.ascontiguousarray(values, np.float32).reshape(-1), bits, self.precision.half)
        return bits

    def store(self, arr, whole):
        """Put the shard of the computed whole array `whole` into arr."""
        part = whole[tuple(slice(s, s + c) for s, c in zip(self.shard.starts, self.shard.counts))]
        flat, _ = self.kernel_args(arr)
        flat[...] = part.reshape(-1) if self.precision.half is None else self.half_bits(part)

    def set_points(self, arr, coords, values):
        """arr at the whole array's positions `coords` that the shard holds =
        `values` (a scalar or one per position)."""
        inside, local = self.shard.points(coords)
        values = np.broadcast_to(np.asarray(values, self.work), inside.shape)[inside]
        flat, _ = self.kernel_args(arr)
        view = flat.reshape(self.shard.counts)
        view[local] = values if self.precision.half is None else self.half_bits(values)


def _start(shape, dtype, index=None):
    shape = as_shape(shape)
    return shape, _Target(shape, dtype, index)


# -ln of the smallest uniform the kernels draw, 2**-33 (float32) or 2**-54
# (float64), with room for rounding: the largest Exp(1) proposal of the
# truncated normal's tails (22.9, 37.4) and, as sqrt(2 x), the largest |z| of
# Box-Muller (6.76, 8.65).
_EXP_REACH = {np.dtype(t): bits * math.log(2.0) * (1.0 + 1e-5) for t, bits in ((np.float32, 33), (np.float64, 54))}
# (keyed by the dtype the kernels compute in: float32 for the half formats)
_NORMAL_REACH = {dtype: math.sqrt(2.0 * reach) for dtype, reach in _EXP_REACH.items()}


def _fits(name, value, target, need=None):
    """`value`, if the fill it leads to stays finite in the target's type:
    the largest magnitude it needs (its values, or the width of a uniform
    range) is `need`, by default |value|."""
    limit = target.precision.max
    if not (abs(value) if need is None else need) <= limit:
        detail = "" if need is None else f": the fill would need {need:.4g}"
        raise ValueError(f"{name}={value} overflows {target.name}{detail}, beyond its largest value {limit:.4g}")
    return value


def _nonempty(shape):
    return math.prod(shape) > 0


def _draw(kernel, target, out, seed, *args, **extra):
    arr = target.array(out)
    key, position = stream_for(seed)
    flat, kwargs = target.kernel_args(arr)
    kernel(flat, key, position, *args, **kwargs, **(extra if target.precision.half is not None else {}))
    return arr


def _fill(target, out, value, seed):
    check_seed(seed)
    arr = target.array(out)
    flat, _ = target.kernel_args(arr)
    if target.precision.half is None:
        _random.constant(flat, value)
    else:
        _random.constant(flat, value, target.precision.bits(value))
    return arr


def _fan(shape, layout, mode):
    fan_in, fan_out = fans(shape, layout)
    return {
        "fan_in": fan_in,
        "fan_out": fan_out,
        "fan_avg": (fan_in + fan_out) / 2.0,
        "fan_geo_avg": math.sqrt(fan_in * fan_out),
    }[mode]


# ----------------------------------------------------------------------------
# Constants: classic failure cases 1 and 2.


@_register(moments=lambda shape: (0.0, 0.0))
def zeros(shape, *, seed=None, dtype=np.float32, out=None, index=None):
    """All zeros: the symmetric start that never learns (classic failure case 1).

    Every unit of a layer computes the same output and receives the same
    gradient, so no update can make two units differ.

    Parameters
    ----------
    shape : int or sequence of int
{common}

    Returns
    -------
    numpy.ndarray
    """
    shape, target = _start(shape, dtype, index)
    return _fill(target, out, 0.0, seed)


@_register(moments=lambda shape: (1.0, 0.0))
def ones(shape, *, seed=None, dtype=np.float32, out=None, index=None):
    """All ones: a constant start (classic failure case 2).

    Parameters
    ----------
    shape : int or sequence of int
{common}

    Returns
    -------
    numpy.ndarray
    """
    shape, target = _start(shape, dtype, index)
    return _fill(target, out, 1.0, seed)


def _constant_moments(shape, value):
    return (real("value", value), 0.0)


@_register(moments=_constant_moments)
def constant(shape, value, *, seed=None, dtype=np.float32, out=None, index=None):
    """Every entry equal to `value` (classic failure case 2).

    Units stay identical under gradient descent, so a layer acts as one unit
    and the network's decision boundary stays that of a single projection.

    Parameters
    ----------
    shape : int or sequence of int
    value : float
{common}

    Returns
    -------
    numpy.ndarray
    """
    shape, target = _start(shape, dtype, index)
    value = _fits("value", real("value", value), target)
    return _fill(target, out, value, seed)


# ----------------------------------------------------------------------------
# Plain distributions.


def _uniform_moments(shape, low=0.0, high=1.0):
    low, high = real("low", low), real("high", high)
    return ((low + high) / 2.0, (high - low) / math.sqrt(12.0))


@_register(moments=_uniform_moments)
def uniform(shape, low=0.0, high=1.0, *, seed=None, dtype=np.float32, out=None, index=None):
    """Uniform on [low, high).

    Parameters
    ----------
    shape : int or sequence of int
    low, high : float
        Finite bounds with low < high, first rounded to `dtype`; the values
        lie in [low, high) as rounded (high is never returned), so bounds
        that round to the same value are refused.
{common}

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Uses the top 24 (float32) or 53 (float64) bits of a Philox4x32-10 word.

    Examples
    --------
    >>> w = uniform((3, 4), -0.01, 0.01, seed=0)   # the classic "too small" case
    """
    shape, target = _start(shape, dtype, index)
    low = _fits("low", real("low", low), target)
    high = _fits("high", real("high", high), target)
    if not low < high:
        raise ValueError(f"low must be less than high, got low={low}, high={high}")
    rounded_low, rounded_high = target.precision.round(low), target.precision.round(high)
    if not rounded_low < rounded_high:
        raise ValueError(f"low={low} and high={high} both round to {target.name} {rounded_low!r}, "
                         f"which leaves [low, high) empty; widen them or use float64")
    _fits("high - low", rounded_high - rounded_low, target)
    # a half value is a rounded float32 draw, which may round up to high
    top = target.precision.step(rounded_high, up=False)
    return _draw(_random.uniform, target, out, seed, low, high, top=top)


def _normal_moments(shape, mean=0.0, std=1.0):
    return (real("mean", mean), real("std", std, low=0.0))


@_register(moments=_normal_moments)
def normal(shape, mean=0.0, std=1.0, *, seed=None, dtype=np.float32, out=None, index=None):
    """Normal N(mean, std^2) (classic failure cases 3 and 4: std 0.01 and std 1).

    Parameters
    ----------
    shape : int or sequence of int
    mean : float
    std : float
        Non-negative.
{common}

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Box-Muller (1958) on Philox4x32-10 words. The radius takes a full 32-bit
    (float32) or 53-bit (float64) uniform, so the tails are right out to
    6.8 and 8.6 standard deviations.

    References
    ----------
    .. [1] G. E. P. Box and M. E. Muller, "A note on the generation of random
       normal deviates", Ann. Math. Statist. 29, 1958.
    """
    shape, target = _start(shape, dtype, index)
    mean = _fits("mean", real("mean", mean), target)
    std = real("std", std, low=0.0)
    _fits("std", std, target, abs(mean) + std * _NORMAL_REACH[target.work])
    return _draw(_random.normal, target, out, seed, mean, std)


def _trunc_checked(mean, std, a, b):
    mean = real("mean", mean)
    std = real("std", std, low=0.0, low_open=True)
    a = real("a", a, allow_inf=True)
    b = real("b", b, allow_inf=True)
    if not a < b:
        raise ValueError(f"a must be less than b, got a={a}, b={b}")
    return mean, std, a, b


# Intervals over which the density falls by at most e^4 are integrated by
# 32-point Gauss-Legendre, exact to double precision there; the others come
# from the Mills ratio M(x) = integral of exp(-x t - t^2 / 2) over t > 0.
_NARROW_DROP = 4.0
_LEGENDRE = np.polynomial.legendre.leggauss(32)
# From x = 2 on, 150 terms of M's continued fraction reach double precision;
# below, erfcx's formulas lose at most a few ulps to cancellation.
_CF_FROM = 2.0
_CF_DEPTH = 150


def _tail_integrals(x, rho):
    """(rho M, rho^2 g, rho^3 h) at x >= 0: the integrals of t^k
    exp(-x t - t^2 / 2) over t > 0 for k = 0, 1, 2, scaled by powers of rho
    (1 below _CF_FROM, else at most x) so that nothing underflows.

    g = 1 - x M and h = M - x g cancel for large x; there all three come from
    the continued fraction M = 1 / (x + K1), K_n = n / (x + K_{n+1}), in
    which g = K1 M and h = K1 K2 M exactly.
    """
    if x < _CF_FROM:
        from scipy.special import erfcx

        m = math.sqrt(math.pi / 2.0) * float(erfcx(x / math.sqrt(2.0)))
        g = 1.0 - x * m
        return m, g, m - x * g
    xi, inv_rho2 = x / rho, 1.0 / (rho * rho)
    k = 0.0  # rho K_n, from n = _CF_DEPTH down to 2
    for n in range(_CF_DEPTH, 1, -1):
        k = n / (xi + k * inv_rho2)
    k1 = 1.0 / (xi + k * inv_rho2)
    m = 1.0 / (xi + k1 * inv_rho2)
    return m, k1 * m, k1 * k * m


def _narrow_moments(c, lo, hi):
    """Mean and std of t on [lo, hi] under exp(-c t - t^2 / 2), by
    Gauss-Legendre in t / max(-lo, hi)."""
    nodes, weights = _LEGENDRE
    scale = max(-lo, hi)
    tau = ((hi - lo) * nodes + (hi + lo)) / (2.0 * scale)
    w = weights * np.exp(-tau * (c * scale + scale * scale / 2.0 * tau))
    # fsum rounds exactly, so a symmetric interval (the rule is) has mean 0
    mass = math.fsum(w)
    mean = math.fsum(w * tau) / mass
    return scale * mean, scale * math.sqrt(math.fsum(w * (tau - mean) ** 2) / mass)


def _central_moments(alpha, beta):
    """Mean and std of N(0, 1) on [alpha, beta] around 0, not narrow: the
    closed form, whose variance cannot cancel much here."""
    from scipy.special import erf

    def density(z):  # phi(z) and z phi(z), 0 at infinity
        p = 0.0 if math.isinf(z) else math.exp(-z * z / 2.0) / math.sqrt(2.0 * math.pi)
        return p, (z * p if p else 0.0)

    (pa, za), (pb, zb) = density(alpha), density(beta)
    # erf of opposite signs: a sum, no cancellation
    mass = float(erf(beta / math.sqrt(2.0)) - erf(alpha / math.sqrt(2.0))) / 2.0
    mean = (pa - pb) / mass
    return mean, math.sqrt(1.0 + (za - zb) / mass - mean * mean)


def _tail_moments(c, width):
    """Mean and std of t = z - c for N(0, 1) on [c, c + width], c > 0: the
    one-sided tail integrals at c minus, scaled by the density's fall
    exp(-width (c + width / 2)), those at c + width."""
    rho = c if c >= _CF_FROM else 1.0
    mass, first, second = _tail_integrals(c, rho)
    fall = math.exp(-width * (c + width / 2.0))
    if fall > 0.0:
        # t = width + s beyond the interval: expand t and t^2 in s
        mb, gb, hb = _tail_integrals(c + width, rho)
        span = width * rho
        mass -= fall * mb
        first -= fall * (gb + span * mb)
        second -= fall * (hb + 2.0 * span * gb + span * span * mb)
    mean = first / mass
    return mean / rho, math.sqrt(second / mass - mean * mean) / rho


def _trunc_normal_moments(shape, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Mean and std of N(mean, std^2) on [a, b], to ~1e-14 relative from
    intervals 1e-12 stds wide to tails 1e300 stds out.

    The moments are those of t = z - c, where z is the standardized value and
    c its point nearest 0 (0, or the near bound of a tail, mirrored to the
    right), with the density taken relative to its value at c. The closed
    form in CDFs cancels for narrow intervals and far tails; these forms do
    not, and the spread about c bounds the cancellation of E[t^2] - E[t]^2
    (the density decreases away from c).
    """
    mean, std, a, b = _trunc_checked(mean, std, a, b)
    alpha, beta = (a - mean) / std, (b - mean) / std
    if alpha <= 0.0 <= beta:
        base, sign, c, lo, hi = mean, 1.0, 0.0, alpha, beta
    elif alpha > 0.0:
        base, sign, c, lo, hi = a, 1.0, alpha, 0.0, (b - a) / std
    else:
        base, sign, c, lo, hi = b, -1.0, -beta, 0.0, (b - a) / std
    if hi == lo:  # narrower than float64 resolves in stds: flat on [a, b]
        return (a / 2.0 + b / 2.0, (b - a) / math.sqrt(12.0))
    if math.isinf(c):  # the near bound is beyond float64 in stds: all mass at it
        return (base, 0.0)
    drop = max(lo * (c + lo / 2.0), hi * (c + hi / 2.0))  # log density from c to the far end
    if drop <= _NARROW_DROP:
        shift, spread = _narrow_moments(c, lo, hi)
    elif c == 0.0:
        shift, spread = _central_moments(lo, hi)
    else:
        shift, spread = _tail_moments(c, hi)
    return (base + sign * std * shift, std * spread)


@_register(moments=_trunc_normal_moments)
def trunc_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, *, seed=None, dtype=np.float32, out=None, index=None):
    """Normal N(mean, std^2) truncated to [a, b] (absolute bounds, as in PyTorch).

    Parameters
    ----------
    shape : int or sequence of int
    mean : float
    std : float
        Positive.
    a, b : float
        Bounds with a < b; either may be infinite. Every value lies in [a, b].
{common}

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Exact rejection sampling with the proposal of best acceptance for the
    interval (Robert 1995): the normal itself, a uniform on [a, b], or a shifted
    exponential for tails. It is accurate for narrow and far-tail intervals
    such as [5, 6] standard deviations, where inverse-CDF methods lose
    precision or pile values on the bounds.

    Rejection makes a value's place depend on the draws before it in its
    chunk of 4096 elements of the whole array, so a shard that starts inside
    a chunk also draws the chunk's values before it: row shards cost their
    own size, column shards up to 4096 values more per row.

    References
    ----------
    .. [1] C. P. Robert, "Simulation of truncated normal variables",
       Statistics and Computing 5, 1995.
    """
    shape, target = _start(shape, dtype, index)
    mean, std, a, b = _trunc_checked(mean, std, a, b)
    _fits("mean", mean, target)
    _fits("std", std, target)
    # the values lie in [a, b] and within the proposal's reach: the normal's
    # around the mean, an exponential's beyond the near bound of a tail
    if a <= mean <= b:
        low, high = max(a, mean - std * _NORMAL_REACH[target.work]), min(b, mean + std * _NORMAL_REACH[target.work])
    elif a > mean:
        low, high = a, min(b, a + std * _EXP_REACH[target.work])
    else:
        low, high = max(a, b - std * _EXP_REACH[target.work]), b
    _fits(*(("a", a) if low == a else ("std", std)), target, abs(low))
    _fits(*(("b", b) if high == b else ("std", std)), target, abs(high))
    return _trunc_draw(target, out, seed, mean, std, a, b)


def _trunc_draw(target, out, seed, mean, std, a, b):
    # half values are clamped to the bounds rounded inward in their format
    lo, hi = target.precision.inward(a, b) if target.precision.half is not None else (a, b)
    return _draw(_random.trunc_normal, target, out, seed, mean, std, a, b, lo=lo, hi=hi)


# ----------------------------------------------------------------------------
# Variance-preserving rules: one family, as in JAX's nn.initializers. Each
# member only sets the standard deviation (its formula) and the
# distribution; `_scaled` draws them all.

_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")
# std of N(0, 1) truncated to [-2, 2]
_TRUNC2_STD = 0.87962566103423978


def _scaled(target, out, seed, std, distribution, cause):
    """Zero-mean draws of standard deviation `std`: uniform on
    [-sqrt(3) std, sqrt(3) std], normal, or normal truncated at two of its
    own standard deviations and widened so that the std is `std`.
    `cause`, a (name, value) pair, is the parameter blamed if they overflow."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        _fits(*cause, target, 2.0 * bound)  # the kernel spans [-bound, bound]
        if bound == 0.0:
            return _fill(target, out, 0.0, seed)
        return _draw(_random.uniform, target, out, seed, -bound, bound)
    if distribution == "normal" or std == 0.0:
        _fits(*cause, target, std * _NORMAL_REACH[target.work])
        return _draw(_random.normal, target, out, seed, 0.0, std)
    wide = std / _TRUNC2_STD
    _fits(*cause, target, 2.0 * wide)
    return _trunc_draw(target, out, seed, 0.0, wide, -2.0 * wide, 2.0 * wide)


def _gain(gain):
    return real("gain", gain, low=0.0)


def _xavier_std(shape, gain=1.0, *, layout="in_out"):
    fan_in, fan_out = fans(shape, layout)
    gain = _gain(gain)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0


@_register("glorot_uniform", moments=lambda shape, *a, **k: (0.0, _xavier_std(shape, *a, **k)))
def xavier_uniform(shape, gain=1.0, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """Glorot/Xavier uniform: U[-bound, bound], bound = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations and of back-propagated gradients
    roughly constant across layers of a tanh or sigmoid network.

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    gain : float
        Non-negative scale, e.g. ``calculate_gain('tanh')``.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training
       deep feedforward neural networks", AISTATS 2010, eq. 16.
    """
    shape, target = _start(shape, dtype, index)
    return _scaled(target, out, seed, _xavier_std(shape, gain, layout=layout), "uniform", ("gain", gain))


@_register("glorot_normal", moments=lambda shape, *a, **k: (0.0, _xavier_std(shape, *a, **k)))
def xavier_normal(shape, gain=1.0, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """Glorot/Xavier normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    gain : float
        Non-negative scale.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training
       deep feedforward neural networks", AISTATS 2010.
    """
    shape, target = _start(shape, dtype, index)
    return _scaled(target, out, seed, _xavier_std(shape, gain, layout=layout), "normal", ("gain", gain))


def _kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="relu", *, layout="in_out"):
    mode = choice("mode", mode, ("fan_in", "fan_out"))
    gain = calculate_gain(nonlinearity, real("a", a))
    fan = _fan(shape, layout, mode)
    return gain / math.sqrt(fan) if fan else 0.0


@_register("he_uniform", moments=lambda shape, *a, **k: (0.0, _kaiming_std(shape, *a, **k)))
def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="relu", *, layout="in_out",
                    seed=None, dtype=np.float32, out=None, index=None):
    """He/Kaiming uniform: U[-bound, bound], bound = sqrt(3) * gain / sqrt(fan).

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    a : float
        Negative slope, used when ``nonlinearity='leaky_relu'``.
    mode : {'fan_in', 'fan_out'}
        ``'fan_in'`` keeps the forward variance, ``'fan_out'`` the backward one.
    nonlinearity : str
        Name for `calculate_gain` (default ``'relu'``, gain sqrt(2)).
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers:
       surpassing human-level performance on ImageNet classification",
       ICCV 2015.
    """
    shape, target = _start(shape, dtype, index)
    std = _kaiming_std(shape, a, mode, nonlinearity, layout=layout)
    return _scaled(target, out, seed, std, "uniform", ("a", a))


@_register("he_normal", moments=lambda shape, *a, **k: (0.0, _kaiming_std(shape, *a, **k)))
def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="relu", *, layout="in_out",
                   seed=None, dtype=np.float32, out=None, index=None):
    """He/Kaiming normal: N(0, std^2), std = gain / sqrt(fan).

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    a : float
        Negative slope, used when ``nonlinearity='leaky_relu'``.
    mode : {'fan_in', 'fan_out'}
    nonlinearity : str
        Name for `calculate_gain` (default ``'relu'``).
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
       ICCV 2015, eq. 10.
    """
    shape, target = _start(shape, dtype, index)
    std = _kaiming_std(shape, a, mode, nonlinearity, layout=layout)
    return _scaled(target, out, seed, std, "normal", ("a", a))


_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


def _variance_scaling_moments(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", *, layout="in_out"):
    scale = real("scale", scale, low=0.0, low_open=True)
    mode = choice("mode", mode, _MODES)
    choice("distribution", distribution, _DISTRIBUTIONS)
    fan = _fan(shape, layout, mode)
    return (0.0, math.sqrt(scale / fan) if fan else 0.0)


@_register(moments=_variance_scaling_moments)
def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", *,
                     layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """Variance scale / fan, in the meaning of Keras and JAX.

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    scale : float
        Positive variance multiplier.
    mode : {'fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'}
        fan_avg is (fan_in + fan_out) / 2, fan_geo_avg sqrt(fan_in * fan_out).
    distribution : {'truncated_normal', 'normal', 'uniform'}
        ``'truncated_normal'`` truncates at two of its own standard deviations
        and divides by 0.8796..., the std of N(0, 1) on [-2, 2], so the final
        variance is exactly scale / fan. ``'uniform'`` uses
        bound = sqrt(3 * scale / fan).
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] Keras 3 ``keras.initializers.VarianceScaling`` and
       ``jax.nn.initializers.variance_scaling``.
    """
    shape, target = _start(shape, dtype, index)
    std = _variance_scaling_moments(shape, scale, mode, distribution, layout=layout)[1]
    distribution = choice("distribution", distribution, _DISTRIBUTIONS)
    return _scaled(target, out, seed, std, distribution, ("scale", scale))


@_register(moments=lambda shape, *, layout="in_out": _variance_scaling_moments(shape, 1.0, "fan_in", "uniform", layout=layout))
def lecun_uniform(shape, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """LeCun uniform: variance 1 / fan_in, U[-sqrt(3 / fan_in), sqrt(3 / fan_in)].

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, G. Orr and K.-R. Muller, "Efficient BackProp",
       Neural Networks: Tricks of the Trade, 1998.
    """
    return variance_scaling(shape, 1.0, "fan_in", "uniform", layout=layout, seed=seed, dtype=dtype, out=out, index=index)


@_register(moments=lambda shape, *, layout="in_out": _variance_scaling_moments(shape, 1.0, "fan_in", layout=layout))
def lecun_normal(shape, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """LeCun normal: variance 1 / fan_in, truncated at two standard deviations
    as in Keras and JAX. The initializer of self-normalizing (SELU) networks.

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter,
       "Self-normalizing neural networks", NeurIPS 2017.
    """
    return variance_scaling(shape, 1.0, "fan_in", "truncated_normal", layout=layout, seed=seed, dtype=dtype, out=out, index=index)


# ----------------------------------------------------------------------------
# Orthogonal and structured.


def _matrix_shape(shape, layout):
    """The 2-D matrix an N-D weight is orthogonalized as."""
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a shape with at least 2 dimensions, got {shape}")
    if choice("layout", layout, LAYOUTS) == "in_out":
        return math.prod(shape[:-1]), shape[-1]
    return shape[0], math.prod(shape[1:])


def _orthogonal_moments(shape, gain=1.0, *, layout="in_out"):
    rows, cols = _matrix_shape(shape, layout)
    gain = _gain(gain)
    return (0.0, gain / math.sqrt(max(rows, cols)) if rows and cols else 0.0)


@_register(moments=_orthogonal_moments)
def orthogonal(shape, gain=1.0, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """A Haar-distributed (uniformly random) orthogonal matrix times gain.

    The weight is read as a matrix: ``(prod(shape[:-1]), shape[-1])`` for
    ``layout='in_out'`` (Keras), ``(shape[0], prod(shape[1:]))`` for
    ``'out_in'`` (PyTorch). It has orthonormal rows if it is wide and
    orthonormal columns if it is tall.

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions; each matrix side below 2**31.
    gain : float
        Non-negative scale.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Stewart's method: the reflectors that Householder QR would extract from a
    Gaussian matrix are independent Gaussian vectors, so they are drawn
    directly and multiplied out in blocks (compact WY, as LAPACK's ``orgqr``
    but with wider GEMMs); columns are then signed by sign(R_jj)
    (Mezzadri 2007) for the exact Haar measure. The orthogonality error
    max|QᵀQ - I| is ~3e-7 in float32 and ~3e-15 in float64. A shard
    (``index=``) costs the whole matrix: it is drawn and orthogonalized in
    full, and the shard's part kept. Half-precision results round the float32
    matrix.

    References
    ----------
    .. [1] A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the
       nonlinear dynamics of learning in deep linear neural networks",
       ICLR 2014.
    .. [2] G. W. Stewart, "The efficient generation of random orthogonal
       matrices with an application to condition estimators", SIAM J. Numer.
       Anal. 17, 1980.
    .. [3] F. Mezzadri, "How to generate random matrices from the classical
       compact groups", Notices of the AMS 54, 2007.
    """
    shape, target = _start(shape, dtype, index)
    rows, cols = _matrix_shape(shape, layout)
    gain = _fits("gain", _gain(gain), target)  # |entries| <= gain
    if max(rows, cols) >= 2**31:
        raise ValueError(f"orthogonal needs both matrix sides below 2**31, got {(rows, cols)}")
    arr = target.array(out)
    key, position = stream_for(seed)
    from . import _orthogonal

    direct = target.shard.whole and target.precision.half is None
    whole = arr if direct else np.empty(shape, target.work)
    _orthogonal.haar(whole.reshape(rows, cols), key, position, gain)
    if not direct:
        target.store(arr, whole)
    return arr


def _identity_moments(shape, gain=1.0):
    if len(shape) != 2:
        raise ValueError(f"identity needs a 2-D shape, got {shape}")
    gain = _gain(gain)
    size = math.prod(shape)
    if size == 0:
        return (0.0, 0.0)
    fraction = min(shape) / size
    return (gain * fraction, gain * math.sqrt(fraction * (1.0 - fraction)))


@_register("eye", moments=_identity_moments)
def identity(shape, gain=1.0, *, seed=None, dtype=np.float32, out=None, index=None):
    """gain times the identity matrix (2-D only; rectangular allowed). A shard
    costs its own size.

    Parameters
    ----------
    shape : sequence of int
        Exactly two dimensions.
    gain : float
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] Q. V. Le, N. Jaitly and G. E. Hinton, "A simple way to initialize
       recurrent networks of rectified linear units", arXiv:1504.00941, 2015.
    """
    shape, target = _start(shape, dtype, index)
    _identity_moments(shape, gain)
    gain = _fits("gain", _gain(gain), target)
    arr = _fill(target, out, 0.0, seed)
    diagonal = np.arange(min(shape))
    target.set_points(arr, (diagonal, diagonal), gain)
    return arr


def _conv_parts(shape, layout, what):
    """(in_channels, out_channels, kernel dims, index of the centre tap)."""
    if not 3 <= len(shape) <= 5:
        raise ValueError(f"{what} needs a 3-, 4- or 5-D convolution kernel shape, got {shape}")
    if choice("layout", layout, LAYOUTS) == "in_out":
        kernel, channels_in, channels_out = shape[:-2], shape[-2], shape[-1]
    else:
        channels_out, channels_in, kernel = shape[0], shape[1], shape[2:]
    return channels_in, channels_out, kernel, tuple(k // 2 for k in kernel)


def _dirac_moments(shape, groups=1, *, layout="in_out"):
    channels_in, channels_out, kernel, _ = _conv_parts(shape, layout, "dirac")
    groups = integer("groups", groups, low=1)
    if channels_out % groups:
        raise ValueError(f"groups={groups} must divide the {channels_out} output channels")
    size = math.prod(shape)
    if size == 0:
        return (0.0, 0.0)
    fraction = groups * min(channels_out // groups, channels_in) / size
    return (fraction, math.sqrt(fraction * (1.0 - fraction)))


@_register(moments=_dirac_moments)
def dirac(shape, groups=1, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """Dirac delta kernel: a convolution that passes its input through.

    In every group, input channel d feeds output channel d through a 1 at the
    centre tap ``k // 2`` of each kernel dimension. A shard costs its own
    size.

    Parameters
    ----------
    shape : sequence of int
        A 3-, 4- or 5-D convolution kernel.
    groups : int
        Number of groups; must divide the output channels.
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] S. Zagoruyko and N. Komodakis, "DiracNets: training very deep neural
       networks without skip-connections", arXiv:1706.00388, 2017.
    """
    shape, target = _start(shape, dtype, index)
    _dirac_moments(shape, groups, layout=layout)
    channels_in, channels_out, _, centre = _conv_parts(shape, layout, "dirac")
    arr = _fill(target, out, 0.0, seed)
    if not _nonempty(shape):
        return arr
    per_group = channels_out // groups
    d = np.arange(min(per_group, channels_in))
    outs = (np.arange(groups)[:, None] * per_group + d).ravel()
    ins = np.tile(d, groups)
    taps = tuple(np.full(len(ins), c) for c in centre)
    target.set_points(arr, taps + (ins, outs) if layout.lower() == "in_out" else (outs, ins) + taps, 1.0)
    return arr


def _delta_orthogonal_moments(shape, gain=1.0, *, layout="in_out"):
    channels_in, channels_out, kernel, _ = _conv_parts(shape, layout, "delta_orthogonal")
    gain = _gain(gain)
    if math.prod(shape) == 0:
        return (0.0, 0.0)
    return (0.0, gain / math.sqrt(max(channels_in, channels_out) * math.prod(kernel)))


@_register(moments=_delta_orthogonal_moments)
def delta_orthogonal(shape, gain=1.0, *, layout="in_out", seed=None, dtype=np.float32, out=None, index=None):
    """Delta-orthogonal kernel: a Haar orthogonal matrix at the centre tap, zeros elsewhere.

    With at least as many output as input channels the convolution is an
    isometry at initialization, which lets very deep CNNs train
    (dynamical isometry). A shard costs the centre tap's whole
    (in, out)-channel orthogonal matrix and its own size.

    Parameters
    ----------
    shape : sequence of int
        A 3-, 4- or 5-D convolution kernel.
    gain : float
{layout}
{common}

    Returns
    -------
    numpy.ndarray

    References
    ----------
    .. [1] L. Xiao, Y. Bahri, J. Sohl-Dickstein, S. S. Schoenholz and
       J. Pennington, "Dynamical isometry and a mean field theory of CNNs",
       ICML 2018, Algorithm 2.
    """
    shape, target = _start(shape, dtype, index)
    _delta_orthogonal_moments(shape, gain, layout=layout)
    channels_in, channels_out, _, centre = _conv_parts(shape, layout, "delta_orthogonal")
    arr = _fill(target, out, 0.0, seed)
    if not _nonempty(shape):
        return arr
    # the centre tap's matrix, drawn whole: a shard costs all of it
    in_out = layout.lower() == "in_out"
    inner = (channels_in, channels_out) if in_out else (channels_out, channels_in)
    matrix = orthogonal(inner, gain, seed=seed, dtype=target.work)
    rows, cols = np.indices(matrix.shape).reshape(2, -1)
    taps = tuple(np.full(rows.size, c) for c in centre)
    target.set_points(arr, taps + (rows, cols) if in_out else (rows, cols) + taps, matrix.reshape(-1))
    return arr


def _sparse_zeros(shape, sparsity, std):
    if len(shape) != 2:
        raise ValueError(f"sparse needs a 2-D shape, got {shape}")
    sparsity = real("sparsity", sparsity, low=0.0)
    if sparsity > 1.0:
        raise ValueError(f"sparsity must be at most 1, got {sparsity}")
    real("std", std, low=0.0)
    return math.ceil(sparsity * shape[0])


def _sparse_moments(shape, sparsity, std=0.01):
    zeros_per_column = _sparse_zeros(shape, sparsity, std)
    if shape[0] == 0:
        return (0.0, 0.0)
    return (0.0, std * math.sqrt((shape[0] - zeros_per_column) / shape[0]))


@_register(moments=_sparse_moments)
def sparse(shape, sparsity, std=0.01, *, seed=None, dtype=np.float32, out=None, index=None):
    """N(0, std^2) with ceil(sparsity * rows) zeros in every column.

    Parameters
    ----------
    shape : sequence of int
        Exactly two dimensions (rows, columns).
    sparsity : float
        Fraction of each column set to zero, in [0, 1].
    std : float
        Non-negative std of the non-zero entries.
{common}

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    The zero rows of each column are a uniformly random subset, drawn from
    the same seed by selection sampling (Knuth's Algorithm S). A shard draws
    its own values, and walks each of its columns from row 0 down to its
    last row.

    References
    ----------
    .. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML 2010.
    """
    shape, target = _start(shape, dtype, index)
    zeros_per_column = _sparse_zeros(shape, sparsity, std)
    std = real("std", std)
    _fits("std", std, target, std * _NORMAL_REACH[target.work])
    arr = target.array(out)
    key, position = stream_for(seed, 2)
    flat, kwargs = target.kernel_args(arr)
    _random.normal(flat, key, position, 0.0, std, **kwargs)
    r0, c0 = target.shard.starts
    _random.sparse_zeros(flat.reshape(target.shard.counts), key, position + 1, *shape, zeros_per_column, r0, c0)
    return arr


# ----------------------------------------------------------------------------
# Every initializer is also a Generator method, and aliases are module names.


def _as_method(init):
    signature = inspect.signature(init)
    params = [p for name, p in signature.parameters.items() if name != "seed"]
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)

    @functools.wraps(init)
    def method(self, *args, **kwargs):
        if "seed" in kwargs:
            raise TypeError(f"Generator.{init.__name__}() draws from the Generator; it takes no seed")
        return init(*args, seed=self, **kwargs)

    method.__signature__ = signature.replace(parameters=[self_param] + params)
    return method


for _name, _init in _REGISTRY.items():
    setattr(Generator, _name, _as_method(_init))
for _alias, _name in _ALIASES.items():
    setattr(Generator, _alias, getattr(Generator, _name))
    globals()[_alias] = _REGISTRY[_name]

__all__ += list(_REGISTRY) + list(_ALIASES)
