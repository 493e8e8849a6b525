"""Part 5, written differently: einsum, per-gate column slices, one set of weight products per sequence.

The sequence passes do not call the step passes: a shared helper returns the gradient on
each step's pre-activations, the loop only carries the state gradients back, and the
weight gradients are contracted over batch and time at once at the end.
"""
import numpy as np

from ._validate import check_arrays, check_float
from .gru import gru_forward, gru_gates
from .lstm import lstm_forward, lstm_gates
from .rnn import rnn_forward

__all__ = ["numerical_gradient", "rnn_step_backward", "rnn_backward", "lstm_step_backward", "lstm_backward",
           "gru_step_backward", "gru_backward", "gradient_to_first_step"]


def numerical_gradient(f, x, df, h=1e-5):
    x, df = np.asarray(x, dtype=np.float64), np.asarray(df, dtype=np.float64)
    h = check_float("h", h, 0.0)
    flat = np.array(x, dtype=np.float64).reshape(-1)  # a private, flat copy; the caller's x is never touched
    out = np.empty(flat.size)

    def evaluate(position, value):
        saved = flat[position]
        flat[position] = value
        try:
            return np.asarray(f(flat.reshape(x.shape)), dtype=np.float64)
        finally:
            flat[position] = saved

    for position in range(flat.size):
        centre = flat[position]
        rise = evaluate(position, centre + h) - evaluate(position, centre - h)
        out[position] = np.vdot(df, rise) / (h + h)
    return out.reshape(x.shape)


# --- vanilla RNN ----------------------------------------------------------------------------

def _rnn_local(dh, x_t, h_prev, Wx, Wh, b):
    """Gradient on one step's pre-activation a = x_t Wx + h_prev Wh + b, given the gradient on its output."""
    out = np.tanh(np.einsum("nd,dk->nk", x_t, Wx) + np.einsum("nj,jk->nk", h_prev, Wh) + b)
    return dh - dh * out * out


def rnn_step_backward(dh_next, x_t, h_prev, Wx, Wh, b):
    dh_next, x_t, h_prev, Wx, Wh, b = check_arrays(dh_next=(dh_next, "N H"), x_t=(x_t, "N D"),
                                                   h_prev=(h_prev, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"),
                                                   b=(b, "H"))
    g = _rnn_local(dh_next, x_t, h_prev, Wx, Wh, b)
    return (np.einsum("nk,dk->nd", g, Wx), np.einsum("nk,jk->nj", g, Wh),
            np.einsum("nd,nk->dk", x_t, g), np.einsum("nj,nk->jk", h_prev, g), np.einsum("nk->k", g))


def rnn_backward(dhs, x, h0, Wx, Wh, b):
    dhs, x, h0, Wx, Wh, b = check_arrays(dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"),
                                         Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H"))
    states = rnn_forward(x, h0, Wx, Wh, b)
    starts = np.empty_like(states)  # starts[:, t]: the state step t read
    starts[:, 0] = h0
    starts[:, 1:] = states[:, :-1]
    local = np.zeros_like(dhs)      # gradient on every step's pre-activation
    back = np.zeros(h0.shape)       # gradient arriving from step t + 1
    for t in range(x.shape[1] - 1, -1, -1):
        local[:, t] = _rnn_local(dhs[:, t] + back, x[:, t], starts[:, t], Wx, Wh, b)
        back = np.einsum("nk,jk->nj", local[:, t], Wh)
    return (np.einsum("ntk,dk->ntd", local, Wx), back, np.einsum("ntd,ntk->dk", x, local),
            np.einsum("ntj,ntk->jk", starts, local), np.einsum("ntk->k", local))


# --- LSTM -----------------------------------------------------------------------------------

def _lstm_local(dh, dc_in, x_t, h_prev, c_prev, Wx, Wh, b):
    """(gradient on the (N, 4H) pre-activations, gradient on c_prev) for one LSTM step."""
    inp, keep, cand, out = lstm_gates(x_t, h_prev, Wx, Wh, b)
    squashed = np.tanh(inp * cand + keep * c_prev)
    cell = dc_in + out * dh * (1.0 - squashed * squashed)
    H = h_prev.shape[1]
    pre = np.empty((h_prev.shape[0], 4 * H))
    pre[:, 0 * H:1 * H] = (cell * cand) * (inp - inp * inp)
    pre[:, 1 * H:2 * H] = (cell * c_prev) * (keep - keep * keep)
    pre[:, 2 * H:3 * H] = (cell * inp) * (1.0 - cand * cand)
    pre[:, 3 * H:4 * H] = (dh * squashed) * (out - out * out)
    return pre, keep * cell


def lstm_step_backward(dh_next, dc_next, x_t, h_prev, c_prev, Wx, Wh, b):
    dh_next, dc_next, x_t, h_prev, c_prev, Wx, Wh, b = check_arrays(
        dh_next=(dh_next, "N H"), dc_next=(dc_next, "N H"), x_t=(x_t, "N D"), h_prev=(h_prev, "N H"),
        c_prev=(c_prev, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"),
        b=(b, "4H"))
    pre, dc_prev = _lstm_local(dh_next, dc_next, x_t, h_prev, c_prev, Wx, Wh, b)
    return (np.einsum("ng,dg->nd", pre, Wx), np.einsum("ng,jg->nj", pre, Wh), dc_prev,
            np.einsum("nd,ng->dg", x_t, pre), np.einsum("nj,ng->jg", h_prev, pre), np.einsum("ng->g", pre))


def lstm_backward(dhs, x, h0, c0, Wx, Wh, b):
    dhs, x, h0, c0, Wx, Wh, b = check_arrays(
        dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"),
        Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H"))
    h_seq, c_seq = lstm_forward(x, h0, c0, Wx, Wh, b)
    N, T, H = h_seq.shape
    h_in = np.concatenate([h0[:, None, :], h_seq], axis=1)  # h_in[:, t] is read by step t
    c_in = np.concatenate([c0[:, None, :], c_seq], axis=1)
    local = np.zeros((N, T, 4 * H))
    back_h, back_c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        local[:, t], back_c = _lstm_local(dhs[:, t] + back_h, back_c, x[:, t], h_in[:, t], c_in[:, t], Wx, Wh, b)
        back_h = np.einsum("ng,jg->nj", local[:, t], Wh)
    return (np.einsum("ntg,dg->ntd", local, Wx), back_h, back_c, np.einsum("ntd,ntg->dg", x, local),
            np.einsum("ntj,ntg->jg", h_in[:, :T], local), np.einsum("ntg->g", local))


# --- GRU ------------------------------------------------------------------------------------

def _gru_local(dh, x_t, h_prev, Wx, Wh, bx, bh):
    """(x-side and h-side pre-activation gradients, each (N, 3H), and the direct part of dh_prev)."""
    reset, update, new = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)
    H = h_prev.shape[1]
    cand = slice(2 * H, 3 * H)
    hidden_n = h_prev @ Wh[:, cand] + bh[cand]  # what the reset gate scales
    d_cand = (1.0 - new * new) * (dh - dh * update)
    d_update = (update - update * update) * (dh * h_prev - dh * new)
    d_reset = (reset - reset * reset) * (d_cand * hidden_n)
    from_x = np.empty((h_prev.shape[0], 3 * H))
    from_h = np.empty_like(from_x)
    for k, block in enumerate((d_reset, d_update, d_cand)):
        from_x[:, k * H:(k + 1) * H] = block
        from_h[:, k * H:(k + 1) * H] = block * reset if k == 2 else block
    return from_x, from_h, update * dh


def gru_step_backward(dh_next, x_t, h_prev, Wx, Wh, bx, bh):
    dh_next, x_t, h_prev, Wx, Wh, bx, bh = check_arrays(
        dh_next=(dh_next, "N H"), x_t=(x_t, "N D"), h_prev=(h_prev, "N H"),
        Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"), bh=(bh, "3H"))
    from_x, from_h, direct = _gru_local(dh_next, x_t, h_prev, Wx, Wh, bx, bh)
    return (np.einsum("ng,dg->nd", from_x, Wx), direct + np.einsum("ng,jg->nj", from_h, Wh),
            np.einsum("nd,ng->dg", x_t, from_x), np.einsum("nj,ng->jg", h_prev, from_h),
            np.einsum("ng->g", from_x), np.einsum("ng->g", from_h))


def gru_backward(dhs, x, h0, Wx, Wh, bx, bh):
    dhs, x, h0, Wx, Wh, bx, bh = check_arrays(
        dhs=(dhs, "N T H"), x=(x, "N T D"), h0=(h0, "N H"),
        Wx=(Wx, "D 3H"), Wh=(Wh, "H 3H"), bx=(bx, "3H"), bh=(bh, "3H"))
    states = gru_forward(x, h0, Wx, Wh, bx, bh)
    N, T, H = states.shape
    starts = np.concatenate([h0[:, None, :], states[:, :T - 1]], axis=1)
    local_x, local_h = np.zeros((N, T, 3 * H)), np.zeros((N, T, 3 * H))
    back = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        local_x[:, t], local_h[:, t], direct = _gru_local(dhs[:, t] + back, x[:, t], starts[:, t], Wx, Wh, bx, bh)
        back = direct + np.einsum("ng,jg->nj", local_h[:, t], Wh)
    return (np.einsum("ntg,dg->ntd", local_x, Wx), back, np.einsum("ntd,ntg->dg", x, local_x),
            np.einsum("ntj,ntg->jg", starts, local_h), np.einsum("ntg->g", local_x), np.einsum("ntg->g", local_h))


# --- the gradient curve ---------------------------------------------------------------------

def gradient_to_first_step(backward, x, states, weights):
    x = check_arrays(x=(x, "N T D"))
    N, T = x.shape[0], x.shape[1]
    width = np.shape(states[0])[1]
    # row n * T + k is sequence n with the loss at step k only (np.repeat keeps a sequence's copies together)
    rows_x = np.repeat(x, T, axis=0)
    rows_states = tuple(np.repeat(np.asarray(s, dtype=np.float64), T, axis=0) for s in states)
    upstream = np.zeros((N * T, T, width))
    upstream[np.arange(N * T), np.tile(np.arange(T), N)] = np.full(width, width ** -0.5)
    first = np.asarray(backward(upstream, rows_x, *rows_states, *weights)[0])[:, 0]
    sizes = np.sqrt(np.einsum("rd,rd->r", first, first)).reshape(N, T)
    return sizes.sum(axis=0) / N
