"""The programme families side by side with anticlust's three-phase search (R).

    python benchmarks/anticlust_peer.py [--families NAME ...] [--sizes 1000:10]
        [--seeds 0] [--cores 2] [--iterations N] [--rscript Rscript] [--keep DIR]
        [--out benchmarks/results/anticlust_peer.json]
    python benchmarks/anticlust_peer.py --summarise benchmarks/results/anticlust_peer.json

The peer is ``three_phase_search_anticlustering`` of the R package anticlust (the
three-phase search with dynamic population size of Yang et al. 2022, in C behind R). It is
not part of peermatch. To get it: install R (``apt-get install r-base``, or
https://cran.r-project.org) and, in R, ``install.packages("anticlust")`` (version 0.8.8 or
later). Without CRAN, Debian has R and anticlust's dependencies (``apt-get install
r-base-core r-cran-matrix r-cran-rann r-cran-lpsolve``) and the package installs from its
source (https://github.com/m-Py/anticlust) with ``R CMD INSTALL <folder>``. Without
``Rscript`` or the package the script says so and exits (status 0): it is a benchmark, not
part of the tests.

For every instance of ``benchmarks/families.py`` (same families, sizes and seeds):

1. peermatch runs first (``solve`` with ``time_limit=seconds`` on ``--cores`` threads /
   workers); its group count and its exact group sizes are given to anticlust
   (``clusters=``), so both solve the same size pattern.
2. The instance is written as files anticlust can read: the n x n matrix as float64
   (``<name>.f64``) and ``<name>.json``. anticlust maximises the sum of within-group
   "distances" without rules, so every pair the rules keep apart (cannot-link pairs,
   two competitors of one cell, two candidates of different tiers) gets a large
   negative affinity (``-PENALTY x`` the largest |affinity| x the largest group), and the
   whole matrix is shifted to be non-negative. With the sizes fixed the shift adds the
   same constant to every grouping, so the order of groupings is unchanged.
3. anticlust has no time limit, only ``number_iterations``: timed runs (one
   iteration, a third of the seconds, then the count fitted for all of them) fit its
   time as ``a + b N`` (the first population is paid once), and the count is set so
   that a run fits the seconds (``--iterations`` sets it instead); the seconds it took
   are in the results. ``--cores`` runs start at once with different seeds; the best
   counts (one process per core, as for the descent).

Both groupings are scored on the original problem (``Problem.objective``) and checked by
``peermatch.solve.violations``; anticlust's groups are renumbered to fit the allowed
groups (tiers) first. Files go to a temporary folder (``--keep DIR`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _report import write_rows  # noqa: E402
from families import (  # noqa: E402
    DEFAULT_SIZES,
    FAMILIES,
    build_instance,
    family,
    parse_size,
    run_peermatch,
    warm_up,
)

from peermatch.problem import Problem  # noqa: E402
from peermatch.solve import violations  # noqa: E402

PENALTY = 10.0
HOW_TO = ("anticlust peer skipped: {why}. To run it: install R (apt-get install r-base, or "
          "https://cran.r-project.org), then in R: install.packages(\"anticlust\"); or, "
          "without CRAN, apt-get install r-base-core r-cran-matrix r-cran-rann r-cran-lpsolve "
          "and R CMD INSTALL the source of https://github.com/m-Py/anticlust.")

# Arguments: matrix file, n, sizes (comma-separated), iterations, seed, labels file.
R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(anticlust))
n <- as.integer(args[2])
x <- matrix(readBin(args[1], "double", n * n, size = 8, endian = "little"), n, n)
d <- as.dist(x)
rm(x)
sizes <- as.integer(strsplit(args[3], ",")[[1]])
set.seed(as.integer(args[5]))
t <- system.time(cl <- three_phase_search_anticlustering(
  d, K = length(sizes), N = n, objective = "diversity",
  number_iterations = as.integer(args[4]), clusters = sizes))[["elapsed"]]
writeLines(as.character(cl), args[6])
cat("elapsed", t, "\n")
"""


def peer_missing(rscript: str) -> str:
    """Why the peer cannot run, or "" when Rscript and anticlust are there."""
    exe = shutil.which(rscript)
    if exe is None:
        return f"{rscript!r} not found"
    done = subprocess.run([exe, "-e", 'quit(status = !requireNamespace("anticlust", '
                           'quietly = TRUE))'], capture_output=True, text=True)
    if done.returncode != 0:
        return "the R package anticlust is not installed"
    return ""


def apart(problem: Problem) -> np.ndarray:
    """``n x n`` bool: the pairs the rules keep apart (cannot-link, competitors, tiers)."""
    n = problem.n
    F = np.zeros((n, n), dtype=bool)
    cl = np.asarray(problem.cannot_link, dtype=np.int64).reshape(-1, 2)
    F[cl[:, 0], cl[:, 1]] = F[cl[:, 1], cl[:, 0]] = True
    for s in problem.group_sums:
        coef = np.asarray(s.coef)
        if not (np.all(np.asarray(s.hi) == 1) and np.all((coef == 0) | (coef == 1))):
            raise ValueError(f"group sum {s.name!r} is not 'at most one per group'; "
                             "anticlust has no way to express it")
        idx = np.flatnonzero(coef)
        F[np.ix_(idx, idx)] = True
    if problem.allowed is not None:
        patterns, key = np.unique(np.asarray(problem.allowed, bool), axis=0,
                                  return_inverse=True)
        share = (patterns.astype(np.int64) @ patterns.T.astype(np.int64)) > 0
        key = key.ravel()
        F |= ~share[key[:, None], key[None, :]]
    np.fill_diagonal(F, False)
    return F


def write_instance(folder: Path, name: str, problem: Problem, sizes: np.ndarray) -> dict:
    """``<name>.f64`` (penalised, shifted affinity) and ``<name>.json``; returns the json."""
    A = np.asarray(problem.affinity, dtype=np.float64)
    scale = float(np.abs(A).max()) or 1.0
    penalty = PENALTY * scale * int(sizes.max())
    D = A - penalty * apart(problem)
    shift = max(0.0, -float(D.min()))
    D += shift
    np.fill_diagonal(D, 0.0)
    D.astype("<f8").tofile(folder / f"{name}.f64")
    meta = {"name": name, "n": problem.n, "sizes": sizes.tolist(), "penalty": penalty,
            "shift": shift, "matrix": f"{name}.f64", "layout": "float64 little-endian n x n"}
    (folder / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def run_r(rscript: str, folder: Path, meta: dict, iterations: int,
          seeds: list[int]) -> list[tuple[np.ndarray | None, float]]:
    """One R process per seed, all at once; ``(labels 0..K-1, seconds inside R)`` each."""
    script = folder / "three_phase.R"
    script.write_text(R_SCRIPT)
    sizes = ",".join(map(str, meta["sizes"]))
    procs = []
    for s in seeds:
        out = folder / f"{meta['name']}_labels_{s}.txt"
        cmd = [rscript, str(script), str(folder / meta["matrix"]), str(meta["n"]), sizes,
               str(iterations), str(s), str(out)]
        procs.append((out, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)))
    results = []
    for out, proc in procs:
        stdout, stderr = proc.communicate()
        if proc.returncode != 0 or not out.exists():
            print(f"  anticlust failed: {stderr.strip()[-300:]}", flush=True)
            results.append((None, float("nan")))
            continue
        elapsed = float(stdout.split("elapsed")[-1].split()[0])
        results.append((np.loadtxt(out, dtype=np.int64).reshape(-1) - 1, elapsed))
    return results


def fit_allowed(problem: Problem, labels: np.ndarray, m: int) -> np.ndarray:
    """Renumber the groups so that each goes to a group all its members may join."""
    if problem.allowed is None:
        return labels
    allowed = np.asarray(problem.allowed, dtype=bool)
    options = {k: np.flatnonzero(allowed[labels == k].all(axis=0)) for k in range(m)}
    target = np.full(m, -1, dtype=np.int64)
    used = np.zeros(m, dtype=bool)
    for k in sorted(options, key=lambda k: len(options[k])):
        free = options[k][~used[options[k]]]
        if len(free):
            target[k] = free[0]
            used[free[0]] = True
    rest = iter(np.flatnonzero(~used))
    for k in np.flatnonzero(target < 0):  # no fit: the violation is counted
        target[k] = next(rest)
    return target[labels]


def fit_iterations(args, inst: dict, seconds: float, seed: int) -> int:
    """anticlust's ``number_iterations`` for a run of about ``seconds``.

    Its time is about ``a + b N``: the first population (``beta_max`` constructions and
    descents) is paid once, and the population then shrinks to ``beta_min`` whatever
    ``N`` is. One iteration alone puts ``a`` into ``b`` and gives about half the seconds,
    and the cost per iteration falls a little as ``N`` grows (and varies from run to
    run), so the line is fitted through two runs: about a third of the budget, and the
    count that line predicts for the whole budget; the count is then corrected along
    the line through those two.
    """
    def timed(count: int) -> float:
        (_, t), = run_r(args.rscript, args.folder, inst, count, [seed])
        return t

    t1 = timed(1)
    n2 = max(3, int(seconds / (3 * max(t1, 1e-3))))
    t2 = timed(n2)
    while t2 < seconds / 6 and n2 < 10 ** 6:  # too short to measure the slope
        n2 *= 3
        t2 = timed(n2)
    b = max((t2 - t1) / (n2 - 1), 1e-6)
    n3 = max(n2 + 2, int(n2 + (seconds - t2) / b))
    t3 = timed(n3)
    b = max((t3 - t2) / (n3 - n2), (t3 - t1) / (4 * (n3 - 1)), 1e-6)
    return max(1, int(round(n3 + (seconds - t3) / b)))


def compare(fam: dict, n: int, seconds: float, seed: int, args) -> dict:
    problem, meta = build_instance(fam, n, seed)
    pm = run_peermatch(problem, seconds, seed, args.cores)
    m = pm["m"]
    fixed = problem.with_groups(m)
    sizes = np.bincount(pm["labels"], minlength=m)
    inst = write_instance(args.folder, meta["name"], problem, sizes)
    iterations = args.iterations
    if iterations is None:
        iterations = fit_iterations(args, inst, seconds, seed)
    seeds = [1000 * seed + k for k in range(args.cores)]
    t = time.perf_counter()
    runs = run_r(args.rscript, args.folder, inst, iterations, seeds)
    wall = time.perf_counter() - t
    fitted = [(fit_allowed(problem, lab, m), s) for lab, s in runs if lab is not None]
    scored = [(fixed.objective(lab), lab, s) for lab, s in fitted]
    if not scored:
        raise RuntimeError(f"anticlust gave no grouping for {meta['name']}")
    score, labels, r_secs = max(scored, key=lambda x: x[0])
    return {"family": fam["name"], "n": n, "T_s": seconds, "seed": seed, "cores": args.cores,
            "m": m, "pm_score": round(pm["score"], 4), "anticlust_score": round(score, 4),
            "margin_pct": round(100.0 * (pm["score"] - score) / abs(score), 3),
            "pm_viol": pm["violations"], "anticlust_viol": len(violations(fixed, labels, m)),
            "anticlust_runs": " ".join(f"{v:.4f}" for v, _, _ in scored),
            "anticlust_iterations": iterations, "anticlust_r_s": round(r_secs, 2),
            "anticlust_wall_s": round(wall, 2), "pm_wall_s": round(pm["wall"], 2),
            "pairs_apart": int(apart(problem).sum() // 2)}


def summary(rows: list[dict]) -> list[dict]:
    """Per family and size: median / min / max margin, and anticlust's own spread.

    The spread is how far apart anticlust's parallel runs on one instance ended (best
    minus worst, in per cent of the best), the run-to-run noise a margin is read against.
    """
    out = []
    for key in dict.fromkeys((r["family"], r["n"], r["T_s"]) for r in rows):
        rs = [r for r in rows if (r["family"], r["n"], r["T_s"]) == key]
        m = [r["margin_pct"] for r in rs]
        spread = []
        for r in rs:
            runs = [float(v) for v in str(r.get("anticlust_runs", "")).split()]
            if len(runs) > 1:
                spread.append(100.0 * (max(runs) - min(runs)) / abs(max(runs)))
        out.append({"family": key[0], "n": key[1], "T_s": key[2], "rows": len(rs),
                    "median_margin_pct": round(float(np.median(m)), 3),
                    "min_margin_pct": min(m), "max_margin_pct": max(m),
                    "anticlust_spread_pct": (round(float(np.median(spread)), 3)
                                             if spread else None),
                    "anticlust_r_s": round(float(np.median([r["anticlust_r_s"] for r in rs])), 2),
                    "violations": sum(r["pm_viol"] + r["anticlust_viol"] for r in rs)})
    return out


def summary_path(out: Path) -> Path:
    return out.with_name(out.stem + "_summary.json")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", nargs="+", default=None, metavar="NAME")
    ap.add_argument("--sizes", nargs="+", type=parse_size,
                    default=[parse_size(s) for s in DEFAULT_SIZES[:1]])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=None,
                    help="anticlust's number_iterations (default: fitted to the seconds)")
    ap.add_argument("--rscript", default="Rscript")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="write the instance files here and keep them")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "anticlust_peer.json")
    ap.add_argument("--summarise", type=Path, default=None, metavar="FILE",
                    help="only write the per-family summary of an earlier results file")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.summarise is not None:
        rows = json.loads(args.summarise.read_text())
        write_rows(summary(rows), summary_path(args.summarise), "anticlust peer, per family")
        return 0
    why = peer_missing(args.rscript)
    if why:
        print(HOW_TO.format(why=why))
        return 0
    args.rscript = shutil.which(args.rscript)
    fams = [family(name) for name in args.families] if args.families else FAMILIES
    warm_up()
    with tempfile.TemporaryDirectory(prefix="anticlust_peer_") as tmp:
        args.folder = args.keep or Path(tmp)
        args.folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for n, t in args.sizes:
            for f in fams:
                for s in args.seeds:
                    rows.append(compare(f, n, t, s, args))
                    print(f"{f['name']:26s} n={n:<6d} {t:g} s seed {s}: margin over "
                          f"anticlust {rows[-1]['margin_pct']:+.3f} %", flush=True)
    write_rows(rows, args.out, f"programme families: peermatch.solve vs anticlust "
               f"three_phase_search_anticlustering, {args.cores} cores each")
    write_rows(summary(rows), summary_path(args.out), "anticlust peer, per family")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
