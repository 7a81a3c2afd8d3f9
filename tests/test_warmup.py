"""The background warm-up of the compiled kernels: hand-over to the caller's thread, and
what a run says about it (a load from numba's disk cache is not a first compilation)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import peermatch as pm
from peermatch.affinity import FeatureAffinity
from peermatch.features import encode
from peermatch.scoring import Weights

ROOT = Path(__file__).resolve().parents[1]
KERNELS_SUB = "peermatch.solve._kernels_sub"


def _run(code: str, timeout: float = 240.0, cwd: Path | None = None,
         **env: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter (nothing loaded, no warm-up started)."""
    env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd or ROOT)


def _feature_affinity(n: int = 120) -> FeatureAffinity:
    table = pm.read_candidates(pm.synth_candidates(n, seed=3))
    return FeatureAffinity(encode(table), Weights())


def test_half_imported_kernel_module_reads_as_not_ready(monkeypatch):
    """While the warm-up thread imports the kernel module, it is in ``sys.modules`` without
    its names: a block is then computed with numpy, not an AttributeError."""
    A = _feature_affinity()
    rows = np.arange(0, 60)
    cols = np.arange(30, 120)
    with monkeypatch.context() as mp:
        mp.setitem(sys.modules, KERNELS_SUB, types.ModuleType(KERNELS_SUB))
        half = A.block(rows, cols)
    # a module still importing, READY not yet set to True: numpy too
    partial = types.ModuleType(KERNELS_SUB)
    partial.READY = False
    with monkeypatch.context() as mp:
        mp.setitem(sys.modules, KERNELS_SUB, partial)
        np.testing.assert_array_equal(A.block(rows, cols), half)
    np.testing.assert_allclose(half, A.block(rows, cols), rtol=1e-12, atol=1e-12)


# The kernel module's import is slowed down (its body runs 3 s after it enters
# sys.modules), so the run below starts while it is half imported, as on a busy machine.
_SLOW_IMPORT = """
import importlib.abc, importlib.util, sys, threading, time

NAME = "peermatch.solve._kernels_sub"
inside = threading.Event()

class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != NAME:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        body = spec.loader.exec_module

        def exec_module(module):
            inside.set()
            time.sleep(3.0)
            body(module)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Slow())
"""


def test_runs_started_while_the_kernels_load():
    """A fresh process starts the warm-up, and scores and solves at once while the kernel
    module is still being imported by the warm-up: no exception, a valid grouping."""
    out = _run(_SLOW_IMPORT + """
import importlib
import numpy as np
import pytest
import peermatch as pm
from peermatch.affinity import FeatureAffinity
from peermatch.features import encode
from peermatch.scoring import Weights
from peermatch.solve.local import kernels_ready

table = pm.read_candidates(pm.synth_candidates(600, seed=5))
A = FeatureAffinity(encode(table), Weights())
kernels_ready(True, 0.0)   # the warm-up of a run, in the background
kernels_ready(False, 0.0)
# the module's import, as the warm-up does it, caught in the middle
threading.Thread(target=importlib.import_module, args=(NAME,), daemon=True).start()
assert inside.wait(120), "the kernel module was never imported"
assert not hasattr(sys.modules[NAME], "READY")
rows = np.arange(600)
for r0 in range(0, 600, 100):  # scoring, block by block, as the construction does
    A.block(rows[r0:r0 + 100], rows)
assert not hasattr(sys.modules[NAME], "READY"), "the blocks came too late"
res = pm.match(table, time_limit=2.0, seed=1, options={"representation": "features"})
assert res.status in ("optimal", "feasible"), res.status
assert not res.violations(), res.violations()
print("OK", res.n_groups)
""")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OK" in out.stdout


def test_a_cached_load_is_waited_for_and_not_called_a_compilation(tmp_path):
    """With the kernels in numba's disk cache, a fresh process waits for their load: no
    numpy search in its place, and no "first run on this install" note."""
    from peermatch.solve.local import warm_up

    assert warm_up()  # in the disk cache from here on
    out = _run(f"""
import sys
from peermatch.cli import main
sys.exit(main(["match", {str(pm.example_path())!r}, "--out", "groups.csv",
               "--time-limit", "2", "--seed", "1"]))
""", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "compil" not in out.stdout + out.stderr, out.stdout
    assert (tmp_path / "groups.csv").exists()


def test_a_compilation_is_told_apart_from_a_cache_load(tmp_path):
    """An empty cache: the wait for the kernels ends as soon as numba starts to compile
    them (the caller then searches with numpy meanwhile), and the run knows it compiled."""
    out = _run("""
import os, time
from peermatch.solve.local import kernels_compiled, kernels_loaded
t = time.perf_counter()
loaded = kernels_loaded(True, t + 200.0)
print("RESULT", loaded, kernels_compiled(), round(time.perf_counter() - t, 1), flush=True)
os._exit(0)  # the compilation is not waited for
""", cwd=tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "cache"))  # empty: every kernel compiles
    assert out.returncode == 0, out.stderr[-3000:]
    loaded, compiled, seconds = out.stdout.split("RESULT")[1].split()
    assert (loaded, compiled) == ("False", "True")
    assert float(seconds) < 60.0  # a full compilation takes minutes on a busy machine


def test_a_script_without_the_main_guard_falls_back_to_in_process(tmp_path):
    """A script with no ``if __name__ == "__main__":`` guard asks for a local cluster: the
    workers cannot start (they import the script again). The run goes on in this process,
    once, with one warning naming the cause and the fix; no traceback."""
    pytest.importorskip("distributed")
    script = tmp_path / "groups.py"
    script.write_text(textwrap.dedent("""
        import peermatch as pm
        res = pm.match(pm.synth_candidates(200, seed=1), time_limit=3, seed=0,
                       scheduler="local:2")
        print("RESULT", res.status, res.summary()["solver"]["distributed"]["workers"])
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("RESULT") == 1, out.stdout  # the workers did not run it again
    assert "RESULT feasible 0" in out.stdout
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert "ClusterStartWarning" in out.stderr and str(script) in out.stderr
    assert 'if __name__ == "__main__":' in out.stderr


def test_text_kernels_load_from_the_disk_cache_in_a_later_process():
    """The text columns' kernels are cached like the solver's: once compiled, a fresh
    process loads every one of them (no cache miss, so no compilation)."""
    code = """
        from peermatch import _jitcfg, _textjit as J
        from peermatch.textkernel import warm_up
        warm_up()
        kernels = (J.band, J.block, J.sym, J.dense)
        print(_jitcfg.CACHE, sum(sum(k.stats.cache_hits.values()) for k in kernels),
              sum(sum(k.stats.cache_misses.values()) for k in kernels))
    """
    first = _run(code)
    assert first.returncode == 0, first.stderr
    if first.stdout.split()[0] != "True":
        pytest.skip("no writable folder for numba's cache here")
    second = _run(code)
    assert second.returncode == 0, second.stderr
    _, hits, misses = second.stdout.split()
    assert int(misses) == 0 and int(hits) >= 4
