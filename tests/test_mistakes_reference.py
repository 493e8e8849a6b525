"""The mistakes added for issue 13 can fail: none of them is named for a correct answer.

A variant in autograder/mistakes.py changes one thing about the reference. A check names
it only for a wrong answer that equals the variant's, so a variant that gave the
reference's own answer on a check's inputs would be useless there at best. Each new one
must differ from the reference on every input its checks build, and the reference's
answer must never be diagnosed as any mistake at all.
(Older variants coincide with the reference where that is expected: pad-front when no
sequence is cut, the lengths mistakes when no row is padded; so this is not asked of them.)
"""
import pytest

from autograder.checks._common import HIDDEN_CASES, PUBLIC_SEEDS, SHAPE_SIZES, SQUARE
from autograder.feedback import diagnose, matches
from autograder.inputs import make_inputs
from autograder.mistakes import MISTAKES
from autograder.reference import LiveReference

#: {key: function} for the mistakes added for issue 13
NEW = {"bptt-carry-not-updated": "rnn_backward", "lstm-bptt-carry-not-updated": "lstm_backward",
       "lstm-bptt-cell-not-updated": "lstm_backward", "gru-bptt-carry-not-updated": "gru_backward"}

#: (seed, sizes) of every make_inputs call the standard checks of a backward pass make
CASES = ([(0, size) for size in SHAPE_SIZES] + [(None, SQUARE), (None, {})] + [(seed, {}) for seed in PUBLIC_SEEDS]
         + [(7, {})] + list(HIDDEN_CASES))


@pytest.fixture(scope="module")
def ref():
    return LiveReference()


def test_the_new_mistakes_are_catalogued_for_their_functions():
    for key, function in NEW.items():
        assert key in {m.key for m in MISTAKES[function]}, key


@pytest.mark.parametrize("key", sorted(NEW))
def test_the_new_mistake_differs_from_the_reference_wherever_it_is_checked(key, ref):
    function = NEW[key]
    (mistake,) = [m for m in MISTAKES[function] if m.key == key]
    for seed, sizes in CASES:
        args = make_inputs(function, seed, **sizes)
        assert not matches(mistake.variant(*args), ref.call(function, args)), (seed, sizes)


@pytest.mark.parametrize("function", sorted(set(NEW.values())))
def test_the_reference_answer_is_never_diagnosed(function, ref):
    for seed, sizes in CASES:
        if sizes.get("T") == 1:
            continue  # one step carries nothing: the older carry and sum mistakes are right there (the shape check)
        args = make_inputs(function, seed, **sizes)
        assert diagnose(ref, function, args, ref.call(function, args)) is None, (seed, sizes)


def test_a_carry_that_is_never_updated_differs_from_one_that_is_not_added(ref):
    """Both give the same dx and weight gradients; only dh0 (zeros, or the step's own dh_prev) tells them apart."""
    args = make_inputs("rnn_backward", 0)
    by_key = {m.key: m.variant(*args) for m in MISTAKES["rnn_backward"]}
    frozen, dropped = by_key["bptt-carry-not-updated"], by_key["bptt-no-carry"]
    assert matches(frozen[0], dropped[0]) and matches(frozen[2:], dropped[2:])
    assert not frozen[1].any() and dropped[1].any()
    assert diagnose(ref, "rnn_backward", args, frozen).key == "bptt-carry-not-updated"
    assert diagnose(ref, "rnn_backward", args, dropped).key == "bptt-no-carry"
