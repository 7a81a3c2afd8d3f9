"""Compiled (numba) kernels of the local search: feasibility-preserving iterated tabu search.

Internal module, imported lazily by :mod:`peermatch.solve.local` (importing numba and
loading the compiled kernels is deferred until a local search actually runs, so
``import peermatch`` stays fast). Kernels are compiled on first use and cached on disk
(``cache=CACHE``).

Everything works on must-link *units* (see :mod:`peermatch.solve._prep`). Two tuples
travel through every kernel:

The search kernel exists in two variants built from one source by
:func:`_make_tabu_run`: ``tabu_run_rules`` (every rule checked) and ``tabu_run_sizes``
(group sizes only; the rule checks are pruned before compilation, so it compiles in
about a third of the time). Each has a single specialisation: callers pass float64
``A``, int64 labels/sizes and a Python bool.

``data`` (read only)
    ``A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
    slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags``
``state`` (updated in place)
    ``p, W, size, C, S, SC, NS, best_p, tabu, ctr, fv, dr, dk, Dt, pinned``

with ``W[u, g] = sum of A[u, v] over units v in group g`` (so a move of ``u`` from ``g``
to ``h`` gains ``W[u, h] - W[u, g]`` and a swap of ``u`` in ``g`` with ``v`` in ``h``
gains ``W[u, h] - W[u, g] + W[v, g] - W[v, h] - 2 A[u, v]``), ``C[u, g]`` the number of
cannot-link partners of ``u`` in ``g``, ``S[r, g]`` the value of group sum ``r`` in
``g``, ``SC[g, s]`` the members of ``g`` available at slot ``s`` and ``NS[k, g]`` the
members of ``g`` with no-singleton label key ``k``. Every applied move keeps all of
them, and therefore every hard rule, satisfied.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._jitcfg import CACHE

# ctr (int64) slots
IT, LAST_IMP, N_PERTURB, STRENGTH, FAILS, BEST_IT = 0, 1, 2, 3, 4, 5
# fv (float64) slots
F, BEST_F, ROUND_BEST = 0, 1, 2
# params (float64) slots
P_TMIN, P_TMAX, P_DEPTH, P_SMIN, P_SMAX, P_AMIN, P_REGROUP = 0, 1, 2, 3, 4, 5, 6

_TOL = 1e-9


@njit(cache=CACHE, nogil=True)
def seed_rng(seed):
    """Seed numba's own generator (per thread)."""
    np.random.seed(seed)


@njit(cache=CACHE, nogil=True)
def _randint(n):
    """Uniform integer in 0..n-1 (cheaper to compile than np.random.randint)."""
    k = np.int64(np.random.random() * n)
    return k if k < n else n - 1


@njit(cache=CACHE, nogil=True)
def _need(q, size):
    # ceil(q * size) with a tolerance for float noise
    x = q * size - 1e-9
    c = np.int64(x)
    if c < x:
        c += 1
    return c


@njit(cache=CACHE, nogil=True)
def init_state(data, state):
    """Fill W, size, C, S, SC, NS from the labels ``p`` (O(nu^2 + rules))."""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    p, W, size, C, S, SC, NS = state[0], state[1], state[2], state[3], state[4], state[5], state[6]
    nu, m = W.shape
    # explicit loops: slice assignments would compile one implementation per array type
    for u in range(nu):
        for g in range(m):
            W[u, g] = 0.0
            C[u, g] = 0
    for g in range(m):
        size[g] = 0
        for r in range(S.shape[0]):
            S[r, g] = 0.0
        for s in range(SC.shape[1]):
            SC[g, s] = 0
        for k in range(NS.shape[0]):
            NS[k, g] = 0
    for u in range(nu):
        for v in range(nu):
            W[u, p[v]] += A[u, v]
    for u in range(nu):
        g = p[u]
        size[g] += w[u]
        for k in range(conf_ptr[u], conf_ptr[u + 1]):
            C[conf_idx[k], g] += 1
        for k in range(gs_ptr[u], gs_ptr[u + 1]):
            S[gs_row[k], g] += gs_coef[k]
        for s in range(slot_av.shape[1]):
            SC[g, s] += slot_av[u, s]
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            NS[ns_idx[k], g] += ns_cnt[k]


@njit(cache=CACHE, nogil=True)
def init_sizes(A, w, p, W, size):
    """init_state for size-only problems: W and sizes from the labels ``p``."""
    nu, m = W.shape
    for u in range(nu):
        for g in range(m):
            W[u, g] = 0.0
    for g in range(m):
        size[g] = 0
    for u in range(nu):
        size[p[u]] += w[u]
        Au = A[u]
        for v in range(nu):
            W[v, p[u]] += Au[v]


@njit(cache=CACHE, nogil=True)
def objective(A, p):
    """Sum of A over unit pairs in the same group."""
    nu = len(p)
    f = 0.0
    for u in range(nu):
        for v in range(u + 1, nu):
            if p[u] == p[v]:
                f += A[u, v]
    return f


@njit(cache=CACHE, nogil=True)
def _adjacent(conf_ptr, conf_idx, u, v):
    for k in range(conf_ptr[u], conf_ptr[u + 1]):
        if conf_idx[k] == v:
            return True
    return False


@njit(cache=CACHE, nogil=True)
def _slot_ok(SC, slot_av, quorum, g, new_size, a, sign_a, b, sign_b):
    """Does group g keep a common slot after adding sign_a*av[a] + sign_b*av[b]?"""
    need = _need(quorum, new_size)
    if need <= 0:
        return True
    for s in range(SC.shape[1]):
        c = SC[g, s]
        if a >= 0:
            c += sign_a * slot_av[a, s]
        if b >= 0:
            c += sign_b * slot_av[b, s]
        if c >= need:
            return True
    return False


@njit(cache=CACHE, nogil=True)
def profile_ok(size, lo, hi, g, h, d):
    """Free-label mode: can the sizes, with ``d`` moved from g to h, be matched to bounds?

    Groups are then unlabelled: a grouping is feasible when its multiset of sizes can be
    assigned one-to-one to the ``(lo, hi)`` bound pairs. Greedy matching (sizes in
    increasing order, each to the unused interval that contains it and ends first) decides
    it exactly in O(m^2).
    """
    m = len(size)
    used = np.zeros(m, dtype=np.bool_)
    new = size.copy()
    new[g] -= d
    new[h] += d
    for a in range(1, m):  # insertion sort (np.sort would add a costly compilation)
        x = new[a]
        b = a - 1
        while b >= 0 and new[b] > x:
            new[b + 1] = new[b]
            b -= 1
        new[b + 1] = x
    for a in range(m):
        s = new[a]
        pick = -1
        for k in range(m):
            if not used[k] and lo[k] <= s and s <= hi[k] and (pick < 0 or hi[k] < hi[pick]):
                pick = k
        if pick < 0:
            return False
        used[pick] = True
    return True


@njit(cache=CACHE, nogil=True)
def move_rules_ok(data, state, u, h):
    """The rules other than sizes for moving unit u to group h."""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    p, size, C, S, SC, NS = state[0], state[2], state[3], state[4], state[5], state[6]
    g = p[u]
    if flags[0] and not allowed[u, h]:
        return False
    if flags[1] and C[u, h] > 0:
        return False
    if flags[2]:
        for k in range(gs_ptr[u], gs_ptr[u + 1]):
            r = gs_row[k]
            c = gs_coef[k]
            a = S[r, g] - c
            b = S[r, h] + c
            if a < gs_lo[r, g] - _TOL * (1.0 + abs(a)) or a > gs_hi[r, g] + _TOL * (1.0 + abs(a)):
                return False
            if b < gs_lo[r, h] - _TOL * (1.0 + abs(b)) or b > gs_hi[r, h] + _TOL * (1.0 + abs(b)):
                return False
    if flags[3]:
        if not _slot_ok(SC, slot_av, quorum, g, size[g] - w[u], u, -1, -1, 0):
            return False
        if not _slot_ok(SC, slot_av, quorum, h, size[h] + w[u], u, 1, -1, 0):
            return False
    if flags[4]:
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            key = ns_idx[k]
            if NS[key, g] - ns_cnt[k] == 1 or NS[key, h] + ns_cnt[k] == 1:
                return False
    return True


@njit(cache=CACHE, nogil=True)
def swap_ok(data, state, u, v):
    """Can units u and v (in different groups) trade places with every rule kept?"""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    p, size, C, S, SC, NS = state[0], state[2], state[3], state[4], state[5], state[6]
    dr, dk = state[11], state[12]
    g = p[u]
    h = p[v]
    if g == h:
        return False
    d = w[v] - w[u]
    if d != 0 and flags[6]:
        if not profile_ok(size, lo, hi, h, g, d):
            return False
    elif d != 0:
        if size[g] + d < lo[g] or size[g] + d > hi[g]:
            return False
        if size[h] - d < lo[h] or size[h] - d > hi[h]:
            return False
    if flags[0] and (not allowed[u, h] or not allowed[v, g]):
        return False
    if flags[1]:
        cu = C[u, h]
        cv = C[v, g]
        if cu > 1 or cv > 1:
            return False
        if cu == 1 or cv == 1:
            adj = 1 if _adjacent(conf_ptr, conf_idx, u, v) else 0
            if cu - adj != 0 or cv - adj != 0:
                return False
    if flags[2]:
        # dr[r]: change of sum r in group g (the opposite change happens in h)
        for k in range(gs_ptr[u], gs_ptr[u + 1]):
            dr[gs_row[k]] -= gs_coef[k]
        for k in range(gs_ptr[v], gs_ptr[v + 1]):
            dr[gs_row[k]] += gs_coef[k]
        ok = True
        for t in range(2):
            x = u if t == 0 else v
            for k in range(gs_ptr[x], gs_ptr[x + 1]):
                r = gs_row[k]
                a = S[r, g] + dr[r]
                b = S[r, h] - dr[r]
                if (a < gs_lo[r, g] - _TOL * (1.0 + abs(a))
                        or a > gs_hi[r, g] + _TOL * (1.0 + abs(a))
                        or b < gs_lo[r, h] - _TOL * (1.0 + abs(b))
                        or b > gs_hi[r, h] + _TOL * (1.0 + abs(b))):
                    ok = False
        for k in range(gs_ptr[u], gs_ptr[u + 1]):
            dr[gs_row[k]] = 0.0
        for k in range(gs_ptr[v], gs_ptr[v + 1]):
            dr[gs_row[k]] = 0.0
        if not ok:
            return False
    if flags[3]:
        if not _slot_ok(SC, slot_av, quorum, g, size[g] + d, u, -1, v, 1):
            return False
        if not _slot_ok(SC, slot_av, quorum, h, size[h] - d, v, -1, u, 1):
            return False
    if flags[4]:
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            dk[ns_idx[k]] -= ns_cnt[k]
        for k in range(ns_ptr[v], ns_ptr[v + 1]):
            dk[ns_idx[k]] += ns_cnt[k]
        ok = True
        for t in range(2):
            x = u if t == 0 else v
            for k in range(ns_ptr[x], ns_ptr[x + 1]):
                key = ns_idx[k]
                if NS[key, g] + dk[key] == 1 or NS[key, h] - dk[key] == 1:
                    ok = False
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            dk[ns_idx[k]] = 0
        for k in range(ns_ptr[v], ns_ptr[v + 1]):
            dk[ns_idx[k]] = 0
        if not ok:
            return False
    return True


@njit(cache=CACHE, nogil=True)
def apply_move(data, state, u, h):
    """Move unit u to group h and update every incremental array in O(nu + rules of u)."""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    W = state[1]
    g = state[0][u]
    Au = A[u]
    for j in range(W.shape[0]):
        a = Au[j]
        W[j, g] -= a
        W[j, h] += a
    move_counts(data, state, u, h)


@njit(cache=CACHE, nogil=True, inline="always")
def move_counts(data, state, u, h):
    """The part of :func:`apply_move` after ``W``: sizes, rule counts and the label."""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    p, size, C, S, SC, NS = state[0], state[2], state[3], state[4], state[5], state[6]
    g = p[u]
    size[g] -= w[u]
    size[h] += w[u]
    for k in range(conf_ptr[u], conf_ptr[u + 1]):
        v = conf_idx[k]
        C[v, g] -= 1
        C[v, h] += 1
    for k in range(gs_ptr[u], gs_ptr[u + 1]):
        S[gs_row[k], g] -= gs_coef[k]
        S[gs_row[k], h] += gs_coef[k]
    for s in range(slot_av.shape[1]):
        SC[g, s] -= slot_av[u, s]
        SC[h, s] += slot_av[u, s]
    for k in range(ns_ptr[u], ns_ptr[u + 1]):
        NS[ns_idx[k], g] -= ns_cnt[k]
        NS[ns_idx[k], h] += ns_cnt[k]
    p[u] = h


@njit(cache=CACHE, nogil=True)
def relabel_ok(data, state, g, h):
    """Can the whole contents of groups g and h trade labels (zero gain) with rules kept?"""
    (A, w, lo, hi, allowed, conf_ptr, conf_idx, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
     slot_av, quorum, ns_ptr, ns_idx, ns_cnt, flags) = data
    p, size, S = state[0], state[2], state[4]
    if size[g] < lo[h] or size[g] > hi[h] or size[h] < lo[g] or size[h] > hi[g]:
        return False
    if flags[2]:
        for r in range(S.shape[0]):
            a = S[r, g]
            b = S[r, h]
            if (a < gs_lo[r, h] - _TOL * (1.0 + abs(a)) or a > gs_hi[r, h] + _TOL * (1.0 + abs(a))
                    or b < gs_lo[r, g] - _TOL * (1.0 + abs(b))
                    or b > gs_hi[r, g] + _TOL * (1.0 + abs(b))):
                return False
    if flags[0]:
        for u in range(len(p)):
            if (p[u] == g and not allowed[u, h]) or (p[u] == h and not allowed[u, g]):
                return False
    pinned = state[14]
    for u in range(len(p)):
        if pinned[u] and (p[u] == g or p[u] == h):
            return False
    return True


@njit(cache=CACHE, nogil=True)
def apply_relabel(state, g, h):
    """Trade the labels of groups g and h (contents unchanged, objective unchanged)."""
    p, W, size, C, S, SC, NS, tabu = (state[0], state[1], state[2], state[3], state[4],
                                      state[5], state[6], state[8])
    for u in range(len(p)):
        if p[u] == g:
            p[u] = h
        elif p[u] == h:
            p[u] = g
    for u in range(W.shape[0]):
        W[u, g], W[u, h] = W[u, h], W[u, g]
        C[u, g], C[u, h] = C[u, h], C[u, g]
        tabu[u, g], tabu[u, h] = tabu[u, h], tabu[u, g]
    size[g], size[h] = size[h], size[g]
    for r in range(S.shape[0]):
        S[r, g], S[r, h] = S[r, h], S[r, g]
    for s in range(SC.shape[1]):
        SC[g, s], SC[h, s] = SC[h, s], SC[g, s]
    for k in range(NS.shape[0]):
        NS[k, g], NS[k, h] = NS[k, h], NS[k, g]


@njit(cache=CACHE, nogil=True)
def _move_lean(A, w, W, size, p, u, h):
    """apply_move without rule arrays (problems with size rules only)."""
    g = p[u]
    Au = A[u]
    for j in range(W.shape[0]):
        a = Au[j]
        W[j, g] -= a
        W[j, h] += a
    size[g] -= w[u]
    size[h] += w[u]
    p[u] = h


@njit(cache=CACHE, nogil=True)
def _fresh_gains(W, p, Dt, Mx):
    """``Dt[h, u] = W[u, h] - W[u, p[u]]`` and ``Mx[g, h] = max over u in g of Dt[h, u]``."""
    nu, m = W.shape
    for g in range(m):
        for h in range(m):
            Mx[g, h] = -np.inf
    for u in range(nu):
        g = p[u]
        base = W[u, g]
        for h in range(m):
            d = W[u, h] - base
            Dt[h, u] = d
            if d > Mx[g, h]:
                Mx[g, h] = d


@njit(cache=CACHE, nogil=True)
def _refresh_gains(W, p, Dt, Mx, g, h):
    """:func:`_fresh_gains` after members moved between groups ``g`` and ``h`` only, in
    ``O(nu + (|g| + |h|) m)`` instead of ``O(nu m)``, with the same values bit for bit.

    Such moves change ``W`` in columns ``g`` and ``h`` only, so ``Dt[k, u]`` changed only
    where ``k`` is ``g`` or ``h`` or ``u`` is a member of ``g`` or ``h``; ``Mx`` only in
    rows and columns ``g`` and ``h``. Each is recomputed by the same expression (the
    search path does not change).
    """
    nu, m = W.shape
    for k in range(m):
        Mx[g, k] = -np.inf
        Mx[h, k] = -np.inf
        Mx[k, g] = -np.inf
        Mx[k, h] = -np.inf
    for u in range(nu):
        q = p[u]
        base = W[u, q]
        if q == g or q == h:
            for k in range(m):
                d = W[u, k] - base
                Dt[k, u] = d
                if d > Mx[q, k]:
                    Mx[q, k] = d
        else:
            d = W[u, g] - base
            Dt[g, u] = d
            if d > Mx[q, g]:
                Mx[q, g] = d
            d = W[u, h] - base
            Dt[h, u] = d
            if d > Mx[q, h]:
                Mx[q, h] = d


# -- regroup: dissolve one group, rebuild it from the others' spare members -------------------
# Moves and swaps keep the number of groups each kind of member fills: when a few
# communities of like members compete for a fixed number of groups, handing a group from
# one community to another takes a dozen moves that each lose. A regroup does it at once.
# Every member of group g goes to the group where it gains most (with room for it, every
# rule kept); then g is filled again, one unit at a time, with the unit that gains most by
# joining it among those whose group stays within its lower bound, until g reaches its
# lower bound and no unit gains by joining (or g is full). When g cannot be filled to its
# lower bound, every move is undone. It is a perturbation for the tabu search to polish:
# the search keeps it only when a round from it beats the best grouping so far.

def _make_regroup(RULES):
    """Build the regroup kernel; ``RULES`` False compiles the sizes-only variant. (Only
    the bool is a closure value: a kernel in the closure would change numba's cache key
    in every process, and every run would compile again.)"""

    def regroup(data, state, g):
        """Dissolve and rebuild group ``g``; returns the change of the objective (0.0
        when nothing changed: a pinned member in ``g``, or no way to refill it)."""
        A, w, lo, hi = data[0], data[1], data[2], data[3]
        p, W, size, pinned = state[0], state[1], state[2], state[14]
        nu, m = W.shape
        for u in range(nu):
            if p[u] == g and pinned[u]:
                return 0.0
        log_u = np.empty(2 * nu, dtype=np.int64)  # (unit, group it left), for the undo
        log_g = np.empty(2 * nu, dtype=np.int64)
        n_log = 0
        delta = 0.0
        # 1. every member of g to the group where it gains most (ties: the lower index)
        for u in range(nu):
            if p[u] != g:
                continue
            bh = -1
            best = -np.inf
            for h in range(m):
                if h == g or size[h] + w[u] > hi[h]:
                    continue
                if RULES:
                    if not move_rules_ok(data, state, u, h):
                        continue
                gain = W[u, h] - W[u, g]
                if gain > best:
                    best = gain
                    bh = h
            if bh >= 0:
                log_u[n_log] = u
                log_g[n_log] = g
                n_log += 1
                delta += best
                if RULES:
                    apply_move(data, state, u, bh)
                else:
                    _move_lean(A, w, W, size, p, u, bh)
        # 2. refill g: the unit gaining most by joining, while g is below its lower bound
        # or a unit gains
        while size[g] < hi[g]:
            bx = -1
            best = -np.inf
            for x in range(nu):
                k = p[x]
                if k == g or pinned[x] or size[k] - w[x] < lo[k] or size[g] + w[x] > hi[g]:
                    continue
                if RULES:
                    if not move_rules_ok(data, state, x, g):
                        continue
                gain = W[x, g] - W[x, k]
                if gain > best:
                    best = gain
                    bx = x
            if bx < 0 or (size[g] >= lo[g] and best <= 0.0):
                break
            log_u[n_log] = bx
            log_g[n_log] = p[bx]
            n_log += 1
            delta += best
            if RULES:
                apply_move(data, state, bx, g)
            else:
                _move_lean(A, w, W, size, p, bx, g)
        if size[g] >= lo[g]:
            return delta
        for i in range(n_log - 1, -1, -1):  # g cannot be refilled: undo, last move first
            if RULES:
                apply_move(data, state, log_u[i], log_g[i])
            else:
                _move_lean(A, w, W, size, p, log_u[i], log_g[i])
        return 0.0

    return njit(cache=CACHE, nogil=True)(regroup)


#: Regroup with every rule checked, and with sizes only (as the two tabu kernels).
regroup_rules = _make_regroup(True)
regroup_sizes = _make_regroup(False)


def _make_tabu_run(RULES):
    """Build the tabu search kernel; ``RULES`` False compiles a lean variant.

    ``RULES`` is a closure constant: numba prunes the ``if RULES`` branches before typing,
    so the lean kernel (sizes only: no allowed groups, cannot-link, group sums, slots or
    no-singleton) never compiles the rule checks. This halves the first-ever compilation
    of plain problems. Both variants are cached on disk separately (the closure value is
    part of numba's cache key).
    """

    def tabu_run(data, state, params, n_iter, allow_moves, kick):
        """Run ``n_iter`` iterations of iterated tabu search; resumable (persistent state).

        Each iteration applies the best admissible move or swap (full neighbourhoods, ties
        broken at random). A move putting a unit back into a group it left less than
        ``tenure`` iterations ago is tabu unless it beats the best value of the current
        round (aspiration). After ``depth`` iterations without improving the round's best,
        the search restarts from the best grouping found so far, perturbed by ``strength``
        random feasible swaps/moves; the strength grows while rounds fail and falls back
        after an improvement. With groups of different size bounds (labelled), the
        perturbation first trades the labels of random pairs of groups whose contents fit
        each other's bounds (free; it changes which groups may grow or shrink).

        ``kick > 0``: only perturb the current grouping by ``kick`` random feasible
        swaps/moves (updating ``fv[F]``) and return 0.
        Returns the number of iterations done.
        """
        A = data[0]
        w, lo, hi = data[1], data[2], data[3]
        p, W, size = state[0], state[1], state[2]
        best_p, tabu, ctr, fv, Dt, pinned = (state[7], state[8], state[9], state[10],
                                             state[13], state[14])
        nu, m = W.shape
        tmin = np.int64(params[P_TMIN])
        tspan = max(np.int64(params[P_TMAX]) - tmin, 0) + 1
        depth = np.int64(params[P_DEPTH])
        smin = np.int64(params[P_SMIN])
        smax = np.int64(params[P_SMAX])
        gcnt = np.empty(m, dtype=np.int64)
        gptr = np.empty(m + 1, dtype=np.int64)
        gmem = np.empty(nu, dtype=np.int64)
        Mx = np.empty((m, m))
        # -2 * (lower bound on A off the diagonal), for the swap-gain bounds; params[P_AMIN]
        # when given (default_params), else no pruning
        c2 = np.inf
        if len(params) > P_AMIN:
            c2 = -2.0 * params[P_AMIN]
        free = data[17][6] != 0
        prof = np.zeros((m, m), dtype=np.int64)  # free mode: cached size-profile checks
        lo_min = lo[0]
        hi_max = hi[0]
        for g in range(m):
            lo_min = min(lo_min, lo[g])
            hi_max = max(hi_max, hi[g])
        done = 0
        strength = kick
        fresh = True  # Dt and Mx are computed anew at the first iteration
        while kick > 0 or done < n_iter or strength > 0:
            if strength == 0:
                it = ctr[IT]
                f = fv[F]
                if fresh:
                    # Gains of moving each unit to each group: Dt[h, u] = W[u, h] - W[u, p[u]],
                    # and Mx[g, h] = max over u in g of Dt[h, u]; after this, kept up to date
                    # by _refresh_gains as the search moves (until the next perturbation).
                    _fresh_gains(W, p, Dt, Mx)
                    fresh = False
                best_gain = -np.inf
                bu = -1
                bv = -1
                bh = -1
                ties = 0
                rb = fv[ROUND_BEST]
                tol = 1e-9 * (1.0 + abs(f))
                if allow_moves:
                    for u in range(nu):
                        if pinned[u]:
                            continue
                        g = p[u]
                        if size[g] - w[u] < (lo_min if free else lo[g]):
                            continue
                        for h in range(m):
                            if h == g or size[h] + w[u] > (hi_max if free else hi[h]):
                                continue
                            gain = Dt[h, u]
                            if gain < best_gain - tol:
                                continue
                            if tabu[u, h] > it and f + gain <= rb + tol:
                                continue
                            if free:
                                if prof[g, h] == 0:
                                    prof[g, h] = 1 if profile_ok(size, lo, hi, g, h, w[u]) else 2
                                if prof[g, h] == 2:
                                    continue
                            elif size[g] - w[u] < lo[g] or size[h] + w[u] > hi[h]:
                                continue
                            if RULES:
                                if not move_rules_ok(data, state, u, h):
                                    continue
                            if gain > best_gain + tol:
                                best_gain = gain
                                bu, bv, bh = u, -1, h
                                ties = 1
                            else:
                                ties += 1
                                if np.random.random() * ties < 1.0:
                                    bu, bv, bh = u, -1, h
                # Swaps, scanned per pair of groups (g < h) with upper bounds on the gain:
                # a swap of u in g with v in h gains Dt[h, u] + Dt[g, v] - 2 A[u, v]
                # <= Mx[g, h] + Mx[h, g] - 2 amin (Mx[g, h] = max over u in g of Dt[h, u]),
                # so blocks and rows that cannot reach the best gain so far are skipped
                # (exact: every swap that could be chosen is still evaluated). The most
                # promising pair of groups goes first to raise the best gain early.
                for g in range(m):
                    gcnt[g] = 0
                for u in range(nu):
                    gcnt[p[u]] += 1
                gptr[0] = 0
                for g in range(m):
                    gptr[g + 1] = gptr[g] + gcnt[g]
                    gcnt[g] = gptr[g]
                for u in range(nu):
                    g = p[u]
                    gmem[gcnt[g]] = u
                    gcnt[g] += 1
                fg = -1  # stays -1 with fewer than two (non-empty) groups
                fh = -1
                fb = -np.inf
                for g in range(m):
                    for h in range(g + 1, m):
                        bnd = Mx[g, h] + Mx[h, g]
                        if bnd > fb:
                            fb = bnd
                            fg = g
                            fh = h
                for step in range(-1, m * m):
                    if step < 0:
                        if fg < 0:
                            continue
                        g = fg
                        h = fh
                    else:
                        g = step // m
                        h = step - g * m
                        if h <= g or (g == fg and h == fh):
                            continue
                    if Mx[g, h] + Mx[h, g] + c2 < best_gain - tol:
                        continue
                    mhg = Mx[h, g]
                    Dg = Dt[g]
                    for a in range(gptr[g], gptr[g + 1]):
                        u = gmem[a]
                        if pinned[u]:
                            continue
                        du = Dt[h, u]
                        if du + mhg + c2 < best_gain - tol:
                            continue
                        Au = A[u]
                        tu = tabu[u, h] > it
                        for b in range(gptr[h], gptr[h + 1]):
                            v = gmem[b]
                            gain = du + Dg[v] - 2.0 * Au[v]
                            if gain < best_gain - tol:
                                continue
                            if pinned[v]:
                                continue
                            if (tu or tabu[v, g] > it) and f + gain <= rb + tol:
                                continue
                            if RULES:
                                if not swap_ok(data, state, u, v):
                                    continue
                            else:
                                d = w[v] - w[u]
                                if d != 0:
                                    if free:
                                        if not profile_ok(size, lo, hi, h, g, d):
                                            continue
                                    elif (size[g] + d < lo[g] or size[g] + d > hi[g]
                                          or size[h] - d < lo[h] or size[h] - d > hi[h]):
                                        continue
                            if gain > best_gain + tol:
                                best_gain = gain
                                bu, bv, bh = u, v, h
                                ties = 1
                            else:
                                ties += 1
                                if np.random.random() * ties < 1.0:
                                    bu, bv, bh = u, v, h
                if bu >= 0:
                    g = p[bu]
                    if bv < 0 and free:
                        for a in range(m):
                            for b in range(m):
                                prof[a, b] = 0
                    if RULES:
                        apply_move(data, state, bu, bh)
                    else:
                        _move_lean(A, w, W, size, p, bu, bh)
                    tabu[bu, g] = it + tmin + _randint(tspan)
                    if bv >= 0:
                        if RULES:
                            apply_move(data, state, bv, g)
                        else:
                            _move_lean(A, w, W, size, p, bv, g)
                        tabu[bv, bh] = it + tmin + _randint(tspan)
                    _refresh_gains(W, p, Dt, Mx, g, bh)
                    f += best_gain
                    fv[F] = f
                ctr[IT] = it + 1
                done += 1
                if bu >= 0 and f > fv[ROUND_BEST] + tol:
                    fv[ROUND_BEST] = f
                    ctr[LAST_IMP] = it + 1
                    if f > fv[BEST_F] + tol:
                        fv[BEST_F] = f
                        for u in range(nu):
                            best_p[u] = p[u]
                        ctr[BEST_IT] = it + 1
                        ctr[FAILS] = 0
                if bu < 0 or ctr[IT] - ctr[LAST_IMP] > depth:
                    # End of a round: perturb the best grouping found so far.
                    if fv[ROUND_BEST] < fv[BEST_F] - tol or bu < 0:
                        ctr[FAILS] += 1
                    strength = smin + ctr[FAILS] // 2
                    if strength > smax:
                        strength = smin
                        ctr[FAILS] = 0
                    ctr[STRENGTH] = strength
                    for u in range(nu):
                        p[u] = best_p[u]
                    if RULES:
                        init_state(data, state)
                    else:
                        init_sizes(A, w, p, W, size)
                    fv[F] = fv[BEST_F]
                    fresh = True
                continue
            # --- perturbation: `strength` random feasible swaps/moves, gains ignored ---
            fsum = 0.0
            # with probability params[P_REGROUP], a regroup of a random group first (not
            # drawn at all when 0, so the search path is the one without regroups)
            if (kick == 0 and allow_moves and not free and m > 2 and len(params) > P_REGROUP
                    and params[P_REGROUP] > 0.0):
                if np.random.random() < params[P_REGROUP]:
                    if RULES:  # (module globals, not closure values: see _make_regroup)
                        fsum += regroup_rules(data, state, _randint(m))
                    else:
                        fsum += regroup_sizes(data, state, _randint(m))
            if allow_moves and m > 1 and not free:
                for _ in range(m):
                    g = _randint(m)
                    h = _randint(m)
                    if g == h or np.random.random() >= 0.5:
                        continue
                    if RULES:
                        ok = relabel_ok(data, state, g, h)
                    else:
                        ok = not (size[g] < lo[h] or size[g] > hi[h] or size[h] < lo[g]
                                  or size[h] > hi[g])
                        if ok:
                            for u in range(nu):
                                if pinned[u] and (p[u] == g or p[u] == h):
                                    ok = False
                    if ok:
                        apply_relabel(state, g, h)
            moved = 0
            tries = 0
            while moved < strength and tries < 20 * strength + 20:
                tries += 1
                u = _randint(nu)
                if pinned[u]:
                    continue
                g = p[u]
                if allow_moves and np.random.random() < 0.3:
                    h = _randint(m)
                    if h == g:
                        continue
                    if free:
                        ok = profile_ok(size, lo, hi, g, h, w[u])
                    else:
                        ok = size[g] - w[u] >= lo[g] and size[h] + w[u] <= hi[h]
                    if RULES:
                        if ok:
                            ok = move_rules_ok(data, state, u, h)
                    if ok:
                        fsum += W[u, h] - W[u, g]
                        if RULES:
                            apply_move(data, state, u, h)
                        else:
                            _move_lean(A, w, W, size, p, u, h)
                        moved += 1
                    continue
                v = _randint(nu)
                h = p[v]
                if pinned[v] or g == h:
                    continue
                if RULES:
                    ok = swap_ok(data, state, u, v)
                else:
                    d = w[v] - w[u]
                    ok = True
                    if d != 0:
                        if free:
                            ok = profile_ok(size, lo, hi, h, g, d)
                        else:
                            ok = not (size[g] + d < lo[g] or size[g] + d > hi[g]
                                      or size[h] - d < lo[h] or size[h] - d > hi[h])
                if ok:
                    fsum += W[u, h] - W[u, g] + W[v, g] - W[v, h] - 2.0 * A[u, v]
                    if RULES:
                        apply_move(data, state, u, h)
                        apply_move(data, state, v, g)
                    else:
                        _move_lean(A, w, W, size, p, u, h)
                        _move_lean(A, w, W, size, p, v, g)
                    moved += 1
            fv[F] += fsum
            strength = 0
            fresh = True
            if kick > 0:
                return 0
            for a in range(m):
                for b in range(m):
                    prof[a, b] = 0
            fv[ROUND_BEST] = fv[F]
            ctr[LAST_IMP] = ctr[IT]
            ctr[N_PERTURB] += 1
            for u in range(nu):
                for h in range(m):
                    tabu[u, h] = 0
        return done

    return njit(cache=CACHE, nogil=True)(tabu_run)


#: Kernel for problems with rules beyond group sizes (allowed, cannot-link, group sums,
#: slots, no-singleton), and the lean kernel for size-only problems (compiled on demand).
tabu_run_rules = _make_tabu_run(True)
tabu_run_sizes = _make_tabu_run(False)


@njit(cache=CACHE, nogil=True)
def swap_scan_rate(A, p, m, n_rounds):
    """Benchmark helper: evaluate every swap ``n_rounds`` times; returns a checksum."""
    nu = len(p)
    W = np.zeros((nu, m))
    for u in range(nu):
        for v in range(nu):
            W[u, p[v]] += A[u, v]
    acc = 0.0
    for _ in range(n_rounds):
        best = -np.inf
        for u in range(nu):
            g = p[u]
            for v in range(u + 1, nu):
                h = p[v]
                if h == g:
                    continue
                gain = W[u, h] - W[u, g] + W[v, g] - W[v, h] - 2.0 * A[u, v]
                if gain > best:
                    best = gain
        acc += best
    return acc


@njit(cache=CACHE, nogil=True)
def descent_run(data, state, max_sweeps):
    """First-improvement descent: each unit in turn takes its best improving move, else
    its best improving swap, with every rule kept; sweeps in random order until a sweep
    improves nothing (a local optimum) or ``max_sweeps``. Returns the total gain.

    Much cheaper per improvement than the tabu kernel's best-of-the-whole-neighbourhood
    step, so it is the first phase on large (sub-)problems. It works on ``W`` transposed
    (``WT[g]`` contiguous) and on ``own[v] = W[v, p[v]]``: a swap scan then reads four
    contiguous arrays, and a write-back updates two rows, where ``W`` itself would cost a
    cache (and page) miss per member on large problems. The arithmetic is the same, in
    the same order, so the result is that of a scan over ``W``; ``W`` is written back at
    the end.
    """
    A, w, lo, hi, flags = data[0], data[1], data[2], data[3], data[17]
    p, W, size = state[0], state[1], state[2]
    nu, m = W.shape
    WT = np.empty((m, nu))
    for v in range(nu):
        for g in range(m):
            WT[g, v] = W[v, g]
    own = np.empty(nu)
    for v in range(nu):
        own[v] = WT[p[v], v]
    row = np.empty(m)
    order = np.arange(nu)
    total = 0.0
    tol = 1e-9
    for _sweep in range(max_sweeps):
        for a in range(nu - 1, 0, -1):
            b = _randint(a + 1)
            order[a], order[b] = order[b], order[a]
        improved = False
        for idx in range(nu):
            u = order[idx]
            g = p[u]
            for h in range(m):
                row[h] = WT[h, u]
            wug = row[g]
            best = tol
            bh = -1
            for h in range(m):
                if h == g:
                    continue
                gain = row[h] - wug
                if gain > best:
                    if flags[6]:
                        ok = profile_ok(size, lo, hi, g, h, w[u])
                    else:
                        ok = size[g] - w[u] >= lo[g] and size[h] + w[u] <= hi[h]
                    if ok and move_rules_ok(data, state, u, h):
                        best = gain
                        bh = h
            if bh >= 0:
                _descent_move(data, state, WT, own, u, bh)
                total += best
                improved = True
                continue
            bv = -1
            best = tol
            Au = A[u]
            WTg = WT[g]
            for v in range(nu):
                h = p[v]
                if h == g:
                    continue
                gain = row[h] - wug + WTg[v] - own[v] - 2.0 * Au[v]
                if gain > best:
                    if swap_ok(data, state, u, v):
                        best = gain
                        bv = v
            if bv >= 0:
                h = p[bv]
                _descent_move(data, state, WT, own, u, h)
                _descent_move(data, state, WT, own, bv, g)
                total += best
                improved = True
        if not improved:
            break
    for v in range(nu):
        for g in range(m):
            W[v, g] = WT[g, v]
    return total


@njit(cache=CACHE, nogil=True)
def _descent_move(data, state, WT, own, u, h):
    """:func:`apply_move` on the transposed ``WT`` (same updates, same order), then the
    ``own`` values of the two groups' members."""
    A, p = data[0], state[0]
    g = p[u]
    Au = A[u]
    WTg, WTh = WT[g], WT[h]
    for j in range(WT.shape[1]):
        a = Au[j]
        WTg[j] -= a
        WTh[j] += a
    move_counts(data, state, u, h)
    for j in range(WT.shape[1]):
        q = p[j]
        if q == g:
            own[j] = WTg[j]
        elif q == h:
            own[j] = WTh[j]
