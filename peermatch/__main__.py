"""``python -m peermatch``: the command line."""

from .cli import run

run()
