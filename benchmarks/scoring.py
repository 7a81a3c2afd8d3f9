"""Benchmark of the vectorized scoring core (affinity, objective, move gains, re-scoring).

Usage::

    python benchmarks/scoring.py --sizes 1000 5000 20000 --repeats 5 \
        --out benchmarks/results/scoring.json

Writes the JSON file and a CSV next to it, and prints a table. Candidates are synthetic:
~25 industries, log-uniform sizes 2-5000 employees, 1-4 goals and 1-4 expertise terms from a
30-word vocabulary. Times are medians over ``--repeats`` runs (the minimum is recorded
too); peak memory is measured in a separate run under ``tracemalloc``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from peermatch.candidates import CandidateTable
from peermatch.features import encode
from peermatch.quality import group_stats
from peermatch.scoring import (
    Weights,
    affinity,
    group_affinity,
    grouping_score,
    move_gains,
)

VOCAB = [f"topic {k:02d}" for k in range(30)]


def synth_table(n: int, seed: int) -> CandidateTable:
    """Random candidates (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"M{k:06d}" for k in range(n)], dtype=object)
    industry = np.array([f"industry {k:02d}" for k in rng.integers(0, 25, n)], dtype=object)
    employees = np.round(10 ** rng.uniform(math.log10(2), math.log10(5000), n))

    def lists():
        return [list(rng.choice(VOCAB, int(rng.integers(1, 5)), replace=False))
                for _ in range(n)]

    return CandidateTable(
        frame=pd.DataFrame({"id": ids}), source="<synthetic>", columns={"id": "id"},
        lines=np.arange(2, n + 2), ids=ids, industry=industry, employees=employees,
        revenue=np.full(n, np.nan), goals=lists(), expertise=lists())


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(median, min) seconds of ``fn()`` over ``repeats`` runs, and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        out = None  # free the previous result before the next run
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), out


def peak_mb(fn) -> float:
    """Peak traced memory (MB) of one ``fn()`` call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def loop_affinity(f, w: Weights) -> np.ndarray:
    """Plain-Python reference: one pair at a time (same formulas as peermatch.scoring)."""
    n = f.n
    G = [set(f.goals.indices[f.goals.indptr[i]:f.goals.indptr[i + 1]]) for i in range(n)]
    X = [set(f.expertise.indices[f.expertise.indptr[i]:f.expertise.indptr[i + 1]])
         for i in range(n)]
    size, known, sector = f.log_size.tolist(), f.size_known.tolist(), f.sector.tolist()
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            union = len(G[i] | G[j])
            s_goals = len(G[i] & G[j]) / union if union else 0.0
            e_ij = len(X[i] & G[j]) / len(G[j]) if G[j] else 0.0
            e_ji = len(X[j] & G[i]) / len(G[i]) if G[i] else 0.0
            s_insp = (e_ij + e_ji + e_ij * e_ji) / 3
            s_cal = (math.exp(-abs(size[i] - size[j]) / w.caliber_scale)
                     if known[i] and known[j] else 0.5)
            s_div = float(sector[i] != sector[j])
            A[i, j] = A[j, i] = (w.goals * s_goals + w.inspiration * s_insp
                                 + w.caliber * s_cal + w.diversity * s_div)
    return A


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/scoring.json")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--group-size", type=int, default=10)
    ap.add_argument("--float32-from", type=int, default=20000,
                    help="use float32 for A from this n on (float64 below)")
    ap.add_argument("--loop-n", type=int, default=1000,
                    help="n at which the plain-loop reference is timed (0: skip)")
    args = ap.parse_args(argv)

    w = Weights()
    env = {
        "cpu_count": os.cpu_count(), "numpy": np.__version__, "python": sys.version.split()[0],
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "load_avg_start": list(os.getloadavg()), "seed": args.seed, "repeats": args.repeats,
        "group_size": args.group_size, "weights": w.to_dict(),
    }
    rows = []
    notes = []
    for n in args.sizes:
        dtype = np.float32 if n >= args.float32_from else np.float64
        if dtype is np.float32:
            notes.append(f"n={n}: A in float32 ({4 * n * n / 2**30:.2f} GiB; float64 would "
                         f"need {8 * n * n / 2**30:.2f} GiB)")
        table = synth_table(n, args.seed)
        f_med, _, feats = timed(lambda table=table: encode(table), 1)
        m = max(1, n // args.group_size)
        labels = np.random.default_rng(args.seed).permutation(n) % m

        def build(feats=feats, dtype=dtype):
            return affinity(feats, w, dtype=dtype)

        a_med, a_min, _ = timed(build, args.repeats)
        a_peak = peak_mb(build)
        A = build()
        s_med, s_min, score = timed(lambda A=A, labels=labels: grouping_score(A, labels),
                                    args.repeats)
        s_peak = peak_mb(lambda A=A, labels=labels: grouping_score(A, labels))
        W_med, _, W = timed(lambda A=A, labels=labels, m=m: group_affinity(A, labels, m),
                            args.repeats)
        g_med, g_min, _ = timed(lambda W=W, labels=labels: move_gains(W, labels), args.repeats)
        g_peak = peak_mb(lambda W=W, labels=labels: move_gains(W, labels))
        row = {
            "n": n, "groups": m, "dtype": np.dtype(dtype).name, "encode_s": f_med,
            "affinity_s": a_med, "affinity_min_s": a_min, "affinity_peak_mb": a_peak,
            "score_s": s_med, "score_min_s": s_min, "score_peak_mb": s_peak,
            "group_affinity_s": W_med, "move_gains_s": g_med, "move_gains_min_s": g_min,
            "move_gains_peak_mb": g_peak, "objective": score,
            "loop_affinity_s": None, "speedup": None,
        }
        if n == args.loop_n:
            t = time.perf_counter()
            ref = loop_affinity(feats, w)
            row["loop_affinity_s"] = time.perf_counter() - t
            row["speedup"] = row["loop_affinity_s"] / a_med
            assert np.allclose(ref, A, atol=1e-6), "vectorized A differs from the loop"
        rows.append(row)
        del A, W

    # Re-scoring a grouping of 500 after a weight change: affinity + objective + group stats.
    table = synth_table(500, args.seed + 1)
    feats = encode(table)
    labels = np.random.default_rng(args.seed).permutation(500) % 50
    w2 = Weights(goals=0.5, inspiration=2.0, caliber=1.0, diversity=0.0)

    def rescore():
        A2 = affinity(feats, w2)
        return grouping_score(A2, labels), group_stats(A2, labels, feats)

    r_med, r_min, _ = timed(rescore, max(args.repeats, 5))
    rescore_row = {"n": 500, "groups": 50, "rescore_s": r_med, "rescore_min_s": r_min}
    env["load_avg_end"] = list(os.getloadavg())

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"env": env, "notes": notes, "rows": rows,
                               "rescore_500": rescore_row}, indent=2) + "\n")
    with open(out.with_suffix(".csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)

    print(f"CPUs {env['cpu_count']}, numpy {env['numpy']}, python {env['python']}, "
          f"load {env['load_avg_start'][0]:.2f} -> {env['load_avg_end'][0]:.2f}; "
          f"median of {args.repeats} (min in brackets)")
    head = (f"{'n':>6} {'dtype':>7} | {'A s':>14} {'A MB':>7} | {'F s':>15} {'F MB':>6} | "
            f"{'gains s':>17} {'gains MB':>8} | {'loop s':>7} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        loop = f"{r['loop_affinity_s']:7.2f}" if r["loop_affinity_s"] else f"{'':>7}"
        ratio = f"{r['speedup']:6.0f}" if r["speedup"] else f"{'':>6}"
        ms = 1e3
        print(f"{r['n']:>6} {r['dtype']:>7} | {r['affinity_s']:6.3f} ({r['affinity_min_s']:5.3f})"
              f" {r['affinity_peak_mb']:7.0f} | {r['score_s'] * ms:6.2f}ms "
              f"({r['score_min_s'] * ms:5.2f}) {r['score_peak_mb']:6.1f} | "
              f"{r['move_gains_s'] * ms:7.2f}ms ({r['move_gains_min_s'] * ms:5.2f}) "
              f"{r['move_gains_peak_mb']:8.1f} | {loop} {ratio}")
    print(f"re-score 500 candidates / 50 groups after a weight change: "
          f"{r_med * 1e3:.1f} ms (min {r_min * 1e3:.1f} ms)")
    for note in notes:
        print("note:", note)
    print(f"wrote {out} and {out.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
