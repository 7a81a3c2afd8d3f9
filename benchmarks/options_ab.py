"""Solver options side by side on the programme families: peermatch against itself.

    python benchmarks/options_ab.py --size 1000:10 --options '{}' '{"tuning": {"sub_size": 240}}' \\
        [--families goals-small-free mixed-tiers-small] [--seeds 0 1] [--cores 2] \\
        [--out benchmarks/results/options_ab.csv]

Each instance of ``benchmarks/families.py`` (family, ``n``, seed) is solved once per option
set, one after the other on the same machine, with the same seconds and cores
(``peermatch.solve.solve(problem, time_limit=T, seed=seed, workers=cores,
options={"threads": cores, **options})``); the grouping is re-scored from the affinity and
checked by ``peermatch.solve.violations``. The table gives each option set's score and its
difference to the first set's, in per cent. Single runs: the run-to-run spread of one run
(0.2-0.6 % at 1,000 / 10 s) is the noise to read the differences against. Rows are
appended to ``--out`` (CSV), with the date and the CPU.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:  # _report, last: benchmarks/distributed.py must not shadow dask's
    sys.path.append(str(HERE))

from _report import load_families  # noqa: E402

from peermatch.solve import solve, violations  # noqa: E402

FIELDS = ["date", "cpu", "family", "n", "T_s", "seed", "cores", "options", "score",
          "diff_pct", "violations"]


def main(argv: list[str] | None = None) -> int:
    F = load_families()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=F.parse_size, default=F.parse_size("1000:10"),
                    metavar="N:SECONDS")
    ap.add_argument("--options", nargs="+", required=True, metavar="JSON",
                    help="option sets as JSON objects; the first is the reference")
    ap.add_argument("--families", nargs="+", default=None, metavar="NAME")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "options_ab.csv")
    args = ap.parse_args(argv)
    sets = [json.loads(o) for o in args.options]
    names = args.families or [f["name"] for f in F.FAMILIES]
    n, seconds = args.size
    F.warm_up()
    rows = []
    for seed in args.seeds:
        for name in names:
            problem, _ = F.build_instance(F.family(name), n, seed)
            first = None
            for opts in sets:
                res = solve(problem, time_limit=seconds, seed=seed, workers=args.cores,
                            options={"threads": args.cores, **opts})
                p = problem.with_groups(res.n_groups)
                score = float(p.objective(res.labels))
                first = score if first is None else first
                rows.append({"date": dt.date.today().isoformat(), "cpu": platform.machine(),
                             "family": name, "n": n, "T_s": seconds, "seed": seed,
                             "cores": args.cores, "options": json.dumps(opts),
                             "score": round(score, 4),
                             "diff_pct": round(100 * (score - first) / abs(first), 3),
                             "violations": len(violations(p, res.labels))})
                r = rows[-1]
                print(f"{name:24s} n={n} seed {seed} {r['options']:28s} {score:12,.2f} "
                      f"{r['diff_pct']:+.3f} %", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new = not args.out.exists()
    with open(args.out, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
