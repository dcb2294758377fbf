"""Every initializer against independent formulas and distributions.

Fan-based rules: the sample is tested with a two-sided KS test (p > 1e-4)
against the scipy.stats distribution whose scale comes from the published
formula (Glorot & Bengio 2010; He et al. 2015; LeCun et al. 1998;
Keras/JAX VarianceScaling), with fans computed from the definition. Sample
sizes are 3e4..2e5 elements per array unless stated.
"""
import math

import numpy as np
import pytest
from scipy import integrate, stats

import initcore

DTYPES = [np.float32, np.float64]
LAYOUTS = ["in_out", "out_in"]
# float32 values are the float64 ones rounded: relative slack for bound checks
REL_SLACK = {np.float32: 1e-6, np.float64: 1e-12}

# PyTorch's torch.nn.init.calculate_gain table (documentation of torch.nn.init).
UNIT_GAIN = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
             "conv_transpose2d", "conv_transpose3d", "sigmoid"]
GAIN_TABLE = {**{n: 1.0 for n in UNIT_GAIN}, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75}
# Published constant (Keras / JAX source): std of N(0, 1) truncated to [-2, 2].
TRUNC2_STD = 0.87962566103423978


def _gain(nonlinearity, a=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if a is None else a
        return math.sqrt(2.0 / (1.0 + slope**2))
    return GAIN_TABLE[nonlinearity]


def _check_std(x, dist, what):
    """Sample variance within 6 standard errors of the distribution's variance.

    SE of the sample variance of n iid draws is sigma^2 sqrt((kappa - 1) / n),
    kappa the (non-excess) kurtosis, here taken from scipy.stats.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    var = float(dist.var())
    kappa = float(dist.stats(moments="k")) + 3.0
    se = var * math.sqrt((kappa - 1.0) / n)
    assert abs(x.var() - var) < 6 * se, f"{what}: sample var {x.var():.6g} vs {var:.6g} (6 SE = {6 * se:.3g})"


def _check_support(x, low, high, dtype, what):
    x = np.asarray(x, dtype=np.float64)
    slack = REL_SLACK[dtype] * max(abs(low), abs(high))
    assert x.min() >= low - slack and x.max() <= high + slack, f"{what}: [{x.min()}, {x.max()}] not in [{low}, {high}]"


# ----------------------------------------------------------------------------
# calculate_gain and fans


@pytest.mark.parametrize("nonlinearity", sorted(GAIN_TABLE))
def test_calculate_gain_table(nonlinearity):
    assert initcore.calculate_gain(nonlinearity) == pytest.approx(GAIN_TABLE[nonlinearity], rel=1e-15)
    assert initcore.calculate_gain(nonlinearity.upper()) == pytest.approx(GAIN_TABLE[nonlinearity], rel=1e-15)


def test_calculate_gain_exact_values():
    assert initcore.calculate_gain("linear") == 1.0
    assert initcore.calculate_gain("sigmoid") == 1.0
    assert initcore.calculate_gain("tanh") == 5.0 / 3.0
    assert initcore.calculate_gain("relu") == math.sqrt(2.0)
    assert initcore.calculate_gain("selu") == 0.75


@pytest.mark.parametrize("slope", [None, 0.0, 0.01, 0.2, 1.0, 3.0, -0.5])
def test_calculate_gain_leaky_relu(slope):
    expected = math.sqrt(2.0 / (1.0 + (0.01 if slope is None else slope) ** 2))
    args = () if slope is None else (slope,)
    assert initcore.calculate_gain("leaky_relu", *args) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
def test_fans_both_layouts(ndim, layout, rng, ref_fans):
    """20 random shapes per rank; also the documented examples."""
    for _ in range(20):
        shape = tuple(int(s) for s in rng.integers(1, 40, size=ndim))
        assert initcore.fans(shape, layout) == ref_fans(shape, layout)
        # reading the mirrored shape in the other layout gives the same fans
        if ndim == 2:
            mirrored = shape[::-1]
        else:
            mirrored = (shape[-1], shape[-2]) + shape[:-2] if layout == "in_out" else shape[2:] + (shape[1], shape[0])
        other = "out_in" if layout == "in_out" else "in_out"
        assert initcore.fans(mirrored, other) == ref_fans(shape, layout)
    assert initcore.fans((3, 3, 64, 128)) == (576, 1152)
    assert initcore.fans((128, 64, 3, 3), layout="out_in") == (576, 1152)


def test_fans_default_layout_is_in_out():
    assert initcore.fans((10, 30)) == (10, 30)
    assert initcore.fans((10, 30), "OUT_IN") == (30, 10)


# ----------------------------------------------------------------------------
# Fan-based initializers: std / bound from the published formulas


def _fan_based_case(name, shape, layout, rng, ref_fans):
    """(params, scipy distribution, support) for one random parameter draw."""
    fan_in, fan_out = ref_fans(shape, layout)
    if name in ("xavier_uniform", "xavier_normal"):
        gain = float(rng.uniform(0.3, 3.0))
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        params = {"gain": gain}
        family = "uniform" if name.endswith("uniform") else "normal"
    elif name in ("kaiming_uniform", "kaiming_normal"):
        nonlinearity = str(rng.choice(["relu", "leaky_relu", "tanh", "linear", "selu"]))
        a = float(rng.uniform(0.0, 0.5))
        mode = str(rng.choice(["fan_in", "fan_out"]))
        fan = fan_in if mode == "fan_in" else fan_out
        std = _gain(nonlinearity, a) / math.sqrt(fan)
        params = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
        family = "uniform" if name.endswith("uniform") else "normal"
    elif name == "lecun_uniform":
        std, params, family = 1.0 / math.sqrt(fan_in), {}, "uniform"
    elif name == "lecun_normal":
        std, params, family = 1.0 / math.sqrt(fan_in), {}, "truncated_normal"
    else:  # pragma: no cover
        raise AssertionError(name)
    return params, std, family


def _family_dist(family, std):
    """The scipy distribution with standard deviation `std` of each family."""
    if family == "uniform":
        bound = math.sqrt(3.0) * std
        return stats.uniform(-bound, 2 * bound), (-bound, bound)
    if family == "normal":
        return stats.norm(0.0, std), (-math.inf, math.inf)
    wide = std / stats.truncnorm(-2, 2).std()  # sigma' = std / 0.8796...
    return stats.truncnorm(-2, 2, scale=wide), (-2 * wide, 2 * wide)


FAN_BASED = ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", FAN_BASED)
def test_fan_based_initializer_distribution(name, layout, dtype, rng, random_shape, ref_fans, assert_ks):
    """Random 2-5-D shape and parameters; KS against the formula's distribution,
    sample variance within 6 SE, support within the bound."""
    shape = random_shape(rng, int(rng.integers(2, 6)))
    params, std, family = _fan_based_case(name, shape, layout, rng, ref_fans)
    x = getattr(initcore, name)(shape, **params, layout=layout, seed=int(rng.integers(2**32)), dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    dist, (low, high) = _family_dist(family, std)
    what = f"{name}{shape} {layout} {params} {dtype.__name__}"
    assert_ks(x, dist.cdf, what)
    _check_std(x, dist, what)
    _check_support(x, low, high, dtype, what)
    if family == "uniform":
        # the bound is attained: P(max|x| < b (1 - 20/n)) = (1 - 20/n)^n ~ e^-20
        assert np.abs(x.astype(np.float64)).max() > high * (1 - 20 / x.size)


def test_truncated_constant_is_std_of_standard_normal_on_pm2():
    """The published Keras/JAX constant agrees with scipy and with the integral."""
    assert stats.truncnorm(-2, 2).std() == pytest.approx(TRUNC2_STD, rel=1e-14)
    mass = integrate.quad(stats.norm.pdf, -2, 2, epsabs=0, epsrel=1e-13)[0]
    second = integrate.quad(lambda z: z * z * stats.norm.pdf(z), -2, 2, epsabs=0, epsrel=1e-13)[0]
    assert math.sqrt(second / mass) == pytest.approx(TRUNC2_STD, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
def test_variance_scaling(mode, distribution, layout, dtype, rng, random_shape, ref_fans, assert_ks):
    """Variance scale / fan (Keras/JAX): random 2-5-D shape, scale log-uniform
    in [0.1, 10]. truncated_normal: N(0, sigma'^2) on [-2 sigma', 2 sigma'],
    sigma' = sqrt(scale / fan) / 0.8796..., so the std is exactly sqrt(scale / fan)."""
    shape = random_shape(rng, int(rng.integers(2, 6)))
    scale = float(math.exp(rng.uniform(math.log(0.1), math.log(10))))
    fan_in, fan_out = ref_fans(shape, layout)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
           "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    std = math.sqrt(scale / fan)
    x = initcore.variance_scaling(shape, scale, mode, distribution, layout=layout,
                                  seed=int(rng.integers(2**32)), dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    dist, (low, high) = _family_dist(distribution, std)
    assert dist.std() == pytest.approx(std, rel=1e-12)
    what = f"variance_scaling{shape} {scale} {mode} {distribution} {layout} {dtype.__name__}"
    assert_ks(x, dist.cdf, what)
    _check_std(x, dist, what)
    _check_support(x, low, high, dtype, what)
    expected = initcore.expected_moments("variance_scaling", shape, scale, mode, distribution, layout=layout)
    assert expected == pytest.approx((0.0, std), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name, alias", [("xavier_uniform", "glorot_uniform"), ("xavier_normal", "glorot_normal"),
                                         ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal"),
                                         ("identity", "eye")])
def test_aliases_are_the_same_initializer(name, alias):
    shape = (37, 23)
    expected = getattr(initcore, name)(shape, seed=4)
    assert np.array_equal(getattr(initcore, alias)(shape, seed=4), expected)
    assert np.array_equal(initcore.initialize(alias.upper(), shape, seed=4), expected)
    assert np.array_equal(getattr(initcore.Generator(4), alias)(shape), expected)


def test_list_initializers_is_complete(init_info):
    names = initcore.list_initializers()
    assert names == sorted(names)
    assert set(names) == set(init_info.ndims)
    with_aliases = set(initcore.list_initializers(aliases=True))
    assert with_aliases == set(names) | {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "eye"}
    for name in with_aliases:
        assert callable(getattr(initcore, name)) and callable(getattr(initcore.Generator, name))


# ----------------------------------------------------------------------------
# expected_moments against closed forms


def _trunc_moments_quad(mean, std, a, b):
    """Mean and std of N(mean, std^2) on [a, b] by quadrature of the density
    (in z-space; relative tolerance only, so far tails keep full precision)."""
    za, zb = (a - mean) / std, (b - mean) / std
    # density scaled by exp(c^2 / 2) around the nearest point c to 0, so tails don't underflow
    c = 0.0 if za <= 0 <= zb else (za if za > 0 else zb)

    def pdf(z):
        return math.exp(-(z * z - c * c) / 2)

    opts = dict(epsabs=0, epsrel=1e-12, limit=200)
    mass = integrate.quad(pdf, za, zb, **opts)[0]
    # the mean may be 0: bound its error absolutely, at 1e-13 standard deviations
    mu = integrate.quad(lambda z: z * pdf(z), za, zb, epsabs=1e-13 * mass, epsrel=1e-12, limit=200)[0] / mass
    var = integrate.quad(lambda z: (z - mu) ** 2 * pdf(z), za, zb, **opts)[0] / mass
    return mean + std * mu, std * math.sqrt(var)


TRUNC_MOMENT_CASES = [
    (0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, -1.0, 8.0), (0.0, 1.0, 5.0, 6.0),
    (0.0, 1.0, -6.0, -5.0), (0.0, 1.0, 1.0, math.inf), (0.0, 1.0, -math.inf, 0.3),
    (0.0, 1.0, 0.5, 0.5001), (-3.0, 0.5, -math.inf, math.inf), (0.0, 1.0, 2.0, 3.0),
    (0.0, 1.0, 30.0, 31.0), (0.0, 1.0, -8.001, -8.0),
]


@pytest.mark.parametrize("mean, std, a, b", TRUNC_MOMENT_CASES)
def test_trunc_normal_moments_vs_quadrature(mean, std, a, b):
    """expected_moments('trunc_normal') against quadrature of the density; the
    quadrature agrees to ~1e-12 relative with the closed form (Mills ratio)
    evaluated in 60-digit mpmath for the narrow and far-tail cases; the
    tolerance is 1e-6."""
    expected_mean, expected_std = _trunc_moments_quad(mean, std, a, b)
    got_mean, got_std = initcore.expected_moments("trunc_normal", (10,), mean, std, a, b)
    assert got_mean == pytest.approx(expected_mean, rel=1e-8, abs=1e-8 * expected_std)
    assert got_std == pytest.approx(expected_std, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mean, std, a, b", TRUNC_MOMENT_CASES)
def test_trunc_normal_sample_moments(mean, std, a, b, dtype):
    """2e5 draws: sample mean within 6 SE (sigma / sqrt(n)) of the quadrature
    mean and sample variance within 6 SE of the quadrature variance."""
    n = 200_000
    expected_mean, expected_std = _trunc_moments_quad(mean, std, a, b)
    x = initcore.trunc_normal(n, mean, std, a, b, seed=21, dtype=dtype).astype(np.float64)
    assert abs(x.mean() - expected_mean) < 6 * expected_std / math.sqrt(n)
    z = (x - x.mean()) / expected_std
    kappa = float(np.mean(z**4))  # kurtosis <= 3 for these truncated normals, estimated here
    assert abs(x.var() / expected_std**2 - 1) < 6 * math.sqrt(max(kappa, 3.0) / n)


def _closed_form(name, shape, params, ref_fans):
    """Per-element (mean, std) from first principles."""
    layout = params.get("layout", "in_out")
    if name == "zeros":
        return 0.0, 0.0
    if name == "ones":
        return 1.0, 0.0
    if name == "constant":
        return params["value"], 0.0
    if name == "uniform":
        lo, hi = params["low"], params["high"]
        return (lo + hi) / 2, (hi - lo) / math.sqrt(12)
    if name == "normal":
        return params["mean"], params["std"]
    if name == "trunc_normal":
        return _trunc_moments_quad(params["mean"], params["std"], params["a"], params["b"])
    fan_in, fan_out = ref_fans(shape, layout) if len(shape) >= 2 else (None, None)
    if name in ("xavier_uniform", "xavier_normal"):
        return 0.0, params["gain"] * math.sqrt(2 / (fan_in + fan_out))
    if name in ("kaiming_uniform", "kaiming_normal"):
        fan = fan_in if params["mode"] == "fan_in" else fan_out
        return 0.0, _gain(params["nonlinearity"], params["a"]) / math.sqrt(fan)
    if name in ("lecun_uniform", "lecun_normal"):
        return 0.0, 1 / math.sqrt(fan_in)
    if name == "variance_scaling":
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
               "fan_geo_avg": math.sqrt(fan_in * fan_out)}[params["mode"]]
        return 0.0, math.sqrt(params["scale"] / fan)
    if name == "orthogonal":
        rows, cols = (math.prod(shape[:-1]), shape[-1]) if layout == "in_out" else (shape[0], math.prod(shape[1:]))
        # min(rows, cols) unit vectors of length max(rows, cols): E[x^2] = gain^2 / max
        return 0.0, params["gain"] / math.sqrt(max(rows, cols))
    if name == "delta_orthogonal":
        cin, cout = (shape[-2], shape[-1]) if layout == "in_out" else (shape[1], shape[0])
        taps = math.prod(shape[:-2]) if layout == "in_out" else math.prod(shape[2:])
        return 0.0, params["gain"] / math.sqrt(max(cin, cout) * taps)
    if name == "identity":
        ref = np.eye(*shape) * params["gain"]
        return float(ref.mean()), float(ref.std())
    if name == "dirac":
        ref = _dirac_reference(shape, params["groups"], layout)
        return float(ref.mean()), float(ref.std())
    if name == "sparse":
        rows = shape[0]
        nonzero = rows - math.ceil(params["sparsity"] * rows)
        return 0.0, params["std"] * math.sqrt(nonzero / rows)
    raise AssertionError(name)  # pragma: no cover


def _random_params(name, rng):
    layout = str(rng.choice(LAYOUTS))
    return {
        "zeros": {}, "ones": {}, "constant": {"value": float(rng.normal())},
        "uniform": {"low": -float(rng.uniform(0, 3)), "high": float(rng.uniform(0.1, 3))},
        "normal": {"mean": float(rng.normal()), "std": float(rng.uniform(0, 3))},
        "trunc_normal": {"mean": float(rng.normal()), "std": float(rng.uniform(0.1, 3)),
                         "a": -float(rng.uniform(0.1, 4)), "b": float(rng.uniform(0.1, 4))},
        "xavier_uniform": {"gain": float(rng.uniform(0, 3)), "layout": layout},
        "xavier_normal": {"gain": float(rng.uniform(0, 3)), "layout": layout},
        "kaiming_uniform": {"a": float(rng.uniform(0, 1)), "mode": str(rng.choice(["fan_in", "fan_out"])),
                            "nonlinearity": str(rng.choice(sorted(GAIN_TABLE) + ["leaky_relu"])), "layout": layout},
        "kaiming_normal": {"a": float(rng.uniform(0, 1)), "mode": str(rng.choice(["fan_in", "fan_out"])),
                           "nonlinearity": str(rng.choice(sorted(GAIN_TABLE) + ["leaky_relu"])), "layout": layout},
        "lecun_uniform": {"layout": layout}, "lecun_normal": {"layout": layout},
        "variance_scaling": {"scale": float(rng.uniform(0.1, 4)),
                             "mode": str(rng.choice(["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])),
                             "distribution": str(rng.choice(["truncated_normal", "normal", "uniform"])),
                             "layout": layout},
        "orthogonal": {"gain": float(rng.uniform(0, 3)), "layout": layout},
        "delta_orthogonal": {"gain": float(rng.uniform(0, 3)), "layout": layout},
        "identity": {"gain": float(rng.uniform(0, 3))},
        "dirac": {"groups": int(rng.choice([1, 2])), "layout": layout},
        "sparse": {"sparsity": float(rng.uniform(0, 1)), "std": float(rng.uniform(0, 1))},
    }[name]


def _random_shape_for(name, params, rng, init_info, max_side):
    """A random shape the initializer accepts; dirac's output channels are a
    multiple of its groups."""
    ndim = int(rng.choice(init_info.ndims[name]))
    shape = tuple(int(s) for s in rng.integers(1, max_side + 1, size=ndim))
    if name == "dirac":
        out_axis = ndim - 1 if params["layout"] == "in_out" else 0
        shape = tuple(s * params["groups"] if i == out_axis else s for i, s in enumerate(shape))
    return shape


@pytest.mark.parametrize("name", initcore.list_initializers())
def test_expected_moments_closed_form(name, rng, init_info, ref_fans):
    """10 random shapes and parameter sets per initializer."""
    for _ in range(10):
        params = _random_params(name, rng)
        shape = _random_shape_for(name, params, rng, init_info, max_side=8)
        got = initcore.expected_moments(name, shape, **params)
        expected = _closed_form(name, shape, params, ref_fans)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, shape, params)


@pytest.mark.parametrize("name", ["identity", "dirac", "delta_orthogonal", "orthogonal"])
def test_expected_moments_match_the_array(name, rng, init_info):
    """For the structured initializers the moments describe the array itself:
    mean of the entries and root-mean-square deviation (orthogonal: the
    root-mean-square entry, which is fixed because the columns are unit vectors)."""
    for _ in range(6):
        params = _random_params(name, rng)
        shape = _random_shape_for(name, params, rng, init_info, max_side=6)
        x = initcore.initialize(name, shape, seed=1, dtype=np.float64, **params).astype(np.float64)
        mean, std = initcore.expected_moments(name, shape, **params)
        if name in ("orthogonal", "delta_orthogonal"):
            assert math.sqrt(np.mean(x**2)) == pytest.approx(std, rel=1e-10, abs=1e-14)
        else:
            assert (mean, std) == pytest.approx((x.mean(), x.std()), rel=1e-12, abs=1e-15)


# ----------------------------------------------------------------------------
# orthogonal


def _as_matrix(x, layout):
    shape = x.shape
    if layout == "in_out":
        return x.reshape(math.prod(shape[:-1]), shape[-1])
    return x.reshape(shape[0], math.prod(shape[1:]))


def _orthonormality_error(matrix):
    m = np.asarray(matrix, dtype=np.float64)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    return float(np.abs(gram - np.eye(gram.shape[0])).max())


ORTHO_SHAPES = {
    "square": (64, 64), "tall": (150, 40), "wide": (40, 150),
    "conv3d_tall": (3, 5, 16, 12), "conv3d_wide": (12, 16, 3, 5), "5d": (2, 3, 2, 7, 9),
    # the Householder product may be blocked (e.g. 128 reflectors): cross block edges
    "square_128": (128, 128), "square_129": (129, 129), "square_257": (257, 257),
    "tall_multiblock": (300, 130), "wide_multiblock": (130, 300), "conv_multiblock": (3, 3, 20, 150),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", list(ORTHO_SHAPES))
def test_orthogonal_is_orthonormal(kind, layout, dtype):
    """Q^T Q = I (or Q Q^T = I for wide matrices) up to 1e-5 in float32 and
    1e-12 in float64, with gain divided out, for several seeds."""
    shape = ORTHO_SHAPES[kind]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for seed, gain in ((0, 1.0), (1, 2.5), (2, 0.3)):
        x = initcore.orthogonal(shape, gain, layout=layout, seed=seed, dtype=dtype)
        assert x.shape == shape and x.dtype == dtype
        matrix = _as_matrix(x.astype(np.float64), layout) / gain
        err = _orthonormality_error(matrix)
        assert err <= tolerance, f"{kind} {layout} {dtype.__name__}: orthonormality error {err}"


def test_orthogonal_gain_zero_gives_zeros():
    assert not np.any(initcore.orthogonal((5, 7), 0.0, seed=3))


def _haar_draws(shape, count, seed, dtype=np.float64, layout="in_out"):
    gen = initcore.Generator(seed)
    return np.stack([_as_matrix(gen.orthogonal(shape, layout=layout, dtype=dtype), layout) for _ in range(count)])


@pytest.mark.parametrize("shape, layout, dtype", [
    ((7, 7), "in_out", np.float64), ((7, 7), "in_out", np.float32), ((9, 4), "in_out", np.float64),
    ((4, 9), "in_out", np.float64), ((3, 2, 2), "out_in", np.float64), ((2, 2, 3), "in_out", np.float32),
])
def test_orthogonal_haar_squared_entries(shape, layout, dtype, assert_ks):
    """A column (tall) or row (wide) of a Haar matrix is uniform on the unit
    sphere of R^m, so each squared entry is Beta(1/2, (m-1)/2). 3000 draws; the
    corner entries and one interior entry are each tested (KS, p > 1e-4)."""
    draws = _haar_draws(shape, 3000, seed=17, dtype=dtype, layout=layout)
    rows, cols = draws.shape[1:]
    m = max(rows, cols)
    positions = {(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1), (rows // 2, cols // 2)}
    for i, j in sorted(positions):
        assert_ks(draws[:, i, j].astype(np.float64) ** 2, stats.beta(0.5, (m - 1) / 2).cdf,
                  f"Q[{i},{j}]^2 of {shape} {layout}")


@pytest.mark.parametrize("shape, layout", [((7, 7), "in_out"), ((9, 4), "in_out"), ((4, 9), "out_in"),
                                           ((2, 3, 5), "out_in")])
def test_orthogonal_haar_signed_entries(shape, layout, assert_ks):
    """Signed entries: a coordinate x of a uniform unit vector in R^m has
    density proportional to (1 - x^2)^((m-3)/2), i.e. (x + 1) / 2 is
    Beta((m-1)/2, (m-1)/2). This also catches a missing sign(R_jj) correction.
    3000 draws, KS p > 1e-4 at every corner and one interior entry."""
    draws = _haar_draws(shape, 3000, seed=23, layout=layout)
    rows, cols = draws.shape[1:]
    m = max(rows, cols)
    dist = stats.beta((m - 1) / 2, (m - 1) / 2)
    for i, j in sorted({(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1), (rows // 2, cols // 2)}):
        assert_ks((draws[:, i, j] + 1) / 2, dist.cdf, f"signed Q[{i},{j}] of {shape} {layout}")


def test_orthogonal_haar_across_blocks(assert_ks, assert_binom):
    """130 x 130 (more than 128 reflectors, so a blocked product crosses a
    block edge): 400 float64 draws. Signed entries on both sides of the edge
    follow Beta((n-1)/2, (n-1)/2) after (x + 1) / 2; the trace follows N(0, 1)
    (for Haar O(n) its first n moments equal those of N(0, 1), Diaconis &
    Shahshahani 1994, and the total-variation error decays faster than
    exponentially, Johansson 1997); det signs are fair (binomial). All KS and
    binomial tests at p > 1e-4."""
    n = 130
    draws = _haar_draws((n, n), 400, seed=130)
    dist = stats.beta((n - 1) / 2, (n - 1) / 2)
    for i, j in [(0, 0), (0, 129), (129, 0), (129, 129), (127, 128), (128, 127), (128, 128), (64, 1)]:
        assert_ks((draws[:, i, j] + 1) / 2, dist.cdf, f"signed Q[{i},{j}] of O({n})")
    assert_ks(np.trace(draws, axis1=1, axis2=2), stats.norm.cdf, f"trace of O({n})")
    signs = np.linalg.slogdet(draws)[0]
    assert_binom(int(np.count_nonzero(signs > 0)), signs.size, 0.5, f"det sign O({n})")


@pytest.mark.parametrize("n", [5, 6])
def test_orthogonal_determinant_sign_is_fair(n, assert_binom):
    """Haar measure on O(n) gives det = +1 and -1 with probability 1/2 each.
    4000 draws, two-sided binomial test p > 1e-4; also |det| = 1."""
    draws = _haar_draws((n, n), 4000, seed=99)
    dets = np.linalg.det(draws)
    assert np.allclose(np.abs(dets), 1.0, atol=1e-10)
    assert_binom(int(np.count_nonzero(dets > 0)), dets.size, 0.5, f"det sign n={n}")


@pytest.mark.parametrize("n", [3, 6])
def test_orthogonal_trace_matches_scipy_ortho_group(n, assert_ks_2samp):
    """The trace is a joint statistic of all diagonal entries; its distribution
    under initcore (4000 draws) and scipy.stats.ortho_group (4000 draws, Haar
    on O(n)) agree (two-sample KS, p > 1e-4)."""
    ours = np.trace(_haar_draws((n, n), 4000, seed=5), axis1=1, axis2=2)
    reference = np.trace(stats.ortho_group.rvs(n, size=4000, random_state=12345), axis1=1, axis2=2)
    assert_ks_2samp(ours, reference, f"trace of O({n})")
    # the trace of a Haar orthogonal matrix has mean 0 and variance 1 (Diaconis & Shahshahani 1994)
    assert abs(ours.mean()) < 6 / math.sqrt(ours.size)
    assert abs(ours.var() - 1.0) < 0.15


def test_orthogonal_product_entries_match_scipy(assert_ks_2samp):
    """Q[0,0] * Q[1,1] - Q[0,1] * Q[1,0] (a 2x2 minor) probes correlations between
    entries; compared with scipy.stats.ortho_group, 4000 draws each."""
    def minor(q):
        return q[:, 0, 0] * q[:, 1, 1] - q[:, 0, 1] * q[:, 1, 0]

    ours = minor(_haar_draws((5, 5), 4000, seed=8))
    reference = minor(stats.ortho_group.rvs(5, size=4000, random_state=777))
    assert_ks_2samp(ours, reference, "2x2 minor of O(5)")


# ----------------------------------------------------------------------------
# identity, dirac, delta_orthogonal


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (3, 7), (7, 3)])
def test_identity(shape, dtype):
    for gain in (1.0, 2.5):
        x = initcore.identity(shape, gain, dtype=dtype)
        assert x.dtype == dtype
        assert np.array_equal(x, (np.eye(*shape) * gain).astype(dtype))


def _dirac_reference(shape, groups, layout):
    """The dirac kernel from its definition, in the given layout."""
    if layout == "in_out":
        kernel, cin, cout = shape[:-2], shape[-2], shape[-1]
    else:
        cout, cin, kernel = shape[0], shape[1], shape[2:]
    w = np.zeros((cout, cin) + tuple(kernel))
    per_group = cout // groups
    centre = tuple(k // 2 for k in kernel)
    for g in range(groups):
        for d in range(min(per_group, cin)):
            w[(g * per_group + d, d) + centre] = 1.0
    return w if layout == "out_in" else np.moveaxis(w, (0, 1), (-1, -2))


def _to_out_in(w, layout):
    """(*k, in, out) -> (out, in, *k); out_in weights unchanged."""
    return w if layout == "out_in" else np.moveaxis(w, (-1, -2), (0, 1))


def _conv(x, w, groups=1):
    """Direct N-D cross-correlation (PyTorch conv semantics), stride 1, zero
    padding k // 2 before and k - 1 - k // 2 after, so the output has the input's
    spatial size. x: (C_in, *spatial), w: (C_out, C_in / groups, *kernel)."""
    cout, cin_g = w.shape[:2]
    kernel = w.shape[2:]
    spatial = x.shape[1:]
    assert x.shape[0] == cin_g * groups
    xp = np.pad(x, [(0, 0)] + [(k // 2, k - 1 - k // 2) for k in kernel])
    y = np.zeros((cout,) + spatial)
    per_group = cout // groups
    for o in range(cout):
        g = o // per_group
        for c in range(cin_g):
            for tap in np.ndindex(*kernel):
                window = tuple(slice(t, t + s) for t, s in zip(tap, spatial))
                y[o] += w[(o, c) + tap] * xp[(g * cin_g + c,) + window]
    return y


DIRAC_CASES = [  # (out_in shape, groups)
    ((4, 4, 3), 1), ((6, 6, 3, 3), 1), ((6, 3, 3), 2), ((6, 2, 3, 5), 3), ((4, 4, 2), 1),
    ((4, 4, 2, 4), 1), ((8, 4, 3, 3), 2), ((5, 8, 3), 1), ((3, 2, 3, 3, 3), 1),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape_out_in, groups", DIRAC_CASES)
def test_dirac_convolution_passes_input_through(shape_out_in, groups, layout, rng):
    """Convolving a random input with the dirac kernel (independent direct
    convolution above) gives back its channels: output channel g*per_group + d
    equals input channel g*C_in_per_group + d, extra output channels are zero."""
    shape = shape_out_in if layout == "out_in" else tuple(shape_out_in[2:]) + (shape_out_in[1], shape_out_in[0])
    w = initcore.dirac(shape, groups, layout=layout, dtype=np.float64)
    assert w.shape == shape
    w_oi = _to_out_in(w, layout)
    cout, cin_g = shape_out_in[:2]
    nd = len(shape_out_in) - 2
    spatial = tuple(int(s) for s in rng.integers(4, 8, size=nd)) if nd < 3 else (4, 3, 5)
    x = rng.normal(size=(cin_g * groups,) + spatial)
    y = _conv(x, w_oi, groups)
    per_group = cout // groups
    for o in range(cout):
        g, d = divmod(o, per_group)
        expected = x[g * cin_g + d] if d < cin_g else np.zeros(spatial)
        assert np.array_equal(y[o], expected), (o, g, d)
    # and the kernel itself equals the definition
    assert np.array_equal(w, _dirac_reference(shape, groups, layout))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape_out_in, groups", DIRAC_CASES)
def test_dirac_float32_equals_float64(shape_out_in, groups, layout):
    shape = shape_out_in if layout == "out_in" else tuple(shape_out_in[2:]) + (shape_out_in[1], shape_out_in[0])
    assert np.array_equal(initcore.dirac(shape, groups, layout=layout, dtype=np.float32),
                          _dirac_reference(shape, groups, layout).astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape_out_in", [(8, 8, 3), (12, 5, 3, 3), (5, 12, 3, 3), (6, 4, 3, 2, 3), (4, 4, 2, 2)])
def test_delta_orthogonal(shape_out_in, layout, dtype, rng):
    """Centre tap k // 2 holds an orthogonal (cin x cout or cout x cin) matrix
    times gain, every other tap is zero, and a convolution with it preserves
    the norm of every spatial position when cout >= cin (an isometry)."""
    cout, cin = shape_out_in[:2]
    kernel = shape_out_in[2:]
    shape = shape_out_in if layout == "out_in" else tuple(kernel) + (cin, cout)
    centre = tuple(k // 2 for k in kernel)
    gain = 1.7
    x = initcore.delta_orthogonal(shape, gain, layout=layout, seed=3, dtype=dtype)
    assert x.shape == shape and x.dtype == dtype
    w = _to_out_in(x.astype(np.float64), layout)  # (cout, cin, *k)
    tap = w[(slice(None), slice(None)) + centre]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert _orthonormality_error(tap / gain) <= tolerance
    mask = np.ones(kernel, dtype=bool)
    mask[centre] = False
    assert not np.any(w[:, :, mask])
    if cout >= cin:
        inputs = rng.normal(size=(cin,) + tuple(k + 3 for k in kernel))
        y = _conv(inputs, w)
        assert np.allclose(np.linalg.norm(y, axis=0), gain * np.linalg.norm(inputs, axis=0),
                           rtol=10 * tolerance)


def test_delta_orthogonal_centre_is_haar(assert_ks):
    """The centre tap of a (3, 3, 6, 6) kernel: squared entry (0, 0) is
    Beta(1/2, 5/2) over 3000 draws (KS, p > 1e-4)."""
    gen = initcore.Generator(31)
    values = np.array([gen.delta_orthogonal((3, 3, 6, 6), dtype=np.float64)[1, 1, 0, 0] for _ in range(3000)])
    assert_ks(values**2, stats.beta(0.5, 2.5).cdf, "delta_orthogonal centre entry")


# ----------------------------------------------------------------------------
# sparse


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows, cols, sparsity", [(10, 5, 0.3), (37, 200, 0.2), (300, 50, 0.5),
                                                  (129, 40, 0.9), (8, 8, 0.0), (8, 8, 1.0), (1000, 3, 0.01)])
def test_sparse_zero_count_per_column(rows, cols, sparsity, dtype):
    """Exactly ceil(sparsity * rows) zeros in every column (the convention of
    Martens 2010 and torch.nn.init.sparse_)."""
    x = initcore.sparse((rows, cols), sparsity, 0.5, seed=2, dtype=dtype)
    assert x.shape == (rows, cols) and x.dtype == dtype
    expected = math.ceil(sparsity * rows)
    assert np.all(np.count_nonzero(x == 0, axis=0) == expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_nonzero_entries_are_normal(dtype, assert_ks):
    """The non-zero entries of a (400, 300) sparse matrix, sparsity 0.25,
    std 0.7 (90000 values): KS against N(0, 0.7^2)."""
    x = initcore.sparse((400, 300), 0.25, 0.7, seed=6, dtype=dtype)
    values = x[x != 0]
    assert values.size == 300 * 300
    assert_ks(values, stats.norm(0, 0.7).cdf, f"sparse non-zeros {dtype.__name__}")


@pytest.mark.parametrize("rows, cols, sparsity", [(37, 20000, 0.2), (300, 4000, 0.5)])
def test_sparse_zero_rows_are_uniform(rows, cols, sparsity):
    """Zero positions are a uniformly random subset of the rows in every
    column. (1) Chi-square over rows of the zero counts across all columns,
    expected cols * k / rows each. (2) The number of zeros among the first
    rows // 2 rows is hypergeometric(rows, k, rows // 2); chi-square over
    its values (bins with expectation < 5 merged). Both p > 1e-4."""
    k = math.ceil(sparsity * rows)
    x = initcore.sparse((rows, cols), sparsity, 1.0, seed=44)
    zero = x == 0
    per_row = zero.sum(axis=1)
    chi = stats.chisquare(per_row, np.full(rows, cols * k / rows))
    assert chi.pvalue > 1e-4, f"zero counts per row: chi-square p={chi.pvalue:.3g}"
    half = rows // 2
    first = zero[:half].sum(axis=0)
    support = np.arange(0, k + 1)
    pmf = stats.hypergeom(rows, k, half).pmf(support)
    observed = np.bincount(first, minlength=k + 1)[: k + 1]
    # merge sparse tails into neighbours so every bin expects >= 5
    expected = pmf * cols
    keep = expected >= 5
    lo, hi = np.argmax(keep), len(keep) - np.argmax(keep[::-1]) - 1
    obs = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1: hi], [observed[hi:].sum()]])
    exp = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1: hi], [expected[hi:].sum()]])
    chi2 = stats.chisquare(obs, exp * obs.sum() / exp.sum())
    assert chi2.pvalue > 1e-4, f"hypergeometric subset test: p={chi2.pvalue:.3g}"


# ----------------------------------------------------------------------------
# zeros, ones, constant


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 2, 2), (70000,)])
def test_constants(shape, dtype):
    assert np.array_equal(initcore.zeros(shape, dtype=dtype), np.zeros(shape, dtype))
    assert np.array_equal(initcore.ones(shape, dtype=dtype), np.ones(shape, dtype))
    for value in (0.5, -3.25, 1e-3, 1e30):
        x = initcore.constant(shape, value, dtype=dtype)
        assert x.dtype == dtype and x.shape == shape
        assert np.all(x == dtype(value))
    assert not np.signbit(initcore.zeros(shape, dtype=dtype)).any()


# ----------------------------------------------------------------------------
# PyTorch conventions (torch.nn.init), when torch is installed

TORCH_SHAPES = [(64, 48), (32, 16, 3), (24, 16, 3, 3), (8, 6, 3, 3, 3)]


@pytest.fixture
def torch():
    """torch (skip without it), on one intra-op thread for these many tiny
    calls (much faster on a small machine); the thread count is restored."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize("shape", TORCH_SHAPES)
def test_torch_fans_match_out_in(torch, shape):
    t = torch.empty(shape)
    assert initcore.fans(shape, "out_in") == torch.nn.init._calculate_fan_in_and_fan_out(t)
    # the same weight stored in_out: (*k, in, out)
    in_out = tuple(shape[2:]) + (shape[1], shape[0])
    assert initcore.fans(in_out, "in_out") == torch.nn.init._calculate_fan_in_and_fan_out(t)


@pytest.mark.parametrize("nonlinearity, param", [(n, None) for n in sorted(GAIN_TABLE)] + [
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5))])
def test_torch_calculate_gain(torch, nonlinearity, param):
    assert initcore.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def _torch_sample(torch, init, shape, reps, seed, **kwargs):
    torch.manual_seed(seed)
    out = []
    for _ in range(reps):
        t = torch.empty(shape, dtype=torch.float64)
        init(t, **kwargs)
        out.append(t.numpy().ravel().copy())
    return np.concatenate(out)


TORCH_CASES = [
    # (torch init name, torch kwargs, initcore name, initcore params)
    ("kaiming_normal_", {}, "kaiming_normal", {}),
    ("kaiming_normal_", {"mode": "fan_out"}, "kaiming_normal", {"mode": "fan_out"}),
    ("kaiming_normal_", {"a": 0.2, "nonlinearity": "leaky_relu"},
     "kaiming_normal", {"a": 0.2, "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, "kaiming_uniform", {"a": math.sqrt(5), "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, "kaiming_uniform", {"mode": "fan_out"}),
    ("xavier_uniform_", {"gain": 5 / 3}, "xavier_uniform", {"gain": 5 / 3}),
    ("xavier_normal_", {}, "xavier_normal", {}),
]


@pytest.mark.parametrize("shape", TORCH_SHAPES[1:3])
@pytest.mark.parametrize("torch_name, torch_kwargs, name, params", TORCH_CASES,
                         ids=[f"{c[0]}{c[1]}" for c in TORCH_CASES])
def test_torch_same_distribution_with_out_in_layout(torch, torch_name, torch_kwargs, name, params, shape,
                                                    assert_ks_2samp):
    """torch.nn.init.X_ on an (out, in, *k) tensor and initcore.X(..., layout='out_in')
    draw from the same distribution: two-sample KS on about 1e5 values each."""
    reps = max(1, 100_000 // math.prod(shape))
    theirs = _torch_sample(torch, getattr(torch.nn.init, torch_name), shape, reps, 0, **torch_kwargs)
    gen = initcore.Generator(0)
    ours = np.concatenate([getattr(gen, name)(shape, **params, layout="out_in", dtype=np.float64).ravel()
                           for _ in range(reps)])
    assert_ks_2samp(ours, theirs, f"{name} vs torch.nn.init.{torch_name} on {shape}")
    # the theoretical std for layout='out_in' is torch's formula with torch's fans and gain
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if name.startswith("kaiming"):
        gain = torch.nn.init.calculate_gain(torch_kwargs.get("nonlinearity", "leaky_relu"), torch_kwargs.get("a", 0))
        std = gain / math.sqrt(fan_in if torch_kwargs.get("mode", "fan_in") == "fan_in" else fan_out)
    else:
        std = torch_kwargs.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    assert initcore.expected_moments(name, shape, **params, layout="out_in") == pytest.approx((0.0, std), rel=1e-12)
    assert np.std(ours) == pytest.approx(std, rel=6 / math.sqrt(2 * ours.size))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (0.5, 1.0, 1.5, 4.0)])
def test_torch_trunc_normal_same_distribution(torch, mean, std, a, b, assert_ks_2samp):
    """initcore.trunc_normal and torch.nn.init.trunc_normal_ (absolute bounds):
    two-sample KS on 1e5 values each."""
    theirs = _torch_sample(torch, torch.nn.init.trunc_normal_, (100_000,), 1, 1, mean=mean, std=std, a=a, b=b)
    ours = initcore.trunc_normal(100_000, mean, std, a, b, seed=1, dtype=np.float64)
    assert_ks_2samp(ours, theirs, f"trunc_normal({mean}, {std}, {a}, {b}) vs torch")


def test_torch_orthogonal_same_distribution(torch, assert_ks_2samp):
    """Trace of a (6, 6) orthogonal weight, 1000 draws each, and signed entry
    [0, 7] of a (5, 2, 4) conv weight read out_in (5 x 8, wide); two-sample KS."""
    torch.manual_seed(3)
    theirs = [torch.nn.init.orthogonal_(torch.empty(6, 6, dtype=torch.float64)).numpy() for _ in range(1000)]
    ours = _haar_draws((6, 6), 1000, seed=3)
    assert_ks_2samp(np.trace(ours, axis1=1, axis2=2), np.trace(np.stack(theirs), axis1=1, axis2=2), "trace vs torch")
    theirs = [torch.nn.init.orthogonal_(torch.empty(5, 2, 4, dtype=torch.float64)).numpy().reshape(5, 8)[0, 7]
              for _ in range(1000)]
    ours = _haar_draws((5, 2, 4), 1000, seed=4, layout="out_in")[:, 0, 7]
    assert_ks_2samp(ours, theirs, "entry [0, 7] vs torch")


@pytest.mark.parametrize("shape_out_in, groups", DIRAC_CASES)
def test_torch_dirac_identical(torch, shape_out_in, groups):
    t = torch.nn.init.dirac_(torch.empty(shape_out_in), groups)
    assert np.array_equal(initcore.dirac(shape_out_in, groups, layout="out_in"), t.numpy())


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3)])
def test_torch_eye_identical(torch, shape):
    assert np.array_equal(initcore.identity(shape), torch.nn.init.eye_(torch.empty(shape)).numpy())


@pytest.mark.parametrize("rows, cols, sparsity", [(10, 5, 0.3), (37, 20, 0.2), (100, 7, 0.55)])
def test_torch_sparse_zero_count(torch, rows, cols, sparsity):
    t = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity)
    ours = initcore.sparse((rows, cols), sparsity, seed=0)
    assert np.array_equal((ours == 0).sum(axis=0), (t.numpy() == 0).sum(axis=0))
