"""initcore.torch.init_module_: presets, rules, name-keyed streams, summary.

Statistical tests are KS tests (fixtures assert_ks / assert_ks_2samp) that
pass at p > 1e-4 on n >= 20000 values (stated per test), with fixed seeds.
"""
import copy
import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import initcore.torch as it  # noqa: E402


class Block(nn.Module):
    """A GPT-2 block: attention (c_attn, c_proj) and MLP (c_fc, c_proj)."""

    def __init__(self, d):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.c_attn, self.attn.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Module()
        self.mlp.c_fc, self.mlp.c_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)


class GPT(nn.Module):
    def __init__(self, d=64, layers=4, vocab=500, positions=32):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.h = nn.ModuleList(Block(d) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied


def values(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def assert_same(first, second):
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


# --- presets -------------------------------------------------------------------


def torch_zoo():
    """Modules whose reset_parameters the 'torch' preset follows; each weight
    has >= 20000 entries."""
    return nn.ModuleDict({
        "linear": nn.Linear(200, 150), "conv": nn.Conv2d(32, 32, 5), "convt": nn.ConvTranspose1d(40, 50, 12),
        "embed": nn.Embedding(300, 80), "norm": nn.LayerNorm(50), "batch": nn.BatchNorm1d(30),
        "attn": nn.MultiheadAttention(160, 4), "lstm": nn.LSTM(100, 80), "bilinear": nn.Bilinear(30, 30, 25),
        "prelu": nn.PReLU(5, init=0.1),
    })


def test_torch_preset_draws_what_reset_parameters_draws(assert_ks_2samp):
    """Each parameter of >= 20000 entries against the same module's own
    reset_parameters values (KS, n = its size, p > 1e-4); smaller random
    ones (biases) lie in torch's bounds, written out here; constants are exact."""
    torch.manual_seed(0)
    reference = values(torch_zoo())
    model = torch_zoo()
    it.init_module_(model, "torch", seed=0)
    mine = values(model)
    bias_bounds = {"linear.bias": 1 / math.sqrt(200), "conv.bias": 1 / math.sqrt(32 * 25),
                   "convt.bias": 1 / math.sqrt(50 * 12), "lstm.bias_ih_l0": 1 / math.sqrt(80),
                   "lstm.bias_hh_l0": 1 / math.sqrt(80), "bilinear.bias": 1 / math.sqrt(30)}
    for name, ref in reference.items():
        if ref.numel() >= 20000:
            assert_ks_2samp(mine[name].numpy(), ref.numpy(), name)
        elif name in bias_bounds:
            assert mine[name].abs().max() <= bias_bounds[name] and mine[name].std() > 0, name
        else:  # norms, MultiheadAttention's biases, PReLU
            assert torch.equal(mine[name], ref), name


def test_gpt2_preset_scales_residual_projections(assert_ks):
    """4 blocks of d = 64: the c_proj weights (81920 values) are N(0, (0.02 /
    sqrt(8))^2) and the other weights (c_attn, c_fc, wte, wpe: 231424 values)
    N(0, 0.02^2) by KS (p > 1e-4); biases 0, norms 1 and 0. The same check
    rejects the residual weights against the unscaled 0.02."""
    model = GPT()
    summary = it.init_module_(model, "gpt2", seed=1)
    params = dict(model.named_parameters())
    residual = np.concatenate([p.detach().numpy().ravel() for n, p in params.items() if "c_proj.weight" in n])
    plain = np.concatenate([p.detach().numpy().ravel() for n, p in params.items()
                            if n.endswith(("c_attn.weight", "c_fc.weight", "wte.weight", "wpe.weight"))])
    assert_ks(residual, stats.norm(0, 0.02 / math.sqrt(8)).cdf, "c_proj")
    assert_ks(plain, stats.norm(0, 0.02).cdf, "other weights")
    with pytest.raises(AssertionError, match="KS rejects"):
        assert_ks(residual, stats.norm(0, 0.02).cdf, "c_proj, unscaled")
    for name, p in params.items():
        if name.endswith("bias") or (name.startswith(("h.", "ln_f")) and "ln" in name and "bias" in name):
            assert not p.any(), name
        elif ".ln_" in name or name.startswith("ln_f"):
            assert (p == 1).all(), name
    assert summary.tied == {"lm_head.weight": "wte.weight"}
    # L given: the whole init with num_layers=4 equals the counted one
    counted = values(model)
    it.init_module_(model, "gpt2", seed=1, num_layers=4)
    assert_same(values(model), counted)


def test_gpt2_preset_on_torch_transformer_layers():
    """nn.TransformerEncoderLayer: out_proj and linear2 are the residual
    projections; 2 layers give 2L = 4 of them, std 0.02 / 2 (within 5%:
    each holds >= 16384 values, relative standard error < 0.6%)."""
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(128, 4, 512), 2, enable_nested_tensor=False)
    it.init_module_(model, "gpt2", seed=0)
    for layer in model.layers:
        assert layer.self_attn.out_proj.weight.std().item() == pytest.approx(0.01, rel=0.05)
        assert layer.linear2.weight.std().item() == pytest.approx(0.01, rel=0.05)
        assert layer.linear1.weight.std().item() == pytest.approx(0.02, rel=0.05)
        assert not layer.self_attn.in_proj_bias.any()


def test_xavier_preset_splits_fused_attention(assert_ks):
    """MultiheadAttention(160): each 160x160 block of in_proj_weight (25600
    values) is U[-b, b] with b = sqrt(6 / 320), its own fans (pytorch#166378),
    by KS; torch's own bound for the fused matrix, sqrt(6 / 640), is rejected."""
    model = nn.MultiheadAttention(160, 4)
    it.init_module_(model, "xavier", seed=2)
    bound = math.sqrt(6 / 320)
    for block in model.in_proj_weight.detach().view(3, 160, 160):
        assert_ks(block.numpy(), stats.uniform(-bound, 2 * bound).cdf, "in_proj block")
    fused = math.sqrt(6 / 640)
    with pytest.raises(AssertionError, match="KS rejects"):
        assert_ks(model.in_proj_weight.detach()[:160].numpy(), stats.uniform(-fused, 2 * fused).cdf, "fused")


@pytest.mark.parametrize("preset", it.PRESETS)
def test_every_preset_covers_the_common_layers(preset):
    model = torch_zoo()
    del model["prelu"]  # a 1-D weight: only the 'torch' preset knows it
    summary = it.init_module_(model, preset, seed=0)
    assert not summary.unmatched and all(r["rule"] != "(kept)" for r in summary.rows)


def test_embedding_padding_row_stays_zero():
    model = nn.Embedding(10, 4, padding_idx=3)
    it.init_module_(model, "gpt2", seed=0)
    assert not model.weight[3].any() and model.weight[2].all()


# --- rules ---------------------------------------------------------------------


def test_rules_precedence_globs_then_types_then_preset():
    model = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3), nn.Linear(3, 2))
    rules = {"*.bias": it.constant_(val=0.5), "2.*": it.constant_(val=9.0),
             nn.Linear: it.constant_(val=2.0), nn.Module: it.constant_(val=7.0)}
    it.init_module_(model, "xavier", rules=rules, seed=0)
    assert (model[0].bias == 0.5).all() and (model[2].bias == 0.5).all()  # first glob wins
    assert (model[2].weight == 9.0).all()  # a glob before any type
    assert (model[0].weight == 2.0).all()  # the first matching type
    assert (model[1].weight == 7.0).all()  # a type before the preset
    it.init_module_(model, "xavier", rules={nn.Linear: it.zeros_}, seed=0)
    assert (model[1].weight == 1).all()  # the preset for what no rule matches


def test_unmatched_parameters_error_warn_or_keep():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 3)
            self.scale = nn.Parameter(torch.full((3,), 5.0))

    model = Scaled()
    before = values(model)
    with pytest.raises(ValueError, match=r"no rule matches the parameters \['scale'\]"):
        it.init_module_(model, "kaiming", seed=0)
    assert_same(values(model), before)  # nothing filled
    with pytest.warns(UserWarning, match="scale"):
        summary = it.init_module_(model, "kaiming", seed=0, unmatched="warn")
    assert summary.unmatched == ["scale"] and (model.scale == 5).all()
    assert not torch.equal(model.linear.weight, before["linear.weight"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = it.init_module_(model, "kaiming", seed=0, unmatched="keep")
    assert summary.unmatched == ["scale"]
    assert next(r for r in summary.rows if r["parameter"] == "scale")["rule"] == "(kept)"


def test_a_rule_that_matches_nothing_warns():
    with pytest.warns(UserWarning, match=r"\*\.bais"):
        it.init_module_(nn.Linear(3, 3), "torch", rules={"*.bais": it.zeros_}, seed=0)


# --- streams keyed by name -----------------------------------------------------


def test_values_do_not_depend_on_registration_order():
    class AB(nn.Module):
        def __init__(self, order):
            super().__init__()
            for name in order:
                setattr(self, name, nn.Linear(8, 8))

    first, second = AB("ab"), AB("ba")
    assert [n for n, _ in first.named_parameters()] != [n for n, _ in second.named_parameters()]
    for model in (first, second):
        it.init_module_(model, "kaiming", seed=4)
    assert_same(values(first), values(second))
    assert not torch.equal(first.a.weight, first.b.weight)


def test_streams_are_the_documented_name_keyed_children():
    """Parameter ``name`` under seed s is drawn with SeedSequence(s,
    spawn_key=(blake2b-128 of the name, little-endian,)), written out here from
    the docstring; the same in a process with another PYTHONHASHSEED."""
    import hashlib
    import subprocess
    import sys

    import initcore

    model = nn.Linear(40, 30)
    it.init_module_(model, "kaiming", seed=12)
    word = int.from_bytes(hashlib.blake2b(b"weight", digest_size=16).digest(), "little")
    expected = initcore.kaiming_normal((30, 40), nonlinearity="relu", layout="out_in",
                                       seed=np.random.SeedSequence(12, spawn_key=(word,)))
    assert np.array_equal(model.weight.detach().numpy(), expected)
    code = ("import torch, initcore.torch as it; m = torch.nn.Linear(40, 30); "
            "it.init_module_(m, 'kaiming', seed=12); print(m.weight.detach().numpy().tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/",
                         env={**__import__("os").environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == model.weight.detach().numpy().tobytes().hex()


def test_reinitializing_a_submodule_with_its_prefix_reproduces_it():
    model = GPT()
    it.init_module_(model, "gpt2", seed=6)
    whole = values(model)
    with torch.no_grad():
        for p in model.h[2].parameters():
            p.fill_(3.0)
    it.init_module_(model.h[2], "gpt2", seed=6, prefix="h.2", num_layers=4)
    assert_same(values(model), whole)
    it.init_module_(model.h[2], "gpt2", seed=6, num_layers=4)  # without the prefix: other streams
    assert not torch.equal(model.h[2].attn.c_attn.weight, whole["h.2.attn.c_attn.weight"])


def test_meta_construction_then_to_empty_is_bit_identical():
    with torch.device("meta"):
        lazy = GPT()
    with pytest.raises(ValueError, match=r"'wte.weight' is on the meta device.*to_empty"):
        it.init_module_(lazy, "gpt2", seed=9)
    lazy.to_empty(device="cpu")
    lazy.lm_head.weight = lazy.wte.weight  # to_empty unties weights: tie them again
    it.init_module_(lazy, "gpt2", seed=9)
    eager = GPT()
    it.init_module_(eager, "gpt2", seed=9)
    assert_same(values(lazy), values(eager))


def test_bfloat16_model_is_the_float32_init_rounded():
    wide, half = GPT(), GPT().to(torch.bfloat16)
    it.init_module_(wide, "gpt2", seed=2)
    it.init_module_(half, "gpt2", seed=2)
    for name, value in values(half).items():
        assert value.dtype == torch.bfloat16 and torch.equal(value, dict(wide.named_parameters())[name].to(value.dtype))


def test_seed_and_generator_replay():
    model = GPT(layers=1)
    g = torch.Generator().manual_seed(5)
    it.init_module_(model, "gpt2", generator=g)
    first = values(model)
    it.init_module_(model, "gpt2", generator=g)
    assert not torch.equal(model.wte.weight, first["wte.weight"])
    g.manual_seed(5)
    it.init_module_(model, "gpt2", generator=g)
    assert_same(values(model), first)
    torch.manual_seed(8)
    it.init_module_(model, "gpt2")
    global_first = values(model)
    torch.manual_seed(8)
    it.init_module_(model, "gpt2")
    assert_same(values(model), global_first)


# --- summary and errors ----------------------------------------------------------


def test_summary_table_json_and_csv(capsys):
    model = nn.Sequential(nn.Linear(30, 20), nn.LayerNorm(20))
    summary = it.init_module_(model, "torch", seed=0, verbose=True)
    printed = capsys.readouterr().out
    assert printed.strip() == str(summary)
    assert printed.split()[:7] == ["parameter", "rule", "shape", "fan_in", "fan_out", "std", "seconds"]
    rows = json.loads(summary.to_json())
    weight = rows[0]
    assert (weight["parameter"], weight["shape"], weight["fan_in"], weight["fan_out"]) == ("0.weight", [20, 30], 30, 20)
    assert weight["std"] == pytest.approx(model[0].weight.std().item())
    assert weight["rule"] == "kaiming_uniform_(a=2.23607)" and weight["seconds"] >= 0
    assert rows[1]["fan_in"] is None
    assert summary.to_csv().splitlines()[0] == "parameter,rule,shape,fan_in,fan_out,std,seconds"
    assert len(summary.to_csv().splitlines()) == 1 + 4


def test_errors_name_the_bad_value(assert_raises):
    model = nn.Linear(3, 3)
    assert_raises(ValueError, lambda: it.init_module_(model, "gtp2"), "unknown preset 'gtp2'", "gpt2")
    assert_raises(TypeError, lambda: it.init_module_(model, rules={5: it.zeros_}), "5")
    assert_raises(TypeError, lambda: it.init_module_(model, rules={"*": torch.nn.init.zeros_}),
                  "rules['*']", "kaiming_normal_")
    assert_raises(TypeError, lambda: it.init_module_(model, rules=[("*", it.zeros_)]), "dict", "list")
    assert_raises(TypeError, lambda: it.init_module_(model.weight, "torch"), "nn.Module", "Parameter")
    assert_raises(ValueError, lambda: it.init_module_(model, "torch", unmatched="ignore"), "'ignore'")
    assert_raises(ValueError, lambda: it.init_module_(model, "gpt2", num_layers=0), "num_layers", "0")
    assert_raises(TypeError, lambda: it.init_module_(model, "torch", prefix=3), "prefix", "3")


def test_import_initcore_does_not_import_torch(tmp_path):
    import subprocess
    import sys

    code = "import sys, initcore; initcore.normal((2, 2), seed=0); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "False"


def test_missing_torch_gives_a_clear_import_error(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import initcore.torch\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "pip install torch" in out.stdout


def test_copying_a_model_keeps_no_hidden_state():
    """init_module_ keeps nothing between calls: a deep copy initialized with
    the same seed gets the same values."""
    model = GPT(layers=1)
    twin = copy.deepcopy(model)
    it.init_module_(model, "lecun", seed=3)
    it.init_module_(twin, "lecun", seed=3)
    assert_same(values(model), values(twin))
