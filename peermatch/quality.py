"""Quality measures of a grouping: per member, per group and for the whole grouping.

Pair measures come from :mod:`peermatch.core`, group block by group block
(``O(sum of squared group sizes)``); the feature measures are vectorized over groups
(bincounts and sparse products over the one-hot assignment). Groups are labels
``0..m-1``; ``-1`` marks an unplaced candidate, which is left out of every measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import core
from .affinity import as_affinity
from .features import Features
from .scoring import check_labels, grouping_score

__all__ = ["group_stats", "grouping_stats", "member_scores"]


def member_scores(A: np.ndarray, labels) -> np.ndarray:
    """Each member's mean affinity to the rest of its group.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    labels : array-like of shape (n,) of int
        Groups ``0..m-1`` (``-1``: unplaced).

    Returns
    -------
    ndarray of shape (n,) of float64
        ``sum_{j in g, j != i} A[i, j] / (size(g) - 1)``; 0 for a one-member group and for
        unplaced candidates.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> member_scores(A, [0, 0, 1]).tolist()
    [1.0, 1.0, 0.0]
    """
    A = as_affinity(A)
    lab = check_labels(labels, A.shape[0])
    return core.member_fits(A, lab, _n_labels(lab))


def _n_labels(lab: np.ndarray) -> int:
    """Groups ``0..max(labels)``: 0 when nobody is placed."""
    return int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0


def group_stats(A: np.ndarray, labels, features: Features | None = None) -> pd.DataFrame:
    """Quality measures of every group, one row per group.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    labels : array-like of shape (n,) of int
        Groups ``0..m-1`` (``-1``: unplaced, left out).
    features : Features or None, default=None
        Adds the feature-based columns when given.

    Returns
    -------
    pandas.DataFrame
        One row per group ``0..max(labels)`` (empty groups have size 0 and zeros), columns:

        * ``label`` (the 0-based group label, as in ``labels``), ``size``;
        * ``total``: sum of ``A[i, j]`` over member pairs ``i < j``;
        * ``mean_pair``: ``total / (size * (size - 1) / 2)``, 0 for groups under 2 members;
        * ``min_member``, ``mean_member``: lowest and mean of :func:`member_scores` over the
          members (the lowest is the most isolated member);

        with ``features``:

        * ``shared_goals``: number of goals held by at least two members;
        * ``goal_coverage``: share of the members' (member, goal) pairs for which *another*
          member has that goal as expertise; NaN when no member lists a goal;
        * ``industry_variety``: Blau index ``1 - sum_s p_s^2`` over the members' sectors
          (0: one sector; near 1: all different);
        * ``size_spread``: population standard deviation of ``log10`` company size over the
          members of known size (decades); NaN when no size is known.

    Notes
    -----
    ``O(sum of squared group sizes)`` for the affinity sums (one block per group) and
    ``O(n + nnz)`` for the rest.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> group_stats(A, [0, 0, 1]).round(2)
       label  size  total  mean_pair  min_member  mean_member
    0      0     2    1.0        1.0         1.0          1.0
    1      1     1    0.0        0.0         0.0          0.0
    """
    A = as_affinity(A)
    lab = check_labels(labels, A.shape[0])
    placed = np.flatnonzero(lab >= 0)
    m = _n_labels(lab)
    g_of = lab[placed]
    size = np.bincount(g_of, minlength=m)
    scores = core.member_fits(A, lab, m)[placed]
    total = core.group_pair_sums(A, lab, m)
    pairs = size * (size - 1) / 2
    mean_pair = np.divide(total, pairs, out=np.zeros(m), where=pairs > 0)
    min_member = np.full(m, np.inf)
    np.minimum.at(min_member, g_of, scores)
    min_member[size == 0] = 0.0
    mean_member = np.divide(np.bincount(g_of, weights=scores, minlength=m), size,
                            out=np.zeros(m), where=size > 0)
    out = pd.DataFrame({
        "label": np.arange(m), "size": size, "total": total, "mean_pair": mean_pair,
        "min_member": min_member, "mean_member": mean_member,
    })
    if features is not None:
        out = out.assign(**_feature_stats(features, placed, g_of, size, m))
    return out


def grouping_stats(A: np.ndarray, labels, features: Features | None = None) -> dict:
    """Summary of a whole grouping.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    labels : array-like of shape (n,) of int
        Groups ``0..m-1`` (``-1``: unplaced).
    features : Features or None, default=None
        Passed to :func:`group_stats`.

    Returns
    -------
    dict
        ``total`` (the objective ``F``), ``n_groups`` (non-empty groups), ``worst_label``
        (label of the group with the lowest ``mean_pair``, -1 when there is none),
        ``worst_mean_pair``, ``mean_pair_spread`` (population std of the groups'
        ``mean_pair``), ``min_member`` (lowest member score: the most isolated member),
        ``min_member_id`` (its index) and ``n_unplaced``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> s = grouping_stats(A, [0, 0, 1])
    >>> s["total"], s["n_groups"], s["worst_label"], s["min_member"]
    (1.0, 2, 1, 0.0)
    """
    A = as_affinity(A)
    lab = check_labels(labels, A.shape[0])
    stats = group_stats(A, lab, features)
    nonempty = stats[stats["size"] > 0]
    scores = member_scores(A, lab)
    placed = np.flatnonzero(lab >= 0)
    if len(nonempty):
        worst = nonempty.loc[nonempty["mean_pair"].idxmin()]
        worst_label, worst_mean = int(worst["label"]), float(worst["mean_pair"])
        spread = float(nonempty["mean_pair"].std(ddof=0))
    else:
        worst_label, worst_mean, spread = -1, float("nan"), float("nan")
    if placed.size:
        k = placed[np.argmin(scores[placed])]
        min_member, min_id = float(scores[k]), int(k)
    else:
        min_member, min_id = float("nan"), -1
    return {
        "total": grouping_score(A, lab),
        "n_groups": int(len(nonempty)),
        "worst_label": worst_label,
        "worst_mean_pair": worst_mean,
        "mean_pair_spread": spread,
        "min_member": min_member,
        "min_member_id": min_id,
        "n_unplaced": int(lab.shape[0] - placed.size),
    }


def _feature_stats(f: Features, placed: np.ndarray, g_of: np.ndarray, size: np.ndarray,
                   m: int) -> dict[str, np.ndarray]:
    """Feature-based per-group columns (see :func:`group_stats`); skips validation."""
    k = placed.size
    # One-hot assignment of the placed members: group sums of features are Z.T @ F.
    Zt = sp.csr_array((np.ones(k), (g_of, np.arange(k))), shape=(m, k))
    G = sp.csr_array(f.goals[placed]) if k else sp.csr_array((0, len(f.vocab)))
    X = sp.csr_array(f.expertise[placed]) if k else sp.csr_array((0, len(f.vocab)))
    goal_count = (Zt @ G).toarray()  # (m, V): members holding each goal
    shared = (goal_count >= 2).sum(axis=1)

    # Coverage: for each (member i, goal t), do other members of i's group have expertise t?
    exp_count = (Zt @ X).toarray()
    Gc = G.tocoo()
    r, t = Gc.row.astype(np.int64), Gc.col.astype(np.int64)
    Xc = X.tocoo()
    V = max(len(f.vocab), 1)
    self_has = np.isin(r * V + t, Xc.row.astype(np.int64) * V + Xc.col.astype(np.int64))
    others = exp_count[g_of[r], t] - self_has
    covered = np.bincount(g_of[r], weights=(others > 0).astype(float), minlength=m)
    wanted = np.bincount(g_of[r], minlength=m).astype(float)
    coverage = np.divide(covered, wanted, out=np.full(m, np.nan), where=wanted > 0)

    # Blau index over sectors: 1 - sum_s p_s^2.
    S = max(len(f.sector_labels), 1)
    counts = np.bincount(g_of * S + f.sector[placed], minlength=m * S).reshape(m, S)
    p = np.divide(counts, size[:, None], out=np.zeros((m, S)), where=size[:, None] > 0)
    variety = np.where(size > 0, 1 - (p ** 2).sum(axis=1), 0.0)

    # Spread of log10 size over members of known size (population std).
    known = f.size_known[placed]
    x = f.log_size[placed]
    nk = np.bincount(g_of[known], minlength=m).astype(float)
    s1 = np.bincount(g_of[known], weights=x[known], minlength=m)
    mean = np.divide(s1, nk, out=np.zeros(m), where=nk > 0)
    dev = np.zeros(k)
    dev[known] = (x[known] - mean[g_of[known]]) ** 2  # two-pass: no cancellation
    var = np.divide(np.bincount(g_of, weights=dev, minlength=m), nk, out=np.full(m, np.nan),
                    where=nk > 0)
    return {
        "shared_goals": shared.astype(np.int64),
        "goal_coverage": coverage,
        "industry_variety": variety,
        "size_spread": np.sqrt(var),
    }
