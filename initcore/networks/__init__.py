"""Networks and their layers: the activation registry, the fused layer
kernels (compiled `_layers`), `MLP`, the one layer loop, and the losses.
"""
