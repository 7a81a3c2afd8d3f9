"""Solvers for the grouping problem: one entry point, several methods, one result type.

``solve(problem, method=...)`` dispatches to the exact CP-SAT model, the compiled local
search, or the hybrid of both; ``solve_affinity(A, ...)`` builds the problem from a bare
affinity matrix. Heavy dependencies (numba kernels, OR-Tools) load on first use.
"""

from ._prep import violations
from ._result import STATUS_MESSAGES, SolveResult, SolverOptionWarning
from ._solve import METHODS, solve, solve_affinity

__all__ = ["solve", "solve_affinity", "violations", "SolveResult", "STATUS_MESSAGES",
           "SolverOptionWarning", "METHODS"]
