"""Bad input gives a clear ValueError that names the argument, the shape it got and the shape it needs.

Every public function is exercised, in both packages:

* ``solutions`` - the reference;
* ``exercises`` - the generated skeletons. They keep the validation but not the solution
  code, so a skeleton must raise the *same* ValueError before it reaches its
  ``NotImplementedError``. That shows the checks sit outside the solution markers and a
  student's skeleton rejects bad input exactly like the reference does.

Sizes used throughout: N=2, T=5, D=3, H=4, C=6 (all different, so a message that quotes a
shape quotes an unambiguous one).
"""
import importlib
from dataclasses import dataclass, field

import numpy as np
import pytest

PACKAGES = ["solutions", "exercises"]
SIZES = {"N": 2, "T": 5, "D": 3, "H": 4, "C": 6, "DK": 7, "DV": 8}
N, T, D, H, C = (SIZES[k] for k in "NTDHC")
F_DENSE = 7  # dense_forward's input width


def _arr(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).normal(size=shape) * 0.5


def _identity(x):
    return x


# ----------------------------------------------------------------------------------
# The contract: every public function, its array arguments with their shape specs
# (argument order = validation order), and a set of valid keyword arguments.

# (module, function) -> [(argument, spec)], in the order the function validates them.
ARRAY_SPECS = {
    ("feedforward", "dense_forward"): [("W", "F H"), ("b", "H"), ("x", "N F")],
    ("feedforward", "flatten_sequence"): [("x", "N T D")],
    ("feedforward", "pad_or_truncate"): [("x", "N T D")],
    ("feedforward", "mean_pool"): [("x", "N T D")],
    ("feedforward", "place_pattern"): [("pattern", "D")],
    ("feedforward", "slotwise_responses"): [("W", "F H"), ("b", "H"), ("pattern", "D")],
    ("feedforward", "shared_responses"): [("Wx", "D H"), ("b", "H"), ("pattern", "D")],
    ("rnn", "rnn_step"): [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    ("rnn", "rnn_forward"): [("x", "N T D"), ("h0", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    ("rnn", "rnn_readout"): [("h", "N H"), ("Wy", "H C"), ("by", "C")],
    ("lstm", "sigmoid"): [],  # any shape; only the dtype is checked
    ("lstm", "lstm_gates"): [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    ("lstm", "lstm_step"): [("x_t", "N D"), ("h_prev", "N H"), ("c_prev", "N H"),
                            ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    ("lstm", "lstm_forward"): [("x", "N T D"), ("h0", "N H"), ("c0", "N H"),
                               ("Wx", "D 4H"), ("Wh", "H 4H"), ("b", "4H")],
    ("gru", "gru_gates"): [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"),
                           ("bx", "3H"), ("bh", "3H")],
    ("gru", "gru_step"): [("x_t", "N D"), ("h_prev", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"),
                          ("bx", "3H"), ("bh", "3H")],
    ("gru", "gru_forward"): [("x", "N T D"), ("h0", "N H"), ("Wx", "D 3H"), ("Wh", "H 3H"),
                             ("bx", "3H"), ("bh", "3H")],
    ("memory", "make_recall_task"): [],
    ("memory", "recall_accuracy"): [("scores", "N C")],
    ("memory", "contractive_rnn_params"): [],
    ("memory", "first_input_influence"): [("x", "N T D")],
    ("memory", "geometric_rate"): [("values", "T")],
    ("stepping", "project_inputs"): [("x", "N T D"), ("Wx", "D H"), ("b", "H")],
    ("stepping", "rnn_forward_hoisted"): [("x", "N T D"), ("h0", "N H"), ("Wx", "D H"), ("Wh", "H H"), ("b", "H")],
    ("stepping", "softmax"): [],  # any shape with an axis; the dtype and the axis are checked
    ("stepping", "attend"): [("q", "N DK"), ("K", "N T DK"), ("V", "N T DV")],
    ("stepping", "attention_recall"): [("x", "N T D")],  # D = 3: the recall task's channels
    ("stepping", "sequential_steps"): [],
}

# Arguments read with as_float_array but checked by hand (any dtype problem is still reported).
OTHER_NUMERIC_ARGS = {
    ("lstm", "sigmoid"): ["z"],
    ("memory", "recall_accuracy"): ["bits"],
    ("rnn", "rnn_forward"): ["lengths"],
    ("lstm", "lstm_forward"): ["lengths"],
    ("gru", "gru_forward"): ["lengths"],
    ("stepping", "rnn_forward_hoisted"): ["lengths"],
    ("stepping", "softmax"): ["z"],
}

# Functions that take no input at all (nothing to validate).
NO_INPUT = [("memory", "latch_lstm_params"), ("memory", "latch_gru_params"), ("memory", "latch_rnn_params")]


def _dims(spec, sizes):
    out = []
    for token in spec.split():
        letter = token.lstrip("0123456789")  # "4H" is 4 times H; "DK" is a name of its own
        factor = int(token[:len(token) - len(letter)] or 1)
        out.append((factor, letter, factor * sizes[letter]))
    return out


def _spell(spec):
    tokens = spec.split()
    return f"({tokens[0]},)" if len(tokens) == 1 else "(" + ", ".join(tokens) + ")"


def valid_kwargs(module, func):
    """Keyword arguments that the function accepts (checked by test_valid_arguments_...)."""
    sizes = dict(SIZES)
    if func == "dense_forward":
        sizes["F"] = F_DENSE
    if func == "slotwise_responses":
        sizes["F"] = T * D
    kwargs = {}
    for i, (name, spec) in enumerate(ARRAY_SPECS[(module, func)]):
        kwargs[name] = _arr(*(size for _, _, size in _dims(spec, sizes)), seed=i)
    extra = {
        "pad_or_truncate": {"T_fixed": 3},
        "place_pattern": {"t": 1, "T": T},
        "slotwise_responses": {"T": T},
        "shared_responses": {"T": T},
        "sigmoid": {"z": _arr(N, H)},
        "make_recall_task": {"n": N, "gap": T, "seed": 0},
        "recall_accuracy": {"bits": np.array([0, 1])},
        "contractive_rnn_params": {"D": D, "H": H, "gain": 0.5, "seed": 0},
        "first_input_influence": {"forward": _identity, "eps": 1e-6},
        "geometric_rate": {"values": 0.5 ** np.arange(T)},
        "rnn_forward": {"lengths": np.array([T, 2])},
        "lstm_forward": {"lengths": np.array([T, 2])},
        "gru_forward": {"lengths": np.array([T, 2])},
        "rnn_forward_hoisted": {"lengths": np.array([T, 2])},
        "softmax": {"z": _arr(N, T), "axis": -1},
        "attend": {"mask": np.array([[True, False, True, True, False], [False] * (T - 1) + [True]])},
        "sequential_steps": {"kind": "rnn", "T": T},
    }.get(func, {})
    kwargs.update(extra)
    return kwargs


def _function(package, module, func):
    return getattr(importlib.import_module(f"{package}.{module}"), func)


def _needed_text(dims, bound_before, axis):
    """The "needs shape ... = (...)" text: sizes known by the time of the mismatch, letters for the rest."""
    seen = set(bound_before)
    parts = []
    for k, (factor, letter, size) in enumerate(dims):
        if letter in seen or k <= axis:
            parts.append(str(size))
        else:
            parts.append(f"{factor}{letter}" if factor != 1 else letter)
        seen.add(letter)
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


# ----------------------------------------------------------------------------------
# The bad-input cases.


@dataclass
class Case:
    module: str
    func: str
    overrides: dict
    expect: list  # substrings the message must contain
    id: str
    marks: list = field(default_factory=list)

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


def _ndim_cases():
    """Too many and too few axes for every array argument."""
    for (module, func), specs in ARRAY_SPECS.items():
        base = valid_kwargs(module, func)
        for name, spec in specs:
            k = len(spec.split())
            good = base[name]
            for label, bad in (("extra-axis", good[..., None]), ("missing-axis", good[0])):
                yield Case(module, func, {name: bad},
                           [f"{name} must be {k}-D with shape {_spell(spec)}",
                            f"got a {bad.ndim}-D array of shape {tuple(bad.shape)}"],
                           f"{func}-{name}-{label}")


def _shape_cases():
    """Right number of axes, wrong size on an axis whose size an earlier argument fixed."""
    for (module, func), specs in ARRAY_SPECS.items():
        sizes = dict(SIZES, F=F_DENSE if func == "dense_forward" else T * D)
        base = valid_kwargs(module, func)
        bound = []
        for name, spec in specs:
            dims = _dims(spec, sizes)
            for axis, (factor, letter, size) in enumerate(dims):
                if letter not in bound:
                    continue
                bad_shape = [s for _, _, s in dims]
                bad_shape[axis] += 1
                bad = _arr(*bad_shape)
                if func == "dense_forward" and name == "x":
                    expect = [f"x has {bad_shape[1]} features per example", f"F = {F_DENSE}",
                              f"(W has shape {(F_DENSE, H)})"]
                else:
                    expect = [f"{name} has shape {tuple(bad_shape)}",
                              f"it needs shape {_spell(spec)} = {_needed_text(dims, bound, axis)}"]
                yield Case(module, func, {name: bad}, expect, f"{func}-{name}-axis{axis}-{letter}")
            bound.extend(letter for _, letter, _ in dims)


def _dtype_cases():
    """Object arrays, string arrays and ragged lists for every numeric argument."""
    for (module, func), specs in ARRAY_SPECS.items():
        base = valid_kwargs(module, func)
        names = [name for name, _ in specs] + OTHER_NUMERIC_ARGS.get((module, func), [])
        for name in names:
            shape = np.shape(base[name])
            as_object = np.empty(shape, dtype=object)
            as_object[...] = 1.0
            as_text = np.full(shape, "1.5")
            yield Case(module, func, {name: as_object},
                       [f"{name} must be an array of numbers", "got an array of dtype object"],
                       f"{func}-{name}-dtype-object")
            yield Case(module, func, {name: as_text},
                       [f"{name} must be an array of numbers", f"got an array of dtype {as_text.dtype}"],
                       f"{func}-{name}-dtype-str")
            yield Case(module, func, {name: [[1.0, 2.0], [3.0]]},
                       [f"{name} must be an array of numbers; it could not be read as one"],
                       f"{func}-{name}-ragged-list")


def _lengths_cases():
    for module, func in (("rnn", "rnn_forward"), ("lstm", "lstm_forward"), ("gru", "gru_forward"),
                         ("stepping", "rnn_forward_hoisted")):
        yield Case(module, func, {"lengths": np.array([-1, 2])},
                   [f"lengths[0] = -1 is outside [0, T] = [0, {T}]"], f"{func}-lengths-negative")
        yield Case(module, func, {"lengths": np.array([2, T + 1])},
                   [f"lengths[1] = {T + 1} is outside [0, T] = [0, {T}]"], f"{func}-lengths-above-T")
        yield Case(module, func, {"lengths": np.array([1.5, 2.0])},
                   ["lengths must hold whole numbers", "1.5"], f"{func}-lengths-fraction")
        yield Case(module, func, {"lengths": np.array([np.nan, 2.0])},
                   ["lengths must hold whole numbers", "nan"], f"{func}-lengths-nan")
        yield Case(module, func, {"lengths": np.array([1, 2, 3])},
                   [f"lengths must have shape (N,) = ({N},)", "got shape (3,)"], f"{func}-lengths-too-many")
        yield Case(module, func, {"lengths": np.array([[1], [2]])},
                   [f"lengths must have shape (N,) = ({N},)", "got shape (2, 1)"], f"{func}-lengths-2d")
        yield Case(module, func, {"lengths": 3},
                   [f"lengths must have shape (N,) = ({N},)", "got shape ()"], f"{func}-lengths-scalar")


def _int_cases():
    """Arguments that must be whole numbers in a range."""
    table = [
        ("feedforward", "pad_or_truncate", "T_fixed", [0, -2], [1.5, 3.0, True, "3", None], ">= 1"),
        ("feedforward", "place_pattern", "t", [-1, T], [1.5], f"[0, {T - 1}]"),
        ("feedforward", "place_pattern", "T", [0], [5.0], ">= 1"),
        ("feedforward", "slotwise_responses", "T", [0], [5.0], ">= 1"),
        ("feedforward", "shared_responses", "T", [0, -1], [5.0], ">= 1"),
        ("memory", "make_recall_task", "n", [0], [1.5, 2.0], ">= 1"),
        ("memory", "make_recall_task", "gap", [-1], [0.5], ">= 0"),
        ("memory", "make_recall_task", "seed", [-1], [0.5, None], ">= 0"),
        ("memory", "contractive_rnn_params", "D", [0], [3.0], ">= 1"),
        ("memory", "contractive_rnn_params", "H", [0], [4.0], ">= 1"),
        ("memory", "contractive_rnn_params", "seed", [-1], [1.5], ">= 0"),
        ("stepping", "sequential_steps", "T", [0, -3], [2.5, "3", None, True], ">= 1"),
        ("stepping", "softmax", "axis", [2, -3], [1.0, None], "[-2, 1]"),
    ]
    for module, func, name, out_of_range, not_int, span in table:
        for value in out_of_range:
            yield Case(module, func, {name: value}, [f"{name} must be in {span}; got {value}"],
                       f"{func}-{name}-out-of-range-{value}")
        for value in not_int:
            yield Case(module, func, {name: value},
                       [f"{name} must be an integer; got {value!r} of type {type(value).__name__}"],
                       f"{func}-{name}-not-int-{value!r}")


def _special_cases():
    yield Case("feedforward", "slotwise_responses", {"W": _arr(T * D + 1, H)},
               [f"W has shape {(T * D + 1, H)}", f"it needs shape (T * D, H) = ({T * D}, {H})",
                f"T = {T}, D = {D}"], "slotwise_responses-W-rows-not-T-times-D")
    yield Case("feedforward", "slotwise_responses", {"T": T + 1},
               [f"W has shape {(T * D, H)}", f"it needs shape (T * D, H) = ({(T + 1) * D}, {H})"],
               "slotwise_responses-T-disagrees-with-W")
    yield Case("feedforward", "mean_pool", {"x": np.zeros((N, 0, D))},
               ["x must have at least one time step (T >= 1)", "got T = 0"], "mean_pool-x-empty-time-axis")
    yield Case("memory", "recall_accuracy", {"bits": np.array([0, 1, 1])},
               [f"bits must have shape (N,) = ({N},)", "got shape (3,)"], "recall_accuracy-bits-wrong-length")
    yield Case("memory", "recall_accuracy", {"bits": np.array([[0], [1]])},
               [f"bits must have shape (N,) = ({N},)", "got shape (2, 1)"], "recall_accuracy-bits-2d")
    for gain in (0, 0.0, 1, 1.0, -0.5, 1.5, float("nan")):
        yield Case("memory", "contractive_rnn_params", {"gain": gain},
                   ["gain must be in (0, 1)", f"got {gain}"], f"contractive_rnn_params-gain-{gain}")
    for eps in (0, 0.0, -1e-6, float("nan")):
        yield Case("memory", "first_input_influence", {"eps": eps},
                   ["eps must be > 0", f"got {eps}"], f"first_input_influence-eps-{eps}")
    floor_cases = [
        ("one-above-floor", {"values": np.array([1.0, 1e-9, 0.0, 1e-12])}, 1),
        ("none-above-floor", {"values": np.zeros(4)}, 0),
        ("single-value", {"values": np.array([0.5])}, 1),
        ("empty", {"values": np.array([])}, 0),
        ("custom-floor", {"values": np.array([1.0, 0.5, 0.25]), "floor": 0.6}, 1),
    ]
    for label, overrides, kept in floor_cases:
        floor = overrides.get("floor", 1e-8)
        yield Case("memory", "geometric_rate", overrides,
                   [f"geometric_rate needs at least two values above floor = {floor}; got {kept}"],
                   f"geometric_rate-{label}")


def _stepping_cases():
    """Part 6: the mask, the softmax's axis, the recall task's channels, the kinds sequential_steps knows."""
    yield Case("stepping", "attend", {"mask": np.ones((N, T + 1), dtype=bool)},
               [f"mask must have shape (N, T) = ({N}, {T})", f"got shape {(N, T + 1)}"], "attend-mask-wrong-shape")
    yield Case("stepping", "attend", {"mask": np.array([[True] * T, [False] * T])},
               ["mask[1] allows no position", "at least one True"], "attend-mask-row-allows-nothing")
    yield Case("stepping", "attend", {"mask": np.full((N, T), 0.5)},
               ["mask must hold booleans", "got an array of dtype float64"], "attend-mask-not-boolean")
    yield Case("stepping", "attend", {"mask": np.full((N, T), "yes")},
               ["mask must hold booleans", "got an array of dtype <U3"], "attend-mask-strings")
    yield Case("stepping", "attend", {"q": _arr(N, 0), "K": _arr(N, T, 0)},
               ["attend needs at least one position and one key feature", f"K has shape {(N, T, 0)}"],
               "attend-keys-without-features")
    yield Case("stepping", "softmax", {"z": np.float64(1.5)},
               ["z must have at least one axis to normalise over", "0-d"], "softmax-z-0d")
    yield Case("stepping", "softmax", {"z": np.zeros((N, 0))},
               ["z has no entries along axis -1", f"shape {(N, 0)}"], "softmax-z-empty-axis")
    yield Case("stepping", "attention_recall", {"x": _arr(N, T, 4)},
               ["the recall task's 3 channels (value, write, query)", f"got shape {(N, T, 4)}"],
               "attention_recall-x-four-channels")
    yield Case("stepping", "attention_recall", {"x": np.zeros((N, 0, 3))},
               ["at least one step (the query step)", "got T = 0"], "attention_recall-x-no-steps")
    for kind in ("transformer", "RNN", "", 3, None):
        yield Case("stepping", "sequential_steps", {"kind": kind},
                   ["kind must be one of 'feedforward', 'rnn', 'attention'", f"got {kind!r}"],
                   f"sequential_steps-kind-{kind!r}")


CASES = [*_ndim_cases(), *_shape_cases(), *_dtype_cases(), *_lengths_cases(), *_int_cases(), *_special_cases(),
         *_stepping_cases()]
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


def _raise(package, case):
    kwargs = valid_kwargs(case.module, case.func)
    kwargs.update(case.overrides)
    with pytest.raises(ValueError) as info:
        _function(package, case.module, case.func)(**kwargs)
    return str(info.value)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
@pytest.mark.parametrize("package", PACKAGES)
def test_bad_input_raises_a_value_error_naming_the_argument_and_shapes(package, case):
    message = _raise(package, case)
    for part in case.expect:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_exercise_skeleton_raises_the_same_value_error_as_the_reference(case):
    """Validation runs before the skeleton's NotImplementedError, and says exactly the same thing."""
    assert _raise("exercises", case) == _raise("solutions", case)


# ----------------------------------------------------------------------------------
# The valid arguments really are valid: the reference accepts them, the skeleton gets as far
# as its NotImplementedError. (Otherwise a bad-input test could pass for the wrong reason.)

FUNCTIONS = list(ARRAY_SPECS)


@pytest.mark.parametrize("module,func", FUNCTIONS, ids=[f for _, f in FUNCTIONS])
def test_valid_arguments_are_accepted_by_the_reference(module, func):
    _function("solutions", module, func)(**valid_kwargs(module, func))


@pytest.mark.parametrize("module,func", FUNCTIONS + NO_INPUT, ids=[f for _, f in FUNCTIONS + NO_INPUT])
def test_exercise_skeleton_with_valid_arguments_reaches_its_not_implemented_error(module, func):
    kwargs = valid_kwargs(module, func) if (module, func) in ARRAY_SPECS else {}
    with pytest.raises(NotImplementedError, match=func):
        _function("exercises", module, func)(**kwargs)


def test_every_public_function_is_covered():
    for module in ("feedforward", "rnn", "lstm", "gru", "memory", "stepping"):
        for package in PACKAGES:
            mod = importlib.import_module(f"{package}.{module}")
            functions = {name for name in mod.__all__ if callable(getattr(mod, name))}
            covered = {f for m, f in FUNCTIONS + NO_INPUT if m == module}
            assert functions == covered, (package, module, functions ^ covered)


@pytest.mark.parametrize("package", PACKAGES)
def test_numpy_integers_are_accepted_where_an_int_is_needed(package):
    place_pattern = _function(package, "feedforward", "place_pattern")
    if package == "solutions":
        assert place_pattern(np.ones(3), np.int64(1), np.int32(4)).shape == (4, 3)
    else:
        with pytest.raises(NotImplementedError):
            place_pattern(np.ones(3), np.int64(1), np.int32(4))


# ----------------------------------------------------------------------------------
# _validate itself: the "multiple of" message, which no public function can reach because
# h_prev/h0 always binds H before a 4H or 3H axis is read.


@pytest.mark.parametrize("package", PACKAGES)
def test_check_arrays_explains_an_axis_that_is_not_a_multiple_of_its_factor(package):
    check_arrays = importlib.import_module(f"{package}._validate").check_arrays
    with pytest.raises(ValueError) as info:
        check_arrays(Wx=(np.zeros((3, 7)), "D 4H"))
    assert str(info.value) == "Wx has shape (3, 7), but axis 1 must be 4H (a multiple of 4); 7 is not"


@pytest.mark.parametrize("package", PACKAGES)
def test_check_arrays_returns_float64_arrays_and_binds_each_letter_once(package):
    check_arrays = importlib.import_module(f"{package}._validate").check_arrays
    a, b = check_arrays(a=([[1, 2, 3]], "N D"), b=(np.zeros((3, 8), dtype=np.float32), "D 4H"))
    assert a.dtype == b.dtype == np.float64
    assert a.shape == (1, 3) and b.shape == (3, 8)


@pytest.mark.parametrize("package", PACKAGES)
def test_wrong_hidden_size_names_wh_and_both_shapes(package):
    """The example from the brief: Wh of shape (3, 3) when h_prev fixed H = 4."""
    rnn_step = _function(package, "rnn", "rnn_step")
    with pytest.raises(ValueError) as info:
        rnn_step(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((3, 3)), np.zeros(4))
    message = str(info.value)
    assert "Wh" in message and "(3, 3)" in message and "(4, 4)" in message
    assert message == "Wh has shape (3, 3), but it needs shape (H, H) = (4, 4) (H = 4 was set by h_prev)"
