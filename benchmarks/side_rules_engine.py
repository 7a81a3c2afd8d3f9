"""The main job below the decomposition size: the population search against the hybrid.

    python benchmarks/side_rules_engine.py [--seconds 10] [--seeds 0 1 2] \\
        [--out benchmarks/results/side_rules_engine.csv]

``pm.match`` on generated candidates (200-700, groups of 4-6 up to 12-16, with and without
side rules: meeting slots and balance, composition caps and spread), once with
``method="hybrid"`` (tabu slices and CP-SAT repairs of three groups, 30 % of the time: what
``"auto"`` chose for inputs with side rules) and once with ``method="local"`` (the
population search: what ``"auto"`` chooses now), same seconds, seed and cores. Both
groupings are checked (``validate()``). Rows are appended to ``--out`` with the date and
CPU; the table prints the score difference of local over hybrid, in per cent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import peermatch as pm  # noqa: E402

CASES = [(200, 8, 12, None), (400, 4, 6, None), (700, 12, 16, None),
         (300, 8, 12, "slots+balance"), (300, 6, 9, "caps+spread")]
FIELDS = ["date", "cpu", "n", "sizes", "rules", "seed", "seconds", "hybrid", "local",
          "local_vs_hybrid_pct"]


def rules_of(name: str | None) -> pm.Rules | None:
    if name == "slots+balance":
        return pm.Rules(common_slot=True, slot_quorum=0.6, balance={"employees": "40%"})
    if name == "caps+spread":
        return pm.Rules(max_per_group={"region": 4}, spread=("tier",))
    return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "side_rules_engine.csv")
    args = ap.parse_args(argv)
    from peermatch.solve.local import warm_up

    warm_up()
    rows, diffs = [], []
    for n, lo, hi, rk in CASES:
        for seed in args.seeds:
            df = pm.synth_candidates(n, seed=seed)
            kw = {"rules": rules_of(rk)} if rk else {}
            score = {}
            for method in ("hybrid", "local"):
                r = pm.match(df, min_size=lo, max_size=hi, seed=seed, time_limit=args.seconds,
                             method=method, **kw)
                if not r.success or r.validate():
                    raise SystemExit(f"{method} gave no valid grouping for n={n}, seed {seed}")
                score[method] = r.score
            d = 100 * (score["local"] - score["hybrid"]) / abs(score["hybrid"])
            diffs.append(d)
            print(f"{n:>5} {lo:>2}-{hi:<3} {rk or '-':<14} seed {seed}  hybrid "
                  f"{score['hybrid']:>10,.2f}  local {score['local']:>10,.2f}  {d:+.3f} %",
                  flush=True)
            rows.append({"date": dt.date.today().isoformat(),
                         "cpu": platform.processor() or platform.machine(), "n": n,
                         "sizes": f"{lo}-{hi}", "rules": rk or "", "seed": seed,
                         "seconds": args.seconds, "hybrid": round(score["hybrid"], 4),
                         "local": round(score["local"], 4),
                         "local_vs_hybrid_pct": round(d, 4)})
    print(f"median {statistics.median(diffs):+.3f} %, min {min(diffs):+.3f} %, "
          f"max {max(diffs):+.3f} %")
    new = not args.out.exists()
    with args.out.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
