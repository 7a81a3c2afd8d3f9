"""Required presence: every group has a member with a given value."""

from __future__ import annotations

import numpy as np

from ..base import Family
from ..builder import Builder
from ..columns import column_values, list_values, norm, require_column
from ..registry import register
from ..spec import Rules


@register
class AtLeastOne(Family):
    """A group sum ``>= 1`` over the members with the value."""

    key = "at_least_one"
    order = 70
    settings = ("at_least_one",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Every group has " + ", ".join(f"a member with {c} '{v}'"
                                              for c, v in rules.at_least_one)

    def compile(self, b: Builder) -> None:
        """Required presence: every group has a member with a given value."""
        table = b.table
        for col, value in b.rules.at_least_one:
            require_column(table, col, "at_least_one")
            lv = list_values(table, col)
            v = norm(value)
            if lv is not None:
                has = np.array([v in lst for lst in lv])
            else:
                has = column_values(table, col, None) == v
            b.add_sum("at_least_one", has.astype(float), f"at least one member with {col} "
                      f"'{value}'", lo=1.0)
