"""What a rule family is: :class:`Family`, the one shape every family of rules has.

A family is one object in its own module under ``peermatch/rules/families/``: the
settings that switch it on, how it compiles into the solver's primitives, how it
reads in a report, and (optionally) a cheap proof that a request is impossible and
checks of a grouping beyond those of its primitives. See ``docs/rules.md``, "How to
add a rule".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .compiled import Compiled, Violation
from .spec import Rules, Setting

if TYPE_CHECKING:  # only for annotations: the builder module imports nothing from here
    from ..problem import Problem
    from .builder import Builder

__all__ = ["Family", "Span", "PHASES"]

#: When a family compiles: ``"pairs"`` (rules that keep pairs apart; they set the fewest
#: groups), then the number of groups is fixed, then ``"placement"`` (where each member
#: may go), then ``"groups"`` (what each group is made of).
PHASES = ("pairs", "placement", "groups")


@dataclass
class Span:
    """What every diagnosis needs: the compiled rules, names, and how many groups can exist.

    Attributes
    ----------
    compiled : Compiled
        The compiled rules (``compiled.problem`` is :attr:`p`).
    names : tuple of str
        The id of each candidate, for messages.
    m_lo, m_hi : int
        The fewest and the most groups the sizes allow.
    sizes : str
        The size rule in words (``"groups of 8-12"``).
    """

    compiled: Compiled
    names: tuple[str, ...]
    m_lo: int
    m_hi: int
    sizes: str

    @property
    def p(self) -> Problem:
        return self.compiled.problem


class Family:
    """One family of rules, e.g. competitors, conflicts or composition caps.

    Subclass it in a module of ``peermatch/rules/families/`` and decorate the class
    with :func:`peermatch.rules.registry.register`; the registry makes one instance and
    every command (``match``, ``validate``, ``report --check``, ``seats``, the solver's
    input) iterates over it. Override what the family needs; the defaults do nothing.

    Attributes
    ----------
    key : str
        The family's name: the :attr:`Violation.rule` of its violations, the tag of
        the group sums and cannot-link pairs it compiles, its line in a report.
    order : int
        Where the family runs and is listed among the others (lower first): its
        compile step within its :attr:`phase`, its diagnosis, its report line.
    settings : tuple of str
        The :class:`Rules` settings that switch it on (empty: always on).
    declares : tuple of Setting
        Settings the family adds to :class:`Rules` (for a setting that is not a field
        of :class:`Rules`): ``Rules(name=value)`` and the TOML ``[rules]`` table accept
        them once the family is registered.
    phase : str
        One of :data:`PHASES`: when the family compiles.
    primitives : tuple of str
        Solver constraints (:data:`peermatch.problem.CONSTRAINTS`, e.g. ``"must_link"``)
        whose breaches are this family's violations. Group sums and cannot-link pairs
        are tagged one by one when compiled instead (``Builder.add_sum``,
        ``Builder.keep_apart``).
    apart : tuple of (str, str) or None
        For a family that keeps pairs apart: how a diagnosis says a pair breaks it
        (``"compete"``) and the fix (``"relax the competitor rule"``).

    Examples
    --------
    The old three-argument form still builds a family that only reads:

    >>> f = Family("toy", ("together",), lambda rules, sizes: "Toy rule")
    >>> f.key, f.active(Rules()), f.describe(Rules(), None)
    ('toy', False, 'Toy rule')
    """

    key: str = ""
    order: int = 0
    settings: tuple[str, ...] = ()
    declares: tuple[Setting, ...] = ()
    phase: str = "groups"
    primitives: tuple[str, ...] = ()
    apart: tuple[str, str] | None = None

    def __init__(self, key: str | None = None, settings: tuple[str, ...] | None = None,
                 describe: Callable[[Rules, tuple[int, int] | None], str] | None = None,
                 **attrs: Any) -> None:
        # A subclass sets its attributes on the class; these override them per instance.
        if key is not None:
            self.key = key
        if settings is not None:
            self.settings = tuple(settings)
        if describe is not None:
            self.describe = describe  # type: ignore[method-assign]
        for name, value in attrs.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"<rule family {self.key!r}>"

    def active(self, rules: Rules) -> bool:
        """Whether ``rules`` switch this family on (it is then listed in reports)."""
        return not self.settings or any(bool(getattr(rules, f)) for f in self.settings)

    def describe(self, rules: Rules, sizes: tuple[int, int] | None) -> str:
        """What the family asks for, in words (``sizes`` is ``(lo, hi)`` or None)."""
        return self.key

    def compile(self, b: Builder) -> None:
        """Add the family's rules to the solver arrays under construction."""

    def diagnose(self, span: Span, found: list[str]) -> list[str]:
        """Cheap proofs that the request is impossible, in words with the fix.

        ``found`` holds the reasons found so far (by the families before this one).
        """
        return []

    def check(self, compiled: Compiled, labels: np.ndarray) -> list[Violation]:
        """Violations of a grouping beyond those of the family's primitives.

        The breaches of group sums, pairs and the other primitives the family
        compiled to are reported for it already; this is for a rule the primitives
        do not express in full.
        """
        return []

    def detail(self, name: str) -> str:
        """The :attr:`Violation.detail` of a broken group sum named ``name``."""
        return name

    def breach(self, total: float, size: int, limit: str) -> str:
        """How far a group's sum is from its bound, for the message of a broken group sum:
        by default a count of members (``total``) and the ``limit`` it breaks."""
        return f"{total:g} members, {limit}"
