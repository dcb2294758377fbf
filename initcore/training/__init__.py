"""Training: `train` (SGD, momentum, Adam on the fused kernels) and the
generated datasets.
"""
