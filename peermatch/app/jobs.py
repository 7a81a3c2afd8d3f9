"""Runs of the solver off the request thread: one at a time per session, with progress
and a stop that keeps the best grouping.

A run calls :func:`peermatch.match`, as ``peermatch match`` does, in a thread. Its
``callback`` records the best score the search reports; Stop makes the next call of the
callback raise ``KeyboardInterrupt``, which the solver handles as it handles Ctrl-C: the
search ends and the best valid grouping found so far is returned (``solver["interrupted"]``).
The finished grouping becomes a new state of the session (so Undo brings back the one
before). The run's state lives in the server, not in a page: a reload, or a second tab,
shows it still going.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import PeermatchError
from .state import Conflict, Store

__all__ = ["Job", "Jobs"]


@dataclass
class Job:
    """One run of one session.

    ``state`` is ``"running"``, ``"done"``, ``"stopped"`` (Stop: the best grouping
    found was kept), ``"failed"`` (no grouping; ``message`` says why) or ``"lost"``
    (the server stopped during the run).
    """

    kind: str
    time_limit: float
    started: float = field(default_factory=time.time)
    state: str = "running"
    best: float | None = None
    message: str = ""
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def info(self) -> dict:
        end = self.finished or time.time()
        elapsed = end - self.started
        return {"kind": self.kind, "state": self.state, "best": self.best,
                "started": self.started, "elapsed": round(elapsed, 2),
                "time_limit": self.time_limit,
                "left": round(max(self.time_limit - elapsed, 0.0), 1)
                if self.state == "running" else 0.0,
                "message": self.message, "stopping": self.stop.is_set()}


class Jobs:
    """The runs of every session of a :class:`~peermatch.app.state.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def status(self, sid: str) -> dict | None:
        """The session's current or last run (None if it never ran)."""
        with self._lock:
            job = self._jobs.get(sid)
        return job.info() if job is not None else self.store.job(sid)

    def running(self, sid: str) -> bool:
        with self._lock:
            job = self._jobs.get(sid)
        return job is not None and job.state == "running"

    def start(self, sid: str, kind: str, time_limit: float,
              work: Callable[[Callable[[dict], None]], tuple[str, str]]) -> Job:
        """Start ``work(callback)`` in a thread; it returns ``(state, message)``.

        Raises
        ------
        Conflict
            A run of this session is already going.
        """
        job = Job(kind=kind, time_limit=float(time_limit))
        with self._lock:
            old = self._jobs.get(sid)
            if old is not None and old.state == "running":
                raise Conflict("A run is already going; stop it first.")
            self._jobs[sid] = job

        def callback(info: dict) -> None:
            best = info.get("objective")
            if isinstance(best, (int, float)) and best > float("-inf"):
                job.best = float(best)
            if job.stop.is_set():
                raise KeyboardInterrupt  # the solver's Ctrl-C path: keep the best grouping

        def target() -> None:
            try:
                job.state, job.message = work(callback)
            except PeermatchError as exc:  # a setting the run refused: its own words
                job.state, job.message = "failed", str(exc)
            except Exception as exc:  # a bug: shown on the page, not lost in a thread
                job.state, job.message = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = time.time()
                self.store.save_job(sid, job.info())

        self.store.save_job(sid, job.info())
        threading.Thread(target=target, name=f"peermatch-app-{kind}-{sid}", daemon=True).start()
        return job

    def stop(self, sid: str) -> bool:
        """Ask the session's run to stop (True if one was running)."""
        with self._lock:
            job = self._jobs.get(sid)
        if job is None or job.state != "running":
            return False
        job.stop.set()
        return True

    def wait(self, sid: str, timeout: float = 60.0) -> dict | None:
        """Block until the session's run ends (for tests and scripts)."""
        end = time.time() + timeout
        while self.running(sid) and time.time() < end:
            time.sleep(0.05)
        return self.status(sid)
