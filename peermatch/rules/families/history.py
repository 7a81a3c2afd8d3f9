"""Rounds without repeats: pairs that met too often in earlier rounds are kept apart."""

from __future__ import annotations

import numpy as np

from ...affinity import is_dense
from ..base import Family
from ..builder import Builder
from ..columns import history_counts
from ..compiled import SoftTerm
from ..registry import register
from ..spec import Rules


@register
class MaxRepeats(Family):
    """Hard: no pair meets more than ``max_repeats`` times; soft: ``repeat_penalty``."""

    key = "max_repeats"
    order = 30
    settings = ("history",)
    phase = "pairs"
    apart = ("met in earlier rounds", "raise max_repeats")

    def active(self, rules: Rules) -> bool:
        return bool(rules.history) and rules.max_repeats is not None

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return f"No pair meets again more than {rules.max_repeats} time(s)"

    def compile(self, b: Builder) -> None:
        """Rounds without repeats: pairs that met too often are kept apart, or cost affinity."""
        rules = b.rules
        if not rules.history:
            return
        counts = history_counts(b.table, rules.history)
        if rules.max_repeats is not None:
            rp = [p for p, c in counts.items() if c > rules.max_repeats]
            for p in rp:
                b.pair_reasons.setdefault(p, f"met {counts[p]} time(s) before")
                b.pair_rules.setdefault(p, "max_repeats")
            b.apart.append(np.array(sorted(rp), dtype=np.int64).reshape(-1, 2))
        if rules.repeat_penalty and counts:
            ij = np.array(list(counts), dtype=np.int64).reshape(-1, 2)
            c = np.array(list(counts.values()), dtype=float)
            b.soft.append(SoftTerm("repeat_penalty", "pairs", float(rules.repeat_penalty), (ij, c)))
            if not is_dense(b.A_work):
                b.A_work = b.A_work.plus_pairs(ij[:, 0], ij[:, 1], -rules.repeat_penalty * c)
            else:
                W = b.dense_copy()
                for (i, j), k in counts.items():
                    W[i, j] -= rules.repeat_penalty * k
                    W[j, i] -= rules.repeat_penalty * k
