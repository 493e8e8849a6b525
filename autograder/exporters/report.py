"""The class report, OUT/report.html: what an instructor reads about a graded class.

`render(run, folder_of=...)` turns a class run (`classroom.ClassRun`: student -> `Graded`,
each with its list of `runner.Result`) into one self-contained HTML page (no script, style
or font from the network), from the Jinja2 templates in ``templates/`` with autoescaping:
student names and every message are the students' text. In the order an instructor
needs them before the next lecture:

1. the class in numbers, and the sandbox the class was graded in;
2. the diagnosed mistakes, most students first, each with its hint and the students who
   made it (links into the students table);
3. the students to look at: unreadable, timed out, crashed, files that do not load, and
   what the sandbox refused them (reading the kit, the network, writing outside their
   folder), marked "looks like a cheating attempt" for a person to review;
4. one row per exercise function in lesson order: how many students have it fully right,
   and the pass rate of each kind of check (`check_kind`), coloured by `BANDS`; each row
   opens onto its checks;
5. the score histogram and the average of each part (matplotlib SVG, or tables without it);
6. every student with the points of each part, sortable and searchable by a small inline
   script (the table reads the same without it).

Nothing here grades: every figure is counted from the results as they are.
"""
import functools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import kit
from . import charts

TEMPLATES = Path(__file__).resolve().parent / "templates"

# ---------------------------------------------------------------------------------------
# Kinds of check

#: the kinds of check, in the columns' order: (key, column heading)
KINDS = (("shapes", "types and shapes"), ("fixed", "fixed inputs"), ("random", "random inputs"),
         ("hidden", "hidden"), ("purity", "purity"), ("behaviour", "behaviour"))
#: how the standard checks' names end (autograder/checks/_common.py), and their kind
_KIND_ENDINGS = (("_returns_the_right_types_and_shapes", "shapes"), ("_matches_the_reference_on_fixed_inputs", "fixed"),
                 ("_on_random_inputs", "random"), ("_leaves_its_inputs_alone_and_repeats_itself", "purity"))


def check_kind(name, visibility="public"):
    """The kind of a check (a key of KINDS): hidden by its visibility, the standard ones by their names' endings."""
    if visibility == "hidden":
        return "hidden"
    return next((kind for ending, kind in _KIND_ENDINGS if name.endswith(ending)), "behaviour")


#: pass-rate bands, best first: (lowest rate, css class, legend). The colours (report.css) are ColorBrewer's
#: RdYlBu, which people with red-green colour blindness tell apart; every cell also prints its percentage.
BANDS = ((0.95, "b4", "95-100%"), (0.85, "b3", "85-95%"), (0.70, "b2", "70-85%"), (0.50, "b1", "50-70%"),
         (0.0, "b0", "under 50%"))


def band(rate):
    return next(css for low, css, _ in BANDS if rate >= low - 1e-12)


# ---------------------------------------------------------------------------------------
# What the submission tried: recorded as values by the worker's audit hook (Graded.attempts, see
# sandbox/child.py _audit), and, for results graded before that existed or errors the hook cannot
# see (a seccomp refusal), read from the text the check wrote, here and only here. Two problems
# that have no mistake key yet are read from the text too.

READING_KIT = "reading the kit"
NETWORK = "reaching the network"
WRITING = "writing outside its folder"
READING = "reading files outside its folder"
PROCESSES = "running programs or signalling processes"
SYSCALL = "a system call the sandbox forbids"
FAKES = "returning objects that pose as arrays"
LINK = "handing in a symbolic link"

_KIT_IMPORT = re.compile(r"importing '((?:solutions|autograder|tests)(?:\.[\w.]*)?)' is not allowed while grading")
_OS_ERROR = re.compile(r"\b(?P<type>FileNotFoundError|PermissionError|IsADirectoryError|NotADirectoryError|"
                       r"FileExistsError|BlockingIOError|OSError): "
                       r"\[Errno (?P<errno>\d+)\] [^\n':]*(?:: '(?P<path>[^'\n]*)')?")
_NET_ERROR = re.compile(r"Network is unreachable|Name or service not known|Temporary failure in name resolution|"
                        r"Connection refused|No route to host|gaierror|URLError")
_NET_CALL = re.compile(r"\b(?:socket|create_connection|urlopen|urllib|http\.client|requests\.\w+|getaddrinfo)\b")
_PROCESS_CALL = re.compile(r"\b(?:subprocess|Popen|os\.system|os\.exec\w*|os\.spawn\w*|os\.fork|os\.kill\w*|"
                           r"os\.posix_spawn\w*|ptrace)\b")
_WRITE_CALL = re.compile(r"open\([^)\n]*,\s*(?:mode\s*=\s*)?['\"][rbt]*[wxa+]|\.write_(?:text|bytes)\(|"
                         r"\b(?:mkdir|makedirs|unlink|remove|rmdir|rmtree|rename|touch|chmod|chown|symlink)\(")
_FOREIGN = re.compile(r"an object of type ([A-Za-z_]\w*) \(")
#: types an honest answer may come back as (numpy's own subclasses, Python's containers): not a fake
_PLAIN_TYPES = {"matrix", "memmap", "MaskedArray", "recarray", "list", "dict", "set", "frozenset", "str", "bytes",
                "NoneType", "generator", "map", "zip", "range", "function", "method", "builtin_function_or_method",
                "int", "float", "complex", "bool", "Tensor", "DataFrame", "Series"}

#: problems the checks name in their messages without a mistake key: (key, hint, pattern)
MESSAGE_DIAGNOSES = (
    ("dtype", "an array of another dtype than float64 came back (float32 or integers: an astype, float32 weights, "
              "or integer arithmetic); the kit works in float64",
     re.compile(r"of dtype \w+; the kit works in float64|of dtype \w+ where integers are due")),
    ("overflow-warning", "numpy warned of an overflow on large inputs: exp of a large positive number, usually in a "
                         "hand-written sigmoid; compute it so that exp never sees a large positive value",
     re.compile(r"raised a warning[^\n]*overflow")),
)


def _own_error(message):
    """The part of a result's message that came from the student's code raising (its printed output left out)."""
    return (message or "").split("\nYour code printed:")[0]


def _line_at(text, at):
    """The line of `text` that holds position `at`, stripped."""
    return text[text.rfind("\n", 0, at) + 1:(text.find("\n", at) + 1 or len(text) + 1) - 1].strip()


def _is_kit_path(path):
    parts = PurePosixPath(path).parts
    return "solutions" in parts or "autograder" in parts or path.startswith(str(kit.ROOT))


def refusal(message):
    """(what the sandbox refused, the evidence) read from one result's message, or None.

    Honest code for these exercises opens no file, socket or process, so each of these is
    worth a person's look; none of it changes a score.
    """
    text = _own_error(message)
    if "Your code's traceback" not in text and " raised an error: " not in text and "an object of type" not in text:
        return None  # nothing in it came from the student's code
    found = _KIT_IMPORT.search(text)
    if found:
        return READING_KIT, found.group(0)
    found = _NET_ERROR.search(text)
    if found:
        return NETWORK, _line_at(text, found.start())
    error = _OS_ERROR.search(text)
    if error:
        evidence, path, errno = error.group(0), error.group("path") or "", int(error.group("errno"))
        writes = bool(_WRITE_CALL.search(text))
        if path and _is_kit_path(path):
            return (WRITING if writes else READING_KIT), evidence
        if _NET_CALL.search(text):
            return NETWORK, evidence
        if _PROCESS_CALL.search(text):
            return PROCESSES, evidence
        if writes or errno == 30:  # EROFS: a read-only file system
            return WRITING, evidence
        if path.startswith("/") or ".." in PurePosixPath(path).parts:
            return READING, evidence
        if errno == 1:  # EPERM: seccomp said no
            return SYSCALL, evidence
        return None
    found = _FOREIGN.search(text)
    if found and found.group(1) not in _PLAIN_TYPES:
        return FAKES, f"returned an object of type {found.group(1)} where a numpy array is due"
    return None


def attempt(kind, detail):
    """(what the sandbox refused, the evidence) for one of Graded.attempts, or None for an honest one."""
    if kind == "open":
        mode, _, path = detail.partition(" ")
        if _is_kit_path(path):
            return (WRITING if mode == "write" else READING_KIT), f"tried to {mode} {path}"
        return (WRITING if mode == "write" else READING), f"tried to {mode} {path}"
    if kind == "import":
        return READING_KIT, f"tried to {detail}"
    if kind == "network":
        return NETWORK, f"tried {detail}"
    if kind == "process":
        return PROCESSES, f"tried {detail}"
    return None


def message_diagnosis(result):
    """The key of MESSAGE_DIAGNOSES that `result`'s message shows, or "" (never for a result with a mistake key)."""
    if result.mistake or result.passed:
        return ""
    return next((key for key, _, pattern in MESSAGE_DIAGNOSES if pattern.search(result.message or "")), "")


# ---------------------------------------------------------------------------------------
# The page's data

@dataclass
class Flag:
    kind: str                                     # css class: unreadable, grader, timeout, crash, load, ...
    label: str
    details: list = field(default_factory=list)   # evidence, one line each (the student's text: escaped)

    @property
    def cheat(self):
        return self.kind == "cheat"


@dataclass
class Student:
    index: int
    name: str
    anchor: str
    link: str
    score: float
    max_score: float
    status: str
    seconds: float
    parts: dict                                   # module -> points earned
    flags: list
    notes: list

    @property
    def search(self):
        return " ".join([self.name, self.status] + [f.label for f in self.flags]).lower()


def _loaded_file(message):
    """("missing" | "load", file, why) for a result that failed because a file does not load, else None."""
    head = (message or "").split("\n", 1)[0]
    found = re.match(r"^(\w+\.(?:py|ipynb)) could not be loaded: (.*)$", head)
    if not found:
        return None
    if re.search(r"No module named '[\w.]*\.%s'" % re.escape(found.group(1).rsplit(".", 1)[0]), found.group(2)):
        return "missing", found.group(1), found.group(2)
    return "load", found.group(1), found.group(2)


def _cap(text, limit=240):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _some(names, shown=5):
    """"a, b, c" or "a, b, c, d, e and 3 more"."""
    names = list(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def student_flags(graded):
    """The flags of one student's row, in the order they are shown."""
    flags = []
    if graded.error:  # classroom writes these two itself: a fault of the kit, a grading process that died
        label = ("grader error (the kit's fault)" if graded.error.startswith("grader error")
                 else "grading process died" if "grading process" in graded.error else "")
        flags.append(Flag("grader", label, [_cap(graded.error)]) if label
                     else Flag("unreadable", "unreadable submission", [_cap(graded.error)]))
    if graded.results and all(r.status == "not implemented" for r in graded.results):
        flags.append(Flag("notstarted", "not started"))
    timeouts = Counter(r.function for r in graded.results if r.status == "timeout")
    if timeouts:
        total = sum(timeouts.values())
        flags.append(Flag("timeout", "timeout", [f"{total} check{'s' if total > 1 else ''} ran out of time, in "
                                                 + _some(f"{fn} ({n})" for fn, n in timeouts.items())]))
    crashes = {}
    loads = {"missing": {}, "load": {}}
    refused = {}
    for r in graded.results:
        if r.passed:
            continue
        message = r.message or ""
        head = message.split("\n", 1)[0]
        if r.status == "error" and f"{r.function} stopped the process running your code: " in head:
            why = head.split(" stopped the process running your code: ", 1)[1]
            crashes.setdefault(_cap(why, 160), {}).setdefault(r.function)  # one line per way it died
        problem = _loaded_file(message) if r.status == "error" and not graded.error else None
        if problem:
            kind, filename, why = problem
            loads[kind].setdefault(filename, _cap(why, 160))
        found = refusal(message)
        if found:
            refused.setdefault((found[0], r.function), found[1])
    for kind, function, detail in getattr(graded, "attempts", None) or ():
        found = attempt(kind, detail)
        if found:
            refused.setdefault((found[0], function), found[1])
    if crashes:
        flags.append(Flag("crash", "crash", [f"{_some(functions)}: {why}" for why, functions in crashes.items()]))
    if loads["load"]:
        flags.append(Flag("load", "a file does not load", [f"{f}: {why}" for f, why in loads["load"].items()]))
    if loads["missing"]:
        flags.append(Flag("missing", "file missing", sorted(loads["missing"])))
    links = [n for n in graded.notes if "is a symbolic link" in n]
    evidence = [f"{what}: {fn}: {_cap(line, 200)}" for (what, fn), line in refused.items()]
    evidence += [f"{LINK}: {_cap(n, 200)}" for n in links]
    if evidence:
        flags.append(Flag("cheat", "looks like a cheating attempt", evidence))
    return flags


def _checks(graded):
    """[(name, module, function, points, visibility)] of every check in the results, in lesson order."""
    seen = {}
    for g in graded:
        for r in g.results:
            seen.setdefault(r.name, (r.name, r.module, r.function, r.points, r.visibility))
    by_module = kit.functions_by_module()
    modules = list(kit.MODULES) + sorted({c[1] for c in seen.values()} - set(kit.MODULES))

    def position(item):
        index, check = item
        functions = by_module.get(check[1], ())
        return (modules.index(check[1]), functions.index(check[2]) if check[2] in functions else len(functions),
                index)

    return [check for _, check in sorted(enumerate(seen.values()), key=position)]


def _rate(passed, total):
    return passed / total if total else 0.0


def build(run, *, folder_of):
    """The report's data as plain values for the template. `folder_of(student)` is the student's output folder."""
    from ..sandbox import warning

    graded = list(run.graded.values())
    checks = _checks(graded)
    students = [Student(i, g.student, f"s-{i}", f"{folder_of(g.student)}/feedback.html", g.score, g.max_score,
                        g.status, g.seconds, _earned(g), student_flags(g), list(g.notes)) for i, g in enumerate(graded)]
    outcome, mistakes = _outcomes(graded, checks, {s.name: s for s in students})
    mistake_rows = _mistake_rows(mistakes, len(graded))
    parts = _parts(checks, graded, students, outcome, {row["key"]: row["anchor"] for row in mistake_rows})
    totals = [g.score for g in graded]
    maximum = max((g.max_score for g in graded), default=0.0)
    stats = None
    if totals:
        stats = {"n": len(graded), "mean": statistics.mean(totals), "median": statistics.median(totals),
                 "min": min(totals), "max": max(totals), "maximum": maximum,
                 "statuses": Counter(g.status for g in graded).most_common()}
    by_name = {s.name: s for s in students}
    return {
        "stats": stats, "students": students, "modules": [p["module"] for p in parts if p["possible"]],
        "parts": parts, "part_max": {p["module"]: p["possible"] for p in parts}, "kinds": KINDS, "bands": BANDS,
        "mistakes": mistake_rows, "review": _review(students),
        "not_started": sum(1 for s in students if any(f.kind == "notstarted" for f in s.flags)),
        "histogram": charts.histogram(totals, maximum), "bins": _bins(totals, maximum), "charts": charts.available(),
        "part_chart": charts.part_bars([(p["module"], p["share"]) for p in parts if p["possible"]]),
        "sandbox": Counter(g.sandbox.get("level", "?") for g in graded).most_common(),
        "weak_sandbox": next((w for w in (warning(g.sandbox) for g in graded if g.sandbox.get("level")) if w), None),
        "changed": [{"student": by_name.get(s), "name": s, "old": old, "new": new}
                    for s, (old, new) in run.changed.items()],
    }


def _earned(graded):
    """{module: points earned} of one student."""
    parts = {}
    for r in graded.results:
        parts[r.module] = parts.get(r.module, 0.0) + r.score
    return parts


def _outcomes(graded, checks, by_name):
    """({check: passed, total, statuses, mistakes}, {mistake: students, functions}) over the class."""
    outcome = {c[0]: {"passed": 0, "total": 0, "statuses": Counter(), "mistakes": Counter()} for c in checks}
    mistakes = {}   # key -> {"students": [Student], "functions": Counter: function -> students}
    for g in graded:
        named = {}
        for r in g.results:
            o = outcome[r.name]
            o["total"] += 1
            o["passed"] += r.passed
            if not r.passed:
                o["statuses"][r.status] += 1
            key = r.mistake or message_diagnosis(r)
            if key:
                o["mistakes"][key] += 1
                named.setdefault(key, set()).add(r.function)
        for key, functions in named.items():
            m = mistakes.setdefault(key, {"students": [], "functions": Counter()})
            m["students"].append(by_name[g.student])
            m["functions"].update(functions)
    return outcome, mistakes


def _mistake_rows(mistakes, n):
    """The diagnosed mistakes, most students first, each with its hint."""
    from ..mistakes import HINTS

    derived = {key: hint for key, hint, _ in MESSAGE_DIAGNOSES}
    ranked = sorted(mistakes.items(), key=lambda kv: (-len(kv[1]["students"]), kv[0]))
    lesson = {fn: i for i, fn in enumerate(kit.module_of())}

    def functions(counts):  # most students first, then in lesson order
        return sorted(counts, key=lambda fn: (-counts[fn], lesson.get(fn, len(lesson)), fn))

    return [{"key": key, "anchor": f"m-{i}", "hint": HINTS.get(key) or derived.get(key, ""),
             "from_message": key in derived and key not in HINTS, "functions": functions(m["functions"]),
             "students": sorted(m["students"], key=lambda s: s.index), "share": _rate(len(m["students"]), n)}
            for i, (key, m) in enumerate(ranked)]


def _parts(checks, graded, students, outcome, anchors):
    """Each part of the lesson with its functions in lesson order: the rows of the per-function view."""
    by_function = {}
    for check in checks:
        by_function.setdefault((check[1], check[2]), []).append(check)
    results = {g.student: {r.name: r for r in g.results} for g in graded}
    parts = []
    for module in dict.fromkeys(c[1] for c in checks):
        rows = [_function_row(function, fchecks, results, outcome, anchors, len(graded))
                for (mod, function), fchecks in by_function.items() if mod == module]
        possible = sum(c[3] for c in checks if c[1] == module)
        earned = [s.parts.get(module, 0.0) for s in students]
        mean = statistics.mean(earned) if earned else 0.0
        parts.append({"module": module, "title": kit.LESSON_PARTS.get(module, ""), "functions": rows,
                      "possible": possible, "mean": mean, "share": _rate(mean, possible),
                      "full": sum(1 for e in earned if possible and e >= possible - 1e-9)})
    return parts


def _function_row(function, fchecks, results, outcome, anchors, n):
    """One function: students with every check passed, the pass rate per kind of check, and each check."""
    names = [c[0] for c in fchecks]
    fully = sum(1 for mine in results.values()
                if any(c in mine for c in names) and all(mine[c].passed for c in names if c in mine))
    cells = []
    for kind, heading in KINDS:
        of_kind = [c[0] for c in fchecks if check_kind(c[0], c[4]) == kind]
        passed = sum(outcome[c]["passed"] for c in of_kind)
        total = sum(outcome[c]["total"] for c in of_kind)
        cells.append({"kind": kind, "heading": heading, "empty": not of_kind, "rate": _rate(passed, total),
                      "band": band(_rate(passed, total)), "checks": len(of_kind), "passed": passed, "total": total})
    checks = []
    for name, _, _, points, visibility in fchecks:
        o = outcome[name]
        rate = _rate(o["passed"], o["total"])
        checks.append({
            "name": name, "title": name.removeprefix(f"test_{function}_").replace("_", " "),
            "kind": dict(KINDS)[check_kind(name, visibility)], "hidden": visibility == "hidden", "points": points,
            "rate": rate, "band": band(rate), "passed": o["passed"], "total": o["total"],
            "statuses": o["statuses"].most_common(),
            "mistakes": [(key, count, anchors.get(key, "")) for key, count in o["mistakes"].most_common()]})
    return {"function": function, "anchor": f"f-{function}", "fully": fully, "rate": _rate(fully, n),
            "band": band(_rate(fully, n)), "cells": cells, "checks": checks, "points": sum(c[3] for c in fchecks)}


#: the order of the groups of "Students to look at": what needs a person first
_REVIEW_ORDER = ("cheat", "unreadable", "grader", "crash", "timeout", "load", "missing")


def _review(students):
    """[{"label", "students": [(Student, Flag)]}] for "Students to look at", one group per flag."""
    groups = {}
    for s in students:
        for f in s.flags:
            if f.kind in _REVIEW_ORDER:
                groups.setdefault((f.kind, f.label), {"label": f.label, "students": []})["students"].append((s, f))
    return [groups[key] for key in sorted(groups, key=lambda k: (_REVIEW_ORDER.index(k[0]), k[1]))]


def _bins(totals, maximum, count=20):
    """[(low, high, students)] of the histogram, for the table shown without matplotlib."""
    top = maximum or max(totals, default=0.0) or 1.0
    width = top / count
    counts = [0] * count
    for t in totals:
        counts[min(count - 1, max(0, int(t / width)))] += 1
    return [(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]


# ---------------------------------------------------------------------------------------
# Rendering

@functools.lru_cache(maxsize=None)
def environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["g"] = lambda x: f"{x:g}"
    env.filters["f1"] = lambda x: f"{x:.1f}"
    env.filters["pct"] = lambda x: f"{x:.0%}"
    return env


def render(run, *, folder_of):
    """report.html for `run` as text."""
    from markupsafe import Markup

    page = build(run, folder_of=folder_of)
    page["histogram"] = Markup(page["histogram"]) if page["histogram"] else None  # matplotlib's own SVG
    page["part_chart"] = Markup(page["part_chart"]) if page["part_chart"] else None
    return environment().get_template("report.html.j2").render(**page)


def interrupted_banner(run, *, status):
    """The paragraph an interrupted run's report opens with: who was not graded, and what to do."""
    return environment().get_template("interrupted.html.j2").render(
        signal=run.interrupted, graded=len(run.graded), total=len(run.graded) + len(run.not_graded),
        not_graded=run.not_graded, status=status)
