"""Solving on a Dask cluster: same groups as in process, no candidate lost with a worker.

The cluster tests share one LocalCluster (2 worker processes, 1 thread each); the test
that kills a worker runs last. Groupings are checked by tests/validator.py on the CSV
cells, not by the solver's own checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.errors import ConfigError
from peermatch.problem import Problem
from peermatch.solve.distributed import parse_scheduler

from .validator import violations as csv_violations

# -- no Dask needed -------------------------------------------------------------------


@pytest.mark.parametrize("spec, kind, n, address", [
    ("local", "local", None, None),
    (" Local:4 ", "local", 4, None),
    ("tcp://10.1.2.3:8786", "address", None, "tcp://10.1.2.3:8786"),
    ("tls://sched.example.org:8786", "address", None, "tls://sched.example.org:8786"),
])
def test_parse_scheduler_accepts(spec, kind, n, address):
    s = parse_scheduler(spec)
    assert (s.kind, s.n_workers, s.address) == (kind, n, address)


@pytest.mark.parametrize("spec", ["", "remote", "local:0", "local:x", "tcp://host",
                                  "http://host:8786", "tcp://:8786", 3, 2.5])
def test_parse_scheduler_rejects_with_the_accepted_forms(spec):
    with pytest.raises(ConfigError, match="scheduler"):
        parse_scheduler(spec)


def _block_dask(monkeypatch):
    # what an install without the extra looks like: "import distributed" fails
    monkeypatch.setitem(sys.modules, "distributed", None)


def test_without_dask_the_scheduler_names_the_extra(monkeypatch):
    _block_dask(monkeypatch)
    df = pm.synth_candidates(40, seed=3)
    with pytest.raises(ConfigError, match=r"pip install 'peermatch\[distributed\]'"):
        pm.match(df, min_size=4, max_size=6, time_limit=1, scheduler="local:2")
    # ... and nothing else needs Dask
    res = pm.match(df, min_size=4, max_size=6, time_limit=1, seed=0)
    assert res.success and res.validate() == []
    assert "distributed" not in res.summary()["solver"]


def test_cli_without_dask_exits_2_naming_the_extra(monkeypatch, tmp_path, capsys):
    _block_dask(monkeypatch)
    src = tmp_path / "c.csv"
    pm.synth_candidates(40, seed=3).to_csv(src, index=False)
    out = tmp_path / "g.csv"
    code = main(["match", str(src), "--out", str(out), "--min-size", "4", "--max-size", "6",
                 "--time-limit", "1", "--scheduler", "local:2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "peermatch[distributed]" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_bad_scheduler_exits_2(tmp_path, capsys):
    src = tmp_path / "c.csv"
    pm.synth_candidates(40, seed=3).to_csv(src, index=False)
    code = main(["match", str(src), "--out", str(tmp_path / "g.csv"), "--min-size", "4",
                 "--max-size", "6", "--scheduler", "somewhere"])
    assert code == 2
    assert "tcp://host:8786" in capsys.readouterr().err


def test_importing_peermatch_does_not_import_dask():
    code = ("import sys, peermatch, peermatch.cli, peermatch.solve.distributed; "
            "print('distributed' in sys.modules, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.split() == ["False", "False"]


def _search_problem(n=1200, m=120, seed=0):
    from peermatch.solve.construct import stream_greedy

    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, 4))
    A = F @ F.T
    np.fill_diagonal(A, 0)
    pairs = rng.integers(0, n, size=(n // 4, 2))
    problem = Problem(A, min_size=8, max_size=12, n_groups=m,
                      cannot_link=pairs[pairs[:, 0] != pairs[:, 1]])
    start = stream_greedy(problem, m, np.random.default_rng(1))
    assert start is not None
    return problem, start


class _Sequential:
    """An executor doing in this process what a Dask worker does (build, solve, outcome)."""

    def __init__(self):
        self.batches = 0

    def map(self, search, batch, deadline, max_iter):
        from peermatch.solve.decompose import outcome

        self.batches += 1
        pos = np.full(search.problem.n, -1, dtype=np.int64)
        return [outcome(g, *search.compute(g, s, pos, deadline, max_iter)) for g, s in batch]


def test_executor_hook_gives_the_thread_results_and_replicas_catch_up():
    from peermatch.solve.decompose import DecompositionSearch

    problem, start = _search_problem()
    deadline = time.perf_counter() + 120
    here = DecompositionSearch(problem, start, np.random.default_rng(3), {})
    ex = _Sequential()
    there = DecompositionSearch(problem, start, np.random.default_rng(3), {}, executor=ex)
    replica = DecompositionSearch(problem, start, np.random.default_rng(0), {"threads": 1})
    try:
        for _ in range(5):
            here.step(deadline, 200)
            there.step(deadline, 200)
        np.testing.assert_array_equal(there.labels, here.labels)
        assert ex.batches == 5 and there.n_improved > 0
        assert there.value == pytest.approx(problem.objective(there.labels), rel=1e-12)
        # a replica given only the changed labels holds the same members as the driver
        rows = np.flatnonzero(replica.labels != there.labels)
        replica.sync_labels(rows, there.labels[rows])
        np.testing.assert_array_equal(replica.labels, there.labels)
        for g in range(problem.n_groups):
            np.testing.assert_array_equal(replica.members[g], there.members[g])
    finally:
        here.close()


# -- on a LocalCluster ----------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    import logging

    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _check_csv(df, res, lo, hi, rules=None):
    out = res.groups
    assert csv_violations(df.astype(str), out.astype(str), lo, hi, rules=rules) == []
    assert out["group"].notna().all() and len(out) == len(df)


def test_reproducible_mode_gives_the_in_process_groups(client):
    df = pm.synth_candidates(3000, seed=2)
    # the features representation (what runs above 5,000 candidates), max_iter: reproducible
    kw = dict(min_size=8, max_size=12, time_limit=120, seed=4,
              options={"max_iter": 2500, "representation": "features"})
    here = pm.match(df, **kw)
    there = pm.match(df, scheduler=client, **kw)
    assert there.solver.get("decomposition")
    np.testing.assert_array_equal(there.labels, here.labels)
    assert there.score == pytest.approx(here.score, rel=0, abs=1e-9)
    _check_csv(df, there, 8, 12)
    d = there.summary()["solver"]["distributed"]
    assert d["scheduler"] == "client" and d["workers"] == 2 and d["workers_used"] == 2
    assert d["tasks"] >= 2 * d["rounds"] - 2 and d["dropped"] == 0
    # after the first task per worker, only changed labels travel: well under the whole
    # grouping (4 bytes a candidate) per task, even at this small size where a task's
    # delta is the members of the few sub-problems solved since that worker's last one
    # (the first round gives each worker two of its four tasks before any replica exists,
    # so each worker can get the whole grouping twice; never again after that round)
    assert 2 <= d["full_syncs"] <= 4
    assert d["bytes_sent"] < d["full_syncs"] * 4 * 3000 + d["tasks"] * 0.5 * 4 * 3000


def test_parts_run_as_tasks_with_the_in_process_groups(client):
    # seed 4: ten parts, each built greedily (with seed 5 one part spends ~15 s in the
    # min-conflicts repair, in process and again on a worker, which this test is not about)
    df = pm.synth_candidates(1200, seed=4)
    rules = pm.Rules(separate_tiers=True, same_region=True)
    # a time limit that never binds (each part gets a share of it in process)
    kw = dict(min_size=5, max_size=8, rules=rules, time_limit=300, seed=1, method="local",
              options={"max_iter": 2000})
    here = pm.match(df, **kw)
    there = pm.match(df, scheduler=client, **kw)
    assert here.success and there.success
    np.testing.assert_array_equal(there.labels, here.labels)
    d = there.solver["distributed"]
    assert d["parts"] == d["parts_on_workers"] == len(here.parts) > 2
    assert len(d["part_workers"]) == 2
    _check_csv(df, there, 5, 8, rules)
    for p in there.parts:  # no group mixes tiers or regions
        vals = df.iloc[p.rows][["tier", "region"]].drop_duplicates()
        assert len(vals) == 1


def test_replicas_lost_between_rounds_are_rebuilt_with_the_same_result(client):
    from peermatch.solve.decompose import DecompositionSearch
    from peermatch.solve.distributed import DaskMap, _drop_replica, connect

    problem, start = _search_problem()
    deadline = time.perf_counter() + 120
    here = DecompositionSearch(problem, start, np.random.default_rng(7), {})
    session = connect(client)
    dm = DaskMap(session, problem, {})
    there = DecompositionSearch(problem, start, np.random.default_rng(7), {}, executor=dm)
    try:
        for step in range(8):
            if step == 4:  # every worker forgets its replica (as a restarted one would)
                before = dm.stats["full_syncs"]
                client.run(_drop_replica, dm.token)
            here.step(deadline, 300)
            there.step(deadline, 300)
            np.testing.assert_array_equal(there.labels, here.labels)
        assert dm.stats["full_syncs"] > before and dm.stats["dropped"] == 0
        assert there.value == pytest.approx(here.value, abs=1e-9) and there.n_improved > 0
    finally:
        dm.close()
        here.close()


def test_cli_reports_the_scheduler(client, tmp_path, capsys):
    src = tmp_path / "c.csv"
    pm.synth_candidates(300, seed=3).to_csv(src, index=False)
    addr = client.scheduler.address
    code = main(["match", str(src), "--out", str(tmp_path / "g.csv"), "--min-size", "8",
                 "--max-size", "12", "--time-limit", "3", "--scheduler", addr, "--json"])
    assert code == 0
    s = json.loads(capsys.readouterr().out)
    d = s["solver"]["distributed"]
    assert d["scheduler"] == addr and d["workers"] == 2
    assert s["violations"] == [] and s["placed"] == 300


def test_local_spec_starts_and_closes_its_cluster(client, tmp_path, capsys):
    import multiprocessing

    before = {p.pid for p in multiprocessing.active_children()}
    df = pm.synth_candidates(1500, seed=6)
    kw = dict(min_size=8, max_size=12, time_limit=120, seed=2, options={"max_iter": 200})
    res = pm.match(df, scheduler="local:1", **kw)
    d = res.summary()["solver"]["distributed"]
    assert d["scheduler"] == "local:1" and d["workers"] == 1
    np.testing.assert_array_equal(res.labels, pm.match(df, **kw).labels)
    # the cluster of the call is gone: no worker process of it is left
    time.sleep(1.0)
    assert {p.pid for p in multiprocessing.active_children()} <= before
    # and the command line says where it ran
    src = tmp_path / "c.csv"
    pm.synth_candidates(200, seed=3).to_csv(src, index=False)
    code = main(["match", str(src), "--out", str(tmp_path / "g.csv"), "--min-size", "8",
                 "--max-size", "12", "--time-limit", "3", "--scheduler",
                 client.scheduler.address])
    assert code == 0
    assert f"scheduler {client.scheduler.address}" in capsys.readouterr().out


async def _die():
    os._exit(1)


def test_a_killed_worker_loses_no_candidate(client, monkeypatch):
    """Runs last: a worker is killed while its tasks of a round are in flight (its nanny
    starts a new one); the search goes on and every candidate is placed once."""
    from peermatch.solve.distributed import DaskMap
    from peermatch.solve.local import kernels_ready

    far = time.perf_counter() + 600
    assert kernels_ready(True, far) and kernels_ready(False, far)  # no numpy-engine phase
    collect, seen = DaskMap._collect, {"rounds": 0, "killed": None}

    def kill_in_round_3(self, futures, deadline):
        seen["rounds"] += 1
        if seen["rounds"] == 3 and seen["killed"] is None:
            seen["killed"] = sorted(self.session.workers())[0]
            self.client.run(_die, workers=[seen["killed"]], wait=False)
        return collect(self, futures, deadline)

    monkeypatch.setattr(DaskMap, "_collect", kill_in_round_3)
    df = pm.synth_candidates(3000, seed=8)
    # an iteration budget of about nine rounds ends the run (2-3 s); the time limit is
    # only a safety net
    res = pm.match(df, min_size=8, max_size=12, time_limit=60, seed=0, scheduler=client,
                   options={"representation": "features", "max_iter": 4000})
    assert seen["killed"] is not None
    d = res.summary()["solver"]["distributed"]
    assert d["rounds"] > 3  # the search went on after the loss
    assert res.success and res.validate() == []
    assert (res.labels >= 0).all() and len(res.labels) == 3000
    _check_csv(df, res, 8, 12)
    deadline = time.time() + 30
    while seen["killed"] in client.nthreads() and time.time() < deadline:
        time.sleep(0.2)
    assert seen["killed"] not in client.nthreads()
