"""The part of LSUV (Mishkin & Matas 2016) that does not depend on how a
layer is run: the per-layer rescaling loop, the checks of its settings and
the result, shared by `initcore.lsuv` (the fused layer kernels) and
`initcore.torch.lsuv_` (PyTorch forward hooks)."""
import math
import warnings

import numpy as np

from .tables import cell, text_table
from .validation import integer, real

__all__ = ["LSUVResult", "MEASURED", "check_settings", "rescale_to_unit_variance"]

# What each `measure` of a result measured.
MEASURED = {"pre": "pre-activations", "post": "activations"}
_COLUMNS = (("layer", ""), ("width", "d"), ("scale", ".4g"), ("iterations", "d"), ("variance", ".6g"),
            ("converged", "s"))


class LSUVResult:
    """What `initcore.lsuv` or `initcore.torch.lsuv_` did to each layer.

    Attributes
    ----------
    layers : list of int or str
        Each layer's number (1 for the first of an `MLP`) or name (a torch
        module's qualified name).
    widths : list of int
        Each layer's width (output features or channels).
    scales : list of float
        The factor each layer's weights were multiplied by, after the
        orthogonal pre-initialization when there was one (the product of the
        iterations' factors).
    iterations : list of int
        Rescalings of each layer (0 when its variance was within `tol` at once).
    variances : list of float
        Each layer's output variance on the batch after its last rescaling.
    measure, tol, max_iter
        The settings of the run.
    """

    def __init__(self, layers, widths, scales, iterations, variances, measure, tol, max_iter):
        self.layers, self.widths = layers, widths
        self.scales, self.iterations, self.variances = scales, iterations, variances
        self.measure, self.tol, self.max_iter = measure, tol, max_iter

    @property
    def converged(self):
        """Whether each variance is within `tol` of 1, a list of bool."""
        return [abs(v - 1.0) <= self.tol for v in self.variances]

    def __len__(self):
        return len(self.scales)

    def __repr__(self):
        return (f"<LSUVResult: {len(self)} layers, {sum(self.iterations)} rescalings, "
                f"{sum(self.converged)} converged>")

    def rows(self):
        """One dict per layer: layer, width, scale, iterations, variance, converged."""
        return [{"layer": layer, "width": width, "scale": s, "iterations": n, "variance": v,
                 "converged": "yes" if ok else "no"}
                for layer, width, s, n, v, ok in zip(self.layers, self.widths, self.scales, self.iterations,
                                                      self.variances, self.converged)]

    def table(self):
        """A readable per-layer table."""
        body = [[cell(row[key], fmt) for key, fmt in _COLUMNS] for row in self.rows()]
        return (f"LSUV: variance of the {MEASURED[self.measure]} to 1 within {self.tol:g}, at most {self.max_iter} "
                f"rescalings per layer\n" + text_table([key for key, _ in _COLUMNS], body))

    def __str__(self):
        return self.table()


def check_settings(tol, max_iter, orthogonal):
    """`tol` (>= 0) and `max_iter` (>= 1), checked; TypeError unless
    `orthogonal` is a bool."""
    if not isinstance(orthogonal, (bool, np.bool_)):
        raise TypeError(f"orthogonal must be True or False, got {orthogonal!r}")
    return real("tol", tol, low=0.0), integer("max_iter", max_iter, low=1)


def rescale_to_unit_variance(measure, rescale, tol, max_iter, what):
    """Mishkin & Matas' loop for one layer: while ``measure()``, the
    variance of its output on the batch, is not within `tol` of 1 and fewer
    than `max_iter` rescalings were made, ``rescale(factor)`` multiplies
    its weights by ``factor = 1 / sqrt(variance)``. Returns ``(scale,
    rescalings, variance)``, scale the product of the factors; warns when
    the variance is still off. `what` names the layer's output in messages."""
    scale, count = 1.0, 0
    while True:
        variance = measure()
        if not math.isfinite(variance):
            raise ValueError(f"{what} have variance {variance} on x: LSUV cannot rescale it")
        if not variance > 0.0:
            raise ValueError(f"{what} have variance {variance:g} on x: no rescaling of its weights can make it 1")
        if abs(variance - 1.0) <= tol or count == max_iter:
            break
        factor = 1.0 / math.sqrt(variance)
        rescale(factor)
        scale *= factor
        count += 1
    if abs(variance - 1.0) > tol:
        warnings.warn(f"lsuv: {what} have variance {variance:.6g} after {max_iter} rescalings, not within "
                      f"tol={tol:g} of 1", RuntimeWarning, stacklevel=3)
    return scale, count, variance
