"""Peers shared by the benchmark modules."""
import initcore


def torch_or_skip():
    """torch with initcore's thread count; NotImplementedError (asv: skip this
    combination) when it is not installed. Imported here, not at module level,
    so initcore and numpy combinations do not pay for importing it."""
    try:
        import torch
    except ImportError:
        raise NotImplementedError("torch is not installed") from None
    torch.set_num_threads(initcore.get_num_threads())
    return torch
