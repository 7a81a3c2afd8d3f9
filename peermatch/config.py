"""Job settings from a TOML file (``--config``): sizes, weights, rules, column names.

Example ``peermatch.toml``::

    [match]
    min_size = 8
    max_size = 12
    time_limit = 30
    seed = 0
    fairness = 0.5        # 0: highest total, 1: highest floor first
    even_sizes = true     # sizes differ by at most one

    [match.group_sizes]   # per-group bounds (existing groups with their own capacity)
    "Alpha" = [6, 10]

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

import math
import numbers
import os
from typing import Any

import numpy as np

from .errors import ConfigError
from .rules.spec import Rules
from .tomlfile import read_toml  # re-exported: config.read_toml keeps working

__all__ = ["load_config", "rules_from_dict", "check_match_setting", "MATCH_KEYS"]

#: Keys of the ``[match]`` table and their types.
MATCH_KEYS: dict[str, type] = {
    "min_size": int, "max_size": int, "groups": int, "time_limit": float, "seed": int,
    "method": str, "workers": int, "scheduler": str, "fairness": float, "even_sizes": bool,
    "target_size": int, "group_sizes": dict,
}
#: The command-line option of each ``[match]`` key (for messages).
MATCH_OPTIONS = {k: "--" + k.replace("_", "-") for k in MATCH_KEYS}
_SECTIONS = ("match", "columns", "weights", "rules")


def check_match_setting(key: str, value: Any, where: str | None = None) -> Any:
    """Check one ``[match]`` setting (TOML value or command-line option); return it.

    The one place where the type and range of ``min_size``, ``max_size``, ``groups``,
    ``time_limit``, ``seed``, ``method`` and ``workers`` are checked. ``where`` names
    the setting in the message (default ``"[match] KEY"``; the CLI passes the option).

    >>> check_match_setting("time_limit", 5)
    5.0
    >>> try:
    ...     check_match_setting("time_limit", -1, "--time-limit")
    ... except ConfigError as exc:
    ...     print(exc)
    --time-limit: must be a positive number of seconds. Got -1 instead.
    """
    where = where or f"[match] {key}"
    typ = MATCH_KEYS[key]
    # numpy scalars count as the Python numbers they are; a bool is not a number here.
    want = {int: numbers.Integral, float: numbers.Real, str: str, bool: (bool, np.bool_),
            dict: dict}[typ]
    ok = isinstance(value, want)
    if not ok or (typ is not bool and isinstance(value, (bool, np.bool_))):
        raise ConfigError(f"{where}: expected {typ.__name__}, got {value!r}.")
    if key == "fairness" and not 0.0 <= value <= 1.0:
        raise ConfigError(f"{where}: must be a number in [0, 1]. Got {value!r} instead.")
    if key == "target_size" and value < 1:
        raise ConfigError(f"{where}: must be at least 1. Got {value!r} instead.")
    if key in ("min_size", "max_size", "groups", "workers") and value < 1:
        raise ConfigError(f"{where}: must be at least 1. Got {value!r} instead.")
    if key == "seed" and value < 0:
        raise ConfigError(f"{where}: must be an int >= 0. Got {value!r} instead.")
    if key == "time_limit":
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{where}: must be a positive number of seconds. "
                              f"Got {value!r} instead.")
        value = float(value)
    if key == "method":
        from .solve.plan import METHODS

        if value.lower() not in METHODS:
            raise ConfigError(f"{where}: unknown method {value!r}; valid methods are "
                              f"{', '.join(METHODS)}.")
    return value


def _unknown(where: str, got, valid) -> ConfigError:
    return ConfigError(f"{where}: unknown key(s) {sorted(got)}; valid keys are {sorted(valid)}.")


def rules_from_dict(d: dict[str, Any], where: str = "[rules]") -> Rules:
    """Build :class:`~peermatch.rules.Rules` from a dict, rejecting unknown keys.

    >>> rules_from_dict({"competitors": ["industry"], "industry_depth": 3}).competitors
    ('industry',)
    """
    # The fields of Rules and the settings rule families declare (Setting).
    valid = set(Rules.setting_names())
    bad = set(d) - valid
    if bad:
        raise _unknown(where, bad, valid)
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()}
    try:
        return Rules(**kw)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML job file into ``{"match": {...}, "columns": {...}, "weights": Weights | None,
    "rules": Rules | None}``, with clear errors naming the file and key.

    A relative ``vectors`` path of a text column (``[[weights.columns]]``) is read from
    the TOML file's folder.
    """
    from .scoring import Weights

    name = os.fspath(path)
    raw = read_toml(path, "config")
    bad = set(raw) - set(_SECTIONS)
    if bad:
        raise _unknown(name, bad, _SECTIONS)
    match = dict(raw.get("match", {}))
    bad = set(match) - set(MATCH_KEYS)
    if bad:
        raise _unknown(f"{name} [match]", bad, MATCH_KEYS)
    for k in MATCH_KEYS:
        if k in match:
            match[k] = check_match_setting(k, match[k], f"{name} [match] {k}")
    columns = raw.get("columns", {})
    if not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(f"{name} [columns]: every value must be a column name (a string).")
    weights = None
    if "weights" in raw:
        try:
            weights = Weights.from_dict(raw["weights"], folder=os.path.dirname(name))
        except ConfigError as exc:
            raise ConfigError(f"{name} [weights]: {exc}") from None
    rules = rules_from_dict(raw["rules"], f"{name} [rules]") if "rules" in raw else None
    return {"match": match, "columns": dict(columns), "weights": weights, "rules": rules}
