"""The check catalogue: 100 points, full marks for the reference, none for the skeleton."""
import collections

from autograder import kit
from autograder.catalogue import all_checks, total_points
from autograder.sandbox.client import WorkerImpl, load_submission
from autograder.runner import run_checks


def test_the_points_add_up_to_100():
    assert total_points() == 100.0


def test_every_function_has_public_and_hidden_checks_and_every_check_explains_itself():
    checks = all_checks()
    by_function = collections.defaultdict(set)
    for c in checks:
        by_function[c.function].add(c.visibility)
        assert c.func.__doc__, c.name
        assert c.points > 0
    for function in kit.module_of():
        assert by_function[function] == {"public", "hidden"}, function


def test_the_reference_scores_100_every_time(reference_impl):
    first = run_checks(reference_impl)
    second = run_checks(reference_impl)
    failed = [(r.name, r.message) for r in first if not r.passed]
    assert failed == []
    assert sum(r.score for r in first) == 100.0
    assert [(r.name, r.status, r.score) for r in first] == [(r.name, r.status, r.score) for r in second]


def test_the_fresh_skeleton_scores_0_and_every_check_says_not_implemented_yet():
    with WorkerImpl(load_submission("exercises")) as impl:
        results = run_checks(impl)
    assert sum(r.score for r in results) == 0
    assert {r.status for r in results} == {"not implemented"}
    assert all(r.message.startswith("not implemented yet: ") for r in results)
