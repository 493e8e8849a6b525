"""Grade a whole class: one command, every student in the sandbox, nothing lost.

`grade_class(submissions, out)` writes, for each student, ``out/<student>/results.json``
(Gradescope format), ``feedback.html`` and ``graded.json`` (the record used to resume),
each atomically, as soon as that student is done. Then ``out/grades.csv`` and
``out/report.html``. Re-running skips students whose submission, checks and reference are
unchanged (the fingerprint), unless `regrade` is set. An interrupted run keeps every
student already written.

Ctrl-C (SIGINT) or SIGTERM stops a run: nobody more is started, the grading processes
and their sandboxes are ended, and grades.csv and report.html are written for everyone
finished. The students not graded are listed in both, in grades.csv with the status
"not graded (interrupted)" and an empty total (never 0: a gradebook import leaves
them ungraded). Running the same command again grades only them. A second signal exits
at once (see `interrupt`).
"""
import csv
import hashlib
import io
import json
import multiprocessing
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import interrupt
from .catalogue import all_checks
from .files import write_atomic
from .grading import (Graded, feedback_html, fingerprint, grade_read, graded_from_dict, graded_to_dict,
                      gradescope_results, read_for_grading)
from .sandbox.client import DEFAULT_TIMEOUT
from .sandbox.submission import clean_text, read_regular

SUBMISSION_SUFFIXES = (".zip", ".ipynb", ".py")


class ClassError(ValueError):
    """Bad input from the instructor (missing folder, empty class, ...)."""


@dataclass
class ClassRun:
    out: Path
    graded: dict                                   # student -> Graded
    skipped: list = field(default_factory=list)    # unchanged since the last run
    changed: dict = field(default_factory=dict)    # student -> (old total, new total) for regrades
    seconds: float = 0.0
    interrupted: str = ""                          # the signal that stopped the run ("SIGINT"), if one did
    not_graded: list = field(default_factory=list)  # students an interrupted run did not get to


def discover(submissions, skip=()):
    """[(student, path)]: one per subdirectory, zip, notebook or .py file, sorted by name.

    Nothing is followed or read here: a symbolic link, or a FIFO named like a submission,
    is a student whose submission is then refused with the reason (grading.read). Student
    names are unique and printable (an undecodable byte in a file name becomes "?").
    The output folder of every student is decided here, for the whole class at once
    (`folder_names`, used by `_safe_name`); names that differ only in upper/lower case
    are reported on stderr and in both students' results.
    """
    submissions = Path(submissions)
    skip = {Path(p).resolve() for p in skip}
    if not submissions.exists():
        raise ClassError(f"{submissions}: no such folder")
    if not submissions.is_dir():
        raise ClassError(f"{submissions} is not a folder; give the folder holding one entry per student")
    root = submissions.resolve()
    try:
        with os.scandir(submissions) as listing:
            found = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise ClassError(f"{submissions} cannot be listed ({exc.strerror})") from None
    entries = [submissions / e.name for e in found
               if not e.name.startswith((".", "_")) and root / e.name not in skip and _is_submission(e)]
    if not entries:
        raise ClassError(f"{submissions} holds no submissions (expected one folder, .zip, .ipynb or .py per student)")
    students = _student_names(entries)
    _decide_folders(students)
    return list(zip(students, entries))


def _is_submission(entry):
    """A folder, or a file (of any kind: it is refused later, with the reason) with a submission's suffix."""
    if Path(entry.name).suffix.lower() in SUBMISSION_SUFFIXES:
        return True
    try:  # a link to a folder is a student too (refused when read); its target is only stat'ed
        return entry.is_dir()
    except OSError:
        return False


def _student_names(paths):
    """One unique, printable name per entry: its stem, its full name where stems clash, numbered past that."""
    def printable(name):
        return clean_text(name, 200, lines=False) or "(no name)"

    stems = Counter(printable(p.stem) for p in paths)
    wanted = [printable(p.stem) if stems[printable(p.stem)] == 1 else printable(p.name) for p in paths]
    taken, used, names = set(wanted), set(), []
    for name in wanted:  # the first keeps its name; a later one with the same name (bytes decoded alike): numbered
        unique, n = name, 1
        while unique in used or (unique != name and unique in taken):
            n += 1
            unique = f"{name} ({n})"
        used.add(unique)
        names.append(unique)
    return names


#: what a class run writes next to the student folders: no student's folder may take these names
CLASS_FILES = ("grades.csv", "report.html")
#: suffixes of class-level files: a student named like one never gets the plain name either
_CLASS_SUFFIXES = (".csv", ".html", ".htm", ".json", ".txt", ".md", ".log", ".tmp")
#: how hashed folder names end (a plain name that ends like this could pass for another student's)
_HASH_TAIL = re.compile(r"-[0-9a-f]{6,}$")
_MAX_FOLDER_BYTES = 120

#: the class last discovered: student -> output folder, and student -> notes about a case collision
_FOLDERS, _CASE_NOTES = {}, {}


def _fold(name):
    """What two names look like to a case- and normalisation-insensitive file system (macOS, Windows)."""
    return unicodedata.normalize("NFKC", name).casefold()


def _safe_form(student):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in student).lstrip(".") or "_"
    while len(safe.encode("utf-8", "surrogatepass")) > _MAX_FOLDER_BYTES:
        safe = safe[:-1]
    return safe


def _hashed(student, size):
    digest = hashlib.blake2b(student.encode("utf-8", "surrogatepass"), digest_size=size).hexdigest()
    return f"{_safe_form(student)}-{digest}"


def _may_be_plain(student):
    """Whether `student` may be its own folder name: exactly the safe form, and nothing it could be mistaken for."""
    return (student == _safe_form(student) and student == unicodedata.normalize("NFC", student)
            and not _HASH_TAIL.search(student) and _fold(student) not in {_fold(f) for f in CLASS_FILES}
            and not student.lower().endswith(_CLASS_SUFFIXES))


def folder_names(students):
    """{student: output folder name}, decided for a whole class at once, so that no two students share a folder.

    A student keeps their own name as folder when it is already a safe folder name, no
    other student's name folds to the same (upper/lower case, Unicode normalisation), and
    it cannot be taken for a class-level file (CLASS_FILES) or a hashed name. Everyone
    else gets the safe form plus a hash of their name ("José García" -> José_García-8a5e0b);
    where two of those still fold alike, longer hashes. The mapping depends only on the
    set of names, so every run over the same class finds the same folders.
    """
    students = sorted(set(students))
    plain = Counter(_fold(s) for s in students if _may_be_plain(s))
    names = {s: s if _may_be_plain(s) and plain[_fold(s)] == 1 else _hashed(s, 3) for s in students}
    for size in (16, 32):
        taken = Counter(_fold(n) for n in names.values())
        if len(taken) == len(names):
            break
        names.update({s: _hashed(s, size) for s, n in names.items() if taken[_fold(n)] > 1})
    if len({_fold(n) for n in names.values()}) != len(names):
        raise ClassError("two students' output folders would collide; rename one of the submissions")
    return names


def _decide_folders(students):
    """Remember the class's folders (for `_safe_name`) and report names that differ only in case."""
    _FOLDERS.clear()
    _FOLDERS.update(folder_names(students))
    _CASE_NOTES.clear()
    groups = {}
    for student in students:
        groups.setdefault(_fold(student), []).append(student)
    for group in (g for g in groups.values() if len(g) > 1):
        folders = ", ".join(f"{s!r} -> {_FOLDERS[s]}/" for s in group)
        print(f"rnn-grade class: {len(group)} submissions have the same name apart from upper/lower case; each is "
              f"graded into its own folder ({folders}). Rename them to keep plain folder names.", file=sys.stderr)
        for student in group:
            _CASE_NOTES[student] = (f"another submission in this class has the same name apart from upper/lower "
                                    f"case; both are graded, and your results are in the folder {_FOLDERS[student]}/")


def _safe_name(student):
    """The output folder name of `student`: as decided for the class by `discover`, else for the name alone."""
    return _FOLDERS.get(student) or folder_names([student])[student]


def class_checks(skip):
    """The checks a class run grades: every check outside the skipped groups."""
    return [c for c in all_checks() if c.group not in skip]


def _grade_one(job):
    student, path, timeout, skip = job
    try:
        read = read_for_grading(path, student=student, checks=class_checks(skip))
    except Exception as exc:  # a fault in the grader itself: record it, keep going
        return graded_to_dict(grader_fault(student, class_checks(skip), exc))
    return grade_one_read(read, timeout=timeout, skip=skip, ref=_grade_one.ref)


def grade_one_read(read, *, timeout, skip, ref, required=None):
    """One student's Graded as a dict, from a submission already read: what a grading process returns,
    in a local pool or on a Dask worker (autograder/cluster.py)."""
    checks = class_checks(skip)
    try:
        graded = grade_read(read, checks=checks, ref=ref, timeout=timeout, required=required)
    except Exception as exc:  # a fault in the grader itself: record it, keep going
        graded = grader_fault(read.student, checks, exc)
    return graded_to_dict(graded)


def grader_fault(student, checks, exc):
    """The Graded of a student whose grading failed in the grader itself (`exc`): every check an error."""
    from .runner import Result

    results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0,
                      f"internal grader error: {type(exc).__name__}: {exc}") for c in checks]
    return Graded(student, results, 0.0, sum(c.points for c in checks), 0.0, "", {}, [], f"grader error: {exc}")


def _pool_child(conn, inherited):
    """A grading process of the pool: grade each job the parent sends, until it sends None."""
    interrupt.ignore_stop_signals()  # a terminal's Ctrl-C reaches this process too: the parent decides
    interrupt.die_with_parent()      # and if the parent is killed, this process (then its fork server) goes
    for other in inherited:          # siblings' pipes: the parent's end of them is not ours to hold
        other.close()
    _init_grader()
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(_grade_one(job))


def _grade_in_pool(jobs_todo, jobs, record, stop=None):
    """Grade in `jobs` forked processes, one job each at a time; return the jobs lost to a process that died.

    The processes ignore SIGINT and SIGTERM. Once `stop` has a signal, nothing more is handed
    out or recorded, and every process is killed (what it was grading is not graded); a fork
    server ends its workers and exits when its grading process is gone, and this returns once
    they have. A process that dies loses only its own job; a fresh one takes the next.
    """
    from collections import deque
    from multiprocessing.connection import wait

    stop = stop or interrupt.Stop()
    context = multiprocessing.get_context("fork")
    queue, lost, busy, idle = deque(jobs_todo), [], {}, {}   # connection -> (process, job) / process

    def spawn():
        here, there = context.Pipe()
        process = context.Process(target=_pool_child, args=(there, [here, *busy, *idle]), daemon=True)
        process.start()
        there.close()
        stop.children.add(process.pid)
        give(here, process)

    def give(conn, process):
        job = queue.popleft()
        busy[conn] = (process, job)
        try:
            conn.send(job)
        except OSError:  # the process is gone: wait() sees its pipe close, and the job is lost
            pass

    killed = True
    try:
        while queue and len(busy) < jobs and not stop.signum:
            spawn()
        while busy and not stop.signum:
            for conn in wait(list(busy), timeout=0.1):
                if stop.signum:
                    break
                process, job = busy.pop(conn)
                try:
                    data = conn.recv()
                except (EOFError, OSError):  # the process died (out of memory?): its job is lost
                    lost.append(job)
                    conn.close()
                    process.join()
                    stop.children.discard(process.pid)
                    if queue:
                        spawn()
                    continue
                idle[conn] = process
                if stop.signum:
                    break
                record(data)
                if queue and not stop.signum:
                    give(conn, idle.pop(conn))
        killed = bool(stop.signum)
    finally:
        processes = {conn: process for conn, (process, _) in busy.items()} | idle
        tree = interrupt.descendants(p.pid for p in processes.values())  # fork servers, bwrap, workers
        for conn, process in processes.items():
            if killed:  # stopping, or this function failed: nothing they do now is wanted
                process.kill()
            else:
                try:
                    conn.send(None)
                except OSError:
                    pass
        for conn, process in processes.items():
            process.join(None if killed else 30)
            if process.is_alive():
                process.kill()
                process.join()
            stop.children.discard(process.pid)
            conn.close()
        interrupt.wait_gone(tree, 5.0)
    return lost


def lost_result(job, reason):
    """The Graded of a job no grading process brought back (`reason`): every check an error; the next run grades it."""
    from .runner import Result

    student, _path, _timeout, skip = job
    checks = class_checks(skip)
    results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0, reason) for c in checks]
    return Graded(student, results, 0.0, sum(c.points for c in checks), 0.0, "", {}, [], reason)


def _init_grader():
    from .reference import default_reference

    _grade_one.ref = default_reference(live=True)


_grade_one.ref = None


class Progress:
    """A progress line with an ETA on stderr (redrawn on a terminal, a line per 10% otherwise)."""

    def __init__(self, total, stream=sys.stderr, enabled=True):
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0
        self.done, self.started, self.last_line = 0, time.monotonic(), -1
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def step(self, label):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        width = 30
        filled = int(width * self.done / self.total)
        line = (f"grading [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"elapsed {elapsed:5.1f}s  ETA {eta:5.1f}s  last: {label}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done == self.total or self.done * 10 // self.total != self.last_line:
            self.last_line = self.done * 10 // self.total
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self):
        """End a redrawn line early (an interrupted run), so that what comes next starts on a line of its own."""
        if self.enabled and self.tty and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def _load_previous(folder):
    """The record a previous run wrote in `folder`, or None (read as a capped regular file: never a link or FIFO)."""
    try:
        return graded_from_dict(json.loads(read_regular(folder / "graded.json", 64 * 1024 ** 2)))
    except (OSError, ValueError, TypeError, KeyError):  # SubmissionError is a ValueError
        return None


def _write_student(out, graded):
    """Write one student's files into their own folder (adding the note of a case collision, if any)."""
    note = _CASE_NOTES.get(graded.student)
    if note and note not in graded.notes:
        graded.notes.append(note)
    folder = out / _safe_name(graded.student)
    write_atomic(folder / "results.json", json.dumps(gradescope_results(graded), indent=1) + "\n")
    write_atomic(folder / "feedback.html", feedback_html(graded))
    write_atomic(folder / "graded.json", json.dumps(graded_to_dict(graded)) + "\n")


def grade_class(submissions, out, *, jobs=None, regrade=False, timeout=DEFAULT_TIMEOUT, skip=(),
                progress=True, stream=sys.stderr, scheduler=None):
    """Grade every submission in `submissions` into `out`; see the module docstring.

    `skip` names check groups to leave out (e.g. ("training",) for speed); their points
    then count neither for nor against anyone, and the maximum score drops by as much.
    `scheduler` ("tcp://HOST:PORT"): grade on that Dask cluster instead of `jobs` local
    processes (autograder/cluster.py); everything else is the same.
    """
    skip = tuple(sorted(skip))
    started = time.monotonic()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ClassError(f"{out} exists and is not a folder; give --out a folder for the results")
    entries = discover(submissions, skip=[out])
    out.mkdir(parents=True, exist_ok=True)
    run = ClassRun(out, {})
    stop = interrupt.Stop().install()  # the first SIGINT / SIGTERM stops the run (module docstring)
    try:
        _grade_class(entries, out, run, stop, jobs, regrade, timeout, skip, progress, stream, scheduler)
    finally:
        stop.restore()
    run.seconds = time.monotonic() - started
    return run


def _grade_class(entries, out, run, stop, jobs, regrade, timeout, skip, progress, stream, scheduler=None):
    todo, previous = [], {}
    for student, path in entries:
        old = _load_previous(out / _safe_name(student))
        if old is not None:
            previous[student] = old
            if not regrade and old.fingerprint == fingerprint(path, skip):
                run.graded[student] = old
                run.skipped.append(student)
                continue
        todo.append((student, path, timeout, skip))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    bar = Progress(len(todo), stream, progress)
    if run.skipped and progress:
        stream.write(f"{len(run.skipped)} student(s) unchanged since the last run: kept "
                     f"(use --regrade to grade them again)\n")

    def record(data):
        graded = graded_from_dict(data)
        with stop.writing():  # a second signal waits for the student's three files
            _write_student(out, graded)
        run.graded[graded.student] = graded
        if graded.student in previous and previous[graded.student].score != graded.score:
            run.changed[graded.student] = (previous[graded.student].score, graded.score)
        bar.step(f"{graded.student} {graded.score:g}")

    if scheduler and todo:
        from .cluster import grade_on_cluster

        grade_on_cluster(todo, scheduler, record, stop, stream=stream)
    elif jobs == 1:
        _init_grader()
        for job in todo:
            if stop.signum:
                break
            try:
                try:
                    stop.interruptible = True  # the first signal raises Interrupted out of this student
                    data = _grade_one(job)
                finally:
                    stop.interruptible = False
            except interrupt.Interrupted:  # the worker was ended on the way out (WorkerImpl closes it)
                break
            if stop.raised:  # the signal came during this student: the result may be cut short
                break
            record(data)
    elif todo:
        left = _grade_in_pool(todo, jobs, record, stop)
        if left and not stop.signum:  # a grader process died (out of memory?): once more, then give up on them
            for job in _grade_in_pool(left, jobs, record, stop):
                if stop.signum:
                    break
                record(graded_to_dict(lost_result(job, "the grading process for this submission died twice "
                                                 "(it may use far too much memory)")))
    run.graded = {s: run.graded[s] for s, _ in entries if s in run.graded}
    if stop.signum and len(run.graded) < len(entries):
        run.interrupted = stop.name
        run.not_graded = [s for s, _ in entries if s not in run.graded]
        bar.end()
    with stop.writing():
        if run.not_graded:
            write_atomic(out / "grades.csv", _grades_csv_with_not_graded(run, entries, skip))
            write_atomic(out / "report.html", _report_with_not_graded(report_html(run), run))
        else:
            write_atomic(out / "grades.csv", grades_csv(run.graded.values()))
            write_atomic(out / "report.html", report_html(run))


NOT_GRADED = "not graded (interrupted)"


class _NotGraded(Graded):
    """The grades.csv row of a student an interrupted run did not grade."""

    status = property(lambda self: NOT_GRADED)


def _grades_csv_with_not_graded(run, entries, skip):
    """grades.csv for an interrupted run: every student, in order; those not graded have the
    status NOT_GRADED and empty total, time and check cells. An empty cell is no grade: a
    spreadsheet's averages and an LMS import skip it, where 0 would be a grade."""
    maximum = sum(c.points for c in class_checks(skip))
    rows = [run.graded.get(s) or _NotGraded(student=s, results=[], score=0.0, max_score=maximum, seconds=0.0,
                                            fingerprint="", sandbox={}) for s, _ in entries]
    text = grades_csv(rows)
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not table or "status" not in table[0]:
        return text
    status = table[0].index("status")
    empty = {"total", "seconds"} | {c.name for c in graded_checks(run.graded.values())}
    columns = [i for i, name in enumerate(table[0]) if name in empty]
    for row in table[1:]:
        if len(row) > status and row[status] == NOT_GRADED:
            for i in columns:
                row[i] = ""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    return buffer.getvalue()


def _report_with_not_graded(page, run):
    """report.html of an interrupted run: says so at the top and lists the students not graded."""
    from .exporters.report import interrupted_banner

    banner = interrupted_banner(run, status=NOT_GRADED)
    at = page.find("</h1>")
    if at < 0:
        return page + banner + "\n"
    at += len("</h1>")
    return page[:at] + "\n" + banner + page[at:]


def graded_checks(graded):
    """The catalogue's checks that were run for these students (a skipped group is not listed)."""
    ran = {r.name for g in graded for r in g.results}
    return [c for c in all_checks() if c.name in ran]


#: what makes a spreadsheet read a cell as a formula (OWASP, "CSV injection")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """A text cell that Excel, LibreOffice and Google Sheets show as text, never run as a formula.

    A cell that starts like a formula gets a leading single quote (the OWASP rule). Only
    for text: numbers are written as they are, so they stay numbers.
    """
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def grades_csv(graded):
    checks = graded_checks(graded)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_text(h) for h in ["student", "total", "max_score", "status", "seconds"]
                     + [c.name for c in checks]])
    for g in graded:
        by_name = {r.name: r.score for r in g.results}
        writer.writerow([csv_text(g.student), f"{g.score:g}", f"{g.max_score:g}", csv_text(g.status),
                         f"{g.seconds:.2f}"] + [f"{by_name.get(c.name, 0):g}" for c in checks])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# The class report

def report_html(run):
    """OUT/report.html for `run` (see autograder/exporters/report.py); links go to each student's own folder."""
    from .exporters.report import render

    return render(run, folder_of=_safe_name)
