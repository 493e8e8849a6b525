"""Checks for Part 6: the price of reading one step at a time, and attention.

* `project_inputs` and `rnn_forward_hoisted` against the reference (the standard templates,
  lengths included); the hoisted loop also against the student's own `rnn_forward`. A
  projection left inside the loop is pointed out in a note and costs nothing.
* `softmax` and `attend` against the reference, with masks, for scores of size 1e4, and
  for keys shifted all alike (only differences between scores matter).
* `attention_recall`: Part 3's task at gaps of 1,000 and 10,000 (tests/test_stepping.py
  measures the contractive RNN at chance there), and blind to the order of the steps.
* `sequential_steps`: the dependent chain, not the amount of work.
"""
import numpy as np

from ..catalogue import check
from ..feedback import (broken_dependencies, difference, expect, expect_reference, failure, followed_through,
                        graded_with, note, relies_on)
from ..sandbox.client import CallFailed, freeze
from ..inputs import make_inputs, recipe
from ._common import HIDDEN_ROWS, PUBLIC_ROWS, RECALL_CALL, RECALL_GAP, recall_batch, standard_checks, values_check

#: the template's checks at a quarter point each (Part 6 holds 10 of the kit's 100)
POINTS = {"shapes": 0.25, "fixed": 0.25, "random": 0.25, "hidden": 0.25, "pure": 0.25, "long": 0.25,
          "lengths": 0.5, "lengths_hidden": 0.25}
#: the kinds sequential_steps counts for (solutions/stepping.py READERS; tests/test_stepping.py holds them equal)
READERS = ("feedforward", "rnn", "attention")

for _function in ("project_inputs", "rnn_forward_hoisted", "softmax", "attend"):
    standard_checks(globals(), _function, points=POINTS)


# --- project_inputs -----------------------------------------------------------------------

@check("project_inputs", points=0.25, counts_with=values_check("project_inputs"))
def test_project_inputs_projects_each_step_on_its_own(impl, ref):
    """No step's projection depends on another step: reversed time gives reversed rows, and one step alone its own row."""
    x, Wx, b = make_inputs("project_inputs", 13, N=3, T=6, D=4, H=5)
    call = recipe("project_inputs", 13, N=3, T=6, D=4, H=5)
    whole = impl.project_inputs(x, Wx, b)
    expect(isinstance(whole, np.ndarray) and whole.shape == (3, 6, 5), impl, ref, "project_inputs",
           f"should return shape (N, T, H) = (3, 6, 5); got {getattr(whole, 'shape', type(whole).__name__)}", call=call)
    reversed_ = impl.project_inputs(x[:, ::-1].copy(), Wx, b)
    problem = difference(reversed_, whole[:, ::-1], "project_inputs")
    expect(problem is None, impl, ref, "project_inputs",
           f"depends on the order of the steps: on x reversed in time, it {problem} (compared with its own answer "
           f"on x, reversed). Each step's row is x[:, t] @ Wx + b and nothing else",
           call=call + "\nproject_inputs(x[:, ::-1], Wx, b)")
    alone = impl.project_inputs(x[:, 2:3].copy(), Wx, b)
    problem = difference(alone, whole[:, 2:3], "project_inputs")
    expect(problem is None, impl, ref, "project_inputs",
           f"gives step 2 another row when it is projected on its own: project_inputs(x[:, 2:3], Wx, b) {problem} "
           f"(compared with row 2 of its answer on the whole x)", call=call + "\nproject_inputs(x[:, 2:3], Wx, b)")


# --- rnn_forward_hoisted ------------------------------------------------------------------

HOISTED_SIZES = {"N": 5, "T": 7, "D": 3, "H": 4}


def _first_step_apart(got, want):
    """The first t at which got[:, t] and want[:, t] differ beyond the tolerance, with that difference."""
    for t in range(want.shape[1]):
        problem = difference(got[:, t], want[:, t], "rnn_forward_hoisted")
        if problem:
            return t, problem
    return None


def _where_the_projection_is(impl):
    """A note (no points lost) when the submission's rnn_forward_hoisted does not take its projection from
    project_inputs, as its worker saw it run (child._Calls: which exercise functions it called itself)."""
    calls = impl.calls_of("rnn_forward_hoisted") if hasattr(impl, "calls_of") else None
    if calls is None or "project_inputs" in calls:
        return
    stepper = next((f for f in ("rnn_step", "rnn_forward") if f in calls), None)
    how = (f"steps with your {stepper}, which computes x_t @ Wx again at every step" if stepper else
           "never calls project_inputs, so x_t @ Wx + b is computed some other way, most likely inside the loop")
    note(impl, f"rnn_forward_hoisted {how}. The states are right, but the point of this function is to take "
               f"that product out of the loop: P = project_inputs(x, Wx, b) once, before it, and only "
               f"tanh(P[:, t] + h @ Wh) inside.")


@check("rnn_forward_hoisted", points=0.25, counts_with=values_check("rnn_forward_hoisted"))
def test_rnn_forward_hoisted_agrees_with_your_rnn_forward(impl, ref):
    """The hoisted loop gives the states your rnn_forward gives, mixed lengths too; a projection left in the loop is pointed out, at no cost."""
    args = make_inputs("rnn_forward_hoisted", 34, lengths="mixed", **HOISTED_SIZES)
    call = recipe("rnn_forward_hoisted", 34, lengths="mixed", **HOISTED_SIZES)
    want = ref.call("rnn_forward_hoisted", args)
    right_forward = ref.call("rnn_forward", args)  # asked every time, so that a handout has it recorded
    hoisted = impl.call("rnn_forward_hoisted", args, {})
    problem = difference(hoisted, want, "rnn_forward_hoisted")
    if problem and not followed_through(impl, ref, "rnn_forward_hoisted", args, hoisted):
        try:
            own = impl.call("rnn_forward", args, {})
        except CallFailed:  # not written yet, or not handed in (a notebook of this part alone)
            own = None
        yours = own is not None and difference(own, right_forward, "rnn_forward") is None
        apart = _first_step_apart(hoisted, own) if yours and isinstance(hoisted, np.ndarray) \
            and hoisted.shape == own.shape else None
        if apart:
            t, step_problem = apart
            problem = (f"first differs from your rnn_forward (which is right) at step t = {t}: hs[:, {t}] "
                       f"{step_problem.removeprefix('returned an array ')}. The two loops must give the same states; "
                       f"only where x_t @ Wx + b is computed differs")
        raise failure(impl, ref, "rnn_forward_hoisted", problem, call=call, args=args, got=hoisted)
    _where_the_projection_is(impl)


# --- softmax --------------------------------------------------------------------------------

HUGE_SCORES = np.array([[-1e4, 0.0, 1e4, 5e3],
                        [1e4, 1e4, -1e4, 0.0],
                        [-1e4, 1.0 - 1e4, 2.0 - 1e4, -1e4]])
HUGE_CALL = ("z = np.array([[-1e4, 0.0, 1e4, 5e3], [1e4, 1e4, -1e4, 0.0], [-1e4, 1.0 - 1e4, 2.0 - 1e4, -1e4]])\n"
             "softmax(z)  # and softmax(z.T, axis=0)")


@check("softmax", points=0.25)
def test_softmax_is_stable_for_scores_of_size_1e4_along_either_axis(impl, ref):
    """softmax(z) with |z| up to 1e4 raises no overflow warning and matches the reference, along the last axis and along axis 0."""
    for args, kwargs in (((HUGE_SCORES,), {}), ((np.ascontiguousarray(HUGE_SCORES.T),), {"axis": 0})):
        want = ref.call("softmax", args, kwargs)
        got = impl.call("softmax", args, kwargs)
        if impl.last.warnings:
            raise failure(impl, ref, "softmax", f"raised a warning on scores as large as 1e4: {impl.last.warnings[0]}. "
                          f"Subtract the largest entry along `axis` before exp (it changes nothing in the result, "
                          f"and exp then never sees a number above 0)", call=HUGE_CALL)
        problem = difference(got, want, "softmax")
        if problem:
            where = "" if not kwargs else " (on z.T, with axis=0: it must normalise along the axis it is given)"
            raise failure(impl, ref, "softmax", problem + where, call=HUGE_CALL, args=args if not kwargs else None,
                          got=got)


# --- attend ---------------------------------------------------------------------------------

def attention_mask(seed, N, T):
    """The (N, T) boolean mask of the masked checks: random, with row 0 reading every position, row 1 only its
    last one, and every row at least one."""
    rng = np.random.default_rng(seed)
    mask = rng.random((N, T)) < 0.5
    mask[np.arange(N), rng.integers(0, T, size=N)] = True
    mask[0] = True
    mask[1] = False
    mask[1, T - 1] = True
    return mask


def _mask_case(impl, ref, seed, N=5, T=6, DK=3, DV=2):
    q, K, V = make_inputs("attend", seed, N=N, T=T, DK=DK, DV=DV)
    mask = attention_mask(seed, N, T)
    args = (q, K, V, mask)
    call = (f"from autograder.checks.stepping import attention_mask\n"
            f"q, K, V = make_inputs('attend', seed={seed}, N={N}, T={T}, DK={DK}, DV={DV})\n"
            f"mask = attention_mask({seed}, {N}, {T})  # True where a position may be read\n"
            f"attend(q, K, V, mask)")
    want = ref.call("attend", args)
    got = impl.call("attend", args, {})
    problem = difference(got, want, "attend")
    if not problem or followed_through(impl, ref, "attend", args, got):
        return
    weights = got[1] if isinstance(got, (tuple, list)) and len(got) == 2 else None
    if isinstance(weights, np.ndarray) and weights.shape == (N, T) and np.all(np.isfinite(weights)):
        leaked = np.argwhere(~mask & (np.abs(weights) > 1e-12))
        sums = np.where(mask, weights, 0.0).sum(axis=1)
        if leaked.size:
            n, t = (int(i) for i in leaked[0])
            problem = (f"gave weight {weights[n, t]:.6g} to position {t} of row {n}, which the mask forbids "
                       f"(mask[{n}, {t}] is False); a forbidden position must get weight 0")
        elif np.any(np.abs(sums - 1.0) > 1e-9):
            n = int(np.argmax(np.abs(sums - 1.0)))
            problem = (f"returned weights that sum to {sums[n]:.6g} over the allowed positions of row {n}, not 1: "
                       f"the softmax must run over the allowed positions only")
    raise failure(impl, ref, "attend", problem, call=call, args=args, got=got)


@check("attend", points=0.5)
def test_attend_weighs_only_the_positions_the_mask_allows(impl, ref):
    """With a mask, each row's weights are 0 where it is False and sum to 1 over the rest, and match the reference."""
    _mask_case(impl, ref, 14)


### BEGIN HIDDEN TESTS
@check("attend", points=0.25, hidden=True)
def test_attend_weighs_only_the_positions_the_mask_allows_hidden(impl, ref):
    """As above, on other seeds and sizes."""
    _mask_case(impl, ref, 1401, N=7, T=9, DK=5, DV=3)
    _mask_case(impl, ref, 1402, N=3, T=2, DK=1, DV=4)
### END HIDDEN TESTS


@check("attend", points=0.25, counts_with=values_check("attend"))
def test_attend_ignores_a_shift_shared_by_every_key(impl, ref):
    """Adding one vector u to every key moves each row's scores by the same amount, so weights and context stay."""
    q, K, V = make_inputs("attend", 15, N=3, T=5, DK=4, DV=2)
    u = 30.0 * np.random.default_rng(15).standard_normal(4)  # (DK,): one shift for every key of every row
    call = ("q, K, V = make_inputs('attend', seed=15, N=3, T=5, DK=4, DV=2)\n"
            "u = 30.0 * np.random.default_rng(15).standard_normal(4)\n"
            "attend(q, K, V), attend(q, K + u, V)  # the same weights and context")
    plain = impl.attend(q, K, V)
    expect(isinstance(plain, tuple) and len(plain) == 2 and all(isinstance(v, np.ndarray) for v in plain), impl, ref,
           "attend", "should return the tuple (context, weights) of arrays", call=call)
    shifted = impl.attend(q, K + u, V)
    problem = difference(shifted, plain, "attend")
    if problem and followed_through(impl, ref, "attend", (q, K, V), plain) \
            and followed_through(impl, ref, "attend", (q, K + u, V), shifted):
        return  # both are what the reference does with their softmax: that softmax pays, not attend
    expect(problem is None, impl, ref, "attend",
           f"changes when every key moves by the same vector u: with K + u it {problem} (compared with its own "
           f"answer for K). Every score of a row moves by u . q / sqrt(Dk), and a softmax does not see a shift "
           f"shared by all its entries", call=call)


def _same_including_nan(got, want):
    """True when the tuples `got` and `want` agree within the tolerance, nan where the other has nan."""
    if not (isinstance(got, (tuple, list)) and isinstance(want, tuple) and len(got) == len(want)):
        return False
    return all(isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype.kind == "f"
               and np.allclose(g, w, rtol=1e-7, atol=1e-9, equal_nan=True) for g, w in zip(got, want))


@check("attend", points=0.25)
def test_attend_is_stable_for_scores_of_size_1e4(impl, ref):
    """Keys 10,000 times larger give scores of about 1e4: no overflow warning, no nan, the reference's answer."""
    q, K, V = make_inputs("attend", 16, N=3, T=5, DK=4, DV=2)
    args = (q, K * 1e4, V)
    call = "q, K, V = make_inputs('attend', seed=16, N=3, T=5, DK=4, DV=2)\nattend(q, K * 1e4, V)"
    want = ref.call("attend", args)
    got = impl.call("attend", args, {})
    warned = list(impl.last.warnings)
    problem = difference(got, want, "attend")
    if not problem and not warned:
        return
    if not warned and followed_through(impl, ref, "attend", args, got):  # wrong only as their softmax is
        return
    if "softmax" in relies_on(impl, "attend"):  # a softmax of theirs that overflows is softmax's to pay for, once
        heard = []
        theirs = ref.follow_through(impl, "attend", args, ["softmax"], heard)
        if heard and theirs is not None and _same_including_nan(got, theirs):
            graded_with(impl, "attend", ["softmax"])
            return
        if heard:
            raise failure(impl, ref, "attend", f"{problem or 'raised a warning'} on scores of size 1e4",
                          call=call, note=f"  Fix softmax first: attend relies on it, and it overflows on these "
                                          f"scores ({heard[0][1]}).")
    if warned:
        raise failure(impl, ref, "attend", f"raised a warning on scores of size 1e4: {warned[0]}. Normalise the "
                      f"scores with a softmax that subtracts the largest score first (your softmax, once its own "
                      f"stability check passes)", call=call)
    raise failure(impl, ref, "attend", problem, call=call, args=args, got=got)


# --- attention_recall -----------------------------------------------------------------------

FAR_GAP = 10000
FAR_PUBLIC, FAR_HIDDEN = slice(0, 16), slice(16, 24)
_FAR = {}


def far_batch(ref):
    """The recall task at a gap of 10,000: public rows, then (when grading) hidden rows, one batch for both checks."""
    if id(ref) not in _FAR:
        parts = [ref.call("make_recall_task", (16, FAR_GAP, 62))]  # FAR_PUBLIC
        ### BEGIN HIDDEN TESTS
        parts.append(ref.call("make_recall_task", (8, FAR_GAP, 6201)))  # FAR_HIDDEN
        ### END HIDDEN TESTS
        _FAR.clear()
        _FAR[id(ref)] = (ref, freeze(np.concatenate([x for x, _ in parts])),
                         freeze(np.concatenate([bits for _, bits in parts])))
    return _FAR[id(ref)][1:]


def _recalled(impl, ref, x, bits, rows, gap, call):
    got = impl.attention_recall(x)
    if not (isinstance(got, np.ndarray) and got.shape == (x.shape[0],)):
        raise failure(impl, ref, "attention_recall", f"returned {getattr(got, 'shape', type(got).__name__)} where "
                      f"bits of shape ({x.shape[0]},) are due", call=call)
    right = int(np.count_nonzero(got[rows] == bits[rows]))
    count = rows.stop - rows.start
    if right == count:
        return
    # with a wrong attend of theirs, failure() says to fix it first; otherwise the likely cause is the weights
    question = "" if broken_dependencies(impl, ref, "attention_recall") else (
        f" Is the query strong enough that {gap:,} distractors together weigh nothing next to the write step?")
    raise failure(impl, ref, "attention_recall", f"recalled the bit in only {right} of {count} sequences (rows "
                  f"{rows.start}-{rows.stop - 1}) across {gap:,} distractors; it must find the write step whatever "
                  f"the gap (100%).{question}", call=call)


def _recall_1000(impl, ref, rows):
    x, bits = recall_batch(ref)
    _recalled(impl, ref, x, bits, rows, RECALL_GAP, RECALL_CALL + "attention_recall(x)")


def _recall_10000(impl, ref, rows):
    x, bits = far_batch(ref)
    call = (f"from exercises.memory import make_recall_task\nx, bits = make_recall_task(16, {FAR_GAP}, seed=62)  "
            f"# the public rows (when grading, hidden rows follow)\nattention_recall(x)")
    _recalled(impl, ref, x, bits, rows, FAR_GAP, call)


@check("attention_recall", points=0.25, counts_with="test_attention_recall_recalls_the_bit_after_1000_distractors")
def test_attention_recall_returns_the_right_types_and_shapes(impl, ref):
    """bits is an integer array of shape (N,), each 0 or 1."""
    for n, gap in ((1, 0), (4, 3)):
        x, _ = ref.call("make_recall_task", (n, gap, 0))
        call = f"from exercises.memory import make_recall_task\nx, bits = make_recall_task({n}, {gap}, seed=0)\n" \
               f"attention_recall(x)"
        got = impl.call("attention_recall", (x,), {})
        problem = difference(got, ref.call("attention_recall", (x,)), "attention_recall")
        if problem and "wrong values" not in problem:
            raise failure(impl, ref, "attention_recall", problem, call=call)
        expect(bool(np.all(np.isin(got, (0, 1)))), impl, ref, "attention_recall",
               f"returned bits other than 0 and 1: {np.asarray(got).tolist()}", call=call)


@check("attention_recall", points=0.25)
def test_attention_recall_recalls_the_bit_after_1000_distractors(impl, ref):
    """With no recurrence at all, attention finds the bit across 1,000 distractors (Part 3's task)."""
    _recall_1000(impl, ref, PUBLIC_ROWS)


@check("attention_recall", points=0.25)
def test_attention_recall_recalls_the_bit_after_10000_distractors(impl, ref):
    """And across 10,000, where the contractive RNN of Part 3 is left at chance: the gap costs attention nothing."""
    _recall_10000(impl, ref, FAR_PUBLIC)


### BEGIN HIDDEN TESTS
@check("attention_recall", points=0.25, hidden=True)
def test_attention_recall_recalls_the_bit_hidden(impl, ref):
    """As above, on other draws of the task, at both gaps."""
    _recall_1000(impl, ref, HIDDEN_ROWS)
    _recall_10000(impl, ref, FAR_HIDDEN)
### END HIDDEN TESTS


def shuffled_before_the_query(x, seed):
    """x with the steps before the last one (the write step and the distractors) shuffled, in each row its own way."""
    N, T, _ = x.shape
    order = np.argsort(np.random.default_rng(seed).random((N, T - 1)), axis=1)  # (N, T - 1)
    order = np.concatenate([order, np.full((N, 1), T - 1)], axis=1)  # the query step stays last
    return np.take_along_axis(x, order[:, :, None], axis=1)


@check("attention_recall", points=0.25, counts_with="test_attention_recall_recalls_the_bit_after_1000_distractors")
def test_attention_recall_cannot_tell_when_the_bit_was_written(impl, ref):
    """Shuffle the steps before the query, write step included: the answer stays. With no positions, attention reads a bag of steps, as mean_pool does."""
    x, _ = ref.call("make_recall_task", (16, 50, 63))
    shuffled = shuffled_before_the_query(x, 63)
    call = ("from exercises.memory import make_recall_task\nfrom autograder.checks.stepping import "
            "shuffled_before_the_query\nx, bits = make_recall_task(16, 50, seed=63)\n"
            "attention_recall(x), attention_recall(shuffled_before_the_query(x, 63))  # the same bits")
    plain = impl.attention_recall(x)
    moved = impl.attention_recall(shuffled)
    same = isinstance(plain, np.ndarray) and isinstance(moved, np.ndarray) and plain.shape == moved.shape == (16,)
    changed = int(np.count_nonzero(plain != moved)) if same else 16
    expect(same and changed == 0, impl, ref, "attention_recall",
           f"gave another answer for {changed} of 16 sequences once the steps before the query were shuffled (the "
           f"write step moved too). With keys and values taken from each step's own input, nothing tells attention "
           f"where a step is, so the answer cannot change; does it read a fixed position such as x[:, 0], or carry "
           f"something from step to step?", call=call)


# --- sequential_steps -----------------------------------------------------------------------

def _steps_cases(impl, ref, lengths):
    for T in lengths:
        for kind in READERS:
            call = f"sequential_steps({kind!r}, {T})"
            got = expect_reference(impl, ref, "sequential_steps", (kind, T), call=call)
            expect(isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)), impl, ref,
                   "sequential_steps", f"returned {got!r} of type {type(got).__name__}: a number of steps is an int",
                   call=call)


@check("sequential_steps", points=0.5)
def test_sequential_steps_counts_the_chain_of_steps_that_wait_for_each_other(impl, ref):
    """1 step for a feedforward layer and for attention, T for an RNN, at T = 1, 7 and 1,000."""
    _steps_cases(impl, ref, (1, 7, 1000))


### BEGIN HIDDEN TESTS
@check("sequential_steps", points=0.25, hidden=True)
def test_sequential_steps_counts_the_chain_of_steps_that_wait_for_each_other_hidden(impl, ref):
    """As above, at other lengths."""
    _steps_cases(impl, ref, (2, 64, 12345))
### END HIDDEN TESTS
