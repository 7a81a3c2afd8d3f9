"""CP-SAT models: exact grouping, feasibility with a diagnosis, and neighbourhood repair.

Internal module (OR-Tools is imported lazily: only when a CP-SAT model is built).

One model builder serves three uses:

* **exact** -- every element and group, objective ``sum A_ij y_ij``, full linking of the
  pair variables, redundant size constraints and symmetry breaking;
* **diagnose** -- no objective, every rule family behind an enforcement literal that is
  passed as an assumption, so an infeasibility proof names the families responsible
  (``sufficient_assumptions_for_infeasibility``);
* **repair** (large neighbourhood search) -- only the members of a few groups, only
  those groups; pairs inside them only.

The maths is written out in ``docs/solver.md`` ("The CP-SAT model").

Data:
    ``x[(i, g)]``  element ``i`` is in group ``g`` (bool);
    ``y[(i, j)]``  elements ``i < j`` share a group (bool), ``y_ij = sum_g x_ig x_jg``.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np

from ..budget import SHARES
from ..problem import CONSTRAINT_NAMES, Problem

__all__ = ["cpsat_status", "solve_exact", "diagnose", "resolve_groups", "build_seconds", "REMEDIES",
           "BuildTimeout", "build", "make_solver", "read_labels"]

#: What to relax, per rule family (group sums get a generic sentence with their name).
REMEDIES = {
    "group sizes": "widen the group size bounds or change the number of groups",
    "cannot-link pairs": "drop some cannot-link pairs (or allow more groups: a set of "
                         "mutually conflicting members needs one group each)",
    "must-link pairs": "drop some must-link pairs (a must-link chain may exceed the largest "
                       "group or contradict a cannot-link pair)",
    "allowed groups": "allow more groups for the pinned or restricted members",
    "common meeting slot": "lower the slot quorum or add availability",
    "no isolated member": "drop a no-isolation rule or add members with the rare labels",
}


def cpsat_status(code) -> str:
    """Map a CP-SAT status to a peermatch status (one table for every model)."""
    from ortools.sat.python import cp_model

    return {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
        cp_model.MODEL_INVALID: "invalid",
        cp_model.UNKNOWN: "unknown",
    }[code]


def reason_sentence(family: str) -> str:
    """``"<family>: <what to relax>"``."""
    remedy = REMEDIES.get(family, "loosen this rule's bounds or drop it")
    return f"{family}: {remedy}"


def _int_scale(values: np.ndarray, limit: float = 1e7) -> int:
    """Smallest power of ten making ``values`` integral (up to 1e6), capped by magnitude."""
    vmax = float(np.abs(values).max(initial=0.0))
    for e in range(7):
        s = 10 ** e
        if vmax * s > limit * 1e3:
            return max(s // 10, 1)
        if np.all(np.abs(values * s - np.round(values * s)) < 1e-6):
            return s
    return 10 ** 6 if vmax == 0 else max(1, int(limit / vmax))


class BuildTimeout(Exception):
    """The deadline passed while a model was being built (caught inside this module)."""


#: Seconds per model term (one variable in one constraint) when building a model in
#: Python, measured at about 2 microseconds on a 2-core Xeon @ 2.5 GHz; kept pessimistic.
_SECONDS_PER_TERM = 3e-6


def build_seconds(problem: Problem, m: int) -> float:
    """Rough time to build the full feasibility model (no objective) of ``problem``."""
    n = problem.n
    terms = 3 * n * m + 2 * len(problem.cannot_link) * m + 2 * len(problem.must_link) * m
    for s in problem.group_sums:
        terms += 2 * int(np.count_nonzero(np.asarray(s.coef))) * m
    if problem.slots is not None:
        terms += n * m * problem.slots.shape[1]
    for c in problem.no_singleton:
        terms += 2 * int(np.count_nonzero(np.asarray(c) >= 0)) * m
    return terms * _SECONDS_PER_TERM


def _left(deadline: float) -> float:
    return deadline - time.perf_counter()


def make_solver(time_limit: float, seed: int, workers: int, verbose: bool):
    """A CP-SAT solver with this time limit, seed, worker count and log setting."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(float(time_limit), 0.01)
    solver.parameters.num_workers = max(int(workers), 1)
    solver.parameters.random_seed = int(seed) % (2 ** 31)
    solver.parameters.log_search_progress = bool(verbose)
    # Ctrl-C is Python's (see _run): CP-SAT's own SIGINT handler, installed from a helper
    # thread, aborts the process
    solver.parameters.catch_sigint_signal = False
    return solver


def _run(solver, model) -> int:
    """``solver.solve(model)``, interruptible: in the main thread the solve runs in a
    helper thread while this one waits in short slices, so Ctrl-C (which Python delivers
    to the main thread only, and only between bytecodes) stops the search within a fraction
    of a second (``stop_search``) and is raised here once CP-SAT has returned."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return solver.solve(model)
    box: dict = {}
    done = threading.Event()

    def work():
        try:
            box["code"] = solver.solve(model)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="peermatch-cpsat", daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        # stop_search is a no-op until the search has started: repeat until it returns
        solver.stop_search()
        while not done.wait(0.05):
            solver.stop_search()
        raise
    if "error" in box:
        raise box["error"]
    return box["code"]


def _group_classes(problem: Problem, m: int) -> list[list[int]]:
    """Classes of interchangeable groups: same bounds, allowed column and group-sum bounds."""
    b = problem.bounds_for(m)
    keys: dict[tuple, list[int]] = {}
    sums = [s.bounds(m) for s in problem.group_sums]
    for g in range(m):
        key = (int(b[g, 0]), int(b[g, 1]),
               None if problem.allowed is None else problem.allowed[:, g].tobytes(),
               tuple((float(lo[g]), float(hi[g])) for lo, hi in sums))
        keys.setdefault(key, []).append(g)
    return [c for c in keys.values() if len(c) > 1]


class _Builder:
    """One CP-SAT model under construction: the data, the variables ``x[(i, g)]`` and the
    steps that add each rule family, in a fixed order (so one input gives one model)."""

    def __init__(self, problem: Problem, m: int, elements: np.ndarray, groups: np.ndarray,
                 diagnose: bool, deadline: float | None):
        from ortools.sat.python import cp_model

        self.LE = cp_model.LinearExpr
        self.stop = math.inf if deadline is None else float(deadline)
        self.problem, self.m, self.elements, self.diagnose = problem, m, elements, diagnose
        n = problem.n
        self.bounds = problem.bounds_for(m)
        self.names = problem.names or tuple(str(i) for i in range(n))
        in_e = np.zeros(n, dtype=bool)
        in_e[elements] = True
        self.items = [int(i) for i in elements]
        self.groups = [int(g) for g in groups]
        self.cl = [(int(i), int(j)) for i, j in problem.cannot_link if in_e[i] and in_e[j]]
        self.ml = [(int(i), int(j)) for i, j in problem.must_link if in_e[i] and in_e[j]]
        self.model = cp_model.CpModel()
        self.lits: dict[str, object] = {}
        self.x = {(i, g): self.model.new_bool_var(f"cand {self.names[i]} in group {g}")
                  for i in self.items for g in self.groups}

    def check(self) -> None:
        if time.perf_counter() > self.stop:
            raise BuildTimeout

    def family(self, name: str):
        """Enforcement literal of a rule family (None: the rule is hard)."""
        if not self.diagnose:
            return None
        if name not in self.lits:
            self.lits[name] = self.model.new_bool_var(f"enforce {name}")
        return self.lits[name]

    @staticmethod
    def enforce(ct, lit):
        if lit is not None:
            ct.only_enforce_if(lit)
        return ct

    def sizes_and_links(self) -> None:
        """One group per element, group sizes, cannot-link and must-link pairs."""
        model, x, items, groups, enforce = (self.model, self.x, self.items, self.groups,
                                            self.enforce)
        self.check()
        # Every element is in exactly one group (structure, never relaxed).
        for i in items:
            model.add_exactly_one([x[(i, g)] for g in groups])
        self.check()
        # Group sizes: bounds[g, 0] <= |g| <= bounds[g, 1].
        lit = self.family(CONSTRAINT_NAMES["sizes"])
        for g in groups:
            self.check()
            enforce(model.add_linear_constraint(self.LE.sum([x[(i, g)] for i in items]),
                                                int(self.bounds[g, 0]),
                                                int(self.bounds[g, 1])), lit)
        # Cannot-link: the two members of a pair never share a group.
        lit = self.family(CONSTRAINT_NAMES["cannot_link"])
        for i, j in self.cl:
            self.check()
            for g in groups:
                enforce(model.add_bool_or([x[(i, g)].Not(), x[(j, g)].Not()]), lit)
        # Must-link: the two members of a pair are in the same group.
        lit = self.family(CONSTRAINT_NAMES["must_link"])
        for i, j in self.ml:
            self.check()
            for g in groups:
                enforce(model.add(x[(i, g)] == x[(j, g)]), lit)

    def allowed_and_sums(self) -> None:
        """Allowed groups and group sums (scaled to integers)."""
        problem, model, x, enforce = self.problem, self.model, self.x, self.enforce
        # Allowed groups: allowed[i, g] false forbids i in g.
        if problem.allowed is not None:
            lit = self.family(CONSTRAINT_NAMES["allowed"])
            for i in self.items:
                self.check()
                for g in self.groups:
                    if not problem.allowed[i, g]:
                        enforce(model.add(x[(i, g)] == 0), lit)
        # Group sums: lo[g] <= sum of coef_i over members of g <= hi[g].
        for s in problem.group_sums:
            lit = self.family(s.name)
            coef = np.asarray(s.coef, dtype=float)
            sc = _int_scale(coef[self.elements])
            ic = np.round(coef * sc).astype(np.int64)
            lo, hi = s.bounds(self.m)
            nz = [i for i in self.items if ic[i] != 0]  # once per rule, not once per group
            w = [int(ic[i]) for i in nz]
            for g in self.groups:
                self.check()
                expr = self.LE.weighted_sum([x[(i, g)] for i in nz], w)
                if np.isfinite(lo[g]):
                    enforce(model.add(expr >= math.ceil(lo[g] * sc - 1e-6)), lit)
                if np.isfinite(hi[g]):
                    enforce(model.add(expr <= math.floor(hi[g] * sc + 1e-6)), lit)

    def slots_and_singletons(self) -> None:
        """The common meeting slot and the no-singleton rules."""
        problem, model, x, items, enforce = (self.problem, self.model, self.x, self.items,
                                             self.enforce)
        # Common slot: some slot s has at least quorum * |g| members of g available.
        if problem.slots is not None:
            lit = self.family(CONSTRAINT_NAMES["slots"])
            q = Fraction(problem.slot_quorum).limit_denominator(1000)
            av = problem.slots
            w = [[q.denominator * int(av[i, t]) - q.numerator for i in items]
                 for t in range(av.shape[1])]
            for g in self.groups:
                self.check()
                z = [model.new_bool_var(f"group {g} meets at slot {t}")
                     for t in range(av.shape[1])]
                enforce(model.add_bool_or(z), lit)
                xg = [x[(i, g)] for i in items]
                for t, zt in enumerate(z):
                    model.add(self.LE.weighted_sum(xg, w[t]) >= 0).only_enforce_if(zt)
        # No singleton: no group holds exactly one member of a protected label, i.e. the
        # count is 0 (b = 0) or at least 2 (b = 1): 2 b <= count <= |L| b. Linear in |L| m,
        # where one clause per (member, group) would be quadratic in |L|.
        if problem.no_singleton:
            lit = self.family(CONSTRAINT_NAMES["no_singleton"])
            el = self.elements
            for k, c in enumerate(problem.no_singleton):
                for label in np.unique(c[el][c[el] >= 0]):
                    self.check()
                    L = [i for i in items if c[i] == label]
                    for g in self.groups:
                        b = model.new_bool_var(f"label {k}:{label} present in group {g}")
                        count = self.LE.sum([x[(i, g)] for i in L])
                        enforce(model.add(count >= 2 * b), lit)
                        enforce(model.add(count <= len(L) * b), lit)

    def pair_variables(self, objective: str):
        """``y[(i, j)]`` for the pairs the objective needs, linked to ``x``; returns
        ``(y, scale, terms, coefs)``."""
        model, x, items = self.model, self.x, self.items
        sub = self.problem.affinity[np.ix_(self.elements, self.elements)]
        scale = _int_scale(sub[np.triu_indices(len(self.elements), 1)])
        # Integer affinities of the freed elements only (never an n x n copy).
        ia_sub = np.round(sub * scale).astype(np.int64)
        loc = {i: k for k, i in enumerate(items)}

        def ia_at(i, j):
            return ia_sub[loc[i], loc[j]]

        banned = set(self.cl) if not self.diagnose else set()
        y, tv, tc = {}, [], []
        for a_idx, i in enumerate(items):
            self.check()
            for j in items[a_idx + 1:]:
                if objective != "full" and (ia_at(i, j) == 0 or (i, j) in banned):
                    continue
                y[(i, j)] = model.new_bool_var(
                    f"cand {self.names[i]} with cand {self.names[j]}")
                if ia_at(i, j) != 0:
                    tv.append(y[(i, j)])
                    tc.append(int(ia_at(i, j)))
        for (i, j), yij in y.items():
            self.check()
            for g in self.groups:
                # Pair link: y_ij <= 1 + x_ig - x_jg (apart -> 0), y_ij >= x_ig + x_jg - 1.
                if objective == "full" or ia_at(i, j) > 0:
                    model.add(yij <= 1 + x[(i, g)] - x[(j, g)])
                if objective == "full" or ia_at(i, j) < 0:
                    model.add(yij >= x[(i, g)] + x[(j, g)] - 1)
        return y, scale, tv, tc

    def partner_counts(self, y) -> None:
        """Redundant: ``i`` has (size of its group - 1) partners."""
        model, x, items, groups, LE = self.model, self.x, self.items, self.groups, self.LE
        size = {g: model.new_int_var(int(self.bounds[g, 0]), int(self.bounds[g, 1]),
                                     f"size {g}") for g in groups}
        for g in groups:
            model.add(size[g] == LE.sum([x[(i, g)] for i in items]))
        for i in items:
            self.check()
            lab = model.new_int_var(0, len(groups) - 1, f"group of {self.names[i]}")
            model.add(lab == sum(k * x[(i, g)] for k, g in enumerate(groups)))
            t = model.new_int_var(0, len(items), f"size of group of {self.names[i]}")
            model.add_element(lab, [size[g] for g in groups], t)
            model.add(LE.sum([y[(min(i, j), max(i, j))] for j in items if j != i]) + 1 == t)

    def symmetry(self) -> None:
        """Groups of one class (identical rules) are ordered by their smallest member:
        element i may join the next group of the class only when an earlier element is
        in the previous one. Any grouping can be relabelled to comply."""
        items, x = self.items, self.x
        for cls in _group_classes(self.problem, self.m):
            for ga, gb in zip(cls[:-1], cls[1:], strict=True):
                self.check()
                for k, i in enumerate(items):
                    self.model.add_bool_or([x[(j, ga)] for j in items[:k]] + [x[(i, gb)].Not()])


def build(problem: Problem, m: int, elements: np.ndarray, groups: np.ndarray, *,
          objective: str | None, diagnose: bool = False, symmetry: bool = False,
          deadline: float | None = None):
    """Build the CP-SAT model. ``objective`` in (None, "full", "upper").

    Returns ``(model, x, y, lits, scale)``: the model, the element-in-group variables,
    the pair variables, the enforcement literal of each rule family (``diagnose``) and
    the integer scale of the affinities. Raises :class:`BuildTimeout` when ``deadline``
    (``time.perf_counter()`` clock) passes: the clock is read in every outer loop, so a
    large model never outlasts the budget.
    """
    b = _Builder(problem, m, elements, groups, diagnose, deadline)
    b.sizes_and_links()
    b.allowed_and_sums()
    b.slots_and_singletons()
    y, scale = {}, 1
    if objective is not None:
        y, scale, tv, tc = b.pair_variables(objective)
        if objective == "full":
            b.partner_counts(y)
        b.model.maximize(b.LE.weighted_sum(tv, tc))
    if symmetry and len(b.groups) == m:
        b.symmetry()
    return b.model, b.x, y, b.lits, scale


_build = build  # the former private name


def read_labels(solver, x, elements, groups, n) -> np.ndarray:
    """The labels of a solved model (``-1`` for elements outside ``elements``)."""
    labels = np.full(n, -1, dtype=np.int64)
    for i in elements:
        for g in groups:
            if solver.boolean_value(x[(int(i), int(g))]):
                labels[i] = g
    return labels


def solve_exact(problem: Problem, m: int, *, time_limit: float, seed: int, workers: int,
                verbose: bool = False, hint: np.ndarray | None = None) -> dict:
    """Solve the complete model. Returns ``dict(status, labels, bound)``.

    ``time_limit`` covers building the model too: status ``"unknown"`` when it runs out.
    """
    deadline = time.perf_counter() + float(time_limit)
    n = problem.n
    elements, groups = np.arange(n), np.arange(m)
    out = {"status": "unknown", "labels": None, "bound": math.nan}
    try:
        model, x, _, _, scale = build(problem, m, elements, groups, objective="full",
                                       symmetry=hint is None, deadline=deadline)
    except BuildTimeout:
        return out
    if hint is not None:
        for (i, g), var in x.items():
            model.add_hint(var, int(hint[i] == g))
    if _left(deadline) <= 0.01:
        return out
    solver = make_solver(_left(deadline), seed, workers, verbose)
    code = _run(solver, model)
    status = cpsat_status(code)
    out["status"] = status
    if status in ("optimal", "feasible"):
        out["labels"] = read_labels(solver, x, elements, groups, n)
        out["bound"] = solver.best_objective_bound / scale
    return out


def diagnose(problem: Problem, m: int, *, time_limit: float, seed: int, workers: int,
             verbose: bool = False, minimize: bool = True) -> dict:
    """Find any feasible grouping, or prove there is none and name the rule families.

    Returns ``dict(status, labels, families)``; ``families`` lists the rule families whose
    enforcement literals form the infeasible core (made irreducible by a deletion filter
    when ``minimize`` and time allow). ``time_limit`` covers building the model too:
    status ``"unknown"`` when it runs out first.
    """
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    n = problem.n
    elements, groups = np.arange(n), np.arange(m)
    unknown = {"status": "unknown", "labels": None, "families": []}
    try:
        model, x, _, lits, _ = build(problem, m, elements, groups, objective=None,
                                      diagnose=True, deadline=deadline)
    except BuildTimeout:
        return unknown
    if _left(deadline) <= 0.01:
        return unknown
    model.add_assumptions(list(lits.values()))
    solver = make_solver(_left(deadline), seed, 1, verbose)  # cores need a single worker
    code = _run(solver, model)
    status = cpsat_status(code)
    if status == "feasible" or status == "optimal":
        return {"status": "feasible", "labels": read_labels(solver, x, elements, groups, n),
                "families": []}
    if status != "infeasible":
        return {"status": status, "labels": None, "families": []}
    by_index = {v.index: k for k, v in lits.items()}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility()
            if i in by_index]
    if minimize and len(core) > 1:
        # Deletion filter: drop a family when the others alone stay infeasible.
        keep = list(core)
        for fam in list(core):
            left = _left(deadline)
            if left <= 0.05 or len(keep) == 1:
                break
            trial = [k for k in keep if k != fam]
            model.clear_assumptions()
            model.add_assumptions([lits[k] for k in trial])
            s2 = make_solver(min(left, max(1.0, time_limit * SHARES["diagnose.deletion"])),
                             seed, 1, False)
            if _run(s2, model) == cp_model.INFEASIBLE:
                keep = trial
        core = keep
    return {"status": "infeasible", "labels": None, "families": core}


def resolve_groups(problem: Problem, m: int, labels: np.ndarray, groups, *,
                   time_limit: float, seed: int, workers: int = 1, deterministic: bool = False,
                   det_time: float | None = None) -> np.ndarray | None:
    """Re-solve the members of ``groups`` exactly among those groups (all rules kept).

    Returns improved labels, or None when no better arrangement was found in time. With
    ``deterministic`` the search is bounded by CP-SAT's deterministic time ``det_time``
    (default ``time_limit``; one worker), so the outcome does not depend on machine load;
    the wall-clock ``time_limit`` (model building included) still applies.
    """
    deadline = time.perf_counter() + float(time_limit)
    groups = np.asarray(sorted(int(g) for g in groups))
    elements = np.flatnonzero(np.isin(labels, groups))
    if len(elements) < 2:
        return None
    try:
        model, x, y, _, scale = build(problem, m, elements, groups, objective="upper",
                                       deadline=deadline)
    except BuildTimeout:
        return None
    for (i, g), var in x.items():
        model.add_hint(var, int(labels[i] == g))
    A = problem.affinity
    sub = A[np.ix_(elements, elements)]
    same = labels[elements][:, None] == labels[elements][None, :]
    current = 0.5 * float(sub[same].sum())
    if _left(deadline) <= 0.01:
        return None
    if deterministic:
        solver = make_solver(_left(deadline), seed, 1, False)
        solver.parameters.max_deterministic_time = float(det_time if det_time is not None
                                                         else time_limit)
    else:
        solver = make_solver(_left(deadline), seed, workers, False)
    status = cpsat_status(_run(solver, model))
    if status not in ("optimal", "feasible"):
        return None
    new = labels.copy()
    new[elements] = read_labels(solver, x, elements, groups, problem.n)[elements]
    same = new[elements][:, None] == new[elements][None, :]
    value = 0.5 * float(sub[same].sum())
    if value > current + 1e-9 * (1 + abs(current)):
        return new
    return None
