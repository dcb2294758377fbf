"""The losses at a network's output, for `simulate` and `train` alike: which
loss fits which output layer, the targets each takes, and the loss with its
gradient.

bce and cross-entropy work from the logits (Goodfellow, Bengio & Courville
2016, sec. 6.2.2): their gradient is taken w.r.t. the top layer's z, so the
backward pass runs that layer as linear (`top_activation`).
"""
import numpy as np

from ..common.validation import choice, real_array
from .activations import get_activation

__all__ = ["LOSSES", "check_loss", "check_targets", "encode_labels", "from_logits", "loss_gradient",
           "top_activation"]

LOSSES = ("mse", "bce", "cross_entropy")
_LINEAR = get_activation("linear")[0].id


def check_loss(loss, net, *, auto=False):
    """`loss` checked against `net`'s output layer: bce needs a sigmoid last
    layer, cross-entropy a linear one of at least 2 units (softmax is part
    of the loss). With `auto`, "auto" picks bce for one sigmoid unit,
    cross-entropy for a linear output of several, and mse otherwise."""
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a string, got {loss!r}")
    last, width = net.activations[-1][0], net.widths[-1]
    loss = choice("loss", loss, ("auto", *LOSSES) if auto else LOSSES)
    if loss == "auto":
        if width == 1 and last == "sigmoid":
            return "bce"
        return "cross_entropy" if width > 1 and last == "linear" else "mse"
    if loss == "bce" and last != "sigmoid":
        raise ValueError(f"loss='bce' needs a sigmoid last layer, got {width} {last!r} unit(s)")
    if loss == "cross_entropy" and (width < 2 or last != "linear"):
        raise ValueError(f"loss='cross_entropy' needs a linear last layer of at least 2 units (softmax is part "
                         f"of the loss), got {width} {last!r} unit(s)")
    return loss


def check_targets(loss, targets, width, batch):
    """User targets as `loss_gradient` takes them: `batch` integer class
    labels in [0, width) for cross-entropy, else (batch, width) finite
    float64 values (0 or 1 for bce)."""
    y = real_array("targets", targets)
    if loss == "cross_entropy":
        if y.ndim != 1 or y.shape[0] != batch or y.dtype.kind not in "iu":
            raise ValueError(f"cross_entropy targets must be {batch} integer class labels, got "
                             f"shape {y.shape} and dtype {y.dtype}")
        if y.min() < 0 or y.max() >= width:
            raise ValueError(f"cross_entropy labels must lie in [0, {width - 1}], got "
                             f"{int(y.min())}..{int(y.max())}")
        return y.astype(np.intp)
    if y.ndim == 1 and width == 1:
        y = y[:, None]
    if y.shape != (batch, width) or y.dtype.kind not in "iufb":
        raise ValueError(f"{loss} targets must have shape ({batch}, {width}), got {y.shape}")
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("targets contain NaN or infinity")
    if loss == "bce" and not ((y == 0) | (y == 1)).all():
        raise ValueError("bce targets must be 0 or 1")
    return y


def encode_labels(loss, labels, width):
    """Class labels (checked) as targets: the labels for cross-entropy, else
    (n, width) float64: 0/1 for one unit, one-hot for several."""
    if loss == "cross_entropy":
        return labels.astype(np.intp)
    if width == 1:
        return labels[:, None].astype(np.float64)
    onehot = np.zeros((labels.size, width))
    onehot[np.arange(labels.size), labels] = 1.0
    return onehot


def from_logits(loss):
    """Whether `loss_gradient` gives dLoss/dz of the top layer (bce,
    cross-entropy) rather than dLoss/da (mse)."""
    return loss in ("bce", "cross_entropy")


def top_activation(loss, act_id):
    """The activation id the backward kernel runs the top layer with: linear
    when the loss gradient already is dLoss/dz, so that no phi'(z) is applied
    twice."""
    return _LINEAR if from_logits(loss) else act_id


def loss_gradient(loss, z_out, a_out, y):
    """The mean loss over the batch, and each example's gradient of its own
    loss: w.r.t. a (mse), or w.r.t. z (bce with a sigmoid output,
    cross-entropy with a linear one), in float64."""
    batch, width = a_out.shape
    if loss == "mse":
        diff = a_out.astype(np.float64) - y
        return float(np.mean(diff * diff)), 2.0 * diff / width
    z = z_out.astype(np.float64)
    if loss == "bce":
        # softplus(z) - y z, stable for either sign
        value = float(np.mean(np.logaddexp(0.0, z) - y * z))
        return value, (1.0 / (1.0 + np.exp(-z)) - y) / width
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    value = float(-np.mean(log_p[np.arange(batch), y]))
    grad = np.exp(log_p)
    grad[np.arange(batch), y] -= 1.0
    return value, grad
