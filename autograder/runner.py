"""Run catalogue checks against an implementation, and summarise the outcome.

`run_checks` is what `rnn-grade check`, `rnn-grade grade` and the class grader use: the
same check functions pytest runs, called directly. `classify` turns whatever a check
raised into a status and a message for the student; the pytest plugin uses it too, so
both paths say the same thing.
"""
import json
import keyword
import os
import re
from dataclasses import asdict, dataclass

from . import kit
from .catalogue import all_checks
from .feedback import NOTE, CheckFailure, broken_dependencies, exception_hint
from .sandbox.client import CallFailed, NotImplementedYet
from .sandbox.submission import clean_text

STATUSES = ("passed", "failed", "not implemented", "timeout", "missing", "error")
#: characters kept of one result's message (its parts from the student's process are capped on arrival, in impl)
MAX_MESSAGE = 16000


@dataclass
class Result:
    name: str
    module: str
    function: str
    points: float
    visibility: str
    status: str
    score: float
    message: str = ""
    mistake: str = ""

    @property
    def passed(self):
        return self.status == "passed"


def classify(exc, check, impl=None, ref=None):
    """(status, message, mistake) for an exception a check raised.

    With `impl` and `ref`, an error or timeout also says which function it relies on is
    not right yet, so the student fixes things in the right order.
    """
    if exc is None:
        return "passed", "", ""
    if isinstance(exc, CheckFailure):
        return "failed", exc.message, exc.mistake or ""
    if isinstance(exc, CallFailed):
        message = exc.explain()
        if not isinstance(exc, NotImplementedYet):
            hint = exception_hint(exc.message)
            if hint:
                message += f"\n  Likely cause: {hint}."
            if impl is not None and ref is not None:
                for dep, reason in broken_dependencies(impl, ref, check.function):
                    root, through = _root_of(impl, dep)
                    if root != dep:  # it gives no answer because a function of theirs it relies on gives none
                        reason = impl.cannot_run(root) or reason  # a chain exists only on a WorkerImpl
                        message += (f"\n  Fix {root} first: {check.function} relies on it through {through}, and "
                                    f"it is not right yet ({reason}).")
                    else:
                        message += (f"\n  Fix {dep} first: {check.function} relies on it, and it is not right yet "
                                    f"({reason}).")
        return exc.status, message, ""
    return "error", (f"the check could not finish with what your {check.function} returned "
                     f"({type(exc).__name__}: {exc})"), ""


def _root_of(impl, function):
    """(the first function down the chain of `impl.replacing` that gives no answer, the chain's names in words):
    lstm_backward -> lstm_forward -> lstm_step when lstm_step is what stops the worker."""
    chain, replacing = [function], getattr(impl, "replacing", {})
    while replacing.get(chain[-1]) and replacing[chain[-1]][0] not in chain:
        chain.append(replacing[chain[-1]][0])
    return chain[-1], " and ".join(chain[:-1])


def begin_check(impl, check):
    """Set `impl` up for one check; return where its records of stand-ins stand now (for `with_remarks`).

    Its per-check records start empty (feedback.graded_with, feedback.note), and the reference
    may stand in for a function that gives no answer unless the check judges the whole cell
    (the training group runs on the student's own parts).
    """
    impl.__dict__["followed"] = {}  # what this check follows through, {function: {dependency}}
    impl.__dict__["check_notes"] = []  # remarks that cost no points (feedback.note)
    if hasattr(impl, "stand_ins_allowed"):
        impl.stand_ins_allowed = check.group != "training"
    if hasattr(impl, "part"):
        impl.part = check.module
    return len(getattr(impl, "stood_in", [])), len(getattr(impl, "replaced", []))


def with_remarks(message, impl, check, since, *, passed):
    """`message` followed by what the check's result should also say, none of which costs points: its notes
    (feedback.note), and where the reference stood in for the submission's functions since `begin_check`."""
    stood_before, replaced_before = since
    message = with_notes(message, impl.__dict__.get("check_notes", []))
    stood_in = sorted(set(getattr(impl, "stood_in", [])[stood_before:]))
    notes = []
    if stood_in:
        modules = sorted({kit.module_of()[f] for f in stood_in})
        notes.append(f"{' and '.join(m + '.py' for m in modules)} did not load, so the reference's "
                     f"{', '.join(stood_in)} stood in for yours in this check.")
    notes.append(replaced_note(impl, replaced_before, check.function, passed=passed))
    for note in filter(None, notes):
        message = f"{message}\n  {note}" if message else note
    return message


def run_check(check, impl, ref):
    since = begin_check(impl, check)
    try:
        check.func(impl=impl, ref=ref)
        exc = None
    except Exception as caught:  # noqa: BLE001 - every outcome becomes a result
        exc = caught
    status, message, mistake = classify(exc, check, impl, ref)
    followed = {d for deps in impl.__dict__["followed"].values() for d in deps}
    if status == "passed" and followed:
        names = ", ".join(sorted(followed))
        message = (f"Graded with your own {names}, which {'is' if len(followed) == 1 else 'are'} not right yet: "
                   f"{check.function} does what the reference does with {'it' if len(followed) == 1 else 'them'}, "
                   f"so it keeps its points.")
    message = with_remarks(message, impl, check, since, passed=status == "passed")
    message = clean_text(message, MAX_MESSAGE)
    if exc is not None:
        exc.__traceback__ = None  # its frames hold the check's arrays: free them now, not at the next gc
    return Result(check.name, check.module, check.function, check.points, check.visibility, status,
                  check.points if status == "passed" else 0.0, message, mistake)


def replaced_note(impl, since, function, *, passed):
    """The sentence saying which of the submission's functions the reference stood in for in this check's
    calls (client.WorkerImpl.call: they give no answer at all), or ""."""
    replaced = sorted({d for _f, deps in getattr(impl, "replaced", [])[since:] for d in deps})
    if not replaced:
        return ""
    reasons = "; ".join(f"{impl.cannot_run(d) or d + ' gives no answer'}" for d in replaced)
    names = " and ".join(replaced)
    verdict = (f"so the reference's {names} stood in for yours in this check: it judged {function}'s own work"
               if passed else f"so this check ran your {function} with the reference's {names} instead")
    return f"Your {names} gave no answer ({reasons}), {verdict}."


def with_notes(message, notes):
    """`message` followed by the check's notes (feedback.note), each on a line of its own."""
    return "\n".join([message, *notes] if message else notes)


def noted(results):
    """[(function, note)] for the notes in `results`' messages, each once, in order."""
    out = []
    for r in results:
        for line in (r.message or "").splitlines():
            if line.startswith(NOTE) and (r.function, line) not in out:
                out.append((r.function, line))
    return out


def spare_cores():
    """Whether this process may use more than one core (then one submission's training runs side by side)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) > 1


def run_checks(impl, checks=None, *, ref=None, on_result=None, ahead=False):
    """Every check's Result, in order. ahead=True: a single submission on a machine with cores to spare (the
    self-check, `rnn-grade check`); its training checks start at once, side by side (checks.bptt.train_ahead),
    with the same results as in order."""
    from .reference import default_reference

    ref = ref or default_reference()
    if hasattr(impl, "reference"):
        impl.reference = ref  # it answers the stand-ins of a module that does not load
    checks = list(checks if checks is not None else all_checks())
    if ahead:
        from .checks.bptt import train_ahead

        train_ahead(impl, ref, checks)
    results = []
    for check in checks:
        result = run_check(check, impl, ref)
        results.append(result)
        if on_result:
            on_result(result)
    return apply_gates(results)


def apply_gates(results):
    """Points of a passed check whose `counts_with` check failed drop to 0 (status stays "passed"), with why.

    Shape, purity and property checks pay only next to right values: a submission that
    returns zeros of the right shapes everywhere earns (almost) nothing. A gate that did not
    run (a selection with -k, a self-check without it) leaves the points alone.
    """
    from .catalogue import by_name

    checks, outcome = by_name(), {r.name: r for r in results}
    for r in results:
        gate = outcome.get(getattr(checks.get(r.name), "counts_with", ""))
        if r.passed and gate is not None and not gate.passed and r.score:
            r.score = 0.0
            r.message = (f"The property holds, but its {r.points:g} points count only once "
                         f"{gate.name.removeprefix('test_')} passes too.")
    return results


def select(checks, *, hidden=True, keyword=None):
    out = [c for c in checks if hidden or c.visibility == "public"]
    if keyword:
        out = [c for c in out if keyword in c.name or keyword == c.module]
    return out


# ---------------------------------------------------------------------------------------
# Choosing functions (pytest --function, a notebook's self-check)

def function_names(values):
    """The exercise functions named in `values`, in the order given, each once.

    Each value is one name or several separated by commas or spaces ("rnn_step,lstm_step").
    A name that is not an exercise function raises ValueError, with the near matches.
    """
    names = []
    for value in values or ():
        for part in re.split(r"[,\s]+", str(value)):
            if part and part not in names:
                names.append(part)
    known = kit.module_of()
    for name in names:
        if name not in known:
            raise ValueError(_not_a_function(name, known))
    return tuple(names)


def _not_a_function(name, known):
    import difflib

    by_module = kit.functions_by_module()
    if name in by_module or name.removesuffix(".py") in by_module:
        module = name.removesuffix(".py")
        return (f"{name!r} is a part of the lesson ({module}.py), not a function; name one of its functions "
                f"({', '.join(by_module[module])}), or run the whole part with -k {module}")
    near = difflib.get_close_matches(name, list(known), n=4, cutoff=0.6)
    near += [f for f in known if name.lower() in f and f not in near]
    if near:
        return f"there is no exercise function called {name!r}; near matches: {', '.join(near[:6])}"
    listing = "; ".join(f"{m}.py: {', '.join(fns)}" for m, fns in by_module.items())
    return f"there is no exercise function called {name!r}. The functions are {listing}"


def only_functions(checks, names):
    """The checks in `checks` whose function is one of `names` (all of them when `names` is empty)."""
    wanted = set(function_names(names))
    return [c for c in checks if not wanted or c.function in wanted]


# ---------------------------------------------------------------------------------------
# "To reproduce (paste into Python)": lines that run as pasted

_FROM_EXERCISES = re.compile(r"^from exercises\.(\w+) import ([\w ,]+?)\s*(#.*)?$")
_IMPORT = re.compile(r"^\s*(?:from\s+[\w.]+\s+)?import\s+(.+?)\s*(#.*)?$")


def _code_only(line):
    """`line` without its string literals and comment, to look for the names it uses."""
    return re.sub(r"#.*$", "", re.sub(r"'[^']*'|\"[^\"]*\"", "''", line))


def snippet(call, impl=None):
    """`call` (the lines a check wrote to show a call) with the imports it needs to run when pasted.

    It imports numpy when the lines use ``np.``, and the student's own functions the lines
    call: from exercises/ (``from exercises.rnn import rnn_step``, which runs in the folder
    that holds exercises/), from the folder the self-check was given (``--impl``, the
    plugin sets ``impl.snippet_source``), or, for a notebook, a note to paste the lines into
    a cell after the one that defines the function.
    """
    functions = kit.module_of()
    body, wanted = [], []
    for line in str(call).splitlines():
        written = _FROM_EXERCISES.match(line.strip())
        names = [n.strip() for n in written.group(2).split(",")] if written else []
        if names and all(n in functions for n in names):
            wanted += [n for n in names if n not in wanted]  # imported again below, from where the student works
            continue
        body.append(re.sub(r"^(\w+) = make_inputs\(", r"(\1,) = make_inputs(", line))  # it returns a tuple
    imported = set()
    for line in body:
        match = _IMPORT.match(line)
        if match:
            imported |= {part.split(" as ")[-1].strip() for part in match.group(1).split(",")}
    code = "\n".join(_code_only(line) for line in body if not _IMPORT.match(line))
    for name in functions:
        if name not in imported and name not in wanted and re.search(rf"(?<![\w.]){name}\b", code):
            wanted.append(name)
    head = []
    if "np" not in imported and re.search(r"(?<![\w.])np\.", code):
        head.append("import numpy as np")
    if "make_inputs" not in imported and re.search(r"(?<![\w.])make_inputs\b", code):
        head.append("from autograder.inputs import make_inputs")
    order = list(functions)
    head += _import_lines(sorted(wanted, key=order.index), impl)
    return "\n".join(head + body)


def _import_lines(names, impl):
    from .sandbox.client import LocalImpl

    sub = getattr(impl, "submission", None)
    in_notebook, by_module = [], {}
    for name in names:
        module = sub.module_of(name) if sub is not None else kit.module_of()[name]
        filename = str(sub.modules.get(module, ("", ""))[1]) if sub is not None else ""
        if isinstance(impl, LocalImpl) or filename.endswith(".ipynb"):
            in_notebook.append((name, filename))
        else:
            by_module.setdefault(module, []).append(name)
    lines = []
    for name, filename in in_notebook:
        where = f"your notebook {filename}" if filename else "your notebook"
        lines.append(f"# {name} is defined in {where}: paste these lines into a cell below the one that defines it")
    if by_module:
        lines += _package_imports(by_module, getattr(impl, "snippet_source", None) or "exercises")
    return lines


def _package_imports(by_module, source):
    """Import lines for {module: [function]} from `source`: "exercises", "solutions", or a folder (or a file in it)."""
    from pathlib import Path

    package, folder = source, None
    if source not in ("exercises", "solutions"):
        path = Path(source).expanduser()
        folder = (path.parent if path.suffix == ".py" else path).resolve()
        if folder == kit.EXERCISES.resolve():
            package, folder = "exercises", None
        else:
            package = folder.name
    lines = []
    if folder is not None:
        lines.append(f"import sys; sys.path.insert(0, {str(folder.parent)!r})  # the folder that holds {package}/")
        if not (folder / "_validate.py").exists():  # the checks run your files with the kit's _validate.py
            lines.append(f"import exercises._validate; sys.modules[{package + '._validate'!r}] = exercises._validate")
    for module, names in by_module.items():
        if package.isidentifier() and not keyword.iskeyword(package):
            lines.append(f"from {package}.{module} import {', '.join(names)}")
        else:
            lines.append("import importlib")
            lines += [f"{n} = importlib.import_module({package + '.' + module!r}).{n}" for n in names]
    return lines


# ---------------------------------------------------------------------------------------
# The score, and the next thing to fix

_LOAD_ERROR = re.compile(r"^\w+\.(?:py|ipynb) could not be loaded: (.*)$")
_PLACE = re.compile(r'File "([^"]+)", line (\d+)')


def load_problem(result):
    """{"file", "line", "error", "code"} when `result` failed because a file handed in does not load, else None.

    A module that was not handed in at all is not a load problem (nothing of the student's
    ran); it counts with the functions not written yet.
    """
    if result.status != "error" or not result.message:
        return None
    lines = result.message.splitlines()
    header = _LOAD_ERROR.match(lines[0])
    places = list(_PLACE.finditer(result.message))
    if not header or not places:
        return None
    last = places[-1]
    filename, line = last.group(1), int(last.group(2))
    error = re.sub(rf"\s*\({re.escape(filename)}, line {line}\)$", "", header.group(1))
    after = result.message[last.end():].split("\n")[1:2]
    code = after[0].strip() if after else ""
    if code.startswith(error.split(":")[0]) or code.startswith("^"):
        code = ""
    return {"file": filename, "line": line, "error": error, "code": code}


def _lesson_position(result):
    modules = kit.functions_by_module()
    module = kit.MODULES.index(result.module) if result.module in kit.MODULES else len(kit.MODULES)
    functions = modules.get(result.module, ())
    return module, functions.index(result.function) if result.function in functions else len(functions)


def next_to_fix(results):
    """The result to fix first, with why, or None when nothing failed.

    In this order: a file that does not load (syntax or import error), a mistake the kit
    recognised, any other failure (wrong values, a crash, a timeout), and then the first
    function not written yet; within each, in lesson order (kit.MODULES, then __all__).
    """
    ranked = []
    for index, r in enumerate(results):
        if r.passed:
            continue
        load = load_problem(r)
        if load:
            rank, why = 0, "does not load"
        elif r.mistake:
            rank, why = 1, "diagnosed mistake"
        elif r.status in ("failed", "timeout") or (r.status == "error"
                                                   and not _LOAD_ERROR.match((r.message or "").split("\n")[0])):
            rank, why = 2, "failed"
        else:
            rank, why = 3, "not done yet"
        ranked.append(((rank, *_lesson_position(r), index), r, why, load))
    if not ranked:
        return None
    _, r, why, load = min(ranked, key=lambda entry: entry[0])
    out = {**asdict(r), "why": why}
    if load:
        out.update(load, blocked=sum(1 for _, other, _, other_load in ranked
                                     if other_load and other_load["file"] == load["file"]))
    return out


#: statuses of a function that has not been written or handed in yet: one "not started" cause for them all
NOT_STARTED = ("not implemented", "missing")
_GRADED_WITH = re.compile(r"^Graded with your own ([\w, ]+), which (?:is|are) not right yet")
_FIX_FIRST = re.compile(r"\b[Ff]ix (\w+) first\b")


def causes(results):
    """What cost points, one entry per cause, the most points first (then lesson order).

    A cause is a file that does not load (one entry for every check it stopped), a mistake
    the kit diagnosed (one entry per mistake, over all the functions it showed in), any
    other failure of one function (one entry per function), or, last, the functions not
    started yet (one entry for all of them). A failure that says "fix X first" joins X's
    cause, and so does one whose points wait for another check (runner.apply_gates); X
    itself may have kept its points through follow-through, and then its dependency's cause
    is the one. Each entry is a dict: kind ("load", "mistake", "function", "not started"),
    title (a sentence), points (lost), checks (their names), functions, and graded_with:
    the functions that kept their points although they rely on this one. A hidden check
    joins its cause by its function, its mistake or its advice, and adds no text of its own.
    """
    from .catalogue import by_name

    order = {f: i for i, f in enumerate(kit.module_of())}
    entries, home = {}, {}  # cause key -> entry; function -> the cause key its own failures went to

    def entry(key, kind, title, function):
        e = entries.setdefault(key, {"kind": kind, "title": "", "points": 0.0, "checks": [], "functions": [],
                                     "graded_with": []})
        e["title"] = e["title"] or title
        if function not in e["functions"]:
            e["functions"].append(function)
        home.setdefault(function, key)
        return e

    def first_line(r):
        return r.message.splitlines()[0].strip() if r.message and r.visibility == "public" else ""

    kept = {}  # function -> the dependency it was graded with (follow-through)
    for r in results:
        found = _GRADED_WITH.match(r.message or "") if r.passed else None
        if found:
            kept.setdefault(r.function, found.group(1).split(",")[0].strip())

    def owner(function):
        """The cause key `function`'s trouble belongs to, following follow-through to the root."""
        seen = set()
        while function not in home and function in kept and function not in seen:
            seen.add(function)
            function = kept[function]
        return home.get(function)

    later = []
    for r in results:
        lost = r.points - r.score
        if r.passed and not lost:
            continue
        advice = _FIX_FIRST.search(r.message or "")
        if r.status == "error" and " could not be loaded: " in r.message:
            module = r.message.split(".py could not be loaded", 1)[0].rsplit(None, 1)[-1]
            said = first_line(r).split("could not be loaded: ", 1)[-1]
            title = (f"{module}.py was not handed in" if f"No module named 'submission.{module}'" in said
                     else f"{module}.py does not load: {said}" if said else "")
            e = entry(("load", module), "load", title, r.function)
        elif r.mistake:
            hint = next((line.strip().removeprefix("Likely cause:").strip().rstrip(".")
                         for line in r.message.splitlines() if line.strip().startswith("Likely cause:")), "")
            e = entry(("mistake", r.mistake), "mistake", hint if r.visibility == "public" else "", r.function)
        elif r.passed or advice:  # points waiting for another check, or told to fix another function first
            later.append((r, lost, advice))
            continue
        elif r.status in NOT_STARTED:
            e = entry(("not started",), "not started", "", r.function)
        else:
            e = entry(("function", r.function), "function", first_line(r), r.function)
        e["points"] += lost
        e["checks"].append(r.name)
    checks = by_name()
    for r, lost, advice in sorted(later, key=lambda item: item[2] is None):  # advice first, then gated points
        gate = checks.get(r.name)
        target = advice.group(1) if advice else checks[gate.counts_with].function if gate and gate.counts_with \
            and gate.counts_with in checks else r.function
        key = owner(target) or owner(r.function)
        e = entries[key] if key else entry(("function", r.function), "function", first_line(r), r.function)
        home.setdefault(r.function, key or ("function", r.function))
        e["points"] += lost
        e["checks"].append(r.name)
    for function, dep in kept.items():  # who kept their points thanks to follow-through, under that cause
        key = owner(dep)
        if key and function not in entries[key]["graded_with"]:
            entries[key]["graded_with"].append(function)
    out = _one_entry_for_files_not_handed_in(list(entries.values()))
    for e in out:
        e["points"] = round(e["points"], 4)
        if e["kind"] == "not started":
            e["title"] = f"not started yet: {', '.join(e['functions'])}"
        elif not e["title"]:
            e["title"] = f"{', '.join(e['functions'])}: a hidden check failed"
        elif e["kind"] == "mistake":
            e["title"] = f"{e['title']} ({', '.join(e['functions'])})"
    return sorted(out, key=lambda e: (e["kind"] == "not started", -e["points"],
                                      min(order.get(f, 99) for f in e["functions"])))


def _one_entry_for_files_not_handed_in(found):
    """Entries "X.py was not handed in" for several X become one: "not handed in: X.py, Y.py" (one cause)."""
    missing = [e for e in found if e["kind"] == "load" and e["title"].endswith(".py was not handed in")]
    if len(missing) < 2:
        return found
    files = [e["title"].removesuffix(" was not handed in") for e in missing]
    merged = {"kind": "load", "title": f"not handed in: {', '.join(sorted(files, key=_lesson_order))}",
              "points": sum(e["points"] for e in missing), "checks": [c for e in missing for c in e["checks"]],
              "functions": [f for e in missing for f in e["functions"]],
              "graded_with": [f for e in missing for f in e["graded_with"]]}
    return [e for e in found if e not in missing] + [merged]


def _lesson_order(filename):
    module = filename.removesuffix(".py")
    return kit.MODULES.index(module) if module in kit.MODULES else len(kit.MODULES)


def format_causes(found, *, limit=8):
    """Lines for the first `limit` causes: points lost, what, how many checks, who kept their points."""
    lines = []
    for e in found[:limit]:
        kept = f"; {', '.join(e['graded_with'])} kept their points, graded with yours" if e["graded_with"] else ""
        count = len(e["checks"])
        lines.append(f"  {e['points']:>6.2f}  {e['title']} ({count} check{'s' if count != 1 else ''}{kept})")
    if len(found) > limit:
        lines.append(f"          ... and {len(found) - limit} more")
    return lines


def summary(results, *, held_back=0.0):
    """A dict for JSON: totals, per-module scores, every check, and the next thing to fix."""
    modules = {}
    for r in results:
        m = modules.setdefault(r.module, {"earned": 0.0, "possible": 0.0, "passed": 0, "checks": 0})
        m["earned"] += r.score
        m["possible"] += r.points
        m["passed"] += r.passed
        m["checks"] += 1
    order = {name: i for i, name in enumerate(kit.MODULES)}
    return {
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.points for r in results), 4),
        "held_back": round(held_back, 4),
        "modules": {k: {**v, "earned": round(v["earned"], 4), "possible": round(v["possible"], 4)}
                    for k, v in sorted(modules.items(), key=lambda kv: order.get(kv[0], 99))},
        "next": next_to_fix(results),
        "causes": causes(results),
        "notes": [{"function": f, "note": n.removeprefix(NOTE)} for f, n in noted(results)],
        "checks": [asdict(r) for r in results],
    }


def format_next(nxt):
    """The "Next thing to fix" lines of a summary's `next`."""
    if nxt.get("why") == "does not load":
        blocked = nxt.get("blocked", 1)
        lines = [f"Next thing to fix: {nxt['file']}, line {nxt['line']}: the file does not load, so "
                 f"{blocked} check{'s' if blocked != 1 else ''} cannot run:", f"  {nxt['error']}"]
        if nxt.get("code"):
            lines.append(f"      {nxt['code']}")
        return lines
    message = nxt["message"].splitlines() if nxt["message"] else [nxt["status"]]
    lines = [f"Next thing to fix: {nxt['function']} ({nxt['module']}.py), check {nxt['name']}:", f"  {message[0]}"]
    cause = next((line.strip() for line in message[1:] if line.strip().startswith("Likely cause:")), "")
    if cause:
        lines.append(f"  {cause}")
    return lines


def format_summary(data, *, title="rnn-kit"):
    lines = [f"{title}: score per part", f"  {'part':<13}{'earned':>8} / {'possible':<9}checks passed"]
    for module, m in data["modules"].items():
        lines.append(f"  {module:<13}{m['earned']:>8.2f} / {m['possible']:<9.2f}{m['passed']} of {m['checks']}")
    lines.append(f"  {'total':<13}{data['score']:>8.2f} / {data['max_score']:<9.2f}")
    if data["held_back"]:
        lines.append(f"  {data['held_back']:.2f} more points are not checked here: the hidden checks, which test the "
                     f"same things on other inputs when you are graded.")
    if data.get("causes"):
        lines.append("What cost points, one line per cause:")
        lines += format_causes(data["causes"])
    if data.get("notes"):
        lines.append("Notes, no points lost:")
        lines += [f"  {n['note']}" for n in data["notes"]]
    if data["next"]:
        lines += format_next(data["next"])
    elif data["checks"]:
        lines.append("Every check run here passed.")
    return "\n".join(lines)


def write_json(data, path):
    from .files import write_atomic

    write_atomic(path, json.dumps(data, indent=2) + "\n")
