"""Why a member is in their group, in words a program manager can read.

:func:`explain_member` explains one member's place; given a ``legal`` check (as
:func:`explain_result` passes it) the next-best group it names is one the member could
join without breaking a hard rule. :func:`explain_together` answers "why are A and B not
together?": the rules that keep them apart, or the score cost of putting them together.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._compat import group_size_pair, renamed_keywords
from .core import block
from .errors import ConfigError
from .features import Features
from .grouping import find_member, read_grouping
from .scoring import ScoringPrep, Weights, label_codes
from .text import offers_meeting_wants, shared_terms

__all__ = ["who_is", "shown_change", "MemberExplanation", "PeerContribution", "explain_member",
           "explain_result", "member_explanations", "TieReasons", "TogetherExplanation",
           "explain_together"]

# A caliber component at least this high reads as "similar company size" (about 0.5
# decade apart at the default scale).
_SIMILAR_SIZE = 0.6
# Line width of the text explanation.
_WIDTH = 88
# With the hard rules, the next-best group is looked for among this many best fits.
_LEGAL_TRIES = 30


@dataclass
class PeerContribution:
    """What one groupmate adds to a member's score.

    Attributes
    ----------
    index : int
        Position of the groupmate.
    id, name : str
        Their id and display name.
    affinity : float
        ``A[i, j]``.
    parts : dict of str to float
        Weighted components (``w_k * S_k[i, j]``) by component name; empty without features.
    reasons : list of str
        The components in words, largest contribution first.
    """

    index: int
    id: str
    name: str
    affinity: float
    parts: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


@dataclass
class MemberExplanation:
    """Why member ``index`` is in group ``group_name`` (the output of :func:`explain_member`).

    Attributes
    ----------
    index : int
        Position of the member.
    id, name : str
        Id and display name.
    label : int
        The member's 0-based group label (as in ``labels``).
    group_name : str
        The group's name, as in the ``group`` column of ``MatchResult.groups``.
    score : float
        Mean affinity to the rest of the group (0 alone).
    peers : list of PeerContribution
        Every groupmate, strongest tie first.
    next_label : int or None
        Label of the other non-empty group with the highest mean affinity to the member.
    next_group_name : str or None
        Its name.
    next_score : float
        The member's mean affinity to that group (NaN when there is none).
    margin : float
        ``score - next_score``: how much better the current group fits (negative: the
        other group would fit better on affinity alone; hard rules may forbid the move).
    next_has_seat : bool or None
        With a ``legal`` check: whether the next-best group has a free seat (False: the
        move needs a swap to keep the sizes). None without the check.
    blocked : list of (int, str, float, list of str)
        With a ``legal`` check: groups that fit better on affinity than the next-best one
        but that the member cannot legally join, as ``(label, name, mean affinity, rules
        the move would break)``, best first (at most three).
    """

    index: int
    id: str
    name: str
    label: int
    group_name: str
    score: float
    peers: list[PeerContribution]
    next_label: int | None
    next_group_name: str | None
    next_score: float
    margin: float
    next_has_seat: bool | None = None
    blocked: list[tuple[int, str, float, list[str]]] = field(default_factory=list)
    legal_checked: bool = False
    legal_capped: bool = False

    def to_dict(self, top: int | None = None) -> dict:
        """The explanation as plain data (what ``peermatch explain --json`` prints)."""
        peers = self.peers if top is None else self.peers[:max(top, 0)]
        nxt = None
        if self.next_label is not None:
            nxt = {"group": self.next_group_name, "mean_affinity": self.next_score,
                   "margin": self.margin, "legal": self.legal_checked,
                   "has_seat": self.next_has_seat}
        return {
            "member": self.id, "id": self.id, "name": self.name, "group": self.group_name,
            "score": self.score,
            "top": [{"id": p.id, "name": p.name, "affinity": p.affinity, "reasons": p.reasons}
                    for p in peers],
            "next_best_group": nxt,
            "next_group": self.next_group_name,
            "next_score": self.next_score if self.next_label is not None else None,
            "margin": self.margin if self.next_label is not None else None,
            "better_but_blocked": [{"group": nm, "mean_affinity": sc, "breaks": why}
                                   for _, nm, sc, why in self.blocked],
            "peers": [{"id": p.id, "name": p.name, "affinity": p.affinity, "parts": p.parts,
                       "reasons": p.reasons} for p in self.peers],
        }

    def to_text(self, top: int = 3) -> str:
        """The explanation as a short paragraph and bullet list.

        Parameters
        ----------
        top : int, default=3
            Number of groupmates listed.
        """
        who = self.name if self.name == self.id else f"{self.name} ({self.id})"
        if not self.peers:
            lines = [f"{who} is alone in group {self.group_name}."]
        else:
            others = len(self.peers)
            lines = [f"{who} is in group {self.group_name} with {others} other member"
                     f"{'s' if others != 1 else ''}; mean affinity to them {self.score:.2f}."]
            shown = self.peers[:max(top, 0)]
            if shown:
                lines.append("Strongest ties:" if len(shown) > 1 else "Strongest tie:")
            for p in shown:
                why = "; ".join(p.reasons) if p.reasons else "no shared goals or expertise"
                lines.append(textwrap.fill(f"- {who_is(p.name, p.id, f'affinity {p.affinity:.2f}')}"
                                           f": {why}.",
                                           width=_WIDTH, initial_indent="  ",
                                           subsequent_indent="    "))
        if self.next_label is None:
            if self.legal_capped:
                lines.append(f"None of the {_LEGAL_TRIES} best-fitting other groups could "
                             "take them without breaking a hard rule.")
            else:
                lines.append("No other group could take them without breaking a hard rule."
                             if self.legal_checked and self.blocked else
                             "There is no other group to compare with.")
        else:
            if self.margin >= 0:
                cmp = f"{self.margin:.2f} lower than here"
            elif self.legal_checked:
                cmp = (f"{-self.margin:.2f} higher than here; the other members' ties keep "
                       f"{self.name} in group {self.group_name}")
            else:
                cmp = (f"{-self.margin:.2f} higher than here; the hard rules or the other "
                       f"members' ties keep {self.name} in group {self.group_name}")
            seat = ""
            if self.legal_checked and self.next_has_seat is False:
                seat = "; it is full, so joining it means a swap"
            lines.append(f"Next-best group: {self.next_group_name}, mean affinity "
                         f"{self.next_score:.2f} ({cmp}{seat}).")
        for _, nm, sc, why in self.blocked:
            lines.append(f"Group {nm} would fit better on affinity ({sc:.2f}) but "
                         f"{self.name} may not join it: {why[0]}"
                         f"{f' (and {len(why) - 1} more)' if len(why) > 1 else ''}.")
        return "\n".join(textwrap.fill(x, width=_WIDTH, subsequent_indent="  ")
                         if not x.startswith("  ") else x for x in lines)

    def __str__(self) -> str:
        return self.to_text()


def explain_member(i: int, A: np.ndarray, labels, features: Features | None = None,
                   weights: Weights | None = None, *,
                   group_names: Sequence[str] | None = None,
                   legal: Callable[[int, int], tuple[list[str], bool]] | None = None,
                   ) -> MemberExplanation:
    """Explain why member ``i`` is in their group.

    Parameters
    ----------
    i : int
        Position of the member.
    A : ndarray of shape (n, n)
        The affinity the grouping was made with.
    labels : array-like of shape (n,) of int
        Groups ``0..m-1`` (``i`` must be placed).
    features : Features or None, default=None
        Names the people, goals and expertise; without it only the numbers are given.
    weights : Weights or None, default=None
        The weights ``A`` was built with (None: ``Weights()``); used to split each
        affinity into its parts.
    group_names : sequence of str or None, default=None
        Display name of each label; None numbers groups from 1.
    legal : callable or None, default=None
        ``legal(i, h) -> (broken, has_seat)``: the hard rules (other than group sizes)
        that moving ``i`` into group ``h`` would break, and whether ``h`` has a free seat.
        With it the next-best group is the best one ``i`` may legally join (groups that
        fit better but break a rule are listed in ``blocked``); without it, the best on
        affinity alone. :func:`explain_result` passes the rules of a result.

    Returns
    -------
    MemberExplanation
        Call ``.to_text()`` for the words.

    Notes
    -----
    Recomputes the components of row ``i`` only: ``O(n)`` beyond reading ``A``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import encode
    >>> from peermatch.scoring import affinity
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abcd"), "name": ["Ana", "Ben", "Cy", "Di"]}),
    ...     source="<DataFrame>", columns={"id": "id", "name": "name"},
    ...     lines=np.arange(2, 6), ids=np.array(list("abcd"), dtype=object),
    ...     industry=np.array(["retail", "software", "retail", "law"], dtype=object),
    ...     employees=np.array([120.0, 150.0, 5.0, 40.0]), revenue=np.full(4, np.nan),
    ...     goals=[["growth", "pricing"], ["growth", "hiring"], ["exit"], ["hiring"]],
    ...     expertise=[["hiring"], ["pricing"], [], ["growth"]])
    >>> f = encode(t)
    >>> A = affinity(f)
    >>> print(explain_member(0, A, [0, 0, 1, 1], f).to_text())
    Ana (a) is in group 1 with 1 other member; mean affinity to them 1.50.
    Strongest tie:
      - Ben (b, affinity 1.50): similar company size: 120 vs 150 employees; Ben's expertise
        in pricing meets Ana's goal; Ana's expertise in hiring meets Ben's goal; shares 1
        goal with Ben (growth); different industry: retail vs software.
    Next-best group: 2, mean affinity 0.70 (0.80 lower than here).
    """
    from .affinity import as_affinity

    A = as_affinity(A)
    lab = label_codes(labels, A.shape[0])
    n = lab.shape[0]
    i = int(i)
    if not 0 <= i < n or lab[i] < 0:
        raise ValueError(f"Member {i} is not a placed candidate (n={n}).")
    weights = Weights() if weights is None else weights
    g = int(lab[i])
    m = int(lab.max()) + 1

    def gname(h: int) -> str:
        return str(group_names[h]) if group_names is not None else str(h + 1)

    ids = features.ids if features is not None else np.arange(n)
    names = features.names if features is not None else np.array([str(k) for k in range(n)])
    row = A[i].astype(np.float64)
    mates = np.flatnonzero((lab == g) & (np.arange(n) != i))

    parts_row: dict[str, np.ndarray] = {}
    if features is not None:
        prep = ScoringPrep(features, weights, np.float64)
        ws = [np.empty((1, n)) for _ in range(2)]
        for name, w in prep.weighted():
            if w == 0.0:
                continue
            out = np.empty((1, n))
            prep.component(name, i, i + 1, out, ws)
            parts_row[name] = w * out[0]

    peers = []
    for j in mates[np.argsort(-row[mates], kind="stable")]:
        parts = {k: float(v[j]) for k, v in parts_row.items()}
        reasons = _reasons(i, int(j), features, weights, parts) if features is not None else []
        peers.append(PeerContribution(int(j), str(ids[j]), str(names[j]), float(row[j]),
                                      parts, reasons))
    score = float(row[mates].mean()) if mates.size else 0.0

    # Mean affinity of i to every other non-empty group, in one bincount.
    placed = (lab >= 0) & (np.arange(n) != i)
    sums = np.bincount(lab[placed], weights=row[placed], minlength=m)
    counts = np.bincount(lab[placed], minlength=m)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    means[g] = -np.inf
    nxt, nxt_name, nxt_score, seat = None, None, float("nan"), None
    blocked: list[tuple[int, str, float, list[str]]] = []
    capped = False
    if legal is None:
        if np.isfinite(means).any():
            h = int(np.argmax(means))
            nxt, nxt_name, nxt_score = h, gname(h), float(means[h])
    else:
        # Best group first; the first one the member may join is the next-best (among
        # the _LEGAL_TRIES best fits: each try checks every rule of the grouping).
        for k, h in enumerate(np.argsort(-means, kind="stable")):
            h = int(h)
            if not np.isfinite(means[h]):
                break
            if k >= _LEGAL_TRIES:
                capped = True
                break
            broken, has_seat = legal(i, h)
            if not broken:
                nxt, nxt_name, nxt_score, seat = h, gname(h), float(means[h]), bool(has_seat)
                break
            if len(blocked) < 3:
                blocked.append((h, gname(h), float(means[h]), list(broken)))
    return MemberExplanation(
        index=i, id=str(ids[i]), name=str(names[i]), label=g, group_name=gname(g),
        score=score, peers=peers, next_label=nxt, next_group_name=nxt_name,
        next_score=nxt_score, margin=score - nxt_score if nxt is not None else float("nan"),
        next_has_seat=seat, blocked=blocked, legal_checked=legal is not None,
        legal_capped=capped,
    )


def who_is(name: str, key: str, extra: str = "") -> str:
    """A member as a reader tells them apart: ``"Quinn Rossi (M0042)"``, with ``extra``
    inside the brackets (``"Quinn Rossi (M0042, affinity 1.76)"``); the id alone when the
    name is the id. Names repeat in real lists; ids do not.

    >>> who_is("Quinn Rossi", "M0042", "affinity 1.76"), who_is("M7", "M7")
    ('Quinn Rossi (M0042, affinity 1.76)', 'M7')
    """
    inside = ", ".join(x for x in ((key if name != key else ""), extra) if x)
    head = name if name != key else key
    return f"{head} ({inside})" if inside else head


def _terms(labels: list[str]) -> str:
    return "; ".join(labels)


def _reasons(i: int, j: int, f: Features, w: Weights, parts: dict[str, float]) -> list[str]:
    """Plain-language reasons for the tie ``i``-``j``, largest weighted part first."""
    a, b = str(f.names[i]), str(f.names[j])
    gi, gj = set(f.goal_terms(i)), set(f.goal_terms(j))
    xi, xj = f.expertise_terms(i), f.expertise_terms(j)
    gi_keys = {t.casefold() for t in gi}
    gj_keys = {t.casefold() for t in gj}
    found: list[tuple[float, int, str]] = []  # (weighted part, order, text)

    def add(key: str, text: str) -> None:
        found.append((parts.get(key, 0.0), len(found), text))

    if parts.get("inspiration", 0.0) > 0:
        meets = [t for t in xj if t.casefold() in gi_keys]
        if meets:
            add("inspiration", f"{b}'s expertise in {_terms(meets)} meets {a}'s goal"
                f"{'s' if len(meets) > 1 else ''}")
        meets = [t for t in xi if t.casefold() in gj_keys]
        if meets:
            add("inspiration", f"{a}'s expertise in {_terms(meets)} meets {b}'s goal"
                f"{'s' if len(meets) > 1 else ''}")
    if parts.get("goals", 0.0) > 0:
        shared = [t for t in f.goal_terms(i) if t.casefold() in gj_keys]
        add("goals", f"shares {len(shared)} goal{'s' if len(shared) != 1 else ''} with {b} "
            f"({_terms(shared)})")
    if "caliber" in parts and f.size_known[i] and f.size_known[j]:
        close = parts["caliber"] / w.caliber >= _SIMILAR_SIZE if w.caliber else False
        word = "similar" if close else "different"
        add("caliber", f"{word} company size: {_size_words(f, i, j)}")
    if "diversity" in parts and f.sector[i] != f.sector[j]:
        add("diversity", f"different industry: {f.industry_labels[f.industry[i]]} vs "
            f"{f.industry_labels[f.industry[j]]}")
    for spec in w.columns:
        key = "column:" + spec.name
        col = f.columns.get(spec.name)
        if key not in parts or col is None or not (col.known[i] and col.known[j]):
            continue
        if col.kind == "categorical":
            vi, vj = col.labels[int(col.values[i])], col.labels[int(col.values[j])]
            text = f"same {spec.name}: {vi}" if vi == vj else f"different {spec.name}: {vi} vs {vj}"
        else:
            text = f"{spec.name}: {col.values[i]:g} vs {col.values[j]:g}"
        add(key, text)
    for key, text in _text_reasons(i, j, f, w, parts):
        add(key, text)
    found.sort(key=lambda x: (-x[0], x[1]))
    return [text for _, _, text in found]


def _text_reasons(i: int, j: int, f: Features, w: Weights,
                  parts: dict[str, float]) -> list[tuple[str, str]]:
    """``(component, words)`` of each text part that adds to the tie, quoting the
    distinctive words the two members share (:func:`peermatch.text.shared_terms`) or
    those of one member's offers that meet the other's goals, both ways
    (:func:`peermatch.text.offers_meeting_wants`). A part with nothing to quote (vectors
    brought by the user, or only common words shared) is named by its column."""
    a, b = str(f.names[i]), str(f.names[j])
    texts = getattr(f, "texts", {})
    specs = [s for s in w.columns if s.kind == "text" and s.name in texts]
    several = {side: sum(s.side == side for s in specs) > 1 for side in ("wants", "offers",
                                                                       "own")}
    out: list[tuple[str, str]] = []
    for s in specs:
        key = "text:" + s.name
        if parts.get(key, 0.0) <= 0:
            continue
        tag = f" ({s.name})" if several[s.side] else ""
        if s.side != "offers":
            terms = shared_terms(f, i, j, side=s.side, column=s.name)
            out.append((key, f"both write about{tag}: {', '.join(terms)}" if terms
                        else f"similar answers to {s.name}"))
            continue
        said = False
        for x, y, who, whom in ((j, i, b, a), (i, j, a, b)):
            terms = offers_meeting_wants(f, x, y, column=s.name)
            if terms:
                out.append((key, f"{who}'s offers{tag} ({', '.join(terms)}) meet {whom}'s "
                                 f"goals"))
                said = True
        if not said:
            out.append((key, f"{b}'s and {a}'s offers ({s.name}) meet the other's goals"))
    return out


def _size_words(f: Features, i: int, j: int) -> str:
    si, sj = str(f.size_text[i]), str(f.size_text[j])
    unit = " employees"
    if si.endswith(unit) and sj.endswith(unit):
        return f"{si[: -len(unit)]} vs {sj}"
    return f"{si} vs {sj}"


# --------------------------------------------------------------------------------------
# Explanations that know the hard rules
# --------------------------------------------------------------------------------------

def _legal_check(result) -> Callable[[int, int], tuple[list[str], bool]]:
    """``legal(i, h)`` for a MatchResult: what moving member ``i`` into group ``h`` breaks."""
    G = read_grouping(result)
    local = {nm: k for k, nm in enumerate(G.names)}
    to_local = [local[nm] for nm in result.group_names]

    def legal(i: int, h: int) -> tuple[list[str], bool]:
        return G.legal_join(int(i), to_local[int(h)])

    return legal


def member_explanations(result, rows: Sequence[int]) -> dict[int, MemberExplanation]:
    """:func:`explain_member` of several members of a result, the rules compiled once.

    The next-best group of each is one they could join without breaking a hard rule.
    """
    rows = [int(i) for i in rows]
    if not rows:
        return {}
    legal = _legal_check(result)
    names = result.group_names
    return {i: explain_member(i, result.affinity, result.labels, result.features,
                              result.weights, group_names=names, legal=legal) for i in rows}


def explain_result(result, member: str | int) -> MemberExplanation:
    """Why ``member`` (an id, or a position) is in their group of ``result``.

    Like :func:`explain_member`, with the result's hard rules: the next-best group is the
    best group the member could legally join (never one holding their competitor).

    >>> import peermatch as pm
    >>> res = pm.match(pm.synth_candidates(30, seed=1), min_size=5, max_size=8, time_limit=1)
    >>> ex = explain_result(res, "M0001")
    >>> ex.id, ex.group_name == res.group_names[res.labels[0]]
    ('M0001', True)
    """
    i = member if isinstance(member, (int, np.integer)) else find_member(
        result.table.ids, str(member), str(result.table.source))
    return member_explanations(result, [int(i)])[int(i)]


class TieReasons:
    """Plain-language reasons of pair ties, the components of each member computed once.

    >>> import peermatch as pm
    >>> from peermatch.features import encode
    >>> from peermatch.candidates import read_candidates
    >>> f = encode(read_candidates(pm.synth_candidates(6, seed=3)))
    >>> isinstance(TieReasons(f).reasons(0, 1), list)
    True
    """

    def __init__(self, features: Features, weights: Weights | None = None):
        self.features = features
        self.weights = Weights() if weights is None else weights
        self._prep = None
        self._rows: dict[int, dict[str, np.ndarray]] = {}

    def parts(self, i: int) -> dict[str, np.ndarray]:
        """Weighted components of row ``i`` (``w_k * S_k[i, :]``) by name."""
        if i not in self._rows:
            if self._prep is None:
                self._prep = ScoringPrep(self.features, self.weights, np.float64)
            n = len(self.features.ids)
            ws = [np.empty((1, n)) for _ in range(2)]
            out: dict[str, np.ndarray] = {}
            for name, w in self._prep.weighted():
                if w == 0.0:
                    continue
                row = np.empty((1, n))
                self._prep.component(name, i, i + 1, row, ws)
                out[name] = w * row[0]
            if len(self._rows) > 4096:
                self._rows.clear()
            self._rows[i] = out
        return self._rows[i]

    def reasons(self, i: int, j: int) -> list[str]:
        """Why ``i`` and ``j`` fit, largest weighted part first (see :func:`explain_member`)."""
        parts = {k: float(v[j]) for k, v in self.parts(int(i)).items()}
        return _reasons(int(i), int(j), self.features, self.weights, parts)


@dataclass
class TogetherExplanation:
    """Why two members are not in one group (the output of :func:`explain_together`).

    Attributes
    ----------
    ids, names : (str, str)
        The two members.
    groups : (str, str)
        Their groups.
    together : bool
        They already share a group.
    affinity : float
        Their pair affinity ``A[a, b]``.
    pair_rules : list of str
        Rules that keep them apart in *every* grouping (they compete, a declared conflict,
        they met too often before, tiers or regions that must not mix, ...).
    options : list of dict
        Each way of putting them together that was checked (move one into the other's
        group, or swap one with a member of the other group): ``kind``, ``moves`` (``[id,
        from, to]`` lists), ``breaks`` (hard rules it breaks that hold now) and
        ``score_delta`` (change of the total affinity).
    best : dict or None
        The legal option that costs the least score (None when every option breaks a rule).
    reasons : list of str
        What their pair affinity is made of, in words (as :func:`explain_member` gives a
        groupmate's): shared goals, expertise or offers that meet a goal, the words their
        answers share.
    """

    ids: tuple[str, str]
    names: tuple[str, str]
    groups: tuple[str, str]
    together: bool
    affinity: float
    score: float
    pair_rules: list[str] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)
    best: dict | None = None
    reasons: list[str] = field(default_factory=list)

    def _who(self, k: int) -> str:
        return self.ids[k] if self.names[k] == self.ids[k] else f"{self.names[k]} ({self.ids[k]})"

    def to_dict(self) -> dict:
        return {"member": self.ids[0], "with": self.ids[1], "groups": list(self.groups),
                "together": self.together, "affinity": self.affinity, "score": self.score,
                "pair_rules": list(self.pair_rules), "best": self.best,
                "options": list(self.options), "reasons": list(self.reasons),
                "text": self.to_text()}

    def to_text(self) -> str:
        a, b = self._who(0), self._who(1)
        tie = f" Their tie: {'; '.join(self.reasons)}." if self.reasons else ""
        if self.together:
            return textwrap.fill(f"{a} and {b} are both in group {self.groups[0]} (pair "
                                 f"affinity {self.affinity:.2f}).{tie}", width=_WIDTH,
                                 subsequent_indent="  ")
        lines = [f"{a} is in group {self.groups[0]} and {b} in group {self.groups[1]}; "
                 f"their pair affinity is {self.affinity:.2f}.{tie}"]
        if self.pair_rules:
            lines.append("They can never share a group: " + "; ".join(self.pair_rules) + ".")
        if self.best is not None:
            d = self.best["score_delta"]
            how = _option_words(self.best)
            word = "costs" if d < 0 else "gains"
            before, after, diff = shown_change(self.score, self.score + d)
            lines.append(f"No hard rule keeps them apart. The cheapest way to put them together "
                         f"is to {how}: it keeps every hard rule and {word} {diff} of "
                         f"total affinity (score {before} -> {after}).")
        elif not self.pair_rules:
            lines.append("Every way of putting them together breaks a hard rule:")
        if self.best is None and not self.pair_rules:
            shown = [o for o in self.options if o["kind"] == "move"]
            swaps = [o for o in self.options if o["kind"] == "swap"]
            if swaps:
                shown.append(min(swaps, key=lambda o: (len(o["breaks"]), -o["score_delta"])))
            for o in shown:
                more = len(o["breaks"]) - 1
                lines.append(f"  - {_option_words(o)}: {o['breaks'][0]}"
                             + (f" (and {more} more)" if more else ""))
        return "\n".join(x if x.startswith("  ") else textwrap.fill(
            x, width=_WIDTH, subsequent_indent="  ") for x in lines)

    def __str__(self) -> str:
        return self.to_text()


def shown_change(before: float, after: float, *, thousands: bool = False
                 ) -> tuple[str, str, str]:
    """``before``, ``after`` and the size of the change as text, with the change exactly
    the difference of the two numbers shown: 2 decimals, more when the change would
    otherwise show as zero (up to 6).

    >>> shown_change(146.234, 143.594)
    ('146.23', '143.59', '2.64')
    >>> shown_change(10.0, 10.0004)
    ('10.0000', '10.0004', '0.0004')
    >>> shown_change(1234.567, 1230.0, thousands=True)
    ('1,234.57', '1,230.00', '4.57')
    """
    digits = 2
    while True:
        a, b = round(before, digits), round(after, digits)
        if a != b or before == after or digits >= 6:
            break
        digits += 1
    sep = "," if thousands else ""
    return f"{a:{sep}.{digits}f}", f"{b:{sep}.{digits}f}", f"{abs(b - a):{sep}.{digits}f}"


def _option_words(o: dict) -> str:
    if o["kind"] == "move":
        who, _, to = o["moves"][0]
        return f"move {who} into group {to}"
    (x, _, to), (y, _, back) = o["moves"]
    return f"swap {x} (into group {to}) with {y} (into group {back})"


@renamed_keywords(grouping="groups")
@group_size_pair
def explain_together(groups, a: str, b: str, *, weights=None, rules=None,
                     min_size: int | None = None, max_size: int | None = None,
                     columns=None) -> TogetherExplanation:
    """Why members ``a`` and ``b`` are not in one group, and what it takes to join them.

    Checks every way of putting them together by one change: moving either into the
    other's group, or swapping either with a member of the other's group (sizes stay).
    Each is checked against every hard rule (the checks of ``MatchResult.validate``); the
    legal one that loses the least total affinity is ``best``. Rules that forbid the
    pair in any grouping (competitors, declared conflicts, repeats, tiers or regions)
    are listed as ``pair_rules``.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        The grouping (a groups CSV, or a result), read by
        :func:`peermatch.grouping.read_grouping`. (Formerly ``grouping``; that keyword
        still works, with a DeprecationWarning.)
    a, b : str
        Member ids.
    weights, rules, min_size, max_size, columns
        As for :func:`peermatch.report.from_grouping` (ignored for a MatchResult).

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(16, seed=2)
    >>> df["group"] = ["1"] * 8 + ["2"] * 8
    >>> ex = explain_together(df, "M0001", "M0016", rules=pm.Rules(competitors=()))
    >>> ex.together, ex.best["kind"]
    (False, 'swap')
    """
    G = read_grouping(groups, weights=weights, rules=rules, min_size=min_size,
                      max_size=max_size, columns=columns)
    i, j = G.member(a), G.member(b)
    if i == j:
        raise ConfigError(f"--with names the same member twice ({G.ids[i]}).")
    gi, gj = int(G.labels[i]), int(G.labels[j])

    aff = float(block(G.affinity, [i], [j])[0, 0])
    base = G.score()
    out = TogetherExplanation(ids=(G.ids[i], G.ids[j]), names=(G.name_of(i), G.name_of(j)),
                              groups=(G.names[gi], G.names[gj]), together=gi == gj,
                              affinity=aff, score=base)
    if G.features is not None:
        out.reasons = TieReasons(G.features, G.weights).reasons(i, j)
    if gi == gj:
        return out
    out.pair_rules = _pair_rules(G, i, j)
    ids = G.ids

    def option(kind, moves):
        lab = G.moved(*moves)
        broken = G.new_violations(lab)
        rules_only = G.new_violations(lab, sizes=False)
        # The rules first, then the group sizes (a swap keeps sizes, a move may not).
        rest = list(broken)
        for v in rules_only:
            if v in rest:
                rest.remove(v)
        return {"kind": kind,
                "moves": [[ids[x], G.names[int(G.labels[x])], G.names[h]] for x, h in moves],
                "breaks": rules_only + rest, "score_delta": round(G.score(lab) - base, 6)}

    opts = [option("move", [(i, gj)]), option("move", [(j, gi)])]
    for x in np.flatnonzero(G.labels == gj):
        if x != j:
            opts.append(option("swap", [(i, gj), (int(x), gi)]))
    for y in np.flatnonzero(G.labels == gi):
        if y != i:
            opts.append(option("swap", [(j, gi), (int(y), gj)]))
    out.options = opts
    legal = [o for o in opts if not o["breaks"]]
    out.best = max(legal, key=lambda o: o["score_delta"]) if legal else None
    return out


def _pair_rules(G, i: int, j: int) -> list[str]:
    """Rules of the compiled problem that forbid ``i`` and ``j`` in any one group."""
    c = G.compiled
    p = c.problem
    a, b = min(i, j), max(i, j)
    out = []
    if p.cannot_link is not None and len(p.cannot_link):
        hit = np.any((p.cannot_link[:, 0] == a) & (p.cannot_link[:, 1] == b))
        if hit:
            out.append(c.pair_reasons.get((a, b), "declared conflict"))
    for s in p.group_sums:
        ci, cj = float(s.coef[i]), float(s.coef[j])
        hi = float(np.min(s.bounds(G.m)[1]))
        if ci > 0 and cj > 0 and ci + cj > hi + 1e-9:
            out.append(f"they compete ({s.name.split(': ', 1)[1]})"
                       if s.name.startswith("competitors: ") else f"rule '{s.name}'")
    if p.allowed is not None and not np.any(p.allowed[i] & p.allowed[j]):
        out.append("their pinned / allowed groups have none in common")
    if G.part_of is not None and G.part_of[i] != G.part_of[j]:
        out.append(f"{G.parts[G.part_of[i]][0]} and {G.parts[G.part_of[j]][0]} must not mix")
    return out
