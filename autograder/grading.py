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
import stat
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import kit
from .catalogue import all_checks, total_points
from .impl import DEFAULT_TIMEOUT, SubmissionError, WorkerImpl, load_submission
from .runner import Result, run_checks, summary

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
    """Extract a zip safely: no absolute paths, no '..', no links, bounded size and count."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > ZIP_MAX_FILES:
            raise SubmissionError(f"{path.name} holds {len(members)} files; at most {ZIP_MAX_FILES} are read")
        if sum(m.file_size for m in members) > ZIP_MAX_BYTES:
            raise SubmissionError(f"{path.name} unpacks to more than {ZIP_MAX_BYTES // 1024 ** 2} MB")
        for member in members:
            name = member.filename
            parts = Path(name).parts
            if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise SubmissionError(f"{path.name} contains an unsafe path ({name!r}); nothing was extracted")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise SubmissionError(f"{path.name} contains a symbolic link ({name!r}); nothing was extracted")
        for member in members:
            if member.is_dir() or "__MACOSX" in member.filename:
                continue
            target = into / member.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source:
                target.write_bytes(source.read(ZIP_MAX_BYTES + 1)[:ZIP_MAX_BYTES])


def read(path):
    """Load a submission: a directory, a notebook, a .py module, or a .zip of any of these."""
    path = Path(path)
    if path.suffix.lower() == ".zip" and path.is_file():
        with tempfile.TemporaryDirectory(prefix="rnn-zip-") as tmp:
            _unzip(path, Path(tmp))
            sub = load_submission(tmp)
            sub.label = str(path)
            return sub
    return load_submission(str(path))


def fingerprint(path, skip=()):
    """A digest of everything in a submission, and of the catalogue, reference and skipped check groups."""
    h = hashlib.blake2b(digest_size=16)
    h.update(catalogue_version().encode())
    h.update(repr(sorted(skip)).encode())
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files[:ZIP_MAX_FILES]:
        h.update(str(file.relative_to(path) if file != path else file.name).encode())
        try:
            h.update(file.read_bytes()[:ZIP_MAX_BYTES])
        except OSError:
            h.update(b"(unreadable)")
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

def grade(path, *, student=None, checks=None, ref=None, timeout=DEFAULT_TIMEOUT, launcher=None):
    """Grade the submission at `path` with every check (hidden ones too)."""
    from .reference import LiveReference
    from .sandbox import protections

    path = Path(path)
    student = student or path.stem
    checks = checks if checks is not None else all_checks()
    skipped = {c.group for c in all_checks()} - {c.group for c in checks}  # whole groups left out
    started = time.perf_counter()
    sandbox = protections()
    try:
        submission = read(path)
    except (SubmissionError, OSError) as exc:
        results = [Result(c.name, c.module, c.function, c.points, c.visibility, "error", 0.0,
                          f"the submission could not be read: {exc}") for c in checks]
        return Graded(student, results, 0.0, total_points(checks), time.perf_counter() - started,
                      fingerprint(path, skipped) if path.exists() else "", sandbox, [], str(exc))
    with WorkerImpl(submission, timeout=timeout, launcher=launcher) as impl:
        results = run_checks(impl, checks, ref=ref or LiveReference())
        sandbox = {**sandbox, "applied": impl.applied}
    return Graded(student, results, round(sum(r.score for r in results), 4), total_points(checks),
                  round(time.perf_counter() - started, 4), fingerprint(path, skipped), sandbox, submission.notes)


# ---------------------------------------------------------------------------------------
# Writing

def _hidden_output(r):
    if r.passed:
        return "Passed."
    first = r.message.splitlines()[0] if r.message else r.status
    return f"{first}\n(A hidden check: it tests the same property as a public check, on inputs not shown.)"


def gradescope_results(graded):
    """Gradescope's results.json as a dict (autograder_samples specs)."""
    data = summary(graded.results)
    lines = [f"Score: {graded.score:g} / {graded.max_score:g}"]
    for module, m in data["modules"].items():
        lines.append(f"  {module:<12} {m['earned']:g} / {m['possible']:g}")
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
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%} td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.pass{color:#1a7f37} .fail{color:#c62828} .muted{color:#777} pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:4px;margin:4px 0}
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
    def row(r):
        mark = "<span class=pass>passed</span>" if r.passed else f"<span class=fail>{esc(r.status)}</span>"
        title = esc(r.name.removeprefix("test_").replace("_", " "))
        tag = " <span class=muted>(hidden)</span>" if r.visibility == "hidden" else ""
        body = ""
        if not r.passed:
            body = f"<pre>{esc(_hidden_output(r) if r.visibility == 'hidden' else r.message)}</pre>"
        return f"<tr><td>{mark}</td><td>{title}{tag}{body}</td><td>{r.score:g} / {r.points:g}</td></tr>"

    for module in data["modules"]:
        results = [r for r in graded.results if r.module == module]
        failed, passed = [r for r in results if not r.passed], [r for r in results if r.passed]
        out.append(f"<h2>{esc(module)}.py: {esc(kit.LESSON_PARTS.get(module, ''))}</h2>")
        if failed:  # what to fix first, then the passed checks folded away
            out.append("<table>" + "".join(row(r) for r in failed) + "</table>")
        if passed:
            out.append(f"<details><summary>{len(passed)} of {len(results)} checks passed"
                       f"</summary><table>" + "".join(row(r) for r in passed) + "</table></details>")
    out.append(f"<p class=muted>Graded in {graded.seconds:.2f} s; sandbox: {esc(graded.sandbox.get('level', '?'))}.</p>")
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
