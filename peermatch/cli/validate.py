"""``peermatch validate``: check a candidates CSV and the rules without solving."""

from __future__ import annotations

import argparse
import sys

from . import EXIT_INFEASIBLE, EXIT_OK
from ._common import (
    add_fairness_options,
    add_input_options,
    add_rule_options,
    add_size_options,
    load_settings,
    read_table,
)

DESCRIPTION = """\
Read and check a candidates CSV, compile the hard rules and run the quick
feasibility checks, without solving. Exit 0 when nothing is wrong, 2 on bad input,
3 when the rules cannot be met.

example:
  peermatch validate candidates.csv --min-size 8 --max-size 12
"""


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a candidates CSV and the rules",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("candidates", help="candidates CSV file")
    add_size_options(p)
    add_fairness_options(p, fairness=False)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..rules import Rules, check_sizes
    from ..shaped import even_sizes_hint, resolve_even_sizes, shaped_parts
    from ..sizes import check_group_sizes

    cfg = load_settings(args)
    m = cfg["match"]
    table = read_table(args.candidates, args, cfg)
    lo, hi = check_sizes((m.get("min_size", 8), m.get("max_size", 12)), m.get("groups"),
                         table.n, table.source)
    rules = cfg["rules"] or Rules()
    # The rules need no scores: a zero view of the right shape costs no memory. The
    # same compile_parts as match: tiers and regions split, each part checked.
    zeros = np.broadcast_to(np.float32(0), (table.n, table.n))
    # The group sizes match would use: even unless --free-sizes or sizes of the table's own.
    sizes_given = check_group_sizes(m.get("group_sizes"))
    own_sizes = bool(sizes_given) or (table.group is not None and bool(np.any(table.group != "")))
    even = resolve_even_sizes(m.get("even_sizes"), table.n, (lo, hi), m.get("groups"),
                              m.get("target_size"), own_sizes)
    parts = shaped_parts(table, zeros, lo, hi, m.get("groups"), rules, group_sizes=sizes_given,
                         even_sizes=even, target_size=m.get("target_size"))
    compiled = [p.compiled for p in parts if p.compiled is not None]
    for c in compiled:
        for note in c.notes:
            print(f"note: {note}")
    reasons = list(dict.fromkeys(r for p in parts for r in p.reasons))
    hint = even_sizes_hint(table, zeros, lo, hi, m.get("groups"), rules, parts,
                           group_sizes=sizes_given, even_sizes=even,
                           target_size=m.get("target_size"), failed=bool(reasons))
    reasons += [hint] if hint else []
    classes = [c for comp in compiled for c in comp.classes]
    for line in describe_columns(table, cfg["weights"]):
        print(line)
    if len(parts) > 1:
        print(f"parts (grouped separately): {len(parts)} ("
              + ", ".join(f"{p.label}: {len(p.rows)}" for p in parts) + ")")
    print(f"competitor sets: {len(classes)} (largest {max(map(len, classes), default=0)}), "
          f"explicit conflicts: {sum(len(c.conflict_pairs) for c in compiled)}")
    if reasons:
        for r in reasons:
            print(f"Error: {r}", file=sys.stderr)
        return EXIT_INFEASIBLE
    print("OK: no rule clash found by the quick checks.")
    return EXIT_OK


def describe_columns(table, weights=None) -> list[str]:
    """The table's columns in file order (a column read under another name says which;
    a user column of the weights is "scored"), then the ones peermatch does not read:
    they pass through to the output unchanged."""
    canonical = {actual: canon for canon, actual in table.columns.items()}
    canonical.update({c.name: "scored" for c in getattr(weights, "columns", ())
                      if c.name in table.frame.columns and c.name not in canonical})
    known = [c if canonical[c] == c else f"{c} ({canonical[c]})"
             for c in table.frame.columns if c in canonical]
    other = [c for c in table.frame.columns if c not in canonical]
    lines = [f"{table.source}: {table.n} candidates, columns {known}"]
    if other:
        lines.append(f"other columns, passed through unchanged: {other}")
    return lines
