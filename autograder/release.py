"""What students receive: the exercises and the public checks, without any answer.

    rnn-grade release OUT

writes a folder a student installs with ``pip install -e .``. After that, a bare ``pytest``
in it is the self-check. It holds:

* the skeletons and notebooks, generated from solutions/ at release time (never copied
  from exercises/, which may be stale or edited);
* the autograder modules the self-check imports, found by following imports from its entry
  points (`ENTRY_POINTS`), each with every hidden check cut out (the code between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``);
* the reference answers the public checks need (autograder/fixtures.npz), recorded at
  release time by the handout's own checks and replayed once to prove them complete.

There is no solutions/, no mistakes catalogue (its variants are near-solutions), no
class-grading code and no hidden input. Before it returns, `write_release` scans every
function in the handout for solution code, verbatim or with its names changed
(markers.functions_holding), and refuses if it finds any.
"""
import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import kit
from .files import write_atomic

#: where a student's self-check enters the autograder: the pytest plugin, the notebook and nbgrader cells, the
#: checks (exercises/test_checks.py imports them) and the sandbox (bound into bubblewrap as one folder)
ENTRY_POINTS = ("__init__.py", "plugin.py", "notebook.py", "nbgrader_cells.py", "worker.py", "checks/*.py",
                "sandbox/*.py")
#: modules that must never reach a handout, even where a live-only or build-only code path imports them
NEVER_SHIPPED = ("mistakes.py", "sample_class.py")
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


def _imports(path, package):
    """Dotted names of the autograder modules `path` (in dotted `package`) imports, anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append(module)
            found.extend(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name for name in found if name == "autograder" or name.startswith("autograder.")]


def _file_of(module):
    """autograder/<...>.py or <...>/__init__.py for a dotted module name, or None (a name, not a module)."""
    path = kit.ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def bundle_files():
    """The autograder files a handout needs, relative to autograder/: the import closure of ENTRY_POINTS."""
    package_root = kit.ROOT / "autograder"
    todo = [p for pattern in ENTRY_POINTS for p in sorted(package_root.glob(pattern))]
    seen = set()
    while todo:
        path = todo.pop()
        relative = path.relative_to(package_root).as_posix()
        if relative in seen or relative in NEVER_SHIPPED:
            continue
        seen.add(relative)
        package = ".".join(("autograder", *path.relative_to(package_root).parent.parts))  # what `.` means there
        for module in _imports(path, package):
            found = _file_of(module)
            if found:
                todo.append(found)
                folder = found.parent  # a submodule needs its package's __init__
                while folder != package_root.parent and (folder / "__init__.py").is_file():
                    todo.append(folder / "__init__.py")
                    folder = folder.parent
    return sorted(seen)


def _packages(files):
    return sorted({"autograder" + "".join(f".{p}" for p in Path(f).parent.parts) for f in files})


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rnn-memory-exercises"
version = "{version}"
description = "Exercises: why sequences need memory (feedforward, RNN, LSTM, GRU), with a self-check."
requires-python = ">=3.10"
dependencies = ["numpy>=1.24", "nbformat>=5.7", "pytest>=7.4"]

[project.optional-dependencies]
notebooks = {notebook_extra}
lab = {lab_extra}

[project.entry-points.pytest11]
rnn_kit = "autograder.plugin"

[tool.setuptools]
packages = {packages}

[tool.setuptools.package-data]
exercises = ["notebooks/*.ipynb"]
autograder = ["fixtures.npz", "kitdata.json"]

[tool.pytest.ini_options]
testpaths = ["exercises"]
addopts = "-p no:hypothesispytest -p no:benchmark -p no:anyio"
"""

#: what the notebooks need beyond the self-check: ``pip install -e '.[notebooks]'`` (``.[lab]`` adds JupyterLab)
NOTEBOOK_EXTRA = ("matplotlib>=3.7", "ipykernel>=6")

README = """# Why sequences need memory: exercises

```bash
pip install -e .     # once
pytest               # your self-check: every public check against exercises/
```

Implement the functions in `exercises/*.py`, or work in `exercises/notebooks/`. Every
function you still have to write raises `NotImplementedError("<what to compute>")`.
`pytest -k lstm` checks one part, `pytest --function rnn_step` exactly one function,
`pytest -s` shows what your functions print, and `pytest --impl my_notebook.ipynb`
checks a notebook.

A failing check tells you what was called (lines you can paste into Python), what came
back, what was expected and where the largest error is. It names the mistake when it
recognises it, and tells you which function to fix first when one you rely on is wrong.
The run ends with your score per part and the single next thing to fix.

Every public check runs here. The hidden checks, which test the same things on other
inputs, run when your work is graded; the summary says how many points they hold. A few
checks judge what your code produced (latch weights, trained weights) by running another
of your functions on it, because the handout holds no reference implementation. They
ask you to fix that function first until it gives the right answers.

Conventions: arrays are batch-first (`x_t` is (N, D), `h` is (N, H), `x` is (N, T, D)),
weights multiply on the right (`x @ Wx`), LSTM gates are stacked i, f, g, o and GRU gates
r, z, n (as in PyTorch).
"""

RECORDER = r"""
import importlib.util, sys
bundle, kit_root, out = sys.argv[1:4]
sys.path.insert(0, bundle)
import autograder  # the handout's own package
sys.path.append(kit_root)  # for solutions/ (the reference) only
spec = importlib.util.spec_from_file_location("autograder.mistakes", kit_root + "/autograder/mistakes.py")
mistakes = importlib.util.module_from_spec(spec)
sys.modules["autograder.mistakes"] = mistakes
spec.loader.exec_module(mistakes)
from autograder.catalogue import all_checks
from autograder.sandbox.client import WorkerImpl, load_submission
from autograder.reference import LiveReference, RecordingReference, StoredReference
from autograder.runner import run_checks
assert autograder.__file__.startswith(bundle), autograder.__file__
checks = all_checks()
assert all(c.visibility == "public" for c in checks), "a hidden check reached the handout"
recorder = RecordingReference(LiveReference(root=kit_root + "/solutions"))
with WorkerImpl(load_submission(kit_root + "/solutions")) as impl:
    results = run_checks(impl, checks, ref=recorder)
failed = [(r.name, r.message) for r in results if not r.passed]
if failed:
    sys.exit(f"the reference failed the handout's checks while recording: {failed[:3]}")
recorder.record_trust_inputs()
recorder.save(out)
replay = StoredReference.load(out)  # the handout's view: recorded answers, the reference's code as its tools
with WorkerImpl(load_submission(kit_root + "/solutions")) as impl:
    again = run_checks(impl, checks, ref=replay)
failed = [(r.name, r.message) for r in again if not r.passed]
if failed:
    sys.exit(f"the recorded answers do not reproduce the checks: {failed[:3]}")
print(f"recorded {len(recorder.answers)} answers and {len(recorder.numeric)} finite differences "
      f"for {len(checks)} public checks")
"""


def scan_for_solutions(out):
    """Refuse a handout in which solution code appears: verbatim lines, or statements with their names changed."""
    from .markers import functions_holding, solution_snippets, solution_statements

    text = "\n".join(p.read_text(errors="replace") for p in out.rglob("*")
                     if p.is_file() and p.suffix in (".py", ".ipynb", ".md", ".json"))
    statements = {}
    for module in kit.MODULES:
        for snippet in solution_snippets(kit.SOLUTIONS / f"{module}.py"):
            if snippet in text or json.dumps(snippet)[1:-1] in text:
                raise ReleaseError(f"solution code from solutions/{module}.py reached the handout: {snippet[:60]!r}")
        for function, (fingerprints, _) in solution_statements(kit.SOLUTIONS / f"{module}.py").items():
            statements[function] = fingerprints
    sources = [(p, p.read_text()) for p in sorted(out.rglob("*.py"))]
    for notebook in sorted(out.rglob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        sources += [(f"{notebook} (cell {k})", "".join(c["source"])) for k, c in enumerate(cells)
                    if c["cell_type"] == "code"]
    for where, source in sources:
        try:
            found = functions_holding(source, statements)
        except SyntaxError:
            continue  # a notebook cell with shell magics: nothing a function could hide in
        for name, line, function, shared in found:
            raise ReleaseError(f"{where}:{line}: {name} holds {shared} statements of the reference {function} "
                               f"(names changed or not): solution code must not reach students")


def exercise_files():
    """{path inside exercises/: text} of the handout's exercises, generated from solutions/."""
    from .build import generated_files

    return {path.relative_to(kit.EXERCISES).as_posix(): text for path, text in generated_files().items()
            if kit.EXERCISES in path.parents}


def handout_readme():
    notebooks = kit.ROOT / "autograder" / "handout" / "NOTEBOOKS.md"
    return README + ("\n" + notebooks.read_text() if notebooks.is_file() else "")


def write_release(out, *, force=False):
    """Write the student bundle to `out`; return a short summary line."""
    from . import __version__
    from .catalogue import all_checks

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty; choose a new folder or pass --force")
        shutil.rmtree(out)
    for path, text in exercise_files().items():  # generated from solutions/ now, whatever exercises/ holds
        write_atomic(out / "exercises" / path, text)
    files = bundle_files()
    for relative in files:
        source = kit.ROOT / "autograder" / relative
        write_atomic(out / "autograder" / relative, strip_hidden(source.read_text(), source))
    hidden = {}  # per function, so that a self-check of some functions holds back only theirs
    for c in all_checks():
        if c.visibility == "hidden":
            hidden[c.function] = hidden.get(c.function, 0.0) + c.points
    kitdata = {"dependencies": {k: list(v) for k, v in kit.dependencies().items()}, "hidden_points": hidden}
    write_atomic(out / "autograder" / "kitdata.json", json.dumps(kitdata, indent=1) + "\n")
    write_atomic(out / "pyproject.toml", PYPROJECT.format(
        version=__version__, packages=json.dumps(["exercises", *_packages(files)]),
        notebook_extra=json.dumps(list(NOTEBOOK_EXTRA)), lab_extra=json.dumps([*NOTEBOOK_EXTRA, "jupyterlab>=4"])))
    write_atomic(out / "README.md", handout_readme())
    result = subprocess.run([sys.executable, "-c", RECORDER, str(out.resolve()), str(kit.ROOT),
                             str((out / "autograder" / "fixtures.npz").resolve())],
                            capture_output=True, text=True, cwd=out)
    if result.returncode != 0:
        raise ReleaseError(f"recording the reference answers failed:\n{result.stdout}{result.stderr}")
    scan_for_solutions(out)
    return result.stdout.strip()
