"""Part 5 - Learning through time: why a simple RNN cannot learn to remember.

Training follows gradients. To learn that the answer at step T depends on the input at
step 0, the gradient of the loss must travel back through every step in between. In a
vanilla RNN each step multiplies it by ``Wh.T * (1 - h**2)``. When that factor shrinks
vectors, the gradient fades geometrically. After a hundred steps nothing is left to learn
from, even if the weights *could* hold the information (Bengio, Simard and Frasconi,
1994). The LSTM's cell passes its gradient back through the forget gate alone, so with f
near 1 it arrives almost whole.

Backpropagation through time (BPTT) is the chain rule applied to the unrolled network.
Every backward function here takes the forward inputs and recomputes what it needs, so
each is a pure function of its arguments.

Shapes: N batch, T steps, D input features, H hidden units. ``dhs`` (N, T, H) is the
upstream gradient on every step's output h_t (from a loss that reads each state). It is
not the gradient passed between steps; the backward pass adds that itself. Gate orders
as in the forward modules: LSTM i, f, g, o; GRU r, z, n.

**The experiment.** `autograder.trainer.train_recall` trains a cell on the delayed-recall
task of Part 3 with *your* forward and backward functions (Adam, gradient clipping, a
cross-entropy readout of the bit). With a few distractors every cell learns the task.
With seventy, the vanilla RNN stays at chance while the LSTM and the GRU learn it: the
gradient that would teach the RNN to hold the bit has faded before it gets there.
"""
import numpy as np

from ._validate import check_arrays, check_float
from .gru import gru_forward, gru_gates
from .lstm import lstm_forward, lstm_gates
from .rnn import rnn_forward

__all__ = [
    "numerical_gradient",
    "rnn_step_backward",
    "rnn_backward",
    "lstm_step_backward",
    "lstm_backward",
    "gru_step_backward",
    "gru_backward",
    "gradient_to_first_step",
]


def numerical_gradient(f, x, df, h=1e-5):
    """Centred finite differences of ``sum(f(x) * df)`` with respect to x.

    Args:
        f: a function of one array, returning an array of df's shape.
        x: the point, any shape. Leave it as it was: probe a copy (the classic course
            helper writes into x while probing, so an error midway leaves x changed).
        df: the upstream gradient, f(x)'s shape.
        h: the step, > 0.

    Returns:
        the gradient, x's shape.
    """
    x = np.asarray(x, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    h = check_float("h", h, 0.0)
    ### BEGIN SOLUTION
    # Task: for each element of a copy of x, evaluate f at +h and -h and return sum((f+ - f-) * df) / (2h) per element
    probe = x.copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = probe[index]
        probe[index] = old + h
        plus = np.asarray(f(probe), dtype=np.float64)
        probe[index] = old - h
        minus = np.asarray(f(probe), dtype=np.float64)
        probe[index] = old
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad
    ### END SOLUTION


def rnn_step_backward(dh_next, x_t, h_prev, Wx, Wh, b):
    """Gradients of one vanilla RNN step h = tanh(x_t @ Wx + h_prev @ Wh + b).

    Args:
        dh_next: upstream gradient on h, shape (N, H).
        x_t (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,): the step's inputs.

    Returns:
        (dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,)).
    """
    dh_next, x_t, h_prev, Wx, Wh, b = check_arrays(
        dh_next=(dh_next, "N H"), x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H"))
    ### BEGIN SOLUTION
    # Task: return (dx, dh_prev, dWx, dWh, db), the loss's gradients on x_t, h_prev, Wx, Wh and b (each shaped like its input), where dh_next (N, H) is its gradient on this step's output h; recompute what you need from the inputs
    h = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    da = dh_next * (1.0 - h ** 2)  # (N, H): through tanh
    return da @ Wx.T, da @ Wh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)
    ### END SOLUTION


def rnn_backward(dhs, x, h0, Wx, Wh, b):
    """Backpropagation through time for `rnn_forward` (every sequence full length).

    Args:
        dhs: upstream gradient on every step's state, shape (N, T, H).
        x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,): the forward inputs.

    Returns:
        (dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)); weight gradients are
        summed over every step.
    """
    dhs, x, h0, Wx, Wh, b = check_arrays(
        dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H"))
    ### BEGIN SOLUTION
    # Task: return (dx (N, T, D), dh0 (N, H), dWx, dWh, db) for a loss whose direct gradient on each state h_t is dhs[:, t] (h_t also feeds every later step); recompute the states from the inputs; the weight gradients are sums over all T steps
    hs = rnn_forward(x, h0, Wx, Wh, b)
    prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H): the state each step started from
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    carried = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], carried, gWx, gWh, gb = rnn_step_backward(dhs[:, t] + carried, x[:, t], prev[:, t], Wx, Wh, b)
        dWx += gWx
        dWh += gWh
        db += gb
    return dx, carried, dWx, dWh, db
    ### END SOLUTION


def lstm_step_backward(dh_next, dc_next, x_t, h_prev, c_prev, Wx, Wh, b):
    """Gradients of one LSTM step (gate order i, f, g, o).

    Args:
        dh_next, dc_next: upstream gradients on h_t and c_t, shape (N, H).
        x_t (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).

    Returns:
        (dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)).
    """
    dh_next, dc_next, x_t, h_prev, c_prev, Wx, Wh, b = check_arrays(
        dh_next=(dh_next, "N H"), dc_next=(dc_next, "N H"), x_t=(x_t, "N D"), h_prev=(h_prev, "N H"),
        c_prev=(c_prev, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H"))
    ### BEGIN SOLUTION
    # Task: return (dx, dh_prev, dc_prev, dWx, dWh, db), each shaped like its input, where dh_next and dc_next (N, H) are the loss's gradients on this step's h_t and c_t; recompute what you need from the inputs (gate blocks i, f, g, o)
    i, f, g, o = lstm_gates(x_t, h_prev, Wx, Wh, b)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc = dc_next + dh_next * o * (1.0 - tc ** 2)  # (N, H): the cell's own path plus the path through h
    da = np.concatenate([
        dc * g * i * (1.0 - i),          # input gate
        dc * c_prev * f * (1.0 - f),     # forget gate
        dc * i * (1.0 - g ** 2),         # candidate (tanh)
        dh_next * tc * o * (1.0 - o),    # output gate
    ], axis=1)  # (N, 4H), blocks i, f, g, o
    return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)
    ### END SOLUTION


def lstm_backward(dhs, x, h0, c0, Wx, Wh, b):
    """Backpropagation through time for `lstm_forward` (every sequence full length).

    Returns:
        (dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)).
    """
    dhs, x, h0, c0, Wx, Wh, b = check_arrays(
        dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"),
        b=(b, "4H"))
    ### BEGIN SOLUTION
    # Task: return (dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx, dWh, db) for a loss whose direct gradient on each h_t is dhs[:, t] (none reaches the cells directly; both h_t and c_t feed every later step); recompute the states and cells from the inputs; the weight gradients are sums over all T steps
    hs, cs = lstm_forward(x, h0, c0, Wx, Wh, b)
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    c_prev = np.concatenate([c0[:, None], cs[:, :-1]], axis=1)
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dh, dc, gWx, gWh, gb = lstm_step_backward(dhs[:, t] + dh, dc, x[:, t], h_prev[:, t],
                                                            c_prev[:, t], Wx, Wh, b)
        dWx += gWx
        dWh += gWh
        db += gb
    return dx, dh, dc, dWx, dWh, db
    ### END SOLUTION


def gru_step_backward(dh_next, x_t, h_prev, Wx, Wh, bx, bh):
    """Gradients of one GRU step (gate order r, z, n; reset applied to h_prev @ Wh_n + bh_n).

    Returns:
        (dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,)).
    """
    dh_next, x_t, h_prev, Wx, Wh, bx, bh = check_arrays(
        dh_next=(dh_next, "N H"), x_t=(x_t, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"),
        bx=(bx, "3H"), bh=(bh, "3H"))
    ### BEGIN SOLUTION
    # Task: return (dx, dh_prev, dWx, dWh, dbx, dbh), each shaped like its input, where dh_next (N, H) is the loss's gradient on this step's output h; recompute what you need from the inputs (gate blocks r, z, n)
    r, z, n = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)
    ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)[2]
    dn_pre = dh_next * (1.0 - z) * (1.0 - n ** 2)  # (N, H): into tanh's argument
    dr_pre = dn_pre * ah_n * r * (1.0 - r)
    dz_pre = dh_next * (h_prev - n) * z * (1.0 - z)
    dax = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)        # (N, 3H): x-side, blocks r, z, n
    dah = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)    # (N, 3H): h-side, reset inside
    dh_prev = dh_next * z + dah @ Wh.T
    return dax @ Wx.T, dh_prev, x_t.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)
    ### END SOLUTION


def gru_backward(dhs, x, h0, Wx, Wh, bx, bh):
    """Backpropagation through time for `gru_forward` (every sequence full length).

    Returns:
        (dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,)).
    """
    dhs, x, h0, Wx, Wh, bx, bh = check_arrays(
        dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"),
        bh=(bh, "3H"))
    ### BEGIN SOLUTION
    # Task: return (dx (N, T, D), dh0 (N, H), dWx, dWh, dbx, dbh) for a loss whose direct gradient on each state h_t is dhs[:, t] (h_t also feeds every later step); recompute the states from the inputs; the weight gradients are sums over all T steps
    hs = gru_forward(x, h0, Wx, Wh, bx, bh)
    prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    dx, dWx, dWh = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = np.zeros_like(bx), np.zeros_like(bh)
    carried = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dx[:, t], carried, gWx, gWh, gbx, gbh = gru_step_backward(dhs[:, t] + carried, x[:, t], prev[:, t],
                                                                  Wx, Wh, bx, bh)
        dWx += gWx
        dWh += gWh
        dbx += gbx
        dbh += gbh
    return dx, carried, dWx, dWh, dbx, dbh
    ### END SOLUTION


def gradient_to_first_step(backward, x, states, weights):
    """How much gradient reaches the first input from a loss at each later step.

    One backward pass does it for every step: the batch is repeated T times, and copy k
    puts a unit upstream gradient (ones(H) / sqrt(H)) on its state at step k only.

    Args:
        backward: rnn_backward, lstm_backward or gru_backward (or a student's).
        x: shape (N, T, D).
        states: the initial states, e.g. (h0,) or (h0, c0), each (N, H).
        weights: the weights, e.g. (Wx, Wh, b), passed through unchanged.

    Returns:
        norms, shape (T,): norms[k] is the batch mean of ||d(loss at step k) / d x[:, 0]||.
    """
    x = check_arrays(x=(x, "N T D"))
    ### BEGIN SOLUTION
    # Task: tile x and the states T times along the batch, put ones(H)/sqrt(H) at step k in copy k, run backward once, return the mean norm of dx[:, 0] per copy
    N, T, _ = x.shape
    H = np.asarray(states[0]).shape[1]
    tiled_x = np.tile(x, (T, 1, 1))  # (T*N, T, D): copy k is rows k*N to (k+1)*N
    tiled_states = [np.tile(np.asarray(s, dtype=np.float64), (T, 1)) for s in states]
    dhs = np.zeros((T * N, T, H))
    for k in range(T):
        dhs[k * N:(k + 1) * N, k] = 1.0 / np.sqrt(H)
    dx = backward(dhs, tiled_x, *tiled_states, *weights)[0]  # (T*N, T, D)
    per_row = np.linalg.norm(dx[:, 0], axis=1).reshape(T, N)
    return per_row.mean(axis=1)
    ### END SOLUTION
