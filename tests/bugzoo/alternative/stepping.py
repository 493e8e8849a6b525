"""Part 6, written differently: einsum projection, a list of states, log-sum-exp, other recall weights."""
import numpy as np

__all__ = ["READERS", "project_inputs", "rnn_forward_hoisted", "softmax", "attend", "attention_recall",
           "sequential_steps"]

READERS = ("feedforward", "rnn", "attention")


def project_inputs(x, Wx, b):
    return np.einsum("btd,dk->btk", np.asarray(x, dtype=float), np.asarray(Wx, dtype=float)) + np.asarray(b, float)


def rnn_forward_hoisted(x, h0, Wx, Wh, b, lengths=None):
    drive = project_inputs(x, Wx, b)  # (N, T, H), before any step
    batch, steps = drive.shape[0], drive.shape[1]
    until = np.full(batch, steps) if lengths is None else np.asarray(lengths).astype(int)
    state = np.array(h0, dtype=float)
    recurrent = np.asarray(Wh, dtype=float)
    kept = []
    for step in range(steps):
        moving = step < until
        candidate = np.tanh(drive[:, step] + np.dot(state, recurrent))
        state = np.where(moving[:, np.newaxis], candidate, state)
        kept.append(state)
    return np.stack(kept, axis=1) if kept else np.zeros((batch, 0, state.shape[1]))


def softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    top = np.amax(z, axis=axis, keepdims=True)
    log_total = top + np.log(np.exp(z - top).sum(axis=axis, keepdims=True))  # log-sum-exp, stably
    return np.exp(z - log_total)


def attend(q, K, V, mask=None):
    q, K, V = (np.asarray(a, dtype=float) for a in (q, K, V))
    allowed = np.ones(K.shape[:2], dtype=bool) if mask is None else np.asarray(mask).astype(bool)
    raw = np.matmul(K, q[:, :, np.newaxis])[:, :, 0] * (K.shape[2] ** -0.5)  # (N, T)
    raw = np.where(allowed, raw, -1e300)  # exp(-1e300 - max) is exactly 0
    weights = softmax(raw)
    return np.matmul(weights[:, np.newaxis, :], V)[:, 0, :], weights


def attention_recall(x):
    x = np.asarray(x, dtype=float)
    # two key features (write flag, query flag), two value features (+value, -value), a query of size 2
    keys = x @ np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    values = x @ np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    query = x[:, -1] @ np.array([[0.0, 0.0], [0.0, 0.0], [80.0, 0.0]])  # loud, and only for the write flag
    context, _ = attend(query, keys, values)
    return np.where(context[:, 0] - context[:, 1] > 0.0, 1, 0).astype(np.int64)


def sequential_steps(kind, T):
    if kind not in READERS:
        raise ValueError(f"unknown kind {kind!r}")
    chain = {"feedforward": lambda length: 1, "rnn": lambda length: length, "attention": lambda length: 1}
    return int(chain[kind](int(T)))
