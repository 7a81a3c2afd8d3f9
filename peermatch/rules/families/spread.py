"""Even spread: each value of a column spreads evenly over the groups."""

from __future__ import annotations

import numpy as np

from ..base import Family
from ..builder import Builder
from ..columns import column_values, raw_value, require_column
from ..registry import register
from ..spec import Rules


@register
class Spread(Family):
    """Every group holds the floor or the ceiling of its share of each value."""

    key = "spread"
    order = 90
    settings = ("spread",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Even spread of " + ", ".join(rules.spread)

    def compile(self, b: Builder) -> None:
        """Even spread of a category: every group holds the floor or ceiling of its share
        (its part's share, when a tier / region split is checked as a whole)."""
        parts = b.part_split() if b.rules.spread else []
        for col in b.rules.spread:
            require_column(b.table, col, "spread")
            vals = column_values(b.table, col, None)
            for label, rows, groups in parts:
                prefix = f"{label}: " if len(parts) > 1 else ""
                m = b.m if groups is None else int(groups.sum())
                if m:
                    self._part(b, col, vals, rows, groups, m, prefix)

    @staticmethod
    def _part(b: Builder, col: str, vals, rows, groups, m: int, prefix: str) -> None:
        uniq, inv, cnt = np.unique(vals[rows], return_inverse=True, return_counts=True)
        for k in range(len(uniq)):
            if uniq[k] == "":
                continue
            members = rows[inv == k]
            raw = raw_value(b.table, col, int(members[0]), None)
            lo, hi = cnt[k] // m, -(-cnt[k] // m)
            if groups is None:
                lo_g, hi_g = float(lo), float(hi)
            else:  # the part's groups only; the others hold none of its members
                lo_g = np.where(groups, float(lo), -np.inf)
                hi_g = np.where(groups, float(hi), np.inf)
            b.add_sum("spread", b.indicator(members),
                      f"{prefix}{col} '{raw}' spread evenly ({lo}-{hi} per group)",
                      lo=lo_g, hi=hi_g)
