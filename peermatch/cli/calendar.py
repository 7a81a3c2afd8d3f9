"""``peermatch calendar``: one iCalendar file per group, on its meeting slot."""

from __future__ import annotations

import argparse
import json

from . import EXIT_OK
from ._common import add_input_options, load_settings, read_table

DESCRIPTION = """\
Write one iCalendar (.ics) file per group into a folder: a recurring meeting on the
group's slot (the 'meeting_slot' column that 'peermatch match --common-slot' writes;
slots look like Tue-AM, Thu-PM or Wed-18:30, see docs/input.md), repeating every
week, every month (same weekday of the month as the first meeting) or every N weeks.
The members are named in the description; no e-mail address is invented. A group
without a slot is an error (exit 2).

example:
  peermatch calendar groups.csv --start 2025-01-06 --every month --count 10 --out calendars
"""


def register(sub) -> None:
    p = sub.add_parser("calendar", help="an iCalendar file per group (recurring meetings)",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("groups", help="groups CSV with 'group' and 'meeting_slot' columns")
    p.add_argument("--start", required=True, metavar="DATE",
                   help="first day of the series, YYYY-MM-DD (each group meets on its first "
                        "slot day from then on)")
    p.add_argument("--every", default="month", metavar="PERIOD",
                   help="week, month or N-weeks (default month)")
    p.add_argument("--count", type=int, default=None, metavar="K",
                   help="number of meetings (default: the series does not end)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the .ics files")
    p.add_argument("--time", default=None, metavar="HH:MM",
                   help="start time of every meeting (default: the slot's: AM 09:00, PM 14:00, "
                        "Eve 18:00)")
    p.add_argument("--duration", default="3h",
                   help="length of a meeting: minutes, or 3h, 90m, 2h30m (default 3h)")
    p.add_argument("--tz", default=None, metavar="ZONE",
                   help="IANA time zone, e.g. Europe/Paris (default: floating local time)")
    p.add_argument("--title", default="Peer group", help="event title before the group name")
    p.add_argument("--location", default=None, help="event location")
    p.add_argument("--pairs", default=None, metavar="PAIRS_CSV",
                   help="accountability pairs to list in each description")
    p.add_argument("--json", action="store_true", help="print the files written as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..calendar import write_calendars

    cfg = load_settings(args)
    paths = write_calendars(read_table(args.groups, args, cfg), args.out, start=args.start,
                            every=args.every, count=args.count, time=args.time,
                            duration=args.duration, tz=args.tz, title=args.title,
                            location=args.location, pairs=args.pairs)
    if args.json:
        print(json.dumps({"files": [str(p) for p in paths]}, indent=2))
    elif not args.quiet:
        print(f"wrote {len(paths)} calendar file(s) in {args.out}")
    return EXIT_OK
