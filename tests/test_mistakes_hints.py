"""EXCEPTION_HINTS names the cause of the errors students' code raises, and only those.

The messages are made here by numpy and Python themselves (the installed versions), not
copied, so a change in their wording shows up as a failure. Each new hint must fire on
its error and must not take over an error that an older, fitting hint explains.
"""
import numpy as np
import pytest

from autograder.feedback import EXCEPTION_HINTS, exception_hint
from solutions._validate import check_arrays

HINTS = dict(EXCEPTION_HINTS)
A = np.ones((3, 4))


def message_of(action):
    """'<Type>: <message>', as the worker reports an exception."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("expected an error")


def _unassigned_sum():
    total = None
    total += A  # noqa: F841


def _unpack(value):
    h, c = value  # noqa: F841


NOTHING = None  # a cache never filled in


RAISED = {
    # a size-1 axis squeezed away: x_t (N, 1) -> (N,), then x_t @ Wx with Wx (1, H)
    "squeezed x_t @ Wx": (lambda: np.squeeze(np.ones((3, 1))) @ np.ones((1, 6)), "(size 1 is different from"),
    "squeezed h_prev @ Wh": (lambda: np.squeeze(np.ones((3, 1))) @ np.ones((1, 1)), "(size 1 is different from"),
    # the student's own step refusing a squeezed input (the validator's message)
    "1-D x_t into a step": (lambda: check_arrays(x_t=(np.ones(4), "N D")), "; got a 1-D array"),
    # H = Wx.shape[1] / 4
    "float slice": (lambda: A[:, :4 / 2], "slice indices must be integers"),
    "float size": (lambda: np.zeros((3, 8 / 4)), "'float' object cannot be interpreted as an integer"),
    "float range": (lambda: range(8 / 4), "'float' object cannot be interpreted as an integer"),
    # a value left as None
    "None * array": (lambda: None * A, "NoneType"),
    "array * None": (lambda: A * None, "NoneType"),
    "None += array": (_unassigned_sum, "NoneType"),
    "None.T": (lambda: NOTHING.T, "NoneType"),
    "None[:, 0]": (lambda: NOTHING[:, 0], "NoneType"),
    "unpacking None": (lambda: _unpack(NOTHING), "NoneType"),
    "None @ array": (lambda: None @ A, "does not have enough dimensions (has 0,"),
    "array @ None": (lambda: A.T @ None, "does not have enough dimensions (has 0,"),
    # older hints keep their errors
    "weights swapped (D != H)": (lambda: np.ones((3, 4)) @ np.ones((6, 6)), "matmul"),
    "x_t @ Wh with D = 1": (lambda: np.ones((3, 1)) @ np.ones((6, 6)), "matmul"),
    "shapes that do not broadcast": (lambda: np.ones((3, 4)) + np.ones((3, 6)), "could not be broadcast"),
    "indexing a 2-D array three times": (lambda: A[:, 0, 0], "too many indices"),
    "unpacking a number": (lambda: _unpack(1.0), "cannot unpack"),
    "a helper never written": (lambda: eval("helper(1)"), "is not defined"),
}


@pytest.mark.parametrize("case", sorted(RAISED))
def test_each_error_gets_its_hint(case):
    action, needle = RAISED[case]
    message = message_of(action)
    assert exception_hint(message) == HINTS[needle], message


def test_every_hint_has_an_error_here():
    assert {needle for _, needle in RAISED.values()} == set(HINTS)


def test_the_integer_division_hints_say_to_use_floor_division():
    for needle in ("slice indices must be integers", "'float' object cannot be interpreted as an integer"):
        assert "//" in HINTS[needle]


def test_the_squeeze_hints_name_squeeze_and_the_none_hints_name_none():
    assert all("squeeze" in HINTS[n] for n in ("(size 1 is different from", "; got a 1-D array"))
    assert all("None" in HINTS[n] for n in ("NoneType", "does not have enough dimensions (has 0,"))


def test_errors_no_hint_explains_get_none():
    for action in (lambda: 1 / 0, lambda: [][1], lambda: {}["x"]):
        assert exception_hint(message_of(action)) == ""
