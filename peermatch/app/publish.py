"""The files a chair sends: the same files the command line writes, from the same code.

========================  ===============================================================
download                  made by (as the command that writes it)
========================  ===============================================================
groups CSV                ``MatchResult.groups`` (``peermatch match --out``)
HTML report               :func:`peermatch.report.render_report` (``peermatch report``)
accountability pairs      :func:`peermatch.accountability_pairs` (``peermatch pairs``)
calendars (zip of .ics)   :func:`peermatch.write_calendars` (``peermatch calendar``)
========================  ===============================================================
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from .workspace import Workspace

__all__ = ["groups_csv", "report_html", "pairs_csv", "calendars_zip", "file_stem"]


def file_stem(ws: Workspace) -> str:
    """The input file's name without its extension (names the downloads)."""
    return Path(str(ws.table.source)).stem or "groups"


def groups_csv(ws: Workspace) -> str:
    """Every input row and column plus ``group`` (and ``meeting_slot`` with the common
    slot rule), as ``peermatch match`` writes it."""
    return ws.result.groups.to_csv(index=False, lineterminator="\n")


def report_html(ws: Workspace) -> str:
    """The self-contained HTML report of ``peermatch report``."""
    from ..report import render_report

    return render_report(ws.result, title=f"Peer groups - {Path(str(ws.table.source)).name}")


def pairs_csv(ws: Workspace) -> tuple[str, list[str]]:
    """The accountability pairs of ``peermatch pairs`` and its notes."""
    from ..pairs import accountability_pairs

    pairs = accountability_pairs(ws, weights=ws.weights)
    with tempfile.TemporaryDirectory(prefix="peermatch-app-") as tmp:
        path = Path(tmp) / "pairs.csv"
        pairs.to_csv(path)
        return path.read_text(encoding="utf-8"), list(pairs.notes)


def calendars_zip(ws: Workspace, **options) -> bytes:
    """The ``.ics`` files of ``peermatch calendar`` (options as for
    :func:`peermatch.write_calendars`), in one zip."""
    from ..calendar import write_calendars

    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="peermatch-app-") as tmp:
        paths = write_calendars(ws, tmp, **options)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in paths:
                zf.write(p, arcname=p.name)
    return buf.getvalue()
