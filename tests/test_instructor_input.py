"""Bad input from the instructor gets a clear message, and results already written are never lost.

* The whole command cannot proceed (no such folder, a file instead of a folder, an empty
  class, an output path that is a file): ``rnn-grade`` exits non-zero with a one-line
  message and no traceback; `grade_class` raises ClassError.
* One bad student inside a class (a corrupt zip, a zip with ``..``, an absolute path or a
  symbolic link, a notebook that is not JSON or has no "cells"): that student is
  "unreadable", with the reason in their results, and everyone else is graded.
* An interrupted class run keeps every student it wrote, as complete JSON; the next run
  keeps them (unchanged) and grades the rest.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.classroom import ClassError, discover, grade_class
from autograder.files import write_atomic
from autograder.grading import grade
from autograder.sample_class import SAMPLES, _full, expected_total

import adversarial_cases as A

SAMPLE = {s.name: s for s in SAMPLES}
CHECKS = all_checks()
TIMEOUT = 2.0


def rnn_grade(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=kit.ROOT, stdin=subprocess.DEVNULL)


def write_folder(folder, files):
    folder.mkdir(parents=True)
    for name, text in files:
        (folder / name).write_text(text)
    return folder


def zip_with(path, entries):
    """A zip of a complete hand-in plus `entries`: [(ZipInfo or name, bytes)]."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in _full():
            archive.writestr(f"submission/{name}", text)
        for info, data in entries:
            archive.writestr(info, data)
    return path


def symlink_info(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16  # a symbolic link
    return info


TOKEN = uuid.uuid4().hex[:8]

#: one bad single submission each: (file name, how to write it, words its reason must contain)
BAD = {
    "corrupt-zip": ("corrupt.zip", lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"), "not a readable zip"),
    "dotdot-zip": ("dotdot.zip", lambda p: zip_with(p, [(f"../evil-{TOKEN}.py", b"print('escaped')")]), "unsafe path"),
    "absolute-zip": ("absolute.zip", lambda p: zip_with(p, [(f"/tmp/evil-{TOKEN}.py", b"print('escaped')")]),
                     "unsafe path"),
    "symlink-zip": ("symlink.zip", lambda p: zip_with(p, [(symlink_info("submission/solutions.py"),
                                                          str(kit.SOLUTIONS / "rnn.py").encode())]),
                    "symbolic link"),
    "notebook-not-json": ("notjson.ipynb", lambda p: p.write_text('{"cells": [ {"cell_type": "code", '),
                          "not a readable notebook"),
    "notebook-without-cells": ("nocells.ipynb", lambda p: p.write_text(json.dumps({"metadata": {}, "nbformat": 4})),
                               "not a readable notebook"),
}


# ---------------------------------------------------------------------------------------
# The whole command cannot proceed

def _clear_failure(result, *words):
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert message and len(message.splitlines()) <= 2, message
    for word in words:
        assert word in message, message


def test_class_on_a_missing_folder(tmp_path):
    _clear_failure(rnn_grade("class", tmp_path / "nowhere", "--out", tmp_path / "out"), "no such folder")
    with pytest.raises(ClassError, match="no such folder"):
        discover(tmp_path / "nowhere")
    assert not (tmp_path / "out").exists()


def test_class_on_a_file_instead_of_a_folder(tmp_path):
    file = tmp_path / "class.zip"
    file.write_bytes(b"PK")
    _clear_failure(rnn_grade("class", file, "--out", tmp_path / "out"), "is not a folder")
    with pytest.raises(ClassError, match="is not a folder"):
        grade_class(file, tmp_path / "out", progress=False)


def test_class_on_an_empty_folder(tmp_path):
    empty = tmp_path / "class"
    empty.mkdir()
    (empty / ".DS_Store").write_text("")
    (empty / "notes.txt").write_text("nothing to grade")
    _clear_failure(rnn_grade("class", empty, "--out", tmp_path / "out"), "holds no submissions")
    with pytest.raises(ClassError, match="holds no submissions"):
        grade_class(empty, tmp_path / "out", progress=False)


def test_grade_on_a_missing_submission(tmp_path):
    _clear_failure(rnn_grade("grade", tmp_path / "nothing.zip"), "no such file or directory")


def test_class_with_an_output_path_that_is_a_file(tmp_path):
    write_folder(tmp_path / "class" / "ada", SAMPLE["ada"].files)
    (tmp_path / "out").write_text("an old file")
    _clear_failure(rnn_grade("class", tmp_path / "class", "--out", tmp_path / "out", "--timeout", TIMEOUT), "out")


def test_grade_with_an_output_path_that_is_a_folder(tmp_path):
    folder = write_folder(tmp_path / "ada", SAMPLE["ada"].files)
    result = rnn_grade("grade", folder, "--out", tmp_path, "--timeout", TIMEOUT)
    assert "Traceback" not in result.stderr, result.stderr[-1500:]


# ---------------------------------------------------------------------------------------
# One bad submission

@pytest.mark.parametrize("kind", BAD)
def test_a_bad_single_submission_is_unreadable_with_the_reason(tmp_path, kind):
    name, write, reason = BAD[kind]
    path = tmp_path / name
    write(path)
    graded = grade(path, timeout=TIMEOUT)
    assert graded.status == "unreadable"
    assert reason in graded.error
    assert graded.score == 0 and all(r.score == 0 and reason in r.message for r in graded.results)
    assert not list(Path("/tmp").glob(f"evil-{TOKEN}*")) and not list(tmp_path.glob("evil-*"))


def test_rnn_grade_grade_says_why_a_submission_is_unreadable(tmp_path):
    path = tmp_path / "corrupt.zip"
    BAD["corrupt-zip"][1](path)
    result = rnn_grade("grade", path, "--timeout", TIMEOUT)
    assert "Traceback" not in result.stderr
    assert "not a readable zip" in result.stdout + result.stderr, result.stdout[-800:]


def test_bad_students_in_a_class_are_unreadable_and_the_others_are_graded(tmp_path):
    submissions = tmp_path / "class"
    write_folder(submissions / "ada", SAMPLE["ada"].files)
    write_folder(submissions / "cara", SAMPLE["cara"].files)
    for kind, (name, write, _) in BAD.items():
        write(submissions / f"{kind}{Path(name).suffix}")
    # a broken notebook next to good .py files is a note, not a reason to refuse the rest
    folder = write_folder(submissions / "with-broken-notebook", SAMPLE["ada"].files)
    (folder / "scratch.ipynb").write_text("{ not json")
    out = tmp_path / "out"
    result = rnn_grade("class", submissions, "--out", out, "-j", "2", "--timeout", TIMEOUT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    records = {p.name: json.loads((p / "results.json").read_text()) for p in out.iterdir() if p.is_dir()}
    assert sorted(records) == sorted(["ada", "cara", "with-broken-notebook", *BAD])
    for kind, (_, _, reason) in BAD.items():
        data = records[kind]
        assert data["extra_data"]["status"] == "unreadable", kind
        assert data["score"] == 0 and reason in data["output"], (kind, data["output"])
        assert re.search(rf"^{re.escape(kind)}\s+0\s+unreadable$", result.stdout, re.M), result.stdout
    assert records["ada"]["score"] == 100
    assert records["cara"]["score"] == pytest.approx(expected_total(SAMPLE["cara"], CHECKS))
    broken = records["with-broken-notebook"]
    assert broken["score"] == 100 and "scratch.ipynb is not a readable notebook" in broken["output"]
    assert not list(Path("/tmp").glob(f"evil-{TOKEN}*")) and not list(tmp_path.rglob("evil-*"))


def test_students_whose_names_differ_only_in_punctuation_keep_separate_results(tmp_path):
    submissions = tmp_path / "class"
    write_folder(submissions / "a b", SAMPLE["ada"].files)
    write_folder(submissions / "a_b", SAMPLE["ben"].files)
    run = grade_class(submissions, tmp_path / "out", jobs=1, timeout=TIMEOUT, progress=False)
    scores = sorted(json.loads(p.read_text())["score"] for p in (tmp_path / "out").glob("*/results.json"))
    assert scores == sorted(g.score for g in run.graded.values())


def test_an_output_folder_inside_the_class_is_not_a_student(tmp_path):
    submissions = tmp_path / "class"
    write_folder(submissions / "ada", SAMPLE["ada"].files)
    grade_class(submissions, submissions / "graded", jobs=1, timeout=TIMEOUT, progress=False)
    again = grade_class(submissions, submissions / "graded", jobs=1, timeout=TIMEOUT, progress=False)
    assert sorted(again.graded) == ["ada"]


# ---------------------------------------------------------------------------------------
# Nothing written is lost or half-written

def failures(graded):
    """The checks `graded` lost that a half-done student may not lose, for assertion messages."""
    return "\n".join(f"{r.name}: {r.status}: {r.message[:300]}" for r in graded.results
                     if r.status not in ("passed", "not implemented"))


def _slow_student():
    """Hangs at import in rnn.py (sleeping, so an orphaned worker costs no CPU): a few timeouts."""
    return dict(_full(rnn=A.at_top("rnn", "import time\ntime.sleep(30)")))


def test_an_interrupted_class_run_keeps_what_it_wrote_and_the_next_run_finishes(tmp_path):
    submissions = tmp_path / "class"
    write_folder(submissions / "a-perfect", SAMPLE["ada"].files)
    write_folder(submissions / "b-slow", _slow_student().items())
    write_folder(submissions / "c-half", SAMPLE["ben"].files)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "autograder", "class", str(submissions), "--out", str(out),
                                "-j", "1", "--timeout", str(TIMEOUT)], cwd=kit.ROOT, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "a-perfect" / "graded.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, "the first student was never written"
            time.sleep(0.05)
        time.sleep(0.3)  # well inside b-slow's timeouts
        os.killpg(process.pid, signal.SIGKILL)  # the class command and its pool: an interrupted run
    finally:
        process.wait(30)
    assert not (out / "grades.csv").exists(), "the run finished before it could be interrupted"
    for file in out.rglob("*.json"):  # every file there is complete (each is written atomically)
        json.loads(file.read_text())
    # a student is kept once its resume record (graded.json, written last) is there
    written = {p.parent.name: (p.parent / "results.json").read_bytes() for p in out.glob("*/graded.json")}
    assert "a-perfect" in written
    for name in written:
        assert name in (out / name / "feedback.html").read_text()
    run = grade_class(submissions, out, jobs=1, timeout=TIMEOUT, progress=False)
    assert sorted(run.graded) == ["a-perfect", "b-slow", "c-half"]
    assert sorted(run.skipped) == sorted(written), "students written before the interruption are kept"
    for name, data in written.items():
        assert (out / name / "results.json").read_bytes() == data
    assert run.graded["a-perfect"].score == 100, failures(run.graded["a-perfect"])
    assert run.graded["c-half"].score == pytest.approx(expected_total(SAMPLE["ben"], CHECKS)), failures(
        run.graded["c-half"])
    assert run.graded["b-slow"].status == "timeout"
    assert not list(out.rglob("*.tmp"))


def test_a_lost_or_half_written_record_is_graded_again_and_the_others_are_kept(tmp_path):
    submissions = tmp_path / "class"
    for name in ("ada", "ben", "cara"):
        write_folder(submissions / name, SAMPLE[name].files)
    out = tmp_path / "out"
    first = grade_class(submissions, out, jobs=2, timeout=TIMEOUT, progress=False)
    kept = (out / "cara" / "results.json").read_bytes()
    (out / "ada" / "graded.json").unlink()                                   # lost
    (out / "ben" / "graded.json").write_text('{"student": "ben", "results": [')  # half written
    again = grade_class(submissions, out, jobs=2, timeout=TIMEOUT, progress=False)
    assert again.skipped == ["cara"]
    assert (out / "cara" / "results.json").read_bytes() == kept
    for name in ("ada", "ben", "cara"):
        assert again.graded[name].score == first.graded[name].score
        json.loads((out / name / "graded.json").read_text())
        json.loads((out / name / "results.json").read_text())


def test_a_write_that_fails_half_way_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    write_atomic(target, json.dumps({"score": 42}))

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, json.dumps({"score": 0, "tests": ["..."] * 1000}))
    assert json.loads(target.read_text()) == {"score": 42}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"], "a temporary file was left behind"

