"""The grid of a sweep: its parameters, their checks, the points they span,
and the key under which each point's result is stored."""
import hashlib
import itertools
import json
import math
import numbers

from ..common.validation import integer, real
from ..networks.mlp import MLP, parse_activation, split_specs

__all__ = ["ARCHITECTURES", "DATASETS", "PARAMETERS", "TASKS", "expand", "parse_axis", "point_key"]

TASKS = ("simulate", "train")
# Architectures a point can name; convolutional and residual networks join here.
ARCHITECTURES = ("mlp",)
# Datasets of the train task: scikit-learn's digits and initcore's generated problems.
DATASETS = ("digits", "placement", "moons", "circles", "spirals", "high_dimensional")
# Bumped when a task's meaning changes, so that old results are not taken for new ones.
TASK_VERSION = 1

# The parameters that take real numbers (the others: integers or text).
REALS = ("sigma_w2", "sigma_b2", "q0", "lr")
# Every parameter a grid may set: (tasks it applies to, default).
# sigma_w2's default None means "1.0 unless an init spec is given".
PARAMETERS = {
    "architecture": (TASKS, "mlp"),
    "activation": (TASKS, "tanh"),
    "depth": (TASKS, 10),
    "width": (TASKS, 64),
    "sigma_w2": (TASKS, None),
    "sigma_b2": (TASKS, 0.0),
    "init": (TASKS, None),
    "seed": (TASKS, 0),
    "dtype": (TASKS, "float32"),
    "batch": (("simulate",), 256),
    "q0": (("simulate",), 1.0),
    "dataset": (("train",), "digits"),
    "n": (("train",), 1000),
    "epochs": (("train",), 10),
    "batch_size": (("train",), 128),
    "lr": (("train",), 0.01),
}


def _nonnegative_real(name):
    def check(value):
        value = real(name, value, low=0.0)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        return value
    return check


def _positive_int(name):
    return lambda value: integer(name, value, low=1)


def _named(name, choices):
    def check(value):
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
        return value
    return check


def _activation(value):
    if not isinstance(value, str):
        raise TypeError(f"activation must be a spec string such as 'tanh' or 'leaky_relu:negative_slope=0.2', "
                        f"got {value!r}")
    parse_activation(value)
    return value


def _init(value):
    """An init spec string, checked by drawing one small layer with it."""
    if not isinstance(value, str):
        raise TypeError(f"init must be an initializer spec string such as 'orthogonal' or 'normal:std=0.1', "
                        f"got {value!r}")
    MLP([2, 2], init=value, seed=0)
    return value


def _lr(value):
    return real("lr", value, low=0.0, low_open=True)


CHECKS = {
    "architecture": _named("architecture", ARCHITECTURES),
    "activation": _activation,
    "depth": _positive_int("depth"),
    "width": _positive_int("width"),
    "sigma_w2": _nonnegative_real("sigma_w2"),
    "sigma_b2": _nonnegative_real("sigma_b2"),
    "init": _init,
    "seed": lambda value: integer("seed", value, low=0),
    "dtype": _named("dtype", ("float32", "float64")),
    "batch": _positive_int("batch"),
    "q0": _nonnegative_real("q0"),
    "dataset": _named("dataset", DATASETS),
    "n": lambda value: integer("n", value, low=2),
    "epochs": _positive_int("epochs"),
    "batch_size": _positive_int("batch_size"),
    "lr": _lr,
}


def parse_axis(name, text):
    """One axis of the command line: a comma list (``0.5,1,2``) or a range
    ``start:stop:step`` whose end is included when the steps reach it
    (``1:4:0.25`` is 1, 1.25, ..., 4; ``10:40:10`` is 10, 20, 30, 40).

    Float ranges are computed as ``start + i * step`` and rounded to 12
    significant digits, so that ``0.1:0.3:0.1`` gives 0.1, 0.2, 0.3 and not
    0.30000000000000004 (a stop within 1e-9 steps of a step counts as reached).
    Integer parameters take integer ranges. Text items stay text (init and
    activation specs; commas inside an init spec's parameters, as in
    ``normal:std=0.1,mean=0``, continue that spec).

    Returns
    -------
    list
        The values, numbers converted for numeric parameters.

    Raises
    ------
    ValueError
        For an unknown parameter, an empty list, or a malformed range or number,
        naming the parameter and the text.
    """
    if name not in PARAMETERS:
        raise ValueError(f"unknown sweep parameter {name!r}; choose from: {', '.join(PARAMETERS)}")
    integral = isinstance(PARAMETERS[name][1], int) and not isinstance(PARAMETERS[name][1], bool)
    numeric = integral or name in REALS
    if not numeric:
        specs = split_specs(text)
        if not specs:
            raise ValueError(f"{name} {text!r}: the axis is empty; give at least one value")
        return specs
    number = int if integral else float
    values = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            if ":" in item:
                values.extend(_range(number, item))
            else:
                values.append(number(item))
        except _BadRange as exc:
            raise ValueError(f"{name} {text!r}: the range {item!r} {exc}") from None
        except ValueError:
            kind = "integers" if integral else "numbers"
            raise ValueError(f"{name} {text!r}: expected {kind} separated by commas, or a range "
                             f"start:stop:step, got {item!r}") from None
    if not values:
        raise ValueError(f"{name} {text!r}: the axis is empty; give at least one value")
    return values


# Values of one range axis: a typo such as 1:100000000:1 is refused, not expanded.
MAX_AXIS = 100_000


class _BadRange(ValueError):
    """A well-formed range that cannot be an axis; the message says why."""


def _range(number, item):
    parts = item.split(":")
    if len(parts) != 3:
        raise ValueError(item)
    start, stop, step = (number(p) for p in parts)
    if not step > 0:
        raise _BadRange(f"has step {step}; the step must be positive")
    if stop < start:
        raise _BadRange(f"ends at {stop}, before its start {start}")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_AXIS:
        raise _BadRange(f"has {count} values; at most {MAX_AXIS} per axis")
    if number is int:
        return [start + i * step for i in range(count)]
    return [float(f"{start + i * step:.12g}") for i in range(count)]


def _axis_values(name, value):
    """A grid entry as a list of checked values."""
    if isinstance(value, (list, tuple, range)):
        values = list(value)
        if not values:
            raise ValueError(f"the axis {name!r} is empty; give at least one value")
    else:
        values = [value]
    checked = []
    for item in values:
        if isinstance(item, numbers.Real) and not isinstance(item, (bool, numbers.Integral)) \
                and isinstance(PARAMETERS[name][1], int):
            if float(item).is_integer():
                item = int(item)
        try:
            item = CHECKS[name](item)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"bad value {item!r} of the sweep parameter {name!r}: {exc}") from None
        checked.append(float(item) if name in REALS else item)
    if len(set(map(repr, checked))) != len(checked):
        raise ValueError(f"the axis {name!r} repeats a value: {values!r}")
    return checked


def expand(grid, task="simulate"):
    """Every point of `grid`, checked before anything runs.

    Parameters
    ----------
    grid : dict
        Parameter name -> one value or a list of values (an axis). The
        names are those of `PARAMETERS`; a parameter left out takes its
        default. Give either ``sigma_w2`` (weights N(0, sigma_w2 / fan_in),
        the setting of Poole et al. 2016 and Schoenholz et al. 2017) or
        ``init`` (any initializer spec string that `initcore.MLP` accepts,
        such as ``"orthogonal"`` or ``"normal:std=0.05"``), not both.
    task : {"simulate", "train"}

    Returns
    -------
    list of dict
        One canonical config per point, in the order of `PARAMETERS` (the
        later a parameter there, the faster it varies); each holds every
        parameter of its task.

    Raises
    ------
    TypeError, ValueError
        An unknown task or parameter, a parameter of the other task, an
        empty axis, a repeated value, or a bad value (sigma_w2 < 0, an
        unknown activation or dataset, an init spec that does not draw),
        naming the parameter and the value.
    """
    if not isinstance(task, str) or task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of parameter -> value or list of values, got {type(grid).__name__}")
    for name in grid:
        if name not in PARAMETERS:
            raise ValueError(f"unknown sweep parameter {name!r}; choose from: {', '.join(PARAMETERS)}")
        if task not in PARAMETERS[name][0]:
            raise ValueError(f"the sweep parameter {name!r} belongs to the task "
                             f"{PARAMETERS[name][0][0]!r}, not {task!r}")
    if grid.get("init") is not None and grid.get("sigma_w2") is not None:
        raise ValueError("give sigma_w2 or init, not both: an init spec sets the weight variance itself "
                         "(e.g. 'normal:std=0.1'), sigma_w2 draws weights N(0, sigma_w2 / fan_in)")
    names = [name for name, (tasks, _) in PARAMETERS.items() if task in tasks]
    axes = {}
    for name in names:
        default = PARAMETERS[name][1]
        if name == "sigma_w2" and grid.get("init") is None:
            default = 1.0
        value = grid.get(name)
        value = default if value is None else value
        axes[name] = [None] if value is None else _axis_values(name, value)
    points = []
    for values in itertools.product(*axes.values()):
        config = {"task": task, "version": TASK_VERSION, **dict(zip(names, values))}
        points.append(config)
    _check_networks(points)
    return points


def bias_spec(config):
    """A point's biases: N(0, sigma_b2), or for an init spec and sigma_b2 = 0
    ``"auto"``, the biases the spec asks for (``critical:sigma_b2=...``)."""
    if config["sigma_b2"] > 0:
        return ("normal", {"std": math.sqrt(config["sigma_b2"])})
    return "auto" if config["init"] is not None else 0.0


def _check_networks(points):
    """Every (activation, init, sigma_b2) of an init-spec grid, built once on
    a small layer: a spec that cannot serve a point fails before anything
    runs, not at each point."""
    seen = set()
    for config in points:
        combo = (config["activation"], config["init"], config["sigma_b2"])
        if config["init"] is None or combo in seen:
            continue
        seen.add(combo)
        try:
            MLP([2, 2], activation=config["activation"], init=config["init"], bias=bias_spec(config), seed=0)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"init {config['init']!r} with activation {config['activation']!r} and "
                            f"sigma_b2={config['sigma_b2']:g}: {exc}") from None


def canonical(config):
    """The config as JSON text with sorted keys and no spaces: the same
    text for the same point on every machine."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_key(config):
    """The key of a point: the BLAKE2b digest (16 bytes, hex) of its
    canonical JSON."""
    return hashlib.blake2b(canonical(config).encode(), digest_size=16).hexdigest()
