"""The pytest plugin end to end, through pytest's own pytester."""
import json

import pytest

from autograder.catalogue import all_checks

#: imported here, before any in-process pytester run: pytester restores sys.modules after each run, and a
#: check module imported again would register its checks a second time
CHECKS = all_checks()

pytest_plugins = ["pytester"]

CATALOGUE = "from autograder.checks.rnn import *  # noqa\nfrom autograder.checks.lstm import *  # noqa\n"


@pytest.fixture(autouse=True)
def quick(pytester):
    """The plugins the kit's pyproject.toml blocks, blocked in the inner runs too (loading them only costs time)."""
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_checks=CATALOGUE)
    return pytester


def test_checks_carry_exercise_points_and_visibility_markers(suite):
    items, _ = suite.inline_genitems("--impl", "solutions", "--rnn-hidden")
    assert items
    for item in items:
        module, function = item.get_closest_marker("exercise").args
        assert module in ("rnn", "lstm") and function
        assert item.get_closest_marker("points").args[0] > 0
        assert item.get_closest_marker("visibility").args[0] in ("public", "hidden")


def test_the_reference_passes_and_the_summary_and_json_are_written(suite):
    result = suite.runpytest("--impl", "solutions", "-k", "rnn_step", "--rnn-json", "score.json")
    result.assert_outcomes(passed=6, deselected=result.parseoutcomes()["deselected"])
    step = [c for c in CHECKS if "rnn_step" in c.name and c.module in ("rnn", "lstm")]  # what -k selects
    public = sum(c.points for c in step if c.visibility == "public")
    result.stdout.fnmatch_lines(["*rnn-kit self-check: implementation = solutions; 6 public checks*",
                                 "*rnn-kit score*", f"*rnn * {public:.2f} / {public:.2f}*",
                                 "*Every check run here passed.*"])
    data = json.loads((suite.path / "score.json").read_text())
    assert data["score"] == data["max_score"] == public
    assert data["held_back"] == sum(c.points for c in step if c.visibility == "hidden") > 0
    assert {c["status"] for c in data["checks"]} == {"passed"}


def test_hidden_checks_run_only_when_asked(suite):
    public = suite.runpytest("--impl", "solutions", "-k", "rnn_step").parseoutcomes()
    everything = suite.runpytest("--impl", "solutions", "-k", "rnn_step", "--rnn-hidden").parseoutcomes()
    assert everything["passed"] == public["passed"] + 1


def test_the_skeleton_reports_not_implemented_with_no_grader_traceback(suite):
    result = suite.runpytest("--impl", "exercises", "-k", "lstm_step")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 5 and "passed" not in outcomes
    out = result.stdout.str()
    assert "not implemented yet: lstm_step: get (i, f, g, o) from lstm_gates" in out
    assert "Traceback" not in out and "autograder/" not in out and "def test_" not in out
    result.stdout.fnmatch_lines(["*Next thing to fix: lstm_step (lstm.py)*"])


def test_a_wrong_answer_names_the_input_the_error_and_the_likely_mistake(suite, tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    from autograder import kit
    text = (kit.SOLUTIONS / "rnn.py").read_text().replace(
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)", "return np.tanh(x_t @ Wx + h_prev @ Wh)")
    (student / "rnn.py").write_text(text)
    result = suite.runpytest("--impl", str(student), "-k", "rnn_step_matches_the_reference_on_fixed")
    result.assert_outcomes(failed=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines([
        "*rnn_step returned an array with wrong values: the largest error is at index*",
        "*To reproduce (paste into Python):*",
        "*x_t, h_prev, Wx, Wh, b = make_inputs('rnn_step', seed=None, N=4, D=4, H=4)*",
        "*Likely cause: the bias b is missing*",
    ])


def test_the_kit_suite_header_names_the_self_check_command(pytester):
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*this is the kit's own test suite. To check your exercises run: pytest exercises*"])


def test_the_header_names_the_training_checks_and_how_to_leave_them_out(pytester):
    pytester.makepyfile(test_checks="from autograder.checks.bptt import *  # noqa\n")
    with_training = pytester.runpytest("--impl", "solutions", "-k", "rnn_backward")
    with_training.stdout.fnmatch_lines(["*rnn-kit: 1 training check(s) train your cells*-k 'not trains'*"])
    with_training.assert_outcomes(passed=len([c for c in CHECKS if c.function == "rnn_backward"
                                              and c.visibility == "public"]),
                                  deselected=with_training.parseoutcomes()["deselected"])
    without = pytester.runpytest("--impl", "solutions", "-k", "rnn_backward and not trains")
    assert "training check" not in without.stdout.str()
    without.assert_outcomes(passed=with_training.parseoutcomes()["passed"] - 1,
                            deselected=without.parseoutcomes()["deselected"])
