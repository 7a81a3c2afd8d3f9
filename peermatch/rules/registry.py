"""The one ordered registry of rule families that every command iterates over.

Each module of ``peermatch/rules/families/`` registers its family with
:func:`register`; importing :mod:`peermatch.rules` loads them all. ``REGISTRY`` lists
them by :attr:`Family.order`, and compiling, diagnosing, checking and describing rules
all walk it in that order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

from .base import PHASES, Family
from .spec import declare_setting, forget_setting

__all__ = ["Registry", "REGISTRY", "register"]

F = TypeVar("F", bound="type[Family] | Family")


class Registry(Sequence[Family]):
    """The rule families, ordered by ``(order, key)``; a read-only sequence.

    Index it by position or look a family up by key (:meth:`get`, ``key in
    REGISTRY``). :meth:`register` adds a family, :meth:`remove` takes one out.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Family] = {}
        self._ordered: tuple[Family, ...] = ()

    def register(self, family: F) -> F:
        """Add a family (a :class:`Family` subclass, made once, or an instance).

        Usable as a class decorator; returns its argument.

        Raises
        ------
        ValueError
            An empty or already registered key, an unknown phase, or a declared
            setting that already exists.
        """
        fam = family() if isinstance(family, type) else family
        if not fam.key or fam.key in self._by_key:
            raise ValueError(f"rule family key {fam.key!r} is empty or already registered.")
        if fam.phase not in PHASES:
            raise ValueError(f"rule family {fam.key!r}: phase must be one of {PHASES}. Got "
                             f"{fam.phase!r} instead.")
        declared = []
        try:
            for setting in fam.declares:
                declare_setting(setting)
                declared.append(setting.name)
        except ValueError:
            for name in declared:
                forget_setting(name)
            raise
        self._by_key[fam.key] = fam
        self._sort()
        return family

    def remove(self, key: str) -> Family:
        """Take the family ``key`` out (and the settings it declared); return it."""
        fam = self._by_key.pop(key)
        for setting in fam.declares:
            forget_setting(setting.name)
        self._sort()
        return fam

    def get(self, key: str, default: Family | None = None) -> Family | None:
        """The family registered under ``key``, or ``default``."""
        return self._by_key.get(key, default)

    def keys(self) -> list[str]:
        """The keys of the families, in order."""
        return [f.key for f in self._ordered]

    def owner(self, primitive: str) -> str:
        """Key of the first family that owns a solver primitive (the primitive otherwise)."""
        for fam in self._ordered:
            if primitive in fam.primitives:
                return fam.key
        return primitive

    def in_phase(self, phase: str) -> Iterator[Family]:
        """The families that compile in ``phase``, in order."""
        return (f for f in self._ordered if f.phase == phase)

    def _sort(self) -> None:
        self._ordered = tuple(sorted(self._by_key.values(), key=lambda f: (f.order, f.key)))

    @overload
    def __getitem__(self, i: int) -> Family: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Family, ...]: ...

    def __getitem__(self, i):
        return self._ordered[i]

    def __len__(self) -> int:
        return len(self._ordered)

    def __iter__(self) -> Iterator[Family]:
        return iter(self._ordered)

    def __contains__(self, item: object) -> bool:
        return item in self._by_key if isinstance(item, str) else item in self._ordered

    def __repr__(self) -> str:
        return f"Registry({self.keys()})"


#: Every rule family, in order (see :class:`Registry`).
REGISTRY = Registry()

#: Register a family: ``@register`` above a :class:`Family` subclass.
register = REGISTRY.register
