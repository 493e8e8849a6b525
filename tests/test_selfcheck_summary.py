"""The self-check's end of run: the kit's summary comes last, and names the real first problem (issue 13)."""
import shutil

import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.runner import Result, next_to_fix

#: imported before any in-process pytester run (see test_plugin.py)
CHECKS = all_checks()

pytest_plugins = ["pytester"]

@pytest.fixture(autouse=True)
def quick(pytester):
    """The plugins the kit's own pyproject.toml blocks, blocked in the inner runs too (they only cost time)."""
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")


BIAS = ("return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)", "return np.tanh(x_t @ Wx + h_prev @ Wh)")


def handout(root, *, rnn=None, feedforward="skeleton"):
    """root/exercises/ as a student has it: __init__, _validate, and the given modules."""
    folder = root / "exercises"
    folder.mkdir(parents=True)
    for name in ("__init__.py", "_validate.py"):
        shutil.copy(kit.EXERCISES / name, folder / name)
    if feedforward == "skeleton":
        shutil.copy(kit.EXERCISES / "feedforward.py", folder / "feedforward.py")
    if rnn is not None:
        (folder / "rnn.py").write_text(rnn)
    return folder


def solution(module, *replace):
    text = (kit.SOLUTIONS / f"{module}.py").read_text()
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    return text


def last_lines(result, count):
    return [line for line in result.stdout.lines if line.strip()][-count:]


def test_the_summary_comes_after_pytests_own_end_of_run_and_pytest_conventions_hold(pytester):
    pytester.makepyfile(test_checks="from autograder.checks.rnn import *  # noqa\n")
    student = handout(pytester.path / "work", rnn=solution("rnn", BIAS), feedforward=None)

    first = pytester.runpytest("--impl", str(student), "--function", "rnn_step", "-ra")
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    failed = first.parseoutcomes()["failed"]
    assert failed >= 2
    out = first.stdout.lines
    short = next(i for i, line in enumerate(out) if "short test summary info" in line)
    stats = next(i for i, line in enumerate(out) if f"{failed} failed" in line and line.startswith("="))
    score = next(i for i, line in enumerate(out) if "rnn-kit score" in line)
    assert short < stats < score
    assert last_lines(first, 3)[0].startswith("Next thing to fix: rnn_step (rnn.py)")
    assert last_lines(first, 1)[0].strip().startswith("Likely cause: the bias b is missing")

    again = pytester.runpytest("--impl", str(student), "--function", "rnn_step", "--lf", "-x", "-q")
    assert again.ret == pytest.ExitCode.TESTS_FAILED
    assert again.parseoutcomes()["failed"] == 1  # -x stopped at the first of the last failures
    assert f"; {failed} public checks;" in again.stdout.str()  # --lf: only the last run's failures
    assert last_lines(again, 3)[0].startswith("Next thing to fix: rnn_step (rnn.py)")


def test_a_file_that_does_not_load_comes_before_everything_else(pytester):
    pytester.makepyfile(test_checks="from autograder.checks.feedforward import *  # noqa\n"
                                    "from autograder.checks.rnn import *  # noqa\n")
    broken = solution("rnn", ("def rnn_step(x_t, h_prev, Wx, Wh, b):", "def rnn_step(x_t, h_prev, Wx, Wh, b)"))
    line = broken.splitlines().index("def rnn_step(x_t, h_prev, Wx, Wh, b)") + 1
    student = handout(pytester.path / "work", rnn=broken)  # feedforward.py: not started (comes first)

    result = pytester.runpytest("--impl", str(student), "--function", "dense_forward,rnn_step")
    assert last_lines(result, 3) == [
        f"Next thing to fix: rnn.py, line {line}: the file does not load, so 5 checks cannot run:",
        "  SyntaxError: expected ':'",
        "      def rnn_step(x_t, h_prev, Wx, Wh, b)",
    ]


def test_an_import_error_names_its_line_and_a_recognised_mistake_beats_a_function_not_started(pytester):
    pytester.makepyfile(test_checks="from autograder.checks.feedforward import *  # noqa\n"
                                    "from autograder.checks.rnn import *  # noqa\n")
    imports = solution("rnn", ("import numpy as np\n", "import numpy as np\nimport numpyy\n"))
    line = imports.splitlines().index("import numpyy") + 1
    student = handout(pytester.path / "a", rnn=imports)
    result = pytester.runpytest("--impl", str(student), "--function", "dense_forward", "--function", "rnn_step")
    assert last_lines(result, 3)[0].startswith(f"Next thing to fix: rnn.py, line {line}: the file does not load")
    assert last_lines(result, 3)[1:] == ["  ModuleNotFoundError: No module named 'numpyy'", "      import numpyy"]

    student = handout(pytester.path / "b", rnn=solution("rnn", BIAS))
    result = pytester.runpytest("--impl", str(student), "--function", "dense_forward", "--function", "rnn_step")
    assert "not implemented yet: dense_forward" in result.stdout.str()
    assert last_lines(result, 3)[0].startswith("Next thing to fix: rnn_step (rnn.py), check ")
    assert "Likely cause: the bias b is missing" in last_lines(result, 1)[0]


def test_the_first_function_not_started_is_in_lesson_order_not_collection_order(pytester):
    pytester.makepyfile(test_checks="from autograder.checks.rnn import *  # noqa\n"
                                    "from autograder.checks.feedforward import *  # noqa\n")  # rnn collected first
    result = pytester.runpytest("--impl", "exercises", "--function", "rnn_readout,rnn_step,mean_pool")
    nxt, message = last_lines(result, 2)
    assert nxt.startswith("Next thing to fix: mean_pool (feedforward.py), check ")
    assert message == "  not implemented yet: " + next(
        line.split("'")[1] for line in (kit.EXERCISES / "feedforward.py").read_text().splitlines()
        if "NotImplementedError('mean_pool" in line)


def _result(function, status, message="", mistake="", name=None):
    return Result(name or f"test_{function}_x", kit.module_of()[function], function, 1.0, "public", status, 0.0,
                  message, mistake)


def test_next_to_fix_ranks_load_errors_mistakes_failures_then_work_not_started():
    load = ("rnn.py could not be loaded: SyntaxError: invalid syntax (rnn.py, line 7)\nYour code's traceback:\n"
            '      File "rnn.py", line 7\n        def f(:\n             ^\n    SyntaxError: invalid syntax')
    not_handed_in = ("memory.py could not be loaded: ModuleNotFoundError: No module named 'submission.memory'\n"
                     "Your code's traceback:\n    ModuleNotFoundError: No module named 'submission.memory'")
    results = [_result("dense_forward", "not implemented", "not implemented yet: dense_forward"),
               _result("make_recall_task", "error", not_handed_in),
               _result("lstm_step", "failed", "lstm_step returned wrong values"),
               _result("gru_gates", "failed", "gru_gates returned wrong values\n  Likely cause: z and 1 - z", "gz"),
               _result("rnn_forward", "error", load),
               _result("sigmoid", "passed")]
    order = []
    while (nxt := next_to_fix(results)) is not None:
        order.append((nxt["function"], nxt["why"]))
        results = [r for r in results if r.function != nxt["function"]]
    assert order == [("rnn_forward", "does not load"), ("gru_gates", "diagnosed mistake"),
                     ("lstm_step", "failed"), ("dense_forward", "not done yet"), ("make_recall_task", "not done yet")]
    first = next_to_fix([_result("rnn_forward", "error", load)])
    assert (first["file"], first["line"], first["error"], first["code"]) == ("rnn.py", 7, "SyntaxError: invalid syntax",
                                                                           "def f(:")
