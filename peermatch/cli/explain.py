"""``peermatch explain``: why one member is in their group."""

from __future__ import annotations

import argparse
import difflib
import json

from . import EXIT_INPUT, EXIT_OK
from ._common import add_input_options, add_rule_options
from .report import add_group_options, load_grouping

DESCRIPTION = """\
Explain why a member is in their group in an existing grouping (a CSV with a 'group'
column, e.g. the output of 'peermatch match'): their mean affinity to the group, the
groupmates who matter most to them and why (shared goals, expertise that meets a goal,
similar company size, different industry), and how their next-best group compares.

example:
  peermatch explain groups.csv M0042
"""


def register(sub) -> None:
    p = sub.add_parser("explain", help="why a member is in their group", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: candidates plus a 'group' column")
    p.add_argument("member", metavar="MEMBER_ID", help="id of the member to explain")
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help="number of groupmates listed (default 3)")
    add_group_options(p)
    p.add_argument("--json", action="store_true",
                   help="print the explanation as JSON (every groupmate, with numbers)")
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from ..explain import explain_member

    res = load_grouping(args)
    ids = [str(x) for x in res.table.ids]
    key = str(args.member).strip()
    if key not in ids:
        near = difflib.get_close_matches(key, ids, n=3)
        folded = [x for x in ids if x.casefold() == key.casefold()]
        hint = (f" Did you mean {', '.join(repr(x) for x in (folded or near))}?"
                if folded or near else f" Ids look like {', '.join(ids[:3])}.")
        print(f"Error: no member with id {key!r} in {res.table.source} "
              f"({len(ids)} candidates).{hint}", file=sys.stderr)
        return EXIT_INPUT
    i = ids.index(key)
    ex = explain_member(i, res.affinity, res.labels, res.features, res.weights,
                        group_names=res.group_names)
    if args.json:
        out = {
            "id": ex.id, "name": ex.name, "group": ex.group_name, "score": ex.score,
            "next_group": ex.next_group_name,
            "next_score": ex.next_score if ex.next_label is not None else None,
            "margin": ex.margin if ex.next_label is not None else None,
            "peers": [{"id": p.id, "name": p.name, "affinity": p.affinity, "parts": p.parts,
                       "reasons": p.reasons} for p in ex.peers],
            "text": ex.to_text(top=args.top),
        }
        print(json.dumps(out, indent=2))
    else:
        print(ex.to_text(top=args.top))
    return EXIT_OK
