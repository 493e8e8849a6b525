"""Part 6: what the reference shows, and how the kit grades a projection left inside the loop.

* attention recalls the bit across 1,000 and 10,000 distractors, where Part 3's contractive
  RNN is at chance: its final state is the same, to the last bit, whichever bit was written;
* attention is blind to the order of the steps, as mean_pool is, while the RNN is not;
* a hoisted RNN that still projects inside its loop keeps every point and is told so, once,
  in the check's message, in the score summary and in the pytest self-check.
"""
import shutil

import numpy as np
import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.checks import stepping as checks_of_part_6
from autograder.grading import grade
from autograder.runner import format_summary, summary
from autograder.sample_class import _student_code, reference
from solutions import feedforward, memory, rnn, stepping

#: imported before any in-process pytester run (see test_plugin.py)
CHECKS = all_checks()
HOISTED = [c for c in CHECKS if c.function == "rnn_forward_hoisted" and c.visibility == "public"]
AGREES = "test_rnn_forward_hoisted_agrees_with_your_rnn_forward"
pytest_plugins = ["pytester"]


def test_the_checks_know_the_kinds_the_reference_counts_for():
    assert checks_of_part_6.READERS == stepping.READERS


def test_attention_recalls_every_bit_across_1000_and_10000_distractors_where_the_contractive_rnn_is_at_chance():
    Wx, Wh, b = memory.contractive_rnn_params(3, 8, gain=0.5, seed=0)
    seen = {}
    for gap in (10, 1000, 10000):
        x, bits = memory.make_recall_task(16, gap, seed=7)
        assert np.array_equal(stepping.attention_recall(x), bits), gap
        flipped = x.copy()
        flipped[:, 0, 0] *= -1  # the same sequences with the other bit written
        h0 = np.zeros((16, 8))
        seen[gap] = np.abs(rnn.rnn_forward(x, h0, Wx, Wh, b)[:, -1] - rnn.rnn_forward(flipped, h0, Wx, Wh, b)[:, -1])
    assert seen[10].max() > 1e-6  # across 10 steps the RNN's state still carries a trace of the bit
    # across 1,000 and 10,000 it carries none: the state for bit 0 and for bit 1 is the same float64 vector, so any
    # readout of it gives both sequences of each pair the same answer, right for exactly one of them: chance
    assert seen[1000].max() == 0.0 and seen[10000].max() == 0.0


def test_attention_like_mean_pool_cannot_tell_when_the_bit_was_written_but_the_rnn_can():
    x, bits = memory.make_recall_task(16, 30, seed=8)
    shuffled = checks_of_part_6.shuffled_before_the_query(x, 8)
    assert not np.array_equal(shuffled, x) and np.array_equal(shuffled[:, -1], x[:, -1])
    assert np.array_equal(np.sort(shuffled, axis=1), np.sort(x, axis=1))  # the same steps, in another order
    assert np.array_equal(stepping.attention_recall(shuffled), stepping.attention_recall(x))
    np.testing.assert_allclose(feedforward.mean_pool(shuffled), feedforward.mean_pool(x), rtol=1e-12, atol=1e-12)
    Wx, Wh, b = memory.contractive_rnn_params(3, 8, gain=0.9, seed=1)
    h0 = np.zeros((16, 8))
    assert not np.allclose(rnn.rnn_forward(x, h0, Wx, Wh, b)[:, -1], rnn.rnn_forward(shuffled, h0, Wx, Wh, b)[:, -1])


def test_the_hoisted_loop_gives_rnn_forwards_states_and_the_chain_is_counted_not_the_work():
    from autograder.inputs import make_inputs

    args = make_inputs("rnn_forward_hoisted", 3, lengths="mixed", N=5, T=9)
    np.testing.assert_allclose(stepping.rnn_forward_hoisted(*args), rnn.rnn_forward(*args), rtol=1e-12, atol=1e-12)
    assert [stepping.sequential_steps(kind, 1000) for kind in stepping.READERS] == [1, 1000, 1]


INSIDE = (("    P = project_inputs(x, Wx, b)  # (N, T, H): all the work that does not wait for h\n", ""),
          ("np.tanh(P[:, t] + h @ Wh)", "np.tanh(x[:, t] @ Wx + b + h @ Wh)"))
STEPS_WITH_RNN_STEP = (("from ._validate import", "from .rnn import rnn_step\nfrom ._validate import"),
                       ("    P = project_inputs(x, Wx, b)  # (N, T, H): all the work that does not wait for h\n", ""),
                       ("np.tanh(P[:, t] + h @ Wh)", "rnn_step(x[:, t], h, Wx, Wh, b)"))


def hand_in(folder, *changes):
    """rnn.py and stepping.py as a student hands them in, stepping.py with `changes`."""
    folder.mkdir(parents=True)
    (folder / "rnn.py").write_text(_student_code(reference("rnn")))
    text = _student_code(reference("stepping"))
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "stepping.py").write_text(text)
    return folder


@pytest.mark.parametrize("changes, says", [(INSIDE, "never calls project_inputs"),
                                           (STEPS_WITH_RNN_STEP, "steps with your rnn_step")],
                         ids=["projection-in-the-loop", "steps-with-rnn_step"])
def test_a_projection_left_inside_the_loop_keeps_every_point_and_is_pointed_out_once(tmp_path, changes, says):
    results = grade(hand_in(tmp_path / "student", *changes), checks=HOISTED).results
    assert [(r.name, r.status) for r in results if r.score != r.points] == []
    noted = [r.name for r in results if "Note (no points lost)" in r.message]
    assert noted == [AGREES]
    message = next(r.message for r in results if r.name == AGREES)
    assert says in message and "P = project_inputs(x, Wx, b) once" in message
    shown = format_summary(summary(results))
    assert "Notes, no points lost:" in shown and says in shown
    assert "What cost points" not in shown


def test_a_hoisted_loop_that_uses_project_inputs_gets_no_note(tmp_path):
    results = grade(hand_in(tmp_path / "student"), checks=HOISTED).results
    assert all(r.passed and not r.message for r in results)
    assert "Notes" not in format_summary(summary(results))


def test_the_self_check_prints_the_note_after_the_score(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")
    pytester.makepyfile(test_checks="from autograder.checks.stepping import *  # noqa\n")
    folder = pytester.path / "work" / "exercises"
    hand_in(folder, *INSIDE)
    for name in ("__init__.py", "_validate.py"):
        shutil.copy(kit.EXERCISES / name, folder / name)
    result = pytester.runpytest("--impl", str(folder), "--function", "rnn_forward_hoisted")
    assert result.ret == pytest.ExitCode.OK
    out = result.stdout.str()
    assert "Notes, no points lost:" in out and "rnn_forward_hoisted never calls project_inputs" in out
    assert out.index("rnn-kit score") < out.index("Notes, no points lost:")


def test_minus_k_with_a_parts_name_selects_every_check_of_that_part(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:anyio\n")
    pytester.makepyfile(test_checks="from autograder.checks.stepping import *  # noqa\n"
                                    "from autograder.checks.rnn import *  # noqa\n")
    result = pytester.runpytest("--impl", "exercises", "-k", "stepping", "--collect-only", "-q")
    selected = {line.split("::")[-1] for line in result.stdout.lines if "::test_" in line}
    part_6 = {c.name for c in CHECKS if c.module == "stepping" and c.visibility == "public"}
    # and the one check of Part 2 with the word in its name
    assert selected == part_6 | {"test_rnn_forward_equals_stepping_rnn_step"}
