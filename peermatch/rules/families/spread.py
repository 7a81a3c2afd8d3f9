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
        """Even spread of a category: every group holds the floor or ceiling of its share."""
        table, m = b.table, b.m
        for col in b.rules.spread:
            require_column(table, col, "spread")
            vals = column_values(table, col, None)
            uniq, inv, cnt = np.unique(vals, return_inverse=True, return_counts=True)
            for k in range(len(uniq)):
                if uniq[k] == "":
                    continue
                rows = np.flatnonzero(inv == k)
                raw = raw_value(table, col, int(rows[0]), None)
                lo, hi = cnt[k] // m, -(-cnt[k] // m)
                b.add_sum("spread", b.indicator(rows),
                          f"{col} '{raw}' spread evenly ({lo}-{hi} per group)",
                          lo=float(lo), hi=float(hi))
