"""Every initcore initializer, against the torch.nn.init equivalent where one exists.

initcore shapes are in its default ``in_out`` layout (``(*kernel, in, out)``);
the torch peer gets the same weight in torch's ``(out, in, *kernel)`` layout.
Both write into a pre-filled array.
"""
import math
from functools import partial

import numpy as np

import initcore

from ._peers import torch_or_skip


CONV = (3, 3, 256, 256)
CONV_ONLY = {"dirac", "delta_orthogonal"}  # need a 3-5-D kernel
ARGS = {"constant": (0.5,), "sparse": (0.1,)}  # required positional arguments


def _lecun_trunc(t):
    """Keras/JAX lecun_normal (= initcore variance_scaling default): N(0, 1/fan_in)
    truncated at two of its own stds, rescaled by the std of N(0,1) on [-2, 2]."""
    init = torch_or_skip().nn.init
    std = 1.0 / math.sqrt(init._calculate_fan_in_and_fan_out(t)[0]) / 0.87962566103423978
    return init.trunc_normal_(t, 0.0, std, -2.0 * std, 2.0 * std)


def _torch_peer(name, t):
    """The torch.nn.init call equivalent to initcore's default `name`, or None."""
    init = torch_or_skip().nn.init
    return {
        "zeros": partial(init.zeros_, t),
        "ones": partial(init.ones_, t),
        "constant": partial(init.constant_, t, 0.5),
        "uniform": partial(init.uniform_, t),
        "normal": partial(init.normal_, t),
        "trunc_normal": partial(init.trunc_normal_, t),
        "xavier_uniform": partial(init.xavier_uniform_, t),
        "xavier_normal": partial(init.xavier_normal_, t),
        "kaiming_uniform": partial(init.kaiming_uniform_, t, nonlinearity="relu"),
        "kaiming_normal": partial(init.kaiming_normal_, t, nonlinearity="relu"),
        "lecun_uniform": partial(init.kaiming_uniform_, t, nonlinearity="linear"),
        "lecun_normal": partial(_lecun_trunc, t),
        "variance_scaling": partial(_lecun_trunc, t),
        "orthogonal": partial(init.orthogonal_, t),
        "identity": partial(init.eye_, t),
        "dirac": partial(init.dirac_, t),
        "sparse": partial(init.sparse_, t, 0.1),
    }.get(name)


class Initializers:
    params = (
        [name for name in initcore.list_initializers() if name not in CONV_ONLY],
        [(256, 256), (2048, 2048)],
        ["float32", "float64"],
        ["initcore", "torch"],
    )
    param_names = ["name", "shape", "dtype", "impl"]
    timeout = 120

    def setup(self, name, shape, dtype, impl):
        dtype = np.dtype(dtype)
        if impl == "initcore":
            self.out = np.full(shape, 0.5, dtype=dtype)
            self.run = partial(getattr(initcore, name), shape, *ARGS.get(name, ()), seed=0, dtype=dtype, out=self.out)
        elif impl == "torch":
            # in_out (*kernel, in, out) -> torch (out, in, *kernel); sparse is (rows, cols) in both
            tshape = shape if name == "sparse" else (shape[-1], shape[-2], *shape[:-2])
            self.out = np.full(tshape, 0.5, dtype=dtype)
            self.run = _torch_peer(name, torch_or_skip().from_numpy(self.out))
            if self.run is None:
                raise NotImplementedError(f"torch.nn.init has no {name}")
        else:
            raise NotImplementedError(impl)

    def time_init(self, name, shape, dtype, impl):
        self.run()


class ConvInitializers(Initializers):
    """The initializers that need a 3-5-D convolution kernel."""
    params = (sorted(CONV_ONLY), [CONV], ["float32", "float64"], ["initcore", "torch"])
