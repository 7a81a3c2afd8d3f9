"""Why a member is in their group, in words a program manager can read."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .features import Features
from .scoring import Weights, _labels, _Prep

__all__ = ["MemberExplanation", "PeerContribution", "explain_member"]

# A caliber component at least this high reads as "similar company size" (about 0.5
# decade apart at the default scale).
_SIMILAR_SIZE = 0.6
# Line width of the text explanation.
_WIDTH = 88


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
                lines.append(textwrap.fill(f"- {p.name} (affinity {p.affinity:.2f}): {why}.",
                                           width=_WIDTH, initial_indent="  ",
                                           subsequent_indent="    "))
        if self.next_label is None:
            lines.append("There is no other group to compare with.")
        else:
            if self.margin >= 0:
                cmp = f"{self.margin:.2f} lower than here"
            else:
                cmp = (f"{-self.margin:.2f} higher than here; the hard rules or the other "
                       f"members' ties keep {self.name} in group {self.group_name}")
            lines.append(f"Next-best group: {self.next_group_name}, mean affinity "
                         f"{self.next_score:.2f} ({cmp}).")
        return "\n".join(textwrap.fill(x, width=_WIDTH, subsequent_indent="  ")
                         if not x.startswith("  ") else x for x in lines)

    def __str__(self) -> str:
        return self.to_text()


def explain_member(i: int, A: np.ndarray, labels, features: Features | None = None,
                   weights: Weights | None = None, *,
                   group_names: Sequence[str] | None = None) -> MemberExplanation:
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
      - Ben (affinity 1.50): similar company size: 120 vs 150 employees; Ben's expertise in
        pricing meets Ana's goal; Ana's expertise in hiring meets Ben's goal; shares 1 goal
        with Ben (growth); different industry: retail vs software.
    Next-best group: 2, mean affinity 0.70 (0.80 lower than here).
    """
    from .affinity import as_affinity

    A = as_affinity(A)
    lab = _labels(labels, A.shape[0])
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
        prep = _Prep(features, weights, np.float64)
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
    if np.isfinite(means).any():
        h = int(np.argmax(means))
        nxt, nxt_name, nxt_score = h, gname(h), float(means[h])
    else:
        nxt, nxt_name, nxt_score = None, None, float("nan")
    return MemberExplanation(
        index=i, id=str(ids[i]), name=str(names[i]), label=g, group_name=gname(g),
        score=score, peers=peers, next_label=nxt, next_group_name=nxt_name,
        next_score=nxt_score, margin=score - nxt_score if nxt is not None else float("nan"),
    )


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
    found.sort(key=lambda x: (-x[0], x[1]))
    return [text for _, _, text in found]


def _size_words(f: Features, i: int, j: int) -> str:
    si, sj = str(f.size_text[i]), str(f.size_text[j])
    unit = " employees"
    if si.endswith(unit) and sj.endswith(unit):
        return f"{si[: -len(unit)]} vs {sj}"
    return f"{si} vs {sj}"
