"""Checks for Part 4b: the GRU."""
import numpy as np

from ..catalogue import check
from ..feedback import difference, failure
from ..inputs import make_inputs, recipe
from ._common import HIDDEN_ROWS, PUBLIC_ROWS, standard_checks
from .lstm import _gate_ranges, recall_check

standard_checks(globals(), "gru_gates", saturate=True)
standard_checks(globals(), "gru_step", saturate=True)
standard_checks(globals(), "gru_forward")


@check("gru_gates", points=0.5)
def test_gru_gates_lie_in_their_ranges(impl, ref):
    """r and z are in [0, 1] (sigmoids) and n is in [-1, 1] (tanh), even for huge inputs."""
    _gate_ranges(impl, ref, "gru_gates", ("r", "z", "n"), ("n",), 71)


@check("gru_step", points=1.0, counts_with="test_gru_gates_lie_in_their_ranges")
def test_gru_step_agrees_with_your_gru_gates(impl, ref):
    """gru_step is built from gru_gates: h_t = (1 - z) * n + z * h_prev."""
    args = make_inputs("gru_step", 72)
    x_t, h_prev = args[:2]
    call = recipe("gru_step", 72)
    gates = impl.gru_gates(*args)
    step = impl.gru_step(*args)
    if not (isinstance(gates, (tuple, list)) and len(gates) == 3 and all(isinstance(g, np.ndarray) for g in gates)):
        raise failure(impl, ref, "gru_step", "cannot be compared with your gru_gates, which does not return "
                      "(r, z, n) yet: fix gru_gates first", call=call)
    r, z, n = (np.asarray(v, dtype=np.float64) for v in gates)
    problem = difference(step, (1 - z) * n + z * h_prev, "gru_step")
    if problem:
        raise failure(impl, ref, "gru_step", f"disagrees with your own gru_gates: from them h_t = (1 - z) * n + "
                      f"z * h_prev, but gru_step {problem}", call=call, args=args, got=step)


@check("gru_forward", points=1.5)
def test_gru_forward_recalls_a_bit_after_1000_distractors(impl, ref):
    """Given latch weights, your GRU keeps a bit through 1,000 steps of noise (Part 4)."""
    recall_check(impl, ref, "gru_forward", PUBLIC_ROWS)


### BEGIN HIDDEN TESTS
@check("gru_forward", points=1.0, hidden=True)
def test_gru_forward_recalls_a_bit_after_1000_distractors_hidden(impl, ref):
    """As above, on another draw of the task."""
    recall_check(impl, ref, "gru_forward", HIDDEN_ROWS)
### END HIDDEN TESTS
