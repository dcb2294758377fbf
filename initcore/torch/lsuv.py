"""LSUV for PyTorch models: `lsuv_`, each Linear and convolution rescaled
through a forward hook until its output has variance 1 on a data batch."""
import torch
from torch import nn

from ..common.lsuv import LSUVResult, check_settings, rescale_to_unit_variance
from .functional import keyed, name_word, orthogonal_, resolve_seed, seed_sequence

__all__ = ["lsuv_"]

# The layers LSUV rescales: their output is what the next nonlinearity takes.
LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


class _Stop(Exception):
    """Raised by the measuring hook: the layers above need not run."""


def _execution_order(model, x, layers):
    """The names of `layers` ({name: module}) in the order the forward pass
    first calls them; modules it never calls are left out."""
    order = []

    def hook(name):
        return lambda *_: order.append(name) if name not in order else None

    handles = [module.register_forward_hook(hook(name)) for name, module in layers.items()]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return order


def _layer_inputs(model, x, module):
    """The arguments of `module`'s first call in ``model(x)``; the forward
    pass stops there. They do not change while the module's own weight is
    rescaled, so each measurement runs the module alone."""
    seen = []

    def hook(_module, args, kwargs):
        seen.append((args, kwargs))
        raise _Stop

    handle = module.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    return seen[0]


def _output_variance(module, inputs):
    """The variance (over every element) of `module`'s output on `inputs`."""
    args, kwargs = inputs
    return float(module(*args, **kwargs).to(torch.float64).var(unbiased=False))


def lsuv_(model, x, *, tol=0.1, max_iter=10, orthogonal=True, seed=None, generator=None):
    """Layer-sequential unit-variance initialization of a PyTorch model, in place.

    Every `torch.nn.Linear` and convolution (``nn.Conv1d/2d/3d`` and the
    transposed ones) that ``model(x)`` calls is taken in the order of the
    forward pass: its weight is drawn from `initcore.torch.orthogonal_`
    (with ``orthogonal=True``), then multiplied by ``1 / sqrt(Var)`` of its
    output on `x` until that variance is 1 within `tol` or after `max_iter`
    rescalings. The output of such a layer is the pre-activation (the
    nonlinearity is a module of its own), as in Mishkin & Matas. Each
    measurement runs the forward pass up to the layer, where a forward hook
    records the variance and stops it.

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place (its weights; biases are left as they are). Run in
        eval mode (dropout off, batch norm on its running statistics) under
        ``torch.no_grad``, and put back in the mode it was in.
    x : torch.Tensor
        A data batch, what ``model(x)`` takes.
    tol : float
        A layer is done when ``|variance - 1| <= tol``.
    max_iter : int
        At most this many rescalings per layer (>= 1).
    orthogonal : bool
        Start from orthogonal weights (the method's first step); False
        rescales the weights the model has.
    seed : None, int, numpy.random.SeedSequence or initcore.Generator
        The orthogonal draws: each weight's stream is keyed by its qualified
        parameter name, as in `initcore.torch.init_module_`.
    generator : torch.Generator, optional
        Instead of `seed`: a 64-bit key is drawn from it (with neither, from
        torch's default generator).

    Returns
    -------
    initcore.LSUVResult
        Per layer (by qualified module name): the output width (features or
        channels), the scale, the rescalings and the final variance.

    Raises
    ------
    TypeError
        For a `model` that is not a Module or `x` that is not a tensor.
    ValueError
        When ``model(x)`` calls no Linear or convolution, or a layer's output
        has variance 0 or is not finite on `x`.

    References
    ----------
    D. Mishkin, J. Matas, "All you need is a good init", ICLR 2016,
    arXiv:1511.06422, Algorithm 1.

    Examples
    --------
    >>> import torch
    >>> from initcore.torch import lsuv_
    >>> model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
    >>> x = torch.randn(256, 64, generator=torch.Generator().manual_seed(0))
    >>> result = lsuv_(model, x, seed=0)
    >>> [abs(v - 1) <= 0.1 for v in result.variances]
    [True, True]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    tol, max_iter = check_settings(tol, max_iter, orthogonal)
    root = seed_sequence(resolve_seed(seed, generator)) if orthogonal else None
    layers = {name: module for name, module in model.named_modules() if isinstance(module, LAYERS)}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            order = _execution_order(model, x, layers)
            if not order:
                raise ValueError(f"model(x) calls no Linear or convolution layer: nothing for LSUV to rescale "
                                 f"in {type(model).__name__}")
            scales, iterations, variances, widths = [], [], [], []
            for name in order:
                module = layers[name]
                if orthogonal:
                    orthogonal_(module.weight, seed=keyed(root, name_word(f"{name}.weight")))
                inputs = _layer_inputs(model, x, module)
                scale, count, variance = rescale_to_unit_variance(
                    lambda: _output_variance(module, inputs), module.weight.mul_, tol, max_iter,
                    f"the outputs of {name!r}")
                scales.append(scale)
                iterations.append(count)
                variances.append(variance)
                widths.append(module.out_features if isinstance(module, nn.Linear) else module.out_channels)
    finally:
        model.train(was_training)
    return LSUVResult(order, widths, scales, iterations, variances, "pre", tol, max_iter)
