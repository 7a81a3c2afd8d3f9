"""The rules of a grouping as declared by the user: :class:`Rules` and its type checks.

Every setting a rule family reads is either a field of :class:`Rules` or a
:class:`Setting` the family declares (see ``docs/rules.md``, "How to add a rule"):
``Rules(caliber_band=10)`` and ``caliber_band = 10`` in the ``[rules]`` table of a
TOML file both work once a family declares ``caliber_band``.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

__all__ = ["Rules", "Setting", "declare_setting", "forget_setting", "is_int", "is_number"]


@dataclass(frozen=True)
class Setting:
    """A rule setting declared by a rule family instead of a field of :class:`Rules`.

    Parameters
    ----------
    name : str
        The keyword of ``Rules(...)`` and the key of the ``[rules]`` TOML table.
    default : object, default=None
        The value when the setting is not given (what ``rules.<name>`` returns).
    check : callable, optional
        ``check(value) -> value``: the value to keep, or a
        :class:`~peermatch.errors.ConfigError` in the format of the other settings
        ("The 'x' parameter of Rules must be ... Got ... instead.").
    fixes_count : bool, default=False
        True when the setting names groups or shares of groups, so that the number
        of groups must be fixed (see :attr:`Rules.needs_fixed_count`).
    """

    name: str
    default: Any = None
    check: Callable[[Any], Any] | None = None
    fixes_count: bool = False


#: The settings declared by rule families, by name (filled when a family registers).
DECLARED: dict[str, Setting] = {}


def declare_setting(setting: Setting) -> None:
    """Accept ``setting`` in :class:`Rules` (called when a rule family registers).

    Raises
    ------
    ValueError
        When the name is a field of :class:`Rules` or declared by another family.
    """
    taken = {f.name for f in fields(Rules)}
    if setting.name in taken or setting.name in DECLARED:
        raise ValueError(f"rule setting {setting.name!r} is already declared.")
    DECLARED[setting.name] = setting


def forget_setting(name: str) -> None:
    """Undo :func:`declare_setting` (for a family removed from the registry)."""
    DECLARED.pop(name, None)


@dataclass(frozen=True)
class Rules:
    """The hard rules (and rule-like soft terms) of a grouping, declared on the table.

    Every setting is optional; the defaults keep competitors and declared conflicts
    apart and nothing else. See ``docs/rules.md`` for the TOML form of each.

    Parameters
    ----------
    competitors : tuple of str, default=("industry", "region")
        Candidates equal on all of these columns compete and never share a group.
        Values are compared trimmed and case-insensitively. With the default, a table
        without a region column compares industries alone; any column named
        explicitly must exist. ``()`` switches the rule off. A candidate whose region cell is empty
        competes with the same industry in every region.
    industry_depth : int, optional
        For numeric industry codes (e.g. NAICS), compare only the first
        ``industry_depth`` digits, so ``541511`` and ``541512`` compete at depth 4; a
        plain label is never cut. Also defines the *sector* used by
        ``max_per_group={"sector": c}`` when the table has no ``sector`` column.
    competitor_exceptions : tuple of str, default=()
        Industries (labels, or codes at depth) exempt from the competitor rule.
    conflicts : bool, default=True
        Honour the ``conflicts`` column (ids separated by ``;``; symmetric).
    conflict_file : str or DataFrame, optional
        Extra conflict pairs: a CSV with columns ``id_a, id_b`` and optionally
        ``reason`` (competitor, customer, supplier, personal, ...).
    together : tuple of (str, str), default=()
        Pairs of ids that must share a group.
    pins : dict of str to str, default={}
        Member id -> group name that member must join.
    allowed_groups : dict of str to list of str, default={}
        Member id -> the only group names that member may join.
    locked_groups : tuple of str, default=()
        Existing groups (from the ``group`` column) that must stay exactly as they are.
    max_per_group : dict of str to int, default={}
        Column -> at most this many members sharing one value of it in a group
        (``"sector"`` = industry at ``industry_depth``).
    at_least_one : tuple of (str, str), default=()
        ``(column, value)`` pairs: every group has a member with that value (for list
        columns such as ``expertise``: a member listing it).
    no_isolated : tuple of str, default=()
        Columns (e.g. a gender or minority column) for which nobody may be the only
        member of their value in a group.
    balance : dict of str to float, default={}
        Numeric column -> tolerance: every group's mean is within this distance of
        the overall mean (hard). ``"20%"`` means 20 % of the overall mean.
    balance_penalty : dict of str to float, default={}
        Numeric column -> weight of a soft penalty on the spread of group means
        (folded into the affinity, see ``docs/rules.md``).
    spread : tuple of str, default=()
        Categorical columns whose members spread evenly over the groups (each group
        holds the floor or the ceiling of its share of every value).
    separate_tiers : bool, default=False
        Never mix tiers (the ``tier`` column): each tier is grouped on its own.
    same_region : bool, default=False
        In-person groups: every group stays within one region.
    common_slot : bool, default=False
        Every group has a meeting slot (``availability``) shared by at least
        ``slot_quorum`` of its members; the output names it.
    slot_quorum : float, default=1.0
        Share of members who must share the slot.
    keep_existing : bool, default=True
        With a ``group`` column, existing members stay in their group and new
        candidates fill the open seats (or form new groups).
    move_cost : float, optional
        With ``keep_existing=False``: affinity bonus for keeping former groupmates
        together, i.e. a cost of moving an existing member.
    history : tuple of str or DataFrame, default=()
        Previous groupings (tables with ``id`` and ``group``) for rounds without repeats.
    max_repeats : int, optional
        Hard: no pair may meet again more than this many times (0 = never again).
    repeat_penalty : float, default=0.0
        Soft: affinity subtracted per previous meeting of a pair.
    extra : dict of str to object, default={}
        Settings declared by rule families (:class:`Setting`); they are usually given
        as keywords, ``Rules(caliber_band=10)``, and read as ``rules.caliber_band``.

    Examples
    --------
    >>> Rules().competitors
    ('industry', 'region')
    >>> r = Rules(competitors=("industry",), industry_depth=4, max_per_group={"sector": 2})
    >>> r.max_per_group
    {'sector': 2}
    """

    competitors: tuple[str, ...] = ("industry", "region")
    industry_depth: int | None = None
    competitor_exceptions: tuple[str, ...] = ()
    conflicts: bool = True
    conflict_file: Any = None
    together: tuple[tuple[str, str], ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)
    allowed_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    locked_groups: tuple[str, ...] = ()
    max_per_group: Mapping[str, int] = field(default_factory=dict)
    at_least_one: tuple[tuple[str, str], ...] = ()
    no_isolated: tuple[str, ...] = ()
    balance: Mapping[str, float | str] = field(default_factory=dict)
    balance_penalty: Mapping[str, float] = field(default_factory=dict)
    spread: tuple[str, ...] = ()
    separate_tiers: bool = False
    same_region: bool = False
    common_slot: bool = False
    slot_quorum: float = 1.0
    keep_existing: bool = True
    move_cost: float | None = None
    history: tuple[Any, ...] = ()
    max_repeats: int | None = None
    repeat_penalty: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        _check_rule_types(self)
        _check_extra(self)

        def fix(name, conv):
            object.__setattr__(self, name, conv(getattr(self, name)))

        def tup(x):
            if x is None:
                return ()
            return (x,) if isinstance(x, str) else tuple(x)

        fix("competitors", tup)
        fix("competitor_exceptions", tup)
        fix("locked_groups", lambda x: tuple(str(v) for v in tup(x)))
        fix("no_isolated", tup)
        fix("spread", tup)
        fix("together", lambda x: tuple((str(a), str(b)) for a, b in (x or ())))
        fix("at_least_one", lambda x: tuple((str(a), str(b)) for a, b in (x or ())))
        fix("history", lambda x: (x,) if isinstance(x, (str, os.PathLike, pd.DataFrame))
            else tuple(x or ()))
        fix("pins", lambda x: {str(k): str(v) for k, v in dict(x or {}).items()})
        fix("allowed_groups", lambda x: {str(k): [str(v) for v in tup(vs)]
                                         for k, vs in dict(x or {}).items()})
        fix("max_per_group", lambda x: dict(x or {}))
        fix("balance", lambda x: dict(x or {}))
        fix("balance_penalty", lambda x: dict(x or {}))
        if self.industry_depth is not None and (
            not is_int(self.industry_depth) or self.industry_depth < 1
        ):
            raise ConfigError("The 'industry_depth' parameter of Rules must be a positive int or "
                              f"None. Got {self.industry_depth!r} instead.")
        for col, cap in self.max_per_group.items():
            if not is_int(cap) or cap < 1:
                raise ConfigError(f"The 'max_per_group' cap of {col!r} must be a positive int. "
                                  f"Got {cap!r} instead.")
        if not 0.0 < float(self.slot_quorum) <= 1.0:
            raise ConfigError("The 'slot_quorum' parameter of Rules must be in (0, 1]. "
                              f"Got {self.slot_quorum!r} instead.")
        if self.max_repeats is not None and (not is_int(self.max_repeats)
                                             or self.max_repeats < 0):
            raise ConfigError("The 'max_repeats' parameter of Rules must be an int >= 0 or None. "
                              f"Got {self.max_repeats!r} instead.")
        for name in ("repeat_penalty", "move_cost"):
            v = getattr(self, name)
            if v is not None and not (is_number(v) and np.isfinite(v) and v >= 0):
                raise ConfigError(f"The {name!r} parameter of Rules must be a finite number "
                                  f">= 0. Got {v!r} instead.")

    @property
    def needs_fixed_count(self) -> bool:
        """True when a rule refers to group names or shares, so the count must be fixed."""
        return bool(self.pins or self.allowed_groups or self.at_least_one or self.spread
                    or self.balance) or any(
            s.fixes_count and bool(self.extra.get(s.name, s.default)) for s in DECLARED.values())

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not fields: the settings families declare.
        setting = DECLARED.get(name)
        if setting is None or name.startswith("__"):
            raise AttributeError(f"'Rules' object has no attribute {name!r}")
        return self.__dict__.get("extra", {}).get(name, setting.default)

    @classmethod
    def setting_names(cls) -> list[str]:
        """Every setting ``Rules`` accepts: its fields, then the declared ones.

        >>> Rules.setting_names()[:3]
        ['competitors', 'industry_depth', 'competitor_exceptions']
        """
        return [f.name for f in fields(cls) if f.name != "extra"] + list(DECLARED)

    def to_dict(self) -> dict:
        """The rules as a plain dict (TOML-ready; DataFrames are left out).

        Every setting of :meth:`setting_names` is a key, the declared ones included.
        """
        out = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if isinstance(v, pd.DataFrame):
                continue
            if isinstance(v, tuple):
                v = [list(x) if isinstance(x, tuple) else x for x in v
                     if not isinstance(x, pd.DataFrame)]
            out[f.name] = v
        out.update({name: self.extra.get(name, s.default) for name, s in DECLARED.items()})
        return out


_BOOL_RULES = ("conflicts", "separate_tiers", "same_region", "common_slot", "keep_existing")
_NAME_LISTS = ("competitors", "competitor_exceptions", "no_isolated", "spread")
_PAIR_LISTS = ("together", "at_least_one")
_MAPPINGS = ("pins", "allowed_groups", "max_per_group", "balance", "balance_penalty")


def is_int(v) -> bool:
    """An int (numpy ints too), not a bool."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_number(v) -> bool:
    """A real number (numpy too), not a bool."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


def _check_rule_types(r: Rules) -> None:
    """Reject settings of the wrong type before anything uses them.

    TOML and Python both land here, so ``separate_tiers = "no"`` fails instead of
    counting as true, and a number where a list of column names belongs fails
    instead of being taken apart character by character.
    """
    def bad(name, want, v):
        return ConfigError(f"The {name!r} parameter of Rules must be {want}. Got {v!r} "
                           "instead.")

    for name in _BOOL_RULES:
        v = getattr(r, name)
        if not isinstance(v, (bool, np.bool_)):
            raise bad(name, "true or false", v)
    for name in _NAME_LISTS:
        v = getattr(r, name)
        items = (v,) if isinstance(v, str) else v
        if v is not None and (not isinstance(items, (list, tuple))
                              or not all(isinstance(x, str) for x in items)):
            raise bad(name, "a list of strings", v)
    v = r.locked_groups
    items = (v,) if isinstance(v, (str, int)) else v
    if not isinstance(items, (list, tuple)) or not all(
            isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
        raise bad("locked_groups", "a list of group names", v)
    for name in _PAIR_LISTS:
        v = getattr(r, name)
        if v is not None and (not isinstance(v, (list, tuple)) or not all(
                isinstance(x, (list, tuple)) and len(x) == 2
                and all(isinstance(y, (str, int)) and not isinstance(y, bool) for y in x)
                for x in v)):
            raise bad(name, "a list of [a, b] pairs of strings", v)
    for name in _MAPPINGS:
        v = getattr(r, name)
        if v is not None and not isinstance(v, Mapping):
            raise bad(name, "a table (mapping)", v)
    for k, g in dict(r.pins or {}).items():
        if not isinstance(g, (str, int)) or isinstance(g, bool):
            raise bad("pins", "a table of member id = group name", {k: g})
    for k, gs in dict(r.allowed_groups or {}).items():
        items = (gs,) if isinstance(gs, str) else gs
        if not isinstance(items, (list, tuple)) or not all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
            raise bad("allowed_groups", "a table of member id = [group names]", {k: gs})
    for k, t in dict(r.balance or {}).items():
        ok = (is_number(t) and np.isfinite(t) and t >= 0) or (
            isinstance(t, str) and re.fullmatch(r"\s*\d+(\.\d*)?\s*%\s*", t) is not None)
        if not ok:
            raise bad("balance", "a table of column = tolerance (a number >= 0 or a "
                      "percentage such as \"20%\")", {k: t})
    for k, lam in dict(r.balance_penalty or {}).items():
        if not (is_number(lam) and np.isfinite(lam) and lam >= 0):
            raise bad("balance_penalty", "a table of column = weight (a number >= 0)", {k: lam})
    if not is_number(r.slot_quorum):
        raise bad("slot_quorum", "a number in (0, 1]", r.slot_quorum)
    if r.conflict_file is not None and not isinstance(r.conflict_file,
                                                      (str, os.PathLike, pd.DataFrame)):
        raise bad("conflict_file", "a file name or a DataFrame", r.conflict_file)
    hist = (r.history,) if isinstance(r.history, (str, os.PathLike, pd.DataFrame)) else r.history
    if hist is not None and (not isinstance(hist, (list, tuple)) or not all(
            isinstance(h, (str, os.PathLike, pd.DataFrame)) for h in hist)):
        raise bad("history", "a list of file names or DataFrames", r.history)


def _check_extra(r: Rules) -> None:
    """Check and keep the declared settings given in ``extra``."""
    if not isinstance(r.extra, Mapping):
        raise ConfigError(f"The 'extra' parameter of Rules must be a table (mapping). Got "
                          f"{r.extra!r} instead.")
    unknown = sorted(str(k) for k in r.extra if k not in DECLARED)
    if unknown:
        raise ConfigError(f"Rules got unknown setting(s) {unknown}; the settings declared by "
                          f"rule families are {sorted(DECLARED)}.")
    kept = {}
    for name, v in r.extra.items():
        check = DECLARED[name].check
        kept[name] = check(v) if check is not None else v
    object.__setattr__(r, "extra", kept)


_FIELD_INIT = Rules.__init__


@functools.wraps(_FIELD_INIT)
def _init(self, *args, **kwargs) -> None:
    # The settings that families declare are keywords of Rules too: route them into
    # ``extra``, so Rules(caliber_band=10) and dataclasses.replace both work.
    declared = {k: kwargs.pop(k) for k in list(kwargs) if k in DECLARED}
    if declared:
        kwargs["extra"] = {**dict(kwargs.get("extra") or {}), **declared}
    _FIELD_INIT(self, *args, **kwargs)


Rules.__init__ = _init
