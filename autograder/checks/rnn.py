"""Checks for Part 2: one step, unrolling, reading out."""
import numpy as np

from ..catalogue import check
from ..feedback import dependency_verdict, difference, expect, failure, graded_with
from ..sandbox.client import Bound, CallFailed
from ..inputs import make_inputs, recipe
from ._common import standard_checks

standard_checks(globals(), "rnn_step", saturate=True)
standard_checks(globals(), "rnn_forward")
standard_checks(globals(), "rnn_readout")


@check("rnn_forward", points=1.5)
def test_rnn_forward_equals_stepping_rnn_step(impl, ref):
    """hs[:, t] is rnn_step applied to x[:, t] and hs[:, t-1]: the same weights at every step."""
    x, h0, Wx, Wh, b = make_inputs("rnn_forward", 31, N=2, T=8, D=3, H=4)
    call = recipe("rnn_forward", 31, N=2, T=8, D=3, H=4)
    hs = impl.rnn_forward(x, h0, Wx, Wh, b)
    expect(isinstance(hs, np.ndarray) and hs.shape == (2, 8, 4), impl, ref, "rnn_forward",
           f"should return hs of shape (N, T, H) = (2, 8, 4); got {getattr(hs, 'shape', type(hs).__name__)}",
           call=call)
    problem = _first_step_apart(hs, h0, lambda h, t: ref.call("rnn_step", (x[:, t], h, Wx, Wh, b)))
    if problem and dependency_verdict(impl, ref, "rnn_step"):  # their rnn_step is wrong: step with theirs instead
        try:
            theirs = _first_step_apart(hs, h0, lambda h, t: impl.call("rnn_step", (x[:, t], h, Wx, Wh, b), {},
                                                                         remember=False))
        except CallFailed:
            theirs = problem
        if theirs is None:  # one mistake costs once: rnn_step loses its points, not rnn_forward
            graded_with(impl, "rnn_forward", ["rnn_step"])
            return
    if problem:
        t, problem = problem
        raise failure(impl, ref, "rnn_forward", f"first differs from stepping rnn_step at step t = {t}: "
                      f"hs[:, {t}] {problem.removeprefix('returned an array ')}. Each step must use the "
                      f"previous step's state and the same Wx, Wh, b", call=call)


def _first_step_apart(hs, h0, step):
    """(t, problem) at the first step where hs differs from stepping `step` from h0, or None."""
    h = h0
    for t in range(hs.shape[1]):
        h = step(h, t)
        problem = difference(hs[:, t], h, "rnn_forward")
        if problem:
            return t, problem
    return None


@check("rnn_forward", points=1.0)
def test_rnn_forward_can_tell_a_sequence_from_its_reverse(impl, ref):
    """Unlike an average, the final state depends on the order of the inputs."""
    x, h0, Wx, Wh, b = make_inputs("rnn_forward", 32, N=3, T=6, D=4, H=5)
    forward = impl.rnn_forward(x, h0, Wx, Wh, b)
    backward = impl.rnn_forward(x[:, ::-1].copy(), h0, Wx, Wh, b)
    ok = all(isinstance(v, np.ndarray) and v.shape == (3, 6, 5) and np.all(np.isfinite(v)) for v in (forward, backward))
    expect(ok and not np.allclose(forward[:, -1], backward[:, -1]), impl, ref, "rnn_forward",
           "gave the same final state for a sequence and its reverse; the state should depend on order "
           "(is the state carried from step to step?)", call=recipe("rnn_forward", 32, N=3, T=6, D=4, H=5))


def _influence_decays(impl, ref, gain, seed):
    D, H, N, T = 3, 8, 8, 40
    Wx, Wh, b = ref.call("contractive_rnn_params", (D, H, gain, seed))
    x = np.random.default_rng(seed).standard_normal((N, T, D))
    h0 = np.zeros((N, H))
    call = (f"from exercises.memory import contractive_rnn_params\nWx, Wh, b = contractive_rnn_params({D}, {H}, "
            f"gain={gain}, seed={seed})\nx = np.random.default_rng({seed}).standard_normal(({N}, {T}, {D}))\n"
            f"rnn_forward(x, np.zeros(({N}, {H})), Wx, Wh, b)")
    out = impl.rnn_forward(x, h0, Wx, Wh, b)
    if not (isinstance(out, np.ndarray) and out.shape == (N, T, H) and np.all(np.isfinite(out))):
        raise failure(impl, ref, "rnn_forward", f"returned {getattr(out, 'shape', type(out).__name__)} "
                      f"where finite hs of shape {(N, T, H)} is due", call=call)
    forward = Bound("student", "rnn_forward", h0=h0, Wx=Wx, Wh=Wh, b=b)  # every call runs the submission's
    influence = ref.tool(impl, "first_input_influence")(forward, x)
    if np.count_nonzero(np.asarray(influence[:25]) > 1e-8) >= 2:  # geometric_rate's floor
        rate = ref.tool(impl, "geometric_rate")(influence[:25])
    else:
        rate = 0.0  # gone below the noise floor at once: decays, at least as fast as required
    expect(influence[0] > 1e-6, impl, ref, "rnn_forward", "h_0 does not depend on x[:, 0] at all", call=call)
    expect(rate <= gain + 0.05, impl, ref, "rnn_forward",
           f"lets the first input's influence shrink by x{rate:.3f} per step; with Wh's largest singular value "
           f"= {gain} it must shrink at least that fast (influence per step: "
           f"{np.array2string(influence[:6], precision=3)} ...)", call=call)


@check("rnn_forward", points=1.0)
def test_rnn_forward_forgets_the_first_input_geometrically(impl, ref):
    """With contractive weights the first input's influence shrinks by a constant factor per step (Part 3)."""
    _influence_decays(impl, ref, 0.5, 41)


### BEGIN HIDDEN TESTS
@check("rnn_forward", points=0.5, hidden=True)
def test_rnn_forward_forgets_the_first_input_geometrically_hidden(impl, ref):
    """As above, for other gains and seeds."""
    for gain, seed in ((0.3, 4101), (0.8, 4102)):
        _influence_decays(impl, ref, gain, seed)
### END HIDDEN TESTS
