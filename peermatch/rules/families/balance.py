"""Balance: every group's mean of a column near the overall mean (hard), or a soft penalty."""

from __future__ import annotations

import numpy as np

from ...affinity import is_dense
from ..base import Family
from ..builder import Builder
from ..columns import numeric_column
from ..compiled import SoftTerm
from ..registry import register
from ..spec import Rules


@register
class Balance(Family):
    """Hard balance as two group sums; ``balance_penalty`` folded into the affinity."""

    key = "balance"
    order = 80
    settings = ("balance",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Balanced group means of " + ", ".join(rules.balance)

    def compile(self, b: Builder) -> None:
        self._hard(b)
        self._penalty(b)

    def breach(self, total: float, size: int, limit: str) -> str:
        # a group's sum of (value - bound) over its members: its mean's distance to the bound
        gap = total / max(size, 1)
        return f"its mean is {abs(gap):,.4g} {'above' if gap > 0 else 'below'} that"

    def _hard(self, b: Builder) -> None:
        """Hard balance: each group's mean within tol of its part's mean (the whole table's
        when it is one part), as two linear rules per part."""
        parts = b.part_split()
        for col, tol in b.rules.balance.items():
            x = numeric_column(b.table, col)
            for label, rows, _ in parts:
                prefix = f"{label}: " if len(parts) > 1 else ""
                xp = x[rows]
                known = np.isfinite(xp)
                mu = float(xp[known].mean()) if known.any() else 0.0
                if isinstance(tol, str) and tol.strip().endswith("%"):
                    t = abs(mu) * float(tol.strip()[:-1]) / 100.0
                else:
                    t = float(tol)
                xi = np.where(known, xp, mu)  # a missing value counts as average
                # zero outside the part: a group of another part sums to 0, within both bounds
                upper, lower = np.zeros(b.n), np.zeros(b.n)
                upper[rows], lower[rows] = xi - mu - t, xi - mu + t
                b.add_sum("balance", upper,
                          f"{prefix}mean {col} at most {mu + t:,.4g} in every group", hi=0.0)
                b.add_sum("balance", lower,
                          f"{prefix}mean {col} at least {mu - t:,.4g} in every group", lo=0.0)

    def _penalty(self, b: Builder) -> None:
        """Soft balance: lambda sum_g (sum_{i in g} z_i)^2 = const + 2 lambda sum_pairs z_i z_j."""
        if not b.rules.balance_penalty:
            return
        parts = b.part_split()
        for col, lam in b.rules.balance_penalty.items():
            x = numeric_column(b.table, col)
            z = np.zeros(b.n)  # standardised within each part, as match scores a part
            for _, rows, _ in parts:
                xp = x[rows]
                known = np.isfinite(xp)
                if known.sum() > 1 and xp[known].std() > 0:
                    z[rows] = np.where(known, (xp - xp[known].mean()) / xp[known].std(), 0.0)
            if z.any():
                b.soft.append(SoftTerm(f"balance_penalty {col}", "square", float(lam), z))
                if not is_dense(b.A_work):
                    b.A_work = b.A_work.plus_outer(z, -2.0 * float(lam))
                else:
                    W = b.dense_copy()
                    W -= (2.0 * float(lam)) * np.outer(z, z).astype(W.dtype)
                    np.fill_diagonal(W, 0.0)
