"""The measured phase diagram beside mean-field theory: the correlation depth
scale xi_c of every point, and the constant c of Schoenholz et al. 2017's
rule "a network trains iff its depth is below c xi_c", fitted to a sweep."""
import functools
import math
import os

import numpy as np

from ..common.tables import cell, text_table
from ..common.validation import real
from ..networks.mlp import parse_activation
from .store import read_sweep

__all__ = ["columns", "depth_scale_table", "fit_depth_constant", "xi_c"]


def columns(results, names):
    """{name: list} of a sweep's results: a folder (read with `read_sweep`)
    or a `pyarrow.Table`; each name must be a column."""
    table = read_sweep(results) if isinstance(results, (str, os.PathLike)) else results
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise ValueError(f"the sweep has no column {', '.join(map(repr, missing))}; its columns: "
                         f"{', '.join(table.column_names)}")
    return {name: table.column(name).to_pylist() for name in names}


def weight_variance(data):
    """Per row: sigma_w2 of the grid, or the network's own n E[W^2] where
    the point named an init spec instead."""
    return np.array([net if grid is None else grid for grid, net in zip(data["sigma_w2"], data["sigma_w2_net"])],
                    dtype=np.float64)


@functools.lru_cache(maxsize=4096)
def _xi_c_at(activation, sigma_w2, sigma_b2):
    # imported here: meanfield loads scipy.optimize, which the CLI need not pay for
    from ..propagation import meanfield

    name, param = parse_activation(activation)
    return float(meanfield.depth_scales(name, sigma_w2, sigma_b2, param=param)["xi_c"])


def xi_c(activations, sigma_w2, sigma_b2):
    """The correlation depth scale xi_c (`initcore.meanfield.depth_scales`)
    at each (activation spec, sigma_w2, sigma_b2), each distinct triple
    computed once per process (each solves two fixed points); +inf on the
    critical line."""
    return np.array([_xi_c_at(a, float(w), float(b)) for a, w, b in zip(activations, sigma_w2, sigma_b2)],
                    dtype=np.float64)


def fit_depth_constant(results, *, threshold, statistic="accuracy"):
    """Fit c in "trainable iff depth < c xi_c" (Schoenholz et al. 2017).

    A point is trainable when its `statistic` reaches `threshold`. The rule
    with constant c calls a point trainable when ``depth < c * xi_c`` at its
    (activation, sigma_w2, sigma_b2). The agreement (the fraction of points
    that the rule classifies as measured) changes only where c crosses a
    point's ``depth / xi_c``; every interval between those ratios is tried,
    and c is the geometric middle of the best one (the median one when
    several tie).

    Parameters
    ----------
    results : str, path-like or pyarrow.Table
        A ``train`` sweep (or any sweep holding `statistic`).
    threshold : float
        The measured trainability cut, e.g. an accuracy well above chance.
    statistic : str
        The column that measures trainability.

    Returns
    -------
    dict
        ``c``; ``c_low`` and ``c_high``, the ends of the interval of c with
        the best agreement (c_high inf when every larger c agrees as well);
        ``agreement``; ``points`` (rows used: those with a finite statistic
        and a defined xi_c); ``trainable`` (how many reached the threshold).

    References
    ----------
    S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein, "Deep
    information propagation", ICLR 2017, Sec. 5 (c ~ 6 on MNIST and CIFAR10).
    """
    threshold = real("threshold", threshold)
    data = columns(results, ["activation", "depth", "sigma_w2", "sigma_w2_net", "sigma_b2", statistic])
    values = np.array([np.nan if v is None else v for v in data[statistic]], dtype=np.float64)
    xi = xi_c(data["activation"], weight_variance(data), data["sigma_b2"])
    keep = np.isfinite(values) & ~np.isnan(xi) & (xi > 0)
    if not keep.any():
        raise ValueError(f"no point of the sweep has a finite {statistic!r} and a defined xi_c")
    depth = np.array(data["depth"], dtype=np.float64)[keep]
    ratio = np.sort(depth / xi[keep])
    order = np.argsort(depth / xi[keep], kind="stable")
    trainable = (values[keep] >= threshold)[order]
    n = ratio.size
    # c in (ratio[k-1], ratio[k]): the k smallest ratios are called trainable
    good = np.concatenate([[0], np.cumsum(trainable)]) + \
        np.concatenate([[0], np.cumsum(~trainable[::-1])])[::-1]
    best = np.flatnonzero(good == good.max())
    k = int(best[len(best) // 2])
    low = ratio[k - 1] if k > 0 else 0.0
    high = ratio[k] if k < n else math.inf
    if k == 0:
        c = ratio[0] / 2
    elif k == n:
        c = 2 * ratio[-1]
    else:
        c = math.sqrt(low * high) if low > 0 else high / 2
    return {"c": float(c), "c_low": float(low), "c_high": float(high), "agreement": float(good.max() / n),
            "points": int(n), "trainable": int(trainable.sum()), "threshold": threshold, "statistic": statistic}


def depth_scale_table(results, *, c, statistic="accuracy"):
    """A text table of a sweep over (sigma_w2, depth): one row per sigma_w2
    (and sigma_b2, activation), with xi_c, c xi_c and the mean `statistic`
    over seeds at each depth; a depth the rule calls trainable (depth <
    c xi_c) is marked ``*``."""
    c = real("c", c, low=0.0)
    data = columns(results, ["activation", "depth", "sigma_w2", "sigma_w2_net", "sigma_b2", statistic])
    w2 = weight_variance(data)
    xi = xi_c(data["activation"], w2, data["sigma_b2"])
    depths = sorted(set(data["depth"]))
    cells, scale = {}, {}
    for act, b2, s, d, x, v in zip(data["activation"], data["sigma_b2"], w2, data["depth"], xi, data[statistic]):
        cells.setdefault((act, b2, s), {}).setdefault(d, []).append(np.nan if v is None else v)
        scale[act, b2, s] = x
    header = ["activation", "sigma_b2", "sigma_w2", "xi_c", "c*xi_c", *[f"L={d}" for d in depths]]
    body = []
    for (act, b2, s), by_depth in sorted(cells.items()):
        x = scale[act, b2, s]
        row = [act, cell(b2, "g"), cell(s, ".4g"), cell(float(x), ".3g"), cell(float(c * x), ".3g")]
        for d in depths:
            mean = float(np.mean(by_depth[d])) if d in by_depth else None
            row.append("-" if mean is None else cell(mean, ".3g") + ("*" if d < c * x else " "))
        body.append(row)
    return text_table(header, body, left=1)
