"""``peermatch app``: the chair's workbench, a local web page."""

from __future__ import annotations

import argparse

from . import EXIT_INPUT, EXIT_OK

DESCRIPTION = """\
Start the workbench: a local web page to load and check a candidates file, set sizes,
weights and rules, run the solver (with a Stop that keeps the best grouping), move or
swap members with the rule check shown first, lock groups and re-optimise the others,
undo and redo, read why a member is where they are, and download the groups CSV, the
report, the accountability pairs and the meeting calendars.

The server listens on 127.0.0.1 only, and every request needs the token printed in the
address. Sessions are kept in a SQLite file (--state): they survive a reload and a
restart. Needs the app extra: pip install 'peermatch[app]'. See docs/app.md.

example:
  peermatch app candidates.csv
  peermatch app groups.csv --no-browser --port 8800
"""


def register(sub) -> None:
    p = sub.add_parser("app", help="a local web page to review, adjust and publish groups",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", default=None, metavar="CANDIDATES_OR_GROUPS_CSV",
                   help="a candidates CSV, or a groups CSV to review (optional: the page "
                        "can open one)")
    p.add_argument("--port", type=int, default=None,
                   help="port on 127.0.0.1 (default: the first free one from 8765; 0: any "
                        "free port)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--state", default=None, metavar="FILE",
                   help="SQLite file of the sessions (default: app.sqlite3 in the user's "
                        "data folder, e.g. ~/.local/share/peermatch)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    try:
        import jinja2  # noqa: F401
        import python_multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        print(f"Error: peermatch app needs {exc.name}: pip install 'peermatch[app]'",
              file=sys.stderr)
        return EXIT_INPUT
    from ..app import serve

    try:
        serve(args.file, port=args.port, open_browser=not args.no_browser, state=args.state)
    except KeyboardInterrupt:
        pass
    return EXIT_OK
