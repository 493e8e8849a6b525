"""Where one submission's grading time goes: sandbox start, worker start, data transfer, the checks.

    python benchmarks/overhead.py

"The checks' own computation" (the floor) is every check run against the reference
implementation in this process: no worker, no sandbox, no transfer, the reference answers
already computed (as they are for every student after the first). The full cost is the
same submission graded through a sandboxed worker. The target is full <= 3 x floor.
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import kit  # noqa: E402
from autograder.catalogue import all_checks  # noqa: E402
from autograder.sandbox.client import LocalImpl, WorkerImpl, load_submission  # noqa: E402
from autograder.reference import LiveReference  # noqa: E402
from autograder.runner import run_checks  # noqa: E402
from autograder.sandbox import ForkServer, bwrap_works  # noqa: E402


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    import importlib

    ref = LiveReference()
    checks = all_checks()
    namespace = {}
    for module in kit.MODULES:
        namespace.update(vars(importlib.import_module(f"solutions.{module}")))
    run_checks(LocalImpl(namespace), checks, ref=ref)  # warm the reference answers
    floor = timed(lambda: run_checks(LocalImpl(namespace), checks, ref=ref), 5)

    sandboxed = bwrap_works()
    server_start = timed(lambda: ForkServer(sandbox=sandboxed).close(), 3)
    plain_start = timed(lambda: ForkServer(sandbox=False).close(), 3)
    server = ForkServer(sandbox=sandboxed)
    spawn = timed(lambda: server.start().kill(), 20)
    submission = load_submission("solutions")
    with WorkerImpl(submission, launcher=server) as impl:
        impl.sigmoid([0.0])
        roundtrip = timed(lambda: impl.call("place_pattern", ([1.0, 2.0], 0, 2), {}, fresh=True), 200)

    def grade_once():
        with WorkerImpl(submission, launcher=server) as impl:
            run_checks(impl, checks, ref=ref)
            grade_once.calls = impl.calls
    full = timed(grade_once, 5)
    server.close()
    transfer = roundtrip * grade_once.calls

    print(f"sandbox: {'bubblewrap' if sandboxed else 'process limits only'}")
    print(f"{'part of one submission':<58}{'seconds':>9}")
    print(f"{'fork server start, once per grader process (bubblewrap)':<58}{server_start:>9.4f}")
    print(f"{'  (the same without bubblewrap)':<58}{plain_start:>9.4f}")
    print(f"{'worker start (fork from the warm server), per submission':<58}{spawn:>9.4f}")
    print(f"{f'data transfer: {grade_once.calls} calls x {roundtrip * 1e3:.2f} ms round trip':<58}{transfer:>9.4f}")
    print(f"{'the checks own computation (the floor, in process)':<58}{floor:>9.4f}")
    print(f"{'full cost of grading the submission in the sandbox':<58}{full:>9.4f}")
    print(f"{'full / floor':<58}{full / floor:>9.2f}")


if __name__ == "__main__":
    main()
