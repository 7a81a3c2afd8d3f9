"""Nobody isolated: nobody is the only member of their value in a group."""

from __future__ import annotations

import numpy as np

from ..base import Family, Span
from ..builder import Builder
from ..columns import column_values, require_column
from ..registry import register
from ..spec import Rules


@register
class NoIsolated(Family):
    """No-singleton labels for the solver."""

    key = "no_isolated"
    order = 100
    settings = ("no_isolated",)
    primitives = ("no_singleton",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Nobody isolated on " + ", ".join(rules.no_isolated)

    def compile(self, b: Builder) -> None:
        """Nobody the only member of their value (no-singleton labels)."""
        for col in b.rules.no_isolated:
            require_column(b.table, col, "no_isolated")
            vals = column_values(b.table, col, None)
            _, inv = np.unique(vals, return_inverse=True)
            lab = inv.astype(np.int64)
            lab[vals == ""] = -1
            b.no_single.append(lab)

    def diagnose(self, c: Span, found: list[str]) -> list[str]:
        """A protected value held by one candidate leaves them alone in any group."""
        out = []
        for lab in c.p.no_singleton:
            vals, cnt = np.unique(lab[lab >= 0], return_counts=True)
            for v in vals[cnt == 1]:
                i = int(np.flatnonzero(lab == v)[0])
                out.append(f"{c.names[i]} is the only candidate of their kind for the no-isolated "
                           "rule, so they would be alone in any group. Drop the rule for this "
                           "column or add candidates.")
        return out
