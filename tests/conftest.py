"""Shared test settings: which tests share a worker when the suite runs in parallel.

``make test`` runs the suite with pytest-xdist (``-n``: one more than the cores;
``--dist loadgroup``). Every test is independent of the others, but a few modules build
something that takes seconds (the
executed notebook, the lifecycle figures, a Dask cluster whose worker-killing test runs
last, the fairness runs several tests check), and the docs pages that call ``make demo``
share one run of it. Each of those sets runs on one worker, so each is built once and
two Dask clusters never compete for the cores.

The sets are named here by test id rather than by ``xdist_group`` marks, which this
version of pytest-xdist cannot attach (it rewrites a node id attribute pytest no longer
reads): :class:`SharedWorkerScheduling` reads :func:`shared_group` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Test modules whose tests run on one worker (their module fixture is built once there).
SHARED_MODULES = {
    "tests/test_notebook.py": "notebook",       # the notebook, executed once
    "tests/test_lifecycle.py": "lifecycle",     # the lifecycle figures
    "tests/test_distributed.py": "dask",        # one LocalCluster; the worker kill runs last
    "tests/test_fairness.py": "fairness",       # the runs several tests check, made once
    "tests/test_app.py": "app",                 # one workbench session, run once
    "tests/test_app_browser.py": "browser",     # one server and browser; tests in order
}
_DOCS_PAGE = "tests/test_docs_blocks.py::test_every_block_of_the_page_runs["


def shared_group(nodeid: str) -> str | None:
    """The set of tests that ``nodeid`` must share a worker with, or None."""
    group = SHARED_MODULES.get(nodeid.split("::", 1)[0])
    if group is None and nodeid.startswith(_DOCS_PAGE):
        page = nodeid[len(_DOCS_PAGE):].rstrip("]")
        path = ROOT / page if page == "README.md" else ROOT / "docs" / page
        if path.is_file() and "make demo" in path.read_text(encoding="utf-8"):
            group = "make-demo"  # the demo runs once per worker (a session fixture)
    return group


try:
    from xdist.scheduler import LoadGroupScheduling
except ImportError:  # pytest-xdist not installed: the suite runs serially
    LoadGroupScheduling = None

if LoadGroupScheduling is not None:

    class SharedWorkerScheduling(LoadGroupScheduling):
        """``--dist loadgroup`` with the shared sets of :func:`shared_group` as groups."""

        def _split_scope(self, nodeid: str) -> str:
            group = shared_group(nodeid)
            return f"shared:{group}" if group else super()._split_scope(nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadgroup":
            return SharedWorkerScheduling(config, log)
        return None


@pytest.fixture(scope="session", autouse=True)
def solver_kernels_loaded():
    """Load the solver's compiled kernels before the first test of each test process.

    ``make test`` compiles them once after installing; each process still loads them
    from the disk cache (about a second, more on a busy machine). Loaded up front, that
    second is no test's time budget, and reproducible runs (seed + max_iter) take the
    compiled path from their first call. Tests of the cold start make the kernels
    unready themselves.
    """
    from peermatch.solve.local import warm_up

    warm_up()
