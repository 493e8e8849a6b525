"""What students receive: the exercises and the public checks, without any answer.

    rnn-grade release OUT

writes a folder a student installs with ``pip install -e .``. After that, a bare ``pytest``
in it is the self-check. It holds the generated skeletons and notebooks, the checks with
every hidden check cut out (the code between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``), and the reference answers those public checks need as fixtures,
recorded from the reference at release time by the bundle's own checks. There is no
solutions/, no mistakes catalogue (its variants are near-solutions), no class-grading code,
and no hidden inputs.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import kit
from .files import write_atomic

#: the autograder modules a student's self-check needs (nothing that grades a class or builds)
BUNDLE_MODULES = ("__init__", "kit", "catalogue", "feedback", "impl", "worker", "trainer", "inputs", "runner",
                  "plugin", "notebook", "nbgrader_cells", "files", "reference", "fixtures", "build", "markers",
                  "notebook_text")
HIDDEN_BEGIN = re.compile(r"^\s*#+\s*BEGIN HIDDEN TESTS\s*$")
HIDDEN_END = re.compile(r"^\s*#+\s*END HIDDEN TESTS\s*$")


class ReleaseError(RuntimeError):
    pass


def strip_hidden(text, path):
    """`text` without its hidden-test regions; raise ReleaseError on a malformed marker."""
    out, inside, opened = [], False, 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if HIDDEN_BEGIN.match(line):
            if inside:
                raise ReleaseError(f"{path}:{number}: BEGIN HIDDEN TESTS inside the region opened at line {opened}")
            inside, opened = True, number
        elif HIDDEN_END.match(line):
            if not inside:
                raise ReleaseError(f"{path}:{number}: END HIDDEN TESTS without a BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{path}:{opened}: BEGIN HIDDEN TESTS is never closed")
    return "".join(out)


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rnn-memory-exercises"
version = "{version}"
description = "Exercises: why sequences need memory (feedforward, RNN, LSTM, GRU), with a self-check."
requires-python = ">=3.10"
dependencies = ["numpy>=1.24", "nbformat>=5.7", "pytest>=7.4"]

[project.entry-points.pytest11]
rnn_kit = "autograder.plugin"

[tool.setuptools]
packages = ["exercises", "autograder", "autograder.checks", "autograder.sandbox"]

[tool.setuptools.package-data]
exercises = ["notebooks/*.ipynb"]
autograder = ["fixtures.npz", "kitdata.json"]

[tool.pytest.ini_options]
testpaths = ["exercises"]
addopts = "-p no:hypothesispytest -p no:benchmark -p no:anyio"
"""

README = """# Why sequences need memory: exercises

```bash
pip install -e .     # once
pytest               # your self-check: every public check against exercises/
```

Implement the functions in `exercises/*.py`, or work in `exercises/notebooks/`. Every
function you still have to write raises `NotImplementedError("<what to compute>")`.
`pytest -k lstm` checks one part (or one function: `-k rnn_step`), and
`pytest --impl my_notebook.ipynb` checks a notebook.

A failing check tells you what was called (lines you can paste into Python), what came
back, what was expected and where the largest error is. It names the mistake when it
recognises it, and tells you which function to fix first when one you rely on is wrong.
The run ends with your score per part and the single next thing to fix.

Some points are not checked here. The hidden checks test the same things on other inputs,
and a few checks need the reference implementation itself. Both run when your work is
graded; the summary says how many points they hold.

Conventions: arrays are batch-first (`x_t` is (N, D), `h` is (N, H), `x` is (N, T, D)),
weights multiply on the right (`x @ Wx`), LSTM gates are stacked i, f, g, o and GRU gates
r, z, n (as in PyTorch).
"""

RECORDER = r"""
import importlib.util, sys
bundle, kit_root, out = sys.argv[1:4]
sys.path.insert(0, bundle)
import autograder  # the bundle's own package
sys.path.append(kit_root)  # for solutions/ (the reference) only
spec = importlib.util.spec_from_file_location("autograder.mistakes", kit_root + "/autograder/mistakes.py")
mistakes = importlib.util.module_from_spec(spec)
sys.modules["autograder.mistakes"] = mistakes
spec.loader.exec_module(mistakes)
from autograder.catalogue import all_checks
from autograder.fixtures import FixtureReference, RecordingReference
from autograder.impl import WorkerImpl, load_submission
from autograder.inputs import SIGNATURES, make_inputs
from autograder.reference import LiveReference
from autograder.runner import run_checks
assert autograder.__file__.startswith(bundle), autograder.__file__
checks = [c for c in all_checks() if c.offline]
assert all(c.visibility == "public" for c in checks), "a hidden check reached the bundle"
recorder = RecordingReference(LiveReference())
with WorkerImpl(load_submission(kit_root + "/solutions")) as impl:
    results = run_checks(impl, checks, ref=recorder)
failed = [(r.name, r.message) for r in results if not r.passed]
if failed:
    sys.exit(f"the reference failed bundle checks while recording: {failed[:3]}")
for function in SIGNATURES:  # what "fix X first" advice needs
    recorder.call(function, make_inputs(function, 0))
recorder.save(out)
replay = FixtureReference.load(out)
with WorkerImpl(load_submission(kit_root + "/solutions")) as impl:
    again = run_checks(impl, checks, ref=replay)
failed = [(r.name, r.message) for r in again if not r.passed]
if failed:
    sys.exit(f"the stored fixtures do not reproduce the checks: {failed[:3]}")
print(f"recorded {len(recorder.answers)} answers for {len(checks)} public checks")
"""


def write_release(out, *, force=False):
    """Write the student bundle to `out`; return a short summary line."""
    from . import __version__
    from .catalogue import all_checks
    from .markers import solution_snippets

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty; choose a new folder or pass --force")
        shutil.rmtree(out)
    (out / "autograder" / "checks").mkdir(parents=True)
    shutil.copytree(kit.EXERCISES, out / "exercises", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in BUNDLE_MODULES:
        source = kit.ROOT / "autograder" / f"{name}.py"
        (out / "autograder" / f"{name}.py").write_text(strip_hidden(source.read_text(), source))
    for source in sorted((kit.ROOT / "autograder" / "checks").glob("*.py")):
        (out / "autograder" / "checks" / source.name).write_text(strip_hidden(source.read_text(), source))
    shutil.copytree(kit.ROOT / "autograder" / "sandbox", out / "autograder" / "sandbox",  # the package, whole
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    checks = all_checks()
    held_back = sum(c.points for c in checks if c.visibility == "hidden")
    kitdata = {"dependencies": {k: list(v) for k, v in kit.dependencies().items()}, "hidden_points": held_back,
               "offline": [c.name for c in checks if not c.offline and c.visibility == "public"]}
    write_atomic(out / "autograder" / "kitdata.json", json.dumps(kitdata, indent=1) + "\n")
    write_atomic(out / "pyproject.toml", PYPROJECT.format(version=__version__))
    write_atomic(out / "README.md", README)
    result = subprocess.run([sys.executable, "-c", RECORDER, str(out.resolve()), str(kit.ROOT),
                             str((out / "autograder" / "fixtures.npz").resolve())],
                            capture_output=True, text=True, cwd=out)
    if result.returncode != 0:
        raise ReleaseError(f"recording the fixtures failed:\n{result.stdout}{result.stderr}")
    text = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb", ".md", ".json"))
    for module in kit.MODULES:
        for snippet in solution_snippets(kit.SOLUTIONS / f"{module}.py"):
            if snippet in text or json.dumps(snippet)[1:-1] in text:
                raise ReleaseError(f"solution code from solutions/{module}.py reached the bundle: {snippet[:60]!r}")
    return result.stdout.strip()
