"""Whole-model initialization: `init_module_`, its presets and its summary."""
import fnmatch
import math
import time
import warnings

import torch
from torch import nn

from ..common.tables import cell, csv_text, json_text, text_table
from ..common.validation import choice, integer
from ..fills.fans import fans
from .functional import (
    DROPINS, Rule, check_tensor, constant_, keyed, kaiming_normal_, kaiming_uniform_, lecun_normal_, name_word, normal_,
    ones_, orthogonal_, resolve_seed, seed_sequence, shard, uniform_, xavier_normal_, xavier_uniform_, zeros_,
)

__all__ = ["PRESETS", "InitSummary", "init_module_"]

PRESETS = ("torch", "xavier", "kaiming", "lecun", "gpt2", "orthogonal")
UNMATCHED = ("error", "warn", "keep")
# Modules whose weight ends a residual branch (attention output, MLP output):
# the GPT-2 preset scales them by 1 / sqrt(2 L).
RESIDUAL_PROJECTIONS = ("c_proj", "out_proj", "o_proj", "down_proj", "linear2")
# _NormBase: every BatchNorm and InstanceNorm; RMSNorm came with torch 2.4
NORMS = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase) + \
    ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
COLUMNS = ("parameter", "rule", "shape", "fan_in", "fan_out", "std", "seconds")
GPT2_STD = 0.02


def _fused_splits(module, name):
    """Row blocks of a fused weight: q, k, v of attention; the gates of a recurrent layer."""
    if isinstance(module, nn.MultiheadAttention) and name == "in_proj_weight":
        return 3
    if isinstance(module, (nn.LSTM, nn.LSTMCell)) and name.startswith("weight_"):
        return 4
    if isinstance(module, (nn.GRU, nn.GRUCell)) and name.startswith("weight_"):
        return 3
    return 1


def _block_fans(param, rule):
    """(fan_in, fan_out) the rule draws with: each row block's for a fused
    weight (splits=), None below two dimensions."""
    if param.dim() < 2:
        return None, None
    splits = rule.arguments.get("splits", 1) if rule is not None else 1
    fan_in, fan_out = fans(tuple(param.shape), "out_in")
    return fan_in, fan_out // splits


def _fan_in(param):
    return fans(tuple(param.shape), "out_in")[0]


def _bounded(bound):
    return uniform_(a=-bound, b=bound) if bound > 0 else zeros_


def _torch_preset(module, name, param, parent):
    """The distribution of the module's own reset_parameters, or None."""
    if isinstance(parent, nn.MultiheadAttention) and module is parent.out_proj and name == "bias":
        return zeros_  # MultiheadAttention._reset_parameters zeroes it
    if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
        if name == "weight":
            return kaiming_uniform_(a=math.sqrt(5))
        fan_in = _fan_in(module.weight)
        return _bounded(1 / math.sqrt(fan_in) if fan_in else 0.0)
    if isinstance(module, nn.Bilinear):
        return _bounded(1 / math.sqrt(module.weight.size(1)))
    if isinstance(module, nn.Embedding):
        return normal_
    if isinstance(module, NORMS):
        return ones_ if name == "weight" else zeros_
    if isinstance(module, nn.MultiheadAttention):
        if name.endswith("proj_weight"):
            return xavier_uniform_
        return zeros_ if name == "in_proj_bias" else xavier_normal_  # bias_k, bias_v
    if isinstance(module, (nn.RNNBase, nn.modules.rnn.RNNCellBase)):
        return _bounded(1 / math.sqrt(module.hidden_size) if module.hidden_size else 0.0)
    if isinstance(module, nn.PReLU):
        return constant_(val=module.init)
    return None


def _family(weights):
    """A preset: norms get ones and zeros, biases zeros, every other
    parameter of two or more dimensions `weights` (fused ones split)."""

    def preset(module, name, param, parent):
        if isinstance(module, NORMS):
            return ones_ if name == "weight" else zeros_
        if name.startswith("bias") or name.endswith("bias"):
            return zeros_
        if param.dim() >= 2:
            splits = _fused_splits(module, name)
            return weights if splits == 1 else weights.with_arguments(splits=splits)
        return None

    return preset


_PRESETS = {
    "torch": _torch_preset,
    "xavier": _family(xavier_uniform_()),
    "kaiming": _family(kaiming_normal_(nonlinearity="relu")),
    "lecun": _family(lecun_normal_()),
    "gpt2": _family(normal_(std=GPT2_STD)),
    "orthogonal": _family(orthogonal_()),
}


def _residual_std(params, num_layers):
    """GPT-2's std of residual projections, 0.02 / sqrt(2 L); None if the model has none."""
    count = sum(_is_residual(p[1], p[3], p[4]) for p in params)
    if not count:
        return None
    return GPT2_STD / math.sqrt(2 * num_layers if num_layers else count)


def _match(qualified, module, globs, types):
    """(key, Rule) of the first glob, else the first type, that matches; (None, None) if none does."""
    for key, rule in globs:
        if fnmatch.fnmatchcase(qualified, key):
            return key, rule
    for key, rule in types:
        if isinstance(module, key):
            return key, rule
    return None, None


def _is_residual(module_name, param_name, param):
    return param_name == "weight" and param.dim() >= 2 and module_name.rsplit(".", 1)[-1] in RESIDUAL_PROJECTIONS


def _as_rule(key, value):
    if isinstance(value, Rule):
        return value
    if value in DROPINS.values():
        return Rule(value, {})
    raise TypeError(f"rules[{key!r}] must be an initcore.torch initializer such as kaiming_normal_ or "
                    f"kaiming_normal_(nonlinearity='relu'), got {type(value).__name__} {value!r:.60}")


def _check_rules(rules):
    """(glob rules, type rules): [(key, Rule)] in the order given."""
    if rules is None:
        return [], []
    if not isinstance(rules, dict):
        raise TypeError(f"rules must be a dict of {{parameter-name glob or module type: initializer}}, "
                        f"got {type(rules).__name__}")
    globs, types = [], []
    for key, value in rules.items():
        if isinstance(key, str):
            globs.append((key, _as_rule(key, value)))
        elif isinstance(key, type) and issubclass(key, nn.Module):
            types.append((key, _as_rule(key, value)))
        else:
            raise TypeError(f"rules keys must be parameter-name globs (str) or nn.Module subclasses, got {key!r}")
    return globs, types


class InitSummary:
    """What `init_module_` did: one row per parameter.

    Attributes
    ----------
    rows : list of dict
        parameter (qualified name), rule, shape, fan_in, fan_out (None below
        two dimensions), std (measured after the fill; of this rank's shard
        for a DTensor; None if not measured) and seconds.
    unmatched : list of str
        Parameters no rule matched, left as they were (``unmatched='warn'``
        or ``'keep'``).
    tied : dict
        {name: the name it shares its tensor with, initialized once under that name}.
    """

    def __init__(self, rows, unmatched, tied):
        self.rows, self.unmatched, self.tied = rows, unmatched, tied

    def __str__(self):
        body = [[r["parameter"], r["rule"], "x".join(map(str, r["shape"])), cell(r["fan_in"], "d"),
                 cell(r["fan_out"], "d"), cell(r["std"], ".4g"), cell(r["seconds"], ".4f")] for r in self.rows]
        return text_table(list(COLUMNS), body, left=2)

    def to_json(self, path=None):
        """The rows as JSON text (also written to `path` when given)."""
        return json_text(self.rows, path, indent=1)

    def to_csv(self, path=None):
        """The rows as CSV text (also written to `path` when given)."""
        return csv_text(self.rows, COLUMNS, path)


def _parameters(model, prefix):
    """[(qualified name, module name, module, name in module, parameter)] of
    the distinct parameters, {module name: module}, {alias: first name} of
    tied parameters."""
    found, first, tied = [], {}, {}
    modules = dict(model.named_modules(prefix=prefix))
    for module_name, module in modules.items():
        for name, param in module.named_parameters(recurse=False):
            qualified = f"{module_name}.{name}" if module_name else name
            if id(param) in first:
                tied[qualified] = first[id(param)]
                continue
            first[id(param)] = qualified
            found.append((qualified, module_name, module, name, param))
    return found, modules, tied


def _std(tensor):
    local = shard(tensor)[0]
    if local.numel() < 2:
        return None
    return float(local.std() if local.dtype in (torch.float32, torch.float64) else local.float().std())


def _zero_padding_row(module, name, param):
    """nn.Embedding's padding row is zero, whatever the rule (as its reset_parameters does)."""
    if not isinstance(module, nn.Embedding) or name != "weight" or module.padding_idx is None:
        return
    local, index = shard(param)
    start = 0 if index is None else index[0].start
    if 0 <= module.padding_idx - start < local.shape[0]:
        local[module.padding_idx - start].zero_()


def init_module_(model, preset=None, rules=None, *, seed=None, generator=None, unmatched="error",
                 num_layers=None, prefix="", measure=True, verbose=False):
    """Initialize every parameter of `model` in place, each from its own
    stream keyed by its qualified name.

    Parameters
    ----------
    model : torch.nn.Module
    preset : {'torch', 'xavier', 'kaiming', 'lecun', 'gpt2', 'orthogonal'}, optional
        Rules for the usual layers, overridden by `rules`:

        - ``'torch'``: the distribution of each module's own
          ``reset_parameters`` (Linear, Conv*, ConvTranspose*, Bilinear,
          Embedding, the norms, MultiheadAttention, RNN/LSTM/GRU, PReLU),
          without calling it.
        - ``'xavier'`` (xavier_uniform_), ``'kaiming'`` (kaiming_normal_,
          relu), ``'lecun'`` (lecun_normal_), ``'orthogonal'`` (orthogonal_),
          ``'gpt2'`` (normal_, std 0.02): for every parameter of two or more
          dimensions; fused weights get their own fans per block
          (MultiheadAttention's ``in_proj_weight``: 3 blocks, LSTM: 4, GRU: 3);
          norm weights ones; norm biases and parameters named ``bias*`` or
          ``*bias`` zeros.
        - ``'gpt2'`` also scales the weights of residual output projections,
          modules named ``c_proj``, ``out_proj``, ``o_proj``, ``down_proj``
          or ``linear2`` (nn.TransformerEncoderLayer's), by 1 / sqrt(2 L),
          as Radford et al. (2019). L is `num_layers`, or else half the
          number of such projections (one for attention and one for the MLP
          in each block).
    rules : dict, optional
        ``{key: initializer}``. A key is a glob on the qualified parameter
        name (`fnmatch.fnmatchcase`, e.g. ``"*.bias"``), or a module type,
        which matches the parameters registered directly on its instances
        (subclasses included). An initializer is a drop-in function of
        `initcore.torch` or a `Rule` (a drop-in called without a tensor,
        e.g. ``kaiming_normal_(nonlinearity="relu")`` or
        ``xavier_uniform_(splits=3)``).

        **Precedence:** the globs in the order given, then the types in the
        order given, then the preset; the first match wins. A rule that
        matches nothing gets a warning (a misspelt glob would otherwise do
        nothing).
    seed : None, int, numpy.random.SeedSequence or initcore.Generator, optional
        The root of every parameter's stream: parameter ``name`` is drawn
        from the SeedSequence child of the root keyed by a 128-bit blake2b
        hash of ``name``. An initcore.Generator gives up one position per call.
    generator : torch.Generator, optional
        Instead of `seed`: a 64-bit root key is drawn from it. With neither,
        the key is drawn from torch's default generator (``torch.manual_seed``
        makes it reproducible). With DTensor parameters every rank must reach
        the same root: pass `seed`, or seed torch alike on every rank.
    unmatched : {'error', 'warn', 'keep'}
        What to do with parameters no rule matches: ``'error'`` (default)
        raises before anything is filled; ``'warn'`` warns and leaves them
        as they were; ``'keep'`` leaves them silently. They are listed in the
        summary either way.
    num_layers : int, optional
        L of the ``'gpt2'`` preset, instead of counting residual projections;
        pass it when initializing one block of a model.
    prefix : str, optional
        The qualified name of `model` inside a larger model, so that
        ``init_module_(model.layer3, ..., prefix="layer3")`` gives exactly the
        values a whole-model init gave to ``layer3`` (globs also see the
        prefixed names).
    measure : bool
        Measure each parameter's std for the summary (one pass over it).
    verbose : bool
        Print the summary table.

    Returns
    -------
    InitSummary
        ``str(summary)`` is the table: parameter, rule, shape, fan_in,
        fan_out, std (measured), seconds; ``to_json()``, ``to_csv()``.

    Raises
    ------
    TypeError
        For a model that is not an nn.Module, a bad rule key or initializer.
    ValueError
        For an unknown preset or `unmatched` value, parameters on the meta
        device (call ``model.to_empty(device=...)`` first), or unmatched
        parameters with ``unmatched='error'``; nothing is filled then.

    Notes
    -----
    Since each stream depends only on the seed and the parameter's name, the
    values do not depend on the order in which modules were built, a model
    built on the meta device and then ``to_empty`` gets the same bits as one
    built normally, and a DTensor parameter (``torch.distributed.tensor``,
    torch 2.5 or later) gets on each rank exactly its slice of a
    single-process init. Tied parameters are initialized once,
    under the first name `named_modules` reaches them by. Buffers (BatchNorm
    running statistics, ...) are not touched.

    References
    ----------
    .. [1] A. Radford, J. Wu, R. Child, D. Luan, D. Amodei and I. Sutskever,
       "Language models are unsupervised multitask learners", 2019, section 2.3
       (the 1 / sqrt(N) scaling of residual layers).
    .. [2] PyTorch ``torch.nn.init`` and each module's ``reset_parameters``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if preset is not None:
        preset = choice("preset", preset, PRESETS)
    unmatched = choice("unmatched", unmatched, UNMATCHED)
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {prefix!r}")
    globs, types = _check_rules(rules)
    if num_layers is not None:
        num_layers = integer("num_layers", num_layers, low=1)
    params, modules, tied = _parameters(model, prefix)
    for qualified, _, _, _, param in params:
        if param.is_meta:
            raise ValueError(f"parameter {qualified!r} is on the meta device and has no storage to fill; "
                             "call model.to_empty(device=...) first")
        check_tensor(param)

    residual_std = _residual_std(params, num_layers) if preset == "gpt2" else None
    plan, used = [], set()
    for qualified, module_name, module, name, param in params:
        key, rule = _match(qualified, module, globs, types)
        used.add(key)
        if rule is None and preset is not None:
            parent = None if module_name == prefix else modules[module_name.rpartition(".")[0]]
            rule = _PRESETS[preset](module, name, param, parent)
            rule = None if rule is None else _as_rule(preset, rule)
            if rule is not None and residual_std is not None and _is_residual(module_name, name, param):
                rule = normal_(std=residual_std)
        plan.append((qualified, module, name, param, rule))

    unused = [key for key, _ in globs + types if key not in used]
    if unused:
        warnings.warn(f"these rules match no parameter of the model: {unused}", stacklevel=2)
    missing = [qualified for qualified, _, _, _, rule in plan if rule is None]
    if missing and unmatched == "error":
        raise ValueError(f"no rule matches the parameters {missing}; add rules for them (a name glob or a "
                         "module type), or pass unmatched='warn' or 'keep' to leave them as they are")
    if missing and unmatched == "warn":
        warnings.warn(f"no rule matches the parameters {missing}; they are left as they were", stacklevel=2)

    root = seed_sequence(resolve_seed(seed, generator))
    rows = []
    with torch.no_grad():
        for qualified, module, name, param, rule in plan:
            fan_in, fan_out = _block_fans(param, rule)
            start = time.perf_counter()
            if rule is not None:
                try:
                    rule(param, seed=keyed(root, name_word(qualified)))
                except (TypeError, ValueError) as exc:
                    raise type(exc)(f"parameter {qualified!r} ({rule!r}): {exc}") from exc
                _zero_padding_row(module, name, param)
            seconds = time.perf_counter() - start
            rows.append({"parameter": qualified, "rule": "(kept)" if rule is None else repr(rule),
                         "shape": list(param.shape), "fan_in": fan_in, "fan_out": fan_out,
                         "std": _std(param) if measure else None, "seconds": seconds})
    summary = InitSummary(rows, missing, tied)
    if verbose:
        print(summary)
    return summary
