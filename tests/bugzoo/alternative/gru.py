"""Part 4b, written differently: weights sliced per gate, the update written as h + (1 - z) * (n - h)."""
import numpy as np

from .lstm import sigmoid

__all__ = ["GRU_GATES", "gru_gates", "gru_step", "gru_forward"]

GRU_GATES = ("r", "z", "n")


def gru_gates(x_t, h_prev, Wx, Wh, bx, bh):
    x_t, h_prev = np.asarray(x_t, dtype=float), np.asarray(h_prev, dtype=float)
    H = h_prev.shape[1]
    cols = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(GRU_GATES)}

    def from_x(name):
        return x_t @ np.asarray(Wx)[:, cols[name]] + np.asarray(bx)[cols[name]]

    def from_h(name):
        return h_prev @ np.asarray(Wh)[:, cols[name]] + np.asarray(bh)[cols[name]]

    reset = sigmoid(from_x("r") + from_h("r"))
    update = sigmoid(from_x("z") + from_h("z"))
    candidate = np.tanh(from_x("n") + reset * from_h("n"))  # PyTorch: reset after the product
    return reset, update, candidate


def gru_step(x_t, h_prev, Wx, Wh, bx, bh):
    _, z, n = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)
    h_prev = np.asarray(h_prev, dtype=float)
    return h_prev + (1.0 - z) * (n - h_prev)  # = (1 - z) * n + z * h_prev


def gru_forward(x, h0, Wx, Wh, bx, bh, lengths=None):
    x = np.asarray(x, dtype=float)
    N, T = x.shape[:2]
    stop = np.full(N, T) if lengths is None else np.asarray(lengths).astype(int)
    h = np.array(h0, dtype=float)
    out = np.zeros((N, T, h.shape[1]))
    for t in range(T):
        new = gru_step(x[:, t, :], h, Wx, Wh, bx, bh)
        for row in range(N):  # rows past their length keep their state
            if t < stop[row]:
                h[row] = new[row]
        out[:, t, :] = h
    return out
