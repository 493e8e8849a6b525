"""`rnn-grade`: a thin command line over the autograder's functions."""
import argparse
import sys


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
    from .impl import SubmissionError, WorkerImpl, load_submission
    from .runner import format_summary, run_checks, select, summary, write_json

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
        results = run_checks(impl, checks)
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


def parser():
    p = argparse.ArgumentParser(prog="rnn-grade", description="Build, self-check and grade the RNN memory kit.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate exercises/ and its notebooks from solutions/")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything generated is stale")
    b.set_defaults(run=_build)

    from .impl import DEFAULT_TIMEOUT

    c = sub.add_parser("check", help="self-check: run the public checks and print a score table")
    c.add_argument("--impl", default="exercises", help="exercises (default), solutions, a folder or a notebook")
    c.add_argument("-k", default=None, metavar="KEYWORD", help="only checks whose name contains KEYWORD, or one module")
    c.add_argument("--hidden", action="store_true", help="also run hidden checks")
    c.add_argument("--json", default=None, metavar="PATH", help="write the summary as JSON (- for stdout only)")
    c.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per call (default %(default)s)")
    c.set_defaults(run=_check)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)
