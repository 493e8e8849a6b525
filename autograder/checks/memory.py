"""Checks for Parts 3 and 4c: forgetting, measured; latching, by hand."""
import numpy as np

from ..catalogue import check
from ..feedback import difference, expect, expect_reference, failure
from ..sandbox.client import Bound
from ._common import (HIDDEN_ROWS, PUBLIC_ROWS, RECALL_CALL, RECALL_GAP, define_check, readout_accuracy,
                      recall_batch)


def _call_text(function, *args, **kwargs):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"from exercises.memory import {function}\n{function}({', '.join(parts)})"


# --- make_recall_task -------------------------------------------------------------------

def _task_cases(impl, ref, cases):
    for n, gap, seed in cases:
        expect_reference(impl, ref, "make_recall_task", (n, gap, seed),
                         call=_call_text("make_recall_task", n, gap, seed=seed))


@check("make_recall_task", points=0.25, counts_with="test_make_recall_task_matches_the_reference_draws")
def test_make_recall_task_returns_the_right_types_and_shapes(impl, ref):
    """x is float64 (n, gap + 2, 3) and bits is int (n,)."""
    for n, gap in ((1, 0), (4, 3)):
        got = impl.make_recall_task(n, gap, 0)
        problem = difference(got, ref.call("make_recall_task", (n, gap, 0)), "make_recall_task")
        if problem and "wrong values" not in problem:
            raise failure(impl, ref, "make_recall_task", problem, call=_call_text("make_recall_task", n, gap, seed=0))


@check("make_recall_task", points=0.75)
def test_make_recall_task_lays_out_write_distractors_and_query(impl, ref):
    """Step 0 carries the bit (+-1) and the write flag; distractors are +-1; the last step is the query."""
    n, gap = 16, 7
    call = _call_text("make_recall_task", n, gap, seed=5)
    got = impl.make_recall_task(n, gap, 5)
    expect(isinstance(got, tuple) and len(got) == 2 and all(isinstance(v, np.ndarray) for v in got),
           impl, ref, "make_recall_task", "should return the tuple (x, bits)", call=call)
    x, bits = got
    expect(x.shape == (n, gap + 2, 3) and bits.shape == (n,), impl, ref, "make_recall_task",
           f"returned x {x.shape} and bits {bits.shape}; expected {(n, gap + 2, 3)} and {(n,)}", call=call)
    rules = [
        (np.all(np.isin(bits, (0, 1))), "bits must be 0 or 1"),
        (np.all(x[:, 0, 0] == 2 * bits - 1), "x[:, 0, 0] must be the bit as +-1 (bit 1 -> +1, bit 0 -> -1)"),
        (np.all(x[:, 0, 1] == 1) and np.all(x[:, 1:, 1] == 0), "the write flag (channel 1) must be 1 at step 0 only"),
        (np.all(np.abs(x[:, 1:gap + 1, 0]) == 1), "distractors (channel 0, steps 1..gap) must be +-1"),
        (np.all(x[:, -1, 2] == 1) and np.all(x[:, :-1, 2] == 0), "the query flag (channel 2) must be 1 at the last step only"),
        (np.all(x[:, -1, :2] == 0), "the query step carries no value and no write flag"),
    ]
    for ok, rule in rules:
        expect(bool(ok), impl, ref, "make_recall_task", f"builds the wrong layout: {rule}", call=call)


@check("make_recall_task", points=1.0)
def test_make_recall_task_matches_the_reference_draws(impl, ref):
    """Same seed, same task: bits first (rng.integers), then distractors (rng.choice)."""
    _task_cases(impl, ref, ((8, 5, 0), (3, 0, 1), (5, 20, 2)))


### BEGIN HIDDEN TESTS
@check("make_recall_task", points=0.5, hidden=True)
def test_make_recall_task_matches_the_reference_draws_hidden(impl, ref):
    """As above, on other seeds and gaps."""
    _task_cases(impl, ref, ((11, 13, 3001), (2, 1, 3002)))
### END HIDDEN TESTS


# --- recall_accuracy --------------------------------------------------------------------

def _accuracy_cases(impl, ref, seeds):
    for seed in seeds:
        rng = np.random.default_rng(seed)
        scores, bits = rng.standard_normal((21, 2)), rng.integers(0, 2, size=21)  # odd: never exactly 1/2
        call = (f"rng = np.random.default_rng({seed})\nscores, bits = rng.standard_normal((21, 2)), "
                f"rng.integers(0, 2, size=21)\nrecall_accuracy(scores, bits)")
        expect_reference(impl, ref, "recall_accuracy", (scores, bits), call=call)


@check("recall_accuracy", points=0.5)
def test_recall_accuracy_matches_the_reference(impl, ref):
    """The fraction of rows whose larger score is at the right bit."""
    _accuracy_cases(impl, ref, (0, 1))


@check("recall_accuracy", points=0.5)
def test_recall_accuracy_is_one_when_all_right_and_zero_when_all_wrong(impl, ref):
    """Perfect scores give exactly 1.0; scores that always pick the other bit give 0.0."""
    bits = np.array([0, 1, 1, 0])
    right = np.stack([1.0 - bits, bits.astype(float)], axis=1)
    for scores in (right, right[:, ::-1].copy()):  # accuracy exactly 1.0, then exactly 0.0
        expect_reference(impl, ref, "recall_accuracy", (scores, bits),
                         call=f"bits = np.array([0, 1, 1, 0])\nscores = {scores.tolist()!r}\nrecall_accuracy(np.array(scores), bits)")


### BEGIN HIDDEN TESTS
@check("recall_accuracy", points=0.5, hidden=True)
def test_recall_accuracy_matches_the_reference_hidden(impl, ref):
    """As above, on other seeds."""
    _accuracy_cases(impl, ref, (3101, 3102))
### END HIDDEN TESTS


# --- latches ----------------------------------------------------------------------------

LATCHES = {
    "latch_lstm_params": ("lstm_forward", 1),
    "latch_gru_params": ("gru_forward", 1),
    "latch_rnn_params": ("rnn_forward", 3),
}


def _latch_shapes(impl, ref, function):
    got = impl.call(function, (), {})
    problem = difference(got, ref.call(function, ()), function)
    if problem and "wrong values" not in problem:
        raise failure(impl, ref, function, problem, call=f"{function}()")
    return got


def _latch_recall(impl, ref, function, rows):
    """The submission's latch weights, run by the reference forward, recall the bit after 1,000 distractors."""
    params = _latch_shapes(impl, ref, function)
    forward, H = LATCHES[function]
    x, bits = recall_batch(ref)
    h0 = np.zeros((x.shape[0], H))
    run = ref.tool(impl, forward)  # the trusted forward, on the submission's weights
    if forward == "lstm_forward":
        Wx, Wh, b, Wy, by = params
        hs, _ = run(x, h0, h0, Wx, Wh, b)
    elif forward == "gru_forward":
        Wx, Wh, bx, bh, Wy, by = params
        hs = run(x, h0, Wx, Wh, bx, bh)
    else:
        Wx, Wh, b, Wy, by = params
        hs = run(x, h0, Wx, Wh, b)
    accuracy = readout_accuracy(hs[rows, -1], Wy, by, bits[rows])
    count = rows.stop - rows.start
    call = RECALL_CALL + f"params = {function}()  # run by the reference {forward}; read out h[:, -1] @ Wy + by"
    expect(accuracy == 1.0, impl, ref, function,
           f"weights recall the bit in only {accuracy:.0%} of {count} sequences (rows {rows.start}-{rows.stop - 1}) "
           f"after {RECALL_GAP} distractors; they must store it at the write step and hold it (100%)", call=call)
    return params


for _f in LATCHES:
    define_check(globals(), _f, f"test_{_f}_returns_the_right_types_and_shapes",
                 f"{_f} returns weights of the documented shapes.", 0.25,
                 lambda impl, ref, f=_f: _latch_shapes(impl, ref, f), counts_with=f"test_{_f}_hold_a_bit_for_1000_steps")
    define_check(globals(), _f, f"test_{_f}_hold_a_bit_for_1000_steps",
                 f"{_f}'s weights store the bit and keep it through 1,000 distractors.", 1.0,
                 lambda impl, ref, f=_f: _latch_recall(impl, ref, f, PUBLIC_ROWS))
    ### BEGIN HIDDEN TESTS
    define_check(globals(), _f, f"test_{_f}_hold_a_bit_for_1000_steps_hidden", "As above, on another draw of the task.",
                 0.5, lambda impl, ref, f=_f: _latch_recall(impl, ref, f, HIDDEN_ROWS), hidden=True)
    ### END HIDDEN TESTS


@check("latch_rnn_params", points=1.0)
def test_latch_rnn_params_hold_the_bit_while_the_gradient_still_vanishes(impl, ref):
    """A latched vanilla RNN remembers, yet the first input's influence still shrinks per step (Bengio et al. 1994)."""
    params = _latch_recall(impl, ref, "latch_rnn_params", PUBLIC_ROWS)
    Wx, Wh, b = params[:3]
    x, _ = ref.call("make_recall_task", (16, 30, 83))
    forward = Bound("kit", "rnn_forward", h0=np.zeros((16, 3)), Wx=Wx, Wh=Wh, b=b)  # trusted, on its weights
    influence = ref.tool(impl, "first_input_influence")(forward, x)
    rate = ref.tool(impl, "geometric_rate")(influence[1:])
    expect(rate < 0.5, impl, ref, "latch_rnn_params",
           f"lets the first input's influence shrink only by x{rate:.2f} per step; a latch built from stable "
           f"states (self-weight about 2) should shrink it by about x0.2", call="latch_rnn_params()")


# --- contractive_rnn_params -------------------------------------------------------------

def _contractive_cases(impl, ref, cases):
    for D, H, gain, seed in cases:
        call = _call_text("contractive_rnn_params", D, H, gain=gain, seed=seed)
        Wx, Wh, b = expect_reference(impl, ref, "contractive_rnn_params", (D, H, gain, seed), call=call)
        top = float(np.linalg.norm(Wh, 2))
        expect(abs(top - gain) < 1e-9, impl, ref, "contractive_rnn_params",
               f"gave Wh a largest singular value of {top:.6g}; it must equal gain = {gain}", call=call)


@check("contractive_rnn_params", points=1.0)
def test_contractive_rnn_params_match_the_reference(impl, ref):
    """Same seed, same weights; Wh's largest singular value is exactly `gain`."""
    _contractive_cases(impl, ref, ((3, 8, 0.5, 0), (2, 1, 0.9, 1)))


### BEGIN HIDDEN TESTS
@check("contractive_rnn_params", points=0.5, hidden=True)
def test_contractive_rnn_params_match_the_reference_hidden(impl, ref):
    """As above, on other sizes, gains and seeds."""
    _contractive_cases(impl, ref, ((5, 4, 0.3, 3201), (1, 6, 0.75, 3202)))
### END HIDDEN TESTS


# --- first_input_influence ----------------------------------------------------------------

def _influence_case(impl, ref, probe, seed, N=3, T=6, D=2, H=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    if probe == "linear":
        kwargs = {"A": rng.standard_normal((D, H)), "M": 0.6 * np.linalg.qr(rng.standard_normal((H, H)))[0]}
    else:
        kwargs = {}
    want = ref.call("first_input_influence", (impl.probe(probe, **kwargs), x))
    got = impl.first_input_influence(impl.probe(probe, **kwargs), x)
    call = (f"rng = np.random.default_rng({seed}); x = rng.standard_normal(({N}, {T}, {D}))\n"
            f"# forward: a known {'linear recurrence h_t = h_(t-1) @ M + x_t @ A' if probe == 'linear' else 'map: cumulative sum of x**2 over time'}\n"
            f"first_input_influence(forward, x)")
    if impl.last.mutated:
        raise failure(impl, ref, "first_input_influence", "changed x in place; perturb copies of x", call=call)
    problem = difference(got, want, "first_input_influence")
    if problem:
        raise failure(impl, ref, "first_input_influence", problem, call=call)


@check("first_input_influence", points=0.75)
def test_first_input_influence_matches_the_reference_on_a_linear_recurrence(impl, ref):
    """On a known linear recurrence, the finite-difference influence matches the reference."""
    _influence_case(impl, ref, "linear", 0)


@check("first_input_influence", points=0.5)
def test_first_input_influence_matches_the_reference_on_a_nonlinear_map(impl, ref):
    """On a nonlinear map (cumulative sum of squares), the central difference matches too."""
    _influence_case(impl, ref, "squared", 1)


### BEGIN HIDDEN TESTS
@check("first_input_influence", points=0.5, hidden=True)
def test_first_input_influence_matches_the_reference_hidden(impl, ref):
    """As above, on other seeds and sizes."""
    _influence_case(impl, ref, "linear", 3301, N=2, T=9, D=4, H=2)
    _influence_case(impl, ref, "squared", 3302, N=4, T=3, D=1)
### END HIDDEN TESTS


# --- geometric_rate -------------------------------------------------------------------------

def _rate_cases(impl, ref, cases):
    for values, text in cases:
        expect_reference(impl, ref, "geometric_rate", (values,), call=f"values = {text}\ngeometric_rate(values)")


@check("geometric_rate", points=0.75)
def test_geometric_rate_recovers_a_known_rate(impl, ref):
    """For values 3 * 0.7**t the fitted rate is 0.7."""
    t = np.arange(12.0)
    _rate_cases(impl, ref, [(3 * 0.7 ** t, "3 * 0.7 ** np.arange(12.0)"), (0.5 * 1.0 ** t, "0.5 * np.ones(12)")])


@check("geometric_rate", points=0.5)
def test_geometric_rate_ignores_values_below_the_floor(impl, ref):
    """Entries at or below 1e-8 are noise and do not enter the fit."""
    values = np.array([1.0, 0.2, 0.04, 0.008, 1e-9, 0.0, 3e-10])
    _rate_cases(impl, ref, [(values, "np.array([1.0, 0.2, 0.04, 0.008, 1e-9, 0.0, 3e-10])")])


### BEGIN HIDDEN TESTS
@check("geometric_rate", points=0.5, hidden=True)
def test_geometric_rate_matches_the_reference_hidden(impl, ref):
    """On noisy decays."""
    rng = np.random.default_rng(3401)
    values = 2.0 * 0.45 ** np.arange(15.0) * np.exp(0.1 * rng.standard_normal(15))
    _rate_cases(impl, ref, [(values, "2.0 * 0.45 ** np.arange(15.0) * noise")])
### END HIDDEN TESTS
