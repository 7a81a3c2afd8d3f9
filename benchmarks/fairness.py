"""Fairness and even sizes on held-out generated candidates, and the trade-off curve.

Every figure is recomputed here from ``result.affinity`` and ``result.labels`` with plain
numpy loops, not with peermatch's own measures.

    python benchmarks/fairness.py            # 500 candidates, 20 s per setting
    python benchmarks/fairness.py --curve    # also the trade-off curve on the example data
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import peermatch as pm

HERE = Path(__file__).resolve().parent
SEED_DATA = 9091  # held out: used by no test and no doc


def measures(A: np.ndarray, labels: np.ndarray) -> dict:
    """Total, floor and sizes of a grouping, by explicit loops over members."""
    A = np.asarray(A, dtype=float)
    n = len(labels)
    total, fits = 0.0, []
    for i in range(n):
        mates = [j for j in range(n) if labels[j] == labels[i] and j != i]
        s = sum(A[i, j] for j in mates)
        total += s
        fits.append(s / len(mates) if mates else 0.0)
    sizes = sorted(int(np.sum(labels == g)) for g in np.unique(labels))
    return {"total": total / 2, "floor": min(fits), "median_fit": float(np.median(fits)),
            "sizes": sizes}


def floor_bound(df, A: np.ndarray, min_size: int) -> float:
    """An upper bound on the floor of any valid grouping.

    A member's fit is the mean of their affinities to at least ``min_size - 1`` groupmates,
    none a competitor (same industry and region), so it is at most the mean of their
    ``min_size - 1`` highest affinities to non-competitors.
    """
    A = np.asarray(A, dtype=float).copy()
    key = [(" ".join(str(a).split()).casefold(), " ".join(str(b).split()).casefold())
           for a, b in zip(df["industry"], df["region"], strict=True)]
    n = len(key)
    for i in range(n):
        for j in range(n):
            if i == j or key[i] == key[j]:
                A[i, j] = -np.inf
    top = -np.sort(-A, axis=1)[:, :min_size - 1]
    return float(top.mean(axis=1).min())


def run(df, label: str, **kw) -> dict:
    t = time.perf_counter()
    res = pm.match(df, **kw)
    wall = time.perf_counter() - t
    assert res.success and not res.validate(), (label, res.message)
    out = {"setting": label, "wall_s": round(wall, 2), **measures(res.affinity, res.labels)}
    print(f"{label:<22} total {out['total']:9.2f}  floor {out['floor']:.4f}  "
          f"sizes {min(out['sizes'])}-{max(out['sizes'])}  ({wall:.1f} s)", flush=True)
    return out


def held_out(n: int, time_limit: float) -> dict:
    df = pm.synth_candidates(n, seed=SEED_DATA)
    base = dict(group_size=(8, 12), time_limit=time_limit, seed=0)
    rows = [run(df, "fairness=0", **base), run(df, "fairness=1", fairness=1.0, **base),
            run(df, "even_sizes", even_sizes=True, **base)]
    f0, f1, ev = rows
    A = pm.match(df, group_size=(8, 12), time_limit=0.5, seed=0).affinity
    bound = floor_bound(df, A, 8)
    summary = {
        "floor_upper_bound": bound,
        "floor_gain_possible_at_most": bound / f0["floor"] - 1,
        "floor_gain": f1["floor"] / f0["floor"] - 1,
        "fairness_total_loss": 1 - f1["total"] / f0["total"],
        "even_total_loss": 1 - ev["total"] / f0["total"],
        "even_max_size_gap": max(ev["sizes"]) - min(ev["sizes"]),
    }
    print(f"\nfairness=1: floor {summary['floor_gain']:+.1%}, total "
          f"{-summary['fairness_total_loss']:+.2%};  even sizes: total "
          f"{-summary['even_total_loss']:+.2%}, sizes differ by {summary['even_max_size_gap']}")
    print(f"no valid grouping has a floor above {bound:.4f} "
          f"(+{summary['floor_gain_possible_at_most']:.1%} over fairness=0)")
    return {"n": n, "data_seed": SEED_DATA, "time_limit": time_limit, "rows": rows,
            "summary": summary}


def curve(time_limit: float) -> dict:
    from importlib.resources import files

    path = str(files("peermatch") / "data" / "candidates.csv")
    rows = []
    for F in (0.0, 0.25, 0.5, 0.75, 1.0):
        rows.append({"fairness": F, **run(path, f"example F={F:g}", fairness=F,
                                          group_size=(8, 12), time_limit=time_limit,
                                          seed=0)})
    return {"data": "peermatch/data/candidates.csv", "time_limit": time_limit, "rows": rows}


def plot(c: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text as text: a small, diffable file

    fl = [r["floor"] for r in c["rows"]]
    tot = [r["total"] for r in c["rows"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(fl, tot, "o-")
    for r in c["rows"]:
        ax.annotate(f"F={r['fairness']:g}", (r["floor"], r["total"]), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    ax.set_xlabel("floor (worst member's mean affinity to their group)")
    ax.set_ylabel("total affinity")
    ax.set_title("Total vs floor on the example data")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--curve", action="store_true")
    ap.add_argument("--curve-time", type=float, default=10.0)
    ap.add_argument("--skip-held-out", action="store_true")
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the curve from results/fairness_curve.json")
    a = ap.parse_args()
    svg = HERE.parent / "docs" / "img" / "fairness_curve.svg"
    if a.plot_only:
        plot(json.loads((HERE / "results" / "fairness_curve.json").read_text()), svg)
        return
    (HERE / "results").mkdir(exist_ok=True)
    if not a.skip_held_out:
        out = held_out(a.n, a.time_limit)
        (HERE / "results" / "fairness.json").write_text(json.dumps(out, indent=2) + "\n")
    if a.curve:
        c = curve(a.curve_time)
        (HERE / "results" / "fairness_curve.json").write_text(json.dumps(c, indent=2) + "\n")
        plot(c, svg)


if __name__ == "__main__":
    main()
