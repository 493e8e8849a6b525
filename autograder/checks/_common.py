"""Check templates shared by every function that takes plain arrays.

`standard_checks(namespace, function, ...)` defines, in the calling module, the checks
every such function gets. Each is a named function, so pytest and the class grader see
ordinary tests:

* types and shapes over several sizes, including N = 1, T = 1, D = 1 and H = 1;
* values against the reference on fixed inputs, on seeded random inputs, and (hidden) on
  other seeds and sizes;
* purity: inputs untouched, the same answer twice;
* for *_forward: a long sequence (T = 500) and every `lengths` case (hidden: other seeds);
* for gates and steps: pre-activations of |z| ~ 1e3 without an overflow warning or NaN.
"""
import numpy as np

from ..catalogue import check
from ..feedback import CheckFailure, difference, expect_reference, failure, followed_through, overflow_mistake
from ..sandbox.client import freeze
from ..inputs import TAKES_LENGTHS, make_inputs, recipe

SHAPE_SIZES = ({"N": 1}, {"H": 1, "DV": 1}, {"T": 1, "t": 0, "T_fixed": 1}, {"D": 1, "F": 1, "DK": 1}, {},
               {"N": 4, "T": 6, "D": 2, "H": 3, "C": 2, "F": 5, "DK": 2, "DV": 5})
SQUARE = {"N": 4, "T": 4, "D": 4, "H": 4, "C": 4, "F": 4, "T_fixed": 4, "t": 1, "DK": 4, "DV": 4}
PUBLIC_SEEDS = (0, 1, 2)
### BEGIN HIDDEN TESTS
HIDDEN_CASES = ((1001, {"N": 5, "T": 7, "D": 3, "H": 2, "C": 4, "F": 6, "T_fixed": 3, "t": 5, "DK": 3, "DV": 2}),
                (1002, {"N": 2, "T": 3, "D": 5, "H": 7, "C": 2, "F": 9, "T_fixed": 8, "t": 0, "DK": 6, "DV": 1}),
                (1003, {"N": 6, "T": 9, "D": 1, "H": 4, "C": 5, "F": 3, "T_fixed": 9, "t": 8, "DK": 1, "DV": 4}))
### END HIDDEN TESTS

#: points for each template, per function
POINTS = {"shapes": 0.25, "fixed": 0.5, "random": 0.5, "hidden": 0.5, "pure": 0.25,
          "long": 0.5, "lengths": 0.5, "lengths_hidden": 0.5, "saturate": 0.5}


def define_check(namespace, function, name, doc, points, body, *, hidden=False, counts_with=""):
    """Register `body(impl, ref)` as the check `name` of `function` in `namespace` (a module's globals())."""
    def test(impl, ref):
        body(impl, ref)
    test.__doc__ = doc
    test.__module__ = namespace["__name__"]
    namespace[name] = check(function, points=points, hidden=hidden, name=name, counts_with=counts_with)(test)


def values_check(function):
    """The name of `function`'s first check against reference values, which its shape and purity checks wait for."""
    return f"test_{function}_matches_the_reference_on_fixed_inputs"


def _located(exc, impl, function, seed, options, case):
    """A crash of the student's code on one case of a check, told with that case and the lines that rebuild it.

    None when `exc` is not such a crash (a function not written yet, a file that does not
    load, a check's own failure): those say all there is to say already.
    """
    from ..sandbox.client import CallFailed, LoadError, Missing, NotImplementedYet
    from ..inputs import DEFAULT_SIZES, SIGNATURES
    from ..runner import snippet
    from ..sandbox.submission import MAX_TEXT, clean_text

    if not isinstance(exc, CallFailed) or isinstance(exc, (NotImplementedYet, LoadError, Missing)):
        return None
    sizes = {**DEFAULT_SIZES, **options}
    used = {t.lstrip("0123456789") for _, shape in SIGNATURES[function] for t in shape.removeprefix("int:").split()}
    used |= {"T", "D"} if "TD" in used else set()
    used |= {"N", "T"} if options.get("lengths") is not None else set()
    where = [f"{k} = {v}" for k, v in sizes.items() if k in used]
    where += [f"scale = {options['scale']:g}"] if options.get("scale", 1.0) != 1.0 else []
    where += [f"lengths = {options['lengths']!r}"] if options.get("lengths") is not None else []
    inputs = "the fixed (evenly spaced) inputs" if seed is None else f"the inputs of seed {seed}"
    lines = "\n".join("      " + line for line in snippet(recipe(function, seed, **options), impl).splitlines())
    said = clean_text(exc.message, MAX_TEXT // 2)  # a long error message must leave room for the case
    message = (f"{said}\n  It happened on {inputs}, with {', '.join(where)}{f' ({case})' if case else ''}.\n"
               f"  To reproduce (paste into Python):\n{lines}")
    return type(exc)(exc.function, message, exc.traceback, exc.stdout)


def _warned_by_dependency(impl, ref, function, args, got):
    """True when the reference `function`, run around the submission's own dependencies, gives `got` and hears
    the same kind of warning from them: the warning is theirs, not this function's (recorded as followed)."""
    from ..feedback import graded_with, matches, relies_on

    dependencies = list(relies_on(impl, function))
    heard = []
    theirs = ref.follow_through(impl, function, args, dependencies, heard) if dependencies else None
    if not heard or theirs is None or not matches(got, theirs):
        return False
    graded_with(impl, function, [dep for dep, _ in heard])
    return True


def call_case(impl, function, seed=None, *, case="", fresh=False, **options):
    """(args, what the student's `function` returns on make_inputs(function, seed, **options)); a crash says which case."""
    args = make_inputs(function, seed, **options)
    try:
        return args, impl.call(function, args, {}, fresh=fresh)
    except Exception as exc:
        crash = _located(exc, impl, function, seed, options, case)
        if crash is None:
            raise
        raise crash from None


def run_case(impl, ref, function, seed=None, *, case="", **options):
    args = make_inputs(function, seed, **options)
    try:
        return args, expect_reference(impl, ref, function, args, call=recipe(function, seed, **options))
    except Exception as exc:
        crash = _located(exc, impl, function, seed, options, case)
        if crash is None:
            raise
        raise crash from None


def standard_checks(namespace, function, *, saturate=False, sizes=None, points=None):
    """Define the standard checks of `function` in `namespace` (a module's globals())."""
    pts = {**POINTS, **(points or {})}
    shape_sizes = sizes or SHAPE_SIZES

    def shapes(impl, ref):
        for number, size in enumerate(shape_sizes, 1):
            args, got = call_case(impl, function, 0, case=f"size {number} of the {len(shape_sizes)} this check tries",
                                  **size)
            want = ref.call(function, args)
            problem = difference(got, want, function)
            if problem and ("shape" in problem or "dtype" in problem or "where" in problem or "tuple" in problem) \
                    and not followed_through(impl, ref, function, args, got):
                raise failure(impl, ref, function, problem, call=recipe(function, 0, **size))
    define_check(namespace, function, f"test_{function}_returns_the_right_types_and_shapes",
            f"{function} returns arrays of the right type, dtype and shape (N, T, D or H equal to 1 too).",
            pts["shapes"], shapes, counts_with=values_check(function))

    def fixed(impl, ref):
        # square first: a swapped weight shows as wrong values, not an error
        run_case(impl, ref, function, case="case 1 of 2", **SQUARE)
        run_case(impl, ref, function, case="case 2 of 2")
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_fixed_inputs",
            f"{function} matches the reference on evenly spaced inputs (CS231n style).", pts["fixed"], fixed)

    def random(impl, ref):
        for number, seed in enumerate(PUBLIC_SEEDS, 1):
            run_case(impl, ref, function, seed, case=f"seed {number} of the {len(PUBLIC_SEEDS)} this check tries")
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_random_inputs",
            f"{function} matches the reference on seeded random inputs.", pts["random"], random)

    ### BEGIN HIDDEN TESTS
    def hidden(impl, ref):
        for number, (seed, size) in enumerate(HIDDEN_CASES, 1):
            run_case(impl, ref, function, seed, case=f"case {number} of {len(HIDDEN_CASES)}", **size)
    define_check(namespace, function, f"test_{function}_matches_the_reference_on_hidden_inputs",
            f"{function} matches the reference on other seeds and sizes.", pts["hidden"], hidden, hidden=True)
    ### END HIDDEN TESTS

    def pure(impl, ref):
        args, first = call_case(impl, function, 7, case="first call", fresh=True)
        mutated = impl.last.mutated
        problem = difference(first, ref.call(function, args), function)
        if problem and "wrong values" not in problem:  # purity is judged on real answers (of any value)
            raise failure(impl, ref, function, problem, call=recipe(function, 7))
        if mutated:
            raise failure(impl, ref, function,
                          f"changed its input(s) in place ({', '.join(mutated)}); work on new arrays "
                          f"(e.g. out = x.copy(), or h = h + ..., not h += ...)", call=recipe(function, 7))
        second = call_case(impl, function, 7, case="second call", fresh=True)[1]
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
            for number, mode in enumerate(("full", "zero", "mixed"), 1):
                run_case(impl, ref, function, 4, case=f"case {number} of 3", lengths=mode, N=5)
        define_check(namespace, function, f"test_{function}_keeps_the_state_on_padding_steps",
                f"{function} honours lengths: all full (T), all empty (0), and mixed.", pts["lengths"], lengths)

        ### BEGIN HIDDEN TESTS
        def lengths_hidden(impl, ref):
            for number, seed in enumerate((2001, 2002), 1):
                run_case(impl, ref, function, seed, case=f"case {number} of 2", lengths="mixed", N=7, T=6, D=2, H=3)
        define_check(namespace, function, f"test_{function}_keeps_the_state_on_padding_steps_hidden",
                f"{function} honours mixed lengths on other seeds and sizes.", pts["lengths_hidden"],
                lengths_hidden, hidden=True)
        ### END HIDDEN TESTS

    if saturate:
        def saturates(impl, ref):
            options = {"scale": 1e3}
            args, got = call_case(impl, function, 5, **options)
            want = ref.call(function, args)
            call = recipe(function, 5, **options)
            warned = impl.last.warnings
            if warned and _warned_by_dependency(impl, ref, function, args, got):
                return  # the warning came from a function it relies on, which loses its own points for it
            if warned:
                from ..runner import snippet

                tanh = overflow_mistake(function, got, want)
                if tanh:  # nan only where a tanh alone produced it: not the sigmoid
                    raise CheckFailure(f"{function} raised a warning on large inputs (|z| ~ 1e3): "
                                       f"{impl.last.warnings[0]}\n  Likely cause: {tanh.hint}.\n"
                                       f"  To reproduce (paste into Python):\n"
                                       + "\n".join("      " + line for line in snippet(call, impl).splitlines()),
                                       mistake=tanh.key)
                raise failure(impl, ref, function, f"raised a warning on large inputs (|z| ~ 1e3): "
                              f"{impl.last.warnings[0]}. Compute the sigmoid so exp never sees a large "
                              f"positive number", call=call)
            problem = difference(got, want, function)
            if problem and not followed_through(impl, ref, function, args, got):
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
