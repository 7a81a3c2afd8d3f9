"""peermatch: form balanced, non-competing, mutually inspiring peer advisory groups.

Candidates (a CSV or DataFrame) become feature vectors; a vectorized scoring core
says how mutually inspiring each pair is; OR-Tools CP-SAT and a compiled local
search split the candidates into groups that obey every hard rule.

>>> import peermatch as pm
>>> res = pm.match(pm.synth_candidates(30, seed=1), min_size=5, max_size=8, time_limit=1)
>>> res.success
True

``import peermatch`` is cheap: the public names below are imported from their modules
on first use (pandas, scipy, OR-Tools and numba load only then), so the command line
prints ``--help`` and scripts start without paying for the solver.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

#: Public name -> module (relative to the package) that defines it.
_LAZY = {
    "CandidateTable": "candidates", "read_candidates": "candidates",
    "example_path": "datasets", "load_example": "datasets", "synth_candidates": "datasets",
    "CandidatesError": "errors", "ConfigError": "errors", "DataWarning": "errors",
    "InfeasibleError": "errors", "PeermatchError": "errors", "PeermatchWarning": "errors",
    "match": "match",
    "GroupSum": "problem", "Problem": "problem",
    "MatchResult": "result",
    "Rules": "rules", "Violation": "rules",
    "Weights": "scoring", "TextColumn": "features",
    "solve": "solve", "solve_affinity": "solve",
    "accountability_pairs": "pairs",
    "group_calendars": "calendar", "write_calendars": "calendar",
    "repair": "lifecycle", "check_move": "move",
    "explain_together": "explain",
    "read_grouping": "grouping", "Grouping": "grouping",
}

__all__ = [
    "CandidateTable", "read_candidates", "example_path", "load_example", "synth_candidates",
    "CandidatesError", "ConfigError", "DataWarning", "InfeasibleError", "PeermatchError",
    "PeermatchWarning", "match", "GroupSum", "Problem", "MatchResult", "Rules", "Violation",
    "Weights", "TextColumn", "solve", "solve_affinity", "__version__",
    "accountability_pairs", "group_calendars", "write_calendars", "repair", "check_move",
    "explain_together", "read_grouping", "Grouping",
]


def _load(name: str):
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    # Cache it: later look-ups are plain attribute reads.
    vars(sys.modules[__name__])[name] = value
    return value


def __getattr__(name: str):
    if name in _LAZY:
        return _load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """``peermatch.match`` and ``peermatch.solve`` name a function *and* a submodule.

    Importing a submodule sets it as an attribute of the package, which would hide the
    function of the same name (``pm.match`` would become the module ``peermatch.match``
    after anything imported it). These two properties keep the functions: the import
    system's assignment of the submodule is ignored (the module stays in ``sys.modules``).
    """

    @property
    def match(self):
        return _load("match") if "match" not in vars(self) else vars(self)["match"]

    @match.setter
    def match(self, value):
        if not isinstance(value, types.ModuleType):
            vars(self)["match"] = value

    @property
    def solve(self):
        return _load("solve") if "solve" not in vars(self) else vars(self)["solve"]

    @solve.setter
    def solve(self, value):
        if not isinstance(value, types.ModuleType):
            vars(self)["solve"] = value


sys.modules[__name__].__class__ = _Package
