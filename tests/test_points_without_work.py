"""Points need work: answers of the right shapes but no real values earn (almost) nothing.

Every exercise function is replaced by one that returns zeros (or 0) shaped exactly like
the reference's answer, so every shape check would pass. Shape, purity and property checks
pay only next to right values (`Check.counts_with`, runner.apply_gates).
"""
import importlib

import numpy as np
import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.sandbox.client import LocalImpl
from autograder.reference import LiveReference
from autograder.runner import run_checks


def zeros_like(value):
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, (tuple, list)):
        return type(value)(zeros_like(v) for v in value)
    if isinstance(value, (float, np.floating)):
        return 0.0
    if isinstance(value, (int, np.integer)):
        return 0
    return value


def shaped_like_the_reference(make):
    """{function: a stand-in returning make(reference answer)} for every exercise function."""
    namespace = {}
    for function, module in kit.module_of().items():
        real = getattr(importlib.import_module(f"solutions.{module}"), function)
        namespace[function] = (lambda real: lambda *args, **kwargs: make(real(*args, **kwargs)))(real)
    return namespace


@pytest.fixture(scope="module")
def zero_results():
    checks = [c for c in all_checks() if c.group != "training"]  # zero gradients teach nothing: 0 there anyway
    return run_checks(LocalImpl(shaped_like_the_reference(zeros_like)), checks, ref=LiveReference())


def test_zeros_everywhere_earn_at_most_5_of_100(zero_results):
    earned = sum(r.score for r in zero_results)
    assert earned <= 5.0, sorted(((r.score, r.name) for r in zero_results if r.score), reverse=True)[:10]


def test_their_shape_checks_pass_yet_pay_nothing_and_say_why(zero_results):
    shapes = [r for r in zero_results if r.name.endswith("_returns_the_right_types_and_shapes")]
    assert len(shapes) > 20 and all(r.passed for r in shapes)
    assert all(r.score == 0 and "count only once" in r.message for r in shapes), shapes[0]


def test_the_reference_itself_keeps_every_point():
    checks = [c for c in all_checks() if c.group != "training" and c.counts_with]
    results = run_checks(LocalImpl(shaped_like_the_reference(lambda v: v)), checks + [
        c for c in all_checks() if c.name in {g.counts_with for g in checks}], ref=LiveReference())
    assert all(r.score == r.points for r in results), [r.name for r in results if r.score != r.points]
