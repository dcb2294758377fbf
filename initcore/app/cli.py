"""The ``initcore`` command line."""
import argparse
import os
import sys
import textwrap

import numpy as np

from ..fills.fans import fans
from ..fills.initializers import expected_moments, initialize
from ..networks.mlp import MLP, parse_init
from ..common.tables import cell, json_text, rows_text, text_table
from ..propagation.simulate import simulate

# (label, initializer, params): the seeds' four failure cases, then the remedies.
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


# The seeds' too-small and too-large weights against Xavier, on tanh.
SIMULATE_INITS = ("normal:std=0.01", "normal:std=1", "xavier_normal")
SUMMARY_COLUMNS = ("init", "sigma_w2", "chi1", "phase", "std(a) first", "std(a) last", "theory last",
                   "saturated last", "E[delta^2] first", "E[delta^2] last")


def split_inits(text):
    """'zeros,normal:std=0.01,mean=0,xavier_normal' -> three specs: a piece
    holding '=' but no ':' continues the previous spec's parameters."""
    specs = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if "=" in piece and ":" not in piece and specs:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    return specs


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


def run_simulate(args):
    """The `simulate` command: one simulation per initializer, tables of
    measurement beside mean-field theory."""
    specs = [spec for text in (args.init or [",".join(SIMULATE_INITS)]) for spec in split_inits(text)]
    for spec in specs:
        parse_init(spec)  # an unknown name fails before any work
    widths = [args.width] * (args.depth + 1)
    bias = ("normal", {"std": args.bias_std}) if args.bias_std > 0 else 0.0
    sims = []
    for spec in specs:
        net = MLP(widths, activation=args.activation, init=spec, bias=bias, seed=args.seed, dtype=args.dtype)
        sims.append(simulate(net, batch=args.batch, seed=args.seed + 1, backward=not args.no_backward,
                             units=args.units, progress=False if args.quiet else None))
    if args.plot:
        from .plots import plot_compare

        plot_compare(sims, specs, args.plot)
    if args.format == "json":
        print(json_text([sim.to_dict() for sim in sims], indent=1))
        return
    if args.format == "csv":
        rows = [{"init": spec, **rec} for spec, sim in zip(specs, sims) for rec in sim.layers]
        print(rows_text(rows, ["init", *sims[0].layers[0]], "csv", None))
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
    specs = split_inits(args.inits)
    if not specs:
        raise UsageError("--inits needs at least one initializer")
    for spec in specs:
        parse_init(spec)
    widths = [args.width] * (args.depth + 1)
    sims = []
    for spec in specs:
        net = MLP(widths, activation=args.activation, init=spec, seed=args.seed, dtype=args.dtype)
        sims.append(simulate(net, batch=args.batch, seed=args.seed + 1, progress=False if args.quiet else None))
    if args.plot:
        from .plots import plot_compare

        plot_compare(sims, specs, args.plot)
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
    critical sigma_w2 of one activation, and the phase diagram."""
    from ..propagation import meanfield
    from .plots import plot_phase_diagram

    critical = float(meanfield.critical_line(args.activation, args.sigma_b2))
    sigma_w2 = critical if args.sigma_w2 is None else args.sigma_w2
    scales = meanfield.depth_scales(args.activation, sigma_w2, args.sigma_b2)
    result = {"activation": args.activation, "sigma_b2": args.sigma_b2, "sigma_w2": sigma_w2,
              "critical_sigma_w2": critical, **{k: float(v) for k, v in scales.items()}}
    if args.plot != "none":
        plot_phase_diagram(args.activation, max(4 * args.sigma_b2, 0.5), args.plot,
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
    if args.plot != "none":
        print(f"\nphase diagram written to {args.plot}")


def run_demo_command(args):
    """The `demo` command: the seeds' claims reproduced by training, a
    table on stdout, figures and report.md in --out."""
    from . import demo

    if args.case not in demo.CASE_CHOICES:
        raise UsageError(f"unknown --case {args.case!r}; choose one of: {', '.join(demo.CASE_CHOICES)}")
    if not args.out:
        raise UsageError("--out needs a directory name")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out!r} exists and is not a directory")
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


def _parser():
    parser = argparse.ArgumentParser(
        prog="initcore",
        description="Seeded neural-network initializers: theory next to samples.",
    )
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("simulate", help="push a batch through a deep network: per-layer statistics beside theory")
    sim.add_argument("--activation", default="tanh", help="activation of every layer (default tanh)")
    sim.add_argument("--init", action="append", metavar="SPEC",
                     help="weight initializer, e.g. xavier_normal or normal:std=0.01; repeat or separate by "
                          f"commas to compare (default {','.join(SIMULATE_INITS)})")
    sim.add_argument("--depth", type=_positive("--depth"), default=50)
    sim.add_argument("--width", type=_positive("--width"), default=512)
    sim.add_argument("--batch", type=_positive("--batch"), default=512)
    sim.add_argument("--bias-std", type=float, default=0.0, help="biases ~ N(0, bias_std^2) (default 0)")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    sim.add_argument("--no-backward", action="store_true", help="forward pass only")
    sim.add_argument("--units", action="store_true",
                     help="with --json: also each layer's per-unit mean and variance of the activations")
    sim.add_argument("--every", type=_positive("--every"), default=None,
                     help="show every N-th layer (default: about 10 rows)")
    sim.add_argument("--plot", metavar="FILE", help="write per-layer curves to FILE (png, svg, pdf)")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    _format_options(sim, "each simulation as JSON (config and every layer)",
                    "every layer's measurements as CSV, one row per init and layer")
    cmp = sub.add_parser("compare", help="initializers side by side: per-layer std, saturation, gradients")
    cmp.add_argument("--activation", default="tanh")
    cmp.add_argument("--inits", default="zeros,normal:std=0.01,normal:std=1,xavier_normal,kaiming_normal",
                     help="comma-separated initializer specs")
    cmp.add_argument("--depth", type=_positive("--depth"), default=20)
    cmp.add_argument("--width", type=_positive("--width"), default=256)
    cmp.add_argument("--batch", type=_positive("--batch"), default=256)
    cmp.add_argument("--seed", type=int, default=0)
    cmp.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    cmp.add_argument("--plot", metavar="FILE", help="write the per-layer curves to FILE")
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    _format_options(cmp, "the summary and every layer's measurements as JSON", "the per-layer curves as CSV")
    mf = sub.add_parser("meanfield", help="mean-field theory: q*, chi1, depth scales, critical sigma_w2")
    mf.add_argument("--activation", default="tanh")
    mf.add_argument("--sigma-b2", type=float, default=0.05, help="bias variance (default 0.05)")
    mf.add_argument("--sigma-w2", type=float, default=None, help="weight variance (default: the critical one)")
    mf.add_argument("--plot", default="phase_diagram.png", metavar="FILE",
                    help="where to write the phase diagram (default phase_diagram.png; 'none' for no plot)")
    _format_options(mf, "the numbers as JSON", "the numbers as CSV")
    demo = sub.add_parser("demo", help="reproduce the seeds' claims by training: table, plots and report")
    demo.add_argument("--case", default="all", metavar="CASE",
                      help="zero, constant, small, large, remedies or all (default all)")
    demo.add_argument("--out", default="initcore-demo", metavar="DIR",
                      help="directory for the plots and report.md (default initcore-demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the data, weights and shuffling (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    _format_options(demo, "the table as JSON (every column)", "the table as CSV (every column)")
    report = sub.add_parser("report", help="theoretical vs sampled moments of common initializers (default)")
    # Options may come before or after 'report'; the subcommand's copies have
    # no defaults so they never overwrite a value given before it.
    for p, defaults in ((parser, True), (report, False)):
        def default(value):
            return value if defaults else argparse.SUPPRESS

        p.add_argument("--shape", type=_shape, default=default((512, 256)), help="weight shape, e.g. 512,256 (default)")
        p.add_argument("--seed", type=int, default=default(0), help="base seed (default 0)")
        p.add_argument("--dtype", choices=("float32", "float64"), default=default("float32"))
        _format_options(p, "JSON output", "CSV output", default(None))
    return parser


def run_report(args):
    """The `report` command (the default): theoretical and sampled moments
    of `REPORT_CASES` on one weight shape."""
    rows = report_rows(args.shape, args.seed, np.dtype(args.dtype))
    if args.format is None:
        print(f"Initializers on a {'x'.join(map(str, args.shape))} weight (layout in_out, {args.dtype}, seed {args.seed}):\n")
    print(format_rows(rows, args.format))


_COMMANDS = {"simulate": run_simulate, "compare": run_compare, "meanfield": run_meanfield,
             "demo": run_demo_command, "report": run_report}


def _check_non_negative(args):
    """UsageError for a negative --seed, --bias-std, --sigma-b2 or --sigma-w2."""
    for name in ("seed", "bias_std", "sigma_b2", "sigma_w2"):
        value = getattr(args, name, None)
        if value is not None and not value >= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be non-negative, got {value}")


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
    except (UsageError, ValueError, TypeError, ImportError, OSError) as exc:
        print(f"initcore: error: {exc}", file=sys.stderr)
        return 2
    return 0
