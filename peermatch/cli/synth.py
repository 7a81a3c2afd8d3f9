"""``peermatch synth``: write a synthetic candidates table."""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser("synth", help="write a synthetic candidates CSV",
                       description="Write N synthetic candidates (realistic industries, sizes, "
                       "goals, regions) as CSV.\n\nexample:\n  peermatch synth 500 --seed 1 "
                       "--out candidates.csv", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int, help="number of candidates")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="-", help="output CSV (default: standard output)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..datasets import synth_candidates
    from ..errors import ConfigError
    from ..result import atomic_write_text

    if args.n < 1:
        raise ConfigError(f"N must be at least 1. Got {args.n}.")
    text = synth_candidates(args.n, seed=args.seed).to_csv(index=False, lineterminator="\n")
    if args.out == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.out, text)
        print(f"Wrote {args.n} candidates to {args.out}", file=sys.stderr)
    return 0
