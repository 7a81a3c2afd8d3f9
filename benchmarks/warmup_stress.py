"""Many fresh processes that each start a large match at once, while the kernels load.

    python benchmarks/warmup_stress.py --processes 50 --candidates 10000 --time-limit 10

(the full check: 50 processes of 10,000 candidates, for a quiet machine with enough cores
and memory, about 1 GB per process; a short run on a small machine:
``--processes 6 --candidates 2000 --time-limit 3 --representation features``).

Each child is a new interpreter (nothing loaded, no kernel in memory): it generates its
candidates and calls :func:`peermatch.match` at once, so its scoring and construction run
while the background warm-up is still importing and loading the compiled kernels, the
moment a hand-over between the two threads can fail. All children start together. Counts
the processes that failed (an exception, a crash, a grouping that breaks a hard rule) by
their last error line, apart from those that found no grouping within the time limit (a
limit too short for the load, not a failure), and writes
``benchmarks/results/warmup_stress.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import peermatch as pm

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
t0 = time.perf_counter()
import peermatch as pm
n, seed, limit, out, rep = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
                            sys.argv[4], sys.argv[5])
res = pm.match(pm.synth_candidates(n, seed=seed), time_limit=limit, seed=seed,
               options={"representation": rep})
bad = res.violations()
with open(out, "w") as fh:
    json.dump({"status": res.status, "groups": res.n_groups, "violations": len(bad),
               "compile_wait": res.summary()["solver"].get("compile_wait"),
               "wall_s": round(time.perf_counter() - t0, 2)}, fh)
found = res.status in ("optimal", "feasible")
sys.exit(4 if found and bad else 0 if found else 3)  # 3: no grouping within the time limit
"""


def _error(proc: subprocess.Popen, stderr: str) -> str:
    """The last line of a failed child's error output (the exception), or its exit code."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1][:160] if lines else f"exit code {proc.returncode}"


def run(processes: int, candidates: int, time_limit: float, seed: int, representation: str,
        tmp: Path) -> list[dict]:
    """Start every child, then wait for all; one row per child."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    children = []
    for k in range(processes):
        out = tmp / f"child{k}.json"
        err = open(tmp / f"child{k}.err", "w+")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(candidates), str(seed + k),
                                 str(time_limit), str(out), representation],
                                stdout=subprocess.DEVNULL,
                                stderr=err, env=env)
        children.append((k, proc, err, out))
    rows = []
    for k, proc, err, out in children:
        proc.wait()
        err.seek(0)
        stderr = err.read()
        err.close()
        info = json.loads(out.read_text()) if out.exists() else {}
        # an exception or a crash, or a grouping that breaks a rule (4); no grouping
        # within the time limit (3, "unknown": too short a limit for the load) is no failure
        failed = proc.returncode not in (0, 3)
        rows.append({"process": k, "exit": proc.returncode, "failed": failed,
                     "error": _error(proc, stderr) if failed else "", **info})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=50)
    ap.add_argument("--candidates", type=int, default=10_000)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--representation", default="auto", choices=("auto", "dense", "features"),
                    help="of the affinity: 'features' computes it block by block from the "
                         "features below 5,000 candidates too (as above 5,000)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/warmup_stress.json"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.processes, args.candidates, args.time_limit, args.seed,
                   args.representation, Path(tmp))
    wall = round(time.perf_counter() - t0, 1)
    failures = [r for r in rows if r["failed"]]
    walls = sorted(r.get("wall_s", 0.0) for r in rows if "wall_s" in r)
    print(f"{args.processes} fresh processes x {args.candidates:,} candidates, time limit "
          f"{args.time_limit:g} s, started at once; cpu {os.cpu_count()} x "
          f"{platform.machine()}, peermatch {pm.__version__}, {wall} s in all")
    print(f"{'processes':>10} {'failed':>7} {'no grouping':>12} {'compile note':>13} "
          f"{'wall min':>9} {'median':>7} {'max':>7}")
    notes = sum(1 for r in rows if r.get("compile_wait"))
    unknown = sum(1 for r in rows if r["exit"] == 3)
    mid = walls[len(walls) // 2] if walls else float("nan")
    print(f"{len(rows):>10} {len(failures):>7} {unknown:>12} {notes:>13} "
          f"{(walls or [float('nan')])[0]:>9.1f} {mid:>7.1f} "
          f"{(walls or [float('nan')])[-1]:>7.1f}")
    for error, count in Counter(r["error"] for r in failures).most_common():
        print(f"  {count} x {error}")
    summary = {"processes": args.processes, "candidates": args.candidates,
               "time_limit": args.time_limit, "seed": args.seed,
               "representation": args.representation, "failures": len(failures),
               "no_grouping_in_time": unknown,
               "compile_notes": notes, "wall_s": wall, "cpu": os.cpu_count(),
               "machine": platform.machine(), "peermatch": pm.__version__, "runs": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
