"""Inputs for the checks, each one reproducible from a line you can paste into a REPL.

    >>> from autograder.inputs import make_inputs
    >>> x_t, h_prev, Wx, Wh, b = make_inputs("rnn_step", seed=3, N=2, D=4, H=5)

`seed=None` gives the fixed, evenly spaced inputs CS231n's notebooks use (np.linspace);
an integer seed gives standard normal draws. Weights are divided by sqrt(fan-in) so that
activations stay in the range where mistakes show. `scale` multiplies every array, to
push pre-activations to |z| ~ 1e3.
"""
import functools

import numpy as np

#: the arguments of every function that takes plain arrays, as (name, shape) pairs; a shape
#: is dimension letters as in solutions/_validate.py, or "int:<size>" for an integer argument
SIGNATURES = {
    "dense_forward": [("x", "N F"), ("W", "F H"), ("b", "H")],
    "flatten_sequence": [("x", "N T D")],
    "pad_or_truncate": [("x", "N T D"), ("T_fixed", "int:T_fixed")],
    "mean_pool": [("x", "N T D")],
    "place_pattern": [("pattern", "D"), ("t", "int:t"), ("T", "int:T")],
    "slotwise_responses": [("W", "TD H"), ("b", "H"), ("pattern", "D"), ("T", "int:T")],
    "shared_responses": [("Wx", "D H"), ("b", "H"), ("pattern", "D"), ("T", "int:T")],
    "rnn_step": [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    "rnn_forward": [("x", "N T D"), ("h0", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    "rnn_readout": [("h", "N H"), ("Wy", "H C"), ("by", "C")],
    "sigmoid": [("z", "N H")],
    "lstm_gates": [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    "lstm_step": [("x_t", "N D"), ("h_prev", "N H"), ("c_prev", "N H"),
                  ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    "lstm_forward": [("x", "N T D"), ("h0", "N H"), ("c0", "N H"), ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    "gru_gates": [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"), ("bx", "3H"), ("bh", "3H")],
    "gru_step": [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"), ("bx", "3H"), ("bh", "3H")],
    "gru_forward": [("x", "N T D"), ("h0", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"), ("bx", "3H"), ("bh", "3H")],
    "rnn_step_backward": [("dh_next", "N H"), ("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D H"), ("Wh", "H H"),
                          ("b", "H")],
    "rnn_backward": [("dhs", "N T H"), ("x", "N T D"), ("h0", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    "lstm_step_backward": [("dh_next", "N H"), ("dc_next", "N H"), ("x_t", "N D"), ("h_prev", "N H"),
                           ("c_prev", "N H"), ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    "lstm_backward": [("dhs", "N T H"), ("x", "N T D"), ("h0", "N H"), ("c0", "N H"), ("Wx", "D 4H"),
                      ("Wh", "H 4H"), ("b", "4H")],
    "gru_step_backward": [("dh_next", "N H"), ("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"),
                          ("bx", "3H"), ("bh", "3H")],
    "gru_backward": [("dhs", "N T H"), ("x", "N T D"), ("h0", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"),
                     ("bx", "3H"), ("bh", "3H")],
    "project_inputs": [("x", "N T D"), ("Wx", "D H"), ("b", "H")],
    "rnn_forward_hoisted": [("x", "N T D"), ("h0", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    "softmax": [("z", "N T")],
    "attend": [("q", "N DK"), ("K", "N T DK"), ("V", "N T DV")],
}
#: the forward pass each backward function differentiates (the arguments after the upstream gradients)
FORWARD_OF = {"rnn_step_backward": "rnn_step", "rnn_backward": "rnn_forward", "lstm_step_backward": "lstm_step",
              "lstm_backward": "lstm_forward", "gru_step_backward": "gru_step", "gru_backward": "gru_forward"}
#: functions that also take `lengths` (N,) as their last argument
TAKES_LENGTHS = ("rnn_forward", "lstm_forward", "gru_forward", "rnn_forward_hoisted")
DEFAULT_SIZES = {"N": 3, "T": 5, "D": 4, "H": 6, "C": 3, "F": 7, "T_fixed": 7, "t": 2, "DK": 4, "DV": 3}


def _dims(shape, sizes):
    dims = []
    for token in shape.split():
        if token == "TD":
            dims.append(sizes["T"] * sizes["D"])
            continue
        factor = token.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        dims.append((int(factor) if factor else 1) * sizes[token[len(factor):]])
    return tuple(dims)


def make_inputs(function, seed=None, *, scale=1.0, lengths=None, **sizes):
    """The positional arguments for `function`, as a tuple of read-only arrays (and ints).

    Args:
        function: an exercise function name (a key of SIGNATURES).
        seed: None for fixed linspace inputs, or an int for random ones.
        scale: multiplies every array (1e3 to test saturation).
        lengths: for the *_forward functions, "full", "mixed", "zero", or None (omitted).
        **sizes: N, T, D, H, C, F, T_fixed, t, DK (a key's size), DV (a value's); unspecified ones take
            DEFAULT_SIZES.
    """
    return _make_inputs(function, seed, scale, lengths, tuple(sorted(sizes.items())))


@functools.lru_cache(maxsize=2048)
def _make_inputs(function, seed, scale, lengths, sizes):
    args = _build_inputs(function, seed, scale=scale, lengths=lengths, **dict(sizes))
    for a in args:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)  # shared between calls: nobody may change them
    return args


def _build_inputs(function, seed=None, *, scale=1.0, lengths=None, **sizes):
    sizes = {**DEFAULT_SIZES, **sizes}
    rng = None if seed is None else np.random.default_rng(seed)
    args = []
    for k, (name, shape) in enumerate(SIGNATURES[function]):
        if shape.startswith("int:"):
            args.append(int(sizes[shape[4:]]))
            continue
        dims = _dims(shape, sizes)
        count = int(np.prod(dims))
        if rng is None:  # evenly spaced, a different range per argument
            low, high = -0.4 - 0.1 * k, 0.3 + 0.1 * k
            array = np.linspace(low, high, num=count).reshape(dims)
        else:
            array = rng.standard_normal(dims)
        if name.startswith("W") and len(dims) == 2:
            array = array / np.sqrt(dims[0])
        args.append(array * scale)
    if lengths is not None:
        N, T = sizes["N"], sizes["T"]
        if lengths == "full":
            args.append(np.full(N, T))
        elif lengths == "zero":
            args.append(np.zeros(N, dtype=np.int64))
        elif lengths == "mixed":  # 0, T, and values in between
            mixed = np.arange(N) * T // max(N - 1, 1)
            if rng is not None:
                mixed = rng.permutation(mixed)
            args.append(mixed.astype(np.int64))
        else:
            raise ValueError(f"lengths must be 'full', 'mixed', 'zero' or None; got {lengths!r}")
    return tuple(args)


def recipe(function, seed=None, *, scale=1.0, lengths=None, **sizes):
    """The REPL line that rebuilds make_inputs(...) with these options."""
    used = set()
    for _, shape in SIGNATURES[function]:
        used |= {shape[4:]} if shape.startswith("int:") else {t.lstrip("0123456789") for t in shape.split()}
    used |= {"T", "D"} if "TD" in used else set()
    used |= {"N", "T"} if lengths is not None else set()
    options = [f"{function!r}", f"seed={seed}"]
    options += [f"{k}={v}" for k, v in sizes.items() if k in used]
    if scale != 1.0:
        options.append(f"scale={scale:g}")
    if lengths is not None:
        options.append(f"lengths={lengths!r}")
    names = [name for name, _ in SIGNATURES[function]] + (["lengths"] if lengths is not None else [])
    return (f"from autograder.inputs import make_inputs\n"
            f"{', '.join(names)} = make_inputs({', '.join(options)})\n"
            f"{function}({', '.join(names)})")
