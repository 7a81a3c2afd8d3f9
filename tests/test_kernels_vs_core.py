"""The compiled kernels keep their own copies of the shared maths: checked against
peermatch.core (pair sums, member fits, move and swap gains) on random instances."""

from __future__ import annotations

import numpy as np
import pytest

from peermatch import core

pytest.importorskip("numba")

from peermatch.solve import _kernels as K  # noqa: E402

SEEDS = range(6)
RTOL = 1e-12


def _case(seed: int, n: int = 41, m: int = 6):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    p = rng.integers(0, m, size=n).astype(np.int64)
    p[:m] = np.arange(m)  # no empty group
    return A, p, m


def _sums(A, p, m):
    """The kernels' ``W[u, g]`` (affinity of ``u`` to group ``g``) and group sizes."""
    W = np.zeros((len(p), m))
    size = np.zeros(m, dtype=np.int64)
    K.init_sizes(A, np.ones(len(p), dtype=np.int64), p, W, size)
    return W, size


def _close(a, b, scale):
    return abs(a - b) <= RTOL * max(1.0, scale)


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_is_the_pair_total(seed):
    A, p, m = _case(seed)
    scale = float(np.abs(A).sum())
    assert _close(K.objective(A, p), core.pair_total(A, p), scale)
    assert _close(K.objective(A, p), core.pair_total_by_groups(A, p, m), scale)


@pytest.mark.parametrize("seed", SEEDS)
def test_group_sums_give_the_member_fits(seed):
    A, p, m = _case(seed)
    W, size = _sums(A, p, m)
    assert np.array_equal(size, np.bincount(p, minlength=m))
    own = W[np.arange(len(p)), p]
    others = size[p] - 1
    fits = np.divide(own, others, out=np.zeros_like(own), where=others > 0)
    np.testing.assert_allclose(fits, core.member_fits(A, p, m), rtol=RTOL, atol=1e-12)
    # each group's pair sum is half its members' sums to the group
    halves = np.bincount(p, weights=own, minlength=m) / 2
    np.testing.assert_allclose(halves, core.group_pair_sums(A, p, m), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_move_gain_and_update_agree_with_the_pair_total(seed):
    A, p, m = _case(seed)
    rng = np.random.default_rng(100 + seed)
    W, size = _sums(A, p, m)
    scale = float(np.abs(A).sum())
    for _ in range(10):
        u = int(rng.integers(len(p)))
        h = int(rng.integers(m))
        g = int(p[u])
        if h == g:
            continue
        before = core.pair_total(A, p)
        gain = W[u, h] - W[u, g]
        K._move_lean(A, np.ones(len(p), dtype=np.int64), W, size, p, u, h)
        assert p[u] == h
        assert _close(core.pair_total(A, p) - before, gain, scale)
        W_new, size_new = _sums(A, p, m)
        np.testing.assert_allclose(W, W_new, rtol=RTOL, atol=1e-12)
        assert np.array_equal(size, size_new)


@pytest.mark.parametrize("seed", SEEDS)
def test_best_swap_gain_agrees_with_the_pair_total(seed):
    A, p, m = _case(seed, n=23, m=4)
    base = core.pair_total(A, p)
    best = -np.inf
    for u in range(len(p)):
        for v in range(u + 1, len(p)):
            if p[u] == p[v]:
                continue
            q = p.copy()
            q[u], q[v] = p[v], p[u]
            best = max(best, core.pair_total(A, q) - base)
    got = K.swap_scan_rate(A, p, m, 1)
    assert _close(got, best, float(np.abs(A).sum()))
