"""The outcome of :func:`peermatch.match`: groups, scores, checks, and ways to export them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ._compat import group_size_pair
from .candidates import CandidateTable
from .core import fill_group_names
from .rules import Compiled, Rules, Violation, check_violations, meeting_slots

__all__ = ["MatchResult", "atomic_write_text", "size_counts", "describe_sizes"]


def size_counts(sizes) -> dict[int, int]:
    """How many groups there are of each size, largest size first.

    >>> size_counts([12, 11, 12, 12])
    {12: 3, 11: 1}
    """
    counts: dict[int, int] = {}
    for s in sorted((int(x) for x in sizes), reverse=True):
        counts[s] = counts.get(s, 0) + 1
    return counts


def describe_sizes(sizes) -> str:
    """The groups and their sizes in words, as the summary line says them.

    >>> describe_sizes([12] * 38 + [11] * 4)
    '42 groups: 38 of 12, 4 of 11'
    >>> describe_sizes([10, 10, 10, 10])
    '4 groups of 10'
    """
    counts = size_counts(sizes)
    total = sum(counts.values())
    noun = "group" if total == 1 else "groups"
    if len(counts) == 1:
        return f"{total} {noun} of {next(iter(counts))}"
    return f"{total} {noun}: " + ", ".join(f"{k} of {s}" for s, k in counts.items())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a reader never sees half a file.

    The text goes to a temporary file beside ``path`` first, then replaces it; any
    failure is an :class:`~peermatch.errors.OutputError` (see :mod:`peermatch.output`).
    """
    from .output import write_all

    write_all([(path, text)])


@dataclass
class MatchResult:
    """A grouping of candidates, with everything needed to judge and publish it.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"feasible"``, ``"infeasible"``, ``"unknown"`` (nothing found in time).
    success : bool
        True when every candidate is placed and every hard rule holds.
    message : str
        What ``status`` means, plus the reasons when there is no grouping.
    score : float
        Total affinity: the sum over groups of the affinity of every pair of members
        (the sum of ``group_stats["total"]``), without soft penalties.
    penalties : dict of str to float
        Each soft rule's penalty (``balance_penalty``, ``repeat_penalty``, ``move_cost``).
    objective : float
        ``score - sum(penalties)``: what the solver maximises.
    bound : float
        Proven upper bound on ``objective`` when the solver has one (else NaN).
    labels : ndarray of shape (n,)
        0-based group label of each candidate in input order (``-1`` when unplaced).
    groups : pandas.DataFrame
        Every input row and column plus ``group``: the group's name (``"1"``, ``"2"``, ...,
        existing names kept; :attr:`group_names` maps labels to names), empty when
        unplaced.
    unplaced : pandas.DataFrame
        ``id``, ``line`` and ``reason`` of every candidate that could not be placed.
    group_stats : pandas.DataFrame
        One row per group with its quality measures: ``group`` (the group's name, the same
        value as in :attr:`groups`, the CSV, the report and ``explain``), ``label`` (its
        0-based label, as in :attr:`labels`), then the measures of
        :func:`peermatch.quality.group_stats`.
    reasons : list of str
        Why no grouping exists (for ``"infeasible"``), in the rules' own words.
    timings : dict of str to float
        Seconds spent reading, scoring, building, solving and in total.
    """

    status: str
    message: str
    score: float
    bound: float
    labels: np.ndarray
    table: CandidateTable
    affinity: np.ndarray | None
    parts: list
    rules: Rules
    weights: Any
    features: Any = None
    method: str = ""
    seed: int | None = 0
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    _stats: pd.DataFrame | None = field(default=None, repr=False)

    # -- derived views -----------------------------------------------------------------
    @property
    def success(self) -> bool:
        return self.status in ("optimal", "feasible") and bool(np.all(self.labels >= 0))

    @property
    def n_groups(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) and self.labels.max() >= 0 else 0

    @property
    def compiled(self) -> Compiled | None:
        """The compiled rules when there is a single part (no tier/region split)."""
        return self.parts[0].compiled if len(self.parts) == 1 else None

    @property
    def group_names(self) -> list[str]:
        """Name of each group (0-based label -> name): existing names kept, new ones numbered."""
        names: list[str | None] = [None] * self.n_groups
        for p in self.parts:
            if p.offset < 0 or p.compiled is None:
                continue
            gn = p.compiled.group_names
            ex = set(gn[: int(p.compiled.existing.max()) + 1]) if (
                gn is not None and p.compiled.existing is not None) else set()
            k = int(self.labels[p.rows].max()) + 1 - p.offset
            for g in range(k):
                if gn is not None and gn[g] in ex:
                    names[p.offset + g] = gn[g]
        return fill_group_names(names)

    @property
    def meeting_slots(self) -> list[str]:
        """Meeting slot of each group (when the common-slot rule is on; else empty strings)."""
        slots = [""] * self.n_groups
        for p in self.parts:
            if p.offset < 0 or p.compiled is None or p.compiled.problem.slots is None:
                continue
            local = meeting_slots(p.compiled, self.labels[p.rows] - p.offset)
            for g, sl in enumerate(local):
                slots[p.offset + g] = sl
        return slots

    @property
    def groups(self) -> pd.DataFrame:
        df = self.table.frame.copy()
        col = "group"
        existing = [c for c in df.columns if c.strip().casefold() == "group"]
        if existing:
            col = existing[0]
        names = self.group_names if self.success else []
        df[col] = [names[g] if g >= 0 and names else "" for g in self.labels]
        if self.success and self.rules.common_slot:
            slots = self.meeting_slots
            df["meeting_slot"] = [slots[g] for g in self.labels]
        return df

    @property
    def unplaced(self) -> pd.DataFrame:
        """Every candidate without a group, with the reason (empty on success)."""
        rows, why = [], []
        for p in self.parts:
            miss = p.rows[self.labels[p.rows] < 0]
            reason = "; ".join(p.reasons) or "; ".join(self.reasons) or self.message
            rows.extend(miss.tolist())
            why.extend([reason] * len(miss))
        rows_a = np.array(rows, dtype=np.int64)
        order = np.argsort(rows_a, kind="stable")
        return pd.DataFrame({"id": self.table.ids[rows_a][order],
                             "line": self.table.lines[rows_a][order],
                             "reason": [why[k] for k in order]})

    @property
    def group_stats(self) -> pd.DataFrame:
        if self._stats is None:
            if not self.success:
                self._stats = pd.DataFrame()
            else:
                from .quality import group_stats

                stats = group_stats(self.affinity, self.labels, self.features)
                names = self.group_names  # a property: compute it once, not once per group
                # "group" means the name users see everywhere; "label" is the 0-based index.
                stats.insert(0, "group", [names[g] for g in stats["label"]])
                if self.rules.common_slot:
                    stats["meeting_slot"] = self.meeting_slots
                self._stats = stats
        return self._stats

    @property
    def penalties(self) -> dict[str, float]:
        """Each soft rule's penalty (balance, repeats, moves); empty without soft rules.

        The solver maximises ``score - sum(penalties.values())`` (:attr:`objective`);
        ``score`` itself is the raw total affinity.
        """
        out: dict[str, float] = {}
        if not self.success:
            return out
        for p in self.parts:
            if p.compiled is None or p.offset < 0:
                continue
            for k, v in p.compiled.penalties(self.labels[p.rows] - p.offset).items():
                out[k] = out.get(k, 0.0) + v
        return out

    @property
    def objective(self) -> float:
        """What the solver maximises: :attr:`score` minus the soft :attr:`penalties`."""
        return float(self.score - sum(self.penalties.values()))

    def violations(self) -> list[Violation]:
        """Broken hard rules of this grouping, as :class:`~peermatch.rules.Violation`
        values (rule family, group, members, message); empty when all hold."""
        if not self.success:
            return [Violation("sizes", None, (), f"no grouping ({self.status})")]
        out: list[Violation] = []
        for p in self.parts:
            local = self.labels[p.rows] - p.offset
            prefix = f"{p.label}: " if p.label else ""
            out.extend(replace(v, message=prefix + v.message)
                       for v in check_violations(p.compiled, local))
        # Parts never share a group.
        seen: dict[int, int] = {}
        rule = "separate_tiers" if self.rules.separate_tiers else "same_region"
        for k, p in enumerate(self.parts):
            for g in np.unique(self.labels[p.rows]):
                if seen.setdefault(int(g), k) != k:
                    name = self.group_names[g]
                    out.append(Violation(rule, name, (), f"group {name} mixes "
                                         f"{self.parts[seen[g]].label} and {p.label}"))
        return out

    def raise_for_status(self) -> MatchResult:
        """Return ``self`` when a grouping was found; else raise :class:`InfeasibleError`.

        For scripts that prefer an exception to checking :attr:`success`; the error's
        ``reasons`` are :attr:`reasons` and its ``status`` is :attr:`status`.

        >>> import peermatch as pm
        >>> res = pm.match(pm.synth_candidates(10, seed=1), min_size=10, max_size=10,
        ...                rules=pm.Rules(competitors=()), time_limit=1)
        >>> res.raise_for_status() is res
        True
        """
        if self.success:
            return self
        from .errors import InfeasibleError

        exc = InfeasibleError(self.message, self.reasons)
        exc.status = self.status
        raise exc

    def validate(self) -> list[str]:
        """Broken hard rules of this grouping, in plain words (empty when all hold)."""
        return [v.message for v in self.violations()]

    def explain(self, member: str) -> str:
        """Why ``member`` (an id) is in their group, in words a program manager can read."""
        from .explain import explain_result

        pos = {str(x): i for i, x in enumerate(self.table.ids)}
        if str(member) not in pos:
            raise KeyError(f"No candidate with id {member!r}.")
        i = pos[str(member)]
        if self.labels[i] < 0:
            return f"{member} is not placed: {'; '.join(self.reasons) or self.message}"
        return explain_result(self, i).to_text()  # next-best group: one it may legally join

    @group_size_pair
    def as_grouping(self, *, min_size: int | None = None, max_size: int | None = None):
        """This grouping as a :class:`~peermatch.grouping.Grouping`: what
        :func:`peermatch.read_grouping` gives for a result (for checks, pairs, calendars).

        ``min_size`` and ``max_size`` bound the sizes a change may reach (default: the
        rules' own; ``group_size=(min, max)`` is the deprecated spelling)."""
        from .grouping import Grouping

        return Grouping.from_result(self, min_size=min_size, max_size=max_size)

    # -- export ------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike) -> None:
        """Write :attr:`groups` to ``path`` (UTF-8, written atomically)."""
        atomic_write_text(path, self.groups.to_csv(index=False, lineterminator="\n"))

    @property
    def plans(self) -> list[tuple[str, Any]]:
        """``(part label, plan)`` of every part the solver ran: which engines solved it and
        why (:class:`peermatch.solve.Plan`; ``print(plan)`` shows it). One entry when the
        rules do not split the table; none when a rule check stopped the match first."""
        return [(p.label, p.solve["plan"]) for p in self.parts
                if p.solve is not None and p.solve.get("plan") is not None]

    def size_bounds(self) -> tuple[int, int] | None:
        """``(smallest, largest)`` group size the compiled rules allowed, over all parts
        (None when nothing was compiled)."""
        los, his = [], []
        for part in self.parts:
            c = part.compiled
            if c is None:
                continue
            pr = c.problem
            if pr.bounds is not None:
                los.append(int(pr.bounds[:, 0].min()))
                his.append(int(pr.bounds[:, 1].max()))
            else:
                los.append(int(pr.min_size))
                his.append(int(pr.max_size))
        return (min(los), max(his)) if los else None

    def summary(self) -> dict[str, Any]:
        """Machine-readable summary (what ``--json`` and ``--summary`` print)."""
        sizes = np.bincount(self.labels[self.labels >= 0]).tolist() if self.success else []
        out: dict[str, Any] = {
            "status": self.status, "success": self.success, "message": self.message,
            "candidates": int(self.table.n), "groups": self.n_groups,
            "placed": int(np.sum(self.labels >= 0)), "unplaced": int(np.sum(self.labels < 0)),
            "score": None if not np.isfinite(self.score) else round(float(self.score), 6),
            "bound": None if not np.isfinite(self.bound) else round(float(self.bound), 6),
            "penalties": {k: round(v, 6) for k, v in self.penalties.items()},
            "objective": (None if not np.isfinite(self.score) else
                          round(float(self.objective), 6)),
            "group_sizes": sizes,
            "size_counts": {str(k): v for k, v in size_counts(sizes).items()},
            "method": self.method, "seed": self.seed,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "reasons": list(self.reasons),
        }
        info = {k: self.solver.get(k) for k in ("time_to_feasible", "time_to_best", "iterations")
                if isinstance(self.solver.get(k), (int, float, np.integer, np.floating))}
        hist = self.solver.get("history")
        if hist is not None and len(hist):
            # The first improvement logged is the first valid grouping the solver held.
            info["time_to_first_grouping"] = hist[0][0]
        if info:
            out["solver"] = {k: round(float(v), 4) for k, v in info.items()}
        # How the search ran: which representation of the affinity, whether it worked on
        # sub-problems, and whether compilation or an interrupt cut it short.
        rep = getattr(self.affinity, "representation", "dense")
        out.setdefault("solver", {})["representation"] = str(rep)
        for k in ("decomposition", "compile_cut", "interrupted"):
            if self.solver.get(k) is not None:
                out["solver"][k] = bool(self.solver.get(k))
        if self.solver.get("compile_wait") is not None:
            out["solver"]["compile_wait"] = float(self.solver["compile_wait"])
        if self.solver.get("sub_problems") is not None:
            out["solver"]["sub_problems"] = int(self.solver["sub_problems"])
        if self.solver.get("distributed"):  # the Dask scheduler and workers that solved it
            out["solver"]["distributed"] = _plain(self.solver["distributed"])
        if self.success:
            st = self.group_stats
            out["mean_pair_affinity"] = {"worst_group": round(float(st["mean_pair"].min()), 6),
                                         "spread": round(float(st["mean_pair"].std(ddof=0)), 6)}
            out["violations"] = self.validate()
            out.update(_fairness_summary(self))
        return out

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<MatchResult status={s['status']!r} candidates={s['candidates']} "
                f"groups={s['groups']} score={s['score']}>")


def _plain(d: dict) -> dict:
    """``d`` with numpy scalars as Python numbers (JSON-ready)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in d.items()}


def _fairness_summary(res: MatchResult) -> dict[str, Any]:
    """The floor of a grouping and, with fairness > 0, what the floor phase changed."""
    from .quality import member_scores
    from .scoring import grouping_score

    fit = member_scores(res.affinity, res.labels)
    out: dict[str, Any] = {"floor": round(float(fit[res.labels >= 0].min()), 6)}
    info = res.solver
    ref_labels = info.get("reference_labels")
    if info.get("fairness") and ref_labels is not None:
        # the same run's grouping before its floor phase, measured like the result
        ref_labels = np.asarray(ref_labels)
        ref = float(grouping_score(res.affinity, ref_labels))
        ref_fit = member_scores(res.affinity, ref_labels)
        out["fairness"] = {
            "level": float(info["fairness"]),
            "reference": "total-maximising grouping of the same run, before the floor phase",
            "floor_reference": round(float(ref_fit[ref_labels >= 0].min()), 6),
            "score_reference": round(ref, 6),
            "score_change": round((float(res.score) - ref) / abs(ref), 6) if ref else 0.0,
        }
    return out
