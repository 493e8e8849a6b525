"""Part 1 - Why a feedforward network struggles with sequences.

A dense layer is built for one input width. Its weight matrix has one row per input
feature, so the width is fixed on the day the weights are made. A sequence has no such
width: a sentence can have five words or fifty. This module works through three
consequences, each with the small tool a feedforward network would need to cope:

1. **Fixed input size.** To feed a sequence to a dense layer you must flatten it
   (`flatten_sequence`). The flat width is T * D, so it changes with the length. The only
   way to keep it fixed is to pad or cut every sequence to one length (`pad_or_truncate`),
   which wastes work on short inputs and throws away the end of long ones.
2. **No order and no memory.** Averaging over time (`mean_pool`) gives a fixed width for
   any length. But an average forgets when anything happened: a sequence and its reverse
   get the same summary.
3. **Nothing learned is shared across positions.** After flattening, every position has
   its own block of weights. A detector that fires for a pattern in slot 3 knows nothing
   about the same pattern in slot 7 (`slotwise_responses`). Using one detector at every
   position (`shared_responses`) removes the problem. That reuse is the first half of
   what a recurrent network does.

This is a shape problem, not a capacity problem: more hidden units do not help.

Shapes: N batch size, T time steps, D features per step, F flat input width,
H hidden units. Every array is float64.
"""
import numpy as np

from ._validate import as_float_array, check_arrays, check_int

__all__ = [
    "dense_forward",
    "flatten_sequence",
    "pad_or_truncate",
    "mean_pool",
    "place_pattern",
    "slotwise_responses",
    "shared_responses",
]


def dense_forward(x, W, b):
    """One dense layer: ``tanh(x @ W + b)``.

    Args:
        x: inputs, shape (N, F).
        W: weights, shape (F, H). The number of rows fixes the input width F for good.
        b: bias, shape (H,).

    Returns:
        activations, shape (N, H).

    Raises:
        ValueError: if x has a width other than F. A dense layer cannot read an input of
            another width (Part 1, problem 1: fixed input size).
    """
    W, b = check_arrays(W=(W, "F H"), b=(b, "H"))
    x = as_float_array("x", x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D with shape (N, F); got a {x.ndim}-D array of shape {tuple(x.shape)}")
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"x has {x.shape[1]} features per example, but this dense layer was built for "
            f"F = {W.shape[0]} (W has shape {tuple(W.shape)}). A feedforward layer's input width is "
            f"fixed when its weights are made, so a longer or shorter sequence cannot be fed to it "
            f"without padding or cutting it first."
        )
    return np.tanh(x @ W + b)  # (N, H)


def flatten_sequence(x):
    """Flatten each sequence into one long row, as a dense layer must see it.

    Args:
        x: sequences, shape (N, T, D).

    Returns:
        shape (N, T * D): row n is x[n, 0], x[n, 1], ..., x[n, T-1] laid end to end.
        The width grows with T, which is problem 1 of Part 1.
    """
    x = check_arrays(x=(x, "N T D"))
    N, T, D = x.shape
    return x.reshape(N, T * D)


def pad_or_truncate(x, T_fixed):
    """Force every sequence to length `T_fixed`.

    Short sequences get zero rows appended at the end; long ones lose their tail.

    Args:
        x: sequences, shape (N, T, D).
        T_fixed: the length to force, an int >= 1.

    Returns:
        shape (N, T_fixed, D): out[:, :min(T, T_fixed)] equals x[:, :min(T, T_fixed)]; the
        rest is zero.
    """
    x = check_arrays(x=(x, "N T D"))
    T_fixed = check_int("T_fixed", T_fixed, 1)
    N, T, D = x.shape
    out = np.zeros((N, T_fixed, D))
    keep = min(T, T_fixed)
    out[:, :keep] = x[:, :keep]
    return out


def mean_pool(x):
    """Average over time: a fixed-width summary that forgets the order.

    Args:
        x: sequences, shape (N, T, D), T >= 1.

    Returns:
        shape (N, D), the mean of x over the time axis. A sequence and its reverse get the
        same summary (Part 1, problem 2: no order, no memory).
    """
    x = check_arrays(x=(x, "N T D"))
    if x.shape[1] == 0:
        raise ValueError("x must have at least one time step (T >= 1) to be averaged; got T = 0")
    return x.mean(axis=1)


def place_pattern(pattern, t, T):
    """A length-T sequence that is all zeros except `pattern` at position t.

    Args:
        pattern: shape (D,).
        t: position, an int in [0, T - 1].
        T: sequence length, an int >= 1.

    Returns:
        shape (T, D).
    """
    pattern = check_arrays(pattern=(pattern, "D"))
    T = check_int("T", T, 1)
    t = check_int("t", t, 0, T - 1)
    out = np.zeros((T, pattern.shape[0]))
    out[t] = pattern
    return out


def slotwise_responses(W, b, pattern, T):
    """How a dense layer on flattened input responds to one pattern at each position.

    The layer sees the flattened sequence, so the weights for position t are the rows
    W[t*D:(t+1)*D]. They are a separate detector for each slot.

    Args:
        W: weights of a dense layer on flattened length-T input, shape (T * D, H).
        b: bias, shape (H,).
        pattern: shape (D,).
        T: sequence length, an int >= 1.

    Returns:
        shape (T, H). Row t is ``dense_forward(flatten_sequence(seq_t), W, b)`` where seq_t is
        `pattern` placed at position t. The rows differ: what the layer learned in one slot
        does nothing for another (Part 1, problem 3).
    """
    W, b, pattern = check_arrays(W=(W, "F H"), b=(b, "H"), pattern=(pattern, "D"))
    T = check_int("T", T, 1)
    D = pattern.shape[0]
    if W.shape[0] != T * D:
        raise ValueError(
            f"W has shape {tuple(W.shape)}, but it needs shape (T * D, H) = ({T * D}, {W.shape[1]}) "
            f"(T = {T}, D = {D} from pattern)"
        )
    seqs = np.stack([place_pattern(pattern, t, T) for t in range(T)])  # (T, T, D): one sequence per t
    return dense_forward(flatten_sequence(seqs), W, b)  # (T, H)


def shared_responses(Wx, b, pattern, T):
    """How one detector, reused at every position, responds to a pattern at each position.

    Args:
        Wx: the shared detector's weights, shape (D, H).
        b: bias, shape (H,).
        pattern: shape (D,).
        T: sequence length, an int >= 1.

    Returns:
        shape (T, H). Row t is the detector's output at position t for the sequence with
        `pattern` placed at position t, i.e. ``tanh(seq_t[t] @ Wx + b)``. All rows are equal:
        the same weights at every step share what is learned across positions, which is the
        fix recurrent networks use.
    """
    Wx, b, pattern = check_arrays(Wx=(Wx, "D H"), b=(b, "H"), pattern=(pattern, "D"))
    T = check_int("T", T, 1)
    seqs = np.stack([place_pattern(pattern, t, T) for t in range(T)])  # (T, T, D)
    per_step = np.tanh(seqs @ Wx + b)  # (T, T, H): sequence t, position s
    return per_step[np.arange(T), np.arange(T)]  # (T, H): each sequence at its pattern's position
