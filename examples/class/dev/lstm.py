"""Part 4a - The LSTM: a memory cell guarded by gates.

A vanilla RNN rewrites its whole state at every step, so an early signal is squashed a
little more each step until nothing of it is left. An LSTM keeps a second vector, the
cell c. Changes to c are additive and controlled by gates: vectors of numbers between 0
and 1, computed from the current input and previous state, that multiply what passes
through them.

    i = sigmoid(.)   input gate:  how much of the new candidate to write
    f = sigmoid(.)   forget gate: how much of the old cell to keep
    g = tanh(.)      candidate:   what could be written
    o = sigmoid(.)   output gate: how much of the cell to show as h

    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

When f is near 1 and i near 0, c passes through a step almost untouched. Information
can then survive hundreds of steps, which a vanilla RNN cannot manage. It is still
recurrence, with a better-protected memory.

**Gate order.** The four pre-activations are stacked in column blocks in the order
**i, f, g, o** (the same as PyTorch). Block k is columns k*H to (k+1)*H of ``Wx``, ``Wh``
and ``b``. CS231n's assignment uses i, f, o, g; that is a different layout, not a
different model.

PyTorch's ``nn.LSTMCell(D, H)`` computes the same thing: ``Wx = weight_ih.T``,
``Wh = weight_hh.T``, ``b = bias_ih + bias_hh``.

Shapes: N batch size, T time steps, D input features, H hidden units. Every array is
float64; weights multiply on the right.
"""
import numpy as np

from ._validate import as_float_array, check_arrays, check_lengths

__all__ = ["LSTM_GATES", "sigmoid", "lstm_gates", "lstm_step", "lstm_forward"]

LSTM_GATES = ("i", "f", "g", "o")  # column-block order in Wx (D, 4H), Wh (H, 4H), b (4H,)


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), computed without overflow.

    Args:
        z: an array of any shape (or a number).

    Returns:
        an array of z's shape with values in [0, 1]. For very large |z| (1e3, 1e4) no
        overflow warning is raised and the result is exactly 0.0 or 1.0.
    """
    z = as_float_array("z", z)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # the same formula, rearranged by sign


def lstm_gates(x_t, h_prev, Wx, Wh, b):
    """The four LSTM gate values for one step.

    Args:
        x_t: inputs, shape (N, D).
        h_prev: previous hidden state, shape (N, H).
        Wx: shape (D, 4H), column blocks i, f, g, o.
        Wh: shape (H, 4H), column blocks i, f, g, o.
        b: shape (4H,), blocks i, f, g, o.

    Returns:
        the tuple (i, f, g, o), each shape (N, H): i, f, o = sigmoid of their block of
        ``x_t @ Wx + h_prev @ Wh + b``, g = tanh of its block.
    """
    x_t, h_prev, Wx, Wh, b = check_arrays(
        x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H")
    )
    a = x_t @ Wx + h_prev @ Wh + b  # (N, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # each (N, H), in LSTM_GATES order
    return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)


def lstm_step(x_t, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step.

    Args:
        x_t: shape (N, D). h_prev: shape (N, H). c_prev: previous cell, shape (N, H).
        Wx: shape (D, 4H). Wh: shape (H, 4H). b: shape (4H,). Gate blocks i, f, g, o.

    Returns:
        the tuple (h_t, c_t), each shape (N, H), with c_t = f * c_prev + i * g and
        h_t = o * tanh(c_t).
    """
    x_t, h_prev, c_prev, Wx, Wh, b = check_arrays(
        x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), c_prev=(c_prev, "N H"),
        Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H"),
    )
    i, f, g, o = lstm_gates(x_t, h_prev, Wx, Wh, b)
    c_t = f * c_prev + i * g  # (N, H)
    h_t = o * np.tanh(c_t)  # (N, H)
    return h_t, c_t


def lstm_forward(x, h0, c0, Wx, Wh, b, lengths=None):
    """Run an LSTM over whole sequences.

    Args:
        x: shape (N, T, D). h0: shape (N, H). c0: initial cell, shape (N, H).
        Wx: shape (D, 4H). Wh: shape (H, 4H). b: shape (4H,). Gate blocks i, f, g, o.
        lengths: optional, shape (N,), whole numbers in [0, T]. At steps t >= lengths[n]
            row n keeps both its h and its c.

    Returns:
        the tuple (hs, cs), each shape (N, T, H): the hidden state and the cell after
        every step.
    """
    x, h0, c0, Wx, Wh, b = check_arrays(
        x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H")
    )
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)  # (N,) ints
    H = h0.shape[1]
    hs, cs = np.zeros((N, T, H)), np.zeros((N, T, H))
    h, c = h0, c0
    for t in range(T):
        active = (t < lengths)[:, None]  # (N, 1)
        h_new, c_new = lstm_step(x[:, t], h, c, Wx, Wh, b)
        h, c = np.where(active, h_new, h), np.where(active, c_new, c)
        hs[:, t], cs[:, t] = h, c
    return hs, cs
