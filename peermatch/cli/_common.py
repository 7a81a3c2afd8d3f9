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
    p.add_argument("--sep", default=None, metavar="CHAR",
                   help="field separator of the CSV (default: detected among , ; tab |)")
    p.add_argument("--encoding", default=None,
                   help="text encoding of the CSV (default: UTF-8, else Windows-1252 with a "
                        "warning)")
    p.add_argument("--config", metavar="TOML", help="job settings: [match], [columns], "
                   "[weights], [rules] tables (command-line options win)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def add_rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules (more in the [rules] table of --config)")
    g.add_argument("--competitors", metavar="COLS", default=None,
                   help="columns that define competitors, comma-separated "
                        "(default industry,region; 'none' switches the rule off)")
    g.add_argument("--industry-depth", type=int, default=None, metavar="K",
                   help="compare industry codes on their first K characters (e.g. NAICS 4)")
    g.add_argument("--conflict-file", metavar="CSV", default=None,
                   help="extra conflict pairs: columns id_a,id_b[,reason]")
    g.add_argument("--history", metavar="CSV", action="append", default=None,
                   help="a previous grouping (id,group); repeat pairs are avoided "
                        "(repeatable; see --max-repeats)")
    g.add_argument("--max-repeats", type=int, default=None, metavar="K",
                   help="with --history: a pair may meet again at most K times (default 0)")
    g.add_argument("--separate-tiers", action="store_true", default=None,
                   help="never mix tiers (the tier column)")
    g.add_argument("--same-region", action="store_true", default=None,
                   help="in-person groups: every group within one region")
    g.add_argument("--common-slot", action="store_true", default=None,
                   help="every group shares a meeting slot (availability column)")
    g.add_argument("--rule", metavar="NAME=VALUE", action="append", default=None,
                   help="any setting of the [rules] table, e.g. --rule slot_quorum=0.75 "
                        "(repeatable; the value is read as in TOML, else as text)")


def rules_with_options(rules, args):
    """Apply the rule flags of the command line on top of the config's rules."""
    from dataclasses import replace

    from ..rules import Rules

    rules = rules or Rules()
    changes = {}
    if getattr(args, "competitors", None) is not None:
        v = args.competitors.strip()
        changes["competitors"] = () if v.lower() == "none" else tuple(
            c.strip() for c in v.split(",") if c.strip())
    for opt in ("industry_depth", "conflict_file", "separate_tiers", "same_region",
                "common_slot"):
        v = getattr(args, opt, None)
        if v is not None:
            changes[opt] = v
    if getattr(args, "history", None):
        changes["history"] = tuple(args.history)
        changes["max_repeats"] = args.max_repeats if args.max_repeats is not None else (
            rules.max_repeats if rules.max_repeats is not None else 0)
    elif getattr(args, "max_repeats", None) is not None:
        changes["max_repeats"] = args.max_repeats
    changes.update(rule_settings(getattr(args, "rule", None) or ()))
    return replace(rules, **changes) if changes else rules


def rule_settings(items) -> dict:
    """``--rule NAME=VALUE`` settings as a dict: NAME must be a setting of ``Rules`` (a
    field, or one a rule family declares); VALUE is read as a TOML value (``0.75``,
    ``true``, ``["a", "b"]``), else taken as text."""
    import tomllib

    from ..errors import ConfigError
    from ..rules import Rules

    known = Rules.setting_names()
    out = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(f"--rule {item!r}: write it as NAME=VALUE, e.g. "
                              "--rule slot_quorum=0.75.")
        if name not in known:
            raise ConfigError(f"--rule {item!r}: {name!r} is not a rule setting. Known "
                              f"settings: {', '.join(known)}.")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out[name] = tuple(value) if isinstance(value, list) else value
    return out


def add_size_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-size", type=int, default=None, help="smallest group (default 8)")
    p.add_argument("--max-size", type=int, default=None, help="largest group (default 12)")
    # dest n_groups: the commands that read a grouping have a positional 'groups' file.
    p.add_argument("--groups", type=int, default=None, metavar="M", dest="n_groups",
                   help="number of groups (default: the count that scores best)")


def add_fairness_options(p: argparse.ArgumentParser, *, fairness: bool = True) -> None:
    """The size-shaping options (even sizes, free sizes, a target size) and, with
    ``fairness``, --fairness: validate takes the first ones only, to check the groups
    match would form."""
    g = p.add_argument_group("fair and even groups (see docs/fairness.md)" if fairness
                             else "group sizes (see docs/fairness.md)")
    g.add_argument("--even-sizes", action="store_true", default=None,
                   help="group sizes differ by at most one (the default)")
    g.add_argument("--free-sizes", action="store_false", dest="even_sizes",
                   help="sizes anywhere within --min-size/--max-size (larger groups hold more "
                   "pairs, so the search favours them)")
    g.add_argument("--target-size", type=int, default=None, metavar="K",
                   help="preferred group size: the group count nearest n / K (with --groups: "
                   "one of the sizes that count gives)")
    if fairness:
        g.add_argument("--fairness", type=float, default=None, metavar="F",
                       help="0 (default): highest total affinity; 1: raise the worst member's "
                       "fit first; between: a trade-off (see docs/fairness.md)")


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
    from ..budget import check_time_limit
    from ..config import MATCH_KEYS, MATCH_OPTIONS, check_match_setting

    m = cfg["match"]
    if "time_limit" in m:  # the accepted range, named in the message
        m["time_limit"] = check_time_limit(m["time_limit"], "[match] time_limit")
    for key in MATCH_KEYS:
        v = getattr(args, "n_groups" if key == "groups" else key, None)
        if v is not None:
            if key == "time_limit":
                v = check_time_limit(v, MATCH_OPTIONS[key])
            m[key] = check_match_setting(key, v, MATCH_OPTIONS[key])
    cfg["columns"].update(parse_columns(getattr(args, "column", [])))
    cfg["rules"] = rules_with_options(cfg["rules"], args)
    return cfg


def input_paths(args) -> list:
    """Every input file named on the command line (outputs must not overwrite them)."""
    out = [getattr(args, k, None) for k in ("candidates", "groups", "config", "conflict_file")]
    out.extend(getattr(args, "history", None) or [])
    return [p for p in out if p]


def jsonable(obj):
    """``obj`` with numpy values made plain and NaN/inf made ``None`` (valid JSON)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def dumps_json(obj) -> str:
    """Strict JSON text of ``obj`` (what ``--json`` and ``--summary`` print): never NaN."""
    import json

    return json.dumps(jsonable(obj), indent=2, allow_nan=False, default=str)


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


def read_table(path, args, cfg):
    """Read the candidates table once, with the command line's column, sep and encoding."""
    from ..candidates import read_candidates

    return read_candidates(path, columns=cfg["columns"] or None,
                           sep=getattr(args, "sep", None), encoding=getattr(args, "encoding", None))
