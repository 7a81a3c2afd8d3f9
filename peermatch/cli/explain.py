"""``peermatch explain``: why one member is in their group."""

from __future__ import annotations

import argparse
import difflib
import json

from . import EXIT_INPUT, EXIT_OK
from ._common import add_input_options, add_rule_options, add_weight_options
from .report import add_group_options, load_grouping

DESCRIPTION = """\
Explain why a member is in their group in an existing grouping (a CSV with a 'group'
column, e.g. the output of 'peermatch match'): their mean affinity to the group, the
groupmates who matter most to them and why (shared goals, expertise that meets a goal,
similar company size, different industry; with text columns, the words their answers
share), and how the next-best group they could legally join compares (never a group
holding their competitor or a declared conflict).

With --with B: why the member and B are not together: what their tie is made of, the
rules that keep them apart, or the score cost of the cheapest move or swap that puts
them together.

example:
  peermatch explain groups.csv M0042
  peermatch explain groups.csv M0042 --with M0107
  peermatch explain groups.csv M0042 --text-column intake_goals=wants:8
"""


def register(sub) -> None:
    p = sub.add_parser("explain", help="why a member is in their group", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: candidates plus a 'group' column")
    p.add_argument("member", metavar="MEMBER_ID", help="id of the member to explain")
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help="number of groupmates listed (default 3)")
    p.add_argument("--with", dest="other", default=None, metavar="OTHER_ID",
                   help="explain why the member and OTHER_ID are not in one group")
    add_group_options(p)
    p.add_argument("--json", action="store_true",
                   help="print the explanation as JSON: member, group, top groupmates with "
                        "pair affinities, next-best legal group (every groupmate, with numbers)")
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def _unknown(key: str, ids: list[str], source) -> str:
    near = difflib.get_close_matches(key, ids, n=3)
    folded = [x for x in ids if x.casefold() == key.casefold()]
    hint = (f" Did you mean {', '.join(repr(x) for x in (folded or near))}?"
            if folded or near else f" Ids look like {', '.join(ids[:3])}.")
    return f"Error: no member with id {key!r} in {source} ({len(ids)} candidates).{hint}"


def run(args) -> int:
    import sys

    from ..candidates import text_key
    from ..explain import explain_result, explain_together

    res = load_grouping(args)
    ids = [str(x) for x in res.table.ids]
    row = {text_key(x): k for k, x in enumerate(ids)}
    keys = [text_key(str(args.member))]
    if args.other is not None:
        keys.append(text_key(str(args.other)))
    for key in keys:
        if key not in row:
            print(_unknown(key, ids, res.table.source), file=sys.stderr)
            return EXIT_INPUT
    if args.other is not None:
        tog = explain_together(res, ids[row[keys[0]]], ids[row[keys[1]]])
        print(json.dumps(tog.to_dict(), indent=2) if args.json else tog.to_text())
        return EXIT_OK
    ex = explain_result(res, row[keys[0]])
    if args.json:
        out = ex.to_dict(top=args.top)
        out["text"] = ex.to_text(top=args.top)
        print(json.dumps(out, indent=2))
    else:
        print(ex.to_text(top=args.top))
    return EXIT_OK
