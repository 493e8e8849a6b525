"""The Gradescope autograder zip, run against a fake /autograder tree."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import jsonschema
import pytest

from autograder import kit
from autograder.gradescope import write_zip

SCHEMA = json.loads((kit.ROOT / "autograder" / "schemas" / "gradescope_results.schema.json").read_text())
SAMPLE = kit.ROOT / "examples" / "class"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    write_zip(path)
    return path


def fake_root(tmp_path, autograder_zip, submission):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    target = root / "submission"
    if submission.is_dir():
        shutil.copytree(submission, target)
    else:
        target.mkdir()
        shutil.copy(submission, target)
    return root


def run_autograder(root, **env):
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                   "RNN_KIT_TIMEOUT": "2", **env}
    result = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    return data


def test_the_zip_has_setup_and_run_autograder_at_its_root_and_the_hidden_checks_inside(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "autograder/checks/rnn.py", "solutions/rnn.py"} <= names
        assert stat.S_IMODE(archive.getinfo("run_autograder").external_attr >> 16) & 0o111
        assert "BEGIN HIDDEN TESTS" in archive.read("autograder/checks/rnn.py").decode()


@pytest.mark.parametrize("student", ["ada", "cara", "hugo", "ivy", "jon", "mia.zip"])
def test_run_autograder_grades_a_submission_into_results_json(student, autograder_zip, tmp_path):
    root = fake_root(tmp_path, autograder_zip, SAMPLE / student)
    data = run_autograder(root)
    name = student.removesuffix(".zip")
    assert data["score"] == pytest.approx(EXPECTED[name]["total"])
    failed = sorted(t["extra_data"]["check"] for t in data["tests"] if t["status"] == "failed")
    assert failed == EXPECTED[name]["fails"]
    assert any(t["visibility"] == "after_published" for t in data["tests"])


def test_an_unreadable_submission_still_gets_a_valid_results_file(autograder_zip, tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("this is not JSON")
    root = fake_root(tmp_path, autograder_zip, broken)
    data = run_autograder(root)
    assert data["score"] == 0
    assert "not a readable notebook" in json.dumps(data) or "found none of" in json.dumps(data)


def test_a_grader_killed_by_the_time_budget_still_leaves_a_valid_results_file(autograder_zip, tmp_path):
    root = fake_root(tmp_path, autograder_zip, SAMPLE / "jon")
    data = run_autograder(root, AUTOGRADER_BUDGET="1")
    assert data["score"] == 0 and "stopped before it could finish" in data["output"]


def test_run_autograder_refuses_to_grade_unconfined_and_says_it_is_not_a_score(autograder_zip, tmp_path):
    root = fake_root(tmp_path, autograder_zip, SAMPLE / "ada")
    data = run_autograder(root, RNN_KIT_NO_BWRAP="1", RNN_KIT_NO_LANDLOCK="1")
    assert data["tests"] == [] and "this is not your score" in data["output"]
    assert "below the required 'landlock'" in data["extra_data"]["sandbox_refused"]
    allowed = run_autograder(fake_root(tmp_path / "anyway", autograder_zip, SAMPLE / "ada"), RNN_KIT_NO_BWRAP="1",
                             RNN_KIT_NO_LANDLOCK="1", RNN_KIT_REQUIRE_SANDBOX="none")
    assert allowed["score"] == pytest.approx(EXPECTED["ada"]["total"])
