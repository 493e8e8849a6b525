"""Hostile files and names: the grader reads only what it should, and one student never costs the others.

Issue 12's findings on the grading process's side of the trust boundary:

* Reading. Only regular files inside a submission are read, each under its cap
  (autograder/sandbox/submission.py): links (to the solutions, to a secret, to /dev/zero), FIFOs,
  oversized files, damaged zips and odd notebooks each become that student's note or
  "unreadable" status, with the reason and never with what a link points to; nothing
  hangs, and nothing costs the grader more than a few MB.
* Output names. No two students share an output folder (a zip named like another
  student's hashed folder, "Sam" and "sam", "grades.csv.zip"), and a second run keeps them all.
* Spreadsheets. grades.csv cells that would run as formulas start with a quote.
* Text from the worker. A submission that switches off its worker's caps and sends lone
  surrogates, control characters and megabytes of text still gets its results written,
  as valid UTF-8, every string capped.
"""
import contextlib
import csv
import io
import json
import os
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from autograder import kit
from autograder.sandbox import submission as untrusted
from autograder.catalogue import all_checks
from autograder.classroom import CLASS_FILES, _fold, _safe_name, csv_text, folder_names, grade_class, grades_csv
from autograder.grading import Graded, grade, read
from autograder.sandbox.client import CallFailed, SubmissionError, load_submission
from autograder.runner import MAX_MESSAGE, Result
from autograder.sample_class import SAMPLES, _full, _student_code, reference, skeleton

SAMPLE = {s.name: s for s in SAMPLES}
TIMEOUT = 2.0
SKIP = ("training",)
SECRET = "TOP-SECRET-7f3a9c"


def write_folder(folder, files):
    folder.mkdir(parents=True)
    for name, text in files:
        (folder / name).write_text(text)
    return folder


def zip_bytes(files, prefix="submission/"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files:
            archive.writestr(prefix + name, text)
    return bytearray(buffer.getvalue())


def rnn_only(text=None):
    """A hand-in of rnn.py alone (the reference unless `text`): quick to grade, every other module missing."""
    return [("rnn.py", text if text is not None else _student_code(reference("rnn")))]


def within(seconds, function, *args):
    """function(*args), failing the test (instead of hanging the session) if it takes longer than `seconds`."""
    box = {}

    def run():
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__}{args} did not return within {seconds} s (it hangs)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def peak_bytes(function, *args):
    """(result or exception, the peak bytes Python allocated while running function(*args))."""
    tracemalloc.start()
    try:
        try:
            out = function(*args)
        except Exception as exc:  # noqa: BLE001
            out = exc
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def everything_written(out):
    """All text under `out`, each file decoded as strict UTF-8 (raises if one is not)."""
    return "".join(p.read_bytes().decode("utf-8") for p in Path(out).rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------
# Reading: links, FIFOs, devices, caps

def test_a_folder_of_symbolic_links_to_the_solutions_scores_nothing_and_says_why(tmp_path):
    folder = tmp_path / "links"
    folder.mkdir()
    for module in kit.MODULES:
        (folder / f"{module}.py").symlink_to(kit.SOLUTIONS / f"{module}.py")
    sub = read(folder)
    assert sub.modules == {}
    assert "rnn.py is a symbolic link; only regular files are read" in sub.notes
    graded = grade(folder, checks=[c for c in all_checks() if c.module == "rnn"], timeout=TIMEOUT)
    assert graded.score == 0
    assert "rnn.py is a symbolic link; only regular files are read" in graded.notes


def test_a_link_to_a_file_outside_the_submission_is_refused_and_its_content_never_shown(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    secret.chmod(0o600)
    folder = write_folder(tmp_path / "class" / "snoop", [("lstm.py", _student_code(reference("lstm")))])
    (folder / "rnn.py").symlink_to(secret)
    (folder / "notes.ipynb").symlink_to(secret)
    out = tmp_path / "out"
    run = grade_class(tmp_path / "class", out, jobs=1, timeout=TIMEOUT, skip=SKIP, progress=False)
    notes = run.graded["snoop"].notes
    assert "rnn.py is a symbolic link; only regular files are read" in notes
    assert "notes.ipynb is a symbolic link; only regular files are read" in notes
    assert "lstm" in read(folder).modules  # the real file next to the links is graded
    written = everything_written(out)
    assert SECRET not in written and str(secret) not in written


def test_a_fifo_named_like_a_notebook_or_a_module_is_refused_without_waiting(tmp_path):
    folder = write_folder(tmp_path / "pipes", [("lstm.py", _student_code(reference("lstm")))])
    os.mkfifo(folder / "x.ipynb")
    os.mkfifo(folder / "rnn.py")
    sub = within(20, read, folder)
    assert "x.ipynb is a named pipe (FIFO), not a regular file; only regular files are read" in sub.notes
    assert "rnn.py is a named pipe (FIFO), not a regular file; only regular files are read" in sub.notes
    assert list(sub.modules) == ["lstm"]
    os.mkfifo(tmp_path / "alone.ipynb")
    with pytest.raises(SubmissionError, match="alone.ipynb is a named pipe"):
        within(20, read, tmp_path / "alone.ipynb")


def test_a_link_to_dev_zero_is_refused_without_reading_a_byte(tmp_path):
    folder = tmp_path / "zero"
    folder.mkdir()
    (folder / "rnn.py").symlink_to("/dev/zero")
    (folder / "x.ipynb").symlink_to("/dev/zero")
    (tmp_path / "zero.ipynb").symlink_to("/dev/zero")
    sub, peak = peak_bytes(within, 20, read, folder)
    assert "rnn.py is a symbolic link; only regular files are read" in sub.notes
    assert "x.ipynb is a symbolic link; only regular files are read" in sub.notes
    assert peak < 2 * untrusted.MB, f"reading it took {peak / untrusted.MB:.0f} MB"
    error, peak = peak_bytes(within, 20, read, tmp_path / "zero.ipynb")
    assert isinstance(error, SubmissionError) and "symbolic link" in str(error)
    assert peak < 2 * untrusted.MB


def test_a_megabyte_notebook_of_code_costs_the_grader_a_few_megabytes_not_hundreds(tmp_path):
    """Its code is scanned line by line for `def name(`, never ast.parse'd in the grading process (was 620 MB)."""
    code = "def rnn_step(x_t, h_prev, Wx, Wh, b):\n    return x_t\n" + "a=1\n" * (1024 ** 2 // 4)
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": code}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    sub, peak = peak_bytes(load_submission, str(path))
    assert list(sub.modules) == ["rnn"]
    assert peak < 40 * untrusted.MB, f"reading a 1 MB notebook took {peak / untrusted.MB:.0f} MB"


def test_files_over_their_cap_are_refused_before_they_are_read(tmp_path):
    folder = write_folder(tmp_path / "huge", [("lstm.py", _student_code(reference("lstm")))])
    (folder / "rnn.py").write_bytes(b"#" * (untrusted.MAX_MODULE_BYTES + 1))
    (folder / "big.ipynb").write_bytes(b" " * (untrusted.MAX_NOTEBOOK_BYTES + 1))
    sub = read(folder)
    assert list(sub.modules) == ["lstm"]
    assert any(n.startswith("rnn.py is 2.0 MB; a file like it is read only up to 2 MB") for n in sub.notes), sub.notes
    assert any(n.startswith("big.ipynb is 8.0 MB; a file like it is read only up to 8 MB") for n in sub.notes)
    with pytest.raises(SubmissionError, match="rnn.py is 2.0 MB"):
        load_submission(str(folder / "rnn.py"))


def test_a_submission_whose_files_add_up_past_the_total_cap_reads_no_more(tmp_path):
    folder = write_folder(tmp_path / "many", rnn_only())
    output = {"output_type": "stream", "name": "stdout", "text": "x" * (7 * untrusted.MB)}
    for i in range(4):  # 4 x 7 MB notebooks (outputs): the 4th passes the 24 MB total
        cell = {"cell_type": "code", "metadata": {}, "source": "y = 1", "outputs": [output]}
        (folder / f"n{i}.ipynb").write_text(json.dumps({"cells": [cell]}))
    sub = read(folder)
    assert "n3.ipynb was not read: the files of this submission add up to more than 24 MB" in sub.notes, sub.notes
    assert "rnn" in sub.modules


def test_code_too_large_for_the_sandbox_makes_the_submission_unreadable_with_the_reason(tmp_path):
    big = "x = 1\n" * (1_800_000 // 6)
    folder = write_folder(tmp_path / "bloated", [(f"{m}.py", big) for m in ("rnn", "lstm", "gru")])
    graded = grade(folder, timeout=TIMEOUT)
    assert graded.status == "unreadable"
    assert graded.error.startswith("the code handed in is too large to grade: 6.0 MB to send"), graded.error


def test_a_symbolic_link_in_place_of_the_one_folder_of_an_unpacked_zip_is_not_followed(tmp_path):
    folder = tmp_path / "wrapped"
    folder.mkdir()
    (folder / "submission").symlink_to(kit.SOLUTIONS, target_is_directory=True)
    sub = read(folder)
    assert sub.modules == {}
    assert "submission is a symbolic link; only regular files and folders are read" in sub.notes


def test_folders_nested_deeper_than_the_limit_are_not_descended_and_nothing_overflows(tmp_path):
    deepest = tmp_path / "deep" / "/".join(["d"] * 200)
    deepest.mkdir(parents=True)
    (deepest / "rnn.py").write_text(_student_code(reference("rnn")))
    sub = read(tmp_path / "deep")
    assert sub.modules == {} and sub.notes[-1].startswith("found none of")


# ---------------------------------------------------------------------------------------
# Damaged zips and odd notebooks: a status for that student, never a traceback

def _patch_headers(data, *, method=None, flags=0, rename=None):
    """A stored zip's bytes with every member's compression method, flags or name bytes changed in place."""
    for signature, flag_at, method_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 8, 26, 30),
                                                                (b"PK\x01\x02", 8, 10, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            old_flags, = struct.unpack_from("<H", data, at + flag_at)
            struct.pack_into("<H", data, at + flag_at, old_flags | flags)
            if method is not None:
                struct.pack_into("<H", data, at + method_at, method)
            if rename:
                n, = struct.unpack_from("<H", data, at + name_len_at)
                data[at + name_at:at + name_at + n] = bytes(data[at + name_at:at + name_at + n]).replace(*rename)
            at = data.find(signature, at + 4)
    return data


def _bad_crc(data):
    at = data.find(b"def rnn_step")
    data[at] ^= 0xFF
    return data


DAMAGED_ZIPS = {
    "a member with a bad checksum": (lambda: _bad_crc(zip_bytes(rnn_only())), "Bad CRC-32"),
    "an unknown compression method": (lambda: _patch_headers(zip_bytes(rnn_only()), method=99),
                                      "could not be unpacked"),
    "a password": (lambda: _patch_headers(zip_bytes(rnn_only()), flags=0x1), "encrypted"),
    "a name that is not UTF-8": (lambda: _patch_headers(zip_bytes(rnn_only()), flags=0x800,
                                                        rename=(b"rnn", b"r\xff\xfe")), "not a readable zip"),
    "a file where a folder must be": (lambda: zip_bytes(rnn_only() + [("rnn.py/inner.py", "x = 1")]),
                                      "could not be unpacked"),
}


@pytest.mark.parametrize("damage", DAMAGED_ZIPS)
def test_a_damaged_zip_is_unreadable_with_the_reason(tmp_path, damage):
    build, reason = DAMAGED_ZIPS[damage]
    path = tmp_path / "damaged.zip"
    path.write_bytes(build())
    graded = grade(path, timeout=TIMEOUT)
    assert graded.status == "unreadable"
    assert reason in graded.error and graded.error.startswith("damaged.zip"), graded.error
    assert str(tmp_path) not in graded.error and "rnn-zip-" not in graded.error  # no grader paths


def test_rnn_grade_grade_on_a_damaged_zip_prints_the_reason_and_no_traceback(tmp_path):
    path = tmp_path / "damaged.zip"
    path.write_bytes(_patch_headers(zip_bytes(rnn_only()), method=99))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--timeout", str(TIMEOUT)],
                          capture_output=True, text=True, timeout=120, cwd=kit.ROOT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "could not be unpacked" in done.stdout


def _nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


NOTEBOOKS = {
    "deeply nested JSON": ("[" * 100_000 + "]" * 100_000, "not a readable notebook"),
    "a top-level list": (json.dumps([1, 2, 3]), "not a readable notebook"),
    "cells that are not a list": (json.dumps({"cells": {"0": "x"}}), "not a readable notebook"),
    "cells that are not dicts": (json.dumps({"cells": [1, "x", None, [1]]}), "defines none of the exercise functions"),
    "source that is a number": (json.dumps({"cells": [{"cell_type": "code", "source": 5}]}),
                                "defines none of the exercise functions"),
    "source of nested lists": (json.dumps({"cells": [{"cell_type": "code", "source": [_nested(900), 7, None]}]}),
                               "defines none of the exercise functions"),
    "metadata of the wrong types": (json.dumps({"cells": [{"cell_type": "code", "source": "y = 2",
                                                           "metadata": {"nbgrader": {"grade_id": ["rnn_step"],
                                                                                     "solution": {"a": 1}}}}]}),
                                    "defines none of the exercise functions"),
    "a huge output": (json.dumps({"cells": [{"cell_type": "code", "source": "y = 3",
                                             "outputs": [{"output_type": "stream", "text": "z" * 6_000_000}]}]}),
                      "defines none of the exercise functions"),
    "bytes that are not text": (b"\xff\xfe\x00{\x80", "not a readable notebook"),
}


@pytest.mark.parametrize("kind", NOTEBOOKS)
def test_an_odd_notebook_is_a_note_or_unreadable_never_a_crash(tmp_path, kind):
    content, words = NOTEBOOKS[kind]
    path = tmp_path / "odd.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    try:
        said = " ".join(read(path).notes)
    except SubmissionError as exc:
        said = str(exc)
    assert words in said
    folder = write_folder(tmp_path / "with-odd", rnn_only())  # next to real code it is only a note
    (folder / "odd.ipynb").write_bytes(path.read_bytes())
    sub = read(folder)
    assert "rnn" in sub.modules and any(words in n for n in sub.notes)


def test_a_notebook_whose_code_holds_a_lone_surrogate_still_gets_results_written_as_utf8(tmp_path):
    code = _student_code(reference("rnn")) + "\nS = '\udc80'\n"
    text = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": code}]})
    assert "\\udc80" in text
    folder = tmp_path / "class" / "surrogate"
    folder.mkdir(parents=True)
    (folder / "rnn.ipynb").write_text(text)
    out = tmp_path / "out"
    run = grade_class(tmp_path / "class", out, jobs=1, timeout=TIMEOUT, skip=SKIP, progress=False)
    assert run.graded["surrogate"].status in ("graded", "not started")
    everything_written(out)  # every file is valid UTF-8


# ---------------------------------------------------------------------------------------
# A whole class of hostile names and entries, graded once

@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A class with links, FIFOs, colliding and formula-like names next to one honest student, graded twice."""
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "outside"
    outside.mkdir()
    (outside / "mia.zip").write_bytes(bytes(zip_bytes(_full())))
    (outside / "secret.txt").write_text(SECRET)
    c = root / "class"
    write_folder(c / "ada", SAMPLE["ada"].files)
    (c / "linked-folder").symlink_to(c / "ada", target_is_directory=True)
    (c / "linked.zip").symlink_to(outside / "mia.zip")
    (c / "loop.zip").symlink_to(c / "loop.zip")
    os.mkfifo(c / "pipe.ipynb")
    os.mkfifo(c / "pipe.zip")
    pipes = write_folder(c / "pipes", rnn_only())
    os.mkfifo(pipes / "x.ipynb")
    os.mkfifo(pipes / "lstm.py")
    links = c / "links-to-solutions"
    links.mkdir()
    for module in kit.MODULES:
        (links / f"{module}.py").symlink_to(kit.SOLUTIONS / f"{module}.py")
    write_folder(c / "snoop", rnn_only())
    (c / "snoop" / "lstm.py").symlink_to(outside / "secret.txt")
    write_folder(c / "José García", rnn_only())
    (c / "José_García-8a5e0b.zip").write_bytes(bytes(zip_bytes(rnn_only(skeleton("rnn")))))
    (c / "grades.csv.zip").write_bytes(bytes(zip_bytes(rnn_only())))
    (c / "report.html.py").write_text(_student_code(reference("rnn")))
    write_folder(c / "Sam", rnn_only())
    write_folder(c / "sam", rnn_only(skeleton("rnn")))
    for name in ('=HYPERLINK("evil","x")', "+1", "-2", "@SUM(A1)"):
        write_folder(c / name, rnn_only())
    out = root / "out"
    runs, stderr = [], io.StringIO()
    for _ in range(2):
        with contextlib.redirect_stderr(stderr):
            runs.append(grade_class(c, out, jobs=1, timeout=TIMEOUT, skip=SKIP, progress=False))
    return runs, out, stderr.getvalue()


UNREADABLE = {"linked-folder": "linked-folder is a symbolic link", "linked": "linked.zip is a symbolic link",
              "loop": "loop.zip is a symbolic link", "pipe.ipynb": "pipe.ipynb is a named pipe (FIFO)",
              "pipe.zip": "pipe.zip is a named pipe (FIFO)"}


def test_links_and_fifos_at_the_class_level_are_students_with_an_unreadable_status_and_the_reason(hostile):
    (run, _), out, _ = hostile
    for student, reason in UNREADABLE.items():
        graded = run.graded[student]
        assert graded.status == "unreadable" and reason in graded.error, (student, graded.error)
        assert reason in json.loads((out / _safe_name(student) / "results.json").read_text())["output"]
    assert run.graded["ada"].score == run.graded["ada"].max_score
    assert run.graded["links-to-solutions"].score == 0
    assert "rnn.py is a symbolic link; only regular files are read" in run.graded["links-to-solutions"].notes
    fifo = "lstm.py is a named pipe (FIFO), not a regular file; only regular files are read"
    assert fifo in run.graded["pipes"].notes
    assert "lstm.py is a symbolic link; only regular files are read" in run.graded["snoop"].notes
    assert SECRET not in everything_written(out)


def test_no_two_students_share_an_output_folder_even_on_a_case_insensitive_disk(hostile):
    (run, _), out, _ = hostile
    folders = {student: _safe_name(student) for student in run.graded}
    assert len({_fold(f) for f in folders.values()}) == len(folders)
    for student, folder in folders.items():
        data = json.loads((out / folder / "graded.json").read_text())
        assert data["student"] == student
    assert folders["José García"] == "José_García-8a5e0b" != folders["José_García-8a5e0b"]
    assert run.graded["José García"].score > run.graded["José_García-8a5e0b"].score == 0  # their own results


def test_class_level_files_stay_files_whatever_the_students_are_called(hostile):
    (first, second), out, _ = hostile
    assert {"grades.csv", "report.html"} <= set(CLASS_FILES)
    for name in CLASS_FILES:
        assert (out / name).is_file()
    assert _safe_name("grades.csv") != "grades.csv" and _safe_name("report.html") != "report.html"
    assert (out / _safe_name("grades.csv") / "results.json").is_file()


def test_names_that_differ_only_in_case_are_both_graded_and_reported(hostile):
    (run, _), out, stderr = hostile
    assert run.graded["Sam"].score > run.graded["sam"].score
    assert _safe_name("Sam") != "Sam" and _safe_name("sam") != "sam"
    for student in ("Sam", "sam"):
        assert any("same name apart from upper/lower case" in n for n in run.graded[student].notes)
        assert "same name apart from upper/lower case" in (out / _safe_name(student) / "feedback.html").read_text()
    line = next(line for line in stderr.splitlines() if "upper/lower case" in line)
    assert "'Sam'" in line and "'sam'" in line


def test_a_second_run_keeps_every_student_from_their_own_folder_and_the_report_links_them(hostile):
    (first, second), out, _ = hostile
    assert sorted(second.skipped) == sorted(first.graded)
    assert {s: g.score for s, g in second.graded.items()} == {s: g.score for s, g in first.graded.items()}
    report = (out / "report.html").read_text()
    for student in first.graded:
        assert (out / _safe_name(student) / "feedback.html").is_file()
        assert f"{_safe_name(student)}/feedback.html" in report


def test_formula_like_student_names_reach_grades_csv_as_text(hostile):
    _, out, _ = hostile
    rows = list(csv.reader((out / "grades.csv").open(encoding="utf-8")))
    students = [r[0] for r in rows[1:]]
    for name in ('=HYPERLINK("evil","x")', "+1", "-2", "@SUM(A1)"):
        assert "'" + name in students
    assert not any(s.startswith(("=", "+", "-", "@", "\t", "\r")) for s in students)
    for row in rows[1:]:
        float(row[1]), float(row[2]), float(row[4])  # totals and seconds stay plain numbers


def test_csv_text_neutralises_every_formula_start_and_nothing_else():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_text(start + "1+2") == "'" + start + "1+2"
    assert csv_text("ada") == "ada" and csv_text("José García") == "José García" and csv_text("a=b") == "a=b"
    graded = [Graded(name, [Result("test_x", "rnn", "rnn_step", 1.0, "public", "passed", 1.0)], -1.0, 1.0, 0.5,
                     "", {}) for name in ("=cmd|' /C calc'!A0", "ada")]
    rows = list(csv.reader(io.StringIO(grades_csv(graded))))
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[1][1] == "-1"  # a number keeps its sign
    assert rows[2][0] == "ada"


def test_folder_names_are_unique_deterministic_and_keep_plain_names_plain():
    nasty = ["Sam", "sam", "SAM", "José García", "José_García-8a5e0b", "a b", "a_b", "ada", "grades.csv",
             "Report.HTML", "x" * 250, "x" * 251, "\u00c5", "\u212b", "e\u0301", "\u00e9", "kit-abcdef0123"]
    names = folder_names(nasty)
    assert len({_fold(n) for n in names.values()}) == len(nasty)
    assert names == folder_names(list(reversed(nasty)))
    assert names["ada"] == "ada" and names["a_b"] == "a_b" and names["a b"] == "a_b-fbd987"
    assert all(_fold(n) not in {_fold(f) for f in CLASS_FILES} for n in names.values())
    assert all(len(n.encode()) < 200 for n in names.values())
    assert names["kit-abcdef0123"] != "kit-abcdef0123"  # it could pass for a hashed name


# ---------------------------------------------------------------------------------------
# Text from the worker

#: rnn.py that switches off its worker's own caps, then raises, prints and returns megabytes of hostile text
UNCAPPED_RNN = '''
import sys

for _module in list(sys.modules.values()):  # the worker's caps live in the student's own process
    try:
        if "MAX_TEXT" in vars(_module):
            _module.MAX_TEXT = 10 ** 9
    except Exception:
        pass
BAD = "\\udc80" * 10 + "\\x00\\x1b[31m\\r"
''' + _student_code(reference("rnn"))


def _uncapped_rnn():
    text = UNCAPPED_RNN
    step = "def rnn_step(x_t, h_prev, Wx, Wh, b):\n"
    text = text.replace(step, step + '    print(BAD + "p" * 1_000_000)\n'
                                     '    raise ValueError(BAD + "x" * 1_000_000)\n', 1)
    readout = "def rnn_readout(h, Wy, by):\n"
    return text.replace(readout, readout + '    print(BAD + "q" * 1_000_000)\n'
                                           '    return BAD + "r" * 1_000_000\n', 1)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_megabytes_of_hostile_text_from_an_uncapped_worker_are_cleaned_and_capped(tmp_path, monkeypatch):
    from autograder.sandbox import client as impl

    sizes = tmp_path / "reply-sizes.txt"  # a file: the grading may run in a forked process
    unpack = impl.wire.unpack

    def measuring(payload):  # what really arrived, to prove the worker's own caps were off
        with sizes.open("a") as handle:
            handle.write(f"{len(payload)}\n")
        return unpack(payload)

    monkeypatch.setattr(impl.wire, "unpack", measuring)
    write_folder(tmp_path / "class" / "loud", [("rnn.py", _uncapped_rnn())])
    write_folder(tmp_path / "class" / "ada", SAMPLE["ada"].files)
    out = tmp_path / "out"
    run = grade_class(tmp_path / "class", out, jobs=1, timeout=10.0, skip=SKIP, progress=False)
    largest = max(int(n) for n in sizes.read_text().split())
    assert largest > 2_000_000, "the worker's caps were not switched off: this test tests nothing"
    assert run.graded["ada"].score == run.graded["ada"].max_score
    assert (out / "grades.csv").is_file() and (out / "report.html").is_file()
    written = everything_written(out)  # strict UTF-8 everywhere
    assert "\x00" not in written and "\x1b" not in written
    loud = out / _safe_name("loud")
    size = sum(p.stat().st_size for p in loud.iterdir())
    assert size < 8 * untrusted.MB, f"one student's results take {size / untrusted.MB:.0f} MB"
    data = json.loads((loud / "graded.json").read_text())
    for text in _strings(data):
        text.encode("utf-8")  # no lone surrogate survives, not even as a JSON escape
        assert len(text) <= MAX_MESSAGE + 100
    step = [r for r in run.graded["loud"].results if r.function == "rnn_step" and r.status == "error"]
    assert step and "ValueError: ??????????" in step[0].message and "more characters not shown" in step[0].message
    assert sum(len(r.message) for r in run.graded["loud"].results) < 2_000_000


def test_call_failed_cleans_and_caps_what_the_worker_said():
    failure = CallFailed("rnn_step", "\udc80" * 10 + "\x00" + "x" * 10_000_000, "\ud800tb\n" * 1_000_000,
                         "\x07" + "printed " * 1_000_000)
    for text in (failure.message, failure.traceback, failure.stdout):
        text.encode("utf-8")
        assert len(text) <= untrusted.MAX_TEXT + 100 and "\x00" not in text and "\x07" not in text
    assert failure.message.startswith("??????????x") and failure.traceback.rstrip().endswith("tb")
    assert len(failure.explain()) < 5 * untrusted.MAX_TEXT  # and run_check caps a whole message at MAX_MESSAGE
