"""The tuning notebook runs headless from top to bottom and shows its story in pictures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tune_weights.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed():
    with pytest.MonkeyPatch.context() as mp:
        # The kernel is a child process: it finds peermatch from the repository root.
        path = os.environ.get("PYTHONPATH", "")
        mp.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), path) if p))
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(ROOT)}})
        client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _outputs(nb):
    return [(k, o) for k, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", [])]


def test_notebook_runs_without_errors(executed):
    assert [o for _, o in _outputs(executed) if o.get("output_type") == "error"] == []
    text = "\n".join(o.get("text", "") for _, o in _outputs(executed)
                     if o.get("output_type") == "stream")
    assert "500 candidates" in text
    assert "broken rules: []" in text
    assert "re-formed groupings" in text and "broken rules: 0" in text
    assert "grouping score: A" in text
    assert re.search(r"5 text weights in [\d.]+s; broken rules: 0\n", text)


def test_notebook_shows_its_story_in_pictures(executed):
    images = [k for k, o in _outputs(executed) if "image/png" in o.get("data", {})]
    # at a glance, the weight sweep, the two weightings side by side, the text weight
    assert len(images) >= 4
    assert len(set(images)) >= 4  # pictures in four different cells, not one cell's
    tables = [o for _, o in _outputs(executed) if "text/html" in o.get("data", {})]
    assert len(tables) >= 3  # weakest groups, the sweep, the A/B comparison


def test_key_outputs_do_not_depend_on_widgets(executed):
    """Only the optional last cell (sliders) shows widgets; everything before it is plain
    output: printed text, tables and images that render anywhere (GitHub, nbviewer)."""
    code = [k for k, c in enumerate(executed.cells) if c.cell_type == "code"]
    with_widgets = {k for k, o in _outputs(executed) if WIDGET_VIEW in o.get("data", {})}
    assert with_widgets <= {code[-1]}


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3"
