"""In-process vs a Dask LocalCluster, and a projected run of a million candidates.

    python benchmarks/distributed.py [--sizes 30000:60 100000:300] [--scheduler local:2]
        [--parts 6] [--part-size 2000] [--part-iter 4000] [--project 1000000]
        [--project-part 5000] [--project-workers 1 2 8 32 128]
        [--out benchmarks/results/distributed.json]

Head to head, for each ``n:seconds``: ``peermatch.match`` on ``synth_candidates(n, seed)``
(groups of 8-12, default rules) with ``time_limit=seconds`` in this process, then the
same with ``scheduler=--scheduler`` (cluster start-up inside the time limit). Both
groupings are checked with ``peermatch.solve.violations``; the rows give wall time, score,
start-up, tasks, rounds and the bytes that travelled.

Simulated large run: ``--parts`` independent parts of ``--part-size`` candidates (each its
own region and tier; competitors: same industry in the same market, the synthetic
region) solved in the
reproducible mode (``max_iter=--part-iter``) in this process and on the cluster (the two
groupings must be equal). The seconds per part measured on the workers give the projected
time of ``--project`` candidates in parts of ``--project-part`` on N workers:

    start-up + driver (read, score, rules: measured per candidate) + ceil(P / N) * t_part

with ``t_part`` the median worker seconds per part, scaled linearly in the part size
(the decomposition's work per candidate is constant), and the problem bytes per part over
a 1 GB/s network. Writes ``--out`` (+ CSV) and ``*_projection.json`` (+ CSV) beside it.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np

# This file is named like Dask's own package: take its folder off the path (or "import
# distributed" would find this script) and load the shared report helper by file.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
_spec = importlib.util.spec_from_file_location("_report", _HERE / "_report.py")
_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_report)
write_rows = _report.write_rows
parse_size = _report.parse_size

import peermatch as pm  # noqa: E402
from peermatch.solve import violations  # noqa: E402
from peermatch.solve.distributed import _detached, connect  # noqa: E402

NETWORK_BYTES_S = 1e9


def _viol(res) -> int:
    return sum(len(violations(p.compiled.problem.with_groups(int(p.solve.n_groups)),
                              np.asarray(p.solve.labels))) for p in res.parts)


def head_to_head(n: int, T: float, seed: int, scheduler: str) -> list[dict]:
    df = pm.synth_candidates(n, seed=seed)
    rows = []
    for where in (None, scheduler):
        t = time.perf_counter()
        res = pm.match(df, min_size=8, max_size=12, time_limit=T, seed=seed, scheduler=where)
        wall = time.perf_counter() - t
        if not res.success:
            raise RuntimeError(f"no grouping at n={n} ({where}): {res.message}")
        d = res.solver.get("distributed", {})
        rows.append({
            "n": n, "T_s": T, "seed": seed, "where": where or "in-process",
            "score": round(float(res.score), 4), "wall_s": round(wall, 2),
            "solve_s": round(res.timings["solve"], 2), "groups": res.n_groups,
            "violations": _viol(res), "sub_problems": res.solver.get("sub_problems"),
            "startup_s": d.get("startup_s"), "workers": d.get("workers"),
            "rounds": d.get("rounds"), "tasks": d.get("tasks"), "dropped": d.get("dropped"),
            "full_syncs": d.get("full_syncs"), "scatter_bytes": d.get("scatter_bytes"),
            "bytes_per_round": (round((d["bytes_sent"] + d["bytes_received"]) / d["rounds"])
                                if d.get("rounds") else None),
        })
    base = rows[0]["score"]
    for r in rows:
        r["pct_vs_in_process"] = round(100 * (r["score"] - base) / abs(base), 3)
    return rows


def parts_table(k: int, size: int, seed: int):
    """``k`` parts of ``size`` candidates, each its own region and tier."""
    df = pm.synth_candidates(k * size, seed=seed)
    part = np.arange(len(df)) // size
    df["market"] = df["region"]  # competitors: same industry in the same market
    df["region"] = [f"R{p // 2:04d}" for p in part]
    df["tier"] = np.where(part % 2 == 0, "CEO", "Owner")
    return df


def simulated(args) -> tuple[list[dict], list[dict]]:
    df = parts_table(args.parts, args.part_size, args.seed)
    rules = pm.Rules(competitors=("industry", "market"), same_region=True, separate_tiers=True)
    kw = dict(min_size=8, max_size=12, rules=rules,
              time_limit=3600, seed=args.seed, options={"max_iter": args.part_iter})
    t = time.perf_counter()
    here = pm.match(df, **kw)
    here_wall = time.perf_counter() - t
    session = connect(args.scheduler, timeout=300)
    try:
        t = time.perf_counter()
        there = pm.match(df, scheduler=session, **kw)
        there_wall = time.perf_counter() - t
        workers = session.describe()["workers"]
        startup = session.startup_s
    finally:
        session.close()
    if not (here.success and there.success):
        raise RuntimeError("the simulated parts found no grouping")
    same = bool(np.array_equal(here.labels, there.labels))
    t_here = [float(p.solve.wall_time) for p in here.parts]
    t_there = [float(p.solve.wall_time) for p in there.parts]
    per_cand_driver = sum(here.timings[k] for k in ("read", "score", "rules")) / len(df)
    part_bytes = int(np.median([len(pickle.dumps(_detached(p.compiled.problem,
                                                           here.affinity)[0]))
                                for p in here.parts]))
    measured = [{
        "parts": args.parts, "part_size": args.part_size, "max_iter": args.part_iter,
        "scheduler": args.scheduler, "workers": workers, "startup_s": round(startup, 2),
        "in_process_solve_s": round(here.timings["solve"], 2),
        "cluster_solve_s": round(there.timings["solve"], 2),
        "in_process_wall_s": round(here_wall, 2), "cluster_wall_s": round(there_wall, 2),
        "speedup_solve": round(here.timings["solve"] / there.timings["solve"], 3),
        "median_part_s_in_process": round(float(np.median(t_here)), 3),
        "median_part_s_worker": round(float(np.median(t_there)), 3),
        "driver_s_per_1k": round(1000 * per_cand_driver, 4),
        "part_bytes": part_bytes, "score": round(float(there.score), 4),
        "same_labels": same, "violations": _viol(there),
    }]
    t_part = float(np.median(t_there)) * args.project_part / args.part_size
    P = math.ceil(args.project / args.project_part)
    bytes_part = part_bytes * args.project_part / args.part_size
    proj = []
    for w in args.project_workers:
        waves = math.ceil(P / w)
        driver = per_cand_driver * args.project
        total = startup + driver + waves * t_part + P * bytes_part / NETWORK_BYTES_S
        proj.append({"candidates": args.project, "part_size": args.project_part, "parts": P,
                     "workers": w, "waves": waves, "t_part_s": round(t_part, 2),
                     "driver_s": round(driver, 1), "startup_s": round(startup, 1),
                     "transfer_s": round(P * bytes_part / NETWORK_BYTES_S, 2),
                     "projected_s": round(total, 1),
                     "projected_speedup": None})
    for r in proj:
        r["projected_speedup"] = round(proj[0]["projected_s"] / r["projected_s"], 2)
    return measured, proj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="*", type=parse_size, default=[(30000, 60.0)])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scheduler", default="local:2")
    ap.add_argument("--parts", type=int, default=6)
    ap.add_argument("--part-size", type=int, default=2000)
    ap.add_argument("--part-iter", type=int, default=4000)
    ap.add_argument("--project", type=int, default=1_000_000)
    ap.add_argument("--project-part", type=int, default=5000)
    ap.add_argument("--project-workers", nargs="*", type=int, default=[1, 2, 8, 32, 128])
    ap.add_argument("--only", choices=("all", "head", "parts"), default="all",
                    help="run only the head-to-head or only the simulated parts")
    ap.add_argument("--out", default="benchmarks/results/distributed.json")
    args = ap.parse_args()
    out = Path(args.out)
    # kernels compiled (or loaded from cache) before any timed run, like a process start-up
    from peermatch.solve.local import kernels_ready

    far = time.perf_counter() + 3600
    kernels_ready(True, far) and kernels_ready(False, far)
    if args.only in ("all", "head"):
        rows = []
        for n, T in args.sizes:
            rows += head_to_head(n, T, args.seed, args.scheduler)
        write_rows(rows, out, f"in-process vs {args.scheduler}")
    if args.only == "head":
        return
    measured, proj = simulated(args)
    write_rows(measured, out.with_name(out.stem + "_parts.json"),
               f"{args.parts} parts of {args.part_size}, in-process vs {args.scheduler}")
    write_rows(proj, out.with_name(out.stem + "_projection.json"),
               f"projected: {args.project:,} candidates in parts of {args.project_part:,}")


if __name__ == "__main__":
    main()
