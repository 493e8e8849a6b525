"""Part 3 and Part 4c - Where simple recurrence forgets, and how gates hold on.

"Marie was born in Paris ... she dreams in fluent ___." The answer depends on a word
from the start of the sentence, and everything in between is noise as far as that
question goes. This module turns that sentence into a task you can measure.

**The delayed-recall task** (`make_recall_task`). Each sequence has three input
channels, ``RECALL_CHANNELS = ("value", "write", "query")``:

* step 0: value = +1 or -1 (the bit to remember: bit 1 is +1, bit 0 is -1), write = 1;
* steps 1 .. gap: value = a random +1 or -1 (distractors that look just like the bit,
  but arrive without the write flag);
* step gap + 1 (the last step): query = 1, value = 0.

The model must report the bit from its final state.

**Forgetting, measured** (`first_input_influence`). Nudge the first input a tiny bit and
see how much each later state moves (a finite difference). For a vanilla RNN whose
recurrent weights shrink vectors (`contractive_rnn_params`), the influence falls by at
least a constant factor each step. That is geometric decay (`geometric_rate`): after
fifty steps almost nothing of the first input is left.

**Holding on with gates** (`latch_lstm_params`, `latch_gru_params`). The weights are set
by hand so that a gate opens only when the write flag is on: the LSTM's input gate, or
the GRU's update gate closing its "keep" path. Otherwise the gate holds the stored value
(the LSTM's forget gate stays at 1). The bit survives 1,000 distractors and
`recall_accuracy` is 100%.

**A vanilla RNN can hold a bit too, but it cannot learn to** (`latch_rnn_params`). A
unit with self-weight 2 has two stable states, near +0.96 and -0.96. Once pushed into
one it stays there, so a hand-set vanilla RNN also recalls perfectly. But a stable state
is one that small pushes cannot move. The influence of the first input on later states,
which is the gradient a learner would follow, still shrinks by about 2 * (1 - 0.96**2)
~= 0.17 per step. Training has no signal telling it to build this latch from far away
(Bengio, Simard and Frasconi, 1994). The LSTM's cell passes gradient through its forget
gate unshrunk, so its influence stays flat.

Shapes: N batch size, T = gap + 2 time steps, D = 3 input channels, H hidden units,
C = 2 classes (scores for bit 0 and bit 1). Every array is float64 except the bits,
which are int64.

A "forward" below is any function mapping x (N, T, D) to states (N, T, H), or to a tuple
whose first element is the states (as `lstm_forward` returns (hs, cs)). For example,
``lambda x: rnn_forward(x, h0, Wx, Wh, b)``.
"""
import numpy as np

from ._validate import as_float_array, check_arrays, check_float, check_int

__all__ = [
    "RECALL_CHANNELS",
    "make_recall_task",
    "recall_accuracy",
    "latch_lstm_params",
    "latch_gru_params",
    "latch_rnn_params",
    "contractive_rnn_params",
    "first_input_influence",
    "geometric_rate",
]

RECALL_CHANNELS = ("value", "write", "query")  # input channels of the recall task, in order


def make_recall_task(n, gap, seed=0):
    """Build `n` delayed-recall sequences with `gap` distractor steps.

    Args:
        n: number of sequences, an int >= 1.
        gap: number of distractor steps between the write and the query, an int >= 0.
        seed: seed for ``np.random.default_rng``; the same seed gives the same task.

    Returns:
        the tuple (x, bits): x of shape (n, gap + 2, 3) with channels value, write, query
        (see the module docstring), and bits of shape (n,), int64, each 0 or 1.
        Draw the bits first, ``rng.integers(0, 2, size=n)``, then the distractors,
        ``rng.choice([-1.0, 1.0], size=(n, gap))``, so the task is reproducible.
    """
    n = check_int("n", n, 1)
    gap = check_int("gap", gap, 0)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=n)  # (n,)
    distractors = rng.choice([-1.0, 1.0], size=(n, gap))  # (n, gap)
    x = np.zeros((n, gap + 2, 3))
    x[:, 0, 0] = 2.0 * bits - 1.0  # value: the bit as +-1
    x[:, 0, 1] = 1.0  # write flag
    x[:, 1:gap + 1, 0] = distractors
    x[:, gap + 1, 2] = 1.0  # query flag
    return x, bits.astype(np.int64)


def recall_accuracy(scores, bits):
    """Fraction of sequences whose highest score is at the right bit.

    Args:
        scores: shape (N, 2): column 0 scores bit 0, column 1 scores bit 1.
        bits: shape (N,), each 0 or 1.

    Returns:
        a float in [0, 1].
    """
    scores = check_arrays(scores=(scores, "N C"))
    bits = as_float_array("bits", bits)
    if bits.shape != (scores.shape[0],):
        raise ValueError(f"bits must have shape (N,) = ({scores.shape[0]},); got shape {tuple(bits.shape)}")
    return float(np.mean(np.argmax(scores, axis=1) == bits))


def latch_lstm_params():
    """Hand-set LSTM weights (H = 1) that store the bit at the write step and keep it.

    Returns:
        the tuple (Wx, Wh, b, Wy, by) with Wx (3, 4), Wh (1, 4), b (4,) in gate order
        i, f, g, o, and a readout Wy (1, 2), by (2,) for `rnn_readout` on the final h.
        Input gate open only when write = 1; forget and output gates always open;
        candidate g = tanh(3 * value).
    """
    Wx = np.zeros((3, 4))
    Wh = np.zeros((1, 4))
    b = np.zeros(4)
    Wx[1, 0], b[0] = 40.0, -20.0  # i: sigmoid(+20) ~ 1 when write = 1, sigmoid(-20) ~ 2e-9 otherwise
    b[1] = 30.0  # f: sigmoid(30) = 1 - 1e-13, keep the cell
    Wx[0, 2] = 3.0  # g: tanh(3 * value), +-0.995 for the bit
    b[3] = 30.0  # o: show the cell
    Wy = np.array([[-1.0, 1.0]])  # score for bit 1 is h, for bit 0 is -h
    by = np.zeros(2)
    return Wx, Wh, b, Wy, by


def latch_gru_params():
    """Hand-set GRU weights (H = 1) that store the bit at the write step and keep it.

    Returns:
        the tuple (Wx, Wh, bx, bh, Wy, by) with Wx (3, 3), Wh (1, 3), bx, bh (3,) in gate
        order r, z, n, and a readout Wy (1, 2), by (2,). The update gate z is near 0
        (take the candidate) only when write = 1 and near 1 (keep h) otherwise;
        candidate n = tanh(3 * value).
    """
    Wx = np.zeros((3, 3))
    Wh = np.zeros((1, 3))
    bx = np.zeros(3)
    bh = np.zeros(3)
    Wx[1, 1], bx[1] = -40.0, 20.0  # z: sigmoid(-20) ~ 0 at the write step, sigmoid(20) ~ 1 otherwise
    Wx[0, 2] = 3.0  # n: tanh(3 * value)
    Wy = np.array([[-1.0, 1.0]])
    by = np.zeros(2)
    return Wx, Wh, bx, bh, Wy, by


def latch_rnn_params():
    """Hand-set vanilla RNN weights (H = 3) that latch the bit without any gate.

    Units 0 and 1 are write detectors, tanh(6 * (+-value + write - 1.5)): near +1 only at
    the write step for bit 1 (unit 0) or bit 0 (unit 1), near -1 everywhere else. Unit 2
    has self-weight 2, so it has two stable states (about +-0.96). The step after the
    write, the detectors push it into one of them; the distractors barely move it.

    Returns:
        the tuple (Wx (3, 3), Wh (3, 3), b (3,), Wy (3, 2), by (2,)).
    """
    k = 6.0
    Wx = np.array([[k, -k, 0.0],   # value
                   [k, k, 0.0],    # write
                   [0.0, 0.0, 0.0]])  # query
    b = np.array([-1.5 * k, -1.5 * k, 0.0])
    Wh = np.array([[0.0, 0.0, 1.0],    # detector for bit 1 pushes unit 2 up
                   [0.0, 0.0, -1.0],   # detector for bit 0 pushes it down
                   [0.0, 0.0, 2.0]])   # self-weight 2: two stable states
    Wy = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 1.0]])
    by = np.zeros(2)
    return Wx, Wh, b, Wy, by


def contractive_rnn_params(D, H, gain=0.5, seed=0):
    """Random vanilla RNN weights whose recurrent matrix shrinks every vector.

    Args:
        D, H: input and hidden sizes, ints >= 1.
        gain: the largest singular value of Wh, in (0, 1).
        seed: seed for ``np.random.default_rng``.

    Returns:
        the tuple (Wx (D, H), Wh (H, H), b (H,)). Draw Wx, then Wh, then b from
        ``rng.standard_normal``; divide Wx by sqrt(D), rescale Wh so its largest singular
        value is `gain`, multiply b by 0.1. Because |tanh'| <= 1, one step can shrink a
        difference in h by at least this factor and never grow it.
    """
    D = check_int("D", D, 1)
    H = check_int("H", H, 1)
    seed = check_int("seed", seed, 0)
    gain = check_float("gain", gain, 0.0, 1.0)  # in (0, 1): contractive
    rng = np.random.default_rng(seed)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, H))
    Wh *= gain / np.linalg.norm(Wh, 2)  # largest singular value -> gain
    b = 0.1 * rng.standard_normal(H)
    return Wx, Wh, b


def first_input_influence(forward, x, eps=1e-6):
    """How strongly each state still depends on the first input, by finite differences.

    Let u be the unit vector ones(D) / sqrt(D). Run `forward` on x with x[:, 0] moved by
    +eps * u and by -eps * u. Influence at step t is the size of the change in the state,
    ``||hs_plus[n, t] - hs_minus[n, t]|| / (2 * eps)``, averaged over the batch.

    Args:
        forward: a function from x (N, T, D) to states (N, T, H), or to a tuple whose
            first element is the states.
        x: shape (N, T, D). Not modified.
        eps: the step of the finite difference, > 0.

    Returns:
        influence, shape (T,).
    """
    x = check_arrays(x=(x, "N T D"))
    if x.shape[1] == 0:
        raise ValueError("x must have at least one time step (T >= 1); got T = 0")
    eps = check_float("eps", eps, 0.0)
    u = np.ones(x.shape[2]) / np.sqrt(x.shape[2])  # (D,)
    x_plus, x_minus = x.copy(), x.copy()
    x_plus[:, 0] += eps * u
    x_minus[:, 0] -= eps * u

    def states(x_in):
        out = forward(x_in)
        return np.asarray(out[0] if isinstance(out, tuple) else out, dtype=np.float64)  # (N, T, H)

    change = (states(x_plus) - states(x_minus)) / (2 * eps)  # (N, T, H)
    return np.linalg.norm(change, axis=2).mean(axis=0)  # (T,)


def geometric_rate(values, floor=1e-8):
    """The factor r for which values[t] ~ A * r**t, fitted by least squares on log(values).

    Only entries above `floor` are used: smaller ones are finite-difference noise.

    Args:
        values: shape (T,), positive numbers (e.g. from `first_input_influence`).
        floor: entries <= floor are ignored.

    Returns:
        r, a float: below 1 means decay, about 1 means the signal is held.

    Raises:
        ValueError: if fewer than two entries are above `floor`.
    """
    values = check_arrays(values=(values, "T"))
    keep = np.flatnonzero(values > floor)
    if keep.size < 2:
        raise ValueError(f"geometric_rate needs at least two values above floor = {floor}; got {keep.size}")
    slope = np.polyfit(keep.astype(np.float64), np.log(values[keep]), 1)[0]
    return float(np.exp(slope))
