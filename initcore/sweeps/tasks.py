"""What one point of a sweep computes: a pure function of its config (the
seed included), the same bits on any machine and for any thread count."""
import functools
import math

import numpy as np

from ..fills.generator import Generator
from ..networks.mlp import MLP
from ..propagation.simulate import simulate
from ..training import datasets
from ..training.train import train
from .grid import bias_spec

__all__ = ["RESULTS", "run_point"]

# The result columns of each task: name -> Parquet type ("double", "int64",
# "bool", "list"); see `run_point`.
RESULTS = {
    "simulate": {
        "sigma_w2_net": "double", "q_first": "double", "q_last": "double", "a_std_last": "double",
        "saturated_last": "double", "delta2_first": "double", "delta2_last": "double",
        "grad_ratio": "double", "layer_q": "list", "layer_a_std": "list", "layer_delta2": "list",
    },
    "train": {
        "sigma_w2_net": "double", "accuracy": "double", "loss": "double", "initial_accuracy": "double",
        "initial_loss": "double", "steps": "int64", "diverged": "bool",
    },
}


def _weights(config, fans):
    """The per-layer weight specs: the point's init spec, or N(0, sigma_w2 /
    fan_in) written as a normal spec with that standard deviation."""
    if config["init"] is not None:
        return config["init"]
    return [("normal", {"std": math.sqrt(config["sigma_w2"] / fan)}) for fan in fans]


@functools.lru_cache(maxsize=4)
def _data(name, n):
    """(X, y) of a train dataset, read or drawn once per process; the
    generated problems from seed 0, so every point sees the same data."""
    if name == "digits":
        return datasets.digits()
    return getattr(datasets, name)(n, seed=0)


def _simulate(config, generator):
    depth, width = config["depth"], config["width"]
    net = MLP([width] * (depth + 1), activation=config["activation"], init=_weights(config, [width] * depth),
              bias=bias_spec(config), seed=generator, dtype=config["dtype"])
    sim = simulate(net, batch=config["batch"], q0=config["q0"], seed=generator, progress=False)
    first, last = sim.layers[0], sim.layers[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(first["delta2"]) / np.float64(last["delta2"]))
    return {
        "sigma_w2_net": float(net.sigma_w2[0]), "q_first": first["q"], "q_last": last["q"],
        "a_std_last": last["a_std"], "saturated_last": last["saturated"],
        "delta2_first": first["delta2"], "delta2_last": last["delta2"], "grad_ratio": ratio,
        "layer_q": sim.column("q").tolist(), "layer_a_std": sim.column("a_std").tolist(),
        "layer_delta2": sim.column("delta2").tolist(),
    }


def _train(config, generator):
    X, y = _data(config["dataset"], config["n"])
    depth, width = config["depth"], config["width"]
    classes = int(y.max()) + 1
    fans = [X.shape[1]] + [width] * depth
    net = MLP([X.shape[1]] + [width] * depth + [classes], activation=[config["activation"]] * depth + ["linear"],
              init=_weights(config, fans), bias=bias_spec(config), seed=generator, dtype=config["dtype"])
    batch_size = min(config["batch_size"], len(y))
    result = train(net, X, y, loss="cross_entropy", lr=config["lr"], epochs=config["epochs"],
                   batch_size=batch_size, seed=generator, eval_batch=batch_size, progress=False)
    first, last = result.history[0], result.history[-1]
    return {
        "sigma_w2_net": float(net.sigma_w2[0]), "accuracy": last["accuracy"], "loss": last["loss"],
        "initial_accuracy": first["accuracy"], "initial_loss": first["loss"], "steps": last["steps"],
        "diverged": bool(result.diverged),
    }


def run_point(config):
    """The result of one point of a sweep.

    Everything random comes from one `initcore.Generator` seeded with the
    point's ``seed``: the weights, then the biases, then (simulate) the
    Gaussian input and the backward probe, or (train) the shuffling. The
    result is therefore a pure function of `config`.

    Parameters
    ----------
    config : dict
        A canonical point config from `initcore.sweeps.grid.expand`.

    Returns
    -------
    dict
        For ``simulate`` (a network of `depth` layers of `width` units, each
        activated, pushed a Gaussian batch with second moment `q0` and a
        Gaussian probe back, as `initcore.simulate`): ``sigma_w2_net`` (the
        network's n E[W^2], which is sigma_w2, or what the init spec gives),
        ``q_first`` and ``q_last`` (mean squared pre-activation of the first
        and last layer), ``a_std_last``, ``saturated_last``, ``delta2_first``
        and ``delta2_last`` (E[delta^2] of the first and last layer),
        ``grad_ratio`` = delta2_first / delta2_last (above 1: gradients grow
        towards the input, chaos; below 1: they vanish, order; Schoenholz et
        al. 2017), and the per-layer lists ``layer_q``, ``layer_a_std`` and
        ``layer_delta2``.

        For ``train`` (`depth` hidden layers of `width` units and a linear
        read-out, softmax cross-entropy, plain SGD at `lr` for `epochs` on
        `dataset` in batches of `batch_size`): ``sigma_w2_net``, ``accuracy``
        and ``loss`` on the whole training set after training,
        ``initial_accuracy`` and ``initial_loss`` before it, ``steps`` (SGD
        updates made) and ``diverged``.

    References
    ----------
    B. Poole et al., "Exponential expressivity in deep neural networks
    through transient chaos", NeurIPS 2016; S. S. Schoenholz et al., "Deep
    information propagation", ICLR 2017.
    """
    generator = Generator(config["seed"])
    if config["task"] == "simulate":
        return _simulate(config, generator)
    return _train(config, generator)
