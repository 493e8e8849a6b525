"""Part 6 - The price of reading one step at a time.

Parts 2 to 5 built every model around one loop: read x_t, update h, move on. That loop is
what gives a recurrent network its memory, and it is also its bottleneck. The state after
step t is an input to step t + 1, so the T updates form a chain: however many processors
you own, step 500 cannot start before step 499 is done. Two costs follow.

* **Time.** The wall time of a forward pass grows with T even when each step is tiny,
  because the steps cannot overlap.
* **Distance.** What the model read at step 0 reaches step T only by going through every
  update in between. Parts 3 and 5 measured what that does to a signal and to its
  gradient.

**Take out of the loop what does not need the state** (`project_inputs`). The term
``x_t @ Wx + b`` depends on x_t alone. All T of them can be computed in one matrix
product over the N * T rows of the batch, before the loop starts. Fast RNN libraries do
this (cuDNN, and PyTorch on the CPU, run that product once per layer). Only ``h @ Wh``
stays inside (`rnn_forward_hoisted`). The states are those of `rnn_forward`. Each step has
less to do, and the one large product can use all of a machine's cores at once, but the
chain is still T steps long.

**Or drop the chain** (`softmax`, `attend`). Attention lets one position look at every
position in one go. Each position offers a key k_t (what it contains) and a value v_t
(what it would pass on). The reader holds a query q (what it is looking for). Every
position is scored by how well its key fits the query, ``k_t . q / sqrt(Dk)``. A softmax
turns the scores into weights that are positive and add up to 1, and the answer is the
weighted average of the values. No score waits for another score, so the whole read is
a fixed number of steps for any T, and position 0 is as close as position T - 1. The
division by sqrt(Dk) keeps the scores of random keys near unit size whatever Dk is, so
the softmax does not turn into a hard maximum just because the vectors are long. An
optional mask says which positions may be read (padding may not).

**Part 3's task, without recurrence** (`attention_recall`). Keys and values come from each
step's own input, through one set of weights shared by every position (Part 1's
`shared_responses`). The query asks for the write flag. The value found there is the
bit, whether 1,000 or 10,000 distractors came between, while Part 3's contractive RNN is
left guessing.

**The catch.** Nothing above knows *where* a step is. Shuffle the steps and the keys,
values and weights are shuffled with them, and the weighted average stays the same. Like
`mean_pool`, attention on its own reads a bag of steps, not a sequence. The models of the
next lesson add information about position to every input for that reason.

**Counting the chain** (`sequential_steps`): how many steps must run one after another to
read a sequence of length T, for a feedforward layer, an RNN and attention.

Shapes: N batch size, T time steps (positions), D input features, H hidden units, Dk the
size of a query and of each key, Dv the size of each value. Every array is float64;
weights multiply on the right (``x @ Wx``).
"""
import numpy as np

from ._validate import as_float_array, check_arrays, check_int, check_lengths, check_mask

__all__ = [
    "READERS",
    "project_inputs",
    "rnn_forward_hoisted",
    "softmax",
    "attend",
    "attention_recall",
    "sequential_steps",
]

READERS = ("feedforward", "rnn", "attention")  # the kinds of model sequential_steps counts for


def project_inputs(x, Wx, b):
    """Every step's input projection ``x_t @ Wx + b``, for all steps at once.

    Nothing here depends on a hidden state, so the N * T rows are independent of each
    other: one matrix product does them all, and the rows could just as well be computed
    in parallel.

    Args:
        x: input sequences, shape (N, T, D).
        Wx: input-to-hidden weights, shape (D, H).
        b: bias, shape (H,).

    Returns:
        shape (N, T, H): out[:, t] is ``x[:, t] @ Wx + b``.
    """
    x, Wx, b = check_arrays(x=(x, "N T D"), Wx=(Wx, "D H"), b=(b, "H"))
    N, T, D = x.shape
    rows = x.reshape(N * T, D)  # every step of every sequence is a row of its own
    return (rows @ Wx + b).reshape(N, T, Wx.shape[1])  # (N, T, H)


def rnn_forward_hoisted(x, h0, Wx, Wh, b, lengths=None):
    """`rnn_forward` with the input projection taken out of the loop.

    ``P = project_inputs(x, Wx, b)`` is computed once, for the whole sequence; the loop
    then does only what needs the previous state, ``h = tanh(P[:, t] + h @ Wh)``. The
    states are those of `rnn_forward`, `lengths` included.

    Args:
        x: input sequences, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: shape (D, H). Wh: shape (H, H). b: shape (H,).
        lengths: optional, shape (N,), whole numbers in [0, T]. At steps t >= lengths[n]
            row n keeps its previous state. None means every sequence has length T.

    Returns:
        hs: the hidden state after every step, shape (N, T, H).
    """
    x, h0, Wx, Wh, b = check_arrays(
        x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"), b=(b, "H")
    )
    N, T, _ = x.shape
    lengths = check_lengths(lengths, N, T)  # (N,) ints
    P = project_inputs(x, Wx, b)  # (N, T, H): all the work that does not wait for h
    hs = np.empty((N, T, h0.shape[1]))
    h = h0
    for t in range(T):  # the chain itself: step t needs the h of step t - 1
        reading = (t < lengths)[:, None]  # (N, 1)
        h = np.where(reading, np.tanh(P[:, t] + h @ Wh), h)  # (N, H)
        hs[:, t] = h
    return hs


def softmax(z, axis=-1):
    """``exp(z) / sum(exp(z))`` along `axis`, computed without overflow.

    Subtracting the largest entry along `axis` first changes nothing in the result (the
    factor exp(-max) cancels) and keeps exp away from large positive numbers.

    Args:
        z: an array with at least one axis, e.g. scores of shape (N, T).
        axis: the axis to normalise over, an int (default: the last).

    Returns:
        an array of z's shape, positive, summing to 1 along `axis`. Finite, and with no
        overflow warning, for entries as large as 1e4 (or larger) in size.
    """
    z = as_float_array("z", z)
    if z.ndim == 0:
        raise ValueError("z must have at least one axis to normalise over; got a 0-d array (a single number)")
    axis = check_int("axis", axis, -z.ndim, z.ndim - 1)
    if z.shape[axis] == 0:
        raise ValueError(f"z has no entries along axis {axis} (shape {tuple(z.shape)}); a softmax needs at least one")
    shifted = z - np.max(z, axis=axis, keepdims=True)  # the largest entry becomes 0: exp(.) <= 1
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def attend(q, K, V, mask=None):
    """Scaled dot-product attention: one query per row, read out of T positions.

    ``weights[n] = softmax(K[n] @ q[n] / sqrt(Dk))`` over the positions that `mask[n]`
    allows (a position it forbids gets weight 0), and ``context[n] = weights[n] @ V[n]``.

    Args:
        q: queries, shape (N, Dk).
        K: keys, shape (N, T, Dk).
        V: values, shape (N, T, Dv).
        mask: optional, shape (N, T), booleans: True where a position may be read. None
            means every position. A row that allows no position is a ValueError.

    Returns:
        the tuple (context, weights): context of shape (N, Dv), weights of shape (N, T),
        each row summing to 1 over its allowed positions and 0 elsewhere.
    """
    q, K, V = check_arrays(q=(q, "N DK"), K=(K, "N T DK"), V=(V, "N T DV"))
    N, T, Dk = K.shape
    if T == 0 or Dk == 0:
        raise ValueError(f"attend needs at least one position and one key feature; K has shape {tuple(K.shape)}")
    mask = check_mask(mask, N, T)  # (N, T) bool
    scores = np.einsum("ntk,nk->nt", K, q) / np.sqrt(Dk)  # (N, T): how well each key fits the query
    scores = np.where(mask, scores, -np.inf)  # a forbidden position can win no weight at all
    weights = softmax(scores, axis=1)  # (N, T)
    context = np.einsum("nt,ntv->nv", weights, V)  # (N, Dv): the weighted average of the values
    return context, weights


def attention_recall(x):
    """Part 3's delayed-recall task solved with attention alone: no state, no loop over time.

    Hand-set weights, shared by every position (as in Part 1's `shared_responses`), with
    one key and one value feature (Dk = Dv = 1), on the channels value, write, query:

    * key ``k_t = x_t @ Wk`` with Wk = (0, 1, 0): the write flag;
    * value ``v_t = x_t @ Wv`` with Wv = (1, 0, 0): the step's +-1;
    * query ``q = x_last @ Wq`` with Wq = (0, 0, 40): the last step carries the query flag,
      so q = 40, which asks for the write flag loudly.

    The write step scores 40 and every other step 0, so each distractor gets a weight of
    at most exp(-40) ~ 4e-18: 10,000 of them move the context by less than 1e-13. The
    context is then the written value, +-1, and its sign is the bit.

    Args:
        x: recall sequences, shape (N, T, 3), channels value, write, query (see
            memory.make_recall_task); the last step is the query step.

    Returns:
        bits, shape (N,), int64: 1 where the context is positive, else 0.
    """
    x = check_arrays(x=(x, "N T D"))
    if x.shape[2] != 3:
        raise ValueError(f"x must have the recall task's 3 channels (value, write, query) on its last axis; "
                         f"got shape {tuple(x.shape)}")
    if x.shape[1] == 0:
        raise ValueError("x must have at least one step (the query step); got T = 0")
    Wk = np.array([[0.0], [1.0], [0.0]])  # (3, 1): "the write flag is on here"
    Wv = np.array([[1.0], [0.0], [0.0]])  # (3, 1): the value channel
    Wq = np.array([[0.0], [0.0], [40.0]])  # (3, 1): the query step asks for the write flag
    K, V = x @ Wk, x @ Wv  # (N, T, 1) each: the same weights at every position
    q = x[:, -1] @ Wq  # (N, 1)
    context, _ = attend(q, K, V)  # (N, 1)
    return (context[:, 0] > 0).astype(np.int64)


def sequential_steps(kind, T):
    """The longest chain of steps that must run one after another to read T positions.

    A step is one application of the model's layer to whatever it can work on at that
    moment, with as many processors as you like. What counts is only the waiting: how
    many times a result is needed before the next thing can start. The total amount of
    work is another matter (attention scores T * T pairs).

    * "feedforward": 1. A dense layer reads the flattened sequence in one product; no
      part of it waits for another part (Part 1).
    * "rnn": T. h_t is computed from h_{t-1}, so step t waits for step t - 1, and reading
      T positions takes T steps in a row (Part 2). Hoisting the projection
      (`rnn_forward_hoisted`) shortens each step, not the chain.
    * "attention": 1. Every score, the softmax over them and the weighted average use
      only the inputs, not another position's result, so one read covers any T.

    Vaswani et al. (2017, "Attention Is All You Need", Table 1) list the same comparison
    as "sequential operations": O(n) for recurrent layers, O(1) for self-attention.

    Args:
        kind: one of READERS: "feedforward", "rnn" or "attention".
        T: the sequence length, an int >= 1.

    Returns:
        the number of dependent steps, an int.
    """
    if not isinstance(kind, str) or kind not in READERS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, READERS))}; got {kind!r}")
    T = check_int("T", T, 1)
    return T if kind == "rnn" else 1
