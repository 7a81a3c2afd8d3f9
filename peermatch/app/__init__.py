"""The chair's workbench: a local web page to review, adjust and publish groups.

``peermatch app [FILE]`` serves it on 127.0.0.1 (see ``docs/app.md``). The page is
server-rendered (Starlette, Jinja2 with autoescaping) with one small script for drag and
drop; every action calls the functions the command line calls. Needs the ``app`` extra:
``pip install 'peermatch[app]'``.

========================  ============================================================
module                    what it holds
========================  ============================================================
``state``                 the sessions and their undo history, in one SQLite file
``settings``              sizes, weights, rules and columns, checked as ``--config`` is
``workspace``             one state read and scored; move and swap checks, explain
``workbench``             the actions (open, set up, run, move, lock, undo, ...)
``jobs``                  runs off the request thread, with progress and Stop
``publish``               the downloads, made by the commands' own functions
``views``                 what the pages show
``security``              host, origin and token checks of every request
``api``, ``server``       the routes; :func:`serve` runs the server
========================  ============================================================
"""

from __future__ import annotations

__all__ = ["serve"]


def serve(*args, **kwargs):
    """Run the workbench server (see :func:`peermatch.app.run.serve`)."""
    from .run import serve as _serve

    return _serve(*args, **kwargs)
