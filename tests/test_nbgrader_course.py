"""The nbgrader course, run through nbgrader's own CLI and gradebook on this machine."""
import json
import shutil
import subprocess
import sys

import pytest

from autograder import kit
from autograder.build import _module_parts
from autograder.course import write_course
from autograder.grading import grade
from autograder.sample_class import _student_code

pytest.importorskip("nbgrader")
ASSIGNMENT = "ps1"


def nbgrader(course, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                            timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    # the generated nbgrader_config.py sets only options this nbgrader has (0.9 dropped db_assignments)
    assert "not recognized" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]
    return result


def reference_function(name):
    for module in kit.MODULES:
        for function, source in _module_parts(module)[2]:
            if function == name:
                return _student_code(source).rstrip("\n")
    raise KeyError(name)


def fill(notebook, *, only=None, change=None, notebooks=None):
    """A released notebook with its answer cells replaced by the reference (some of them, or changed);
    with `notebooks`, a notebook not named there is handed in as released."""
    nb = json.loads(notebook.read_text())
    if notebooks is not None and notebook.stem not in notebooks:
        return json.dumps(nb)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            name = meta["grade_id"].split("__")[-1]
            if only is not None and name not in only:
                continue
            source = reference_function(name)
            for old, new in (change or {}).get(name, ()):
                assert old in source
                source = source.replace(old, new)
            cell["source"] = source
    return json.dumps(nb)


STUDENTS = {
    "full": {},
    "empty": {"notebooks": ()},  # every notebook as released
    # half and half: three notebooks filled in (with the copies of earlier parts they carry), the others as released
    "partial": {"notebooks": ("feedforward", "rnn", "lstm")},

    "mistake": {"change": {"lstm_gates": [("a_i, a_f, a_g, a_o = np.split", "a_i, a_f, a_o, a_g = np.split")]}},
    "crash": {"change": {"rnn_readout": [("return h @ Wy + by", "import os\n    os._exit(1)")]}},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    write_course(root, ASSIGNMENT)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    for student, how in STUDENTS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for notebook in sorted((root / "release" / ASSIGNMENT).glob("*.ipynb")):
            (folder / notebook.name).write_text(fill(notebook, **how))
    nbgrader(root, "autograde", ASSIGNMENT, "--force", "--create")
    return root


def gradebook_scores(root):
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            submission = gb.find_submission(ASSIGNMENT, student)
            out[student] = {nb.name: nb.score for nb in submission.notebooks}
    return out


def test_the_course_readme_says_students_need_the_handout_installed(course):
    text = (course / "README.md").read_text()
    assert "pip install -e handout/" in text and "rnn-grade release handout/" in text
    assert f"nbgrader autograde {ASSIGNMENT} --create" in text


def test_the_release_has_no_solutions_and_no_hidden_checks(course):
    for notebook in (course / "release" / ASSIGNMENT).glob("*.ipynb"):
        text = notebook.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and 'run(\\"hidden\\")' not in text
        assert "raise NotImplementedError()" in text


def test_test_cells_are_locked_schema_3_and_their_points_add_up_to_100(course):
    total = 0.0
    for notebook in (course / "source" / ASSIGNMENT).glob("*.ipynb"):
        nb = json.loads(notebook.read_text())
        ids = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c["metadata"]]
        assert len(ids) == len(set(ids))
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader")
            if meta and meta["grade"]:
                assert meta["locked"] and meta["schema_version"] == 3 and meta["points"] > 0
                total += meta["points"]
    assert total == pytest.approx(100.0)


def test_nbgrader_scores_in_the_gradebook_equal_rnn_grade_on_the_same_notebooks(course):
    scores = gradebook_scores(course)
    assert sum(scores["full"].values()) == pytest.approx(100.0)
    assert 0 < sum(scores["partial"].values()) < sum(scores["mistake"].values()) < 100.0
    for student in STUDENTS:
        ours = grade(course / "submitted" / student / ASSIGNMENT, timeout=10)
        by_module = {m: sum(r.score for r in ours.results if r.module == m) for m in kit.MODULES}
        for module in kit.MODULES:
            assert scores[student][module] == pytest.approx(by_module[module]), (student, module)


def test_every_mix_of_filled_and_released_notebooks_scores_what_nbgrader_gives(course, tmp_path):
    """Any mix of filled and released notebooks: each notebook scores as in the full or the empty hand-in.

    nbgrader runs every notebook on its own, so its score per notebook is the full or the empty one (the
    gradebook shows it for the half-and-half student). For rnn-grade, a part could lean on another part's
    notebook; each notebook filled in alone shows it does not: its own part scores as in the full hand-in,
    every other part as in the empty one. With the gradebook test (full, empty and half-and-half equal
    nbgrader's, part by part), every one of the 2 ** 7 mixes agrees.
    """
    scores = gradebook_scores(course)
    for module in kit.MODULES:
        expected = "full" if module in STUDENTS["partial"]["notebooks"] else "empty"
        assert scores["partial"][module] == pytest.approx(scores[expected][module]), module
    assert sum(scores["empty"].values()) < 5  # what a released notebook earns (the checks that pass on zeros)
    release = sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))
    for alone in kit.MODULES:
        folder = tmp_path / alone
        folder.mkdir()
        for notebook in release:
            (folder / notebook.name).write_text(fill(notebook, notebooks=(alone,)))
        ours = grade(folder, timeout=10)
        for module in kit.MODULES:
            got = sum(r.score for r in ours.results if r.module == module)
            assert got == pytest.approx(scores["full" if module == alone else "empty"][module]), (alone, module)


def test_a_failing_test_cell_shows_the_kit_message_and_nothing_on_stderr(course):
    nb = json.loads((course / "autograded" / "mistake" / ASSIGNMENT / "lstm.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_lstm_gates")
    text = "".join("".join(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")
    assert "Likely cause: the gates are read in CS231n's order" in text
    assert not any(o["output_type"] == "stream" and o["name"] == "stderr"
                   for c in nb["cells"] for o in c.get("outputs", []))


def test_nbgrader_validate_passes_a_filled_release_and_fails_the_raw_one(course, tmp_path):
    released = course / "release" / ASSIGNMENT / "rnn.ipynb"
    filled = tmp_path / "rnn.ipynb"
    filled.write_text(fill(released))
    good = nbgrader(tmp_path, "validate", str(filled), check=False)
    assert "Success! Your notebook passes all the tests." in good.stdout, good.stdout + good.stderr
    raw = tmp_path / "raw" / "rnn.ipynb"
    raw.parent.mkdir()
    shutil.copy(released, raw)
    bad = nbgrader(tmp_path, "validate", str(raw), check=False)
    assert "failed" in (bad.stdout + bad.stderr).lower()
    assert "not implemented yet" in bad.stdout + bad.stderr
