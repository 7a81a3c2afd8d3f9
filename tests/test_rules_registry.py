"""The rule registry drives every entry point: compile, diagnose, check, describe, settings."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from peermatch.candidates import read_candidates
from peermatch.config import rules_from_dict
from peermatch.errors import ConfigError
from peermatch.rules import (
    REGISTRY,
    RULE_FAMILIES,
    Family,
    Rules,
    Setting,
    Violation,
    build_problem,
    check_violations,
    diagnose,
    register,
    rule_families,
)

BUILT_IN = ["sizes", "competitors", "conflicts", "max_repeats", "together", "placement",
            "max_per_group", "at_least_one", "balance", "spread", "no_isolated",
            "separate_tiers", "same_region", "common_slot"]


def _cap(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ConfigError(f"The 'toy_cap' parameter of Rules must be an int >= 0. Got {v!r} "
                          "instead.")
    return v


class Toy(Family):
    """At most ``toy_cap`` of the first two rows in a group (a group sum)."""

    key = "toy"
    order = 999
    settings = ("toy_cap",)
    declares = (Setting("toy_cap", None, _cap),)

    def describe(self, rules, sizes):
        return f"At most {rules.toy_cap} of the first two per group"

    def compile(self, b):
        if self.active(b.rules):
            b.add_sum(self.key, b.indicator([0, 1]), f"toy cap {b.rules.toy_cap}",
                      hi=float(b.rules.toy_cap))

    def diagnose(self, span, found):
        return ["toy diagnosis"] if span.compiled.rules.toy_cap is not None else []

    def check(self, compiled, labels):
        if compiled.rules.toy_cap is None:
            return []
        return [Violation(self.key, None, (), "toy check")]


@pytest.fixture
def toy():
    register(Toy)
    try:
        yield REGISTRY.get("toy")
    finally:
        REGISTRY.remove("toy")


@pytest.fixture
def table():
    return read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("wxyz"),
                                         "employees": ["1", "2", "3", "4"]}))


def test_registry_lists_the_families_in_order():
    # the built-in families first, in their order; families added as modules of
    # rules/families/ come after them (their order numbers start above 130)
    assert REGISTRY.keys()[:len(BUILT_IN)] == BUILT_IN
    assert all(f.order > 130 for f in list(REGISTRY)[len(BUILT_IN):])
    assert RULE_FAMILIES is REGISTRY
    assert [f.order for f in REGISTRY] == sorted(f.order for f in REGISTRY)
    assert "competitors" in REGISTRY and REGISTRY.get("competitors") is REGISTRY[1]


def test_a_registered_family_reaches_every_entry_point(toy, table):
    rules = Rules(toy_cap=1)
    assert rules.toy_cap == 1 and Rules().toy_cap is None
    assert rule_families(rules)[-1] == ("toy", "At most 1 of the first two per group")
    assert "toy" not in dict(rule_families(Rules()))
    c = build_problem(table, np.zeros((4, 4)), min_size=2, max_size=2, rules=rules)
    assert c.sum_rules == ["toy"]
    assert diagnose(c) == ["toy diagnosis"]
    found = check_violations(c, np.array([0, 0, 1, 1]))
    assert [(v.rule, v.message) for v in found] == [
        ("toy", "group 1 breaks toy cap 1 (2 members, at most 1)"), ("toy", "toy check")]
    assert [v.rule for v in check_violations(c, np.array([0, 1, 0, 1]))] == ["toy"]


def test_declared_settings_work_like_fields(toy):
    assert rules_from_dict({"toy_cap": 2}).toy_cap == 2
    assert replace(Rules(toy_cap=1), toy_cap=3).toy_cap == 3
    assert Rules(toy_cap=1).to_dict()["toy_cap"] == 1
    assert Rules().to_dict()["toy_cap"] is None
    assert list(Rules().to_dict()) == Rules.setting_names()
    assert "toy_cap" in Rules.setting_names()
    with pytest.raises(ConfigError, match="toy_cap"):
        Rules(toy_cap=-1)
    with pytest.raises(ConfigError, match="toy_cap"):
        rules_from_dict({"toy_cap": "x"})


def test_removing_a_family_forgets_its_settings(toy):
    REGISTRY.remove("toy")
    try:
        with pytest.raises(TypeError):
            Rules(toy_cap=1)
        with pytest.raises(ConfigError, match="unknown key"):
            rules_from_dict({"toy_cap": 1})
        assert not hasattr(Rules(), "toy_cap")
    finally:
        register(Toy)


def test_registering_twice_or_badly_is_refused(toy):
    with pytest.raises(ValueError, match="already registered"):
        register(Toy)
    with pytest.raises(ValueError, match="phase"):
        register(Family("odd", (), lambda r, sz: "odd", phase="later"))
    with pytest.raises(ValueError, match="already declared"):
        register(Family("dup", (), lambda r, sz: "dup", declares=(Setting("pins"),)))
    assert "odd" not in REGISTRY and "dup" not in REGISTRY


def test_old_rule_family_form_still_describes():
    fam = Family("x", ("same_region",), lambda r, sz: "X")
    assert not fam.active(Rules()) and fam.active(Rules(same_region=True))
    assert fam.describe(Rules(), None) == "X"


def test_to_dict_is_unchanged_without_declared_settings():
    assert "extra" not in Rules().to_dict()
    assert list(Rules().to_dict()) == [n for n in Rules.setting_names()]


def test_every_family_module_is_found_and_registers_one_family():
    from peermatch.rules import families

    modules = {f"peermatch.rules.families.{m}" for m in families.load()}
    assert sorted(type(f).__module__ for f in REGISTRY) == sorted(modules)
