"""Programme families: peermatch against the multi-start plain descent, family by family.

    python benchmarks/families.py [--families NAME ...] [--sizes 1000:10 5000:30]
        [--seeds 0] [--cores 2] [--quick] [--best-known FILE] [--record-best K]
        [--out benchmarks/results/families.json] [--list]

A suite of programme *families* rather than one generator. Each family (one line of
``FAMILIES``) names

* an affinity: ``positive`` (shared goals and caliber, every pair >= 0), ``mixed`` (the
  low-rank + noise - shift matrix of ``benchmarks/peers.py``: about two thirds of the pairs
  negative), ``clustered`` (a few dense communities, little affinity across them) or
  ``flat`` (every pair close to 1: little to gain over any grouping);
* rules: ``none``; ``competitors`` (industry x region cells, at most one of a cell per
  group, as ``peermatch.rules`` compiles them); ``heavy`` (a few cells almost as large as
  the group count, so nearly every group holds one member of each); ``conflicts`` (random
  declared pairs, one per candidate on average); ``tiers`` (three tiers, each group of one
  tier, as allowed groups);
* group sizes (4-6, 8-12, 12-16) and a fixed or free group count.

For every family, size ``n:seconds`` and seed the instance is built as a
``peermatch.problem.Problem``; then, at equal seconds and equal cores (``--cores``,
default 2):

* ``peermatch.solve.solve(problem, time_limit=seconds, workers=cores,
  options={"threads": cores})`` (CP-SAT workers and the sub-problem threads at scale);
* the plain multi-start greedy + move/swap descent of ``benchmarks/descent.py`` in one
  process per core (seeds differ), each given the same seconds, the best counts; with
  peermatch's group count when the family leaves it free; with tiers, each tier is its own
  sub-problem, given its share of the seconds (the allowed groups make the tiers
  independent).

Both groupings are re-scored from the affinity and checked by
``peermatch.solve.violations``. The table gives the margin ``100 (peermatch - descent) /
|descent|`` for every row, then the median per family. ``--best-known FILE`` adds the gap
of each to the best value known (a CSV like MDGPLIB's ``BKS.csv``); ``--record-best K``
instead runs both K times longer and keeps the best value per instance in that file.
The numba kernels are warmed (compiled or loaded from cache) before any timed run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from peermatch.problem import GroupSum, Problem  # noqa: E402
from peermatch.solve import solve, violations  # noqa: E402


def _sibling(name: str):
    """``benchmarks/<name>.py`` imported by its path (works however this file was loaded)."""
    key = f"_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


descent = _sibling("descent")
parse_size = _sibling("_report").parse_size
plain_descent, problem_arrays = descent.plain_descent, descent.problem_arrays

# One line per family. affinity: positive | mixed | clustered | flat; rules: none |
# competitors | heavy | conflicts | tiers; size: (lo, hi); groups: fixed | free.
FAMILIES = [
    {"name": "goals-open", "affinity": "positive", "rules": "none", "size": (8, 12),
     "groups": "fixed"},
    {"name": "goals-competitors", "affinity": "positive", "rules": "competitors",
     "size": (8, 12), "groups": "fixed"},
    {"name": "goals-small-free", "affinity": "positive", "rules": "competitors",
     "size": (4, 6), "groups": "free"},
    {"name": "goals-tiers", "affinity": "positive", "rules": "tiers", "size": (12, 16),
     "groups": "fixed"},
    {"name": "mixed-competitors", "affinity": "mixed", "rules": "competitors",
     "size": (8, 12), "groups": "fixed"},
    {"name": "mixed-conflicts-free", "affinity": "mixed", "rules": "conflicts",
     "size": (8, 12), "groups": "free"},
    {"name": "mixed-tiers-small", "affinity": "mixed", "rules": "tiers", "size": (4, 6),
     "groups": "fixed"},
    {"name": "clustered-open", "affinity": "clustered", "rules": "none", "size": (12, 16),
     "groups": "fixed"},
    {"name": "clustered-heavy", "affinity": "clustered", "rules": "heavy", "size": (8, 12),
     "groups": "fixed"},
    {"name": "clustered-conflicts-free", "affinity": "clustered", "rules": "conflicts",
     "size": (4, 6), "groups": "free"},
    {"name": "flat-heavy-small", "affinity": "flat", "rules": "heavy", "size": (4, 6),
     "groups": "fixed"},
    {"name": "flat-conflicts-free", "affinity": "flat", "rules": "conflicts",
     "size": (12, 16), "groups": "free"},
]

DEFAULT_SIZES = ["1000:10", "5000:30"]
QUICK_SIZES = ["200:1.5"]
DEFAULT_BEST = HERE / "results" / "families_best.csv"
N_INDUSTRIES, N_REGIONS, N_TIERS = 40, 6, 3
TIER_SHARES = (0.5, 0.3, 0.2)
COMMUNITIES = 6
HEAVY_SHARES = (0.95, 0.85, 0.75, 0.65, 0.55, 0.45)


# -- affinities ------------------------------------------------------------------------------
def _symmetric(M: np.ndarray) -> np.ndarray:
    """``(M + M.T) / 2`` in place, zero diagonal."""
    M += M.T
    M *= 0.5
    np.fill_diagonal(M, 0.0)
    return M


def affinity_positive(n: int, rng: np.random.Generator) -> np.ndarray:
    """Shared goals (12 goals, each held by a quarter) + caliber closeness + a little noise."""
    goals = (rng.random((n, 12)) < 0.25).astype(np.float64)
    caliber = rng.normal(size=n)
    A = goals @ goals.T
    D = np.subtract.outer(caliber, caliber)  # in place from here: n x n arrays are large
    np.abs(D, out=D)
    np.negative(D, out=D)
    np.exp(D, out=D)
    D *= 0.5
    A += D
    del D
    noise = _symmetric(rng.random((n, n)))
    noise *= 0.1
    A += noise
    np.fill_diagonal(A, 0.0)
    return A


def affinity_mixed(n: int, rng: np.random.Generator) -> np.ndarray:
    """The mixed-sign matrix of ``benchmarks/peers.py`` (its seed drawn from ``rng``)."""
    return _sibling("peers").scenario(n, int(rng.integers(2**31)))[0]


def affinity_clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """``COMMUNITIES`` dense communities: about 1 inside one, about 0.05 across."""
    community = rng.integers(0, COMMUNITIES, n)
    A = 0.1 * _symmetric(rng.random((n, n)))
    A += (community[:, None] == community[None, :]) * (0.9 + 0.2 * A)
    np.fill_diagonal(A, 0.0)
    return A


def affinity_flat(n: int, rng: np.random.Generator) -> np.ndarray:
    """Every pair 1 plus noise of standard deviation 0.014: little to gain over any grouping."""
    A = _symmetric(rng.normal(scale=0.02, size=(n, n)))
    A += 1.0
    np.fill_diagonal(A, 0.0)
    return A


AFFINITIES = {"positive": affinity_positive, "mixed": affinity_mixed,
              "clustered": affinity_clustered, "flat": affinity_flat}


# -- rules -----------------------------------------------------------------------------------
def group_count(n: int, lo: int, hi: int) -> int:
    """The fixed count of a family: ``n`` over the middle size, within what the sizes allow."""
    return int(np.clip(round(2 * n / (lo + hi)), -(-n // hi), n // lo))


def cells(n: int, rng: np.random.Generator) -> np.ndarray:
    """Industry x region cell of each candidate (``N_INDUSTRIES`` x ``N_REGIONS``)."""
    return rng.integers(0, N_INDUSTRIES, n) * N_REGIONS + rng.integers(0, N_REGIONS, n)


def heavy_cells(n: int, lo: int, m_min: int, rng: np.random.Generator) -> np.ndarray:
    """``max(1, lo // 2)`` cells of ``HEAVY_SHARES * m_min`` members, the rest as ``cells``."""
    cls = cells(n, rng) + len(HEAVY_SHARES)
    perm = rng.permutation(n)
    start = 0
    for k, share in enumerate(HEAVY_SHARES[:max(1, lo // 2)]):
        size = max(2, int(share * m_min))
        cls[perm[start:start + size]] = k
        start += size
    return cls


def competitor_sums(cls: np.ndarray) -> tuple[GroupSum, ...]:
    """One "at most one per group" rule per class of two or more members."""
    sums = []
    for c in np.flatnonzero(np.bincount(cls) >= 2):
        coef = (cls == c).astype(np.float64)
        sums.append(GroupSum(coef, hi=1, name=f"competitors {c}"))
    return tuple(sums)


def tier_split(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tier of each candidate and of each group: ``TIER_SHARES`` of the ``m`` groups per
    tier, and of the candidates in proportion to the groups (so every tier fits its groups).
    """
    if m < N_TIERS:
        raise ValueError(f"{N_TIERS} tiers need at least {N_TIERS} groups, got {m}")
    mt = [max(1, round(m * s)) for s in TIER_SHARES[:-1]]
    mt.append(m - sum(mt))
    nt = [n * k // m for k in mt[:-1]]
    nt.append(n - sum(nt))
    return rng.permutation(np.repeat(np.arange(N_TIERS), nt)), np.repeat(np.arange(N_TIERS), mt)


def build_rules(kind: str, n: int, lo: int, hi: int, m: int | None,
                rng: np.random.Generator) -> tuple[dict, dict]:
    """``Problem`` keyword arguments of a rule kind, and what was built (for the checks)."""
    m_min = m if m is not None else -(-n // hi)
    if kind == "none":
        return {}, {}
    if kind in ("competitors", "heavy"):
        cls = cells(n, rng) if kind == "competitors" else heavy_cells(n, lo, m_min, rng)
        largest = int(np.bincount(cls).max())
        kwargs = {"group_sums": competitor_sums(cls)}
        if m is None:
            kwargs["min_groups"] = largest
        return kwargs, {"classes": cls, "largest_class": largest}
    if kind == "conflicts":
        pairs = rng.integers(0, n, (n, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        return {"cannot_link": pairs}, {"conflicts": len(pairs)}
    if kind == "tiers":
        tier, gt = tier_split(n, m_min, rng)
        return ({"allowed": tier[:, None] == gt[None, :], "n_groups": len(gt)},
                {"tiers": tier, "group_tiers": gt})
    raise ValueError(f"unknown rule kind {kind!r}")


# -- instances -------------------------------------------------------------------------------
def family(name: str) -> dict:
    for fam in FAMILIES:
        if fam["name"] == name:
            return fam
    raise KeyError(f"no family {name!r}; families: {', '.join(f['name'] for f in FAMILIES)}")


def instance_name(fam: dict, n: int, seed: int) -> str:
    return f"{fam['name']}_n{n}_s{seed}"


def build_instance(fam: dict, n: int, seed: int) -> tuple[Problem, dict]:
    """The ``Problem`` of a family at ``n`` and ``seed``, and what was built.

    The same ``(family, n, seed)`` always gives the same instance (its best known value is
    kept under :func:`instance_name`).
    """
    index = [f["name"] for f in FAMILIES].index(fam["name"]) if fam in FAMILIES else 99
    rng = np.random.default_rng([seed, n, index])
    lo, hi = fam["size"]
    fixed = fam["groups"] == "fixed"
    if fam["rules"] == "tiers" and not fixed:
        raise ValueError(f"family {fam['name']!r}: tiers need a fixed group count")
    m = group_count(n, lo, hi) if fixed else None
    A = AFFINITIES[fam["affinity"]](n, rng)
    kwargs, meta = build_rules(fam["rules"], n, lo, hi, m, rng)
    kwargs.setdefault("n_groups", m)
    problem = Problem(A, min_size=lo, max_size=hi, **kwargs)
    meta.update(name=instance_name(fam, n, seed), family=fam["name"], n=n, seed=seed)
    return problem, meta


def sub_problem(problem: Problem, rows: np.ndarray, m: int) -> Problem:
    """The rows of ``problem`` as a problem of their own with ``m`` groups (no allowed)."""
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    cl = pos[np.asarray(problem.cannot_link, dtype=np.int64).reshape(-1, 2)]
    sums = tuple(GroupSum(np.asarray(s.coef)[rows], s.lo, s.hi, s.name)
                 for s in problem.group_sums if np.count_nonzero(np.asarray(s.coef)[rows]))
    return Problem(problem.affinity[np.ix_(rows, rows)], min_size=problem.min_size,
                   max_size=problem.max_size, n_groups=m, cannot_link=cl[(cl >= 0).all(1)],
                   group_sums=sums)


def baseline_parts(problem: Problem, m: int) -> list[tuple]:
    """``(rows, groups, problem_arrays, share of the time)`` for each independent part.

    One part, unless allowed groups split the candidates into blocks (tiers): each block
    (rows with one allowed pattern, and the groups it allows) is then a part.
    """
    if problem.allowed is None:
        return [(np.arange(problem.n), np.arange(m), problem_arrays(problem, m), 1.0)]
    allowed = np.asarray(problem.allowed, dtype=bool)
    patterns, key = np.unique(allowed, axis=0, return_inverse=True)
    key = key.ravel()
    parts = []
    for k, pattern in enumerate(patterns):
        rows, groups = np.flatnonzero(key == k), np.flatnonzero(pattern)
        if allowed[np.ix_(key != k, groups)].any():
            raise ValueError("the allowed groups do not split the candidates into blocks")
        sub = sub_problem(problem, rows, len(groups))
        parts.append((rows, groups, problem_arrays(sub), len(rows) / problem.n))
    return parts


# -- contenders ------------------------------------------------------------------------------
_JOB: dict = {}  # set before the descent processes fork; read by _descent_process


def _descent_process(k: int) -> tuple[np.ndarray, int]:
    """One process of the multi-start baseline: every part with its share of the seconds."""
    parts, seconds, seed, n = _JOB["parts"], _JOB["seconds"], _JOB["seed"], _JOB["n"]
    labels = np.full(n, -1, dtype=np.int64)
    starts = 0
    for rows, groups, (A, m, lo, hi, cc, cl), share in parts:
        lab, _, info = plain_descent(A, m, lo, hi, conflict_class=cc, cannot_link=cl,
                                     seconds=seconds * share, seed=1000 * seed + k)
        labels[rows] = groups[lab]
        starts += info["starts"]
    return labels, starts


def run_descent(problem: Problem, m: int, seconds: float, seed: int, cores: int) -> dict:
    """The plain descent in ``cores`` processes at once, the best grouping counts."""
    parts = baseline_parts(problem, m)  # built before the clock starts
    _JOB.update(parts=parts, seconds=seconds, seed=seed, n=problem.n)
    t = time.perf_counter()
    if cores == 1:
        runs = [_descent_process(0)]
    else:
        with ProcessPoolExecutor(cores, mp_context=mp.get_context("fork")) as pool:
            runs = list(pool.map(_descent_process, range(cores)))
    wall = time.perf_counter() - t
    _JOB.clear()
    fixed = problem.with_groups(m)
    scores = [fixed.objective(lab) for lab, _ in runs]
    best = int(np.argmax(scores))
    return {"score": scores[best], "labels": runs[best][0], "wall": wall,
            "starts": sum(s for _, s in runs),
            "violations": len(violations(fixed, runs[best][0], m))}


def run_peermatch(problem: Problem, seconds: float, seed: int, cores: int) -> dict:
    t = time.perf_counter()
    res = solve(problem, time_limit=seconds, seed=seed, workers=cores,
                options={"threads": cores})
    wall = time.perf_counter() - t
    if res.labels is None:
        raise RuntimeError(f"peermatch found no grouping: {res.status} {res.message}")
    m = int(res.n_groups)
    fixed = problem.with_groups(m)
    return {"score": fixed.objective(res.labels), "labels": res.labels, "m": m,
            "method": res.method, "wall": wall,
            "violations": len(violations(fixed, res.labels, m))}


def warm_up() -> None:
    """Compile or load every kernel the suite uses, before any timed run."""
    rng = np.random.default_rng(0)
    A = _symmetric(rng.random((60, 60)))
    for kwargs in ({}, {"cannot_link": [(0, 1)]}):
        p = Problem(A, min_size=4, max_size=6, n_groups=12, **kwargs)
        solve(p, "local", time_limit=120, options={"max_iter": 5})
        solve(p, "local", time_limit=120, options={"max_iter": 50, "decompose": True})
    coef = np.zeros(60)
    coef[:3] = 1
    solve(Problem(A, min_size=4, max_size=6, n_groups=12, group_sums=(GroupSum(coef, hi=1),)),
          time_limit=120, options={"max_iter": 20})


# -- best known values -----------------------------------------------------------------------
BEST_FIELDS = ["instance", "family", "n", "seed", "best_known", "source", "seconds", "date"]


def read_best(path: Path | None) -> dict[str, dict]:
    if path is None or not Path(path).exists():
        return {}
    with open(path, newline="") as fh:
        return {r["instance"]: r for r in csv.DictReader(fh)}


def write_best(path: Path, best: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=BEST_FIELDS)
        out.writeheader()
        for name in sorted(best):
            out.writerow({k: best[name].get(k, "") for k in BEST_FIELDS})


def gap_pct(best: float, value: float) -> float:
    """``100 (best - value) / |best|``: how far below the best known (negative = above)."""
    return round(100.0 * (best - value) / abs(best), 4)


# -- the suite -------------------------------------------------------------------------------
def describe(problem: Problem, meta: dict) -> dict:
    """Design figures of an instance: negative share, largest competitor cell, rules."""
    A = problem.affinity
    off = ~np.eye(min(problem.n, 500), dtype=bool)
    corner = A[:500, :500][off]
    return {"negative_share": round(float((corner < 0).mean()), 3),
            "largest_class": meta.get("largest_class", 0),
            "cannot_link": len(problem.cannot_link), "tiers": "tiers" in meta}


def compare(fam: dict, n: int, seconds: float, seed: int, cores: int,
            best: dict[str, dict]) -> dict:
    """One row: peermatch and the descent on one instance, same seconds, same cores."""
    problem, meta = build_instance(fam, n, seed)
    pm = run_peermatch(problem, seconds, seed, cores)
    base = run_descent(problem, pm["m"], seconds, seed, cores)
    row = {"family": fam["name"], "n": n, "T_s": seconds, "seed": seed, "cores": cores,
           "sizes": "{}-{}".format(*fam["size"]), "groups": fam["groups"], "m": pm["m"],
           "pm_score": round(pm["score"], 4), "base_score": round(base["score"], 4),
           "margin_pct": round(100.0 * (pm["score"] - base["score"]) / abs(base["score"]), 3),
           "pm_viol": pm["violations"], "base_viol": base["violations"],
           "pm_method": pm["method"], "pm_wall_s": round(pm["wall"], 2),
           "base_wall_s": round(base["wall"], 2), "base_starts": base["starts"],
           **describe(problem, meta)}
    known = best.get(meta["name"])
    if known is not None:
        b = float(known["best_known"])
        row.update(best_known=round(b, 4), pm_gap_pct=gap_pct(b, pm["score"]),
                   base_gap_pct=gap_pct(b, base["score"]))
    return row


def record(fam: dict, n: int, seconds: float, seed: int, cores: int, k: float,
           best: dict[str, dict]) -> dict:
    """Both contenders with ``k`` times the seconds; keeps the best value in ``best``."""
    problem, meta = build_instance(fam, n, seed)
    long = k * seconds
    pm = run_peermatch(problem, long, seed, cores)
    base = run_descent(problem, pm["m"], long, seed, cores)
    name = meta["name"]
    old = float(best[name]["best_known"]) if name in best else -np.inf
    found = {"peermatch": pm, "descent": base}
    for who, r in found.items():
        if r["violations"] == 0 and r["score"] > old:
            old = r["score"]
            best[name] = {"instance": name, "family": fam["name"], "n": n, "seed": seed,
                          "best_known": round(r["score"], 6),
                          "source": f"{who}, {cores} cores, {long:g} s",
                          "seconds": long, "date": dt.date.today().isoformat()}
    return {"instance": name, "T_s": long, "pm_score": round(pm["score"], 4),
            "base_score": round(base["score"], 4), "pm_viol": pm["violations"],
            "base_viol": base["violations"], "best_known": round(old, 4)}


def summary(rows: list[dict]) -> list[dict]:
    """Per family: rows, median / min / max margin, violations, median gaps."""
    out = []
    for name in dict.fromkeys(r["family"] for r in rows):
        rs = [r for r in rows if r["family"] == name]
        m = [r["margin_pct"] for r in rs]
        s = {"family": name, "rows": len(rs), "median_margin_pct": round(float(np.median(m)), 3),
             "min_margin_pct": min(m), "max_margin_pct": max(m),
             "violations": sum(r["pm_viol"] + r["base_viol"] for r in rs)}
        for key in ("pm_gap_pct", "base_gap_pct"):
            gaps = [r[key] for r in rs if key in r]
            if gaps:
                s[f"median_{key}"] = round(float(np.median(gaps)), 4)
        out.append(s)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", nargs="+", default=None, metavar="NAME",
                    help="a subset of the families (default: all; --list names them)")
    ap.add_argument("--sizes", nargs="+", type=parse_size,
                    default=[parse_size(s) for s in DEFAULT_SIZES],
                    help=f"n:seconds pairs (default: {' '.join(DEFAULT_SIZES)})")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--cores", type=int, default=2,
                    help="processes of the descent, threads / workers of peermatch")
    ap.add_argument("--quick", action="store_true",
                    help=f"every family at {' '.join(QUICK_SIZES)} (about a minute)")
    ap.add_argument("--best-known", type=Path, default=None, metavar="FILE",
                    help="CSV of best known values: adds each contender's gap to it")
    ap.add_argument("--record-best", type=float, default=None, metavar="K",
                    help="run both K times longer and keep the best value per instance "
                         f"in --best-known (default file {DEFAULT_BEST.relative_to(HERE.parent)})")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "families.json")
    ap.add_argument("--list", action="store_true", help="print the families and exit")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = [parse_size(s) for s in QUICK_SIZES]
    if args.cores < 1:
        ap.error("--cores must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        for fam in FAMILIES:
            print(fam)
        return 0
    fams = [family(name) for name in args.families] if args.families else FAMILIES
    write_rows = _sibling("_report").write_rows
    warm_up()
    jobs = [(f, n, t, s) for n, t in args.sizes for f in fams for s in args.seeds]
    if args.record_best:
        path = args.best_known or DEFAULT_BEST
        best = read_best(path)
        rows = []
        for f, n, t, s in jobs:
            rows.append(record(f, n, t, s, args.cores, args.record_best, best))
            write_best(path, best)  # after every instance: a long run can be stopped
        write_rows(rows, args.out.with_name(args.out.stem + "_record.json"),
                   f"best known values, both contenders at {args.record_best:g}x the "
                   f"seconds, {args.cores} cores; kept in {path}")
        return 0
    best = read_best(args.best_known)
    rows = []
    for f, n, t, s in jobs:
        rows.append(compare(f, n, t, s, args.cores, best))
        print(f"{rows[-1]['family']:26s} n={n:<6d} {t:g} s seed {s}: margin "
              f"{rows[-1]['margin_pct']:+.3f} %", flush=True)
    write_rows(rows, args.out, f"programme families: peermatch.solve vs multi-start plain "
               f"descent, {args.cores} cores each, same seconds")
    print()
    write_rows(summary(rows), args.out.with_name(args.out.stem + "_summary.json"),
               "margin per family (%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
