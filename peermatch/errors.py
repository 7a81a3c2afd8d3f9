"""Exceptions and warnings raised by peermatch.

Every public exception refines a builtin, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "PeermatchError",
    "CandidatesError",
    "ConfigError",
    "InfeasibleError",
    "OutputError",
    "PeermatchWarning",
    "DataWarning",
]


class PeermatchError(Exception):
    """Base class of every error peermatch raises on purpose."""


class CandidatesError(PeermatchError, ValueError):
    """The candidates table cannot be used as it is.

    The message names the file, the line (1-based, the header is line 1), the
    column, the offending value, what was expected and how to fix it.

    Examples
    --------
    >>> import pandas as pd, peermatch as pm
    >>> try:
    ...     pm.read_candidates(pd.DataFrame({"id": ["a"]}))
    ... except pm.CandidatesError as exc:
    ...     print("industry" in str(exc))
    True
    """


class ConfigError(PeermatchError, ValueError):
    """A parameter, weight or rule setting is invalid (wrong type, range or combination)."""


class InfeasibleError(PeermatchError, ValueError):
    """No grouping was found: the hard rules cannot be met, or not within the time limit.

    Raised by :meth:`MatchResult.raise_for_status
    <peermatch.result.MatchResult.raise_for_status>` (``match`` itself returns a result
    with ``status`` and ``reasons`` instead); the command line exits 3 on it.
    ``reasons`` holds one plain-language sentence per rule that makes the problem
    infeasible, each saying what to relax.
    """

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.reasons = list(reasons or [])


class OutputError(PeermatchError, OSError):
    """An output file (groups, summary, report) cannot be written where asked."""


class PeermatchWarning(UserWarning):
    """Base class of peermatch's warnings."""


class DataWarning(PeermatchWarning):
    """The input was usable but something in it was repaired or guessed (e.g. encoding)."""
