"""A graded class as a file an LMS imports: `rnn-grade export OUT --format canvas|moodle|csv`.

`export(out, format=..., dest=..., roster=..., assignment=..., match=...)` reads what
`rnn-grade class` wrote into `out` (grades.csv, and each student's results.json) and writes
one file, atomically:

* ``canvas``: the gradebook CSV Canvas exported (the roster), written back with the
  assignment's column filled in, or added at the end with ``Points Possible`` set to the
  kit's maximum. Every other row, column and cell stays as it was, and so do the byte-order
  mark, the delimiter and the line endings, so Canvas's Import takes the file unchanged.
* ``moodle``: two columns, the roster's identifier (email address, username or ID number)
  and the grade: what Moodle's "Import grades from CSV" maps to a user field and a grade item.
* ``csv``: id, name, total and the points of each part of the lesson, for any spreadsheet.

Each submission is matched to a roster row by one column (`match`). A submission's name is
read the way the LMS names its downloads: Canvas's ``sortablename[_late]_USERID_FILEID_file``
carries the Canvas user ID (the ``ID`` column) and the sortable name (``Student``); Moodle's
``Full Name_NUMBER_assignsubmission_file_`` carries the full name (NUMBER is Moodle's own
participant number for the assignment, on no roster). Any other name is compared whole.

A roster row with no submission gets 0 and is listed; a submission that matches no row is
listed and left out; a submission that matches two rows, or two submissions that match one
row, stop the export with both named. Students an interrupted class run did not grade are
left as they were. Bad input raises ExportError, whose message says what to do; nothing is
written then.
"""
import codecs
import csv
import io
import json
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import kit
from ..classroom import NOT_GRADED, csv_text
from ..files import write_atomic
from ..sandbox.submission import read_regular

FORMATS = ("canvas", "moodle", "csv")

_MB = 1024 ** 2
_RESULTS_BYTES = 64 * _MB  # one student's results.json (a class run writes about 100 kB)
_ROSTER_BYTES = 64 * _MB

#: the column a roster without one gets from its first-name and last-name columns (Moodle's export)
FULL_NAME = "Full name"


class ExportError(ValueError):
    """Bad input from the instructor; the message says what is wrong and how to go on."""


# ---------------------------------------------------------------------------------------
# The graded class

@dataclass
class ClassResult:
    """One submission of a class run, as the export needs it."""

    student: str                    # the submission's name in the run (its file's stem or folder's name)
    total: float | None             # None: an interrupted run did not grade it
    status: str
    parts: dict = field(default_factory=dict)  # module -> points earned
    max_score: float = 0.0


def _from_results_json(data):
    """A ClassResult from one results.json (Gradescope's format, as classroom writes it)."""
    extra = data["extra_data"]
    student, score = extra["student"], data["score"]
    if not isinstance(student, str) or isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TypeError("not a results.json written by rnn-grade class")
    parts = dict.fromkeys(kit.MODULES, 0.0)
    for test in data["tests"]:
        module = test["tags"][0]  # tags: [module, function]
        parts[module] = parts.get(module, 0.0) + float(test["score"])
    return ClassResult(student, float(score), str(extra.get("status", "graded")),
                       {m: round(v, 4) for m, v in parts.items()}, float(extra.get("max_score") or 0.0))


def _unneutralised(cell):
    """The student name behind a grades.csv cell (classroom.csv_text put a quote before a formula-like one)."""
    return cell[1:] if cell.startswith("'") and csv_text(cell[1:]) == cell else cell


def read_class(out):
    """([ClassResult] in grades.csv's order, [notes]) from the folder `rnn-grade class --out` wrote."""
    out = Path(out)
    command = f"rnn-grade class SUBMISSIONS --out {out}"
    if not out.exists():
        raise ExportError(f"{out}: no such folder; give the folder that `{command}` wrote")
    if not out.is_dir():
        raise ExportError(f"{out} is not a folder; give the folder that `{command}` wrote (it holds grades.csv)")
    try:
        with os.scandir(out) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise ExportError(f"{out} cannot be listed ({exc.strerror})") from None
    found, damaged, notes = {}, [], []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path) / "results.json"
        if not os.path.lexists(path):
            continue
        try:
            result = _from_results_json(json.loads(read_regular(path, _RESULTS_BYTES)))
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            damaged.append(entry.name)
            continue
        found[result.student] = result
    grades = out / "grades.csv"
    if os.path.lexists(grades):
        results = _listed_in_grades_csv(grades, found, command)
        stale = sorted(set(found) - {r.student for r in results})
        if stale:
            notes.append(f"left out {len(stale)} student folder(s) in {out} that grades.csv does not list (from "
                         f"an earlier run?): {_names(stale)}")
    else:
        results = list(found.values())
        if results:
            notes.append(f"{out} has no grades.csv (was the class run stopped before it finished?): exporting the "
                         f"{len(results)} student(s) whose results.json is there")
    if damaged:
        notes.append(f"could not read the results.json in {len(damaged)} folder(s) of {out}: {_names(damaged)}")
    if not results:
        raise ExportError(f"{out} holds no graded students (no grades.csv, no <student>/results.json); grade the "
                          f"class first: {command}")
    return results, notes


def _listed_in_grades_csv(grades, found, command):
    try:
        text = read_regular(grades, _ROSTER_BYTES).decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except (OSError, ValueError, csv.Error) as exc:  # SubmissionError and UnicodeDecodeError are ValueErrors
        raise ExportError(f"{grades} cannot be read ({exc}); grade the class again: {command}") from None
    if rows and "student" not in rows[0]:
        raise ExportError(f"{grades} is not the grades.csv that rnn-grade class writes (it has no student column)")
    by_cell = {csv_text(student): result for student, result in found.items()}
    results, lost = [], []
    for row in rows:
        cell = row.get("student") or ""
        if row.get("status") == NOT_GRADED:
            student = by_cell[cell].student if cell in by_cell else _unneutralised(cell)
            results.append(ClassResult(student, None, NOT_GRADED))
        elif cell in by_cell:
            results.append(by_cell[cell])
        else:
            lost.append(_unneutralised(cell))
    if lost:
        raise ExportError(f"grades.csv lists {len(lost)} graded student(s) whose results.json is missing or "
                          f"damaged: {_names(lost)}; grade the class again: {command}")
    return results


# ---------------------------------------------------------------------------------------
# The roster: the LMS's own export

_CANVAS_STUDENT_COLUMNS = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section",
                           "Integration ID", "Root Account")
#: Canvas reads any column whose name contains one of these as its own computed total, and ignores it on import
_CANVAS_COMPUTED = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                    "Final Grade", "Override Score", "Override Grade", "Override Status")
#: a row Canvas's importer skips: blank, or only "Muted" / "Manual Posting" cells
_CANVAS_HIDDEN_ROW = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.IGNORECASE)
_FIRST_NAMES = ("first name", "firstname")
_LAST_NAMES = ("last name", "lastname", "surname")
_NAME_COLUMNS = ("student", "name", "full name", "fullname")
#: what Moodle's import can identify a user by, in the order the export prefers them
_MOODLE_KEYS = ("email address", "email", "username", "user name", "id number", "idnumber")


def _casefold(text):
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class Roster:
    """A roster CSV as read: the header, every row, and which rows are students."""

    path: Path
    header: list
    rows: list                      # every row after the header, as read (to write the Canvas file back)
    kind: str = ""                  # "canvas", "moodle" or "" (any other CSV)
    delimiter: str = ","
    newline: str = "\r\n"
    bom: bool = False
    students: list = field(default_factory=list)     # indices into rows
    points_rows: list = field(default_factory=list)  # Canvas's "Points Possible" rows
    test_students: list = field(default_factory=list)  # Canvas's Test Student: kept as it is

    def find(self, name):
        """The column `name` as this roster spells it (exactly, else ignoring case), or None."""
        names = self.columns()
        for column in names:
            if column == name.strip():
                return column
        return next((c for c in names if _casefold(c) == _casefold(name)), None)

    def columns(self):
        names = [h.strip() for h in self.header if h.strip()]
        if self._first_last() and FULL_NAME.casefold() not in {_casefold(n) for n in names}:
            names.append(FULL_NAME)
        return names

    def _index(self, column):
        stripped = [h.strip() for h in self.header]
        return stripped.index(column) if column in stripped else None

    def _first_last(self):
        folded = [_casefold(h) for h in self.header]
        first = next((i for i, h in enumerate(folded) if h in _FIRST_NAMES), None)
        last = next((i for i, h in enumerate(folded) if h in _LAST_NAMES), None)
        return (first, last) if first is not None and last is not None else None

    def cell(self, i, index):
        row = self.rows[i]
        return row[index] if index is not None and index < len(row) else ""

    def value(self, i, column):
        """Row i's value in `column` (the made-up FULL_NAME is first name, a space, last name)."""
        index = self._index(column)
        if index is None and column == FULL_NAME and self._first_last():
            first, last = self._first_last()
            return f"{self.cell(i, first).strip()} {self.cell(i, last).strip()}".strip()
        return self.cell(i, index)

    def name(self, i):
        """Row i's student, as a person reads it."""
        if self.kind == "canvas" and self._index("Student") is not None:
            return self.value(i, "Student").strip()
        if self._first_last():
            return self.value(i, FULL_NAME)
        column = next((c for c in self.columns() if _casefold(c) in _NAME_COLUMNS), None)
        return self.value(i, column or self.columns()[0]).strip()

    def label(self, i, column=None):
        """How a message names row i: its row number in a spreadsheet, its name and the value that matched."""
        name = self.name(i) or "no name"
        value = self.value(i, column).strip() if column else ""
        shown = f"; {column} {value}" if value and value != name else ""
        return f"row {i + 2} ({name}{shown})"


def _delimiter(text):
    """`,`, `;` or tab: the one that splits the first lines into the same number of fields, most of them.

    Canvas writes `;` where the user's settings ask for it, and Moodle's export offers tabs.
    """
    lines = [line for line in text.splitlines()[:3] if line.strip()]

    def fields(separator):
        try:
            counts = {len(next(csv.reader([line], delimiter=separator))) for line in lines}
        except csv.Error:
            return 0
        return counts.pop() if len(counts) == 1 else 0

    def header_fields(separator):  # when no separator is consistent: the one that splits the header most
        return len(next(csv.reader(lines[:1], delimiter=separator), []))

    counts = {separator: fields(separator) for separator in (",", ";", "\t")}
    if max(counts.values()) <= 1:
        counts = {separator: header_fields(separator) for separator in counts}
    best = max(counts, key=lambda s: (counts[s], s == ","))
    return best if counts[best] > 1 else ","


def read_roster(path):
    """A Roster from the LMS's CSV export, or ExportError saying why it cannot be read."""
    path = Path(path)
    where = f"--roster {path}"
    if not path.exists():
        raise ExportError(f"{where}: no such file; export the gradebook from the LMS first (Canvas: Grades, "
                          f"Export; Moodle: Grades, Export, Plain text file)")
    if path.is_dir():
        raise ExportError(f"{where} is a folder; give the CSV file the LMS exported")
    try:
        if path.stat().st_size > _ROSTER_BYTES:
            raise ExportError(f"{where} is larger than {_ROSTER_BYTES // _MB} MB; is it really a roster?")
        raw = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"{where} cannot be read ({exc.strerror})") from None
    if raw.startswith(b"PK\x03\x04"):
        raise ExportError(f"{where} is a spreadsheet workbook (.xlsx), not CSV; export CSV from the LMS, or save "
                          f"it as \"CSV UTF-8\"")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExportError(f"{where} is UTF-16 text; save it as \"CSV UTF-8\", or export it from the LMS again")
    try:
        text = raw.decode("utf-8-sig")  # Canvas may start its export with a byte-order mark
    except UnicodeDecodeError as exc:
        raise ExportError(f"{where} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}; a "
                          f"spreadsheet may have saved it as Windows-1252 or Latin-1): export it from the LMS "
                          f"again, or save it as \"CSV UTF-8\"") from None
    if "\x00" in text:
        raise ExportError(f"{where} holds NUL bytes: it is not a CSV text file")
    if not text.strip():
        raise ExportError(f"{where} is empty")
    delimiter = _delimiter(text)
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise ExportError(f"{where} is not a readable CSV file ({exc})") from None
    roster = Roster(path, table[0], table[1:], delimiter=delimiter, newline="\r\n" if "\r\n" in text else "\n",
                    bom=raw.startswith(codecs.BOM_UTF8))
    roster.kind = _kind(roster)
    for i, row in enumerate(roster.rows):
        if not any(cell.strip() for cell in row):
            continue
        if roster.kind == "canvas":
            if "Points Possible" in row[0]:  # Canvas writes "    Points Possible"
                roster.points_rows.append(i)
                continue
            if all(_CANVAS_HIDDEN_ROW.match(cell) for cell in row):
                continue
            if roster.name(i) in ("Student, Test", "Test Student"):
                roster.test_students.append(i)
                continue
        roster.students.append(i)
    if not roster.students:
        raise ExportError(f"{where} lists no students (its first row is {_cells(roster.header)})")
    return roster


def _kind(roster):
    header = [h.strip() for h in roster.header]
    if len(header) > 3 and "Student" in header[0] and "ID" in header[1]:
        return "canvas"
    if len(header) > 4 and "LastName" in header[0] and "FirstName" in header[1] and "ID" in header[2]:
        return "canvas"
    return "moodle" if roster._first_last() else ""


# ---------------------------------------------------------------------------------------
# Matching submissions to roster rows

#: Canvas's download names (ContentZipper): the sortable name in lower-case word characters, "late_" if late,
#: the Canvas user ID, then the file's ID and its own name; or only the part up to the user ID (a folder)
_CANVAS_DOWNLOAD = re.compile(r"^(?:(?P<name>.*?)_)?(?:late_)?(?P<user>[0-9]+)(?:_[0-9]+_.+)?$",
                              re.IGNORECASE | re.DOTALL)
#: Moodle's: the full name (its underscores made spaces), Moodle's participant number for the assignment,
#: "_assignsubmission_<plugin>", then a folder's "_" (or nothing) or a file's "_<name>"
_MOODLE_DOWNLOAD = re.compile(r"^(?P<name>.+?)_(?P<number>[0-9]+)_assignsubmission_[a-z]+(?:_.*)?$",
                              re.IGNORECASE | re.DOTALL)


def _squash(text):
    """A name reduced to its letters and digits, without accents or case ("García, José" -> "garciajose")."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if c.isalnum())


def layout(student):
    """"moodle", "canvas" or "" : whose download names `student` (a submission's name) follows."""
    if _MOODLE_DOWNLOAD.match(student):
        return "moodle"
    return "canvas" if _CANVAS_DOWNLOAD.match(student) else ""


def display_name(student):
    """The person in a submission's name: Moodle's full name or Canvas's sortable name, else the name itself."""
    moodle = _MOODLE_DOWNLOAD.match(student)
    if moodle:
        return moodle.group("name").strip()
    canvas = _CANVAS_DOWNLOAD.match(student)
    return canvas.group("name") if canvas and canvas.group("name") else student


def column_kind(roster, column):
    """How `column`'s values are compared: "name" (letters and digits only), "canvas-id" or "plain"."""
    if column == FULL_NAME or _casefold(column) in _NAME_COLUMNS:
        return "name"
    return "canvas-id" if roster.kind == "canvas" and column == "ID" else "plain"


def identity(student, kind):
    """What of the submission name `student` is compared with a roster column of this kind."""
    moodle, canvas = _MOODLE_DOWNLOAD.match(student), _CANVAS_DOWNLOAD.match(student)
    if kind == "canvas-id":
        return canvas.group("user") if canvas and not moodle else _casefold(student)
    if kind == "name":
        if moodle:
            return _squash(moodle.group("name"))
        return _squash(canvas.group("name") if canvas and canvas.group("name") else student)
    return _casefold(student)


def _row_keys(roster, i, column, kind):
    value = roster.value(i, column)
    if kind != "name":
        return {_casefold(value)} - {""}
    keys = {_squash(value)}
    if "," in value:  # Canvas's sortable name, "Last, First": also "First Last"
        last, first = value.split(",", 1)
        keys.add(_squash(first + last))
    if column == FULL_NAME and roster._index(FULL_NAME) is None:  # first and last name: either order
        first, last = roster._first_last()
        keys.add(_squash(roster.cell(i, last) + roster.cell(i, first)))
    return keys - {""}


@dataclass
class Matched:
    column: str
    by_row: dict = field(default_factory=dict)    # roster row index -> ClassResult
    unkeyed: list = field(default_factory=list)   # roster rows with nothing in `column`: never matched
    unmatched: list = field(default_factory=list)  # ClassResults that match no roster row


def default_column(roster):
    """The column a roster is matched by unless --match says otherwise: Canvas's ID, else the full name."""
    if roster.kind == "canvas":
        return "ID"
    if roster.find(FULL_NAME):
        return roster.find(FULL_NAME)
    return None


def match(roster, results, column):
    """Match each submission to the roster row whose `column` it names; ExportError if that is ambiguous."""
    kind = column_kind(roster, column)
    index, matched = {}, Matched(column)
    for i in roster.students:
        keys = _row_keys(roster, i, column, kind)
        if not keys:
            matched.unkeyed.append(i)
        for key in keys:
            index.setdefault(key, set()).add(i)
    claims, problems = {}, []
    for result in results:
        rows = sorted(index.get(identity(result.student, kind), ()))
        if len(rows) > 1:
            problems.append(f"the submission {result.student!r} matches {len(rows)} roster rows by {column}: "
                            f"{' and '.join(roster.label(i, column) for i in rows)}")
        elif rows:
            claims.setdefault(rows[0], []).append(result)
        else:
            matched.unmatched.append(result)
    for i, claimed in claims.items():
        if len(claimed) > 1:
            problems.append(f"{roster.label(i, column)} is matched by {len(claimed)} submissions: "
                            f"{_names(r.student for r in claimed)}")
    if problems:
        raise ExportError("submissions and roster rows do not pair up one to one:\n  " + "\n  ".join(problems)
                          + "\nTo fix it: --match a column that tells the students apart (e.g. SIS Login ID or "
                            "Email address), or hand each student's files to rnn-grade class as one submission "
                            "(one folder or zip per student).")
    matched.by_row = {i: claimed[0] for i, claimed in claims.items()}
    if results and not matched.by_row:
        raise ExportError(f"no submission matches a roster row by {column} ({len(results)} tried). "
                          + _hint(roster, results, column, kind))
    return matched


def _hint(roster, results, column, kind):
    """What to try when submissions do not match: the layout their names follow, and the roster's columns."""
    layouts = Counter(layout(r.student) for r in results)
    if layouts["moodle"] and kind != "name" and roster.find(FULL_NAME):
        return (f"The submissions are named like Moodle's download folders, which carry the student's full name: "
                f"try --match {roster.find(FULL_NAME)!r}.")
    if layouts["canvas"] and kind not in ("name", "canvas-id") and roster.kind == "canvas":
        return "The submissions are named like Canvas's downloads, which carry the Canvas user ID: try --match ID."
    seen = [roster.value(i, column) for i in roster.students[:3]]
    columns = roster.columns()
    if roster.kind == "canvas":  # its student details: the assignments and totals name no one
        columns = [c for c in columns if c in _CANVAS_STUDENT_COLUMNS]
    return (f"Submission names look like {_names(r.student for r in results[:3])}; the roster's {column} column "
            f"holds values like {_names(seen)}. Choose the column whose values the submission names carry: --match "
            f"COLUMN (the roster's columns: {_cells(columns)}).")


# ---------------------------------------------------------------------------------------
# Writing

def _points(value):
    """A score as a spreadsheet and an LMS read it: a plain decimal number, at most 4 places."""
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _csv(rows, delimiter=",", newline="\r\n"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


@dataclass
class Written:
    """A file's text, and what the export did with each roster row that got no grade from a submission."""

    text: str
    zero: list = field(default_factory=list)        # roster rows given 0: no submission
    kept: list = field(default_factory=list)        # roster rows left as they were, with the reason
    not_graded: list = field(default_factory=list)  # roster rows of students the class run did not grade
    notes: list = field(default_factory=list)


def _canvas_title(header):
    """An assignment's title without the Canvas ID that its column header ends with ("RNN (1234)" -> "RNN")."""
    found = re.match(r"^(?P<title>.*?)\s*\((?P<id>[0-9]+)\)$", header.strip())
    return found.group("title") if found else header.strip()


def _canvas_column(roster, name):
    """The index of the assignment's column in a Canvas gradebook, or None to add one."""
    if name in _CANVAS_STUDENT_COLUMNS or any(c in name for c in _CANVAS_COMPUTED):
        raise ExportError(f"--assignment {name!r}: Canvas reads a column of that name as one of its own (student "
                          f"details or a computed total) and ignores it on import; choose another name")
    hits = [i for i, h in enumerate(roster.header) if h.strip() == name or _canvas_title(h) == name]
    if len(hits) > 1:
        raise ExportError(f"--assignment {name!r} matches {len(hits)} columns of the gradebook: "
                          f"{_cells(roster.header[i].strip() for i in hits)}; give the one you mean in full")
    if not hits:
        near = [h.strip() for h in roster.header if _casefold(_canvas_title(h)) == _casefold(name)]
        if near:
            raise ExportError(f"--assignment {name!r} is not a column of the gradebook, but {near[0]!r} is: spell it "
                              f"exactly (a new name makes Canvas add a new assignment)")
        return None
    index = hits[0]
    points = [roster.cell(i, index).strip() for i in roster.points_rows]
    if any(re.search(r"read\s+only", p, re.IGNORECASE) for p in points):
        raise ExportError(f"the gradebook's column {roster.header[index].strip()!r} is read only in Canvas (it "
                          f"says so in its Points Possible row); choose an assignment's column")
    if _canvas_title(roster.header[index]) == roster.header[index].strip() and points and not any(points):
        raise ExportError(f"the gradebook's column {roster.header[index].strip()!r} has no assignment ID and no "
                          f"points possible: it looks like one of Canvas's custom (notes) columns; give an "
                          f"assignment's column, or a new name to add one")
    return index


def _require_canvas(roster):
    if roster.kind != "canvas":
        raise ExportError(f"--roster {roster.path} is not a Canvas gradebook export (its first row should start "
                          f"with Student, ID, ...; it starts with {_cells(roster.header[:4])}); in Canvas: "
                          f"Grades, Export, Export Entire Gradebook")


def canvas_file(roster, matched, assignment, maximum):
    """The Canvas gradebook written back with the assignment's column filled in (added if it is missing)."""
    _require_canvas(roster)
    name = assignment.strip()
    index = _canvas_column(roster, name)
    header, rows = list(roster.header), [list(row) for row in roster.rows]
    written = Written("")
    if index is None:
        index = len(header)
        header.append(name)
        for row in rows:
            if any(cell.strip() for cell in row):  # blank lines stay blank
                row.extend([""] * (index + 1 - len(row)))
        for i in roster.points_rows:
            rows[i][index] = _points(maximum)
        written.notes.append(f"added the column {name!r} to the gradebook (Points Possible {_points(maximum)}): "
                             f"Canvas creates the assignment when it imports the file")
    else:
        for i in roster.points_rows:
            possible = roster.cell(i, index).strip()
            if _number(possible) is not None and _number(possible) != maximum:
                written.notes.append(f"the assignment {header[index].strip()!r} is worth {possible} points in "
                                     f"Canvas, and the kit's totals are out of {_points(maximum)}: set it to "
                                     f"{_points(maximum)} points in Canvas, or the grades will read wrong")
    for i in roster.students:
        row = rows[i]
        row.extend([""] * (index + 1 - len(row)))
        result = matched.by_row.get(i)
        if result is None:
            if row[index].strip().upper() == "EX":
                written.kept.append((i, "excused (EX)"))
            elif row[index].strip().upper() == "N/A":
                written.kept.append((i, "not assigned this assignment (N/A)"))
            else:
                row[index] = "0"
                written.zero.append(i)
        elif result.total is None:
            written.not_graded.append(i)
        else:
            row[index] = _points(result.total)
    written.text = ("\ufeff" if roster.bom else "") + _csv([header, *rows], roster.delimiter, roster.newline)
    return written


def moodle_key(roster):
    """The roster's column Moodle's import can identify a user by (email address, username or ID number)."""
    for wanted in _MOODLE_KEYS:
        for column in roster.columns():
            if _casefold(column) == wanted:
                return column
    raise ExportError(f"Moodle's import finds each user by email address, username or ID number, and --roster "
                      f"{roster.path} has none of these columns (it has {_cells(roster.columns())}); export the "
                      f"roster from Moodle's gradebook (Grades, Export, Plain text file), which has Email address")


def moodle_file(roster, matched, assignment):
    """Two columns for Moodle's "Import grades from CSV": the user's identifier and the grade."""
    key, name = moodle_key(roster), assignment.strip()
    rows, written = [[key, name]], Written("")
    for i in roster.students:
        ident, result = roster.value(i, key).strip(), matched.by_row.get(i)
        if not ident:
            written.kept.append((i, f"no {key} on the roster: not in the file"))
            continue
        if result is not None and result.total is None:
            written.not_graded.append(i)
            continue
        if result is None:
            written.zero.append(i)
        cell = csv_text(ident)
        if cell != ident:
            written.notes.append(f"{roster.label(i)}: the {key} {ident!r} starts like a spreadsheet formula and is "
                                 f"written as {cell!r}; Moodle will not find that user, so enter the grade by hand")
        rows.append([cell, _points(result.total) if result else "0"])
    written.text = _csv(rows)
    return written


PLAIN_HEADER = ("id", "name", "total", *kit.MODULES)


def _plain_numbers(result):
    if result.total is None:
        return [""] * (1 + len(kit.MODULES))
    return [_points(result.total)] + [_points(result.parts.get(m, 0.0)) for m in kit.MODULES]


def plain_file(results, roster=None, matched=None):
    """id, name, total and each part's points: a roster's students in its order, or every submission."""
    rows, written = [list(PLAIN_HEADER)], Written("")
    if roster is None:
        for result in results:
            rows.append([csv_text(result.student), csv_text(display_name(result.student)), *_plain_numbers(result)])
            if result.total is None:
                written.not_graded.append(result.student)
    else:
        id_column = _id_column(roster, matched.column)
        for i in roster.students:
            result = matched.by_row.get(i)
            if result is None:
                written.zero.append(i)
                numbers = ["0"] * (1 + len(kit.MODULES))
            else:
                numbers = _plain_numbers(result)
                if result.total is None:
                    written.not_graded.append(i)
            rows.append([csv_text(roster.value(i, id_column).strip()), csv_text(roster.name(i)), *numbers])
    written.text = _csv(rows)
    return written


def _id_column(roster, column):
    """The roster's identifier for the csv format's id: the --match column, unless that holds names."""
    if column_kind(roster, column) != "name":
        return column
    if roster.kind == "canvas":
        return "ID"
    try:
        return moodle_key(roster)
    except ExportError:
        return column


def _number(text):
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# The whole export

@dataclass
class Summary:
    """What an export wrote, and the lists the instructor should read."""

    dest: Path
    format: str
    column: str = ""
    exported: int = 0                                  # students whose own grade is in the file
    zero: list = field(default_factory=list)           # roster rows without a submission: given 0
    kept: list = field(default_factory=list)           # roster rows left as they were, with the reason
    not_graded: list = field(default_factory=list)     # students the class run did not grade
    unkeyed: list = field(default_factory=list)        # roster rows with an empty --match column (given 0)
    unmatched: list = field(default_factory=list)      # submissions that match no roster row: left out
    notes: list = field(default_factory=list)

    def details(self):
        """Lines for stderr: the notes, then every list, one student a line."""
        lines = [f"note: {n}" for n in self.notes]
        sections = [
            (self.zero, "on the roster without a submission: given 0"),
            (self.unkeyed, f"on the roster with no {self.column}, so never matched: given 0"),
            (self.kept, "on the roster without a submission, kept as they were"),
            (self.not_graded, "not graded by the class run (it was interrupted): "
                              + ("left out of the file" if self.format == "moodle" else "left as they were")
                              + "; run rnn-grade class again to grade them"),
            (self.unmatched, f"submission(s) that match no roster row by {self.column}: left out"),
        ]
        for items, title in sections:
            if items:
                lines.append(f"{len(items)} {title}:")
                lines += [f"  {item}" for item in items]
        return lines

    def headline(self):
        parts = [f"{self.exported} graded"]
        if self.zero or self.unkeyed:
            parts.append(f"{len(self.zero) + len(self.unkeyed)} without a submission (0)")
        if self.kept:
            parts.append(f"{len(self.kept)} kept as they were")
        if self.not_graded:
            parts.append(f"{len(self.not_graded)} not graded yet")
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} submission(s) matching no roster row, left out")
        matched = f"; matched by {self.column}" if self.column else ""
        return f"wrote {self.dest} ({self.format}): " + ", ".join(parts) + matched


def export(out, *, format, dest, roster=None, assignment=None, match_column=None):
    """Write the class graded into `out` as `format` to `dest`; return a Summary (ExportError for bad input)."""
    from ..catalogue import total_points

    if format not in FORMATS:
        raise ExportError(f"--format {format!r}: choose one of {', '.join(FORMATS)}")
    dest = Path(dest)
    if dest.is_dir():
        raise ExportError(f"--out {dest} is a folder; give the path of the file to write")
    if format != "csv" and not roster:
        raise ExportError(f"--format {format} needs --roster: the gradebook CSV exported from "
                          + ("Canvas (Grades, Export)" if format == "canvas" else
                             "Moodle (Grades, Export, Plain text file)"))
    name = (assignment or "").strip()
    if format != "csv" and not name:
        raise ExportError(f"--format {format} needs --assignment NAME: the assignment the grades are for")
    if name and csv_text(name) != name:
        raise ExportError(f"--assignment {name!r} starts like a spreadsheet formula (=, +, -, @); choose a name "
                          f"that does not")
    if roster and dest.exists() and Path(roster).exists() and os.path.samefile(dest, roster):
        raise ExportError(f"--out {dest} is the roster itself; write the import file next to it instead")
    results, notes = read_class(out)
    summary = Summary(dest, format, notes=notes)
    if format == "csv" and name:
        summary.notes.append("--assignment is not used by --format csv")
    matched, table = None, None
    if roster:
        table = read_roster(roster)
        if format == "canvas":
            _require_canvas(table)
        column = table.find(match_column) if match_column else default_column(table)
        if match_column and column is None:
            raise ExportError(f"--match {match_column!r}: the roster has no such column; its columns are "
                              f"{_cells(table.columns())}")
        if column is None:
            raise ExportError(f"say which roster column names the students with --match COLUMN (the roster's "
                              f"columns: {_cells(table.columns())})")
        matched = match(table, results, column)
        summary.column = column
    maximum = total_points()
    run_maximum = {r.max_score for r in results if r.total is not None and r.max_score}
    if format != "csv" and run_maximum and run_maximum != {maximum}:
        summary.notes.append(f"the class was graded out of {' or '.join(_points(m) for m in sorted(run_maximum))}, not "
                             f"the kit's {_points(maximum)} (run without the training checks?); the grades are "
                             f"written as they are")
    if format == "canvas":
        written = canvas_file(table, matched, name, maximum)
    elif format == "moodle":
        written = moodle_file(table, matched, name)
    else:
        written = plain_file(results, table, matched)
    try:
        write_atomic(dest, written.text)
    except OSError as exc:
        raise ExportError(f"--out {dest} cannot be written ({exc.strerror or exc})") from None
    summary.notes += written.notes
    label = (lambda i: table.label(i, summary.column)) if table else str
    summary.zero = [label(i) for i in written.zero if not matched or i not in matched.unkeyed]
    summary.unkeyed = [label(i) for i in written.zero if matched and i in matched.unkeyed]
    summary.kept = [f"{label(i)}: {why}" for i, why in written.kept]
    summary.not_graded = [label(i) for i in written.not_graded]
    summary.unmatched = [r.student for r in matched.unmatched] if matched else []
    summary.exported = (len(matched.by_row) if matched else len(results)) - len(summary.not_graded)
    return summary


def _names(items, limit=10):
    items = [str(i) for i in items]
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _cells(items, limit=20):
    items = [str(i) for i in items]
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
