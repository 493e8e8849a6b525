"""Grade a whole class: one command, every student in the sandbox, nothing lost.

`grade_class(submissions, out)` writes, for each student, ``out/<student>/results.json``
(Gradescope format), ``feedback.html`` and ``graded.json`` (the record used to resume),
each atomically, as soon as that student is done. Then ``out/grades.csv`` and
``out/report.html``. Re-running skips students whose submission, checks and reference are
unchanged (the fingerprint), unless `regrade` is set. An interrupted run keeps every
student already written.
"""
import csv
import io
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import kit
from .catalogue import all_checks
from .files import write_atomic
from .grading import (Graded, feedback_html, fingerprint, grade, graded_from_dict, graded_to_dict,
                      gradescope_results)
from .impl import DEFAULT_TIMEOUT

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


def discover(submissions, skip=()):
    """[(student, path)]: one per subdirectory, zip, notebook or .py file, sorted by name."""
    submissions = Path(submissions)
    skip = {Path(p).resolve() for p in skip}
    if not submissions.exists():
        raise ClassError(f"{submissions}: no such folder")
    if not submissions.is_dir():
        raise ClassError(f"{submissions} is not a folder; give the folder holding one entry per student")
    entries = []
    for path in sorted(submissions.iterdir()):
        if path.name.startswith((".", "_")) or path.resolve() in skip:
            continue
        if path.is_dir() or path.suffix.lower() in SUBMISSION_SUFFIXES:
            entries.append(path)
    if not entries:
        raise ClassError(f"{submissions} holds no submissions (expected one folder, .zip, .ipynb or .py per student)")
    names = Counter(p.stem for p in entries)
    return [(p.stem if names[p.stem] == 1 else p.name, p) for p in entries]


def _safe_name(student):
    """A folder name for `student`; a hash suffix keeps "a b" and "a_b" apart."""
    import hashlib

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in student).lstrip(".") or "_"
    if safe != student:
        safe += "-" + hashlib.blake2b(student.encode(), digest_size=3).hexdigest()
    return safe


def class_checks(skip):
    """The checks a class run grades: every check outside the skipped groups."""
    return [c for c in all_checks() if c.group not in skip]


def _grade_one(job):
    student, path, timeout, skip = job
    checks = class_checks(skip)
    try:
        graded = grade(path, student=student, checks=checks, ref=_grade_one.ref, timeout=timeout)
    except Exception as exc:  # a fault in the grader itself: record it, keep going
        from .runner import Result

        results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0,
                          f"internal grader error: {type(exc).__name__}: {exc}") for c in checks]
        graded = Graded(student, results, 0.0, sum(c.points for c in checks), 0.0, "", {}, [], f"grader error: {exc}")
    return graded_to_dict(graded)


def _grade_in_pool(jobs_todo, jobs, record):
    """Grade in `jobs` forked processes; return the jobs lost to a process that died."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    lost = []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_grader) as pool:
        futures = {pool.submit(_grade_one, job): job for job in jobs_todo}
        for future in as_completed(futures):
            try:
                data = future.result()
            except BrokenProcessPool:
                lost.append(futures[future])
                continue
            record(data)
    return lost


def _lost(job, reason):
    from .runner import Result

    student, _path, _timeout, skip = job
    checks = class_checks(skip)
    results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0, reason) for c in checks]
    return Graded(student, results, 0.0, sum(c.points for c in checks), 0.0, "", {}, [], reason)


def _init_grader():
    from .reference import LiveReference

    _grade_one.ref = LiveReference()


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


def _load_previous(folder):
    try:
        return graded_from_dict(json.loads((folder / "graded.json").read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_student(out, graded):
    folder = out / _safe_name(graded.student)
    write_atomic(folder / "results.json", json.dumps(gradescope_results(graded), indent=1) + "\n")
    write_atomic(folder / "feedback.html", feedback_html(graded))
    write_atomic(folder / "graded.json", json.dumps(graded_to_dict(graded)) + "\n")


def grade_class(submissions, out, *, jobs=None, regrade=False, timeout=DEFAULT_TIMEOUT, skip=(),
                progress=True, stream=sys.stderr):
    """Grade every submission in `submissions` into `out`; see the module docstring.

    `skip` names check groups to leave out (e.g. ("training",) for speed); their points
    then count neither for nor against anyone, and the maximum score drops by as much.
    """
    skip = tuple(sorted(skip))
    started = time.monotonic()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ClassError(f"{out} exists and is not a folder; give --out a folder for the results")
    entries = discover(submissions, skip=[out])
    out.mkdir(parents=True, exist_ok=True)
    run = ClassRun(out, {})
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
        _write_student(out, graded)
        run.graded[graded.student] = graded
        if graded.student in previous and previous[graded.student].score != graded.score:
            run.changed[graded.student] = (previous[graded.student].score, graded.score)
        bar.step(f"{graded.student} {graded.score:g}")

    if jobs == 1:
        _init_grader()
        for job in todo:
            record(_grade_one(job))
    elif todo:
        left = _grade_in_pool(todo, jobs, record)
        if left:  # a grader process died (out of memory?): once more in a fresh pool, then give up on them
            for job in _grade_in_pool(left, jobs, record):
                record(graded_to_dict(_lost(job, "the grading process for this submission died twice "
                                                 "(it may use far too much memory)")))
    run.graded = {s: run.graded[s] for s, _ in entries if s in run.graded}
    write_atomic(out / "grades.csv", grades_csv(run.graded.values()))
    write_atomic(out / "report.html", report_html(run))
    run.seconds = time.monotonic() - started
    return run


def graded_checks(graded):
    """The catalogue's checks that were run for these students (a skipped group is not listed)."""
    ran = {r.name for g in graded for r in g.results}
    return [c for c in all_checks() if c.name in ran]


def grades_csv(graded):
    checks = graded_checks(graded)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "total", "max_score", "status", "seconds"] + [c.name for c in checks])
    for g in graded:
        by_name = {r.name: r.score for r in g.results}
        writer.writerow([g.student, f"{g.score:g}", f"{g.max_score:g}", g.status, f"{g.seconds:.2f}"]
                        + [f"{by_name.get(c.name, 0):g}" for c in checks])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# The class report

def _svg_histogram(values, maximum=100.0, bins=10):
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(bins * v / maximum)) if maximum else 0] += 1
    width, height, pad = 640, 220, 30
    top = max(counts) or 1
    bar = (width - 2 * pad) / bins
    parts = [f"<svg viewBox='0 0 {width} {height + 40}' width='{width}' role='img' aria-label='score distribution'>"]
    for i, count in enumerate(counts):
        h = (height - pad) * count / top
        x = pad + i * bar
        parts.append(f"<rect x='{x + 2:.1f}' y='{height - h:.1f}' width='{bar - 4:.1f}' height='{h:.1f}' fill='#4a78c2'>"
                     f"<title>{count} student(s)</title></rect>")
        if count:
            parts.append(f"<text x='{x + bar / 2:.1f}' y='{height - h - 4:.1f}' font-size='12' text-anchor='middle'>{count}</text>")
        lo = maximum * i / bins
        parts.append(f"<text x='{x + bar / 2:.1f}' y='{height + 16}' font-size='11' text-anchor='middle'>"
                     f"{lo:g}-{lo + maximum / bins:g}</text>")
    parts.append(f"<line x1='{pad}' y1='{height}' x2='{width - pad}' y2='{height}' stroke='#333'/>")
    parts.append(f"<text x='{width / 2}' y='{height + 34}' font-size='12' text-anchor='middle'>total score</text></svg>")
    return "".join(parts)


def _svg_bars(rows, width=860):
    """rows: [(label, fraction in [0, 1], text)] as horizontal bars."""
    line = 18
    label_w = 430
    height = line * len(rows) + 10
    parts = [f"<svg viewBox='0 0 {width} {height}' width='{width}' role='img'>"]
    for i, (label, fraction, text) in enumerate(rows):
        y = 5 + i * line
        colour = "#1a7f37" if fraction >= 0.8 else "#d29922" if fraction >= 0.5 else "#c62828"
        parts.append(f"<text x='{label_w - 6}' y='{y + 12}' font-size='11' text-anchor='end'>{_esc(label)}</text>")
        parts.append(f"<rect x='{label_w}' y='{y + 2}' width='{(width - label_w - 60) * fraction:.1f}' height='12' fill='{colour}'/>")
        parts.append(f"<text x='{width - 55}' y='{y + 12}' font-size='11'>{_esc(text)}</text>")
    return "".join(parts) + "</svg>"


def _esc(text):
    import html

    return html.escape(str(text), quote=True)


def report_html(run):
    from .grading import STYLE
    from .mistakes import MISTAKES

    graded = list(run.graded.values())
    totals = [g.score for g in graded]
    checks = graded_checks(graded)
    maximum = graded[0].max_score if graded else 100.0
    hints = {m.key: m.hint for ms in MISTAKES.values() for m in ms}
    out = [f"<!doctype html><meta charset=utf-8><title>Class report</title><style>{STYLE.replace('max-width:980px', 'max-width:1100px')}</style>",
           "<h1>Class report</h1>"]
    if totals:
        out.append(f"<p>{len(graded)} students; mean {statistics.mean(totals):.1f}, median "
                   f"{statistics.median(totals):g}, min {min(totals):g}, max {max(totals):g} (out of {maximum:g}).")
        levels = Counter(g.sandbox.get("level", "?") for g in graded)
        out.append(" Sandbox: " + ", ".join(f"{k} ({v})" for k, v in levels.items()) + ".</p>")
    if run.changed:
        out.append("<h2>Changed by this regrade</h2><table><tr><th>student</th><th>old</th><th>new</th></tr>")
        out += [f"<tr><td>{_esc(s)}</td><td>{a:g}</td><td>{b:g}</td></tr>" for s, (a, b) in run.changed.items()]
        out.append("</table>")
    out.append("<h2>Score distribution</h2>" + _svg_histogram(totals, maximum))
    out.append("<h2>Average per part</h2>")
    rows = []
    for module in kit.MODULES:
        possible = sum(c.points for c in checks if c.module == module)
        if not possible:
            continue
        earned = [sum(r.score for r in g.results if r.module == module) for g in graded]
        mean = statistics.mean(earned) if earned else 0.0
        rows.append((f"{module} ({possible:g} points)", mean / possible if possible else 0, f"{mean:.1f}"))
    out.append(_svg_bars(rows))
    out.append("<h2>Pass rate of every check</h2><p class=muted>Hardest first; hidden checks marked (h).</p>")
    rate = []
    for c in checks:
        passed = sum(1 for g in graded for r in g.results if r.name == c.name and r.passed)
        rate.append((passed / len(graded) if graded else 0.0, c))
    rate.sort(key=lambda item: (item[0], kit.MODULES.index(item[1].module)))
    out.append(_svg_bars([(c.name.removeprefix("test_")[:64] + (" (h)" if c.visibility == "hidden" else ""),
                           p, f"{p:.0%}") for p, c in rate]))
    mistakes = Counter(r.mistake for g in graded for r in g.results if r.mistake)
    who = {}
    for g in graded:
        for r in g.results:
            if r.mistake:
                who.setdefault(r.mistake, set()).add(g.student)
    out.append("<h2>Most common diagnosed mistakes</h2>")
    if mistakes:
        out.append("<table><tr><th>mistake</th><th>students</th><th>what it means</th></tr>")
        for key, _ in mistakes.most_common():
            out.append(f"<tr><td><code>{_esc(key)}</code></td><td>{len(who[key])}: {_esc(', '.join(sorted(who[key])))}"
                       f"</td><td>{_esc(hints.get(key, ''))}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None diagnosed.</p>")
    out.append("<h2>Students</h2><table><tr><th>student</th><th>total</th><th>status</th><th>time</th><th></th></tr>")
    for g in graded:
        link = f"{_safe_name(g.student)}/feedback.html"
        out.append(f"<tr><td>{_esc(g.student)}</td><td>{g.score:g}</td><td>{_esc(g.status)}</td>"
                   f"<td>{g.seconds:.2f} s</td><td><a href='{_esc(link)}'>feedback</a></td></tr>")
    out.append("</table>")
    return "\n".join(out) + "\n"
