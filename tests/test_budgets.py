"""Budgets a student cannot stretch: CPU seconds for training, a wall-clock cap per submission.

A score must not depend on how busy the machine is, so the training checks count the CPU
seconds the student's code used (the kernel's count, read by the fork server), never wall
time; and a submission that waits just under the per-call timeout on every call is cut
off by one budget for all its calls together.
"""
import textwrap
import time

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


def test_a_looping_function_costs_its_timeout_once_across_the_public_and_hidden_phases(monkeypatch):
    """jon's gru_step loops: it times out once in the public phase, and the hidden phase (a fresh worker) skips
    it with the same message instead of waiting for it again; the score is the one expected.json records."""
    import json

    from autograder.grading import grade
    from autograder.sandbox import client

    timeouts, exchange = [], client.WorkerImpl._exchange

    def counted(self, proc, header, blobs, limit, **kwargs):
        try:
            return exchange(self, proc, header, blobs, limit, **kwargs)
        except TimeoutError:
            timeouts.append((header.get("function"), limit))  # a call that ran out of its time
            raise

    monkeypatch.setattr(client.WorkerImpl, "_exchange", counted)
    graded = grade(kit.ROOT / "examples" / "class" / "jon", timeout=2.0)
    assert timeouts.count(("gru_step", 2.0)) == 1, timeouts
    hidden = [r for r in graded.results if r.function == "gru_step" and r.visibility == "hidden"]
    assert hidden and all("gru_step did not finish within 2 s" in r.message for r in hidden)
    expected = json.loads((kit.ROOT / "examples" / "class" / "expected.json").read_text())["jon"]
    assert graded.score == expected["total"]


def _slow_answers(monkeypatch, seconds):
    """Every stand-in question takes `seconds` to answer here, as on a machine busy with other work."""
    answer = WorkerImpl._stand_in

    def slow(self, header, blobs):
        time.sleep(seconds)
        return answer(self, header, blobs)
    monkeypatch.setattr(WorkerImpl, "_stand_in", slow)


def test_the_time_the_grader_takes_to_answer_for_a_stand_in_is_not_the_callers(monkeypatch):
    """ivy's lstm_step stops the worker, so the reference answers for it at each of lstm_forward's 40 steps.
    Answers that take 50 ms each (2 s in all) do not push a call with a 1 s limit over it: only the worker's
    own stretches between questions are held to the limit, so a busy machine cannot turn them into a timeout."""
    from autograder.feedback import matches
    from autograder.inputs import make_inputs

    crashing = reference_with("lstm", "import os", "lstm_step", "os._exit(3)")
    _slow_answers(monkeypatch, 0.05)
    ref = LiveReference()
    args = make_inputs("lstm_forward", 0, T=40)
    with WorkerImpl(crashing, timeout=1.0) as impl:
        impl.reference = ref
        got = impl.call("lstm_forward", args, {})
        assert impl.replaced == [("lstm_forward", ("lstm_step",))]
        assert impl.spent > 2.0
    assert matches(got, ref.call("lstm_forward", args))


def test_a_call_that_loops_around_its_stand_ins_is_stopped_at_its_whole_allowance(monkeypatch):
    """lstm_forward calls lstm_step (answered by the reference) forever: stopped after 10 times its limit. The
    call shows its own failure (lstm_step stops the worker), as for any call that fails with the stand-ins too."""
    from autograder.inputs import make_inputs
    from autograder.sandbox.client import WorkerCrashed

    looping = reference_with("lstm", "import os", "lstm_step", "os._exit(3)")
    looping = reference_with_source(looping, "lstm", "def lstm_forward(", "    while True:\n"
                                    "        lstm_step(x[:, 0], h0, c0, Wx, Wh, b)\n")
    with WorkerImpl(looping, timeout=0.3) as impl:
        impl.reference = LiveReference()
        started = time.monotonic()
        with pytest.raises(WorkerCrashed):
            impl.call("lstm_forward", make_inputs("lstm_forward", 0), {})
        assert 3.0 <= time.monotonic() - started < 3.0 + 5.0  # the allowance, plus the probes before it
        with_stand_ins = impl._helpers[("lstm_step",)].given_up["lstm_forward"]
        assert "did not finish within 3 s while the reference answered for functions it calls" in \
            with_stand_ins.message


def reference_with_source(submission, module, head, body):
    """`submission` with the body of the function that starts with `head` in `module` replaced by `body`."""
    source, name = submission.modules[module]
    at = source.index(head)
    start = source.index("### BEGIN SOLUTION", at)
    start = source.index("\n", start) + 1
    end = source.index("### END SOLUTION", start)
    end = source.rindex("\n", 0, end) + 1
    return Submission("budget", {**submission.modules, module: (source[:start] + body + source[end:], name)})
