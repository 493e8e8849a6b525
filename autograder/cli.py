"""`rnn-grade`: a thin command line over the autograder's functions."""
import argparse
import os
import sys
from pathlib import Path


def _build(args):
    from .build import build
    from .markers import MarkerError

    try:
        stale = build(check=args.check)
    except MarkerError as exc:
        print(f"build stopped: {exc}", file=sys.stderr)
        return 2
    return 1 if (args.check and stale) else 0


def _check(args):
    import json

    from .catalogue import all_checks
    from .sandbox.client import SubmissionError, WorkerImpl, load_submission
    from .runner import format_summary, run_checks, select, spare_cores, summary, write_json

    try:
        submission = load_submission(args.impl)
    except SubmissionError as exc:
        print(f"rnn-grade check: {exc}", file=sys.stderr)
        return 2
    everything = all_checks()
    checks = select(everything, hidden=args.hidden, keyword=args.k)
    held_back = 0.0 if args.hidden else sum(c.points for c in select(everything, keyword=args.k)) - sum(
        c.points for c in checks)
    with WorkerImpl(submission, timeout=args.timeout) as impl:
        impl.snippet_source = args.impl  # "To reproduce" lines import the student's functions from there
        results = run_checks(impl, checks, ahead=spare_cores())
    data = summary(results, held_back=held_back)
    if args.json == "-":
        print(json.dumps(data, indent=2))
    else:
        for r in results:
            if not r.passed:
                print(f"FAIL {r.name}\n" + "\n".join("     " + line for line in r.message.splitlines()))
        for note in submission.notes:
            print(f"note: {note}")
        print(format_summary(data, title=f"rnn-grade check ({args.impl})"))
        if args.json:
            write_json(data, args.json)
    return 0 if all(r.passed for r in results) else 1


def _sandbox_gate(args, command):
    """None if grading may go on (after printing the warning for a weak sandbox), else the exit status."""
    from .sandbox import SandboxTooWeak, protections, require, warning

    if args.require_sandbox:  # every grading process checks it again (grading.grade): a fork may fall back
        os.environ["RNN_KIT_REQUIRE_SANDBOX"] = args.require_sandbox
    try:
        have = require(args.require_sandbox) if args.require_sandbox else protections()
    except SandboxTooWeak as exc:
        print(f"rnn-grade {command}: {exc}", file=sys.stderr)
        return 2
    paragraph = warning(have)
    if paragraph:
        print(paragraph, file=sys.stderr)
    return None


def _cluster_gate(args):
    """Like _sandbox_gate for --scheduler: student code runs on the Dask workers, and each of them is checked
    (autograder/cluster.py); here only that Dask's distributed can be imported."""
    from .cluster import missing_distributed

    why = missing_distributed()
    if why:
        print(f"rnn-grade class: {why}", file=sys.stderr)
        return 2
    if args.require_sandbox:
        os.environ["RNN_KIT_REQUIRE_SANDBOX"] = args.require_sandbox
    return None


def _grade(args):
    from .grading import grade, table, write_results
    from .runner import spare_cores

    path = Path(args.submission)
    if not path.exists():
        print(f"rnn-grade grade: {path}: no such file or directory", file=sys.stderr)
        return 2
    if args.out and Path(args.out).is_dir():
        print(f"rnn-grade grade: --out {args.out} is a folder; give the path of the results.json to write",
              file=sys.stderr)
        return 2
    refused = _sandbox_gate(args, "grade")
    if refused is not None:
        return refused
    graded = grade(path, timeout=args.timeout, ahead=spare_cores())
    print(table(graded))
    if args.out:
        write_results(graded, args.out)
        print(f"results written to {args.out} (Gradescope format)")
    return 0


def _class(args):
    from .classroom import ClassError, grade_class
    from .interrupt import exit_at_once_on_signals

    exit_at_once_on_signals()  # grade_class handles the first Ctrl-C itself while it runs
    refused = _cluster_gate(args) if args.scheduler else _sandbox_gate(args, "class")
    if refused is not None:
        return refused
    try:
        run = grade_class(args.submissions, args.out, jobs=args.jobs, regrade=args.regrade, timeout=args.timeout,
                          skip=("training",) if args.skip_training else (), scheduler=args.scheduler)
    except ClassError as exc:
        print(f"rnn-grade class: {exc}", file=sys.stderr)
        return 2
    _print_run(run)
    if run.interrupted:
        command = [a for a in getattr(args, "argv", sys.argv[1:]) if a != "--regrade"]
        print(_interrupted_paragraph(run, "rnn-grade " + _shell_join(command), args.regrade), file=sys.stderr)
        return _signal_status(run.interrupted)
    return 0


def _export(args):
    from .exporters.lms import ExportError, export

    try:
        done = export(args.results, format=args.format, dest=args.out, roster=args.roster,
                      assignment=args.assignment, match_column=args.match)
    except ExportError as exc:
        print(f"rnn-grade export: {exc}", file=sys.stderr)
        return 2
    for line in done.details():
        print(line, file=sys.stderr)
    print(done.headline())
    return 0


def _shell_join(words):
    import shlex

    return shlex.join(words)


def _signal_status(name):
    """The exit status of a run stopped by signal `name`: 128 + its number (130 for SIGINT, 143 for SIGTERM)."""
    import signal

    return 128 + int(signal.Signals[name])


def _interrupted_paragraph(run, command, regrade=False):
    """What an interrupted class run tells the instructor on stderr: what is done, what is not, how to go on."""
    graded, missing = len(run.graded), run.not_graded
    names = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    kept = f", {len(run.skipped)} of them kept from an earlier run" if run.skipped else ""
    text = (f"\nrnn-grade: interrupted ({run.interrupted}). Graded: {graded} of {graded + len(missing)} "
            f"students{kept}. Not graded: {len(missing)} ({names}). {run.out / 'grades.csv'} and report.html "
            f"are written for the graded ones and list the others as \"not graded (interrupted)\", with an "
            f"empty total (not 0). Every student's own results are in {run.out}/<student>/. To grade the rest, "
            f"run the same command again:\n    {command}\nIt keeps every student already graded (a submission "
            f"unchanged since it was graded is skipped, by its fingerprint) and grades only the others.")
    if regrade:
        text += (" This run had --regrade, left out above: the students not regraded yet then keep their earlier "
                 "results unless their submission changed; add --regrade to grade everyone again from the start.")
    return text


def _print_run(run):
    graded = list(run.graded.values())
    width = max((len(s) for s in [*run.graded, *run.not_graded]), default=7)
    print(f"{'student':<{width}}  {'total':>7}  status")
    for g in graded:
        change = f"   (was {run.changed[g.student][0]:g})" if g.student in run.changed else ""
        kept = "   (unchanged, kept)" if g.student in run.skipped else ""
        print(f"{g.student:<{width}}  {g.score:>7g}  {g.status}{change}{kept}")
    for student in run.not_graded:
        print(f"{student:<{width}}  {'':>7}  not graded (interrupted)")
    graded_now = len(graded) - len(run.skipped)
    missing = f", {len(run.not_graded)} not graded: interrupted" if run.not_graded else ""
    print(f"{len(graded)} students ({graded_now} graded now, {len(run.skipped)} kept{missing}) in {run.seconds:.1f} s")
    print(f"grades:   {run.out / 'grades.csv'}")
    print(f"report:   {run.out / 'report.html'}")
    print(f"feedback: {run.out}/<student>/feedback.html, results.json (Gradescope format)")


def _demo(args):
    from . import kit
    from .classroom import grade_class
    from .interrupt import exit_at_once_on_signals

    exit_at_once_on_signals()  # grade_class handles the first Ctrl-C itself while it runs
    refused = _sandbox_gate(args, "demo")
    if refused is not None:
        return refused
    print(f"Grading the sample class in {kit.ROOT / 'examples' / 'class'} (see its README.md for who did what).")
    run = grade_class(kit.ROOT / "examples" / "class", args.out, jobs=args.jobs, regrade=True, timeout=args.timeout)
    _print_run(run)
    if run.interrupted:
        print(f"\nrnn-grade demo: interrupted ({run.interrupted}). {len(run.graded)} of "
              f"{len(run.graded) + len(run.not_graded)} sample students are graded; {run.out / 'report.html'} and "
              f"grades.csv list the others as \"not graded (interrupted)\". Run rnn-grade demo again to grade the "
              f"sample class from the start.", file=sys.stderr)
        return _signal_status(run.interrupted)
    print(f"Open {Path(args.out).resolve() / 'report.html'} in a browser to see the class report.")
    return 0


def _nbgrader(args):
    from .course import write_course

    paths = write_course(args.out, args.assignment)
    print(f"wrote {len(paths)} source notebooks and nbgrader_config.py under {args.out}")
    print(f"next, from inside {args.out}:  nbgrader generate_assignment {args.assignment}")
    return 0


def _release(args):
    from .release import ReleaseError, write_release

    try:
        summary = write_release(args.out, force=args.force)
    except ReleaseError as exc:
        print(f"rnn-grade release: {exc}", file=sys.stderr)
        return 2
    print(summary)
    print(f"student bundle written to {args.out}: students run `pip install -e .` there, then `pytest`")
    return 0


def _gradescope(args):
    from .gradescope import write_zip

    try:
        count = write_zip(args.out, timeout=args.timeout)
    except ValueError as exc:
        print(f"rnn-grade gradescope: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({count} files): upload it as the Gradescope autograder (Ubuntu base image)")
    return 0


def _experiment(args):
    from .experiment import main

    try:
        gaps = tuple(int(g) for g in args.gaps.split(","))
        cells = tuple(c.strip() for c in args.cells.split(","))
    except ValueError:
        print(f"rnn-grade experiment: --gaps must be whole numbers separated by commas; got {args.gaps!r}",
              file=sys.stderr)
        return 2
    unknown = [c for c in cells if c not in ("rnn", "lstm", "gru")]
    if unknown or any(g < 0 for g in gaps) or args.seeds < 1:
        print("rnn-grade experiment: cells are rnn, lstm, gru; gaps >= 0; --seeds >= 1", file=sys.stderr)
        return 2
    main(gaps, cells, args.seeds, args.out)
    return 0


def _gradescope_run(args):
    from .gradescope import run

    return run(args.root)


def _sandbox_option(p):
    from .sandbox import LEVELS

    p.add_argument("--require-sandbox", default=None, choices=LEVELS[:-1], metavar="LEVEL",
                   help="refuse to grade unless student code is confined at least this well here: "
                        + ", ".join(LEVELS[:-1]) + " (strongest first)")


def parser():
    p = argparse.ArgumentParser(prog="rnn-grade", description="Build, self-check and grade the RNN memory kit.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate exercises/ and its notebooks from solutions/")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything generated is stale")
    b.set_defaults(run=_build)

    from .sandbox.client import DEFAULT_TIMEOUT

    c = sub.add_parser("check", help="self-check: run the public checks and print a score table")
    c.add_argument("--impl", default="exercises", help="exercises (default), solutions, a folder or a notebook")
    c.add_argument("-k", default=None, metavar="KEYWORD", help="only checks whose name contains KEYWORD, or one module")
    c.add_argument("--hidden", action="store_true", help="also run hidden checks")
    c.add_argument("--json", default=None, metavar="PATH", help="write the summary as JSON (- for stdout only)")
    c.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per call (default %(default)s)")
    c.set_defaults(run=_check)

    g = sub.add_parser("grade", help="grade one submission (folder, notebook or zip) and print a table")
    g.add_argument("submission")
    g.add_argument("--out", default=None, help="write Gradescope results.json here")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per call (default %(default)s)")
    _sandbox_option(g)
    g.set_defaults(run=_grade)

    k = sub.add_parser("class", help="grade a folder of submissions: grades.csv, feedback, report.html")
    k.add_argument("submissions", help="a folder with one subfolder, zip or notebook per student")
    k.add_argument("--out", required=True, help="where to write grades.csv, report.html and per-student files")
    k.add_argument("-j", "--jobs", type=int, default=None, help="parallel graders (default: the number of cores)")
    k.add_argument("--regrade", action="store_true", help="grade every student again, even if unchanged")
    k.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per call (default %(default)s)")
    k.add_argument("--skip-training", action="store_true",
                   help="leave out the training checks (about 2.5 s per student); the maximum drops by their points")
    k.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="grade on this Dask scheduler's workers instead of local processes (-j is then ignored); "
                        "needs pip install 'rnn-memory-kit[cluster]'")
    _sandbox_option(k)
    k.set_defaults(run=_class)

    x = sub.add_parser("export", help="write a class's grades for an LMS: Canvas gradebook, Moodle import, or CSV")
    x.add_argument("results", metavar="OUT", help="the folder `rnn-grade class ... --out OUT` wrote")
    x.add_argument("--format", required=True, choices=("canvas", "moodle", "csv"),
                   help="canvas: the gradebook export written back; moodle: identifier and grade; csv: totals "
                        "and each part's points")
    x.add_argument("--roster", default=None, metavar="CSV",
                   help="the LMS's own gradebook export (needed for canvas and moodle)")
    x.add_argument("--assignment", default=None, metavar="NAME", help="the assignment's column (canvas, moodle)")
    x.add_argument("--match", default=None, metavar="COLUMN",
                   help="the roster column that submission names carry (default: ID for Canvas, the full name "
                        "otherwise)")
    x.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    x.set_defaults(run=_export)

    n = sub.add_parser("nbgrader", help="write an nbgrader course directory (config and source notebooks)")
    n.add_argument("out", help="the course directory to write")
    n.add_argument("--assignment", default="rnn_memory", help="assignment name (default %(default)s)")
    n.set_defaults(run=_nbgrader)

    r = sub.add_parser("release", help="write the student bundle: exercises and public checks, no answers")
    r.add_argument("out")
    r.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    r.set_defaults(run=_release)

    z = sub.add_parser("gradescope", help="build a Gradescope autograder zip (setup.sh, run_autograder, the kit)")
    z.add_argument("out", help="the zip to write, e.g. autograder.zip")
    z.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                   help="the autograder timeout you set for the assignment on Gradescope (default 600, Gradescope's "
                        "own); grading stops after three quarters of it, so that results.json is always written")
    z.set_defaults(run=_gradescope)
    zr = sub.add_parser("gradescope-run", help=argparse.SUPPRESS)  # what run_autograder calls
    zr.add_argument("--root", default="/autograder")
    zr.set_defaults(run=_gradescope_run)

    e = sub.add_parser("experiment", help="train each cell on the recall task over gaps and seeds; write the table")
    e.add_argument("--gaps", default="10,30,50,70", help="comma-separated gaps (default %(default)s)")
    e.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated cells (default %(default)s)")
    e.add_argument("--seeds", type=int, default=10, help="seeds 0 .. SEEDS-1 (default %(default)s)")
    e.add_argument("--out", default=None, help="folder for experiment.md, .svg and .json (default: docs/)")
    e.set_defaults(run=_experiment)

    d = sub.add_parser("demo", help="grade the sample class shipped in examples/class/")
    d.add_argument("--out", default="demo-out", help="output folder (default %(default)s)")
    d.add_argument("-j", "--jobs", type=int, default=None)
    d.add_argument("--timeout", type=float, default=3.0, help="seconds per call (default %(default)s)")
    _sandbox_option(d)
    d.set_defaults(run=_demo)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to say how to resume an interrupted run
    return args.run(args)
