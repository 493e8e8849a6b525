"""The bug zoo: plausible student submissions, each wrong in exactly one realistic way.

A zoo entry is the reference solution with one precise textual edit inside one solution
region (``old`` must occur exactly once in ``solutions/<module>.py``, so the zoo breaks
loudly when the solutions change). tests/test_bugzoo.py writes every entry into its own
folder under tmp_path, grades it, and asserts what the entry declares:

* ``fails``: the checks that must fail (status ``status``, "failed" unless stated);
* ``diagnosis``: {check name: mistake key from autograder/mistakes.py} for the checks that
  must name the mistake (``Result.mistake``);
* ``unaffected``: functions whose every check must still pass (partial credit works);
* ``passes``: further checks, of affected functions, that must still pass.

Only the checks of the edited module and of one other module (``other``, by default
`OTHER`) are run; the other module proves the bug stays where it is.

When the grader does not (yet) behave as an entry declares, the entry says why in
``catch_gap`` (the intended checks do not fail) or ``diagnosis_gap`` (they fail but the
mistake is not named); the test then runs as a strict xfail, so a fix shows up as XPASS.
"""
from dataclasses import dataclass, field

#: the module graded alongside the edited one, to prove isolation (none imports the other)
OTHER = {"feedforward": "memory", "rnn": "feedforward", "lstm": "rnn", "gru": "lstm", "memory": "gru"}


@dataclass(frozen=True)
class Bug:
    name: str
    story: str                # what the student did, in words
    module: str               # the one file that differs from the reference
    old: str                  # text in solutions/<module>.py, inside a solution region
    new: str                  # what the student wrote instead
    fails: tuple              # check names that must fail
    unaffected: tuple         # function names whose checks must all pass
    diagnosis: dict = field(default_factory=dict)  # {check name: mistake key}
    passes: tuple = ()        # checks of affected functions that must still pass
    status: str = "failed"    # the status the checks in `fails` must have
    other: str = ""           # the isolation module; "" means OTHER[module]
    catch_gap: str = ""       # the grader misses the bug: why (strict xfail)
    diagnosis_gap: str = ""   # the grader catches it but names no / another mistake (strict xfail)

    @property
    def isolation_module(self):
        return self.other or OTHER[self.module]

    def __hash__(self):
        return hash(self.name)


# ---------------------------------------------------------------------------------------
# Part 1: feedforward

FEEDFORWARD = [
    Bug(
        "dense_forward-forgets-the-bias",
        "tanh(x @ W): the bias b is left out",
        "feedforward",
        "return np.tanh(x @ W + b)  # (N, H)",
        "return np.tanh(x @ W)  # (N, H)",
        fails=("test_dense_forward_matches_the_reference_on_fixed_inputs",
               "test_dense_forward_matches_the_reference_on_random_inputs",
               "test_dense_forward_matches_the_reference_on_hidden_inputs",
               "test_slotwise_responses_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_dense_forward_matches_the_reference_on_fixed_inputs": "dense-no-bias",
                   "test_dense_forward_matches_the_reference_on_hidden_inputs": "dense-no-bias"},
        passes=("test_dense_forward_returns_the_right_types_and_shapes",
                "test_dense_forward_leaves_its_inputs_alone_and_repeats_itself"),
        unaffected=("flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern", "shared_responses"),
    ),
    Bug(
        "flatten_sequence-lays-the-row-out-feature-by-feature",
        "x.transpose(0, 2, 1).reshape(N, T * D): feature-major instead of step by step",
        "feedforward",
        "return x.reshape(N, T * D)",
        "return x.transpose(0, 2, 1).reshape(N, T * D)",
        fails=("test_flatten_sequence_matches_the_reference_on_fixed_inputs",
               "test_flatten_sequence_matches_the_reference_on_random_inputs",
               "test_slotwise_responses_matches_the_reference_on_random_inputs"),
        diagnosis={"test_flatten_sequence_matches_the_reference_on_fixed_inputs": "flatten-feature-major"},
        passes=("test_flatten_sequence_returns_the_right_types_and_shapes",
                "test_flatten_sequence_width_grows_with_the_length"),
        unaffected=("dense_forward", "pad_or_truncate", "mean_pool", "place_pattern", "shared_responses"),
    ),
    Bug(
        "pad_or_truncate-pads-and-cuts-at-the-front-like-keras",
        "Keras pad_sequences defaults (padding='pre', truncating='pre'): zeros in front, tail kept",
        "feedforward",
        "out[:, :keep] = x[:, :keep]",
        "out[:, T_fixed - keep:] = x[:, T - keep:]",
        fails=("test_pad_or_truncate_matches_the_reference_on_fixed_inputs",
               "test_pad_or_truncate_matches_the_reference_on_random_inputs"),
        diagnosis={"test_pad_or_truncate_matches_the_reference_on_fixed_inputs": "pad-front"},
        passes=("test_pad_or_truncate_returns_the_right_types_and_shapes",),
        unaffected=("dense_forward", "flatten_sequence", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "pad_or_truncate-cuts-the-start-of-long-sequences",
        "keeps the last T_fixed steps of a long sequence instead of the first",
        "feedforward",
        "out[:, :keep] = x[:, :keep]",
        "out[:, :keep] = x[:, T - keep:]",
        # every public case has T <= T_fixed, so only the hidden check ever cuts a sequence
        fails=("test_pad_or_truncate_matches_the_reference_on_hidden_inputs",),
        diagnosis={"test_pad_or_truncate_matches_the_reference_on_hidden_inputs": "truncate-front"},
        passes=("test_pad_or_truncate_matches_the_reference_on_fixed_inputs",
                "test_pad_or_truncate_matches_the_reference_on_random_inputs"),
        unaffected=("dense_forward", "flatten_sequence", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "pad_or_truncate-returns-float32",
        "allocates the output as float32 to save memory",
        "feedforward",
        "out = np.zeros((N, T_fixed, D))",
        "out = np.zeros((N, T_fixed, D), dtype=np.float32)",
        fails=("test_pad_or_truncate_returns_the_right_types_and_shapes",
               "test_pad_or_truncate_matches_the_reference_on_fixed_inputs"),
        unaffected=("dense_forward", "flatten_sequence", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "mean_pool-sums-instead-of-averaging",
        "x.sum(axis=1): forgets to divide by T",
        "feedforward",
        "return x.mean(axis=1)",
        "return x.sum(axis=1)",
        fails=("test_mean_pool_matches_the_reference_on_fixed_inputs",
               "test_mean_pool_matches_the_reference_on_random_inputs"),
        diagnosis={"test_mean_pool_matches_the_reference_on_fixed_inputs": "pool-sum"},
        # a sum forgets the order too
        passes=("test_mean_pool_returns_the_right_types_and_shapes",
                "test_mean_pool_cannot_tell_a_sequence_from_its_reverse"),
        unaffected=("dense_forward", "flatten_sequence", "pad_or_truncate", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "place_pattern-builds-the-transposed-array",
        "an array of shape (D, T) with the pattern in column t",
        "feedforward",
        "out = np.zeros((T, pattern.shape[0]))\n    out[t] = pattern",
        "out = np.zeros((pattern.shape[0], T))\n    out[:, t] = pattern",
        fails=("test_place_pattern_returns_the_right_types_and_shapes",
               "test_place_pattern_matches_the_reference_on_fixed_inputs"),
        unaffected=("dense_forward", "flatten_sequence", "pad_or_truncate", "mean_pool"),
    ),
    Bug(
        "shared_responses-keeps-the-last-step-not-the-patterns-step",
        "reads every sequence's response at the last position, like an RNN's final state",
        "feedforward",
        "return per_step[np.arange(T), np.arange(T)]",
        "return per_step[:, -1]",
        fails=("test_shared_responses_matches_the_reference_on_fixed_inputs",
               "test_shared_responses_are_equal_at_every_position",
               "test_shared_responses_are_equal_at_every_position_hidden"),
        passes=("test_shared_responses_returns_the_right_types_and_shapes",),
        unaffected=("dense_forward", "flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern",
                    "slotwise_responses"),
    ),
]

# ---------------------------------------------------------------------------------------
# Part 2: rnn

RNN_STEP_CHECKS = ("test_rnn_step_matches_the_reference_on_fixed_inputs",
                   "test_rnn_step_matches_the_reference_on_random_inputs")

RNN = [
    Bug(
        "rnn_step-forgets-the-bias",
        "tanh(x_t @ Wx + h_prev @ Wh): b left out",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return np.tanh(x_t @ Wx + h_prev @ Wh)  # (N, H)",
        fails=RNN_STEP_CHECKS + ("test_rnn_forward_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-no-bias",
                   "test_rnn_step_matches_the_reference_on_random_inputs": "rnn-no-bias"},
        passes=("test_rnn_step_returns_the_right_types_and_shapes",),
        unaffected=("rnn_readout",),
    ),
    Bug(
        "rnn_step-squashes-with-sigmoid",
        "a hand-written sigmoid where tanh belongs",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return 1.0 / (1.0 + np.exp(-(x_t @ Wx + h_prev @ Wh + b)))  # (N, H)",
        fails=RNN_STEP_CHECKS + ("test_rnn_step_saturates_without_overflow",),
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-sigmoid"},
        unaffected=("rnn_readout",),
    ),
    Bug(
        "rnn_step-swaps-Wx-and-Wh",
        "x_t @ Wh + h_prev @ Wx: the weights exchanged",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return np.tanh(x_t @ Wh + h_prev @ Wx + b)  # (N, H)",
        fails=RNN_STEP_CHECKS,
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-wx-wh-swapped"},
        unaffected=("rnn_readout",),
    ),
    Bug(
        "rnn_forward-restarts-every-step-from-h0",
        "rnn_step(x[:, t], h0, ...): the state is not carried",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h = np.where(active, rnn_step(x[:, t], h0, Wx, Wh, b), h)  # (N, H)",
        fails=("test_rnn_forward_matches_the_reference_on_fixed_inputs",
               "test_rnn_forward_matches_the_reference_on_random_inputs",
               "test_rnn_forward_equals_stepping_rnn_step",
               "test_rnn_forward_can_tell_a_sequence_from_its_reverse"),
        diagnosis={"test_rnn_forward_matches_the_reference_on_fixed_inputs": "rnn-state-not-carried"},
        passes=("test_rnn_forward_returns_the_right_types_and_shapes",),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_forward-ignores-lengths",
        "steps every row through every step: padding changes the state",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h = rnn_step(x[:, t], h, Wx, Wh, b)  # (N, H)",
        fails=("test_rnn_forward_keeps_the_state_on_padding_steps",
               "test_rnn_forward_keeps_the_state_on_padding_steps_hidden"),
        diagnosis={"test_rnn_forward_keeps_the_state_on_padding_steps": "rnn-lengths-ignored"},
        passes=("test_rnn_forward_matches_the_reference_on_fixed_inputs",
                "test_rnn_forward_matches_the_reference_on_random_inputs",
                "test_rnn_forward_handles_a_500_step_sequence",
                "test_rnn_forward_equals_stepping_rnn_step"),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_forward-zeroes-the-state-on-padding-steps",
        "np.where(active, new, 0.0): padding resets the state instead of keeping it",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), 0.0)  # (N, H)",
        fails=("test_rnn_forward_keeps_the_state_on_padding_steps",),
        diagnosis={"test_rnn_forward_keeps_the_state_on_padding_steps": "rnn-padding-resets"},
        passes=("test_rnn_forward_matches_the_reference_on_fixed_inputs",),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_forward-reads-x-time-major",
        "x[t] instead of x[:, t]: time and batch axes confused",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h = np.where(active, rnn_step(x[t], h, Wx, Wh, b), h)  # (N, H)",
        fails=("test_rnn_forward_matches_the_reference_on_fixed_inputs",
               "test_rnn_forward_handles_a_500_step_sequence"),
        diagnosis={"test_rnn_forward_matches_the_reference_on_fixed_inputs": "rnn-time-major"},
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_forward-returns-only-the-final-state",
        "return h: the last state instead of every state",
        "rnn",
        "        hs[:, t] = h\n    return hs",
        "        hs[:, t] = h\n    return h",
        fails=("test_rnn_forward_returns_the_right_types_and_shapes",
               "test_rnn_forward_matches_the_reference_on_fixed_inputs",
               "test_rnn_forward_equals_stepping_rnn_step"),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_forward-writes-into-h0",
        "h = h0, then h[:] = ...: updates the caller's h0 in place",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h[:] = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        fails=("test_rnn_forward_leaves_its_inputs_alone_and_repeats_itself",),
        passes=("test_rnn_forward_matches_the_reference_on_fixed_inputs",
                "test_rnn_forward_matches_the_reference_on_random_inputs",
                "test_rnn_forward_keeps_the_state_on_padding_steps"),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_readout-forgets-the-bias",
        "h @ Wy: by left out",
        "rnn",
        "return h @ Wy + by",
        "return h @ Wy",
        fails=("test_rnn_readout_matches_the_reference_on_fixed_inputs",
               "test_rnn_readout_matches_the_reference_on_random_inputs"),
        diagnosis={"test_rnn_readout_matches_the_reference_on_fixed_inputs": "readout-no-bias"},
        unaffected=("rnn_step", "rnn_forward"),
    ),
]

# ---------------------------------------------------------------------------------------
# Part 4a: lstm

SIGMOID_BODY = """    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))  # exp of a number <= 0: never overflows
    ez = np.exp(z[~pos])  # z < 0: exp(z) is in (0, 1)
    out[~pos] = ez / (1.0 + ez)
    return out"""

LSTM = [
    Bug(
        "sigmoid-is-the-naive-formula-that-overflows",
        "1 / (1 + np.exp(-z)): right values, but exp overflows (a warning) for large negative z",
        "lstm",
        SIGMOID_BODY,
        "    return 1.0 / (1.0 + np.exp(-z))",
        fails=("test_sigmoid_is_stable_at_extreme_inputs",
               "test_sigmoid_saturates_without_overflow",
               "test_lstm_gates_saturates_without_overflow",
               "test_lstm_step_saturates_without_overflow"),
        passes=("test_sigmoid_returns_the_right_types_and_shapes",
                "test_sigmoid_matches_the_reference_on_fixed_inputs",
                "test_sigmoid_matches_the_reference_on_random_inputs",
                "test_sigmoid_matches_the_reference_on_hidden_inputs",
                "test_lstm_gates_matches_the_reference_on_fixed_inputs",
                "test_lstm_step_matches_the_reference_on_fixed_inputs",
                "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        unaffected=(),
    ),
    Bug(
        "sigmoid-from-tanh-without-halving-z",
        "0.5 * (1 + tanh(z)) instead of 0.5 * (1 + tanh(z / 2))",
        "lstm",
        SIGMOID_BODY,
        "    return 0.5 * (1.0 + np.tanh(z))",
        fails=("test_sigmoid_matches_the_reference_on_fixed_inputs",
               "test_sigmoid_matches_the_reference_on_random_inputs",
               "test_lstm_gates_matches_the_reference_on_fixed_inputs"),
        passes=("test_sigmoid_returns_the_right_types_and_shapes",),
        unaffected=(),
    ),
    Bug(
        "lstm_gates-in-cs231n-order",
        "splits the blocks as i, f, o, g (CS231n's layout)",
        "lstm",
        "a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)",
        "a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",
               "test_lstm_gates_matches_the_reference_on_random_inputs",
               "test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-cs231n-order",
                   "test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-cs231n-order"},
        # consistent with itself, and every gate is still in its range
        passes=("test_lstm_gates_lie_in_their_ranges", "test_lstm_step_agrees_with_your_lstm_gates"),
        unaffected=("sigmoid",),
    ),
    Bug(
        "lstm_gates-squashes-g-with-sigmoid",
        "sigmoid on the candidate g, like the other three gates",
        "lstm",
        "return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)",
        "return sigmoid(a_i), sigmoid(a_f), sigmoid(a_g), sigmoid(a_o)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-g-sigmoid"},
        unaffected=("sigmoid",),
    ),
    Bug(
        "lstm_step-returns-c-and-h-swapped",
        "return c_t, h_t",
        "lstm",
        "return h_t, c_t",
        "return c_t, h_t",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates",
               "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-hc-swapped"},
        unaffected=("sigmoid", "lstm_gates"),
    ),
    Bug(
        "lstm_step-forgets-tanh-on-the-cell",
        "h_t = o * c_t",
        "lstm",
        "h_t = o * np.tanh(c_t)  # (N, H)",
        "h_t = o * c_t  # (N, H)",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates",
               "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-no-cell-tanh"},
        unaffected=("sigmoid", "lstm_gates"),
    ),
    Bug(
        "lstm_step-returns-only-h",
        "return h_t: the cell is dropped",
        "lstm",
        "return h_t, c_t",
        "return h_t",
        fails=("test_lstm_step_returns_the_right_types_and_shapes",
               "test_lstm_step_matches_the_reference_on_fixed_inputs"),
        unaffected=("sigmoid", "lstm_gates"),
    ),
    Bug(
        "lstm_step-updates-c_prev-in-place",
        "c_prev *= f; c_prev += i * g: the right numbers, written into the caller's array",
        "lstm",
        "c_t = f * c_prev + i * g  # (N, H)",
        "c_prev *= f\n    c_prev += i * g\n    c_t = c_prev  # (N, H)",
        fails=("test_lstm_step_leaves_its_inputs_alone_and_repeats_itself",),
        passes=("test_lstm_step_matches_the_reference_on_fixed_inputs",
                "test_lstm_step_matches_the_reference_on_random_inputs",
                "test_lstm_step_agrees_with_your_lstm_gates"),
        unaffected=("sigmoid", "lstm_gates"),
    ),
    Bug(
        "lstm_forward-restarts-the-cell-from-c0",
        "lstm_step(x[:, t], h, c0, ...): the cell is not carried",
        "lstm",
        "h_new, c_new = lstm_step(x[:, t], h, c, Wx, Wh, b)",
        "h_new, c_new = lstm_step(x[:, t], h, c0, Wx, Wh, b)",
        fails=("test_lstm_forward_matches_the_reference_on_fixed_inputs",
               "test_lstm_forward_recalls_a_bit_after_1000_distractors"),
        diagnosis={"test_lstm_forward_matches_the_reference_on_fixed_inputs": "lstm-cell-not-carried"},
        unaffected=("sigmoid", "lstm_gates", "lstm_step"),
    ),
    Bug(
        "lstm_forward-ignores-lengths",
        "h, c = h_new, c_new on every step: padding changes both",
        "lstm",
        "h, c = np.where(active, h_new, h), np.where(active, c_new, c)",
        "h, c = h_new, c_new",
        fails=("test_lstm_forward_keeps_the_state_on_padding_steps",
               "test_lstm_forward_keeps_the_state_on_padding_steps_hidden"),
        diagnosis={"test_lstm_forward_keeps_the_state_on_padding_steps": "lstm-lengths-ignored"},
        passes=("test_lstm_forward_matches_the_reference_on_fixed_inputs",
                "test_lstm_forward_recalls_a_bit_after_1000_distractors"),
        unaffected=("sigmoid", "lstm_gates", "lstm_step"),
    ),
]

# ---------------------------------------------------------------------------------------
# Part 4b: gru

GRU = [
    Bug(
        "gru_step-swaps-z-and-1-minus-z",
        "h_t = z * n + (1 - z) * h_prev (some course notes' convention)",
        "gru",
        "return (1.0 - z) * n + z * h_prev  # (N, H)",
        "return z * n + (1.0 - z) * h_prev  # (N, H)",
        fails=("test_gru_step_matches_the_reference_on_fixed_inputs",
               "test_gru_step_agrees_with_your_gru_gates",
               "test_gru_forward_matches_the_reference_on_fixed_inputs",
               "test_gru_forward_recalls_a_bit_after_1000_distractors"),
        diagnosis={"test_gru_step_matches_the_reference_on_fixed_inputs": "gru-z-swapped",
                   "test_gru_forward_matches_the_reference_on_fixed_inputs": "gru-z-swapped"},
        unaffected=("gru_gates",),
    ),
    Bug(
        "gru_gates-resets-before-the-matmul",
        "tanh(ax_n + (r * h) @ Wh_n + bh_n): Cho et al. / Keras reset_after=False",
        "gru",
        "n = np.tanh(ax_n + r * ah_n)  # reset applied after the matrix product",
        "n = np.tanh(ax_n + (r * h_prev) @ np.split(Wh, 3, axis=1)[2] + np.split(bh, 3)[2])",
        fails=("test_gru_gates_matches_the_reference_on_fixed_inputs",
               "test_gru_step_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_gru_gates_matches_the_reference_on_fixed_inputs": "gru-reset-before",
                   "test_gru_step_matches_the_reference_on_fixed_inputs": "gru-reset-before"},
        passes=("test_gru_gates_lie_in_their_ranges", "test_gru_step_agrees_with_your_gru_gates"),
        unaffected=(),
    ),
    Bug(
        "gru_gates-in-keras-order",
        "splits the blocks as z, r, n",
        "gru",
        "ax_r, ax_z, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)  # each (N, H), in GRU_GATES order\n"
        "    ah_r, ah_z, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)",
        "ax_z, ax_r, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)  # each (N, H)\n"
        "    ah_z, ah_r, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)",
        fails=("test_gru_gates_matches_the_reference_on_fixed_inputs",
               "test_gru_step_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_gru_gates_matches_the_reference_on_fixed_inputs": "gru-keras-order",
                   "test_gru_step_matches_the_reference_on_fixed_inputs": "gru-keras-order"},
        unaffected=(),
    ),
    Bug(
        "gru_gates-drops-the-hidden-bias",
        "h_prev @ Wh without bh (one bias is enough, surely)",
        "gru",
        "ah_r, ah_z, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)",
        "ah_r, ah_z, ah_n = np.split(h_prev @ Wh, 3, axis=1)",
        fails=("test_gru_gates_matches_the_reference_on_fixed_inputs",
               "test_gru_gates_matches_the_reference_on_random_inputs"),
        diagnosis={"test_gru_gates_matches_the_reference_on_fixed_inputs": "gru-no-bh"},
        unaffected=(),
    ),
    Bug(
        "gru_forward-restarts-every-step-from-h0",
        "gru_step(x[:, t], h0, ...): the state is not carried",
        "gru",
        "h = np.where(active, gru_step(x[:, t], h, Wx, Wh, bx, bh), h)",
        "h = np.where(active, gru_step(x[:, t], h0, Wx, Wh, bx, bh), h)",
        fails=("test_gru_forward_matches_the_reference_on_fixed_inputs",
               "test_gru_forward_recalls_a_bit_after_1000_distractors"),
        diagnosis={"test_gru_forward_matches_the_reference_on_fixed_inputs": "gru-state-not-carried"},
        unaffected=("gru_gates", "gru_step"),
    ),
    Bug(
        "gru_forward-ignores-lengths",
        "steps every row through every step: padding changes the state",
        "gru",
        "h = np.where(active, gru_step(x[:, t], h, Wx, Wh, bx, bh), h)",
        "h = gru_step(x[:, t], h, Wx, Wh, bx, bh)",
        fails=("test_gru_forward_keeps_the_state_on_padding_steps",),
        diagnosis={"test_gru_forward_keeps_the_state_on_padding_steps": "gru-lengths-ignored"},
        passes=("test_gru_forward_matches_the_reference_on_fixed_inputs",
                "test_gru_forward_recalls_a_bit_after_1000_distractors"),
        unaffected=("gru_gates", "gru_step"),
    ),
]

# ---------------------------------------------------------------------------------------
# Parts 3 and 4c: memory

MEMORY = [
    Bug(
        "recall_accuracy-returns-the-error-rate",
        "np.mean(argmax != bits)",
        "memory",
        "return float(np.mean(np.argmax(scores, axis=1) == bits))",
        "return float(np.mean(np.argmax(scores, axis=1) != bits))",
        fails=("test_recall_accuracy_matches_the_reference",
               "test_recall_accuracy_is_one_when_all_right_and_zero_when_all_wrong"),
        diagnosis={"test_recall_accuracy_matches_the_reference": "accuracy-inverted"},
        unaffected=("make_recall_task", "latch_lstm_params", "latch_gru_params", "latch_rnn_params",
                    "contractive_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "make_recall_task-stores-the-bit-as-0-or-1",
        "x[:, 0, 0] = bits: the bit as 0/1 instead of -1/+1",
        "memory",
        "x[:, 0, 0] = 2.0 * bits - 1.0  # value: the bit as +-1",
        "x[:, 0, 0] = bits  # value: the bit",
        fails=("test_make_recall_task_lays_out_write_distractors_and_query",
               "test_make_recall_task_matches_the_reference_draws"),
        passes=("test_make_recall_task_returns_the_right_types_and_shapes",),
        unaffected=("recall_accuracy", "latch_lstm_params", "latch_gru_params", "latch_rnn_params",
                    "contractive_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "latch_lstm_params-forget-gate-leaks",
        "forget bias 3 (f = 0.95): the cell leaks away over 1,000 steps",
        "memory",
        "b[1] = 30.0  # f: sigmoid(30) = 1 - 1e-13, keep the cell",
        "b[1] = 3.0  # f: sigmoid(3) = 0.95, mostly keep the cell",
        fails=("test_latch_lstm_params_hold_a_bit_for_1000_steps",
               "test_latch_lstm_params_hold_a_bit_for_1000_steps_hidden"),
        passes=("test_latch_lstm_params_returns_the_right_types_and_shapes",),
        unaffected=("make_recall_task", "recall_accuracy", "latch_gru_params", "latch_rnn_params",
                    "contractive_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "latch_gru_params-update-gate-backwards",
        "z opens (near 1) at the write step, as if z were the LSTM's input gate",
        "memory",
        "Wx[1, 1], bx[1] = -40.0, 20.0",
        "Wx[1, 1], bx[1] = 40.0, -20.0",
        fails=("test_latch_gru_params_hold_a_bit_for_1000_steps",),
        passes=("test_latch_gru_params_returns_the_right_types_and_shapes",),
        unaffected=("make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_rnn_params",
                    "contractive_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "latch_rnn_params-returns-Wh-transposed",
        "Wh written with rows as targets (PyTorch's weight_hh layout): the detectors never reach unit 2",
        "memory",
        "Wh = np.array([[0.0, 0.0, 1.0],    # detector for bit 1 pushes unit 2 up\n"
        "                   [0.0, 0.0, -1.0],   # detector for bit 0 pushes it down\n"
        "                   [0.0, 0.0, 2.0]])   # self-weight 2: two stable states",
        "Wh = np.array([[0.0, 0.0, 0.0],\n"
        "                   [0.0, 0.0, 0.0],\n"
        "                   [1.0, -1.0, 2.0]])  # unit 2 <- detectors and itself",
        fails=("test_latch_rnn_params_hold_a_bit_for_1000_steps",),
        passes=("test_latch_rnn_params_returns_the_right_types_and_shapes",),
        unaffected=("make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_gru_params",
                    "contractive_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "contractive_rnn_params-uses-the-frobenius-norm",
        "np.linalg.norm(Wh): the Frobenius norm, not the largest singular value",
        "memory",
        "Wh *= gain / np.linalg.norm(Wh, 2)",
        "Wh *= gain / np.linalg.norm(Wh)",
        fails=("test_contractive_rnn_params_match_the_reference",),
        unaffected=("make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_gru_params",
                    "latch_rnn_params", "first_input_influence", "geometric_rate"),
    ),
    Bug(
        "first_input_influence-nudges-x-in-place",
        "x_plus = x (no copy): x[:, 0] += eps * u changes the caller's x",
        "memory",
        "x_plus, x_minus = x.copy(), x.copy()",
        "x_plus, x_minus = x, x.copy()",
        fails=("test_first_input_influence_matches_the_reference_on_a_linear_recurrence",
               "test_first_input_influence_matches_the_reference_on_a_nonlinear_map"),
        unaffected=("make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_gru_params",
                    "latch_rnn_params", "contractive_rnn_params", "geometric_rate"),
    ),
    Bug(
        "geometric_rate-fits-every-value",
        "fits log(values) over all t, floor ignored (log(0) = -inf)",
        "memory",
        "slope = np.polyfit(keep.astype(np.float64), np.log(values[keep]), 1)[0]",
        "slope = np.polyfit(np.arange(len(values), dtype=np.float64), np.log(values), 1)[0]",
        fails=("test_geometric_rate_ignores_values_below_the_floor",),
        passes=("test_geometric_rate_recovers_a_known_rate",),
        unaffected=("make_recall_task", "recall_accuracy", "latch_lstm_params", "latch_gru_params",
                    "latch_rnn_params", "contractive_rnn_params", "first_input_influence"),
    ),
]

BUGS = FEEDFORWARD + RNN + LSTM + GRU + MEMORY
