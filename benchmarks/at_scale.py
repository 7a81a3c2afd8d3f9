"""peermatch vs a strong plain baseline at scale, same group count, same wall time.

    python benchmarks/at_scale.py [--sizes 1000:10 5000:30 10000:60] [--seeds 0 1 2]
        [--long-baseline K] [--peers] [--quick] [--out benchmarks/results/at_scale.json]

Main job, for each ``n:seconds`` pair and seed ``s``: ``peermatch.match`` on
``synth_candidates(n, seed=s)`` with groups of 8-12 and ``time_limit=seconds`` (default
rules: no two of one industry and region in a group, no declared conflict), then the
baseline of ``benchmarks/descent.py`` (numpy greedy + first-improvement move/swap descent,
multi-start) on the same compiled problem, with the number of groups peermatch used and
the same seconds (optionally also ``K`` times the seconds). Both scores are recomputed
from the affinity matrix and both groupings go through ``peermatch.solve.violations``.

``--peers``: the mixed-sign scenario of ``benchmarks/peers.py`` (1,000 candidates, 100
groups of 8-12, no two of one industry and region together, about two thirds of the
affinities negative): ``peermatch.solve.solve`` with 10 s against the baseline with 10 s
and with 60 s.

The numba kernels are warmed (compiled or loaded from cache) once before any timed run,
like a process start-up. With several seeds a median row follows the per-seed rows.
Writes the main table to ``--out`` (JSON + CSV) and the peer table beside it
(``*_peers.json``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import parse_size, write_rows  # noqa: E402
from descent import grouping_objective, plain_descent, problem_arrays  # noqa: E402
from peers import scenario  # noqa: E402

import peermatch  # noqa: E402
from peermatch.problem import Problem  # noqa: E402
from peermatch.solve import solve, violations  # noqa: E402

DEFAULT_SIZES = ["1000:10", "5000:30", "10000:60"]


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def compare(pm_score: float, base: float) -> tuple[float, float]:
    """``(peermatch / baseline, 100 * (peermatch - baseline) / |baseline|)``."""
    return round(pm_score / base, 5), round(100 * (pm_score - base) / abs(base), 3)


def dense(A) -> np.ndarray:
    """The matrix itself, or the dense matrix of an affinity object (FeatureAffinity)."""
    return A if isinstance(A, np.ndarray) else A.to_dense()


def run_baseline(arrays: tuple, problem: Problem, seconds: float, seed: int) -> dict:
    """The baseline on ``problem_arrays(problem, m)`` (built before, outside the timing)."""
    A, m, lo, hi, cc, cl = arrays
    t = time.perf_counter()
    labels, obj, info = plain_descent(A, m, lo, hi, conflict_class=cc, cannot_link=cl,
                                      seconds=seconds, seed=seed)
    wall = time.perf_counter() - t
    return {"score": obj, "violations": len(violations(problem.with_groups(m), labels)),
            "starts": info["starts"], "first": info["first_objective"],
            "first_start_s": info["start_seconds"][0],
            "local_optima": int(sum(info["local_optimum"])), "wall": wall}


def main_job(n: int, T: float, seed: int, long_k: float | None, even_sizes=None) -> dict:
    df = peermatch.synth_candidates(n, seed=seed)
    t = time.perf_counter()
    res = peermatch.match(df, min_size=8, max_size=12, time_limit=T, seed=seed,
                          even_sizes=even_sizes)
    pm_wall = time.perf_counter() - t
    rss_pm = max_rss_mb()
    if not res.success:
        raise RuntimeError(f"peermatch found no grouping at n={n}: {res.message}")
    if len(res.parts) != 1 or not np.array_equal(res.parts[0].rows, np.arange(n)):
        raise RuntimeError("the rules split the candidates into parts; this benchmark "
                           "compares one problem")
    problem = res.parts[0].compiled.problem
    m = res.n_groups
    representation = "dense" if isinstance(problem.affinity, np.ndarray) else "features"
    arrays = problem_arrays(problem, m)  # densifies an affinity object, before any timing
    A = arrays[0]
    pm_score_problem = grouping_objective(A, res.labels)
    A_res = A if res.affinity is problem.affinity else dense(res.affinity)
    pm_score_affinity = grouping_objective(A_res, res.labels)
    del A_res
    pm_viol = len(violations(problem.with_groups(m), res.labels))
    b = run_baseline(arrays, problem, T, seed)
    rss_b = max_rss_mb()
    ratio, pct = compare(pm_score_problem, b["score"])
    row = {
        "n": n, "T_s": T, "seed": seed, "m": m, "pm_affinity": representation,
        "competitor_classes": len(problem.group_sums), "cannot_link": len(problem.cannot_link),
        "pm_score": round(float(res.score), 4), "pm_recomputed": round(pm_score_affinity, 4),
        "pm_method": res.method, "pm_wall_s": round(pm_wall, 2),
        "pm_solve_s": round(float(res.timings.get("solve", np.nan)), 2),
        "base_score": round(b["score"], 4), "ratio": ratio, "pct_diff": pct,
        "pm_viol": pm_viol, "base_viol": b["violations"], "base_starts": b["starts"],
        "base_first": round(b["first"], 4), "base_first_start_s": round(b["first_start_s"], 2),
        "base_local_optima": b["local_optima"], "base_wall_s": round(b["wall"], 2),
        "rss_after_pm_mb": rss_pm, "rss_after_base_mb": rss_b,
    }
    if abs(pm_score_problem - pm_score_affinity) > 1e-6 * max(1.0, abs(pm_score_affinity)):
        row["pm_score_problem"] = round(pm_score_problem, 4)  # soft terms folded in
    if long_k:
        bl = run_baseline(arrays, problem, long_k * T, seed)
        r, p = compare(pm_score_problem, bl["score"])
        row.update({f"base_{long_k:g}xT_score": round(bl["score"], 4),
                    f"ratio_{long_k:g}xT": r, f"pct_{long_k:g}xT": p,
                    f"base_{long_k:g}xT_starts": bl["starts"],
                    f"base_{long_k:g}xT_viol": bl["violations"]})
    return row


def peers_job(seed: int, T: float, long_T: float, n: int = 1000, m: int = 100) -> dict:
    A, cl, _ = scenario(n, seed)
    p = Problem(A, min_size=8, max_size=12, n_groups=m, cannot_link=cl)
    t = time.perf_counter()
    res = solve(p, time_limit=T, seed=seed)
    pm_wall = time.perf_counter() - t
    pm_score = grouping_objective(A, res.labels)
    row = {"n": n, "m": m, "T_s": T, "seed": seed, "cannot_link": len(p.cannot_link),
           "negative_share": round(float((A < 0).mean()), 3),
           "pm_score": round(float(res.objective), 4), "pm_recomputed": round(pm_score, 4),
           "pm_method": res.method, "pm_wall_s": round(pm_wall, 2),
           "pm_viol": len(violations(p, res.labels))}
    arrays = problem_arrays(p)
    for secs in (T, long_T):
        b = run_baseline(arrays, p, secs, seed)
        r, pct = compare(pm_score, b["score"])
        k = f"base_{secs:g}s"
        row.update({f"{k}_score": round(b["score"], 4), f"ratio_{secs:g}s": r,
                    f"pct_{secs:g}s": pct, f"{k}_viol": b["violations"],
                    f"{k}_starts": b["starts"], f"{k}_first": round(b["first"], 4)})
    return row


def with_medians(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Per-seed rows, each group of seeds followed by a row of medians."""
    out: list[dict] = []
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    for grp in groups.values():
        out.extend(grp)
        if len(grp) > 1:
            med = {k: grp[0][k] for k in keys}
            med["seed"] = "median"
            for k in grp[0]:
                vals = [r.get(k) for r in grp]
                if k not in med and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                        for v in vals):
                    med[k] = round(float(np.median(vals)), 5)
            out.append(med)
    return out


def warm_match() -> None:
    peermatch.match(peermatch.synth_candidates(40, seed=0), min_size=8, max_size=12, time_limit=5,
                    seed=0)


def warm_solve(seed: int = 0) -> None:
    # as in peers.py: the cannot-link pair selects the rule-checking kernel variant
    A, _, _ = scenario(20, seed)
    solve(Problem(A, min_size=4, max_size=6, n_groups=4, cannot_link=[(0, 1)]), "local",
          time_limit=60, options={"max_iter": 2})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="*", type=parse_size,
                    default=[parse_size(s) for s in DEFAULT_SIZES],
                    help="n:seconds pairs (default: %(default)s)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/at_scale.json"))
    ap.add_argument("--quick", action="store_true", help="main job at n=1000, 5 s only")
    ap.add_argument("--long-baseline", type=float, default=None, metavar="K",
                    help="also run the baseline with K times the seconds")
    ap.add_argument("--peers", action="store_true", help="also the mixed-sign peer scenario")
    ap.add_argument("--peers-time", type=float, default=10.0)
    ap.add_argument("--peers-long", type=float, default=60.0)
    ap.add_argument("--free-sizes", action="store_true",
                    help="sizes anywhere within 8-12 (match's default before even sizes)")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = [(1000, 5.0)]

    if args.sizes:
        warm_match()
        even = False if args.free_sizes else None
        rows = [main_job(n, T, s, args.long_baseline, even) for n, T in args.sizes
                for s in args.seeds]
        write_rows(with_medians(rows, ("n", "T_s")), args.out,
                   "peermatch.match vs plain greedy + move/swap descent (same m, same seconds)")
    if args.peers:
        warm_solve()
        rows = [peers_job(s, args.peers_time, args.peers_long) for s in args.seeds]
        print()
        write_rows(with_medians(rows, ("n", "T_s")),
                   args.out.with_name(args.out.stem + "_peers.json"),
                   "peer scenario (mixed sign, cannot-link): peermatch.solve vs plain descent")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
