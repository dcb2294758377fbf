"""Drop-in replacements for the `torch.nn.init` functions.

Each function has the name and signature of its `torch.nn.init` namesake and
draws the same distribution, but the values come from initcore's Philox
kernels: the same seed gives the same bits on every device, thread count and
shard layout. Called without a tensor, a function returns a `Rule` (the
function with its arguments set) for `init_module_`.
"""
import functools
import hashlib
import inspect
import sys

import numpy as np
import torch

from ..common.validation import integer
from ..fills import initializers as core
from ..fills.generator import Generator

__all__ = [
    "Rule",
    "constant_", "delta_orthogonal_", "dirac_", "eye_", "kaiming_normal_", "kaiming_uniform_",
    "lecun_normal_", "lecun_uniform_", "normal_", "ones_", "orthogonal_", "sparse_", "trunc_normal_",
    "uniform_", "variance_scaling_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

# torch dtype -> the kernels' dtype=; the half formats are written as int16
# bit patterns, so neither needs ml_dtypes
_KERNEL_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
                  torch.bfloat16: "bfloat16"}
_HALF = (torch.float16, torch.bfloat16)

_COMMON = """\
    generator : torch.Generator, optional
        A 64-bit key is drawn from it with ``torch.randint``, so each call
        advances it and re-seeding it replays the same values.
    seed : None, int, numpy.random.SeedSequence or initcore.Generator, optional
        The seed of initcore's stream, instead of `generator`. With neither,
        the key is drawn from torch's default CPU generator, so
        ``torch.manual_seed`` makes the call reproducible (also for CUDA
        tensors: the values do not depend on the device).
    splits : int, optional
        Number of equal row blocks (along dimension 0) initialized as
        separate weights, each with its own fans and stream: a fused QKV
        projection is ``splits=3``, LSTM gates ``splits=4``. Default 1.

    Returns
    -------
    torch.Tensor
        `tensor`, filled in place under ``torch.no_grad()``. Contiguous CPU
        tensors are written in place without a copy (float16 and bfloat16
        as bit patterns: the float32 draw rounded to nearest even, inside
        the distribution's bounds); non-contiguous and CUDA tensors through
        one staging array. A ``DTensor`` gets its own shard of the global
        init.

    Raises
    ------
    TypeError
        If `tensor` is not a floating-point torch.Tensor.
    ValueError
        If `tensor` is on the meta device (call ``module.to_empty(device=...)``
        first), or for bad arguments, named with their value."""

# the parameters and reference of kaiming_uniform_ and kaiming_normal_
_KAIMING = """\
    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
    a : float
        Negative slope of ``leaky_relu``.
    mode : {'fan_in', 'fan_out'}
    nonlinearity : str
        A name of `initcore.calculate_gain` (torch's table).
{common}

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
       ICCV 2015."""

# --- seeds -------------------------------------------------------------------


def keyed(seed_sequence, word):
    """The child of `seed_sequence` keyed by the non-negative int `word`,
    without changing it (unlike SeedSequence.spawn, which counts its calls)."""
    return np.random.SeedSequence(seed_sequence.entropy, spawn_key=seed_sequence.spawn_key + (word,),
                                  pool_size=seed_sequence.pool_size)


def name_word(name):
    """A stable 128-bit int of a string (blake2b; Python's hash() varies by process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest(), "little")


def _torch_key(generator):
    """A 64-bit key drawn from `generator` (torch's default CPU one if None)."""
    device = "cpu" if generator is None else generator.device
    draw = torch.randint(-(2**63), 2**63 - 1, (), dtype=torch.int64, generator=generator, device=device)
    return int(draw) % 2**64


def resolve_seed(seed, generator, draw=True):
    """The seed initcore uses: `seed`, or a key drawn from `generator` or
    from torch's global RNG (only if `draw`: constants need none)."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__} {generator!r}")
        if seed is not None:
            raise ValueError(f"pass seed or generator, not both; got seed={seed!r} and a generator")
        return _torch_key(generator) if draw else None
    if seed is None and draw:
        return _torch_key(None)
    return seed


def seed_sequence(seed):
    """The SeedSequence of an explicit seed; an initcore.Generator gives up
    one stream position, so successive calls differ and a re-seeded one
    replays them."""
    if isinstance(seed, Generator):
        _, position = seed.take()
        return keyed(seed.seed_sequence, position)
    return Generator(seed).seed_sequence


# --- tensors -----------------------------------------------------------------


def check_tensor(tensor):
    """`tensor`, if initcore can fill it."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__} {tensor!r:.60}; "
                        "to configure a rule without a tensor, pass the arguments by keyword, "
                        "e.g. normal_(std=0.02)")
    if tensor.is_meta:
        raise ValueError(f"tensor of shape {tuple(tensor.shape)} is on the meta device and has no storage "
                         "to fill; allocate it first with module.to_empty(device=...)")
    if tensor.dtype not in _KERNEL_DTYPES:
        raise TypeError(f"tensor must be float16, bfloat16, float32 or float64, got {tensor.dtype}")
    return tensor


def shard(tensor):
    """(local tensor, index of it in the global shape, or None): a DTensor's
    own shard, any other tensor whole."""
    dtensor = sys.modules.get("torch.distributed.tensor")  # loaded wherever DTensors exist
    if dtensor is None or not isinstance(tensor, dtensor.DTensor):
        return tensor, None
    if any(p.is_partial() for p in tensor.placements):
        raise ValueError(f"a DTensor with placements {tensor.placements} holds partial sums, not values; "
                         "initialize it as Shard or Replicate")
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    sizes, offsets = compute_local_shape_and_global_offset(tensor.shape, tensor.device_mesh, tensor.placements)
    return tensor.to_local(), tuple(slice(o, o + n) for o, n in zip(offsets, sizes))


def _write(dest, init, shape, args, options, index):
    """dest[...] = init(shape, *args, **options)[index]: into the tensor's
    own memory when NumPy can view it, else through one staging array."""
    if index is not None:
        options = dict(options, index=index)
    dtype, half = _KERNEL_DTYPES[dest.dtype], dest.dtype in _HALF
    if dest.device.type == "cpu" and dest.is_contiguous():
        view = dest.detach()
        init(shape, *args, dtype=dtype, out=(view.view(torch.int16) if half else view).numpy(), **options)
    else:
        staging = np.empty(tuple(dest.shape), np.int16) if half else None
        drawn = torch.from_numpy(init(shape, *args, dtype=dtype, out=staging, **options))
        dest.copy_(drawn.view(dest.dtype) if half else drawn)


def _blocks(shape, splits, index):
    """(block number, block shape, index into the block or None, rows of the
    local tensor) of each of `splits` row blocks that the shard overlaps."""
    if splits > 1 and (not shape or shape[0] % splits):
        raise ValueError(f"splits={splits} must divide the first dimension of the shape {shape}")
    rows = shape[0] // splits if shape else None
    for block in range(splits):
        if splits == 1:
            yield block, shape, index, slice(None)
            continue
        lo, hi = block * rows, (block + 1) * rows
        mine = index[0] if index is not None else slice(lo, hi)
        start, stop = max(lo, mine.start), min(hi, mine.stop)
        if start >= stop:
            continue
        inner = None if index is None else (slice(start - lo, stop - lo),) + index[1:]
        offset = 0 if index is None else mine.start
        yield block, (rows,) + shape[1:], inner, slice(start - offset, stop - offset)


def fill(tensor, init, *args, seed, generator, splits=1, draw=True, **options):
    """Fill `tensor` in place with ``init(shape, *args, seed=..., **options)``.

    With `splits` > 1 each row block is its own weight, seeded by the block
    number under the call's seed."""
    check_tensor(tensor)
    splits = integer("splits", splits, low=1)
    seed = resolve_seed(seed, generator, draw)
    shape = tuple(tensor.shape)
    local, index = shard(tensor)
    if splits != 1:
        root = seed_sequence(seed)
    with torch.no_grad():
        for block, block_shape, inner, rows in _blocks(shape, splits, index):
            block_seed = seed if splits == 1 else keyed(root, block)
            _write(local[rows], init, block_shape, args, dict(options, seed=block_seed), inner)
    return tensor


# --- drop-ins and rules ------------------------------------------------------


class Rule:
    """A drop-in initializer with its arguments set, to apply later.

    What a drop-in function returns when called without a tensor:
    ``kaiming_normal_(nonlinearity="relu")`` is a Rule, and
    ``rule(tensor, seed=0)`` is ``kaiming_normal_(tensor, nonlinearity="relu", seed=0)``.
    `init_module_` gives each rule its parameter's seed, so a rule takes none.

    Parameters
    ----------
    func : callable
        One of this module's drop-in functions.
    arguments : dict
        Its arguments other than the tensor, seed and generator.
    """

    def __init__(self, func, arguments):
        self.func = func
        self.arguments = dict(arguments)

    def __call__(self, tensor, **kwargs):
        return self.func(tensor, **self.arguments, **kwargs)

    def with_arguments(self, **more):
        """A new Rule with `more` arguments set (they override this one's)."""
        return Rule(self.func, {**self.arguments, **more})

    def __repr__(self):
        shown = (f"{k}={format(v, '.6g') if isinstance(v, float) else repr(v)}" for k, v in self.arguments.items())
        return f"{self.func.__name__}({', '.join(shown)})"


DROPINS = {}


def _dropin(func):
    """Make `func` a drop-in: torch's __torch_function__ protocol as in
    torch.nn.init, and a Rule when called without a tensor."""
    signature = inspect.signature(func)
    func.__doc__ = func.__doc__.replace("{kaiming}", _KAIMING).replace("{common}", _COMMON)

    @functools.wraps(func)
    def dropin(*args, **kwargs):
        try:
            arguments = signature.bind_partial(*args, **kwargs).arguments
        except TypeError as exc:
            raise TypeError(f"{func.__name__}(): {exc}") from None
        if "tensor" not in arguments:
            given = sorted({"seed", "generator"} & set(arguments))
            if given:
                raise TypeError(f"{func.__name__}() without a tensor makes a rule, which takes its seed from "
                                f"init_module_; got {given[0]}={arguments[given[0]]!r}")
            return Rule(dropin, arguments)
        tensor = arguments["tensor"]
        if torch.overrides.has_torch_function_variadic(tensor):
            return torch.overrides.handle_torch_function(dropin, (tensor,), *args, **kwargs)
        return func(*args, **kwargs)

    DROPINS[func.__name__] = dropin
    return dropin


@_dropin
def uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None, splits=1):
    """Fill with U(a, b), as ``torch.nn.init.uniform_`` (by `initcore.uniform`).

    Parameters
    ----------
    tensor : torch.Tensor
    a, b : float
        The bounds, a < b.
{common}
    """
    return fill(tensor, core.uniform, a, b, seed=seed, generator=generator, splits=splits)


@_dropin
def normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None, splits=1):
    """Fill with N(mean, std^2), as ``torch.nn.init.normal_`` (by `initcore.normal`).

    Parameters
    ----------
    tensor : torch.Tensor
    mean, std : float
{common}
    """
    return fill(tensor, core.normal, mean, std, seed=seed, generator=generator, splits=splits)


@_dropin
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None, splits=1):
    """Fill with N(mean, std^2) truncated to [a, b] (absolute bounds), as
    ``torch.nn.init.trunc_normal_`` (by `initcore.trunc_normal`).

    Every value lies in [a, b], also in float16 and bfloat16.

    Parameters
    ----------
    tensor : torch.Tensor
    mean, std : float
    a, b : float
        The bounds, a < b.
{common}
    """
    return fill(tensor, core.trunc_normal, mean, std, a, b, seed=seed, generator=generator, splits=splits)


@_dropin
def constant_(tensor, val, *, seed=None, generator=None, splits=1):
    """Fill with `val`, as ``torch.nn.init.constant_``.

    Parameters
    ----------
    tensor : torch.Tensor
    val : float
{common}
    """
    return fill(tensor, core.constant, val, seed=seed, generator=generator, splits=splits, draw=False)


@_dropin
def ones_(tensor, *, seed=None, generator=None, splits=1):
    """Fill with ones, as ``torch.nn.init.ones_``.

    Parameters
    ----------
    tensor : torch.Tensor
{common}
    """
    return fill(tensor, core.ones, seed=seed, generator=generator, splits=splits, draw=False)


@_dropin
def zeros_(tensor, *, seed=None, generator=None, splits=1):
    """Fill with zeros, as ``torch.nn.init.zeros_``.

    Parameters
    ----------
    tensor : torch.Tensor
{common}
    """
    return fill(tensor, core.zeros, seed=seed, generator=generator, splits=splits, draw=False)


@_dropin
def eye_(tensor, *, seed=None, generator=None, splits=1):
    """The identity matrix (2-D, rectangular allowed), as ``torch.nn.init.eye_``.

    Parameters
    ----------
    tensor : torch.Tensor
        Two dimensions.
{common}
    """
    return fill(tensor, core.identity, seed=seed, generator=generator, splits=splits, draw=False)


@_dropin
def dirac_(tensor, groups=1, *, seed=None, generator=None, splits=1):
    """The Dirac delta kernel of a 3-, 4- or 5-D convolution weight, as
    ``torch.nn.init.dirac_`` (by `initcore.dirac`).

    Parameters
    ----------
    tensor : torch.Tensor
        ``(out_channels, in_channels, *kernel)``.
    groups : int
        Must divide the output channels.
{common}

    References
    ----------
    .. [1] S. Zagoruyko and N. Komodakis, "DiracNets", arXiv:1706.00388, 2017.
    """
    return fill(tensor, core.dirac, groups, seed=seed, generator=generator, splits=splits, draw=False,
                layout="out_in")


@_dropin
def xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None, splits=1):
    """Glorot uniform, U[-b, b] with b = gain sqrt(6 / (fan_in + fan_out)), as
    ``torch.nn.init.xavier_uniform_`` (fans read as torch does).

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
    gain : float
{common}

    References
    ----------
    .. [1] X. Glorot and Y. Bengio, "Understanding the difficulty of training
       deep feedforward neural networks", AISTATS 2010.
    """
    return fill(tensor, core.xavier_uniform, gain, seed=seed, generator=generator, splits=splits, layout="out_in")


@_dropin
def xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None, splits=1):
    """Glorot normal, N(0, gain^2 2 / (fan_in + fan_out)), as ``torch.nn.init.xavier_normal_``.

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
    gain : float
{common}

    References
    ----------
    .. [1] X. Glorot and Y. Bengio, AISTATS 2010.
    """
    return fill(tensor, core.xavier_normal, gain, seed=seed, generator=generator, splits=splits, layout="out_in")


@_dropin
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *, seed=None,
                     splits=1):
    """He uniform, U[-b, b] with b = gain sqrt(3 / fan), as ``torch.nn.init.kaiming_uniform_``.

{kaiming}
    """
    return fill(tensor, core.kaiming_uniform, a, mode, nonlinearity, seed=seed, generator=generator,
                splits=splits, layout="out_in")


@_dropin
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *, seed=None,
                    splits=1):
    """He normal, N(0, gain^2 / fan), as ``torch.nn.init.kaiming_normal_``.

{kaiming}
    """
    return fill(tensor, core.kaiming_normal, a, mode, nonlinearity, seed=seed, generator=generator,
                splits=splits, layout="out_in")


@_dropin
def orthogonal_(tensor, gain=1, generator=None, *, seed=None, splits=1):
    """A Haar-random (semi-)orthogonal matrix times gain, as
    ``torch.nn.init.orthogonal_``: the tensor is read as
    ``(shape[0], prod(shape[1:]))``.

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions.
    gain : float
{common}

    References
    ----------
    .. [1] A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the
       nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.
    """
    return fill(tensor, core.orthogonal, gain, seed=seed, generator=generator, splits=splits, layout="out_in")


@_dropin
def sparse_(tensor, sparsity, std=0.01, generator=None, *, seed=None, splits=1):
    """N(0, std^2) with ceil(sparsity * rows) zeros in every column, as
    ``torch.nn.init.sparse_``.

    Parameters
    ----------
    tensor : torch.Tensor
        Two dimensions.
    sparsity : float
        Fraction of each column set to zero, in [0, 1].
    std : float
{common}

    References
    ----------
    .. [1] J. Martens, "Deep learning via Hessian-free optimization", ICML 2010.
    """
    return fill(tensor, core.sparse, sparsity, std, seed=seed, generator=generator, splits=splits)


@_dropin
def lecun_uniform_(tensor, generator=None, *, seed=None, splits=1):
    """LeCun uniform, U[-sqrt(3 / fan_in), sqrt(3 / fan_in)] (not in torch;
    `initcore.lecun_uniform` with torch's fans).

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
{common}

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, G. Orr and K.-R. Muller, "Efficient BackProp", 1998.
    """
    return fill(tensor, core.lecun_uniform, seed=seed, generator=generator, splits=splits, layout="out_in")


@_dropin
def lecun_normal_(tensor, generator=None, *, seed=None, splits=1):
    """LeCun normal, variance 1 / fan_in, truncated at two standard deviations
    as in Keras and JAX (not in torch; `initcore.lecun_normal`).

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
{common}

    References
    ----------
    .. [1] G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter,
       "Self-normalizing neural networks", NeurIPS 2017.
    """
    return fill(tensor, core.lecun_normal, seed=seed, generator=generator, splits=splits, layout="out_in")


@_dropin
def variance_scaling_(tensor, scale=1.0, mode="fan_in", distribution="truncated_normal", generator=None, *,
                      seed=None, splits=1):
    """Variance scale / fan, in the meaning of Keras and JAX (not in torch;
    `initcore.variance_scaling` with torch's fans).

    Parameters
    ----------
    tensor : torch.Tensor
        At least two dimensions, ``(out, in, *kernel)``.
    scale : float
    mode : {'fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'}
    distribution : {'truncated_normal', 'normal', 'uniform'}
{common}
    """
    return fill(tensor, core.variance_scaling, scale, mode, distribution, seed=seed, generator=generator,
                splits=splits, layout="out_in")


@_dropin
def delta_orthogonal_(tensor, gain=1.0, generator=None, *, seed=None, splits=1):
    """Delta-orthogonal convolution kernel: a Haar orthogonal matrix at the
    centre tap (not in torch; `initcore.delta_orthogonal`).

    Parameters
    ----------
    tensor : torch.Tensor
        A 3-, 4- or 5-D kernel ``(out_channels, in_channels, *kernel)``.
    gain : float
{common}

    References
    ----------
    .. [1] L. Xiao, Y. Bahri, J. Sohl-Dickstein, S. S. Schoenholz and
       J. Pennington, "Dynamical isometry and a mean field theory of CNNs",
       ICML 2018.
    """
    return fill(tensor, core.delta_orthogonal, gain, seed=seed, generator=generator, splits=splits,
                layout="out_in")
