"""Declared conflicts: pairs named in the conflicts column or a pairs file never share a group."""

from __future__ import annotations

import numpy as np

from ..base import Family, Span
from ..builder import Builder
from ..columns import conflict_pairs, read_pairs
from ..diagnosis import diagnose_apart
from ..registry import register
from ..spec import Rules


@register
class Conflicts(Family):
    """Declared conflicts become cannot-link pairs (with their reason)."""

    key = "conflicts"
    order = 20
    settings = ("conflicts", "conflict_file")
    phase = "pairs"
    primitives = ("cannot_link",)  # an untagged cannot-link pair reads as a conflict
    apart = ("are in declared conflict", "remove a conflict")

    def active(self, rules: Rules) -> bool:
        return bool(rules.conflicts or rules.conflict_file is not None)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "No declared conflict of interest in a group"

    def compile(self, b: Builder) -> None:
        """Declared conflicts: from the conflicts column and from a pairs file."""
        rules, table = b.rules, b.table
        conf = conflict_pairs(table) if rules.conflicts else np.zeros((0, 2), dtype=np.int64)
        for i, j in conf:
            b.pair_reasons.setdefault((int(i), int(j)), "declared conflict")
            b.pair_rules.setdefault((int(i), int(j)), "conflicts")
        if rules.conflict_file is not None:
            extra, why = read_pairs(rules.conflict_file, table, b.elsewhere)
            for (i, j), r in zip(extra.tolist(), why, strict=True):
                b.pair_reasons[(i, j)] = r or "declared conflict"
                b.pair_rules.setdefault((i, j), "conflicts")
            conf = np.unique(np.concatenate([conf, extra]), axis=0) if len(extra) else conf
        b.conf = conf
        b.apart.append(conf)

    def diagnose(self, span: Span, found: list[str]) -> list[str]:
        """A clique of every keep-apart pair (conflicts, repeats, wildcard competitors)."""
        return diagnose_apart(span, found)
