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
"""
import pytest

from .feedback import CheckFailure
from .impl import DEFAULT_TIMEOUT, CallFailed

SELF_CHECK = "pytest exercises"
MESSAGES = {
    "kit_header": f"rnn-kit: this is the kit's own test suite. To check your exercises run: {SELF_CHECK}",
    "self_header": "rnn-kit self-check: implementation = {impl}; {public} public checks; "
                   "{hidden:g} points held back in hidden checks",
    "training_note": "rnn-kit: {count} training check(s) train your cells (a few seconds); "
                     "leave them out with -k 'not trains'",
}


def pytest_addoption(parser):
    group = parser.getgroup("rnn-kit", "rnn-kit self-check")
    group.addoption("--impl", default=None, help="implementation under test: exercises (default), solutions, "
                                                  "or a directory / notebook holding your modules")
    group.addoption("--rnn-hidden", action="store_true", default=False, help="also run hidden checks")
    group.addoption("--rnn-json", default=None, metavar="PATH", help="write the score summary as JSON")
    group.addoption("--rnn-timeout", type=float, default=None, help=f"seconds per call (default {DEFAULT_TIMEOUT:g})")
    parser.addini("rnn_impl", "default implementation under test", default="exercises")
    parser.addini("rnn_timeout", "seconds per call into the implementation", default=str(DEFAULT_TIMEOUT))


def _option(config, name, ini):
    value = config.getoption(name)
    return value if value is not None else config.getini(ini)


def pytest_configure(config):
    config.addinivalue_line("markers", "exercise(module, function): the exercise a check grades")
    config.addinivalue_line("markers", "points(n): what a check is worth")
    config.addinivalue_line("markers", "visibility(kind): public (self-check) or hidden (graded only)")
    from . import kit

    # in a student bundle, hidden checks are not there at all: their points come from kitdata.json
    config._rnn = {"results": {}, "held_back": float(kit.bundled().get("hidden_points", 0.0)), "checks": {}}


def pytest_report_header(config):
    args = [str(a) for a in config.args]
    if any("exercises" in a or a.endswith(".ipynb") for a in args) or config.getoption("impl"):
        return None  # the self-check header comes after collection, when the numbers are known
    return MESSAGES["kit_header"]


def _check_of(item):
    return getattr(getattr(item, "obj", None), "rnn_check", None)


@pytest.hookimpl(trylast=True)  # after -k and -m, so "held back" counts only what was selected
def pytest_collection_modifyitems(session, config, items):
    from . import kit

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
        offline_only = not check.offline and bool(kit.bundled())  # needs the live reference: graded later
        if (check.visibility == "hidden" and not config.getoption("rnn_hidden")) or offline_only:
            state["held_back"] += check.points
            dropped.append(item)
            continue
        state["checks"][item.nodeid] = check
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session):
    state = session.config._rnn
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if state["checks"] and reporter:
        reporter.write_line(MESSAGES["self_header"].format(
            impl=_option(session.config, "impl", "rnn_impl"), public=len(state["checks"]), hidden=state["held_back"]))
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
    from .impl import WorkerImpl, load_submission

    config = request.config
    spec = _option(config, "impl", "rnn_impl")
    worker = WorkerImpl(load_submission(spec), timeout=float(_option(config, "rnn_timeout", "rnn_timeout")))
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def ref():
    """The reference the checks compare against."""
    from .reference import LiveReference

    return LiveReference()


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
    item.config._rnn["results"][item.nodeid] = Result(
        check.name, check.module, check.function, check.points, check.visibility, status,
        check.points if status == "passed" else 0.0, message, mistake)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = getattr(config, "_rnn", None)
    if not state or not state["results"]:
        return
    from .runner import format_summary, summary, write_json

    order = list(state["checks"])
    results = [state["results"][n] for n in order if n in state["results"]]
    data = summary(results, held_back=state["held_back"])
    terminalreporter.write_sep("=", "rnn-kit score")
    for line in format_summary(data, title=f"rnn-kit ({_option(config, 'impl', 'rnn_impl')})").splitlines():
        terminalreporter.write_line(line)
    path = config.getoption("rnn_json")
    if path:
        write_json(data, path)
        terminalreporter.write_line(f"summary written to {path}")
