"""Debugging a function as in any Python project: print() shows, and "To reproduce" lines run as pasted (issue 13)."""
import re
import shutil
import subprocess
import sys

import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.sandbox.client import LocalImpl
from autograder.plugin import PRINT_LIMIT
from autograder.runner import snippet

#: imported before any in-process pytester run (see test_plugin.py)
CHECKS = all_checks()

pytest_plugins = ["pytester"]

STEP = "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)"


@pytest.fixture
def suite(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")
    pytester.makepyfile(test_checks="from autograder.checks.rnn import *  # noqa\n")
    return pytester


def student(root, *lines, top="", step=STEP):
    """root/exercises/ (as in a handout) whose rnn_step runs `lines` first, and whose rnn.py starts with `top`."""
    folder = root / "exercises"
    folder.mkdir(parents=True)
    for name in ("__init__.py", "_validate.py"):
        shutil.copy(kit.EXERCISES / name, folder / name)
    text = (kit.SOLUTIONS / "rnn.py").read_text()
    assert STEP in text
    body = "".join(f"{line}\n    " for line in lines)
    (folder / "rnn.py").write_text(top + text.replace(STEP, body + step))
    return folder


def reproduce_blocks(text):
    """Every "To reproduce (paste into Python)" block in `text`, as code."""
    blocks = re.findall(r"To reproduce \(paste into Python\):\n((?:      .*\n?)+)", text)
    return ["\n".join(line[6:] for line in block.rstrip("\n").split("\n")) for block in blocks]


def paste(code, cwd):
    """`code` run by a fresh interpreter, as a student pasting it would run it."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_with_s_what_the_function_prints_shows_as_the_checks_run(suite):
    folder = student(suite.path / "work", 'print("stepping", x_t.shape)', top='print("rnn.py is loading")\n')
    result = suite.runpytest("--impl", str(folder), "--function", "rnn_step", "-s")
    result.assert_outcomes(passed=len([c for c in CHECKS if c.function == "rnn_step" and c.visibility == "public"]),
                           deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["[[]rnn.py, on import[]] rnn.py is loading", "[[]rnn_step[]] stepping (1, 4)",
                                 "[[]rnn_step[]] stepping (3, 4)"])


def test_without_s_it_is_kept_for_a_failing_check_and_capped(suite, monkeypatch):
    from autograder import plugin

    monkeypatch.setattr(plugin, "PRINT_LIMIT", 5000)  # the inner run uses this very module
    folder = student(suite.path / "work", 'print("stepping", x_t.shape)', 'print("#" * 30000)',
                     step="return np.tanh(x_t @ Wx + h_prev @ Wh)")  # no bias: the value checks fail
    result = suite.runpytest("--impl", str(folder), "--function", "rnn_step")
    out = result.stdout.str()
    sections = out.split("Captured stdout call")
    assert len(sections) - 1 == result.parseoutcomes()["failed"] >= 2  # one section per failing check, no more
    assert "[rnn_step] stepping (4, 4)" in sections[1]  # the fixed-inputs check's call that failed
    assert "more characters not shown" in sections[1]  # one call's output is capped in the worker (4,000)
    assert "stepping (1, 4)" not in out  # printed during the shapes check, which passed: pytest keeps it to itself

    passes = suite.runpytest("--impl", str(folder), "--function", "rnn_step", "-rP").stdout.str()
    shapes = passes.split("_ test_rnn_step_returns_the_right_types_and_shapes _")[1].split("\n_")[0]
    assert "[rnn_step] stepping (1, 4)" in shapes and "stepping (3, 1)" not in shapes  # 6 calls, cut after 5,000
    assert "[... more printed output of your code in this check is not shown: at most 5,000 characters" in shapes
    assert PRINT_LIMIT == 20000


def test_a_snippet_from_a_real_failure_runs_when_pasted_in_the_folder_above_exercises(suite):
    root = suite.path / "handout"
    folder = student(root, step="return np.tanh(x_t @ Wx + h_prev @ Wh)")
    result = suite.runpytest("--impl", str(folder), "--function", "rnn_step")
    blocks = reproduce_blocks(result.stdout.str())
    assert blocks and all("from exercises.rnn import rnn_step" in b for b in blocks)
    code = blocks[0] + "\nprint(float(rnn_step(x_t, h_prev, Wx, Wh, b)[0, 0]))"
    pasted = paste(code, root)
    assert pasted.returncode == 0, pasted.stderr
    got = re.search(r"the largest error is at index \(0, 0\): got (\S+),", result.stdout.str()).group(1)
    assert float(pasted.stdout) == pytest.approx(float(got), rel=1e-9)  # the very value the check saw


def test_a_crash_on_one_size_names_that_size_and_the_lines_that_trigger_it(suite):
    root = suite.path / "handout"
    folder = student(root, "H = h_prev.squeeze().shape[1]  # fails when N = 1")
    result = suite.runpytest("--impl", str(folder), "--function", "rnn_step")
    out = result.stdout.str()
    assert "rnn_step raised an error: IndexError: tuple index out of range" in out
    assert "It happened on the inputs of seed 0, with N = 1, D = 4, H = 6 (size 1 of the " in out
    (code,) = reproduce_blocks(out.split("test_rnn_step_returns_the_right_types_and_shapes")[1])[:1]
    assert "make_inputs('rnn_step', seed=0, N=1)" in code
    pasted = paste(code, root)
    assert pasted.stderr.strip().splitlines()[-1] == "IndexError: tuple index out of range"


def test_snippets_import_what_they_use_from_where_the_student_works():
    call = ("from autograder.inputs import make_inputs\nx = make_inputs('mean_pool', seed=0)\n"
            "z = np.zeros(3)  # rnn_forward in a comment is not a call\nmean_pool(x)")
    assert snippet(call).splitlines() == [
        "import numpy as np", "from exercises.feedforward import mean_pool",
        "from autograder.inputs import make_inputs", "(x,) = make_inputs('mean_pool', seed=0)",
        "z = np.zeros(3)  # rnn_forward in a comment is not a call", "mean_pool(x)"]
    in_notebook = snippet("rnn_step(x_t, h_prev, Wx, Wh, b)", LocalImpl({}))
    assert in_notebook.splitlines()[0].startswith("# rnn_step is defined in your notebook: paste these lines into a")
    recall = snippet("from exercises.memory import make_recall_task\nx, bits = make_recall_task(32, 1000, seed=61)\n"
                     "hs = lstm_forward(x, np.zeros((32, 1)), np.zeros((32, 1)), Wx, Wh, b)")
    assert recall.splitlines()[:3] == ["import numpy as np", "from exercises.lstm import lstm_forward",
                                       "from exercises.memory import make_recall_task"]
