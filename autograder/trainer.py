"""A small trainer: teach a recurrent cell the delayed-recall task with its own backward pass.

The training checks run it in the grading process with *the student's* forward and
backward, each call of which goes to the student's sandboxed worker; the weights it ends
with are scored with the reference forward pass. The notebook runs it on the notebook's
own functions, and `rnn-grade experiment` on the reference. It imports only numpy, and
it holds no exercise's answer: the sequences it learns from come from whoever calls it
(memory.make_recall_task: the reference's when grading, the student's in a notebook).

The model: the cell reads x (N, T, 3) from zero states; a linear readout of the last
state scores the two bits, ``scores = h[:, -1] @ Wy + by`` (N, 2); the loss is the mean
cross-entropy of softmax(scores). Gradients: the readout's by hand, the cell's by the
given backward function (the upstream gradient sits on the last step only). Updates:
Adam, after clipping the global gradient norm to `clip`.

Cells and their functions (gate orders as in the exercises: LSTM i, f, g, o; GRU r, z, n):

    "rnn":  forward(x, h0, Wx, Wh, b) -> hs;            backward(dhs, x, h0, Wx, Wh, b) -> (dx, dh0, dWx, dWh, db)
    "lstm": forward(x, h0, c0, Wx, Wh, b) -> (hs, cs);  backward(dhs, x, h0, c0, ...) -> (dx, dh0, dc0, dWx, dWh, db)
    "gru":  forward(x, h0, Wx, Wh, bx, bh) -> hs;       backward(dhs, x, h0, ...) -> (dx, dh0, dWx, dWh, dbx, dbh)

Everything is seeded. On one machine (one CPU, numpy and BLAS build) the same functions,
data and seed give the same weights to the last bit. Across machines they need not:
BLAS kernels round differently per CPU, and training amplifies the last bits, most of all
in runs that never learn. So only outcomes with a wide margin are graded (see
checks/bptt.py: PASS and MARGIN), and tests/test_trainer.py proves the graded ones
unchanged when the last bits of the gradients change.
"""
import numpy as np

#: per cell: (number of states, number of gate blocks in the stacked weights)
CELLS = {"rnn": (1, 1), "lstm": (2, 4), "gru": (1, 3)}
#: per cell: the exercise functions it trains with, (forward, backward)
FUNCTIONS = {cell: (f"{cell}_forward", f"{cell}_backward") for cell in CELLS}
#: initial bias of the gate that keeps the state (LSTM forget, GRU update)
KEEP_BIAS = 4.0
#: Adam's step size per cell. At gap 70 over 10 seeds the GRU learns in 39 updates on average at 0.04
#: (65 at 0.01) and every seed learns; the LSTM at 0.015 took over 240 updates on 2 seeds and not 400 on
#: a third, at 0.02 3 of 6 seeds did not learn in 400, so it keeps 0.01 (docs/experiment.md: updates per run)
STEP_SIZE = {"rnn": 0.01, "lstm": 0.01, "gru": 0.04}


def init_params(cell, D, H, seed):
    """Initial cell weights (a tuple, in the forward's argument order) and readout (Wy (H, 2), by (2,)).

    Input weights ~ N(0, 1/D), recurrent weights orthogonal (per gate block), biases zero,
    except the bias of the gate that keeps the state, which starts at KEEP_BIAS: the LSTM's
    forget gate and the GRU's update gate begin by remembering.
    """
    _, blocks = CELLS[cell]
    rng = np.random.default_rng(seed)
    Wx = rng.standard_normal((D, blocks * H)) / np.sqrt(D)
    Wh = np.concatenate([np.linalg.qr(rng.standard_normal((H, H)))[0] for _ in range(blocks)], axis=1)
    b = np.zeros(blocks * H)
    if cell == "lstm":
        b[H:2 * H] = KEEP_BIAS  # forget gate, block f of i, f, g, o
    if cell == "gru":
        b[H:2 * H] = KEEP_BIAS  # update gate, block z of r, z, n (z = 1 keeps h)
    weights = (Wx, Wh, b, np.zeros(blocks * H)) if cell == "gru" else (Wx, Wh, b)
    Wy = rng.standard_normal((H, 2)) / np.sqrt(H)
    return weights, (Wy, np.zeros(2))


def hidden_states(out, cell):
    """The hidden states (N, T, H) in a forward's result (the LSTM's is (hs, cs)), as float64."""
    return np.asarray(out[0] if CELLS[cell][0] == 2 else out, dtype=np.float64)


def last_states(forward, cell, x, weights):
    """h at the last step, (N, H), from zero initial states."""
    zeros = np.zeros((x.shape[0], weights[1].shape[0]))
    return hidden_states(forward(x, *(zeros,) * CELLS[cell][0], *weights), cell)[:, -1]


def _loss_and_grad(scores, bits):
    """Mean cross-entropy of softmax(scores) (N, 2) at `bits`, and its gradient on the scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(len(bits))
    loss = -np.mean(np.log(p[rows, bits] + 1e-300))
    p[rows, bits] -= 1.0
    return loss, p / len(bits)


def train_recall(forward, backward, cell, x, bits, seed, *, hidden=8, batch=64, steps=400, lr=None, clip=1.0,
                 patience=3):
    """Train `cell` (rnn, lstm or gru) to report each sequence's bit; return what was learned.

    Args:
        forward, backward: the cell's sequence functions (see the module docstring).
        x: training sequences, (M, T, 3) as make_recall_task builds them; bits (M,), 0 or 1.
        seed: seeds the initial weights and the order of the minibatches.
        hidden: H; batch: sequences per update; steps: at most this many updates.
        lr: Adam's step size (None: the cell's STEP_SIZE); clip: the largest global gradient norm
            (larger ones are scaled down).
        patience: stop early once this many updates in a row got every sequence of their
            batch right with a margin (the probability of the right bit above 0.9): with the
            default, 192 sequences in a row. Whether the cell learned is decided afterwards, on
            new sequences; stopping early only saves updates, it cannot make a cell pass.

    Returns:
        (weights, readout, losses): the trained cell weights (a tuple in the forward's
        order), the readout (Wy (H, 2), by (2,)), and the loss of every update, (steps run,).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}; got {cell!r}")
    x = np.asarray(x, dtype=np.float64)
    bits = np.asarray(bits).astype(np.int64)
    n_states = CELLS[cell][0]
    lr = STEP_SIZE[cell] if lr is None else lr
    weights, (Wy, by) = init_params(cell, x.shape[2], hidden, seed)
    params = [*weights, Wy, by]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(seed + 1)
    losses, streak = [], 0
    for step in range(1, steps + 1):
        rows = rng.choice(len(x), size=min(batch, len(x)), replace=False)
        xb, bb = x[rows], bits[rows]
        *weights, Wy, by = params
        zeros = np.zeros((len(rows), hidden))
        out = forward(xb, *(zeros,) * n_states, *weights)
        hs = hidden_states(out, cell)  # (B, T, H)
        h_last = hs[:, -1]
        loss, dscores = _loss_and_grad(h_last @ Wy + by, bb)  # dscores (B, 2)
        dhs = np.zeros_like(hs)
        dhs[:, -1] = dscores @ Wy.T
        grads = backward(dhs, xb, *(zeros,) * n_states, *weights)
        grads = [np.asarray(g, dtype=np.float64) for g in grads[1 + n_states:]]
        grads += [h_last.T @ dscores, dscores.sum(axis=0)]
        norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
        if not np.isfinite(norm):
            raise FloatingPointError(f"the gradient is not finite at update {step}")
        scale = min(1.0, clip / (norm + 1e-12))
        for p, g, (m, v) in zip(params, grads, moments):
            g = g * scale
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
        losses.append(loss)
        right = -dscores[np.arange(len(bb)), bb] * len(bb)  # 1 - p(right bit), per row
        streak = streak + 1 if np.all(right < 0.1) else 0
        if streak >= patience:
            break
    *weights, Wy, by = params
    return tuple(weights), (Wy, by), np.array(losses)


def accuracy(forward, cell, x, bits, weights, readout):
    """Fraction of sequences whose larger readout score is at their bit."""
    Wy, by = readout
    scores = last_states(forward, cell, np.asarray(x, dtype=np.float64), weights) @ Wy + by
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(bits)))
