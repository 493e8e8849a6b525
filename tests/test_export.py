"""`rnn-grade export`: a graded class folder into Canvas's gradebook, Moodle's import, or a plain CSV.

The graded folders are written the way `classroom.grade_class` writes them (results.json
from `grading.gradescope_results` in each student's folder from `classroom.folder_names`,
then grades.csv from `classroom.grades_csv`), without running student code. One test grades
a real submission once and checks that the two look alike. The rosters in tests/data/lms/
follow Canvas's and Moodle's own export formats.
"""
import codecs
import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from autograder import kit
from autograder.catalogue import all_checks, total_points
from autograder.classroom import NOT_GRADED, csv_text, folder_names, grades_csv
from autograder.cli import main
from autograder.exporters.lms import ExportError, export, read_class
from autograder.files import write_atomic
from autograder.grading import Graded, gradescope_results
from autograder.runner import Result

DATA = kit.ROOT / "tests" / "data" / "lms"
CANVAS = DATA / "canvas_gradebook.csv"
MOODLE = DATA / "moodle_grades.csv"
SAMPLE = kit.ROOT / "examples" / "class"
CHECKS = all_checks()
EVERYTHING = set(kit.MODULES)


def points(modules):
    return round(sum(c.points for c in CHECKS if c.module in modules), 4)


def _graded(student, modules):
    """A Graded that passes every check of `modules` and fails the others."""
    results = [Result(c.name, c.module, c.function, c.points, c.visibility, "passed" if c.module in modules
                      else "failed", c.points if c.module in modules else 0.0, "" if c.module in modules
                      else "the result is not right") for c in CHECKS]
    return Graded(student, results, round(sum(r.score for r in results), 4), total_points(CHECKS), 0.25,
                  "0" * 32, {"level": "landlock", "applied": []})


def write_class(out, students, not_graded=()):
    """OUT as `rnn-grade class` leaves it; `not_graded` are students an interrupted run did not reach."""
    folders = folder_names([*students, *not_graded])
    graded = [_graded(student, modules) for student, modules in sorted(students.items())]
    for g in graded:
        write_atomic(out / folders[g.student] / "results.json", json.dumps(gradescope_results(g), indent=1) + "\n")
    table = list(csv.reader(io.StringIO(grades_csv(graded), newline="")))
    for student in not_graded:  # as classroom._grades_csv_with_not_graded: status, max score, nothing else
        table.append([csv_text(student), "", f"{total_points(CHECKS):g}", NOT_GRADED] + [""] * (len(table[0]) - 4))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    write_atomic(out / "grades.csv", buffer.getvalue())
    return out


def read_csv(path, delimiter=","):
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""), delimiter=delimiter))


#: a class downloaded from Canvas: smithjohn as a zip, garcíajosé late, a stranger no roster lists
CANVAS_CLASS = {"smithjohn_1001_50001_rnn_kit": EVERYTHING,
                "garcíajosé_late_1002_50002_submission": {"feedforward", "rnn"},
                "lovelaceada_1003_50003_handin": EVERYTHING - {"bptt"},
                "stranger_9999_50009_rnn_kit": EVERYTHING}
#: a class downloaded from Moodle: folders (with and without the trailing "_"), a flat file's stem, blind marking
MOODLE_CLASS = {"José García_345_assignsubmission_file_": {"feedforward", "rnn"},
                "Ada Lovelace_346_assignsubmission_file": EVERYTHING - {"bptt"},
                "John Smith_347_assignsubmission_file_rnn_kit": EVERYTHING,
                "Participant_999_assignsubmission_file_": EVERYTHING}


@pytest.fixture
def canvas_out(tmp_path):
    return write_class(tmp_path / "canvas-out", CANVAS_CLASS)


@pytest.fixture
def moodle_out(tmp_path):
    return write_class(tmp_path / "moodle-out", MOODLE_CLASS)


def run(capsys, *argv):
    """`rnn-grade export ...`: (exit status, stdout, stderr)."""
    status = main(["export", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ---------------------------------------------------------------------------------------
# The graded folder

@pytest.fixture(scope="module")
def real_out(tmp_path_factory):
    """One real class run: examples/class/ben, graded without the training checks."""
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(SAMPLE / "ben", root / "class" / "ben")
    done = subprocess.run([sys.executable, "-m", "autograder", "class", str(root / "class"), "--out",
                           str(root / "out"), "--skip-training", "-j", "1"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return root / "out"


def test_the_test_class_folders_look_like_a_real_class_run(real_out, tmp_path):
    fake = write_class(tmp_path / "fake", {"ben": {"feedforward", "rnn"}})
    real_json = json.loads((real_out / "ben" / "results.json").read_text())
    fake_json = json.loads((fake / "ben" / "results.json").read_text())
    assert set(real_json) == set(fake_json)
    assert set(real_json["extra_data"]) == set(fake_json["extra_data"])
    assert {frozenset(t) for t in real_json["tests"]} == {frozenset(t) for t in fake_json["tests"]}
    assert all(t["tags"][0] in kit.MODULES for t in real_json["tests"])
    real_header, fake_header = read_csv(real_out / "grades.csv")[0], read_csv(fake / "grades.csv")[0]
    assert real_header[:5] == fake_header[:5] == ["student", "total", "max_score", "status", "seconds"]
    assert set(real_header[5:]) < set(fake_header[5:])  # the training checks were skipped
    (real,), _ = read_class(real_out)
    (made,), _ = read_class(fake)
    expected = json.loads((SAMPLE / "expected.json").read_text())["ben"]["total"]
    assert real.student == made.student == "ben"
    assert real.total == made.total == expected == pytest.approx(sum(real.parts.values()))
    assert real.parts == made.parts == {**dict.fromkeys(kit.MODULES, 0.0), "feedforward": points({"feedforward"}),
                                        "rnn": points({"rnn"})}


def test_a_real_class_run_exports_as_a_csv_with_each_parts_points(real_out, tmp_path, capsys):
    status, out, err = run(capsys, real_out, "--format", "csv", "--out", tmp_path / "ben.csv")
    assert status == 0, err
    rows = read_csv(tmp_path / "ben.csv")
    assert rows[0] == ["id", "name", "total", "feedforward", "rnn", "lstm", "gru", "memory", "bptt", "stepping"]
    assert rows[1][:5] == ["ben", "ben", "26.25", "14.25", "12"] and rows[1][5:] == ["0"] * 5
    assert "wrote" in out and "1 graded" in out


# ---------------------------------------------------------------------------------------
# Canvas

def test_canvas_export_fills_the_assignments_column_and_keeps_every_other_cell(canvas_out, tmp_path, capsys):
    dest = tmp_path / "canvas-import.csv"
    status, out, err = run(capsys, canvas_out, "--format", "canvas", "--roster", CANVAS, "--assignment", "RNN kit",
                           "--out", dest)
    assert status == 0, err
    before, after = read_csv(CANVAS), read_csv(dest)
    raw_before, raw_after = CANVAS.read_bytes(), dest.read_bytes()
    assert raw_after.startswith(codecs.BOM_UTF8) == raw_before.startswith(codecs.BOM_UTF8)
    assert (b"\r\n" in raw_after) == (b"\r\n" in raw_before)
    assert after[0] == before[0] and len(after) == len(before)
    column = before[0].index("RNN kit (2002)")
    by_id = {row[1]: row[column] for row in after[3:]}
    assert points({"feedforward", "rnn"}) == 26.25
    assert by_id == {"1001": "100", "1002": "26.25",
                     "1003": f"{points(EVERYTHING - {'bptt'}):g}", "1004": "0",  # Hopper: no submission
                     "1005": "EX", "1006": "N/A", "1099": ""}  # excused, not assigned, Canvas's Test Student
    for old, new in zip(before, after):  # every other cell as it was, the header-ish rows whole
        assert old[:column] + old[column + 1:] == new[:column] + new[column + 1:]
    assert after[1] == before[1] and after[2] == before[2]
    assert "matched by ID" in out and "3 graded" in out
    assert "1 on the roster without a submission: given 0:\n  row 5 (Hopper, Grace; ID 1004)" in err
    assert "stranger_9999_50009_rnn_kit" in err and "excused (EX)" in err


def test_canvas_export_adds_a_missing_assignment_worth_the_kits_maximum(canvas_out, tmp_path, capsys):
    dest = tmp_path / "new.csv"
    status, _, err = run(capsys, canvas_out, "--format", "canvas", "--roster", CANVAS, "--assignment",
                         "Memory lab", "--out", dest)
    assert status == 0, err
    before, after = read_csv(CANVAS), read_csv(dest)
    assert after[0] == before[0] + ["Memory lab"]
    assert [row[:-1] for row in after] == before  # every column that was there, untouched
    assert after[1][-1] == "" and after[2][-1] == "100"  # Manual Posting row, Points Possible row
    assert {row[1]: row[-1] for row in after[3:]} == {"1001": "100", "1002": "26.25", "1003": "80", "1004": "0",
                                                      "1005": "0", "1006": "0", "1099": ""}
    assert points(EVERYTHING - {"bptt"}) == 80
    assert "added the column 'Memory lab'" in err


def test_canvas_names_match_by_student_name_and_folders_by_sis_login(tmp_path, capsys):
    out = write_class(tmp_path / "out", {"smithjohn_1001_50001_rnn_kit": EVERYTHING,
                                         "lovelaceada": {"feedforward"}})
    status, _, err = run(capsys, out, "--format", "canvas", "--roster", CANVAS, "--assignment", "RNN kit",
                         "--match", "Student", "--out", tmp_path / "a.csv")
    assert status == 0, err
    column = read_csv(CANVAS)[0].index("RNN kit (2002)")
    assert {r[0]: r[column] for r in read_csv(tmp_path / "a.csv")[3:6]} == {
        "García, José": "0", "Hopper, Grace": "0", "Lovelace, Ada": f"{points({'feedforward'}):g}"}
    logins = write_class(tmp_path / "logins", {"JSmith": {"rnn"}, "aturing": EVERYTHING})
    status, _, err = run(capsys, logins, "--format", "canvas", "--roster", CANVAS, "--assignment", "RNN kit",
                         "--match", "sis login id", "--out", tmp_path / "b.csv")
    assert status == 0, err
    rows = {r[3]: r[column] for r in read_csv(tmp_path / "b.csv")[3:]}
    assert rows["jsmith"] == f"{points({'rnn'}):g}" and rows["aturing"] == "100"  # N/A is overwritten when graded


def test_a_semicolon_separated_canvas_export_is_written_back_with_semicolons(canvas_out, tmp_path, capsys):
    roster = tmp_path / "semicolons.csv"
    rows = read_csv(CANVAS)
    text = "".join(";".join(row) + "\n" for row in rows)  # the cells hold no ";" nor quotes
    roster.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    status, _, err = run(capsys, canvas_out, "--format", "canvas", "--roster", roster, "--assignment", "RNN kit",
                         "--out", tmp_path / "out.csv")
    assert status == 0, err
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" not in raw
    after = read_csv(tmp_path / "out.csv", delimiter=";")
    assert after[0] == rows[0] and after[7][1] == "1001" and after[7][6] == "100"


def test_canvas_last_and_first_name_columns_with_an_integration_id_are_read(canvas_out, tmp_path, capsys):
    roster = tmp_path / "names.csv"  # Canvas's export with its "show first and last names" option on
    roster.write_text("LastName,FirstName,ID,SIS User ID,SIS Login ID,Integration ID,Section,RNN kit (2002),"
                      "Current Score\n    Points Possible,,,,,,,100.00,(read only)\n"
                      "Smith,John,1001,S1001,jsmith,i1,A,,90.00\nHopper,Grace,1004,S1004,ghopper,i4,B,,\n",
                      encoding="utf-8")
    status, _, err = run(capsys, canvas_out, "--format", "canvas", "--roster", roster, "--assignment", "RNN kit",
                         "--out", tmp_path / "a.csv")
    assert status == 0, err
    assert read_csv(tmp_path / "a.csv")[2:] == [["Smith", "John", "1001", "S1001", "jsmith", "i1", "A", "100", "90.00"],
                                                ["Hopper", "Grace", "1004", "S1004", "ghopper", "i4", "B", "0", ""]]
    assert "row 4 (Grace Hopper; ID 1004)" in err


# ---------------------------------------------------------------------------------------
# Moodle and the plain CSV

def test_moodle_export_has_the_identifier_and_one_grade_column(moodle_out, tmp_path, capsys):
    dest = tmp_path / "moodle-import.csv"
    status, out, err = run(capsys, moodle_out, "--format", "moodle", "--roster", MOODLE, "--assignment", "RNN kit",
                           "--out", dest)
    assert status == 0, err
    assert dest.read_bytes().decode("utf-8") == ("Email address,RNN kit\r\n"
                                                "jose.garcia@example.edu,26.25\r\n"
                                                "grace.hopper@example.edu,0\r\n"
                                                "ada.lovelace@example.edu,80\r\n"
                                                "john.smith@example.edu,100\r\n")
    assert "matched by Full name" in out
    assert "Grace Hopper" in err and "Participant_999_assignsubmission_file_" in err


def test_a_tab_separated_moodle_export_is_read(moodle_out, tmp_path, capsys):
    roster = tmp_path / "tabs.csv"  # Moodle's plain-text export can separate its fields with tabs
    roster.write_text("".join("\t".join(row) + "\n" for row in read_csv(MOODLE)), encoding="utf-8")
    status, _, err = run(capsys, moodle_out, "--format", "moodle", "--roster", roster, "--assignment", "RNN kit",
                         "--out", tmp_path / "a.csv")
    assert status == 0, err
    assert read_csv(tmp_path / "a.csv")[1:] == [["jose.garcia@example.edu", "26.25"], ["grace.hopper@example.edu", "0"],
                                                ["ada.lovelace@example.edu", "80"], ["john.smith@example.edu", "100"]]


def test_moodle_names_match_in_either_order_and_by_email(tmp_path, capsys):
    roster = tmp_path / "participants.csv"
    roster.write_text("First name,Last name,Email address\nGarcía,José,jg@example.edu\n"
                      "Grace,Hopper,gh@example.edu\n", encoding="utf-8")
    out = write_class(tmp_path / "out", {"Jose Garcia_12_assignsubmission_file_": {"rnn"},
                                         "GH@example.edu": {"gru"}})
    status, _, err = run(capsys, out, "--format", "moodle", "--roster", roster, "--assignment", "RNN",
                         "--out", tmp_path / "a.csv")
    assert status == 0, err
    assert read_csv(tmp_path / "a.csv")[1:] == [["jg@example.edu", f"{points({'rnn'}):g}"],
                                                ["gh@example.edu", "0"]]
    status, _, err = run(capsys, out, "--format", "moodle", "--roster", roster, "--assignment", "RNN",
                         "--match", "Email address", "--out", tmp_path / "b.csv")
    assert status == 0, err
    assert read_csv(tmp_path / "b.csv")[1:] == [["jg@example.edu", "0"], ["gh@example.edu", f"{points({'gru'}):g}"]]


def test_the_plain_csv_lists_a_rosters_students_with_total_and_parts(moodle_out, tmp_path, capsys):
    status, _, err = run(capsys, moodle_out, "--format", "csv", "--roster", MOODLE, "--out", tmp_path / "t.csv")
    assert status == 0, err
    rows = read_csv(tmp_path / "t.csv")
    assert rows[0] == ["id", "name", "total", *kit.MODULES]
    assert rows[1] == ["jose.garcia@example.edu", "José García", "26.25", "14.25", "12", "0", "0", "0", "0", "0"]
    assert rows[2] == ["grace.hopper@example.edu", "Grace Hopper"] + ["0"] * 8
    assert rows[4][:3] == ["john.smith@example.edu", "John Smith", "100"]
    assert [float(x) for x in rows[4][3:]] == [points({m}) for m in kit.MODULES]


def test_the_plain_csv_without_a_roster_neutralises_formula_like_names(tmp_path, capsys):
    out = write_class(tmp_path / "out", {"=HYPERLINK(\"http://x\")": {"rnn"}, "ada": EVERYTHING})
    status, _, err = run(capsys, out, "--format", "csv", "--out", tmp_path / "t.csv")
    assert status == 0, err
    rows = read_csv(tmp_path / "t.csv")
    assert [r[:3] for r in rows[1:]] == [["'=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")", f"{points({'rnn'}):g}"],
                                         ["ada", "ada", "100"]]


# ---------------------------------------------------------------------------------------
# What cannot be paired up, and interrupted runs

def test_a_submission_matching_two_roster_rows_is_an_error_naming_both(moodle_out, tmp_path, capsys):
    roster = tmp_path / "twice.csv"
    roster.write_text(MOODLE.read_text(encoding="utf-8") + "John,Smith,S2001,X,Y,js2@example.edu,-,-,today\n",
                      encoding="utf-8")
    dest = tmp_path / "never.csv"
    status, _, err = run(capsys, moodle_out, "--format", "moodle", "--roster", roster, "--assignment", "RNN kit",
                         "--out", dest)
    assert status == 2 and not dest.exists()
    assert "'John Smith_347_assignsubmission_file_rnn_kit' matches 2 roster rows" in err
    assert "row 5 (John Smith)" in err and "row 6 (John Smith)" in err and "Traceback" not in err


def test_two_submissions_for_one_roster_row_is_an_error(tmp_path, capsys):
    out = write_class(tmp_path / "out", {"smithjohn_1001_50001_rnn": {"rnn"}, "smithjohn_1001_50002_lstm": {"lstm"}})
    status, _, err = run(capsys, out, "--format", "canvas", "--roster", CANVAS, "--assignment", "RNN kit",
                         "--out", tmp_path / "never.csv")
    assert status == 2 and not (tmp_path / "never.csv").exists()
    assert "row 8 (Smith, John; ID 1001) is matched by 2 submissions" in err
    assert "'smithjohn_1001_50001_rnn', 'smithjohn_1001_50002_lstm'" in err


def test_students_an_interrupted_run_did_not_grade_keep_what_they_had(tmp_path, capsys):
    out = write_class(tmp_path / "out", {"smithjohn_1001_50001_rnn_kit": EVERYTHING},
                      not_graded=["hoppergrace_1004_50004_rnn_kit"])
    status, out_text, err = run(capsys, out, "--format", "canvas", "--roster", CANVAS, "--assignment",
                                "Homework 1", "--out", tmp_path / "c.csv")
    assert status == 0, err
    column = read_csv(CANVAS)[0].index("Homework 1 (2001)")
    assert {r[1]: r[column] for r in read_csv(tmp_path / "c.csv")[3:]}["1004"] == "8.50"  # as it was
    assert "not graded by the class run" in err and "Hopper, Grace" in err and "1 not graded yet" in out_text
    status, _, err = run(capsys, out, "--format", "moodle", "--roster", MOODLE, "--assignment", "RNN kit",
                         "--out", tmp_path / "m.csv")
    assert status == 0, err
    assert "grace.hopper@example.edu" not in (tmp_path / "m.csv").read_text()  # left out: Moodle keeps its grade


# ---------------------------------------------------------------------------------------
# Bad input: a message, exit status 2, nothing written, never a traceback

@pytest.mark.parametrize("make, argv, said", [
    (None, ["--roster", "{tmp}/missing.csv"], "no such file"),
    (b"Student,ID\r\n\xe9l\xe8ve,12\r\n", [], "is not UTF-8 text (byte 0xe9 at offset 12"),
    (b"PK\x03\x04rest of a workbook", [], "spreadsheet workbook (.xlsx), not CSV"),
    (b"", [], "is empty"),
    (b"\xff\xfeS\x00t\x00", [], "is UTF-16 text"),
    ("Student,ID\n\"unclosed,1\n", [], "is not a readable CSV file"),
    ("name,email\nAda,ada@example.edu\n", [], "not a Canvas gradebook export"),
    (None, ["--match", "Login"], "--match 'Login': the roster has no such column; its columns are 'Student', 'ID'"),
    (None, ["--assignment", "Current Score"], "Canvas reads a column of that name as one of its own"),
    (None, ["--assignment", "rnn KIT"], "but 'RNN kit (2002)' is: spell it exactly"),
    (None, ["--assignment", "=1+1"], "starts like a spreadsheet formula"),
    (None, ["--match", "SIS User ID"], ("no submission matches a roster row by SIS User ID (4 tried). The "
                                        "submissions are named like Canvas's downloads")),
])
def test_bad_input_says_what_is_wrong(canvas_out, tmp_path, capsys, make, argv, said):
    roster = tmp_path / "roster.csv"
    if make is not None:
        roster.write_bytes(make if isinstance(make, bytes) else make.encode("utf-8"))
    else:
        shutil.copy(CANVAS, roster)
    options = {"--roster": str(roster), "--assignment": "RNN kit"}
    for key, value in zip(argv[::2], argv[1::2]):
        options[key] = value.format(tmp=tmp_path)
    argv = [x for pair in options.items() for x in pair]
    dest = tmp_path / "never.csv"
    status, out, err = run(capsys, canvas_out, "--format", "canvas", *argv, "--out", dest)
    assert status == 2 and out == "" and not dest.exists()
    assert err.startswith("rnn-grade export: ") and said in err and "Traceback" not in err


def test_an_empty_or_missing_class_folder_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, _, err = run(capsys, tmp_path / "empty", "--format", "csv", "--out", tmp_path / "x.csv")
    assert status == 2 and "holds no graded students" in err and "rnn-grade class SUBMISSIONS --out" in err
    status, _, err = run(capsys, tmp_path / "nowhere", "--format", "csv", "--out", tmp_path / "x.csv")
    assert status == 2 and "no such folder" in err
    status, _, err = run(capsys, tmp_path / "empty", "--format", "moodle", "--out", tmp_path / "x.csv")
    assert status == 2 and "--format moodle needs --roster" in err
    assert not (tmp_path / "x.csv").exists()


def test_the_file_is_replaced_whole_and_never_the_roster(canvas_out, tmp_path):
    roster = tmp_path / "roster.csv"
    shutil.copy(CANVAS, roster)
    with pytest.raises(ExportError, match="is the roster itself"):
        export(canvas_out, format="canvas", dest=roster, roster=roster, assignment="RNN kit")
    dest = tmp_path / "import.csv"
    dest.write_text("an older export\n" * 1000)
    summary = export(canvas_out, format="canvas", dest=dest, roster=roster, assignment="RNN kit")
    assert read_csv(dest)[0] == read_csv(CANVAS)[0] and summary.exported == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
