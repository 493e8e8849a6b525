"""--function NAME: the checks of exactly one exercise function (issue 13)."""
import pytest

from autograder.catalogue import all_checks
from autograder.runner import function_names, only_functions

#: imported before any in-process pytester run (see test_plugin.py)
CHECKS = all_checks()

pytest_plugins = ["pytester"]

CATALOGUE = ("from autograder.checks.rnn import *  # noqa\nfrom autograder.checks.lstm import *  # noqa\n"
             "from autograder.checks.bptt import *  # noqa\n")


@pytest.fixture
def suite(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")
    pytester.makepyfile(test_checks=CATALOGUE)
    return pytester


def selected(suite, *args):
    """The names of the checks a run with `args` would run (--collect-only lists what survives deselection)."""
    result = suite.runpytest("--impl", "solutions", "--collect-only", "-q", *args)
    return {line.split("::")[1] for line in result.stdout.lines if line.startswith("test_checks.py::")}


def public(*functions):
    return {c.name for c in CHECKS if c.function in functions and c.visibility == "public"
            and c.module in ("rnn", "lstm", "bptt")}


def test_function_keeps_exactly_that_functions_checks_where_k_matches_more(suite):
    by_k = selected(suite, "-k", "rnn_step")
    assert {"test_rnn_step_backward_returns_the_right_types_and_shapes",
            "test_rnn_forward_equals_stepping_rnn_step"} <= by_k  # -k matches the name anywhere, and still works
    assert selected(suite, "--function", "rnn_step") == public("rnn_step") != by_k
    both = public("rnn_step", "lstm_step", "sigmoid")
    assert selected(suite, "--function", "rnn_step,lstm_step", "--function", "sigmoid") == both
    assert selected(suite, "--function", "rnn_step", "-k", "fixed") == {
        "test_rnn_step_matches_the_reference_on_fixed_inputs"}


def test_function_can_be_set_in_the_ini_file_and_the_command_line_wins(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n"
                     "rnn_function = lstm_gates, sigmoid\n")
    pytester.makepyfile(test_checks=CATALOGUE)
    assert selected(pytester) == public("lstm_gates", "sigmoid")
    assert selected(pytester, "--function", "rnn_readout") == public("rnn_readout")


def test_held_back_points_and_the_header_count_only_the_chosen_function(suite):
    result = suite.runpytest("--impl", "solutions", "--function", "rnn_step", "--collect-only", "-q")
    hidden = sum(c.points for c in CHECKS if c.function == "rnn_step" and c.visibility == "hidden")
    result.stdout.fnmatch_lines([f"rnn-kit self-check: implementation = solutions; {len(public('rnn_step'))} public "
                                 f"checks; {hidden:g} points held back in hidden checks; only the checks of rnn_step "
                                 f"(--function)"])


def test_an_unknown_name_is_a_usage_error_with_near_matches(suite):
    typo = suite.runpytest("--impl", "solutions", "--function", "rnn_stpe")
    assert typo.ret == pytest.ExitCode.USAGE_ERROR
    typo.stderr.fnmatch_lines(["ERROR: --function: there is no exercise function called 'rnn_stpe'; "
                               "near matches: rnn_step*"])
    part = suite.runpytest("--impl", "solutions", "--function", "rnn_step,lstm")
    assert part.ret == pytest.ExitCode.USAGE_ERROR
    part.stderr.fnmatch_lines(["ERROR: --function: 'lstm' is a part of the lesson (lstm.py), not a function; name "
                               "one of its functions (sigmoid, lstm_gates, lstm_step, lstm_forward), or run the whole "
                               "part with -k lstm"])


def test_the_same_choice_is_available_without_pytest():
    assert function_names(["rnn_step, lstm_step", "rnn_step"]) == ("rnn_step", "lstm_step")
    assert {c.name for c in only_functions(CHECKS, ["rnn_step"])} == {
        c.name for c in CHECKS if c.function == "rnn_step"}
    with pytest.raises(ValueError, match="near matches: gru_gates"):
        function_names(["gru_gate"])
    with pytest.raises(ValueError, match=r"The functions are feedforward\.py: dense_forward, "):
        function_names(["zzz"])
