"""Accountability pairs: who checks in with whom between meetings, inside each group.

Inside every group the members are paired by a **maximum-weight matching** on the
two-way affinity (``A[i, j]`` already counts both directions: ``i``'s expertise meeting
``j``'s goal and ``j``'s meeting ``i``'s), computed by :mod:`networkx`. A group of odd
size has exactly one **triad**; its value is the sum of its three ties (each of the three
has two partners), and the triad is chosen exactly by branch and bound over the triad
choice, a matching of the rest for each. With ``history`` (earlier pairs files), pairs
that met before are avoided while a choice without repeats exists; when none does, the
fewest repeats are used and a note says so.

>>> import peermatch as pm
>>> res = pm.match(pm.synth_candidates(24, seed=5), min_size=7, max_size=9, time_limit=1)
>>> pairs = pm.accountability_pairs(res)
>>> sorted(pairs.frame.columns)[:4]
['affinity', 'group', 'member_1', 'member_2']
>>> placed = [x for col in ("member_1", "member_2", "member_3")
...           for x in pairs.frame[col] if x]
>>> sorted(placed) == sorted(res.table.ids)
True
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .core import block
from .errors import ConfigError

__all__ = ["AccountabilityPairs", "accountability_pairs", "best_pairing", "read_pair_history",
           "read_pairs_table", "check_pairs_fit", "pairs_for_grouping", "PAIR_COLUMNS"]

#: The columns of a pairs table, in order.
PAIR_COLUMNS = ("group", "member_1", "member_2", "member_3", "names", "affinity", "met_before",
                "reason")

# Exact triad search evaluates at most this many matchings per group; beyond it the best
# triad found so far is kept (and a note says the triad may not be the best).
_MAX_TRIAD_EVALS = 4000


@dataclass
class AccountabilityPairs:
    """The accountability pairs of a grouping (the output of :func:`accountability_pairs`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per pair or triad: ``group, member_1, member_2, member_3`` (ids;
        ``member_3`` empty for a pair), ``names`` (each as ``Name (id)``, names repeat),
        ``affinity`` (sum of the ties),
        ``met_before`` (ties that were pairs in the history) and ``reason`` (why they
        fit: shared goals, expertise that meets a goal, ...).
    notes : list of str
        Groups where every choice repeats a pair from the history, or that are too small
        to pair.
    repeats : int
        Ties that were pairs before (0 when the history could be avoided everywhere).
    """

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    repeats: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    def by_group(self) -> dict[str, list[tuple[str, ...]]]:
        """Group name -> its pairs and triads, as tuples of ids."""
        out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for r in self.frame.itertuples(index=False):
            out[str(r.group)].append(tuple(x for x in (r.member_1, r.member_2, r.member_3) if x))
        return dict(out)

    def total_affinity(self) -> dict[str, float]:
        """Group name -> the summed affinity of its pairs and triad."""
        return {str(g): float(v) for g, v in self.frame.groupby("group", sort=False)["affinity"]
                .sum().items()}

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write :attr:`frame` as CSV (UTF-8, written atomically)."""
        from .result import atomic_write_text

        atomic_write_text(path, self.frame.to_csv(index=False, lineterminator="\n"))


def read_pairs_table(source) -> AccountabilityPairs:
    """A pairs table (a CSV written by ``peermatch pairs``, a DataFrame, or pairs as they
    are), checked for its columns."""
    if isinstance(source, AccountabilityPairs):
        return source
    name = "pairs table" if isinstance(source, pd.DataFrame) else str(source)
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise ConfigError(f"{name}: pairs file not found.") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot read the pairs ({exc}).") from None
    missing = [c for c in ("group", "member_1", "member_2") if c not in frame.columns]
    if missing:
        raise ConfigError(f"{name}: a pairs table needs columns group, member_1, member_2 (the "
                          f"output of 'peermatch pairs'); {missing} missing, found "
                          f"{[str(c) for c in frame.columns]}.")
    frame = frame.fillna("").astype({c: str for c in frame.columns if c != "affinity"})
    if "member_3" not in frame.columns:
        frame = frame.assign(member_3="")
    return AccountabilityPairs(frame=frame)


def pairs_for_grouping(source, group_of: dict[str, str], where: str) -> AccountabilityPairs:
    """:func:`read_pairs_table` of ``source``, checked by :func:`check_pairs_fit` against
    the grouping ``group_of`` (member id -> group) called ``where``."""
    name = ("the pairs table" if isinstance(source, (pd.DataFrame, AccountabilityPairs))
            else str(source))
    pairs = read_pairs_table(source)
    check_pairs_fit(pairs, group_of, name=name, where=where)
    return pairs


def check_pairs_fit(pairs: AccountabilityPairs, group_of: dict[str, str], *,
                    name: str = "the pairs table", where: str = "the grouping") -> None:
    """Refuse pairs made for another grouping: a ConfigError that lists every id the
    grouping does not hold, every pair in a group it does not have, and every pair whose
    members are in different groups of it. ``group_of`` maps each member id of the
    grouping to its group; ids are compared in the form of
    :func:`peermatch.candidates.text_key`.

    >>> import pandas as pd
    >>> pairs = read_pairs_table(pd.DataFrame({"group": ["1", "7"], "member_1": ["a", "x"],
    ...                                        "member_2": ["b", "y"]}))
    >>> try:
    ...     check_pairs_fit(pairs, {"a": "1", "b": "1"})
    ... except ConfigError as exc:
    ...     print(exc)
    the pairs table does not fit the grouping: 2 id(s) are not members of it (x, y); 1
    pair(s) are in a group it does not have (group 7: x & y). Make the pairs from this
    grouping (accountability_pairs; command line: peermatch pairs GROUPS.csv --out
    PAIRS.csv).
    """
    from .candidates import text_key

    of = {text_key(str(k)): str(g).strip() for k, g in group_of.items()}
    groups = set(of.values())
    unknown: list[str] = []
    no_group: list[str] = []
    across: list[str] = []
    for r in pairs.frame.to_dict("records"):
        units = [str(r.get(c, "") or "").strip() for c in ("member_1", "member_2", "member_3")]
        units = [x for x in units if x and x != "nan"]
        g = str(r.get("group", "")).strip()
        unknown += [x for x in units if text_key(x) not in of]
        if g not in groups:
            no_group.append(f"group {g}: " + " & ".join(units))
        elif any(of.get(text_key(x), g) != g for x in units):
            across.append(f"group {g}: " + " & ".join(
                f"{x} ({'in group ' + of[text_key(x)] if text_key(x) in of else 'unknown'})"
                for x in units))
    unknown = list(dict.fromkeys(unknown))
    problems = []
    for items, words in ((unknown, "id(s) are not members of it"),
                         (no_group, "pair(s) are in a group it does not have"),
                         (across, "pair(s) join members of different groups of it")):
        if items:
            problems.append(f"{len(items)} {words} ({', '.join(items[:10])}"
                            f"{' ...' if len(items) > 10 else ''})")
    if problems:
        raise ConfigError(f"{name} does not fit {where}: " + "; ".join(problems)
                          + ". Make the pairs from this grouping (accountability_pairs; "
                          "command line: peermatch pairs GROUPS.csv --out PAIRS.csv).")


def read_pair_history(history) -> set[frozenset[str]]:
    """The ties of earlier pairs tables: every pair of ids that were partners.

    ``history`` is one table or a sequence of them: paths of CSVs written by
    ``peermatch pairs``, DataFrames with ``member_1, member_2[, member_3]`` columns, or
    :class:`AccountabilityPairs`. In a triad all three ties count.

    >>> import pandas as pd
    >>> h = pd.DataFrame({"group": ["1", "1"], "member_1": ["a", "c"],
    ...                   "member_2": ["b", "d"], "member_3": ["", "e"]})
    >>> sorted(tuple(sorted(p)) for p in read_pair_history(h))
    [('a', 'b'), ('c', 'd'), ('c', 'e'), ('d', 'e')]
    """
    if history is None:
        return set()
    if isinstance(history, (str, os.PathLike, pd.DataFrame, AccountabilityPairs)):
        history = [history]
    met: set[frozenset[str]] = set()
    for k, h in enumerate(history):
        if isinstance(h, AccountabilityPairs):
            df, name = h.frame, f"history[{k}]"
        elif isinstance(h, pd.DataFrame):
            df, name = h, f"history[{k}]"
        else:
            name = str(h)
            try:
                df = pd.read_csv(h, dtype=str, keep_default_na=False)
            except FileNotFoundError:
                raise ConfigError(f"{name}: pairs history file not found.") from None
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{name}: cannot read the pairs history ({exc}).") from None
        cols = {str(c).strip().casefold(): c for c in df.columns}
        if "member_1" not in cols or "member_2" not in cols:
            raise ConfigError(f"{name}: a pairs history needs columns 'member_1' and 'member_2' "
                              "(the output of 'peermatch pairs'). Found "
                              f"{[str(c) for c in df.columns]}.")
        use = [cols[c] for c in ("member_1", "member_2", "member_3") if c in cols]
        for row in df[use].astype(str).itertuples(index=False):
            ids = [x.strip() for x in row if x.strip() and x.strip().casefold() != "nan"]
            for a, b in itertools.combinations(ids, 2):
                if a != b:
                    met.add(frozenset((a, b)))
    return met


def best_pairing(W: np.ndarray, repeat: np.ndarray | None = None,
                 ) -> tuple[list[tuple[int, ...]], bool]:
    """Split ``k`` people into pairs (one triad when ``k`` is odd), maximising total affinity.

    Parameters
    ----------
    W : ndarray of shape (k, k)
        Symmetric pair affinity.
    repeat : ndarray of shape (k, k) of bool, optional
        Pairs that met before: the fewest of them are used first, then affinity counts.

    Returns
    -------
    groups : list of tuple of int
        Pairs (and one triad when ``k`` is odd), as positions ``0..k-1``.
    exact : bool
        False when the triad search hit its budget (very large odd groups).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 4], [1, 1, 4, 0]], dtype=float)
    >>> best_pairing(W)
    ([(0, 1), (2, 3)], True)
    >>> best_pairing(W[:3, :3])
    ([(0, 1, 2)], True)
    """
    import networkx as nx

    W = np.asarray(W, dtype=np.float64)
    k = W.shape[0]
    if k <= 1:
        return ([(0,)] if k == 1 else []), True
    if k <= 3:
        return [tuple(range(k))], True
    iu = np.triu_indices(k, 1)
    # All weights >= 1 (a matching of a complete graph on an even count is perfect: a
    # constant shift leaves the best one unchanged); each tie that is not a repeat earns
    # a bonus larger than any difference in affinity, so repeats are used last.
    shift = 1.0 - float(W[iu].min())
    Wp = W + shift
    if repeat is not None and np.any(np.asarray(repeat)[iu]):
        ties = k // 2 + (2 if k % 2 else 0)
        big = ties * (float(W[iu].max()) + shift + 1.0) + 1.0
        Wp = Wp + big * (~np.asarray(repeat, dtype=bool))
    np.fill_diagonal(Wp, 0.0)

    def matching(nodes: Sequence[int]) -> tuple[float, list[tuple[int, int]]]:
        if not nodes:
            return 0.0, []
        G = nx.Graph()
        for a, b in itertools.combinations(nodes, 2):
            G.add_edge(a, b, weight=float(Wp[a, b]))
        M = nx.max_weight_matching(G, maxcardinality=True)
        pairs = sorted(tuple(sorted((int(a), int(b)))) for a, b in M)
        return float(sum(Wp[a, b] for a, b in pairs)), pairs

    if k % 2 == 0:
        return matching(list(range(k)))[1], True

    # Odd: choose the triad. Upper bound of a triad T: its value plus half of every other
    # member's best tie (a perfect matching of the rest cannot collect more).
    best_tie = Wp.max(axis=1)
    half = 0.5 * best_tie
    total_half = float(half.sum())
    cands = []
    for t in itertools.combinations(range(k), 3):
        a, b, c = t
        val = Wp[a, b] + Wp[a, c] + Wp[b, c]
        cands.append((val + total_half - half[a] - half[b] - half[c], val, t))
    cands.sort(key=lambda x: -x[0])
    best_val, best = -np.inf, None
    exact = True
    for evals, (ub, val, t) in enumerate(cands):
        if ub <= best_val + 1e-9:
            break
        if evals >= _MAX_TRIAD_EVALS:
            exact = False
            break
        rest = [x for x in range(k) if x not in t]
        mv, mp = matching(rest)
        if val + mv > best_val + 1e-12:
            best_val, best = val + mv, (t, mp)
    t, mp = best
    return sorted([tuple(t), *mp]), exact


def accountability_pairs(groups, history=None, *, weights=None, columns=None,
                         ) -> AccountabilityPairs:
    """Accountability pairs inside each group, with the reason each pair fits.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        A grouping: the output of :func:`peermatch.match` (or its CSV), every row with a
        ``group``.
    history : path, DataFrame, AccountabilityPairs or a sequence of them, optional
        Earlier pairs tables (see :func:`read_pair_history`): pairs that met before are
        avoided while a choice without repeats exists.
    weights : Weights, optional
        Scoring weights for a table (a MatchResult keeps its own).
    columns : dict, optional
        Canonical column name -> column name in the table.

    Returns
    -------
    AccountabilityPairs
        ``.frame`` has the columns of :data:`PAIR_COLUMNS`; ``.notes`` says where the
        history could not be avoided.

    Examples
    --------
    >>> import peermatch as pm
    >>> res = pm.match(pm.synth_candidates(18, seed=2), min_size=6, max_size=6, time_limit=1)
    >>> first = pm.accountability_pairs(res)
    >>> second = pm.accountability_pairs(res, history=first)
    >>> second.repeats, len(second.frame) == len(first.frame)
    (0, True)

    In a group of five, the pair and the triad of one round leave no choice without a
    repeat in the next; the fewest repeats are used, and a note says so:

    >>> res5 = pm.match(pm.synth_candidates(10, seed=2), min_size=5, max_size=5, time_limit=1)
    >>> again = pm.accountability_pairs(res5, history=pm.accountability_pairs(res5))
    >>> again.repeats, "every choice repeats" in again.notes[0]
    (2, True)
    """
    from .explain import TieReasons, who_is
    from .grouping import read_grouping

    G = read_grouping(groups, weights=weights, columns=columns)
    table, feats, A, labels, names, weights = (G.table, G.features, G.affinity, G.labels,
                                               G.names, G.weights)
    ids = [str(x) for x in table.ids]
    disp = ([who_is(str(x), ids[k]) for k, x in enumerate(feats.names)]
            if feats is not None else ids)
    met = read_pair_history(history)
    why = TieReasons(feats, weights) if feats is not None else None
    rows, notes, repeats = [], [], 0
    for g in G.order:
        mem = np.flatnonzero(labels == g)
        if not len(mem):
            continue
        W = block(A, mem)
        W = 0.5 * (W + W.T)
        rep = None
        if met:
            rep = np.array([[frozenset((ids[a], ids[b])) in met for b in mem] for a in mem])
        chosen, exact = best_pairing(W, rep)
        if len(mem) == 1:
            notes.append(f"group {names[g]} has one member ({ids[mem[0]]}): no partner.")
        if not exact:
            notes.append(f"group {names[g]}: {len(mem)} members; the triad is the best of "
                         f"{_MAX_TRIAD_EVALS} tried, not proven best.")
        g_rep = []
        for unit in chosen:
            members = [int(mem[x]) for x in unit]
            ties = list(itertools.combinations(unit, 2))
            aff = float(sum(W[a, b] for a, b in ties))
            n_rep = int(sum(bool(rep[a, b]) for a, b in ties)) if rep is not None else 0
            if n_rep:
                g_rep.extend(" & ".join(ids[int(mem[x])] for x in (a, b)) for a, b in ties
                             if rep[a, b])
            repeats += n_rep
            if why is None or len(members) < 2:
                reason = ""
            elif len(members) == 2:
                reason = "; ".join(why.reasons(*members)) or "no shared goals or expertise"
            else:
                reason = " | ".join(
                    f"{disp[a]} & {disp[b]}: "
                    + ("; ".join(why.reasons(a, b)) or "no shared goals or expertise")
                    for a, b in itertools.combinations(members, 2))
            ms = [ids[x] for x in members] + [""] * (3 - len(members))
            rows.append({"group": names[g], "member_1": ms[0], "member_2": ms[1],
                         "member_3": ms[2], "names": " & ".join(disp[x] for x in members),
                         "affinity": round(aff, 6), "met_before": n_rep, "reason": reason})
        if g_rep:
            notes.append(f"group {names[g]}: every choice repeats a pair from the history; "
                         f"{len(g_rep)} repeat(s): {', '.join(g_rep)}.")
    frame = pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
    return AccountabilityPairs(frame=frame, notes=notes, repeats=repeats)
