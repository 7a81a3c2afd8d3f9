"""Why a repair failed, in sentences a chair can act on (used by :mod:`peermatch.lifecycle`).

Each repair tried gets one sentence that names the groups it keeps, dissolves or forms
and the rules that rule it out; only the rules in force are named (the repair's own: the
members of healthy groups stay; and those of the :class:`~peermatch.rules.Rules` given).
The message ends with the fixes open to the user, each with its command-line form.
"""

from __future__ import annotations

from collections.abc import Sequence

from .rules import Rules

__all__ = ["plan_words", "attempt_sentence", "failure_message", "rules_in_force",
           "solver_families", "diagnosis_words"]

#: Rule families the solver names in its reasons (``"<family>: <remedy>"``).
_FAMILIES = ("group sizes", "cannot-link pairs", "must-link pairs", "allowed groups",
             "common meeting slot", "no isolated member")
_GENERIC = ": loosen this rule's bounds or drop it"


def _and(items: Sequence[str]) -> str:
    items = [x for x in items if x]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _groups(names: Sequence[str]) -> str:
    return ("group " if len(names) == 1 else "groups ") + _and(list(names))


def _ids(ids: Sequence[str], limit: int = 6) -> str:
    shown = list(ids[:limit])
    return _and(shown) if len(ids) <= limit else ", ".join(shown) + f" and {len(ids) - limit} more"


def plan_words(kept: Sequence[str], dissolved: Sequence[str], k_new: int,
               movers: Sequence[str], joiners: int) -> str:
    """One repair tried, as the subject of a sentence.

    >>> plan_words([], ["4"], 0, ["M3", "M17"], 0)
    'Dissolving group 4 (its 2 members M3 and M17 moving to groups with room)'
    >>> plan_words(["2"], [], 1, [], 3)
    'Keeping group 2 and filling it, and forming 1 new group, with the 3 new members'
    """
    parts = []
    if kept:
        parts.append(f"keeping {_groups(kept)} and filling {'it' if len(kept) == 1 else 'them'}")
    if dissolved:
        whose = "its" if len(dissolved) == 1 else "their"
        parts.append(f"dissolving {_groups(dissolved)} ({whose} {len(movers)} member"
                     f"{'s' if len(movers) != 1 else ''} {_ids(movers)} moving to groups "
                     "with room)")
    if k_new:
        parts.append(f"forming {k_new} new group{'s' if k_new != 1 else ''}")
    text = ", and ".join(parts) if len(parts) > 1 else (parts[0] if parts else "placing them")
    if joiners:
        text += f", with the {joiners} new member{'s' if joiners != 1 else ''}"
    return text[0].upper() + text[1:]


def solver_families(reasons: Sequence[str]) -> list[str]:
    """The rule families named by the solver's reasons (``"<family>: <remedy>"``)."""
    out = []
    for r in reasons:
        fam = next((f for f in _FAMILIES if r.startswith(f + ":")), None)
        if fam is None:
            fam = r[: -len(_GENERIC)] if r.endswith(_GENERIC) else r.split(": ", 1)[0]
        out.append(fam)
    return list(dict.fromkeys(out))


#: Words of the cheap diagnoses (:func:`peermatch.rules.diagnose`) -> their rule family.
_DIAGNOSIS_WORDS = (("meeting slot", "common meeting slot"), ("compete", "cannot-link pairs"),
                    ("conflict", "cannot-link pairs"), ("pinned", "allowed groups"),
                    ("may join no group", "allowed groups"), ("together-pair", "must-link pairs"),
                    ("no-isolated", "no isolated member"), ("--min-size", "group sizes"))


def diagnosis_words(why: Sequence[str]) -> tuple[list[str], str]:
    """The rule families of the cheap diagnoses ``why`` and their findings in one clause
    (a finding's own advice is left out when its family is known: the message ends with
    the fixes open to the user)."""
    import re

    families, found = [], []
    for w in why:
        fam = next((f for key, f in _DIAGNOSIS_WORDS if key in w), None)
        text = w.strip().rstrip(".")
        if fam is not None:
            families.append(fam)
            text = re.split(r"\.\s+(?=[A-Z])", text, maxsplit=1)[0]
        found.append(text)
    return list(dict.fromkeys(families)), "; ".join(found)


def _conflict_sources(rules: Rules) -> list[str]:
    out = []
    if rules.competitors:
        out.append(f"competitors ({', '.join(rules.competitors)})")
    if rules.conflicts or rules.conflict_file is not None:
        out.append("members with a declared conflict")
    if rules.max_repeats is not None and rules.history:
        out.append(f"pairs who met more than {rules.max_repeats} time(s) before")
    return out


def _rule_phrase(family: str, rules: Rules, lo: int, hi: int) -> str:
    """The rule of a family, as it holds in this repair (after "while")."""
    if family == "allowed groups":
        own = "the members of the healthy groups stay where they are"
        if rules.pins or rules.allowed_groups or rules.locked_groups:
            own += " and pinned, restricted or locked members stay in their groups"
        return own
    if family == "common meeting slot":
        q = float(rules.slot_quorum)
        who = "every member" if q >= 1.0 else f"at least {q:.0%} of the members"
        return f"{who} of a group can make its meeting slot"
    if family == "group sizes":
        return f"every group has {lo} to {hi} members"
    if family == "cannot-link pairs" or family.startswith("competitors"):
        return f"{_and(_conflict_sources(rules)) or 'conflicting members'} are in different groups"
    if family == "must-link pairs":
        return "the pairs that must be together share a group"
    if family == "no isolated member":
        return f"nobody is the only one of their {', '.join(rules.no_isolated)} in a group"
    return f"the rule '{family}' holds"


def attempt_sentence(plan: str, families: Sequence[str] = (), detail: str = "", *,
                     rules: Rules, lo: int, hi: int) -> str:
    """One sentence: the repair ``plan`` and why it fails (the solver's ``families``, or
    a ``detail`` sentence of its own)."""
    if families:
        return (f"{plan} is impossible while "
                + _and([_rule_phrase(f, rules, lo, hi) for f in families]) + ".")
    detail = detail.strip().rstrip(".")
    words = detail.split(" ", 1)
    if words[0][:1].isupper() and words[0][1:].islower():
        detail = detail[0].lower() + detail[1:]
    return f"{plan} fails: {detail}."


def rules_in_force(rules: Rules) -> str:
    """The hard rules (other than sizes) that can keep a member out of a group, by name."""
    names = [x for x in _conflict_sources(rules)]
    if rules.common_slot:
        names.append("the meeting slot")
    if rules.separate_tiers:
        names.append("tiers")
    if rules.same_region:
        names.append("regions")
    if rules.max_per_group or rules.no_isolated or rules.balance or rules.at_least_one:
        names.append("the rules of the [rules] table")
    return _and(names) or "the hard rules"


def _fixes(families: Sequence[str], rules: Rules, small: Sequence[tuple[str, int]],
           movers: Sequence[str]) -> list[str]:
    out = []
    fam = set(families)
    if "common meeting slot" in fam:
        who = f" of {_ids(movers)}" if movers else ""
        out.append(f"add meeting slots to the availability{who}")
        if float(rules.slot_quorum) >= 1.0:
            out.append("let a share of each group miss the slot (slot_quorum below 1; "
                       "command line: slot_quorum in the [rules] table of --config)")
        else:
            out.append(f"lower the share of each group that must make the slot (slot_quorum, "
                       f"now {float(rules.slot_quorum):.0%}; command line: the [rules] table "
                       "of --config)")
        out.append("drop the common-slot rule (command line: leave out --common-slot)")
    pairs = "cannot-link pairs" in fam
    if rules.competitors and (pairs or any(f.startswith("competitors") for f in fam)):
        out.append("relax the competitor rule (competitors; command line: --competitors)")
    if pairs and (rules.conflicts or rules.conflict_file is not None):
        out.append("drop a declared conflict (the conflicts column or --conflict-file)")
    if "group sizes" in fam:
        out.append("widen the group sizes (min_size, max_size; command line: --min-size, "
                   "--max-size)")
    if "allowed groups" in fam and (rules.pins or rules.allowed_groups or rules.locked_groups):
        out.append("pin or lock fewer members (pins, allowed_groups, locked_groups; command "
                   "line: the [rules] table of --config)")
    if "time limit" in fam:
        out.append("allow more time for the search (time_limit; command line: --time-limit)")
    if small:
        least = min(s for _, s in small)
        out.append(f"keep {_groups([g for g, _ in small])} as "
                   f"{'it is' if len(small) == 1 else 'they are'} with a smaller minimum size "
                   f"(min_size={least}; command line: --min-size {least})")
    out.append("move members by hand (check_move; command line: peermatch move)")
    return list(dict.fromkeys(out))


def failure_message(sentences: Sequence[str], families: Sequence[str], rules: Rules,
                    small: Sequence[tuple[str, int]], movers: Sequence[str]) -> str:
    """The whole message of a failed repair: a line, one line per repair tried, and a
    line of what the user can do."""
    fixes = _fixes(families, rules, small, movers)
    return "\n".join(["No repair obeys every hard rule. Tried:"]
                     + [f"  - {x}" for x in sentences] + ["To repair, any of:"]
                     + [f"  - {x[0].upper()}{x[1:]}." for x in fixes])
