"""Composition caps: at most c members sharing one value of a column in a group."""

from __future__ import annotations

import numpy as np

from ..base import Family, Span
from ..builder import Builder
from ..columns import column_values, raw_value, require_column
from ..diagnosis import diagnose_sum_counts
from ..registry import register
from ..spec import Rules


@register
class MaxPerGroup(Family):
    """A group sum ``<= c`` for each value of a column with more than ``c`` members."""

    key = "max_per_group"
    order = 60
    settings = ("max_per_group",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Composition caps: " + ", ".join(f"at most {c} per {col}"
                                                for col, c in rules.max_per_group.items())

    def compile(self, b: Builder) -> None:
        """Composition caps: at most c members sharing one value of a column."""
        table, rules = b.table, b.rules
        for col, cap in rules.max_per_group.items():
            require_column(table, col, "max_per_group")
            depth = rules.industry_depth if col == "sector" else None
            vals = column_values(table, col, depth)
            uniq, inv, cnt = np.unique(vals, return_inverse=True, return_counts=True)
            for k in np.flatnonzero(cnt > cap):
                if uniq[k] == "":
                    continue
                rows = np.flatnonzero(inv == k)
                raw = raw_value(table, col, int(rows[0]), depth)
                b.add_sum("max_per_group", b.indicator(rows),
                          f"at most {cap} members with {col} '{raw}' per group", hi=float(cap))

    def diagnose(self, span: Span, found: list[str]) -> list[str]:
        """Every 0/1 group sum (caps, presence, spread) against the members it counts."""
        return diagnose_sum_counts(span, found)
