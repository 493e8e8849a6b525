"""Where the checks' expected answers come from. This package is the one place that decides.

A check asks its reference `ref` four things, all on values the check built itself:

* ``ref.call(function, args)``: the reference's output;
* ``ref.variants(function, args)``: [(Mistake, output)], what each known mistake would give;
* ``ref.numerical_gradients(forward, args, upstream)``: centred finite differences;
* ``ref.tool(impl, function)``: a trusted `function` to apply to what the *submission*
  produced (its latch weights, its forward pass, its trained weights). In its arguments,
  ``Bound("student", name, ...)`` is the submission's own function and
  ``Bound("kit", name, ...)`` is the trusted one.

Two kinds answer them:

* ``LiveReference`` (live.py): solutions/ computes every answer in this trusted process.
  This is the full kit: `rnn-grade class`, nbgrader, Gradescope, `pytest exercises` in a
  checkout of the kit.
* ``StoredReference`` (stored.py): a student handout has no solutions/. The answers to the
  first three questions were recorded at release time, on exactly the inputs the public
  checks build. A tool is the submission's own function, used only after it has given the
  recorded answer on its trust inputs (`trust_inputs`); if it has not, the check says which
  function to fix first.

`default_reference()` picks the kind this installation can give. Everything that runs
checks (the pytest plugin, a notebook's check cell, an nbgrader cell, the class grader)
asks it, and nothing else imports solutions/.
"""
import numpy as np

from .. import kit
from .live import LiveReference
from .stored import MissingFixture, RecordingReference, StoredReference, Unrecordable

__all__ = ["TOOLS", "KitIncomplete", "LiveReference", "MissingFixture", "RecordingReference", "StoredReference",
           "Unrecordable", "default_reference", "trust_inputs"]


class KitIncomplete(RuntimeError):
    """Neither solutions/ nor a handout's recorded answers are here, or grading needs what a handout lacks."""


def trust_inputs(function):
    """The inputs on which a submission's `function` must give the recorded answer before it serves as a tool."""
    from ..sandbox.client import Bound
    from ..inputs import SIGNATURES, make_inputs

    if function in SIGNATURES:
        return make_inputs(function, seed=0)
    if function == "first_input_influence":  # a known linear recurrence, as in its own checks
        rng = np.random.default_rng(0)
        A, M = rng.standard_normal((2, 3)), 0.6 * np.linalg.qr(rng.standard_normal((3, 3)))[0]
        return Bound("probe", "linear", A=A, M=M), rng.standard_normal((3, 6, 2))
    if function == "geometric_rate":
        return (3.0 * 0.7 ** np.arange(12.0),)
    raise KeyError(f"{function} has no trust inputs; add them to reference.trust_inputs")


#: the functions a check may ask for as a tool (each needs trust inputs)
TOOLS = ("rnn_forward", "lstm_forward", "gru_forward", "first_input_influence", "geometric_rate")

_default = {}


def default_reference(*, live=False):
    """The reference this installation has: live with solutions/, else the handout's stored answers.

    One per process, so a class run computes each reference answer once. With live=True
    (class grading: hidden checks need the reference itself) a handout raises KitIncomplete.
    """
    kind = "live" if kit.SOLUTIONS.is_dir() else "stored" if kit.bundled() else None
    if kind is None:
        raise KitIncomplete(f"no reference here: neither {kit.SOLUTIONS} nor a handout's recorded answers exist")
    if live and kind != "live":
        raise KitIncomplete("grading needs the kit's reference solutions (solutions/), which a student "
                            "handout does not include; grade with the full kit")
    if kind not in _default:
        _default[kind] = LiveReference() if kind == "live" else StoredReference.load()
    return _default[kind]
