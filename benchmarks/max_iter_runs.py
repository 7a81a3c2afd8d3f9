"""Reproducible runs (``max_iter``) of the hybrid search: score and seconds, per size.

    python benchmarks/max_iter_runs.py --out benchmarks/results/max_iter_runs.json
    python benchmarks/max_iter_runs.py --baseline /tmp/before    # also run another tree

Each case is ``pm.match(..., method="hybrid")`` on generated candidates (groups of 5-7 up
to 8-12; the hybrid was the default for them when the figures were measured) with a fixed
seed and ``options={"max_iter": N}`` (the time limit, 120 s, never binds). Same input,
seed and ``max_iter`` give the same groups, so the score of a case is a property of the
code, not of the machine; the seconds are one run each (noisy, compare ratios).
``--baseline PATH`` runs the same cases with the peermatch package under PATH (a checkout
of another revision, e.g. ``git worktree add /tmp/before HEAD~1``), in its own process
with the same interpreter, and prints the score difference and the time ratio per case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(60, 5, 7), (90, 6, 9), (150, 8, 12), (300, 8, 12), (500, 8, 12)]
MAX_ITERS = [300, 1000, 3000]
SEEDS = [0, 1, 2]


def run_cases() -> list[dict]:
    """Every case in this process (the peermatch on ``sys.path``)."""
    import peermatch as pm
    from peermatch.solve.local import warm_up

    warm_up()
    rows = []
    for n, lo, hi in SIZES:
        for seed in SEEDS:
            df = pm.synth_candidates(n, seed=seed)
            for mi in MAX_ITERS:
                t = time.perf_counter()
                r = pm.match(df, min_size=lo, max_size=hi, seed=seed, time_limit=120,
                             method="hybrid", options={"max_iter": mi})
                rows.append({"n": n, "sizes": f"{lo}-{hi}", "seed": seed, "max_iter": mi,
                             "score": r.score, "seconds": time.perf_counter() - t,
                             "valid": r.validate() == []})
    return rows


def run_tree(tree: Path) -> list[dict]:
    """:func:`run_cases` in a fresh interpreter that imports peermatch from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
            "import max_iter_runs as b; print(json.dumps(b.run_cases()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commit(tree: Path) -> str | None:
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/max_iter_runs.json"))
    ap.add_argument("--baseline", type=Path, help="another checkout to run the cases on")
    args = ap.parse_args(argv)
    rows = run_tree(ROOT)
    base = run_tree(args.baseline.resolve()) if args.baseline else None
    print(f"{'n':>5} {'sizes':>6} {'max_iter':>8}  median s" + (
        "   baseline s   ratio   score diff % (per seed)" if base else ""))
    cases = sorted({(r["n"], r["sizes"], r["max_iter"]) for r in rows})
    for n, sizes, mi in cases:
        mine = [r for r in rows if (r["n"], r["sizes"], r["max_iter"]) == (n, sizes, mi)]
        line = f"{n:>5} {sizes:>6} {mi:>8}  {statistics.median(r['seconds'] for r in mine):8.2f}"
        if base:
            theirs = [r for r in base if (r["n"], r["sizes"], r["max_iter"]) == (n, sizes, mi)]
            t_mine = statistics.median(r["seconds"] for r in mine)
            t_base = statistics.median(r["seconds"] for r in theirs)
            diffs = [100 * (a["score"] - b["score"]) / abs(b["score"])
                     for a, b in zip(mine, theirs, strict=True)]
            line += (f"   {t_base:10.2f}   {t_base / max(t_mine, 1e-9):5.1f}x   "
                     + " ".join(f"{d:+.3f}" for d in diffs))
        print(line)
    result = {"machine": platform.processor() or platform.machine(),
              "cpus": os.cpu_count(), "python": platform.python_version(),
              "cases": rows, "baseline": base,
              "commit": _commit(ROOT),
              "baseline_commit": _commit(args.baseline) if args.baseline else None}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
