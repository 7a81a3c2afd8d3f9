"""Group sizes: every group holds between the smallest and the largest size."""

from __future__ import annotations

from ..base import Family
from ..registry import register
from ..spec import Rules


@register
class Sizes(Family):
    """Group sizes within bounds (compiled by the size settings, not by a rule)."""

    key = "sizes"
    order = 0
    primitives = ("sizes",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return f"Group sizes within {sizes[0]}-{sizes[1]}" if sizes else "Group sizes"
