"""Every notebook runs top to bottom through a real kernel: with the reference filled in, and as generated.

A fresh skeleton notebook must survive "Run All": its check cell reports every function as
not implemented yet, and each demo says in one line which function it is waiting for.
No test here passes `allow_errors`.
"""
import re

import nbformat
import pytest

from autograder import kit
from autograder.build import module_notebook

nbclient = pytest.importorskip("nbclient")

SKIPPED = re.compile(r"demo skipped: \w+ is not implemented yet "
                     r"\((its cell above|exercises/\w+\.py) still raises NotImplementedError\)")


def _execute(nb, tmp_path):
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _check_cell_index(nb, module):
    cells = _code_cells(nb)
    return next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == f"{module}_self_check")


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("module", kit.MODULES)
def test_the_notebook_runs_every_cell_with_the_reference_filled_in(module, tmp_path, monkeypatch):
    nb = module_notebook(module, with_solutions=True)
    monkeypatch.setenv("RNN_KIT_IMPL", "solutions")  # the memory and bptt demos use the other parts
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _execute(nb, tmp_path)
    outputs = "\n".join(_text(cell) for cell in _code_cells(nb))
    assert f"{module} self-check: score per part" in outputs
    assert "Every check run here passed." in outputs
    assert "FAIL" not in outputs
    assert "demo skipped" not in outputs
    outs = [o for c in _code_cells(nb) for o in c.get("outputs", [])]
    assert [o for o in outs if o.output_type == "error"] == []
    assert [o for o in outs if o.output_type == "stream" and o.name == "stderr"] == []
    check_cell = _code_cells(nb)[_check_cell_index(nb, module)]
    assert [o.output_type for o in check_cell.outputs if o.output_type != "stream"] == []  # no echoed dict


@pytest.mark.parametrize("module", kit.MODULES)
def test_the_generated_skeleton_notebook_runs_to_the_end(module, tmp_path, monkeypatch):
    """exercises/notebooks/<module>.ipynb as shipped: "Run All" reaches the last cell.

    The inline backend is left on (no MPLBACKEND), so a figure a skipped demo had begun
    would show up as display_data.
    """
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("RNN_KIT_IMPL", raising=False)  # the demos load exercises/*.py: skeletons too
    nb = _execute(nbformat.read(kit.NOTEBOOKS / f"{module}.ipynb", as_version=4), tmp_path)
    cells = _code_cells(nb)
    at = _check_cell_index(nb, module)
    for cell in cells:
        kinds = [(o.output_type, o.get("name")) for o in cell.get("outputs", [])]
        assert set(kinds) <= {("stream", "stdout")}, (cell.source[:80], kinds, _text(cell))
    assert all(not c.outputs for c in cells[:at]), "the setup and answer cells print nothing"
    report = _text(cells[at])
    assert f"{module} self-check: score per part" in report
    first = kit.functions_by_module()[module][0]
    assert f"Next thing to fix: {first} ({module}.py)" in report
    assert f"todo {first} (" in report and f"not implemented yet: {first}: " in report
    assert "FAIL" not in report and "Traceback" not in report
    demos = cells[at + 1:]
    assert demos, "every notebook has at least one demo"
    for cell in demos:
        lines = _text(cell).splitlines()
        assert len(lines) == 1 and SKIPPED.fullmatch(lines[0]), (cell.source[:80], lines)
