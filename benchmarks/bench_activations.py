"""Activation kernels and mean-field theory, against numpy/scipy and torch."""
import numpy as np
import scipy.special

from initcore import activations, meanfield

from ._peers import torch_or_skip

SIZE = 10**6


class Activation:
    params = (["tanh", "relu", "sigmoid", "gelu"], ["float32", "float64"], ["initcore", "numpy", "torch"])
    param_names = ["activation", "dtype", "impl"]

    def setup(self, name, dtype, impl):
        self.x = np.random.default_rng(0).standard_normal(SIZE).astype(dtype)
        self.out = np.full_like(self.x, 0.5)
        if impl == "initcore":
            self.run = lambda: activations.activation(name, self.x, out=self.out)
        elif impl == "numpy":
            ufunc = {"tanh": np.tanh, "sigmoid": scipy.special.expit}.get(name)
            if name == "relu":
                self.run = lambda: np.maximum(self.x, 0, out=self.out)
            elif ufunc is None:
                raise NotImplementedError(f"no numpy {name}")
            else:
                self.run = lambda: ufunc(self.x, out=self.out)
        else:
            torch = torch_or_skip()
            x, out = torch.from_numpy(self.x), torch.from_numpy(self.out)
            f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
                 "gelu": torch.nn.functional.gelu}[name]
            self.run = lambda: out.copy_(f(x))

    def time_activation(self, name, dtype, impl):
        self.run()


class MeanField:
    """The issue's target: the critical line at 100 values of sigma_b2 under 1 s."""

    params = ["tanh", "erf", "gelu"]
    param_names = ["activation"]

    def setup(self, name):
        self.sigma_b2 = np.linspace(0.0, 0.5, 100)

    def time_critical_line(self, name):
        meanfield.critical_line(name, self.sigma_b2)

