"""Peak memory of a fill that allocates its output (no out=).

asv's peakmem is the process's peak RSS, interpreter and imports included, so
``ndarray_fill`` (np.empty + fill: exactly the output's pages) is the
reference: initcore's extra memory is its peak minus that one.
torch is not imported here, so it does not inflate the baseline.
"""
import numpy as np

import initcore


class PeakMemory:
    params = ([10**8], ["initcore", "numpy", "ndarray_fill"])
    param_names = ["size", "impl"]

    def setup(self, size, impl):
        if impl not in self.params[1]:
            raise NotImplementedError(impl)
        self.rng = np.random.default_rng(0)

    def peakmem_normal_float32(self, size, impl):
        if impl == "initcore":
            initcore.normal(size, seed=0, dtype=np.float32)
        elif impl == "numpy":
            self.rng.standard_normal(size, dtype=np.float32)
        else:
            np.empty(size, dtype=np.float32).fill(0.5)
