"""The shared maths of peermatch.core against plain-loop references."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from peermatch import core


def _random_case(seed: int, n: int = 37, m: int = 5, unplaced: bool = True):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    labels = rng.integers(0, m, size=n)
    if unplaced:
        labels[rng.random(n) < 0.15] = -1
    return A, labels.astype(np.int64), m


class _Blocks:
    """An affinity object that only answers blocks (as FeatureAffinity does)."""

    def __init__(self, A):
        self._A = A
        self.shape = A.shape

    def block(self, rows, cols=None):
        rows = np.asarray(rows, dtype=np.intp)
        cols = rows if cols is None else np.asarray(cols, dtype=np.intp)
        return self._A[np.ix_(rows, cols)].copy()


# ------------------------------------------------------------------ references


def _ref_pairs(A, labels):
    total = 0.0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] >= 0 and labels[i] == labels[j]:
                total += A[i, j]
    return total


def _ref_fits(A, labels, m):
    fits = np.zeros(len(labels))
    for g in range(m):
        mem = np.flatnonzero(labels == g)
        if len(mem) > 1:
            fits[mem] = A[np.ix_(mem, mem)].sum(axis=1) / (len(mem) - 1)
    return fits


def _ref_by_groups(A, labels, m):
    total = 0.0
    for g in range(m):
        mem = np.flatnonzero(labels == g)
        if len(mem) > 1:
            total += 0.5 * float(A[np.ix_(mem, mem)].sum())
    return total


def _ref_names(existing, m):
    names = list(existing)
    k = 1
    while len(names) < m:
        if str(k) not in existing:
            names.append(str(k))
        k += 1
    return names


def _ref_natural(name):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.casefold())
            for t in re.findall(r"\d+|\D+", str(name))] or [(2, 0, "")]


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("seed", range(4))
def test_block_dense_and_object_agree(seed):
    A, _, _ = _random_case(seed)
    rows = np.array([3, 1, 1, 20])
    cols = np.array([0, 5])
    expect = np.array([[A[r, c] for c in cols] for r in rows])
    assert np.array_equal(core.block(A, rows, cols), expect)
    assert np.array_equal(core.block(_Blocks(A), rows, cols), expect)
    assert np.array_equal(core.block(A, [2, 4]), A[np.ix_([2, 4], [2, 4])])
    assert core.block(A, []).shape == (0, 0)


@pytest.mark.parametrize("seed", range(4))
def test_group_members(seed):
    _, labels, m = _random_case(seed)
    got = core.group_members(labels, m)
    assert len(got) == m
    for g in range(m):
        assert got[g].tolist() == [i for i in range(len(labels)) if labels[i] == g]


@pytest.mark.parametrize("seed", range(6))
def test_pair_sums_match_the_loop(seed):
    A, labels, m = _random_case(seed)
    ref = _ref_pairs(A, labels)
    assert math.isclose(core.pair_total(A, labels), ref, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(core.pair_total(_Blocks(A), labels), ref, rel_tol=1e-12,
                        abs_tol=1e-12)
    # the group-block forms are bit-identical to their reference arithmetic
    assert core.pair_total_by_groups(A, labels, m) == _ref_by_groups(A, labels, m)
    assert core.pair_total_by_groups(_Blocks(A), labels, m) == _ref_by_groups(A, labels, m)
    per = core.group_pair_sums(A, labels, m)
    for g in range(m):
        mem = np.flatnonzero(labels == g)
        expect = 0.5 * float(A[np.ix_(mem, mem)].sum()) if len(mem) > 1 else 0.0
        assert per[g] == expect
        assert core.group_pair_sum(A, mem) == expect


def test_pair_total_edge_cases():
    A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    none = np.array([-1, -1, -1])
    assert core.pair_total(A, none) == 0.0
    assert core.pair_total(_Blocks(A), none) == 0.0
    assert core.pair_total_by_groups(A, none, 0) == 0.0
    assert core.pair_total(A, np.array([0, 0, 0])) == 6.0
    assert core.pair_total(np.zeros((0, 0)), np.zeros(0, dtype=np.int64)) == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_same_group_pairs_lists_every_pair_once(seed):
    _, labels, _ = _random_case(seed)
    rows, cols = core.same_group_pairs(labels)
    got = sorted(zip(rows.tolist(), cols.tolist(), strict=True))
    expect = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))
              if labels[i] >= 0 and labels[i] == labels[j]]
    assert got == expect


@pytest.mark.parametrize("seed", range(6))
def test_member_fits_bit_identical_to_the_loop(seed):
    A, labels, m = _random_case(seed)
    ref = _ref_fits(A, labels, m)
    assert np.array_equal(core.member_fits(A, labels, m), ref)
    assert np.array_equal(core.member_fits(_Blocks(A), labels, m), ref)
    # meaning: mean affinity to the rest of the group
    for i in range(len(labels)):
        mates = [j for j in range(len(labels)) if j != i and labels[j] == labels[i] >= 0]
        expect = sum(A[i, j] for j in mates) / len(mates) if mates else 0.0
        assert math.isclose(ref[i], expect, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 12, 13, 24, 25, 95, 100, 1001])
@pytest.mark.parametrize("lo, hi", [(1, 1), (2, 3), (8, 12), (5, 5)])
def test_group_count_range(n, lo, hi):
    counts = [k for k in range(0, n + 1) if k * lo <= n <= k * hi]
    fewest, most = core.group_count_range(n, lo, hi)
    assert fewest == math.ceil(n / hi) == core.fewest_groups(n, hi)
    assert most == n // lo
    if counts:
        assert (fewest, most) == (min(counts), max(counts))
    else:
        assert fewest > most


@pytest.mark.parametrize("existing, m", [
    ((), 0), ((), 3), (("2",), 3), (("Alpha", "1"), 4), (("3", "x", "4"), 2),
    (("10", "2"), 5),
])
def test_group_names(existing, m):
    assert core.group_names(m, existing) == _ref_names(existing, m)


def test_fill_group_names_takes_the_smallest_free_numbers():
    assert core.fill_group_names([None, None]) == ["1", "2"]
    assert core.fill_group_names(["1", None, "3", None]) == ["1", "2", "3", "4"]
    assert core.fill_group_names([]) == []


def test_natural_key():
    names = ["10", "2", "1", "b", "B2", "b10", "B9", "", "Alpha", "group 11", "group 3"]
    assert [core.natural_key(x) for x in names] == [_ref_natural(x) for x in names]
    assert sorted(names, key=core.natural_key) == [
        "1", "2", "10", "Alpha", "b", "B2", "B9", "b10", "group 3", "group 11", ""]
