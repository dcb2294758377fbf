"""Fans and gains: the two numbers every variance-preserving rule is built from."""
import math

from ..common.validation import as_shape, choice, real

__all__ = ["LAYOUTS", "calculate_gain", "fans"]

LAYOUTS = ("in_out", "out_in")

_UNIT_GAIN = (
    "linear", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)
NONLINEARITIES = _UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu")


def fans(shape, layout="in_out"):
    """Fan-in and fan-out of a weight of this shape.

    Parameters
    ----------
    shape : sequence of int
        At least two dimensions.
    layout : {'in_out', 'out_in'}
        ``'in_out'`` (default; initcore, Keras and JAX) reads a dense weight as
        ``(fan_in, fan_out)`` and a convolution kernel as
        ``(*kernel, in_channels, out_channels)``, matching ``y = x @ W``.
        ``'out_in'`` reads PyTorch's ``(out, in, *kernel)``.

    Returns
    -------
    fan_in, fan_out : int
        Channels times the receptive-field size (the product of the kernel
        dimensions).

    Raises
    ------
    ValueError
        For fewer than two dimensions or an unknown layout.

    Notes
    -----
    The same weight read in the wrong layout swaps the fans, which silently
    changes every fan-dependent initializer; see the README.

    Examples
    --------
    >>> fans((3, 3, 64, 128))
    (576, 1152)
    >>> fans((128, 64, 3, 3), layout="out_in")
    (576, 1152)
    """
    shape = as_shape(shape)
    layout = choice("layout", layout, LAYOUTS)
    if len(shape) < 2:
        raise ValueError(f"fans need a shape with at least 2 dimensions, got {shape}")
    if layout == "in_out":
        kernel, channels_in, channels_out = shape[:-2], shape[-2], shape[-1]
    else:
        channels_out, channels_in, kernel = shape[0], shape[1], shape[2:]
    receptive = math.prod(kernel)
    return channels_in * receptive, channels_out * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table).

    =================== =======================
    nonlinearity        gain
    =================== =======================
    linear, conv*, sigmoid  1
    tanh                5/3
    relu                sqrt(2)
    leaky_relu          sqrt(2 / (1 + a^2)), a = param (default 0.01)
    selu                3/4
    =================== =======================

    Parameters
    ----------
    nonlinearity : str
        Case-insensitive name from the table.
    param : float, optional
        Negative slope of ``leaky_relu``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For an unknown name or a bad slope.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
       ICCV 2015 (the relu and leaky_relu gains).
    .. [2] X. Glorot and Y. Bengio, "Understanding the difficulty of training
       deep feedforward neural networks", AISTATS 2010.

    Examples
    --------
    >>> calculate_gain("leaky_relu", 0.2)
    1.386750490563073
    """
    name = choice("nonlinearity", nonlinearity, NONLINEARITIES)
    if name in _UNIT_GAIN:
        return 1.0
    if name == "tanh":
        return 5.0 / 3.0
    if name == "relu":
        return math.sqrt(2.0)
    if name == "selu":
        return 3.0 / 4.0
    slope = 0.01 if param is None else real("param (negative slope)", param)
    return math.sqrt(2.0 / (1.0 + slope * slope))
