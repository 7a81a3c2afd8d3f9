"""Large inputs through the command line: time to a first grouping, total time, peak memory.

    python benchmarks/scale.py --n 10000 --time-limit 60 --out benchmarks/results/scale.json

Writes a synthetic table of N candidates, runs ``peermatch match`` on it in a child
process (reading, scoring, solving with the default rules — sizes 8-12, no two of one
industry and region in a group, no declared conflict — and writing), and reports the
wall time of the whole command, the solver's time to its first valid grouping, the
score, the validator's verdict and the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_rows

import peermatch as pm


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--per-candidate", type=float, default=None,
                    help="time limit = this many seconds x n (e.g. 0.006: 60 s at 10,000), "
                         "instead of --time-limit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/scale.json")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            limit = args.time_limit if args.per_candidate is None else args.per_candidate * n
            src = Path(tmp) / f"c{n}.csv"
            pm.synth_candidates(n, seed=args.seed).to_csv(src, index=False)
            out, summ = Path(tmp) / "g.csv", Path(tmp) / "s.json"
            cmd = [sys.executable, "-m", "peermatch", "match", str(src), "--out", str(out),
                   "--summary", str(summ), "--time-limit", str(limit),
                   "--seed", str(args.seed), "--quiet"]
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
            s = json.loads(summ.read_text()) if summ.exists() else {}
            rows.append({
                "n": n, "exit_code": proc.returncode, "status": s.get("status"),
                "groups": s.get("groups"), "score": s.get("score"),
                "violations": len(s.get("violations", [])) if s else None,
                "first_grouping_s": s.get("solver", {}).get("time_to_first_grouping"),
                "score_per_candidate": (round(s["score"] / n, 4) if s.get("score") else None),
                "representation": s.get("solver", {}).get("representation"),
                "solve_s": s.get("timings", {}).get("solve"),
                "command_wall_s": round(wall, 2),
                # ru_maxrss is the largest child so far (KiB on Linux).
                "peak_rss_mb": round(max(peak, before) / 1024, 1),
                "time_limit": limit, "seed": args.seed, "workers": 1,
            })
    what = (f"{args.per_candidate} s per candidate" if args.per_candidate is not None
            else f"time limit {args.time_limit}s")
    write_rows(rows, args.out, f"{what}, seed {args.seed}")


if __name__ == "__main__":
    main()
