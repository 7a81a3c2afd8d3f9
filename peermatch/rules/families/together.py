"""Together: pairs of members that must share a group."""

from __future__ import annotations

import numpy as np

from ..base import Family, Span
from ..builder import Builder
from ..columns import ids_to_rows
from ..registry import register
from ..spec import Rules


@register
class Together(Family):
    """Together-pairs become must-link pairs (one unit for the solver)."""

    key = "together"
    order = 40
    settings = ("together",)
    primitives = ("must_link",)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        return f"{len(rules.together)} pair(s) kept together"

    def compile(self, b: Builder) -> None:
        """Together-pairs become must-link pairs (one unit for the solver)."""
        rules = b.rules
        if not rules.together:
            return
        flat = ids_to_rows(b.table, [x for pair in rules.together for x in pair], "together",
                            b.elsewhere)
        keep = []
        for (x, y), (ix, iy) in zip(rules.together, zip(flat[::2], flat[1::2], strict=True),
                                    strict=True):
            if ix is not None and iy is not None:
                keep.append((ix, iy))
            elif (ix is None) != (iy is None):
                b.reasons.append(f"{x} and {y} must be together, but the rules keep their tiers "
                                 "or regions apart. Drop the together-pair or the separation.")
        b.must_link = np.array(keep, dtype=np.int64).reshape(-1, 2) if keep else None

    def diagnose(self, c: Span, found: list[str]) -> list[str]:
        """Together-pairs against conflicts, and together-sets too large for a group."""
        p, names, out = c.p, c.names, []
        if not len(p.must_link):
            return out
        cl = {tuple(x) for x in p.cannot_link.tolist()}
        for rows in c.compiled.classes:
            rs = set(rows.tolist())
            for i, j in p.must_link.tolist():
                if i in rs and j in rs:
                    cl.add((i, j))
        for i, j in p.must_link.tolist():
            if (i, j) in cl:
                why = c.compiled.pair_reasons.get((i, j), "competitors")
                out.append(f"{names[i]} and {names[j]} must be together but are in conflict "
                           f"({why}). Drop one of the two rules.")
        import networkx as nx

        G = nx.Graph()
        G.add_edges_from(map(tuple, p.must_link.tolist()))
        cap = int(p.bounds[:, 1].max()) if p.bounds is not None else p.max_size
        for comp in nx.connected_components(G):
            if len(comp) > cap:
                out.append(f"{len(comp)} candidates are linked by together-pairs "
                           f"({', '.join(sorted(names[i] for i in comp)[:6])} ...) but a group "
                           f"holds at most {cap}. Remove a together-pair.")
        return out
