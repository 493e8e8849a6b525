"""How long a student waits for the self-check: `pytest exercises` and `rnn-grade check`.

    python benchmarks/selfcheck_latency.py [--repeat 3]

Each command runs `--repeat` times as a fresh process (interpreter start, imports, fork
server and sandbox start included) and the table shows the median wall time. The rows:

* in this checkout, on a full correct implementation (--impl solutions) and on the fresh
  skeleton; with the training checks side by side (the default on more than one core,
  checks/bptt.train_ahead), in order (--rnn-in-order), and left out (-k 'not trains');
* in a student handout (`rnn-grade release`) whose exercises/ hold a correct implementation:
  what a student runs, `pytest` in the handout, against its recorded answers.

Python writes its bytecode cache as it does on a student's laptop (PYTHONDONTWRITEBYTECODE is
removed from the commands' environment), after one warm-up run of each command.
Target: under 3 s for all public checks.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
COMMANDS = {
    "pytest exercises (correct; training side by side)": [*PYTEST, "exercises", "--impl", "solutions"],
    "pytest exercises --rnn-in-order (correct)": [*PYTEST, "exercises", "--impl", "solutions", "--rnn-in-order"],
    "pytest exercises -k 'not trains' (correct)": [*PYTEST, "exercises", "--impl", "solutions", "-k", "not trains"],
    "pytest exercises (fresh skeleton)": [*PYTEST, "exercises"],
    "rnn-grade check --impl solutions": [sys.executable, "-m", "autograder", "check", "--impl", "solutions"],
    "rnn-grade check (fresh skeleton)": [sys.executable, "-m", "autograder", "check"],
}
HANDOUT = {
    "handout: pytest (correct; side by side)": [*PYTEST],
    "handout: pytest --rnn-in-order (correct)": [*PYTEST, "--rnn-in-order"],
}


def handout(folder):
    """A student handout in `folder` whose exercises/ hold the reference solutions (a correct student)."""
    subprocess.run([sys.executable, "-m", "autograder", "release", str(folder)], cwd=ROOT, check=True,
                   capture_output=True)
    for module in (ROOT / "solutions").glob("*.py"):
        if (folder / "exercises" / module.name).exists():
            shutil.copy(module, folder / "exercises" / module.name)
    return folder


def timed(argv, cwd, repeat, env):
    subprocess.run(argv, cwd=cwd, capture_output=True, env=env)  # warm: the bytecode cache, the disk cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return times, done.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print(f"machine: {os.cpu_count()} cores; median of {args.repeat} runs")
    print(f"{'command':<52}{'median s':>9}  runs (exit status)")
    with tempfile.TemporaryDirectory(prefix="rnn-bench-handout-") as tmp:
        where = handout(Path(tmp) / "handout")
        for rows, cwd in ((COMMANDS, ROOT), (HANDOUT, where)):
            for label, command in rows.items():
                times, status = timed(command, cwd, args.repeat, env)
                print(f"{label:<52}{statistics.median(times):>9.2f}  {' '.join(f'{t:.2f}' for t in times)} ({status})",
                      flush=True)


if __name__ == "__main__":
    main()
