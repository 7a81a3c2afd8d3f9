"""The solve plan: which engines run, decided from the problem, method and options alone.

Nothing here solves anything: the plan is a pure function.
"""

import warnings

import numpy as np
import pytest

from peermatch.budget import SHARES, Budget
from peermatch.errors import ConfigError
from peermatch.problem import GroupSum, Problem
from peermatch.solve import METHODS, Plan, SolverOptionWarning
from peermatch.solve.plan import (
    DECOMPOSE_N,
    EXACT_MAX_N,
    OPTIONS,
    RETIRED,
    TUNING,
    check_options,
    plan,
    warn_unused,
)


def _p(n, **kw):
    kw.setdefault("min_size", 4)
    kw.setdefault("max_size", 6)
    return Problem(np.zeros((n, n)), **kw)


def test_auto_small_is_exact():
    p = plan(_p(EXACT_MAX_N, n_groups=3), "auto")
    assert (p.engine, p.search, p.start, p.floor) == ("exact", "exact CP-SAT", "CP-SAT", "none")
    assert not p.decompose and not p.compile_fallback
    assert f"n = {EXACT_MAX_N} <= {EXACT_MAX_N}" in p.reasons["search"]


def test_auto_exact_cutoff_is_an_option():
    assert plan(_p(20, n_groups=4), "auto", {"exact_max_n": 20}).engine == "exact"
    assert plan(_p(20, n_groups=4), "auto").engine == "local"


def test_auto_side_rules_go_to_the_population_search_and_hybrid_on_request():
    gs = GroupSum(coef=np.ones(40), hi=5, name="cap")
    p = plan(_p(40, n_groups=8, group_sums=[gs]), "auto")
    assert (p.engine, p.search) == ("local", "population")
    assert plan(_p(40, n_groups=8, must_link=[(0, 1)]), "auto").engine == "local"
    p = plan(_p(40, n_groups=8, group_sums=[gs]), "hybrid")
    assert (p.engine, p.search) == ("hybrid", "hybrid LNS")


def test_local_population_or_tabu():
    assert plan(_p(40, n_groups=8), "local").search == "population"
    p = plan(_p(40, n_groups=8), "local", {"tuning": {"population": 1}})
    assert p.search == "tabu" and "population = 1 < 2" in p.reasons["search"]


def test_decomposition_from_size_and_option():
    big = _p(DECOMPOSE_N, n_groups=DECOMPOSE_N // 5)
    p = plan(big, "local")
    assert p.decompose and p.at_scale and p.start == "streaming construction"
    assert f"n = {DECOMPOSE_N:,} >= {DECOMPOSE_N:,}" in p.reasons["search"]
    assert not plan(big, "local", {"decompose": False}).decompose
    assert plan(_p(40, n_groups=8), "hybrid", {"decompose": True}).search == "decomposition"
    # exact never decomposes, but the count screening still sees the size
    p = plan(_p(DECOMPOSE_N), "exact")
    assert not p.decompose and p.at_scale


def test_executor():
    big = _p(DECOMPOSE_N, n_groups=DECOMPOSE_N // 5)
    assert plan(big, "local", {"threads": 1}).executor == "serial"
    assert plan(big, "local", {"threads": 3}).executor == "threads (3)"
    assert plan(big, "local", scheduler="local:2").executor == "dask"
    small = plan(_p(40, n_groups=8), "local", scheduler="local:2")
    assert small.executor == "serial" and "driver" in small.reasons["executor"]


def test_count():
    assert plan(_p(40, n_groups=8), "local").count == "fixed, 8"
    assert plan(_p(40), "local").count == "screened in 7..10"
    assert plan(_p(40), "local", init=np.zeros(40, dtype=int)).count == "from the warm start"
    assert plan(_p(40), "local", init=np.zeros(40, dtype=int)).start == "warm start"
    assert plan(_p(9, min_size=5, max_size=6), "local").count == "none fits"


def test_floor_phase():
    p = plan(_p(40, n_groups=8), "local", fairness=0.5)
    assert p.floor_phase and "50%" in p.reasons["floor"]
    p = plan(_p(12, n_groups=3), "auto", fairness=0.5)
    assert p.floor == "in the CP-SAT model" and not p.floor_phase


def test_compile_fallback_only_when_timed():
    assert plan(_p(40, n_groups=8), "local").compile_fallback
    assert not plan(_p(40, n_groups=8), "local", {"max_iter": 100}).compile_fallback


def _tuned(**constants) -> dict:
    return {"tuning": constants}


def test_unused_options_are_named():
    p = plan(_p(40, n_groups=8), "local", {**_tuned(lns_share=0.2), "max_iter": 10})
    assert p.unused == ("lns_share",)
    assert plan(_p(40, n_groups=8), "hybrid", _tuned(lns_share=0.2)).unused == ()
    assert plan(_p(12, n_groups=3), "exact", {**_tuned(sub_size=50), "max_iter": 9}).unused == (
        "sub_size",)
    assert plan(_p(40, n_groups=8), "local", {"threads": 2}).unused == ("threads",)
    # the floor phase re-runs the local search: population options are read
    assert plan(_p(40, n_groups=8), "hybrid", _tuned(population=4), fairness=0.5).unused == ()
    with pytest.warns(SolverOptionWarning, match="lns_share"):
        warn_unused(plan(_p(40, n_groups=8), "local", _tuned(lns_share=0.2)),
                    _tuned(lns_share=0.2))


def test_used_options_do_not_warn():
    opts = {**_tuned(population=4), "max_iter": 10}
    p = plan(_p(40, n_groups=8), "local", opts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_unused(p, opts)


def test_options_are_validated():
    with pytest.raises(ConfigError, match="'lns_share' tuning constant must be a number in"):
        check_options(_tuned(lns_share="a lot"))
    with pytest.raises(ConfigError, match="'max_iter' option must be a number >= 1"):
        plan(_p(40, n_groups=8), "local", {"max_iter": 0})
    with pytest.raises(ConfigError, match="fairness_rounds.*0 skips"):
        check_options(_tuned(fairness_rounds=-1))
    with pytest.raises(ConfigError, match="Unknown tuning constant.*'pool_mode'.*Known: "):
        plan(_p(40, n_groups=8), "local", _tuned(pool_mode="all"))
    with pytest.raises(ConfigError, match="'tuning' option must be a dict"):
        check_options({"tuning": [("regroup", 0)]})


def test_few_options_the_rest_are_tuning_constants():
    # what a caller sets, and the search's constants, are two tables with no name in both
    assert set(OPTIONS) == {"verbose", "max_iter", "threads", "decompose", "exact_max_n",
                            "fairness_share", "tuning"}
    assert not set(OPTIONS) & set(TUNING) and not set(RETIRED) & (set(OPTIONS) | set(TUNING))


def test_a_tuning_name_at_the_top_level_warns_and_is_not_read():
    p = _p(40, n_groups=8)
    with pytest.warns(SolverOptionWarning, match=r"regroup.*'tuning': \{'regroup'"):
        warn_unused(plan(p, "local", {"regroup": 0.0}), {"regroup": 0.0})
    with pytest.warns(SolverOptionWarning, match="pool_mode': sub-problems draw a random pool"):
        warn_unused(plan(p, "local", {"pool_mode": "all"}), {"pool_mode": "all"})
    from peermatch.solve.plan import setting

    assert setting({"regroup": 0.0}, "regroup") == setting({}, "regroup") > 0


def test_plan_prints_the_tuning_it_was_given():
    text = str(plan(_p(40, n_groups=8), "local", _tuned(regroup=0.0, population=4)))
    assert "tuning:   population=4, regroup=0.0" in text
    assert "tuning:" not in str(plan(_p(40, n_groups=8), "local", {"max_iter": 5}))


def test_unknown_method():
    with pytest.raises(ConfigError, match="Valid methods"):
        plan(_p(40), "simplex")
    assert METHODS == ("auto", "exact", "local", "hybrid")


def test_plan_prints_each_part():
    text = str(plan(_p(40, n_groups=8), "auto", _tuned(lns_share=0.3)))
    assert text.splitlines()[0] == "plan: method 'auto' -> 'local'"
    for part in ("count:", "start:", "search:", "floor:", "executor:"):
        assert part in text
    assert "not used by this plan: lns_share" in text


def test_plan_is_pure_and_comparable():
    a = plan(_p(40, n_groups=8), "local")
    b = plan(_p(40, n_groups=8), "local")
    assert isinstance(a, Plan) and a == b


def test_shares_are_fractions():
    assert all(0 < v <= 1 for v in SHARES.values())
    b = Budget(10.0)
    assert b.head(0.5).deadline <= b.deadline
    assert b.until(0.5) <= b.deadline


def test_result_keeps_the_plan():
    from peermatch.solve import solve

    A = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 5], [1, 1, 5, 0]], dtype=float)
    res = solve(Problem(A, min_size=2, max_size=2, n_groups=2), "exact", time_limit=5)
    assert res.plan.search == "exact CP-SAT" and "search:" in str(res.plan)


def test_solve_takes_a_budget():
    from peermatch.solve import solve

    A = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 5], [1, 1, 5, 0]], dtype=float)
    res = solve(Problem(A, min_size=2, max_size=2, n_groups=2), "exact",
                budget=Budget(5.0))
    assert res.status == "optimal"


def test_with_bounds_does_not_mutate():
    p = _p(12)
    q = p.with_bounds([(4, 4), (4, 4), (4, 4)])
    assert p.bounds is None and p.n_groups is None
    assert q.n_groups == 3 and q.affinity is p.affinity
    with pytest.raises(ConfigError):
        p.with_bounds([(3, 2)])


def test_solve_warns_about_an_option_its_plan_does_not_read():
    from peermatch.solve import solve

    p = Problem(np.ones((20, 20)), min_size=4, max_size=6, n_groups=4)
    with pytest.warns(SolverOptionWarning, match="not used by this plan.*lns_share"):
        res = solve(p, "local", time_limit=5, options={**_tuned(lns_share=0.2), "max_iter": 50})
    assert res.plan.unused == ("lns_share",)


def test_outcome_reports_only_what_is_set():
    from peermatch.solve import Outcome

    o = Outcome("feasible", labels=np.zeros(3, dtype=np.int64), n_groups=1, method="local")
    assert o.found and o.extras() == {}
    o = o.replace(compile_wait=0.5, interrupted=False, not_a_field=1)
    assert o.extras() == {"compile_wait": 0.5, "interrupted": False}


def test_setting_defaults_come_from_the_table():
    from peermatch.solve.plan import setting

    assert setting({}, "lns_share") == SHARES["hybrid.repair"]
    assert setting({}, "screen_share") == SHARES["solve.screen"]
    assert setting(_tuned(pool=3), "pool") == 3 and setting({}, "pool") == 12


def test_with_affinity_shares_the_rules():
    p = _p(12, n_groups=3, cannot_link=[(0, 1)])
    q = p.with_affinity(np.ones((12, 12)) - np.eye(12))
    assert q.cannot_link is p.cannot_link and q.objective(np.repeat(np.arange(3), 4)) == 18.0
    assert float(p.affinity.sum()) == 0.0


def test_problem_is_frozen():
    import dataclasses

    p = _p(12, n_groups=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.bounds = np.array([[4, 4]] * 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.affinity = np.ones((12, 12))
    q = p.with_groups(3)
    assert q.bounds.tolist() == [[4, 6]] * 3 and p.bounds is None


def test_replace_checks_a_new_affinity_but_not_the_shared_one(monkeypatch):
    import dataclasses

    import peermatch.problem as problem_mod

    p = _p(12, cannot_link=[(0, 1)])
    calls = []
    real = problem_mod._check_matrix
    monkeypatch.setattr(problem_mod, "_check_matrix", lambda A: calls.append(A) or real(A))
    q = dataclasses.replace(p, cannot_link=[(2, 3)], n_groups=3)
    assert calls == [] and q.affinity is p.affinity
    assert q.cannot_link.tolist() == [[2, 3]] and q.n_groups == 3
    bad = np.zeros((12, 12))
    bad[0, 1] = 1.0
    with pytest.raises(ConfigError, match="symmetric"):
        dataclasses.replace(p, affinity=bad)
    assert len(calls) == 1
