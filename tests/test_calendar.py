"""Meeting calendars: slot syntax, recurrence rules, files parsed back with icalendar."""

from __future__ import annotations

import datetime as dt

import icalendar
import pandas as pd
import pytest
from dateutil.rrule import rrulestr

import peermatch as pm
from peermatch.calendar import group_calendars, parse_every, parse_slot
from peermatch.cli import main

STAMP = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def table(slots=("Tue-AM", "Tue-AM", "Thu PM", "Thu PM")):
    return pd.DataFrame({"id": ["a", "b", "c", "d"], "name": ["Ana", "Ben", "Cy", "Di"],
                         "industry": ["x", "y", "x", "y"], "employees": ["5", "6", "7", "8"],
                         "group": ["1", "1", "2", "2"], "meeting_slot": list(slots)})


@pytest.mark.parametrize("text, day, hm", [
    ("Tue-AM", 1, (9, 0)), ("tue am", 1, (9, 0)), ("TUESDAY_PM", 1, (14, 0)),
    ("Wed-Eve", 2, (18, 0)), ("Thu evening", 3, (18, 0)), ("Fri-noon", 4, (12, 0)),
    ("Mon-18:30", 0, (18, 30)), ("Mon 8am", 0, (8, 0)), ("Sun-2:30pm", 6, (14, 30)),
    ("Sat", 5, (9, 0)), ("thurs 07:05", 3, (7, 5)), ("Mon 12pm", 0, (12, 0)),
])
def test_parse_slot(text, day, hm):
    s = parse_slot(text)
    assert (s.weekday, s.time.hour, s.time.minute) == (day, *hm)


@pytest.mark.parametrize("bad", ["", "Funday", "Tue-later", "Tue 25:00", "Tue 9", "Tue-13pm"])
def test_parse_slot_errors(bad):
    with pytest.raises(pm.ConfigError, match="expected a weekday"):
        parse_slot(bad)


def test_parse_every():
    assert parse_every("Monthly") == ("MONTHLY", 1)
    assert parse_every("3 weeks") == ("WEEKLY", 3)
    with pytest.raises(pm.ConfigError, match="N-weeks"):
        parse_every("daily")


@pytest.mark.parametrize("every, start, rule, first", [
    ("week", "2025-01-01", "FREQ=WEEKLY;COUNT=4;BYDAY=TU", dt.date(2025, 1, 7)),
    ("2-weeks", "2025-01-07", "FREQ=WEEKLY;COUNT=4;INTERVAL=2;BYDAY=TU", dt.date(2025, 1, 7)),
    ("month", "2025-01-08", "FREQ=MONTHLY;COUNT=4;BYDAY=2TU", dt.date(2025, 1, 14)),
    ("month", "2025-12-29", "FREQ=MONTHLY;COUNT=4;BYDAY=-1TU", dt.date(2025, 12, 30)),
])
def test_recurrence(every, start, rule, first):
    cals = group_calendars(table(), start=start, every=every, count=4, stamp=STAMP)
    ev = cals["1"].walk("VEVENT")[0]
    assert ev["rrule"].to_ical().decode() == rule
    begin = ev.decoded("dtstart")
    assert begin.date() == first and begin.hour == 9
    occ = list(rrulestr(ev["rrule"].to_ical().decode(), dtstart=begin))
    assert len(occ) == 4 and all(d.weekday() == 1 for d in occ)
    assert ev.decoded("dtend") - begin == dt.timedelta(hours=3)


def test_description_time_duration_tz_location():
    cals = group_calendars(table(), start="2025-01-01", time="08:30", duration="90m",
                           tz="Europe/Paris", location="Club room", stamp=STAMP)
    cal = cals["2"]
    ev = cal.walk("VEVENT")[0]
    begin = ev.decoded("dtstart")
    assert (begin.hour, begin.minute, str(begin.tzinfo)) == (8, 30, "Europe/Paris")
    assert ev.decoded("dtend") - begin == dt.timedelta(minutes=90)
    assert cal.walk("VTIMEZONE") and str(ev["location"]) == "Club room"
    desc = str(ev["description"])
    assert "Cy (c)" in desc and "Di (d)" in desc and "every month on the first Thursday" in desc
    assert "ATTENDEE" not in cal.to_ical().decode() and "@" not in desc
    assert "RRULE:FREQ=MONTHLY;BYDAY=1TH" in cal.to_ical().decode()  # no count: no end


def test_group_without_slot_is_a_clear_error():
    with pytest.raises(pm.ConfigError, match=r"group\(s\) 2 have no meeting slot.*Tue-AM"):
        group_calendars(table(("Tue-AM", "Tue-AM", "", "")), start="2025-01-01")
    with pytest.raises(pm.ConfigError, match="no 'meeting_slot' column.*--common-slot"):
        group_calendars(table().drop(columns="meeting_slot"), start="2025-01-01")
    with pytest.raises(pm.ConfigError, match="group 2, line 4: meeting slot 'Someday'"):
        group_calendars(table(("Tue-AM", "Tue-AM", "Someday", "")), start="2025-01-01")
    with pytest.raises(pm.ConfigError, match="YYYY-MM-DD"):
        group_calendars(table(), start="next week")
    with pytest.raises(pm.ConfigError, match="time zone"):
        group_calendars(table(), start="2025-01-01", tz="Mars/Olympus")
    with pytest.raises(pm.ConfigError, match="duration"):
        group_calendars(table(), start="2025-01-01", duration="long")


def test_from_a_match_with_common_slot_and_pairs(tmp_path):
    res = pm.match(pm.synth_candidates(30, seed=4), min_size=6, max_size=8, time_limit=1,
                   rules=pm.Rules(common_slot=True), options={"max_iter": 300})
    pairs = pm.accountability_pairs(res)
    paths = pm.write_calendars(res, tmp_path / "cal", start="2025-02-03", every="month",
                               count=10, pairs=pairs, stamp=STAMP)
    assert len(paths) == res.n_groups
    days = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}
    for g, name in enumerate(res.group_names):
        cal = icalendar.Calendar.from_ical((tmp_path / "cal" / f"group-{name}.ics").read_bytes())
        ev = cal.walk("VEVENT")[0]
        assert ev.decoded("dtstart").weekday() == days[res.meeting_slots[g][:3].lower()]
        assert "Accountability pairs:" in str(ev["description"])
        assert ev["rrule"]["COUNT"] == [10]


def test_cli_calendar(tmp_path, capsys):
    src = tmp_path / "g.csv"
    table().to_csv(src, index=False)
    out = tmp_path / "cal"
    assert main(["calendar", str(src), "--start", "2025-01-01", "--every", "2-weeks",
                 "--count", "6", "--out", str(out)]) == 0
    assert "wrote 2 calendar file(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["group-1.ics", "group-2.ics"]
    bad = tmp_path / "bad.csv"
    table(("Tue-AM", "", "", "")).to_csv(bad, index=False)
    assert main(["calendar", str(bad), "--start", "2025-01-01", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Error:" in err and "have no meeting slot" in err and "Traceback" not in err


def test_cli_missing_pairs_file_is_an_input_error(tmp_path, capsys):
    src = tmp_path / "g.csv"
    table().to_csv(src, index=False)
    code = main(["calendar", str(src), "--start", "2025-01-01", "--out", str(tmp_path / "c"),
                 "--pairs", str(tmp_path / "nope.csv")])
    assert code == 2 and "pairs file not found" in capsys.readouterr().err
    code = main(["report", str(src), "--out", str(tmp_path / "r.html"), "--pairs",
                 str(src)])
    assert code == 2 and "needs columns group, member_1, member_2" in capsys.readouterr().err
