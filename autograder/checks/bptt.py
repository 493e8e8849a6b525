"""Checks for Part 5: backpropagation through time, vanishing gradients, and training.

Three kinds of check:

* every backward function against the reference (the standard templates) and against
  centred finite differences of the reference forward (relative error at most
  feedback.GRADIENT_RTOL);
* the lesson's observation measured with the student's own functions: the gradient
  reaching the first step of a contractive vanilla RNN shrinks geometrically, while an
  LSTM whose forget gate is held open passes it back almost whole;
* group "training": the kit's trainer (autograder/trainer.py, Adam, clipping, a
  cross-entropy readout) runs in the grading process and calls the student's forward and
  backward in their worker at every update; the weights it ends with are scored with the
  reference forward on new sequences. `rnn-grade class --skip-training` leaves this group
  out.
"""
import threading

import numpy as np

from ..catalogue import check
from ..feedback import (GRADIENT_RTOL, CheckFailure, broken_dependencies, dependency_verdict, difference,
                        expect_reference, failure, followed_through, graded_with, matches)
from ..sandbox.client import Bound, CallFailed
from ..inputs import FORWARD_OF, SIGNATURES, make_inputs, recipe
from ..trainer import FUNCTIONS, accuracy, train_recall
from ._common import define_check, standard_checks

BACKWARDS = tuple(FORWARD_OF)
#: template points for the backward functions (each also gets 0.25 for finite differences)
POINTS = {"shapes": 0.25, "fixed": 0.25, "random": 0.5, "hidden": 0.5, "pure": 0.25}

for _f in BACKWARDS:
    standard_checks(globals(), _f, points=POINTS)


# --- finite differences ------------------------------------------------------------------

NUMERIC_SIZES = {"N": 2, "T": 3, "D": 2, "H": 3}


def _numeric_case(impl, ref, function, *seeds):
    """The student's gradients against finite differences of the reference forward pass, for each seed."""
    for seed in seeds:
        _numeric_seed(impl, ref, function, seed)


def _disagreement(got, numeric):
    """The first (position, relative error) where the analytic gradients miss the numeric ones, or None."""
    for position, (analytic, estimate) in enumerate(zip(got, numeric)):
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != estimate.shape:
            return position, np.inf
        error = float(np.max(np.abs(analytic - estimate))) / max(float(np.max(np.abs(estimate))), 1e-12)
        if not error <= GRADIENT_RTOL:
            return position, error
    return None


def _numeric_seed(impl, ref, function, seed):
    args = make_inputs(function, seed, **NUMERIC_SIZES)
    n_up = sum(1 for name, _ in SIGNATURES[function] if name.startswith("d"))
    upstream, forward_args = args[:n_up], args[n_up:]
    call = recipe(function, seed, **NUMERIC_SIZES)
    got = impl.call(function, args, {})
    want = ref.call(function, args)
    problem = difference(got, want, function)
    if problem and "wrong values" not in problem:  # a type or shape problem: say that first
        raise failure(impl, ref, function, problem, call=call, args=args, got=got)
    if problem and followed_through(impl, ref, function, args, got):
        return  # the reference's own gradients, taken through the submission's wrong dependency: no new mistake
    forward, up = FORWARD_OF[function], upstream if len(upstream) > 1 else upstream[0]
    numeric = ref.numerical_gradients(forward, forward_args, up)
    found = _disagreement(got, numeric)
    if found is not None:  # maybe only because the forward rests on a wrong function of the submission's
        broken = [dep for dep, _ in broken_dependencies(impl, ref, forward)]
        theirs = ref.numerical_gradients(forward, forward_args, up, impl=impl, through=broken) if broken else None
        if theirs is not None and _disagreement(got, theirs) is None:
            graded_with(impl, function, broken)
            return
        position, error = found
        name = [name for name, _ in SIGNATURES[forward]][position]
        analytic, estimate = np.asarray(got[position], dtype=np.float64), numeric[position]
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(analytic - estimate))), estimate.shape))
        raise failure(impl, ref, function,
                      f"disagrees with finite differences on d{name}: relative error {error:.2g} (at most "
                      f"{GRADIENT_RTOL:g} is due); at index {index} it gave {analytic[index]:.8g}, the centred "
                      f"difference of {forward} is {estimate[index]:.8g}", call=call, args=args, got=got)


for _f in BACKWARDS:
    define_check(globals(), _f, f"test_{_f}_agrees_with_finite_differences",
                 f"Every gradient {_f} returns matches centred finite differences of {FORWARD_OF[_f]} (relative "
                 f"error <= {GRADIENT_RTOL:g}).", 0.25, lambda impl, ref, f=_f: _numeric_case(impl, ref, f, 11))
    ### BEGIN HIDDEN TESTS
    if not _f.endswith("_step_backward"):
        define_check(globals(), _f, f"test_{_f}_agrees_with_finite_differences_hidden", "As above, on other seeds.",
                     0.25, lambda impl, ref, f=_f: _numeric_case(impl, ref, f, 1011, 1012),
                     hidden=True)
    ### END HIDDEN TESTS


# --- numerical_gradient --------------------------------------------------------------------

def _numgrad_case(impl, ref, probe, seed, h=None, N=2, T=3, D=2, H=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    kwargs = {"A": rng.standard_normal((D, H)), "M": 0.6 * np.linalg.qr(rng.standard_normal((H, H)))[0]} \
        if probe == "linear" else {}
    df = rng.standard_normal((N, T, H if probe == "linear" else D))
    args = (impl.probe(probe, **kwargs), x, df) + (() if h is None else (h,))
    if probe == "linear":
        make_f = (f"A = rng.standard_normal(({D}, {H})); M = 0.6 * np.linalg.qr(rng.standard_normal(({H}, {H})))[0]\n"
                  f"f = lambda v: linear_recurrence(v, A, M)  # h_t = h_(t-1) @ M + x_t @ A, h_(-1) = 0\n"
                  f"df = rng.standard_normal(({N}, {T}, {H}))\n")
    else:
        make_f = f"f = lambda v: np.cumsum(np.sin(v), axis=1)\ndf = rng.standard_normal(({N}, {T}, {D}))\n"
    call = (f"import numpy as np\nfrom autograder.worker import _linear_forward as linear_recurrence\n"
            f"rng = np.random.default_rng({seed}); x = rng.standard_normal(({N}, {T}, {D}))\n" + make_f +
            f"numerical_gradient(f, x, df{'' if h is None else f', h={h}'})")
    want = ref.call("numerical_gradient", args)
    got = impl.call("numerical_gradient", args, {})
    if impl.last.mutated:
        raise failure(impl, ref, "numerical_gradient", "left x changed after it returned; probe a copy of x",
                      call=call)
    problem = difference(got, want, "numerical_gradient")
    if problem:
        raise failure(impl, ref, "numerical_gradient", problem, call=call, args=args, got=got)


@check("numerical_gradient", points=0.5)
def test_numerical_gradient_matches_the_reference_on_a_curved_function(impl, ref):
    """On sin(x) with h = 0.01, a centred difference (and only a centred one) gives the reference's answer."""
    _numgrad_case(impl, ref, "sine", 0, h=0.01)


@check("numerical_gradient", points=0.25)
def test_numerical_gradient_weights_outputs_by_df(impl, ref):
    """On a linear recurrence, the result is the gradient of sum(f(x) * df), df weighting every output."""
    _numgrad_case(impl, ref, "linear", 1)


@check("numerical_gradient", points=0.25,
       counts_with="test_numerical_gradient_matches_the_reference_on_a_curved_function")
def test_numerical_gradient_leaves_x_alone(impl, ref):
    """x is the same, bit for bit, after the call (probe a copy)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 2))
    args = (impl.probe("sine"), x, np.ones_like(x))
    impl.call("numerical_gradient", args, {}, fresh=True)
    if impl.last.mutated:
        raise failure(impl, ref, "numerical_gradient", "changed x in place and did not restore it exactly; probe "
                      "a copy of x (x + h - h is not always x in floating point)",
                      call="import numpy as np\nx = np.random.default_rng(2).standard_normal((2, 3, 2)); before = x.copy()\n"
                           "numerical_gradient(lambda v: np.cumsum(np.sin(v), axis=1), x, np.ones_like(x))\n"
                           "print(np.array_equal(x, before))  # must be True")


### BEGIN HIDDEN TESTS
@check("numerical_gradient", points=0.25, hidden=True)
def test_numerical_gradient_matches_the_reference_hidden(impl, ref):
    """As above, on other seeds, sizes and steps."""
    _numgrad_case(impl, ref, "sine", 3501, h=0.05, N=3, T=2, D=4)
    _numgrad_case(impl, ref, "linear", 3502, N=1, T=5, D=3, H=2)
### END HIDDEN TESTS


# --- gradient_to_first_step ----------------------------------------------------------------

def _first_step_case(impl, ref, seed, N=3, T=8, D=2, H=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    A, M = rng.standard_normal((D, H)), 0.8 * np.linalg.qr(rng.standard_normal((H, H)))[0]
    args = (impl.probe("linear_backward"), x, (np.zeros((N, H)),), (A, M))
    call = (f"import numpy as np\nfrom autograder.worker import _linear_backward as backward  # of h_t = h_(t-1) @ M + x_t @ A\n"
            f"rng = np.random.default_rng({seed}); x = rng.standard_normal(({N}, {T}, {D}))\n"
            f"A, M = rng.standard_normal(({D}, {H})), 0.8 * np.linalg.qr(rng.standard_normal(({H}, {H})))[0]\n"
            f"gradient_to_first_step(backward, x, (np.zeros(({N}, {H})),), (A, M))")
    expect_reference(impl, ref, "gradient_to_first_step", args, call=call)


@check("gradient_to_first_step", points=0.5)
def test_gradient_to_first_step_matches_the_reference_on_a_linear_recurrence(impl, ref):
    """With a known backward pass (h_t = h_(t-1) @ M + x_t @ A), the norms match the reference."""
    _first_step_case(impl, ref, 0)


### BEGIN HIDDEN TESTS
@check("gradient_to_first_step", points=0.25, hidden=True)
def test_gradient_to_first_step_matches_the_reference_hidden(impl, ref):
    """As above, on other seeds and sizes."""
    _first_step_case(impl, ref, 3601, N=2, T=12, D=3, H=5)
### END HIDDEN TESTS


def open_forget_lstm(seed, D=3, H=4):
    """Small random LSTM weights whose forget-gate bias is +8, so f ~ 0.9997 at every step."""
    rng = np.random.default_rng(seed)
    b = np.zeros(4 * H)
    b[H:2 * H] = 8.0  # block f of i, f, g, o
    return 0.3 * rng.standard_normal((D, 4 * H)), 0.3 * rng.standard_normal((H, 4 * H)), b


@check("gradient_to_first_step", points=1.0)
def test_gradient_to_first_step_vanishes_through_a_vanilla_rnn_but_not_through_an_open_lstm(impl, ref):
    """With your rnn_backward and lstm_backward, the curve matches the reference: it vanishes through a contractive RNN and holds through an open LSTM."""
    _first_step_case(impl, ref, 0)  # gradient_to_first_step itself first: not implemented, or wrong, says so
    rng = np.random.default_rng(91)
    x = rng.standard_normal((3, 40, 3))  # N = 3, H = 4: a sum over rows and a unit vector of ones differ
    Wx, Wh, b = ref.call("contractive_rnn_params", (3, 4, 0.5, 0))
    cases = [("rnn_backward", (np.zeros((3, 4)),), (Wx, Wh, b), "a contractive vanilla RNN (|Wh| = 0.5)",
              "states, weights = (np.zeros((3, 4)),), contractive_rnn_params(3, 4, gain=0.5, seed=0)"),
             ("lstm_backward", (np.zeros((3, 4)),) * 2, open_forget_lstm(92), "an LSTM with forget bias +8",
              "from autograder.checks.bptt import open_forget_lstm\n"
              "states, weights = (np.zeros((3, 4)), np.zeros((3, 4))), open_forget_lstm(92)")]
    for backward, states, weights, what, setup in cases:
        call = (f"import numpy as np\nfrom exercises.bptt import {backward}\n"
                f"from exercises.memory import contractive_rnn_params\n"
                f"rng = np.random.default_rng(91); x = rng.standard_normal((3, 40, 3))\n{setup}  # {what}\n"
                f"gradient_to_first_step({backward}, x, states, weights)")
        args = (Bound("student", backward), x, states, weights)
        want = ref.call("gradient_to_first_step", args)
        try:
            got = impl.call("gradient_to_first_step", args, {})
        except CallFailed:  # e.g. their backward is not written yet: say which function to fix
            verdict = dependency_verdict(impl, ref, backward)
            if verdict:
                raise failure(impl, ref, "gradient_to_first_step", f"cannot draw the curve through {what} yet: it "
                              f"runs your {backward}, which is not right yet ({verdict}); fix {backward} first",
                              call=call) from None
            raise
        problem = difference(got, want, "gradient_to_first_step")
        verdict = dependency_verdict(impl, ref, backward) if problem else None
        if verdict:  # maybe only because their backward is wrong: the reference's curve through their backward
            theirs = ref.follow_through(impl, "gradient_to_first_step", args, [backward])
            if theirs is not None and matches(got, theirs):
                graded_with(impl, "gradient_to_first_step", [backward])
                continue
        if problem:
            raise failure(impl, ref, "gradient_to_first_step",
                          f"{problem}. Through {what} the reference's gradient goes from {want[1]:.3g} at step 1 "
                          f"to {want[-1]:.3g} at step {len(want) - 1}", call=call, args=args, got=got,
                          note=f"  Fix {backward} first: this curve runs it, and it is not right yet ({verdict})."
                          if verdict else "")


# --- training (group "training") -----------------------------------------------------------

#: the delayed-recall gaps, measured in docs/experiment.md: every cell learns SHORT_GAP,
#: only the gated ones learn LONG_GAP
SHORT_GAP, LONG_GAP = 10, 70
#: the weights are judged on TEST_SIZE new sequences; PASS is the recall they must reach. The reference
#: reaches at least MARGIN on both seeds, also when the last bits of its gradients change
#: (tests/test_trainer.py), so a correct submission passes on any CPU, BLAS or thread count:
#: rounding moves the trained weights, never the verdict.
TRAIN_SIZE, TEST_SIZE, PASS, MARGIN = 1024, 512, 0.95, 0.998
#: seeds of the initial weights, per cell; the second is tried only when the first falls short. The reference
#: learns from both (docs/experiment.md), from the first in 49 RNN / 37 LSTM / 29 GRU updates: seeds from
#: which it learns fast, so that a correct submission trains in few calls
TRAIN_SEEDS = {"rnn": (1, 3), "lstm": (1, 3), "gru": (5, 3)}
#: CPU seconds the submission's code may use in one training check, both seeds together, as the kernel counts
#: them (the reference needs about 1 s); machine load does not change the count, so it cannot change a score
TRAIN_BUDGET = 30.0
TRAINING = {cell: (*FUNCTIONS[cell], SHORT_GAP if cell == "rnn" else LONG_GAP) for cell in FUNCTIONS}


class _OverBudget(Exception):
    pass


def _submission_functions(impl, names, limit):
    """The submission's functions as callables for the trainer: every call goes to the worker (never remembered).

    Once the submission's CPU seconds pass `limit`, the next call raises _OverBudget.
    """
    def bind(name):
        def run(*args):
            if impl.cpu_seconds() > limit:
                raise _OverBudget(name)
            return impl.call(name, args, {}, remember=False)
        return run
    return [bind(name) for name in names]


def recall_after_training(impl, ref, cell, seed, limit):
    """(recall on new sequences, updates run).

    The trainer runs here, in the grading process; each update calls the submission's
    forward and backward in its worker, so the weights are the trainer's own, moved only by
    the gradients the submission returned. They are judged with the reference forward.
    """
    forward, backward, gap = TRAINING[cell]
    x, bits = ref.call("make_recall_task", (TRAIN_SIZE, gap, 71))
    weights, readout, losses = train_recall(*_submission_functions(impl, (forward, backward), limit),
                                            cell, x, bits, seed)
    x_test, bits_test = ref.call("make_recall_task", (TEST_SIZE, gap, 72))
    return accuracy(ref.tool(impl, forward), cell, x_test, bits_test, weights, readout), len(losses)


def _train(impl, ref, cell):
    """[(seed, recall, updates)] for the seeds tried, in order, stopping at the first that passes; raises
    _OverBudget once the submission's code has used TRAIN_BUDGET CPU seconds in this training (its own
    workers' count: a training running beside it, train_ahead, is not this one's)."""
    tried, limit = [], impl.cpu_seconds(beside=False) + TRAIN_BUDGET
    for seed in TRAIN_SEEDS[cell]:
        recall, updates = recall_after_training(impl, ref, cell, seed, limit)
        tried.append((seed, recall, updates))
        if recall >= PASS:
            break
    return tried


def _call_line(cell):
    forward, backward, gap = TRAINING[cell]
    return (f"from autograder.trainer import train_recall\nfrom exercises.memory import make_recall_task\n"
            f"from exercises.bptt import {forward}, {backward}\n"
            f"x, bits = make_recall_task({TRAIN_SIZE}, {gap}, seed=71)\n"
            f"weights, readout, losses = train_recall({forward}, {backward}, {cell!r}, x, bits, "
            f"seed={TRAIN_SEEDS[cell][0]})")


def _not_ready(impl, ref, cell):
    """Why the submission cannot train `cell` yet (a CheckFailure, or the CallFailed of its backward), or None."""
    forward, backward, _gap = TRAINING[cell]
    try:
        impl.call(backward, make_inputs(backward, 0), {})  # not implemented, or raising: that is the verdict
    except CallFailed as exc:
        return exc
    for dep in (forward, backward):  # a wrong gradient cannot teach anything: say so at once
        verdict = dependency_verdict(impl, ref, dep)
        if verdict:
            why = f"its gradients are not right yet ({verdict})" if dep == backward else \
                f"it runs your {forward}, which is not right yet ({verdict}); fix {forward} first"
            return CheckFailure(f"{backward} cannot train a cell yet: {why}\n  To reproduce (paste into Python):\n"
                                + "\n".join("      " + line for line in _call_line(cell).splitlines()))
    return None


def _training_check(impl, ref, cell):
    forward, backward, gap = TRAINING[cell]
    ahead = impl.__dict__.get("_training_ahead", {}).pop(cell, None)
    problem = _not_ready(impl, ref, cell)
    if problem is not None:
        if ahead is not None:
            ahead.cancel()
        raise problem
    try:
        tried = ahead.result(impl) if ahead is not None else None
        if tried is None:  # not trained beside the run (or its worker saw the submission not ready: it differs)
            tried = _train(impl, ref, cell)
    except _OverBudget:
        raise failure(impl, ref, backward, f"training with your {forward} and {backward} used more than "
                      f"{TRAIN_BUDGET:g} CPU seconds (the reference needs about 1 s, in fewer than 50 updates): one "
                      f"of them is far too slow on sequences of {gap + 2} steps (a Python loop over the batch?)",
                      call=_call_line(cell)) from None
    if tried[-1][1] >= PASS:
        return
    runs = "; ".join(f"seed {seed}: {recall:.1%} after {updates} updates" for seed, recall, updates in tried)
    raise failure(impl, ref, backward, f"trained with your {forward} and {backward}, the {cell.upper()} recalls the "
                  f"bit across {gap} distractors in too few new sequences ({runs}); at least {PASS:.0%} "
                  f"is due, and the reference gets there from both seeds. Your gradients match the reference "
                  f"on small inputs, so look for what differs on long sequences (T = {gap + 2})", call=_call_line(cell))


class _Ahead:
    """One cell's training in a thread of this process and a worker of its own (see train_ahead)."""

    def __init__(self, impl, ref, cell, part):
        self.worker = impl.sibling(("training", cell), part)
        self.printed, self.outcome, self.since = [], None, None
        self.worker.on_stdout = self._keep
        self.thread = threading.Thread(target=self._run, args=(ref, cell), daemon=True,
                                       name=f"rnn-kit training {cell}")
        self.thread.start()

    def _keep(self, source, text):
        if self.since is not None:  # what the training's calls print; the readiness calls print in the run
            self.printed.append((source, text))

    def _run(self, ref, cell):
        try:
            if _not_ready(self.worker, ref, cell) is None:
                self.since = self.worker.calls, self.worker.spent
                self.outcome = (True, _train(self.worker, ref, cell))
        except BaseException as exc:  # noqa: BLE001 - handed to the check that waits for it
            self.outcome = (False, exc)

    def cancel(self):
        self.worker.close()

    def result(self, impl):
        """Once the training has finished: its [(seed, recall, updates)], or what stopped it raised; None when
        its worker did not train. What the submission printed meanwhile is shown now, in the check, and the
        training's calls and time count to the submission as if it had run here."""
        self.thread.join()
        if self.since is None:
            self.cancel()
            return None
        impl.settle(self.worker, *self.since)
        for source, text in self.printed:
            impl._printed(source, text)
        ok, value = self.outcome
        if not ok:
            raise value
        return value


def train_ahead(impl, ref, checks):
    """Start now, side by side, the training of every training check in `checks`.

    For a single submission on a machine with cores to spare (the self-check, `rnn-grade check`,
    Gradescope): each cell trains in a thread of this process and a worker of its own while the
    other checks run, and its check waits for it. The worker first asks what the check asks
    (_not_ready) and trains only if the submission is ready; the check asks again in the run, in
    order, and uses the training only then. The grading worker's calls are the ones of a run in
    order, and the training's data, seeds, calls and CPU budget (on its own worker's clock) are
    the same, so no verdict or message differs; only the wall time does.
    """
    if not hasattr(impl, "sibling"):
        return
    started = impl.__dict__.setdefault("_training_ahead", {})
    for check in checks:
        cell = check.function.removesuffix("_backward")
        if check.group != "training" or cell not in TRAINING or cell in started:
            continue
        forward, _backward, gap = TRAINING[cell]
        for size, seed in ((TRAIN_SIZE, 71), (TEST_SIZE, 72)):
            ref.call("make_recall_task", (size, gap, seed))  # the data once, here, before any thread asks
        started[cell] = _Ahead(impl, ref, cell, check.module)


@check("rnn_backward", points=1.25, group="training")
def test_rnn_backward_trains_a_vanilla_rnn_to_recall_across_10_steps(impl, ref):
    """Trained with your rnn_forward and rnn_backward, a vanilla RNN recalls the bit across 10 distractors (>= 95%)."""
    _training_check(impl, ref, "rnn")


@check("lstm_backward", points=1.5, group="training")
def test_lstm_backward_trains_an_lstm_to_recall_across_70_steps(impl, ref):
    """Trained with your lstm_forward and lstm_backward, an LSTM recalls the bit across 70 distractors (>= 95%)."""
    _training_check(impl, ref, "lstm")


@check("gru_backward", points=1.5, group="training")
def test_gru_backward_trains_a_gru_to_recall_across_70_steps(impl, ref):
    """Trained with your gru_forward and gru_backward, a GRU recalls the bit across 70 distractors (>= 95%)."""
    _training_check(impl, ref, "gru")
