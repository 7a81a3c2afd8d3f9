"""The workbench's actions, independent of HTTP: open a file, set up, run, move, swap,
lock, re-optimise, undo, redo, explain, publish.

Each action reads the session from the :class:`~peermatch.app.state.Store`, works on a
:class:`~peermatch.app.workspace.Workspace` (cached per session and revision, so a page
and its checks do not re-score the table) and, when it changes the grouping, adds a
state. The server (:mod:`peermatch.app.server`) is a thin layer over this class; tests and
the speed benchmark call it directly too.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np

from ..errors import ConfigError
from .jobs import Jobs
from .settings import defaults, from_form, match_kwargs, rules_of
from .state import Store
from .workspace import Workspace, read_table

__all__ = ["Workbench"]


class Workbench:
    """Every session of one state file, and the actions on them.

    Parameters
    ----------
    state_path : str or Path
        The SQLite file (created with its folder when missing).
    """

    def __init__(self, state_path) -> None:
        self.store = Store(state_path)
        self.jobs = Jobs(self.store)
        self._tables: dict[str, tuple] = {}
        self._spaces: dict[str, tuple] = {}
        self._lock = threading.RLock()

    # -- reading -------------------------------------------------------------------------
    def table(self, sid: str, session: dict | None = None):
        """``(table, notes)`` of the session's file with its column mapping (cached)."""
        s = session or self.store.session(sid)
        key = (s["hash"], json.dumps(s["settings"]["columns"], sort_keys=True))
        with self._lock:
            hit = self._tables.get(sid)
            if hit is not None and hit[0] == key:
                return hit[1]
        value = read_table(s["data"], s["file_name"], s["settings"]["columns"])
        with self._lock:
            self._tables[sid] = (key, value)
        return value

    def workspace(self, sid: str) -> Workspace:
        """The session's current state, read and scored (cached per revision)."""
        rev = self.store.revision(sid)
        with self._lock:
            hit = self._spaces.get(sid)
            if hit is not None and hit[0] == rev:
                return hit[1]
        s = self.store.session(sid)
        table, _ = self.table(sid, s)
        ws = Workspace(table, self.store.current(sid), s["settings"])
        with self._lock:
            self._spaces[sid] = (s["rev"], ws)
        return ws

    def open_file(self, file_name: str, data: bytes, *, reuse: bool = False,
                  settings: dict | None = None) -> str:
        """A session of a candidates (or groups) file; returns its id.

        The file is read first, so a bad one raises
        :class:`~peermatch.app.workspace.TableErrors` and makes no session. A file whose
        ``group`` column is filled on every row opens as that grouping. ``reuse``: the
        latest session of a file with the same bytes, if any, instead of a new one.
        """
        if reuse and (sid := self.store.find(data)) is not None:
            return sid
        settings = settings or defaults()
        table, _ = read_table(data, file_name, settings["columns"])
        groups = None
        if table.group is not None:
            cells = [str(g).strip() for g in table.group]
            if all(cells):
                groups = cells
        return self.store.create(file_name, data, settings, groups,
                                 "loaded" if groups is None else "loaded the file's groups")

    # -- settings ------------------------------------------------------------------------
    def set_settings(self, sid: str, form) -> Workspace:
        """Apply a submitted set-up form; returns the re-scored workspace.

        Raises ConfigError (a bad field) or TableErrors (a column mapping the file does
        not fit); the settings are then unchanged."""
        s = self.store.session(sid)
        new = from_form(form, s["settings"])
        if new["columns"] != s["settings"]["columns"]:
            read_table(s["data"], s["file_name"], new["columns"])  # refuse a bad mapping
        self.store.set_settings(sid, new)
        return self.workspace(sid)

    # -- runs ----------------------------------------------------------------------------
    def run(self, sid: str) -> dict:
        """Start a run of :func:`peermatch.match` on the session's candidates."""
        from ..match import match

        s = self.store.session(sid)
        kwargs = match_kwargs(s["settings"])
        table, _ = self.table(sid, s)

        def work(callback):
            res = match(table, callback=callback, **kwargs)
            return self._finish(sid, res, [], "run")
        return self.jobs.start(sid, "run", kwargs["time_limit"], work).info()

    def reoptimise(self, sid: str) -> dict:
        """Start a run that keeps the locked groups as they are and re-optimises the rest
        (the locked-groups rule, existing members free to move), from the grouping now."""
        from ..grouping import with_groups
        from ..match import match

        ws = self.workspace(sid)
        if ws.result is None:
            raise ConfigError("There is no grouping yet: run the solver first.")
        locked = list(ws.state.locked)
        kwargs = match_kwargs(ws.settings)
        kwargs.update(rules=replace(rules_of(ws.settings, locked), keep_existing=False),
                      n_groups=ws.result.n_groups)
        grouped = with_groups(ws.table, ws.state.groups)
        init = ws.init_labels()

        def work(callback):
            try:
                res = match(grouped, init=init, callback=callback, **kwargs)
            except ConfigError:  # a warm start the rules cannot take (tiers, regions)
                res = match(grouped, callback=callback, **kwargs)
            return self._finish(sid, res, locked, "re-optimised the unlocked groups")
        return self.jobs.start(sid, "re-optimise", kwargs["time_limit"], work).info()

    def _finish(self, sid: str, res, locked: list[str], what: str) -> tuple[str, str]:
        """Keep a run's grouping as a new state: ``(job state, message)``."""
        stopped = bool(res.solver.get("interrupted"))
        if not res.success:
            why = res.message if not stopped else (
                "Stopped before a valid grouping was found; the grouping is unchanged.")
            return "failed", why
        names = res.group_names
        groups = [names[g] for g in np.asarray(res.labels)]
        note = f"{what}: score {res.score:,.2f}" + (" (stopped: the best found)" if stopped
                                                    else "")
        self.store.push(sid, groups, locked, note)
        return ("stopped" if stopped else "done"), note

    # -- changes of the grouping ---------------------------------------------------------
    def move(self, sid: str, member: str, group: str, base: int | None = None) -> dict:
        """Move ``member`` into ``group`` when the move keeps every rule; else nothing
        changes and the check (``ok`` False, ``breaks``) comes back."""
        ws = self.workspace(sid)
        check = ws.check_move(member, group)
        if check["ok"]:
            self.store.push(sid, ws.moved(member, group), ws.state.locked,
                            f"moved {check['member']} from {check['from']} to {check['to']}",
                            base=ws.state.seq if base is None else base)
        return check

    def swap(self, sid: str, a: str, b: str, base: int | None = None) -> dict:
        """Swap members ``a`` and ``b`` when the swap keeps every rule (as :meth:`move`)."""
        ws = self.workspace(sid)
        check = ws.check_swap(a, b)
        if check["ok"]:
            self.store.push(sid, ws.swapped(a, b), ws.state.locked,
                            f"swapped {check['a']} and {check['b']}",
                            base=ws.state.seq if base is None else base)
        return check

    def lock(self, sid: str, group: str, locked: bool) -> list[str]:
        """Lock (or unlock) a group; returns the locked groups."""
        ws = self.workspace(sid)
        if ws.result is None:
            raise ConfigError("There is no grouping yet: run the solver first.")
        name = ws.grouping.names[ws.grouping.group(group)]
        now = set(ws.state.locked)
        if locked == (name in now):
            return sorted(now)
        now = now | {name} if locked else now - {name}
        self.store.push(sid, ws.state.groups, sorted(now),
                        f"{'locked' if locked else 'unlocked'} group {name}")
        return sorted(now)

    def undo(self, sid: str) -> bool:
        return self.store.step(sid, -1) is not None

    def redo(self, sid: str) -> bool:
        return self.store.step(sid, +1) is not None
