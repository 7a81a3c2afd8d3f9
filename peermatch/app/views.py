"""What the pages show of a workspace: plain dicts for the templates (which escape every
value they print)."""

from __future__ import annotations

import math

import numpy as np

from .settings import COLUMN_NAMES, CONTROLS, RULE_CONTROLS, WEIGHT_CONTROLS
from .workspace import Workspace

__all__ = ["grouping_view", "setup_view", "rules_view"]


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    return "n/a" if not math.isfinite(v) else f"{v:,.3f}"


def _cells(table, canon: str) -> list[str]:
    """Every cell of canonical column ``canon`` as text, in row order ("" without it);
    one column read at once, not a cell at a time (the cards show every member)."""
    col = table.columns.get(canon)
    if col is None:
        return [""] * table.n
    return [str(v) for v in table.frame[col].to_numpy()]


def _member(ws: Workspace, cells: dict, i: int, score: float, weak: bool) -> dict:
    t = ws.table
    return {"id": str(t.ids[i]), "name": cells["name"][i] or str(t.ids[i]),
            "industry": str(t.industry[i]), "region": cells["region"][i],
            "score": f"{score:.3f}", "weak": weak}


def grouping_view(ws: Workspace) -> dict | None:
    """The cards of the grouping (None before the first run): one per group, in the
    natural order of their names, each with its members (best fit first), its quality
    measures (the report's), its broken rules and a weak-fit warning. A member is a weak
    fit when they are among the :data:`peermatch.report.N_WEAKEST` members of lowest
    mean affinity to their group (the report's "weakest-fit members")."""
    from ..quality import member_scores
    from ..report import N_WEAKEST, STAT_LABELS, rule_checks

    res = ws.result
    if res is None:
        return None
    G = ws.grouping
    ms = member_scores(res.affinity, res.labels)
    weak = set(np.argsort(ms, kind="stable")[:min(N_WEAKEST, len(ms))].tolist())
    stats = res.group_stats
    by_group: dict[str, list[str]] = {}
    loose = []
    for v in res.violations():
        (by_group.setdefault(str(v.group), []) if v.group is not None else loose).append(
            v.message)
    worst = (int(stats["label"].to_numpy()[stats["mean_pair"].to_numpy().argmin()])
             if len(stats) else -1)
    rows = dict(zip(stats["label"].tolist(), stats.to_dict("records"), strict=True))
    cells = {c: _cells(ws.table, c) for c in ("name", "region")}
    cards = []
    for g in G.order:
        row = rows[g]
        mem = np.flatnonzero(res.labels == g)
        mem = mem[np.argsort(-ms[mem], kind="stable")]
        name = G.names[g]
        members = [_member(ws, cells, int(i), float(ms[i]), int(i) in weak) for i in mem]
        cards.append({
            "name": name, "locked": name in ws.state.locked, "weakest": g == worst,
            "stats": [(STAT_LABELS[c], _fmt(row[c])) for c in STAT_LABELS if c in row],
            "members": members, "n_weak": sum(m["weak"] for m in members),
            "violations": by_group.get(name, []),
        })
    summary = res.summary()
    return {"cards": cards, "loose_violations": loose,
            "score": _fmt(summary["score"] or 0.0),
            "objective": _fmt(summary["objective"] or 0.0),
            "n_groups": res.n_groups, "n": int(res.table.n),
            "sizes": f"{min(summary['group_sizes'])}-{max(summary['group_sizes'])}",
            "rules": [{"key": k, "text": d, "broken": bad} for k, d, bad in rule_checks(res)],
            "n_broken": len(res.violations())}


def rules_view(ws: Workspace) -> list[dict]:
    """The hard rules in force (before a run: without their checks)."""
    from ..rules import rule_families

    return [{"key": k, "text": d, "broken": []}
            for k, d in rule_families(ws.rules, (ws.lo, ws.hi))]


def setup_view(settings: dict, table) -> dict:
    """The controls of the set-up form with their values and meanings."""
    m, w, r = settings["match"], settings["weights"], settings["rules"]
    comp = r.get("competitors")
    header = [str(c) for c in table.frame.columns] if table is not None else []
    return {
        "controls": [{"key": k, "label": lab, "help": h,
                      "value": "" if m.get(k) is None else m[k]} for k, lab, h in CONTROLS],
        "weights": [{"key": k, "label": lab, "help": h, "value": w.get(k)}
                    for k, lab, h in WEIGHT_CONTROLS],
        "rules": [{"key": k, "label": lab, "help": h, "kind": kind,
                   "value": (("none" if comp == [] else ", ".join(comp or []))
                             if k == "competitors" else bool(r.get(k)))}
                  for k, lab, h, kind in RULE_CONTROLS],
        "rules_toml": settings.get("rules_toml", ""),
        "columns": [{"key": k, "value": settings["columns"].get(k, ""),
                     "read_as": (table.columns.get(k) or "") if table is not None else ""}
                    for k in COLUMN_NAMES],
        "header": header,
    }
