"""MDGPLIB side by side: the authors' TPSDP (C++) and peermatch, same instance, same seconds.

    python benchmarks/tpsdp_peer.py [FILE ...] [--folder DIR] [--time-limit literature|S]
        [--seed 0] [--one-at-a-time] [--download] [--zip PATH] [--build-dir DIR]
        [--out benchmarks/results/tpsdp_peer.csv]

The peer is the three-phase search with dynamic population size of Yang et al. (2022,
EJOR 302(3)), in the C++ code its authors published: ``resource/TPSDP_Code.zip`` of the
GitHub repository ``toyamaailab/toyamaailab.github.io`` (one file, ``TPSDP.cpp``). It is
not part of peermatch and is never committed here. To get it:

* ``--download`` fetches the zip from GitHub into the build folder, or put the zip there
  yourself (``--zip PATH`` names another place);
* a C++ compiler (``g++``, or the one ``$CXX`` names) builds it into the build folder
  (default ``benchmarks/peers_build/``, ignored by git). The published ``main`` runs a
  fixed list of Windows paths, so it is renamed and a small driver (written by this
  script) calls the search on one instance: ``tpsdp INSTANCE SECONDS SEED`` prints the
  objective and the group of each element. TPSDP's limit is CPU time (``clock()``).

Without the zip or a compiler the script says so and exits (status 0): it is a benchmark,
not part of the tests.

For each instance (default: every ``*.txt`` of ``--folder``, which defaults to
``../shared/benchmarks/mdgplib`` beside the repository, as ``benchmarks/mdgplib.py``) both
run with the literature limit (3 s at n = 120, 20 s at 240, 120 s at 480, 600 s at 960) or
``--time-limit`` seconds: TPSDP in a child process and ``peermatch.solve(..., "local",
workers=1)`` in this one, at the same time, one core each (``--one-at-a-time`` runs them
one after the other). Both groupings are re-scored from the instance (sizes checked).
Writes one CSV row per instance and prints the mean gap to the best known value
(``BKS.csv`` of the instance folder) per (type, n).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from mdgplib import NAME, cpu_name, literature_limit, warm_up  # noqa: E402

from peermatch.mdgplib import read_best_known, read_instance, score  # noqa: E402
from peermatch.problem import Problem  # noqa: E402
from peermatch.solve import solve  # noqa: E402

ZIP_URL = ("https://github.com/toyamaailab/toyamaailab.github.io/raw/main/resource/"
           "TPSDP_Code.zip")
HOW_TO = (f"TPSDP peer skipped: {{why}}. To run it: download {ZIP_URL} into {{build}} "
          "(or pass --download, or --zip PATH), and have a C++ compiler (g++, or $CXX).")

# Our driver around the published search: its main() is renamed, this one runs one instance.
DRIVER = r"""
#define main tpsdp_published_main
#include "TPSDP.cpp"
#undef main
int main(int argc, char* argv[]) {
    if (argc < 4) { fprintf(stderr, "usage: tpsdp INSTANCE SECONDS SEED\n"); return 2; }
    File_Name = argv[1];
    Time_limit = atof(argv[2]);
    srand((unsigned) atoi(argv[3]));
    inputing();
    popSize = 15;
    AssignMemery();
    BuildNeighbors();
    SearchAlgorithm();
    if (!Proof(GS)) { fprintf(stderr, "no feasible grouping\n"); return 1; }
    printf("%.6f\n", GS.cost);
    for (int i = 0; i < N; i++) printf("%d\n", GS.p[i]);
    return 0;
}
"""


def build(build_dir: Path, zip_path: Path | None, download: bool) -> tuple[Path | None, str]:
    """Compile TPSDP into ``build_dir``; ``(binary, "")`` or ``(None, why it cannot)``."""
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / "tpsdp"
    zip_path = zip_path or build_dir / "TPSDP_Code.zip"
    if not zip_path.exists() and download:
        print(f"downloading {ZIP_URL}", flush=True)
        try:
            urllib.request.urlretrieve(ZIP_URL, zip_path)
        except OSError as exc:
            return None, f"the download failed ({exc})"
    if not zip_path.exists():
        return None, f"{zip_path} is missing"
    compiler = shutil.which(os.environ.get("CXX", "g++"))
    if compiler is None:
        return None, "no C++ compiler found"
    source = build_dir / "TPSDP.cpp"
    if binary.exists() and binary.stat().st_mtime >= zip_path.stat().st_mtime:
        return binary, ""
    with zipfile.ZipFile(zip_path) as zf:
        member = next((n for n in zf.namelist() if n.endswith("TPSDP.cpp")), None)
        if member is None:
            return None, f"{zip_path} holds no TPSDP.cpp"
        source.write_bytes(zf.read(member))
    (build_dir / "driver.cpp").write_text(DRIVER)
    cmd = [compiler, "-O3", "-std=c++11", "-w", "-o", str(binary), "driver.cpp"]
    done = subprocess.run(cmd, cwd=build_dir, capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"the build failed: {done.stderr.strip()[-500:]}"
    return binary, ""


def start_tpsdp(binary: Path, path: Path, seconds: float, seed: int) -> subprocess.Popen:
    return subprocess.Popen([str(binary), str(path), f"{seconds:g}", str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_tpsdp(proc: subprocess.Popen, n: int) -> np.ndarray | None:
    out, err = proc.communicate()
    lines = out.split()
    if proc.returncode != 0 or len(lines) != n + 1:
        print(f"  TPSDP failed (status {proc.returncode}): {err.strip()[-300:]}", flush=True)
        return None
    return np.array([int(x) for x in lines[1:]], dtype=np.int64)


def run_instance(binary: Path, path: Path, limit: float, seed: int, together: bool) -> dict:
    """TPSDP and peermatch on one instance; objectives re-scored here."""
    A, bounds = read_instance(path)
    n = len(A)
    t = time.perf_counter()
    proc = start_tpsdp(binary, path, limit, seed)
    if not together:
        tp_labels = finish_tpsdp(proc, n)
        tp_wall = time.perf_counter() - t
        t = time.perf_counter()
    res = solve(Problem(A, bounds=bounds), "local", time_limit=limit, seed=seed, workers=1)
    pm_wall = time.perf_counter() - t
    if together:
        tp_labels = finish_tpsdp(proc, n)
        tp_wall = time.perf_counter() - t
    tp = score(A, bounds, tp_labels) if tp_labels is not None else float("nan")
    return {"n": n, "m": len(bounds), "tpsdp": tp, "tpsdp_wall_s": tp_wall,
            "peermatch": score(A, bounds, res.labels), "peermatch_wall_s": pm_wall}


def report(rows: list[dict]) -> None:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        mt = NAME.match(r["instance"])
        key = (mt["type"], int(mt["n"])) if mt else (r["instance"], r["n"])
        groups.setdefault(key, []).append(r)
    print(f"\n{'type':8s} {'n':>5s} {'runs':>4s} {'TPSDP mean gap %':>16s} "
          f"{'peermatch mean gap %':>20s} {'peermatch wins':>14s}")
    for key in sorted(groups):
        g = [r for r in groups[key] if r["tpsdp_gap_pct"] == r["tpsdp_gap_pct"]]
        if not g:
            continue
        wins = sum(r["peermatch"] > r["tpsdp"] for r in g)
        print(f"{key[0]:8s} {key[1]:5d} {len(g):4d} "
              f"{np.mean([r['tpsdp_gap_pct'] for r in g]):16.3f} "
              f"{np.mean([r['peermatch_gap_pct'] for r in g]):20.3f} {wins:9d} of {len(g)}")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--folder", type=Path, default=ROOT.parent / "shared/benchmarks/mdgplib")
    ap.add_argument("--time-limit", default="literature")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--one-at-a-time", action="store_true",
                    help="run TPSDP, then peermatch (default: both at once, one core each)")
    ap.add_argument("--download", action="store_true", help=f"fetch {ZIP_URL}")
    ap.add_argument("--zip", type=Path, default=None)
    ap.add_argument("--build-dir", type=Path, default=HERE / "peers_build" / "tpsdp")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "tpsdp_peer.csv")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    binary, why = build(args.build_dir, args.zip, args.download)
    if binary is None:
        print(HOW_TO.format(why=why, build=args.build_dir))
        return 0
    files = args.files or sorted(args.folder.glob("*_n*_*s_*.txt"))
    if not files:
        print(f"no MDGPLIB instances in {args.folder}; name them or pass --folder")
        return 0
    bks_path = files[0].parent / "BKS.csv"
    bks = read_best_known(bks_path) if bks_path.exists() else {}
    warm_up()
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["instance", "n", "m", "time_limit", "seed", "best_known", "tpsdp",
              "tpsdp_gap_pct", "tpsdp_wall_s", "peermatch", "peermatch_gap_pct",
              "peermatch_wall_s", "together", "cpu"]
    with open(args.out, "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=fields)
        out.writeheader()
        for path in files:
            A_n = int(path.read_text().split(maxsplit=1)[0])
            limit = (literature_limit(A_n) if args.time_limit == "literature"
                     else float(args.time_limit))
            r = run_instance(binary, path, limit, args.seed, not args.one_at_a_time)
            best = bks.get(path.stem, float("nan"))
            row = {"instance": path.stem, "time_limit": limit, "seed": args.seed,
                   "best_known": best, "together": not args.one_at_a_time, "cpu": cpu_name(),
                   **r}
            for who in ("tpsdp", "peermatch"):
                row[f"{who}_gap_pct"] = round(100.0 * (best - r[who]) / best, 4)
                row[who] = round(r[who], 4)
                row[f"{who}_wall_s"] = round(r[f"{who}_wall_s"], 2)
            out.writerow(row)
            fh.flush()
            rows.append(row)
            print(f"{path.stem:24s} TPSDP {row['tpsdp']:14.3f} ({row['tpsdp_gap_pct']:7.3f} %)"
                  f"  peermatch {row['peermatch']:14.3f} ({row['peermatch_gap_pct']:7.3f} %)"
                  f"  {limit:g} s", flush=True)
    report(rows)
    print(f"\nseed={args.seed} time_limit={args.time_limit} cpu={cpu_name()} "
          f"(os.cpu_count()={os.cpu_count()}); results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
