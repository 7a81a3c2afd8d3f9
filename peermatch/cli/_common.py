"""Options and helpers shared by the commands."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import ConfigError


def add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--column", action="append", default=[], metavar="CANONICAL=ACTUAL",
                   help="map a canonical column to the table's own name, e.g. "
                        "--column industry=Sector (repeatable)")
    p.add_argument("--config", metavar="TOML", help="job settings: [match], [columns], "
                   "[weights], [rules] tables (command-line options win)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def add_size_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-size", type=int, default=None, help="smallest group (default 8)")
    p.add_argument("--max-size", type=int, default=None, help="largest group (default 12)")
    p.add_argument("--groups", type=int, default=None, metavar="M",
                   help="number of groups (default: the count that scores best)")


def parse_columns(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--column {item!r}: expected CANONICAL=ACTUAL, e.g. "
                              "industry=Sector.")
        k, v = item.split("=", 1)
        out[k.strip().lower()] = v.strip()
    return out


def load_settings(args) -> dict:
    """Merge ``--config`` with command-line options (the command line wins)."""
    from ..config import load_config

    cfg = load_config(args.config) if getattr(args, "config", None) else {
        "match": {}, "columns": {}, "weights": None, "rules": None}
    m = cfg["match"]
    for opt, key in (("min_size", "min_size"), ("max_size", "max_size"), ("groups", "groups"),
                     ("time_limit", "time_limit"), ("seed", "seed"), ("method", "method"),
                     ("workers", "workers")):
        v = getattr(args, opt, None)
        if v is not None:
            m[key] = v
    cfg["columns"].update(parse_columns(getattr(args, "column", [])))
    return cfg


class Progress:
    """A one-line progress bar on stderr, drawn only on a terminal and after a few seconds."""

    def __init__(self, total: float, enabled: bool = True, delay: float = 2.0):
        self.total = max(float(total), 1e-9)
        self.enabled = enabled and sys.stderr.isatty()
        self.delay = delay
        self.t0 = time.perf_counter()
        self.drawn = False
        self.last = 0.0

    def __call__(self, info: dict) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        el = now - self.t0
        if el < self.delay or now - self.last < 0.2:
            return
        self.last = now
        frac = min(1.0, el / self.total)
        bar = "#" * int(30 * frac)
        best = info.get("objective")
        best_s = f"  best {best:,.2f}" if isinstance(best, (int, float)) else ""
        sys.stderr.write(f"\r[{bar:<30}] {el:5.1f}/{self.total:.0f}s{best_s}   ")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()
