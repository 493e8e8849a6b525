"""Part 1, written by a student who likes loops and einsum (a correct, differently written solution)."""
import numpy as np

__all__ = ["dense_forward", "flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern",
           "slotwise_responses", "shared_responses"]


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def dense_forward(x, W, b):
    x, W, b = _f64(x), _f64(W), _f64(b)
    if x.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(f"x must have shape (N, {W.shape[0]}); got {x.shape}")
    pre = np.einsum("nf,fh->nh", x, W)
    pre += b[np.newaxis, :]
    return np.tanh(pre)


def flatten_sequence(x):
    x = _f64(x)
    n_rows, steps, width = x.shape
    flat = np.empty((n_rows, steps * width))
    for step in range(steps):
        flat[:, step * width:(step + 1) * width] = x[:, step, :]
    return flat


def pad_or_truncate(x, T_fixed):
    x = _f64(x)
    steps = x.shape[1]
    if steps >= T_fixed:
        return x[:, :T_fixed, :].copy()
    filler = np.zeros((x.shape[0], T_fixed - steps, x.shape[2]))
    return np.concatenate([x, filler], axis=1)


def mean_pool(x):
    x = _f64(x)
    if x.shape[1] < 1:
        raise ValueError("mean_pool needs T >= 1")
    total = np.zeros((x.shape[0], x.shape[2]))
    for step in range(x.shape[1]):
        total = total + x[:, step, :]
    return total / x.shape[1]


def place_pattern(pattern, t, T):
    pattern = _f64(pattern)
    one_hot = np.zeros(T)
    one_hot[t] = 1.0
    return np.outer(one_hot, pattern)


def slotwise_responses(W, b, pattern, T):
    W, b, pattern = _f64(W), _f64(b), _f64(pattern)
    width = pattern.shape[0]
    rows = []
    for slot in range(T):
        # only slot `slot` of the flattened input is non-zero, so only its block of W matters
        block = W[slot * width:(slot + 1) * width]
        rows.append(np.tanh(pattern @ block + b))
    return np.array(rows)


def shared_responses(Wx, b, pattern, T):
    Wx, b, pattern = _f64(Wx), _f64(b), _f64(pattern)
    response = np.tanh(np.dot(pattern, Wx) + b)  # the same detector sees the same pattern at every slot
    return np.repeat(response[np.newaxis, :], T, axis=0)
