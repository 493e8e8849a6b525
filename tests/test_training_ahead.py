"""Training side by side (checks/bptt.train_ahead) gives exactly what training in order gives.

A self-check on a machine with cores to spare starts every training check's training at
once, each cell in a worker of its own, while the other checks run. The claim is that this
changes only the wall time: every result, message, printed line, call count and failure
record is the one the in-order run produces. Each submission below is run both ways.
"""
import json

import pytest
from test_budgets import reference_with

from autograder.catalogue import all_checks
from autograder.reference import LiveReference
from autograder.runner import run_checks
from autograder.sandbox.client import Submission, WorkerImpl
from autograder import kit

pytest_plugins = ["pytester"]

TRAINING = [c for c in all_checks() if c.group == "training"]
#: what comes after the training checks in a run, and calls the same backward functions
LATER = [c for c in all_checks() if c.function in ("rnn_backward", "gru_backward") and c.group != "training"
         and c.visibility == "public"][:4]

LONG = "if x.shape[1] > 8:"  # the training sequences are 12 and 72 steps long; every other input is shorter
SUBMISSIONS = {
    "reference": Submission("reference", {m: ((kit.SOLUTIONS / f"{m}.py").read_text(), f"{m}.py")
                                          for m in kit.MODULES}),
    # right on every small input, so it trains, and prints on every training call
    "prints while training": reference_with("bptt", "", "rnn_backward",
                                            f"{LONG} print('backward on', x.shape)"),
    # right on small inputs, wrong on the training sequences: the RNN never learns, from either seed. (A wrong
    # backward alone is not enough at gap 10: Adam trains the readout of whatever states the cell gives.)
    "wrong on long sequences": reference_with("rnn", "import numpy as np", "rnn_forward",
                                              f"{LONG} return np.zeros((x.shape[0], x.shape[1], Wh.shape[0]))"),
    # the worker dies in the middle of training
    "crashes while training": reference_with("bptt", "import os", "gru_backward", f"{LONG} os._exit(3)"),
    # wrong on small inputs already: nothing trains
    "wrong gradients": reference_with("bptt", "", "rnn_backward", "dhs = 2 * dhs"),
    "not written": reference_with("bptt", "", "gru_backward", "raise NotImplementedError('gru_backward')"),
}


def run(submission, ahead):
    printed = []
    with WorkerImpl(submission, timeout=10.0) as impl:
        impl.on_stdout = lambda source, text: printed.append((source, text))
        results = run_checks(impl, [*TRAINING, *LATER], ref=LiveReference(), ahead=ahead)
        trained = sorted(key[1] for key, worker in impl._helpers.items() if worker.beside and worker.settled)
        return {"results": [(r.name, r.status, r.score, r.message) for r in results], "printed": printed,
                "calls": impl.calls, "crashes": impl.crashes, "given up": sorted(impl.given_up)}, trained


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_training_ahead_gives_what_training_in_order_gives(name):
    in_order, none_beside = run(SUBMISSIONS[name], ahead=False)
    ahead, beside = run(SUBMISSIONS[name], ahead=True)
    assert none_beside == []
    assert ahead == in_order
    ready = {r[0] for r in in_order["results"] if "cannot train a cell yet" not in r[3]
             and "not implemented yet" not in r[3]}
    assert beside == sorted(c.function.removesuffix("_backward") for c in TRAINING if c.name in ready)


def test_the_cases_show_what_they_are_meant_to():
    """Each case's in-order run fails (or passes) where its comment says, so the comparison above compares
    every kind of outcome: a pass, printed output, a failure to learn, a crash, not ready, not written."""
    outcome = {name: {r[0]: r for r in run(sub, ahead=False)[0]["results"]} for name, sub in SUBMISSIONS.items()}
    rnn, gru = (next(c.name for c in TRAINING if c.function == f) for f in ("rnn_backward", "gru_backward"))
    assert all(r[1] == "passed" for r in outcome["reference"].values())
    assert outcome["prints while training"][rnn][1] == "passed"
    assert "recalls the bit across 10 distractors in too few new sequences (seed 1:" in \
        outcome["wrong on long sequences"][rnn][3]
    assert outcome["crashes while training"][gru][1] != "passed"
    assert "cannot train a cell yet" in outcome["wrong gradients"][rnn][3]
    assert outcome["not written"][gru][1] != "passed"


def test_the_self_check_scores_the_same_side_by_side_and_in_order(pytester):
    """`pytest exercises` (here bptt's checks) with the default, side by side, and with --rnn-in-order."""
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")
    pytester.makepyfile(test_checks="from autograder.checks.bptt import *  # noqa\n")
    student = pytester.path / "student"
    student.mkdir()
    for module, (source, filename) in SUBMISSIONS["wrong on long sequences"].modules.items():
        (student / filename).write_text(source)
    scores = {}
    for name, flags in (("in-order", ["--rnn-in-order"]), ("ahead", [])):
        result = pytester.runpytest_subprocess("--impl", str(student), "--rnn-json", f"{name}.json",
                                               "-p", "no:cacheprovider", *flags)
        scores[name] = json.loads((pytester.path / f"{name}.json").read_text())
        assert result.ret == 1
    assert scores["ahead"] == scores["in-order"]
    failed = {c["name"] for c in scores["ahead"]["checks"] if c["status"] != "passed"}
    assert {c.name for c in TRAINING if c.function == "rnn_backward"} <= failed  # the run trained, and failed it
    assert not any(c.name in failed for c in TRAINING if c.function != "rnn_backward")
