"""The activation registry: one table of nonlinearities, their parameters and
derivatives, shared by the compiled kernels, the simulator and the mean-field
theory.

Names are case-insensitive. The C code (``initcore.networks._layers``) evaluates
float64 arrays in double precision (libm) and float32 arrays with vectorized
float32 kernels held to 4 float32 ulp (``src/actmath.h``); the fused layer
kernels use the same two paths.
"""
import dataclasses
import math

import numpy as np

from ..common.validation import real, real_array

__all__ = ["ACTIVATIONS", "ALIASES", "Activation", "activation", "get_activation", "list_activations"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """One registry entry.

    Attributes
    ----------
    name : str
    id : int
        Index of the C implementation.
    param_name : str or None
        Name of the activation's parameter, if it has one.
    default : float
        The parameter's default (0 when there is none).
    reference : str
        Where the function comes from.
    bounds : tuple of float or None
        The closed range of phi, when bounded.
    saturates : bool
        Whether phi flattens toward its bounds, so that units "saturate"
        (tanh, sigmoid, erf, hardtanh).
    """

    name: str
    id: int
    param_name: str | None = None
    default: float = 0.0
    reference: str = ""
    bounds: tuple | None = None
    saturates: bool = False

    def saturation_band(self, threshold=0.99):
        """The interval outside which an activation value counts as saturated.

        A value saturates when it lies within ``1 - threshold`` of a bound of
        phi: for tanh that is |phi| > threshold, for sigmoid phi outside
        [1 - threshold, threshold]. Activations that do not saturate get
        (-inf, inf).
        """
        threshold = real("saturation", threshold, low=0.0)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"saturation must lie strictly between 0 and 1, got {threshold}")
        if not self.saturates:
            return -math.inf, math.inf
        lo, hi = self.bounds
        return lo + (1.0 - threshold), hi - (1.0 - threshold)


_TABLE = (
    Activation("linear", 0),
    Activation("relu", 1, reference="Nair & Hinton, ICML 2010"),
    Activation("leaky_relu", 2, "negative_slope", 0.01, reference="Maas et al., ICML 2013"),
    Activation("elu", 3, "alpha", 1.0, reference="Clevert et al., ICLR 2016"),
    Activation("selu", 4, reference="Klambauer et al., NeurIPS 2017"),
    Activation("gelu", 5, reference="Hendrycks & Gimpel, arXiv:1606.08415 (exact erf form)"),
    Activation("gelu_tanh", 6, reference="Hendrycks & Gimpel, arXiv:1606.08415 (tanh approximation)"),
    Activation("silu", 7, reference="Elfwing et al. 2018; Ramachandran et al. 2017 (swish)"),
    Activation("softplus", 8, reference="Dugas et al., NeurIPS 2000"),
    Activation("tanh", 9, bounds=(-1.0, 1.0), saturates=True),
    Activation("sigmoid", 10, bounds=(0.0, 1.0), saturates=True),
    Activation("erf", 11, reference="Williams, NeurIPS 1997", bounds=(-1.0, 1.0), saturates=True),
    Activation("hardtanh", 12, bounds=(-1.0, 1.0), saturates=True),
    Activation("sin", 13, reference="Sitzmann et al., NeurIPS 2020 (SIREN)", bounds=(-1.0, 1.0)),
)
ACTIVATIONS = {entry.name: entry for entry in _TABLE}
ALIASES = {"swish": "silu", "identity": "linear"}


def list_activations(aliases=False):
    """Registered activation names, sorted; with ``aliases=True`` the aliases too."""
    return sorted(list(ACTIVATIONS) + (list(ALIASES) if aliases else []))


def get_activation(name, param=None):
    """The registry entry for `name` and its parameter value.

    Parameters
    ----------
    name : str
        Case-insensitive name or alias.
    param : float, optional
        The activation's parameter (e.g. leaky_relu's negative slope); its
        default when omitted.

    Returns
    -------
    entry : Activation
    param : float

    Raises
    ------
    ValueError
        For an unknown name, or a parameter given to an activation without one.
    """
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name, got {name!r}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of: {', '.join(list_activations(aliases=True))}")
    entry = ACTIVATIONS[key]
    if param is None:
        return entry, entry.default
    if entry.param_name is None:
        raise ValueError(f"activation {entry.name!r} takes no parameter, got param={param!r}")
    return entry, real(entry.param_name, param)


def activation(name, x, *, param=None, derivative=False, out=None):
    """phi(x), or phi'(x) with ``derivative=True``, element-wise.

    Parameters
    ----------
    name : str
        A registered activation (see `list_activations`).
    x : array_like
        Pre-activations, real numbers; float32 stays float32, anything else
        becomes float64.
    param : float, optional
        The activation's parameter.
    derivative : bool
        Return phi' instead of phi. At kinks it takes PyTorch autograd's
        values (0 for relu at 0 and hardtanh at +-1).
    out : numpy.ndarray, optional
        C-contiguous array of x's shape and dtype to write into.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        For x that is not real numbers (complex, object or text values).
    ValueError
        For an unknown name, a ragged x, or an `out` that does not fit.

    Examples
    --------
    >>> activation("tanh", [0.0, 1.0])
    array([0.        , 0.76159416])
    """
    entry, param = get_activation(name, param)
    x = real_array("x", x)
    dtype = np.dtype(np.float32) if x.dtype == np.float32 else np.dtype(np.float64)
    z = np.asarray(x, dtype=dtype, order="C")  # keeps 0-d input 0-d
    if out is None:
        out = np.empty_like(z)
    elif not isinstance(out, np.ndarray) or out.shape != z.shape or out.dtype != dtype \
            or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous {dtype.name} array of shape {z.shape}")
    from . import _layers

    _layers.activation(entry.id, param, z.reshape(-1), out.reshape(-1), bool(derivative))
    return out
