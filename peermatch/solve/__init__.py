"""Solvers for the grouping problem: one entry point, several methods, one result type.

``solve(problem, method=...)`` dispatches to the exact CP-SAT model, the compiled local
search, or the hybrid of both; ``solve_affinity(A, ...)`` builds the problem from a bare
affinity matrix. :func:`peermatch.solve.plan.plan` says, without solving, which engines a
call runs (``print(solve(...).plan)``). Heavy dependencies (numba kernels, OR-Tools) load
on first use.
"""

from ._prep import violations
from ._result import STATUS_MESSAGES, SolveResult, SolverOptionWarning
from ._solve import solve, solve_affinity
from .outcome import Outcome
from .plan import METHODS, Plan

__all__ = ["solve", "solve_affinity", "violations", "SolveResult", "STATUS_MESSAGES",
           "SolverOptionWarning", "METHODS", "Plan", "Outcome"]
