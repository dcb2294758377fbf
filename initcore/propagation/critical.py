"""The ``critical`` initializer spec: each layer's (sigma_w2, sigma_b2) on
the order-to-chaos line of its activation, where chi1 = 1.

``MLP(widths, activation, init="critical:sigma_b2=0.05")`` draws each
layer's weights from N(0, sigma_w2 / n_in) with sigma_w2 from
`initcore.meanfield.critical_line`, and (with ``bias="auto"``) its biases
from N(0, sigma_b2). The spec is resolved here, not in `initcore.networks`
where `MLP` parses specs, because it needs mean-field theory, which is built
on the networks; `MLP` keeps a small registry of such specs
(`initcore.networks.mlp.register_resolver`) that this module fills when
`initcore.propagation` loads.

References
----------
S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein, "Deep
Information Propagation", ICLR 2017, arXiv:1611.01232.
"""
import functools
import math

from ..common.validation import real
from ..networks.mlp import register_resolver

__all__ = ["critical_sigma_w2"]


@functools.lru_cache(maxsize=256)
def critical_sigma_w2(activation, sigma_b2=0.0, param=None):
    """sigma_w2 on the critical line (chi1 = 1) of `activation` at `sigma_b2`.

    Parameters
    ----------
    activation : str
        A registered activation (`initcore.activations`).
    sigma_b2 : float
        The bias variance, >= 0.
    param : float, optional
        The activation's parameter (e.g. leaky_relu's negative slope).

    Returns
    -------
    float
        1 / E[phi'(sqrt(q*) z)^2] at the fixed point q* of the length map
        (`initcore.meanfield.critical_line`). For relu at sigma_b2 = 0 it is
        2, He's variance, exactly (leaky_relu: 2 / (1 + a^2), linear: 1).

    Raises
    ------
    ValueError
        Where `activation` has no critical point at `sigma_b2`, saying why:
        relu, leaky_relu and linear have theirs only at sigma_b2 = 0 (above
        it the length map has no fixed point: q^l grows by sigma_b2 every
        layer, so no finite q* exists where chi1 = 1 could hold); softplus
        has no critical line at all (on it sigma_b2 would be negative for
        every q*). Also for a negative or non-finite sigma_b2.

    References
    ----------
    S. S. Schoenholz et al., ICLR 2017, Eq. (5) and Fig. 1; B. Poole et al.,
    NeurIPS 2016.

    Examples
    --------
    >>> critical_sigma_w2("relu")
    2.0
    >>> round(critical_sigma_w2("tanh", 0.05), 4)
    1.761
    """
    from . import meanfield

    return float(meanfield.critical_line(activation, sigma_b2, param=param))


def _resolve(params, activation, param, shape):
    """``critical[:sigma_b2=...]`` of one (n_in, n_out) layer as a normal
    initializer with std sqrt(sigma_w2) / sqrt(n_in) (He's formula, so that
    relu gives He's draws bit for bit), and its sigma_b2."""
    sigma_b2 = params.pop("sigma_b2", 0.0)
    if params:
        raise ValueError(f"critical takes the one parameter 'sigma_b2', got {', '.join(map(repr, params))}")
    sigma_b2 = real("sigma_b2", sigma_b2, low=0.0)
    sigma_w2 = critical_sigma_w2(activation, sigma_b2, param)
    return ("normal", {"std": math.sqrt(sigma_w2) / math.sqrt(shape[0])}), sigma_b2


register_resolver("critical", _resolve)
