"""Every notebook runs top to bottom with the reference filled in (through a real kernel)."""
import os

import nbformat
import pytest

from autograder import kit
from autograder.build import module_notebook

nbclient = pytest.importorskip("nbclient")


@pytest.mark.parametrize("module", kit.MODULES)
def test_the_notebook_runs_every_cell_with_the_reference_filled_in(module, tmp_path, monkeypatch):
    nb = module_notebook(module, with_solutions=True)
    monkeypatch.setenv("RNN_KIT_IMPL", "solutions")  # the memory demos use the rnn/lstm/gru parts
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "\n".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert f"{module} self-check: score per part" in outputs
    assert "Every check run here passed." in outputs
    assert "FAIL" not in outputs
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    stderr = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == []


def test_the_skeleton_notebook_self_check_reports_not_implemented(tmp_path):
    nb = nbformat.read(kit.NOTEBOOKS / "rnn.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and "plt." in c.source)]
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "not implemented yet: rnn_step" in text
    assert "Next thing to fix: rnn_step" in text
