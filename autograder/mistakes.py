"""Known mistakes, each rebuilt from the reference so a wrong answer can be named.

When a student's output is wrong, the check computes every variant listed for that
function on the same inputs. If the output matches one, the message names the mistake
and says how to fix it. A variant is built from the reference's own pieces, so it
changes exactly one thing.

Add a mistake by writing a variant with the function's signature and adding it to
`MISTAKES` with a one-line hint. The bug zoo in tests/ shows each one is recognised.

Two kinds of mistake cannot be matched that way. Code that raises has no output: its
error message is matched instead, by `EXCEPTION_HINTS` in feedback.py. An answer that
overflowed holds nan, and nan equals nothing, not even another nan: `overflow_mistake`
names that cause from where the answer stopped being finite.
"""
import numpy as np

from solutions import bptt as B
from solutions import gru as G
from solutions import lstm as L
from solutions import rnn as R
from solutions import stepping as S

from .feedback import OUTPUT_NAMES, TANH_OUTPUTS, TANH_OVERFLOW, overflow_mistake  # noqa: F401


class Mistake:
    def __init__(self, key, hint, variant):
        self.key, self.hint, self.variant = key, hint, variant


def _split(a, k):
    return np.split(a, k, axis=1)


# --- feedforward ------------------------------------------------------------------------
def _dense_no_bias(x, W, b):
    return np.tanh(x @ W)


def _dense_no_tanh(x, W, b):
    return x @ W + b


def _flatten_feature_major(x):
    return x.transpose(0, 2, 1).reshape(x.shape[0], -1)


def _pad_at_front(x, T_fixed):
    N, T, D = x.shape
    out = np.zeros((N, T_fixed, D))
    keep = min(T, T_fixed)
    out[:, T_fixed - keep:] = x[:, T - keep:]
    return out


def _truncate_front(x, T_fixed):
    N, T, D = x.shape
    out = np.zeros((N, T_fixed, D))
    keep = min(T, T_fixed)
    out[:, :keep] = x[:, T - keep:]
    return out


def _mean_pool_sum(x):
    return x.sum(axis=1)


def _mean_pool_features(x):
    return x.mean(axis=2)


# --- rnn --------------------------------------------------------------------------------
def _rnn_step_no_bias(x_t, h, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h @ Wh)


def _rnn_step_sigmoid(x_t, h, Wx, Wh, b):
    return L.sigmoid(x_t @ Wx + h @ Wh + b)


def _rnn_step_linear(x_t, h, Wx, Wh, b):
    return x_t @ Wx + h @ Wh + b


def _rnn_step_swapped(x_t, h, Wx, Wh, b):
    return np.tanh(x_t @ Wh + h @ Wx + b)


def _rnn_step_no_state(x_t, h, Wx, Wh, b):
    return np.tanh(x_t @ Wx + b)


def _forward(step, n_params, carry_state=True, use_lengths=True, reset_padding=False):
    """A forward loop over `step` (taking n_params weights) with one usual loop mistake switched on."""
    def run(x, h0, *rest):
        params, lengths = rest[:n_params], (rest[n_params] if len(rest) > n_params else None)
        N, T, _ = x.shape
        lengths = np.full(N, T) if lengths is None else np.asarray(lengths)
        h, hs = h0, np.zeros((N, T, h0.shape[1]))
        for t in range(T):
            new = step(x[:, t], h if carry_state else h0, *params)
            active = (t < lengths)[:, None] if use_lengths else np.ones((N, 1), bool)
            h = np.where(active, new, 0.0 * h if reset_padding else h)
            hs[:, t] = h
        return hs
    return run


def _lstm_forward(carry_cell=True, carry_state=True, use_lengths=True):
    def run(x, h0, c0, Wx, Wh, b, lengths=None):
        N, T, _ = x.shape
        lengths = np.full(N, T) if lengths is None else np.asarray(lengths)
        H = h0.shape[1]
        h, c, hs, cs = h0, c0, np.zeros((N, T, H)), np.zeros((N, T, H))
        for t in range(T):
            h_new, c_new = L.lstm_step(x[:, t], h if carry_state else h0, c if carry_cell else c0, Wx, Wh, b)
            active = (t < lengths)[:, None] if use_lengths else np.ones((N, 1), bool)
            h, c = np.where(active, h_new, h), np.where(active, c_new, c)
            hs[:, t], cs[:, t] = h, c
        return hs, cs
    return run


def _rnn_forward_time_major(x, h0, Wx, Wh, b, lengths=None):
    """Reads x as (T, N, D): loops over x[t] instead of x[:, t]."""
    T = x.shape[0]
    h, hs = h0, np.zeros((x.shape[1], T, h0.shape[1]))
    for t in range(T):
        h = R.rnn_step(x[t], h, Wx, Wh, b)
        hs[:, t] = h
    return hs


def _readout_no_bias(h, Wy, by):
    return h @ Wy


# --- lstm -------------------------------------------------------------------------------
def _sigmoid_tanh(z):
    return np.tanh(z)


def _sigmoid_negated(z):
    return 1.0 / (1.0 + np.exp(np.clip(z, -700, 700)))


def _gates(x_t, h, Wx, Wh, b, order="ifgo", g_act=np.tanh, o_act=L.sigmoid, bias=True):
    a = x_t @ Wx + h @ Wh + (b if bias else 0.0)
    blocks = dict(zip(order, _split(a, 4)))
    return L.sigmoid(blocks["i"]), L.sigmoid(blocks["f"]), g_act(blocks["g"]), o_act(blocks["o"])


def _gates_cs231n(x_t, h, Wx, Wh, b):
    return _gates(x_t, h, Wx, Wh, b, order="ifog")


def _gates_g_sigmoid(x_t, h, Wx, Wh, b):
    return _gates(x_t, h, Wx, Wh, b, g_act=L.sigmoid)


def _gates_o_tanh(x_t, h, Wx, Wh, b):
    return _gates(x_t, h, Wx, Wh, b, o_act=np.tanh)


def _gates_no_bias(x_t, h, Wx, Wh, b):
    return _gates(x_t, h, Wx, Wh, b, bias=False)


def _lstm_step(x_t, h, c, Wx, Wh, b, *, cell_tanh=True, input_gate=True, forget_gate=True, swap=False, gates=L.lstm_gates):
    i, f, g, o = gates(x_t, h, Wx, Wh, b)
    c_t = (f if forget_gate else 1.0) * c + (i if input_gate else 1.0) * g
    h_t = o * (np.tanh(c_t) if cell_tanh else c_t)
    return (c_t, h_t) if swap else (h_t, c_t)


def _lstm_step_hc_swapped(*a):
    return _lstm_step(*a, swap=True)


def _lstm_step_no_cell_tanh(*a):
    return _lstm_step(*a, cell_tanh=False)


def _lstm_step_no_input_gate(*a):
    return _lstm_step(*a, input_gate=False)


def _lstm_step_no_forget_gate(*a):
    return _lstm_step(*a, forget_gate=False)


def _lstm_step_cs231n(*a):
    return _lstm_step(*a, gates=_gates_cs231n)


# --- gru --------------------------------------------------------------------------------
def _gru_gates(x_t, h, Wx, Wh, bx, bh, *, order="rzn", reset_after=True, use_bh=True):
    bh = bh if use_bh else np.zeros_like(bh)
    ax = dict(zip(order, _split(x_t @ Wx + bx, 3)))
    ah = dict(zip(order, _split(h @ Wh + bh, 3)))
    r = L.sigmoid(ax["r"] + ah["r"])
    z = L.sigmoid(ax["z"] + ah["z"])
    if reset_after:
        n = np.tanh(ax["n"] + r * ah["n"])
    else:  # Cho et al. / Keras reset_after=False: reset the state before the matrix product
        Wh_n = _split(Wh, 3)[order.index("n")]
        bh_n = np.split(bh, 3)[order.index("n")]
        n = np.tanh(ax["n"] + (r * h) @ Wh_n + bh_n)
    return r, z, n


def _gru_gates_zrn(*a):
    return _gru_gates(*a, order="zrn")


def _gru_gates_reset_before(*a):
    return _gru_gates(*a, reset_after=False)


def _gru_gates_no_bh(*a):
    return _gru_gates(*a, use_bh=False)


def _gru_step(x_t, h, Wx, Wh, bx, bh, *, swap_z=False, gates=G.gru_gates):
    r, z, n = gates(x_t, h, Wx, Wh, bx, bh)
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def _gru_step_z_swapped(*a):
    return _gru_step(*a, swap_z=True)


def _gru_step_reset_before(*a):
    return _gru_step(*a, gates=_gru_gates_reset_before)


def _gru_step_zrn(*a):
    return _gru_step(*a, gates=_gru_gates_zrn)


def _recall_error_rate(scores, bits):
    return float(np.mean(np.argmax(scores, axis=1) != bits))


# --- bptt ---------------------------------------------------------------------------------
def _numgrad(f, x, df, h=1e-5, *, central=True, weighted=True, divisor=2.0):
    x, df = np.asarray(x, dtype=np.float64), np.asarray(df, dtype=np.float64)
    probe, grad = x.copy(), np.zeros_like(x)
    base = np.asarray(f(probe), dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = probe[index]
        probe[index] = old + h
        plus = np.asarray(f(probe), dtype=np.float64)
        probe[index] = old - h
        minus = np.asarray(f(probe), dtype=np.float64) if central else base
        probe[index] = old
        diff = (plus - minus) * (df if weighted else 1.0)
        grad[index] = np.sum(diff) / ((divisor if central else 1.0) * h)
    return grad


def _rnn_step_bw(dh, x_t, h_prev, Wx, Wh, b, *, tanh_grad=True, at_prev=False):
    h = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    da = dh * (1.0 - (h_prev if at_prev else h) ** 2) if tanh_grad else dh
    return da @ Wx.T, da @ Wh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def _lstm_step_bw(dh, dc_next, x_t, h_prev, c_prev, Wx, Wh, b, *, cell_tanh_grad=True, sigmoid_grad=True,
                  through_forget=True, order="ifgo", swap=False):
    i, f, g, o = L.lstm_gates(x_t, h_prev, Wx, Wh, b)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc = dc_next + dh * o * ((1.0 - tc ** 2) if cell_tanh_grad else 1.0)
    ds = (lambda s: s * (1.0 - s)) if sigmoid_grad else (lambda s: 1.0 - s ** 2)
    blocks = {"i": dc * g * ds(i), "f": dc * c_prev * ds(f), "g": dc * i * (1.0 - g ** 2), "o": dh * tc * ds(o)}
    da = np.concatenate([blocks[k] for k in order], axis=1)
    dh_prev, dc_prev = da @ Wh.T, dc * f if through_forget else dc
    if swap:
        dh_prev, dc_prev = dc_prev, dh_prev
    return da @ Wx.T, dh_prev, dc_prev, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def _gru_step_bw(dh, x_t, h_prev, Wx, Wh, bx, bh, *, z_sign=1.0, reset_in_h=True, direct=True, tanh_grad=True):
    r, z, n = G.gru_gates(x_t, h_prev, Wx, Wh, bx, bh)
    ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)[2]
    dn_pre = dh * (1.0 - z) * ((1.0 - n ** 2) if tanh_grad else 1.0)
    dr_pre = dn_pre * ah_n * r * (1.0 - r)
    dz_pre = z_sign * dh * (h_prev - n) * z * (1.0 - z)
    dax = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
    dah = np.concatenate([dr_pre, dz_pre, dn_pre * r if reset_in_h else dn_pre], axis=1)
    dh_prev = (dh * z if direct else 0.0) + dah @ Wh.T
    return dax @ Wx.T, dh_prev, x_t.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


def _bptt(cell, step=None, *, carry=True, carry_cell=True, only_last=False, sum_weights=True, swap=False,
          frozen=()):
    """A sequence backward pass over `step` with one usual BPTT mistake switched on.

    `frozen` lists the carried gradients (0: h, 1: c) that are never updated from what
    each step returns: they stay at their starting zeros and come back as dh0 (dc0).
    """
    forward, step_bw, n_states = {"rnn": (R.rnn_forward, B.rnn_step_backward, 1),
                                  "lstm": (L.lstm_forward, B.lstm_step_backward, 2),
                                  "gru": (G.gru_forward, B.gru_step_backward, 1)}[cell]
    step_bw = step or step_bw

    def run(dhs, x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        out = forward(x, *states, *weights)
        seqs = out if n_states == 2 else (out,)
        prevs = [np.concatenate([s[:, None], q[:, :-1]], axis=1) for s, q in zip(states, seqs)]
        T = x.shape[1]
        dx, grads = np.zeros_like(x), [np.zeros_like(w) for w in weights]
        carried = [np.zeros_like(s) for s in states]
        for t in reversed(range(T)):
            up = dhs[:, t] if (t == T - 1 or not only_last) else np.zeros_like(dhs[:, t])
            into = [up + carried[0] if carry else up]
            if n_states == 2:
                into.append(carried[1] if carry_cell else np.zeros_like(carried[1]))
            res = step_bw(*into, x[:, t], *(p[:, t] for p in prevs), *weights)
            dx[:, t] = res[0]
            carried = [old if k in frozen else new for k, (old, new) in enumerate(zip(carried, res[1:1 + n_states]))]
            step_grads = res[1 + n_states:]
            grads = [a + g for a, g in zip(grads, step_grads)] if sum_weights else list(step_grads)
        if swap:
            carried = carried[::-1]
        return (dx, *carried, *grads)
    return run


def _first_step(backward, x, states, weights, *, reduce=np.mean, unit=True):
    N, T, _ = x.shape
    H = np.asarray(states[0]).shape[1]
    dhs = np.zeros((T * N, T, H))
    for k in range(T):
        dhs[k * N:(k + 1) * N, k] = 1.0 / np.sqrt(H) if unit else 1.0
    dx = backward(dhs, np.tile(x, (T, 1, 1)), *(np.tile(s, (T, 1)) for s in states), *weights)[0]
    return reduce(np.linalg.norm(dx[:, 0], axis=1).reshape(T, N), axis=1)


# --- stepping -----------------------------------------------------------------------------
def _projection_no_bias(x, Wx, b):
    return np.einsum("ntd,dh->nth", x, Wx)


def _hoisted(x, h0, Wx, Wh, b, lengths=None, *, use_lengths=True, carry_state=True, bias_again=False):
    """rnn_forward_hoisted with one usual mistake switched on."""
    N, T, _ = x.shape
    lengths = np.full(N, T) if lengths is None or not use_lengths else np.asarray(lengths)
    P = S.project_inputs(x, Wx, b)
    h, hs = h0, np.zeros((N, T, h0.shape[1]))
    for t in range(T):
        new = np.tanh(P[:, t] + (h if carry_state else h0) @ Wh + (b if bias_again else 0.0))
        h = np.where((t < lengths)[:, None], new, h)
        hs[:, t] = h
    return hs


def _softmax_other_axis(z, axis=-1):
    """Normalised along axis 0 (the batch, for scores (N, T)) instead of the axis asked for."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim < 2 or axis % z.ndim == 0:
        raise ValueError("no other axis to confuse it with")
    return S.softmax(z, axis=0)


def _softmax_whole_array(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float64) - np.max(z))
    return e / e.sum()


def _attend(q, K, V, mask=None, *, scale=True, axis=1, mask_after=False, use_mask=True):
    """attend with one usual mistake switched on."""
    N, T, Dk = K.shape
    allowed = np.ones((N, T), dtype=bool) if mask is None or not use_mask else np.asarray(mask, dtype=bool)
    scores = np.einsum("ntk,nk->nt", K, q) / (np.sqrt(Dk) if scale else 1.0)
    if mask_after:
        weights = S.softmax(scores, axis=1) * allowed
    else:
        weights = S.softmax(np.where(allowed, scores, -np.inf), axis=axis)
    return np.einsum("nt,ntv->nv", weights, V), weights


def _steps_counted(kind, T):
    """The total work instead of the chain: one operation per position, T * T scores for attention."""
    return T * T if kind == "attention" else T


def _with(function, **options):
    def variant(*args):
        return function(*args, **options)
    return variant


NO_CARRY = ("the gradient carried back from step t + 1 never reaches step t: the step at t must get dhs[:, t] plus "
            "the dh_prev that the step after it returned (is it added, and is the variable you add assigned from "
            "dh_prev?)")
NOT_UPDATED = ("the carried gradient is never updated: it keeps its starting zeros, so every step gets only its own "
               "dhs[:, t] and dh0 comes back as zeros. Assign each step's dh_prev to the variable you add to the "
               "next dhs (a new name on the left of `=` leaves the old variable as it was)")
ONLY_LAST = ("dhs is read as the gradient passed between steps: only dhs[:, -1] enters. Every step has its own "
             "upstream gradient dhs[:, t], added to the carried one")
NOT_SUMMED = "the weight gradients are not summed over time: add every step's dWx, dWh and biases"
TANH_GRAD = "the derivative of tanh is missing: multiply by (1 - h**2) before the matrix products"

NOT_CARRIED = "the state is not carried: every step starts again from h0 instead of the previous step's state"
LENGTHS = ("padding steps change the state: at steps t >= lengths[n], row n must keep its previous state "
           "(np.where on an (N, 1) mask of t < lengths)")

MISTAKES = {
    "dense_forward": [
        Mistake("dense-no-bias", "the bias b is missing: tanh(x @ W + b)", _dense_no_bias),
        Mistake("dense-no-tanh", "tanh is missing: the layer returns x @ W + b unsquashed", _dense_no_tanh),
    ],
    "flatten_sequence": [
        Mistake("flatten-feature-major", "the flat row is laid out feature by feature; lay it out step by "
                "step (x[n, 0], then x[n, 1], ...): x.reshape(N, T * D)", _flatten_feature_major),
    ],
    "pad_or_truncate": [  # truncate-front first: on a long sequence the two give the same output
        Mistake("truncate-front", "long sequences lose their start; keep the first T_fixed steps and cut the tail",
                _truncate_front),
        Mistake("pad-front", "padding or cutting at the front; zeros go at the end and the tail is cut",
                _pad_at_front),
    ],
    "mean_pool": [
        Mistake("pool-sum", "summed over time instead of averaging (divide by T)", _mean_pool_sum),
        Mistake("pool-axis", "averaged over the feature axis; average over time, axis=1", _mean_pool_features),
    ],
    "rnn_step": [
        Mistake("rnn-no-bias", "the bias b is missing: tanh(x_t @ Wx + h_prev @ Wh + b)", _rnn_step_no_bias),
        Mistake("rnn-sigmoid", "sigmoid is used where tanh belongs", _rnn_step_sigmoid),
        Mistake("rnn-no-tanh", "tanh is missing: the new state must be squashed", _rnn_step_linear),
        Mistake("rnn-wx-wh-swapped", "Wx and Wh are swapped: the input goes through Wx, the state through Wh",
                _rnn_step_swapped),
        Mistake("rnn-no-state", "h_prev is ignored: the new state must depend on the previous one",
                _rnn_step_no_state),
    ],
    "rnn_forward": [
        Mistake("rnn-state-not-carried", NOT_CARRIED, _forward(R.rnn_step, 3, carry_state=False)),
        Mistake("rnn-lengths-ignored", LENGTHS, _forward(R.rnn_step, 3, use_lengths=False)),
        Mistake("rnn-padding-resets", "padding steps reset the state to zero; they must keep it",
                _forward(R.rnn_step, 3, reset_padding=True)),
        Mistake("rnn-time-major", "time and batch axes are confused: step t is x[:, t] (arrays are batch-first, "
                "(N, T, D)), not x[t]", _rnn_forward_time_major),
    ],
    "rnn_readout": [Mistake("readout-no-bias", "the bias by is missing: h @ Wy + by", _readout_no_bias)],
    "sigmoid": [
        Mistake("sigmoid-tanh", "this is tanh, not the logistic sigmoid 1 / (1 + exp(-z))", _sigmoid_tanh),
        Mistake("sigmoid-sign", "the sign is flipped: 1 / (1 + exp(-z)), not exp(+z)", _sigmoid_negated),
    ],
    "lstm_gates": [
        Mistake("lstm-cs231n-order", "the gates are read in CS231n's order (i, f, o, g); this kit stacks them "
                "i, f, g, o like PyTorch: g is the third block, o the fourth", _gates_cs231n),
        Mistake("lstm-g-sigmoid", "g, the candidate, takes tanh, not sigmoid", _gates_g_sigmoid),
        Mistake("lstm-o-tanh", "the output gate o takes sigmoid, not tanh", _gates_o_tanh),
        Mistake("lstm-no-bias", "the bias b is missing from the gate pre-activations", _gates_no_bias),
    ],
    "lstm_step": [
        Mistake("lstm-hc-swapped", "h and c are swapped: return (h_t, c_t) in that order", _lstm_step_hc_swapped),
        Mistake("lstm-no-cell-tanh", "tanh is missing on the cell: h_t = o * tanh(c_t)", _lstm_step_no_cell_tanh),
        Mistake("lstm-no-input-gate", "the input gate is not applied: c_t = f * c_prev + i * g",
                _lstm_step_no_input_gate),
        Mistake("lstm-no-forget-gate", "the forget gate is not applied: c_t = f * c_prev + i * g",
                _lstm_step_no_forget_gate),
        Mistake("lstm-cs231n-order", "the gates are read in CS231n's order (i, f, o, g); use i, f, g, o",
                _lstm_step_cs231n),
    ],
    "lstm_forward": [
        Mistake("lstm-cell-not-carried", "the cell is not carried: each step starts again from c0",
                _lstm_forward(carry_cell=False)),
        Mistake("lstm-state-not-carried", NOT_CARRIED, _lstm_forward(carry_state=False)),
        Mistake("lstm-lengths-ignored", LENGTHS + "; both h and c", _lstm_forward(use_lengths=False)),
    ],
    "gru_gates": [
        Mistake("gru-keras-order", "the blocks are read as z, r, n (Keras); this kit uses r, z, n like PyTorch",
                _gru_gates_zrn),
        Mistake("gru-reset-before", "the reset gate is applied before the matrix product (Cho et al., Keras "
                "reset_after=False); here it multiplies (h_prev @ Wh_n + bh_n)", _gru_gates_reset_before),
        Mistake("gru-no-bh", "the hidden bias bh is missing", _gru_gates_no_bh),
    ],
    "gru_step": [
        Mistake("gru-z-swapped", "z and 1 - z are swapped: h_t = (1 - z) * n + z * h_prev", _gru_step_z_swapped),
        Mistake("gru-reset-before", "the reset gate is applied before the matrix product; it multiplies "
                "(h_prev @ Wh_n + bh_n)", _gru_step_reset_before),
        Mistake("gru-keras-order", "the blocks are read as z, r, n; use r, z, n", _gru_step_zrn),
    ],
    "gru_forward": [
        Mistake("gru-state-not-carried", NOT_CARRIED, _forward(G.gru_step, 4, carry_state=False)),
        Mistake("gru-lengths-ignored", LENGTHS, _forward(G.gru_step, 4, use_lengths=False)),
        Mistake("gru-z-swapped", "z and 1 - z are swapped in the update", _forward(_gru_step_z_swapped, 4)),
    ],
    "numerical_gradient": [
        Mistake("numgrad-one-sided", "this is a one-sided difference (f(x + h) - f(x)) / h; use the centred "
                "(f(x + h) - f(x - h)) / (2h), whose error shrinks as h**2", _with(_numgrad, central=False)),
        Mistake("numgrad-no-df", "df is not used: the gradient of sum(f(x) * df) weights each output by df",
                _with(_numgrad, weighted=False)),
        Mistake("numgrad-over-h", "the centred difference is divided by h, not 2h", _with(_numgrad, divisor=1.0)),
    ],
    "rnn_step_backward": [
        Mistake("bptt-no-tanh-grad", TANH_GRAD, _with(_rnn_step_bw, tanh_grad=False)),
        Mistake("bptt-tanh-grad-at-h-prev", "the tanh derivative is taken at h_prev; use this step's output, "
                "1 - h**2 with h = tanh(x_t @ Wx + h_prev @ Wh + b)", _with(_rnn_step_bw, at_prev=True)),
    ],
    "rnn_backward": [
        Mistake("bptt-no-carry", NO_CARRY, _bptt("rnn", carry=False)),
        Mistake("bptt-only-last", ONLY_LAST, _bptt("rnn", only_last=True)),
        Mistake("bptt-not-summed", NOT_SUMMED, _bptt("rnn", sum_weights=False)),
        Mistake("bptt-no-tanh-grad", TANH_GRAD, _bptt("rnn", _with(_rnn_step_bw, tanh_grad=False))),
        Mistake("bptt-carry-not-updated", NOT_UPDATED, _bptt("rnn", frozen=(0,))),
    ],
    "lstm_step_backward": [
        Mistake("lstm-bptt-no-cell-tanh-grad", "the path from h to c misses tanh's derivative: "
                "dc = dc_next + dh_next * o * (1 - tanh(c)**2)", _with(_lstm_step_bw, cell_tanh_grad=False)),
        Mistake("lstm-bptt-sigmoid-grad", "the sigmoid gates use tanh's derivative (1 - s**2); a sigmoid's is "
                "s * (1 - s)", _with(_lstm_step_bw, sigmoid_grad=False)),
        Mistake("lstm-bptt-forget", "dc_prev skips the forget gate: the cell reaches c_prev through f, so "
                "dc_prev = dc * f", _with(_lstm_step_bw, through_forget=False)),
        Mistake("lstm-bptt-cs231n-order", "the gate gradients are stacked as i, f, o, g; stack them in the "
                "weights' order i, f, g, o", _with(_lstm_step_bw, order="ifog")),
        Mistake("lstm-bptt-hc-swapped", "dh_prev and dc_prev are swapped: return (dx, dh_prev, dc_prev, ...)",
                _with(_lstm_step_bw, swap=True)),
    ],
    "lstm_backward": [
        Mistake("lstm-bptt-no-carry", NO_CARRY, _bptt("lstm", carry=False)),
        Mistake("lstm-bptt-cell-not-carried", "the cell's gradient is not carried: pass each step's dc_prev "
                "to the step before it as dc_next", _bptt("lstm", carry_cell=False)),
        Mistake("lstm-bptt-only-last", ONLY_LAST, _bptt("lstm", only_last=True)),
        Mistake("lstm-bptt-not-summed", NOT_SUMMED, _bptt("lstm", sum_weights=False)),
        Mistake("lstm-bptt-hc-swapped", "dh0 and dc0 are swapped: return (dx, dh0, dc0, ...)",
                _bptt("lstm", swap=True)),
        Mistake("lstm-bptt-carry-not-updated", NOT_UPDATED, _bptt("lstm", frozen=(0,))),
        Mistake("lstm-bptt-cell-not-updated", "the carried cell gradient is never updated: it keeps its starting "
                "zeros, so no step's cell hears from the steps after it and dc0 comes back as zeros. Assign each "
                "step's dc_prev to the dc you pass to the step before it", _bptt("lstm", frozen=(1,))),
    ],
    "gru_step_backward": [
        Mistake("gru-bptt-z-sign", "the update gate's gradient has the wrong sign: h = (1 - z) * n + z * h_prev "
                "gives dh/dz = h_prev - n", _with(_gru_step_bw, z_sign=-1.0)),
        Mistake("gru-bptt-reset-h-side", "the reset gate is left out of the h-side gradient: n's h-side "
                "pre-activation is r * (h_prev @ Wh_n + bh_n), so its gradient is multiplied by r",
                _with(_gru_step_bw, reset_in_h=False)),
        Mistake("gru-bptt-no-direct-path", "dh_prev misses the direct path z * dh_next (h_prev enters h through "
                "z * h_prev as well as through the gates)", _with(_gru_step_bw, direct=False)),
        Mistake("gru-bptt-no-tanh-grad", "the candidate n misses tanh's derivative (1 - n**2)",
                _with(_gru_step_bw, tanh_grad=False)),
    ],
    "gru_backward": [
        Mistake("gru-bptt-no-carry", NO_CARRY, _bptt("gru", carry=False)),
        Mistake("gru-bptt-only-last", ONLY_LAST, _bptt("gru", only_last=True)),
        Mistake("gru-bptt-not-summed", NOT_SUMMED, _bptt("gru", sum_weights=False)),
        Mistake("gru-bptt-carry-not-updated", NOT_UPDATED, _bptt("gru", frozen=(0,))),
    ],
    "gradient_to_first_step": [
        Mistake("first-step-summed", "the norms are summed over the batch; report their mean",
                _with(_first_step, reduce=np.sum)),
        Mistake("first-step-unit", "the upstream gradient is ones(H); use the unit vector ones(H) / sqrt(H)",
                _with(_first_step, unit=False)),
    ],
    "recall_accuracy": [Mistake("accuracy-inverted", "this is the error rate; return the fraction *right*",
                                _recall_error_rate)],
    "project_inputs": [
        Mistake("projection-no-bias", "the bias b is missing: every step's projection is x_t @ Wx + b",
                _projection_no_bias),
    ],
    "rnn_forward_hoisted": [
        Mistake("hoisted-bias-twice", "the bias is added twice: project_inputs already adds b, so the loop adds only "
                "h @ Wh, h = tanh(P[:, t] + h @ Wh)", _with(_hoisted, bias_again=True)),
        Mistake("rnn-lengths-ignored", LENGTHS, _with(_hoisted, use_lengths=False)),
        Mistake("rnn-state-not-carried", NOT_CARRIED, _with(_hoisted, carry_state=False)),
    ],
    "softmax": [
        Mistake("softmax-wrong-axis", "the exponentials are normalised along the wrong axis: sum along `axis` "
                "(np.sum(e, axis=axis, keepdims=True)), which is the last one unless the caller says otherwise",
                _softmax_other_axis),
        Mistake("softmax-whole-array", "the exponentials are divided by the sum of the whole array; divide by the "
                "sum along `axis` only (keepdims=True), so that each row sums to 1", _softmax_whole_array),
    ],
    "attend": [
        Mistake("attention-unscaled", "the scores are not scaled: divide K @ q by sqrt(Dk), the size of a key",
                _with(_attend, scale=False)),
        Mistake("attention-softmax-axis", "the softmax runs over the batch (axis 0); each row's weights are a "
                "softmax over its own T positions (axis 1 of the (N, T) scores)", _with(_attend, axis=0)),
        Mistake("attention-mask-after-softmax", "the mask is applied after the softmax, so the allowed weights no "
                "longer sum to 1; set forbidden scores to -inf before the softmax instead",
                _with(_attend, mask_after=True)),
        Mistake("attention-mask-ignored", "the mask is not used: a position where mask is False must get weight 0 "
                "(set its score to -inf before the softmax)", _with(_attend, use_mask=False)),
    ],
    "sequential_steps": [
        Mistake("steps-count-operations", "this counts operations (the work: T steps of input, T * T scores), not "
                "the chain of steps that must wait for each other: a dense layer and attention read all T positions "
                "in one step, an RNN needs T in a row", _steps_counted),
    ],
}


# --- overflow: read from where the answer stopped being finite (feedback.overflow_mistake, shipped to handouts)


#: every mistake's hint by its key (for pages that name a mistake without its function)
HINTS = {m.key: m.hint for ms in MISTAKES.values() for m in ms}
HINTS[TANH_OVERFLOW.key] = TANH_OVERFLOW.hint
