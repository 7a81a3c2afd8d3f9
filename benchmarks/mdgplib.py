"""Run peermatch on MDGPLIB instances and compare with the best-known values.

Usage::

    python benchmarks/mdgplib.py [FILE ...] --time-limit literature|SECONDS \\
        --out results.csv --assignments DIR [--seed S] [--workers W] [--method M] \\
        [--options JSON]

Without FILE arguments every ``*.txt`` instance of the instance folder is run (default
``../shared/benchmarks/mdgplib`` relative to the repository root, or ``--folder``).
"literature" time limits: 1 s for n <= 60, 3 s at n = 120, 20 s at 240, 120 s at 480,
600 s at 960 (the per-run limits of Lai & Hao 2016 and Yang et al. 2022). The numba
kernels are compiled (or loaded from cache) once before the first timed run, like a
process start-up; each run's time limit includes everything else.

``--options`` passes solver options (JSON, e.g. ``'{"tuning": {"population": 8}}'`` to
run the search with a constant changed). Writes one CSV row per instance and
``DIR/<instance>.txt`` with n lines, the 0-based group of element i on line i; prints the
mean gap per (type, n, ds/ss).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peermatch.mdgplib import read_best_known, read_instance, score  # noqa: E402
from peermatch.problem import Problem  # noqa: E402
from peermatch.solve import solve  # noqa: E402

LITERATURE = {120: 3.0, 240: 20.0, 480: 120.0, 960: 600.0}
NAME = re.compile(r"(?P<type>[A-Za-z]+)_n(?P<n>\d+)_(?P<size>ds|ss)_(?P<idx>\d+)")


def literature_limit(n: int) -> float:
    if n <= 60:
        return 1.0
    return LITERATURE.get(n, max(1.0, 120.0 * (n / 480) ** 2))


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def warm_up() -> None:
    """Compile / load the numba kernels once (not counted in any instance's time)."""
    rng = np.random.default_rng(0)
    A = rng.random((12, 12))
    solve(Problem(A + A.T, bounds=[(3, 5), (3, 5), (2, 6)]), "local", time_limit=60,
          options={"max_iter": 5})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--folder", type=Path, default=ROOT.parent / "shared/benchmarks/mdgplib")
    ap.add_argument("--time-limit", default="literature")
    ap.add_argument("--out", type=Path, default=Path("mdgplib_results.csv"))
    ap.add_argument("--assignments", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--method", default="local")
    ap.add_argument("--options", type=json.loads, default=None,
                    help='solver options as JSON, e.g. \'{"tuning": {"population": 8}}\'')
    args = ap.parse_args(argv)

    files = args.files or sorted(args.folder.glob("*_n*_*s_*.txt"))
    bks_path = (files[0].parent if files else args.folder) / "BKS.csv"
    bks = read_best_known(bks_path) if bks_path.exists() else {}
    if args.assignments:
        args.assignments.mkdir(parents=True, exist_ok=True)
    warm_up()
    cpu = cpu_name()
    rows = []
    fields = ["instance", "n", "m", "objective", "seconds", "best_known", "gap_pct", "method",
              "seed", "workers", "time_limit", "options", "cpu"]
    with open(args.out, "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=fields)
        out.writeheader()
        for path in files:
            name = path.stem
            A, bounds = read_instance(path)
            n = len(A)
            limit = (literature_limit(n) if args.time_limit == "literature"
                     else float(args.time_limit))
            t = time.perf_counter()
            res = solve(Problem(A, bounds=bounds), args.method, time_limit=limit,
                        seed=args.seed, workers=args.workers, options=args.options)
            secs = time.perf_counter() - t
            value = score(A, bounds, res.labels)
            best = bks.get(name, float("nan"))
            gap = 100.0 * (best - value) / best if best == best else float("nan")
            row = {"instance": name, "n": n, "m": len(bounds), "objective": round(value, 4),
                   "seconds": round(secs, 3), "best_known": best, "gap_pct": round(gap, 4),
                   "method": res.method, "seed": args.seed, "workers": args.workers,
                   "time_limit": limit, "options": json.dumps(args.options or {}),
                   "cpu": cpu}
            out.writerow(row)
            fh.flush()
            rows.append(row)
            if args.assignments:
                np.savetxt(args.assignments / f"{name}.txt", res.labels, fmt="%d")
            print(f"{name:24s} {value:14.3f} {best:14.3f} gap {gap:7.3f} %  {secs:6.1f} s",
                  flush=True)
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        mt = NAME.match(r["instance"])
        key = (mt["type"], int(mt["n"]), mt["size"]) if mt else (r["instance"], r["n"], "")
        if r["gap_pct"] == r["gap_pct"]:
            groups.setdefault(key, []).append(r["gap_pct"])
    print(f"\n{'type':8s} {'n':>5s} {'size':4s} {'runs':>4s} {'mean gap %':>10s} {'max gap %':>9s}")
    for key in sorted(groups):
        g = groups[key]
        print(f"{key[0]:8s} {key[1]:5d} {key[2]:4s} {len(g):4d} {np.mean(g):10.3f} "
              f"{np.max(g):9.3f}")
    print(f"\nmethod={args.method} seed={args.seed} workers={args.workers} "
          f"time_limit={args.time_limit} cpu={cpu} (os.cpu_count()={os.cpu_count()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
