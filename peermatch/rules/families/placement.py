"""Placement: pins, allowed groups, and existing (or locked) groups."""

from __future__ import annotations

import numpy as np

from ...affinity import is_dense
from ..base import Family, Span
from ..builder import Builder
from ..columns import ids_to_rows
from ..compiled import SoftTerm
from ..registry import register
from ..spec import Rules


@register
class Placement(Family):
    """Where each member may go: existing groups first, then pins and allowed groups."""

    key = "placement"
    order = 50
    settings = ("pins", "allowed_groups", "locked_groups")
    phase = "placement"
    primitives = ("allowed",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return "Pinned, allowed and locked groups respected"

    def compile(self, b: Builder) -> None:
        self._existing(b)
        self._pins(b)

    def _existing(self, b: Builder) -> None:
        """Existing members stay (locked groups exactly), or moving them costs affinity."""
        existing, rules, m = b.existing, b.rules, b.m
        if existing is None:
            return
        min_size, max_size = b.min_size, b.max_size
        old_sizes = np.bincount(existing[existing >= 0], minlength=m)
        b.allowed = allowed = np.ones((b.n, m), dtype=bool)
        for g, name in enumerate(b.existing_names):
            members = existing == g
            if name in rules.locked_groups:
                # A locked group keeps exactly its members: nobody leaves, nobody joins.
                b.bounds[g] = old_sizes[g]
                allowed[~members, g] = False
                allowed[np.ix_(members, np.arange(m) != g)] = False
                if not min_size <= old_sizes[g] <= max_size:
                    b.reasons.append(f"Locked group {name!r} has {old_sizes[g]} members, outside "
                                     f"the group sizes {min_size}-{max_size}. Change the size "
                                     "range or unlock the group.")
            elif rules.keep_existing:
                allowed[np.ix_(members, np.arange(m) != g)] = False
                if old_sizes[g] > max_size:
                    # The same check as a finished grouping's: no group is larger than
                    # max_size, existing or not.
                    b.reasons.append(f"Existing group {name!r} has {old_sizes[g]} members, more "
                                     f"than --max-size {max_size}, and existing members stay "
                                     f"in their group. Raise --max-size to {old_sizes[g]}, split "
                                     "the group, or set keep_existing = false.")
        if rules.keep_existing or not rules.move_cost:
            return
        b.soft.append(SoftTerm("move_cost", "moves", float(rules.move_cost), existing.copy()))
        # A bonus for former groupmates staying together is a cost for each move.
        if not is_dense(b.A_work):
            pi, pj, pv = [], [], []
            for g in range(len(b.existing_names)):
                rows = np.flatnonzero(existing == g)
                if len(rows) > 1:
                    a, c = np.triu_indices(len(rows), 1)
                    pi.append(rows[a])
                    pj.append(rows[c])
                    pv.append(np.full(len(a), rules.move_cost / (len(rows) - 1)))
            if pi:
                b.A_work = b.A_work.plus_pairs(np.concatenate(pi), np.concatenate(pj),
                                               np.concatenate(pv))
        else:
            W = b.dense_copy()
            for g in range(len(b.existing_names)):
                rows = np.flatnonzero(existing == g)
                if len(rows) > 1:
                    W[np.ix_(rows, rows)] += rules.move_cost / (len(rows) - 1)
            np.fill_diagonal(W, 0.0)

    def _pins(self, b: Builder) -> None:
        """Pins and allowed groups restrict where a member may go."""
        for member, g in b.rules.pins.items():
            (i,) = ids_to_rows(b.table, [member], "pins", b.elsewhere)
            if i is not None:
                b.allow_only(i, [b.group_idx(g, "pins")])
        for member, gs in b.rules.allowed_groups.items():
            (i,) = ids_to_rows(b.table, [member], "allowed_groups", b.elsewhere)
            if i is not None:
                b.allow_only(i, [b.group_idx(g, "allowed_groups") for g in gs])

    def diagnose(self, c: Span, found: list[str]) -> list[str]:
        """Pins, allowed and existing groups against capacity."""
        p, names, out = c.p, c.names, []
        if p.allowed is None:
            return out
        compiled = c.compiled
        gnames = compiled.group_names or [str(g + 1) for g in range(p.allowed.shape[1])]
        nobody = np.flatnonzero(~p.allowed.any(axis=1))
        for i in nobody[:10]:
            out.append(f"{names[i]} may join no group (pins, allowed groups and locked groups "
                       "exclude every group). Check the rules for this member.")
        only = p.allowed.sum(axis=1) == 1
        pinned = np.bincount(np.argmax(p.allowed, axis=1)[only], minlength=p.allowed.shape[1])
        hi = p.bounds[:, 1] if p.bounds is not None else np.full(len(pinned), p.max_size)
        for g in np.flatnonzero(pinned > hi):
            out.append(f"{pinned[g]} members are pinned to group {gnames[g]!r}, which holds "
                       f"at most {hi[g]}. Unpin some or raise --max-size.")
        if compiled.existing is not None and compiled.rules.keep_existing:
            lo = p.bounds[:, 0]
            old = np.bincount(compiled.existing[compiled.existing >= 0], minlength=len(lo))
            short = np.maximum(0, lo - old)[: int(compiled.existing.max()) + 1]
            new = int(np.sum(compiled.existing < 0))
            if short.sum() > new:
                worst = int(np.argmax(short))
                out.append(f"Existing groups need {int(short.sum())} more members to reach "
                           f"--min-size (group {gnames[worst]!r} has {old[worst]}), but only "
                           f"{new} new candidates are available. Lower --min-size or merge groups.")
        return out
