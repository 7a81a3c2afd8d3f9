"""Group lifecycle: repair a grouping after members leave or join, and check a hand-made move.

Programmes lose members between rounds, and groups shrink; new members arrive. Chief
folds a group that drops to 5 or fewer into another; EO and YPO forums add members when
attendance drops. :func:`repair` carries out these transitions on a groups table:

* members who **left** are rows removed from the table; members who **joined** are rows
  with an empty ``group`` cell;
* a group whose size stays within the bounds is **healthy**: its members stay where they
  are (always: it is a hard constraint of the repair, not a preference);
* groups below the minimum are **merged** (one keeps its members and takes others in) or
  **dissolved** into groups with room, so that the fewest members move: every choice of
  the groups that survive is ranked by the members it moves (with ``move_cost``, by
  total affinity minus ``move_cost`` per move), and the first whose placement obeys
  every hard rule is solved by the usual solver;
* new members fill open seats, or form new groups.

A hand-made move is checked by :func:`peermatch.move.check_move` (also importable from
here).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import core
from ._compat import group_size_pair
from ._repairtext import (
    attempt_sentence,
    diagnosis_words,
    failure_message,
    plan_words,
    rules_in_force,
    solver_families,
)
from .budget import Budget, check_time_limit
from .candidates import split_list, text_key
from .errors import CandidatesError, ConfigError
from .move import MoveCheck, check_move
from .rules import Rules

__all__ = ["RepairResult", "repair", "MoveCheck", "check_move"]

# Survivor sets tried by brute force up to this many small groups (2**12 = 4,096).
_EXACT_SMALL = 12
# At most this many survivor sets are solved before giving up.
_MAX_ATTEMPTS = 8


# --------------------------------------------------------------------------------------
# Repair after attrition and joiners
# --------------------------------------------------------------------------------------

@dataclass
class RepairResult:
    """A repaired grouping (the output of :func:`repair`).

    Attributes
    ----------
    status : str
        ``"unchanged"`` (nothing to repair), ``"repaired"``, ``"infeasible"`` (no repair
        obeys the rules) or ``"unknown"`` (none found within the time limit, and none
        proved impossible).
    message : str
        What was done, or why no repair obeys the hard rules.
    groups : pandas.DataFrame
        Every input row and column with the new ``group`` (empty on failure).
    moves : pandas.DataFrame
        ``id, name, kind, from, to, why`` of every member who moved (``kind="moved"``)
        or joined (``kind="joined"``).
    healthy, dissolved, kept, new_groups : list of str
        Groups whose size stayed within bounds (untouched but for joiners), groups
        dissolved, small groups that survived (merged with others or filled), and new
        groups.
    violations : list of str
        Broken hard rules of the repaired grouping (empty on success).
    score : float
        Total affinity of the repaired grouping.
    reasons : list of str
        Why each tried repair failed (on failure).
    """

    status: str
    message: str
    groups: pd.DataFrame
    moves: pd.DataFrame
    labels: np.ndarray
    group_names: list[str]
    healthy: list[str] = field(default_factory=list)
    dissolved: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    score: float = float("nan")
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _settings: dict = field(default_factory=dict, repr=False)
    _result: Any = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status in ("unchanged", "repaired") and not self.violations

    @property
    def n_moved(self) -> int:
        return int((self.moves["kind"] == "moved").sum()) if len(self.moves) else 0

    @property
    def n_joined(self) -> int:
        return int((self.moves["kind"] == "joined").sum()) if len(self.moves) else 0

    @property
    def result(self):
        """The repaired grouping as a :class:`~peermatch.result.MatchResult` (for reports,
        explanations, pairs and calendars)."""
        if self._result is None:
            if not self.success:
                raise ConfigError(f"No repaired grouping ({self.status}): {self.message}")
            from .report import from_grouping

            s = self._settings
            self._result = from_grouping(self.groups, weights=s.get("weights"),
                                         rules=s.get("rules"), min_size=s.get("min_size"),
                                         max_size=s.get("max_size"),
                                         columns=s.get("columns"))
        return self._result

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write :attr:`groups` to ``path`` (UTF-8, atomically)."""
        from .result import atomic_write_text

        if not self.success:
            raise ConfigError(f"No repaired grouping to write ({self.status}).")
        atomic_write_text(path, self.groups.to_csv(index=False, lineterminator="\n"))

    def summary(self) -> dict:
        return {"status": self.status, "success": self.success, "message": self.message,
                "groups": len(self.group_names), "moved": self.n_moved,
                "joined": self.n_joined, "healthy": self.healthy, "dissolved": self.dissolved,
                "kept": self.kept, "new_groups": self.new_groups,
                "score": None if not np.isfinite(self.score) else round(self.score, 6),
                "violations": self.violations, "reasons": self.reasons, "notes": self.notes,
                "moves": self.moves.to_dict(orient="records"),
                "timings": {k: round(v, 4) for k, v in self.timings.items()}}


def read_after_attrition(source, columns=None, *, sep=None, encoding=None):
    """The candidates table of a grouping some members left: ``(table, notes)``.

    Members who left are rows removed, so other rows' ``conflicts`` cells may still name
    them; those ids are dropped (a note says which) instead of failing the read. Any
    other problem of the table fails the read as :func:`peermatch.read_candidates` does.
    """
    from .candidates import CandidateTable, read_candidates

    if isinstance(source, CandidateTable):
        return source, []
    raw = _raw_table(source, columns, sep, encoding)
    if raw is not None:
        frame, lines, name, id_col, conf_col, list_sep = raw
        known = {text_key(str(x)) for x in frame[id_col]}
        cells = [[] if _blank(v) else split_list(str(v), list_sep) for v in frame[conf_col]]
        dropped = [t for toks in cells for t in toks if text_key(t) not in known]
        if dropped:  # ids of members who left: dropped, the rest read as usual
            frame[conf_col] = ["; ".join(t for t in toks if text_key(t) in known)
                               for toks in cells]
            table = read_candidates(frame, columns=dict(columns) if columns else None)
            table = replace(table, source=name,
                            lines=lines if lines is not None else table.lines)
            gone = sorted(set(dropped))
            return table, [f"{len(dropped)} conflict entr{'y' if len(dropped) == 1 else 'ies'} "
                           f"named member(s) no longer in the table ({', '.join(gone[:10])}"
                           f"{' ...' if len(gone) > 10 else ''}): dropped."]
    return read_candidates(source, columns=dict(columns) if columns else None, sep=sep,
                           encoding=encoding), []


def _raw_table(source, columns, sep, encoding):
    """The table's cells as text, before any check: ``(frame, lines, name, list
    separator, id column, conflicts column)``; None when it has no ``id`` or no
    ``conflicts`` column or cannot be parsed (then the usual read says what is wrong)."""
    from .candidates import parse_csv_text, read_text

    if isinstance(source, pd.DataFrame):
        name, frame, lines, list_sep = "<DataFrame>", source.copy(), None, ";"
    else:
        try:
            name = os.fspath(source)
            text = read_text(Path(name), name, encoding)
            frame, lines, _, sep_found = parse_csv_text(text, name, sep)
        except (CandidatesError, OSError, TypeError):
            return None
        list_sep = "[;|,]" if sep_found == ";" else ";"
    mapping = {str(k).strip().casefold(): v for k, v in dict(columns or {}).items()}

    def col(canon):
        if canon in mapping and mapping[canon] in frame.columns:
            return mapping[canon]
        return next((c for c in frame.columns if str(c).strip().casefold() == canon), None)

    id_col, conf_col = col("id"), col("conflicts")
    if id_col is None or conf_col is None:
        return None
    # a DataFrame's lists are read with ';': the other list columns are rewritten so
    for c in (col(k) for k in ("goals", "expertise", "availability")) if list_sep != ";" else ():
        if c is not None:
            frame[c] = ["; ".join(split_list(str(v), list_sep)) for v in frame[c]]
    return frame, lines, name, id_col, conf_col, list_sep


def _blank(v) -> bool:
    """An empty cell (None, NaN or blank text)."""
    return v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()


def _survivor_sets(small: list[tuple[str, int]], move_cost: float | None):
    """Subsets of the small groups that survive, fewest members moved first."""
    q = len(small)
    if q <= _EXACT_SMALL:
        subsets = [frozenset(c) for r in range(q + 1)
                   for c in itertools.combinations(range(q), r)]
    else:  # keep the j largest, for every j
        order = sorted(range(q), key=lambda k: -small[k][1])
        subsets = [frozenset(order[:j]) for j in range(q + 1)]
    sizes = np.array([s for _, s in small])

    def cost(K):  # members of dissolved groups all move
        return int(sizes.sum() - sum(sizes[k] for k in K))

    return sorted(subsets, key=lambda K: (cost(K), -len(K), sorted(K))), cost


def _new_group_counts(P: int, need: int, cap: int, lo: int, hi: int) -> range:
    """Numbers of new groups for which ``P`` movers can fill ``need..cap`` seats plus
    ``lo..hi`` members per new group (empty when none can)."""
    if P < need:
        return range(0)
    k_min = max(0, core.fewest_groups(P - cap, hi))
    k_max = (P - need) // lo
    return range(k_min, k_max + 1)


@group_size_pair
def repair(groups, *, min_size: int = 8, max_size: int = 12, weights=None,
           rules: Rules | None = None, columns=None, move_cost: float | None = None,
           time_limit: float = 5.0, seed: int = 0, method: str = "auto") -> RepairResult:
    """Repair a grouping after members left (rows removed) or joined (empty ``group``).

    Parameters
    ----------
    groups : path, DataFrame or CandidateTable
        The grouping as it is now: the previous groups CSV without the rows of members
        who left, plus rows for new members with an empty ``group`` cell.
    min_size, max_size : int, default=8, 12
        Allowed group sizes: a group within them is healthy and keeps its members.
        ``group_size=(min, max)`` is the deprecated spelling.
    weights : Weights, optional
        Scoring weights (default ``Weights()``).
    rules : Rules, optional
        Hard rules (default ``Rules()``); every one holds in the repaired grouping.
    columns : dict, optional
        Canonical column name -> column name in the table.
    move_cost : float, optional
        Affinity one move is worth. None (default): move as few members as possible,
        then maximise affinity. A number: the survivor set maximising ``score -
        move_cost * moves`` among those tried.
    time_limit : float, default=5.0
        Seconds for the whole repair, in (0, one week]: one
        :class:`~peermatch.budget.Budget` that every repair tried shares. Without
        ``move_cost`` the repairs are tried fewest moves first and the first that
        works is kept, so each may use all the time still left; with ``move_cost``
        every repair tried is solved, each with an equal share of the time left.
        (Before this release the limit was per repair tried.)
    seed : int, default=0
        Solver seed.
    method : str, default="auto"
        Solver method (see :func:`peermatch.solve`).

    Returns
    -------
    RepairResult
        ``groups`` (write it with ``to_csv``), ``moves``, and which groups were dissolved
        or kept. ``status="infeasible"`` with ``reasons`` when no repair obeys the rules.

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(30, seed=7)
    >>> df["group"] = ["A"] * 10 + ["B"] * 10 + ["C"] * 10
    >>> left = df.drop(index=range(20, 26))            # six members of C leave
    >>> fixed = pm.repair(left, min_size=8, max_size=12,
    ...                   rules=pm.Rules(competitors=()), time_limit=1)
    >>> fixed.status, fixed.dissolved, fixed.n_moved
    ('repaired', ['C'], 4)
    >>> sorted(fixed.groups["group"].value_counts().tolist())
    [12, 12]
    """
    from .grouping import read_grouping

    budget = Budget(check_time_limit(time_limit, "The 'time_limit' parameter of repair"))
    lo, hi = _repair_sizes(min_size, max_size)
    if move_cost is not None and not (np.isfinite(move_cost) and move_cost >= 0):
        raise ConfigError(f"The 'move_cost' parameter of repair must be a number >= 0. Got "
                          f"{move_cost!r} instead.")
    table, cleaned = read_after_attrition(groups, columns)
    G = read_grouping(table, weights=weights, rules=rules, min_size=lo, max_size=hi,
                      allow_unplaced=True)
    now = _Before(G, cleaned, columns, budget)
    if not now.small and not now.over and not len(now.joiners):
        index = {g: k for k, g in enumerate(now.names)}
        lab = np.array([index[g] for g in now.old], dtype=np.int64)
        return now.finish("unchanged", f"Every group is within {lo}-{hi} members and nobody "
                          "is waiting for a seat: nothing to repair.", now.old.tolist(), lab,
                          now.names, score=float(now.score(lab)))
    plans, reasons = _plans(now)
    best = _solve_plans(now, plans, reasons, move_cost, seed, method)
    now.timings["solve"] = budget.elapsed() - now.timings["score"]
    if best is None:
        if not reasons:
            reasons = [f"{len(now.joiners)} new and {sum(s for _, s in now.small)} displaced "
                       f"members cannot fill groups of {lo}-{hi} around the healthy groups."]
        free = np.isin(now.old, [g for g, _ in now.small]) | (now.old == "")
        msg = failure_message(reasons, now.families, now.rules, now.small,
                              [str(now.table.ids[i]) for i in np.flatnonzero(free)])
        # an attempt that ran out of time proves nothing: "unknown", as match says it
        status = "unknown" if "time limit" in now.families else "infeasible"
        return now.finish(status, msg, None, np.full(now.n, -1, dtype=np.int64), [],
                          reasons=reasons)
    return _repaired(now, best)


def _repair_sizes(min_size, max_size) -> tuple[int, int]:
    """The ``(min, max)`` sizes of :func:`repair`, or a ConfigError."""
    from .grouping import check_bounds

    lo, hi = check_bounds("repair", min_size, max_size)
    if lo < 1 or lo > hi:
        raise ConfigError(f"min_size={lo} and max_size={hi}: need 1 <= min_size <= max_size.")
    return lo, hi


class _Before:
    """The grouping a repair starts from: its groups sorted into healthy, small (below
    the minimum), oversized and locked, the members waiting for a seat, and how a
    finished repair is written up."""

    def __init__(self, G, cleaned: list[str], columns, budget: Budget) -> None:
        self.G, self.budget, self.columns = G, budget, columns
        self.table, self.rules, self.weights = G.table, G.rules, G.weights
        self.lo, self.hi = G.lo, G.hi
        self.feats, self.A = G.features, G.affinity
        self.timings = {"score": budget.elapsed()}
        old = np.array([str(g).strip() for g in self.table.group], dtype=object)
        self.old, self.n = old, self.table.n
        self.names = list(dict.fromkeys(g for g in old if g))
        self.size = {g: int(np.sum(old == g)) for g in self.names}
        lo, hi, size = self.lo, self.hi, self.size
        self.locked = set(self.rules.locked_groups)
        self.joiners = np.flatnonzero(old == "")
        self.healthy = [g for g in self.names if lo <= size[g] <= hi or g in self.locked]
        self.small = [(g, size[g]) for g in self.names if size[g] < lo and g not in self.locked]
        self.over = [g for g in self.names if size[g] > hi and g not in self.locked]
        self.families: list[str] = []  # rule families that failed repairs ran into
        self.notes = list(cleaned) + [
            f"locked group {g} has {size[g]} members, outside {lo}-{hi}: kept as it is."
            for g in self.names if g in self.locked and not lo <= size[g] <= hi]

    def score(self, labels) -> float:
        from .scoring import grouping_score

        return float(grouping_score(self.A, labels))

    def moves(self, new_names, dissolved) -> list[dict]:
        """Who joined and who moved, and why."""
        old, size, lo, hi = self.old, self.size, self.lo, self.hi
        ids = [str(x) for x in self.table.ids]
        disp = [str(x) for x in self.feats.names]
        why_old = {g: f"group {g} dissolved ({size[g]} members, below {lo})" for g in dissolved}
        why_old.update({g: f"group {g} had {size[g]} members, above {hi}" for g in self.over})
        out = []
        for i in range(self.n):
            if old[i] == "":
                out.append({"id": ids[i], "name": disp[i], "kind": "joined", "from": "",
                            "to": new_names[i], "why": "new member"})
            elif new_names[i] != old[i]:
                out.append({"id": ids[i], "name": disp[i], "kind": "moved", "from": old[i],
                            "to": new_names[i],
                            "why": why_old.get(old[i], f"group {old[i]} rearranged")})
        return out

    def finish(self, status, message, new_names, labels, group_names, dissolved=(), kept=(),
               new_groups=(), violations=(), score=float("nan"), reasons=(),
               slot_rows=None) -> RepairResult:
        """The :class:`RepairResult` of a repair that ended with ``status``."""
        table = self.table
        frame = table.frame.copy() if new_names is not None else table.frame.iloc[:0].copy()
        moves = []
        if new_names is not None:
            frame[table.columns["group"]] = list(new_names)
            if slot_rows is not None:
                col = next((c for c in frame.columns
                            if str(c).strip().casefold() == "meeting_slot"), "meeting_slot")
                frame[col] = list(slot_rows)
            else:
                _carry_slots(frame, self.old, new_names)
            moves = self.moves(new_names, dissolved)
        self.timings["total"] = self.budget.elapsed()
        settings = {"weights": self.weights, "rules": self.rules,
                    "min_size": self.lo, "max_size": self.hi, "columns": self.columns}
        return RepairResult(status=status, message=message, groups=frame,
                            moves=pd.DataFrame(moves, columns=["id", "name", "kind", "from",
                                                               "to", "why"]),
                            labels=labels, group_names=list(group_names),
                            healthy=self.healthy, dissolved=list(dissolved), kept=list(kept),
                            new_groups=list(new_groups), violations=list(violations),
                            score=score, reasons=list(reasons), notes=self.notes,
                            timings=self.timings, _settings=settings)


def _plans(now: _Before) -> tuple[list, list[str]]:
    """Every (survivors, number of new groups) that the sizes allow, fewest moves first,
    then fewest new groups, as ``(moves, k_new, kept, dissolved)``; and the reasons
    found so far. The largest set of mutual competitors needs that many groups."""
    from .rules import competitor_classes

    size, lo, hi, small = now.size, now.lo, now.hi, now.small
    seats = sum(hi - size[g] for g in now.healthy if g not in now.locked and size[g] <= hi)
    sets, cost_of = _survivor_sets(small, None)
    shed = sum(size[g] - hi for g in now.over)
    reasons: list[str] = []
    classes, class_labels, _ = competitor_classes(now.table, now.rules)
    largest = max((len(c) for c in classes), default=1)
    plans, too_few = [], 0
    for K in sets:
        kept = [small[k][0] for k in sorted(K)]
        dissolved = [small[k][0] for k in range(len(small)) if k not in K]
        P = len(now.joiners) + sum(size[g] for g in dissolved) + shed
        need = sum(lo - size[g] for g in kept)
        cap = sum(hi - size[g] for g in kept) + seats
        k_ex = len(now.healthy) + len(kept) + len(now.over)
        for k_new in _new_group_counts(P, need, cap, lo, hi):
            if k_ex + k_new >= largest:
                plans.append((cost_of(K), k_new, kept, dissolved))
            else:
                too_few += 1
    plans.sort(key=lambda x: (x[0], x[1]))
    if too_few:
        now.families.append("competitors")
        big = class_labels[int(np.argmax([len(c) for c in classes]))]
        reasons.append(f"{largest} members compete ({big}) and need {largest} groups, so at "
                       f"most {len(now.healthy) + len(small) + len(now.over) - largest} "
                       "group(s) can be dissolved; the members of healthy groups stay where "
                       "they are.")
    return plans, reasons


def _compile_plan(now: _Before, kept: list[str], k_new: int):
    """The rules compiled for one plan: healthy, kept and oversized groups stay (their
    members pinned, but for the oversized), ``k_new`` new groups; ``(compiled, k_ex)``."""
    from .grouping import with_groups
    from .rules import build_problem

    old, lo, hi, over = now.old, now.lo, now.hi, now.over
    stay = set(now.healthy) | set(kept) | set(over)
    t_sub = with_groups(now.table, [g if g in stay else "" for g in old])
    A_in = _with_stay_bonus(now.A, old, over)
    k_ex = len(stay)
    m = k_ex + k_new
    crules = replace(now.rules, keep_existing=True, move_cost=None)
    # oversized groups are unlocked below (their members may move): built with room for
    # them, so the build does not report them as a clash; their bounds are lo-hi again
    big = max([hi] + [int(np.sum(old == g)) for g in over])
    compiled = build_problem(t_sub, A_in, min_size=lo, max_size=big, n_groups=m, rules=crules)
    p = compiled.problem
    bounds = np.tile(np.array([[lo, hi]], dtype=np.int64), (m, 1))
    for g, nm in enumerate(compiled.group_names[:m]):
        if nm in now.locked:
            bounds[g] = p.bounds[g]
    compiled = replace(compiled, problem=replace(p, bounds=bounds))
    if over:
        _unlock(compiled, t_sub, now.rules, old, over)
    return compiled, k_ex


def _solve_plans(now: _Before, plans: list, reasons: list[str], move_cost, seed,
                 method) -> dict | None:
    """Solve the plans in turn (at most :data:`_MAX_ATTEMPTS`) within the budget: the
    first that works (fewest moves), or with ``move_cost`` the best of those tried."""
    from .rules import check_grouping, diagnose

    free = np.isin(now.old, [g for g, _ in now.small]) | (now.old == "")
    eligible = _eligibility(now.table, now.A, now.feats, now.weights, now.rules, now.old, free,
                            now.lo, now.hi, receivers=[g for g, _ in now.small])
    best, tried = None, 0
    ids = [str(x) for x in now.table.ids]

    def failed(plan: str, families=(), detail: str = "") -> None:
        now.families.extend(f for f in families if f not in now.families)
        reasons.append(attempt_sentence(plan, families, detail, rules=now.rules, lo=now.lo,
                                        hi=now.hi))

    for k, (_, k_new, kept, dissolved) in enumerate(plans):
        if tried >= _MAX_ATTEMPTS:
            break
        plan = plan_words(kept, dissolved, k_new,
                          [ids[i] for i in np.flatnonzero(np.isin(now.old, dissolved))],
                          len(now.joiners))
        short = _short_survivors(eligible, now.old, kept, dissolved, now.size, now.lo,
                                 rules_in_force(now.rules))
        if short:
            failed(plan, detail="; ".join(short))
            continue
        compiled, k_ex = _compile_plan(now, kept, k_new)
        why = diagnose(compiled)
        if why:
            fams, found = diagnosis_words(why)
            failed(plan, detail=found)
            now.families.extend(f for f in fams if f not in now.families)
            continue
        tried += 1
        res = _solve_one(compiled, now.budget, move_cost, min(_MAX_ATTEMPTS - tried + 1,
                                                             len(plans) - k), seed, method)
        if not res.success:
            fams = solver_families(list(res.get("reasons", []) or []))
            if res.status == "unknown":  # out of time: more time may find one
                now.families.extend([] if "time limit" in now.families else ["time limit"])
            failed(plan, fams, "" if fams else res.message)
            continue
        lab = np.asarray(res.labels, dtype=np.int64)
        bad = check_grouping(compiled, lab)
        if bad:  # pragma: no cover - the solver only returns valid groupings
            failed(plan, detail="; ".join(bad))
            continue
        gnames = _name_groups(compiled.group_names[:k_ex + k_new], k_ex, lab, now.old,
                              dissolved, now.names)
        new_names = [gnames[x] for x in lab]
        moved = sum(1 for i in range(now.n) if now.old[i] and new_names[i] != now.old[i])
        score = now.score(lab)
        obj = score - (move_cost or 0.0) * moved
        if best is None or (move_cost is None and (moved, -score) < (best["moved"], -best["score"])
                            ) or (move_cost is not None and obj > best["objective"]):
            best = {"objective": obj, "moved": moved, "lab": lab, "gnames": gnames,
                    "new_names": new_names, "kept": kept, "dissolved": dissolved,
                    "score": score, "k_ex": k_ex}
        if move_cost is None:
            break  # the fewest moves: the plans come cheapest first
    return best


def _solve_one(compiled, budget: Budget, move_cost, left_to_try: int, seed, method):
    """Solve one plan with its part of the budget: all the time left when the first
    plan that works is kept, an equal share of it over the plans still to solve when
    every plan is compared (``move_cost``)."""
    from .solve import solve

    share = budget.left() if move_cost is None else budget.left() / max(left_to_try, 1)
    return solve(compiled.problem, method=method, time_limit=max(share, 0.1), seed=seed)


def _repaired(now: _Before, best: dict) -> RepairResult:
    """The result of the repair ``best``, its hard rules checked once more on the final
    table and names (the checks of ``validate()``)."""
    from .grouping import Grouping

    lab, gnames, new_names = best["lab"], best["gnames"], best["new_names"]
    G = Grouping.build(now.table, now.A, now.feats, now.weights, now.rules, new_names, now.lo,
                       now.hi)
    violations = G.violations()
    slot_rows = None
    if now.rules.common_slot:
        from .rules import meeting_slots

        slots = meeting_slots(G.compiled, G.labels)
        slot_rows = [slots[x] for x in G.labels]
    new_groups = [gnames[k] for k in range(best["k_ex"], len(gnames))]
    kept = best["kept"] + [g for g in best["dissolved"] if g in new_groups]
    new_groups = [g for g in new_groups if g not in best["dissolved"]]
    dissolved = [g for g in best["dissolved"] if g not in kept]
    done = []
    if dissolved:
        done.append(f"dissolved {', '.join(dissolved)}")
    if kept:
        done.append(f"kept and filled {', '.join(kept)}")
    if new_groups:
        done.append(f"formed new group(s) {', '.join(new_groups)}")
    if len(now.joiners):
        done.append(f"placed {len(now.joiners)} new member(s)")
    msg = (f"{len(now.small)} group(s) below {now.lo} members"
           + (f", {len(now.over)} above {now.hi}" if now.over else "") + ": "
           + ("; ".join(done) or "no change") + f". {best['moved']} member(s) moved; the "
           f"{len(now.healthy)} healthy group(s) kept their members.")
    return now.finish("repaired", msg, new_names, lab, gnames, dissolved=dissolved, kept=kept,
                      new_groups=new_groups, violations=violations, score=best["score"],
                      slot_rows=slot_rows)


def _eligibility(table, A, feats, weights, rules, old, free, lo, hi, receivers):
    """``{(row, group): may join}`` for every free member (of a small group, or new) and
    every small group: would joining it break a hard rule (other than sizes) with the
    group's current members? Checked by ``check_grouping`` with the free members set
    aside in a pool; None when that would take too long."""
    rows = np.flatnonzero(free)
    if not receivers or len(rows) * len(receivers) > 2000 or table.n > 5000:
        return None
    import re

    from .grouping import Grouping

    pool = "\x00free"  # new members wait here; members of small groups stay in theirs
    G = Grouping.build(table, A, feats, weights, rules,
                       [old[i] or pool for i in range(table.n)], lo, hi)

    def about(v: str, name: str) -> bool:
        return re.search(rf"\bgroup {re.escape(name)}(?=[\s,.)]|$)", v) is not None

    out = {}
    for g in receivers:
        h = G.names.index(g)
        for i in rows:
            if old[i] == g:
                continue
            src = old[i] or pool  # what leaving the source group does is not g's concern
            lab = G.moved((i, h))
            broken = [v for v in G.new_violations(lab, sizes=False) if not about(v, src)]
            out[(int(i), g)] = not broken
    return out


def _short_survivors(eligible, old, kept, dissolved, size, lo, in_force: str) -> list[str]:
    """Why the kept small groups cannot all be filled from the free members (empty when a
    matching of free members to the seats they need exists, rules between free members
    aside); ``in_force`` names the rules that can keep a member out."""
    if eligible is None or not kept:
        return []
    import networkx as nx

    pool = [int(i) for i in np.flatnonzero(np.isin(old, dissolved) | (old == ""))]
    G = nx.DiGraph()
    for i in pool:
        G.add_edge("s", ("m", i), capacity=1)
        for g in kept:
            if eligible.get((i, g)):
                G.add_edge(("m", i), ("g", g), capacity=1)
    need = {g: lo - size[g] for g in kept}
    for g in kept:
        G.add_edge(("g", g), "t", capacity=need[g])
    flow = nx.maximum_flow_value(G, "s", "t") if pool else 0
    if flow >= sum(need.values()):
        return []
    out = []
    for g in kept:
        n_ok = sum(bool(eligible.get((i, g))) for i in pool)
        if n_ok < need[g]:
            out.append(f"group {g} needs {need[g]} more member(s) but only {n_ok} of the free "
                       f"members may join it ({in_force})")
    return out or [f"the free members cannot fill the {sum(need.values())} seats the kept "
                   "groups need without breaking a hard rule"]


def _with_stay_bonus(A, old: np.ndarray, over: list[str]):
    """Affinity plus a bonus for members of an oversized group staying together."""
    if not over:
        return A
    from .affinity import is_dense

    scale = 10.0 * (float(np.abs(A).max()) if is_dense(A) else 10.0) + 1.0
    pi, pj, pv = [], [], []
    for g in over:
        rows = np.flatnonzero(old == g)
        a, b = np.triu_indices(len(rows), 1)
        pi.append(rows[a])
        pj.append(rows[b])
        pv.append(np.full(len(a), scale / max(len(rows) - 1, 1)))
    pi, pj, pv = np.concatenate(pi), np.concatenate(pj), np.concatenate(pv)
    if not is_dense(A):
        return A.plus_pairs(pi, pj, pv)
    W = np.array(A, dtype=np.float64)
    W[pi, pj] += pv
    W[pj, pi] += pv
    return W


def _unlock(compiled, table, rules: Rules, old: np.ndarray, over: list[str]) -> None:
    """Members of oversized groups may move (their pins and allowed groups still hold)."""
    p = compiled.problem
    if p.allowed is None:
        return
    allowed = p.allowed.copy()  # the compiled problem is frozen: a new one gets these rows
    gindex = {nm: k for k, nm in enumerate(compiled.group_names)}
    ids = [str(x) for x in table.ids]
    for i in np.flatnonzero(np.isin(old, over)):
        row = np.ones(p.allowed.shape[1], dtype=bool)
        if ids[i] in rules.pins:
            row[:] = False
            row[gindex[rules.pins[ids[i]]]] = True
        if ids[i] in rules.allowed_groups:
            mask = np.zeros_like(row)
            mask[[gindex[g] for g in rules.allowed_groups[ids[i]]]] = True
            row &= mask
        for g, nm in enumerate(compiled.group_names):
            if nm in rules.locked_groups:
                row[g] = False
        allowed[i] = row
    compiled.problem = replace(p, allowed=allowed)


def _name_groups(names: list[str], k_ex: int, lab: np.ndarray, old: np.ndarray,
                 dissolved: list[str], all_old: list[str]) -> list[str]:
    """Names of the groups: existing ones kept; a new group carries on the name of the
    dissolved group most of whose members it holds; the rest get fresh numbers."""
    from scipy.optimize import linear_sum_assignment

    out = [str(x) for x in names[:k_ex]]
    m = len(names)
    new = list(range(k_ex, m))
    given: dict[int, str] = {}
    if new and dissolved:
        C = np.array([[np.sum((lab == q) & (old == d)) for d in dissolved] for q in new])
        r, c = linear_sum_assignment(-C)
        for a, b in zip(r, c, strict=True):
            if C[a, b] > 0:
                given[new[a]] = dissolved[b]
    # fresh numbers skip every old name, also those of groups that are gone
    return core.fill_group_names(out + [given.get(q) for q in new], taken=all_old)


def _carry_slots(frame: pd.DataFrame, old: np.ndarray, new_names) -> None:
    """A ``meeting_slot`` column follows the groups: a member who moved or joined takes
    the slot of the members already in their new group (empty for a new group)."""
    col = next((c for c in frame.columns if str(c).strip().casefold() == "meeting_slot"), None)
    if col is None:
        return
    slots = frame[col].astype(str).str.strip().to_numpy(dtype=object)
    new = np.asarray(new_names, dtype=object)
    stayed = (old == new) & (old != "")
    out = slots.copy()
    for g in dict.fromkeys(new.tolist()):
        vals = [s for s in slots[stayed & (new == g)] if s]
        slot = max(set(vals), key=vals.count) if vals else ""
        out[(new == g) & ~stayed] = slot
    frame[col] = list(out)
