"""The ``initcore`` command line."""
import argparse
import math
import os
import sys
import textwrap

import numpy as np

from . import demo
from ..fills.fans import fans
from ..fills.initializers import expected_moments, initialize, list_initializers
from ..networks.activations import get_activation, list_activations
from ..networks.mlp import MLP, split_specs
from ..common.tables import cell, json_text, rows_text, text_table
from ..propagation.simulate import simulate
from ..sweeps.grid import TASKS
from ..sweeps.tasks import RESULTS

# (label, initializer, params): the four classic failure cases, then the remedies.
REPORT_CASES = (
    ("zeros", "zeros", {}),
    ("constant 0.5", "constant", {"value": 0.5}),
    ("normal std=0.01", "normal", {"std": 0.01}),
    ("normal std=1", "normal", {"std": 1.0}),
    ("xavier_uniform", "xavier_uniform", {}),
    ("xavier_normal tanh", "xavier_normal", {"gain": 5.0 / 3.0}),
    ("kaiming_normal", "kaiming_normal", {}),
    ("lecun_normal", "lecun_normal", {}),
    ("trunc_normal", "trunc_normal", {"std": 0.02, "a": -0.04, "b": 0.04}),
    ("orthogonal", "orthogonal", {}),
)
COLUMNS = ("initializer", "shape", "fan_in", "fan_out", "theory_mean", "theory_std", "sample_mean", "sample_std")


class UsageError(Exception):
    """A bad command-line value: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line ``initcore: error: ...``, exit status 2."""

    def error(self, message):
        self.exit(2, f"initcore: error: {message} (see {self.prog} --help)\n")


def _checked(option, value, check):
    """check(value), its ValueError or TypeError as a UsageError naming
    `option` and `value`: the library's check, before any work."""
    try:
        return check(value)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{option} {value!r}: {exc}") from None


def _prepare_output(option, path, directory=False):
    """Checks, before any work, that the figure file `path` (with `directory`:
    the directory `path`) can be written, and creates its missing directories;
    UsageError naming `option` and `path` otherwise. A figure's extension
    must name a format that matplotlib writes."""
    def refuse(why):
        raise UsageError(f"{option} {path!r}: {why}")

    if not path.strip():
        refuse(f"needs a {'directory' if directory else 'file'} name")
    if not directory:
        from .plots import require_matplotlib

        try:
            formats = require_matplotlib().FigureCanvasAgg.get_supported_filetypes()
        except ImportError as exc:
            refuse(str(exc))
        if os.path.splitext(path)[1][1:].lower() not in formats:
            refuse(f"the extension names the format, one of: {', '.join(sorted(formats))}")
    if os.path.exists(path) and os.path.isdir(path) != directory:
        refuse("is not a directory" if directory else "is a directory")
    parent = path if directory else os.path.dirname(path) or "."
    existing = os.path.abspath(parent)
    while not os.path.exists(existing) and existing != os.path.dirname(existing):
        existing = os.path.dirname(existing)
    shown = existing if os.path.isabs(path) else os.path.relpath(existing)
    if not os.path.isdir(existing):
        refuse(f"{shown!r} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK) or os.path.exists(path) and not os.access(path, os.W_OK):
        refuse(f"no permission to write in {shown!r}")
    existed = os.path.exists(path)
    try:
        os.makedirs(parent, exist_ok=True)
        if not directory:
            with open(path, "a"):  # the surest test: the name, the file system and the permissions
                pass
    except (OSError, ValueError) as exc:
        refuse(f"cannot be written ({getattr(exc, 'strerror', None) or exc})")
    if not directory and not existed:
        os.remove(path)


# What a run needs besides its arrays: one layer's record, histograms and
# statistics in a simulation (about 7 KiB measured; 8 KiB counted).
_LAYER_BYTES = 8 << 10
# simulate() checkpoints the backward pass when keeping every layer would take more.
_KEEP_LIMIT = 2 << 30


def _available_memory():
    """Bytes of memory available now: MemAvailable of /proc/meminfo (Linux),
    else the free physical pages from os.sysconf; None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _bytes_text(n):
    """`n` bytes, e.g. '1.5 GiB' (integer arithmetic: `n` may exceed any float)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    k = min(max(n.bit_length() - 1, 0) // 10, len(units) - 1)
    tenths = n * 10 // (1 << 10 * k)
    return f"{tenths // 10}.{tenths % 10} {units[k]}"


def _check_memory(what, parts):
    """UsageError when the bytes of `parts` ({what is counted: bytes}) exceed
    the memory available; `what` names the run."""
    needed, available = sum(parts.values()), _available_memory()
    if available is not None and needed > available:
        counted = ", ".join(f"{name} {_bytes_text(n)}" for name, n in parts.items())
        raise UsageError(f"{what} needs about {_bytes_text(needed)} of memory ({counted}); "
                         f"{_bytes_text(available)} available")


def _check_simulation_memory(args, runs, backward, units):
    """The memory of `runs` simulations of the --depth x --width network,
    one after another: one network's weights and biases, its working
    buffers, and the per-layer records that every run keeps until the end."""
    depth, width, batch, size = args.depth, args.width, args.batch, np.dtype(args.dtype).itemsize
    row = batch * width * size
    # the input and five ping-pong, gradient and scratch buffers; with the
    # backward pass every layer's pre-activations (sqrt(depth) segments
    # beyond the checkpointing limit) and the largest weight gradient
    buffers = 6 * row
    if backward:
        kept = depth * row
        buffers += (kept if 2 * kept <= _KEEP_LIMIT else 2 * (math.isqrt(depth) + 1) * row) + width * width * size
    _check_memory(f"{args.command} --depth {depth} --width {width} --batch {batch} ({args.dtype})", {
        "weights": depth * (width + 1) * width * size,
        "buffers": buffers,
        "per-layer records": runs * depth * (_LAYER_BYTES + (16 * width if units else 0)),
    })


def _shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape must be comma-separated integers like 512,256, got {text!r}")
    if len(shape) < 2 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"shape needs at least 2 positive dimensions, got {text!r}")
    return shape


def report_rows(shape, seed, dtype):
    """One row per initializer: fans, theoretical and sampled moments."""
    fan_in, fan_out = fans(shape)
    rows = []
    for index, (label, name, params) in enumerate(REPORT_CASES):
        weights = initialize(name, shape, seed=seed + index, dtype=dtype, **params)
        theory_mean, theory_std = expected_moments(name, shape, **params)
        sample = weights.astype(np.float64)
        rows.append({
            "initializer": label,
            "shape": "x".join(map(str, shape)),
            "fan_in": fan_in,
            "fan_out": fan_out,
            "theory_mean": theory_mean,
            "theory_std": theory_std,
            "sample_mean": float(sample.mean()),
            "sample_std": float(sample.std()),
        })
    return rows


def format_rows(rows, fmt):
    """The report rows as JSON (``"json"``, indented by 2), CSV (``"csv"``)
    or a readable table (None, floats to 6 significant digits)."""
    if fmt == "json":
        return json_text(rows, indent=2)
    return rows_text(rows, COLUMNS, fmt, lambda table_rows: _plain_table(table_rows, COLUMNS, ".6g", left=2))


# The classic too-small and too-large weights against Xavier, on tanh.
SIMULATE_INITS = ("normal:std=0.01", "normal:std=1", "xavier_normal")
# compare: the four failure cases of the seeds beside Xavier and He.
COMPARE_INITS = ("zeros", "normal:std=0.01", "normal:std=1", "xavier_normal", "kaiming_normal")
SUMMARY_COLUMNS = ("init", "sigma_w2", "chi1", "phase", "std(a) first", "std(a) last", "theory last",
                   "saturated last", "E[delta^2] first", "E[delta^2] last")


def _positive(name):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {text!r}")
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {text!r}")
        return value
    return parse


def _shown_layers(depth, every):
    step = every if every else max(depth // 10, 1)
    return sorted({1, depth, *range(step, depth + 1, step)})


def _summary(sim, activation):
    from ..propagation import meanfield

    first, last = sim.layers[0], sim.layers[-1]
    sigma_w2, sigma_b2 = sim.config["sigma_w2"][-1], sim.config["sigma_b2"][-1]
    chi = meanfield.chi1(activation, sigma_w2, sigma_b2)
    return {
        "init": sim.config["inits"][0], "sigma_w2": sigma_w2, "chi1": chi, "phase": meanfield.phase(chi),
        "std(a) first": first["a_std"], "std(a) last": last["a_std"],
        "theory last": float(np.sqrt(max(last["a2_theory"], 0.0))), "saturated last": last["saturated"],
        "E[delta^2] first": first.get("delta2"), "E[delta^2] last": last.get("delta2"),
    }


def _plain_table(rows, columns, spec=".4g", left=0):
    """`rows` (dicts) as a readable table of `columns`, floats formatted
    with `spec`, the first `left` columns left-aligned."""
    body = [[cell(row[c], spec if isinstance(row[c], float) else "") for c in columns] for row in rows]
    return text_table(list(columns), body, left)


def _prepare_simulations(args, default_inits, backward, units=False, bias="auto"):
    """The --init specs (`default_inits` when none is given). Every check
    comes before the first simulation: the activation, the memory, each
    spec and the bias (by drawing one layer), and the --plot path."""
    specs = [spec for text in (args.init or default_inits) for spec in split_specs(text)]
    if not specs:
        raise UsageError(f"--init needs at least one initializer, got {' '.join(args.init)!r}")
    _checked("--activation", args.activation, get_activation)
    _check_simulation_memory(args, len(specs), backward, units)

    def layer(init, bias="auto"):
        return MLP([args.width] * 2, activation=args.activation, init=init, bias=bias, seed=0, dtype=args.dtype)

    if bias != "auto":
        _checked("--bias-std", args.bias_std, lambda _: layer("zeros", bias))
    for spec in specs:
        _checked("--init", spec, lambda init: layer(init, bias))
    if args.plot is not None:
        _prepare_output("--plot", args.plot)
    return specs


def _simulations(args, specs, backward=True, units=False, bias="auto"):
    """One simulation per spec of the --depth x --width network, one network alive at a time."""
    widths = [args.width] * (args.depth + 1)
    sims = [simulate(MLP(widths, activation=args.activation, init=spec, bias=bias, seed=args.seed, dtype=args.dtype),
                     batch=args.batch, seed=args.seed + 1, backward=backward, units=units,
                     progress=False if args.quiet else None) for spec in specs]
    if args.plot is not None:
        from .plots import plot_compare

        plot_compare(sims, specs, args.plot)
    return sims


def run_simulate(args):
    """The `simulate` command: one simulation per initializer, tables of
    measurement beside mean-field theory."""
    # "auto": no bias, or N(0, sigma_b2) under --init critical:sigma_b2=...
    bias = ("normal", {"std": args.bias_std}) if args.bias_std > 0 else "auto"
    specs = _prepare_simulations(args, SIMULATE_INITS, not args.no_backward, args.units, bias)
    sims = _simulations(args, specs, not args.no_backward, args.units, bias)
    if args.format == "json":
        print(json_text([sim.to_dict() for sim in sims], indent=1))
        return
    if args.format == "csv":
        # each record names its own init; that column first
        columns = ["init", *(key for key in sims[0].layers[0] if key != "init")]
        print(rows_text([rec for sim in sims for rec in sim.layers], columns, "csv", None))
        return
    shown = _shown_layers(args.depth, args.every)
    print(f"{args.activation} network, depth {args.depth}, width {args.width}, batch {args.batch}, "
          f"{args.dtype}, seed {args.seed}: measured next to mean-field theory\n")
    print(_plain_table([_summary(sim, args.activation) for sim in sims], SUMMARY_COLUMNS))
    for spec, sim in zip(specs, sims):
        sub = type(sim)(sim.config, [sim.layers[i - 1] for i in shown], [], [])
        print(f"\n== init {spec} (layers {', '.join(map(str, shown))}) ==")
        print(sub.table().split("\n", 1)[1])
    if args.plot:
        print(f"\nplot written to {args.plot}")


def run_compare(args):
    """The `compare` command: initializers side by side on one network."""
    specs = _prepare_simulations(args, COMPARE_INITS, backward=True)
    sims = _simulations(args, specs)
    summary = [_summary(sim, args.activation) for sim in sims]
    if args.format == "json":
        print(json_text({"summary": summary, "layers": {spec: sim.layers for spec, sim in zip(specs, sims)}},
                        indent=1, default=float))
        return
    metrics = (("std(a)", "a_std"), ("saturated", "saturated"), ("E[delta^2]", "delta2"))
    curves = {what: [{"layer": layer + 1, **{spec: sim.layers[layer][key] for spec, sim in zip(specs, sims)}}
                     for layer in range(args.depth)] for what, key in metrics}
    if args.format == "csv":
        rows = [{"metric": what, **row} for what, rows in curves.items() for row in rows]
        print(rows_text(rows, ["metric", "layer", *specs], "csv", None))
        return
    print(f"{args.activation} network, depth {args.depth}, width {args.width}, batch {args.batch}, seed {args.seed}\n")
    print(_plain_table(summary, SUMMARY_COLUMNS))
    for what, rows in curves.items():
        print(f"\n{what} per layer:")
        print(_plain_table(rows, ["layer", *specs]))
    if args.plot:
        print(f"\nplot written to {args.plot}")


def run_meanfield(args):
    """The `meanfield` command: fixed point, chi1, depth scales and the
    critical sigma_w2 of one activation, and with --plot the phase diagram."""
    from ..propagation import meanfield

    _checked("--activation", args.activation, get_activation)
    # 'none' was the way to ask for no plot when a plot was the default
    plot = None if args.plot in (None, "none") else args.plot
    if plot is not None:
        _prepare_output("--plot", plot)
    critical = float(meanfield.critical_line(args.activation, args.sigma_b2))
    if args.sigma_w2 is None and not math.isfinite(critical):
        raise UsageError(f"--activation {args.activation!r} has no critical sigma_w2 at --sigma-b2 "
                         f"{args.sigma_b2:g}: give --sigma-w2")
    sigma_w2 = critical if args.sigma_w2 is None else args.sigma_w2
    scales = meanfield.depth_scales(args.activation, sigma_w2, args.sigma_b2)
    result = {"activation": args.activation, "sigma_b2": args.sigma_b2, "sigma_w2": sigma_w2,
              "critical_sigma_w2": critical, **{k: float(v) for k, v in scales.items()}}
    if plot is not None:
        from .plots import plot_phase_diagram

        plot_phase_diagram(args.activation, max(4 * args.sigma_b2, 0.5), plot,
                           points={f"sigma_w2 = {sigma_w2:.3g}": (args.sigma_b2, sigma_w2)})
    if args.format == "json":
        print(json_text(result, indent=1))
        return
    if args.format == "csv":
        print(rows_text([result], list(result), "csv", None))
        return
    print(f"{args.activation}, sigma_b2 = {args.sigma_b2:g}, sigma_w2 = {sigma_w2:.6g} "
          f"({meanfield.phase(result['chi1'])})\n")
    for key, text in (("critical_sigma_w2", "critical sigma_w2 (chi1 = 1)"), ("q_star", "q* (fixed point of q)"),
                      ("c_star", "c* (fixed point of c)"), ("chi1", "chi1"), ("chi_c", "chi_c"),
                      ("xi_q", "xi_q (depth scale of q)"), ("xi_c", "xi_c (depth scale of c)"),
                      ("xi_grad", "xi_grad (depth scale of gradients)")):
        print(f"  {text:36s} {result[key]:.6g}")
    if plot is not None:
        print(f"\nphase diagram written to {plot}")


def run_demo_command(args):
    """The `demo` command: the four classic failure cases and their
    remedies, reproduced by training; a table on stdout, figures and
    report.md in --out."""
    if args.case not in demo.CASE_CHOICES:
        raise UsageError(f"unknown --case {args.case!r}; choose one of: {', '.join(demo.CASE_CHOICES)}")
    _prepare_output("--out", args.out, directory=True)
    quiet = args.quiet or not (sys.stdout.isatty() and sys.stderr.isatty())
    rows = demo.run_demo(args.case, args.out, args.seed, progress=False if quiet else None)
    if args.format is not None:
        print(demo.format_rows(rows, args.format))
        return
    print(textwrap.fill(f"initcore demo --case {args.case} --seed {args.seed}. {demo.LEGEND}", 100) + "\n")
    print(demo.format_rows(rows))
    cases = demo.CASES if args.case == "all" else (args.case,)
    print("\n" + "\n".join(f"claim {demo.CASES.index(c) + 1} ({c}): {demo.verdict(c, rows)}" for c in cases))
    print(f"\nfigures and report written to {os.path.join(args.out, 'report.md')}")


# The sweep's axis options: (option, parameter, help).
SWEEP_AXES = (
    ("--activation", "activation", "activation spec(s), e.g. tanh or tanh,relu (default: tanh)"),
    ("--sigma-w2", "sigma_w2", "weight variance x fan-in, weights N(0, sigma_w2 / fan_in) (default: 1)"),
    ("--init", "init", "initializer spec(s) instead of --sigma-w2, any that MLP accepts, e.g. orthogonal,"
                       "normal:std=0.05"),
    ("--sigma-b2", "sigma_b2", "bias variance, biases N(0, sigma_b2) (default: 0)"),
    ("--depth", "depth", "layers (simulate) or hidden layers (train) (default: 10)"),
    ("--width", "width", "units per layer (default: 64)"),
    ("--seed", "seed", "seed(s) of each network's weights, inputs and shuffling (default: 0)"),
    ("--dtype", "dtype", "float32 and/or float64 (default: float32)"),
    ("--batch", "batch", "simulate: Gaussian inputs pushed through (default: 256)"),
    ("--q0", "q0", "simulate: second moment of the inputs (default: 1)"),
    ("--dataset", "dataset", "train: digits (scikit-learn's, bundled) or placement, moons, circles, spirals, "
                             "high_dimensional (default: digits)"),
    ("--n", "n", "train: examples of a generated dataset (default: 1000)"),
    ("--epochs", "epochs", "train: passes of SGD over the data (default: 10)"),
    ("--batch-size", "batch_size", "train: examples per SGD step (default: 128)"),
    ("--lr", "lr", "train: SGD learning rate (default: 0.01)"),
)
# The statistic shown by default: a trained network's accuracy, or how much
# the gradient grows from the last layer to the first at initialization.
SWEEP_STATISTIC = {"train": "accuracy", "simulate": "grad_ratio"}


def run_sweep(args):
    """The `sweep` command: a grid of networks simulated or trained in
    parallel, stored in --out as they finish (a rerun resumes); the results
    as a table over (sigma_w2, depth) beside c xi_c, and with --plot the
    measured phase diagram."""
    from ..sweeps import analysis, grid as sweep_grid
    from ..sweeps.sweep import sweep

    grid = {}
    for option, name, _ in SWEEP_AXES:
        text = getattr(args, f"axis_{name}")
        if text is not None:
            grid[name] = _checked(option, text, lambda t, name=name: sweep_grid.parse_axis(name, t))
    try:  # the whole grid, before anything runs
        sweep_grid.expand(grid, args.task)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"initcore sweep --task {args.task}: {exc}") from None
    statistic = args.stat or SWEEP_STATISTIC[args.task]
    # the numbers a heat map can show: this task's scalar results
    known = [c for c, kind in RESULTS[args.task].items() if kind in ("double", "int64")]
    if statistic not in known:
        raise UsageError(f"--stat {statistic!r}: not a numeric result of a {args.task} sweep; "
                         f"choose from: {', '.join(known)}")
    if not (math.isfinite(args.c) and args.c > 0):
        raise UsageError(f"--c must be a positive number, got {args.c}")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise UsageError(f"--threshold must be a finite number, got {args.threshold}")
    if args.plot is not None:
        _prepare_output("--plot", args.plot)
    run = sweep(args.out, grid, task=args.task, backend=args.backend, workers=args.workers, threads=args.threads,
                scheduler=args.scheduler, progress=False if args.quiet else None)
    table = run.table()
    rows = table.to_pylist()
    if args.format is not None:
        scalar = [c for c in table.column_names if not c.startswith("layer_")]
        print(rows_text(rows, table.column_names if args.format == "json" else scalar, args.format, None))
    else:
        print(f"initcore sweep --task {args.task}: {len(run.keys)} points in {args.out}: {run.ran} run, "
              f"{run.skipped} already done, {len(run.failed)} failed ({run.seconds:.1f} s)")
    data = analysis.columns(table, ["activation", "depth", "sigma_w2", "sigma_w2_net", "sigma_b2", statistic])
    data["sigma_w2"] = analysis.weight_variance(data).tolist()
    c, c_label = args.c, f"c = {args.c:g}"
    if args.threshold is not None:
        fit = analysis.fit_depth_constant(table, threshold=args.threshold, statistic=statistic)
        c, c_label = fit["c"], f"fitted c = {fit['c']:.2f}"
        if args.format is None:
            print(f"\ntrainable: {statistic} >= {args.threshold:g} ({fit['trainable']} of {fit['points']} points); "
                  f"the rule depth < c xi_c agrees best for c in ({fit['c_low']:.3g}, {fit['c_high']:.3g}): "
                  f"c = {fit['c']:.2f}, agreement {fit['agreement']:.1%}")
    if args.format is None:
        print(f"\nmean {statistic} per (sigma_w2, depth); * where depth < c xi_c, c = {c:.3g}:")
        print(analysis.depth_scale_table(table, c=c, statistic=statistic))
    if args.plot is not None:
        from .plots import plot_sweep

        over = args.plot_over or ("sigma_b2" if len(set(data["sigma_b2"])) > 1 and len(set(data["depth"])) == 1
                                  else "depth")
        plot_sweep(data, args.plot, statistic=statistic, y=over, c=c, c_label=c_label)
        if args.format is None:
            print(f"\nphase diagram written to {args.plot}")
    if run.failed:
        raise UsageError(f"{len(run.failed)} points failed and were not stored (rerun to retry them); the first: "
                         f"{run.failed[0][0]}: {run.failed[0][1]}")


def _format_options(parser, json_help, csv_help, default=None):
    """Adds the mutually exclusive ``--json`` and ``--csv`` options (both
    setting ``format``) to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    json_help, csv_help : str
        The options' help texts.
    default : object
        The default of ``format``: None, or argparse.SUPPRESS for options
        that must not overwrite a value given before a subcommand.
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", dest="format", action="store_const", const="json", default=default,
                       help=json_help)
    group.add_argument("--csv", dest="format", action="store_const", const="csv", default=default,
                       help=csv_help)


DTYPES = ("float32", "float64")
_PLOT_HELP = ("; FILE's directories are created, its extension picks the format (png, svg, pdf, ...) "
              "(default: no plot)")


def _activation_option(parser):
    parser.add_argument("--activation", default="tanh", metavar="NAME",
                        help=f"activation of every layer, one of: {', '.join(list_activations())} (default: tanh)")


def _network_options(parser, depth, width, batch, inits):
    """The options that `simulate` and `compare` share; `inits` is the default of --init."""
    _activation_option(parser)
    parser.add_argument("--init", action="append", metavar="SPEC",
                        help="weight initializer NAME or NAME:key=value,... (e.g. normal:std=0.01), NAME one of: "
                             f"{', '.join(list_initializers())}, or critical[:sigma_b2=S] (on the "
                             "activation's critical line, chi1 = 1); repeat or separate by commas to compare "
                             f"(default: {','.join(inits)})")
    parser.add_argument("--depth", type=_positive("--depth"), default=depth,
                        help=f"number of layers (default: {depth})")
    parser.add_argument("--width", type=_positive("--width"), default=width,
                        help=f"units in every layer (default: {width})")
    parser.add_argument("--batch", type=_positive("--batch"), default=batch,
                        help=f"inputs pushed through the network (default: {batch})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights; the inputs use seed + 1 (default: 0)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="floating-point type (default: float32)")
    parser.add_argument("--plot", metavar="FILE", help="write the per-layer curves to FILE" + _PLOT_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bar (default: one on a terminal)")


def _parser():
    parser = _Parser(
        prog="initcore",
        description="Seeded neural-network initializers: theory next to samples.",
    )
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("simulate", help="push a batch through a deep network: per-layer statistics beside theory")
    _network_options(sim, 50, 512, 512, SIMULATE_INITS)
    sim.add_argument("--bias-std", type=float, default=0.0, help="biases ~ N(0, bias_std^2) (default: 0, no bias, "
                     "or N(0, sigma_b2) under --init critical:sigma_b2=...)")
    sim.add_argument("--no-backward", action="store_true", help="forward pass only (default: forward and backward)")
    sim.add_argument("--units", action="store_true",
                     help="with --json: also each layer's per-unit mean and variance of the activations "
                          "(default: off)")
    sim.add_argument("--every", type=_positive("--every"), default=None,
                     help="show every N-th layer (default: about 10 rows)")
    _format_options(sim, "each simulation as JSON, config and every layer (default: tables)",
                    "every layer's measurements as CSV, one row per init and layer (default: tables)")
    cmp = sub.add_parser("compare", help="initializers side by side: per-layer std, saturation, gradients")
    _network_options(cmp, 20, 256, 256, COMPARE_INITS)
    cmp.add_argument("--inits", dest="init", action="append", help=argparse.SUPPRESS)  # the old name of --init
    _format_options(cmp, "the summary and every layer's measurements as JSON (default: tables)",
                    "the per-layer curves as CSV (default: tables)")
    mf = sub.add_parser("meanfield", help="mean-field theory: q*, chi1, depth scales, critical sigma_w2")
    _activation_option(mf)
    mf.add_argument("--sigma-b2", type=float, default=0.05, help="bias variance (default: 0.05)")
    mf.add_argument("--sigma-w2", type=float, default=None,
                    help="weight variance (default: the critical one, chi1 = 1)")
    mf.add_argument("--plot", metavar="FILE", help="write the phase diagram to FILE" + _PLOT_HELP)
    _format_options(mf, "the numbers as JSON (default: text)", "the numbers as CSV (default: text)")
    demo_help = "reproduce the four classic failure cases and their remedies by training: table, plots and report"
    dem = sub.add_parser("demo", help=demo_help, description=demo_help[0].upper() + demo_help[1:] + ".")
    dem.add_argument("--case", default="all", metavar="CASE",
                     help=f"one of: {', '.join(demo.CASE_CHOICES)} (default: all)")
    dem.add_argument("--out", default="initcore-demo", metavar="DIR",
                     help="directory for the figures, report.md and results.json, created with its parents "
                          "(default: initcore-demo)")
    dem.add_argument("--seed", type=int, default=0, help="seed of the data, weights and shuffling (default: 0)")
    dem.add_argument("--quiet", action="store_true", help="no progress bar (default: one on a terminal)")
    _format_options(dem, "the table as JSON, every column (default: a table and the claims)",
                    "the table as CSV, every column (default: a table and the claims)")
    sweep_help = "many networks over a grid, in parallel (local processes or Dask), stored and resumable"
    swp = sub.add_parser("sweep", help=sweep_help, description=(
        "Simulate or train a network at every point of a grid and store each result in Parquet as it finishes; "
        "a rerun of the command skips the stored points. Each axis is a comma list (0.5,1,2) or a range "
        "start:stop:step whose end is included (1:4:0.25 is 1, 1.25, ..., 4). Needs initcore[sweep]."))
    swp.add_argument("--task", choices=TASKS, default="simulate",
                     help="simulate: signal propagation at initialization; train: SGD on --dataset "
                          "(default: simulate)")
    for option, name, text in SWEEP_AXES:
        swp.add_argument(option, dest=f"axis_{name}", metavar="VALUES", help=text)
    swp.add_argument("--out", default="initcore-sweep", metavar="DIR",
                     help="results folder (Parquet), created with its parents (default: initcore-sweep)")
    swp.add_argument("--backend", choices=("local", "dask"), default="local",
                     help="local: a process pool on this machine; dask: distributed on --scheduler or a "
                          "LocalCluster of --workers processes (default: local)")
    swp.add_argument("--workers", type=_positive("--workers"), default=None,
                     help="worker processes (default: the number of cores; 1 runs in this process)")
    swp.add_argument("--threads", type=_positive("--threads"), default=None,
                     help="initcore and BLAS threads per worker (default: cores / workers)")
    swp.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    swp.add_argument("--stat", metavar="COLUMN",
                     help="the statistic of the table and plot (default: accuracy for train, grad_ratio for "
                          "simulate)")
    swp.add_argument("--threshold", type=float, default=None,
                     help="fit c in 'trainable iff depth < c xi_c', trainable meaning --stat >= THRESHOLD")
    swp.add_argument("--c", type=float, default=6.0,
                     help="c of the c xi_c curve without --threshold (default: 6, Schoenholz et al. 2017)")
    swp.add_argument("--plot", metavar="FILE", help="write the measured phase diagram to FILE" + _PLOT_HELP)
    swp.add_argument("--plot-over", choices=("depth", "sigma_b2"), default=None,
                     help="the diagram's vertical axis (default: depth, or sigma_b2 for a sweep of one depth)")
    swp.add_argument("--quiet", action="store_true", help="no progress bar (default: one on a terminal)")
    _format_options(swp, "every stored point of the grid as JSON (default: a table)",
                    "every stored point of the grid as CSV, without the per-layer lists (default: a table)")
    report = sub.add_parser("report", help="theoretical vs sampled moments of common initializers (default)")
    # Options may come before or after 'report'; the subcommand's copies have
    # no defaults so they never overwrite a value given before it.
    for p, defaults in ((parser, True), (report, False)):
        def default(value):
            return value if defaults else argparse.SUPPRESS

        p.add_argument("--shape", type=_shape, default=default((512, 256)),
                       help="weight shape, comma-separated (default: 512,256)")
        p.add_argument("--seed", type=int, default=default(0), help="base seed (default: 0)")
        p.add_argument("--dtype", choices=DTYPES, default=default("float32"),
                       help="floating-point type (default: float32)")
        _format_options(p, "JSON output (default: a table)", "CSV output (default: a table)", default(None))
    return parser


def run_report(args):
    """The `report` command (the default): theoretical and sampled moments
    of `REPORT_CASES` on one weight shape."""
    _check_memory(f"--shape {','.join(map(str, args.shape))} ({args.dtype})", {
        "weights": math.prod(args.shape) * np.dtype(args.dtype).itemsize,
        # float64 copy of each weight array, and one float64 temporary of its std
        "float64 copies": math.prod(args.shape) * 16,
    })
    rows = report_rows(args.shape, args.seed, np.dtype(args.dtype))
    if args.format is None:
        print(f"Initializers on a {'x'.join(map(str, args.shape))} weight (layout in_out, {args.dtype}, seed {args.seed}):\n")
    print(format_rows(rows, args.format))


_COMMANDS = {"simulate": run_simulate, "compare": run_compare, "meanfield": run_meanfield,
             "demo": run_demo_command, "sweep": run_sweep, "report": run_report}


def _check_non_negative(args):
    """UsageError for a negative or infinite --seed, --bias-std, --sigma-b2 or --sigma-w2."""
    for name in ("seed", "bias_std", "sigma_b2", "sigma_w2"):
        value = getattr(args, name, None)
        if value is not None and not 0 <= value < math.inf:
            raise UsageError(f"--{name.replace('_', '-')} must be non-negative and finite, got {value}")


def main(argv=None):
    """Runs the command line on `argv` (default sys.argv[1:]).

    Returns
    -------
    int
        0, or 2 after an expected error (a bad value, a missing optional
        dependency, an output path that cannot be written), reported in one
        line ``initcore: error: ...`` on stderr.
    """
    args = _parser().parse_args(argv)
    try:
        _check_non_negative(args)
        _COMMANDS[args.command or "report"](args)
    except (UsageError, ValueError, TypeError, ImportError, OSError, MemoryError) as exc:
        message = f"out of memory: {exc}" if isinstance(exc, MemoryError) else str(exc)
        print(f"initcore: error: {' '.join(message.split())}", file=sys.stderr)  # one line
        return 2
    return 0
