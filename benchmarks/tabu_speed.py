"""Tabu search kernel speed: iterations per second at fixed iteration counts.

    python benchmarks/tabu_speed.py [--base PATH] [--repeats 5] [--scale 1.0]
        [--folder MDGPLIB] [--out benchmarks/results/tabu_speed.json]

Runs the compiled tabu search (``TabuSearch.run``) for a fixed number of iterations on
the shapes it meets in practice:

- MDGPLIB instances with n = 240 (size rules only: the lean kernel), with a size range
  (moves and swaps) and with equal sizes (swaps only);
- a sub-problem of the decomposition, captured from ``peermatch.match`` on 1,000
  generated candidates with groups of 8-12 (about 240 members in about 20 groups,
  competitors apart as cannot-link pairs: the kernel with rules), and the same
  sub-problem with its sizes only;
- a whole problem of 500 generated candidates (the size below which the hybrid search
  works on the whole problem at once).

The work is deterministic (fixed seed and iteration count), so the time per run is the
speed (CPU seconds of the worker process, which other jobs on a shared machine disturb
less than wall time). With ``--base PATH`` (a checkout of another version, e.g. ``git worktree add
/tmp/base main``) each repeat runs the base and this checkout alternately, each in its
own process, on the same shapes: the table gives the median of the repeats for both and
says whether both ended in the same state (same labels, same best value: the same
search path). The kernels are compiled (or loaded from numba's cache) before any timed
run. Writes ``--out`` (JSON) and a CSV beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# (name, iterations at --scale 1)
MDGPLIB_SHAPES = [("RanReal_n240_ds_01", 20000), ("RanReal_n240_ss_01", 20000),
                  ("Geo_n240_ds_01", 20000), ("RanInt_n240_ss_01", 20000)]


def feasible_start(lo: np.ndarray, hi: np.ndarray, n: int, rng) -> np.ndarray:
    """Random labels with every group size within its bounds (lower bounds first)."""
    sizes = lo.astype(np.int64).copy()
    room = hi - lo
    for _ in range(n - int(sizes.sum())):
        g = rng.choice(np.flatnonzero(room > 0))
        sizes[g] += 1
        room[g] -= 1
    return rng.permutation(np.repeat(np.arange(len(lo)), sizes))


def build_shapes(folder: Path, scale: float) -> list[dict]:
    """The shapes to time, as picklable dicts (prepared arrays, start labels, iterations)."""
    import peermatch as pm
    from peermatch.datasets import synth_candidates
    from peermatch.mdgplib import read_instance
    from peermatch.problem import Problem
    from peermatch.solve import local
    from peermatch.solve._prep import prepare

    shapes = []
    rng = np.random.default_rng(0)
    for name, iters in MDGPLIB_SHAPES:
        path = folder / f"{name}.txt"
        if not path.exists():
            print(f"skipped {name}: {path} not found (--folder)")
            continue
        A, bounds = read_instance(path)
        bounds = np.asarray(bounds)
        prep = prepare(Problem(A, bounds=[tuple(b) for b in bounds]), len(bounds))
        labels = feasible_start(bounds[:, 0], bounds[:, 1], len(A), rng)
        shapes.append({"shape": f"mdgplib {name}", "prep": prep, "labels": labels,
                       "iters": int(iters * scale)})
    # a decomposition sub-problem: the first tabu search of a deterministic match run
    seen: list = []
    run = local.TabuSearch.run

    def capture(self, n_iter):
        if not seen and self.prep.nu >= 100:
            seen.append((self.prep, self.state[0].copy()))
        return run(self, n_iter)

    local.TabuSearch.run = capture
    try:
        pm.match(synth_candidates(1000, seed=0), min_size=8, max_size=12, seed=0,
                 options={"max_iter": 300})
    finally:
        local.TabuSearch.run = run
    if seen:
        prep, labels = seen[0]
        tag = f"nu={prep.nu} m={prep.m}"
        shapes.append({"shape": f"sub-problem 1,000 rules {tag}", "prep": prep,
                       "labels": labels, "iters": int(20000 * scale)})
        plain = prepare(Problem(prep.A, bounds=list(zip(prep.lo, prep.hi, strict=True))), prep.m)
        shapes.append({"shape": f"sub-problem 1,000 sizes {tag}", "prep": plain,
                       "labels": labels, "iters": int(20000 * scale)})
    seen.clear()
    local.TabuSearch.run = capture
    try:
        pm.match(synth_candidates(500, seed=0), min_size=8, max_size=12, seed=0,
                       options={"max_iter": 1})
    finally:
        local.TabuSearch.run = run
    if seen:
        prep, labels = seen[0]
        shapes.append({"shape": f"whole 500 rules nu={prep.nu} m={prep.m}", "prep": prep,
                       "labels": labels, "iters": int(5000 * scale)})
    return shapes


def worker(shape_file: Path) -> None:
    """Time every shape once in this process (kernels warmed first); print JSON."""
    from peermatch.solve.local import TabuSearch, warm_up

    warm_up()
    shapes = pickle.loads(shape_file.read_bytes())
    out = []
    for s in shapes:
        ts = TabuSearch(s["prep"], s["labels"], {}, seed=0)
        # CPU seconds of this process: on a shared machine, other jobs stretch the wall
        # time of a run but not (much) the CPU time it needs
        t = time.process_time()
        done = ts.run(s["iters"])
        secs = time.process_time() - t
        state = hashlib.sha256(ts.state[0].tobytes() + ts.state[7].tobytes()).hexdigest()[:12]
        out.append({"shape": s["shape"], "iters": done, "seconds": secs,
                    "best": ts.best_value, "state": state})
    print(json.dumps(out))


def run_worker(path: Path, shape_file: Path) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(path))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(shape_file)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"worker on {path} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, default=None,
                    help="a checkout of the version to compare with (run alternately)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the iteration counts")
    ap.add_argument("--folder", type=Path, default=ROOT.parent / "shared/benchmarks/mdgplib")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tabu_speed.json")
    ap.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        worker(args.worker)
        return 0
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _report import write_rows

    shapes = build_shapes(args.folder, args.scale)
    versions = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    times: dict[tuple[str, str], list[float]] = {}
    ends: dict[tuple[str, str], set] = {}
    with tempfile.TemporaryDirectory() as tmp:
        shape_file = Path(tmp) / "shapes.pkl"
        shape_file.write_bytes(pickle.dumps(shapes))
        for rep in range(args.repeats):
            # alternate which version goes first, so a drift in machine load hits both
            for name, path in (versions if rep % 2 == 0 else versions[::-1]):
                for r in run_worker(path, shape_file):
                    times.setdefault((name, r["shape"]), []).append(r["seconds"])
                    ends.setdefault((name, r["shape"]), set()).add((r["iters"], r["best"],
                                                                    r["state"]))
            print(f"repeat {rep + 1}/{args.repeats} done", flush=True)
    rows = []
    for s in shapes:
        key = s["shape"]
        row = {"shape": key, "iterations": s["iters"]}
        t_this = float(np.median(times[("this", key)]))
        row["this_it_per_s"] = round(s["iters"] / t_this)
        if args.base:
            t_base = float(np.median(times[("base", key)]))
            row["base_it_per_s"] = round(s["iters"] / t_base)
            row["speed_up"] = round(t_base / t_this, 3)
            row["same_path"] = ends[("this", key)] == ends[("base", key)]
        row["same_every_repeat"] = len(ends[("this", key)]) == 1
        rows.append(row)
    write_rows(rows, args.out, f"tabu kernel, median of {args.repeats} repeats")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
