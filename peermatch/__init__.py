"""peermatch: form balanced, non-competing, mutually inspiring peer advisory groups.

Candidates (a CSV or DataFrame) become feature vectors; a vectorized scoring core
says how mutually inspiring each pair is; OR-Tools CP-SAT and a compiled local
search split the candidates into groups that obey every hard rule.

>>> import peermatch as pm
>>> res = pm.match(pm.synth_candidates(30, seed=1), group_size=(5, 8), time_limit=1)
>>> res.success
True
"""

from __future__ import annotations

from .calendar import group_calendars, write_calendars
from .candidates import CandidateTable, read_candidates
from .datasets import example_path, load_example, synth_candidates
from .errors import (
    CandidatesError,
    ConfigError,
    DataWarning,
    InfeasibleError,
    PeermatchError,
    PeermatchWarning,
)
from .explain import explain_together
from .lifecycle import check_move, repair
from .match import match
from .pairs import accountability_pairs
from .problem import GroupSum, Problem
from .result import MatchResult
from .rules import Rules
from .scoring import Weights
from .solve import solve, solve_affinity  # binds the function over the subpackage name

__version__ = "0.1.0"

__all__ = [
    "CandidateTable", "read_candidates", "example_path", "load_example", "synth_candidates",
    "CandidatesError", "ConfigError", "DataWarning", "InfeasibleError", "PeermatchError",
    "PeermatchWarning", "match", "GroupSum", "Problem", "MatchResult", "Rules",
    "Weights", "solve", "solve_affinity", "__version__",
    "accountability_pairs", "group_calendars", "write_calendars", "repair", "check_move",
    "explain_together",
]

