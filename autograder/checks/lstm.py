"""Checks for Part 4a: the LSTM."""
import warnings

import numpy as np

from ..catalogue import check
from ..feedback import difference, expect, failure
from ..sandbox.client import CallFailed
from ..inputs import make_inputs, recipe
from ._common import HIDDEN_ROWS, PUBLIC_ROWS, RECALL_CALL, RECALL_GAP, readout_accuracy, recall_batch, standard_checks

standard_checks(globals(), "sigmoid", saturate=True)
standard_checks(globals(), "lstm_gates", saturate=True)
standard_checks(globals(), "lstm_step", saturate=True)
standard_checks(globals(), "lstm_forward")


@check("sigmoid", points=1.0)
def test_sigmoid_is_stable_at_extreme_inputs(impl, ref):
    """sigmoid(+-1e4) is exactly 1 and 0 with no overflow warning, and sigmoid(-z) = 1 - sigmoid(z)."""
    z = np.array([[-1e4, -1e3, -40.0, -1.5, 0.0, 1.5, 40.0, 1e3, 1e4]])
    call = "z = np.array([[-1e4, -1e3, -40.0, -1.5, 0.0, 1.5, 40.0, 1e3, 1e4]])\nsigmoid(z)"
    got = impl.sigmoid(z)
    if impl.last.warnings:
        raise failure(impl, ref, "sigmoid", f"raised a warning: {impl.last.warnings[0]}. For z < 0 use "
                      f"exp(z) / (1 + exp(z)), so exp never sees a large positive number", call=call)
    problem = difference(got, ref.call("sigmoid", (z,)), "sigmoid")
    if problem:
        raise failure(impl, ref, "sigmoid", problem, call=call, args=(z,), got=got)
    expect(got[0, 0] == 0.0 and got[0, -1] == 1.0, impl, ref, "sigmoid",
           f"should give exactly 0.0 at -1e4 and 1.0 at +1e4; got {got[0, 0]!r} and {got[0, -1]!r}", call=call)
    mirrored = impl.sigmoid(-z)
    expect(isinstance(mirrored, np.ndarray) and np.allclose(mirrored, 1.0 - got, atol=1e-12), impl, ref,
           "sigmoid", "is not symmetric: sigmoid(-z) should equal 1 - sigmoid(z)", call=call)


def _gate_ranges(impl, ref, function, names, tanh_names, seed):
    for scale in (1.0, 1e3):
        args = make_inputs(function, seed, scale=scale)
        call = recipe(function, seed, scale=scale)
        got = impl.call(function, args, {})
        expect(isinstance(got, (tuple, list)) and len(got) == len(names), impl, ref, function,
               f"should return the tuple ({', '.join(names)})", call=call)
        for name, value in zip(names, got):
            low = -1.0 if name in tanh_names else 0.0
            ok = isinstance(value, np.ndarray) and np.all(np.isfinite(value)) and np.all((value >= low) & (value <= 1.0))
            expect(ok, impl, ref, function,
                   f"returned gate {name} outside [{low:g}, 1] (or not finite): "
                   f"{'sigmoid' if low == 0 else 'tanh'} belongs there", call=call)
            if scale == 1.0:  # a squashed pre-activation varies with the input: a constant gate is not computed
                expect(float(np.ptp(value)) > 0.0, impl, ref, function,
                       f"returned gate {name} with the same value everywhere; it is "
                       f"{'sigmoid' if low == 0 else 'tanh'} of x_t @ Wx + h @ Wh + b, which varies", call=call)


@check("lstm_gates", points=0.5)
def test_lstm_gates_lie_in_their_ranges(impl, ref):
    """i, f and o are in [0, 1] (sigmoids) and g is in [-1, 1] (tanh), even for huge inputs."""
    _gate_ranges(impl, ref, "lstm_gates", ("i", "f", "g", "o"), ("g",), 51)


@check("lstm_step", points=1.0, counts_with="test_lstm_step_matches_the_reference_on_fixed_inputs")
def test_lstm_step_agrees_with_your_lstm_gates(impl, ref):
    """lstm_step is built from lstm_gates: c_t = f * c_prev + i * g and h_t = o * tanh(c_t)."""
    args = make_inputs("lstm_step", 52)
    x_t, h_prev, c_prev, Wx, Wh, b = args
    call = recipe("lstm_step", 52)
    step = impl.lstm_step(*args)
    try:
        gates = impl.lstm_gates(x_t, h_prev, Wx, Wh, b)
    except CallFailed:  # no lstm_gates of theirs (an lstm_step written without it): the reference's gates then
        gates = ref.call("lstm_gates", (x_t, h_prev, Wx, Wh, b))
    if not (isinstance(gates, (tuple, list)) and len(gates) == 4 and all(isinstance(g, np.ndarray) for g in gates)):
        gates = ref.call("lstm_gates", (x_t, h_prev, Wx, Wh, b))  # this check is about lstm_step, not lstm_gates
    i, f, g, o = (np.asarray(v, dtype=np.float64) for v in gates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c_t = f * c_prev + i * g
        h_t = o * np.tanh(c_t)
    problem = difference(step, (h_t, c_t), "lstm_step")
    if problem:
        raise failure(impl, ref, "lstm_step", f"disagrees with your own lstm_gates: from them, c_t = f * c_prev "
                      f"+ i * g and h_t = o * tanh(c_t), but lstm_step {problem}", call=call, args=args, got=step)


def recall_check(impl, ref, function, rows):
    """The submission's forward, with the reference latch weights, recalls the bit after 1,000 distractors."""
    x, bits = recall_batch(ref)
    n = x.shape[0]
    h0 = np.zeros((n, 1))
    if function == "lstm_forward":
        Wx, Wh, b, Wy, by = ref.call("latch_lstm_params", ())
        call = RECALL_CALL + ("Wx, Wh, b, Wy, by = latch_lstm_params()  # the check hands you the reference's "
                              "latch weights; yours give the same once they pass\n"
                              "hs, cs = lstm_forward(x, np.zeros((len(x), 1)), np.zeros((len(x), 1)), Wx, Wh, b)")
        out = impl.lstm_forward(x, h0, h0, Wx, Wh, b)
        hs = out[0] if isinstance(out, (tuple, list)) and out else out
    else:
        Wx, Wh, bx, bh, Wy, by = ref.call("latch_gru_params", ())
        call = RECALL_CALL + ("Wx, Wh, bx, bh, Wy, by = latch_gru_params()  # the check hands you the reference's "
                              "latch weights; yours give the same once they pass\n"
                              "hs = gru_forward(x, np.zeros((len(x), 1)), Wx, Wh, bx, bh)")
        hs = impl.gru_forward(x, h0, Wx, Wh, bx, bh)
    if not (isinstance(hs, np.ndarray) and hs.shape == (n, RECALL_GAP + 2, 1)):
        raise failure(impl, ref, function, f"returned {getattr(hs, 'shape', type(hs).__name__)} where states "
                      f"of shape {(n, RECALL_GAP + 2, 1)} are due", call=call)
    accuracy = readout_accuracy(hs[rows, -1], Wy, by, bits[rows])
    count = rows.stop - rows.start
    expect(accuracy == 1.0, impl, ref, function,
           f"with hand-set latch weights recalled the bit in only {accuracy:.0%} of {count} sequences (rows "
           f"{rows.start}-{rows.stop - 1}) after {RECALL_GAP} distractors (the reference recalls 100%): the "
           f"stored value leaks away or gets overwritten", call=call)


@check("lstm_forward", points=1.5)
def test_lstm_forward_recalls_a_bit_after_1000_distractors(impl, ref):
    """Given latch weights, your LSTM keeps a bit through 1,000 steps of noise (Part 4)."""
    recall_check(impl, ref, "lstm_forward", PUBLIC_ROWS)


### BEGIN HIDDEN TESTS
@check("lstm_forward", points=1.0, hidden=True)
def test_lstm_forward_recalls_a_bit_after_1000_distractors_hidden(impl, ref):
    """As above, on another draw of the task."""
    recall_check(impl, ref, "lstm_forward", HIDDEN_ROWS)
### END HIDDEN TESTS
