"""What a notebook calls: its self-check, and the .py parts an earlier notebook built.

Everything here prints to stdout only: nbgrader scores any stderr output as a failure.
"""
import importlib
import os
import types

from . import kit


def self_check(module, namespace):
    """Run the public checks of `module` against the functions defined in `namespace`."""
    from .catalogue import all_checks
    from .runner import format_summary, run_checks, summary

    from .nbgrader_cells import implementation

    checks = [c for c in all_checks() if c.module == module and c.visibility == "public"]
    hidden = sum(c.points for c in all_checks() if c.module == module and c.visibility == "hidden")
    with implementation(namespace, module) as impl:
        results = run_checks(impl, checks)
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        print(f"{mark} {r.name.removeprefix('test_').replace('_', ' ')}")
        if not r.passed:
            print("\n".join("       " + line for line in r.message.splitlines()[:12]))
    print()
    print(format_summary(summary(results, held_back=hidden), title=f"{module} self-check"))
    return summary(results, held_back=hidden)


def load_parts(package=None):
    """The rnn, lstm and gru modules of `package` (default: $RNN_KIT_IMPL or "exercises")."""
    package = package or os.environ.get("RNN_KIT_IMPL", "exercises")
    return types.SimpleNamespace(**{m: importlib.import_module(f"{package}.{m}") for m in kit.MODULES})
