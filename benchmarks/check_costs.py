"""What each check costs: the student's CPU seconds, round trips to the worker, and the grader's own time.

    python benchmarks/check_costs.py [--repeat 3] [--out docs/check_costs.md]

The reference solutions are graded through a sandboxed worker, the way a class is graded,
check by check in catalogue order (so a check that reuses an answer an earlier check
already asked for is charged only for what it adds). For every check:

* student CPU: CPU seconds the worker spent (the kernel's count, `WorkerImpl.cpu_seconds`),
  which load on the machine barely changes;
* round trips: calls sent to the worker (`WorkerImpl.calls`); a remembered answer costs none;
* grader CPU: CPU seconds of this process (the reference, comparisons, the trainer);
* wall: seconds on the clock, all of it together.

The median of `--repeat` runs is kept (a fresh worker and fresh reference memo each
time, after one warm-up run), and the table is sorted by wall time, with totals per part.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import kit  # noqa: E402
from autograder.catalogue import all_checks  # noqa: E402
from autograder.reference import LiveReference  # noqa: E402
from autograder.runner import run_check  # noqa: E402
from autograder.sandbox import protections  # noqa: E402
from autograder.sandbox.client import WorkerImpl, load_submission  # noqa: E402


def measure_once(checks, submission):
    """{check name: (student cpu, round trips, grader cpu, wall, passed)} for one grading of `submission`."""
    ref = LiveReference()
    out = {}
    with WorkerImpl(submission) as impl:
        impl.reference = ref
        for check in checks:
            cpu, calls = impl.cpu_seconds(), impl.calls
            own, wall = time.process_time(), time.perf_counter()
            result = run_check(check, impl, ref)
            out[check.name] = (impl.cpu_seconds() - cpu, impl.calls - calls, time.process_time() - own,
                               time.perf_counter() - wall, result.passed)
    return out


def measure(repeat):
    checks = all_checks()
    submission = load_submission("solutions")
    measure_once(checks, submission)  # warm: imports, the fork server, numpy's first calls
    runs = [measure_once(checks, submission) for _ in range(repeat)]
    rows = []
    for check in checks:
        seen = [run[check.name] for run in runs]
        assert all(s[4] for s in seen), f"{check.name} failed on the reference"
        rows.append((check, *(statistics.median(s[i] for s in seen) for i in range(4))))
    return rows


def table(rows, *, top=None):
    rows = sorted(rows, key=lambda r: -r[4])
    lines = ["| check | part | points | student CPU s | round trips | grader CPU s | wall s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for check, student, trips, grader, wall in rows[:top]:
        lines.append(f"| `{check.name}` | {check.module} | {check.points:g} | {student:.3f} | {trips:.0f} | "
                     f"{grader:.3f} | {wall:.3f} |")
    return lines


def by_part(rows):
    lines = ["| part | checks | student CPU s | round trips | grader CPU s | wall s |", "|---|---:|---:|---:|---:|---:|"]
    total = [0, 0.0, 0.0, 0.0, 0.0]
    for module in kit.MODULES:
        mine = [r for r in rows if r[0].module == module]
        sums = [len(mine), *(sum(r[i] for r in mine) for i in range(1, 5))]
        total = [a + b for a, b in zip(total, sums)]
        lines.append(f"| {module} | {sums[0]} | {sums[1]:.2f} | {sums[2]:.0f} | {sums[3]:.2f} | {sums[4]:.2f} |")
    lines.append(f"| **all** | {total[0]} | {total[1]:.2f} | {total[2]:.0f} | {total[3]:.2f} | {total[4]:.2f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=25, help="rows of the per-check table (the costliest first)")
    parser.add_argument("--out", help="also write the tables as Markdown to this file")
    args = parser.parse_args(argv)
    rows = measure(args.repeat)
    level = protections()["level"]
    text = [f"Reference solutions, sandbox `{level}`, median of {args.repeat} runs "
            f"(`python benchmarks/check_costs.py --repeat {args.repeat}`).", "", "Per part:", "", *by_part(rows), "",
            f"The {args.top} costliest checks:", "", *table(rows, top=args.top)]
    print("\n".join(text))
    if args.out:
        Path(args.out).write_text("# What each check costs\n\n" + "\n".join(text) + "\n")


if __name__ == "__main__":
    main()
