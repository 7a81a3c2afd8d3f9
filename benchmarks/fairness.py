"""Fairness and even sizes on held-out generated candidates, and the trade-off curve.

Every figure is recomputed here from ``result.affinity`` and ``result.labels`` with plain
numpy loops, not with peermatch's own measures.

    python benchmarks/fairness.py            # 500 candidates, 20 s per setting
    python benchmarks/fairness.py --curve    # also the trade-off curve on the example data
    python benchmarks/fairness.py --n 1200 --time-limit 10 --lp-time 0 --out fairness_1200.json
    python benchmarks/fairness.py --lp-only 0.7916 3224.05   # the LP alone, for a given reference

It also asks whether the floor gain the target asks for (``--gain``, +40 % for at most
``--max-loss`` 3 % of the total) is possible at all on these candidates, with a linear
programme over the pairs (see :func:`pair_lp`).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

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


def _norm(s) -> str:
    return " ".join(str(s).split()).casefold()


def apart_pairs(df) -> np.ndarray:
    """``apart[i, j]``: ``i`` and ``j`` may never share a group, from the table itself.

    Competitors (same industry and region, compared as the default rules do: whitespace
    folded, case-insensitive) and the explicit ``conflicts`` column (ids separated by
    ``,``, ``;`` or ``|``).
    """
    key = [(_norm(a), _norm(b)) for a, b in zip(df["industry"], df["region"], strict=True)]
    codes = {k: c for c, k in enumerate(dict.fromkeys(key))}
    c = np.array([codes[k] for k in key])
    apart = c[:, None] == c[None, :]
    pos = {str(x).strip(): i for i, x in enumerate(df["id"])}
    for i, cell in enumerate(df["conflicts"]):
        for t in str(cell).replace(";", ",").replace("|", ",").split(","):
            j = pos.get(t.strip())
            if j is not None:
                apart[i, j] = apart[j, i] = True
    np.fill_diagonal(apart, False)
    return apart


def pair_lp(A: np.ndarray, apart: np.ndarray, lo: int, hi: int, tau: float,
            total_min: float, *, max_rounds: int = 1, max_cuts: int = 40_000,
            time_limit: float = 300.0) -> dict:
    """Is a grouping with every fit ``>= tau`` and total ``>= total_min`` possible?

    ``y_ij`` in ``[0, 1]`` stands for "``i`` and ``j`` share a group", one per pair that is
    not apart. Every valid grouping with floor ``>= tau`` and total ``>= total_min``
    satisfies

    * ``sum_j (a_ij - tau) y_ij >= 0`` for every member ``i`` (fit ``>= tau``),
    * ``lo - 1 <= sum_j y_ij <= hi - 1`` (group sizes),
    * ``sum_{i<j} a_ij y_ij >= total_min``,
    * ``y_ij + y_ik - y_jk <= 1`` (sharing is transitive), with ``y_jk = 0`` when ``j``
      and ``k`` are apart.

    The last family is too large to state in full; rounds of the most violated ones are
    added to the relaxation (a cutting-plane loop, HiGHS through ``scipy.optimize.linprog``,
    maximising the total). ``"infeasible"`` proves that no such grouping exists (up to
    HiGHS's feasibility tolerance, 1e-7); ``"feasible"`` proves nothing, the relaxation may
    just be too weak.
    """
    A = np.asarray(A, dtype=float)
    n = len(A)
    iu, ju = np.triu_indices(n, 1)
    keep = ~apart[iu, ju]
    I, J = iu[keep], ju[keep]
    m = len(I)
    idx = np.full((n, n), -1, dtype=np.int64)
    idx[I, J] = idx[J, I] = np.arange(m)
    w = A[I, J]
    k = np.arange(m)
    rows, cols = np.concatenate([I, J]), np.concatenate([k, k])
    deg = sp.csr_matrix((np.ones(2 * m), (rows, cols)), shape=(n, m))
    fit = sp.csr_matrix((np.concatenate([tau - A[I, J], tau - A[J, I]]), (rows, cols)),
                        shape=(n, m))
    base = sp.vstack([fit, deg, -deg, -w[None, :]]).tocsr()
    rhs = np.concatenate([np.zeros(n), np.full(n, hi - 1.0), np.full(n, 1.0 - lo),
                          [-total_min]])
    cuts: list = []
    t0 = time.perf_counter()
    for rnd in range(max_rounds + 1):
        a_ub = sp.vstack([base, *cuts]).tocsr()
        b_ub = np.concatenate([rhs, np.ones(a_ub.shape[0] - len(rhs))])
        left = time_limit - (time.perf_counter() - t0)
        r = linprog(-w, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs",
                    options={"time_limit": max(left, 1.0)})
        out = {"tau": tau, "total_min": total_min, "rounds": rnd, "rows": a_ub.shape[0],
               "seconds": round(time.perf_counter() - t0, 1)}
        if r.status == 2:
            return {**out, "answer": "infeasible"}
        if r.status != 0:
            return {**out, "answer": "undecided", "message": r.message}
        out = {**out, "answer": "feasible", "total_upper_bound": float(-r.fun)}
        if rnd == max_rounds:
            return {**out, "cuts": sp.vstack(cuts).tocsr() if cuts else None}
        Y = np.zeros((n, n))
        Y[I, J] = Y[J, I] = r.x
        found = []
        for i in range(n):
            S = np.flatnonzero(Y[i] > 1e-6)
            V = Y[i, S][:, None] + Y[i, S][None, :] - Y[np.ix_(S, S)] - 1.0
            a, b = np.nonzero(np.triu(V > 1e-6, 1))
            found += [(V[x, z], i, S[x], S[z]) for x, z in zip(a, b, strict=True)]
        if not found:
            return {**out, "cuts": sp.vstack(cuts).tocsr() if cuts else None}
        found.sort(key=lambda f: -f[0])
        f = np.array([f[1:] for f in found[:max_cuts]], dtype=np.int64)
        e1, e2, e3 = idx[f[:, 0], f[:, 1]], idx[f[:, 0], f[:, 2]], idx[f[:, 1], f[:, 2]]
        q = np.arange(len(f))
        on = e3 >= 0  # j, k apart: y_jk is fixed at 0 and has no column
        cuts.append(sp.csr_matrix(
            (np.concatenate([np.ones(2 * len(f)), -np.ones(on.sum())]),
             (np.concatenate([q, q, q[on]]), np.concatenate([e1, e2, e3[on]]))),
            shape=(len(f), m)))
    raise AssertionError("unreachable")


def cuts_hold(cuts, apart: np.ndarray, labels: np.ndarray) -> bool:
    """Do the cuts of a feasible :func:`pair_lp` hold for a real grouping (a self-check)?"""
    n = len(labels)
    iu, ju = np.triu_indices(n, 1)
    keep = ~apart[iu, ju]
    y = (labels[iu[keep]] == labels[ju[keep]]).astype(float)
    return cuts is None or bool(np.all(cuts @ y <= 1 + 1e-9))


def floor_bound(df, A: np.ndarray, min_size: int) -> float:
    """An upper bound on the floor of any valid grouping.

    A member's fit is the mean of their affinities to at least ``min_size - 1`` groupmates,
    none apart from them (:func:`apart_pairs`), so it is at most the mean of their
    ``min_size - 1`` highest affinities to members they may share a group with.
    """
    A = np.where(apart_pairs(df), -np.inf, np.asarray(A, dtype=float))
    np.fill_diagonal(A, -np.inf)
    top = -np.sort(-A, axis=1)[:, : min_size - 1]
    return float(top.mean(axis=1).min())


def run(df, label: str, **kw) -> dict:
    t = time.perf_counter()
    res = pm.match(df, **kw)
    wall = time.perf_counter() - t
    assert res.success and not res.validate(), (label, res.message)
    out = {"setting": label, "wall_s": round(wall, 2), **measures(res.affinity, res.labels),
           "labels": np.asarray(res.labels).tolist()}
    print(f"{label:<22} total {out['total']:9.2f}  floor {out['floor']:.4f}  "
          f"sizes {min(out['sizes'])}-{max(out['sizes'])}  ({wall:.1f} s)", flush=True)
    return out


def held_out(n: int, time_limit: float, gain: float, max_loss: float, lp_time: float) -> dict:
    df = pm.synth_candidates(n, seed=SEED_DATA)
    base = dict(min_size=8, max_size=12, time_limit=time_limit, seed=0)
    rows = [run(df, "fairness=0", **base), run(df, "fairness=1", fairness=1.0, **base),
            run(df, "even_sizes", even_sizes=True, **base)]
    rows += [run(df, f"fairness={F:g}", fairness=F, **base) for F in (0.5, 0.75)]
    # the same-run baseline: the floor phase without its reweighted recovery (phase 3)
    rows.append(run(df, "fairness=1 no phase 3", fairness=1.0,
                    options={"tuning": {"fairness_rounds": 0}}, **base))
    f0, f1, ev = rows[:3]
    res = pm.match(df, min_size=8, max_size=12, time_limit=0.5, seed=0)
    A = np.asarray(res.affinity, dtype=float)
    assert np.array_equal(A, A.T)
    bound = floor_bound(df, A, 8)
    summary = {
        "floor_upper_bound": bound,
        "floor_gain_possible_at_most": bound / f0["floor"] - 1,
        "floor_gain": f1["floor"] / f0["floor"] - 1,
        "fairness_total_loss": 1 - f1["total"] / f0["total"],
        "even_total_loss": 1 - ev["total"] / f0["total"],
        "even_max_size_gap": max(ev["sizes"]) - min(ev["sizes"]),
        "between": [{"fairness": float(r["setting"].split("=")[1]),
                     "floor_gain": r["floor"] / f0["floor"] - 1,
                     "total_loss": 1 - r["total"] / f0["total"]} for r in rows[3:5]],
        "without_phase3": {"floor_gain": rows[5]["floor"] / f0["floor"] - 1,
                           "total_loss": 1 - rows[5]["total"] / f0["total"]},
    }
    print(f"\nfairness=1: floor {summary['floor_gain']:+.1%}, total "
          f"{-summary['fairness_total_loss']:+.2%};  even sizes: total "
          f"{-summary['even_total_loss']:+.2%}, sizes differ by {summary['even_max_size_gap']}")
    for b in summary["between"]:
        print(f"fairness={b['fairness']:g}: floor {b['floor_gain']:+.1%}, total "
              f"{-b['total_loss']:+.2%}")
    w = summary["without_phase3"]
    print(f"fairness=1 without phase 3: floor {w['floor_gain']:+.1%}, total "
          f"{-w['total_loss']:+.2%}")
    print(f"no valid grouping has a floor above {bound:.4f} "
          f"(+{summary['floor_gain_possible_at_most']:.1%} over fairness=0)")
    out = {"n": n, "data_seed": SEED_DATA, "time_limit": time_limit, "rows": rows,
           "summary": summary}
    if lp_time > 0:
        out["target"] = certify(df, A, rows, gain, max_loss, lp_time)
    return out


def certify(df, A: np.ndarray, rows: list[dict], gain: float, max_loss: float,
            lp_time: float) -> dict:
    """Is ``gain`` over the fairness=0 floor possible for at most ``max_loss`` of its total?"""
    apart = apart_pairs(df)
    f0, f1 = rows[0], rows[1]
    for r in rows:  # the LP's rules must be ones every grouping here obeys
        lab = np.asarray(r["labels"])
        assert not np.any(apart & (lab[:, None] == lab[None, :])), r["setting"]
    tau, total_min = (1 + gain) * f0["floor"], (1 - max_loss) * f0["total"]
    print(f"\nis floor >= {tau:.4f} with total >= {total_min:.1f} possible?", flush=True)
    ans = pair_lp(A, apart, 8, 12, tau, total_min, time_limit=lp_time)
    print(f"  LP with transitivity cuts: {ans['answer']} ({ans['seconds']} s)", flush=True)
    # Self-check: the fairness=1 grouping meets its own floor and total, so the same LP
    # there must not come out infeasible, and the cuts it adds must hold for it.
    check = pair_lp(A, apart, 8, 12, f1["floor"] - 1e-9, f1["total"] - 1e-6,
                    time_limit=lp_time)
    assert check["answer"] != "infeasible", check
    assert cuts_hold(check.get("cuts"), apart, np.asarray(f1["labels"]))
    print(f"  self-check at the fairness=1 grouping's floor and total: {check['answer']}")
    drop = ("cuts", "message")
    return {"gain": gain, "max_total_loss": max_loss, "apart_pairs": int(apart.sum() // 2),
            "lp": {k: v for k, v in ans.items() if k not in drop},
            "self_check": {k: v for k, v in check.items() if k not in drop}}


def curve(time_limit: float) -> dict:
    from importlib.resources import files

    path = str(files("peermatch") / "data" / "candidates.csv")
    rows = []
    for F in (0.0, 0.25, 0.5, 0.75, 1.0):
        rows.append({"fairness": F, **run(path, f"example F={F:g}", fairness=F,
                                          min_size=8, max_size=12, time_limit=time_limit,
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


def dump(obj: dict) -> str:
    """JSON with lists of numbers on one line (labels and sizes stay readable)."""
    text = json.dumps(obj, indent=2)
    return re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]",
                  lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]",
                  text) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--out", default="fairness.json", help="file name under results/")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--curve", action="store_true")
    ap.add_argument("--curve-time", type=float, default=10.0)
    ap.add_argument("--skip-held-out", action="store_true")
    ap.add_argument("--gain", type=float, default=0.40, help="floor gain asked for")
    ap.add_argument("--max-loss", type=float, default=0.03, help="share of the total it may cost")
    ap.add_argument("--lp-time", type=float, default=300.0,
                    help="seconds for each LP (0: no LP)")
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the curve from results/fairness_curve.json")
    ap.add_argument("--lp-only", nargs=2, type=float, metavar=("FLOOR", "TOTAL"),
                    help="only the LP, for a fairness=0 floor and total given by hand "
                         "(e.g. an earlier run's); writes results/fairness_lp.json")
    a = ap.parse_args()
    if a.lp_only:
        df = pm.synth_candidates(a.n, seed=SEED_DATA)
        A = np.asarray(pm.match(df, min_size=8, max_size=12, time_limit=0.5, seed=0).affinity)
        f0, t0 = a.lp_only
        tau, total_min = (1 + a.gain) * f0, (1 - a.max_loss) * t0
        print(f"is floor >= {tau:.4f} with total >= {total_min:.1f} possible?", flush=True)
        ans = pair_lp(A, apart_pairs(df), 8, 12, tau, total_min, time_limit=a.lp_time)
        print(f"  LP with transitivity cuts: {ans['answer']} ({ans['seconds']} s)")
        ans.pop("cuts", None)
        out = {"n": a.n, "data_seed": SEED_DATA, "floor_reference": f0, "total_reference": t0,
               "gain": a.gain, "max_total_loss": a.max_loss, "lp": ans}
        (HERE / "results" / "fairness_lp.json").write_text(dump(out))
        return
    svg = HERE.parent / "docs" / "img" / "fairness_curve.svg"
    if a.plot_only:
        plot(json.loads((HERE / "results" / "fairness_curve.json").read_text()), svg)
        return
    (HERE / "results").mkdir(exist_ok=True)
    if not a.skip_held_out:
        out = held_out(a.n, a.time_limit, a.gain, a.max_loss, a.lp_time)
        (HERE / "results" / a.out).write_text(dump(out))
    if a.curve:
        c = curve(a.curve_time)
        (HERE / "results" / "fairness_curve.json").write_text(dump(c))
        plot(c, svg)


if __name__ == "__main__":
    main()
