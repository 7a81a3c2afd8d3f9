"""Helpers shared by the command-line tests."""

from __future__ import annotations

import peermatch as pm
from peermatch.cli import main


def run(argv, capsys):
    """``(exit code, stdout, stderr)`` of ``peermatch ARGV`` run in process."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def distinct_candidates(n, seed=0):
    """Candidates with no competitors and no conflicts unless a test adds them."""
    df = pm.synth_candidates(n, seed=seed)
    df["industry"] = [f"Ind{i}" for i in range(n)]
    df["conflicts"] = ""
    return df
