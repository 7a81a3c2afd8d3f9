"""``peermatch seats``: rank the existing groups a prospect could join."""

from __future__ import annotations

import argparse
import sys

from ._common import (
    add_input_options,
    add_rule_options,
    add_weight_options,
    dumps_json,
    load_settings,
    read_table,
)

DESCRIPTION = """\
For one prospect, rank the existing groups they could join, with the reason each
fits or not (open seats, competitors, conflicts, tier, region, meeting slot). The
table holds the existing members with their 'group' and the prospect's row (with
an empty group cell): add that row first. For a member who already has a group,
it says so and ranks the other groups.

example:
  peermatch seats groups.csv M0501 --max-size 12
"""


def register(sub) -> None:
    p = sub.add_parser("seats", help="rank existing groups for a prospect",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="CSV with a 'group' column (e.g. a 'peermatch match' output)")
    p.add_argument("prospect", help="id of the prospect (a row of the same CSV)")
    p.add_argument("--max-size", type=int, default=None, help="seats per group (default 12)")
    p.add_argument("--top", type=int, default=10, help="show the best K groups (default 10)")
    p.add_argument("--json", action="store_true", help="print the ranking as JSON")
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import ConfigError
    from ..seats import rank_groups

    if args.top < 1:
        raise ConfigError(f"--top: must be at least 1. Got {args.top} instead.")
    cfg = load_settings(args)
    ranked = rank_groups(read_table(args.groups, args, cfg), args.prospect,
                         max_size=cfg["match"].get("max_size", 12), weights=cfg["weights"],
                         rules=cfg["rules"]).head(args.top)
    seated = ranked.attrs.get("seated_in")
    if seated:
        note = (f"{args.prospect} is already in group {seated}; the ranking is of the other "
                "groups (check a move with 'peermatch move').")
        print(f"Note: {note}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(dumps_json(ranked.to_dict(orient="records")))
        return 0
    print(f"{'Other groups' if seated else 'Groups'} for {args.prospect}, best first:")
    for r in ranked.itertuples():
        mark = "fits" if r.fits else "no  "
        print(f"{r.rank:3d}. group {r.group:<8} {mark} affinity {r.mean_affinity:6.3f}  "
              f"{r.reason}")
    return 0
