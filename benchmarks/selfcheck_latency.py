"""How long a student waits for the self-check: `pytest exercises` and `rnn-grade check`.

    python benchmarks/selfcheck_latency.py

Each command runs 3 times as a fresh process (interpreter start, imports, fork server and
sandbox start included), on a full correct implementation (--impl solutions) and on the
fresh skeleton; the table shows the median wall time. Target: under 3 s for all public checks
(since Part 5, the three training checks alone take about 2 s of it; -k 'not trains' leaves them out).
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "pytest exercises (correct implementation)": [sys.executable, "-m", "pytest", "exercises", "-q", "-p",
                                                  "no:cacheprovider", "--impl", "solutions"],
    "pytest exercises -k 'not trains' (correct, no training)": [
        sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider", "--impl", "solutions", "-k",
        "not trains"],
    "pytest exercises (fresh skeleton)": [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"],
    "rnn-grade check --impl solutions": [sys.executable, "-m", "autograder", "check", "--impl", "solutions"],
    "rnn-grade check (fresh skeleton)": [sys.executable, "-m", "autograder", "check"],
}


def main():
    print(f"{'command':<46}{'median s':>9}{'runs':>12}")
    for label, argv in COMMANDS.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - started)
        print(f"{label:<46}{statistics.median(times):>9.2f}{' '.join(f'{t:.2f}' for t in times):>20}")


if __name__ == "__main__":
    main()
