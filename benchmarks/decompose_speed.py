"""Throughput of the decomposition: seconds for a fixed amount of search, and its result.

    python benchmarks/decompose_speed.py [--reps 5] [--label NAME]
        [--out benchmarks/results/decompose_speed.json]

The reproducible mode (``max_iter``) fixes the work: the same sub-problems, the same
kernel iterations and the same groups on one thread or two. Each case runs ``--reps``
times; the table gives the median wall and CPU seconds and the groups' hash, so two
checkouts run one after the other on the same machine compare in speed (the ratio of
medians) and prove they computed the same thing (equal hashes). Cases:

- ``goals-competitors`` of ``benchmarks/families.py`` at 1,000 candidates (100 groups of
  8-12, one competitor per cell), 150,000 kernel iterations, on 1 and 2 threads;
- ``peermatch.match`` on ``synth_candidates(10_000)`` (groups of 8-12, the default rules,
  the features representation), 150,000 kernel iterations, on 2 threads.

Rows are appended to ``--out`` (JSON) and its CSV, tagged with ``--label``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:  # _report, last: benchmarks/distributed.py must not shadow dask's
    sys.path.append(str(HERE))

from _report import load_families  # noqa: E402

import peermatch as pm  # noqa: E402
from peermatch.solve import solve  # noqa: E402

ITERATIONS = 150_000


def _digest(labels) -> str:
    return hashlib.sha256(np.asarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]


def _timed(run, reps: int) -> dict:
    wall, cpu, res = [], [], None
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        res = run()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"wall_s": round(float(np.median(wall)), 3), "cpu_s": round(float(np.median(cpu)), 3),
            "wall_all": [round(x, 2) for x in wall], "result": res}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--label", default="current")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "decompose_speed.json")
    args = ap.parse_args(argv)
    F = load_families()
    F.warm_up()
    pm.match(pm.synth_candidates(300, seed=1), min_size=8, max_size=12, time_limit=5, seed=0)
    problem, _ = F.build_instance(F.family("goals-competitors"), 1000, 0)
    rows = []
    for threads in (1, 2):
        def run(threads=threads):
            r = solve(problem, time_limit=600, seed=0, workers=threads,
                      options={"threads": threads, "max_iter": ITERATIONS})
            return r.labels, r.objective
        t = _timed(run, args.reps)
        labels, value = t.pop("result")
        rows.append({"label": args.label, "case": "goals-competitors n=1000", "threads": threads,
                     **t, "score": round(float(value), 4), "groups_sha": _digest(labels)})
        print(rows[-1], flush=True)
    df = pm.synth_candidates(10_000, seed=0)

    def run_match():
        r = pm.match(df, min_size=8, max_size=12, time_limit=600, seed=0,
                     options={"threads": 2, "max_iter": ITERATIONS})
        return r.labels, r.score
    t = _timed(run_match, args.reps)
    labels, value = t.pop("result")
    rows.append({"label": args.label, "case": "match synth n=10000", "threads": 2, **t,
                 "score": round(float(value), 4), "groups_sha": _digest(labels)})
    print(rows[-1], flush=True)
    for r in rows:
        r.update(cpu=platform.machine(), iterations=ITERATIONS)
    old = json.loads(args.out.read_text()) if args.out.exists() else []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(old + rows, indent=2) + "\n")
    pd.DataFrame(old + rows).to_csv(args.out.with_suffix(".csv"), index=False)
    print(pd.DataFrame(rows).drop(columns=["wall_all"]).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
