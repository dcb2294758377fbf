"""`initcore.torch.lsuv_`: LSUV on PyTorch models through forward hooks,
against torch's own forward pass and against `initcore.lsuv` on the same
network."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import initcore  # noqa: E402
from initcore.torch import lsuv_  # noqa: E402


def _batch(shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _outputs(model, x, kinds=(nn.Linear, nn.Conv2d)):
    """The output of every Linear/Conv2d of ``model(x)``, by torch, in call order."""
    seen = []
    handles = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.detach()))
               for m in model.modules() if isinstance(m, kinds)]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return seen


def _tanh_mlp(widths, bias=True):
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(n_in, n_out, bias=bias, dtype=torch.float64), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def test_one_iteration_per_layer_with_zero_biases():
    """Linear layers without bias: the output is linear in the weight, so
    one rescaling gives variance 1 to 1e-12 (float64), as torch's own
    forward pass measures it afterwards."""
    model = _tanh_mlp([40, 64, 64, 64, 8], bias=False)
    x = _batch((300, 40), seed=0) * 3.0
    result = lsuv_(model, x, tol=1e-12, max_iter=1, seed=1)
    assert result.iterations == [1, 1, 1, 1] and all(result.converged)
    assert result.layers == ["0", "2", "4", "6"] and result.widths == [64, 64, 64, 8]
    for out in _outputs(model, x):
        assert abs(out.var(unbiased=False).item() - 1.0) < 1e-12


def test_same_scales_as_initcore_lsuv_on_the_same_network():
    """An MLP (float64, tanh, zero biases) and the torch model with the same
    weights (transposed) and input: rescaling without the orthogonal step,
    LSUV through torch hooks and through initcore's fused kernels gives the
    same scales (to 1e-10), rescalings and variances."""
    net = initcore.MLP([32, 48, 48, 16], activation=["tanh", "tanh", "linear"], init="normal:std=0.5",
                       seed=0, dtype="float64")
    model = _tanh_mlp([32, 48, 48, 16], bias=False)
    with torch.no_grad():
        for layer, w in zip(model[::2], net.weights):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
    x = _batch((200, 32), seed=2)
    ours = initcore.lsuv(net, x.numpy(), tol=1e-3, orthogonal=False)
    theirs = lsuv_(model, x, tol=1e-3, orthogonal=False)
    assert theirs.iterations == ours.iterations
    assert np.allclose(theirs.scales, ours.scales, rtol=1e-10)
    assert np.allclose(theirs.variances, ours.variances, rtol=1e-10)
    for layer, w in zip(model[::2], net.weights):
        assert np.allclose(layer.weight.detach().numpy(), w.T, rtol=1e-12)


def test_orthogonal_pre_init_keyed_by_name_in_forward_order():
    """The layers are taken in the order the forward pass calls them (here
    not their registration order), each weight is orthogonal times its scale
    (rows orthonormal / scale, to 1e-10), the same seed gives the same
    weights, and a convolution's output reaches variance 1 within tol."""

    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(32, 4, dtype=torch.float64)
            self.conv = nn.Conv2d(3, 8, 3, dtype=torch.float64)
            self.body = nn.Linear(8 * 4 * 4, 32, dtype=torch.float64)

        def forward(self, x):
            h = torch.relu(self.conv(x)).flatten(1)
            return self.head(torch.tanh(self.body(h)))

    def build():
        torch.manual_seed(0)  # the same biases (torch's own init), which LSUV leaves alone
        return Reversed()

    x = _batch((64, 3, 6, 6), seed=3)
    models = [build() for _ in range(2)]
    results = [lsuv_(model, x, seed=7) for model in models]
    assert results[0].layers == ["conv", "body", "head"] and results[0].widths == [8, 32, 4]
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.equal(a, b)
    for (name, module), scale in zip([("conv", models[0].conv), ("body", models[0].body), ("head", models[0].head)],
                                     results[0].scales):
        w = module.weight.detach().reshape(module.weight.shape[0], -1) / scale
        assert torch.allclose(w @ w.T, torch.eye(w.shape[0], dtype=torch.float64), atol=1e-10), name
    for out in _outputs(models[0], x):
        assert abs(out.var(unbiased=False).item() - 1.0) <= 0.1


def test_mode_is_restored_and_dropout_is_off_while_measuring():
    """With dropout the output variance would move from call to call; LSUV
    measures in eval mode, so one rescaling of a bias-free layer lands on 1
    to 1e-12 and the model is back in training mode afterwards."""
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(16, 16, bias=False, dtype=torch.float64))
    model.train()
    result = lsuv_(model, _batch((128, 16), seed=4), tol=1e-12, max_iter=1, seed=0)
    assert model.training and abs(result.variances[0] - 1.0) < 1e-12


def test_errors():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got list"):
        lsuv_([], _batch((2, 2), 0))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        lsuv_(nn.Linear(2, 2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="model\\(x\\) calls no Linear or convolution layer"):
        lsuv_(nn.Tanh(), _batch((2, 2), 0))
    with pytest.raises(ValueError, match="tol"):
        lsuv_(nn.Linear(2, 2), _batch((2, 2), 0), tol=-1)
    with pytest.raises(ValueError, match="the outputs of '0' have variance 0 on x"):
        lsuv_(nn.Sequential(nn.Linear(4, 4, bias=False)), torch.zeros(8, 4))
    with pytest.warns(RuntimeWarning, match="the outputs of '' have variance"):
        lsuv_(nn.Linear(8, 8, dtype=torch.float64), _batch((32, 8), 0) + 5.0, tol=1e-12, max_iter=1, seed=0)
