"""One state of a session, read and scored: what every page and action of the workbench
works on.

A :class:`Workspace` holds the candidates table, the grouping of the state re-scored by
:func:`peermatch.report.from_grouping` (the function behind ``peermatch report``) and
that grouping as a :class:`~peermatch.grouping.Grouping`. It *holds a grouping* in the
sense of :func:`peermatch.read_grouping`: its :meth:`Workspace.as_grouping` hands out the
grouping it has already scored and compiled, so :func:`peermatch.check_move` (behind
``peermatch move``), :func:`peermatch.accountability_pairs` and
:func:`peermatch.write_calendars` take the workspace itself, and a move check costs a
rule check, not a re-read of the table.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import CandidatesError, ConfigError
from .settings import rules_of, weights_of
from .state import State

__all__ = ["Workspace", "read_table", "problem_rows", "TableErrors"]

_WHERE = re.compile(r"^(?P<file>.*?)(?:, line (?P<line>\d+)(?: \(row \d+\))?)?"
                    r"(?:, columns? (?P<column>'[^']*'(?:(?:, | and )'[^']*')*))?"
                    r": (?P<message>.*)$", re.S)


class TableErrors(CandidatesError):
    """A file that cannot be read as candidates: the reader's error, named after the file
    as the user knows it, with ``rows``: one dict per problem (``line``, ``column``,
    ``message``), as :func:`problem_rows` splits them."""

    def __init__(self, message: str, rows: list[dict]) -> None:
        super().__init__(message)
        self.rows = rows
        self.problems = [r["message"] for r in rows]


def problem_rows(exc: CandidatesError) -> list[dict]:
    """One row per problem of a :class:`~peermatch.CandidatesError`: the file's line and
    the column when the message names them (as ``peermatch validate`` prints them).

    >>> err = CandidatesError("x.csv: 2 problems")
    >>> err.problems = ["x.csv, line 3, column 'employees': value 'abc' is not a number."]
    >>> problem_rows(err)
    [{'line': '3', 'column': 'employees', 'message': "value 'abc' is not a number."}]
    """
    out = []
    for text in getattr(exc, "problems", None) or [str(exc)]:
        m = _WHERE.match(text)
        if m and (m["line"] or m["column"]):
            out.append({"line": m["line"] or "",
                        "column": (m["column"] or "").replace("'", ""),
                        "message": m["message"]})
        else:
            out.append({"line": "", "column": "", "message": text})
    return out


def read_table(data: bytes, file_name: str, columns: dict | None = None):
    """The candidates table of a file's bytes, read by :func:`peermatch.read_candidates`
    (the reader of every command) and named ``file_name`` in every message.

    Returns
    -------
    (CandidateTable, list of str)
        The table and the warnings the reader gave (e.g. the text encoding it guessed).

    Raises
    ------
    TableErrors
        The problems of the file, one row each; ``ConfigError`` for a bad column mapping.
    """
    from ..candidates import read_candidates

    name = Path(file_name).name
    if name in ("", ".", ".."):  # an uploaded name is the browser's word: a plain name only
        name = "candidates.csv"
    with tempfile.TemporaryDirectory(prefix="peermatch-app-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                table = read_candidates(path, columns=columns or None)
        except CandidatesError as exc:
            exc.problems = [p.replace(str(path), file_name)
                            for p in (getattr(exc, "problems", None) or [str(exc)])]
            raise TableErrors(str(exc).replace(str(path), file_name), problem_rows(exc)) \
                from None
    notes = [str(w.message).replace(str(path), file_name) for w in caught]
    return replace(table, source=file_name), notes


class Workspace:
    """The table and one state of a session, with its grouping scored and checked.

    Parameters
    ----------
    table : CandidateTable
        The session's candidates (as read, with their own ``group`` column if any).
    state : State
        The grouping shown (``state.groups`` None: no grouping yet).
    settings : dict
        The session's settings (see :mod:`peermatch.app.settings`).
    """

    def __init__(self, table, state: State, settings: dict) -> None:
        from ..grouping import with_groups
        from ..report import from_grouping

        self.table, self.state, self.settings = table, state, settings
        m = settings["match"]
        self.lo, self.hi = int(m["min_size"]), int(m["max_size"])
        self.weights = weights_of(settings)
        # locked groups are a rule like any other: a move into or out of one is refused
        # by the rule check, in the rule's own words
        self.rules = rules_of(settings, locked=state.locked)
        self.result = self.grouping = None
        if state.groups is not None:
            grouped = with_groups(table, state.groups)
            self.result = from_grouping(grouped, weights=self.weights, rules=self.rules,
                                        min_size=self.lo, max_size=self.hi)
            self.grouping = self.result.as_grouping(min_size=self.lo, max_size=self.hi)

    def as_grouping(self, *, min_size: int | None = None, max_size: int | None = None):
        """The grouping this workspace holds (what :func:`peermatch.read_grouping` asks
        a result for), already scored and compiled."""
        if self.grouping is None:
            raise ConfigError("There is no grouping yet: run the solver first.")
        if (min_size, max_size) in ((None, None), (self.lo, self.hi)):
            return self.grouping
        return self.result.as_grouping(min_size=min_size, max_size=max_size)

    # -- checks before a change ----------------------------------------------------------
    def check_move(self, member: str, group: str) -> dict:
        """What moving ``member`` into ``group`` does: :func:`peermatch.check_move`, the
        check of ``peermatch move``, as its ``--json`` prints it."""
        from ..move import check_move

        return check_move(self, member, group).to_dict()

    def check_swap(self, a: str, b: str) -> dict:
        """What swapping members ``a`` and ``b`` does, with the checks of
        :func:`peermatch.check_move` (the grouping's rule check, both moves at once)."""
        from ..explain import shown_change

        G = self.as_grouping()
        i, j = G.member(a), G.member(b)
        gi, gj = int(G.labels[i]), int(G.labels[j])
        if gi == gj:
            raise ConfigError(f"{G.ids[i]} and {G.ids[j]} are both in group {G.names[gi]}.")
        lab = G.moved((i, gj), (j, gi))
        breaks, fixes = G.new_violations(lab), G.fixed_violations(lab)
        before, after = G.score(), G.score(lab)
        b0, b1, diff = shown_change(before, after, thousands=True)
        lines = [f"Swapping {G.who(i)} (group {G.names[gi]}) and {G.who(j)} (group "
                 f"{G.names[gj]}):", "  keeps every hard rule." if not breaks else
                 f"  breaks {len(breaks)} hard rule{'s' if len(breaks) != 1 else ''}:"]
        lines += [f"    - {v}" for v in breaks]
        lines += [f"  mends: {v}" for v in fixes]
        lines.append(f"  score {b0} -> {b1} ({'+' if after >= before else '-'}{diff}).")
        return {"a": G.ids[i], "b": G.ids[j], "from": G.names[gi], "to": G.names[gj],
                "ok": not breaks, "breaks": breaks, "fixes": fixes,
                "score_before": round(before, 6), "score_after": round(after, 6),
                "score_delta": round(after - before, 6), "text": "\n".join(lines)}

    # -- changes -------------------------------------------------------------------------
    def moved(self, member: str, group: str) -> list[str]:
        """The state's group names with ``member`` in ``group``."""
        G = self.as_grouping()
        names = list(self.state.groups)
        names[G.member(member)] = G.names[G.group(group)]
        return names

    def swapped(self, a: str, b: str) -> list[str]:
        """The state's group names with ``a`` and ``b`` swapped."""
        G = self.as_grouping()
        i, j = G.member(a), G.member(b)
        names = list(self.state.groups)
        names[i], names[j] = names[j], names[i]
        return names

    def explain(self, member: str) -> str:
        """Why ``member`` is in their group: the text of ``peermatch explain``."""
        from ..explain import explain_result

        return explain_result(self.result, self.as_grouping().member(member)).to_text(top=3)

    def init_labels(self) -> np.ndarray | None:
        """The grouping as a warm start for a re-optimisation (None when it breaks a rule:
        a warm start must keep every rule)."""
        if self.result is None or self.result.validate():
            return None
        return np.asarray(self.grouping.labels, dtype=np.int64)
