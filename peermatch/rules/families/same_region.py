"""Same region: in-person groups stay within one region."""

from __future__ import annotations

from ..base import Family
from ..registry import register
from ..spec import Rules


@register
class SameRegion(Family):
    """Compiled by splitting the table (:func:`peermatch.rules.partition`), not by a constraint."""

    key = "same_region"
    order = 120
    settings = ("same_region",)
    apart = ("are in different regions", "drop same_region")

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Every group within one region"
