"""The student handout, tried the way a student gets it: a clean venv, installed from wheels, bare `pytest`.

The venv has no system packages, so nothing of this checkout (solutions/, the editable kit)
is importable there: the handout must stand on its own files and its recorded answers.
"""
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder import kit
from autograder.build import generated_files
from autograder.catalogue import all_checks
from autograder.markers import solution_snippets
from autograder.release import (
    NEVER_SHIPPED,
    ReleaseError,
    bundle_files,
    scan_for_solutions,
    strip_hidden,
    write_release,
)

WHEELHOUSE = kit.ROOT / ".wheelhouse"
PUBLIC = [c for c in all_checks() if c.visibility == "public"]
HIDDEN_POINTS = sum(c.points for c in all_checks() if c.visibility == "hidden")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A handout released while exercises/ holds an edited, stale rnn.py: the release must not care."""
    edited = tmp_path_factory.mktemp("edited") / "exercises"
    shutil.copytree(kit.EXERCISES, edited, ignore=shutil.ignore_patterns("__pycache__"))
    (edited / "rnn.py").write_text((edited / "rnn.py").read_text() + "\nPLANTED_BY_AN_EDIT = 1\n")
    out = tmp_path_factory.mktemp("bundle") / "rnn-exercises"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kit, "EXERCISES", edited)
        patch.setattr(kit, "NOTEBOOKS", edited / "notebooks")
        write_release(out)
    return out


def bundle_text(bundle):
    return {p: p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file() and p.suffix != ".npz"}


def test_the_bundle_holds_no_solution_code_no_hidden_check_and_no_mistake_catalogue(bundle):
    texts = bundle_text(bundle)
    everything = "\n".join(texts.values())
    for module in kit.MODULES:
        for snippet in solution_snippets(kit.SOLUTIONS / f"{module}.py"):
            assert snippet not in everything
    checks = "\n".join(t for p, t in texts.items() if p.parent.name == "checks")
    assert checks and "HIDDEN TESTS" not in checks and "hidden=True" not in checks
    assert "HIDDEN_CASES" not in everything and "6101" not in everything  # a hidden seed
    assert not (bundle / "solutions").exists()
    for name in (*NEVER_SHIPPED, "classroom.py", "grading.py", "cli.py", "gradescope.py"):
        assert not (bundle / "autograder" / name).exists(), name
    assert not re.search(r"^\s*(from|import) solutions", checks, re.MULTILINE)


def test_the_bundle_ships_the_skeletons_generated_from_solutions_not_what_exercises_holds(bundle):
    expected = {p.relative_to(kit.EXERCISES).as_posix(): t for p, t in generated_files().items()
                if kit.EXERCISES in p.parents}
    assert expected and "PLANTED_BY_AN_EDIT" not in (bundle / "exercises" / "rnn.py").read_text()
    for relative, text in expected.items():
        assert (bundle / "exercises" / relative).read_text() == text, relative


def test_the_bundle_is_the_import_closure_of_the_self_check():
    files = bundle_files()
    for needed in ("plugin.py", "sandbox/submission.py", "sandbox/client.py", "reference/stored.py", "sandbox/confine.py", "checks/bptt.py"):
        assert needed in files
    assert not set(NEVER_SHIPPED) & set(files)


def test_a_solution_under_another_name_with_renamed_variables_is_refused(tmp_path):
    (tmp_path / "helpers.py").write_text(textwrap.dedent('''
        import numpy as np

        def sequences_for_training(count, delay, seed):
            generator = np.random.default_rng(seed)
            labels = generator.integers(0, 2, size=count)
            data = np.zeros((count, delay + 2, 3))
            data[:, 0, 0], data[:, 0, 1] = 2.0 * labels - 1.0, 1.0
            data[:, 1:delay + 1, 0] = generator.choice([-1.0, 1.0], size=(count, delay))
            data[:, delay + 1, 2] = 1.0
            return data, labels.astype(np.int64)
    '''))
    with pytest.raises(ReleaseError, match=r"sequences_for_training holds \d+ statements of the reference "
                                           r"make_recall_task"):
        scan_for_solutions(tmp_path)
    (tmp_path / "helpers.py").write_text("import numpy as np\n\ndef f(seed):\n    rng = np.random.default_rng(seed)\n"
                                         "    return rng.standard_normal((3, 4))\n")
    scan_for_solutions(tmp_path)  # a check's own random inputs are not a solution


def test_strip_hidden_refuses_malformed_markers():
    with pytest.raises(ReleaseError, match="never closed"):
        strip_hidden("### BEGIN HIDDEN TESTS\nx = 1\n", "f.py")
    with pytest.raises(ReleaseError, match="without a BEGIN"):
        strip_hidden("### END HIDDEN TESTS\n", "f.py")
    assert strip_hidden("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc\n", "f.py") == "a\nc\n"


def test_release_refuses_to_overwrite_a_folder_without_force(bundle):
    with pytest.raises(ReleaseError, match="not empty"):
        write_release(bundle)


def _clean_venv(where):
    """A venv without system packages: only what is installed into it is importable there."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    return where / "bin" / "python"


def _summary_numbers(stdout):
    match = re.search(r"implementation = exercises; (\d+) public checks; ([\d.]+) points held back", stdout)
    assert match, stdout[-2000:]
    return int(match.group(1)), float(match.group(2))


@pytest.mark.skipif(not WHEELHOUSE.is_dir(), reason="no .wheelhouse/: .ci/run downloads it (pip download -d .wheelhouse ...)")
def test_in_a_clean_venv_the_skeleton_fails_every_public_check_and_the_reference_passes_them_all(bundle, tmp_path):
    handout = tmp_path / "handout"
    shutil.copytree(bundle, handout)
    python = _clean_venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
                    "--find-links", str(WHEELHOUSE), "-e", str(handout)], check=True, capture_output=True,
                   timeout=600, cwd=tmp_path)
    isolated = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('solutions'))"],
                              capture_output=True, text=True, cwd=handout, check=True)
    assert isolated.stdout.strip() == "None"  # nothing of this checkout leaks into the student's venv

    def run(*options):
        return subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", *options], cwd=handout,
                              capture_output=True, text=True, timeout=300)

    skeleton = run()
    assert skeleton.returncode == 1, skeleton.stdout[-2000:]
    assert _summary_numbers(skeleton.stdout) == (len(PUBLIC), HIDDEN_POINTS)
    assert f"{len(PUBLIC)} failed" in skeleton.stdout
    failures = re.findall(r"^_+ (test_\w+) _+\n(.*)$", skeleton.stdout, re.MULTILINE)
    assert len(failures) == len(PUBLIC)
    assert all(line.startswith("not implemented yet: ") for _, line in failures), \
        [f for f in failures if not f[1].startswith("not implemented yet")][:3]
    assert "problem in the kit" not in skeleton.stdout and "Traceback" not in skeleton.stdout
    one = run("--function", "lstm_step")  # holds back only lstm_step's hidden points
    assert _summary_numbers(one.stdout) == (sum(c.function == "lstm_step" for c in PUBLIC), sum(
        c.points for c in all_checks() if c.function == "lstm_step" and c.visibility == "hidden"))
    for module in kit.MODULES:
        shutil.copy(kit.SOLUTIONS / f"{module}.py", handout / "exercises" / f"{module}.py")
    reference = run()
    assert reference.returncode == 0, reference.stdout[-3000:]
    assert f"{len(PUBLIC)} passed" in reference.stdout and "failed" not in reference.stdout
    assert "Every check run here passed." in reference.stdout
    assert f"{HIDDEN_POINTS:.2f} more points are not checked here" in reference.stdout  # as format_summary writes it


def test_the_recorded_answers_are_the_reference_s(bundle):
    from autograder.reference import TOOLS, LiveReference, StoredReference, trust_inputs

    stored, live = StoredReference.load(bundle / "autograder" / "fixtures.npz"), LiveReference()
    assert len(stored.numeric) == 6  # one finite-difference case per backward function
    for function in ("rnn_step", "lstm_backward", *TOOLS):
        want, got = live.call(function, trust_inputs(function)), stored.call(function, trust_inputs(function))
        for a, b in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
            assert np.array_equal(a, b), function


def test_a_handout_notebook_judges_its_results_with_the_student_s_other_parts(bundle, tmp_path):
    """The memory notebook's latch checks run the student's lstm_forward: from their .py files, said in a note."""
    handout = tmp_path / "handout"
    shutil.copytree(bundle, handout)
    for module in ("rnn", "lstm", "gru"):
        shutil.copy(kit.SOLUTIONS / f"{module}.py", handout / "exercises" / f"{module}.py")
    cells = (kit.SOLUTIONS / "memory.py").read_text().replace("from ._validate", "from exercises._validate")
    (tmp_path / "memory_cells.py").write_text(cells)  # what the notebook's cells define (getsource needs a file)
    script = (f"import sys; sys.path[:0] = [{str(handout)!r}, {str(tmp_path)!r}]\n"
              "import memory_cells\nfrom autograder.notebook import self_check\n"
              "self_check('memory', vars(memory_cells))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=handout, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Every check run here passed." in run.stdout, run.stdout[-3000:]
    assert f"use {handout / 'exercises' / 'lstm.py'}" in run.stdout
