"""A Gradescope autograder: `rnn-grade gradescope autograder.zip`.

The zip follows Gradescope's autograder specification: ``setup.sh`` and ``run_autograder``
at its root, next to the kit's code (its checks, hidden ones included, and the
reference). At grading time Gradescope unpacks it into /autograder/source, puts the
student's files in /autograder/submission, runs run_autograder, and reads
/autograder/results/results.json.

`run_autograder` always leaves a valid results.json behind. The grader itself catches
everything a submission can do. If the grader is killed anyway (the time budget,
three quarters of the assignment's timeout, `rnn-grade gradescope --timeout`), or cannot
even start, the shell script writes a zero-score file that says so.
AUTOGRADER_ROOT replaces /autograder, which lets the tests run it on a fake tree.
"""
import io
import json
import os
import stat
import sys
import traceback
import zipfile
from pathlib import Path

from . import kit
from .files import write_atomic

#: what setup.sh installs into the image, every package pinned (numpy, nbformat, jinja2 and all they need), so a
#: rebuilt image cannot drift. One set for both of Gradescope's base images that the kit supports, tested on
#: their Pythons (IMAGE_PYTHONS) by tests/test_gradescope.py from the wheels .ci/run downloads for them
IMAGE_PINS = ("numpy==2.2.6", "nbformat==5.10.4", "jinja2==3.1.6", "attrs==26.1.0", "fastjsonschema==2.22.3",
              "jsonschema==4.26.0", "jsonschema-specifications==2025.9.1", "jupyter-core==5.9.1",
              "markupsafe==3.0.4", "packaging==26.4", "platformdirs==4.12.4", "referencing==0.37.0",
              "rpds-py==0.30.0", "traitlets==5.16.1", "typing-extensions==4.16.0")
#: Python of Gradescope's Ubuntu 22.04 and 24.04 base images; 20.04's 3.8 is refused by setup.sh, with the reason
IMAGE_PYTHONS = ("3.10", "3.12")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when the autograder image is built (base image: Ubuntu 22.04 or 24.04).
set -euo pipefail
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip python3-venv bubblewrap
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: this image's Python is $(python3 -V 2>&1); the kit needs 3.10 or newer." >&2
  echo "setup.sh: choose the Ubuntu 22.04 or 24.04 base image in the assignment's autograder settings." >&2
  exit 1
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q --only-binary=:all: __PINS__
/autograder/venv/bin/pip install -q --no-deps -e /autograder/source
""".replace("__PINS__", " ".join(IMAGE_PINS))

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It always leaves results/results.json behind.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
give_up() {  # a zero-score results.json that says why (the text has no quotes or backslashes)
  cat > "$ROOT/results/results.json" <<JSON
{"score": 0.0, "output": "$1 Nothing you did is lost: please resubmit or contact the course staff.", "tests": []}
JSON
}
if ! cd "$ROOT/source"; then
  give_up "The autograder could not start: its own files are missing from this image."
  exit 0
fi
# the autograder timeout set for this assignment on Gradescope (rnn-grade gradescope --timeout): grading is
# stopped after three quarters of it, so that there is always time left to write results.json
ASSIGNMENT_TIMEOUT="${ASSIGNMENT_TIMEOUT:-__TIMEOUT__}"
BUDGET="${AUTOGRADER_BUDGET:-$(( ASSIGNMENT_TIMEOUT * 3 / 4 ))}"
[ "$BUDGET" -ge 1 ] 2>/dev/null || BUDGET=1  # timeout 0 would mean no limit at all
timeout --signal=KILL "$BUDGET" "$PYTHON" -m autograder gradescope-run --root "$ROOT"
if [ ! -s "$ROOT/results/results.json" ]; then
  give_up "The autograder stopped before it could finish grading (it ran out of time or was killed)."
fi
exit 0
"""

#: Gradescope's own default autograder timeout, in seconds (the zip assumes it unless told --timeout)
DEFAULT_TIMEOUT = 600


#: the weakest sandbox level run_autograder grades at (RNN_KIT_REQUIRE_SANDBOX overrides it; "none" grades
#: at any level, for an image where neither bubblewrap nor Landlock can work)
REQUIRED_SANDBOX = "landlock"

#: what goes into the zip besides setup.sh and run_autograder
CONTENTS = ("autograder", "solutions", "exercises", "pyproject.toml", "README.md")


def write_zip(out, *, timeout=DEFAULT_TIMEOUT):
    """Write the autograder zip to `out`; return the number of files in it.

    timeout: the autograder timeout set for the assignment on Gradescope, in seconds; grading
    stops after three quarters of it (run_autograder), leaving time to write results.json.
    """
    if not 60 <= timeout <= 24 * 3600:
        raise ValueError(f"--timeout must be Gradescope's autograder timeout in seconds (60 or more); got {timeout}")
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        run_autograder = RUN_AUTOGRADER.replace("__TIMEOUT__", str(int(timeout)))
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", run_autograder)):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            archive.writestr(info, text)
            count += 1
        for entry in CONTENTS:
            path = kit.ROOT / entry
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                if "__pycache__" in file.parts or file.suffix == ".pyc" or file.name == "kitdata.json":
                    continue
                archive.write(file, file.relative_to(kit.ROOT).as_posix())
                count += 1
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(buffer.getvalue())
    return count


def _submission_path(folder):
    """What to grade in /autograder/submission: the folder, or the one zip or notebook it holds."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if any(p.suffix == ".py" and p.stem in kit.MODULES for p in entries):
        return folder
    zips = [p for p in entries if p.suffix.lower() == ".zip"]
    if len(zips) == 1 and not any(p.suffix == ".ipynb" for p in entries):
        return zips[0]
    return folder


def run(root):
    """Grade ROOT/submission into ROOT/results/results.json, whatever happens."""
    from .grading import grade, gradescope_results
    from .runner import spare_cores

    from .sandbox import SandboxTooWeak, require

    root = Path(root)
    results = root / "results" / "results.json"
    level = os.environ.get("RNN_KIT_REQUIRE_SANDBOX", REQUIRED_SANDBOX)
    try:
        if level != "none":
            require(level)
    except SandboxTooWeak as exc:  # never grade unconfined: say so to the student, in full to the staff
        print(f"rnn-grade gradescope-run: {exc}", file=sys.stderr)
        write_atomic(results, json.dumps({
            "score": 0.0, "tests": [], "extra_data": {"sandbox_refused": str(exc)},
            "output": "Not graded yet (this is not your score): the autograder could not run submissions "
                      "safely on this machine, so it graded nothing. The course staff can see why in the "
                      "autograder's log; please let them know."}, indent=1) + "\n")
        return 1
    try:
        timeout = float(os.environ.get("RNN_KIT_TIMEOUT", "10"))
        graded = grade(_submission_path(root / "submission"), student="submission", timeout=timeout,
                       ahead=spare_cores())
        data = gradescope_results(graded)
    except BaseException as exc:  # the grader itself failed: still tell the student something true
        data = {"score": 0.0, "output": "The autograder failed while grading this submission "
                f"({type(exc).__name__}: {exc}). Please contact the course staff.", "tests": [],
                "extra_data": {"traceback": traceback.format_exc()[-4000:]}}
        write_atomic(results, json.dumps(data, indent=1) + "\n")
        if not isinstance(exc, Exception):
            raise
        return 1
    write_atomic(results, json.dumps(data, indent=1) + "\n")
    print(data["output"], file=sys.stdout)
    return 0
