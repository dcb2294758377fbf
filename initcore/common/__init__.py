"""What every folder of the package shares: argument checks, the BLAS
limit for LAPACK calls, the kernels' buffer workspace, progress bars and the table/CSV/JSON
writer. Imports nothing else of initcore.
"""
