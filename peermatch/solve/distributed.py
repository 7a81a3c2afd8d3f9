"""The same search on a Dask cluster: sub-problems and independent parts solved on workers.

Optional: needs ``pip install 'peermatch[distributed]'`` (Dask distributed), imported only
when a scheduler is asked for. Three ways to use a cluster, all from ``scheduler=``:

* ``"local"`` / ``"local:N"``: a :class:`distributed.LocalCluster` of ``N`` worker
  processes (one thread each) started for the call and closed after it;
* ``"tcp://host:port"`` (or ``tls://...``): an existing scheduler;
* a :class:`distributed.Client`: used as it is (not closed).

How the work is split (see ``docs/distributed.md``):

* *Sub-problems* (one large part): the driver runs
  :class:`~peermatch.solve.decompose.DecompositionSearch` as in-process; each batch of
  sub-problems on disjoint groups goes to :class:`DaskMap`, which solves them on the
  workers. The problem (features, rules) is scattered once; each worker keeps a replica of
  the grouping and receives, per task, only the labels changed since its last task. A
  worker returns an :class:`~peermatch.solve.decompose.SubOutcome` (the new labels of the
  sub-problem's members when it gained); the driver writes them back in batch order, so
  the reproducible mode gives exactly the in-process groups.
* *Independent parts* (tiers, regions): one task per part (:func:`solve_parts`).

A lost worker loses nothing: Dask re-runs its task elsewhere (the new worker asks for the
whole grouping first), and a sub-problem that still fails or outlives the time limit is
dropped: the grouping is only ever changed by complete, validated write-backs.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from ..affinity import FeatureAffinity
from ..errors import ConfigError

__all__ = ["SchedulerSpec", "parse_scheduler", "connect", "Session", "DaskMap", "solve_parts",
           "INSTALL_HINT", "ClusterStartWarning"]


class ClusterStartWarning(UserWarning):
    """A local Dask cluster could not start its workers: the run goes on in this process."""

#: How to get Dask distributed.
INSTALL_HINT = "pip install 'peermatch[distributed]'"

#: Address schemes of a Dask scheduler.
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")

#: Seconds a batch may run past the time limit before its sub-problems are dropped (the
#: kernels stop at the limit; this covers transfer and a rescheduled task).
_GRACE = 5.0

#: Sub-problems per worker thread and round in the timed mode.
_PER_THREAD = 4


@dataclass(frozen=True)
class SchedulerSpec:
    """A parsed ``scheduler=`` value: ``kind`` is "local", "address" or "client"."""

    kind: str
    text: str
    n_workers: int | None = None
    address: str | None = None
    client: Any = None


def _bad(spec) -> ConfigError:
    return ConfigError("The 'scheduler' parameter must be None, 'local', 'local:N' (N worker "
                       "processes), a scheduler address such as 'tcp://host:8786', or a "
                       f"dask.distributed.Client. Got {spec!r} instead.")


def parse_scheduler(spec) -> SchedulerSpec | None:
    """Parse a ``scheduler=`` value (no Dask needed, except to recognise a Client).

    Parameters
    ----------
    spec : None, str or distributed.Client
        ``None``, ``"local"``, ``"local:N"``, ``"tcp://host:port"`` or a Client.

    Returns
    -------
    SchedulerSpec or None

    Raises
    ------
    ConfigError
        Any other value; the message lists the accepted forms.

    Examples
    --------
    >>> parse_scheduler("local:3")
    SchedulerSpec(kind='local', text='local:3', n_workers=3, address=None, client=None)
    >>> parse_scheduler("tcp://10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    >>> parse_scheduler(None) is None
    True
    """
    if spec is None:
        return None
    if isinstance(spec, SchedulerSpec):
        return spec
    if not isinstance(spec, str):
        if hasattr(spec, "submit") and hasattr(spec, "scatter") and hasattr(spec, "run"):
            distributed = import_distributed()
            if isinstance(spec, distributed.Client):
                return SchedulerSpec("client", "client", client=spec)
        raise _bad(spec)
    text = spec.strip()
    low = text.lower()
    if low == "local":
        return SchedulerSpec("local", "local", n_workers=None)
    if low.startswith("local:"):
        num = low.split(":", 1)[1].strip()
        if not num.isdigit() or int(num) < 1:
            raise ConfigError(f"The 'scheduler' parameter 'local:N' needs N >= 1 worker "
                              f"processes. Got {spec!r} instead.")
        return SchedulerSpec("local", f"local:{int(num)}", n_workers=int(num))
    if "://" in low:
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme.lower() in _SCHEMES and parts.hostname and port:
            return SchedulerSpec("address", text, address=text)
    raise _bad(spec)


def import_distributed():
    """``distributed``, or a ConfigError naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(f"A Dask scheduler was asked for, but Dask distributed is not "
                          f"installed ({exc}). Install the extra: {INSTALL_HINT}; or leave "
                          "out --scheduler / scheduler= to solve in this process.") from None
    return distributed


_GUARD = re.compile(r"""__name__\s*==\s*['"]__main__['"]|['"]__main__['"]\s*==\s*__name__""")


def _worker_importing_main() -> bool:
    """True in a process that multiprocessing started and that is still importing the
    script's main module: a worker of a local cluster running a script with no
    ``if __name__ == "__main__":`` guard (what multiprocessing itself checks)."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _script_unguarded() -> str | None:
    """The main script's path when its source has no ``__name__ == "__main__"`` test."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path:
        return None  # an interactive session, python -c, a notebook: nothing imported again
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    return None if _GUARD.search(text) else path


def _start_failed(spec: SchedulerSpec, exc: BaseException) -> str:
    """The warning for a local cluster whose workers did not start: the cause when it is
    the usual one (no main guard), and what happens instead."""
    what = (f"The local Dask cluster (scheduler {spec.text!r}) could not start its workers "
            f"({type(exc).__name__}: {str(exc).strip()[:200] or 'no detail'}); this run is "
            "solved in this process instead.")
    path = _script_unguarded()
    if path is None:
        return what
    return (f"{what} The cause: the script {path} has no `if __name__ == \"__main__\":` "
            "guard. Dask starts each worker as a new Python process that imports the main "
            "script again, which then runs again instead of starting the worker. Put the "
            "code that calls peermatch under `if __name__ == \"__main__\":` to use the "
            "cluster (see docs/distributed.md).")


def _warm_worker() -> bool:
    """Load the compiled kernels on a worker (from numba's cache after the first run)."""
    from .local import kernels_ready

    far = time.perf_counter() + 3600.0
    return kernels_ready(True, far) and kernels_ready(False, far)


class Session:
    """A Dask client (connected, or still starting in the background), and the cluster
    when this session started it.

    Built by :func:`connect`. The start-up runs in a thread, so reading, scoring,
    construction and descent go on meanwhile; :meth:`ready` waits for it, :attr:`client`
    too. :meth:`close` shuts down only what the session started.
    """

    def __init__(self, spec: SchedulerSpec):
        self.spec = spec
        self._client = spec.client
        self.cluster = None
        self.startup_s = 0.0
        self._error: BaseException | None = None
        #: the warning when a local cluster did not start (the run goes on in process)
        self.failed: str | None = None
        self._warned = False
        self._thread: threading.Thread | None = None
        self._workers: list[str] = []
        self._workers_t = -np.inf
        self.nthreads = 0

    def _start(self, timeout: float) -> None:
        """Start or reach the cluster, wait for a worker, load the kernels on every one."""
        distributed = import_distributed()
        t0 = time.perf_counter()
        spec = self.spec
        try:
            if spec.kind == "local":
                n = spec.n_workers or max(1, os.cpu_count() or 1)
                # one thread per process: the kernels then never share a core, and a
                # worker's replica of the grouping is read by one task at a time
                self.cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR)
                self._client = distributed.Client(self.cluster, timeout=timeout)
            elif spec.kind == "address":
                try:
                    self._client = distributed.Client(spec.address, timeout=timeout)
                except (OSError, TimeoutError) as exc:
                    raise ConfigError(f"Cannot reach the Dask scheduler at {spec.address} "
                                      f"within {timeout:.0f} s ({exc}). Start one (dask "
                                      "scheduler; dask worker ADDRESS) or use --scheduler "
                                      "local.") from None
            left = timeout - (time.perf_counter() - t0)
            try:
                self._client.wait_for_workers(1, timeout=max(left, 0.5))
                # kernels loaded on every worker before the first sub-problem
                self._client.run(_warm_worker)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"The Dask scheduler {spec.text} has no worker ready within "
                                  f"{timeout:.0f} s ({exc}). Start workers or give more "
                                  "time.") from None
            self.workers(refresh=True)
        except Exception as exc:
            if spec.kind == "local":  # no cluster of its own: the run goes on in process
                self.failed = _start_failed(spec, exc)
            else:
                self._error = exc
            self._shutdown()
        except BaseException as exc:
            self._error = exc
            self._shutdown()
        finally:
            self.startup_s = time.perf_counter() - t0

    def is_ready(self) -> bool:
        """True once the start-up has finished (successfully or not)."""
        return self._thread is None or not self._thread.is_alive()

    def ready(self) -> Session:
        """Wait for the start-up; raise its error (ConfigError) if it failed."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self

    def usable(self) -> bool:
        """Wait for the start-up; False when a local cluster could not start (the run then
        goes on in this process, with a :class:`ClusterStartWarning`, given once)."""
        self.ready()
        if self.failed is None:
            return True
        self._warn()
        return False

    def _warn(self) -> None:
        if self.failed is not None and not self._warned:
            self._warned = True
            warnings.warn(self.failed, ClusterStartWarning, stacklevel=4)

    @property
    def client(self):
        """The ``distributed.Client`` (waits for the start-up)."""
        return self.ready()._client

    def workers(self, refresh: bool = False) -> list[str]:
        """Addresses of the workers (sorted), refreshed at most once a second."""
        now = time.perf_counter()
        if refresh or now - self._workers_t > 1.0 or not self._workers:
            info = self._client.nthreads()
            self._workers = sorted(info)
            self.nthreads = int(sum(info.values()))
            self._workers_t = now
        return self._workers

    def describe(self) -> dict:
        """What a result reports: the scheduler, its address, workers and threads (without
        waiting: a start-up still under way reports ``workers=0``)."""
        out = {"scheduler": self.spec.text, "address": None, "workers": 0, "threads": 0,
               "startup_s": None}
        if self.is_ready() and self.failed is not None:
            out["failed"] = self.failed
        if not self.is_ready() or self._error is not None or self.failed is not None:
            return out
        try:
            workers = self.workers(refresh=True)
        except Exception:  # noqa: BLE001 - a closed or lost scheduler: report what is known
            workers = self._workers
        out.update(address=str(self._client.scheduler.address), workers=len(workers),
                   threads=self.nthreads, startup_s=round(self.startup_s, 3))
        return out

    def _shutdown(self) -> None:
        try:
            if self._client is not None and self.spec.kind != "client":
                self._client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None

    def close(self) -> None:
        """Close the client and cluster this session started (a given Client stays)."""
        if self._thread is not None:
            self._thread.join()
        self._warn()  # a cluster that never started, even when the run did not need it
        if self.spec.kind != "client" and self._error is None:
            self._shutdown()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(spec, timeout: float = 60.0, *, wait: bool = True) -> Session | None:
    """Connect to (or start) the cluster of a ``scheduler=`` value; None for None.

    Parameters
    ----------
    spec : None, str, SchedulerSpec or distributed.Client
        See :func:`parse_scheduler`.
    timeout : float, default=60.0
        Seconds for starting or reaching the scheduler and its first worker (the time
        limit of the call: start-up counts).
    wait : bool, default=True
        False starts in a background thread and returns at once (errors then come from
        :meth:`Session.ready`); the spec is checked and Dask imported before either way.

    Returns
    -------
    Session or None

    Raises
    ------
    ConfigError
        Dask is not installed (the message names the extra), the scheduler cannot be
        reached in time, or it has no worker.
    """
    spec = parse_scheduler(spec)
    if spec is None:
        return None
    if spec.kind == "local" and _worker_importing_main():
        # A worker process of a local cluster importing a script without the main guard:
        # it must not run the script (nor start a cluster of its own). It ends here, so
        # its cluster's start fails at once and the driver says why, once.
        raise SystemExit(1)
    import_distributed()
    session = Session(spec)
    timeout = max(float(timeout), 1.0)
    if wait:
        session._start(timeout)
        session.ready()
    else:
        session._thread = threading.Thread(target=session._start, args=(timeout,),
                                           name="peermatch-dask-start", daemon=True)
        session._thread.start()
    return session


# ------------------------------------------------------------------ worker side

_REPLICAS: dict[str, _Replica] = {}
_REPLICAS_LOCK = threading.Lock()


class _Replica:
    """A worker's copy of the driver's search state: the problem and the grouping."""

    def __init__(self, problem, labels: np.ndarray, options: dict, version: int):
        from .decompose import DecompositionSearch

        # rng unused: the driver draws every choice and seed
        self.search = DecompositionSearch(problem, labels, np.random.default_rng(0),
                                          {**options, "threads": 1})
        self.version = version
        self._scratch: list[np.ndarray] = []

    def reset(self, labels: np.ndarray, version: int) -> None:
        self.search.labels = np.asarray(labels, dtype=np.int64).copy()
        self.search.members_from_labels()
        self.version = version

    def take_pos(self) -> np.ndarray:
        return self._scratch.pop() if self._scratch else np.full(self.search.problem.n, -1,
                                                                 dtype=np.int64)


def _solve_remote(token: str, problem, options: dict, v_from: int, v_to: int,
                  rows: np.ndarray | None, vals: np.ndarray | None, full: np.ndarray | None,
                  groups: np.ndarray, seed: int, deadline_wall: float,
                  max_iter: int | None):
    """One sub-problem on a worker: catch the replica up to version ``v_to`` (a delta of
    changed labels, or the ``full`` grouping), then build, solve and summarise it."""
    from distributed import get_worker

    from .decompose import outcome

    addr = get_worker().address
    with _REPLICAS_LOCK:
        rep = _REPLICAS.get(token)
        if full is not None:
            if rep is None:
                rep = _REPLICAS[token] = _Replica(problem, full, options, v_to)
            elif rep.version != v_to:
                rep.reset(full, v_to)
        elif rep is None or not v_from <= rep.version <= v_to:
            # a new worker (or one restarted): it needs the whole grouping
            return ("sync", addr, None)
        elif rep.version != v_to:
            # the delta holds every label changed after v_from, at its v_to value, so it
            # brings any replica between v_from and v_to to v_to
            rep.search.sync_labels(rows, vals)
            rep.version = v_to
        pos = rep.take_pos()
    t0 = time.perf_counter()
    try:
        deadline = t0 + (deadline_wall - time.time())
        res = rep.search.compute(np.asarray(groups, dtype=np.int64), int(seed), pos, deadline,
                                  max_iter)
        out = outcome(groups, *res)
    finally:
        pos.fill(-1)
        rep._scratch.append(pos)
    return ("ok", addr, out, time.perf_counter() - t0)


def _drop_replica(token: str) -> None:
    with _REPLICAS_LOCK:
        _REPLICAS.pop(token, None)


# ------------------------------------------------------------------ driver side

def _gather(futures, seconds: float) -> list:
    """The results of ``futures`` within ``seconds``; None for each one that failed, was
    cancelled (its worker lost and the task forgotten) or is late (then cancelled)."""
    from distributed import wait

    end = time.perf_counter() + seconds
    while True:
        live = [f for f in futures if f.status == "pending"]
        if not live or time.perf_counter() >= end:
            break
        try:
            wait(live, timeout=max(end - time.perf_counter(), 0.01))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - timeout, or a future cancelled: see below
            time.sleep(0.01)
    out = []
    for f in futures:
        res = None
        if f.status == "finished":
            try:
                res = f.result(timeout=_GRACE)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 - lost between wait and result: None
                res = None
        elif f.status == "pending":
            f.cancel()
        out.append(res)
    return out


def _nbytes(*arrays) -> int:
    return int(sum(a.nbytes for a in arrays if a is not None))


def _index_dtype(n: int):
    return np.int32 if n < 2 ** 31 else np.int64


class DaskMap:
    """Executor of :class:`~peermatch.solve.decompose.DecompositionSearch` on Dask workers.

    Parameters
    ----------
    session : Session
        The connected cluster.
    problem : Problem
        Scattered once to every worker.
    options : dict
        The solver options (the workers' sub-problem settings).
    auto_batch : bool, default=False
        Once the cluster is up, raise the search's batch to four sub-problems per worker
        thread (the timed mode; the reproducible mode keeps the in-process batch).

    Notes
    -----
    Per task the driver sends the sub-problem's groups, its kernel seed, and the labels
    changed since that worker's last task (rows and labels, 4 bytes each); a worker new to
    this search (or restarted) receives the whole grouping once (``4 n`` bytes). It returns
    the new labels and group values of the sub-problem when it gained. :attr:`stats` counts
    rounds, tasks, full syncs, dropped sub-problems, the array bytes each way, the seconds
    the driver waited on rounds (``round_s``) and the seconds the workers spent on them
    (``worker_s``: catching up, building and solving).

    In the timed mode, rounds that come while the cluster is still starting are solved in
    this process (as without a scheduler: same sub-problems, same outcomes), so start-up
    never idles the search; the reproducible mode waits for the cluster. The problem is
    scattered on the first round on the cluster.
    """

    def __init__(self, session: Session, problem, options: dict, auto_batch: bool = False):
        self.session = session
        self.problem = problem
        self.options = {k: v for k, v in dict(options).items() if k != "threads"}
        self.n = int(problem.n)
        self.token = uuid.uuid4().hex
        self.auto_batch = auto_batch
        self.client = None
        self._problem = None
        self._pool = None
        self._idx = _index_dtype(max(self.n, int(problem.n_groups or 0)))
        self.version = 0
        self._log: list[tuple[int, np.ndarray]] = []   # (version, rows changed)
        self._synced: dict[str, int] = {}              # worker -> version of its replica
        self._round = 0
        self._answered: set[str] = set()
        self.stats = {"rounds": 0, "local_rounds": 0, "tasks": 0, "full_syncs": 0,
                      "dropped": 0, "scatter_s": None,
                      "scatter_bytes": int(getattr(problem.affinity, "nbytes", 0)),
                      "bytes_sent": 0, "bytes_received": 0, "max_bytes_round": 0,
                      "workers_used": 0, "worker_s": 0.0, "round_s": 0.0}

    # -- deltas --------------------------------------------------------------------
    def _payload(self, search, worker: str):
        """(v_from, rows, vals, full) bringing ``worker``'s replica to :attr:`version`."""
        v = self._synced.get(worker)
        if v is None:
            return -1, None, None, search.labels.astype(self._idx)
        if v == self.version:
            return v, None, None, None
        chunks = [r for ver, r in self._log if ver > v]
        rows = np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, np.int64)
        return v, rows.astype(self._idx), search.labels[rows].astype(self._idx), None

    def _trim_log(self, workers: list[str]) -> None:
        live = [self._synced[w] for w in workers if w in self._synced]
        for w in list(self._synced):
            if w not in workers:
                del self._synced[w]
        if live:
            low = min(live)
            self._log = [(ver, r) for ver, r in self._log if ver > low]

    def _submit(self, search, worker: str, t: int, groups, seed, deadline_wall, max_iter,
                full_sync: bool = False):
        if full_sync:
            v_from, rows, vals, full = -1, None, None, search.labels.astype(self._idx)
        else:
            v_from, rows, vals, full = self._payload(search, worker)
        self.stats["full_syncs"] += int(full is not None)
        sent = _nbytes(rows, vals, full, np.asarray(groups)) + 16
        self.stats["bytes_sent"] += sent
        self.stats["tasks"] += 1
        self._round_bytes += sent
        key = f"peermatch-sub-{self.token[:12]}-{self._round}-{t}{'-sync' if full_sync else ''}"
        return self.client.submit(
            _solve_remote, self.token, self._problem, self.options, v_from, self.version, rows,
            vals, full, np.asarray(groups, dtype=np.int64), int(seed), deadline_wall, max_iter,
            key=key, workers=[worker], allow_other_workers=True, pure=False, retries=1)

    def _collect(self, futures, deadline: float) -> list:
        """Results of ``futures`` (None for a failed, lost or late one)."""
        return _gather(futures, max(deadline - time.perf_counter(), 0.0) + _GRACE)

    # -- the executor hook -------------------------------------------------------------
    def _local(self, search, batch, deadline: float, max_iter: int | None) -> list:
        """The batch in this process (threads), as the search would without executor."""
        from .decompose import outcome

        self.stats["local_rounds"] += 1
        while len(search.scratch) < len(batch):
            search.scratch.append(np.full(self.n, -1, dtype=np.int64))

        def one(t):
            g, seed = batch[t]
            return outcome(g, *search.compute(g, seed, search.scratch[t], deadline, max_iter))

        if search.threads > 1 and len(batch) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=search.threads,
                                                thread_name_prefix="peermatch-sub")
            return list(self._pool.map(one, range(len(batch))))
        return [one(t) for t in range(len(batch))]

    def _ensure(self, search) -> None:
        """First round on the cluster: scatter the problem (once)."""
        if self.client is not None:
            return
        self.client = self.session.client
        t = time.perf_counter()
        self._problem = self.client.scatter(self.problem, broadcast=True, hash=False)
        self.stats["scatter_s"] = round(time.perf_counter() - t, 3)
        if self.auto_batch:
            # several sub-problems per worker thread and round: the round trip (a few
            # to ~100 ms on a loaded machine) is paid once per round, not per sub-problem
            search.batch = max(search.batch, _PER_THREAD * self.session.nthreads)

    def map(self, search, batch, deadline: float, max_iter: int | None) -> list:
        """One :class:`~peermatch.solve.decompose.SubOutcome` (None: dropped) per sub-problem."""
        if self.client is None and max_iter is None and not self.session.is_ready():
            # (not in the reproducible mode, which waits for the cluster as it waits for
            # the kernels to compile: where the work runs should not depend on the clock)
            return self._local(search, batch, deadline, max_iter)
        if self.client is None and not self.session.usable():  # no cluster: in process
            return self._local(search, batch, deadline, max_iter)
        self._ensure(search)
        t_round = time.perf_counter()
        self._round += 1
        self.stats["rounds"] += 1
        self._round_bytes = 0
        workers = self.session.workers()
        if not workers:  # every worker lost (and none back yet): this round here
            self.stats["rounds"] -= 1
            self._synced.clear()
            return self._local(search, batch, deadline, max_iter)
        deadline_wall = time.time() + (deadline - time.perf_counter())
        start = (self._round - 1) * len(batch)
        targets = [workers[(start + t) % len(workers)] for t in range(len(batch))]
        futures = [self._submit(search, w, t, g, s, deadline_wall, max_iter)
                   for t, (w, (g, s)) in enumerate(zip(targets, batch, strict=True))]
        results = self._collect(futures, deadline)
        # a task that ran on a worker without the replica (new, restarted, or not the one
        # chosen): once more with the whole grouping, on the worker that answered
        again = [t for t, r in enumerate(results) if r is not None and r[0] == "sync"]
        if again:
            retry = [self._submit(search, results[t][1], t, batch[t][0], batch[t][1],
                                  deadline_wall, max_iter, full_sync=True) for t in again]
            for t, r in zip(again, self._collect(retry, deadline), strict=True):
                results[t] = r
        outs = []
        for r in results:
            if r is None or r[0] != "ok":
                self.stats["dropped"] += 1
                outs.append(None)
                continue
            _, addr, o, seconds = r
            self.stats["worker_s"] += seconds
            self._synced[addr] = self.version
            self._answered.add(addr)
            self.stats["bytes_received"] += _nbytes(o.groups, o.rows, o.new_local, o.values) + 16
            outs.append(o)
        if any(r is None for r in results):
            workers = self.session.workers(refresh=True)
        changed = [o.rows for o in outs if o is not None and o.new_local is not None]
        if changed:
            self.version += 1
            self._log.append((self.version, np.concatenate(changed)))
        self._trim_log(workers)
        self.stats["max_bytes_round"] = max(self.stats["max_bytes_round"], self._round_bytes)
        self.stats["workers_used"] = len(self._answered)
        self.stats["round_s"] = round(self.stats["round_s"] + time.perf_counter() - t_round, 4)
        self.stats["worker_s"] = round(self.stats["worker_s"], 4)
        return outs

    def close(self) -> None:
        """Free the workers' replicas and the scattered problem."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.client is None:
            return
        try:
            self.client.run(_drop_replica, self.token, on_error="ignore")
            self.client.cancel([self._problem])
        except Exception:  # noqa: BLE001 - the cluster may already be gone
            pass


# ------------------------------------------------------------------ independent parts

def _detached(problem, base):
    """``problem`` with its FeatureAffinity view reduced to the view's own arrays (index
    map, soft-rule corrections) when it shares ``base``'s features, else as it is: a view
    pickles every candidate's features, which the workers hold once (scattered)."""
    A = problem.affinity
    if not (isinstance(A, FeatureAffinity) and A.shares_features(base)):
        return problem, False
    return problem.with_affinity(A.view_state), True


def _solve_part(problem, whole, kwargs: dict):
    """Solve one independent part on a worker (``whole``: the scattered FeatureAffinity
    whose features the part's detached view points into, or None)."""
    from distributed import get_worker

    from . import solve

    if whole is not None:
        problem = problem.with_affinity(whole.with_view_state(problem.affinity))
    res = solve(problem, **kwargs)
    res["worker"] = get_worker().address
    return dict(res)


def solve_parts(session: Session, jobs: list[dict], affinity, deadline: float) -> list:
    """Solve independent parts as whole tasks, at most one per worker thread at a time.

    Parameters
    ----------
    session : Session
    jobs : list of dict
        ``problem``, ``rows`` (in the whole table) and ``kwargs`` for
        :func:`peermatch.solve.solve` (its ``time_limit`` is set here).
    affinity : ndarray or FeatureAffinity
        The whole affinity. A FeatureAffinity is scattered once and each part's view
        (index map and corrections) is rebuilt on its worker: a view pickled as it is would
        carry every candidate's features.
    deadline : float
        ``time.perf_counter()`` by which all parts are solved: the parts run side by side,
        each with a share of ``seconds left * threads`` proportional to its size (at most
        the seconds left once the cluster is up).

    Returns
    -------
    list of SolveResult or None
        None for a part whose task failed (its worker lost twice): the caller solves it
        in process.
    """
    from ._result import SolveResult

    if not session.usable():  # waits for the start-up; no cluster: all parts in process
        return [None] * len(jobs)
    client = session.client
    time_limit = max(0.1, deadline - time.perf_counter())
    session.workers(refresh=True)
    slots = max(1, session.nthreads)
    total = sum(len(j["rows"]) for j in jobs) or 1
    whole = None
    if isinstance(affinity, FeatureAffinity):
        whole = client.scatter(affinity, broadcast=True, hash=False)
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i]["rows"]))  # largest first
    futures = {}
    t0 = time.perf_counter()
    for i in order:
        j = jobs[i]
        share = min(time_limit, max(0.1, time_limit * slots * len(j["rows"]) / total))
        kwargs = {**j["kwargs"], "time_limit": share}
        problem, detached = _detached(j["problem"], affinity)
        args = (problem, whole if detached else None, kwargs)
        futures[i] = client.submit(_solve_part, *args, pure=False, retries=1,
                                   key=f"peermatch-part-{uuid.uuid4().hex[:12]}-{i}")
    # a part stops at its time share; the margin covers transfers and a rescheduled task
    got = _gather([futures[i] for i in range(len(jobs))], time_limit + _GRACE + 60.0)
    out = [None if r is None else SolveResult(r) for r in got]
    if whole is not None:
        client.cancel([whole])
    for r in out:
        if r is not None:
            r["parts_wall_s"] = round(time.perf_counter() - t0, 3)
    return out
