"""Check templates shared by every function that takes plain arrays.

`standard_checks(namespace, function, ...)` defines, in the calling module, the checks
every such function gets. Each is a named function, so pytest and the class grader see
ordinary tests:

* types and shapes over several sizes, including N = 1, H = 1 and T = 1;
* values against the reference on fixed inputs, on seeded random inputs, and (hidden) on
  other seeds and sizes;
* purity: inputs untouched, the same answer twice;
* for *_forward: a long sequence (T = 500) and every `lengths` case (hidden: other seeds);
* for gates and steps: pre-activations of |z| ~ 1e3 without an overflow warning or NaN.
"""
import numpy as np

from ..catalogue import check
from ..feedback import difference, expect_reference, failure
from ..impl import freeze
from ..inputs import TAKES_LENGTHS, make_inputs, recipe

SHAPE_SIZES = ({"N": 1}, {"H": 1}, {"T": 1, "t": 0, "T_fixed": 1}, {}, {"N": 4, "T": 6, "D": 2, "H": 3, "C": 2, "F": 5})
SQUARE = {"N": 4, "T": 4, "D": 4, "H": 4, "C": 4, "F": 4, "T_fixed": 4, "t": 1}
PUBLIC_SEEDS = (0, 1, 2)
### BEGIN HIDDEN TESTS
HIDDEN_CASES = ((1001, {"N": 5, "T": 7, "D": 3, "H": 2, "C": 4, "F": 6, "T_fixed": 3, "t": 5}),
                (1002, {"N": 2, "T": 3, "D": 5, "H": 7, "C": 2, "F": 9, "T_fixed": 8, "t": 0}),
                (1003, {"N": 6, "T": 9, "D": 1, "H": 4, "C": 5, "F": 3, "T_fixed": 9, "t": 8}))
### END HIDDEN TESTS

#: points for each template, per function
POINTS = {"shapes": 0.5, "fixed": 0.5, "random": 0.5, "hidden": 0.5, "pure": 0.25,
          "long": 0.5, "lengths": 0.5, "lengths_hidden": 0.5, "saturate": 0.5}


def define_check(namespace, function, name, doc, points, body, *, hidden=False, offline=True, counts_with=""):
    """Register `body(impl, ref)` as the check `name` of `function` in `namespace` (a module's globals())."""
    def test(impl, ref):
        body(impl, ref)
    test.__doc__ = doc
    test.__module__ = namespace["__name__"]
    namespace[name] = check(function, points=points, hidden=hidden, name=name, offline=offline,
                            counts_with=counts_with)(test)


def values_check(function):
    """The name of `function`'s first check against reference values, which its shape and purity checks wait for."""
    return f"test_{function}_matches_the_reference_on_fixed_inputs"


def run_case(impl, ref, function, seed=None, **options):
    args = make_inputs(function, seed, **options)
    return args, expect_reference(impl, ref, function, args, call=recipe(function, seed, **options))


def standard_checks(namespace, function, *, saturate=False, sizes=None, points=None):
    """Define the standard checks of `function` in `namespace` (a module's globals())."""
    pts = {**POINTS, **(points or {})}
    shape_sizes = sizes or SHAPE_SIZES

    def shapes(impl, ref):
        for size in shape_sizes:
            args = make_inputs(function, 0, **size)
            got, want = impl.call(function, args, {}), ref.call(function, args)
            problem = difference(got, want, function)
            if problem and ("shape" in problem or "dtype" in problem or "where" in problem or "tuple" in problem):
                raise failure(impl, ref, function, problem, call=recipe(function, 0, **size))
    define_check(namespace, function, f"test_{function}_returns_the_right_types_and_shapes",
            f"{function} returns arrays of the right type, dtype and shape (N, H or T equal to 1 too).",
            pts["shapes"], shapes, counts_with=values_check(function))

    def fixed(impl, ref):
        run_case(impl, ref, function, **SQUARE)  # square first: a swapped weight shows as wrong values, not an error
        run_case(impl, ref, function)
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_fixed_inputs",
            f"{function} matches the reference on evenly spaced inputs (CS231n style).", pts["fixed"], fixed)

    def random(impl, ref):
        for seed in PUBLIC_SEEDS:
            run_case(impl, ref, function, seed)
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_random_inputs",
            f"{function} matches the reference on seeded random inputs.", pts["random"], random)

    ### BEGIN HIDDEN TESTS
    def hidden(impl, ref):
        for seed, size in HIDDEN_CASES:
            run_case(impl, ref, function, seed, **size)
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_hidden_inputs",
            f"{function} matches the reference on other seeds and sizes.", pts["hidden"], hidden, hidden=True)
    ### END HIDDEN TESTS

    def pure(impl, ref):
        args = make_inputs(function, 7)
        first = impl.call(function, args, {}, fresh=True)
        mutated = impl.last.mutated
        problem = difference(first, ref.call(function, args), function)
        if problem and "wrong values" not in problem:  # purity is judged on real answers (of any value)
            raise failure(impl, ref, function, problem, call=recipe(function, 7))
        if mutated:
            raise failure(impl, ref, function,
                          f"changed its input(s) in place ({', '.join(mutated)}); work on new arrays "
                          f"(e.g. out = x.copy(), or h = h + ..., not h += ...)", call=recipe(function, 7))
        second = impl.call(function, args, {}, fresh=True)
        problem = difference(second, first, function)
        if problem:
            raise failure(impl, ref, function, "gave a different answer when called twice on the same inputs: "
                          "the second call " + problem, call=recipe(function, 7))
    define_check(namespace, function, f"test_{function}_leaves_its_inputs_alone_and_repeats_itself",
            f"{function} does not modify its inputs, and gives the same answer twice.", pts["pure"], pure,
            counts_with=values_check(function))

    if function in TAKES_LENGTHS:
        def long(impl, ref):
            run_case(impl, ref, function, 3, N=2, T=500, D=3, H=4)
        define_check(namespace, function, f"test_{function}_handles_a_500_step_sequence",
                f"{function} runs a 500-step sequence and matches the reference.", pts["long"], long)

        def lengths(impl, ref):
            for mode in ("full", "zero", "mixed"):
                run_case(impl, ref, function, 4, lengths=mode, N=5)
        define_check(namespace, function, f"test_{function}_keeps_the_state_on_padding_steps",
                f"{function} honours lengths: all full (T), all empty (0), and mixed.", pts["lengths"], lengths)

        ### BEGIN HIDDEN TESTS
        def lengths_hidden(impl, ref):
            for seed in (2001, 2002):
                run_case(impl, ref, function, seed, lengths="mixed", N=7, T=6, D=2, H=3)
        define_check(namespace, function, f"test_{function}_keeps_the_state_on_padding_steps_hidden",
                f"{function} honours mixed lengths on other seeds and sizes.", pts["lengths_hidden"],
                lengths_hidden, hidden=True)
        ### END HIDDEN TESTS

    if saturate:
        def saturates(impl, ref):
            options = {"scale": 1e3}
            args = make_inputs(function, 5, **options)
            want = ref.call(function, args)
            got = impl.call(function, args, {})
            call = recipe(function, 5, **options)
            if impl.last.warnings:
                raise failure(impl, ref, function, f"raised a warning on large inputs (|z| ~ 1e3): "
                              f"{impl.last.warnings[0]}. Compute the sigmoid so exp never sees a large "
                              f"positive number", call=call)
            problem = difference(got, want, function)
            if problem:
                raise failure(impl, ref, function, problem, call=call, args=args, got=got)
        define_check(namespace, function, f"test_{function}_saturates_without_overflow",
                f"{function} handles pre-activations of size 1e3: no overflow warning, no NaN, right values.",
                pts["saturate"], saturates)


RECALL_GAP = 1000
PUBLIC_ROWS, HIDDEN_ROWS = slice(0, 32), slice(32, 56)
RECALL_CALL = ("from exercises.memory import make_recall_task\n"
               "x, bits = make_recall_task(32, 1000, seed=61)  # the public rows (when grading, hidden rows follow)\n")
_RECALL = {}


def recall_batch(ref):
    """One recall batch for the public and the hidden check, so one forward pass serves both."""
    if id(ref) not in _RECALL:
        parts = [ref.call("make_recall_task", (32, RECALL_GAP, 61))]  # PUBLIC_ROWS
        ### BEGIN HIDDEN TESTS
        parts.append(ref.call("make_recall_task", (24, RECALL_GAP, 6101)))  # HIDDEN_ROWS
        ### END HIDDEN TESTS
        _RECALL.clear()
        _RECALL[id(ref)] = (ref, freeze(np.concatenate([x for x, _ in parts])),
                            freeze(np.concatenate([bits for _, bits in parts])))
    return _RECALL[id(ref)][1:]


def readout_accuracy(h_final, Wy, by, bits):
    """Fraction of rows whose bit-1 score beats their bit-0 score exactly when the bit is 1 (plain numpy)."""
    scores = np.asarray(h_final, dtype=np.float64) @ Wy + by  # (N, 2)
    says_one = scores[:, 1] > scores[:, 0]
    return float(np.count_nonzero(says_one == (np.asarray(bits) == 1))) / len(bits)
