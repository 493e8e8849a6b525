"""Checks for Part 1: why a feedforward network fails on sequences."""
import numpy as np

from ..catalogue import check
from ..feedback import expect
from ..inputs import make_inputs, recipe
from ._common import run_case, standard_checks, values_check

#: Part 1's functions are short, so their value checks weigh less than the template's (issue 17 made room for
#: Part 6 here)
POINTS = {"random": 0.25, "hidden": 0.25}

for _function in ("dense_forward", "flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern",
                  "slotwise_responses", "shared_responses"):
    standard_checks(globals(), _function, points=POINTS)


@check("flatten_sequence", points=0.25, counts_with=values_check("flatten_sequence"))
def test_flatten_sequence_width_grows_with_the_length(impl, ref):
    """The flat width is T * D: a longer sequence needs a wider layer (Part 1, problem 1)."""
    for T in (2, 5, 9):
        (x,) = make_inputs("flatten_sequence", 0, N=2, T=T, D=3)
        got = impl.flatten_sequence(x)
        expect(isinstance(got, np.ndarray) and got.shape == (2, 3 * T), impl, ref, "flatten_sequence",
               f"should return width T * D = {3 * T} for T = {T}; got {getattr(got, 'shape', got)}",
               call=recipe("flatten_sequence", 0, N=2, T=T, D=3))


@check("mean_pool", points=0.5, counts_with=values_check("mean_pool"))
def test_mean_pool_cannot_tell_a_sequence_from_its_reverse(impl, ref):
    """Averaging forgets order: a sequence and its reverse pool to the same vector (Part 1, problem 2)."""
    (x,) = make_inputs("mean_pool", 11, N=3, T=6, D=4)
    forward, backward = impl.mean_pool(x), impl.mean_pool(x[:, ::-1].copy())
    expect(isinstance(forward, np.ndarray) and isinstance(backward, np.ndarray)
           and forward.shape == backward.shape == (3, 4) and np.allclose(forward, backward),
           impl, ref, "mean_pool", "should give the same result for a sequence and its reverse (it averages "
           "over time, so order cannot matter)", call=recipe("mean_pool", 11, N=3, T=6, D=4))


def _rows_differ(impl, ref, function, seed, T, hidden_note=""):
    args = make_inputs(function, seed, N=1, T=T, D=3, H=4)
    got = impl.call(function, args, {})
    call = recipe(function, seed, T=T, D=3, H=4)
    expect(isinstance(got, np.ndarray) and got.shape == (T, 4), impl, ref, function,
           f"should return shape (T, H) = ({T}, 4); got {getattr(got, 'shape', type(got).__name__)}", call=call)
    spread = float(np.max(np.ptp(got, axis=0)))
    if function == "slotwise_responses":
        expect(spread > 1e-3, impl, ref, function, "gave the same response at every position; with separate "
               "weights per slot the responses should differ (each row uses that slot's rows of W)", call=call)
    else:
        expect(spread < 1e-12, impl, ref, function, f"responses differ between positions (by up to {spread:.3g}); "
               "one shared detector must respond the same wherever the pattern is", call=call)


@check("slotwise_responses", points=0.75)
def test_slotwise_responses_differ_between_positions(impl, ref):
    """A dense layer on flattened input has one detector per slot: moving the pattern changes the answer."""
    _rows_differ(impl, ref, "slotwise_responses", 21, 6)


### BEGIN HIDDEN TESTS
@check("slotwise_responses", points=0.5, hidden=True)
def test_slotwise_responses_differ_between_positions_hidden(impl, ref):
    """As above, on other seeds and lengths."""
    for seed, T in ((2101, 3), (2102, 9)):
        _rows_differ(impl, ref, "slotwise_responses", seed, T)
### END HIDDEN TESTS


@check("shared_responses", points=0.75, counts_with=values_check("shared_responses"))
def test_shared_responses_are_equal_at_every_position(impl, ref):
    """One detector reused at every step responds the same wherever the pattern is (the RNN's fix)."""
    _rows_differ(impl, ref, "shared_responses", 22, 6)


### BEGIN HIDDEN TESTS
@check("shared_responses", points=0.5, hidden=True, counts_with=values_check("shared_responses"))
def test_shared_responses_are_equal_at_every_position_hidden(impl, ref):
    """As above, on other seeds and lengths."""
    for seed, T in ((2201, 4), (2202, 11)):
        _rows_differ(impl, ref, "shared_responses", seed, T)
### END HIDDEN TESTS


@check("pad_or_truncate", points=0.5)
def test_pad_or_truncate_cuts_the_tail_of_a_long_sequence(impl, ref):
    """A sequence longer than T_fixed keeps its first T_fixed steps."""
    run_case(impl, ref, "pad_or_truncate", 9, T=6, T_fixed=3)
