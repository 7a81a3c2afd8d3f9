"""A dependency-free log-log line chart as SVG, for the scaling figures in docs/.

    python benchmarks/loglog.py benchmarks/results/scale_all.json docs/img/scale.svg

reads the rows written by ``benchmarks/scale.py`` (``n``, ``command_wall_s``,
``peak_rss_mb``) and draws wall time and peak memory against ``n`` on log axes, with the
slope of each series between its first and last point (1 = linear growth).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 560, 340, 64, 150, 30, 48
COLORS = ("#1f77b4", "#d62728", "#2ca02c")


def _log_ticks(lo: float, hi: float) -> list[float]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0 ** k for k in range(a, b + 1)]


def loglog_svg(x: list[float], series: dict[str, list[float]], *, title: str,
               xlabel: str) -> str:
    """SVG text of ``series`` (name -> y values) against ``x``, both axes logarithmic."""
    ys = [v for vals in series.values() for v in vals if v > 0]
    xlo, xhi = min(x), max(x)
    ylo, yhi = min(ys), max(ys)
    xt, yt = _log_ticks(xlo, xhi), _log_ticks(ylo, yhi)
    lx0, lx1 = math.log10(xt[0]), math.log10(xt[-1])
    ly0, ly1 = math.log10(yt[0]), math.log10(yt[-1])

    def px(v):
        return PAD_L + (math.log10(v) - lx0) / max(lx1 - lx0, 1e-9) * (W - PAD_L - PAD_R)

    def py(v):
        return H - PAD_B - (math.log10(v) - ly0) / max(ly1 - ly0, 1e-9) * (H - PAD_T - PAD_B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" font-family="sans-serif" font-size="11">',
           f'<text x="{W / 2:.0f}" y="16" text-anchor="middle" font-size="13">{title}</text>']
    for t in xt:
        out.append(f'<line x1="{px(t):.1f}" y1="{PAD_T}" x2="{px(t):.1f}" y2="{H - PAD_B}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{px(t):.1f}" y="{H - PAD_B + 14}" text-anchor="middle">'
                   f'{t:,.0f}</text>')
    for t in yt:
        out.append(f'<line x1="{PAD_L}" y1="{py(t):.1f}" x2="{W - PAD_R}" y2="{py(t):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<text x="{(PAD_L + W - PAD_R) / 2:.0f}" y="{H - 10}" text-anchor="middle">'
               f'{xlabel}</text>')
    for k, (name, vals) in enumerate(series.items()):
        c = COLORS[k % len(COLORS)]
        pts = [(px(a), py(b)) for a, b in zip(x, vals, strict=True) if b > 0]
        out.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
            c, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
        for a, b in pts:
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{c}"/>')
        slope = (math.log(vals[-1] / vals[0]) / math.log(x[-1] / x[0])
                 if vals[0] > 0 and vals[-1] > 0 and x[-1] != x[0] else float("nan"))
        out.append(f'<text x="{W - PAD_R + 10}" y="{PAD_T + 20 + 18 * k}" fill="{c}">'
                   f'{name} (slope {slope:.2f})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rows = sorted(json.loads(Path(argv[0]).read_text()), key=lambda r: r["n"])
    x = [float(r["n"]) for r in rows]
    svg = loglog_svg(x, {"command wall time (s)": [float(r["command_wall_s"]) for r in rows],
                         "peak memory (MB)": [float(r["peak_rss_mb"]) for r in rows]},
                     title="peermatch match: time and memory against n", xlabel="candidates n")
    Path(argv[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(argv[1]).write_text(svg)
    print(f"wrote {argv[1]}")


if __name__ == "__main__":
    main()
