"""Plain-text tables and JSON text, shared by the simulator, training, the
demo and the command line."""
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
