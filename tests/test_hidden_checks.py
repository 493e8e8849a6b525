"""Hidden checks stay hidden: no values in what students see, no worker shared with public checks.

The attack that replays reference latch weights is in the adversarial corpus
(tests/adversarial_cases.py, "latch-replay"); these tests pin the mechanisms.
"""
import re

import pytest

from autograder import grading, kit
from autograder.catalogue import all_checks
from autograder.grading import PRODUCERS, grade, grading_phases, gradescope_results
from autograder.runner import Result

SAMPLE = kit.ROOT / "examples" / "class"
#: what a value, an input or a call looks like in a message
#: every check but the training group (the slowest, and no hidden one is in it)
CORE = [c for c in all_checks() if c.group != "training"]
REVEALING = re.compile(r"\d\.\d|expected|got |returned|\[\[|seed|shape \(")


def test_public_checks_run_first_and_the_producers_lead_each_phase():
    checks = all_checks()
    public, hidden = grading_phases(checks)
    assert {c.visibility for c in public} == {"public"} and {c.visibility for c in hidden} == {"hidden"}
    assert sorted(c.name for c in public + hidden) == sorted(c.name for c in checks)
    for phase in (public, hidden):
        leading = [c.function in PRODUCERS for c in phase]
        assert leading == sorted(leading, reverse=True), "a producer's check runs after another function's"
        assert any(leading)


def test_no_worker_serves_both_public_and_hidden_checks(monkeypatch):
    served = []
    real = grading.run_checks

    def spy(impl, checks, **kwargs):
        served.append((id(impl), {c.visibility for c in checks}))
        return real(impl, checks, **kwargs)
    monkeypatch.setattr(grading, "run_checks", spy)
    graded = grade(SAMPLE / "cara", checks=CORE)
    assert [visibility for _, visibility in served] == [{"public"}, {"hidden"}]
    assert served[0][0] != served[1][0]
    assert [r.name for r in graded.results] == [c.name for c in CORE]  # the catalogue's order, still


@pytest.mark.parametrize("student", ["cara", "dev", "eve"])
def test_a_failed_hidden_check_tells_the_student_no_value(student):
    graded = grade(SAMPLE / student, checks=CORE)
    failed_hidden = [r for r in graded.results if r.visibility == "hidden" and not r.passed]
    assert failed_hidden, f"{student} fails no hidden check: pick a sample student who does"
    assert any(REVEALING.search(r.message) for r in failed_hidden)  # the instructor's record has the detail
    shown = {t["extra_data"]["check"]: t["output"] for t in gradescope_results(graded)["tests"]}
    page = grading.feedback_html(graded)
    for r in failed_hidden:
        assert not REVEALING.search(shown[r.name]), shown[r.name]
        assert r.message.splitlines()[0] not in page


def test_a_hidden_result_names_the_mistake_but_no_number():
    r = Result("test_x_hidden", "lstm", "lstm_gates", 0.5, "hidden", "failed", 0.0,
               "expected 0.4515648404 at [0, 1]; got 0.1", "lstm-cs231n-order")
    text = grading._hidden_output(r)
    assert "0.45" not in text and "0.1" not in text and "CS231n" in text
