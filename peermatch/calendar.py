"""Meeting calendars: one iCalendar file per group, a recurring event on its meeting slot.

Regular, well-organised meetings are the *structure* of a peer group. A grouping made
with the common-slot rule (``peermatch match --common-slot``) has a ``meeting_slot``
column; :func:`write_calendars` turns it into one ``.ics`` file per group (RFC 5545,
written with the ``icalendar`` package) that any calendar application imports: an event
on the group's weekday and time that repeats every week, every ``N`` weeks or every month,
with the members named in its description. No e-mail address is invented: members are
not listed as attendees.

Slots are written like ``Tue-AM`` (see :func:`parse_slot` and ``docs/input.md``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError

__all__ = ["MeetingSlot", "parse_slot", "parse_every", "group_calendars", "write_calendars",
           "DEFAULT_TIMES", "DEFAULT_DURATION"]

_DAYS = {"mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2,
         "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4,
         "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6}
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

#: Start time of each part of the day when a slot names no time.
DEFAULT_TIMES: dict[str, dt.time] = {
    "am": dt.time(9, 0), "morning": dt.time(9, 0), "noon": dt.time(12, 0),
    "lunch": dt.time(12, 0), "pm": dt.time(14, 0), "afternoon": dt.time(14, 0),
    "eve": dt.time(18, 0), "evening": dt.time(18, 0),
}
#: Meeting length when none is given.
DEFAULT_DURATION = dt.timedelta(hours=3)


@dataclass(frozen=True)
class MeetingSlot:
    """A weekly meeting slot: a weekday (0 = Monday) and a start time."""

    weekday: int
    time: dt.time
    text: str = ""

    @property
    def byday(self) -> str:
        """The weekday in iCalendar form (``TU``)."""
        return _BYDAY[self.weekday]

    @property
    def day_name(self) -> str:
        return _DAY_NAMES[self.weekday]


def parse_slot(text: str, *, time: dt.time | str | None = None) -> MeetingSlot:
    """A meeting slot from its text.

    The syntax is ``DAY[-PART|-HH:MM]``: a weekday (``Mon``, ``Tue``, ... or the full
    name), then optionally a part of the day (``AM`` 09:00, ``PM`` 14:00, ``Eve``
    18:00, also ``morning``, ``noon``, ``afternoon``, ``evening``) or a time (``18:30``,
    ``8am``, ``2:30pm``). Case is ignored, and ``-``, a space or ``_`` separate the two
    (the availability lists of the example data say ``Tue AM``). A day alone starts at
    09:00. ``time`` overrides the time of every slot.

    >>> parse_slot("Tue-AM")
    MeetingSlot(weekday=1, time=datetime.time(9, 0), text='Tue-AM')
    >>> parse_slot("thursday 18:30").time, parse_slot("Fri-2pm").time
    (datetime.time(18, 30), datetime.time(14, 0))
    >>> parse_slot("Wed PM", time="08:15").time
    datetime.time(8, 15)
    >>> parse_slot("Someday")
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: meeting slot 'Someday': expected a weekday such as 'Tue', \
then optionally AM, PM, Eve or a time such as 18:30 (e.g. 'Tue-AM').
    """
    raw = str(text).strip()
    bad = ConfigError(f"meeting slot {raw!r}: expected a weekday such as 'Tue', then "
                      "optionally AM, PM, Eve or a time such as 18:30 (e.g. 'Tue-AM').")
    m = re.fullmatch(r"([A-Za-z]+)\.?(?:[\s_\-]+(.+))?", raw)
    if not m or m.group(1).casefold() not in _DAYS:
        raise bad
    day = _DAYS[m.group(1).casefold()]
    rest = (m.group(2) or "").strip().casefold()
    if not rest:
        at = dt.time(9, 0)
    elif rest in DEFAULT_TIMES:
        at = DEFAULT_TIMES[rest]
    else:
        try:
            at = _parse_time(rest)
        except ValueError:
            raise bad from None
    if time is not None:
        at = time if isinstance(time, dt.time) else _time_option(time)
    return MeetingSlot(day, at, raw)


def _parse_time(s: str) -> dt.time:
    m = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?\s*(am|pm|h)?", s.strip().casefold())
    if not m:
        raise ValueError(s)
    h, mi, ap = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if ap in ("am", "pm"):
        if not 1 <= h <= 12:
            raise ValueError(s)
        h = h % 12 + (12 if ap == "pm" else 0)
    elif m.group(2) is None and ap is None:
        raise ValueError(s)  # a bare number is not a time
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        raise ValueError(s)
    return dt.time(h, mi)


def _time_option(s: str) -> dt.time:
    try:
        return _parse_time(str(s))
    except ValueError:
        raise ConfigError(f"time {s!r}: expected HH:MM (e.g. 08:30) or a time such as 8am."
                          ) from None


def parse_every(every: str) -> tuple[str, int]:
    """``(freq, interval)`` of a recurrence: ``week``, ``month`` or ``N-weeks``.

    >>> parse_every("month"), parse_every("week"), parse_every("2-weeks")
    (('MONTHLY', 1), ('WEEKLY', 1), ('WEEKLY', 2))
    """
    s = str(every).strip().casefold().replace("_", "-").replace(" ", "-")
    if s in ("month", "monthly", "1-month", "1-months"):
        return "MONTHLY", 1
    if s in ("week", "weekly", "1-week", "1-weeks"):
        return "WEEKLY", 1
    if s in ("fortnight", "fortnightly", "biweekly"):
        return "WEEKLY", 2
    m = re.fullmatch(r"(\d+)-?weeks?", s)
    if m and int(m.group(1)) >= 1:
        return "WEEKLY", int(m.group(1))
    raise ConfigError(f"every={every!r}: expected 'week', 'month' or 'N-weeks' (e.g. "
                      "'2-weeks').")


def _duration(d) -> dt.timedelta:
    if isinstance(d, dt.timedelta):
        out = d
    elif isinstance(d, (int, float, np.integer, np.floating)):
        out = dt.timedelta(minutes=float(d))
    else:
        s = str(d).strip().casefold().replace(" ", "")
        m = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+)m(?:in)?)?", s)
        if s.isdigit():
            out = dt.timedelta(minutes=int(s))
        elif m and (m.group(1) or m.group(2)):
            out = dt.timedelta(hours=float(m.group(1) or 0), minutes=int(m.group(2) or 0))
        elif re.fullmatch(r"\d{1,2}:\d{2}", s):
            h, mi = s.split(":")
            out = dt.timedelta(hours=int(h), minutes=int(mi))
        else:
            raise ConfigError(f"duration {d!r}: expected minutes (180), or hours and minutes "
                              "such as 3h, 90m, 2h30m or 2:30.")
    if out <= dt.timedelta(0):
        raise ConfigError(f"duration {d!r}: a meeting must last more than zero minutes.")
    return out


def _date(d) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    try:
        return dt.date.fromisoformat(str(d).strip())
    except ValueError:
        raise ConfigError(f"start date {d!r}: expected YYYY-MM-DD (e.g. 2025-01-06).") from None


def _first_on(start: dt.date, weekday: int) -> dt.date:
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def _nth(day: dt.date) -> int:
    k = (day.day - 1) // 7 + 1
    return -1 if k == 5 else k


def _slug(name: str) -> str:
    s = re.sub(r"[^0-9A-Za-z]+", "-", str(name)).strip("-").lower()
    return s or "group"


def _members_and_slots(groups, columns, slot_column):
    """``(names, {group: [(id, name)]}, {group: (slot text, its lines)}, source)``."""
    from .grouping import read_grouping

    G = read_grouping(groups, columns=columns)
    table = G.table
    frame, gcol = table.frame, table.columns["group"]
    source = str(table.source)
    ids = [str(x) for x in table.ids]
    ncol = table.columns.get("name")
    names = [str(v).strip() or ids[k] for k, v in enumerate(frame[ncol])] if ncol else ids
    scol = next((c for c in frame.columns
                 if str(c).strip().casefold() == slot_column.casefold()), None)
    if scol is None:
        raise ConfigError(f"{source}: no {slot_column!r} column, so the groups have no meeting "
                          "slot. Form the groups with 'peermatch match --common-slot' (it writes "
                          "the column), or add the column with a slot per group such as "
                          "'Tue-AM' (see docs/input.md).")
    groups_col = [str(g).strip() for g in frame[gcol]]
    slots_col = [str(s).strip() for s in frame[scol]]
    members: dict[str, list[tuple[str, str]]] = {}
    votes: dict[str, list[str]] = {}
    lines: dict[tuple[str, str], list[int]] = {}
    for i, g in enumerate(groups_col):
        members.setdefault(g, []).append((ids[i], names[i]))
        if slots_col[i] and slots_col[i].casefold() != "nan":
            votes.setdefault(g, []).append(slots_col[i])
            lines.setdefault((g, slots_col[i]), []).append(int(table.lines[i]))
    order = [G.names[g] for g in G.order]
    missing = [g for g in order if g not in votes]
    if missing:
        raise ConfigError(f"{source}: group(s) {', '.join(missing[:20])} have no meeting slot "
                          f"(empty {slot_column!r} cells). Form the groups with 'peermatch "
                          "match --common-slot', or fill in a slot such as 'Tue-AM' for each "
                          "group (see docs/input.md).")
    slot = {g: max(dict.fromkeys(votes[g]), key=votes[g].count) for g in order}
    return order, members, {g: (slot[g], lines[(g, slot[g])]) for g in order}, source


def _parse_slots(slot_text: dict, time, source: str, slot_column: str) -> dict:
    """Group -> its :class:`MeetingSlot`; every slot that cannot be read is reported at
    once, with the lines it is written on."""
    if time is not None and not isinstance(time, dt.time):
        time = _time_option(time)
    out, bad = {}, []
    for g, (text, at) in slot_text.items():
        try:
            out[g] = parse_slot(text, time=time)
        except ConfigError as exc:
            shown = ", ".join(str(x) for x in at[:10]) + (" ..." if len(at) > 10 else "")
            bad.append(f"group {g}, line{'s' if len(at) > 1 else ''} {shown}: {exc}")
    if len(bad) == 1:
        raise ConfigError(f"{source}, {bad[0]}")
    if bad:
        raise ConfigError(f"{source}: {len(bad)} meeting slots in column {slot_column!r} "
                          "cannot be read; fix them and try again:\n"
                          + "\n".join(f"  - {b}" for b in bad))
    return out


def group_calendars(groups, *, start, every: str = "month", count: int | None = None,
                    time: dt.time | str | None = None, duration="3h", tz: str | None = None,
                    title: str = "Peer group", location: str | None = None, pairs=None,
                    slot_column: str = "meeting_slot", columns: Mapping[str, str] | None = None,
                    stamp: dt.datetime | None = None) -> dict:
    """One :class:`icalendar.Calendar` per group, each with its recurring meeting.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        A grouping with a ``meeting_slot`` column (from ``--common-slot``), or a
        MatchResult made with ``Rules(common_slot=True)``.
    start : date or str
        The first meeting is the first day on or after ``start`` on the group's weekday.
    every : str, default="month"
        ``"week"``, ``"month"`` (the same weekday of the month as the first meeting: the
        second Tuesday, the last Friday, ...) or ``"N-weeks"``.
    count : int, optional
        Number of meetings (None: the series does not end).
    time : time or str, optional
        Start time of every meeting, instead of the slot's own.
    duration : str, int or timedelta, default="3h"
        Length of a meeting (minutes, or ``3h``, ``90m``, ``2h30m``).
    tz : str, optional
        An IANA time zone (``"Europe/Paris"``); the file then carries its VTIMEZONE.
        None: floating local time (the calendar application's own zone).
    title : str, default="Peer group"
        Event title: ``"{title} {group}"``.
    location : str, optional
        Event location.
    pairs : AccountabilityPairs, path or DataFrame, optional
        Accountability pairs to list in each description.
    slot_column : str, default="meeting_slot"
        Column holding each group's slot.
    columns : dict, optional
        Canonical column name -> column name in the table.
    stamp : datetime, optional
        ``DTSTAMP`` of the events (default: now, UTC).

    Returns
    -------
    dict of str to icalendar.Calendar
        Group name -> its calendar, in group order.

    Raises
    ------
    ConfigError
        A group has no slot, a slot or option cannot be read.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "b", "c", "d"], "name": ["Ana", "Ben", "Cy", "Di"],
    ...     "industry": ["x", "y", "x", "y"], "employees": ["5", "6", "7", "8"],
    ...     "group": ["1", "1", "2", "2"], "meeting_slot": ["Tue-AM", "Tue-AM", "Thu PM", ""]})
    >>> cals = group_calendars(df, start="2025-01-01", every="month", count=10)
    >>> ev = cals["1"].walk("VEVENT")[0]
    >>> str(ev["summary"]), ev.decoded("dtstart"), ev["rrule"].to_ical().decode()
    ('Peer group 1', datetime.datetime(2025, 1, 7, 9, 0), 'FREQ=MONTHLY;COUNT=10;BYDAY=1TU')
    >>> cals["2"].walk("VEVENT")[0].decoded("dtstart")
    datetime.datetime(2025, 1, 2, 14, 0)
    """
    import icalendar

    from . import __version__

    freq, interval = parse_every(every)
    if count is not None and (not isinstance(count, (int, np.integer)) or count < 1):
        raise ConfigError(f"count={count!r}: the number of meetings must be a positive int.")
    length = _duration(duration)
    first_day = _date(start)
    zone = None
    if tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"time zone {tz!r} is unknown; use an IANA name such as "
                              "'Europe/Paris' or 'America/New_York'.") from None
    stamp = stamp or dt.datetime.now(dt.UTC)
    order, members, slot_text, source = _members_and_slots(groups, columns, slot_column)
    slots = _parse_slots(slot_text, time, source, slot_column)
    pair_lists = _pair_lists(pairs, members, source)
    out = {}
    for g in order:
        slot = slots[g]
        day = _first_on(first_day, slot.weekday)
        begin = dt.datetime.combine(day, slot.time)
        if zone is not None:
            begin = begin.replace(tzinfo=zone)
        rule: dict = {"freq": freq}
        if interval > 1:
            rule["interval"] = interval
        if count is not None:
            rule["count"] = int(count)
        nth = _nth(day)
        rule["byday"] = f"{nth}{slot.byday}" if freq == "MONTHLY" else slot.byday
        if freq == "MONTHLY":
            when = f"every month on the {_ORDINALS[nth]} {slot.day_name}"
        elif interval == 1:
            when = f"every {slot.day_name}"
        else:
            when = f"every {interval} weeks on {slot.day_name}"
        end = (begin + length)
        mem = members[g]
        desc = [f"{title} {g} meets {when}, {begin:%H:%M}-{end:%H:%M}"
                + (f", {count} meetings" if count is not None else "")
                + f" (slot {slot.text}).",
                f"Members ({len(mem)}): " + ", ".join(f"{nm} ({i})" if nm != i else i
                                                      for i, nm in mem) + "."]
        if pair_lists.get(g):
            desc.append("Accountability pairs: " + "; ".join(pair_lists[g]) + ".")
        cal = icalendar.Calendar()
        cal.add("prodid", f"-//peermatch//peermatch {__version__}//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", f"{title} {g}")
        ev = icalendar.Event()
        ev.add("uid", f"peermatch-{_slug(g)}-{day:%Y%m%d}@peermatch")
        ev.add("dtstamp", stamp)
        ev.add("summary", f"{title} {g}")
        ev.add("dtstart", begin)
        ev.add("dtend", end)
        ev.add("rrule", rule)
        ev.add("description", "\n".join(desc))
        if location:
            ev.add("location", str(location))
        cal.add_component(ev)
        if zone is not None:
            cal.add_missing_timezones()
        out[g] = cal
    return out


def _pair_lists(pairs, members, source) -> dict[str, list[str]]:
    """Group -> its pairs as text (``Name (id) & Name (id)``); pairs made for another
    grouping are refused."""
    if pairs is None:
        return {}
    from .explain import who_is
    from .pairs import pairs_for_grouping

    pairs = pairs_for_grouping(pairs, {i: g for g, mem in members.items() for i, _ in mem},
                               f"the grouping of {source}")
    name = {i: who_is(nm, i) for mem in members.values() for i, nm in mem}
    return {g: [" & ".join(name.get(x, x) for x in unit) for unit in units]
            for g, units in pairs.by_group().items()}


def write_calendars(groups, out_dir: str | os.PathLike, **options) -> list[Path]:
    """Write :func:`group_calendars` as ``group-<name>.ics`` files in ``out_dir``.

    The folder is made when missing; files are written atomically. Returns the paths,
    in group order. Options as for :func:`group_calendars`.

    >>> import tempfile, pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "b"], "industry": ["x", "y"], "employees": ["5", "6"],
    ...                    "group": ["North", "North"], "meeting_slot": ["Mon-PM", "Mon-PM"]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_calendars(df, d, start="2025-03-01", every="2-weeks")]
    ['group-north.ics']
    """
    from .result import atomic_write_text

    cals = group_calendars(groups, **options)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from .errors import OutputError

        raise OutputError(f"{folder}: cannot make the folder ({exc.strerror}).") from None
    paths, used = [], set()
    for g, cal in cals.items():
        base = _slug(g)
        name, k = f"group-{base}.ics", 2
        while name in used:
            name, k = f"group-{base}-{k}.ics", k + 1
        used.add(name)
        path = folder / name
        atomic_write_text(path, cal.to_ical().decode("utf-8"))
        paths.append(path)
    return paths
