"""A self-contained HTML report of a grouping, and re-scoring of an existing grouping.

:func:`render_report` turns a :class:`~peermatch.result.MatchResult` into one HTML page that
opens offline: inline CSS, charts drawn as inline SVG in Python, no scripts, fonts, images
or links to other files. :func:`write_report` writes it atomically. :func:`from_grouping`
builds a ``MatchResult`` from a grouping you already have (a CSV with a ``group`` column,
such as the output of ``peermatch match``), so it can be checked, explained and reported.
"""

from __future__ import annotations

import html
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._compat import group_size_pair, renamed_keywords
from .candidates import CandidateTable
from .cards import group_slots, member_topics, pair_lists, table_cell
from .core import block, natural_key
from .errors import ConfigError
from .result import MatchResult, atomic_write_text
from .rules import Rules

__all__ = ["from_grouping", "render_report", "write_report", "STAT_LABELS", "rule_checks"]

#: Plain-language label of each column of ``MatchResult.group_stats`` shown in the report.
STAT_LABELS: dict[str, str] = {
    "size": "Members",
    "total": "Total affinity",
    "mean_pair": "Mean pair affinity",
    "min_member": "Most isolated member",
    "shared_goals": "Goals shared by 2+ members",
    "goal_coverage": "Goals covered by another member's expertise",
    "industry_variety": "Industry variety (Blau)",
    "size_spread": "Company size spread (decades)",
}

#: How many of the weakest-fit members the report flags.
N_WEAKEST = 10


# --------------------------------------------------------------------------------------
# An existing grouping as a MatchResult
# --------------------------------------------------------------------------------------

@renamed_keywords(table_or_path="groups")
@group_size_pair
def from_grouping(
    groups: str | os.PathLike | pd.DataFrame | CandidateTable,
    *,
    weights: Any = None,
    rules: Rules | None = None,
    min_size: int | None = None, max_size: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> MatchResult:
    """Re-score an existing grouping: a table whose ``group`` column says who is where.

    Nothing is solved: the candidates are encoded and scored with ``weights``, the
    ``rules`` are compiled on the table and the grouping in the ``group`` column is taken
    as it is, so :meth:`~peermatch.result.MatchResult.validate` lists the hard rules it
    breaks and ``score``, ``group_stats`` and ``explain`` describe it.

    Parameters
    ----------
    groups : path, DataFrame or CandidateTable
        Candidates with a ``group`` column (any non-empty label per row), e.g. the CSV
        written by ``peermatch match``; read by :func:`peermatch.grouping.read_grouping`.
        (Formerly ``table_or_path``; that keyword still works, with a DeprecationWarning.)
    weights : Weights, optional
        Scoring weights (default ``Weights()``).
    rules : Rules, optional
        Hard rules to check (default ``Rules()``). ``separate_tiers`` and
        ``same_region`` are checked as pairs that must not share a group.
    min_size, max_size : int, optional
        Allowed group sizes. A bound left out (None) is the smallest / largest group
        of the grouping itself (clipped to the other bound), so sizes are only checked
        against what you give. ``group_size=(min, max)`` is the deprecated spelling.
    columns : dict, optional
        Canonical column name -> column name in the table (e.g. ``{"group": "Team"}``).

    Returns
    -------
    MatchResult
        ``status="feasible"``, ``method="existing"``, ``seed=None``, ``bound=nan``.

    Raises
    ------
    CandidatesError
        The table cannot be read, has no ``group`` column, or a row has no group.
    ConfigError
        A setting is invalid (e.g. ``min > max``).

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(24, seed=1)
    >>> df["group"] = [f"G{k % 3 + 1}" for k in range(24)]
    >>> res = from_grouping(df, min_size=8, max_size=8)
    >>> res.status, res.n_groups, res.group_names
    ('feasible', 3, ['G1', 'G2', 'G3'])
    >>> round(res.score, 6) == round(float(res.group_stats["total"].sum()), 6)
    True
    """
    from .grouping import read_grouping
    from .rules import Part
    from .scoring import grouping_score

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    G = read_grouping(groups, weights=weights, rules=rules, min_size=min_size,
                      max_size=max_size, columns=columns)
    table = G.table
    timings["read"] = time.perf_counter() - t0
    t = time.perf_counter()
    feats, A = G.features, G.affinity
    timings["score"] = time.perf_counter() - t

    t = time.perf_counter()
    # Re-scoring checks the sizes you state, also for groups that were already larger,
    # and separate tiers / one region per group like every other rule.
    compiled = G.compile(moves=False)
    labels = np.asarray(compiled.existing, dtype=np.int64)
    timings["rules"] = time.perf_counter() - t
    # The raw total affinity, as match reports it (soft penalties are result.penalties).
    score = grouping_score(A, labels)
    timings["total"] = time.perf_counter() - t0
    part = Part("", np.arange(table.n), compiled, [], offset=0)
    return MatchResult(
        status="feasible", message="An existing grouping, re-scored (not solved).",
        score=float(score), bound=float("nan"), labels=labels, table=table, affinity=A,
        parts=[part], rules=G.rules, weights=G.weights, features=feats, method="existing",
        seed=None, timings=timings)


# --------------------------------------------------------------------------------------
# Rule checks in words
# --------------------------------------------------------------------------------------

def rule_checks(result: MatchResult) -> list[tuple[str, str, list[str]]]:
    """Each hard-rule family in force, as ``(key, description, violations)``.

    The families and their descriptions come from
    :data:`peermatch.rules.RULE_FAMILIES`, the violations from
    :meth:`~peermatch.result.MatchResult.violations` (grouped by their rule, not
    by their wording); an empty list means the family holds. Rules that are off
    are left out.

    >>> import peermatch as pm
    >>> res = pm.match(pm.synth_candidates(40, seed=1), min_size=8, max_size=10, time_limit=1)
    >>> [(key, bad) for key, _, bad in rule_checks(res)]
    [('sizes', []), ('competitors', []), ('conflicts', [])]
    """
    from .rules import rule_families

    fam = rule_families(result.rules, result.size_bounds())
    found: dict[str, list[str]] = {}
    for v in result.violations() if result.success else []:
        found.setdefault(v.rule, []).append(v.message)
    keys = {k for k, _ in fam}
    out = [(k, d, found.get(k, [])) for k, d in fam]
    rest = [v for k, vs in found.items() if k not in keys for v in vs]
    if rest:
        out.append(("other", "Other rules", rest))
    return out


# --------------------------------------------------------------------------------------
# SVG charts
# --------------------------------------------------------------------------------------

_E = html.escape
_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295")
_OTHER = "#d9d9d9"


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{_E(label)}">'
            f"<title>{_E(label)}</title>{''.join(body)}</svg>")


def _decimals(step: float) -> int:
    """Decimals needed to print multiples of ``step``."""
    t = f"{step:.6g}"
    return len(t.split(".")[1]) if "." in t and "e" not in t else 0


def _ticks(vmax: float, n: int = 4) -> list[float]:
    if vmax <= 0:
        return [0.0]
    raw = vmax / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    return [k * step for k in range(int(vmax / step + 1e-9) + 1)]


def _bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
               ylabel: str, highlight: int | None = None, digits: int = 0) -> str:
    """Vertical bars with a labelled y axis (values >= 0, or any sign with a zero line)."""
    n = max(len(values), 1)
    W, H, L, R, T, B = 720, 260, 56, 12, 16, 56
    pw, ph = W - L - R, H - T - B
    vals = [float(v) for v in values]
    lo, hi = min([0.0] + vals), max([0.0] + vals)
    ticks = _ticks(hi - lo)
    step = ticks[1] if len(ticks) > 1 else 1.0
    bottom = math.floor(lo / step + 1e-9) * step if lo < 0 else 0.0
    top = max(math.ceil(hi / step - 1e-9) * step, bottom + step)
    span = top - bottom
    nt = int(round(span / step))

    def y(v: float) -> float:
        return T + ph * (top - v) / span

    body = [f'<line x1="{L}" y1="{T}" x2="{L}" y2="{T + ph}" class="axis"/>']
    for k in range(nt + 1):
        v = bottom + k * step
        body.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W - R}" y2="{y(v):.1f}" class="grid"/>'
                    f'<text x="{L - 6}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">'
                    f"{v:.{_decimals(step)}f}</text>")
    body.append(f'<line x1="{L}" y1="{y(0):.1f}" x2="{W - R}" y2="{y(0):.1f}" class="axis"/>')
    bw = pw / n
    every = max(1, math.ceil(n / 40))
    for k, (lab, v) in enumerate(zip(labels, vals, strict=True)):
        x0 = L + k * bw + bw * 0.12
        y0, y1 = sorted((y(v), y(0)))
        cls = "bar hi" if highlight == k else "bar"
        body.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{bw * 0.76:.1f}" '
                    f'height="{max(y1 - y0, 0.5):.1f}" class="{cls}"><title>{_E(str(lab))}: '
                    f"{_fmt(v, digits)}</title></rect>")
        if k % every == 0:
            cx = L + (k + 0.5) * bw
            body.append(f'<text x="{cx:.1f}" y="{T + ph + 14}" class="tick" '
                        f'text-anchor="middle">{_E(str(lab))}</text>')
    body.append(f'<text x="{L + pw / 2:.1f}" y="{H - 8}" class="label" text-anchor="middle">'
                f"{_E(xlabel)}</text>")
    body.append(f'<text x="14" y="{T + ph / 2:.1f}" class="label" text-anchor="middle" '
                f'transform="rotate(-90 14 {T + ph / 2:.1f})">{_E(ylabel)}</text>')
    return _svg(W, H, body, title)


def _histogram(values: np.ndarray, *, bins: int, title: str, xlabel: str) -> str:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "<p>No values.</p>"
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    labels = [f"{edges[k]:.2f}" for k in range(bins)]
    return _bar_chart(labels, counts.tolist(), title=title, xlabel=xlabel, ylabel="members")


def _stacked_bars(groups: Sequence[str], cats: Sequence[str], counts: np.ndarray, *,
                  title: str) -> str:
    """One stacked bar per group; ``counts`` is (groups, categories)."""
    n = max(len(groups), 1)
    W, L, R, T, B = 720, 56, 12, 16, 40
    ph = 220
    leg_rows = math.ceil(len(cats) / 4)
    H = T + ph + B + 18 * leg_rows + 8
    pw = W - L - R
    tot = counts.sum(axis=1)
    vmax = float(tot.max()) if len(tot) else 1.0
    ticks = _ticks(vmax)
    top = max(vmax, ticks[-1]) or 1.0

    def y(v: float) -> float:
        return T + ph * (top - v) / top

    colors = [_PALETTE[k % len(_PALETTE)] for k in range(len(cats))]
    if cats and cats[-1] == "Other":
        colors[-1] = _OTHER
    body = [f'<line x1="{L}" y1="{T}" x2="{L}" y2="{T + ph}" class="axis"/>']
    for tv in ticks:
        body.append(f'<line x1="{L}" y1="{y(tv):.1f}" x2="{W - R}" y2="{y(tv):.1f}" '
                    f'class="grid"/><text x="{L - 6}" y="{y(tv) + 4:.1f}" class="tick" '
                    f'text-anchor="end">{tv:g}</text>')
    bw = pw / n
    every = max(1, math.ceil(n / 40))
    for g, name in enumerate(groups):
        x0 = L + g * bw + bw * 0.12
        acc = 0.0
        for c in range(len(cats)):
            v = float(counts[g, c])
            if v <= 0:
                continue
            body.append(f'<rect x="{x0:.1f}" y="{y(acc + v):.1f}" width="{bw * 0.76:.1f}" '
                        f'height="{y(acc) - y(acc + v):.1f}" fill="{colors[c]}">'
                        f"<title>group {_E(name)}: {_E(cats[c])} × {v:g}</title></rect>")
            acc += v
        if g % every == 0:
            body.append(f'<text x="{L + (g + 0.5) * bw:.1f}" y="{T + ph + 14}" class="tick" '
                        f'text-anchor="middle">{_E(name)}</text>')
    body.append(f'<text x="{L + pw / 2:.1f}" y="{T + ph + 30}" class="label" '
                'text-anchor="middle">group</text>')
    body.append(f'<text x="14" y="{T + ph / 2:.1f}" class="label" text-anchor="middle" '
                f'transform="rotate(-90 14 {T + ph / 2:.1f})">members</text>')
    for c, cat in enumerate(cats):
        lx = L + (c % 4) * (pw / 4)
        ly = T + ph + B + 18 * (c // 4) + 8
        body.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" '
                    f'fill="{colors[c]}"/><text x="{lx + 18:.1f}" y="{ly}" class="tick">'
                    f"{_E(cat[:28])}</text>")
    return _svg(W, H, body, title)


def _heat_color(v: float, vmin: float, vmax: float) -> str:
    """White (low) to deep blue (high); negative values in orange."""
    if vmax <= vmin:
        return "#f7fbff"
    t = (v - vmin) / (vmax - vmin)
    t = min(max(t, 0.0), 1.0)
    lo, hi = (247, 251, 255), (8, 69, 148)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _heatmap(ids: Sequence[str], M: np.ndarray, *, title: str) -> str:
    k = len(ids)
    cell = max(14, min(40, 480 // max(k, 1)))
    L, T = 90, 90
    W, H = L + k * cell + 90, T + k * cell + 10
    off = M[~np.eye(k, dtype=bool)] if k > 1 else np.zeros(1)
    vmin, vmax = float(off.min()), float(off.max())
    body = []
    for a in range(k):
        body.append(f'<text x="{L - 6}" y="{T + a * cell + cell * 0.65:.1f}" class="tick" '
                    f'text-anchor="end">{_E(ids[a])}</text>')
        cx = L + a * cell + cell * 0.6
        body.append(f'<text x="{cx:.1f}" y="{T - 6}" class="tick" '
                    f'transform="rotate(-60 {cx:.1f} {T - 6})">{_E(ids[a])}</text>')
        for b in range(k):
            if a == b:
                fill, tip = "#ffffff", f"{ids[a]}"
            else:
                fill = _heat_color(float(M[a, b]), vmin, vmax)
                tip = f"{ids[a]} – {ids[b]}: {M[a, b]:.3f}"
            body.append(f'<rect x="{L + b * cell}" y="{T + a * cell}" width="{cell}" '
                        f'height="{cell}" fill="{fill}" class="cell"><title>{_E(tip)}</title>'
                        "</rect>")
    # Colour scale.
    sx = L + k * cell + 24
    for s in range(10):
        v0 = vmin + (vmax - vmin) * (9 - s) / 9
        body.append(f'<rect x="{sx}" y="{T + s * 14}" width="14" height="14" '
                    f'fill="{_heat_color(v0, vmin, vmax)}"/>')
    body.append(f'<text x="{sx + 18}" y="{T + 10}" class="tick">{vmax:.2f}</text>'
                f'<text x="{sx + 18}" y="{T + 9 * 14 + 10}" class="tick">{vmin:.2f}</text>')
    return _svg(W, H, body, title)


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;padding:0 1.5rem 3rem;color:#1f2933;background:#f6f7f9;line-height:1.4}
header{padding:1.2rem 0 .4rem}h1{margin:.2rem 0;font-size:1.6rem}
h2{margin-top:2rem;border-bottom:2px solid #d8dde3;padding-bottom:.2rem;font-size:1.25rem}
h3{margin:.2rem 0 .4rem;font-size:1.05rem}
.muted{color:#616e7c}.ok{color:#1b7f3b;font-weight:600}.bad{color:#b42318;font-weight:600}
table{border-collapse:collapse;font-size:.88rem}
th,td{padding:.25rem .5rem;text-align:left;vertical-align:top;border-bottom:1px solid #e4e7eb}
th{background:#eef1f4}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.kpi{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:.5rem .8rem;
min-width:8rem}.kpi b{display:block;font-size:1.3rem}.kpi span{font-size:.8rem;color:#616e7c}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:1rem}
.card{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:.8rem 1rem}
.card.weak{border-color:#e4a11b}.stats{display:grid;grid-template-columns:auto auto;
gap:.1rem 1rem;font-size:.85rem;margin:.4rem 0}.stats dt{color:#616e7c}.stats dd{margin:0}
tr.flag td{background:#fff4e5}
.chart{max-width:100%;height:auto;background:#fff;border:1px solid #d8dde3;border-radius:8px}
.chart .axis{stroke:#52606d;stroke-width:1}.chart .grid{stroke:#e4e7eb;stroke-width:1}
.chart .tick{font-size:10px;fill:#52606d}.chart .label{font-size:12px;fill:#323f4b}
.chart .bar{fill:#4e79a7}.chart .bar.hi{fill:#e15759}.chart .cell{stroke:#fff;stroke-width:1}
pre{white-space:pre-wrap;font-size:.82rem;background:#f8f9fb;border:1px solid #e4e7eb;
padding:.5rem;border-radius:6px;margin:.2rem 0}
details summary{cursor:pointer}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(36rem,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#52606d;margin:.2rem 0 .8rem}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, num: Sequence[int] = (),
           flags: Sequence[bool] | None = None) -> str:
    th = "".join(f'<th class="num">{_E(h)}</th>' if k in num else f"<th>{_E(h)}</th>"
                 for k, h in enumerate(header))
    out = [f"<table><thead><tr>{th}</tr></thead><tbody>"]
    for r, row in enumerate(rows):
        cls = ' class="flag"' if flags is not None and flags[r] else ""
        tds = "".join(f'<td class="num">{_E(str(v))}</td>' if k in num
                      else f"<td>{_E(str(v))}</td>" for k, v in enumerate(row))
        out.append(f"<tr{cls}>{tds}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _stat_value(col: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if col in ("size", "shared_goals"):
        return f"{int(v)}"
    if col == "goal_coverage":
        return f"{float(v):.0%}"
    if col == "total":
        return f"{float(v):,.2f}"
    return f"{float(v):.3f}"


def _member_explanations(result: MatchResult, rows: Sequence[int]) -> dict[int, str]:
    from .explain import member_explanations  # next-best groups that keep every hard rule

    return {i: ex.to_text() for i, ex in member_explanations(result, rows).items()}


def _heatmap_group(result: MatchResult, stats: pd.DataFrame, heatmap_group) -> int:
    names = result.group_names
    if heatmap_group is None:
        nonempty = stats[stats["size"] > 1]
        if not len(nonempty):
            return int(stats["label"].iloc[0])
        return int(nonempty.loc[nonempty["mean_pair"].idxmin(), "label"])
    key = str(heatmap_group).strip()
    if key not in names:
        raise ConfigError(f"heatmap_group {heatmap_group!r} is not a group of this grouping; "
                          f"the groups are {sorted(names, key=natural_key)[:20]}"
                          f"{', ...' if len(names) > 20 else ''}.")
    return names.index(key)


def render_report(result: MatchResult, *, title: str | None = None,
                  heatmap_group: str | None = None, pairs: Any = None) -> str:
    """The HTML report of a grouping, as one self-contained string.

    Parameters
    ----------
    result : MatchResult
        From :func:`peermatch.match` or :func:`from_grouping`.
    title : str, optional
        Page title (default: "Peer groups" and the source file name).
    heatmap_group : str, optional
        Name of the group whose affinity heatmap is drawn (default: the group with the
        lowest mean pair affinity).
    pairs : AccountabilityPairs, path or DataFrame, optional
        Accountability pairs (``peermatch pairs``) to list on each group's card.

    Returns
    -------
    str
        An HTML5 document with inline CSS and inline SVG charts only: no scripts, no
        external stylesheets, fonts, images or links, so it opens offline and can be
        mailed as one file. All user text is HTML-escaped.

    Examples
    --------
    >>> import peermatch as pm
    >>> res = pm.match(pm.synth_candidates(40, seed=1), min_size=8, max_size=10, time_limit=1)
    >>> page = render_report(res)
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page, "http" in page
    (True, False, False)
    """
    t = result.table
    if title is None:
        src = str(t.source)
        title = "Peer groups" if src.startswith("<") else f"Peer groups — {os.path.basename(src)}"
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_E(title)}</title><style>{_CSS}</style></head><body>",
             f"<header><h1>{_E(title)}</h1><p class=\"muted\">{_E(result.message)}</p>"
             "</header>"]
    parts += _summary_section(result)
    parts += _rules_section(result)
    if not result.success:
        un = result.unplaced
        parts.append('<section id="unplaced"><h2>Unplaced candidates</h2>')
        parts.append(_table(["id", "line", "reason"], un.head(200).values.tolist(), num=[1]))
        parts.append("</section></body></html>")
        return "".join(parts) + "\n"
    view = _GroupsView(result, heatmap_group)
    parts += _charts_section(view)
    parts += _weakest_section(view)
    parts += _cards_section(view, pairs)
    parts.append('<footer class="muted"><p>Made by peermatch. Member score: mean affinity to '
                 "the rest of the group. Mean pair affinity: mean over all pairs of members. "
                 "Industry variety (Blau): 1 − Σ share², 0 when everyone is in one industry."
                 "</p></footer></body></html>")
    return "".join(parts) + "\n"


def _summary_section(result: MatchResult) -> list[str]:
    """The figures of the grouping: key numbers, then the run's details."""
    t = result.table
    s = result.summary()
    sizes = s["group_sizes"]
    kpis = [("candidates", f"{s['candidates']:,}"), ("groups", f"{s['groups']:,}"),
            ("group sizes", f"{min(sizes)}–{max(sizes)}" if sizes else "–"),
            ("score (total affinity)", _fmt(result.score, 2)),
            ("status", s["status"])]
    if s.get("penalties"):
        kpis.insert(4, ("soft penalties", _fmt(sum(s["penalties"].values()), 2)))
    if s.get("mean_pair_affinity"):
        kpis.append(("worst group mean pair affinity",
                     _fmt(s["mean_pair_affinity"]["worst_group"], 3)))
    if s.get("floor") is not None:
        kpis.append(("floor (worst member's fit)", _fmt(s["floor"], 3)))
    if s.get("fairness"):
        fx = s["fairness"]
        kpis.append((f"fairness {fx['level']:g}: total vs before the floor phase",
                     f"{fx['score_change']:+.2%}"))
    parts = ['<section id="summary"><h2>Summary</h2><div class="kpis">']
    parts.extend(f'<div class="kpi" data-kpi="{_E(k)}"><b>{_E(v)}</b><span>{_E(k)}</span>'
                 "</div>" for k, v in kpis)
    parts.append("</div>")
    meta = [("Source", t.source), ("Status", f"{s['status']} — {result.message}"),
            ("Score", _fmt(result.score, 2)),
            *[(f"Penalty: {k}", _fmt(v, 2)) for k, v in s.get("penalties", {}).items()],
            *([("Objective (score − penalties)", _fmt(s["objective"], 2))]
              if s.get("penalties") else []),
            ("Proven bound", _fmt(result.bound, 2) if np.isfinite(result.bound) else "–"),
            ("Time", f"{result.timings.get('total', 0.0):.1f} s (solve "
                     f"{result.timings.get('solve', 0.0):.1f} s)"),
            ("Seed", "–" if result.seed is None else str(result.seed)),
            ("Method", result.method or "–"),
            ("Placed", f"{s['placed']:,} of {s['candidates']:,}")]
    w = result.weights
    if hasattr(w, "to_dict"):
        wd = w.to_dict()
        meta.append(("Weights", ", ".join(f"{k} {v:g}" if isinstance(v, (int, float))
                                          else f"{k} {v}" for k, v in wd.items()
                                          if not (isinstance(v, (list, tuple)) and not v))))
    parts.append(_table(["", ""], meta))
    parts.append("</section>")
    return parts


def _rules_section(result: MatchResult) -> list[str]:
    """Each hard-rule family, held or broken, and the rule settings."""
    checks = rule_checks(result)
    all_ok = result.success and not any(bad for _, _, bad in checks)
    parts = ['<section id="rules"><h2>Hard rules</h2>']
    if result.success:
        parts.append(f'<p class="{"ok" if all_ok else "bad"}">'
                     f'{"✓ All hard rules are satisfied." if all_ok else "✗ Some hard rules are broken."}'  # noqa: E501
                     "</p><ul>")
        for _, desc, bad in checks:
            if not bad:
                parts.append(f'<li><span class="ok">✓</span> {_E(desc)}</li>')
            else:
                items = "".join(f"<li>{_E(b)}</li>" for b in bad[:50])
                more = f"<li>… and {len(bad) - 50} more</li>" if len(bad) > 50 else ""
                parts.append(f'<li><span class="bad">✗</span> {_E(desc)}: {len(bad)} '
                             f"broken<ul>{items}{more}</ul></li>")
        parts.append("</ul>")
    else:
        parts.append(f'<p class="bad">No grouping ({_E(result.status)}).</p><ul>')
        parts.extend(f"<li>{_E(r)}</li>" for r in result.reasons)
        parts.append("</ul>")
    rd = result.rules.to_dict()
    defaults = Rules().to_dict()
    changed = [(k, v) for k, v in rd.items() if v != defaults.get(k)]
    parts.append("<details><summary>Rule settings "
                 f"({len(changed)} changed from the defaults)</summary>")
    parts.append(_table(["setting", "value", "default"],
                        [(k, _jsonish(v), _jsonish(defaults.get(k))) for k, v in rd.items()]))
    parts.append("</details></section>")
    return parts


class _GroupsView:
    """What the charts, the weakest members and the group cards share: member scores,
    group statistics, the groups in natural order of their names, the weak group."""

    def __init__(self, result: MatchResult, heatmap_group) -> None:
        from .quality import member_scores

        self.result, self.t = result, result.table
        self.names = result.group_names
        self.stats = result.group_stats
        self.labels = result.labels
        self.ms = member_scores(result.affinity, self.labels)
        self.order = sorted(range(result.n_groups), key=lambda g: natural_key(self.names[g]))
        self.weak_g = _heatmap_group(result, self.stats, None)
        self.hm_g = _heatmap_group(result, self.stats, heatmap_group)
        self.n_weak = min(N_WEAKEST, self.t.n)
        self.weakest = np.argsort(self.ms, kind="stable")[:self.n_weak]


def _charts_section(v: _GroupsView) -> list[str]:
    """Sizes, group scores, industry mix, member satisfaction and one heatmap."""
    result, names, stats, labels, ms = v.result, v.names, v.stats, v.labels, v.ms
    parts = ['<section id="charts"><h2>Charts</h2><div class="figs">']
    size_vals, size_counts = np.unique(stats["size"].to_numpy(), return_counts=True)
    parts.append("<figure>" + _bar_chart([str(x) for x in size_vals], size_counts.tolist(),
                                         title="Group size distribution", xlabel="members",
                                         ylabel="groups")
                 + "<figcaption>Group size distribution: how many groups have each size."
                 "</figcaption></figure>")
    by_score = stats.sort_values("mean_pair", kind="stable")
    parts.append("<figure>" + _bar_chart(
        by_score["group"].tolist(), by_score["mean_pair"].tolist(),
        title="Mean pair affinity per group", xlabel="group (weakest first)",
        ylabel="mean pair affinity", highlight=0, digits=3)
        + "<figcaption>Group scores: mean pair affinity of every group, weakest first "
        "(highlighted).</figcaption></figure>")
    if result.features is not None:
        parts.append(_industry_mix(v))
    parts.append("<figure>" + _histogram(ms, bins=20, title="Member satisfaction",
                                         xlabel="member score (mean affinity to own group)")
                 + "<figcaption>Member satisfaction: each member's mean affinity to the rest "
                 "of their group.</figcaption></figure>")
    hm_g = v.hm_g
    hm_rows = np.flatnonzero(labels == hm_g)
    hm_rows = hm_rows[np.argsort(-ms[hm_rows], kind="stable")]
    parts.append("<figure>" + _heatmap([str(x) for x in v.t.ids[hm_rows]],
                                       block(result.affinity, hm_rows),
                                       title=f"Affinity heatmap of group {names[hm_g]}")
                 + f"<figcaption>Pair affinities inside group {_E(names[hm_g])}"
                 f"{' (the weakest group)' if hm_g == v.weak_g else ''}; members ordered by "
                 "their score, darker is a stronger tie.</figcaption></figure>")
    parts.append("</div></section>")
    return parts


def _industry_mix(v: _GroupsView) -> str:
    """The stacked bars of the 11 most common industries per group (the rest as Other)."""
    f = v.result.features
    sec = np.asarray(f.sector)
    cnt = np.bincount(sec, minlength=len(f.sector_labels))
    top = np.argsort(-cnt, kind="stable")[:11]
    cats = [str(f.sector_labels[c]) for c in top]
    cat_of = np.full(len(f.sector_labels), len(top), dtype=np.int64)
    cat_of[top] = np.arange(len(top))
    if len(f.sector_labels) > len(top):
        cats.append("Other")
    ncat = len(cats)
    M = np.zeros((v.result.n_groups, ncat))
    np.add.at(M, (v.labels, cat_of[sec].clip(max=ncat - 1)), 1)
    M = M[v.order]
    return ("<figure>" + _stacked_bars([v.names[g] for g in v.order], cats, M,
                                       title="Industry mix per group")
            + "<figcaption>Industry mix per group (the 11 most common industries; "
            "the rest as Other).</figcaption></figure>")


def _weakest_section(v: _GroupsView) -> list[str]:
    """The members with the lowest fit, each with why they are where they are."""
    t, ms = v.t, v.ms
    expl = _member_explanations(v.result, v.weakest)
    parts = [f'<section id="weakest"><h2>Weakest-fit members</h2><p class="muted">The '
             f"{v.n_weak} members with the lowest mean affinity to their group, with why "
             "they are there.</p>"]
    for i in v.weakest:
        nm = table_cell(t, "name", int(i))
        who = f"{t.ids[i]}" + (f" — {nm}" if nm else "")
        parts.append(f'<details class="member" data-id="{_E(str(t.ids[i]))}"><summary>'
                     f"<b>{_E(who)}</b>, group {_E(v.names[v.labels[i]])}, score "
                     f"{ms[i]:.3f}</summary><pre>{_E(expl[int(i)])}</pre></details>")
    parts.append("</section>")
    return parts


def _cards_section(v: _GroupsView, pairs) -> list[str]:
    """One card per group: its meeting slot, pairs, measures and members."""
    t, ms, names, stats, labels = v.t, v.ms, v.names, v.stats, v.labels
    slots = group_slots(v.result)
    pair_cards = pair_lists(v.result, pairs)
    weak_set = set(int(i) for i in v.weakest)
    parts = ['<section id="groups"><h2>Groups</h2><div class="cards">']
    stat_cols = [c for c in STAT_LABELS if c in stats.columns]
    for g in v.order:
        row = stats.loc[stats["label"] == g].iloc[0]
        mem = np.flatnonzero(labels == g)
        mem = mem[np.argsort(-ms[mem], kind="stable")]
        iso = int(mem[-1]) if len(mem) else -1
        cls = "card weak" if g == v.weak_g else "card"
        parts.append(f'<article class="{cls}" data-group="{_E(names[g])}">'
                     f"<h3>Group {_E(names[g])}</h3>")
        if slots is not None:
            parts.append(f'<p>Meeting slot: <b>{_E(slots[g] or "none")}</b></p>')
        parts.append(pair_cards.get(names[g], ""))
        parts.append('<dl class="stats">')
        for c in stat_cols:
            val = _stat_value(c, row[c])
            if c == "min_member" and iso >= 0:
                val += f" ({t.ids[iso]})"
            parts.append(f'<dt>{_E(STAT_LABELS[c])}</dt><dd data-stat="{c}">{_E(val)}</dd>')
        parts.append("</dl>")
        topics = member_topics(v.result, mem)
        rows = []
        for k, i in enumerate(mem):
            emp = t.employees[i]
            rows.append((t.ids[i], table_cell(t, "name", int(i)), t.industry[i],
                         f"{emp:,.0f}" if np.isfinite(emp) else "",
                         "; ".join(t.goals[i]) if t.goals else "",
                         *([", ".join(topics[k])] if topics else []), f"{ms[i]:.3f}"))
        head = ["id", "name", "industry", "employees", "goals"]
        parts.append(_table(head + (["writes with the group about"] if topics else []) + ["score"],
                            rows, num=[3, len(head) + bool(topics)],
                            flags=[int(i) in weak_set for i in mem]))
        parts.append("</article>")
    parts.append("</div></section>")
    return parts


def _jsonish(v: Any) -> str:
    import json

    try:
        return json.dumps(v, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(v)


def write_report(result: MatchResult, path: str | os.PathLike, *, title: str | None = None,
                 heatmap_group: str | None = None, pairs: Any = None) -> None:
    """Write :func:`render_report` of ``result`` to ``path`` (UTF-8, atomically).

    Parameters
    ----------
    result : MatchResult
        The grouping.
    path : str or path-like
        HTML file to write (replaced whole; a reader never sees half a file).
    title, heatmap_group : str, optional
        See :func:`render_report`.
    pairs : AccountabilityPairs, path or DataFrame, optional
        See :func:`render_report`.
    """
    atomic_write_text(path, render_report(result, title=title, heatmap_group=heatmap_group,
                                          pairs=pairs))
