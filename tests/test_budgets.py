"""Budgets a student cannot stretch: CPU seconds for training, a wall-clock cap per submission.

A score must not depend on how busy the machine is, so the training checks count the CPU
seconds the student's code used (the kernel's count, read by the fork server), never wall
time; and a submission that waits just under the per-call timeout on every call is cut
off by one budget for all its calls together.
"""
import textwrap

import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.checks import bptt as bptt_checks
from autograder.sandbox.client import Submission, WorkerImpl
from autograder.reference import LiveReference
from autograder.runner import run_checks

GRU_TRAINING = "test_gru_backward_trains_a_gru_to_recall_across_70_steps"


def reference_with(module, prelude, function, first_line):
    """The reference modules, with `first_line` run at the start of `function` in `module`."""
    modules = {m: ((kit.SOLUTIONS / f"{m}.py").read_text(), f"{m}.py") for m in kit.MODULES}
    source, name = modules[module]
    head = f"def {function}("
    at = source.index(head)
    body = source.index("### BEGIN SOLUTION", at)
    line_end = source.index("\n", body)
    source = prelude + "\n" + source[:line_end + 1] + f"    {first_line}\n" + source[line_end + 1:]
    modules[module] = (source, name)
    return Submission("budget", modules)


def training_result(submission, monkeypatch, budget, ahead=False):
    """The GRU training check's result, and the CPU and wall seconds the submission's calls took in all.
    ahead=True: trained beside the run, in a worker of its own (checks/bptt.train_ahead), as a self-check does."""
    monkeypatch.setattr(bptt_checks, "TRAIN_BUDGET", budget)
    check = next(c for c in all_checks() if c.name == GRU_TRAINING)
    with WorkerImpl(submission, timeout=10.0) as impl:
        (result,) = run_checks(impl, [check], ref=LiveReference(), ahead=ahead)
        assert (("training", "gru") in impl._helpers) == ahead
        return result, impl.cpu_seconds(), impl.spent


@pytest.mark.parametrize("ahead", [False, True], ids=["in-order", "ahead"])
def test_waiting_costs_no_training_budget_because_cpu_seconds_are_counted(monkeypatch, ahead):
    """gru_backward sleeps 100 ms per call: more wall time than a 2.5 s budget, yet it passes (about 30 updates)."""
    sleepy = reference_with("bptt", "import time", "gru_backward", "time.sleep(0.1)")
    result, cpu, wall = training_result(sleepy, monkeypatch, budget=2.5, ahead=ahead)
    assert wall > 2.5 > cpu, (wall, cpu)
    assert result.passed, result.message


@pytest.mark.parametrize("ahead", [False, True], ids=["in-order", "ahead"])
def test_burning_cpu_runs_out_of_the_training_budget_and_says_so(monkeypatch, ahead):
    """gru_backward spins for 100 ms of CPU per call: the same 2.5 s budget runs out, and the message says CPU."""
    busy = reference_with("bptt", "import time", "gru_backward",
                          "_t = time.process_time()\n    while time.process_time() - _t < 0.1: pass")
    result, cpu, _ = training_result(busy, monkeypatch, budget=2.5, ahead=ahead)
    assert not result.passed and cpu >= 2.5
    assert "used more than 2.5 CPU seconds" in result.message, result.message


def test_one_budget_caps_all_the_calls_of_a_submission_that_waits_on_each():
    """rnn_step sleeps 0.4 s (under the 1 s per-call timeout) on every call: after 2 s in all, no more calls."""
    waiting = reference_with("rnn", "import time", "rnn_step", "time.sleep(0.4)")
    checks = [c for c in all_checks() if c.function in ("rnn_step", "rnn_forward")]
    with WorkerImpl(waiting, timeout=1.0) as impl:
        impl.budget = 2.0
        results = run_checks(impl, checks, ref=LiveReference())
        assert impl.spent < 2.0 + 1.5  # the budget, plus at most one call cut short
    refused = [r for r in results if "the most one submission may use (2 s)" in r.message]
    assert refused and all(not r.passed for r in refused)
    assert textwrap.shorten(refused[0].message, 400).startswith("rnn_")
