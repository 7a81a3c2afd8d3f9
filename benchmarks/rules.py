"""The price of the rules: one scenario solved with every rule on, and with sizes + competitors.

    python benchmarks/rules.py --n 2000 --time-limit 30 --out benchmarks/results/rules.json

Prints a table (time, score, groups, violations found by the validator) for the two
settings on the same synthetic candidates and writes it as JSON and CSV. The score of
the "all rules" run is the plain affinity of its grouping (soft penalties excluded),
so the two scores compare directly.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _report import write_rows

import peermatch as pm
from peermatch.scoring import grouping_score


def scenario(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates with a gender column and a previous round, from the synthetic generator."""
    rng = np.random.default_rng(seed)
    df = pm.synth_candidates(n, seed=seed)
    df["gender"] = rng.choice(["f", "m"], size=n, p=[0.4, 0.6])
    prev = pm.match(df, min_size=8, max_size=12, time_limit=5, seed=seed + 1)
    return df, prev.groups[["id", "group"]]


def all_rules(df: pd.DataFrame, history: pd.DataFrame) -> pm.Rules:
    # Twenty together-pairs, each within one tier (tiers are never mixed), of different
    # industries and without a declared conflict (else the rules would clash, and say so).
    together = []
    for _, part in df.groupby("tier"):
        rows = part.to_dict("records")
        used: set[str] = set()
        for a in rows:
            if len([p for p in together if p[0] in set(part["id"])]) >= 10:
                break
            if a["id"] in used:
                continue
            for b in rows:
                if (b["id"] not in used and b["id"] != a["id"] and b["industry"] != a["industry"]
                        and b["id"] not in a["conflicts"] and a["id"] not in b["conflicts"]):
                    together.append((a["id"], b["id"]))
                    used |= {a["id"], b["id"]}
                    break
    return pm.Rules(
        competitors=("industry", "region"),
        max_per_group={"naics": 2},
        at_least_one=(("expertise", "cash flow"),),
        no_isolated=("gender",),
        balance={"employees": "35%"},
        balance_penalty={"employees": 0.05},
        separate_tiers=True,
        common_slot=True, slot_quorum=0.5,
        together=tuple(together),
        history=(history,), max_repeats=0,
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/rules.json")
    args = ap.parse_args(argv)

    df, history = scenario(args.n, args.seed)
    rows = []
    for name, rules in (("sizes + competitors", pm.Rules()),
                        ("all rules", all_rules(df, history))):
        t = time.perf_counter()
        res = pm.match(df, min_size=8, max_size=12, rules=rules, time_limit=args.time_limit,
                       seed=args.seed)
        wall = time.perf_counter() - t
        # res.affinity is the plain affinity (soft penalties live in the solver's copy).
        plain = grouping_score(res.affinity, res.labels) if res.success else float("nan")
        rows.append({"setting": name, "status": res.status, "groups": res.n_groups,
                     "score": round(float(plain), 3), "seconds": round(wall, 2),
                     "violations": len(res.validate()) if res.success else None,
                     "time_limit": args.time_limit, "seed": args.seed, "workers": 1,
                     "n": args.n})
    base = rows[0]["score"]
    for r in rows:
        r["score_vs_base_pct"] = round(100 * (r["score"] / base - 1), 2) if base else None
    write_rows(rows, args.out, f"n={args.n}, time limit {args.time_limit}s, seed {args.seed}")


if __name__ == "__main__":
    main()
