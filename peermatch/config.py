"""Job settings from a TOML file (``--config``): sizes, weights, rules, column names.

Example ``peermatch.toml``::

    [match]
    min_size = 8
    max_size = 12
    time_limit = 30
    seed = 0

    [columns]
    industry = "Sector"

    [weights]
    goals = 1.0
    caliber = 0.5

    [rules]
    competitors = ["industry", "region"]
    industry_depth = 4
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from typing import Any

from .errors import ConfigError
from .rules import Rules

__all__ = ["load_config", "rules_from_dict", "MATCH_KEYS"]

#: Keys of the ``[match]`` table and their types.
MATCH_KEYS: dict[str, type] = {
    "min_size": int, "max_size": int, "groups": int, "time_limit": float, "seed": int,
    "method": str, "workers": int, "scheduler": str,
}
_SECTIONS = ("match", "columns", "weights", "rules")


def _unknown(where: str, got, valid) -> ConfigError:
    return ConfigError(f"{where}: unknown key(s) {sorted(got)}; valid keys are {sorted(valid)}.")


def rules_from_dict(d: dict[str, Any], where: str = "[rules]") -> Rules:
    """Build :class:`~peermatch.rules.Rules` from a dict, rejecting unknown keys.

    >>> rules_from_dict({"competitors": ["industry"], "industry_depth": 3}).competitors
    ('industry',)
    """
    valid = {f.name for f in fields(Rules)}
    bad = set(d) - valid
    if bad:
        raise _unknown(where, bad, valid)
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()}
    try:
        return Rules(**kw)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML job file into ``{"match": {...}, "columns": {...}, "weights": Weights | None,
    "rules": Rules | None}``, with clear errors naming the file and key.
    """
    from .scoring import Weights

    name = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{name}: config file not found.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML ({exc}).") from None
    bad = set(raw) - set(_SECTIONS)
    if bad:
        raise _unknown(name, bad, _SECTIONS)
    match = dict(raw.get("match", {}))
    bad = set(match) - set(MATCH_KEYS)
    if bad:
        raise _unknown(f"{name} [match]", bad, MATCH_KEYS)
    for k, typ in MATCH_KEYS.items():
        if k in match:
            v = match[k]
            ok = isinstance(v, typ) or (typ is float and isinstance(v, int))
            if not ok or isinstance(v, bool):
                raise ConfigError(f"{name} [match] {k}: expected {typ.__name__}, got {v!r}.")
    columns = raw.get("columns", {})
    if not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(f"{name} [columns]: every value must be a column name (a string).")
    weights = None
    if "weights" in raw:
        try:
            weights = Weights.from_dict(raw["weights"])
        except ConfigError as exc:
            raise ConfigError(f"{name} [weights]: {exc}") from None
    rules = rules_from_dict(raw["rules"], f"{name} [rules]") if "rules" in raw else None
    return {"match": match, "columns": dict(columns), "weights": weights, "rules": rules}
