"""Class grading throughput: how long `rnn-grade class` takes per submission.

    python benchmarks/class_throughput.py                  # 200 students, -j = cores
    python benchmarks/class_throughput.py -n 50 -j 1 -j 2   # a scaling table

The class is a realistic mix built from the sample-class recipes: mostly correct or partly
done, some with typical mistakes, some that crash, a cheater, and exactly one that loops
forever. Every run is a full regrade, sandbox on. The table shows wall time per
submission (median and p95 of each student's own grading time, and total wall over N),
the total, and the peak memory of the grader's processes.
"""
import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import sample_class  # noqa: E402
from autograder.classroom import grade_class  # noqa: E402
from autograder.sandbox import protections  # noqa: E402

#: how often each sample student appears in a generated class (the looping one: exactly once)
MIX = {"ada": 8, "noa": 2, "ben": 3, "hugo": 1, "mia": 1, "cara": 1, "dev": 1, "eve": 1, "finn": 1, "gia": 1,
       "leo": 1, "ivy": 1, "kim": 1}


def make_class(n, folder):
    """Write n submissions into `folder` (module folders, a few notebooks and zips); return the names."""
    samples = {s.name: s for s in sample_class.SAMPLES}
    pool = [name for name, weight in MIX.items() for _ in range(weight)]
    names = []
    for i in range(n):
        sample = samples["jon"] if i == n // 2 else samples[pool[i % len(pool)]]
        student = f"s{i:04d}-{sample.name}"
        if sample.zipped:
            (folder / f"{student}.zip").write_bytes(sample_class._zip_bytes(sample.files))
        else:
            for name, text in sample.files:
                path = folder / student / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        names.append(student)
    return names


def run(n, jobs, timeout, keep=None):
    with tempfile.TemporaryDirectory(prefix="rnn-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        make_class(n, tmp / "class")
        started = time.perf_counter()
        result = grade_class(tmp / "class", tmp / "out", jobs=jobs, regrade=True, timeout=timeout, progress=False)
        wall = time.perf_counter() - started
        if keep:
            shutil.copytree(tmp / "out", keep, dirs_exist_ok=True)
    per = sorted(g.seconds for g in result.graded.values())
    p95 = per[min(len(per) - 1, int(0.95 * len(per)))]
    return {"n": n, "jobs": jobs, "wall": wall, "per_submission": wall / n, "median": statistics.median(per),
            "p95": p95, "max": per[-1]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, action="append", help="class size (repeatable; default 200)")
    parser.add_argument("-j", type=int, action="append", help="parallel graders (repeatable; default: cores)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default %(default)s)")
    args = parser.parse_args(argv)
    sizes, jobs = args.n or [200], args.j or [os.cpu_count() or 1]
    print(f"machine: {os.cpu_count()} cores; sandbox: {protections()['level']}; per-call timeout {args.timeout:g} s")
    print(f"{'N':>5} {'-j':>3} {'wall s':>8} {'s/sub (wall/N)':>15} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for n in sizes:
        for j in jobs:
            r = run(n, j, args.timeout)
            print(f"{r['n']:>5} {r['jobs']:>3} {r['wall']:>8.2f} {r['per_submission']:>15.3f} {r['median']:>9.3f} "
                  f"{r['p95']:>7.3f} {r['max']:>7.2f}", flush=True)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(f"peak memory of one grader process: {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
