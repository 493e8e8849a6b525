"""The pytest plugin: runs the catalogue as tests and reports like a grader.

Registered through the ``pytest11`` entry point, so it is active wherever the kit is
installed. It only changes anything in a session that collects catalogue checks
(``pytest exercises``, a student bundle); the kit's own test suite just gets a header line
saying how to run the self-check.

Options (also settable in pyproject.toml's [tool.pytest.ini_options] as ``rnn_impl`` etc.):
  --impl exercises|solutions|PATH   the implementation under test (default: exercises)
  --rnn-hidden                      also run hidden checks (graders only)
  --rnn-json PATH                   write the summary as JSON
  --rnn-timeout SECONDS             wall-clock limit per call into the implementation
  --rnn-in-order                    train the cells one after another, in their own checks (default: side by
                                    side from the first check on, when the machine has more than one core)
  --function NAME                   only the checks of exercise function NAME (repeat it, or NAME,NAME2);
                                    ini: rnn_function = NAME NAME2

The kit's score table and "Next thing to fix" are the last lines of the run: they are
printed by a pytest_sessionfinish hook wrapper that runs outside pytest's own terminal
reporter (tryfirst), so they come after pytest's failures, its short test summary (-ra)
and its "N failed, M passed" line, whatever -r, -q or -x say.

What the student's code prints (print() in their function) comes back from the worker
after each call and is written to this process's stdout inside the test: with -s it shows
as the checks run, otherwise pytest keeps it and shows it under "Captured stdout call" of
a failing check, as for any test.
"""
import sys

import pytest

from .feedback import CheckFailure
from .sandbox.client import DEFAULT_TIMEOUT, CallFailed

SELF_CHECK = "pytest exercises"
MESSAGES = {
    "kit_header": f"rnn-kit: this is the kit's own test suite. To check your exercises run: {SELF_CHECK}",
    "self_header": "rnn-kit self-check: implementation = {impl}; {public} public checks; "
                   "{hidden:g} points held back in hidden checks",
    "training_note": "rnn-kit: {count} training check(s) train your cells (a few seconds); "
                     "leave them out with -k 'not trains'",
    "functions": "; only the checks of {names} (--function)",
    "printed_cut": "[... more printed output of your code in this check is not shown: at most {limit:,} "
                   "characters per check]",
}
#: characters of the student's printed output shown per check
PRINT_LIMIT = 20000


def pytest_addoption(parser):
    group = parser.getgroup("rnn-kit", "rnn-kit self-check")
    group.addoption("--impl", default=None, help="implementation under test: exercises (default), solutions, "
                                                  "or a directory / notebook holding your modules")
    group.addoption("--rnn-hidden", action="store_true", default=False, help="also run hidden checks")
    group.addoption("--rnn-json", default=None, metavar="PATH", help="write the score summary as JSON")
    group.addoption("--rnn-timeout", type=float, default=None, help=f"seconds per call (default {DEFAULT_TIMEOUT:g})")
    group.addoption("--rnn-in-order", action="store_true", default=False,
                    help="train the cells one after another, each in its own check (default: on a machine with "
                         "more than one core, the training checks start side by side with the first check)")
    group.addoption("--function", dest="rnn_function", action="append", default=None, metavar="NAME",
                    help="run only the checks of this exercise function (exactly that name; repeat the option or "
                         "separate names with commas). -k matches names anywhere, --function does not")
    parser.addini("rnn_impl", "default implementation under test", default="exercises")
    parser.addini("rnn_timeout", "seconds per call into the implementation", default=str(DEFAULT_TIMEOUT))
    parser.addini("rnn_function", "only the checks of these exercise functions (like --function)", type="args",
                  default=[])


def _option(config, name, ini):
    value = config.getoption(name)
    return value if value is not None else config.getini(ini)


def pytest_configure(config):
    config.addinivalue_line("markers", "exercise(module, function): the exercise a check grades")
    config.addinivalue_line("markers", "points(n): what a check is worth")
    config.addinivalue_line("markers", "visibility(kind): public (self-check) or hidden (graded only)")
    from . import kit

    # in a student bundle, hidden checks are not there at all: their points per function come from kitdata.json
    config._rnn = {"results": {}, "held_back": 0.0, "bundled_hidden": kit.bundled().get("hidden_points", {}),
                   "checks": {}, "functions": (), "in_call": False, "printed": 0}
    names = config.getoption("rnn_function") or config.getini("rnn_function")
    if names:
        from .runner import function_names

        try:
            config._rnn["functions"] = function_names(names)
        except ValueError as exc:
            raise pytest.UsageError(f"--function: {exc}") from None


def pytest_report_header(config):
    args = [str(a) for a in config.args]
    if any("exercises" in a or a.endswith(".ipynb") for a in args) or config.getoption("impl"):
        return None  # the self-check header comes after collection, when the numbers are known
    return MESSAGES["kit_header"]


def _check_of(item):
    return getattr(getattr(item, "obj", None), "rnn_check", None)


def pytest_itemcollected(item):
    """A check's part is one of its keywords, before -k selects: -k stepping picks every check of stepping.py."""
    check = _check_of(item)
    if check is not None:
        item.extra_keyword_matches.add(check.module)


@pytest.hookimpl(trylast=True)  # after -k and -m, so "held back" counts only what was selected
def pytest_collection_modifyitems(session, config, items):
    state = config._rnn
    keep, dropped = [], []
    for item in items:
        check = _check_of(item)
        if check is None:
            keep.append(item)
            continue
        item.add_marker(pytest.mark.exercise(check.module, check.function))
        item.add_marker(pytest.mark.points(check.points))
        item.add_marker(pytest.mark.visibility(check.visibility))
        item.repr_failure = _short_failure(item, check)  # never a traceback into the grader
        if state["functions"] and check.function not in state["functions"]:
            dropped.append(item)  # --function: not asked for, so not held back either
            continue
        if check.visibility == "hidden" and not config.getoption("rnn_hidden"):
            state["held_back"] += check.points
            dropped.append(item)
            continue
        state["checks"][item.nodeid] = check
        keep.append(item)
    selected = {c.function for c in state["checks"].values()}
    state["held_back"] += sum(p for f, p in state["bundled_hidden"].items() if f in selected)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session):
    state = session.config._rnn
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if state["checks"] and reporter:
        header = MESSAGES["self_header"].format(
            impl=_option(session.config, "impl", "rnn_impl"), public=len(state["checks"]), hidden=state["held_back"])
        if state["functions"]:
            header += MESSAGES["functions"].format(names=", ".join(state["functions"]))
        reporter.write_line(header)
        training = sum(1 for c in state["checks"].values() if c.group == "training")
        if training:
            reporter.write_line(MESSAGES["training_note"].format(count=training))


def _verdict(item, check, exc):
    """classify() once per item, with the fixtures, so the report and the summary agree."""
    if not hasattr(item, "_rnn_verdict"):
        from .runner import classify

        args = getattr(item, "funcargs", {})
        item._rnn_verdict = classify(exc, check, args.get("impl"), args.get("ref"))
    return item._rnn_verdict


def _short_failure(item, check):
    def repr_failure(excinfo, style=None):
        exc = excinfo.value
        message = _verdict(item, check, exc)[1]
        if not isinstance(exc, (CheckFailure, CallFailed)):
            message += "\n(this looks like a problem in the kit itself; please report it)"
        return message
    return repr_failure


@pytest.fixture(scope="session")
def impl(request):
    """The implementation under test, running in a worker process."""
    from .sandbox.client import WorkerImpl, load_submission

    config = request.config
    spec = _option(config, "impl", "rnn_impl")
    worker = WorkerImpl(load_submission(spec), timeout=float(_option(config, "rnn_timeout", "rnn_timeout")))
    worker.snippet_source = spec  # "To reproduce" lines import the student's functions from there
    from .reference import default_reference

    worker.reference = default_reference()  # answers stand-ins for a module that does not load
    worker.on_stdout = _student_output(config)
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def ref():
    """The reference the checks compare against (reference.default_reference decides which)."""
    from .reference import default_reference

    return default_reference()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    check = _check_of(item)
    if check is None or call.when != "call":
        return
    from .runner import Result

    outcome.get_result()
    exc = call.excinfo.value if call.excinfo else None
    status, message, mistake = _verdict(item, check, exc) if exc is not None else ("passed", "", "")
    worker = getattr(item, "funcargs", {}).get("impl")
    if worker is not None and "_since" in worker.__dict__:  # notes, and where the reference stood in
        from .runner import with_remarks

        message = with_remarks(message, worker, check, worker.__dict__["_since"], passed=status == "passed")
    item.config._rnn["results"][item.nodeid] = Result(
        check.name, check.module, check.function, check.points, check.visibility, status,
        check.points if status == "passed" else 0.0, message, mistake)


def _student_output(config):
    """on_stdout for the worker: what the student's code printed during a call, shown the pytest way.

    Inside a check it goes to sys.stdout, which pytest captures (shown with a failing check)
    or, with -s, lets through as it comes. Outside a check (the kit probing a dependency
    while it writes a report) it is dropped unless capture is off. At most PRINT_LIMIT
    characters per check, cleaned (untrusted.clean_text).
    """
    from .sandbox.submission import clean_text

    state = config._rnn
    live = config.getoption("capture") == "no"

    def show(source, text):
        if not text or not (live or state["in_call"]) or state["printed"] >= PRINT_LIMIT:
            return
        room = PRINT_LIMIT - state["printed"]
        cut = len(text) > room
        text = clean_text(text, room)
        state["printed"] = PRINT_LIMIT if cut else state["printed"] + len(text)
        lines = [f"[{source}] {line}" for line in text.rstrip("\n").split("\n")]
        if cut:
            lines.append(MESSAGES["printed_cut"].format(limit=PRINT_LIMIT))
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if live and reporter is not None:
            for line in lines:
                reporter.write_line(line)
        else:
            sys.stdout.write("\n".join(lines) + "\n")
    return show


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    state = getattr(item.config, "_rnn", None)
    if state is None or _check_of(item) is None:
        yield
        return
    worker = getattr(item, "funcargs", {}).get("impl")
    if worker is not None and not state.get("ahead"):
        state["ahead"] = True
        from .runner import spare_cores

        # not under pytest-xdist: each of its workers runs only some checks, and would train every cell
        if spare_cores() and not item.config.getoption("rnn_in_order") and not hasattr(item.config, "workerinput"):
            from .checks.bptt import train_ahead

            train_ahead(worker, item.funcargs.get("ref"), list(state["checks"].values()))
    state["in_call"], state["printed"] = True, 0
    if worker is not None:
        from .runner import begin_check

        worker.__dict__["_since"] = begin_check(worker, _check_of(item))
    yield
    state["in_call"] = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The kit's summary, after everything pytest prints at the end of a run.

    pytest's terminal reporter prints its failures, the -r short test summary (inside its
    own pytest_terminal_summary wrapper, so even a trylast pytest_terminal_summary comes
    before it) and the final "N failed" line in its pytest_sessionfinish wrapper. This
    wrapper is tryfirst, so it is the outer one and its second half runs after all of
    that: only documented hook ordering, no reporter internals, and exit codes, -x, -q and
    --lf stay pytest's.
    """
    yield
    _finish(session.config)


def _finish(config):
    state = getattr(config, "_rnn", None)
    if not state or not state["results"]:
        return
    from .runner import format_summary, summary, write_json

    order = list(state["checks"])
    results = [state["results"][n] for n in order if n in state["results"]]
    data = summary(results, held_back=state["held_back"])
    path = config.getoption("rnn_json")
    if path:
        write_json(data, path)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or getattr(reporter, "no_summary", False):
        return
    reporter.write_sep("=", "rnn-kit score")
    if path:
        reporter.write_line(f"summary written to {path}")
    for line in format_summary(data, title=f"rnn-kit ({_option(config, 'impl', 'rnn_impl')})").splitlines():
        reporter.write_line(line)  # "Next thing to fix" is the run's last line
