"""Plain-text tables, CSV and JSON text: the one writer of the simulator,
training, the demo and the command line."""
import csv
import io
import json
import math


def cell(value, spec):
    """`value` formatted with `spec`; None as "-", NaN and infinities as
    they are ("nan", "inf")."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return format(value, spec)


def text_table(header, body, left=0):
    """A fixed-width table: the header, a rule, then the rows of `body` (lists
    of strings); the first `left` columns left-aligned, the others right."""
    widths = [max([len(header[i])] + [len(row[i]) for row in body]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(row) for row in body])


def json_ready(obj):
    """`obj` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return obj


def save(text, path):
    """`text`, also written to `path` when it is given."""
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text


def json_text(obj, path=None, **kwargs):
    """json.dumps of json_ready(obj), also written to `path` when given."""
    return save(json.dumps(json_ready(obj), **kwargs), path)


def csv_text(rows, columns, path=None):
    """CSV of `rows` (dicts; a missing key is an empty cell, keys outside
    `columns` are an error) under the header `columns`, without a final
    newline; also written to `path` when given."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return save(buffer.getvalue(), path)


def rows_text(rows, columns, fmt, table):
    """`rows` (dicts) in format `fmt`: "json" (a list of objects holding
    `columns`), "csv" (those columns) or None (``table(rows)``, the
    readable table); for printing, so without a final newline."""
    if fmt == "json":
        return json_text([{k: r.get(k) for k in columns} for r in rows], indent=1)
    if fmt == "csv":
        return csv_text(({k: r.get(k) for k in columns} for r in rows), columns).rstrip("\n")
    if fmt is not None:
        raise ValueError(f"unknown format {fmt!r}; choose None, 'json' or 'csv'")
    return table(rows)
