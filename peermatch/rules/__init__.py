"""Hard rules: who may not (or must) share a group, and checks that explain clashes.

Rules are declared on the candidates table (columns, ids) by :class:`Rules` and
compiled into arrays of a :class:`~peermatch.problem.Problem` by
:func:`build_problem`. :func:`diagnose` runs cheap checks before any solving and
says, in the rules' own words, what makes a request impossible;
:func:`check_grouping` verifies a finished grouping against every rule.

Each family of rules (competitors, conflicts, caps, ...) is one object in its own
module of ``peermatch/rules/families/``, registered in :data:`REGISTRY`; compiling,
diagnosing, checking and describing the rules all walk that one registry, in order.

======================  ==============================================================
module                  what it holds
======================  ==============================================================
``spec``                :class:`Rules`, the settings families declare, type checks
``columns``             reading rule columns: competitor classes, conflicts, history
``base``, ``registry``  the :class:`~peermatch.rules.base.Family` shape, the registry
``builder``             the solver arrays under construction, the group count
``compile``             :func:`build_problem`
``diagnosis``           :func:`diagnose`
``check``               :func:`check_violations`, :func:`rule_families`
``parts``               sizes, tiers and regions: :func:`compile_parts`
``families/``           one module per rule family
======================  ==============================================================
"""

from __future__ import annotations

from . import families  # noqa: F401  (registers every rule family)
from .base import Family, Span
from .check import check_grouping, check_violations, meeting_slots, rule_families
from .columns import DEFAULT_COMPETITORS, competitor_classes, conflict_pairs, read_pairs
from .compile import build_problem
from .compiled import Compiled, SoftTerm, Violation
from .diagnosis import diagnose
from .parts import Part, check_sizes, compile_parts, keep_parts_apart, partition
from .registry import REGISTRY, Registry, register
from .spec import Rules, Setting

__all__ = ["Rules", "Compiled", "SoftTerm", "Part", "competitor_classes", "conflict_pairs",
           "read_pairs", "build_problem", "diagnose", "check_grouping", "meeting_slots",
           "check_sizes", "partition", "compile_parts", "Violation", "check_violations",
           "RULE_FAMILIES", "rule_families", "keep_parts_apart", "REGISTRY", "Family",
           "Setting", "register", "Registry", "Span", "DEFAULT_COMPETITORS"]

#: Compatibility name of :data:`REGISTRY` (each entry has ``key``, ``settings``,
#: ``describe(rules, sizes)`` and ``active(rules)``, as before).
RULE_FAMILIES = REGISTRY

#: Compatibility name of the family objects (``RuleFamily(key, settings, describe)``).
RuleFamily = Family

#: Compatibility view of the diagnoses at import: ``(family key, diagnose)`` in order.
DIAGNOSES = tuple((f.key, f.diagnose) for f in REGISTRY
                  if type(f).diagnose is not Family.diagnose)
