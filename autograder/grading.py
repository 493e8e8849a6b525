"""Grade one submission: read it safely, run every check in the sandbox, write the results.

`grade(path)` never raises for anything a student did: an unreadable zip, a notebook that
is not JSON, a crash or an infinite loop all become results with a reason. The outputs:

* Gradescope's results.json (`gradescope_results`), hidden checks marked after_published;
* a feedback page a student can read (`feedback_html`); hidden checks say what failed,
  never on which inputs.
"""
import functools
import hashlib
import html
import json
import os
import stat
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import kit
from .sandbox import submission as untrusted
from .catalogue import all_checks, total_points
from .sandbox.client import DEFAULT_TIMEOUT, SubmissionError, TimedOut, WorkerImpl, load_submission
from .runner import Result, apply_gates, format_causes, run_checks, summary

#: limits on what a zip may unpack to
ZIP_MAX_FILES = 500
ZIP_MAX_BYTES = 50 * 1024 ** 2


@dataclass
class Graded:
    """Everything known about one graded submission."""

    student: str
    results: list
    score: float
    max_score: float
    seconds: float
    fingerprint: str
    sandbox: dict
    notes: list = field(default_factory=list)
    error: str = ""
    #: [kind, function, detail] of what the submission tried that honest code never does (the worker's audit
    #: hook: files outside Python, sockets, processes, the kit), for the class report; never part of a score
    attempts: list = field(default_factory=list)

    @property
    def status(self):
        if self.error:
            return "unreadable"
        if any(r.status == "timeout" for r in self.results):
            return "timeout"
        if all(r.status == "not implemented" for r in self.results):
            return "not started"
        return "graded"


# ---------------------------------------------------------------------------------------
# Reading

def _unzip(path, into):
    """Extract a zip safely: no absolute paths, no '..', no links, bounded size and count.

    The zip itself must be a regular file of at most untrusted.MAX_ZIP_BYTES. Anything
    wrong with it, or with one of its members (damaged data, an unknown compression, a
    password), refuses the whole zip with a SubmissionError that says what.
    """
    name = untrusted.shown(path.name)
    handle = untrusted.open_regular(path, untrusted.MAX_ZIP_BYTES)
    try:
        archive = zipfile.ZipFile(handle)
    except Exception as exc:  # noqa: BLE001 - whatever a damaged zip makes zipfile raise
        handle.close()
        raise SubmissionError(f"{name} is not a readable zip file ({_why(exc)})") from None
    with handle, archive:
        members = archive.infolist()
        if len(members) > ZIP_MAX_FILES:
            raise SubmissionError(f"{name} holds {len(members)} files; at most {ZIP_MAX_FILES} are read")
        if sum(m.file_size for m in members) > ZIP_MAX_BYTES:
            raise SubmissionError(f"{name} unpacks to more than {ZIP_MAX_BYTES // 1024 ** 2} MB")
        for member in members:
            member_name = member.filename
            parts = Path(member_name).parts
            if member_name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise SubmissionError(f"{name} contains an unsafe path ({_member(member_name)!r}); "
                                      f"nothing was extracted")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise SubmissionError(f"{name} contains a symbolic link ({_member(member_name)!r}); "
                                      f"nothing was extracted")
        for member in members:
            if member.is_dir() or "__MACOSX" in member.filename:
                continue
            try:
                target = into / member.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source:
                    target.write_bytes(source.read(ZIP_MAX_BYTES + 1)[:ZIP_MAX_BYTES])
            except Exception as exc:  # noqa: BLE001 - a damaged member: bad CRC, zlib error, a password, ...
                raise SubmissionError(f"{name} could not be unpacked: {_member(member.filename)!r} is "
                                      f"damaged or unsupported ({_why(exc)}); zip the files again") from None


def _member(name):
    """A zip member's whole name (folders too: "../evil.py"), printable, for a message."""
    return untrusted.clean_text(name, 200, lines=False)


def _why(exc):
    """An exception as a short reason for the student (an OSError without its path: it names the grader's folders)."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return untrusted.clean_text(f"{type(exc).__name__}: {detail}", 300, lines=False)


def read(path):
    """Load a submission: a directory, a notebook, a .py module, or a .zip of any of these (never a link)."""
    path = Path(path)
    try:
        is_zip_file = path.suffix.lower() == ".zip" and not stat.S_ISDIR(os.stat(path, follow_symlinks=False).st_mode)
    except OSError:
        is_zip_file = False
    if is_zip_file:
        with tempfile.TemporaryDirectory(prefix="rnn-zip-") as tmp:
            _unzip(path, Path(tmp))
            sub = load_submission(tmp)
            sub.label = str(path)
            return sub
    return load_submission(str(path))


def fingerprint(path, skip=()):
    """A digest of everything in a submission, and of the catalogue, reference and skipped check groups.

    Links are hashed as links (never followed), and only regular files are opened (untrusted.hash_tree).
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(catalogue_version().encode())
    h.update(repr(sorted(skip)).encode())
    untrusted.hash_tree(path, h)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def catalogue_version():
    """Changes whenever a check or the reference changes, so edited checks trigger a regrade (read once per process)."""
    h = hashlib.blake2b(digest_size=8)
    for folder in (kit.ROOT / "autograder", kit.SOLUTIONS):
        for file in sorted(folder.rglob("*.py")):
            h.update(file.read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# Grading

def grade(path, *, student=None, checks=None, ref=None, timeout=DEFAULT_TIMEOUT, launcher=None, ahead=False):
    """Grade the submission at `path` with every check (hidden ones too). ahead=True for a lone submission on a
    machine with cores to spare (`rnn-grade grade`, Gradescope): its training runs side by side (run_checks)."""
    checks = checks if checks is not None else all_checks()
    return grade_read(read_for_grading(path, student=student, checks=checks), checks=checks, ref=ref,
                      timeout=timeout, launcher=launcher, ahead=ahead)


@dataclass
class ReadSubmission:
    """A submission as the grading process read it: data only, so it can also travel to a Dask worker."""

    student: str
    path: str
    submission: object = None   # a sandbox.submission.Submission, or None when it could not be read
    reason: str = ""            # why it could not be read
    fingerprint: str = ""
    seconds: float = 0.0        # spent reading it


def read_for_grading(path, *, student=None, checks=None):
    """Read the submission at `path` safely (`read`); a refusal becomes the reason, never an exception."""
    path = Path(path)
    student = untrusted.clean_text(student or path.stem, 200, lines=False)
    checks = checks if checks is not None else all_checks()
    skipped = {c.group for c in all_checks()} - {c.group for c in checks}  # whole groups left out
    started = time.perf_counter()
    submission, reason = None, ""
    try:
        submission = read(path)
    except (SubmissionError, OSError) as exc:
        reason = untrusted.clean_text(exc) if isinstance(exc, SubmissionError) else _why(exc)
    except Exception as exc:  # noqa: BLE001 - a reader bug must cost this student a clear status, not the run
        reason = f"the grader failed while reading it ({_why(exc)}); please tell the course staff"
    printed = fingerprint(path, skipped) if submission is not None or os.path.lexists(path) else ""
    return ReadSubmission(student, str(path), submission, reason, printed, time.perf_counter() - started)


def grade_read(read, *, checks=None, ref=None, timeout=DEFAULT_TIMEOUT, launcher=None, required=None,
               ahead=False):
    """Grade a submission already read (`read_for_grading`), here or on a Dask worker: never below `required`
    (a sandbox level; default $RNN_KIT_REQUIRE_SANDBOX), which raises SandboxTooWeak."""
    from .reference import default_reference
    from .sandbox import protections, require

    checks = checks if checks is not None else all_checks()
    student, submission = read.student, read.submission
    started = time.perf_counter() - read.seconds
    required = required or os.environ.get("RNN_KIT_REQUIRE_SANDBOX", "none")
    sandbox = require(required) if required != "none" else protections()  # never grade below what was asked
    if submission is None:
        return _unreadable(student, read.fingerprint, checks, started, sandbox, read.reason)
    ref = ref or default_reference(live=True)
    results, spent, attempts, hung = {}, 0.0, [], {}
    for phase in grading_phases(checks):
        with WorkerImpl(submission, timeout=timeout, launcher=launcher) as impl:
            impl.spent = spent  # one budget for all of the submission's calls
            impl.given_up.update(hung)  # a function that timed out is skipped from then on (its message said so)
            results.update((r.name, r) for r in run_checks(impl, phase, ref=ref, ahead=ahead))
            spent = impl.spent
            hung = {f: failure for f, failure in impl.given_up.items() if isinstance(failure, TimedOut)}
            sandbox = {**sandbox, "applied": impl.applied or sandbox.get("applied", [])}
            attempts += [list(a) for a in impl.all_attempts() if list(a) not in attempts]
    results = apply_gates([results[c.name] for c in checks])  # the hidden phase's gates are public checks
    return Graded(student, results, round(sum(r.score for r in results), 4), total_points(checks),
                  round(time.perf_counter() - started, 4), read.fingerprint, sandbox,
                  [untrusted.clean_text(n) for n in submission.notes], attempts=attempts)


#: functions whose reference answers other checks hand to the submission (the latch weights its forward runs
#: with, the recall data, the contractive weights): their own checks run before any of those, so a
#: submission cannot return what it was handed
PRODUCERS = ("latch_lstm_params", "latch_gru_params", "latch_rnn_params", "contractive_rnn_params",
             "make_recall_task")


def grading_phases(checks):
    """The checks in the order and the workers a submission is graded with: [public, hidden].

    Each list runs in a fresh worker, the public checks first: nothing the submission sees in
    a hidden check (its inputs) can reach a public check's feedback, and the hidden checks
    start from a process that holds nothing from the public ones. The grader carries one thing
    across: the functions that timed out, which stay skipped (their first message says later
    checks are), so a looping function costs its timeout once, not once per phase. Within a list, the
    checks of PRODUCERS come first.
    """
    def ordered(group):
        return sorted(group, key=lambda c: c.function not in PRODUCERS)  # stable: catalogue order otherwise
    public = [c for c in checks if c.visibility == "public"]
    hidden = [c for c in checks if c.visibility != "public"]
    return [phase for phase in (ordered(public), ordered(hidden)) if phase]


def _unreadable(student, printed, checks, started, sandbox, reason):
    """The Graded of a submission that could not be read: every check scores 0 and says why."""
    results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0,
                      f"the submission could not be read: {reason}") for c in checks]
    return Graded(student, results, 0.0, total_points(checks), time.perf_counter() - started,
                  printed, sandbox, [], reason)


# ---------------------------------------------------------------------------------------
# Writing

#: what a failed hidden check tells the student, by status: never its inputs, its expected or returned values
_HIDDEN_SAYS = {"failed": "the result is not right", "timeout": "it did not finish in time",
                "not implemented": "the function is not implemented yet", "missing": "the function is missing",
                "error": "your code raised an error or could not be run"}


def _hidden_output(r):
    """A hidden check's result for the student: passed or not, why in a word, and the mistake's name if one."""
    if r.passed:
        return r.message if r.score < r.points and r.message else "Passed."  # the kit's own words on a gate
    from .mistakes import HINTS as hints

    said = _HIDDEN_SAYS.get(r.status, "the result is not right")
    hint = f" It looks like this mistake: {hints[r.mistake]}." if r.mistake in hints else ""
    return (f"Not passed: {said}.{hint}\n(A hidden check: it tests the same property as a public check of "
            f"{r.function}, on inputs that are not shown.)")


def gradescope_results(graded):
    """Gradescope's results.json as a dict (autograder_samples specs)."""
    # the output is visible at once, the hidden checks only once grades are published: it counts public checks only
    public = [r for r in graded.results if r.visibility == "public"]
    data = summary(public)
    hidden = sum(r.points for r in graded.results if r.visibility != "public")
    lines = [f"Checks you can see now: {sum(r.score for r in public):g} / {sum(r.points for r in public):g}"
             + (f" ({hidden:g} more points are in hidden checks, shown when grades are published)" if hidden else "")]
    for module, m in data["modules"].items():
        lines.append(f"  {module:<12} {m['earned']:g} / {m['possible']:g}")
    if data["causes"]:
        lines.append("What cost points in these checks, one line per cause:")
        lines += format_causes(data["causes"])
    if data["next"]:
        lines.append(f"Next thing to fix: {data['next']['function']} ({data['next']['module']}.py)")
    lines += [f"Note: {n}" for n in graded.notes]
    if graded.error:
        lines.append(f"The submission could not be read: {graded.error}")
    tests = []
    numbering = {}
    for r in graded.results:
        part = kit.MODULES.index(r.module) + 1 if r.module in kit.MODULES else 0
        numbering[part] = numbering.get(part, 0) + 1
        hidden = r.visibility == "hidden"
        tests.append({
            "name": r.name.removeprefix("test_").replace("_", " "),
            "number": f"{part}.{numbering[part]}",
            "score": r.score,
            "max_score": r.points,
            "status": "passed" if r.passed else "failed",
            "output": _hidden_output(r) if hidden else (r.message or "Passed."),
            "output_format": "text",
            "visibility": "after_published" if hidden else "visible",
            "tags": [r.module, r.function],
            "extra_data": {"check": r.name, "outcome": r.status, "mistake": r.mistake},
        })
    return {
        "score": graded.score,
        "execution_time": round(graded.seconds, 3),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "visibility": "visible",
        "tests": tests,
        "extra_data": {"student": graded.student, "max_score": graded.max_score, "fingerprint": graded.fingerprint,
                       "sandbox": graded.sandbox, "status": graded.status, "notes": graded.notes,
                       "catalogue": catalogue_version()},
    }


def write_results(graded, path):
    from .files import write_atomic

    write_atomic(path, json.dumps(gradescope_results(graded), indent=1) + "\n")


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;overflow-wrap:anywhere}
td:first-child,td:last-child{white-space:nowrap;width:1%}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%} td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.pass{color:#1a7f37} .fail{color:#c62828} .muted{color:#777} pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px;border-radius:4px;margin:4px 0}
.bar{background:#e8eef7;height:10px;border-radius:3px} .bar>span{display:block;height:10px;background:#4a78c2;border-radius:3px}
"""


def feedback_html(graded):
    """A page for the student: score per part, every check, what to fix first."""
    data = summary(graded.results)
    esc = html.escape
    out = [f"<!doctype html><meta charset=utf-8><title>Feedback: {esc(graded.student)}</title><style>{STYLE}</style>",
           f"<h1>{esc(graded.student)}: {graded.score:g} / {graded.max_score:g}</h1>"]
    if graded.error:
        out.append(f"<p class=fail>Your submission could not be read: {esc(graded.error)}</p>")
    for note in graded.notes:
        out.append(f"<p class=muted>Note: {esc(note)}</p>")
    if data["next"]:
        nxt = data["next"]
        first = esc(nxt["message"].splitlines()[0]) if nxt["message"] and nxt["visibility"] == "public" else ""
        out.append(f"<p><b>Next thing to fix:</b> <code>{esc(nxt['function'])}</code> in {esc(nxt['module'])}.py. {first}</p>")
    out.append("<table><tr><th>part</th><th>score</th><th></th></tr>")
    for module, m in data["modules"].items():
        width = 100 * m["earned"] / m["possible"] if m["possible"] else 0
        out.append(f"<tr><td>{esc(module)}</td><td>{m['earned']:g} / {m['possible']:g}</td>"
                   f"<td style='width:50%'><div class=bar><span style='width:{width:.0f}%'></span></div></td></tr>")
    out.append("</table>")
    def row(r, shown=None):
        """One check; `shown` (a set) holds the messages already on the page in this group: each appears once."""
        mark = "<span class=pass>passed</span>" if r.passed else f"<span class=fail>{esc(r.status)}</span>"
        title = esc(r.name.removeprefix("test_").replace("_", " "))
        tag = " <span class=muted>(hidden)</span>" if r.visibility == "hidden" else ""
        body = ""
        if not r.passed or (r.message and r.score < r.points):  # a failure, or a pass whose points wait for another
            text = _hidden_output(r) if r.visibility == "hidden" else r.message
            if shown is not None and text in shown:
                body = " <span class=muted>(the same message as above)</span>"
            else:
                body = f"<pre>{esc(text)}</pre>"
                if shown is not None:
                    shown.add(text)
        return f"<tr><td>{mark}</td><td>{title}{tag}{body}</td><td>{r.score:g} / {r.points:g}</td></tr>"

    by_name = {r.name: r for r in graded.results}
    if data["causes"]:  # one entry per cause, its checks folded beneath it, the biggest first
        out.append("<h2>What cost points, by cause</h2>")
        for cause in data["causes"]:
            shown = set()
            kept = (f"<p class=muted>{esc(', '.join(cause['graded_with']))} kept their points: they were graded "
                    f"with your {esc(', '.join(cause['functions']))}, as the reference would use it.</p>"
                    if cause["graded_with"] else "")
            count = len(cause["checks"])
            opened = " open" if cause is data["causes"][0] else ""
            out.append(f"<details class=cause{opened}><summary><b>{cause['points']:g} points</b>: {esc(cause['title'])} "
                       f"<span class=muted>({count} check{'s' if count != 1 else ''})</span></summary>{kept}"
                       f"<table>" + "".join(row(by_name[n], shown) for n in cause["checks"]) + "</table></details>")
    for module in data["modules"]:
        results = [r for r in graded.results if r.module == module]
        passed = [r for r in results if r.passed and r.score == r.points]
        out.append(f"<h2>{esc(module)}.py: {esc(kit.LESSON_PARTS.get(module, ''))}</h2>")
        if passed:  # the checks that earned their points, folded away
            out.append(f"<details><summary>{len(passed)} of {len(results)} checks passed"
                       f"</summary><table>" + "".join(row(r) for r in passed) + "</table></details>")
        else:
            out.append(f"<p class=muted>none of its {len(results)} checks passed yet</p>")
    out.append(f"<p class=muted>Graded in {graded.seconds:.2f} s.</p>")  # the sandbox level is for the instructor
    return "\n".join(out) + "\n"


def table(graded):
    """The per-check table `rnn-grade grade` prints."""
    lines = [f"{'check':<78} {'points':>11}  status"]
    for r in graded.results:
        name = r.name + (" (hidden)" if r.visibility == "hidden" else "")
        lines.append(f"{name:<78} {r.score:>5g} / {r.points:<4g}  {r.status}")
    lines.append(f"{'total':<78} {graded.score:>5g} / {graded.max_score:<4g}")
    lines.append(f"sandbox: {graded.sandbox.get('level')}" + (
        f" (missing: {'; '.join(graded.sandbox['missing'])})" if graded.sandbox.get("missing") else ""))
    lines += [f"note: {n}" for n in graded.notes]
    if graded.error:
        lines.append(f"the submission could not be read: {graded.error}")
    return "\n".join(lines)


def graded_to_dict(graded):
    return {**asdict(graded), "results": [asdict(r) for r in graded.results]}


def graded_from_dict(data):
    data = dict(data)
    data["results"] = [Result(**r) for r in data["results"]]
    return Graded(**data)
