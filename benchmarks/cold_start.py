"""First run on an empty compile cache against warm runs, through the command line.

    python benchmarks/cold_start.py --out benchmarks/results/cold_start.json

Runs ``peermatch match`` on the bundled example (500 candidates, groups 8-12) in child
processes: once with ``NUMBA_CACHE_DIR`` pointing at a new empty folder (every kernel
compiles during the run, the numpy search works meanwhile), then warm (kernels in the
cache) with 10 s and 2 s. Reports each score, the ratios cold/warm-10 s and
warm-2 s/warm-10 s, and how long the cold run waited for its kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import write_rows

import peermatch as pm


def run(limit: float, seed: int, env: dict, tmp: Path) -> dict:
    summ = tmp / f"s{limit}.json"
    cmd = [sys.executable, "-m", "peermatch", "match", str(pm.example_path()),
           "--out", str(tmp / "g.csv"), "--summary", str(summ), "--min-size", "8",
           "--max-size", "12", "--time-limit", str(limit), "--seed", str(seed), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
    return json.loads(summ.read_text())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--out", default="benchmarks/results/cold_start.json")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for seed in args.seeds:
            cold_env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / f"empty-cache-{seed}")}
            cold = run(10, seed, cold_env, tmp)
            warm10 = run(10, seed, dict(os.environ), tmp)
            warm2 = run(2, seed, dict(os.environ), tmp)
            rows.append({
                "seed": seed, "cold_10s": cold["score"], "warm_10s": warm10["score"],
                "warm_2s": warm2["score"],
                "cold_over_warm10": round(cold["score"] / warm10["score"], 4),
                "warm2_over_warm10": round(warm2["score"] / warm10["score"], 4),
                "cold_compile_wait_s": cold.get("solver", {}).get("compile_wait"),
                "cold_compile_cut": bool(cold.get("solver", {}).get("compile_cut", False)),
                "cold_violations": len(cold.get("violations", [])),
            })
    write_rows(rows, args.out, "bundled example, 500 candidates, groups 8-12")


if __name__ == "__main__":
    main()
