"""The cost of even group sizes (the default of ``match``) against free sizes.

For each table, the same match twice: sizes that differ by at most one, and free sizes
within the bounds (``even_sizes=False``), with the same seed, bounds and time limit. The
total affinity is recomputed here from ``result.affinity`` and ``result.labels``.

    python benchmarks/even_sizes.py        # the example (20 s), 1,000 (10 s), 5,000 (30 s)

Writes ``benchmarks/results/even_sizes.json``; the table is in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import peermatch as pm

HERE = Path(__file__).resolve().parent
SEED_DATA = 2424  # held out: used by no test and no doc
CASES = [("example (500)", None, 20.0), ("generated 1,000", 1000, 10.0),
         ("generated 5,000", 5000, 30.0)]


def total_affinity(A, labels: np.ndarray) -> float:
    """Sum of the affinities of the pairs that share a group, group by group."""
    total = 0.0
    for g in np.unique(labels):
        rows = np.flatnonzero(labels == g)
        block = np.asarray(A[np.ix_(rows, rows)], dtype=float) if isinstance(
            A, np.ndarray) else np.asarray(A.block(rows, rows), dtype=float)
        total += (block.sum() - np.trace(block)) / 2
    return float(total)


def run_case(name: str, n: int | None, time_limit: float, seed: int) -> dict:
    data = pm.example_path() if n is None else pm.synth_candidates(n, seed=SEED_DATA)
    row: dict = {"table": name, "time_limit_s": time_limit, "seed": seed,
                 "group_size": [8, 12]}
    for key, even in (("even", True), ("free", False)):
        t0 = time.perf_counter()
        res = pm.match(data, min_size=8, max_size=12, time_limit=time_limit, seed=seed,
                       even_sizes=even)
        wall = time.perf_counter() - t0
        assert res.success and res.validate() == [], (name, key, res.message)
        labels = np.asarray(res.labels)
        sizes = np.bincount(labels).tolist()
        row[key] = {"score": round(total_affinity(res.affinity, labels), 3),
                    "score_reported": round(float(res.score), 3), "groups": len(sizes),
                    "sizes": {str(s): sizes.count(s) for s in sorted(set(sizes), reverse=True)},
                    "floor": res.summary().get("floor"), "wall_s": round(wall, 2)}
    row["cost"] = round(1 - row["even"]["score"] / row["free"]["score"], 5)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every time limit")
    ap.add_argument("--out", default=str(HERE / "results" / "even_sizes.json"))
    args = ap.parse_args(argv)
    rows = []
    for name, n, limit in CASES:
        row = run_case(name, n, limit * args.scale, args.seed)
        rows.append(row)
        print(f"{name}: even {row['even']['score']:,.2f} ({row['even']['sizes']}) vs free "
              f"{row['free']['score']:,.2f} ({row['free']['sizes']}): cost "
              f"{row['cost']:.2%}", flush=True)
    out = {"machine": f"{os.cpu_count()} x {platform.machine()}, {platform.processor()}",
           "peermatch": pm.__version__, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
