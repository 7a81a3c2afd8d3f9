"""``peermatch pairs``: accountability pairs inside each group."""

from __future__ import annotations

import argparse
import json
import sys

from . import EXIT_INPUT, EXIT_OK
from ._common import add_input_options, add_weight_options, load_settings, read_table

DESCRIPTION = """\
Pair the members of every group for accountability between meetings: a maximum-weight
matching on the two-way affinity inside each group (one triad where a group is odd).
With --history (earlier pairs files), pairs that met before are avoided while a choice
without repeats exists; a warning names the groups where none does. The output has
the columns group, member_1, member_2, member_3 (empty for a pair), names, affinity,
met_before and reason (shared goals, expertise that meets a goal, ...).

example:
  peermatch pairs groups.csv --out pairs.csv
  peermatch pairs groups.csv --out pairs-2.csv --history pairs.csv
"""


def register(sub) -> None:
    p = sub.add_parser("pairs", help="accountability pairs inside each group",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: candidates plus a 'group' column")
    p.add_argument("--out", "-o", required=True, metavar="PAIRS_CSV", help="pairs CSV to write")
    p.add_argument("--history", dest="pair_history", action="append", default=[],
                   metavar="PAIRS_CSV",
                   help="an earlier pairs file: its pairs are not repeated while avoidable "
                        "(repeatable)")
    p.add_argument("--json", action="store_true", help="print the pairs as JSON on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_weight_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..pairs import accountability_pairs

    cfg = load_settings(args)
    pairs = accountability_pairs(read_table(args.groups, args, cfg), args.pair_history or None,
                                 weights=cfg["weights"])
    try:
        pairs.to_csv(args.out)
    except OSError as exc:
        print(f"Error: cannot write {args.out}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    for note in pairs.notes:
        print(f"Warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"pairs": pairs.frame.to_dict(orient="records"),
                          "repeats": pairs.repeats, "notes": pairs.notes, "out": args.out},
                         indent=2))
    elif not args.quiet:
        f = pairs.frame
        triads = int((f["member_3"] != "").sum())
        groups = f["group"].nunique()
        print(f"{len(f) - triads} pairs and {triads} triad(s) in {groups} groups; total "
              f"affinity {f['affinity'].sum():,.2f}; "
              + (f"{pairs.repeats} repeat(s) of earlier pairs" if args.pair_history else
                 "no history given"))
        print(f"wrote {args.out}")
    return EXIT_OK
