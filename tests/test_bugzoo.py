"""The bug zoo: the grader catches each realistic student mistake, names it, and keeps partial credit.

Every entry of tests/bugzoo_cases.py is the reference solution with one bug. It is written
into its own folder under tmp_path, loaded with `load_submission` like a real hand-in and
graded once (one worker per entry) on the checks of its own module, and the first two
entries of each module on those of one other module too. The tests then read that one grading:

* the intended checks fail, and the known mistake is named where mistakes.py has it; where
  the student's code raises (no output to match), the likely cause from EXCEPTION_HINTS
  is in the message instead;
* every check of a function the bug does not touch still passes, in the edited module and
  in the other one, so partial credit works;
* a choice worth a note but no points (``notes``) passes with every point and says so;

tests/bugzoo/alternative/ holds a correct solution written quite differently from the
reference; it must get full marks, hidden checks included.

All gradings share one reference, whose answers are the same for every entry.
"""
import shutil
from pathlib import Path

import pytest

from autograder import kit
from autograder.catalogue import all_checks, total_points
from autograder.sandbox.client import WorkerImpl, load_submission
from autograder.markers import find_regions
from autograder.mistakes import HINTS, MISTAKES
from autograder.reference import LiveReference
from autograder.runner import run_checks

from autograder.feedback import EXCEPTION_HINTS
from bugzoo_cases import BUGS, Bug, hint

#: the hints that came before the zoo could check what an error says (issue 13); every later one needs an entry
OLDER_EXCEPTION_HINTS = ("matmul", "could not be broadcast", "too many indices", "cannot unpack", "is not defined")

ALTERNATIVE = Path(__file__).resolve().parent / "bugzoo" / "alternative"


# ---------------------------------------------------------------------------------------
# Building and grading zoo entries

def apply_bug(bug: Bug) -> str:
    """solutions/<module>.py with the bug's one edit; fails loudly if the edit no longer fits."""
    source = (kit.SOLUTIONS / f"{bug.module}.py").read_text()
    count = source.count(bug.old)
    assert count == 1, (f"zoo entry {bug.name}: its old text occurs {count} times in solutions/{bug.module}.py "
                        f"(it must occur exactly once; did the reference change?):\n{bug.old}")
    start = source.index(bug.old)
    first_line = source.count("\n", 0, start)
    last_line = first_line + bug.old.rstrip("\n").count("\n")
    regions = find_regions(source, f"solutions/{bug.module}.py")
    assert any(r.begin < first_line and last_line < r.end for r in regions), (
        f"zoo entry {bug.name}: its edit (lines {first_line + 1}-{last_line + 1}) is not inside a solution region")
    return source.replace(bug.old, bug.new)


def write_submission(folder: Path, bug: Bug) -> Path:
    """A complete hand-in: every exercise module copied from solutions/, one of them with the bug."""
    folder.mkdir(parents=True)
    for module in kit.MODULES:
        shutil.copyfile(kit.SOLUTIONS / f"{module}.py", folder / f"{module}.py")
    (folder / f"{bug.module}.py").write_text(apply_bug(bug))
    return folder


def checks_for(*modules):
    return [c for c in all_checks() if c.module in modules]


def grade_folder(folder, checks, ref):
    with WorkerImpl(load_submission(str(folder))) as impl:
        return {r.name: r for r in run_checks(impl, checks, ref=ref)}


def isolates(bug):
    """Whether `bug` is graded with its isolation module too: the first two entries of each module are (a bug
    stays in its file because no module imports the edited one; two entries per module show it, at a fraction
    of the time of all of them)."""
    return bug in [b for b in BUGS if b.module == bug.module][:2]


class Zoo:
    """Grades each zoo entry once, when a test first asks for it: {check name: Result}."""

    def __init__(self, root):
        self.root, self.ref, self.graded = root, LiveReference(), {}

    def __getitem__(self, bug):
        if bug.name not in self.graded:
            folder = write_submission(self.root / bug.name, bug)
            checks = checks_for(bug.module, *((bug.isolation_module,) if isolates(bug) else ()))
            named = (*bug.fails, *bug.errors, *bug.passes, *bug.diagnosis, *bug.notes)
            if not any(c.group == "training" and c.name in named for c in checks):
                # the training group (seconds per check) runs only for entries that say what it must do; a
                # correct cell's training is held by test_catalogue (the reference scores 100) and test_trainer
                checks = [c for c in checks if c.group != "training"]
            self.graded[bug.name] = grade_folder(folder, checks, self.ref)
        return self.graded[bug.name]


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    return Zoo(tmp_path_factory.mktemp("bugzoo"))


def show(result):
    return f"{result.name}: {result.status} (mistake {result.mistake!r})\n{result.message}"


def _ids(bug):
    return bug.name


# ---------------------------------------------------------------------------------------
# The zoo itself is sound

def test_the_zoo_has_at_least_25_bugs_covering_every_module():
    assert len(BUGS) >= 25
    assert len({bug.name for bug in BUGS}) == len(BUGS), "two zoo entries share a name"
    assert {bug.module for bug in BUGS} == set(kit.MODULES)


def test_every_catalogued_mistake_has_a_zoo_entry_meant_to_trigger_it():
    catalogued = {m.key for mistakes in MISTAKES.values() for m in mistakes}
    meant = {key for bug in BUGS for key in bug.diagnosis.values()}
    assert sorted(catalogued - meant) == []


@pytest.mark.parametrize("bug", BUGS, ids=_ids)
def test_each_bug_is_one_edit_inside_a_solution_region_and_names_real_checks(bug):
    apply_bug(bug)
    known = {c.name: c for c in all_checks()}
    assert bug.isolation_module in kit.MODULES and bug.isolation_module != bug.module
    named = (*bug.fails, *bug.errors, *bug.diagnosis, *bug.passes, *bug.says, *bug.notes)
    for name in named:
        assert name in known, f"{bug.name}: no check is named {name}"
        assert known[name].module == bug.module, f"{bug.name}: {name} is not a check of {bug.module}.py"
    assert bug.fails or bug.errors or bug.notes, f"{bug.name}: no check is expected to fail or to give a note"
    assert not set(bug.notes) & (set(bug.fails) | set(bug.errors)), f"{bug.name}: a check with a note must pass"
    assert set(bug.diagnosis) <= set(bug.fails), f"{bug.name}: a diagnosed check must also be listed in fails"
    assert set(bug.says) <= set(bug.fails) | set(bug.errors), f"{bug.name}: a check that says why must fail"
    assert not set(bug.passes) & (set(bug.fails) | set(bug.errors))
    for function in bug.unaffected:
        assert function in kit.functions_by_module()[bug.module], f"{bug.name}: {function} is not in {bug.module}.py"
        assert all(known[n].function != function for n in (*bug.fails, *bug.errors)), (
            f"{bug.name}: {function} is declared unaffected but one of its checks is expected to fail")
    catalogued = set(HINTS)  # the variants of autograder/mistakes.py, and the diagnoses read from an answer
    for key in bug.diagnosis.values():
        assert key in catalogued, f"{bug.name}: {key} is not a mistake in autograder/mistakes.py"


# ---------------------------------------------------------------------------------------
# Each bug is caught, named, and kept where it is

@pytest.mark.parametrize("bug", BUGS, ids=_ids)
def test_the_bug_fails_its_intended_checks(bug, zoo):
    results = zoo[bug]
    wrong = ["expected status 'failed'; got " + show(results[name])
             for name in bug.fails if results[name].status != "failed"]
    wrong += ["expected status 'error'; got " + show(results[name])
              for name in bug.errors if results[name].status != "error"]
    assert not wrong, f"{bug.name} ({bug.story}):\n\n" + "\n\n".join(wrong)


@pytest.mark.parametrize("bug", [bug for bug in BUGS if bug.diagnosis], ids=_ids)
def test_the_failure_names_the_intended_mistake(bug, zoo):
    results = zoo[bug]
    wrong = [f"expected mistake {key!r}; got " + show(results[name])
             for name, key in bug.diagnosis.items() if results[name].mistake != key]
    assert not wrong, f"{bug.name} ({bug.story}):\n\n" + "\n\n".join(wrong)


@pytest.mark.parametrize("bug", [bug for bug in BUGS if bug.says], ids=_ids)
def test_the_failure_says_the_intended_cause(bug, zoo):
    results = zoo[bug]
    wrong = [f"expected the message to say {text!r}; got " + show(results[name])
             for name, text in bug.says.items() if text not in results[name].message]
    assert not wrong, f"{bug.name} ({bug.story}):\n\n" + "\n\n".join(wrong)


@pytest.mark.parametrize("bug", [bug for bug in BUGS if bug.notes], ids=_ids)
def test_a_noted_choice_keeps_every_point_and_says_so(bug, zoo):
    results = zoo[bug]
    wrong = [f"expected a pass with every point and the note {text!r}; got " + show(results[name])
             for name, text in bug.notes.items()
             if not (results[name].passed and results[name].score == results[name].points
                     and text in results[name].message and "Note (no points lost)" in results[name].message)]
    assert not wrong, f"{bug.name} ({bug.story}):\n\n" + "\n\n".join(wrong)


def test_every_exception_hint_added_with_the_zoo_has_an_entry_that_raises_it():
    said = {text for bug in BUGS for text in bug.says.values()}
    unproven = [needle for needle, _ in EXCEPTION_HINTS
                if needle not in OLDER_EXCEPTION_HINTS and hint(needle) not in said]
    assert unproven == []


@pytest.mark.parametrize("bug", BUGS, ids=_ids)
def test_untouched_functions_and_the_other_module_keep_full_credit(bug, zoo):
    results = zoo[bug]
    assert {r.module for r in results.values()} == {bug.module, *((bug.isolation_module,) if isolates(bug) else ())}
    must_pass = [r for r in results.values()
                 if r.function in bug.unaffected or r.module == bug.isolation_module or r.name in bug.passes]
    wrong = [show(r) for r in must_pass if r.status != "passed"]
    assert not wrong, f"{bug.name} ({bug.story}) broke checks it should not touch:\n\n" + "\n\n".join(wrong)
    other = [r for r in results.values() if r.module == bug.isolation_module]
    assert sum(r.score for r in other) == pytest.approx(sum(r.points for r in other))
    if any(r.function in bug.unaffected for r in results.values() if r.module == bug.module):
        # the untouched functions of the bug's own module keep their points (shape and purity points
        # of the broken ones count only next to right values)
        assert sum(r.score for r in results.values()) > sum(r.score for r in other), "no partial credit was kept"


# ---------------------------------------------------------------------------------------
# A correct solution written differently gets everything

def _code_lines(text):
    skip = ("import ", "from ", "return ", "def ", '"""', "#", "__all__", ")", "]")
    return {s for s in (line.strip() for line in text.splitlines()) if len(s) > 12 and not s.startswith(skip)}


def test_the_alternative_solution_is_not_a_copy_of_the_reference():
    for module in kit.MODULES:
        mine = _code_lines((ALTERNATIVE / f"{module}.py").read_text())
        shared = mine & _code_lines((kit.SOLUTIONS / f"{module}.py").read_text())
        assert len(shared) <= 0.1 * len(mine), f"alternative/{module}.py shares these lines with the reference: {shared}"


def test_a_correct_but_differently_written_solution_gets_full_marks_with_hidden_checks():
    results = grade_folder(ALTERNATIVE, all_checks(), LiveReference())
    wrong = [show(r) for r in results.values() if r.status != "passed"]
    assert not wrong, "the alternative solution lost points:\n\n" + "\n\n".join(wrong)
    assert len(results) == len(all_checks())
    assert round(sum(r.score for r in results.values()), 6) == total_points() == 100.0
