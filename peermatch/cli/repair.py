"""``peermatch repair``: mend a grouping after members left or joined."""

from __future__ import annotations

import argparse
import json
import sys

from . import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK
from ._common import add_input_options, add_rule_options, add_weight_options, load_settings

DESCRIPTION = """\
Repair a grouping after members left (their rows removed) or joined (rows with an
empty 'group' cell). Groups whose size is still within --min-size/--max-size keep
their members where they are. Groups that fell below the minimum are merged into
one another or dissolved into groups with room, moving as few members as possible;
new members fill open seats or form new groups. Every hard rule holds (exit 3 when
no repair can keep them). The output is the groups CSV with the new 'group' column.

example:
  peermatch repair groups-now.csv --out groups-repaired.csv --min-size 8 --max-size 12
"""


def register(sub) -> None:
    p = sub.add_parser("repair", help="mend groups after members left or joined",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: members who left removed, new members with an "
                                  "empty 'group'")
    p.add_argument("--out", "-o", required=True, metavar="CSV", help="repaired groups CSV")
    p.add_argument("--min-size", type=int, default=None, help="smallest group (default 8)")
    p.add_argument("--max-size", type=int, default=None, help="largest group (default 12)")
    p.add_argument("--move-cost", type=float, default=None, metavar="X",
                   help="affinity one move is worth (default: move as few members as possible)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="seconds for the whole repair, every repair tried included (default 5)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--moves", default=None, metavar="CSV",
                   help="also write who moved and joined (id,name,kind,from,to,why)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..lifecycle import read_after_attrition, repair
    from ..result import atomic_write_text

    cfg = load_settings(args)
    m = cfg["match"]
    table, cleaned = read_after_attrition(args.groups, cfg["columns"] or None,
                                    sep=getattr(args, "sep", None),
                                    encoding=getattr(args, "encoding", None))
    res = repair(table, min_size=m.get("min_size", 8), max_size=m.get("max_size", 12),
                 weights=cfg["weights"], rules=cfg["rules"], move_cost=args.move_cost,
                 time_limit=float(m.get("time_limit", 5.0)), seed=int(m.get("seed", 0)),
                 method=m.get("method", "auto"))
    for note in cleaned + res.notes:
        print(f"Warning: {note}", file=sys.stderr)
    if not res.success:
        if args.json:
            print(json.dumps(res.summary(), indent=2))
        print(f"Error: {res.message}", file=sys.stderr)
        return EXIT_INFEASIBLE
    try:
        res.to_csv(args.out)
        if args.moves:
            atomic_write_text(args.moves, res.moves.to_csv(index=False, lineterminator="\n"))
    except OSError as exc:
        print(f"Error: cannot write: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        print(json.dumps(res.summary(), indent=2))
    elif not args.quiet:
        print(res.message)
        for r in res.moves.itertuples(index=False):
            src = f"from {r[3]} " if r[3] else ""
            print(f"  {r.id} {src}to {r.to} ({r.why})")
        print(f"wrote {args.out}")
    return EXIT_OK
