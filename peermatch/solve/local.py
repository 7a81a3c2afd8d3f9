"""Driver of the compiled local search: state set-up, time slicing, progress, interrupts.

Internal module. The kernels (:mod:`peermatch.solve._kernels`) run a resumable iterated
tabu search for a given number of iterations; this driver calls them in slices of
about 0.1 s, so it can watch the clock, report progress, honour ``max_iter`` exactly and
stop cleanly on ``KeyboardInterrupt``. All search state, numba's random generator
included, persists between slices, so the slicing never changes the search path: with
``max_iter`` a run is reproducible whatever the machine load.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ._prep import F_UNIT_WEIGHTS, Prepared
from .plan import setting

__all__ = ["TabuSearch", "default_params", "kernels_compiled", "kernels_loaded",
           "kernels_ready", "warm_up"]

# How often a caller waiting for a load from the disk cache looks whether a compilation
# started instead (a compilation is announced by numba before it begins).
_POLL = 0.02


class _Warmup:
    """One background warm-up (the kernels with or without rules) and its hand-over.

    Everything the warm-up thread shares with callers goes through this object: ``done``
    (an Event, set last, after ``error``), ``compiling`` (an Event, set when numba starts
    to compile one of the kernels in this thread: not in its disk cache). Callers read
    ``error`` only once ``done`` is set.
    """

    def __init__(self, rules: bool):
        self.rules = rules
        self.done = threading.Event()
        self.compiling = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"peermatch-compile-{'rules' if rules else 'sizes'}")

    def _run(self) -> None:
        try:
            with _watch_compilations(self):
                _warm_up(self.rules)
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc
        finally:
            self.done.set()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


_warm_lock = threading.Lock()
_warmups: dict[bool, _Warmup] = {}
# warm-up threads by thread id, for the compilation listener (guarded by _warm_lock)
_by_thread: dict[int, _Warmup] = {}
_listening = False


class _Watch:
    """Registers this thread's warm-up with the compilation listener while it runs."""

    def __init__(self, warm: _Warmup):
        self.warm = warm

    def __enter__(self):
        with _warm_lock:
            _by_thread[threading.get_ident()] = self.warm
        return self

    def __exit__(self, *exc) -> None:
        with _warm_lock:
            _by_thread.pop(threading.get_ident(), None)


def _watch_compilations(warm: _Warmup) -> _Watch:
    """Install (once per process) a numba listener that flags a compilation in a warm-up
    thread; without numba's event API the flag stays unset (then a caller waits for the
    kernels as for a cache load, at most until its deadline)."""
    global _listening
    try:  # (outside the lock: numba's import takes a while)
        # The package before its submodule: a thread that imports a submodule first while
        # another imports the package takes the import locks in the opposite order, and
        # one of them then gets a half-imported module.
        import numba  # noqa: F401
        from numba.core import event
    except ImportError:  # an older numba: no event API
        return _Watch(warm)
    with _warm_lock:
        if not _listening:
            _listening = True
            event.register("numba:compile", _listener(event))
    return _Watch(warm)


def _listener(event):
    class CompileListener(event.Listener):
        """Sets the ``compiling`` flag of the warm-up whose thread starts a compilation."""

        def on_start(self, ev) -> None:
            warm = _by_thread.get(threading.get_ident())
            if warm is not None:
                warm.compiling.set()

        def on_end(self, ev) -> None:
            pass

    return CompileListener()


def _warm_up(rules: bool) -> None:
    """Compile (or load from the disk cache) every kernel a search with/without rules uses."""
    from ._prep import TOY_LABELS, toy

    ts = TabuSearch(toy(rules), np.array(TOY_LABELS), {}, seed=1)
    ts.run(3)
    ts.descend(2)
    ts.perturb(1)
    ts.regroup(0)
    ts.restart(ts.state[7].copy())
    from . import _kernels_sub

    _kernels_sub.compile_now()  # sub-problem set-up and feature blocks at scale


def _started(rules: bool) -> _Warmup:
    """The warm-up of ``rules``, started in the background on the first call."""
    with _warm_lock:
        warm = _warmups.get(rules)
        if warm is None:
            warm = _warmups[rules] = _Warmup(rules)
            warm.thread.start()
    return warm


def warm_up(timeout: float = 600.0) -> bool:
    """Compile (or load from the disk cache) every kernel now; True when all are ready.

    ``make demo`` and ``make test`` call it once after installing, so a first real run
    does not spend its time budget compiling. ``timeout=0`` starts the warm-up in the
    background and returns at once: a script that calls it first has the kernels loaded
    while it reads and scores its candidates.

    >>> warm_up()
    True
    """
    end = time.perf_counter() + timeout
    _started(True)
    _started(False)
    return kernels_ready(True, end) and kernels_ready(False, end)


def kernels_ready(rules: bool, deadline: float) -> bool:
    """Make sure the kernels are compiled, waiting at most until ``deadline``.

    The first call starts the compilation (or the cache load) in a background thread, so
    it overlaps with the construction; a call whose deadline comes first returns False
    (the caller then returns its construction) while compilation goes on for later calls.
    numba's random generator is per thread, so the warm-up does not touch the caller's.
    """
    warm = _started(rules)
    # (a deadline far away, e.g. an unlimited time limit, is clamped to what a wait takes)
    if not warm.done.wait(min(max(deadline - time.perf_counter(), 0.0), threading.TIMEOUT_MAX)):
        return False
    warm.raise_error()
    return True


def kernels_loaded(rules: bool | None, deadline: float) -> bool:
    """Wait for kernels that load from numba's disk cache; not for a compilation.

    Waits at most until ``deadline`` while the kernels load from the cache (a fraction of
    a second; a numpy search meanwhile would do less than the compiled one does after
    it), and returns False as soon as numba starts to compile one of them instead (the
    first run on an install, or after an upgrade), so the caller can search with numpy
    while the compilation goes on. ``rules=None``: both sets of kernels.

    >>> warm_up() and kernels_loaded(True, time.perf_counter() + 600.0)
    True
    """
    warms = [_started(r) for r in ((True, False) if rules is None else (rules,))]
    while True:
        pending = [w for w in warms if not w.done.is_set()]
        if not pending:
            break
        if any(w.compiling.is_set() for w in warms):
            return False
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        pending[0].done.wait(min(left, _POLL))
    for w in warms:
        w.raise_error()
    return True


def kernels_compiled() -> bool:
    """True when a warm-up in this process compiled kernels (numba's disk cache did not
    have them) rather than loading them from the cache.

    >>> isinstance(kernels_compiled(), bool)
    True
    """
    return any(w.compiling.is_set() for w in list(_warmups.values()))


def needs_rules(prep: Prepared) -> bool:
    """Does the search need the rule-checking kernel (anything beyond group sizes)?"""
    return bool(np.any(prep.flags[:F_UNIT_WEIGHTS]))


def default_params(prep: Prepared, options: dict) -> np.ndarray:
    """Tabu tenure range, round depth, perturbation strength range, the affinities' lower
    bound and the share of perturbations that start with a regroup (see docs/solver.md).
    The first five are fixed formulas in the units per group and the units; only the
    regroup share is a tuning constant (:data:`peermatch.solve.plan.TUNING`)."""
    nu, m = prep.nu, prep.m
    per = max(nu / max(m, 1), 1.0)
    tmin, tmax = max(2, int(0.1 * per) + 2), max(4, int(0.5 * per) + 5)
    depth = int(max(50, 2 * nu))
    smin, smax = max(2, nu // 50), max(4, nu // 10)
    # lower bound on the affinities (bounds swap gains, so the kernel can skip blocks of
    # swaps that cannot be the best of an iteration)
    amin = float(np.min(prep.A)) if prep.A.size else 0.0
    regroup = float(setting(options, "regroup"))
    return np.array([tmin, tmax, depth, smin, smax, amin, regroup], dtype=np.float64)


class TabuSearch:
    """Compiled iterated tabu search over the units of ``prep``, started from ``labels``.

    Parameters
    ----------
    prep : Prepared
    labels : ndarray of shape (nu,)
        A feasible unit labelling (every rule holds).
    options : dict
        Solver options; the tuning constant ``regroup`` is read (:func:`default_params`).
    seed : int
        Seed of numba's generator (per thread).
    """

    def __init__(self, prep: Prepared, labels: np.ndarray, options: dict, seed: int):
        from . import _kernels as K

        self._K = K
        self.prep = prep
        nu, m = prep.nu, prep.m
        R = prep.gs_lo.shape[0]
        S = prep.slot_av.shape[1]
        self.data = (prep.A, prep.w, prep.lo, prep.hi, prep.allowed, prep.conf_ptr,
                     prep.conf_idx, prep.gs_ptr, prep.gs_row, prep.gs_coef, prep.gs_lo,
                     prep.gs_hi, prep.slot_av, float(prep.quorum), prep.ns_ptr, prep.ns_idx,
                     prep.ns_cnt, prep.flags)
        p = np.ascontiguousarray(labels, dtype=np.int64).copy()
        self.state = (p, np.zeros((nu, m)), np.zeros(m, dtype=np.int64),
                      np.zeros((nu, m), dtype=np.int64), np.zeros((R, m)),
                      np.zeros((m, S), dtype=np.int64), np.zeros((prep.n_keys, m), dtype=np.int64),
                      p.copy(), np.zeros((nu, m), dtype=np.int64), np.zeros(8, dtype=np.int64),
                      np.zeros(4), np.zeros(R), np.zeros(prep.n_keys, dtype=np.int64),
                      np.zeros((m, nu)), np.zeros(nu, dtype=np.bool_))
        self.params = default_params(prep, options)
        # Moves change sizes; with every group at a fixed size and unit weights only swaps
        # can be feasible, so the move neighbourhood is skipped.
        self.allow_moves = not (np.all(prep.lo == prep.hi) and prep.flags[F_UNIT_WEIGHTS])
        # size-only problems use the lean kernel (compiles in about half the time)
        self._rules = needs_rules(prep)
        self._kernel = K.tabu_run_rules if self._rules else K.tabu_run_sizes
        K.seed_rng(int(seed))
        self.state[10][1] = -np.inf
        self.load(p)

    def load(self, labels: np.ndarray) -> None:
        """Restart from ``labels`` (feasible unit labels); keeps the best if it is better."""
        K = self._K
        p = self.state[0]
        fv = self.state[10]
        p[:] = labels
        self._init_state()
        f = float(K.objective(self.prep.A, p))
        fv[0] = f
        fv[2] = f
        if f > fv[1]:
            fv[1] = f
            self.state[7][:] = p
        self.state[9][1] = self.state[9][0]

    def _init_state(self) -> None:
        K, st = self._K, self.state
        if self._rules:
            K.init_state(self.data, st)
        else:
            K.init_sizes(self.prep.A, self.prep.w, st[0], st[1], st[2])

    def restart(self, labels: np.ndarray) -> None:
        """Start a fresh search from ``labels``: the best so far is forgotten."""
        st = self.state
        st[0][:] = labels
        self._init_state()
        f = float(self._K.objective(self.prep.A, st[0]))
        st[10][0] = st[10][1] = st[10][2] = f
        st[7][:] = st[0]
        st[9][1] = st[9][0]
        st[9][4] = 0
        st[8][:, :] = 0

    def perturb(self, strength: int) -> None:
        """Apply ``strength`` random feasible swaps/moves to the current grouping."""
        self._kernel(self.data, self.state, self.params, 0, self.allow_moves, max(int(strength), 1))

    def regroup(self, g: int) -> float:
        """Dissolve group ``g`` and rebuild it from the other groups' spare members (a
        perturbation: ``regroup_rules`` in :mod:`peermatch.solve._kernels`); returns the
        change of the current value. The best grouping so far is kept."""
        K = self._K
        fn = K.regroup_rules if self._rules else K.regroup_sizes
        delta = float(fn(self.data, self.state, int(g)))
        st = self.state
        st[10][0] += delta
        st[10][2] = st[10][0]   # the round's best starts here, as after a perturbation
        st[9][1] = st[9][0]
        st[8][:, :] = 0
        return delta

    def descend(self, max_sweeps: int = 1_000_000) -> float:
        """First-improvement move/swap descent from the current grouping (to a local
        optimum, or ``max_sweeps`` sweeps); returns the gain. The best is updated."""
        K, st = self._K, self.state
        gain = float(K.descent_run(self.data, st, int(max_sweeps)))
        fv = st[10]
        fv[0] += gain
        fv[2] = max(fv[2], fv[0])
        if fv[0] > fv[1]:
            fv[1] = fv[0]
            st[7][:] = st[0]
        return gain

    def run(self, n_iter: int) -> int:
        """Run ``n_iter`` iterations; returns iterations done."""
        return int(self._kernel(self.data, self.state, self.params, int(n_iter),
                                self.allow_moves, 0))

    @property
    def iterations(self) -> int:
        return int(self.state[9][0])

    @property
    def n_restarts(self) -> int:
        return int(self.state[9][2])

    @property
    def value(self) -> float:
        """Objective of the current grouping over units (as :attr:`best_value`)."""
        return float(self.state[10][0])

    @property
    def best_value(self) -> float:
        """Best objective over units (without the constant inside must-link units)."""
        return float(self.state[10][1])

    @property
    def best_labels(self) -> np.ndarray:
        """Best unit labels, groups relabelled to fit their bounds (free-label mode)."""
        return self.prep.match_labels(self.state[7].copy())

    def run_until(self, deadline: float, max_iter: int | None, on_slice=None,
                  first: int = 1) -> bool:
        """Run slices until ``deadline`` (perf_counter) or ``max_iter`` total iterations.

        ``on_slice()`` is called after every slice. The first slice runs ``first``
        iterations (later ones about 0.1 s each, from the measured rate); a caller that
        knows its run is short asks for all of it at once. Slicing never changes the
        result. Returns True when interrupted by KeyboardInterrupt (the state stays
        consistent: it is only touched inside kernels).
        """
        chunk = max(1, int(first))
        try:
            while True:
                if max_iter is not None and self.iterations >= max_iter:
                    return False
                now = time.perf_counter()
                if now >= deadline:
                    return False
                todo = chunk if max_iter is None else min(chunk, max_iter - self.iterations)
                t = time.perf_counter()
                self.run(todo)
                dt = time.perf_counter() - t
                if on_slice is not None:
                    on_slice()
                # Aim at slices of about 0.1 s, never beyond the deadline.
                rate = todo / max(dt, 1e-6)
                left = deadline - time.perf_counter()
                chunk = int(max(1, min(rate * min(0.1, max(left, 0.0)), chunk * 4)))
        except KeyboardInterrupt:
            # the state is consistent (only kernels touch it); the caller's handler
            # returns the best grouping so far
            raise
