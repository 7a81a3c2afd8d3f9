"""An independent validator of groupings, written from the raw CSV cells only.

It shares no code with peermatch: it re-reads the strings, applies the documented
rules by plain loops, and reports every violation.
"""

from __future__ import annotations

import pandas as pd


def _norm(s: str) -> str:
    return " ".join(str(s).split()).casefold()


def _find(df: pd.DataFrame, name: str) -> str | None:
    for c in df.columns:
        if c.strip().casefold() == name:
            return c
    return None


def violations(raw: pd.DataFrame, out: pd.DataFrame, min_size: int, max_size: int,
               competitors: tuple[str, ...] = ("industry", "region"),
               n_groups: int | None = None) -> list[str]:
    """Every broken rule of the grouping ``out`` (input rows plus ``group``) of ``raw``."""
    errs: list[str] = []
    idc = _find(raw, "id")
    ids_in = [str(x).strip() for x in raw[idc]]
    if len(out) != len(raw):
        errs.append(f"{len(raw)} input rows but {len(out)} output rows")
        return errs
    ids_out = [str(x).strip() for x in out[_find(out, "id")]]
    if ids_out != ids_in:
        errs.append("output ids differ from input ids (order or content)")
    for c in raw.columns:  # every input column passes through untouched
        if c.strip().casefold() == "group":
            continue
        if c not in out.columns or [str(x) for x in out[c]] != [str(x) for x in raw[c]]:
            errs.append(f"column {c!r} changed")
    group = {}
    for i, g in zip(ids_out, out["group"], strict=True):
        s = str(g).strip()
        if s == "" or s == "nan":
            errs.append(f"{i} not placed")
        group[i] = s
    sizes: dict[str, int] = {}
    for g in group.values():
        sizes[g] = sizes.get(g, 0) + 1
    for g, s in sizes.items():
        if not min_size <= s <= max_size:
            errs.append(f"group {g} has {s} members")
    if n_groups is not None and len(sizes) != n_groups:
        errs.append(f"{len(sizes)} groups instead of {n_groups}")
    cols = [_find(raw, c) for c in competitors]
    cols = [c for c in cols if c is not None]
    rows = raw.to_dict("records")
    if cols:
        ind = _find(raw, "industry")
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                if group[ids_in[a]] != group[ids_in[b]]:
                    continue
                same = True
                for c in cols:
                    va, vb = _norm(rows[a][c]), _norm(rows[b][c])
                    # An empty non-industry cell competes with every value.
                    if c != ind and (va == "" or vb == ""):
                        continue
                    if va != vb:
                        same = False
                        break
                if same:
                    errs.append(f"competitors {ids_in[a]} and {ids_in[b]} share a group")
    cc = _find(raw, "conflicts")
    if cc is not None:
        for a, row in enumerate(rows):
            for other in str(row[cc]).split(";"):
                other = other.strip()
                if other and other in group and group[other] == group[ids_in[a]]:
                    errs.append(f"conflict {ids_in[a]} / {other} share a group")
    return errs
