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

:func:`check_move` answers a chair's question before a hand-made move: which hard rules
does moving this member into that group break, and what does it do to the score?
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CandidatesError, ConfigError
from .rules import Rules

__all__ = ["RepairResult", "repair", "MoveCheck", "check_move"]

# Survivor sets tried by brute force up to this many small groups (2**12 = 4,096).
_EXACT_SMALL = 12
# At most this many survivor sets are solved before giving up.
_MAX_ATTEMPTS = 8


# --------------------------------------------------------------------------------------
# Checking a hand-made move
# --------------------------------------------------------------------------------------

@dataclass
class MoveCheck:
    """What moving one member into another group does (the output of :func:`check_move`).

    Attributes
    ----------
    member, name : str
        Id and display name of the member.
    from_group, to_group : str
        Their group now, and the group they would join.
    ok : bool
        True when the move breaks no hard rule that holds now.
    breaks : list of str
        Hard rules the move breaks (that the grouping keeps now).
    fixes : list of str
        Broken rules of the grouping that the move mends.
    score_before, score_after : float
        Total affinity of the grouping before and after.
    member_before, member_after : float
        The member's mean affinity to their group before and after.
    groups : pandas.DataFrame
        The grouping with the move made (every input row and column).
    """

    member: str
    name: str
    from_group: str
    to_group: str
    breaks: list[str]
    fixes: list[str]
    score_before: float
    score_after: float
    member_before: float
    member_after: float
    groups: pd.DataFrame = field(repr=False, default=None)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def score_delta(self) -> float:
        return self.score_after - self.score_before

    def to_dict(self) -> dict:
        return {"member": self.member, "name": self.name, "from": self.from_group,
                "to": self.to_group, "ok": self.ok, "breaks": list(self.breaks),
                "fixes": list(self.fixes), "score_before": round(self.score_before, 6),
                "score_after": round(self.score_after, 6),
                "score_delta": round(self.score_delta, 6),
                "member_mean_affinity_before": round(self.member_before, 6),
                "member_mean_affinity_after": round(self.member_after, 6),
                "text": self.to_text()}

    def to_text(self) -> str:
        who = self.member if self.name == self.member else f"{self.name} ({self.member})"
        lines = [f"Moving {who} from group {self.from_group} to group {self.to_group}:"]
        if self.ok:
            lines.append("  keeps every hard rule.")
        else:
            lines.append(f"  breaks {len(self.breaks)} hard rule"
                         f"{'s' if len(self.breaks) != 1 else ''}:")
            lines.extend(f"    - {v}" for v in self.breaks)
        if self.fixes:
            lines.append(f"  mends {len(self.fixes)} broken rule"
                         f"{'s' if len(self.fixes) != 1 else ''}:")
            lines.extend(f"    - {v}" for v in self.fixes)
        d = self.score_delta
        lines.append(f"  score {self.score_before:,.2f} -> {self.score_after:,.2f} "
                     f"({'+' if d >= 0 else '-'}{abs(d):,.2f}); {self.name}'s mean affinity to "
                     f"the group {self.member_before:.2f} -> {self.member_after:.2f}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def check_move(groups, member: str, group: str, *, group_size=None, weights=None,
               rules: Rules | None = None, columns=None) -> MoveCheck:
    """Check a hand-made move of ``member`` into ``group`` before a chair makes it.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        The grouping as it is.
    member : str
        Id of the member to move.
    group : str
        Name of the group they would join (an existing group).
    group_size : (int or None, int or None), optional
        Allowed sizes; None (or a None bound) takes the smallest / largest group of the
        grouping itself, so only sizes you state are checked.
    weights, rules, columns
        As for :func:`peermatch.report.from_grouping` (ignored for a MatchResult).

    Returns
    -------
    MoveCheck
        ``ok``, ``breaks`` (in the words of ``MatchResult.validate``), the score change.

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(16, seed=2)
    >>> df["group"] = ["1"] * 8 + ["2"] * 8
    >>> mv = check_move(df, "M0001", "2", group_size=(8, 9), rules=pm.Rules(competitors=()))
    >>> mv.ok, mv.breaks
    (False, ['group 1 has 7 members, outside 8-9'])
    """
    from ._grouping import Grouping

    G = Grouping.from_source(groups, weights=weights, rules=rules, group_size=group_size,
                             columns=columns)
    i, h = G.member(member), G.group(group)
    g = int(G.labels[i])
    if g == h:
        raise ConfigError(f"{G.ids[i]} is already in group {G.names[h]}.")
    lab = G.moved((i, h))
    frame = G.table.frame.copy()
    frame[G.table.columns["group"]] = [G.names[x] for x in lab]
    return MoveCheck(member=G.ids[i], name=G.name_of(i), from_group=G.names[g],
                     to_group=G.names[h], breaks=G.new_violations(lab),
                     fixes=G.fixed_violations(lab), score_before=G.score(),
                     score_after=G.score(lab), member_before=G.mean_affinity(i, g),
                     member_after=G.mean_affinity(i, h, lab), groups=frame)


# --------------------------------------------------------------------------------------
# Repair after attrition and joiners
# --------------------------------------------------------------------------------------

@dataclass
class RepairResult:
    """A repaired grouping (the output of :func:`repair`).

    Attributes
    ----------
    status : str
        ``"unchanged"`` (nothing to repair), ``"repaired"``, or ``"infeasible"``.
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
                                         rules=s.get("rules"), group_size=s.get("group_size"),
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
    them; those ids are dropped (a note says which) instead of failing the read.
    """
    from .candidates import CandidateTable, read_candidates

    if isinstance(source, CandidateTable):
        return source, []
    try:
        return read_candidates(source, columns=dict(columns) if columns else None, sep=sep,
                               encoding=encoding), []
    except CandidatesError as exc:
        if "'conflicts'" not in str(exc) or "is not in the table" not in str(exc):
            raise
    mapping = {str(k).strip().casefold(): v for k, v in dict(columns or {}).items()}
    if isinstance(source, pd.DataFrame):
        name, frame, lines, list_sep = "<DataFrame>", source.copy(), None, ";"
    else:
        from .candidates import _parse_csv_text, _read_text

        name = os.fspath(source)
        text = _read_text(Path(name), name, encoding)
        frame, lines, _, sep_found = _parse_csv_text(text, name, sep)
        list_sep = "[;|,]" if sep_found == ";" else ";"

    def col(canon):
        if canon in mapping and mapping[canon] in frame.columns:
            return mapping[canon]
        return next((c for c in frame.columns if str(c).strip().casefold() == canon), None)

    from .candidates import _split

    id_col, conf_col = col("id"), col("conflicts")
    known = {str(x).strip() for x in frame[id_col]}
    if list_sep != ";":  # a DataFrame's lists are read with ';'
        for c in (col(k) for k in ("goals", "expertise", "availability")):
            if c is not None:
                frame[c] = ["; ".join(_split(str(v), list_sep)) for v in frame[c]]
    dropped: list[str] = []
    cells = []
    for v in frame[conf_col]:
        toks = _split("" if v is None else str(v), list_sep)
        dropped.extend(t for t in toks if t not in known)
        cells.append("; ".join(t for t in toks if t in known))
    frame[conf_col] = cells
    table = read_candidates(frame, columns=dict(columns) if columns else None)
    table = replace(table, source=name, lines=lines if lines is not None else table.lines)
    gone = sorted(set(dropped))
    return table, [f"{len(dropped)} conflict entr{'y' if len(dropped) == 1 else 'ies'} named "
                   f"member(s) no longer in the table ({', '.join(gone[:10])}"
                   f"{' ...' if len(gone) > 10 else ''}): dropped."]


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
    k_min = max(0, -(-(P - cap) // hi))
    k_max = (P - need) // lo
    return range(k_min, k_max + 1)


def repair(groups, *, group_size=(8, 12), weights=None, rules: Rules | None = None,
           columns=None, move_cost: float | None = None, time_limit: float = 5.0,
           seed: int = 0, method: str = "auto") -> RepairResult:
    """Repair a grouping after members left (rows removed) or joined (empty ``group``).

    Parameters
    ----------
    groups : path, DataFrame or CandidateTable
        The grouping as it is now: the previous groups CSV without the rows of members
        who left, plus rows for new members with an empty ``group`` cell.
    group_size : (int, int), default=(8, 12)
        Allowed group sizes: a group within them is healthy and keeps its members.
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
        Solver seconds per repair tried (usually one).
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
    >>> fixed = pm.repair(left, group_size=(8, 12), rules=pm.Rules(competitors=()),
    ...                   time_limit=1)
    >>> fixed.status, fixed.dissolved, fixed.n_moved
    ('repaired', ['C'], 4)
    >>> sorted(fixed.groups["group"].value_counts().tolist())
    [12, 12]
    """
    from .match import _score_table
    from .rules import build_problem, check_grouping, diagnose
    from .scoring import Weights, grouping_score
    from .solve import solve

    t0 = time.perf_counter()
    rules = rules or Rules()
    weights = weights if weights is not None else Weights()
    try:
        lo, hi = (int(x) for x in group_size)
    except (TypeError, ValueError):
        raise ConfigError("The 'group_size' parameter of repair must be a (min, max) pair of "
                          f"ints. Got {group_size!r} instead.") from None
    if lo < 1 or lo > hi:
        raise ConfigError(f"min_size={lo} and max_size={hi}: need 1 <= min_size <= max_size.")
    if move_cost is not None and not (np.isfinite(move_cost) and move_cost >= 0):
        raise ConfigError(f"The 'move_cost' parameter of repair must be a number >= 0. Got "
                          f"{move_cost!r} instead.")
    table, cleaned = read_after_attrition(groups, columns)
    if table.group is None:
        raise CandidatesError(f"{table.source}: no 'group' column, so there is no grouping to "
                              "repair. Use the output of 'peermatch match' (or name your "
                              "column with --column group=YOURS).")
    old = np.array([str(g).strip() for g in table.group], dtype=object)
    n = table.n
    feats, A = _score_table(table, weights, rules)
    timings = {"score": time.perf_counter() - t0}

    names_old = list(dict.fromkeys(g for g in old if g))
    size = {g: int(np.sum(old == g)) for g in names_old}
    locked = set(rules.locked_groups)
    joiners = np.flatnonzero(old == "")
    healthy = [g for g in names_old if lo <= size[g] <= hi or g in locked]
    small = [(g, size[g]) for g in names_old if size[g] < lo and g not in locked]
    over = [g for g in names_old if size[g] > hi and g not in locked]
    notes = list(cleaned)
    notes += [f"locked group {g} has {size[g]} members, outside {lo}-{hi}: kept as it is."
              for g in names_old if g in locked and not lo <= size[g] <= hi]
    ids = [str(x) for x in table.ids]
    disp = [str(x) for x in feats.names]
    settings = {"weights": weights, "rules": rules, "group_size": (lo, hi), "columns": columns}

    def finish(status, message, new_names, labels_, group_names, dissolved=(), kept=(),
               new_groups=(), violations=(), score=float("nan"), reasons=(), slot_rows=None):
        frame = table.frame.copy() if new_names is not None else table.frame.iloc[:0].copy()
        moves = []
        if new_names is not None:
            frame[table.columns["group"]] = list(new_names)
            if slot_rows is not None:
                col = next((c for c in frame.columns
                            if str(c).strip().casefold() == "meeting_slot"), "meeting_slot")
                frame[col] = list(slot_rows)
            else:
                _carry_slots(frame, old, new_names)
            why_old = {g: f"group {g} dissolved ({size[g]} members, below {lo})"
                       for g in dissolved}
            why_old.update({g: f"group {g} had {size[g]} members, above {hi}" for g in over})
            for i in range(n):
                if old[i] == "":
                    moves.append({"id": ids[i], "name": disp[i], "kind": "joined", "from": "",
                                  "to": new_names[i], "why": "new member"})
                elif new_names[i] != old[i]:
                    moves.append({"id": ids[i], "name": disp[i], "kind": "moved",
                                  "from": old[i], "to": new_names[i],
                                  "why": why_old.get(old[i], f"group {old[i]} rearranged")})
        timings["total"] = time.perf_counter() - t0
        return RepairResult(status=status, message=message, groups=frame,
                            moves=pd.DataFrame(moves, columns=["id", "name", "kind", "from",
                                                               "to", "why"]),
                            labels=labels_, group_names=list(group_names),
                            healthy=healthy, dissolved=list(dissolved), kept=list(kept),
                            new_groups=list(new_groups), violations=list(violations),
                            score=score, reasons=list(reasons), notes=notes, timings=timings,
                            _settings=settings)

    if not small and not over and not len(joiners):
        index = {g: k for k, g in enumerate(names_old)}
        lab = np.array([index[g] for g in old], dtype=np.int64)
        return finish("unchanged", f"Every group is within {lo}-{hi} members and nobody is "
                      "waiting for a seat: nothing to repair.", old.tolist(), lab, names_old,
                      score=float(grouping_score(A, lab)))

    seats = sum(hi - size[g] for g in healthy if g not in locked and size[g] <= hi)
    sets, cost_of = _survivor_sets(small, move_cost)
    shed = sum(size[g] - hi for g in over)
    tried, reasons = 0, []
    best = None  # (objective, moves, payload)
    # Every (survivors, number of new groups) that the sizes allow, fewest moves first,
    # then fewest new groups; the largest set of mutual competitors needs that many groups.
    from .rules import competitor_classes

    classes, class_labels, _ = competitor_classes(table, rules)
    largest = max((len(c) for c in classes), default=1)
    plans, too_few = [], 0
    for K in sets:
        kept = [small[k][0] for k in sorted(K)]
        dissolved = [small[k][0] for k in range(len(small)) if k not in K]
        P = len(joiners) + sum(size[g] for g in dissolved) + shed
        need = sum(lo - size[g] for g in kept)
        cap = sum(hi - size[g] for g in kept) + seats
        k_ex = len(healthy) + len(kept) + len(over)
        for k_new in _new_group_counts(P, need, cap, lo, hi):
            if k_ex + k_new >= largest:
                plans.append((cost_of(K), k_new, kept, dissolved))
            else:
                too_few += 1
    plans.sort(key=lambda x: (x[0], x[1]))
    if too_few:
        big = class_labels[int(np.argmax([len(c) for c in classes]))]
        reasons.append(f"{largest} members compete ({big}) and need {largest} groups, so at "
                       f"most {len(healthy) + len(small) + len(over) - largest} group(s) can be "
                       "dissolved; the members of healthy groups stay where they are.")
    free = np.isin(old, [g for g, _ in small]) | (old == "")
    eligible = _eligibility(table, A, feats, weights, rules, old, free, lo, hi,
                            receivers=[g for g, _ in small])
    for _, k_new, kept, dissolved in plans:
        if tried >= _MAX_ATTEMPTS:
            break
        short = _short_survivors(eligible, old, kept, dissolved, size, lo)
        if short:
            reasons.append(f"keeping {', '.join(kept)}: " + "; ".join(short))
            continue
        stay = set(healthy) | set(kept) | set(over)
        row_groups = [g if g in stay else "" for g in old]
        from ._grouping import with_groups

        t_sub = with_groups(table, row_groups)
        A_in = _with_stay_bonus(A, old, over)
        k_ex = len(stay)
        crules = replace(rules, keep_existing=True, move_cost=None)
        # oversized groups are unlocked below (their members may move): built with room
        # for them, so the build does not report them as a clash; bounds are reset below
        big = max([hi] + [int(np.sum(old == g)) for g in over])
        compiled = build_problem(t_sub, A_in, min_size=lo, max_size=big,
                                 n_groups=k_ex + k_new, rules=crules)
        p = compiled.problem
        m = k_ex + k_new
        bounds = np.tile(np.array([[lo, hi]], dtype=np.int64), (m, 1))
        for g, nm in enumerate(compiled.group_names[:m]):
            if nm in locked:
                bounds[g] = p.bounds[g]
        p.bounds = bounds
        if over:
            _unlock(compiled, t_sub, rules, old, over)
        why = diagnose(compiled)
        label = (f"keeping {', '.join(kept) or 'no small group'}"
                 f"{'; dissolving ' + ', '.join(dissolved) if dissolved else ''}"
                 f"{f'; {k_new} new group(s)' if k_new else ''}")
        if why:
            reasons.append(f"{label}: " + " ".join(why))
            continue
        tried += 1
        res = solve(p, method=method, time_limit=time_limit, seed=seed)
        if not res.success:
            why = list(res.get("reasons", []) or []) or [res.message]
            reasons.append(f"{label}: " + " ".join(why))
            continue
        lab = np.asarray(res.labels, dtype=np.int64)
        bad = check_grouping(compiled, lab)
        if bad:  # pragma: no cover - the solver only returns valid groupings
            reasons.append(f"{label}: " + "; ".join(bad))
            continue
        gnames = _name_groups(compiled.group_names[:m], k_ex, lab, old, dissolved, names_old)
        new_names = [gnames[x] for x in lab]
        moved = sum(1 for i in range(n) if old[i] and new_names[i] != old[i])
        score = float(grouping_score(A, lab))
        obj = score - (move_cost or 0.0) * moved
        if best is None or (move_cost is None and (moved, -score) < (best[1], -best[2]["score"])
                            ) or (move_cost is not None and obj > best[0]):
            best = (obj, moved, {"lab": lab, "gnames": gnames, "new_names": new_names,
                                 "kept": kept, "dissolved": dissolved, "score": score,
                                 "compiled": compiled, "k_ex": k_ex})
        if move_cost is None:
            break  # the fewest moves: the survivor sets come cheapest first
    timings["solve"] = time.perf_counter() - t0 - timings["score"]
    if best is None:
        msg = ("No repair obeys every hard rule. "
               + (" ".join(reasons) if reasons else
                  f"{len(joiners)} new and {sum(s for _, s in small)} displaced members "
                  f"cannot fill groups of {lo}-{hi} around the healthy groups. Change the "
                  "sizes, or merge groups by hand ('peermatch move')."))
        return finish("infeasible", msg, None, np.full(n, -1, dtype=np.int64), [],
                      reasons=reasons or [msg])
    b = best[2]
    lab, gnames, new_names = b["lab"], b["gnames"], b["new_names"]
    # The hard rules once more, on the final table and names (the checks of validate()).
    from ._grouping import Grouping

    G = Grouping.build(table, A, feats, weights, rules, new_names, lo, hi)
    violations = G.violations()
    slot_rows = None
    if rules.common_slot:
        from .rules import meeting_slots

        slots = meeting_slots(G.compiled, G.labels)
        slot_rows = [slots[x] for x in G.labels]
    new_groups = [gnames[k] for k in range(b["k_ex"], len(gnames))]
    kept = b["kept"] + [g for g in b["dissolved"] if g in new_groups]
    new_groups = [g for g in new_groups if g not in b["dissolved"]]
    dissolved = [g for g in b["dissolved"] if g not in kept]
    moved = best[1]
    parts = []
    if dissolved:
        parts.append(f"dissolved {', '.join(dissolved)}")
    if kept:
        parts.append(f"kept and filled {', '.join(kept)}")
    if new_groups:
        parts.append(f"formed new group(s) {', '.join(new_groups)}")
    if len(joiners):
        parts.append(f"placed {len(joiners)} new member(s)")
    msg = (f"{len(small)} group(s) below {lo} members"
           + (f", {len(over)} above {hi}" if over else "") + ": "
           + ("; ".join(parts) or "no change") + f". {moved} member(s) moved; the "
           f"{len(healthy)} healthy group(s) kept their members.")
    return finish("repaired", msg, new_names, lab, gnames, dissolved=dissolved, kept=kept,
                  new_groups=new_groups, violations=violations, score=b["score"],
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

    from ._grouping import Grouping

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


def _short_survivors(eligible, old, kept, dissolved, size, lo) -> list[str]:
    """Why the kept small groups cannot all be filled from the free members (empty when a
    matching of free members to the seats they need exists, rules between free members
    aside)."""
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
                       "members may join it (competitors, conflicts, meeting slot, ...)")
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
        p.allowed[i] = row


def _name_groups(names: list[str], k_ex: int, lab: np.ndarray, old: np.ndarray,
                 dissolved: list[str], all_old: list[str]) -> list[str]:
    """Names of the groups: existing ones kept; a new group carries on the name of the
    dissolved group most of whose members it holds; the rest get fresh numbers."""
    from scipy.optimize import linear_sum_assignment

    out = [str(x) for x in names[:k_ex]]
    m = len(names)
    new = list(range(k_ex, m))
    taken = set(all_old) | set(out)
    given: dict[int, str] = {}
    if new and dissolved:
        C = np.array([[np.sum((lab == q) & (old == d)) for d in dissolved] for q in new])
        r, c = linear_sum_assignment(-C)
        for a, b in zip(r, c, strict=True):
            if C[a, b] > 0:
                given[new[a]] = dissolved[b]
    k = 1
    for q in new:
        if q in given:
            out.append(given[q])
            continue
        while str(k) in taken:
            k += 1
        out.append(str(k))
        taken.add(str(k))
    return out


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
