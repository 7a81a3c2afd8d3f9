"""Start-up time: ``import peermatch`` and ``peermatch --help``, in fresh processes.

    python benchmarks/startup.py --out benchmarks/results/startup.json
    python benchmarks/startup.py --baseline /tmp/peermatch-before   # also time another tree

Each case runs ``--repeats`` times in a new interpreter (after one untimed run that
writes the byte-code caches); the figure is the median wall time of the whole process,
interpreter start included, with the bare interpreter (``python -c pass``) as the floor.
Every case also records which heavy libraries it loaded (pandas, scipy, OR-Tools, numba,
the solver): ``import peermatch`` and ``--help`` should load none of them.

``--baseline PATH`` times the same cases for the peermatch package under PATH (a checkout
of another revision, e.g. ``git worktree add /tmp/before HEAD~1``), with the same
interpreter, interleaved with the current tree's runs so that machine load hits both.
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

#: Modules that ``import peermatch`` and ``--help`` must not load.
HEAVY = ("pandas", "scipy", "ortools", "numba", "networkx", "peermatch.solve",
         "peermatch.match")


#: name -> (python code, what it is); every case runs as ``python -c CODE``.
CASES = {
    "python -c pass": ("pass", "the bare interpreter: the floor of every case"),
    "import peermatch": ("import peermatch", "the package and its public names (lazy)"),
    "peermatch --help": (
        "import sys; sys.argv = ['peermatch', '--help']\n"
        "from peermatch.cli import run\nrun()",
        "what the console script runs (from peermatch.cli import run; run())"),
    "python -m peermatch --help": (None, "the same through -m"),
    "import peermatch; pm.match": (
        "import peermatch as pm; pm.match",
        "first use of the API: pandas, scipy, OR-Tools and the solver load here"),
}


def _argv(name: str) -> list[str]:
    code = CASES[name][0]
    if code is None:
        return [sys.executable, "-m", "peermatch", "--help"]
    return [sys.executable, "-c", code]


def _env(root: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env


def _once(argv: list[str], root: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=root, env=_env(root), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _loaded(name: str, root: Path) -> list[str]:
    """Heavy modules the case leaves in ``sys.modules``."""
    code = CASES[name][0]
    if code is None:  # -m: same modules as the console-script case
        code = CASES["peermatch --help"][0]
    probe = ("import atexit, sys\n"
             f"atexit.register(lambda: print('LOADED', *[m for m in {HEAVY!r} "
             "if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", probe + code], cwd=root, env=_env(root),
                         capture_output=True, text=True, check=False)
    last = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED")]
    return last[-1].split()[1:] if last else ["?"]


def measure(roots: dict[str, Path], repeats: int) -> list[dict]:
    times: dict[tuple[str, str], list[float]] = {}
    for root in roots.values():
        for name in CASES:
            _once(_argv(name), root)  # byte-code caches, file-system cache
    for _ in range(repeats):
        for name in CASES:
            for tree, root in roots.items():  # interleaved: load hits every tree alike
                times.setdefault((tree, name), []).append(_once(_argv(name), root))
    rows = []
    for tree, root in roots.items():
        for name, (_, what) in CASES.items():
            t = times[(tree, name)]
            rows.append({
                "tree": tree, "case": name, "median_s": round(statistics.median(t), 4),
                "min_s": round(min(t), 4), "max_s": round(max(t), 4), "repeats": len(t),
                "heavy_modules_loaded": _loaded(name, root), "what": what,
            })
    return rows


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=21, help="runs per case (default 21)")
    ap.add_argument("--baseline", metavar="PATH", default=None,
                    help="also time the peermatch package under PATH (another checkout)")
    ap.add_argument("--baseline-label", default="baseline",
                    help="name of the --baseline tree in the output (default 'baseline')")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "startup.json"))
    args = ap.parse_args(argv)
    roots = {"current": ROOT}
    if args.baseline:
        roots[args.baseline_label] = Path(args.baseline).resolve()
    load_before = _load()
    rows = measure(roots, args.repeats)
    load = [load_before, _load()]
    meta = {
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "platform": platform.platform(),
        "load_average_before_after": load,
        "targets_s": {"import peermatch": 0.5, "peermatch --help": 0.3},
    }
    print(f"start-up, median of {args.repeats} fresh processes; python {meta['python']}, "
          f"{meta['cpus']} x {meta['machine']}, load average before/after {load}")
    print(f"{'tree':<10} {'case':<28} {'median':>8} {'min':>8} {'max':>8}  heavy modules loaded")
    for r in rows:
        print(f"{r['tree']:<10} {r['case']:<28} {r['median_s']:>7.3f}s {r['min_s']:>7.3f}s "
              f"{r['max_s']:>7.3f}s  {' '.join(r['heavy_modules_loaded']) or '-'}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
