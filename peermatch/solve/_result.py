"""The result type shared by every solver method (scipy.optimize's OptimizeResult style)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import PeermatchWarning

__all__ = ["SolveResult", "STATUS_MESSAGES", "SolverOptionWarning"]

#: One table for every status a solver may report.
STATUS_MESSAGES: dict[str, str] = {
    "optimal": "An optimal grouping was found and proved optimal.",
    "feasible": "A grouping satisfying every hard rule was found; optimality is not proved "
                "(time limit or heuristic method).",
    "infeasible": "No grouping can satisfy the hard rules (proved).",
    "unknown": "No grouping was found within the time limit, and infeasibility is not proved.",
    "invalid": "The model is invalid.",
}


class SolveResult(dict):
    """Outcome of a solve, as a dict with attribute access.

    Attributes
    ----------
    labels : ndarray of shape (n,) of int
        0-based group of each element (``-1`` when no grouping was found).
    objective : float
        ``sum over i < j in the same group of A[i, j]`` (NaN without a grouping).
    status : str
        One of ``"optimal"``, ``"feasible"``, ``"infeasible"``, ``"unknown"``, ``"invalid"``.
    success : bool
        True when a grouping satisfying every hard rule is returned.
    message : str
        Human-readable explanation of ``status``.
    bound : float
        Proven upper bound on the objective, when the method gives one (else NaN).
    n_groups : int
        Number of groups used.
    method : str
        Method that produced the grouping.
    wall_time : float
        Seconds from the call to the return, model building included.
    reasons : list of str
        For ``"infeasible"``: the rules responsible, in plain words.
    plan : peermatch.solve.plan.Plan
        Which engines ran and why (``print(res.plan)``).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self.keys())) + 1
        lines = []
        for k, v in self.items():
            if isinstance(v, np.ndarray) and v.size > 12:
                v = np.array2string(v, threshold=12, edgeitems=4)
            lines.append(f"{k.rjust(width)}: {v}")
        return "\n".join(lines)

    def __dir__(self) -> list[str]:
        return list(self.keys())


class SolverOptionWarning(PeermatchWarning):
    """An option passed to :func:`peermatch.solve.solve` is unknown or ignored by the method."""
