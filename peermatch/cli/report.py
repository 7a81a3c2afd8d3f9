"""``peermatch report``: re-score an existing grouping and write a self-contained HTML report."""

from __future__ import annotations

import argparse
import sys

from . import EXIT_INFEASIBLE, EXIT_OK
from ._common import (
    add_input_options,
    add_rule_options,
    add_weight_options,
    dumps_json,
    input_paths,
    load_settings,
    read_table,
)

DESCRIPTION = """\
Re-score an existing grouping (a CSV with a 'group' column, e.g. the output of
'peermatch match') and write one self-contained HTML file: summary, hard-rule
checks, a card per group with its members and quality measures, charts (inline
SVG) and the weakest-fit members with why they are where they are. The page needs
no network and no other file. Nothing is solved: the groups stay as they are.

Group sizes are checked against --min-size/--max-size (or [match] in --config);
without them, against the smallest and largest group of the file.

example:
  peermatch report groups.csv --out report.html --min-size 8 --max-size 12
"""


def register(sub) -> None:
    p = sub.add_parser("report", help="HTML report of an existing grouping (groups CSV)",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV: candidates plus a 'group' column")
    p.add_argument("--out", "-o", required=True, metavar="HTML", help="HTML report to write")
    add_group_options(p)
    p.add_argument("--title", default=None, help="page title (default: 'Peer groups - FILE')")
    p.add_argument("--heatmap-group", default=None, metavar="NAME",
                   help="group whose affinity heatmap is drawn (default: the weakest group)")
    p.add_argument("--pairs", default=None, metavar="PAIRS_CSV",
                   help="accountability pairs (peermatch pairs) to list on each group's card")
    p.add_argument("--check", action="store_true",
                   help="exit 3 when the grouping breaks a hard rule (the report is still "
                        "written)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def add_group_options(p: argparse.ArgumentParser) -> None:
    """Size options of the commands that read an existing grouping."""
    p.add_argument("--min-size", type=int, default=None,
                   help="smallest allowed group (default: the smallest group in the file)")
    p.add_argument("--max-size", type=int, default=None,
                   help="largest allowed group (default: the largest group in the file)")


def load_grouping(args):
    """The MatchResult of the grouping named on the command line (settings merged)."""
    from ..report import from_grouping

    cfg = load_settings(args)
    m = cfg["match"]
    return from_grouping(read_table(args.groups, args, cfg), weights=cfg["weights"],
                         rules=cfg["rules"], min_size=m.get("min_size"),
                         max_size=m.get("max_size"))


def run(args) -> int:
    from ..output import check_writable, write_all
    from ..report import render_report

    check_writable([args.out], inputs=input_paths(args))
    res = load_grouping(args)
    write_all([(args.out, render_report(res, title=args.title,
                                        heatmap_group=args.heatmap_group,
                                        pairs=getattr(args, "pairs", None)))])
    summary = res.summary()
    summary["report"] = args.out
    bad = summary.get("violations", [])
    if args.json:
        print(dumps_json(summary))
    elif not args.quiet:
        sizes = summary["group_sizes"]
        print(f"{summary['candidates']} candidates in {summary['groups']} groups "
              f"(sizes {min(sizes)}-{max(sizes)}); score {summary['score']:,.2f}"
              + (f", soft penalties {sum(summary['penalties'].values()):,.2f}"
                 if summary.get("penalties") else "") + "; worst group "
              f"mean pair affinity {summary['mean_pair_affinity']['worst_group']:.3f}")
        print("hard rules: all satisfied" if not bad else f"hard rules: {len(bad)} broken")
        print(f"wrote {args.out}")
    if bad and not args.quiet:
        for v in bad[:20]:
            print(f"  - {v}", file=sys.stderr)
        if len(bad) > 20:
            print(f"  ... and {len(bad) - 20} more (see the report)", file=sys.stderr)
    return EXIT_INFEASIBLE if bad and args.check else EXIT_OK
