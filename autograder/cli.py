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


def parser():
    p = argparse.ArgumentParser(prog="rnn-grade", description="Build, self-check and grade the RNN memory kit.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate exercises/ and its notebooks from solutions/")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything generated is stale")
    b.set_defaults(run=_build)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)
