"""initcore.torch.init_module_ against torch.nn.init on whole models.

- A GPT-2-like stack of nn.Linear blocks, d_model 2048 (24 blocks: 1.21 B
  float32 parameters), built on the meta device and then ``to_empty`` (so
  building costs nothing), pre-filled so page faults are not timed: preset
  "gpt2" against the same distributions by torch.nn.init, and preset "torch"
  against ``model.apply(reset_parameters)``. 2 blocks (101 M parameters) is
  the size for a quick run.
- GPT-2 small in bfloat16 (124 M parameters): trunc_normal_(std 0.02, cut at
  +-0.03, bounds bfloat16 cannot hold) on every parameter, against
  torch.nn.init.trunc_normal_; ``track_outside_bounds`` counts values outside
  [a, b].
"""
import math
from functools import partial

from ._peers import torch_or_skip

STD = 0.02
BOUND = 0.03


def gpt(torch, blocks, d_model, dtype, vocab=0, positions=0):
    """GPT-2's parameters as plain modules (wte, wpe, h.N.{ln_1, attn.c_attn,
    attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_f), built on the meta device
    and then given CPU memory, every value 0.5."""
    nn = torch.nn

    def block():
        attn = nn.ModuleDict({"c_attn": nn.Linear(d_model, 3 * d_model), "c_proj": nn.Linear(d_model, d_model)})
        mlp = nn.ModuleDict({"c_fc": nn.Linear(d_model, 4 * d_model), "c_proj": nn.Linear(4 * d_model, d_model)})
        return nn.ModuleDict({"ln_1": nn.LayerNorm(d_model), "attn": attn, "ln_2": nn.LayerNorm(d_model), "mlp": mlp})

    with torch.device("meta"):
        parts = {"h": nn.ModuleList(block() for _ in range(blocks)), "ln_f": nn.LayerNorm(d_model)}
        if vocab:
            parts.update(wte=nn.Embedding(vocab, d_model), wpe=nn.Embedding(positions, d_model))
        model = nn.ModuleDict(parts).to(dtype)
    model.to_empty(device="cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    return model


def torch_gpt2(torch, model, blocks):
    """The "gpt2" preset's distributions by torch.nn.init, parameter by parameter."""
    init = torch.nn.init
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            init.normal_(p, 0.0, STD / math.sqrt(2 * blocks) if name.endswith("c_proj.weight") else STD)
        elif ".ln_" in name or name.startswith("ln_f"):
            (init.ones_ if name.endswith("weight") else init.zeros_)(p)
        else:
            init.zeros_(p)


def reset_parameters(module):
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()


class InitModule:
    params = ([2, 24], [2048], ["gpt2", "torch"], ["initcore", "torch"])
    param_names = ["blocks", "d_model", "preset", "impl"]
    timeout = 900

    def setup(self, blocks, d_model, preset, impl):
        torch = torch_or_skip()
        import initcore.torch as it

        self.model = gpt(torch, blocks, d_model, torch.float32)
        if impl == "initcore":
            self.run = partial(it.init_module_, self.model, preset, seed=0, measure=False)
        elif preset == "gpt2":
            self.run = partial(torch_gpt2, torch, self.model, blocks)
        else:
            self.run = partial(self.model.apply, reset_parameters)

    def time_init_module(self, blocks, d_model, preset, impl):
        self.run()

    def peakmem_init_module(self, blocks, d_model, preset, impl):
        """The model itself plus what the init adds (at most one staging
        array for initcore: none here, every tensor is filled in place)."""
        self.run()


class TruncNormalBFloat16:
    """GPT-2 small (124 M parameters) in bfloat16."""
    params = (["initcore", "torch"],)
    param_names = ["impl"]
    timeout = 300

    def setup(self, impl):
        torch = torch_or_skip()
        import initcore.torch as it

        self.model = gpt(torch, 12, 768, torch.bfloat16, vocab=50257, positions=1024)
        if impl == "initcore":
            rule = it.trunc_normal_(std=STD, a=-BOUND, b=BOUND)
            self.run = partial(it.init_module_, self.model, rules={"*": rule}, seed=0, measure=False)
        else:
            def run():
                for p in self.model.parameters():
                    torch.nn.init.trunc_normal_(p, 0.0, STD, -BOUND, BOUND)
            self.run = run

    def time_trunc_normal(self, impl):
        self.run()

    def track_outside_bounds(self, impl):
        """Values outside [a, b] after the init (the float64 comparison sees
        bfloat16 values rounded past a bound)."""
        self.run()
        return sum(int(((p.double() < -BOUND) | (p.double() > BOUND)).sum()) for p in self.model.parameters())
