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
from autograder.sandbox import confine

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


#: Gradescope's containers cannot create namespaces: every run here has bubblewrap disabled, as there
NO_NAMESPACES = {"RNN_KIT_NO_BWRAP": "1"}
HAS_LANDLOCK = confine.landlock_abi() >= 1
#: the sample class as handed in: a folder per student, and mia's zip
STUDENTS = sorted(p.name for p in SAMPLE.iterdir() if p.is_dir() or p.suffix == ".zip")


def run_autograder(root, **env):
    """Run the zip's run_autograder on the fake tree `root`, as Gradescope does (no namespaces); return results.json."""
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                   "RNN_KIT_TIMEOUT": "2", **NO_NAMESPACES, **env}
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


def test_the_sample_class_is_every_student_with_an_expected_grade():
    assert [s.removesuffix(".zip") for s in STUDENTS] == sorted(EXPECTED) and len(STUDENTS) == 14


needs_landlock = pytest.mark.skipif(not HAS_LANDLOCK, reason="this kernel has no Landlock: without namespaces "
                                    "run_autograder refuses to grade (test_run_autograder_refuses_... shows it)")


@needs_landlock
@pytest.mark.parametrize("student", STUDENTS)
def test_run_autograder_grades_a_submission_into_results_json(student, autograder_zip, tmp_path):
    """Every sample student, bubblewrap disabled: the grade and the failed checks are exactly the expected ones,
    at the landlock level, and no hidden check's points show before publication."""
    root = fake_root(tmp_path, autograder_zip, SAMPLE / student)
    data = run_autograder(root)
    name = student.removesuffix(".zip")
    assert data["extra_data"]["sandbox"]["level"] == "landlock", data["extra_data"]
    assert data["score"] == pytest.approx(EXPECTED[name]["total"])
    failed = sorted(t["extra_data"]["check"] for t in data["tests"] if t["status"] == "failed")
    assert failed == EXPECTED[name]["fails"]
    assert any(t["visibility"] == "after_published" for t in data["tests"])
    # the visible output counts the visible checks only: no hidden check's points show before publication
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    first = data["output"].splitlines()[0]
    assert first.startswith(f"Checks you can see now: {sum(t['score'] for t in visible):g} / "
                            f"{sum(t['max_score'] for t in visible):g}"), first
    for part in {t["tags"][0] for t in data["tests"]}:
        mine = [t for t in visible if t["tags"][0] == part]
        assert f"  {part:<12} {sum(t['score'] for t in mine):g} / {sum(t['max_score'] for t in mine):g}" \
            in data["output"].splitlines()


def test_an_unreadable_submission_still_gets_a_valid_results_file(autograder_zip, tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("this is not JSON")
    root = fake_root(tmp_path, autograder_zip, broken)
    data = run_autograder(root)
    assert data["score"] == 0
    assert "not a readable notebook" in json.dumps(data) or "found none of" in json.dumps(data)


@needs_landlock
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


def test_a_missing_source_folder_still_leaves_a_valid_results_file(tmp_path):
    """run_autograder as Gradescope would run it from a broken image: no source/ to cd into."""
    from autograder.gradescope import RUN_AUTOGRADER

    script = tmp_path / "run_autograder"
    script.write_text(RUN_AUTOGRADER.replace("__TIMEOUT__", "600"))
    root = tmp_path / "autograder"
    root.mkdir()
    result = subprocess.run(["bash", str(script)], env={**os.environ, "AUTOGRADER_ROOT": str(root)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["score"] == 0.0 and "could not start" in data["output"]


def test_the_grading_budget_is_three_quarters_of_the_assignment_timeout(tmp_path):
    with pytest.raises(ValueError, match="--timeout"):
        write_zip(tmp_path / "a.zip", timeout=30)
    write_zip(tmp_path / "b.zip", timeout=120)
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        script = archive.read("run_autograder").decode()
    assert 'ASSIGNMENT_TIMEOUT="${ASSIGNMENT_TIMEOUT:-120}"' in script
    assert "$(( ASSIGNMENT_TIMEOUT * 3 / 4 ))" in script


@needs_landlock
def test_a_run_cut_short_by_the_assignment_timeout_still_leaves_a_valid_results_file(autograder_zip, tmp_path):
    root = fake_root(tmp_path, autograder_zip, SAMPLE / "ada")
    data = run_autograder(root, ASSIGNMENT_TIMEOUT="2")  # a budget of 1 s: killed long before it finishes
    assert data["score"] == 0.0 and "ran out of time" in data["output"]


def _python(version):
    """An interpreter of `version` on this machine (the system's or pyenv's), or None."""
    import glob

    candidates = [shutil.which(f"python{version}") or "", f"/usr/bin/python{version}",
                  *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            done = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                                  text=True)
            if done.returncode == 0 and done.stdout.strip() == str(tuple(int(p) for p in version.split("."))):
                return path
    return None


@needs_landlock
@pytest.mark.parametrize("version, student", [("3.10", "gia"), ("3.12", "cara")])
def test_the_pinned_image_grades_the_same_on_each_base_images_python(version, student, autograder_zip, tmp_path):
    """setup.sh's pins, installed as setup.sh installs them (offline, from .ci/run's wheels) into a venv of the
    Python of Gradescope's Ubuntu 22.04 (3.10) or 24.04 (3.12) image: run_autograder gives the expected grades."""
    from autograder.gradescope import IMAGE_PINS, IMAGE_PYTHONS

    assert version in IMAGE_PYTHONS
    python = _python(version)
    wheels = kit.ROOT / ".wheelhouse" / f"gradescope-py{version}"
    if python is None or not wheels.is_dir():
        pytest.skip(f"needs Python {version} and .wheelhouse/gradescope-py{version}/ (.ci/run downloads it)")
    root = fake_root(tmp_path, autograder_zip, SAMPLE / student)
    venv = root / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
           "--find-links", str(wheels)]
    subprocess.run(pip + ["--only-binary=:all:", *IMAGE_PINS, "setuptools", "wheel"], check=True, timeout=300,
                   capture_output=True)
    subprocess.run(pip + ["--no-deps", "--no-build-isolation", "-e", str(root / "source")], check=True, timeout=300,
                   capture_output=True, cwd="/")
    frozen = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout.lower().replace("_", "-").split()
    assert set(pin.lower() for pin in IMAGE_PINS) <= set(frozen), frozen  # exactly what setup.sh pins
    data = run_autograder(root, AUTOGRADER_PYTHON=str(venv / "bin" / "python"))
    assert data["score"] == pytest.approx(EXPECTED[student]["total"])
    failed = sorted(t["extra_data"]["check"] for t in data["tests"] if t["status"] == "failed")
    assert failed == EXPECTED[student]["fails"]


def test_setup_sh_refuses_a_python_older_than_3_10_and_says_which_image_to_choose():
    from autograder.gradescope import SETUP_SH

    assert "sys.version_info < (3, 10)" in SETUP_SH and "Ubuntu 22.04 or 24.04" in SETUP_SH
    check = SETUP_SH.split("if ! ", 1)[1].split("; then", 1)[0]  # the version test, as setup.sh runs it
    old = _python("3.8") or _python("3.9")
    if old is None:
        pytest.skip("no Python older than 3.10 here to try the refusal on")
    script = check.replace("python3", old)
    assert subprocess.run(["bash", "-c", script]).returncode != 0
    assert subprocess.run(["bash", "-c", check.replace("python3", sys.executable)]).returncode == 0
