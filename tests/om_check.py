#!/usr/bin/python3
"""Check OpenMetrics expositions with a strict parser (prometheus_client's).

Usage: om_check.py FILE...   ("-" reads stdin)

Each file must parse completely with
prometheus_client.openmetrics.parser.text_string_to_metric_families (which
checks # EOF, TYPE/UNIT/HELP order, name clashes, counter and info rules,
canonical le values, histogram consistency, interleaving) and be valid UTF-8.
Then what this parser version leaves out: every "le" value is the spec's
canonical number (section "Canonical Numbers": Go's shortest %g, ".0" added
to a number without point or exponent); and what the exporter promises:
every family is of a type it means to write, no _created sample. Prints one
line per file (families, samples) and exits 1 on the first problem.
"""
import math
import sys
from decimal import Decimal

from prometheus_client.openmetrics.parser import text_string_to_metric_families

TYPES = {"gauge", "counter", "histogram", "info"}


def canonical(f):
    """The OpenMetrics canonical rendering of a float (as Go's %g with the shortest digits)."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    if f == 0:
        return "-0.0" if math.copysign(1, f) < 0 else "0.0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    digits = "".join(map(str, digits))
    exp10 = len(digits) - 1 + exp
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    text = f"{abs(f):.{max(len(digits) - 1 - exp10, 0)}f}"
    return prefix + (text if "." in text else text + ".0")


def check(name, data):
    text = data.decode("utf-8")  # strict: invalid UTF-8 is an error
    families = samples = 0
    for fam in text_string_to_metric_families(text):
        families += 1
        if fam.type not in TYPES:
            raise ValueError(f"family {fam.name}: type {fam.type}")
        for s in fam.samples:
            samples += 1
            if s.name.endswith("_created"):
                raise ValueError(f"unexpected _created sample {s.name}")
            if fam.type == "counter" and not s.name.endswith("_total"):
                raise ValueError(f"counter sample {s.name}")
            if fam.type == "histogram" and s.name.endswith("_bucket"):
                le = s.labels["le"]
                if le != canonical(float(le)):
                    raise ValueError(f"{s.name}: le=\"{le}\" is not canonical ({canonical(float(le))})")
    if families == 0:
        raise ValueError("no families")
    print(f"{name}: OpenMetrics OK, {families} families, {samples} samples")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for path in argv[1:]:
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
            check(path, data)
        except (ValueError, UnicodeDecodeError) as e:
            print(f"{path}: not valid OpenMetrics: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
