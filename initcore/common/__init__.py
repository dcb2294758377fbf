"""What every layer of the package shares: argument checks, thread counts,
the BLAS limit, the kernels' buffer workspace, progress bars and the
table/CSV/JSON writer. Imports nothing else of initcore but the compiled
thread setters.
"""
