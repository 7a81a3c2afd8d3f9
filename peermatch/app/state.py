"""The workbench's sessions, kept in one SQLite file: they survive a reload and a restart.

A *session* is one candidates file the chair works on: the file's bytes as loaded (so the
session does not depend on the file staying where it was), the settings (sizes, weights,
rules, columns) and a history of *states*. A state is a grouping (one group name per row
of the table, in table order, or none before the first run) with the groups that are
locked. Every action that changes the grouping (a run, a move, a swap, a lock, a
re-optimisation) adds a state; undo and redo move a pointer through the history, and a
new action after an undo drops the states after the pointer, as editors do. So no action
loses a grouping without an undo.

Each call opens its own connection (the server answers requests on several threads and
runs solves on others); SQLite serialises the writes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Store", "State", "Conflict", "default_state_path"]


class Conflict(Exception):
    """A change refused because the session is busy or changed meanwhile."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, file_name TEXT NOT NULL, file_bytes BLOB NOT NULL,
    file_hash TEXT NOT NULL, settings TEXT NOT NULL, pos INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS states (
    session TEXT NOT NULL, seq INTEGER NOT NULL, groups TEXT, locked TEXT NOT NULL,
    action TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (session, seq));
CREATE TABLE IF NOT EXISTS jobs (session TEXT PRIMARY KEY, info TEXT NOT NULL);
"""


def default_state_path() -> Path:
    """``app.sqlite3`` in the user's data folder (``$XDG_DATA_HOME/peermatch``, else
    ``~/.local/share/peermatch``; ``%LOCALAPPDATA%`` on Windows, ``~/Library/Application
    Support`` on macOS)."""
    import os
    import sys

    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "peermatch" / "app.sqlite3"


@dataclass(frozen=True)
class State:
    """One grouping of a session's history.

    Attributes
    ----------
    seq : int
        Its place in the history (0: the file as loaded).
    groups : list of str or None
        The group name of each row, in table order; None before the first run.
    locked : list of str
        Names of the locked groups.
    action : str
        What made it, in words ("loaded", "run", "moved M0042 to 7", ...).
    """

    seq: int
    groups: list[str] | None
    locked: list[str]
    action: str


class Store:
    """Sessions and their histories in one SQLite file (created with its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        with self._db() as db:
            db.executescript(_SCHEMA)
            # A run cannot outlive the server that ran it: say so instead of "running".
            for sid, info in db.execute("SELECT session, info FROM jobs").fetchall():
                job = json.loads(info)
                if job.get("state") == "running":
                    job.update(state="lost", message="The server stopped during this run; "
                               "the grouping before it is kept.")
                    db.execute("UPDATE jobs SET info=? WHERE session=?", (json.dumps(job), sid))

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _run(self, fn):
        """``fn(db)`` in one transaction, one writer at a time in this process."""
        with self._lock:
            db = self._db()
            try:
                with db:
                    return fn(db)
            finally:
                db.close()

    # -- sessions ------------------------------------------------------------------------
    def create(self, file_name: str, data: bytes, settings: dict,
               groups: list[str] | None = None, action: str = "loaded") -> str:
        """A new session of ``data`` (the file's bytes); returns its id."""
        sid = secrets.token_hex(6)
        now = time.time()
        digest = hashlib.sha256(data).hexdigest()

        def go(db):
            db.execute("INSERT INTO sessions VALUES (?,?,?,?,?,?,0,0,?,?)",
                       (sid, Path(file_name).name, file_name, data, digest,
                        json.dumps(settings), now, now))
            db.execute("INSERT INTO states VALUES (?,0,?,?,?,?)",
                       (sid, None if groups is None else json.dumps(groups), "[]", action, now))
        self._run(go)
        return sid

    def find(self, data: bytes) -> str | None:
        """The most recent session of a file with exactly these bytes, if any."""
        digest = hashlib.sha256(data).hexdigest()
        row = self._run(lambda db: db.execute(
            "SELECT id FROM sessions WHERE file_hash=? ORDER BY updated DESC LIMIT 1",
            (digest,)).fetchone())
        return row[0] if row else None

    def sessions(self) -> list[dict]:
        """Every session, the most recently changed first (without the file's bytes)."""
        rows = self._run(lambda db: db.execute(
            "SELECT id, name, file_name, pos, updated FROM sessions ORDER BY updated DESC"
        ).fetchall())
        return [{"id": r[0], "name": r[1], "file_name": r[2], "pos": r[3],
                 "updated": time.strftime("%Y-%m-%d %H:%M", time.localtime(r[4]))}
                for r in rows]

    def session(self, sid: str) -> dict:
        """The session ``sid`` (``KeyError`` when there is none)."""
        row = self._run(lambda db: db.execute(
            "SELECT id, name, file_name, file_bytes, file_hash, settings, pos, rev FROM sessions "
            "WHERE id=?", (sid,)).fetchone())
        if row is None:
            raise KeyError(sid)
        return {"id": row[0], "name": row[1], "file_name": row[2], "data": bytes(row[3]),
                "hash": row[4], "settings": json.loads(row[5]), "pos": row[6], "rev": row[7]}

    def revision(self, sid: str) -> int:
        """A number that grows with every change of the session (for other tabs)."""
        row = self._run(lambda db: db.execute("SELECT rev FROM sessions WHERE id=?",
                                              (sid,)).fetchone())
        if row is None:
            raise KeyError(sid)
        return int(row[0])

    def set_settings(self, sid: str, settings: dict) -> None:
        self._run(lambda db: db.execute(
            "UPDATE sessions SET settings=?, rev=rev+1, updated=? WHERE id=?",
            (json.dumps(settings), time.time(), sid)))

    # -- the history ---------------------------------------------------------------------
    def current(self, sid: str) -> State:
        """The state the session shows now."""
        def go(db):
            pos = db.execute("SELECT pos FROM sessions WHERE id=?", (sid,)).fetchone()
            if pos is None:
                raise KeyError(sid)
            return db.execute("SELECT seq, groups, locked, action FROM states WHERE session=? "
                              "AND seq=?", (sid, pos[0])).fetchone()
        row = self._run(go)
        return State(row[0], None if row[1] is None else json.loads(row[1]),
                     json.loads(row[2]), row[3])

    def push(self, sid: str, groups: list[str] | None, locked: list[str], action: str,
             *, base: int | None = None) -> int:
        """Add a state after the current one (dropping any redo); returns its seq.

        ``base``: the seq the change was computed from; when another tab changed the
        session meanwhile, the change is refused (:class:`Conflict`) rather than applied
        to a grouping it was not checked against.
        """
        def go(db):
            pos = db.execute("SELECT pos FROM sessions WHERE id=?", (sid,)).fetchone()
            if pos is None:
                raise KeyError(sid)
            if base is not None and base != pos[0]:
                raise Conflict("The grouping changed meanwhile (another tab or a run); "
                                 "the page shows it now: try again.")
            seq = pos[0] + 1
            db.execute("DELETE FROM states WHERE session=? AND seq>=?", (sid, seq))
            db.execute("INSERT INTO states VALUES (?,?,?,?,?,?)",
                       (sid, seq, None if groups is None else json.dumps(groups),
                        json.dumps(sorted(set(locked))), action, time.time()))
            db.execute("UPDATE sessions SET pos=?, rev=rev+1, updated=? WHERE id=?",
                       (seq, time.time(), sid))
            return seq
        return self._run(go)

    def step(self, sid: str, delta: int) -> State | None:
        """Undo (``delta=-1``) or redo (``+1``): the state shown then, None at an end."""
        def go(db):
            pos = db.execute("SELECT pos FROM sessions WHERE id=?", (sid,)).fetchone()
            if pos is None:
                raise KeyError(sid)
            to = pos[0] + delta
            if db.execute("SELECT 1 FROM states WHERE session=? AND seq=?",
                          (sid, to)).fetchone() is None:
                return False
            db.execute("UPDATE sessions SET pos=?, rev=rev+1, updated=? WHERE id=?",
                       (to, time.time(), sid))
            return True
        return self.current(sid) if self._run(go) else None

    def history(self, sid: str) -> dict:
        """``{"pos", "last", "actions"}``: where the pointer is, the last seq, and what
        made each state (for the undo and redo buttons)."""
        def go(db):
            pos = db.execute("SELECT pos FROM sessions WHERE id=?", (sid,)).fetchone()
            rows = db.execute("SELECT seq, action FROM states WHERE session=? ORDER BY seq",
                              (sid,)).fetchall()
            return pos, rows
        pos, rows = self._run(go)
        if pos is None:
            raise KeyError(sid)
        return {"pos": pos[0], "last": rows[-1][0], "actions": [a for _, a in rows]}

    # -- the last run of each session ----------------------------------------------------
    def save_job(self, sid: str, info: dict) -> None:
        self._run(lambda db: db.execute(
            "INSERT INTO jobs VALUES (?,?) ON CONFLICT(session) DO UPDATE SET info=excluded.info",
            (sid, json.dumps(info))))

    def job(self, sid: str) -> dict | None:
        row = self._run(lambda db: db.execute("SELECT info FROM jobs WHERE session=?",
                                              (sid,)).fetchone())
        return json.loads(row[0]) if row else None
