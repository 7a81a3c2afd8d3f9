"""A common meeting slot: every group shares a slot of its members' availability."""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ..base import Family, Span
from ..builder import Builder
from ..columns import norm
from ..registry import register
from ..spec import Rules


@register
class CommonSlot(Family):
    """The availability matrix; slots named by their first spelling."""

    key = "common_slot"
    order = 130
    settings = ("common_slot",)
    primitives = ("slots",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return f"A meeting slot shared by {rules.slot_quorum:.0%} of each group"

    def compile(self, b: Builder) -> None:
        """A common meeting slot: the availability matrix, slots named by first spelling."""
        table = b.table
        if not b.rules.common_slot:
            return
        if "availability" not in table.columns:
            raise ConfigError(f"{table.source}: common_slot needs an 'availability' column "
                              "(meeting slots separated by ';').")
        normed = [[norm(t) for t in lst] for lst in table.availability]
        first: dict[str, str] = {}
        for lst, rawl in zip(normed, table.availability, strict=True):
            for t, r in zip(lst, rawl, strict=True):
                first.setdefault(t, r)
        keys = sorted(first)
        b.slot_names = [first[k] for k in keys]
        kidx = {k: s for s, k in enumerate(keys)}
        b.slots = np.zeros((b.n, len(keys)), dtype=bool)
        for i, lst in enumerate(normed):
            b.slots[i, [kidx[t] for t in lst]] = True

    def diagnose(self, c: Span, found: list[str]) -> list[str]:
        """Availability too thin for a common meeting slot."""
        p, names, out = c.p, c.names, []
        if p.slots is None:
            return out
        none = np.flatnonzero(~p.slots.any(axis=1))
        if len(none) and p.slot_quorum >= 1.0:
            who = ", ".join(names[i] for i in none[:8])
            out.append(f"{len(none)} candidate(s) list no availability ({who}) but every "
                       "member must share a meeting slot. Add their slots or lower slot_quorum.")
        lo_size = int(p.bounds[:, 0].min()) if p.bounds is not None else p.min_size
        need = int(np.ceil(p.slot_quorum * lo_size - 1e-9))
        per_slot = p.slots.sum(axis=0)
        if p.slots.shape[1] == 0 or per_slot.max() < need:
            out.append(f"No meeting slot is shared by {need} candidates, the fewest a group "
                       "needs. Add availability or lower slot_quorum.")
        elif p.slot_quorum >= 1.0:
            # Everyone shares the group's slot: a member whose every slot is shared by
            # fewer than the smallest group cannot be placed anywhere.
            reach = np.where(p.slots, per_slot[None, :], 0).max(axis=1)
            stuck = np.flatnonzero((reach < lo_size) & p.slots.any(axis=1))
            if len(stuck):
                who = ", ".join(names[i] for i in stuck[:8]) + (" ..." if len(stuck) > 8 else "")
                out.append(f"{len(stuck)} candidate(s) ({who}) share each of their meeting "
                           f"slots with fewer than {lo_size} candidates (themselves included), so "
                           "no group of theirs can share a slot. Add availability or lower "
                           "slot_quorum.")
        return out
