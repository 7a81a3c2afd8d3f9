"""``peermatch move``: check a hand-made move before making it."""

from __future__ import annotations

import argparse
import json

from . import EXIT_INFEASIBLE, EXIT_OK
from ._common import add_input_options, add_rule_options, add_weight_options
from .report import add_group_options

DESCRIPTION = """\
Check moving one member into another group before a chair makes the move: which hard
rules it breaks (that the grouping keeps now), which broken rules it mends, and what
it does to the score and to the member's own mean affinity. Exits 0 when the move
keeps every rule, 3 when it breaks one. With --out, writes the grouping with the
move made (only when it keeps every rule).

example:
  peermatch move groups.csv M0042 7 --min-size 8 --max-size 12
"""


def register(sub) -> None:
    p = sub.add_parser("move", help="check a hand-made move of a member into a group",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: candidates plus a 'group' column")
    p.add_argument("member", metavar="MEMBER_ID", help="id of the member to move")
    p.add_argument("target", metavar="GROUP", help="name of the group they would join")
    add_group_options(p)
    p.add_argument("--out", "-o", default=None, metavar="CSV",
                   help="write the grouping with the move made (when it keeps every rule)")
    p.add_argument("--json", action="store_true", help="print the check as JSON")
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..lifecycle import check_move
    from ..result import atomic_write_text
    from .report import load_grouping

    res = load_grouping(args)
    mv = check_move(res, args.member, args.target)
    if args.json:
        print(json.dumps(mv.to_dict(), indent=2))
    else:
        print(mv.to_text())
    if mv.ok and args.out:
        atomic_write_text(args.out, mv.groups.to_csv(index=False, lineterminator="\n"))
        if not args.json:
            print(f"wrote {args.out}")
    return EXIT_OK if mv.ok else EXIT_INFEASIBLE
