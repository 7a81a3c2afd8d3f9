"""The JSON actions of the workbench page (``/api/s/{sid}/...``): thin wrappers over
:class:`~peermatch.app.workbench.Workbench`, run off the event loop.

Errors come back as JSON ``{"error": ...}``: 400 for a bad setting or input (in the
library's own words), 404 for an unknown session, 409 for a change refused (a move that
breaks a rule, a run already going, a grouping changed meanwhile by another tab).
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from ..errors import PeermatchError
from .state import Conflict
from .workbench import Workbench
from .workspace import TableErrors

__all__ = ["routes", "STREAM_SECONDS"]

#: How long one stream of ``/events`` lasts; the browser's EventSource then reconnects
#: (a server stopping never waits long for an open page).
STREAM_SECONDS = 30.0


async def _body(request: Request) -> dict:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return dict(await request.form())


def _action(fn):
    """A route calling ``fn(workbench, sid, body)`` in a thread, errors as JSON."""
    async def endpoint(request: Request):
        wb: Workbench = request.app.state.workbench
        sid = request.path_params["sid"]
        body = await _body(request) if request.method == "POST" else dict(request.query_params)
        try:
            out = await run_in_threadpool(fn, wb, sid, body)
        except TableErrors as exc:
            return JSONResponse({"error": str(exc), "rows": exc.rows}, status_code=400)
        except PeermatchError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except KeyError:
            return JSONResponse({"error": f"No session {sid!r}."}, status_code=404)
        except Conflict as exc:  # a run going; a grouping changed meanwhile
            return JSONResponse({"error": str(exc)}, status_code=409)
        if isinstance(out, tuple):
            return JSONResponse(out[0], status_code=out[1])
        return JSONResponse(out)
    return endpoint


def _status(wb: Workbench, sid: str, body: dict) -> dict:
    h = wb.store.history(sid)
    return {"rev": wb.store.revision(sid), "job": wb.jobs.status(sid),
            "undo": h["actions"][h["pos"]] if h["pos"] > 0 else None,
            "redo": h["actions"][h["pos"] + 1] if h["pos"] < h["last"] else None}


def _settings(wb: Workbench, sid: str, body: dict) -> dict:
    ws = wb.set_settings(sid, body)
    return {"ok": True, "rev": wb.store.revision(sid),
            "score": None if ws.result is None else ws.result.score}


def _change(check: dict) -> tuple[dict, int]:
    return check, 200 if check["ok"] else 409


def _base(body: dict) -> int | None:
    raw = body.get("base")
    return None if raw in (None, "") else int(raw)


def _lock(wb: Workbench, sid: str, body: dict) -> dict:
    locked = body.get("locked", True)
    locked = locked if isinstance(locked, bool) else str(locked).lower() in ("1", "true", "on")
    return {"locked": wb.lock(sid, str(body.get("group", "")), locked)}


def _explain(wb: Workbench, sid: str, body: dict) -> dict:
    member = str(body.get("member", ""))
    return {"member": member, "text": wb.workspace(sid).explain(member)}


def _step(delta: int):
    def go(wb: Workbench, sid: str, body: dict):
        done = wb.undo(sid) if delta < 0 else wb.redo(sid)
        return {"ok": done} if done else ({"error": "Nothing to " + (
            "undo." if delta < 0 else "redo.")}, 409)
    return go


def _stop(wb: Workbench, sid: str, body: dict):
    return {"ok": True} if wb.jobs.stop(sid) else ({"error": "No run is going."}, 409)


_ACTIONS = {
    "status": (("GET",), _status),
    "settings": (("POST",), _settings),
    "run": (("POST",), lambda wb, sid, b: wb.run(sid)),
    "reoptimise": (("POST",), lambda wb, sid, b: wb.reoptimise(sid)),
    "stop": (("POST",), _stop),
    "check-move": (("POST",), lambda wb, sid, b: wb.workspace(sid).check_move(
        str(b.get("member", "")), str(b.get("group", "")))),
    "move": (("POST",), lambda wb, sid, b: _change(wb.move(
        sid, str(b.get("member", "")), str(b.get("group", "")), _base(b)))),
    "check-swap": (("POST",), lambda wb, sid, b: wb.workspace(sid).check_swap(
        str(b.get("a", "")), str(b.get("b", "")))),
    "swap": (("POST",), lambda wb, sid, b: _change(wb.swap(
        sid, str(b.get("a", "")), str(b.get("b", "")), _base(b)))),
    "lock": (("POST",), _lock),
    "undo": (("POST",), _step(-1)),
    "redo": (("POST",), _step(+1)),
    "explain": (("GET",), _explain),
}


async def _events(request: Request):
    """Server-sent events: the session's ``status`` each time it changes, looked at every
    0.25 s during a run and every second otherwise, for ``app.state.stream_seconds``."""
    wb: Workbench = request.app.state.workbench
    sid = request.path_params["sid"]
    try:
        first = await run_in_threadpool(_status, wb, sid, {})
    except KeyError:
        return JSONResponse({"error": f"No session {sid!r}."}, status_code=404)
    seconds = float(getattr(request.app.state, "stream_seconds", STREAM_SECONDS))
    return StreamingResponse(_stream(wb, sid, first, seconds),
                             media_type="text/event-stream")


async def _stream(wb: Workbench, sid: str, status: dict, seconds: float):
    end, last, quiet = time.monotonic() + seconds, None, 0.0
    while True:
        text = json.dumps(status)
        if text != last:
            yield f"data: {text}\n\n"
            last, quiet = text, 0.0
        elif quiet >= 10.0:  # a comment line keeps proxies and the browser from timing out
            yield ": waiting\n\n"
            quiet = 0.0
        if time.monotonic() >= end:
            return
        job = status.get("job") or {}
        delay = 0.25 if job.get("state") == "running" else 1.0
        await asyncio.sleep(delay)
        quiet += delay
        status = await run_in_threadpool(_status, wb, sid, {})


def routes() -> list[Route]:
    """The API's routes."""
    return [Route(f"/api/s/{{sid}}/{name}", _action(fn), methods=list(methods))
            for name, (methods, fn) in _ACTIONS.items()] + [
        Route("/api/s/{sid}/events", _events)]
