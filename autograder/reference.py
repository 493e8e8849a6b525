"""The reference a check compares against: always solutions/, run in this (trusted) process.

Checks ask it for two things, both on inputs the check built itself (never on a
student's output), so that every answer can also be served from stored fixtures:

* ``ref.call(function, args)``: the reference's output;
* ``ref.variants(function, args)``: [(Mistake, output)] for the known mistakes.
"""
import importlib

from . import kit


def _resolve(value):
    """The kit's probe functions travel as Bound("probe", ...); the reference gets the function itself."""
    from .worker import resolve_bound

    def no_student_code(name):
        raise ValueError(f"the reference cannot call the submission's {name}")
    return resolve_bound(value, no_student_code)


class LiveReference:
    """Computes answers with solutions/ (and mistakes.py) as they are asked for.

    Answers are remembered by the digest of their inputs (up to `memo_size` of them), so a
    class grading run computes each reference answer once, not once per student.
    """

    def __init__(self, memo_size=4096):
        self.memo, self.memo_size = {}, memo_size

    def call(self, function, args, kwargs=None):
        from .impl import digest, freeze

        key = digest(function, args, kwargs)
        if key is not None and key in self.memo:
            return self.memo[key]
        module = importlib.import_module(f"solutions.{kit.module_of()[function]}")
        value = getattr(module, function)(*(_resolve(a) for a in args), **(kwargs or {}))
        if key is not None and len(self.memo) < self.memo_size:
            self.memo[key] = freeze(value)
        return value

    def variants(self, function, args):
        from .mistakes import MISTAKES

        out = []
        for mistake in MISTAKES.get(function, ()):
            try:
                out.append((mistake, mistake.variant(*args)))
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
