"""Mean-field theory of signal propagation in deep random networks.

A fully connected network with weights ``W_ij ~ N(0, sigma_w2 / N)`` and
biases ``b_i ~ N(0, sigma_b2)`` has, in the limit of infinite width, Gaussian
pre-activations at every layer. Their second moment ``q`` and the correlation
``c`` between two inputs follow deterministic maps (Poole et al. 2016):

* length map: ``q_{l+1} = sigma_w2 E[phi(sqrt(q_l) z)^2] + sigma_b2``;
* correlation map: ``c_{l+1} = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q*``
  with ``u1 = sqrt(q*) z1``, ``u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)``;

and their fixed points and slopes set the depth scales over which signals
and gradients propagate (Schoenholz et al. 2017).

Every Gaussian expectation here is computed numerically for every activation
in the registry (`initcore.activations`; phi and phi' come from its C code),
for second moments ``q`` from 0 to beyond 1e6, to about 1e-13 relative in one
dimension and 1e-11 in two (measured against closed forms and scipy quad; an
expectation that cancels to far below the size of its integrand, such as
E[sin(u1) sin(u2)] = 1e-31, is accurate to that size instead). The rule works
in pre-activation space ``u = sqrt(q) z`` with composite 16-point
Gauss-Legendre quadrature on segments whose breakpoints are the union of

* ``mean + sd * {-12, -11, ..., 12}``, which resolves the Gaussian weight
  (the mass beyond 12 standard deviations, 3.6e-33, is dropped);
* ``0, +-2^k`` (k >= -1) inside that window, which resolves the activation
  where it bends (|u| of a few units) and its kinks (0 for the relu family,
  +-1 for hardtanh), however wide the Gaussian;
* for sin, a uniform subdivision of the window into pieces no wider than pi,
  so every oscillation is resolved.

Plain Gauss-Hermite quadrature, in contrast, puts almost no nodes where a
saturating activation bends once ``q`` is large: with 200 nodes, tanh's
E[phi'^2] is wrong by 58% at ``q = 100`` and by 100% at ``q = 1e4``. Two-dimensional expectations are iterated integrals: an outer
rule in ``u1`` and, at each outer node, an inner rule for ``u2 | u1 ~
N(c u1, q (1 - c^2))`` built the same way (so kinks of phi(u2) are
breakpoints of the inner rule; the outer rule also breaks where the smoothed
kinks sit, at ``k / c``). The number of nodes for sin grows like ``sqrt(q)``
(``q`` for 2-D expectations: a correlation map at q = 1e4 takes seconds);
beyond a budget (q ~ 1e9 in 1-D) a ValueError says so.

References
----------
.. [1] B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli,
   "Exponential expressivity in deep neural networks through transient
   chaos", NeurIPS 2016, arXiv:1606.05340.
.. [2] S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein, "Deep
   Information Propagation", ICLR 2017, arXiv:1611.01232.
"""
import math

import numpy as np
from scipy import optimize

from ..networks.activations import activation as _phi
from ..networks.activations import get_activation
from ..common.validation import integer, real, real_array

__all__ = [
    "chi1",
    "correlation_map",
    "critical_line",
    "depth_scales",
    "fixed_point_c",
    "fixed_point_q",
    "gaussian_moments",
    "length_map",
    "predict_network",
    "predict_q",
]

# ---------------------------------------------------------------------------
# Quadrature
# ---------------------------------------------------------------------------
_GL_ORDER = 16
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)
_WINDOW = 12.0  # half-width of the integration window, in standard deviations
_SD_GRID = np.arange(-_WINDOW, _WINDOW + 1.0)
# Offsets (in units of the conditional sd) around a kink of the inner
# integrand, where E[phi(u2) | u1] changes fast when c is near +-1.
_KINK_OFFSETS = np.array([-8.0, -4.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
_KINKS = np.array([-1.0, 0.0, 1.0])
# Activations that oscillate for ever: the widest segment allowed, in u.
_MAX_SEGMENT = {"sin": math.pi}
_MAX_SEGMENTS_PER_ROW = 250_000
_MAX_EVALUATIONS_2D = 200_000_000
_INNER_ROWS = 48  # outer nodes per block of inner rules
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Standing in for q -> 0+ (limits at a zero fixed point).
_Q_TINY = 1e-200
# Upward search for a fixed point of the length map stops here (reported inf):
# larger q counts as infinite, so sigma_w2 and sigma_b2 may not exceed it.
_Q_HUGE = 1e100
# The correlation scan toward 1 stops this close to 1 (c* = 1 beyond).
_C_GAP = 1e-10
# |length_map(q) - q| below this times q counts as zero.
_IDENTITY_TOL = 1e-12
# |ln chi| below this (a few roundings) makes a depth scale infinite.
_XI_TOL = 1e-15
# critical_line tabulates sigma_b2(q*) up to this q*.
_Q_LINE_MAX = 1e30
# predict_q takes one quadrature per layer (50-100 us) until q^l is stationary:
# at most this many, ~15 s.
_DEPTH_MAX = 100_000


def _features(lo, hi):
    """The points 0 and +-2^k (k >= -1) inside [lo, hi]."""
    limit = max(abs(lo), abs(hi))
    if not limit >= 0.5:
        points = np.array([0.0])
    else:
        powers = np.ldexp(1.0, np.arange(-1, math.floor(math.log2(limit)) + 1))
        points = np.concatenate([[0.0], powers, -powers])
    return points[(points >= lo) & (points <= hi)]


def _rule(name, mean, sd, extra=None):
    """Nodes and weights for E[f(u)], u ~ N(mean, sd^2), one rule per row.

    mean, sd : 1-D arrays of equal length R (sd >= 0).
    extra : None, or an array of breakpoints broadcastable to (R, m).
    Returns x, w of shape (R, K); ``sum(w * f(x), axis=1)`` is the expectation.
    """
    mean = np.asarray(mean, dtype=np.float64)
    sd = np.asarray(sd, dtype=np.float64)
    rows = mean.shape[0]
    lo = mean - _WINDOW * sd
    hi = mean + _WINDOW * sd
    parts = [mean[:, None] + sd[:, None] * _SD_GRID,
             np.clip(_features(float(lo.min()), float(hi.max()))[None, :], lo[:, None], hi[:, None])]
    if extra is not None:
        parts.append(np.clip(np.broadcast_to(extra, (rows, np.shape(extra)[-1])),
                             lo[:, None], hi[:, None]))
    width = _MAX_SEGMENT.get(name)
    if width is not None:
        pieces = math.ceil(float(np.max(hi - lo)) / width)
        if pieces > _MAX_SEGMENTS_PER_ROW:
            raise ValueError(
                f"q={float(np.max(sd)) ** 2:.6g} is too large for the oscillating activation "
                f"{name!r}: resolving every period would take {pieces} quadrature segments "
                f"(limit {_MAX_SEGMENTS_PER_ROW})")
        if pieces > 1:
            parts.append(np.linspace(lo, hi, pieces + 1, axis=1))
    points = np.sort(np.concatenate(parts, axis=1), axis=1)
    half = 0.5 * (points[:, 1:] - points[:, :-1])
    mid = 0.5 * (points[:, 1:] + points[:, :-1])
    x = (mid[:, :, None] + half[:, :, None] * _GL_X).reshape(rows, -1)
    degenerate = sd == 0
    safe_sd = np.where(degenerate, 1.0, sd)
    z = (x - mean[:, None]) / safe_sd[:, None]
    w = ((half[:, :, None] * _GL_W).reshape(rows, -1)
         * np.exp(-0.5 * z * z) * (_INV_SQRT_2PI / safe_sd[:, None]))
    if degenerate.any():  # a point mass at the mean
        x[degenerate] = mean[degenerate, None]
        w[degenerate] = 0.0
        w[degenerate, 0] = 1.0
    # the window holds all but 3.6e-33 of the mass: make E[1] = 1 to rounding
    w /= np.sum(w, axis=1, keepdims=True)
    return x, w


class _Act:
    """An activation resolved once: phi and phi' through the registry."""

    def __init__(self, name, param):
        entry, value = get_activation(name, param)
        self.entry = entry
        self.name = entry.name
        self.param = value if entry.param_name is not None else None

    def phi(self, x):
        return _phi(self.name, x, param=self.param)

    def dphi(self, x):
        return _phi(self.name, x, param=self.param, derivative=True)

    def moments(self, q):
        """E[phi^2], E[phi'^2] and E[u phi phi'] for u ~ N(0, q), per q."""
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        x, w = _rule(self.name, np.zeros_like(q), np.sqrt(q))
        f = self.phi(x)
        d = self.dphi(x)
        return (np.sum(w * f * f, axis=1), np.sum(w * d * d, axis=1),
                np.sum(w * (x * f * d), axis=1))

    def moments2(self, q, c):
        """Expectations over (u1, u2) with Var u1 = Var u2 = q, corr = c.

        Returns E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)], E[phi(u1)^2] and
        E[phi(u1) (phi(u1) - phi(u2))], all with the same outer rule (so c = 1
        gives a correlation map of exactly 1, and the last, which is O(1 - c),
        keeps its relative accuracy as c -> 1).
        """
        sd = math.sqrt(q)
        s = sd * math.sqrt((1.0 - c) * (1.0 + c))
        extra = None
        if c != 0.0 and s < abs(c) * sd:
            # E[phi(u2) | u1] bends where c u1 meets a feature of phi, on the
            # scale s / |c| (kinks) or 1 / |c| (smooth bends)
            reach = abs(c) * _WINDOW * sd
            shifted = np.concatenate([_features(-reach, reach) / c,
                                      (_KINKS[:, None] / c + (s / abs(c)) * _KINK_OFFSETS).ravel()])
            extra = shifted[np.abs(shifted) <= _WINDOW * sd][None, :]
        x1, w1 = _rule(self.name, np.zeros(1), np.array([sd]), extra)
        x1, w1 = x1[0], w1[0]
        f1 = self.phi(x1)
        d1 = self.dphi(x1)
        phi2 = float(np.sum(w1 * f1 * f1))
        if s == 0.0:
            f2 = self.phi(c * x1)
            d2 = self.dphi(c * x1)
            return (float(np.sum(w1 * f1 * f2)), float(np.sum(w1 * d1 * d2)), phi2,
                    float(np.sum(w1 * f1 * (f1 - f2))))
        hf = np.empty_like(x1)
        hd = np.empty_like(x1)
        start = 0
        while start < x1.size:
            stop = min(start + _INNER_ROWS, x1.size)
            x2, w2 = _rule(self.name, c * x1[start:stop], np.full(stop - start, s))
            if start == 0 and x2.shape[1] * x1.size > _MAX_EVALUATIONS_2D:
                raise ValueError(
                    f"q={q:.6g} is too large for a 2-D expectation of the oscillating activation "
                    f"{self.name!r}: it would take about {x2.shape[1] * x1.size} evaluations "
                    f"(limit {_MAX_EVALUATIONS_2D})")
            hf[start:stop] = np.sum(w2 * self.phi(x2), axis=1)
            hd[start:stop] = np.sum(w2 * self.dphi(x2), axis=1)
            start = stop
        return (float(np.sum(w1 * f1 * hf)), float(np.sum(w1 * d1 * hd)), phi2,
                float(np.sum(w1 * f1 * (f1 - hf))))


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------
def _real_array(name, value):
    """`value` as a float64 array of finite real numbers."""
    array = real_array(name, value, kinds="iuf").astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must be finite, got {float(array[bad].flat[0])}")
    return array


def _nonnegative_array(name, value):
    """`value` as a float64 array of finite numbers >= 0."""
    array = _real_array(name, value)
    bad = array < 0
    if bad.any():
        raise ValueError(f"{name} must be at least 0, got {float(array[bad].flat[0])}")
    return array


def _variance(name, value):
    """A variance in [0, _Q_HUGE]: q* >= sigma_b2, and q beyond _Q_HUGE
    counts as infinite, so a larger one would only be misreported."""
    result = real(name, value, low=0.0)
    if result > _Q_HUGE:
        raise ValueError(f"{name} must be at most {_Q_HUGE:g}, got {result:g}")
    return result


def _common(activation, sigma_w2, sigma_b2, param):
    act = _Act(activation, param)
    sigma_w2 = _variance("sigma_w2", sigma_w2)
    sigma_b2 = _variance("sigma_b2", sigma_b2)
    return act, sigma_w2, sigma_b2


def _correlation(name, value):
    c = real(name, value)
    if not -1.0 <= c <= 1.0:
        raise ValueError(f"{name} must lie in [-1, 1], got {c}")
    return c


# ---------------------------------------------------------------------------
# Internals on resolved arguments
# ---------------------------------------------------------------------------
def _length(act, q, sigma_w2, sigma_b2):
    phi2, _, _ = act.moments(q)
    return sigma_w2 * phi2 + sigma_b2


def _fixed_q(act, sigma_w2, sigma_b2, q0):
    """The fixed point reached by iterating the length map from q0."""
    def g(q):
        return _length(act, q, sigma_w2, sigma_b2) - q

    zero_fixed = float(_length(act, 0.0, sigma_w2, sigma_b2)[0]) == 0.0
    if q0 == 0.0:
        if zero_fixed:
            return 0.0
        q0 = float(_length(act, 0.0, sigma_w2, sigma_b2)[0])
    g0 = float(g(q0)[0])
    if abs(g0) <= _IDENTITY_TOL * q0:
        return q0  # the map is the identity at q0 to rounding (e.g. relu, sigma_w2 = 2)
    direction = 1.0 if g0 > 0 else -1.0
    # march in factors of 2 (in blocks) to the first sign change of g
    previous = q0
    previous_flat = False
    k = 0
    while True:
        grid = q0 * np.exp2(direction * np.arange(k + 1, k + 9))
        grid = grid[grid <= _Q_HUGE] if direction > 0 else grid[grid >= 1e-300]
        if grid.size == 0:
            return math.inf if direction > 0 else 0.0
        values = g(grid)
        for q, value in zip(grid, values):
            flat = abs(value) <= _IDENTITY_TOL * q
            if flat and previous_flat and (direction > 0 or zero_fixed):
                # The map is the identity to rounding at two points a factor 2
                # apart (no simple root does that): q^l drifts by sigma_b2 per
                # layer (q* = inf, e.g. relu at sigma_w2 = 2) or decays to 0
                # algebraically (at criticality, e.g. tanh at sigma_w2 = 1).
                return math.inf if direction > 0 else 0.0
            if value == 0.0:
                return float(q)
            if (value > 0) != (g0 > 0):
                a, b = sorted((previous, q))
                return optimize.brentq(lambda t: float(g(t)[0]), a, b, xtol=1e-300,
                                       rtol=4 * np.finfo(float).eps, maxiter=200)
            previous, previous_flat = q, flat
        k += 8


def _c_map(act, c, q, sigma_w2, sigma_b2):
    """The correlation map and its distance from the diagonal, c_map(c) - c
    (computed as (1 - c) - (1 - c_map(c)), accurate relative to 1 - c)."""
    pp, _, phi2, diff = act.moments2(q, c)
    denominator = sigma_w2 * phi2 + sigma_b2
    if denominator == 0.0:
        return math.nan, math.nan
    if c == 1.0:
        return 1.0, 0.0
    return (sigma_w2 * pp + sigma_b2) / denominator, (1.0 - c) - sigma_w2 * diff / denominator


def _fixed_c(act, q_star, sigma_w2, sigma_b2, c0):
    """The fixed point of the correlation map reached by iterating from c0.

    The map is increasing on [0, 1], so iteration moves monotonically toward
    the nearest fixed point in the direction of c_map(c0) - c0; it is located
    by a scan in that direction and brentq.
    """
    if not 0.0 < q_star < math.inf:
        return math.nan
    if c0 == 1.0:
        return 1.0

    def g(c):
        return _c_map(act, c, q_star, sigma_w2, sigma_b2)[1]

    g0 = g(c0)
    if g0 == 0.0:
        return c0
    if g0 > 0:
        # toward 1: 1 - (1 - c0) 8^-k, until 1 - c <= 1e-10
        grid = [1.0 - (1.0 - c0) * 8.0 ** -k for k in range(1, 40)]
        grid = [c for c in grid if 1.0 - c >= _C_GAP] + [1.0 - _C_GAP]
        grid = [c for c in grid if c > c0]
    else:
        grid = np.linspace(c0, -1.0, 17)[1:]
    previous = c0
    for c in grid:
        value = g(c)
        if value == 0.0:
            return float(c)
        if (value > 0) != (g0 > 0):
            return optimize.brentq(g, min(previous, c), max(previous, c),
                                   xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
        previous = c
    return 1.0 if g0 > 0 else -1.0


def _xi(chi):
    """-1 / ln(chi): positive for chi < 1, infinite at chi = 1 (to within
    _XI_TOL, rounding), negative above; 0 for chi = 0."""
    if math.isnan(chi):
        return math.nan
    if chi <= 0:
        return 0.0
    log = math.log(chi)
    return math.inf if abs(log) <= _XI_TOL else -1.0 / log


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
_SHARED = """
    activation : str
        A registered activation (`initcore.activations.list_activations`).
    sigma_w2 : float
        Weight variance times fan-in, 0 <= sigma_w^2 <= 1e100 (W_ij ~ N(0, sigma_w2 / N)).
    sigma_b2 : float
        Bias variance, 0 <= sigma_b^2 <= 1e100."""
_PARAM = """
    param : float, optional
        The activation's parameter (e.g. leaky_relu's slope); its default when omitted."""


def length_map(activation, q, sigma_w2, sigma_b2, *, param=None):
    """The length map ``sigma_w2 E[phi(sqrt(q) z)^2] + sigma_b2``, z ~ N(0, 1).

    Equation (3) of Poole et al. (2016): the second moment of the next
    layer's pre-activations given this layer's second moment `q`.

    Parameters
    ----------
    activation : str
        A registered activation (`initcore.activations.list_activations`).
    q : float or array_like
        Second moment(s) of the pre-activations, >= 0.
    sigma_w2 : float
        Weight variance times fan-in, 0 <= sigma_w^2 <= 1e100 (W_ij ~ N(0, sigma_w2 / N)).
    sigma_b2 : float
        Bias variance, 0 <= sigma_b^2 <= 1e100.
    param : float, optional
        The activation's parameter (e.g. leaky_relu's slope); its default when omitted.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar `q`, otherwise an array of q's shape.

    References
    ----------
    B. Poole et al., "Exponential expressivity in deep neural networks through
    transient chaos", NeurIPS 2016.

    Examples
    --------
    >>> round(length_map("relu", 1.0, 2.0, 0.0), 12)
    1.0
    >>> length_map("erf", [0.5, 2.0], 1.0, 0.1).round(6)
    array([0.433333, 0.690334])
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    q = _nonnegative_array("q", q)
    result = _length(act, q.ravel(), sigma_w2, sigma_b2).reshape(q.shape)
    return float(result) if q.ndim == 0 else result


def fixed_point_q(activation, sigma_w2, sigma_b2, *, param=None, q0=1.0):
    """The fixed point q* of the length map reached by iterating from `q0`.

    Parameters
    ----------%s%s
    q0 : float
        Where the iteration starts, >= 0.

    Returns
    -------
    float
        q*, to about 1e-14 relative. ``0.0`` when q^l decays to zero (e.g.
        tanh with sigma_b2 = 0 and sigma_w2 <= 1), ``inf`` when q^l grows
        without bound (e.g. relu with sigma_w2 > 2, or sigma_w2 = 2 and
        sigma_b2 > 0) or q* exceeds 1e100. When every q is a fixed point
        (relu with sigma_w2 = 2, sigma_b2 = 0) the iteration stays at q0,
        which is returned.

    Notes
    -----
    The length map is increasing in q for the registered activations, so the
    iteration moves monotonically from q0 to the nearest fixed point on the
    side where ``length_map(q0) - q0`` points; that point is found by marching
    in factors of 2 to the first sign change of ``length_map(q) - q`` and
    refining with Brent's method (no slow iteration near criticality).
    Where ``|length_map(q) - q| <= 1e-12 q`` at two consecutive points of the
    march the map is the identity to rounding: moving up, q^l then drifts by
    sigma_b2 per layer and ``inf`` is returned; moving down toward the fixed
    point 0 (when ``length_map(0) = 0``), the decay is algebraic (critical)
    and ``0.0`` is returned. Fixed points that double precision cannot tell
    apart from those cases (e.g. q* ~ 1e13 for relu at sigma_w2 = 2 - 2e-14)
    are reported the same way.

    Where q* is infinite: for large q, ``E[phi(sqrt(q) z)^2] ~ s q`` with ``s
    = lim E[phi'(sqrt(q) z)^2] = (phi'(+inf)^2 + phi'(-inf)^2) / 2`` (1/2 for
    relu, gelu, softplus, silu, elu; (1 + a^2) / 2 for leaky_relu; 1 for
    linear; 0 for bounded activations such as tanh, sigmoid, sin), so the
    length map grows like ``sigma_w2 s q``. Below ``sigma_w2 = 1 / s`` every
    q0 leads to a finite q*; above it q^l grows geometrically from large
    enough q0 (from every q0 > 0 for relu, leaky_relu and linear, whose map
    is ``sigma_w2 s q + sigma_b2``), and at ``sigma_w2 = 1 / s`` it may drift
    (relu: by sigma_b2 per layer). Bounded activations always have a
    finite q*. `chi1` gives chi1 in the limit q -> inf in that case.

    References
    ----------
    B. Poole et al., NeurIPS 2016 (Eq. 4 and Fig. 1).

    Examples
    --------
    >>> round(fixed_point_q("relu", 1.0, 0.5), 12)
    1.0
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    q0 = real("q0", q0, low=0.0)
    return float(_fixed_q(act, sigma_w2, sigma_b2, q0))


fixed_point_q.__doc__ = fixed_point_q.__doc__ % (_SHARED, _PARAM)


def correlation_map(activation, c, q, sigma_w2, sigma_b2, *, param=None):
    """The correlation map: the next layer's correlation between two inputs.

    ``(sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / (sigma_w2 E[phi(u1)^2] + sigma_b2)``
    with ``u1 = sqrt(q) z1``, ``u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2)``, for two
    inputs whose pre-activations both have second moment `q` and correlation
    `c`. The denominator is ``length_map(q)``, which is q* when ``q = q*``, so
    at the fixed point this is Eq. (5) of Poole et al. (2016); elsewhere it is
    the exact correlation of the next layer, and ``c = 1`` maps to exactly 1.

    Parameters
    ----------
    activation : str
        A registered activation.
    c : float or array_like
        Correlation(s) in [-1, 1].
    q : float
        Second moment of the pre-activations, > 0 (usually q*).
    sigma_w2, sigma_b2 : float
        As in `length_map`.
    param : float, optional
        The activation's parameter.

    Returns
    -------
    float or numpy.ndarray
        NaN where ``length_map(q) = 0`` (both variances zero).

    References
    ----------
    B. Poole et al., NeurIPS 2016, Eq. (5); S. S. Schoenholz et al., ICLR 2017, Eq. (4).

    Examples
    --------
    >>> round(correlation_map("linear", 0.3, 2.0, 1.0, 0.0), 12)
    0.3
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    q = real("q", q, low=0.0, low_open=True)
    cs = _real_array("c", c)
    outside = (cs > 1) | (cs < -1)
    if outside.any():
        raise ValueError(f"c must lie in [-1, 1], got {float(cs[outside].flat[0])!r}")
    result = np.array([_c_map(act, float(v), q, sigma_w2, sigma_b2)[0] for v in cs.ravel()])
    return float(result[0]) if cs.ndim == 0 else result.reshape(cs.shape)


def fixed_point_c(activation, sigma_w2, sigma_b2, *, param=None, c0=0.5, q0=1.0):
    """The fixed point c* of the correlation map (at q*) reached from `c0`.

    c = 1 is always a fixed point; it is stable in the ordered phase
    (chi1 < 1), where c* = 1 is returned, and unstable in the chaotic phase
    (chi1 > 1), where iterating from c0 ends at c* < 1.

    Parameters
    ----------%s%s
    c0 : float
        Starting correlation in [-1, 1].
    q0 : float
        Where the length iteration to q* starts (see `fixed_point_q`).

    Returns
    -------
    float
        c*, to about 1e-12. NaN when q* is 0 or infinite (no correlation map).

    Notes
    -----
    The correlation map is increasing in c on [0, 1] (its derivative is
    ``sigma_w2 E[phi'(u1) phi'(u2)]``, a series in c with non-negative
    coefficients), so iteration from c0 moves monotonically to the nearest
    fixed point in the direction of ``c_map(c0) - c0``. That point is located
    by scanning in that direction (geometrically toward 1, uniformly toward
    -1) and refined with Brent's method; 1 is returned when the map stays
    above the diagonal up to 1 - 1e-12.

    References
    ----------
    B. Poole et al., NeurIPS 2016; S. S. Schoenholz et al., ICLR 2017, Sec. 3.

    Examples
    --------
    >>> fixed_point_c("tanh", 1.0, 0.1)
    1.0
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    c0 = _correlation("c0", c0)
    q0 = real("q0", q0, low=0.0)
    q_star = _fixed_q(act, sigma_w2, sigma_b2, q0)
    return float(_fixed_c(act, q_star, sigma_w2, sigma_b2, c0))


fixed_point_c.__doc__ = fixed_point_c.__doc__ % (_SHARED, _PARAM)


def _q_eval(q):
    """Where the expectations at q in [0, inf] are taken, for their limits
    at the ends: q -> 0+ at _Q_TINY, and q beyond _Q_HUGE (infinite: q^l
    grows without bound) at _Q_HUGE, where E[phi'^2] has reached its limit
    (phi'(+inf)^2 + phi'(-inf)^2) / 2 (to 1e-50 for bounded phi)."""
    return min(max(q, _Q_TINY), _Q_HUGE)


def phase(chi1, tol=1e-3):
    """The phase that the slope `chi1` of the correlation map puts a network
    in (Poole et al. 2016; Schoenholz et al. 2017): "ordered" (chi1 < 1:
    nearby inputs converge, gradients vanish), "chaotic" (chi1 > 1: they
    diverge, gradients explode), "critical" within `tol` of 1, and
    "undefined" where chi1 is not a number."""
    if math.isnan(chi1):
        return "undefined"
    if abs(chi1 - 1.0) <= tol:
        return "critical"
    return "ordered" if chi1 < 1.0 else "chaotic"


def chi1(activation, sigma_w2, sigma_b2, *, param=None, q0=1.0, q=None):
    """chi1 = sigma_w2 E[phi'(sqrt(q*) z)^2], the mean squared singular value
    of the layer-to-layer Jacobian at the fixed point q*.

    chi1 = 1 is the order-to-chaos transition; chi1 < 1 (ordered) makes
    nearby inputs converge and gradients vanish, chi1 > 1 (chaotic) makes
    them diverge and gradients explode.

    Parameters
    ----------%s%s
    q0 : float
        Where the length iteration to q* starts (see `fixed_point_q`).
    q : float, optional
        Evaluate chi1 at this second moment (>= 0, ``inf`` for the limit)
        instead of at q*; q0 is then not used.

    Returns
    -------
    float
        At q* = 0, the limit q -> 0+. Where q^l grows without bound (q* =
        inf), the limit q -> inf, ``sigma_w2 (phi'(+inf)^2 + phi'(-inf)^2) /
        2``: sigma_w2 / 2 for relu, gelu, softplus, silu and elu. That is at
        least 1 up to rounding (the length map grows like chi1 q there, see
        `fixed_point_q`), so such a network is critical or chaotic. (q* =
        inf also stands for a q* beyond 1e100; chi1 is then taken at q =
        1e100.)

    Notes
    -----
    For positively homogeneous activations (linear, relu, leaky_relu)
    ``E[phi'(sqrt(q) z)^2]`` does not depend on q: chi1 is sigma_w2 for
    linear, sigma_w2 / 2 for relu and sigma_w2 (1 + a^2) / 2 for leaky_relu
    at every q, finite fixed point or not.

    References
    ----------
    B. Poole et al., NeurIPS 2016, Eq. (7); S. S. Schoenholz et al., ICLR 2017, Eq. (5).

    Examples
    --------
    >>> round(chi1("relu", 2.0, 0.0), 12)
    1.0
    >>> chi1("relu", 3.0, 0.1)  # q^l grows without bound; chi1 = sigma_w2 / 2
    1.5
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    if q is None:
        q0 = real("q0", q0, low=0.0)
        q = _fixed_q(act, sigma_w2, sigma_b2, q0)
    else:
        q = real("q", q, low=0.0, allow_inf=True)
    _, dphi2, _ = act.moments(_q_eval(q))
    return float(sigma_w2 * dphi2[0])


chi1.__doc__ = chi1.__doc__ % (_SHARED, _PARAM)


def depth_scales(activation, sigma_w2, sigma_b2, *, param=None, q0=1.0, c0=0.5):
    """Fixed points, slopes and depth scales of signal propagation.

    Parameters
    ----------%s%s
    q0 : float
        Where the length iteration to q* starts (see `fixed_point_q`).
    c0 : float
        Where the correlation iteration to c* starts (see `fixed_point_c`).

    Returns
    -------
    dict
        ``q_star``
            fixed point of the length map;
        ``c_star``
            fixed point of the correlation map reached from c0;
        ``chi1``
            sigma_w2 E[phi'(u)^2], u ~ N(0, q*);
        ``chi_c``
            sigma_w2 E[phi'(u1) phi'(u2)] at c*, the slope of the
            correlation map there (equal to chi1 when c* = 1);
        ``xi_q``
            -1 / ln(slope of the length map at q*);
        ``xi_c``
            -1 / ln(chi_c);
        ``xi_grad``
            -1 / ln(chi1).

        The depth scales are signed, as the formulas give them: positive
        where perturbations decay (|q^l - q*| ~ exp(-l / xi_q), etc.), +inf
        at criticality, negative where they grow (the growth scale is
        |xi|); xi_grad > 0 means gradients vanish over xi_grad layers,
        xi_grad < 0 that they explode. A slope within 1e-15 of 1 in log
        (rounding) gives +inf. When q* = 0 the correlation entries are NaN
        and the others are the limits q -> 0+. When q* is infinite (q^l
        grows without bound, see `fixed_point_q`) chi1 and xi_grad are the
        limits q -> inf (see `chi1`: chi1 >= 1 there), and c_star, chi_c,
        xi_q and xi_c, which describe the approach to a fixed point, are NaN.

    Notes
    -----
    The slope of the length map is ``d/dq [sigma_w2 E[phi(sqrt(q) z)^2]] =
    sigma_w2 E[u phi(u) phi'(u)] / q`` (chain rule), which by Gaussian
    integration by parts equals Schoenholz et al.'s ``chi1 + sigma_w2
    E[phi''(u) phi(u)]`` and the Stein form ``sigma_w2 E[phi(u)^2 (u^2 -
    q)] / (2 q^2)`` without needing phi'' or suffering the cancellation of
    the Stein form at large q.

    References
    ----------
    S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein, "Deep
    Information Propagation", ICLR 2017, Eqs. (6)-(9).

    Examples
    --------
    >>> scales = depth_scales("tanh", 1.0, 0.0)
    >>> scales["q_star"], scales["chi1"], scales["xi_grad"]
    (0.0, 1.0, inf)
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    q0 = real("q0", q0, low=0.0)
    c0 = _correlation("c0", c0)
    q_star = _fixed_q(act, sigma_w2, sigma_b2, q0)
    nan = math.nan
    q_eval = _q_eval(q_star)
    _, dphi2, uphidphi = act.moments(q_eval)
    chi = float(sigma_w2 * dphi2[0])
    result = dict(q_star=q_star, c_star=nan, chi1=chi, chi_c=nan, xi_q=nan, xi_c=nan, xi_grad=_xi(chi))
    if math.isinf(q_star):
        return result
    slope = float(sigma_w2 * uphidphi[0] / q_eval)
    result.update(xi_q=_xi(slope))
    if q_star > 0:
        c_star = _fixed_c(act, q_star, sigma_w2, sigma_b2, c0)
        _, dd, _, _ = act.moments2(q_star, c_star)
        result.update(c_star=c_star, chi_c=float(sigma_w2 * dd), xi_c=_xi(float(sigma_w2 * dd)))
    return result


depth_scales.__doc__ = depth_scales.__doc__ % (_SHARED, _PARAM)


def _bias_of_q(act, q):
    """sigma_b2 on the critical line as a function of q*, and sigma_w2 there."""
    phi2, dphi2, _ = act.moments(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_w2 = 1.0 / dphi2
        return q - sigma_w2 * phi2, sigma_w2


def critical_line(activation, sigma_b2, *, param=None, return_q_star=False):
    """The order-to-chaos transition: sigma_w2 with chi1 = 1 at each sigma_b2.

    Parametrized by the fixed point q*: at a critical point ``sigma_w2 =
    1 / E[phi'(sqrt(q*) z)^2]`` and ``sigma_b2 = q* - sigma_w2 E[phi(sqrt(q*)
    z)^2]``. For each requested sigma_b2 the equation ``sigma_b2(q*) =
    sigma_b2`` is solved for q* (the curve is tabulated on a log grid of q*
    from 1e-8 upward, plus q* = 0, and the first sign change is refined with
    Brent's method), and sigma_w2 follows.

    Parameters
    ----------
    activation : str
        A registered activation.
    sigma_b2 : float or array_like
        Bias variance(s), in [0, 1e100].
    param : float, optional
        The activation's parameter.
    return_q_star : bool
        Also return q* at each point.

    Returns
    -------
    sigma_w2 : float or numpy.ndarray
        Critical weight variance(s), of sigma_b2's shape; NaN where no
        critical point exists (see Notes) in an array. A single sigma_b2
        without a critical point raises ValueError saying why.
    q_star : float or numpy.ndarray
        Only with ``return_q_star=True``.

    Notes
    -----
    * Where several q* solve the equation, the smallest is taken (roots
      closer together than the table's spacing, 8 points per decade, are
      not told apart). q* = 0 is a solution at sigma_b2 = 0 for activations
      with phi(0) = 0 (tanh, erf, sin, gelu, silu, ...), giving ``sigma_w2 =
      1 / phi'(0)^2`` (1 for tanh, pi/4 for erf, 4 for gelu and silu, whose
      lines then fall steeply because sigma_b2(q*) ~ q*^2 near 0).
    * For positively homogeneous activations (linear, relu, leaky_relu)
      ``E[phi^2] / E[phi'^2] = q``, so sigma_b2(q*) is identically 0 and chi1
      does not depend on q: the critical point is sigma_w2 = 1 / E[phi'^2]
      (1 for linear, 2 for relu, 2 / (1 + a^2) for leaky_relu) at sigma_b2 =
      0. At sigma_b2 > 0 that sigma_w2 still gives chi1 = 1, but the length
      map has no finite fixed point there (q^l grows linearly with depth), so
      those entries are NaN (`chi1` still gives chi1 = sigma_w2 / 2 for
      relu). q* is NaN at sigma_b2 = 0, where every q is a fixed point.
    * Activations with phi(0) != 0 start elsewhere: sigmoid's sigma_b2(q*)
      is negative (-4 at q* = 0) until q* ~ 45.6, where sigma_w2 ~ 103;
      softplus's stays negative for every q* (E[phi^2] / E[phi'^2] exceeds
      q*), so softplus has no critical line and gives NaN throughout.
    * NaN is also returned where sigma_b2(q*) never reaches the requested
      value for q* up to 1e30 (or, for sin, the largest q* its quadrature
      budget allows).

    References
    ----------
    B. Poole et al., NeurIPS 2016, Fig. 2; S. S. Schoenholz et al., ICLR 2017, Fig. 1.

    Examples
    --------
    >>> critical_line("relu", [0.0, 1.0])
    array([ 2., nan])
    """
    act = _Act(activation, param)
    targets = _nonnegative_array("sigma_b2", sigma_b2)
    for value in targets.flat:
        _variance("sigma_b2", value)
    flat = targets.ravel()
    out_w = np.full(flat.shape, np.nan)
    out_q = np.full(flat.shape, np.nan)

    # homogeneity check: sigma_b2(q) == 0 up to rounding
    probe = np.logspace(-4, 4, 9)
    bias, _ = _bias_of_q(act, probe)
    if np.all(np.abs(bias) <= 1e-12 * probe):
        # phi' is constant on each half-line, so E[phi'^2] = (phi'(-1)^2 +
        # phi'(1)^2) / 2 in closed form: relu's point is He's sigma_w2 = 2 exactly
        slopes = act.dphi(np.array([-1.0, 1.0]))
        critical = float(2.0 / np.sum(slopes * slopes))
        zero = flat == 0
        out_w[zero] = critical  # out_q stays NaN: every q is a fixed point there
        if targets.ndim == 0 and not zero[0]:
            raise ValueError(
                f"{act.name} has no critical point at sigma_b2={flat[0]:g}: chi1 = sigma_w2 / "
                f"{critical:.6g} at every q, so chi1 = 1 needs sigma_w2 = {critical:.6g}, where q^l "
                f"grows by sigma_b2 every layer and never reaches a fixed point; the critical point of "
                f"{act.name} is sigma_w2 = {critical:.6g} at sigma_b2 = 0")
    elif flat.size:
        width = _MAX_SEGMENT.get(act.name)
        q_cap = _Q_LINE_MAX if width is None else min(
            _Q_LINE_MAX, (_MAX_SEGMENTS_PER_ROW * width / (2 * _WINDOW)) ** 2 / 16)
        grid = np.concatenate([[0.0], np.logspace(-8, 2, 81)])
        bias, weight = _bias_of_q(act, grid)
        # extend the table a decade at a time while sigma_b2(q) is below the largest target
        while not np.nanmax(bias) >= flat.max() and grid[-1] < q_cap:
            more = grid[-1] * np.logspace(0.125, 1, 8)
            more = more[more <= q_cap]
            if more.size == 0:
                break
            b_more, w_more = _bias_of_q(act, more)
            grid = np.concatenate([grid, more])
            bias = np.concatenate([bias, b_more])
            weight = np.concatenate([weight, w_more])

        def solve(target):
            diff = bias - target
            exact = np.nonzero(diff == 0)[0]
            sign = np.nonzero(np.sign(diff[:-1]) * np.sign(diff[1:]) < 0)[0]
            first_exact = exact[0] if exact.size else grid.size
            first_sign = sign[0] if sign.size else grid.size
            if first_exact <= first_sign:
                if first_exact == grid.size:
                    return math.nan, math.nan
                return weight[first_exact], grid[first_exact]
            i = first_sign
            root = optimize.brentq(lambda t: float(_bias_of_q(act, t)[0][0]) - target,
                                   grid[i], grid[i + 1], xtol=1e-300,
                                   rtol=4 * np.finfo(float).eps, maxiter=200)
            return float(_bias_of_q(act, root)[1][0]), root

        for index, target in enumerate(flat):
            out_w[index], out_q[index] = solve(float(target))
        if targets.ndim == 0 and math.isnan(out_w[0]):
            raise ValueError(
                f"{act.name} has no critical point at sigma_b2={flat[0]:g}: on the critical line "
                f"sigma_b2 = q* - E[phi^2] / E[phi'^2] (with sigma_w2 = 1 / E[phi'^2]), which does "
                f"not reach {flat[0]:g} for any q* up to {grid[-1]:g}")
    out_w = out_w.reshape(targets.shape)
    out_q = out_q.reshape(targets.shape)
    if targets.ndim == 0:
        out_w, out_q = float(out_w), float(out_q)
    return (out_w, out_q) if return_q_star else out_w


def predict_q(activation, depth, sigma_w2, sigma_b2, q0, *, param=None):
    """Mean-field prediction of the pre-activation second moment at each layer.

    For an input x with ``q0 = mean(x_i^2)``, layer 1's pre-activations
    ``h^1 = W^1 x + b^1`` have second moment ``q^1 = sigma_w2 q0 + sigma_b2``
    (the input is not passed through phi), and deeper layers ``h^l = W^l
    phi(h^{l-1}) + b^l`` follow the length map ``q^l = length_map(q^{l-1})``
    (Poole et al. 2016, Eq. 3). ``q^l`` is the infinite-width limit of
    ``mean_i (h_i^l)^2``, and the expectation of that mean over the random
    weights up to O(1/width) corrections.

    Parameters
    ----------
    activation : str
        A registered activation.
    depth : int
        Number of layers, 1 to 100,000.
    sigma_w2, sigma_b2 : float
        As in `length_map`.
    q0 : float
        Second moment of the network input, >= 0.
    param : float, optional
        The activation's parameter.

    Returns
    -------
    numpy.ndarray
        ``[q^1, ..., q^depth]``, float64.

    Notes
    -----
    Each layer takes one quadrature (tens of microseconds) until q^l stops
    changing in double precision (at a fixed point, or once it overflows to
    inf); the remaining layers are filled with that value, which is what
    iterating would give. So depth costs nothing in the ordered and chaotic
    phases, where q^l converges geometrically, and a layer each where it
    converges algebraically (at criticality: tanh at sigma_w2 = 1, sigma_b2
    = 0 has q^l ~ 1 / (2 l)) or drifts (relu at sigma_w2 = 2, sigma_b2 > 0).

    References
    ----------
    B. Poole et al., NeurIPS 2016, Eq. (3).

    Examples
    --------
    >>> predict_q("relu", 3, 2.0, 0.0, 1.0)
    array([2., 2., 2.])
    """
    act, sigma_w2, sigma_b2 = _common(activation, sigma_w2, sigma_b2, param)
    depth = integer("depth", depth, low=1)
    if depth > _DEPTH_MAX:
        raise ValueError(f"depth must be at most {_DEPTH_MAX}, got {depth}")
    q0 = real("q0", q0, low=0.0)
    result = np.empty(depth)
    q = sigma_w2 * q0 + sigma_b2
    for layer in range(depth):
        result[layer] = q
        if layer + 1 < depth:
            q = float(_length(act, q, sigma_w2, sigma_b2)[0])
            # the map is a function of q alone: once q repeats (or is no
            # number), every later layer repeats it
            if q == result[layer] or not math.isfinite(q):
                result[layer + 1:] = q
                break
    return result


def predict_network(activations, sigma_w2, sigma_b2, widths, q0, *, params=None):
    """Mean-field predictions for every layer of a network whose layers may
    differ in activation, weight and bias variance, and width.

    Layer l computes ``h^l = phi_{l-1}(h^{l-1}) W^l + b^l`` (``h^0``, the
    input, is not passed through phi) with ``W^l_ij`` of variance
    ``sigma_w2[l] / widths[l-1]``. Forward, the second moment follows the
    length map of each layer (Poole et al. 2016, Eq. 3). Backward, a
    cotangent of unit second moment at the output gives, under the gradient
    independence assumption (Schoenholz et al. 2017, Eq. 15),

    ``E[delta_L^2] = E[phi_L'(h^L)^2]`` and
    ``E[delta_l^2] = E[delta_{l+1}^2] sigma_w2[l+1] (widths[l+1] / widths[l]) E[phi_l'(h^l)^2]``

    for the gradients ``delta_l = dLoss/dh^l``.

    Parameters
    ----------
    activations : sequence of str
        One registered activation per layer.
    sigma_w2, sigma_b2 : sequence of float
        Per-layer weight and bias variances, in [0, 1e100].
    widths : sequence of int
        ``[n_0, n_1, ..., n_L]``, input width first.
    q0 : float
        Second moment of the input, ``mean(x_i^2)``, >= 0.
    params : sequence of float or None, optional
        Per-layer activation parameters (None for each activation's default).

    Returns
    -------
    dict of numpy.ndarray
        ``q`` (second moment of h^l), ``phi2`` (of phi(h^l)), ``dphi2``
        (E[phi'(h^l)^2]) and ``delta2`` (E[delta_l^2]), each of length L.

    References
    ----------
    B. Poole et al., NeurIPS 2016; S. S. Schoenholz et al., ICLR 2017.

    Examples
    --------
    >>> p = predict_network(["relu", "relu"], [2.0, 2.0], [0.0, 0.0], [4, 4, 4], 1.0)
    >>> p["q"], p["delta2"]
    (array([2., 2.]), array([0.5, 0.5]))
    """
    depth = len(activations)
    params = [None] * depth if params is None else list(params)
    sigma_w2 = [_variance("sigma_w2", s) for s in sigma_w2]
    sigma_b2 = [_variance("sigma_b2", s) for s in sigma_b2]
    widths = [integer("widths", n, low=1) for n in widths]
    if not (len(params) == len(sigma_w2) == len(sigma_b2) == depth == len(widths) - 1) or depth < 1:
        raise ValueError(
            f"need one activation, param, sigma_w2 and sigma_b2 per layer and depth + 1 widths, got "
            f"{depth} activations, {len(params)} params, {len(sigma_w2)} sigma_w2, "
            f"{len(sigma_b2)} sigma_b2 and {len(widths)} widths")
    q0 = real("q0", q0, low=0.0)
    result, _, error = _predict_layers(activations, params, sigma_w2, sigma_b2, widths, q0)
    if error is not None:
        raise error
    return result


def _predict_layers(activations, params, sigma_w2, sigma_b2, widths, q0):
    """`predict_network` on checked arguments, as far as the theory reaches.

    Returns the predictions, the first layer whose expectations are beyond
    the quadrature (sin at q ~ 1e9; the depth when there is none) and the
    ValueError saying so (or None). That layer's q is predicted (it needs no
    expectation), its phi2 and dphi2 and everything above are NaN, and so is
    delta2 in every layer (it depends on all the layers above).
    """
    acts = [_Act(name, param) for name, param in zip(activations, params)]
    depth = len(acts)
    q, phi2, dphi2, delta2 = (np.full(depth, math.nan) for _ in range(4))
    second = q0
    for layer, act in enumerate(acts):
        q[layer] = sigma_w2[layer] * second + sigma_b2[layer]
        if q[layer] == 0:
            # h^l = 0 exactly (zero weights and biases)
            phi2[layer] = act.phi(np.zeros(1))[0] ** 2
            dphi2[layer] = act.dphi(np.zeros(1))[0] ** 2
        elif math.isfinite(q[layer]):
            try:
                f2, d2, _ = act.moments(max(q[layer], _Q_TINY))
            except ValueError as error:
                return {"q": q, "phi2": phi2, "dphi2": dphi2, "delta2": delta2}, layer, error
            phi2[layer], dphi2[layer] = f2[0], d2[0]
        second = phi2[layer]
    delta2[-1] = dphi2[-1]
    for layer in range(depth - 2, -1, -1):
        delta2[layer] = (delta2[layer + 1] * sigma_w2[layer + 1] * (widths[layer + 2] / widths[layer + 1])
                         * dphi2[layer])
    return {"q": q, "phi2": phi2, "dphi2": dphi2, "delta2": delta2}, depth, None


def gaussian_moments(activation, q, *, param=None):
    """``E[phi(sqrt(q) z)^2]`` and ``E[phi'(sqrt(q) z)^2]`` for z ~ N(0, 1).

    Parameters
    ----------
    activation : str
    q : float or array_like
        Second moments, >= 0.
    param : float, optional

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)

    References
    ----------
    B. Poole et al., NeurIPS 2016, Eqs. (3) and (7): the integrals behind the
    length map and chi1.

    Examples
    --------
    >>> gaussian_moments("linear", 2.0)
    (array([2.]), array([1.]))
    """
    act = _Act(activation, param)
    q = _nonnegative_array("q", q)
    f2, d2, _ = act.moments(np.maximum(q.ravel(), _Q_TINY))
    return f2.reshape(q.shape or (1,)), d2.reshape(q.shape or (1,))
