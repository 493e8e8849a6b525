"""Class grading throughput: how long `rnn-grade class` takes per submission.

    python benchmarks/class_throughput.py                          # 200 students, -j = cores, nbgrader on 20
    python benchmarks/class_throughput.py -n 50 -n 200 -n 1000 -j 1 -j 2 --nbgrader 0   # scaling
    python benchmarks/class_throughput.py --skip-training --nbgrader 0   # without the training checks
    python benchmarks/class_throughput.py -n 20 --nbgrader 0 --notebook-class 200   # a class of notebooks

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

from autograder import kit, sample_class  # noqa: E402
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


def function_sources(path):
    """{function: source} of what a student handed in (module files or notebooks)."""
    import ast

    from autograder.grading import read

    out = {}
    for module, (source, _name) in read(path).modules.items():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            out.update({f: source for f in kit.functions_by_module()[module]})  # hand the broken text in as is
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = ast.get_source_segment(source, node)
    return out


def notebook_class(class_dir, names, release, folder):
    """The same students as nbgrader submissions: the released notebooks with their functions filled in."""
    import json

    for student in names:
        path = class_dir / student if (class_dir / student).exists() else class_dir / f"{student}.zip"
        sources = function_sources(path)
        target = folder / student
        target.mkdir(parents=True)
        for notebook in sorted(release.glob("*.ipynb")):
            nb = json.loads(notebook.read_text())
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                name = meta.get("grade_id", "").split("__")[-1]
                if cell["cell_type"] == "code" and meta.get("solution") and name in sources:
                    cell["source"] = sources[name]
            (target / notebook.name).write_text(json.dumps(nb))


def notebook_course(tmp, n, timeout):
    """A class of n in `tmp`, the kit's nbgrader course, and the same students as notebooks:
    (names, course folder, notebook class folder)."""
    import subprocess

    from autograder.course import write_course

    (tmp / "class").mkdir()
    names = make_class(n, tmp / "class")
    course = tmp / "course"
    write_course(course, "bench")
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text().replace("c.ExecutePreprocessor.timeout = 60",
                                                 f"c.ExecutePreprocessor.timeout = {int(timeout)}"))
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "bench", "--force"], cwd=course,
                   check=True, capture_output=True)
    notebook_class(tmp / "class", names, course / "release" / "bench", tmp / "nbclass")
    return names, course, tmp / "nbclass"


def nbgrader_compare(n, jobs, timeout):
    """Time `rnn-grade class` on the notebook form and `nbgrader autograde` on the same notebooks."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="rnn-bench-nb-") as tmp:
        tmp = Path(tmp)
        names, course, nbclass = notebook_course(tmp, n, timeout)
        started = time.perf_counter()
        grade_class(nbclass, tmp / "out", jobs=jobs, regrade=True, timeout=timeout, progress=False)
        ours = time.perf_counter() - started
        shutil.copytree(nbclass, course / "submitted", dirs_exist_ok=True)
        for student in names:  # nbgrader wants submitted/<student>/<assignment>/
            folder = course / "submitted" / student
            (folder / "bench").mkdir()
            for notebook in folder.glob("*.ipynb"):
                notebook.rename(folder / "bench" / notebook.name)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "bench", "--force", "--create"], cwd=course,
                       capture_output=True)
        theirs = time.perf_counter() - started
    return ours, theirs


def _row(n, jobs, wall, result):
    per = sorted(g.seconds for g in result.graded.values())
    p95 = per[min(len(per) - 1, int(0.95 * len(per)))]
    return {"n": n, "jobs": jobs, "wall": wall, "per_submission": wall / n, "median": statistics.median(per),
            "p95": p95, "max": per[-1]}


def run_notebooks(n, jobs, timeout, skip=()):
    """`rnn-grade class` on n students handed in as the nbgrader release notebooks, filled in."""
    with tempfile.TemporaryDirectory(prefix="rnn-bench-nbclass-") as tmp:
        tmp = Path(tmp)
        _names, _course, nbclass = notebook_course(tmp, n, timeout)
        started = time.perf_counter()
        result = grade_class(nbclass, tmp / "out", jobs=jobs, regrade=True, timeout=timeout, progress=False,
                             skip=skip)
        return _row(n, jobs, time.perf_counter() - started, result)


def run(n, jobs, timeout, keep=None, skip=()):
    with tempfile.TemporaryDirectory(prefix="rnn-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        make_class(n, tmp / "class")
        started = time.perf_counter()
        result = grade_class(tmp / "class", tmp / "out", jobs=jobs, regrade=True, timeout=timeout, progress=False,
                             skip=skip)
        wall = time.perf_counter() - started
        if keep:
            shutil.copytree(tmp / "out", keep, dirs_exist_ok=True)
    return _row(n, jobs, wall, result)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, action="append", help="class size (repeatable; default 200)")
    parser.add_argument("-j", type=int, action="append", help="parallel graders (repeatable; default: cores)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default %(default)s)")
    parser.add_argument("--nbgrader", type=int, default=20, metavar="K",
                        help="also time nbgrader autograde on the first K students as notebooks (0: skip)")
    parser.add_argument("--skip-training", action="store_true", help="leave out the training checks, as "
                        "`rnn-grade class --skip-training` does")
    parser.add_argument("--notebook-class", type=int, default=0, metavar="N",
                        help="also grade N students handed in as the release notebooks (a row of its own)")
    args = parser.parse_args(argv)
    skip = ("training",) if args.skip_training else ()
    sizes, jobs = args.n or [200], args.j or [os.cpu_count() or 1]
    print(f"machine: {os.cpu_count()} cores; sandbox: {protections()['level']}; per-call timeout {args.timeout:g} s; "
          f"training checks {'left out' if skip else 'on'}")
    print(f"{'N':>5} {'-j':>3} {'wall s':>8} {'s/sub (wall/N)':>15} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for n in sizes:
        for j in jobs:
            r = run(n, j, args.timeout, skip=skip)
            print(f"{r['n']:>5} {r['jobs']:>3} {r['wall']:>8.2f} {r['per_submission']:>15.3f} {r['median']:>9.3f} "
                  f"{r['p95']:>7.3f} {r['max']:>7.2f}", flush=True)
    if args.notebook_class:
        r = run_notebooks(args.notebook_class, jobs[0], args.timeout, skip=skip)
        print(f"{r['n']:>5} {r['jobs']:>3} {r['wall']:>8.2f} {r['per_submission']:>15.3f} {r['median']:>9.3f} "
              f"{r['p95']:>7.3f} {r['max']:>7.2f}   (as notebooks)", flush=True)
    if args.nbgrader:
        k = args.nbgrader
        ours, theirs = nbgrader_compare(k, jobs[0], args.timeout)
        print(f"\nthe same {k} students as nbgrader notebooks ({len(kit.MODULES)} per student), per-cell/per-call timeout {args.timeout:g} s:")
        print(f"{'grader':<44}{'total s':>9}{'s/submission':>14}")
        print(f"{'rnn-grade class (notebooks, -j ' + str(jobs[0]) + ', sandbox on)':<44}{ours:>9.2f}{ours / k:>14.3f}")
        print(f"{'nbgrader autograde (one at a time)':<44}{theirs:>9.2f}{theirs / k:>14.3f}")
        print(f"{'nbgrader / rnn-grade':<44}{theirs / ours:>9.1f}x")
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(f"peak memory of one grader process: {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
