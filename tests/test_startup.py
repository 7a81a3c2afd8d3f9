"""`import peermatch` and `peermatch --help` load none of the heavy libraries.

The timings are in benchmarks/startup.py (results in docs/benchmarks.md); this checks the
cause, which does not depend on the machine: nothing heavy is imported before it is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["pandas", "scipy", "ortools", "numba", "networkx", "peermatch.solve",
         "peermatch.match"]


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print('LOADED=' + __import__('json').dumps([m for m in {HEAVY!r} "
             "if m in sys.modules]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.rsplit("LOADED=", 1)[1])


def test_import_peermatch_loads_nothing_heavy():
    assert _loaded_after("import peermatch; peermatch.__version__; dir(peermatch)") == []


def test_help_of_every_command_loads_nothing_heavy():
    code = ("from peermatch.cli import build_parser\n"
            "p = build_parser()\n"
            "sub = next(a for a in p._actions if a.dest == 'command')\n"
            "for name, sp in [('peermatch', p), *sub.choices.items()]:\n"
            "    sp.format_help()\n"
            "print('commands', sorted(sub.choices))")
    assert _loaded_after(code) == []


def test_help_exits_cleanly_and_loads_nothing_heavy():
    code = ("from peermatch.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0")
    assert _loaded_after(code) == []


def test_public_names_load_on_first_use():
    import peermatch as pm

    for name in pm.__all__:
        assert getattr(pm, name) is not None, name
    assert set(pm.__all__) <= set(dir(pm))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pm.nope  # noqa: B018


def test_functions_keep_their_names_over_the_submodules():
    """`pm.match` and `pm.solve` stay the functions after their submodules are imported."""
    code = ("import peermatch as pm, peermatch.match, peermatch.solve, types\n"
            "from peermatch import match, solve\n"
            "assert callable(pm.match) and not isinstance(pm.match, types.ModuleType)\n"
            "assert callable(pm.solve) and not isinstance(pm.solve, types.ModuleType)\n"
            "assert match is pm.match and solve is pm.solve\n"
            "import sys; assert isinstance(sys.modules['peermatch.match'], types.ModuleType)")
    assert "peermatch.match" in _loaded_after(code)
