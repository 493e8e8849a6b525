"""A hand-written tanh that overflows is named as tanh, never blamed on the sigmoid.

(exp(a) - exp(-a)) / (exp(a) + exp(-a)) is inf / inf = nan once |a| passes about 710.
No variant can match an answer holding nan (nan equals nothing), so
`autograder.mistakes.overflow_mistake` reads the cause from where the answer stopped
being finite. These tests run it on the zoo's own buggy code (in a worker, like a
hand-in), on the reference, and on a sigmoid that overflows, which it must leave alone.
"""
import numpy as np
import pytest

from autograder.sandbox.client import WorkerImpl, load_submission
from autograder.inputs import make_inputs
from autograder.mistakes import TANH_OUTPUTS, TANH_OVERFLOW, overflow_mistake
from autograder.reference import LiveReference
from bugzoo_cases import BUGS
from solutions import lstm as L
from test_bugzoo import write_submission

#: the inputs of the saturation checks (autograder/checks/_common.py): seed 5, every array times 1e3
SATURATED = {"seed": 5, "scale": 1e3}


def zoo_entry(name):
    (bug,) = [b for b in BUGS if b.name == name]
    return bug


@pytest.fixture(scope="module")
def ref():
    return LiveReference()


def _answer_of(folder, function):
    """(answer, warnings) of the submission in `folder` on `function`'s saturation inputs."""
    with WorkerImpl(load_submission(str(folder))) as impl:
        got = impl.call(function, make_inputs(function, **SATURATED), {})
        return got, list(impl.last.warnings)


def test_the_zoo_s_hand_written_tanh_is_named_as_tanh(tmp_path, ref):
    folder = write_submission(tmp_path / "tanh", zoo_entry("rnn_step-hand-written-tanh-overflows"))
    got, warnings = _answer_of(folder, "rnn_step")
    assert any("overflow" in w for w in warnings)  # what the saturation check sees first
    mistake = overflow_mistake("rnn_step", got, ref.call("rnn_step", make_inputs("rnn_step", **SATURATED)))
    assert mistake is TANH_OVERFLOW
    assert "np.tanh" in mistake.hint and "not the problem" in mistake.hint


@pytest.mark.parametrize("function", ["lstm_gates", "lstm_step"])
def test_a_sigmoid_that_overflows_is_not_blamed_on_tanh(tmp_path, ref, function):
    folder = write_submission(tmp_path / function, zoo_entry("sigmoid-is-the-naive-formula-that-overflows"))
    got, warnings = _answer_of(folder, function)
    assert warnings  # it overflows, yet its answers are right: the sigmoid advice is the one that fits
    assert overflow_mistake(function, got, ref.call(function, make_inputs(function, **SATURATED))) is None


@pytest.mark.parametrize("function", sorted(f for f in TANH_OUTPUTS if f != "rnn_forward"))
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_reference_is_never_named(ref, function, scale):
    args = make_inputs(function, 5, scale=scale)
    want = ref.call(function, args)
    assert overflow_mistake(function, want, want) is None


def test_a_reference_forward_pass_is_never_named(ref):
    args = make_inputs("rnn_forward", 5, scale=1e3)
    want = ref.call("rnn_forward", args)
    assert overflow_mistake("rnn_forward", want, want) is None


# --- the same rule on the gated cells, with the bugs written here --------------------------

def naive_tanh(a):
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))


def ratio_sigmoid(a):
    """exp(z) / (1 + exp(z)): inf / inf = nan for large z."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(a) / (1.0 + np.exp(a))


def lstm_gates_with(tanh=np.tanh, sigmoid=L.sigmoid):
    def gates(x_t, h_prev, Wx, Wh, b):
        a_i, a_f, a_g, a_o = np.split(x_t @ Wx + h_prev @ Wh + b, 4, axis=1)
        return sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    return gates


def lstm_step_with(cell_tanh=np.tanh, gates=L.lstm_gates):
    def step(x_t, h_prev, c_prev, Wx, Wh, b):
        i, f, g, o = gates(x_t, h_prev, Wx, Wh, b)
        c_t = f * c_prev + i * g
        return o * cell_tanh(c_t), c_t
    return step


def gru_gates_with(tanh=np.tanh):
    def gates(x_t, h_prev, Wx, Wh, bx, bh):
        ax_r, ax_z, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)
        ah_r, ah_z, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)
        r = L.sigmoid(ax_r + ah_r)
        return r, L.sigmoid(ax_z + ah_z), tanh(ax_n + r * ah_n)
    return gates


@pytest.mark.parametrize("function, student, named", [
    ("lstm_gates", lstm_gates_with(tanh=naive_tanh), True),              # g is tanh's alone
    ("lstm_gates", lstm_gates_with(sigmoid=ratio_sigmoid), False),       # i, f, o: the sigmoid's
    ("lstm_step", lstm_step_with(cell_tanh=naive_tanh), True),           # h_t = o * tanh(c_t), c_t finite
    ("lstm_step", lstm_step_with(gates=lstm_gates_with(tanh=naive_tanh)), False),  # c_t itself is nan
    ("gru_gates", gru_gates_with(tanh=naive_tanh), True),                # n is tanh's alone
])
def test_only_an_output_of_tanh_alone_names_it(ref, function, student, named):
    args = make_inputs(function, **SATURATED)
    got = student(*args)
    assert any(not np.all(np.isfinite(v)) for v in got), "the bug must overflow on these inputs"
    assert (overflow_mistake(function, got, ref.call(function, args)) is TANH_OVERFLOW) == named
