"""The workbench's web server: a Starlette application of server-rendered pages, a little
JavaScript, and the JSON actions of :mod:`peermatch.app.api`.

:func:`create_app` builds the application (wrapped in the
:class:`~peermatch.app.security.Guard`); :func:`serve` runs it with uvicorn on 127.0.0.1,
as ``peermatch app`` does. Every asset (style sheet, script) is served from the package:
the page works offline.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import PeermatchError
from . import api, publish
from .security import Guard
from .views import grouping_view, rules_view, setup_view
from .workbench import Workbench
from .workspace import TableErrors

__all__ = ["create_app", "MAX_UPLOAD"]

HERE = Path(__file__).parent
#: The largest file accepted by upload (bytes).
MAX_UPLOAD = 50 * 2 ** 20


def _templates() -> Jinja2Templates:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return Jinja2Templates(env=env)


def _settings_from_upload(form) -> dict:
    from .settings import COLUMN_NAMES, defaults

    s = defaults()
    s["columns"] = {k: str(form.get(f"column_{k}", "")).strip() for k in COLUMN_NAMES
                    if str(form.get(f"column_{k}", "")).strip()}
    return s


async def index(request: Request):
    wb: Workbench = request.app.state.workbench
    sessions = await run_in_threadpool(wb.store.sessions)
    return request.app.state.templates.TemplateResponse(
        request, "index.html", {"sessions": sessions, "errors": None, "message": None,
                                "columns": _settings_from_upload({})["columns"]})


async def open_upload(request: Request):
    """A candidates (or groups) file sent by the page: a new session, or the problems."""
    wb: Workbench = request.app.state.workbench
    form = await request.form(max_part_size=MAX_UPLOAD)
    up = form.get("file")
    if up is None or not getattr(up, "filename", ""):
        return await _index_error(request, "Choose a CSV file first.", None, {})
    data = await up.read()
    settings = _settings_from_upload(form)
    try:
        sid = await run_in_threadpool(wb.open_file, up.filename, data, settings=settings)
    except TableErrors as exc:
        return await _index_error(request, str(exc).split("\n", 1)[0], exc.rows,
                                  settings["columns"])
    except PeermatchError as exc:
        return await _index_error(request, str(exc), None, settings["columns"])
    return RedirectResponse(f"/s/{sid}", status_code=303)


async def _index_error(request: Request, message: str, rows, columns: dict):
    wb: Workbench = request.app.state.workbench
    sessions = await run_in_threadpool(wb.store.sessions)
    return request.app.state.templates.TemplateResponse(
        request, "index.html", {"sessions": sessions, "errors": rows, "message": message,
                                "columns": columns}, status_code=400)


async def open_example(request: Request):
    from ..datasets import example_path

    wb: Workbench = request.app.state.workbench
    path = Path(example_path())
    sid = await run_in_threadpool(wb.open_file, path.name, path.read_bytes())
    return RedirectResponse(f"/s/{sid}", status_code=303)


def _page_context(wb: Workbench, sid: str) -> dict:
    s = wb.store.session(sid)
    try:
        table, notes = wb.table(sid, s)
    except TableErrors as exc:  # a column mapping the file does not fit any more
        return {"session": s, "errors": exc.rows, "message": str(exc).split("\n", 1)[0],
                "setup": setup_view(s["settings"], None), "view": None, "rules": [],
                "notes": [], "ws": None, "job": None, "history": None, "rev": s["rev"]}
    ws = wb.workspace(sid)
    return {"session": s, "errors": None, "message": None, "notes": notes, "ws": ws,
            "setup": setup_view(s["settings"], table), "view": grouping_view(ws),
            "rules": rules_view(ws), "history": wb.store.history(sid),
            "job": wb.jobs.status(sid), "rev": wb.store.revision(sid)}


async def _render(request: Request, template: str):
    """The session's page context rendered with ``template`` (404 for an unknown session)."""
    wb: Workbench = request.app.state.workbench
    sid = request.path_params["sid"]
    try:
        ctx = await run_in_threadpool(_page_context, wb, sid)
    except KeyError:
        return PlainTextResponse(f"No session {sid!r}.", status_code=404)
    return request.app.state.templates.TemplateResponse(request, template, ctx)


async def session_page(request: Request):
    return await _render(request, "session.html")


async def grouping_fragment(request: Request):
    """The cards alone, for the page to refresh after a change."""
    return await _render(request, "_grouping.html")


_DOWNLOADS = {
    "groups.csv": ("text/csv; charset=utf-8", lambda ws, q: publish.groups_csv(ws)),
    "report.html": ("text/html; charset=utf-8", lambda ws, q: publish.report_html(ws)),
    "pairs.csv": ("text/csv; charset=utf-8", lambda ws, q: publish.pairs_csv(ws)[0]),
    "calendars.zip": ("application/zip", lambda ws, q: publish.calendars_zip(
        ws, start=q.get("start") or None, every=q.get("every") or "month",
        count=int(q["count"]) if q.get("count") else None, time=q.get("time") or None,
        duration=q.get("duration") or "3h", tz=q.get("tz") or None)),
}


async def download(request: Request):
    """A file of the current grouping, made by the code of the matching command."""
    wb: Workbench = request.app.state.workbench
    sid, kind = request.path_params["sid"], request.path_params["kind"]
    if kind not in _DOWNLOADS:
        return PlainTextResponse(f"No download {kind!r}.", status_code=404)
    media, make = _DOWNLOADS[kind]

    def build():
        ws = wb.workspace(sid)
        if ws.result is None:
            raise PeermatchError("There is no grouping yet: run the solver first.")
        return publish.file_stem(ws), make(ws, dict(request.query_params))
    try:
        stem, body = await run_in_threadpool(build)
    except KeyError:
        return PlainTextResponse(f"No session {sid!r}.", status_code=404)
    except (PeermatchError, ValueError, TypeError) as exc:
        return PlainTextResponse(f"Cannot make {kind}: {exc}", status_code=400)
    # the stem comes from an uploaded file's name: plain characters only in the header
    name = re.sub(r"[^\w.-]+", "_", f"{stem}-{kind}", flags=re.ASCII)
    return Response(body, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def create_app(workbench: Workbench, *, token: str, port: int,
               stream_seconds: float = api.STREAM_SECONDS):
    """The workbench as an ASGI application.

    Parameters
    ----------
    workbench : Workbench
        The sessions and their actions.
    token : str
        The secret every request must carry (see :mod:`peermatch.app.security`).
    port : int
        The port the server listens on: only ``127.0.0.1:PORT`` and ``localhost:PORT``
        are answered.
    stream_seconds : float, optional
        How long one stream of progress events lasts before the page reconnects.
    """
    routes = [
        Route("/", index),
        Route("/open", open_upload, methods=["POST"]),
        Route("/open-example", open_example, methods=["POST"]),
        Route("/s/{sid}", session_page),
        Route("/s/{sid}/grouping", grouping_fragment),
        Route("/s/{sid}/download/{kind}", download),
        *api.routes(),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.workbench = workbench
    app.state.stream_seconds = float(stream_seconds)
    app.state.templates = _templates()
    return Guard(app, token, port)
