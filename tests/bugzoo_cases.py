"""The bug zoo: plausible student submissions, each wrong in exactly one realistic way.

A zoo entry is the reference solution with one precise textual edit inside one solution
region (``old`` must occur exactly once in ``solutions/<module>.py``, so the zoo breaks
loudly when the solutions change). tests/test_bugzoo.py writes every entry into its own
folder under tmp_path, grades it like a hand-in, and asserts what the entry declares:

* ``fails``: checks that must fail (status "failed"); ``errors``: checks that must end
  with status "error" (the student's code raises);
* ``diagnosis``: {check name: mistake key from autograder/mistakes.py} for the checks that
  must name the mistake (``Result.mistake``);
* ``unaffected``: functions whose every check must still pass (partial credit works);
* ``passes``: further checks, of affected functions, that must still pass;
* ``says``: {check name: text its message must contain}, for causes named without a
  mistake key: the likely cause of an error (``hint(...)``, from EXCEPTION_HINTS in
  autograder/feedback.py) or a sentence of the failure itself;
* ``notes``: {check name: text} for a check that must pass with every point and say the
  text in a note (feedback.note): a choice worth pointing out that costs nothing, such as a
  projection left inside the hoisted loop. An entry with notes may fail nothing.

Only the checks of the edited module and of one other module (``other``, by default
`OTHER`) are run; the other module's checks must all pass, which shows the bug stays put.
"""
from dataclasses import dataclass, field

from autograder.feedback import EXCEPTION_HINTS

#: the module graded alongside the edited one, to prove isolation (it does not import the edited one)
OTHER = {"feedforward": "memory", "rnn": "feedforward", "lstm": "rnn", "gru": "memory", "memory": "rnn",
         "bptt": "feedforward", "stepping": "rnn"}


@dataclass(frozen=True, eq=False)
class Bug:
    name: str
    story: str                # what the student did, in words
    module: str               # the one file that differs from the reference
    old: str                  # text in solutions/<module>.py, inside a solution region
    new: str                  # what the student wrote instead
    fails: tuple = ()         # checks that must fail
    unaffected: tuple = ()    # functions whose checks must all pass
    diagnosis: dict = field(default_factory=dict)  # {check name: mistake key}
    passes: tuple = ()        # checks of affected functions that must still pass
    errors: tuple = ()        # checks that must end in status "error"
    other: str = ""           # the isolation module; "" means OTHER[module]
    says: dict = field(default_factory=dict)  # {check name: text its message must contain}
    notes: dict = field(default_factory=dict)  # {check name: text of a note it must pass with}

    @property
    def isolation_module(self):
        return self.other or OTHER[self.module]


def hint(needle):
    """The line a failure adds for the EXCEPTION_HINTS entry whose text is `needle`."""
    hints = dict(EXCEPTION_HINTS)
    assert needle in hints, f"no EXCEPTION_HINTS entry for {needle!r}"
    return f"Likely cause: {hints[needle]}."


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
               "test_dense_forward_matches_the_reference_on_hidden_inputs"),
        diagnosis={"test_dense_forward_matches_the_reference_on_fixed_inputs": "dense-no-bias",
                   "test_dense_forward_matches_the_reference_on_hidden_inputs": "dense-no-bias"},
        passes=("test_dense_forward_returns_the_right_types_and_shapes",
                "test_dense_forward_leaves_its_inputs_alone_and_repeats_itself"),
        # slotwise_responses is graded with this dense_forward (follow-through)
        unaffected=("flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "flatten_sequence-lays-the-row-out-feature-by-feature",
        "x.transpose(0, 2, 1).reshape(N, T * D): feature-major instead of step by step",
        "feedforward",
        "return x.reshape(N, T * D)",
        "return x.transpose(0, 2, 1).reshape(N, T * D)",
        fails=("test_flatten_sequence_matches_the_reference_on_fixed_inputs",
               "test_flatten_sequence_matches_the_reference_on_random_inputs"),
        diagnosis={"test_flatten_sequence_matches_the_reference_on_fixed_inputs": "flatten-feature-major"},
        passes=("test_flatten_sequence_returns_the_right_types_and_shapes",
                "test_flatten_sequence_width_grows_with_the_length"),
        # slotwise_responses is graded with this flatten_sequence (follow-through)
        unaffected=("dense_forward", "pad_or_truncate", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
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
        fails=("test_pad_or_truncate_matches_the_reference_on_hidden_inputs",
               "test_pad_or_truncate_cuts_the_tail_of_a_long_sequence"),
        diagnosis={"test_pad_or_truncate_cuts_the_tail_of_a_long_sequence": "truncate-front",
                   "test_pad_or_truncate_matches_the_reference_on_hidden_inputs": "truncate-front"},
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
    Bug(
        "dense_forward-forgets-tanh",
        "x @ W + b: the layer is left linear",
        "feedforward",
        "return np.tanh(x @ W + b)  # (N, H)",
        "return x @ W + b  # (N, H)",
        fails=("test_dense_forward_matches_the_reference_on_fixed_inputs",
               "test_dense_forward_matches_the_reference_on_random_inputs"),
        diagnosis={"test_dense_forward_matches_the_reference_on_fixed_inputs": "dense-no-tanh"},
        # slotwise_responses is graded with this dense_forward (follow-through)
        unaffected=("flatten_sequence", "pad_or_truncate", "mean_pool", "place_pattern", "slotwise_responses",
                    "shared_responses"),
    ),
    Bug(
        "mean_pool-averages-over-features",
        "x.mean(axis=2): the wrong axis",
        "feedforward",
        "return x.mean(axis=1)",
        "return x.mean(axis=2)",
        fails=("test_mean_pool_returns_the_right_types_and_shapes",
               "test_mean_pool_matches_the_reference_on_fixed_inputs",
               "test_mean_pool_cannot_tell_a_sequence_from_its_reverse"),
        diagnosis={"test_mean_pool_matches_the_reference_on_fixed_inputs": "pool-axis"},
        unaffected=("dense_forward", "flatten_sequence", "pad_or_truncate", "place_pattern", "slotwise_responses",
                    "shared_responses"),
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
        fails=RNN_STEP_CHECKS,
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-no-bias",
                   "test_rnn_step_matches_the_reference_on_random_inputs": "rnn-no-bias"},
        passes=("test_rnn_step_returns_the_right_types_and_shapes",),
        # rnn_forward is graded with this rnn_step (follow-through)
        unaffected=("rnn_forward", "rnn_readout"),
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
        # x_t @ Wh only runs when D == H: the fixed-input check tries its square case first, and names it
        fails=("test_rnn_step_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-wx-wh-swapped"},
        # rnn_forward's fixed check passes its square case by follow-through, then its rnn_step raises on the
        # second, so the reference's rnn_step stands in: rnn_forward keeps its points
        errors=("test_rnn_step_matches_the_reference_on_random_inputs",
                "test_rnn_step_returns_the_right_types_and_shapes"),
        passes=("test_rnn_forward_matches_the_reference_on_fixed_inputs",),
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
               "test_rnn_forward_equals_stepping_rnn_step"),
        diagnosis={"test_rnn_forward_matches_the_reference_on_fixed_inputs": "rnn-state-not-carried"},
        # the last state still depends on the last input, so a sequence and its reverse still differ
        passes=("test_rnn_forward_returns_the_right_types_and_shapes",
                "test_rnn_forward_can_tell_a_sequence_from_its_reverse"),
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
        # x[t] only has the right shape when N == T: the code raises on most inputs, and the padding
        # check (N = T = 5) is where the mistake can be named
        errors=("test_rnn_forward_matches_the_reference_on_random_inputs",
                "test_rnn_forward_handles_a_500_step_sequence"),
        fails=("test_rnn_forward_keeps_the_state_on_padding_steps", "test_rnn_forward_matches_the_reference_on_fixed_inputs"),
        diagnosis={"test_rnn_forward_keeps_the_state_on_padding_steps": "rnn-time-major",
                   "test_rnn_forward_matches_the_reference_on_fixed_inputs": "rnn-time-major"},
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
        "return h @ Wy + by\n",
        "return h @ Wy\n",
        fails=("test_rnn_readout_matches_the_reference_on_fixed_inputs",
               "test_rnn_readout_matches_the_reference_on_random_inputs"),
        diagnosis={"test_rnn_readout_matches_the_reference_on_fixed_inputs": "readout-no-bias"},
        unaffected=("rnn_step", "rnn_forward"),
    ),
    Bug(
        "rnn_step-forgets-tanh",
        "x_t @ Wx + h_prev @ Wh + b: no squashing",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return x_t @ Wx + h_prev @ Wh + b  # (N, H)",
        fails=RNN_STEP_CHECKS + ("test_rnn_step_saturates_without_overflow",),
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-no-tanh"},
        unaffected=("rnn_forward", "rnn_readout"),  # rnn_forward: follow-through
    ),
    Bug(
        "rnn_step-ignores-h_prev",
        "tanh(x_t @ Wx + b): the previous state never enters",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return np.tanh(x_t @ Wx + b)  # (N, H)",
        fails=RNN_STEP_CHECKS,
        diagnosis={"test_rnn_step_matches_the_reference_on_fixed_inputs": "rnn-no-state"},
        unaffected=("rnn_forward", "rnn_readout"),  # rnn_forward: follow-through
    ),
    Bug(
        "rnn_step-squeezes-x_t",
        "np.squeeze(x_t) 'to be safe': harmless when N = 1, but an (N, 1) input (D = 1) loses its feature axis",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "return np.tanh(np.squeeze(x_t) @ Wx + h_prev @ Wh + b)  # (N, H)",
        # only D = 1 shows it: the public shape checks have that size, and the hidden case 1003 too
        errors=("test_rnn_step_returns_the_right_types_and_shapes",
                "test_rnn_step_matches_the_reference_on_hidden_inputs",
                "test_rnn_forward_returns_the_right_types_and_shapes",
                "test_rnn_forward_matches_the_reference_on_hidden_inputs"),
        says={"test_rnn_step_returns_the_right_types_and_shapes": hint("(size 1 is different from"),
              "test_rnn_forward_returns_the_right_types_and_shapes": hint("(size 1 is different from")},
        passes=RNN_STEP_CHECKS + ("test_rnn_step_leaves_its_inputs_alone_and_repeats_itself",
                                  "test_rnn_step_saturates_without_overflow",
                                  "test_rnn_forward_matches_the_reference_on_fixed_inputs",
                                  "test_rnn_forward_matches_the_reference_on_random_inputs",
                                  "test_rnn_forward_equals_stepping_rnn_step"),
        unaffected=("rnn_readout",),
    ),
    Bug(
        "rnn_forward-squeezes-the-input-of-each-step",
        "rnn_step(np.squeeze(x[:, t]), ...): with N = 1 or D = 1 the step gets a 1-D x_t, which it refuses",
        "rnn",
        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
        "h = np.where(active, rnn_step(np.squeeze(x[:, t]), h, Wx, Wh, b), h)  # (N, H)",
        errors=("test_rnn_forward_returns_the_right_types_and_shapes",
                "test_rnn_forward_matches_the_reference_on_hidden_inputs"),
        says={"test_rnn_forward_returns_the_right_types_and_shapes": hint("; got a 1-D array"),
              "test_rnn_forward_matches_the_reference_on_hidden_inputs": hint("; got a 1-D array")},
        passes=("test_rnn_forward_matches_the_reference_on_fixed_inputs",
                "test_rnn_forward_matches_the_reference_on_random_inputs",
                "test_rnn_forward_keeps_the_state_on_padding_steps",
                "test_rnn_forward_handles_a_500_step_sequence",
                "test_rnn_forward_equals_stepping_rnn_step"),
        unaffected=("rnn_step", "rnn_readout"),
    ),
    Bug(
        "rnn_step-hand-written-tanh-overflows",
        "tanh written out as (exp(a) - exp(-a)) / (exp(a) + exp(-a)): right until |a| > 710, then inf / inf = nan",
        "rnn",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
        "a = x_t @ Wx + h_prev @ Wh + b\n"
        "    return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))  # (N, H)",
        # only the saturation check sees it, and it names tanh, not the sigmoid (feedback.overflow_mistake)
        fails=("test_rnn_step_saturates_without_overflow",),
        diagnosis={"test_rnn_step_saturates_without_overflow": "tanh-overflow"},
        passes=RNN_STEP_CHECKS + ("test_rnn_step_returns_the_right_types_and_shapes",
                                  "test_rnn_step_matches_the_reference_on_hidden_inputs",
                                  "test_rnn_step_leaves_its_inputs_alone_and_repeats_itself"),
        unaffected=("rnn_forward", "rnn_readout"),
    ),
]

# ---------------------------------------------------------------------------------------
# Part 4a: lstm

SIGMOID_BODY = """    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # the same formula, rearranged by sign"""

LSTM = [
    Bug(
        "sigmoid-is-the-naive-formula-that-overflows",
        "1 / (1 + np.exp(-z)): right values, but exp overflows (a warning) for large negative z",
        "lstm",
        SIGMOID_BODY,
        "    return 1.0 / (1.0 + np.exp(-z))",
        fails=("test_sigmoid_is_stable_at_extreme_inputs",
               "test_sigmoid_saturates_without_overflow"),
        passes=("test_sigmoid_returns_the_right_types_and_shapes",
                "test_sigmoid_matches_the_reference_on_fixed_inputs",
                "test_sigmoid_matches_the_reference_on_random_inputs",
                "test_sigmoid_matches_the_reference_on_hidden_inputs"),
        # the overflow warning comes from this sigmoid: the saturation checks of lstm_gates and lstm_step
        # trace it to the function they call (follow-through) and pass
        unaffected=("lstm_gates", "lstm_step", "lstm_forward"),
    ),
    Bug(
        "sigmoid-from-tanh-without-halving-z",
        "0.5 * (1 + tanh(z)) instead of 0.5 * (1 + tanh(z / 2))",
        "lstm",
        SIGMOID_BODY,
        "    return 0.5 * (1.0 + np.tanh(z))",
        fails=("test_sigmoid_matches_the_reference_on_fixed_inputs",
               "test_sigmoid_matches_the_reference_on_random_inputs"),
        passes=("test_sigmoid_returns_the_right_types_and_shapes",),
        # graded with this sigmoid (follow-through)
        unaffected=("lstm_gates", "lstm_step", "lstm_forward"),
    ),
    Bug(
        "lstm_gates-in-cs231n-order",
        "splits the blocks as i, f, o, g (CS231n's layout)",
        "lstm",
        "a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)",
        "a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",
               "test_lstm_gates_matches_the_reference_on_random_inputs"),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-cs231n-order"},
        # every gate is still in its range; lstm_step, and lstm_forward's values through it, are graded with
        # this lstm_gates (follow-through)
        passes=("test_lstm_gates_lie_in_their_ranges", "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        unaffected=("sigmoid", "lstm_step"),
    ),
    Bug(
        "lstm_gates-squashes-g-with-sigmoid",
        "sigmoid on the candidate g, like the other three gates",
        "lstm",
        "return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)",
        "return sigmoid(a_i), sigmoid(a_f), sigmoid(a_g), sigmoid(a_o)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-g-sigmoid"},
        unaffected=("sigmoid", "lstm_step"),  # lstm_step: follow-through
    ),
    Bug(
        "lstm_step-returns-c-and-h-swapped",
        "return c_t, h_t",
        "lstm",
        "return h_t, c_t",
        "return c_t, h_t",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-hc-swapped"},
        unaffected=("sigmoid", "lstm_gates", "lstm_forward"),  # lstm_forward: follow-through
    ),
    Bug(
        "lstm_step-forgets-tanh-on-the-cell",
        "h_t = o * c_t",
        "lstm",
        "h_t = o * np.tanh(c_t)  # (N, H)",
        "h_t = o * c_t  # (N, H)",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-no-cell-tanh"},
        unaffected=("sigmoid", "lstm_gates", "lstm_forward"),  # lstm_forward: follow-through
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
    Bug(
        "sigmoid-is-tanh",
        "np.tanh(z): an S-shaped curve, but the wrong one",
        "lstm",
        SIGMOID_BODY,
        "    return np.tanh(z)",
        fails=("test_sigmoid_matches_the_reference_on_fixed_inputs",
               "test_sigmoid_is_stable_at_extreme_inputs",
               "test_lstm_gates_lie_in_their_ranges"),
        diagnosis={"test_sigmoid_matches_the_reference_on_fixed_inputs": "sigmoid-tanh",
                   "test_sigmoid_is_stable_at_extreme_inputs": "sigmoid-tanh"},
        unaffected=(),
    ),
    Bug(
        "sigmoid-with-its-two-branches-swapped",
        "e / (1 + e) for z >= 0 and 1 / (1 + e) for z < 0: sigmoid(-z)",
        "lstm",
        "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))",
        fails=("test_sigmoid_matches_the_reference_on_fixed_inputs",
               "test_sigmoid_is_stable_at_extreme_inputs"),
        diagnosis={"test_sigmoid_matches_the_reference_on_fixed_inputs": "sigmoid-sign"},
        # graded with this sigmoid (follow-through); the latch recall still fails
        unaffected=("lstm_gates", "lstm_step"),
    ),
    Bug(
        "lstm_gates-squashes-o-with-tanh",
        "tanh on the output gate o",
        "lstm",
        "return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)",
        "return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), np.tanh(a_o)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",
               "test_lstm_gates_lie_in_their_ranges"),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-o-tanh"},
        unaffected=("sigmoid", "lstm_step", "lstm_forward"),  # follow-through
    ),
    Bug(
        "lstm_gates-forgets-the-bias",
        "x_t @ Wx + h_prev @ Wh: b left out of the pre-activations",
        "lstm",
        "a = x_t @ Wx + h_prev @ Wh + b  # (N, 4H)",
        "a = x_t @ Wx + h_prev @ Wh  # (N, 4H)",
        fails=("test_lstm_gates_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_lstm_gates_matches_the_reference_on_fixed_inputs": "lstm-no-bias"},
        # graded with this lstm_gates (follow-through); the latch recall still fails
        passes=("test_lstm_forward_matches_the_reference_on_fixed_inputs",),
        unaffected=("sigmoid", "lstm_step"),
    ),
    Bug(
        "lstm_step-ignores-the-input-gate",
        "c_t = f * c_prev + g",
        "lstm",
        "c_t = f * c_prev + i * g  # (N, H)",
        "c_t = f * c_prev + g  # (N, H)",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates",
               "test_lstm_forward_recalls_a_bit_after_1000_distractors"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-no-input-gate"},
        # the values are graded with this lstm_step (follow-through); the whole cell still cannot latch
        passes=("test_lstm_forward_matches_the_reference_on_fixed_inputs",),
        unaffected=("sigmoid", "lstm_gates"),
    ),
    Bug(
        "lstm_step-ignores-the-forget-gate",
        "c_t = c_prev + i * g",
        "lstm",
        "c_t = f * c_prev + i * g  # (N, H)",
        "c_t = c_prev + i * g  # (N, H)",
        fails=("test_lstm_step_matches_the_reference_on_fixed_inputs",
               "test_lstm_step_agrees_with_your_lstm_gates"),
        diagnosis={"test_lstm_step_matches_the_reference_on_fixed_inputs": "lstm-no-forget-gate"},
        unaffected=("sigmoid", "lstm_gates", "lstm_forward"),  # lstm_forward: follow-through
    ),
    Bug(
        "lstm_forward-restarts-h-from-h0",
        "lstm_step(x[:, t], h0, c, ...): the hidden state is not carried (the cell is)",
        "lstm",
        "h_new, c_new = lstm_step(x[:, t], h, c, Wx, Wh, b)",
        "h_new, c_new = lstm_step(x[:, t], h0, c, Wx, Wh, b)",
        fails=("test_lstm_forward_matches_the_reference_on_fixed_inputs",
               "test_lstm_forward_matches_the_reference_on_random_inputs"),
        diagnosis={"test_lstm_forward_matches_the_reference_on_fixed_inputs": "lstm-state-not-carried"},
        # the latch weights have Wh = 0, so the bit survives in the cell: only the value checks see it
        passes=("test_lstm_forward_recalls_a_bit_after_1000_distractors",),
        unaffected=("sigmoid", "lstm_gates", "lstm_step"),
    ),
    Bug(
        "lstm_gates-slices-with-a-float-block-size",
        "H = Wx.shape[1] / 4 (Python 2 habit), then a[:, :H], ...: a float cannot be a slice index",
        "lstm",
        "a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # each (N, H), in LSTM_GATES order",
        "H = Wx.shape[1] / 4  # four gate blocks\n"
        "    a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]",
        # lstm_step and lstm_forward call it, and it gives no answer: the reference's lstm_gates stands in
        errors=("test_lstm_gates_returns_the_right_types_and_shapes",
                "test_lstm_gates_matches_the_reference_on_fixed_inputs",
                "test_lstm_gates_lie_in_their_ranges"),
        passes=("test_lstm_step_matches_the_reference_on_fixed_inputs",
                "test_lstm_forward_matches_the_reference_on_fixed_inputs"),
        says={"test_lstm_gates_matches_the_reference_on_fixed_inputs": hint("slice indices must be integers")},
        unaffected=("sigmoid",),
    ),
    Bug(
        "lstm_forward-sizes-its-output-with-a-float",
        "H = Wx.shape[1] / 4, then np.zeros((N, T, H)): a float cannot be an array size",
        "lstm",
        "H = h0.shape[1]",
        "H = Wx.shape[1] / 4  # Wx holds four gate blocks",
        errors=("test_lstm_forward_returns_the_right_types_and_shapes",
                "test_lstm_forward_matches_the_reference_on_fixed_inputs",
                "test_lstm_forward_keeps_the_state_on_padding_steps",
                "test_lstm_forward_recalls_a_bit_after_1000_distractors"),
        says={"test_lstm_forward_matches_the_reference_on_fixed_inputs":
              hint("'float' object cannot be interpreted as an integer")},
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
               "test_gru_forward_recalls_a_bit_after_1000_distractors"),
        diagnosis={"test_gru_step_matches_the_reference_on_fixed_inputs": "gru-z-swapped"},
        # the values are graded with this gru_step (follow-through); the whole cell still cannot latch
        passes=("test_gru_forward_matches_the_reference_on_fixed_inputs",),
        unaffected=("gru_gates",),
    ),
    Bug(
        "gru_gates-resets-before-the-matmul",
        "tanh(ax_n + (r * h) @ Wh_n + bh_n): Cho et al. / Keras reset_after=False",
        "gru",
        "n = np.tanh(ax_n + r * ah_n)  # reset applied after the matrix product",
        "n = np.tanh(ax_n + (r * h_prev) @ np.split(Wh, 3, axis=1)[2] + np.split(bh, 3)[2])",
        fails=("test_gru_gates_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_gru_gates_matches_the_reference_on_fixed_inputs": "gru-reset-before"},
        passes=("test_gru_gates_lie_in_their_ranges",),
        unaffected=("gru_step", "gru_forward"),  # follow-through
    ),
    Bug(
        "gru_gates-in-keras-order",
        "splits the blocks as z, r, n",
        "gru",
        "ax_r, ax_z, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)  # each (N, H), in GRU_GATES order\n"
        "    ah_r, ah_z, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)",
        "ax_z, ax_r, ax_n = np.split(x_t @ Wx + bx, 3, axis=1)  # each (N, H)\n"
        "    ah_z, ah_r, ah_n = np.split(h_prev @ Wh + bh, 3, axis=1)",
        fails=("test_gru_gates_matches_the_reference_on_fixed_inputs",),
        diagnosis={"test_gru_gates_matches_the_reference_on_fixed_inputs": "gru-keras-order"},
        unaffected=("gru_step",),  # follow-through; the latch recall still fails
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
        fails=("test_recall_accuracy_is_one_when_all_right_and_zero_when_all_wrong",
               "test_recall_accuracy_matches_the_reference", "test_recall_accuracy_matches_the_reference_hidden"),
        diagnosis={"test_recall_accuracy_is_one_when_all_right_and_zero_when_all_wrong": "accuracy-inverted",
                   "test_recall_accuracy_matches_the_reference": "accuracy-inverted",
                   "test_recall_accuracy_matches_the_reference_hidden": "accuracy-inverted"},
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

# ---------------------------------------------------------------------------------------
# Part 5: bptt


def bptt_checks(function, *kinds):
    """The names of `function`'s checks of the given kinds (the templates in autograder/checks/bptt.py)."""
    names = {"shapes": "test_{}_returns_the_right_types_and_shapes",
             "fixed": "test_{}_matches_the_reference_on_fixed_inputs",
             "random": "test_{}_matches_the_reference_on_random_inputs",
             "hidden": "test_{}_matches_the_reference_on_hidden_inputs",
             "pure": "test_{}_leaves_its_inputs_alone_and_repeats_itself",
             "fd": "test_{}_agrees_with_finite_differences",
             "fd_hidden": "test_{}_agrees_with_finite_differences_hidden"}
    return tuple(names[kind].format(function) for kind in kinds)


#: the value checks of a step's backward pass, and of a sequence's (which has hidden finite differences too)
STEP_VALUES = ("fixed", "random", "hidden", "fd")
SEQ_VALUES = STEP_VALUES + ("fd_hidden",)
#: the checks that must keep passing when only the values are wrong
FORM = ("shapes", "pure")

NUMGRAD_CURVED = "test_numerical_gradient_matches_the_reference_on_a_curved_function"
NUMGRAD_BY_DF = "test_numerical_gradient_weights_outputs_by_df"
NUMGRAD_X_ALONE = "test_numerical_gradient_leaves_x_alone"
NUMGRAD_HIDDEN = "test_numerical_gradient_matches_the_reference_hidden"
FIRST_STEP_LINEAR = "test_gradient_to_first_step_matches_the_reference_on_a_linear_recurrence"
FIRST_STEP_HIDDEN = "test_gradient_to_first_step_matches_the_reference_hidden"
#: runs the submission's own rnn_backward, then its lstm_backward
VANISHING = "test_gradient_to_first_step_vanishes_through_a_vanilla_rnn_but_not_through_an_open_lstm"
TRAINS_RNN = "test_rnn_backward_trains_a_vanilla_rnn_to_recall_across_10_steps"
TRAINS_LSTM = "test_lstm_backward_trains_an_lstm_to_recall_across_70_steps"
TRAINS_GRU = "test_gru_backward_trains_a_gru_to_recall_across_70_steps"

BACKWARDS = ("rnn_step_backward", "rnn_backward", "lstm_step_backward", "lstm_backward", "gru_step_backward",
             "gru_backward")


def others(*functions):
    """Every function of bptt.py except these."""
    return tuple(f for f in ("numerical_gradient",) + BACKWARDS + ("gradient_to_first_step",) if f not in functions)


def step_broken(step, sequence, training):
    """A wrong step backward pass: its values fail, and the training of the sequence pass built on it.

    The sequence pass's values are graded with this step (follow-through), and so is the
    gradient curve through that pass (RNN, LSTM): both keep their points. Training is not.
    """
    return dict(fails=bptt_checks(step, *STEP_VALUES) + (training,),
                passes=bptt_checks(step, *FORM) + bptt_checks(sequence, *FORM, *SEQ_VALUES),
                unaffected=others(step, sequence))


RNN_STEP_BROKEN = step_broken("rnn_step_backward", "rnn_backward", TRAINS_RNN)
LSTM_STEP_BROKEN = step_broken("lstm_step_backward", "lstm_backward", TRAINS_LSTM)
GRU_STEP_BROKEN = step_broken("gru_step_backward", "gru_backward", TRAINS_GRU)


def seq_broken(function, training):
    """A wrong sequence backward pass: its values and its training fail. The gradient curve, where it runs this
    pass, is graded with it (follow-through), so gradient_to_first_step keeps every point."""
    return dict(fails=bptt_checks(function, *SEQ_VALUES) + (training,),
                passes=bptt_checks(function, *FORM),
                unaffected=others(function))


def diagnosed(function, key, *kinds):
    return {name: key for name in bptt_checks(function, *(kinds or ("fixed", "random")))}


RNN_CARRY_CALL = "rnn_step_backward(dhs[:, t] + carried, x[:, t], prev[:, t], Wx, Wh, b)"
LSTM_CARRY_CALL = ("dx[:, t], dh, dc, gWx, gWh, gb = lstm_step_backward(dhs[:, t] + dh, dc, x[:, t], h_prev[:, t],")
GRU_CARRY_CALL = "gru_step_backward(dhs[:, t] + carried, x[:, t], prev[:, t],"
LSTM_GATE_BLOCKS = ("        dc * g * i * (1.0 - i),          # input gate\n"
                    "        dc * c_prev * f * (1.0 - f),     # forget gate\n"
                    "        dc * i * (1.0 - g ** 2),         # candidate (tanh)\n"
                    "        dh_next * tc * o * (1.0 - o),    # output gate\n")

BPTT = [
    # --- numerical_gradient
    Bug(
        "numerical_gradient-one-sided-difference",
        "(f(x + h) - f(x)) / h: the forward difference from a first calculus course",
        "bptt",
        "probe[index] = old - h\n"
        "        minus = np.asarray(f(probe), dtype=np.float64)\n"
        "        probe[index] = old\n"
        "        grad[index] = np.sum((plus - minus) * df) / (2 * h)",
        "probe[index] = old\n"
        "        minus = np.asarray(f(probe), dtype=np.float64)  # f(x) itself\n"
        "        grad[index] = np.sum((plus - minus) * df) / h",
        fails=(NUMGRAD_CURVED, NUMGRAD_HIDDEN),
        diagnosis={NUMGRAD_CURVED: "numgrad-one-sided", NUMGRAD_HIDDEN: "numgrad-one-sided"},
        # on a linear function a one-sided difference is exact: only the curved probe can tell
        passes=(NUMGRAD_BY_DF, NUMGRAD_X_ALONE),
        unaffected=others("numerical_gradient"),
    ),
    Bug(
        "numerical_gradient-ignores-df",
        "np.sum(plus - minus) / (2h): the gradient of sum(f(x)), every output weighted 1",
        "bptt",
        "grad[index] = np.sum((plus - minus) * df) / (2 * h)",
        "grad[index] = np.sum(plus - minus) / (2 * h)",
        fails=(NUMGRAD_CURVED, NUMGRAD_BY_DF, NUMGRAD_HIDDEN),
        diagnosis={NUMGRAD_CURVED: "numgrad-no-df", NUMGRAD_BY_DF: "numgrad-no-df", NUMGRAD_HIDDEN: "numgrad-no-df"},
        passes=(NUMGRAD_X_ALONE,),
        unaffected=others("numerical_gradient"),
    ),
    Bug(
        "numerical_gradient-divides-by-h",
        "(f(x + h) - f(x - h)) / h: centred, but the step is 2h",
        "bptt",
        "grad[index] = np.sum((plus - minus) * df) / (2 * h)",
        "grad[index] = np.sum((plus - minus) * df) / h",
        fails=(NUMGRAD_CURVED, NUMGRAD_BY_DF, NUMGRAD_HIDDEN),
        diagnosis={NUMGRAD_CURVED: "numgrad-over-h", NUMGRAD_BY_DF: "numgrad-over-h", NUMGRAD_HIDDEN: "numgrad-over-h"},
        passes=(NUMGRAD_X_ALONE,),
        unaffected=others("numerical_gradient"),
    ),
    Bug(
        "numerical_gradient-nudges-x-in-place",
        "the classic course helper: x[ix] += h, x[ix] -= 2h, x[ix] += h on the caller's x (not restored exactly)",
        "bptt",
        "probe = x.copy()\n"
        "    grad = np.zeros_like(x)\n"
        "    for index in np.ndindex(x.shape):\n"
        "        old = probe[index]\n"
        "        probe[index] = old + h\n"
        "        plus = np.asarray(f(probe), dtype=np.float64)\n"
        "        probe[index] = old - h\n"
        "        minus = np.asarray(f(probe), dtype=np.float64)\n"
        "        probe[index] = old\n",
        "probe = x  # no copy: nudge x itself and put it back\n"
        "    grad = np.zeros_like(x)\n"
        "    for index in np.ndindex(x.shape):\n"
        "        probe[index] += h\n"
        "        plus = np.asarray(f(probe), dtype=np.float64)\n"
        "        probe[index] -= 2 * h\n"
        "        minus = np.asarray(f(probe), dtype=np.float64)\n"
        "        probe[index] += h\n",
        # x + h - 2h + h is not x in floating point: every check sees x changed
        fails=(NUMGRAD_CURVED, NUMGRAD_BY_DF, NUMGRAD_X_ALONE, NUMGRAD_HIDDEN),
        unaffected=others("numerical_gradient"),
    ),
    # --- rnn_step_backward
    Bug(
        "rnn_step_backward-forgets-the-tanh-derivative",
        "da = dh_next: the gradient goes straight into the matrix products, as if the step were linear",
        "bptt",
        "da = dh_next * (1.0 - h ** 2)  # (N, H): through tanh",
        "da = dh_next  # (N, H)",
        **RNN_STEP_BROKEN,
        diagnosis=diagnosed("rnn_step_backward", "bptt-no-tanh-grad"),
    ),
    Bug(
        "rnn_step_backward-takes-the-tanh-derivative-at-h_prev",
        "1 - h_prev**2: the state that is at hand, not the one tanh produced",
        "bptt",
        "da = dh_next * (1.0 - h ** 2)  # (N, H): through tanh",
        "da = dh_next * (1.0 - h_prev ** 2)  # (N, H): through tanh",
        **RNN_STEP_BROKEN,
        diagnosis=diagnosed("rnn_step_backward", "bptt-tanh-grad-at-h-prev", "fixed", "random", "hidden"),
    ),
    # --- rnn_backward
    Bug(
        "rnn_backward-does-not-carry-the-gradient",
        "rnn_step_backward(dhs[:, t], ...): each step sees only its own loss, nothing from later steps",
        "bptt",
        RNN_CARRY_CALL,
        "rnn_step_backward(dhs[:, t], x[:, t], prev[:, t], Wx, Wh, b)",
        **seq_broken("rnn_backward", TRAINS_RNN),
        diagnosis=diagnosed("rnn_backward", "bptt-no-carry", "fixed", "random", "hidden"),
    ),
    Bug(
        "rnn_backward-reads-dhs-as-the-final-gradient",
        "starts from dhs[:, -1] and only carries it back, as if dhs were the gradient on the last state",
        "bptt",
        "carried = np.zeros_like(h0)\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        dx[:, t], carried, gWx, gWh, gb = " + RNN_CARRY_CALL,
        "carried = dhs[:, -1]  # the gradient arriving at the last state\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        dx[:, t], carried, gWx, gWh, gb = rnn_step_backward(carried, x[:, t], prev[:, t], Wx, Wh, b)",
        **seq_broken("rnn_backward", TRAINS_RNN),
        diagnosis=diagnosed("rnn_backward", "bptt-only-last", "fixed", "random", "hidden"),
    ),
    Bug(
        "rnn_backward-overwrites-the-weight-gradients",
        "dWx = gWx inside the loop: the weight gradients of the first step only",
        "bptt",
        "dWx += gWx\n        dWh += gWh\n        db += gb\n    return dx, carried",
        "dWx = gWx\n        dWh = gWh\n        db = gb\n    return dx, carried",
        # dx and dh0 are right, so the gradient curve (which reads only dx) still is
        **seq_broken("rnn_backward", TRAINS_RNN),
        diagnosis=diagnosed("rnn_backward", "bptt-not-summed", "fixed", "random", "hidden"),
    ),
    Bug(
        "rnn_backward-adds-the-carried-gradient-into-dhs",
        "dhs[:, t] += carried: right values, but the caller's dhs is changed",
        "bptt",
        "        dx[:, t], carried, gWx, gWh, gb = " + RNN_CARRY_CALL,
        "        dhs[:, t] += carried  # dhs[:, t] is now the whole gradient on h_t\n"
        "        dx[:, t], carried, gWx, gWh, gb = rnn_step_backward(dhs[:, t], x[:, t], prev[:, t], Wx, Wh, b)",
        fails=bptt_checks("rnn_backward", "pure"),
        # every value is right, so it trains, and the gradient curve (which builds its own dhs) is right too
        passes=bptt_checks("rnn_backward", "shapes", *SEQ_VALUES) + (TRAINS_RNN,),
        unaffected=others("rnn_backward"),
    ),
    Bug(
        "rnn_backward-pairs-each-step-with-its-own-output",
        "prev = hs: step t is differentiated at the state it produced, not the one it started from",
        "bptt",
        "prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H): the state each step started from",
        "prev = hs  # (N, T, H)",
        **seq_broken("rnn_backward", TRAINS_RNN),
    ),
    # --- lstm_step_backward
    Bug(
        "lstm_step_backward-forgets-the-cell-tanh-derivative",
        "dc = dc_next + dh_next * o: h = o * tanh(c) differentiated as if it were o * c",
        "bptt",
        "dc = dc_next + dh_next * o * (1.0 - tc ** 2)",
        "dc = dc_next + dh_next * o",
        **LSTM_STEP_BROKEN,
        diagnosis=diagnosed("lstm_step_backward", "lstm-bptt-no-cell-tanh-grad", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_step_backward-uses-the-tanh-derivative-for-sigmoid-gates",
        "1 - s**2 for i, f and o: every gate differentiated like tanh",
        "bptt",
        LSTM_GATE_BLOCKS,
        "        dc * g * (1.0 - i ** 2),         # input gate\n"
        "        dc * c_prev * (1.0 - f ** 2),    # forget gate\n"
        "        dc * i * (1.0 - g ** 2),         # candidate (tanh)\n"
        "        dh_next * tc * (1.0 - o ** 2),   # output gate\n",
        **LSTM_STEP_BROKEN,
        diagnosis=diagnosed("lstm_step_backward", "lstm-bptt-sigmoid-grad", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_step_backward-dc_prev-skips-the-forget-gate",
        "dc_prev = dc: the cell's gradient passed back whole, as if c_t = c_prev + i * g",
        "bptt",
        "da @ Wh.T, dc * f, x_t.T @ da",
        "da @ Wh.T, dc, x_t.T @ da",
        **LSTM_STEP_BROKEN,
        diagnosis=diagnosed("lstm_step_backward", "lstm-bptt-forget", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_step_backward-stacks-the-gates-in-cs231n-order",
        "the gate gradients concatenated i, f, o, g (CS231n's layout), not the weights' i, f, g, o",
        "bptt",
        LSTM_GATE_BLOCKS,
        "        dc * g * i * (1.0 - i),          # input gate\n"
        "        dc * c_prev * f * (1.0 - f),     # forget gate\n"
        "        dh_next * tc * o * (1.0 - o),    # output gate\n"
        "        dc * i * (1.0 - g ** 2),         # candidate (tanh)\n",
        **LSTM_STEP_BROKEN,
        diagnosis=diagnosed("lstm_step_backward", "lstm-bptt-cs231n-order", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_step_backward-returns-dc_prev-before-dh_prev",
        "return dx, dc_prev, dh_prev, ...: the two state gradients in the wrong order",
        "bptt",
        "return da @ Wx.T, da @ Wh.T, dc * f, x_t.T @ da",
        "return da @ Wx.T, dc * f, da @ Wh.T, x_t.T @ da",
        **LSTM_STEP_BROKEN,
        # lstm_backward, which carries dc as dh and dh as dc through it, is graded with it (follow-through)
        diagnosis=diagnosed("lstm_step_backward", "lstm-bptt-hc-swapped", "fixed", "random", "hidden"),
    ),
    # --- lstm_backward
    Bug(
        "lstm_backward-does-not-carry-dh",
        "lstm_step_backward(dhs[:, t], dc, ...): the cell's gradient is carried, the hidden state's is dropped",
        "bptt",
        LSTM_CARRY_CALL,
        "dx[:, t], dh, dc, gWx, gWh, gb = lstm_step_backward(dhs[:, t], dc, x[:, t], h_prev[:, t],",
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-no-carry", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-drops-the-cell-gradient",
        "dc_next = 0 at every step: the cell only gets gradient through its own step's h",
        "bptt",
        LSTM_CARRY_CALL,
        "dx[:, t], dh, dc, gWx, gWh, gb = lstm_step_backward(dhs[:, t] + dh, np.zeros_like(dc), x[:, t], "
        "h_prev[:, t],",
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-cell-not-carried", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-reads-dhs-as-the-final-gradient",
        "starts from dh = dhs[:, -1] and only carries it back",
        "bptt",
        "dh, dc = np.zeros_like(h0), np.zeros_like(c0)\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        " + LSTM_CARRY_CALL,
        "dh, dc = dhs[:, -1], np.zeros_like(c0)  # the gradient arriving at the last state\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        dx[:, t], dh, dc, gWx, gWh, gb = lstm_step_backward(dh, dc, x[:, t], h_prev[:, t],",
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-only-last", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-overwrites-the-weight-gradients",
        "dWx = gWx inside the loop: the weight gradients of the first step only",
        "bptt",
        "dWx += gWx\n        dWh += gWh\n        db += gb\n    return dx, dh, dc",
        "dWx = gWx\n        dWh = gWh\n        db = gb\n    return dx, dh, dc",
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-not-summed", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-returns-dc0-before-dh0",
        "return dx, dc, dh, ...: the initial states' gradients in the wrong order",
        "bptt",
        "return dx, dh, dc, dWx, dWh, db",
        "return dx, dc, dh, dWx, dWh, db",
        # both are (N, H), so the shapes pass; dx is right, so the gradient curve is too
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-hc-swapped", "fixed", "random", "hidden"),
    ),
    # --- gru_step_backward
    Bug(
        "gru_step_backward-flips-the-sign-of-the-z-gradient",
        "dh/dz = n - h_prev, as for h = z * n + (1 - z) * h_prev (the other convention)",
        "bptt",
        "dz_pre = dh_next * (h_prev - n) * z * (1.0 - z)",
        "dz_pre = dh_next * (n - h_prev) * z * (1.0 - z)",
        **GRU_STEP_BROKEN,
        diagnosis=diagnosed("gru_step_backward", "gru-bptt-z-sign", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_step_backward-leaves-the-reset-gate-off-the-h-side",
        "the h-side n block gets dn_pre, not dn_pre * r (as if r multiplied after, not inside)",
        "bptt",
        "dah = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)",
        "dah = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)",
        **GRU_STEP_BROKEN,
        diagnosis=diagnosed("gru_step_backward", "gru-bptt-reset-h-side", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_step_backward-misses-the-direct-path",
        "dh_prev = dah @ Wh.T: only the paths through the gates, not z * h_prev itself",
        "bptt",
        "dh_prev = dh_next * z + dah @ Wh.T",
        "dh_prev = dah @ Wh.T",
        **GRU_STEP_BROKEN,
        diagnosis=diagnosed("gru_step_backward", "gru-bptt-no-direct-path", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_step_backward-forgets-the-tanh-derivative",
        "dn_pre = dh_next * (1 - z): the candidate differentiated as if it were linear",
        "bptt",
        "dn_pre = dh_next * (1.0 - z) * (1.0 - n ** 2)",
        "dn_pre = dh_next * (1.0 - z)",
        **GRU_STEP_BROKEN,
        diagnosis=diagnosed("gru_step_backward", "gru-bptt-no-tanh-grad", "fixed", "random", "hidden"),
    ),
    # --- gru_backward
    Bug(
        "gru_backward-does-not-carry-the-gradient",
        "gru_step_backward(dhs[:, t], ...): nothing flows back from later steps",
        "bptt",
        GRU_CARRY_CALL,
        "gru_step_backward(dhs[:, t], x[:, t], prev[:, t],",
        **seq_broken("gru_backward", TRAINS_GRU),
        diagnosis=diagnosed("gru_backward", "gru-bptt-no-carry", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_backward-reads-dhs-as-the-final-gradient",
        "starts from dhs[:, -1] and only carries it back",
        "bptt",
        "carried = np.zeros_like(h0)\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        dx[:, t], carried, gWx, gWh, gbx, gbh = " + GRU_CARRY_CALL,
        "carried = dhs[:, -1]  # the gradient arriving at the last state\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        dx[:, t], carried, gWx, gWh, gbx, gbh = gru_step_backward(carried, x[:, t], prev[:, t],",
        **seq_broken("gru_backward", TRAINS_GRU),
        diagnosis=diagnosed("gru_backward", "gru-bptt-only-last", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_backward-overwrites-the-weight-gradients",
        "dWx = gWx (and the rest) inside the loop: the gradients of the first step only",
        "bptt",
        "dWx += gWx\n        dWh += gWh\n        dbx += gbx\n        dbh += gbh",
        "dWx = gWx\n        dWh = gWh\n        dbx = gbx\n        dbh = gbh",
        **seq_broken("gru_backward", TRAINS_GRU),
        diagnosis=diagnosed("gru_backward", "gru-bptt-not-summed", "fixed", "random", "hidden"),
    ),
    # --- carried gradients never updated, values left as None
    Bug(
        "rnn_backward-never-updates-the-carried-gradient",
        "the step's dh_prev goes to a new name, so the carried gradient it adds stays at zeros (and is returned)",
        "bptt",
        "dx[:, t], carried, gWx, gWh, gb = " + RNN_CARRY_CALL,
        "dx[:, t], dh_prev, gWx, gWh, gb = " + RNN_CARRY_CALL,
        **seq_broken("rnn_backward", TRAINS_RNN),
        diagnosis=diagnosed("rnn_backward", "bptt-carry-not-updated", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-never-updates-dh",
        "lstm_step_backward's dh_prev goes to a new name: the carried dh stays at zeros, dc is carried",
        "bptt",
        LSTM_CARRY_CALL,
        LSTM_CARRY_CALL.replace("dx[:, t], dh, dc,", "dx[:, t], dh_prev, dc,"),
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-carry-not-updated", "fixed", "random", "hidden"),
    ),
    Bug(
        "lstm_backward-never-updates-dc",
        "lstm_step_backward's dc_prev goes to a new name: the dc passed back stays at zeros, dh is carried",
        "bptt",
        LSTM_CARRY_CALL,
        LSTM_CARRY_CALL.replace("dx[:, t], dh, dc,", "dx[:, t], dh, dc_prev,"),
        **seq_broken("lstm_backward", TRAINS_LSTM),
        diagnosis=diagnosed("lstm_backward", "lstm-bptt-cell-not-updated", "fixed", "random", "hidden"),
    ),
    Bug(
        "gru_backward-never-updates-the-carried-gradient",
        "the step's dh_prev goes to a new name, so the carried gradient it adds stays at zeros (and is returned)",
        "bptt",
        "dx[:, t], carried, gWx, gWh, gbx, gbh = " + GRU_CARRY_CALL,
        "dx[:, t], dh_prev, gWx, gWh, gbx, gbh = " + GRU_CARRY_CALL,
        **seq_broken("gru_backward", TRAINS_GRU),
        diagnosis=diagnosed("gru_backward", "gru-bptt-carry-not-updated", "fixed", "random", "hidden"),
    ),
    Bug(
        "rnn_backward-starts-a-gradient-sum-at-None",
        "db = None before the loop, then db += gb: None cannot be added to",
        "bptt",
        "prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H): the state each step started from\n"
        "    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)",
        "prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # (N, T, H): the state each step started from\n"
        "    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), None  # db: from the steps",
        errors=bptt_checks("rnn_backward", "shapes", "pure", *SEQ_VALUES) + (TRAINS_RNN,),
        says={name: hint("NoneType") for name in bptt_checks("rnn_backward", "shapes", "fixed")},
        # the curve runs the broken rnn_backward and says so; the kit's own linear probe does not
        fails=(VANISHING,),
        passes=(FIRST_STEP_LINEAR, FIRST_STEP_HIDDEN),
        unaffected=others("rnn_backward", "gradient_to_first_step"),
    ),
    Bug(
        "rnn_step_backward-helper-without-return",
        "a helper for the tanh derivative that computes its value and never returns it: da is None",
        "bptt",
        "da = dh_next * (1.0 - h ** 2)  # (N, H): through tanh",
        "def through_tanh(dh, out):  # the gradient through tanh, given its output\n"
        "        dh * (1.0 - out ** 2)\n"
        "    da = through_tanh(dh_next, h)  # (N, H)",
        # rnn_backward calls it, and it gives no answer: the reference's rnn_step_backward stands in for it there
        errors=(bptt_checks("rnn_step_backward", "shapes", "pure", *STEP_VALUES) + (TRAINS_RNN,)),
        says={name: hint("does not have enough dimensions (has 0,")
              for name in bptt_checks("rnn_step_backward", "shapes", "fixed")},
        fails=(VANISHING,),
        passes=(FIRST_STEP_LINEAR, FIRST_STEP_HIDDEN,
                *bptt_checks("rnn_backward", "shapes", "pure", *SEQ_VALUES)),
        unaffected=others("rnn_step_backward", "rnn_backward", "gradient_to_first_step"),
    ),
    Bug(
        "lstm_backward-returns-None-for-dc0",
        "dc0 left as a placeholder: return dx, dh, None, ...",
        "bptt",
        "return dx, dh, dc, dWx, dWh, db",
        "return dx, dh, None, dWx, dWh, db  # dc0: later",
        # the shapes are checked first, and name the value that is None; dx is right, so the curve is too
        fails=bptt_checks("lstm_backward", "shapes", "pure", *SEQ_VALUES) + (TRAINS_LSTM,),
        says={name: "lstm_backward returned dc0 as None" for name in bptt_checks("lstm_backward", "shapes", "fixed")},
        unaffected=others("lstm_backward"),
    ),
    # --- gradient_to_first_step
    Bug(
        "gradient_to_first_step-sums-over-the-batch",
        "per_row.sum(axis=1): the norms added up over the batch, not averaged",
        "bptt",
        "return per_row.mean(axis=1)",
        "return per_row.sum(axis=1)",
        fails=(FIRST_STEP_LINEAR, FIRST_STEP_HIDDEN, VANISHING),
        diagnosis={FIRST_STEP_LINEAR: "first-step-summed", FIRST_STEP_HIDDEN: "first-step-summed",
                   VANISHING: "first-step-summed"},
        unaffected=others("gradient_to_first_step"),
    ),
    Bug(
        "gradient_to_first_step-uses-an-unnormalised-upstream-gradient",
        "ones(H) as the upstream gradient: its norm is sqrt(H), not 1",
        "bptt",
        "dhs[k * N:(k + 1) * N, k] = 1.0 / np.sqrt(H)",
        "dhs[k * N:(k + 1) * N, k] = 1.0",
        fails=(FIRST_STEP_LINEAR, FIRST_STEP_HIDDEN, VANISHING),
        diagnosis={FIRST_STEP_LINEAR: "first-step-unit", FIRST_STEP_HIDDEN: "first-step-unit",
                   VANISHING: "first-step-unit"},
        unaffected=others("gradient_to_first_step"),
    ),
]


# ---------------------------------------------------------------------------------------
# Part 6: stepping

STEPPING = ("project_inputs", "rnn_forward_hoisted", "softmax", "attend", "attention_recall", "sequential_steps")
KINDS = {"shapes": "returns_the_right_types_and_shapes", "fixed": "matches_the_reference_on_fixed_inputs",
         "random": "matches_the_reference_on_random_inputs", "hidden": "matches_the_reference_on_hidden_inputs",
         "pure": "leaves_its_inputs_alone_and_repeats_itself", "long": "handles_a_500_step_sequence",
         "lengths": "keeps_the_state_on_padding_steps", "lengths_hidden": "keeps_the_state_on_padding_steps_hidden",
         "alone": "projects_each_step_on_its_own", "agrees": "agrees_with_your_rnn_forward",
         "stable": "is_stable_for_scores_of_size_1e4_along_either_axis", "masks": "weighs_only_the_positions_the_mask_allows",
         "masks_hidden": "weighs_only_the_positions_the_mask_allows_hidden", "shift": "ignores_a_shift_shared_by_every_key",
         "huge": "is_stable_for_scores_of_size_1e4", "recall": "recalls_the_bit_after_1000_distractors",
         "far": "recalls_the_bit_after_10000_distractors", "recall_hidden": "recalls_the_bit_hidden",
         "blind": "cannot_tell_when_the_bit_was_written",
         "chain": "counts_the_chain_of_steps_that_wait_for_each_other",
         "chain_hidden": "counts_the_chain_of_steps_that_wait_for_each_other_hidden"}


def part6(function, *kinds):
    """Check names test_<function>_<kind> for the kinds above (VALUES: fixed, random, hidden)."""
    return tuple(f"test_{function}_{KINDS[k]}" for k in kinds)


def besides(*functions):
    """Every function of stepping.py except these."""
    return tuple(f for f in STEPPING if f not in functions)


VALUES6 = ("fixed", "random", "hidden")
HOISTED_LOOP = "h = np.where(reading, np.tanh(P[:, t] + h @ Wh), h)  # (N, H)"
SOFTMAX_BODY = ("    shifted = z - np.max(z, axis=axis, keepdims=True)  # the largest entry becomes 0: exp(.) <= 1\n"
                "    e = np.exp(shifted)\n"
                "    return e / np.sum(e, axis=axis, keepdims=True)")
MASKING = "    scores = np.where(mask, scores, -np.inf)  # a forbidden position can win no weight at all\n"
RECALL_ALL = part6("attention_recall", "recall", "far", "recall_hidden")

STEPPING_BUGS = [
    Bug(
        "project_inputs-forgets-the-bias",
        "(rows @ Wx).reshape(...): every step's projection without b",
        "stepping",
        "    return (rows @ Wx + b).reshape(N, T, Wx.shape[1])  # (N, T, H)",
        "    return (rows @ Wx).reshape(N, T, Wx.shape[1])  # (N, T, H)",
        fails=part6("project_inputs", *VALUES6),
        diagnosis={name: "projection-no-bias" for name in part6("project_inputs", "fixed", "hidden")},
        passes=part6("project_inputs", "shapes", "pure", "alone"),
        # the hoisted loop runs on this project_inputs and is graded with it (follow-through): one mistake, once
        unaffected=besides("project_inputs"),
    ),
    Bug(
        "project_inputs-lays-the-rows-out-time-major",
        "x.transpose(1, 0, 2).reshape(N * T, D): the rows come out step by step, then are read back batch-first",
        "stepping",
        "    rows = x.reshape(N * T, D)  # every step of every sequence is a row of its own",
        "    rows = x.transpose(1, 0, 2).reshape(N * T, D)  # every step of every sequence is a row of its own",
        fails=part6("project_inputs", *VALUES6),
        passes=part6("project_inputs", "shapes", "pure"),
        unaffected=besides("project_inputs"),
    ),
    Bug(
        "rnn_forward_hoisted-adds-the-bias-twice",
        "tanh(P[:, t] + h @ Wh + b): b was already added by project_inputs",
        "stepping",
        HOISTED_LOOP,
        "h = np.where(reading, np.tanh(P[:, t] + h @ Wh + b), h)  # (N, H)",
        fails=part6("rnn_forward_hoisted", *VALUES6, "long", "lengths", "lengths_hidden", "agrees"),
        diagnosis={name: "hoisted-bias-twice" for name in part6("rnn_forward_hoisted", "fixed", "hidden", "agrees")},
        unaffected=besides("rnn_forward_hoisted"),
    ),
    Bug(
        "rnn_forward_hoisted-ignores-lengths",
        "h = tanh(P[:, t] + h @ Wh) at every step: padding steps change the state",
        "stepping",
        HOISTED_LOOP,
        "h = np.tanh(P[:, t] + h @ Wh)  # (N, H)",
        fails=part6("rnn_forward_hoisted", "lengths", "lengths_hidden", "agrees"),
        diagnosis={name: "rnn-lengths-ignored" for name in part6("rnn_forward_hoisted", "lengths", "agrees")},
        passes=part6("rnn_forward_hoisted", *VALUES6, "long", "shapes", "pure"),
        unaffected=besides("rnn_forward_hoisted"),
    ),
    Bug(
        "rnn_forward_hoisted-projects-inside-the-loop",
        "tanh(x[:, t] @ Wx + b + h @ Wh): the right states, with the projection still inside the loop",
        "stepping",
        "    P = project_inputs(x, Wx, b)  # (N, T, H): all the work that does not wait for h\n"
        "    hs = np.empty((N, T, h0.shape[1]))\n"
        "    h = h0\n"
        "    for t in range(T):  # the chain itself: step t needs the h of step t - 1\n"
        "        reading = (t < lengths)[:, None]  # (N, 1)\n"
        "        " + HOISTED_LOOP,
        "    hs = np.empty((N, T, h0.shape[1]))\n"
        "    h = h0\n"
        "    for t in range(T):\n"
        "        reading = (t < lengths)[:, None]  # (N, 1)\n"
        "        h = np.where(reading, np.tanh(x[:, t] @ Wx + b + h @ Wh), h)  # (N, H)",
        # counted as correct, and flagged: every check passes, one says so in a note
        notes={part6("rnn_forward_hoisted", "agrees")[0]: "rnn_forward_hoisted never calls project_inputs"},
        unaffected=STEPPING,
    ),
    Bug(
        "rnn_forward_hoisted-restarts-from-h0",
        "h0 @ Wh at every step: the state is not carried",
        "stepping",
        HOISTED_LOOP,
        "h = np.where(reading, np.tanh(P[:, t] + h0 @ Wh), h)  # (N, H)",
        fails=part6("rnn_forward_hoisted", *VALUES6, "long", "lengths", "lengths_hidden", "agrees"),
        diagnosis={name: "rnn-state-not-carried" for name in part6("rnn_forward_hoisted", "fixed", "hidden")},
        unaffected=besides("rnn_forward_hoisted"),
    ),
    Bug(
        "softmax-without-the-max-shift",
        "e = exp(z) as it is: inf / inf = nan once a score passes about 710",
        "stepping",
        "    shifted = z - np.max(z, axis=axis, keepdims=True)  # the largest entry becomes 0: exp(.) <= 1",
        "    shifted = z  # exp(z) as it is",
        fails=part6("softmax", "stable"),
        says={part6("softmax", "stable")[0]: "raised a warning on scores as large as 1e4"},
        passes=part6("softmax", "shapes", *VALUES6, "pure"),
        # attend's check at scores of 1e4 is graded with this softmax: it alone pays for the overflow
        unaffected=besides("softmax"),
    ),
    Bug(
        "softmax-normalises-along-axis-0",
        "max and sum along axis 0 whatever `axis` says",
        "stepping",
        SOFTMAX_BODY,
        SOFTMAX_BODY.replace("axis=axis", "axis=0"),
        fails=part6("softmax", *VALUES6, "stable") + RECALL_ALL,
        diagnosis={name: "softmax-wrong-axis" for name in part6("softmax", "fixed", "hidden", "stable")},
        # attend is graded with this softmax (follow-through); attention_recall, what the whole read must do,
        # fails with it and says to fix attend (whose cause is this softmax) first
        says={part6("attention_recall", "recall")[0]: "Fix attend first"},
        unaffected=besides("softmax", "attention_recall"),
    ),
    Bug(
        "softmax-divides-by-the-sum-of-the-whole-array",
        "e = exp(z - max(z)); e / e.sum(): one total for every row",
        "stepping",
        SOFTMAX_BODY,
        "    e = np.exp(z - np.max(z))\n    return e / e.sum()",
        fails=part6("softmax", *VALUES6, "stable"),
        diagnosis={name: "softmax-whole-array" for name in part6("softmax", "fixed", "hidden")},
        # attend is graded with it; attention_recall reads only the sign of a context that is now too small, so
        # it still recalls every bit
        unaffected=besides("softmax"),
    ),
    Bug(
        "attend-forgets-the-sqrt-scaling",
        "scores = K @ q without / sqrt(Dk)",
        "stepping",
        'scores = np.einsum("ntk,nk->nt", K, q) / np.sqrt(Dk)  # (N, T): how well each key fits the query',
        'scores = np.einsum("ntk,nk->nt", K, q)  # (N, T): how well each key fits the query',
        fails=part6("attend", *VALUES6, "masks", "masks_hidden"),
        diagnosis={name: "attention-unscaled" for name in part6("attend", "fixed", "hidden", "masks", "masks_hidden")},
        passes=part6("attend", "shapes", "pure", "shift"),
        # attention_recall's keys have Dk = 1, where the scaling changes nothing
        unaffected=besides("attend"),
    ),
    Bug(
        "attend-normalises-over-the-batch",
        "softmax(scores, axis=0): each position's weights add up to 1 over the batch",
        "stepping",
        "    weights = softmax(scores, axis=1)  # (N, T)",
        "    weights = softmax(scores, axis=0)  # (N, T)",
        fails=part6("attend", *VALUES6, "masks", "masks_hidden") + RECALL_ALL,
        diagnosis={name: "attention-softmax-axis" for name in part6("attend", "fixed", "hidden", "masks")},
        says={part6("attention_recall", "recall")[0]: "Fix attend first"},
        unaffected=besides("attend", "attention_recall"),
    ),
    Bug(
        "attend-masks-after-the-softmax",
        "softmax(scores) * mask: the forbidden weights are zeroed, the rest no longer sum to 1",
        "stepping",
        MASKING + "    weights = softmax(scores, axis=1)  # (N, T)",
        "    weights = softmax(scores, axis=1) * mask  # (N, T): forbidden positions get nothing",
        fails=part6("attend", "masks", "masks_hidden"),
        diagnosis={name: "attention-mask-after-softmax" for name in part6("attend", "masks", "masks_hidden")},
        says={part6("attend", "masks")[0]: "over the allowed positions of row"},
        passes=part6("attend", "shapes", *VALUES6, "pure", "shift", "huge"),
        unaffected=besides("attend"),
    ),
    Bug(
        "attend-ignores-the-mask",
        "the mask is checked, then never used",
        "stepping",
        MASKING,
        "",
        fails=part6("attend", "masks", "masks_hidden"),
        diagnosis={name: "attention-mask-ignored" for name in part6("attend", "masks", "masks_hidden")},
        says={part6("attend", "masks")[0]: "which the mask forbids"},
        passes=part6("attend", "shapes", *VALUES6, "pure", "shift", "huge"),
        unaffected=besides("attend"),
    ),
    Bug(
        "attention_recall-reads-the-first-step",
        "returns the sign of x[:, 0, 0]: right on the task as built, blind to where the write step is",
        "stepping",
        "    return (context[:, 0] > 0).astype(np.int64)",
        "    return (x[:, 0, 0] > 0).astype(np.int64)  # the bit is always written at step 0",
        fails=part6("attention_recall", "blind"),
        says={part6("attention_recall", "blind")[0]: "does it read a fixed position such as x[:, 0]"},
        passes=part6("attention_recall", "shapes") + RECALL_ALL,
        unaffected=besides("attention_recall"),
    ),
    Bug(
        "attention_recall-asks-too-quietly",
        "a query of 1 instead of 40: the write step outweighs one distractor, not a thousand",
        "stepping",
        "    Wq = np.array([[0.0], [0.0], [40.0]])  # (3, 1): the query step asks for the write flag",
        "    Wq = np.array([[0.0], [0.0], [1.0]])  # (3, 1): the query step asks for the write flag",
        fails=RECALL_ALL,
        says={part6("attention_recall", "recall")[0]: "Is the query strong enough"},
        passes=part6("attention_recall", "blind"),
        unaffected=besides("attention_recall"),
    ),
    Bug(
        "attention_recall-returns-booleans",
        "context[:, 0] > 0 without .astype(np.int64)",
        "stepping",
        "    return (context[:, 0] > 0).astype(np.int64)",
        "    return context[:, 0] > 0",
        fails=part6("attention_recall", "shapes"),
        says={part6("attention_recall", "shapes")[0]: "where integers are due"},
        passes=RECALL_ALL + part6("attention_recall", "blind"),
        unaffected=besides("attention_recall"),
    ),
    Bug(
        "sequential_steps-counts-operations",
        "T for a dense layer, T for an RNN, T * T for attention: the work, not the chain",
        "stepping",
        "    return T if kind == \"rnn\" else 1",
        "    return T * T if kind == \"attention\" else T  # a score per pair, an input per step",
        fails=part6("sequential_steps", "chain", "chain_hidden"),
        diagnosis={name: "steps-count-operations" for name in part6("sequential_steps", "chain", "chain_hidden")},
        unaffected=besides("sequential_steps"),
    ),
    Bug(
        "sequential_steps-returns-a-float",
        "float(T) and 1.0: a count of steps as a float",
        "stepping",
        "    return T if kind == \"rnn\" else 1",
        "    return float(T) if kind == \"rnn\" else 1.0",
        fails=part6("sequential_steps", "chain", "chain_hidden"),
        says={part6("sequential_steps", "chain")[0]: "a number of steps is an int"},
        unaffected=besides("sequential_steps"),
    ),
]

BUGS = FEEDFORWARD + RNN + LSTM + GRU + MEMORY + BPTT + STEPPING_BUGS
