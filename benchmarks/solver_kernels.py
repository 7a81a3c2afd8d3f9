"""Local-search kernel speed: numpy-vectorised vs numba, in swap evaluations per second.

Both evaluate the full swap neighbourhood ``gain(i, j) = W[i, p(j)] - W[i, p(i)] +
W[j, p(i)] - W[j, p(j)] - 2 A[i, j]`` from the maintained ``W = A Z`` (best-improvement
scan, as one iteration of the tabu search does). numpy builds the (n, n) gain matrix with
fancy indexing; numba loops over pairs without temporaries.

Usage: ``python benchmarks/solver_kernels.py [--n 120 240 480 1000] [--m 10]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def numpy_scan(A, W, p):
    n = len(p)
    Wp = W[np.arange(n), p]                        # W[i, p(i)]
    Wx = W[:, p]                                   # Wx[i, j] = W[i, p(j)]
    gain = Wx - Wp[:, None] + Wx.T - Wp[None, :] - 2 * A
    gain[p[:, None] == p[None, :]] = -np.inf
    return gain.max()


def main(argv=None) -> int:
    from peermatch.solve._kernels import swap_scan_rate

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[120, 240, 480, 1000])
    ap.add_argument("--m", type=int, default=10)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    swap_scan_rate(np.zeros((4, 4)), np.array([0, 0, 1, 1]), 2, 1)  # compile
    print(f"{'n':>6s} {'numpy swaps/s':>15s} {'numba swaps/s':>15s} {'speed-up':>9s}")
    for n in args.n:
        A = rng.random((n, n))
        A = (A + A.T) / 2
        np.fill_diagonal(A, 0)
        p = rng.integers(0, args.m, n)
        Z = np.zeros((n, args.m))
        Z[np.arange(n), p] = 1
        W = A @ Z
        pairs = n * (n - 1) / 2
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < 1.0:
            numpy_scan(A, W, p)
            reps += 1
        r_np = reps * pairs / (time.perf_counter() - t)
        rounds = max(1, int(2e8 / pairs))
        t = time.perf_counter()
        swap_scan_rate(A, p, args.m, rounds)
        r_nb = rounds * pairs / (time.perf_counter() - t)
        print(f"{n:6d} {r_np:15.3g} {r_nb:15.3g} {r_nb / r_np:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
