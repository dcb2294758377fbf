"""The ``critical`` initializer spec: (sigma_w2, sigma_b2) on the critical
line of the layer's activation (Schoenholz et al. 2017), in MLP, the command
line and as a spec string."""
import math

import numpy as np
import pytest

import initcore
from initcore import meanfield

KS_P_MIN = 1e-4  # as in conftest.py


@pytest.mark.parametrize("activation, sigma_b2", [
    ("tanh", 0.0), ("tanh", 0.05), ("tanh", 0.5), ("erf", 0.1), ("sigmoid", 0.0), ("gelu", 0.05),
    ("selu", 0.05), ("leaky_relu:negative_slope=0.2", 0.0), ("relu", 0.0), ("linear", 0.0),
])
def test_chi1_is_one_at_the_chosen_point(activation, sigma_b2):
    """chi1 = sigma_w2 E[phi'(sqrt(q*) z)^2] at the network's own
    (sigma_w2, sigma_b2), computed by meanfield.chi1, which iterates the
    length map itself from critical_line's q* (so q* must be a fixed point
    at the network's variances: a different path from critical_line's root
    search; gelu has two fixed points at sigma_b2 = 0.05 and the critical
    point is the smaller), is 1 to 1e-8."""
    net = initcore.MLP([32] * 4, activation=activation, init=f"critical:sigma_b2={sigma_b2}", seed=0)
    name, param = net.activations[0]
    assert net.sigma_b2 == pytest.approx([sigma_b2] * 3, rel=1e-12, abs=0.0)
    assert len(set(net.sigma_w2)) == 1
    _, q_star = meanfield.critical_line(name, sigma_b2, param=param, return_q_star=True)
    # q* is NaN for the homogeneous activations, where every q is a fixed point
    q0 = 1.0 if math.isnan(q_star) else q_star
    chi = meanfield.chi1(name, net.sigma_w2[0], net.sigma_b2[0], param=param, q0=q0)
    assert chi == pytest.approx(1.0, abs=1e-8), (activation, sigma_b2, net.sigma_w2[0], chi)


def test_closed_forms_at_zero_bias():
    """With phi(0) = 0 and sigma_b2 = 0 the critical point is q* = 0, where
    sigma_w2 = 1 / phi'(0)^2: 1 for tanh, pi / 4 for erf (phi'(0) = 2 /
    sqrt(pi)), 4 for gelu (phi'(0) = 1/2); linear's is 1 and leaky_relu's
    2 / (1 + a^2)."""
    cases = {"tanh": 1.0, "erf": math.pi / 4, "gelu": 4.0, "linear": 1.0,
             "leaky_relu:negative_slope=0.2": 2.0 / 1.04}
    for activation, expected in cases.items():
        net = initcore.MLP([64, 64], activation=activation, init="critical", seed=0)
        assert net.sigma_w2[0] == pytest.approx(expected, rel=1e-10), activation


def test_relu_gives_he_exactly():
    """ReLU's critical point is sigma_w2 = 2 at sigma_b2 = 0, He's: the
    critical weights are kaiming_normal's, bit for bit, for fans whose
    sqrt(2 / n) and sqrt(2) / sqrt(n) differ in the last bit too (n = 3, 7)."""
    assert meanfield.critical_line("relu", 0.0) == 2.0
    for n_in in (3, 7, 64, 100, 513):
        widths = [n_in, 50, 20]
        critical = initcore.MLP(widths, activation="relu", init="critical", seed=5)
        he = initcore.MLP(widths, activation="relu", init="kaiming_normal", seed=5)
        for w, w_he in zip(critical.weights, he.weights):
            assert np.array_equal(w, w_he), n_in
        assert critical.sigma_w2 == he.sigma_w2
        assert critical.labels == ["critical"] * 2 and critical.sigma_b2 == [0.0, 0.0]


def test_critical_biases_are_drawn_from_the_spec():
    """Under ``critical:sigma_b2=0.05`` and bias="auto", the biases are
    N(0, 0.05): KS over n = 8 * 256 = 2048 biases, p > 1e-4. An explicit
    bias of the same variance is accepted, another one refused."""
    from scipy import stats

    net = initcore.MLP([256] * 9, activation="tanh", init="critical:sigma_b2=0.05", seed=3)
    biases = np.concatenate(net.biases).astype(np.float64)
    assert stats.kstest(biases, "norm", args=(0.0, math.sqrt(0.05))).pvalue > KS_P_MIN
    same = initcore.MLP([16] * 3, activation="tanh", init="critical:sigma_b2=0.25",
                        bias="normal:std=0.5", seed=3)
    assert same.sigma_b2 == [0.25, 0.25]
    with pytest.raises(ValueError, match=r"needs biases of variance sigma_b2 = 0\.05.*bias=0\.0"):
        initcore.MLP([16] * 3, activation="tanh", init="critical:sigma_b2=0.05", bias=0.0)
    # without a sigma_b2 the critical layer has no bias variance: bias=None and 0 both fit
    assert initcore.MLP([16] * 3, activation="tanh", init="critical", bias=None).biases == [None, None]


def test_measured_q_stays_at_the_fixed_point_over_depth():
    """tanh at sigma_b2 = 0.05 on the critical line (sigma_w2 = 1.761, q* =
    0.570), fed inputs whose second moment E[phi(h)^2] = (q* - sigma_b2) /
    sigma_w2 gives layer 1 q = q*: the measured second moment of the
    pre-activations of a 40-layer, width-512 network, batch 512 (262144
    values a layer), stays within 25% of q* at every layer and within 5% on
    average over the layers. (Finite width moves q by a few % a layer, and
    near the critical line the length map pulls it back slowly; on 4 seeds
    the largest deviation was 18%, the mean's 3%.) Control: N(0, 1)
    weights with the same biases (sigma_w2 = 512, chaotic) put q more than
    100 times above q* at every layer."""
    sigma_w2, q_star = meanfield.critical_line("tanh", 0.05, return_q_star=True)
    q0 = (q_star - 0.05) / sigma_w2
    net = initcore.MLP([512] * 41, activation="tanh", init="critical:sigma_b2=0.05", seed=1)
    assert net.sigma_w2[0] == pytest.approx(sigma_w2, rel=1e-12)
    sim = initcore.simulate(net, batch=512, q0=q0, seed=2, backward=False, progress=False)
    ratio = sim.column("q") / q_star
    assert np.all(np.abs(ratio - 1.0) < 0.25) and abs(ratio.mean() - 1.0) < 0.05, ratio
    control = initcore.MLP([512] * 41, activation="tanh", init="normal:std=1", bias=f"normal:std={math.sqrt(0.05)}",
                           seed=1)
    q_control = initcore.simulate(control, batch=512, q0=q0, seed=2, backward=False, progress=False).column("q")
    assert np.all(q_control / q_star > 100)


@pytest.mark.parametrize("activation, spec, error, needles", [
    ("relu", "critical:sigma_b2=0.1", ValueError, ("relu has no critical point at sigma_b2=0.1",
                                                   "sigma_w2 = 2 at sigma_b2 = 0")),
    ("softplus", "critical", ValueError, ("softplus has no critical point",)),
    ("tanh", "critical:sigma_b2=-1", ValueError, ("sigma_b2 must be at least 0.0, got -1.0",)),
    ("tanh", "critical:sigma_b2=abc", TypeError, ("sigma_b2 must be a real number, got 'abc'",)),
    ("tanh", "critical:gain=2", ValueError, ("critical takes the one parameter 'sigma_b2', got 'gain'",)),
])
def test_errors_name_the_activation_and_the_value(activation, spec, error, needles):
    with pytest.raises(error) as info:
        initcore.MLP([8] * 3, activation=activation, init=spec)
    message = str(info.value)
    assert message.startswith(f"init of layer 1 {spec!r}: "), message
    for needle in needles:
        assert needle in message, message


def test_spec_forms_and_per_layer_lists():
    """``critical`` is a spec like any other: a (name, params) tuple, a
    per-layer list beside other initializers, a spec string parse_init
    reads, each layer resolved for its own activation."""
    from initcore.networks.mlp import parse_init

    assert parse_init("Critical:sigma_b2=0.05") == ("critical", {"sigma_b2": 0.05})
    net = initcore.MLP([16] * 4, activation=["tanh", "relu", "linear"],
                       init=[("critical", {"sigma_b2": 0.05}), "critical", "xavier_normal"], seed=0)
    assert net.sigma_w2[:2] == pytest.approx([meanfield.critical_line("tanh", 0.05), 2.0], rel=1e-12)
    assert net.sigma_b2 == pytest.approx([0.05, 0.0, 0.0], rel=1e-12, abs=0.0)
    assert net.labels == ["critical:sigma_b2=0.05", "critical", "xavier_normal"]


def test_command_line_simulates_a_critical_network(run_cli):
    """``initcore simulate --init critical:sigma_b2=0.05``: the network is
    on the critical line (phase "critical", chi1 = 1) with biases of
    variance 0.05, and its last layer's q is within 10% of q* (as above:
    width 256, batch 256, 20 layers)."""
    import json

    _, q_star = meanfield.critical_line("tanh", 0.05, return_q_star=True)
    out = run_cli("simulate", "--init", "critical:sigma_b2=0.05", "--depth", "20", "--width", "256",
                  "--batch", "256", "--json", "--quiet")
    (sim,) = json.loads(out.stdout)
    assert sim["config"]["inits"] == ["critical:sigma_b2=0.05"] * 20
    assert sim["config"]["sigma_b2"] == pytest.approx([0.05] * 20, rel=1e-12)
    assert meanfield.chi1("tanh", sim["config"]["sigma_w2"][0], 0.05) == pytest.approx(1.0, abs=1e-8)
    assert sim["layers"][-1]["q"] == pytest.approx(q_star, rel=0.1)
    bad = run_cli("simulate", "--init", "critical:sigma_b2=0.1", "--activation", "relu")
    assert bad.returncode == 2 and "relu has no critical point at sigma_b2=0.1" in bad.stderr


def test_a_fresh_process_resolves_critical_through_initcore_mlp(tmp_path):
    """The registry is filled when initcore.propagation loads, and
    ``initcore.MLP`` loads it first: a new interpreter that imports nothing
    else builds a critical network (He's weights for relu: the MLP draws its
    first layer's weights first from the seed, as kaiming_normal does)."""
    import subprocess
    import sys

    code = ("import initcore; n = initcore.MLP([64, 64], activation='relu', init='critical', seed=0); "
            "print(n.labels[0], (n.weights[0] == initcore.kaiming_normal((64, 64), seed=0)).all())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["critical", "True"]
