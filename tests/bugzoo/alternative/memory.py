"""Parts 3 and 4c, written differently: other latch weights, SVD, a closed-form line fit."""
import numpy as np

__all__ = ["RECALL_CHANNELS", "make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_gru_params",
           "latch_rnn_params", "contractive_rnn_params", "first_input_influence", "geometric_rate"]

RECALL_CHANNELS = ("value", "write", "query")
VALUE, WRITE, QUERY = range(3)


def make_recall_task(n, gap, seed=0):
    gen = np.random.default_rng(seed)
    bits = gen.integers(0, 2, size=n).astype(np.int64)  # bits first, then the distractors
    noise = gen.choice([-1.0, 1.0], size=(n, gap))
    write_step = np.zeros((n, 1, 3))
    write_step[:, 0, VALUE] = np.where(bits == 1, 1.0, -1.0)
    write_step[:, 0, WRITE] = 1.0
    middle = np.zeros((n, gap, 3))
    middle[:, :, VALUE] = noise
    query_step = np.zeros((n, 1, 3))
    query_step[:, 0, QUERY] = 1.0
    return np.concatenate([write_step, middle, query_step], axis=1), bits


def recall_accuracy(scores, bits):
    scores, bits = np.asarray(scores, dtype=float), np.asarray(bits)
    right = 0
    for row, bit in zip(scores, bits):
        guess = 1 if row[1] > row[0] else 0  # argmax: a tie goes to bit 0
        right += int(guess == bit)
    return right / len(bits)


def latch_lstm_params():
    # columns: i, f, g, o. i = sigmoid(60 * write - 30), f = o = sigmoid(40), g = tanh(4 * value)
    Wx = np.array([[0.0, 0.0, 4.0, 0.0],
                   [60.0, 0.0, 0.0, 0.0],
                   [0.0, 0.0, 0.0, 0.0]])
    b = np.array([-30.0, 40.0, 0.0, 40.0])
    return Wx, np.zeros_like(b)[np.newaxis, :], b, np.array([[-2.0, 2.0]]), np.array([0.0, 0.0])


def latch_gru_params():
    # columns: r, z, n. z = sigmoid(25 - 50 * write): take n only at the write step; n = tanh(2 * value)
    Wx = np.array([[0.0, 0.0, 2.0],
                   [0.0, -50.0, 0.0],
                   [0.0, 0.0, 0.0]])
    bx = np.array([0.0, 25.0, 0.0])
    return Wx, 0.0 * bx[np.newaxis, :], bx, 0.0 * bx, np.array([[-5.0, 5.0]]), np.array([0.0, 0.0])


def latch_rnn_params():
    # detectors for "write a 1" and "write a 0" (steeper than the reference's), feeding a self-weight-2 unit
    k = 8.0
    Wx = np.diag([0.0, 0.0, 0.0])
    Wx[VALUE, :2] = k, -k
    Wx[WRITE, :2] = k, k
    threshold = np.array([1.5 * k, 1.5 * k, 0.0])
    Wh = np.diag([0.0, 0.0, 2.0])  # unit 2: self-weight 2, two stable states
    Wh[0, 2], Wh[1, 2] = 1.0, -1.0  # the detectors push it up (bit 1) or down (bit 0)
    Wy = np.outer([0.0, 0.0, 1.0], [-1.0, 1.0])  # read unit 2: -h for bit 0, +h for bit 1
    return Wx, Wh, -threshold, Wy, np.zeros(2)


def contractive_rnn_params(D, H, gain=0.5, seed=0):
    if not 0.0 < gain < 1.0:
        raise ValueError("gain must be in (0, 1)")
    gen = np.random.default_rng(seed)
    inputs = gen.standard_normal((D, H)) * (1.0 / np.sqrt(D))
    recurrent = gen.standard_normal((H, H))
    top = np.linalg.svd(recurrent, compute_uv=False)[0]
    bias = gen.standard_normal(H) / 10.0
    return inputs, recurrent * (gain / top), bias


def first_input_influence(forward, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    D = x.shape[2]
    nudge = np.zeros_like(x)
    nudge[:, 0, :] = eps / np.sqrt(D)

    def run(inputs):
        out = forward(inputs)
        if isinstance(out, tuple):
            out = out[0]
        return np.asarray(out, dtype=float)

    up, down = run(x + nudge), run(x - nudge)
    per_row = np.sqrt(np.sum((up - down) ** 2, axis=2)) / (2.0 * eps)  # (N, T)
    return per_row.sum(axis=0) / x.shape[0]


def geometric_rate(values, floor=1e-8):
    values = np.asarray(values, dtype=float)
    t = np.array([k for k, v in enumerate(values) if v > floor], dtype=float)
    if t.size < 2:
        raise ValueError(f"need at least two values above floor = {floor}")
    y = np.log(values[t.astype(int)])
    slope = np.sum((t - t.mean()) * (y - y.mean())) / np.sum((t - t.mean()) ** 2)
    return float(np.exp(slope))
