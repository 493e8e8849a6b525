"""The student bundle: no answers inside, and a bare `pytest` is the self-check in a fresh venv."""
import re
import shutil
import subprocess
import sys

import pytest

from autograder import kit
from autograder.markers import solution_snippets
from autograder.release import ReleaseError, strip_hidden, write_release


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "rnn-exercises"
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
    assert not (bundle / "solutions").exists() and not (bundle / "autograder" / "mistakes.py").exists()
    assert not re.search(r"^\s*(from|import) solutions", checks, re.M)


def test_strip_hidden_refuses_malformed_markers():
    with pytest.raises(ReleaseError, match="never closed"):
        strip_hidden("### BEGIN HIDDEN TESTS\nx = 1\n", "f.py")
    with pytest.raises(ReleaseError, match="without a BEGIN"):
        strip_hidden("### END HIDDEN TESTS\n", "f.py")
    assert strip_hidden("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc\n", "f.py") == "a\nc\n"


def test_release_refuses_to_overwrite_a_folder_without_force(bundle):
    with pytest.raises(ReleaseError, match="not empty"):
        write_release(bundle)


def test_in_a_fresh_venv_pytest_fails_the_skeleton_and_passes_the_reference(bundle, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(bundle)],
                   check=True, capture_output=True)
    run = lambda: subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider"], cwd=bundle,  # noqa: E731
                                 capture_output=True, text=True, timeout=300)
    skeleton = run()
    assert skeleton.returncode == 1, skeleton.stdout[-2000:]
    assert re.search(r"\b(\d+) failed", skeleton.stdout) and " passed" not in skeleton.stdout.splitlines()[-1]
    assert "not implemented yet: rnn_step" in skeleton.stdout
    assert "Traceback" not in skeleton.stdout
    for module in kit.MODULES:
        shutil.copy(kit.SOLUTIONS / f"{module}.py", bundle / "exercises" / f"{module}.py")
    reference = run()
    assert reference.returncode == 0, reference.stdout[-3000:]
    assert "failed" not in reference.stdout.splitlines()[-1]
    assert "Every check run here passed." in reference.stdout
    assert "more points are not checked here" in reference.stdout
