"""Part 4b - The GRU: one state, two gates.

The GRU gets most of the LSTM's memory with a simpler design: no separate cell, and
two gates instead of three.

    r = sigmoid(x @ Wx_r + bx_r + h @ Wh_r + bh_r)        reset gate
    z = sigmoid(x @ Wx_z + bx_z + h @ Wh_z + bh_z)        update gate
    n = tanh(x @ Wx_n + bx_n + r * (h @ Wh_n + bh_n))      candidate
    h_t = (1 - z) * n + z * h

z decides, unit by unit, whether to keep the old state (z near 1) or replace it with the
candidate (z near 0). A unit whose z stays near 1 holds its value across a long stretch
of input. r decides how much of the old state the candidate may look at.

**Gate order and conventions (PyTorch's).** Column blocks in ``Wx`` (D, 3H), ``Wh`` (H, 3H),
``bx`` and ``bh`` (3H,) are in the order **r, z, n**. The reset gate multiplies
``h @ Wh_n + bh_n`` *after* the matrix product. Two biases are kept because bh_n sits
inside that product with r. ``h_t = (1 - z) * n + z * h``, so z near 1 keeps the past.
Cho et al. (2014) and Keras with ``reset_after=False`` instead apply r before the product,
``tanh(x W + (r * h) U + b)``. Some course notes write the update as
``(1 - z) * h + z * n``. Both are different models from this one.

PyTorch's ``nn.GRUCell(D, H)`` computes the same thing: ``Wx = weight_ih.T``,
``Wh = weight_hh.T``, ``bx = bias_ih``, ``bh = bias_hh``.

Shapes: N batch size, T time steps, D input features, H hidden units. Every array is
float64; weights multiply on the right.
"""
import numpy as np

from ._validate import check_arrays, check_lengths
from .lstm import sigmoid

__all__ = ["GRU_GATES", "gru_gates", "gru_step", "gru_forward"]

GRU_GATES = ("r", "z", "n")  # column-block order in Wx (D, 3H), Wh (H, 3H), bx and bh (3H,)


def gru_gates(x_t, h_prev, Wx, Wh, bx, bh):
    """The GRU's reset gate, update gate and candidate for one step.

    Args:
        x_t: inputs, shape (N, D).
        h_prev: previous hidden state, shape (N, H).
        Wx: shape (D, 3H), column blocks r, z, n.
        Wh: shape (H, 3H), column blocks r, z, n.
        bx: input bias, shape (3H,), blocks r, z, n.
        bh: hidden bias, shape (3H,), blocks r, z, n.

    Returns:
        the tuple (r, z, n), each shape (N, H):
        r = sigmoid(ax_r + ah_r), z = sigmoid(ax_z + ah_z), n = tanh(ax_n + r * ah_n),
        where ax = x_t @ Wx + bx and ah = h_prev @ Wh + bh.
    """
    x_t, h_prev, Wx, Wh, bx, bh = check_arrays(
        x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"), bh=(bh, "3H")
    )
    ax_r, ax_z, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)  # each (N, H), in GRU_GATES order
    ah_r, ah_z, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)
    r = sigmoid(ax_r + ah_r)
    z = sigmoid(ax_z + ah_z)
    n = np.tanh(ax_n + r * ah_n)  # reset applied after the matrix product
    return r, z, n


def gru_step(x_t, h_prev, Wx, Wh, bx, bh):
    """One GRU step: ``h_t = (1 - z) * n + z * h_prev``.

    Args:
        x_t: shape (N, D). h_prev: shape (N, H).
        Wx: shape (D, 3H). Wh: shape (H, 3H). bx, bh: shape (3H,). Gate blocks r, z, n.

    Returns:
        h_t, shape (N, H).
    """
    x_t, h_prev, Wx, Wh, bx, bh = check_arrays(
        x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"), bh=(bh, "3H")
    )
    r, z, n = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)
    return (1.0 - z) * n + z * h_prev  # (N, H)


def gru_forward(x, h0, Wx, Wh, bx, bh, lengths=None):
    """Run a GRU over whole sequences.

    Args:
        x: shape (N, T, D). h0: shape (N, H).
        Wx: shape (D, 3H). Wh: shape (H, 3H). bx, bh: shape (3H,). Gate blocks r, z, n.
        lengths: optional, shape (N,), whole numbers in [0, T]. At steps t >= lengths[n]
            row n keeps its previous state.

    Returns:
        hs, shape (N, T, H).
    """
    x, h0, Wx, Wh, bx, bh = check_arrays(
        x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"), bh=(bh, "3H")
    )
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)  # (N,) ints
    hs = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in range(T):
        active = (t < lengths)[:, None]  # (N, 1)
        h = np.where(active, gru_step(x[:, t], h, Wx, Wh, bx, bh), h)
        hs[:, t] = h
    return hs
