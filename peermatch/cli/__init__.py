"""The ``peermatch`` command line: thin commands over the Python API.

Exit codes (also in ``peermatch --help`` and ``docs/cli.md``):

* ``0`` success (a grouping was written, or the requested output was produced);
* ``2`` usage or input error: bad option, unreadable or invalid CSV, invalid setting;
* ``3`` no grouping satisfies the hard rules (proved infeasible, or nothing found in time);
* ``130`` interrupted (Ctrl-C); ``match`` has then written the best valid grouping found
  so far, as a normal run would;
* ``141`` standard output was closed early (``peermatch explain ... | head -3``): the
  reader took what it wanted; the command stops quietly, with the status ``head``'s other
  writers (``cat``, ``grep``) report, 128 + SIGPIPE;
* ``1`` an unexpected crash, which is a bug: please report it with ``--debug`` output.

Adding a command
----------------
A command is a module ``peermatch/cli/<name>.py`` (no leading underscore) with a
``register(sub)`` function that adds its subparser and sets ``func=run``. It is found
without editing this file: the core commands come first in the order below, the
optional ones of ``_extra_commands`` next, then any other module of this package that
has ``register``, alphabetically. ``peermatch --help`` imports every command module, so
a command module imports nothing heavy at module level (no pandas, scipy, OR-Tools,
numba, solver): its ``run(args)`` imports what it needs. ``tests/test_startup.py``
checks that ``--help`` loads none of them.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from ..errors import InfeasibleError, PeermatchError

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_INPUT", "EXIT_INFEASIBLE",
           "EXIT_INTERRUPTED", "EXIT_PIPE"]

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE = 0, 2, 3
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141

_EPILOG = """\
exit codes:
  0  success
  2  usage or input error (bad option, unreadable CSV, missing column, invalid setting)
  3  no grouping can satisfy the hard rules (or none was found within the time limit)
  130  interrupted (Ctrl-C); match writes the best grouping found so far first
  141  standard output closed early (e.g. piped into head): output stops quietly

examples:
  peermatch synth 500 --seed 1 --out candidates.csv
  peermatch validate candidates.csv --min-size 8 --max-size 12 --common-slot
  peermatch match candidates.csv --out groups.csv --min-size 8 --max-size 12 --common-slot
  peermatch seats groups.csv P001     # after adding prospect P001's row, its group empty
  peermatch report groups.csv --out report.html
  peermatch explain groups.csv M0042
  peermatch pairs groups.csv --out pairs.csv
  peermatch calendar groups.csv --start 2025-01-06 --every month --out calendars
  peermatch repair groups-now.csv --out groups-repaired.csv --common-slot
  peermatch move groups.csv M0042 7
  peermatch app candidates.csv
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors, as click does
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"Error: {message}\nTry '{self.prog} --help' for help.\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (importable for docs and tests)."""
    from . import match as match_cmd
    from . import synth as synth_cmd
    from . import validate as validate_cmd

    parser = _Parser(prog="peermatch", description="Form balanced, non-competing, mutually "
                     "inspiring peer advisory groups from a candidates CSV.",
                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"peermatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in (match_cmd, validate_cmd, synth_cmd, *_extra_commands()):
        mod.register(sub)
    return parser


def _extra_commands():
    """Commands living in optional modules (report, explain, ...), registered when present,
    then every other command module of this package (see "Adding a command" above)."""
    import importlib
    import pkgutil

    mods = []
    for name in ("seats", "report", "explain", "pairs", "calendar", "repair", "move"):
        try:
            mods.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    known = {"match", "validate", "synth", *(m.__name__.rsplit(".", 1)[1] for m in mods)}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in known:
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(mod, "register", None)):
            mods.append(mod)
    return mods


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # Data warnings are for people: one clean line, no source location.
    print(f"Warning: {message}", file=sys.stderr)


def _listen_for_interrupt() -> None:
    """Ctrl-C (SIGINT) stops a solve and keeps its best grouping: make sure Python turns
    it into KeyboardInterrupt even when the shell started us with SIGINT ignored (a
    background job of a script)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except (ValueError, OSError):  # pragma: no cover - not the main interpreter
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (used by the ``peermatch`` script)."""
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_INPUT
    _listen_for_interrupt()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
    except BrokenPipeError:
        return _stdout_closed()
    except PeermatchError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE if isinstance(exc, InfeasibleError) else EXIT_INPUT
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)
        return EXIT_INTERRUPTED


def _stdout_closed() -> int:
    """The reader of standard output went away (``| head``): the rest of the output
    goes nowhere, and Python's own flush at exit must not fail on it (the recipe of
    the Python docs, "Note on SIGPIPE")."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout has no file descriptor
        pass
    return EXIT_PIPE


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
