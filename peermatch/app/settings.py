"""The settings of a workbench session: sizes, weights, rules and columns.

They are kept as a plain dict shaped like a TOML job file (``[match]``, ``[weights]``,
``[rules]``, ``[columns]``) and checked by the functions that check ``--config`` and the
command line: :func:`peermatch.config.check_match_setting`,
:meth:`peermatch.Weights.from_dict` and :func:`peermatch.config.rules_from_dict`. Each
control of the page carries a one-line meaning (:data:`CONTROLS`).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["DEFAULTS", "CONTROLS", "WEIGHT_CONTROLS", "RULE_CONTROLS", "COLUMN_NAMES",
           "defaults", "from_form", "weights_of", "rules_of", "match_kwargs"]

#: A new session's settings (the command line's defaults).
DEFAULTS: dict[str, Any] = {
    "match": {"min_size": 8, "max_size": 12, "groups": None, "time_limit": 10.0, "seed": 0},
    "weights": {"goals": 1.0, "inspiration": 1.0, "caliber": 0.5, "diversity": 0.3,
                "caliber_scale": 1.0, "columns": []},
    "rules": {},
    "rules_toml": "",
    "columns": {},
}

#: ``(field, label, meaning)`` of the size and run controls.
CONTROLS = (
    ("min_size", "Smallest group", "No group has fewer members than this."),
    ("max_size", "Largest group", "No group has more members than this."),
    ("groups", "Number of groups", "Leave empty: the fewest groups that hold everyone "
     "(sizes then differ by at most one)."),
    ("time_limit", "Time limit (s)", "How long a run searches; Stop ends it sooner and "
     "keeps the best grouping found."),
    ("seed", "Seed", "The same file, settings and seed give the same groups."),
)

#: ``(weight, label, meaning)``: how much each part of a pair's affinity counts.
WEIGHT_CONTROLS = (
    ("goals", "Shared goals", "Members who want the same things score higher together."),
    ("inspiration", "Inspiration", "One member's expertise meets another's goal (both "
     "ways)."),
    ("caliber", "Similar size", "Companies of a similar size score higher together."),
    ("diversity", "Different sectors", "Members from different industries score higher "
     "together (negative: the same)."),
    ("caliber_scale", "Size scale", "How many decades apart two company sizes may be and "
     "still count as similar (must be positive)."),
)

#: ``(rule, label, meaning, kind)`` of the rules the page sets directly; any other rule
#: setting goes in the TOML box (the ``[rules]`` table of a job file).
RULE_CONTROLS = (
    ("competitors", "Competitor columns", "Members equal on all these columns compete and "
     "never share a group ('none' switches the rule off).", "text"),
    ("common_slot", "Common meeting slot", "Every group shares a slot of the availability "
     "column.", "bool"),
    ("separate_tiers", "Separate tiers", "Never mix tiers (the tier column).", "bool"),
    ("same_region", "Same region", "In-person groups: every group within one region.", "bool"),
)

#: The canonical columns a user may map to a column of their own.
COLUMN_NAMES = ("id", "name", "industry", "employees", "revenue", "goals", "expertise",
                "region", "availability", "conflicts", "tier", "group")


def defaults() -> dict[str, Any]:
    """A fresh copy of :data:`DEFAULTS`."""
    return copy.deepcopy(DEFAULTS)


def _number(form: Mapping[str, str], key: str, typ, label: str):
    raw = str(form.get(key, "")).strip()
    if raw == "":
        return None
    try:
        return typ(raw)
    except ValueError:
        raise ConfigError(f"{label}: {raw!r} is not a{'n integer' if typ is int else ' number'}."
                          ) from None


def _match_from_form(form: Mapping[str, str], old: dict) -> dict:
    from ..budget import check_time_limit
    from ..config import check_match_setting

    out = dict(old)
    for key, label, _ in CONTROLS:
        if key not in form:
            continue
        typ = float if key == "time_limit" else int
        v = _number(form, key, typ, label)
        if v is None and key != "groups":
            raise ConfigError(f"{label}: a value is needed.")
        if v is not None:
            v = (check_time_limit(v, label) if key == "time_limit"
                 else check_match_setting(key, v, label))
        out[key] = v
    if out["min_size"] > out["max_size"]:
        raise ConfigError(f"Smallest group ({out['min_size']}) is larger than largest group "
                          f"({out['max_size']}).")
    return out


def _weights_from_form(form: Mapping[str, str], old: dict) -> dict:
    from ..weights import Weights

    out = dict(old)
    for key, label, _ in WEIGHT_CONTROLS:
        if key in form:
            v = _number(form, key, float, label)
            if v is None:
                raise ConfigError(f"{label}: a value is needed (0 switches it off).")
            out[key] = v
    Weights.from_dict(out)  # the same checks as [weights] in a job file
    return out


def _rules_from_form(form: Mapping[str, str], old: dict, old_toml: str) -> tuple[dict, str]:
    if "competitors" not in form:  # the rules box was not part of this form
        return old, old_toml
    out: dict[str, Any] = {}
    comp = str(form.get("competitors", "")).strip()
    if comp.lower() == "none":
        out["competitors"] = []
    elif comp:
        out["competitors"] = [c.strip() for c in comp.split(",") if c.strip()]
    for key, _, _, kind in RULE_CONTROLS:
        if kind == "bool" and form.get(key) in ("on", "true", "1"):
            out[key] = True
    text = str(form.get("rules_toml", ""))
    rules_of({"rules": out, "rules_toml": text})  # checked now, not at the next run
    return out, text


def from_form(form: Mapping[str, str], old: dict) -> dict:
    """The settings ``old`` with the fields of a submitted form applied and checked.

    Raises
    ------
    ConfigError
        A field is invalid; the message names it and says what is expected.
    """
    new = copy.deepcopy(old)
    new["match"] = _match_from_form(form, old["match"])
    new["weights"] = _weights_from_form(form, old["weights"])
    new["rules"], new["rules_toml"] = _rules_from_form(form, old["rules"],
                                                       old.get("rules_toml", ""))
    if any(k.startswith("column_") for k in form):
        new["columns"] = {k: str(form.get(f"column_{k}", "")).strip() for k in COLUMN_NAMES
                          if str(form.get(f"column_{k}", "")).strip()}
    return new


def weights_of(settings: dict):
    """The :class:`~peermatch.Weights` of ``settings``."""
    from ..weights import Weights

    return Weights.from_dict(settings["weights"])


def rules_of(settings: dict, locked=()):
    """The :class:`~peermatch.Rules` of ``settings`` (with ``locked`` groups locked)."""
    from ..config import rules_from_dict

    text = settings.get("rules_toml", "") or ""
    try:
        extra = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"More rules (TOML): {exc}. Write one setting a line, e.g. "
                          "max_per_group = { sector = 2 }.") from None
    d = {**extra, **settings["rules"]}
    if locked:
        d["locked_groups"] = sorted(set(d.get("locked_groups", ())) | set(locked))
    return rules_from_dict(d, "rules")


def match_kwargs(settings: dict) -> dict:
    """The keyword arguments of :func:`peermatch.match` that the settings give."""
    m = settings["match"]
    return {"min_size": m["min_size"], "max_size": m["max_size"], "n_groups": m["groups"],
            "time_limit": float(m["time_limit"]), "seed": m["seed"],
            "weights": weights_of(settings), "rules": rules_of(settings)}
