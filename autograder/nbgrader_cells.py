"""What an nbgrader test cell runs: the catalogue's checks for one function, in the kernel.

A generated test cell reads::

    from autograder.nbgrader_cells import CellGrader
    grader = CellGrader("rnn_step", globals())
    grader.run("public")
    ### BEGIN HIDDEN TESTS
    grader.run("hidden")
    ### END HIDDEN TESTS
    grader.score()

The notebook's functions run in the kit's sandboxed worker (their source is read back from
the kernel), so a crash or an infinite loop in an answer costs only the checks that call
it, not the kernel and the rest of the notebook.

It prints the student-facing message of every failed check (never a bare assert), and its
value, the last line, is the partial credit nbgrader records: the cell's points times the
fraction of points earned among the checks that ran. Released notebooks run the public
checks only, so a correct answer gets full credit there too. At autograde time the hidden
checks run as well, and the value equals the points earned. Nothing goes to stderr:
nbgrader scores any stderr output as zero.
"""
import contextlib
import importlib.util
import os
import warnings
from pathlib import Path

from . import kit
from .catalogue import all_checks
from .sandbox.client import LocalImpl, SubmissionError, WorkerImpl, load_submission, namespace_submission


class ChecksFailed(Exception):
    """Raised by a test cell whose function earned no points; the message says what to fix."""


@contextlib.contextmanager
def implementation(namespace, module):
    """The notebook's functions running in a sandboxed worker (so a crash or a hang costs only
    the checks that call them, never the kernel); in this process if their source is unavailable."""
    submission = namespace_submission(namespace, module)
    if submission is None:
        yield LocalImpl(namespace)
        return
    _tools_from_files(submission)
    with WorkerImpl(submission) as impl:
        impl.on_stdout = _show_printed
        yield impl


#: characters of the student's own printing shown per call (a print in a loop must not flood the notebook)
PRINTED_PER_CALL = 4000


def _show_printed(source, text):
    """What the notebook's functions printed in the worker, shown under the cell as their own output."""
    from .sandbox.submission import clean_text

    text = clean_text(text, PRINTED_PER_CALL)
    for line in text.rstrip("\n").split("\n"):
        print(f"[{source}] {line}")


def _parts_folder():
    """The folder of the student's .py parts: $RNN_KIT_IMPL's package (default exercises), found without importing it."""
    package = os.environ.get("RNN_KIT_IMPL", "exercises")
    if package == "exercises":
        return kit.EXERCISES
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _tools_from_files(submission):
    """In a handout, a check's tools are the student's own functions (see autograder/reference). A notebook
    holds one part; the tools of other parts (the memory checks run the student's lstm_forward) come from
    the student's .py files, as the notebooks' demos do. Each file taken is a note."""
    from .reference import TOOLS, StoredReference, default_reference

    if not isinstance(default_reference(), StoredReference):
        return
    folder = _parts_folder()
    wanted = {kit.module_of()[f] for f in TOOLS if submission.module_of(f) not in submission.modules}
    for module in sorted(wanted):
        path = folder / f"{module}.py" if folder else None
        if path is None or not path.is_file():
            continue
        try:
            submission.modules[module] = load_submission(str(path)).modules[module]
        except SubmissionError:
            continue
        submission.notes.append(f"checks that run your {module} functions on your results use {path}")


class CellGrader:
    def __init__(self, function, namespace):
        self.function, self.namespace = function, namespace
        self.checks = [c for c in all_checks() if c.function == function]
        self.points = sum(c.points for c in self.checks)
        self.earned = self.possible = 0.0
        self.first_problem = ""

    def run(self, visibility):
        from .reference import default_reference
        from .runner import run_checks

        checks = [c for c in self.checks if c.visibility == visibility]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a warning on stderr would zero the cell
            with implementation(self.namespace, self.checks[0].module) as impl:
                results = run_checks(impl, checks, ref=default_reference())
        for r in results:
            if not r.passed and not self.first_problem and visibility == "public":
                self.first_problem = r.message.splitlines()[0] if r.message else r.status
            self.possible += r.points
            self.earned += r.score
            label = r.name.removeprefix("test_").replace("_", " ") + (" (hidden)" if visibility == "hidden" else "")
            print(f"{'ok  ' if r.passed else 'FAIL'} {label}")
            if not r.passed and visibility == "hidden":  # never a hidden check's inputs or values
                if r.mistake:
                    print(f"       the kit recognised the mistake {r.mistake!r}")
            elif not r.passed:
                print("\n".join("       " + line for line in r.message.splitlines()[:14]))
        return results

    def score(self):
        """The cell's partial credit: its points times the fraction earned in the checks that ran.

        A cell that earned nothing raises instead (it scores 0 either way), so that
        `nbgrader validate` shows the kit's message rather than "partial credit".
        """
        fraction = self.earned / self.possible if self.possible else 0.0
        print(f"{self.function}: {self.earned:g} of {self.possible:g} points in the checks run here")
        if self.possible and not self.earned:
            raise ChecksFailed(f"{self.function} earned none of its points.\n{self.first_problem}")
        return round(self.points * fraction, 6)
