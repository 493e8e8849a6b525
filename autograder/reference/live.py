"""The live reference: solutions/ answers every question, in this (trusted) process.

See the package docstring for the questions. solutions/ is imported as the package that
sits next to this autograder (kit.SOLUTIONS); another package of that name earlier on
sys.path is refused rather than trusted.
"""
import importlib
import types
from pathlib import Path

import numpy as np

from .. import kit


def _reference_module(module, root):
    """solutions.<module>, checked to come from the folder `root`."""
    found = importlib.import_module(f"solutions.{module}")
    if Path(found.__file__).resolve().parent != Path(root).resolve():
        raise ImportError(f"'solutions' resolves to {Path(found.__file__).parent}, not the kit's {root}; "
                          f"rename or remove the other folder called solutions")
    return found


def _function(name, root=None):
    return getattr(_reference_module(kit.module_of()[name], root or kit.SOLUTIONS), name)


def _resolve(value, root=None):
    """Functions travel as Bound: a kit probe is itself; the submission's `name` is the reference's `name`.

    So a check can send the same arguments to both sides, e.g. gradient_to_first_step
    with Bound("student", "rnn_backward"): each side runs its own rnn_backward.
    """
    from ..sandbox.child import resolve_bound

    return resolve_bound(value, lambda name: _function(name, root))


class LiveReference:
    """Computes answers with solutions/ (and mistakes.py) as they are asked for.

    Answers are remembered by the digest of their inputs (up to `memo_size` of them), so a
    class grading run computes each reference answer once, not once per student.
    """

    def __init__(self, memo_size=4096, *, root=None):
        """root: the solutions/ folder (default kit.SOLUTIONS; a release records from the kit's own)."""
        self.memo, self.memo_size, self.root = {}, memo_size, root

    def call(self, function, args, kwargs=None, *, remember=True):
        """The reference's `function(*args, **kwargs)`; remember=False for one-off inputs (a student's weights)."""
        from ..sandbox.client import digest, freeze

        key = digest(function, args, kwargs) if remember else None
        if key is not None and key in self.memo:
            return self.memo[key]
        value = self.function(function)(*(_resolve(a, self.root) for a in args), **(kwargs or {}))
        if key is not None and len(self.memo) < self.memo_size:
            self.memo[key] = freeze(value)
        return value

    def numerical_gradients(self, forward, args, upstream, *, impl=None, through=()):
        """Centred finite differences of sum(forward(*args) * upstream) for every array in `args`.

        `upstream` is one array, or a tuple matching a tuple-valued forward (lstm_step's
        (h, c)); a forward returning a tuple with one upstream array uses its first value
        (lstm_forward's hs). Returns a tuple with one gradient per array argument, computed
        with the reference numerical_gradient (h = 1e-5). With `through`, the forward is the
        reference's around the submission's own `through` functions (see `around`), or None
        when those cannot run.
        """
        from ..sandbox.client import CallFailed, digest, freeze

        if through:
            try:
                return self._numerical(self.around(impl, forward, through), args, upstream)
            except (CallFailed, ArithmeticError, ValueError, TypeError, IndexError, AttributeError):
                return None
        key = digest("numerical:" + forward, (*args, upstream))
        if key in self.memo:
            return self.memo[key]
        grads = self._numerical(self.function(forward), args, upstream)
        if len(self.memo) < self.memo_size:
            self.memo[key] = freeze(grads)
        return grads

    def _numerical(self, run, args, upstream):
        numerical_gradient = self.function("numerical_gradient")
        ups = upstream if isinstance(upstream, tuple) else (upstream,)

        def loss(position, value):
            changed = list(args)
            changed[position] = value
            out = run(*changed)
            outs = out if isinstance(out, tuple) else (out,)
            return sum(float(np.sum(o * u)) for o, u in zip(outs, ups))

        return tuple(numerical_gradient(lambda v, k=k: np.array(loss(k, v)), a, np.array(1.0))
                     for k, a in enumerate(args) if isinstance(a, np.ndarray))

    def function(self, name):
        """The reference's own `name`, to run directly (the experiment, benchmarks)."""
        return _function(name, self.root)

    def stand_in(self, name, args, kwargs):
        """`name` for a submission whose module of `name` does not load (impl.WorkerImpl._stand_in): only the value
        goes back to the worker, and it is never remembered (the arguments are the submission's)."""
        return self.call(name, tuple(args), kwargs, remember=False)

    def around(self, impl, function, dependencies, heard=None):
        """The reference `function`, with every call it makes to one of `dependencies` going to the submission's own.

        This is follow-through marking: the reference loop around the student's rnn_step,
        the reference step around the student's lstm_gates. Only values cross over: each
        call of a dependency goes to the submission's worker.
        """
        reference = self.function(function)
        names = dict(reference.__globals__)

        def theirs(dep, args, kwargs):
            value = impl.call(dep, args, kwargs, remember=False)
            if heard is not None:  # the warnings their functions raised on the way: (function, warning)
                heard.extend((dep, w) for w in impl.last.warnings)
            return value

        for dep in dependencies:
            names[dep] = lambda *args, _dep=dep, **kwargs: theirs(_dep, args, kwargs)
        rebound = types.FunctionType(reference.__code__, names, reference.__name__, reference.__defaults__,
                                     reference.__closure__)
        rebound.__kwdefaults__ = reference.__kwdefaults__
        return rebound

    def follow_through(self, impl, function, args, dependencies, heard=None):
        """What the reference `function` gives on `args` when `dependencies` are the submission's, or None when the
        submission's dependencies cannot give it one (they raise, or return what the reference cannot use).
        `heard`, a list, collects (dependency, warning) for the warnings the submission's dependencies raised."""
        from ..sandbox.client import CallFailed

        try:
            theirs = set(dependencies)  # a dependency handed in as an argument is theirs too
            return self.around(impl, function, dependencies, heard)(*(self._theirs(impl, a, theirs) for a in args))
        except (CallFailed, ArithmeticError, ValueError, TypeError, IndexError, AttributeError):
            return None

    def _theirs(self, impl, value, names=None):
        """`value` with Bound("student", name) (every name, or those in `names`) as the submission's own function,
        each call going to its worker, and any other Bound as the reference's."""
        from ..sandbox.client import Bound

        if isinstance(value, Bound) and value.kind == "student" and (names is None or value.name in names):
            return lambda *args, **more: impl.call(value.name, args, {**value.kwargs, **more}, remember=False)
        if isinstance(value, (tuple, list)):
            return type(value)(self._theirs(impl, v, names) for v in value)
        return _resolve(value, self.root)

    def tool(self, impl, function):
        """The reference `function`, to apply to what the submission produced.

        In its arguments, Bound("student", name, **kw) becomes the submission's `name` (each
        call goes to its worker) and Bound("kit", name, **kw) the reference's. A value of the
        submission's that the reference cannot use (a wrong shape inside a finite
        difference, say) fails the check with what went wrong, never as the kit's fault.
        """
        from ..feedback import CheckFailure

        def apply(*args):
            try:
                return self.function(function)(*(self._theirs(impl, a) for a in args))
            except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
                raise CheckFailure(f"the reference {function} could not use what your code returned: "
                                   f"{type(exc).__name__}: {exc}") from None
        return apply

    def variants(self, function, args):
        from ..mistakes import MISTAKES

        out = []
        resolved = [_resolve(a, self.root) for a in args]
        for mistake in MISTAKES.get(function, ()):
            try:
                out.append((mistake, mistake.variant(*resolved)))
            except Exception:  # the mistake cannot happen for these inputs (e.g. shapes)
                continue
        return out

