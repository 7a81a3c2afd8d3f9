"""Competitors: candidates equal on every competitor column never share a group."""

from __future__ import annotations

from ..base import Family, Span
from ..builder import Builder
from ..columns import competitor_classes
from ..registry import register
from ..spec import Rules


@register
class Competitors(Family):
    """Each set of mutual competitors holds at most one member per group."""

    key = "competitors"
    order = 10
    settings = ("competitors",)
    phase = "pairs"
    apart = ("compete", "relax the competitor rule")

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "No two competitors in a group (same " + " and ".join(rules.competitors) + ")"

    def compile(self, b: Builder) -> None:
        """Each set of mutual competitors holds at most one member per group."""
        b.classes, b.class_labels, b.wild = competitor_classes(b.table, b.rules)
        for rows, label in zip(b.classes, b.class_labels, strict=True):
            b.add_sum("competitors", b.indicator(rows), f"competitors: {label}", hi=1.0)
        for i, j in b.wild:
            b.pair_reasons[(int(i), int(j))] = "competitors (same industry, region unknown)"
            b.pair_rules[(int(i), int(j))] = "competitors"
        b.apart.append(b.wild)

    def diagnose(self, c: Span, found: list[str]) -> list[str]:
        """A set of k mutual competitors needs k groups."""
        p, n, out = c.p, c.p.n, []
        for rows, label in zip(c.compiled.classes, c.compiled.class_labels, strict=True):
            k = len(rows)
            if k > c.m_hi:
                fix = (f"Lower --min-size to {n // k}, or relax the competitor rule."
                       if p.n_groups is None and p.bounds is None and n // k >= 1
                       else f"Use at least {k} groups, or relax the competitor rule.")
                out.append(f"{k} candidates compete ({label}) and need {k} groups, but {n} "
                           f"candidates in {c.sizes} make at most {c.m_hi} groups. {fix}")
        return out

    def detail(self, name: str) -> str:
        # "competitors: industry 'Retail'" -> the competitor set alone
        return name.split(": ", 1)[1]
