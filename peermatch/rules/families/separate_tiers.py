"""Separate tiers: tiers never mix (each tier is grouped on its own)."""

from __future__ import annotations

from ..base import Family
from ..registry import register
from ..spec import Rules


@register
class SeparateTiers(Family):
    """Compiled by splitting the table (:func:`peermatch.rules.partition`), not by a constraint."""

    key = "separate_tiers"
    order = 110
    settings = ("separate_tiers",)
    apart = ("are in different tiers", "drop separate_tiers")

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Tiers never mix"
