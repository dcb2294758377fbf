"""Layer-sequential unit-variance initialization (LSUV, Mishkin & Matas 2016):
each layer's weights rescaled on a data batch until its output has variance 1,
measured by the fused layer kernels."""
import numpy as np

from ..common.lsuv import MEASURED, LSUVResult, check_settings, rescale_to_unit_variance
from ..common.validation import choice
from ..fills.generator import as_generator
from ..fills.initializers import expected_moments
from ..fills.initializers import orthogonal as _orthogonal
from ..networks import _layers
from ..networks.activations import get_activation
from ..networks.mlp import MLP
from .simulate import FIELDS, _moments

__all__ = ["LSUVResult", "lsuv"]

# What `measure` selects: the kernel's moments of z (pre-activations) or of a.
_MEASURES = {"pre": slice(0, len(FIELDS)), "post": slice(len(FIELDS), 2 * len(FIELDS))}


def lsuv(net, x, *, tol=0.1, max_iter=10, measure="pre", orthogonal=True, seed=None):
    """Layer-sequential unit-variance initialization of `net`, in place.

    For each layer in order: draw its weights from `initcore.orthogonal`
    (with ``orthogonal=True``), then, on the batch `x` pushed through the
    layers below, measure the variance of the layer's output and divide the
    weights by its square root, until it is 1 within `tol` or after
    `max_iter` rescalings. Each measurement is one call of the fused layer
    kernel, which computes the moments in the pass that computes the layer.

    Parameters
    ----------
    net : MLP
        Changed in place: its weights, ``sigma_w2`` and ``labels``
        (``"orthogonal+lsuv"``, or the old label with ``"+lsuv"``).
        The biases are left as they are.
    x : array_like
        The data batch, of shape (batch, n_0).
    tol : float
        A layer is done when ``|variance - 1| <= tol``.
    max_iter : int
        At most this many rescalings per layer (>= 1).
    measure : {"pre", "post"}
        Measure the variance of the pre-activations ``h = a W + b``
        (default: the output of Mishkin & Matas' convolution and
        fully connected layers, before the nonlinearity, which is a layer of
        its own there) or of the activations ``phi(h)`` (refused for
        activations bounded within an interval of length 2 or less, such as
        tanh and sigmoid, whose variance cannot reach 1).
    orthogonal : bool
        Start from orthogonal weights (the method's first step); False
        rescales the weights the network has.
    seed : int, None, SeedSequence or Generator
        Draws the orthogonal weights.

    Returns
    -------
    LSUVResult
        The per-layer scales, rescalings and final variances.

    Raises
    ------
    ValueError
        For a bounded activation with ``measure="post"``, or a layer whose
        output has variance 0 (no rescaling can change
        it) or values that are not finite on `x`.

    Warns
    -----
    RuntimeWarning
        When a layer is not within `tol` after `max_iter` rescalings.

    Notes
    -----
    With zero biases and ``measure="pre"``, ``h`` is linear in the weights,
    so one rescaling sets its variance to 1 up to rounding; with biases or
    on the activations it takes a few.

    References
    ----------
    D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016,
    arXiv:1511.06422, Algorithm 1.

    Examples
    --------
    >>> import initcore
    >>> net = initcore.MLP([64] * 21, activation="tanh", init="normal:std=1", seed=0)
    >>> x = initcore.normal((256, 64), seed=1)
    >>> result = initcore.lsuv(net, x, seed=2)
    >>> max(abs(v - 1) for v in result.variances) <= 0.1
    True
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an initcore.MLP, got {type(net).__name__}")
    tol, max_iter = check_settings(tol, max_iter, orthogonal)
    measure = choice("measure", measure, tuple(_MEASURES))
    if measure == "post":
        for index, (name, _) in enumerate(net.activations):
            bounds = get_activation(name)[0].bounds
            if bounds is not None and (bounds[1] - bounds[0]) ** 2 / 4 <= 1.0:
                raise ValueError(
                    f"measure='post' needs activations that can have variance 1, but layer {index + 1}'s "
                    f"{name} lies in [{bounds[0]:g}, {bounds[1]:g}], where the variance is below "
                    f"{(bounds[1] - bounds[0]) ** 2 / 4:g} short of saturating every unit; use measure='pre'")
    a_in = net.input(x)
    generator = as_generator(seed)
    fields = _MEASURES[measure]
    scales, iterations, variances = [], [], []
    for index, (w, b, act_id, param), out in net.ping_pong(a_in.shape[0]):
        what = f"layer {index + 1}'s {MEASURED[measure]}"
        if orthogonal:
            _orthogonal(w.shape, seed=generator, dtype=net.dtype, out=w)
            net.sigma_w2[index] = w.shape[0] * expected_moments("orthogonal", w.shape)[1] ** 2
            net.labels[index] = "orthogonal"

        def measured():
            moments = np.zeros(2 * len(FIELDS))
            _layers.forward(a_in, w, b, None, out, act_id, param, _layers.Stats(moments))
            stats = _moments(moments[fields])
            if stats["nan"] or stats["inf"]:
                raise ValueError(f"{what} are not finite on x ({stats['nan']} NaN, {stats['inf']} infinite): "
                                 f"LSUV cannot rescale it")
            return stats["var"]

        def rescale(factor):
            np.multiply(w, w.dtype.type(factor), out=w)

        scale, count, variance = rescale_to_unit_variance(measured, rescale, tol, max_iter, what)
        net.sigma_w2[index] *= scale * scale
        net.labels[index] += "+lsuv"
        scales.append(scale)
        iterations.append(count)
        variances.append(variance)
        a_in = out
    return LSUVResult(list(range(1, net.depth + 1)), net.widths[1:], scales, iterations, variances,
                      measure, tol, max_iter)
