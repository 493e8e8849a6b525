"""The reference a check compares against: always solutions/, run in this (trusted) process.

Checks ask it for two things, both on inputs the check built itself (never on a
student's output), so that every answer can also be served from stored fixtures:

* ``ref.call(function, args)``: the reference's output;
* ``ref.variants(function, args)``: [(Mistake, output)] for the known mistakes.
"""
import importlib

import numpy as np

from . import kit


def _resolve(value):
    """Functions travel as Bound: a kit probe is itself; the submission's `name` is the reference's `name`.

    So a check can send the same arguments to both sides, e.g. gradient_to_first_step
    with Bound("student", "rnn_backward"): each side runs its own rnn_backward.
    """
    from .sandbox.child import resolve_bound

    def own(name):
        return getattr(importlib.import_module(f"solutions.{kit.module_of()[name]}"), name)
    return resolve_bound(value, own)


class LiveReference:
    """Computes answers with solutions/ (and mistakes.py) as they are asked for.

    Answers are remembered by the digest of their inputs (up to `memo_size` of them), so a
    class grading run computes each reference answer once, not once per student.
    """

    def __init__(self, memo_size=4096):
        self.memo, self.memo_size = {}, memo_size

    def call(self, function, args, kwargs=None, *, remember=True):
        """The reference's `function(*args, **kwargs)`; remember=False for one-off inputs (a student's weights)."""
        from .impl import digest, freeze

        key = digest(function, args, kwargs) if remember else None
        if key is not None and key in self.memo:
            return self.memo[key]
        module = importlib.import_module(f"solutions.{kit.module_of()[function]}")
        value = getattr(module, function)(*(_resolve(a) for a in args), **(kwargs or {}))
        if key is not None and len(self.memo) < self.memo_size:
            self.memo[key] = freeze(value)
        return value

    def numerical_gradients(self, forward, args, upstream):
        """Centred finite differences of sum(forward(*args) * upstream) for every array in `args`.

        `upstream` is one array, or a tuple matching a tuple-valued forward (lstm_step's
        (h, c)); a forward returning a tuple with one upstream array uses its first value
        (lstm_forward's hs). Returns a tuple with one gradient per array argument, computed
        with the reference numerical_gradient (h = 1e-5).
        """
        from .impl import digest, freeze

        key = digest("numerical:" + forward, (*args, upstream))
        if key in self.memo:
            return self.memo[key]
        from solutions.bptt import numerical_gradient

        run = getattr(importlib.import_module(f"solutions.{kit.module_of()[forward]}"), forward)
        ups = upstream if isinstance(upstream, tuple) else (upstream,)

        def loss(position, value):
            changed = list(args)
            changed[position] = value
            out = run(*changed)
            outs = out if isinstance(out, tuple) else (out,)
            return sum(float(np.sum(o * u)) for o, u in zip(outs, ups))

        grads = tuple(numerical_gradient(lambda v, k=k: np.array(loss(k, v)), a, np.array(1.0))
                      for k, a in enumerate(args) if isinstance(a, np.ndarray))
        if len(self.memo) < self.memo_size:
            self.memo[key] = freeze(grads)
        return grads

    def variants(self, function, args):
        from .mistakes import MISTAKES

        out = []
        resolved = [_resolve(a) for a in args]
        for mistake in MISTAKES.get(function, ()):
            try:
                out.append((mistake, mistake.variant(*resolved)))
            except Exception:  # the mistake cannot happen for these inputs (e.g. shapes)
                continue
        return out


_default = None


def default_reference():
    """One reference per process: solutions/ when it is there, else the fixtures a student bundle ships."""
    global _default
    if _default is None:
        try:
            import solutions  # noqa: F401
        except ImportError:
            from .fixtures import FixtureReference

            _default = FixtureReference.load()
        else:
            _default = LiveReference()
    return _default
