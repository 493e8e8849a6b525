"""The catalogue of checks: what each one tests, for which function, for how many points.

A check is a plain function ``test_...(impl, ref)`` registered with `check`. pytest
collects it as a test (the plugin turns its metadata into the markers ``exercise``,
``points`` and ``visibility``). The class grader calls the same function directly, with
no pytest in the loop. Nothing else decides a score.

Groups: "core" checks run everywhere; "training" (Part 5: the student's cells trained with
their own backward passes) can be left out of class grading for speed (--skip-training).
"""
import importlib
from dataclasses import dataclass
from typing import Callable

from . import kit


@dataclass(frozen=True)
class Check:
    name: str           # the test function's name, a sentence: test_rnn_step_matches_the_reference...
    module: str         # exercise module
    function: str       # exercise function it grades
    points: float
    visibility: str     # "public" (self-check and feedback) or "hidden" (graded, shown after publishing)
    group: str
    func: Callable
    counts_with: str = ""  # a check that must pass for this one's points to count (a shape, purity or
    #                        property check pays only next to right values: zeros everywhere earn nothing)

    @property
    def title(self):
        return self.name.removeprefix("test_").replace("_", " ")

    @property
    def doc(self):
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else self.title


_REGISTRY = {}


def check(function, *, points, hidden=False, group="core", name=None, counts_with=""):
    """Register a check of `function` worth `points`; hidden checks use other seeds and sizes.

    Every check runs in a student handout too: it asks its reference only about inputs it
    built, and applies trusted functions to the submission's results through ref.tool (see
    autograder/reference). counts_with names the check whose pass this one's points wait
    for (runner.apply_gates).
    """
    if function not in kit.module_of():
        raise ValueError(f"unknown exercise function {function!r}")

    def register(func):
        if name:
            func.__name__ = func.__qualname__ = name
        entry = Check(func.__name__, kit.module_of()[function], function, float(points),
                      "hidden" if hidden else "public", group, func, counts_with)
        if entry.name in _REGISTRY and _REGISTRY[entry.name].func is not func:
            raise ValueError(f"two checks are named {entry.name}")
        _REGISTRY[entry.name] = entry
        func.rnn_check = entry
        return func

    return register


def all_checks():
    """Every check, in teaching order (module, then function order, then registration)."""
    for module in kit.MODULES:
        importlib.import_module(f"autograder.checks.{module}")
    order = {fn: i for i, fn in enumerate(kit.module_of())}
    checks = sorted(_REGISTRY.values(), key=lambda c: (kit.MODULES.index(c.module), order[c.function]))
    return checks


def by_name():
    """{check name: Check} for the whole catalogue."""
    return {c.name: c for c in all_checks()}


def total_points(checks=None):
    return round(sum(c.points for c in (checks if checks is not None else all_checks())), 6)
