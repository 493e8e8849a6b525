"""Part 2 - Recurrence: carry a summary forward as you read.

A recurrent network reads a sequence one element at a time. It keeps a hidden state h,
a fixed-size vector that summarises everything read so far. At each step it combines the
new input with the previous state, using the usual weighted sum and squashing function,
and writes a new state:

    h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)

Two design choices fix all three problems from Part 1 at once:

* **The same weights at every step.** `rnn_forward` applies one `rnn_step` with one set of
  weights T times. Any length works, and a pattern learned at one position is recognised
  at every position. Convolution shares its weights across an image in the same way.
* **The state carries context.** h_t depends on x_t and, through h_{t-1}, on everything
  before it. That dependence is the memory a feedforward network lacks.

An answer can be read out of any state with a dense layer (`rnn_readout`).

Batches of different lengths: `lengths[n]` says how many steps of row n are real. At
padding steps (t >= lengths[n]) the state of row n is carried over unchanged, so
``hs[:, -1]`` is every sequence's state after its own last real step.

PyTorch's ``nn.RNNCell(D, H)`` computes the same thing: ``Wx = weight_ih.T``,
``Wh = weight_hh.T``, ``b = bias_ih + bias_hh``.

Shapes: N batch size, T time steps, D input features, H hidden units, C output classes.
Every array is float64; weights multiply on the right (``x @ Wx``).
"""
import numpy as np

from ._validate import check_arrays, check_lengths

__all__ = ["rnn_step", "rnn_forward", "rnn_readout"]


def rnn_step(x_t, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN: ``tanh(x_t @ Wx + h_prev @ Wh + b)``.

    Args:
        x_t: inputs at this step, shape (N, D).
        h_prev: previous hidden state, shape (N, H).
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: bias, shape (H,).

    Returns:
        h_t: the new hidden state, shape (N, H).
    """
    x_t, h_prev, Wx, Wh, b = check_arrays(
        x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H")
    )
    return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)


def rnn_forward(x, h0, Wx, Wh, b, lengths=None):
    """Run a vanilla RNN over whole sequences with the same weights at every step.

    Args:
        x: input sequences, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: shape (D, H). Wh: shape (H, H). b: shape (H,).
        lengths: optional, shape (N,), whole numbers in [0, T]. At steps t >= lengths[n]
            row n keeps its previous state. None means every sequence has length T.

    Returns:
        hs: the hidden state after every step, shape (N, T, H); hs[:, t] is h_t.
    """
    x, h0, Wx, Wh, b = check_arrays(
        x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H")
    )
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)  # (N,) ints
    hs = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in range(T):
        active = (t < lengths)[:, None]  # (N, 1): which rows are still reading
        h = rnn_step(x[:, t], h, Wx, Wh, b)  # (N, H)
        hs[:, t] = h
    return hs


def rnn_readout(h, Wy, by):
    """Read an answer out of a hidden state: ``h @ Wy + by`` (scores, before any softmax).

    Args:
        h: hidden states, shape (N, H).
        Wy: shape (H, C). by: shape (C,).

    Returns:
        scores, shape (N, C).
    """
    h, Wy, by = check_arrays(h=(h, "N H"), Wy=(Wy, "H C"), by=(by, "C"))
    return h @ Wy + by
