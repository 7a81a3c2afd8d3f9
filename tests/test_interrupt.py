"""Child-process tests: Ctrl-C (a real SIGINT) stops any stage and keeps the best
grouping; a read-only install still runs.

The children run in subprocesses so that a signal arriving late can never interrupt the
test session itself, and so that numba's configuration is decided afresh.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd

import peermatch as pm

from .test_chair_cli import CHILD_MATCH  # match that says when its solve starts
from .validator import violations as csv_violations

CHILD_CPSAT = textwrap.dedent("""
    import json, sys, threading, os, signal
    import numpy as np
    from peermatch.problem import Problem
    from peermatch.solve import solve
    rng = np.random.default_rng(0)
    A = rng.random((80, 80)); A = A + A.T; np.fill_diagonal(A, 0)
    p = Problem(A, min_size=8, max_size=8, n_groups=10)
    print("ready", flush=True)
    res = solve(p, "exact", time_limit=60, seed=0)  # CP-SAT alone, no local search
    print(json.dumps({"wall": res.wall_time, "interrupted": bool(res.get("interrupted")),
                      "threads": [t.name for t in threading.enumerate()]}), flush=True)
""")




def _interrupt_after(proc: subprocess.Popen, marker: str, delay: float) -> None:
    """Wait for ``marker`` on the child's stdout, then ``delay`` seconds, then SIGINT."""
    for line in proc.stdout:
        if marker in line:
            break
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)


def test_ctrl_c_stops_a_cpsat_solve_without_crashing():
    """CP-SAT's own SIGINT handler used to abort the process; now the solve stops."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD_CPSAT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _interrupt_after(proc, "ready", 3.0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    info = json.loads(out.strip().splitlines()[-1])
    assert info["interrupted"]
    assert info["wall"] < 0.5 * 60  # the solver's own record: stopped, not run to its limit
    assert info["threads"] == ["MainThread"]  # no solver thread left behind


def test_ctrl_c_during_match_writes_the_best_grouping(tmp_path):
    """``peermatch match`` of 2,000 candidates with 60 s, interrupted after a few seconds:
    a valid grouping is written and the summary says it was interrupted."""
    df = pm.synth_candidates(2000, seed=21)
    src = tmp_path / "candidates.csv"
    df.to_csv(src, index=False)
    out, summary = tmp_path / "groups.csv", tmp_path / "summary.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_MATCH, "match", str(src), "--out", str(out),
         "--summary", str(summary), "--min-size", "8", "--max-size", "12",
         "--time-limit", "60", "--seed", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    _interrupt_after(proc, "solving", 3.0)  # the sub-problems' search is under way
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, text[-2000:]  # interrupted, as command-line tools say
    s = json.loads(summary.read_text())
    assert s["solver"]["interrupted"] is True
    # it stopped where it was told to: its own record shows most of the budget unused
    assert s["timings"]["solve"] < 0.75 * 60
    groups = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert csv_violations(df.astype(str), groups, 8, 12) == []


CHILD_READ_ONLY = textwrap.dedent("""
    import tempfile
    def refuse(*a, **k):
        raise PermissionError("read-only")
    tempfile.TemporaryFile = refuse  # no folder anywhere accepts a file
    import numpy as np
    from peermatch import _jitcfg
    from peermatch.solve import _kernels as K  # defining the kernels must not fail
    p = np.array([0, 0, 1, 1])
    A = np.ones((4, 4)) - np.eye(4)
    print(_jitcfg.CACHE, _jitcfg.cache_dir(), K.objective(A, p))
""")


def test_kernels_compile_in_memory_when_nothing_is_writable():
    """A read-only install on a read-only system: numba refuses ``cache=True`` without a
    writable folder, so the kernels are defined without the disk cache and still run."""
    res = subprocess.run([sys.executable, "-c", CHILD_READ_ONLY], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["False", "None", "2.0"]
