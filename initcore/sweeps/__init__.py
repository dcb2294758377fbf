"""Sweeps: many networks over a grid of (sigma_w2, sigma_b2, depth, width,
activation, initializer, seed), simulated or trained in parallel (a local
process pool or Dask), stored in Parquet as they finish, resumable; and the
trainability constant of Schoenholz et al. 2017 fitted to the results.

pyarrow (storage), dask and distributed (the Dask backend) and scikit-learn
(the digits dataset) are optional: ``pip install "initcore[sweep]"``.
"""
from .analysis import depth_scale_table, fit_depth_constant
from .store import read_sweep
from .sweep import SweepRun, sweep

__all__ = ["SweepRun", "depth_scale_table", "fit_depth_constant", "read_sweep", "sweep"]
