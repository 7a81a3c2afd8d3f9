"""encode(): vocabularies, sectors, sizes and user columns against plain-Python references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peermatch.candidates import CandidateTable
from peermatch.errors import ConfigError
from peermatch.features import DEFAULT_REVENUE_PER_EMPLOYEE, ColumnSpec, encode

TERMS = ["growth", "Growth ", "hiring", "  HIRING", "pricing", "exit"]


def make_table(industry, employees=None, revenue=None, goals=None, expertise=None, extra=None,
               names=None, region=None, availability=None):
    n = len(industry)
    ids = np.array([f"m{k}" for k in range(n)], dtype=object)
    cols = {"id": "id"}
    frame = pd.DataFrame({"id": ids, **(extra or {})})
    if names is not None:
        frame["Name"] = names
        cols["name"] = "Name"
    nan = [math.nan] * n
    return CandidateTable(
        frame=frame, source="t.csv", columns=cols, lines=np.arange(2, n + 2), ids=ids,
        industry=np.array(industry, dtype=object),
        employees=np.array(employees if employees is not None else nan, dtype=float),
        revenue=np.array(revenue if revenue is not None else nan, dtype=float),
        goals=goals or [], expertise=expertise or [], availability=availability or [],
        region=None if region is None else np.array(region, dtype=object))


@settings(max_examples=50, deadline=None)
@given(goals=st.lists(st.lists(st.sampled_from(TERMS), max_size=4), min_size=1, max_size=8),
       data=st.data())
def test_shared_vocabulary_multi_hot(goals, data):
    n = len(goals)
    exp = data.draw(st.lists(st.lists(st.sampled_from(TERMS), max_size=4), min_size=n,
                             max_size=n))
    f = encode(make_table(["x"] * n, goals=goals, expertise=exp))
    keys = [" ".join(v.split()).lower() for v in f.vocab]
    assert len(set(keys)) == len(keys)  # one entry per normalised term
    assert f.goals.shape == f.expertise.shape == (n, len(f.vocab))
    for M, lists in ((f.goals, goals), (f.expertise, exp)):
        dense = M.toarray()
        for i in range(n):
            want = {" ".join(t.split()).lower() for t in lists[i]}
            assert {keys[k] for k in np.flatnonzero(dense[i])} == want
            assert set(np.unique(dense[i])) <= {0.0, 1.0}


def test_industry_codes_and_depth():
    t = make_table(["541511", "541211", "Retail", " retail", "4451 Grocery", "54"])
    f = encode(t)
    assert f.industry.tolist() == [0, 1, 2, 2, 3, 4]
    assert f.sector.tolist() == f.industry.tolist()
    f2 = encode(t, industry_depth=2)
    assert f2.sector_labels[f2.sector[0]] == "54"
    assert f2.sector[0] == f2.sector[1] == f2.sector[5] != f2.sector[4]
    assert f2.sector[2] == f2.sector[3] and f2.sector[2] != f2.sector[0]
    f3 = encode(t, industry_depth=3)
    assert f3.sector[0] == f3.sector[1] and f3.sector[5] != f3.sector[0]
    f4 = encode(t, industry_depth=4)
    assert f4.sector[0] != f4.sector[1]
    with pytest.raises(ConfigError, match="industry_depth"):
        encode(t, industry_depth=0)


def test_sizes_employees_revenue_missing():
    emp = [100, math.nan, math.nan, 0, -3]
    rev = [math.nan, 2e7, math.nan, 5e6, math.nan]
    f = encode(make_table(["x"] * 5, emp, rev))
    assert f.revenue_per_employee == DEFAULT_REVENUE_PER_EMPLOYEE
    want = [2.0, math.log10(2e7 / DEFAULT_REVENUE_PER_EMPLOYEE), 0.0, 0.0, 0.0]
    np.testing.assert_allclose(f.log_size, want)
    assert f.size_known.tolist() == [True, True, False, True, False]
    assert f.size_source.tolist() == [1, 2, 0, 1, 0]
    assert not np.isnan(f.log_size).any()
    assert f.size_text.tolist()[:3] == ["100 employees", "revenue 20M", "size unknown"]


def test_revenue_per_employee_estimated_from_data():
    emp = [10, 100, 1000, math.nan]
    rev = [1e6, 2e7, 5e7, 1e8]  # ratios 1e5, 2e5, 5e4: geometric median 1e5
    f = encode(make_table(["x"] * 4, emp, rev))
    assert f.revenue_per_employee == pytest.approx(1e5)
    assert f.log_size[3] == pytest.approx(3.0)
    assert encode(make_table(["x"] * 4, emp, rev), revenue_per_employee=1e6).log_size[3] == 2.0


def test_names_regions_slots():
    t = make_table(["x"] * 3, names=["Ana  Q", "", "Ben"], region=["West", "", "west "],
                   availability=[["Mon AM", "mon am"], [], ["Tue PM"]])
    f = encode(t)
    assert f.names.tolist() == ["Ana Q", "m1", "Ben"]
    assert f.region.tolist() == [0, -1, 0] and f.region_labels == ["West"]
    assert f.tier.tolist() == [-1, -1, -1]
    assert f.availability.toarray().tolist() == [[1, 0], [0, 0], [0, 1]]
    n0 = encode(make_table(["x"]))
    assert n0.goals.shape == (1, 0) and n0.names.tolist() == ["m0"]


def test_user_columns():
    t = make_table(["x"] * 4, extra={"tenure": ["1", "", " 3 ", "1,000"],
                                      "club": ["A", "a ", "", "B"]})
    f = encode(t, specs=[ColumnSpec("tenure"), ColumnSpec("club", kind="categorical")])
    ten, club = f.columns["tenure"], f.columns["club"]
    assert ten.values.tolist() == [1, 0, 3, 1000] and ten.known.tolist() == [1, 0, 1, 1]
    assert ten.span == 999
    assert club.known.tolist() == [1, 1, 0, 1]
    assert club.values[0] == club.values[1] != club.values[3]


def test_user_column_errors_name_column_and_line():
    t = make_table(["x"] * 3, extra={"tenure": ["1", "abc", "inf"]})
    with pytest.raises(ConfigError) as exc:
        encode(t, specs=[ColumnSpec("tenure")])
    msg = str(exc.value)
    assert "'tenure'" in msg and "line 3" in msg and "'abc'" in msg and "line 4" in msg
    with pytest.raises(ConfigError, match="'missing'.*available columns"):
        encode(t, specs=[ColumnSpec("missing")])
    with pytest.raises(ConfigError, match="scale"):
        ColumnSpec("c", kind="categorical", scale=2.0)
    with pytest.raises(ConfigError, match="Unknown key"):
        ColumnSpec.from_dict({"name": "c", "wieght": 1})


def test_numeric_column_whose_range_overflows_is_refused():
    # Its pair differences would be infinite, and the affinity NaN.
    t = make_table(["x"] * 3, extra={"tenure": ["-1e308", "1e308", "0"]})
    with pytest.raises(ConfigError, match="'tenure'.*spans more than the largest float"):
        encode(t, specs=[ColumnSpec("tenure")])
    t = make_table(["x"] * 2, extra={"tenure": ["-1e307", "1e307"]})
    assert encode(t, specs=[ColumnSpec("tenure")]).columns["tenure"].span == 2e307
