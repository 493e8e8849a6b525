"""Run catalogue checks against an implementation, and summarise the outcome.

`run_checks` is what `rnn-grade check`, `rnn-grade grade` and the class grader use: the
same check functions pytest runs, called directly. `classify` turns whatever a check
raised into a status and a message for the student; the pytest plugin uses it too, so
both paths say the same thing.
"""
import json
from dataclasses import asdict, dataclass

from . import kit
from .catalogue import all_checks
from .feedback import CheckFailure, broken_dependencies, exception_hint
from .impl import CallFailed, NotImplementedYet
from .untrusted import clean_text

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
                    message += f"\n  Fix {dep} first: {check.function} relies on it, and it is not right yet ({reason})."
        return exc.status, message, ""
    return "error", (f"the check could not finish with what your {check.function} returned "
                     f"({type(exc).__name__}: {exc})"), ""


def run_check(check, impl, ref):
    try:
        check.func(impl=impl, ref=ref)
        exc = None
    except Exception as caught:  # noqa: BLE001 - every outcome becomes a result
        exc = caught
    status, message, mistake = classify(exc, check, impl, ref)
    message = clean_text(message, MAX_MESSAGE)
    if exc is not None:
        exc.__traceback__ = None  # its frames hold the check's arrays: free them now, not at the next gc
    return Result(check.name, check.module, check.function, check.points, check.visibility, status,
                  check.points if status == "passed" else 0.0, message, mistake)


def run_checks(impl, checks=None, *, ref=None, on_result=None):
    from .reference import LiveReference

    ref = ref or LiveReference()
    results = []
    for check in checks if checks is not None else all_checks():
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

def summary(results, *, held_back=0.0):
    """A dict for JSON: totals, per-module scores, every check, and the next thing to fix."""
    modules = {}
    for r in results:
        m = modules.setdefault(r.module, {"earned": 0.0, "possible": 0.0, "passed": 0, "checks": 0})
        m["earned"] += r.score
        m["possible"] += r.points
        m["passed"] += r.passed
        m["checks"] += 1
    failed = [r for r in results if not r.passed]
    order = {name: i for i, name in enumerate(kit.MODULES)}
    return {
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.points for r in results), 4),
        "held_back": round(held_back, 4),
        "modules": {k: {**v, "earned": round(v["earned"], 4), "possible": round(v["possible"], 4)}
                    for k, v in sorted(modules.items(), key=lambda kv: order.get(kv[0], 99))},
        "next": asdict(failed[0]) if failed else None,
        "checks": [asdict(r) for r in results],
    }


def format_summary(data, *, title="rnn-kit"):
    lines = [f"{title}: score per part", f"  {'part':<13}{'earned':>8} / {'possible':<9}checks passed"]
    for module, m in data["modules"].items():
        lines.append(f"  {module:<13}{m['earned']:>8.2f} / {m['possible']:<9.2f}{m['passed']} of {m['checks']}")
    lines.append(f"  {'total':<13}{data['score']:>8.2f} / {data['max_score']:<9.2f}")
    if data["held_back"]:
        lines.append(f"  {data['held_back']:.2f} more points are not checked here: hidden checks (the same things on "
                     f"other inputs) and checks that need the reference run when you are graded, and count.")
    nxt = data["next"]
    if nxt:
        first = nxt["message"].splitlines()[0] if nxt["message"] else nxt["status"]
        lines.append(f"Next thing to fix: {nxt['function']} ({nxt['module']}.py), check {nxt['name']}:")
        lines.append(f"  {first}")
    elif data["checks"]:
        lines.append("Every check run here passed.")
    return "\n".join(lines)


def write_json(data, path):
    from .files import write_atomic

    write_atomic(path, json.dumps(data, indent=2) + "\n")
