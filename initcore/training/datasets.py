"""Small generated classification problems, seeded and without downloads.

Every generator returns ``(X, y)``: float64 features of shape
``(n, n_features)`` and int64 class labels ``0..K-1``. All randomness comes
from initcore's own Philox stream (`initcore.Generator`), so a seed gives the
same data on every platform and thread count.

The problems are those of the classic teaching examples: the two-feature placement set
(CGPA and IQ, "placed or not") of the zero and constant initialization cases,
a 500-feature normalized set for small and large random weights, and the
usual two-dimensional shapes (moons, circles, spirals) for the remedies.
`check_xy` validates user arrays the same way `initcore.train` does.
"""
import math

import numpy as np

from ..fills.generator import as_generator
from ..fills.initializers import normal, uniform
from ..common.validation import integer, real

__all__ = ["check_xy", "circles", "digits", "high_dimensional", "moons", "placement", "spirals"]


def _permutation(n, generator):
    """A uniformly random permutation of range(n) from `generator`: the
    argsort of n uniform float64 draws (ties have probability ~n^2 2^-54; a
    stable sort keeps the result deterministic even then)."""
    if n == 0:
        return np.empty(0, np.intp)
    return np.argsort(uniform((n,), seed=generator, dtype=np.float64), kind="stable")


def _class_sizes(n, n_classes):
    """n split as evenly as possible: the first n % K classes get one more."""
    return [n // n_classes + (k < n % n_classes) for k in range(n_classes)]


def _shuffled(X, y, generator):
    order = _permutation(len(y), generator)
    return np.ascontiguousarray(X[order]), np.ascontiguousarray(y[order])


def _standardize(X):
    """Each column to zero mean and unit variance (population std, ddof=0)."""
    X = X - X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return X / std


def _n(n, low=1):
    return integer("n", n, low=low)


def placement(n=1000, *, noise=0.1, standardize=True, seed=None):
    """The classic two-input problem: CGPA and IQ -> placed or not.

    A student's CGPA is uniform on [5, 10] (on the 0-10 scale) and their IQ
    is N(100, 15^2). With ``u = (CGPA - 7.5) / 2.5`` in [-1, 1] and
    ``v = (IQ - 100) / 15``, the student is placed when

        ``v + 8 u^7 + noise * e > 0``,  e ~ N(0, 1),

    a curved boundary: over the middle of the CGPA range (about 6 to 9) an
    IQ of about 100 decides, while with a CGPA below about 5.5 only an IQ
    above about 125 gets a place and above about 9.5 an IQ of 75 does. No straight line separates the classes well
    (logistic regression reaches about 88% on the default noise; a small
    network about 97%), so a network that can only draw a linear boundary,
    such as one whose units are all identical, is visibly held back.

    Parameters
    ----------
    n : int
        Number of students.
    noise : float
        Standard deviation of the noise on the placement score, in units of
        the IQ standard deviation (15 points). Non-negative.
    standardize : bool
        Return each feature with zero mean and unit variance over the sample
        (as a network expects) instead of CGPA and IQ on their own scales.
    seed : int, None, numpy.random.SeedSequence or initcore.Generator

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2): CGPA and IQ (standardized by default).
    y : numpy.ndarray
        int64 of shape (n,): 1 for placed, 0 for not.

    Notes
    -----
    The score is odd in (u, v) and u, v and e are symmetric about 0, so a
    student is placed with probability exactly 1/2.

    Examples
    --------
    >>> X, y = placement(400, standardize=False, seed=0)
    >>> X.shape, bool(5 <= X[:, 0].min() and X[:, 0].max() <= 10)
    ((400, 2), True)
    """
    n = _n(n)
    noise = real("noise", noise, low=0.0)
    generator = as_generator(seed)
    cgpa = uniform((n,), 5.0, 10.0, seed=generator, dtype=np.float64)
    iq = normal((n,), 100.0, 15.0, seed=generator, dtype=np.float64)
    e = normal((n,), seed=generator, dtype=np.float64)
    u, v = (cgpa - 7.5) / 2.5, (iq - 100.0) / 15.0
    y = (v + 8.0 * u ** 7 + noise * e > 0).astype(np.int64)
    X = np.column_stack([cgpa, iq])
    if standardize:
        X = _standardize(X)
    return np.ascontiguousarray(X), y


def moons(n=1000, *, noise=0.1, seed=None):
    """Two interleaving half circles (as scikit-learn's ``make_moons``).

    Class 0 lies on ``(cos t, sin t)``, class 1 on ``(1 - cos t, 1/2 - sin t)``,
    t evenly spaced on [0, pi], plus N(0, noise^2) on each coordinate.

    Parameters
    ----------
    n : int
        Number of points, at least 2; the classes get n // 2 and n - n // 2.
    noise : float
        Standard deviation of the Gaussian noise. Non-negative.
    seed : int, None, numpy.random.SeedSequence or initcore.Generator

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2), rows in random order.
    y : numpy.ndarray
        int64 of shape (n,), labels 0 and 1.

    Examples
    --------
    >>> X, y = moons(200, seed=0)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    n = _n(n, 2)
    noise = real("noise", noise, low=0.0)
    generator = as_generator(seed)
    n0, n1 = _class_sizes(n, 2)
    t0, t1 = np.linspace(0.0, math.pi, n0), np.linspace(0.0, math.pi, n1)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    X += normal(X.shape, std=noise, seed=generator, dtype=np.float64)
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return _shuffled(X, y, generator)


def circles(n=1000, *, noise=0.05, factor=0.5, seed=None):
    """A circle inside another (as scikit-learn's ``make_circles``).

    Class 0 lies on the unit circle, class 1 on the circle of radius
    `factor`, at evenly spaced angles, plus N(0, noise^2) on each
    coordinate.

    Parameters
    ----------
    n : int
        Number of points, at least 2; the classes get n // 2 and n - n // 2.
    noise : float
        Standard deviation of the Gaussian noise. Non-negative.
    factor : float
        Radius of the inner circle, in (0, 1).
    seed : int, None, numpy.random.SeedSequence or initcore.Generator

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2), rows in random order.
    y : numpy.ndarray
        int64 of shape (n,), 0 for the outer circle and 1 for the inner.

    Examples
    --------
    >>> X, y = circles(100, noise=0.0, seed=0)
    >>> bool(np.allclose(np.hypot(*X[y == 1].T), 0.5))
    True
    """
    n = _n(n, 2)
    noise = real("noise", noise, low=0.0)
    factor = real("factor", factor, low=0.0, low_open=True)
    if not factor < 1.0:
        raise ValueError(f"factor must lie strictly between 0 and 1, got {factor}")
    generator = as_generator(seed)
    parts = []
    for size, radius in zip(_class_sizes(n, 2), (1.0, factor)):
        angle = np.linspace(0.0, 2.0 * math.pi, size, endpoint=False)
        parts.append(radius * np.column_stack([np.cos(angle), np.sin(angle)]))
    X = np.concatenate(parts)
    X += normal(X.shape, std=noise, seed=generator, dtype=np.float64)
    y = np.repeat(np.arange(2, dtype=np.int64), _class_sizes(n, 2))
    return _shuffled(X, y, generator)


def spirals(n=1000, *, noise=0.05, n_classes=2, turns=1.0, seed=None):
    """Interleaved spiral arms, one per class.

    Arm k is ``r (cos theta, sin theta)`` with r evenly spaced on
    [0.05, 1] and ``theta = 2 pi turns r + 2 pi k / n_classes``, plus
    N(0, noise^2) on each coordinate.

    Parameters
    ----------
    n : int
        Number of points, at least `n_classes`; split as evenly as possible.
    noise : float
        Standard deviation of the Gaussian noise. Non-negative.
    n_classes : int
        Number of arms (classes), at least 2.
    turns : float
        How many times each arm winds around the centre. Positive.
    seed : int, None, numpy.random.SeedSequence or initcore.Generator

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2), rows in random order.
    y : numpy.ndarray
        int64 of shape (n,), labels 0..n_classes-1.

    Examples
    --------
    >>> X, y = spirals(300, n_classes=3, seed=0)
    >>> np.bincount(y).tolist()
    [100, 100, 100]
    """
    n_classes = integer("n_classes", n_classes, low=2)
    n = _n(n, n_classes)
    noise = real("noise", noise, low=0.0)
    turns = real("turns", turns, low=0.0, low_open=True)
    generator = as_generator(seed)
    sizes = _class_sizes(n, n_classes)
    parts = []
    for k, size in enumerate(sizes):
        r = np.linspace(0.05, 1.0, size)
        theta = 2.0 * math.pi * (turns * r + k / n_classes)
        parts.append(r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))
    X = np.concatenate(parts)
    X += normal(X.shape, std=noise, seed=generator, dtype=np.float64)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)
    return _shuffled(X, y, generator)


def high_dimensional(n=1000, n_features=500, *, noise=0.1, seed=None):
    """Classic failure case 3: many normalized features and a learnable label.

    The features are N(0, 1), then each column is normalized to zero mean
    and unit variance over the sample. Two fixed random unit directions a
    and b (drawn from the same seed, before X) define the label

        ``y = [g1 + sin(2 g2) + noise * e > 0]``,  ``g1 = X a``, ``g2 = X b``,
        e ~ N(0, 1),

    a linear part plus a nonlinear one, so the label is a function of the
    features that a network can learn but a network whose signal has
    vanished cannot.

    Parameters
    ----------
    n : int
        Number of examples, at least 2 (the normalization needs two).
    n_features : int
        Number of features (500 in the classic example).
    noise : float
        Standard deviation of the noise on the score. Non-negative.
    seed : int, None, numpy.random.SeedSequence or initcore.Generator

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, n_features), every column with mean 0 and
        variance 1 (ddof=0).
    y : numpy.ndarray
        int64 of shape (n,), labels 0 and 1.

    Notes
    -----
    The score is odd in X and the distribution of X (normalized) is
    symmetric, so each label is 1 with probability exactly 1/2.

    Examples
    --------
    >>> X, y = high_dimensional(200, 50, seed=0)
    >>> X.shape, bool(np.allclose(X.std(axis=0), 1.0))
    ((200, 50), True)
    """
    n = _n(n, 2)
    n_features = integer("n_features", n_features, low=1)
    noise = real("noise", noise, low=0.0)
    generator = as_generator(seed)
    directions = normal((2, n_features), seed=generator, dtype=np.float64)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    X = _standardize(normal((n, n_features), seed=generator, dtype=np.float64))
    e = normal((n,), seed=generator, dtype=np.float64)
    g1, g2 = X @ directions[0], X @ directions[1]
    y = (g1 + np.sin(2.0 * g2) + noise * e > 0).astype(np.int64)
    return np.ascontiguousarray(X), y


def digits(*, standardize=True):
    """scikit-learn's handwritten digits: 1797 images of 8x8 pixels, ten classes.

    The data ship with scikit-learn (no download); scikit-learn is an
    optional dependency (``pip install "initcore[sweep]"``). It is the real
    dataset on which `initcore.sweep` reproduces Schoenholz et al. 2017's
    trainability result.

    Parameters
    ----------
    standardize : bool
        Each pixel column to zero mean and unit variance over the 1797
        images (columns that are constant stay 0), as a network expects;
        False gives the raw intensities 0..16.

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (1797, 64).
    y : numpy.ndarray
        int64 of shape (1797,), labels 0..9.

    Raises
    ------
    ImportError
        Without scikit-learn, saying how to install it.

    References
    ----------
    E. Alpaydin & C. Kaynak, "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository, 1998 (the test set, as scikit-learn's
    ``load_digits``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError('the digits dataset ships with scikit-learn, an optional dependency of initcore: '
                          'pip install "initcore[sweep]"') from exc
    data = load_digits()
    X = np.asarray(data.data, dtype=np.float64)
    if standardize:
        X = _standardize(X)
    return np.ascontiguousarray(X), np.asarray(data.target, dtype=np.int64)


def _describe(value):
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value)


def check_xy(X, y, n_classes=None):
    """Validate classification data: features `X` and labels `y`.

    Parameters
    ----------
    X : array_like
        Real features of shape (n_samples, n_features), finite.
    y : array_like
        Class labels: shape (n_samples,) (or (n_samples, 1)) with integer
        values 0..K-1 (integer, boolean, or whole-valued float dtype), or
        one-hot rows of shape (n_samples, K).
    n_classes : int, optional
        K, when known (for example the network's output width): labels must
        then lie in 0..K-1 and one-hot rows must have K columns.

    Returns
    -------
    X : numpy.ndarray
        float64, C-contiguous, shape (n_samples, n_features).
    y : numpy.ndarray
        int64 labels, shape (n_samples,).

    Raises
    ------
    TypeError
        X or y is not numeric.
    ValueError
        Shapes that do not fit, lengths that differ, NaN or infinity, or
        labels that are not whole numbers in 0..K-1 (or not one-hot); the
        message names the parameter and the offending value.

    Examples
    --------
    >>> X, y = check_xy([[0.0, 1.0], [2.0, 3.0]], [[0, 1], [1, 0]])
    >>> y.tolist()
    [1, 0]
    """
    if n_classes is not None:
        n_classes = integer("n_classes", n_classes, low=1)
    try:
        X = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"X must be a rectangular 2-D array: {exc}") from None
    if X.dtype.kind not in "iufb":
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X needs at least one sample and one feature, got shape {X.shape}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"X contains NaN or infinity ({int(bad.sum())} values; the first, "
                         f"{_describe(X[row, col])}, at row {row}, column {col})")
    try:
        y = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"y must be a rectangular array of labels: {exc}") from None
    if y.dtype.kind not in "iufb":
        raise TypeError(f"y must hold integer class labels (or one-hot rows), got dtype {y.dtype}")
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"y must have shape (n_samples,) of labels or (n_samples, K) of one-hot "
                         f"rows, got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have different lengths: X has {X.shape[0]} rows, y has {y.shape[0]}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y)
        if bad.any():
            raise ValueError(f"y contains NaN or infinity (the first at index "
                             f"{tuple(int(i) for i in np.argwhere(bad)[0])})")
    one_hot = y.ndim == 2 and y.shape[1] > 1
    if y.ndim == 2 and not one_hot:
        y = y[:, 0]
    if one_hot:
        rows_ok = np.all((y == 0) | (y == 1), axis=1) & (np.sum(y == 1, axis=1) == 1)
        if not rows_ok.all():
            row = int(np.argmin(rows_ok))
            raise ValueError(f"y of shape {y.shape} is read as one-hot rows, but row {row} is "
                             f"{y[row].tolist()}; each row needs exactly one 1 and zeros elsewhere")
        if n_classes is not None and y.shape[1] != n_classes:
            raise ValueError(f"y has {y.shape[1]} one-hot columns, but n_classes is {n_classes}")
        return X, np.argmax(y, axis=1).astype(np.int64)
    if y.dtype.kind == "b":
        labels = y.astype(np.int64)
    else:
        whole = np.floor(y) == y if y.dtype.kind == "f" else np.ones(y.shape, bool)
        negative = y < 0
        bad = ~whole | negative
        if bad.any():
            index = int(np.argmax(bad))
            raise ValueError(f"y must hold integer class labels 0..K-1 (or one-hot rows), got "
                             f"{_describe(y[index])} at index {index}")
        labels = y.astype(np.int64)
    if n_classes is not None and labels.size and labels.max() >= n_classes:
        index = int(np.argmax(labels >= n_classes))
        raise ValueError(f"y has label {int(labels[index])} at index {index}, but n_classes is "
                         f"{n_classes} (labels 0..{n_classes - 1})")
    return X, labels
