"""The ``initcore`` command line."""
import argparse
import csv
import io
import json
import sys

import numpy as np

from ._fans import fans
from ._initializers import expected_moments, initialize

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


def format_table(rows):
    def cell(value):
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    body = [[cell(row[c]) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def format_rows(rows, fmt):
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    return format_table(rows)


def _parser():
    parser = argparse.ArgumentParser(
        prog="initcore",
        description="Seeded neural-network initializers: theory next to samples.",
    )
    sub = parser.add_subparsers(dest="command")
    report = sub.add_parser("report", help="theoretical vs sampled moments of common initializers (default)")
    # Options may come before or after 'report'; the subcommand's copies have
    # no defaults so they never overwrite a value given before it.
    for p, defaults in ((parser, True), (report, False)):
        def default(value):
            return value if defaults else argparse.SUPPRESS

        p.add_argument("--shape", type=_shape, default=default((512, 256)), help="weight shape, e.g. 512,256 (default)")
        p.add_argument("--seed", type=int, default=default(0), help="base seed (default 0)")
        p.add_argument("--dtype", choices=("float32", "float64"), default=default("float32"))
        group = p.add_mutually_exclusive_group()
        group.add_argument("--json", dest="format", action="store_const", const="json", default=default(None),
                           help="JSON output")
        group.add_argument("--csv", dest="format", action="store_const", const="csv", default=default(None),
                           help="CSV output")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.seed < 0:
            raise UsageError(f"--seed must be non-negative, got {args.seed}")
        rows = report_rows(args.shape, args.seed, np.dtype(args.dtype))
    except (UsageError, ValueError, TypeError) as exc:
        print(f"initcore: error: {exc}", file=sys.stderr)
        return 2
    if args.format is None:
        print(f"Initializers on a {'x'.join(map(str, args.shape))} weight (layout in_out, {args.dtype}, seed {args.seed}):\n")
    print(format_rows(rows, args.format))
    return 0
