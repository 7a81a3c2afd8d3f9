"""A candidates table, read once and scored: the input every command starts from.

:func:`load_table` is the one door for a candidates table (a path, a DataFrame or a
:class:`~peermatch.candidates.CandidateTable`); :func:`score_table` encodes it and builds
its affinity, dense or from the features (see :data:`DENSE_MAX_N`). ``match``, the
commands that read an existing grouping (:mod:`peermatch.grouping`) and ``repair`` all
use these two, so a table is read and scored the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from .candidates import CandidateTable, read_candidates
from .rules import Rules

__all__ = ["load_table", "score_table", "DENSE_MAX_N", "REPRESENTATIONS"]

#: Up to this many candidates the affinity is a dense ``n x n`` matrix; above it a
#: :class:`~peermatch.affinity.FeatureAffinity` computes blocks from the features on
#: demand (memory linear in ``n``). ``options={"representation": ...}`` overrides it.
DENSE_MAX_N = 5000

#: The accepted values of the ``representation`` option.
REPRESENTATIONS = ("auto", "dense", "features")


def load_table(source, columns: Mapping[str, str] | None = None) -> CandidateTable:
    """The validated table: a CandidateTable as it is, anything else through read_candidates.

    Parameters
    ----------
    source : path, DataFrame or CandidateTable
        The candidates.
    columns : dict, optional
        Canonical column name -> column name in the table.

    Examples
    --------
    >>> import peermatch as pm
    >>> load_table(pm.synth_candidates(5, seed=1)).n
    5
    """
    if isinstance(source, CandidateTable):
        return source
    return read_candidates(source, columns=dict(columns) if columns else None)


def score_table(table: CandidateTable, weights, rules: Rules | None = None,
                representation: str = "auto"):
    """Features of ``table`` and their affinity (a matrix or a FeatureAffinity).

    Parameters
    ----------
    table : CandidateTable
        The candidates.
    weights : Weights
        How much each affinity component counts.
    rules : Rules, optional
        The rules (their ``industry_depth`` shapes the encoding).
    representation : {"auto", "dense", "features"}, default="auto"
        ``"auto"``: dense up to :data:`DENSE_MAX_N` candidates, from the features above.

    Returns
    -------
    (Features, affinity)
    """
    from .features import encode
    from .scoring import affinity as build_affinity

    rules = rules or Rules()
    feats = encode(table, industry_depth=rules.industry_depth,
                   specs=getattr(weights, "columns", ()))
    if representation == "features" or (representation == "auto" and table.n > DENSE_MAX_N):
        from .affinity import FeatureAffinity

        return feats, FeatureAffinity(feats, weights)
    return feats, build_affinity(feats, weights)
