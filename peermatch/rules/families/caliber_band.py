"""Caliber band: no two members whose companies differ more than ``caliber_band`` times in
employees share a group (selectivity: peers of a comparable scale)."""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ..base import Family
from ..builder import Builder
from ..registry import register
from ..spec import Rules, Setting, is_number

#: The most pairs the rule may keep apart: beyond it the band is too narrow for the
#: programme, and tiers by size (a ``tier`` column with ``separate_tiers``) are the tool.
MAX_PAIRS = 20_000_000


def _band(v):
    if v is not None and not (is_number(v) and np.isfinite(v) and v >= 1):
        raise ConfigError("The 'caliber_band' parameter of Rules must be a number >= 1 "
                          f"(a ratio of employee counts) or None. Got {v!r} instead.")
    return None if v is None else float(v)


def far_pairs(employees: np.ndarray, band: float) -> np.ndarray:
    """Sorted row pairs ``(i, j)``, ``i < j``, whose employee counts differ more than
    ``band`` times; counts below 1 count as 1 and unknown (NaN) counts are in no pair.

    >>> far_pairs(np.array([10.0, 200.0, 50.0, np.nan]), 10).tolist()
    [[0, 1]]
    """
    x = np.maximum(np.asarray(employees, dtype=float), 1.0)
    rows = np.flatnonzero(np.isfinite(x))
    order = rows[np.argsort(x[rows], kind="stable")]
    xs = x[order]
    # For the k-th smallest, every member from first[k] on in sorted order is too big.
    first = np.searchsorted(xs, band * xs, side="right")
    total = int((len(xs) - first).sum())
    if total > MAX_PAIRS:
        raise ConfigError(
            f"caliber_band={band:g} keeps {total:,} pairs of candidates apart (at most "
            f"{MAX_PAIRS:,}): the band is too narrow for this many candidates. Raise "
            "caliber_band, or group by size tiers (a 'tier' column and separate_tiers).")
    counts = len(xs) - first
    a = np.repeat(order, counts)
    b = order[np.concatenate([np.arange(f, len(xs)) for f in first[counts > 0]])
              ] if total else np.empty(0, dtype=np.int64)
    pairs = np.column_stack([np.minimum(a, b), np.maximum(a, b)]).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if total else pairs.reshape(0, 2)


@register
class CaliberBand(Family):
    """Members whose employee counts differ more than ``caliber_band`` times stay apart."""

    key = "caliber_band"
    order = 140  # after the built-in families
    settings = ("caliber_band",)
    declares = (Setting("caliber_band", None, _band),)
    phase = "pairs"
    apart = ("differ more than the caliber band in company size", "raise caliber_band")

    def describe(self, rules: Rules, sizes) -> str:
        return (f"Company sizes within a factor {rules.caliber_band:g} in every group "
                "(employees)")

    def compile(self, b: Builder) -> None:
        if b.rules.caliber_band is None:
            return
        pairs = far_pairs(b.table.employees, b.rules.caliber_band)
        b.keep_apart(self.key, pairs, f"company sizes more than {b.rules.caliber_band:g}x "
                     "apart")
