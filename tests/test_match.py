"""End-to-end grouping from tables, checked by the independent validator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import peermatch as pm
from tests.validator import violations


def assert_nothing_missed(res) -> None:
    """No grouping came back: CP-SAT must not find one for any part the solver gave up on."""
    from peermatch.solve import solve

    for part in res.parts:
        if part.solve is not None and not part.solve.success:
            ref = solve(part.compiled.problem, "exact", time_limit=10, seed=0)
            assert not ref.success, f"{part.label or 'the problem'}: a valid grouping exists"


def _fast(**kw):
    # Small inputs and an iteration cap keep the property tests quick and deterministic.
    return dict(time_limit=2.0, seed=0, options={"max_iter": 300}, **kw)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(6, 60), lo=st.integers(2, 5), span=st.integers(0, 4),
       seed=st.integers(0, 10_000), rate=st.floats(0, 0.2))
def test_random_tables_obey_every_rule(n, lo, span, seed, rate):
    hi = lo + span
    df = pm.synth_candidates(n, seed=seed, conflict_rate=rate)
    if n < lo or -(-n // hi) > n // lo:
        with pytest.raises(pm.ConfigError):
            pm.match(df, min_size=lo, max_size=hi, **_fast())
        return
    res = pm.match(df, min_size=lo, max_size=hi, **_fast())
    if res.success:
        assert violations(df, res.groups, lo, hi) == []
        assert res.validate() == []
        # The reported score is the sum of pair affinities inside groups.
        A, lab = res.affinity, res.labels
        ref = sum(A[i, j] for i in range(n) for j in range(i + 1, n) if lab[i] == lab[j])
        assert res.score == pytest.approx(ref, rel=1e-9, abs=1e-9)
    else:
        # Never silent: every candidate is reported unplaced with a reason.
        assert res.status in ("infeasible", "unknown")
        assert len(res.unplaced) == n and (res.unplaced["reason"].str.len() > 0).all()
        assert_nothing_missed(res)


def test_fixed_group_count_and_determinism():
    df = pm.synth_candidates(60, seed=5)
    # An iteration cap makes the run independent of machine speed: bit-for-bit repeatable.
    kw = dict(min_size=5, max_size=7, n_groups=10, time_limit=30, seed=3, method="local",
              options={"max_iter": 2000})
    a = pm.match(df, **kw)
    b = pm.match(df, **kw)
    assert a.success and a.n_groups == 10
    assert violations(df, a.groups, 5, 7, n_groups=10) == []
    assert np.array_equal(a.labels, b.labels)


def test_competitor_clique_is_infeasible_with_reason():
    # 5 candidates of one industry and region cannot fit into at most 4 groups.
    rows = [{"id": f"c{i}", "industry": "Retail", "region": "West", "employees": str(10 + i)}
            for i in range(5)]
    rows += [{"id": f"o{i}", "industry": f"Ind{i}", "region": "West", "employees": "5"}
             for i in range(7)]
    res = pm.match(pd.DataFrame(rows), min_size=3, max_size=4, time_limit=1)
    assert res.status == "infeasible" and not res.success
    assert any("Retail" in r and "West" in r and "5 groups" in r for r in res.reasons)
    assert len(res.unplaced) == 12


def test_competitor_rule_without_region_uses_industry_alone():
    rows = [{"id": f"c{i}", "industry": ["A", "a ", "B", "C"][i % 4], "employees": "3"}
            for i in range(8)]
    df = pd.DataFrame(rows)
    res = pm.match(df, min_size=2, max_size=4, n_groups=4, time_limit=1)
    assert res.success
    assert violations(df, res.groups, 2, 4, competitors=("industry",)) == []
    # "A" and "a " are one industry: its 4 members cannot share 2 groups.
    res = pm.match(df, min_size=2, max_size=4, n_groups=2, time_limit=1)
    assert res.status == "infeasible"
    assert any("4 candidates compete (industry 'A')" in r for r in res.reasons)


def test_explicit_conflicts_are_kept_apart():
    df = pm.synth_candidates(24, seed=11)
    df["industry"] = [f"I{i}" for i in range(24)]  # no competitors: conflicts alone
    df["conflicts"] = ""
    df.loc[0, "conflicts"] = "; ".join(df["id"].iloc[1:6])
    res = pm.match(df, min_size=4, max_size=6, time_limit=1, options={"max_iter": 300})
    assert res.success
    g = res.groups.set_index("id")["group"]
    assert all(g[df["id"][0]] != g[x] for x in df["id"].iloc[1:6])


def test_bad_sizes_are_config_errors():
    df = pm.synth_candidates(20, seed=1)
    with pytest.raises(pm.ConfigError, match="larger than max_size"):
        pm.match(df, min_size=6, max_size=4)
    with pytest.raises(pm.ConfigError, match="fewer than min_size"):
        pm.match(df.head(3), min_size=4, max_size=6)
    with pytest.raises(pm.ConfigError, match="cannot fill 2 groups"):
        pm.match(df, min_size=4, max_size=6, n_groups=2)
    with pytest.raises(pm.ConfigError, match="Widen the size range"):
        pm.match(df.head(11), min_size=6, max_size=6)


def test_bundled_example_groups_cleanly():
    df = pm.load_example()
    # an iteration cap ends the search: every check below holds for any valid grouping
    res = pm.match(pm.example_path(), min_size=8, max_size=12, time_limit=5, seed=0,
                   options={"max_iter": 300})
    assert res.success, res.message
    assert violations(df, res.groups, 8, 12) == []
    stats = res.group_stats
    assert len(stats) == res.n_groups and stats["size"].sum() == len(df)
    s = res.summary()
    assert s["placed"] == 500 and s["unplaced"] == 0 and s["violations"] == []
