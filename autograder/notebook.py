"""What a notebook calls: its self-check, the guard around its demos, and the .py parts.

* ``self_check(module, globals())``: the public checks of one part against the
  functions the notebook defined, as a score table and the next thing to fix;
* ``with demo(): ...``: a demonstration that, on a fresh notebook, says in one line which
  function it is waiting for instead of stopping "Run All";
* ``load_parts()``: the student's .py modules (exercises/), for demos that need other parts.

Everything here prints to stdout only: nbgrader scores any stderr output as a failure.
"""
import importlib
import os
import re
import sys
import types
from pathlib import Path

from . import kit

KIT_DIR = Path(__file__).resolve().parent


def self_check(module, namespace, *, function=None, summary=False):
    """Run the public checks of `module` against the functions defined in `namespace`.

    function: only the checks of this function (a name, "a, b", or a list), as
    ``pytest --function`` selects them.

    Prints one line per check (a function not started is one line for all its checks),
    then the score per part and the next thing to fix. Returns None, so that Jupyter
    echoes nothing after the table; ``summary=True`` returns the summary dict instead
    (the one ``rnn-grade check --json`` writes).
    """
    from .catalogue import all_checks
    from .sandbox.client import WorkerImpl
    from .nbgrader_cells import implementation
    from .reference import default_reference
    from .runner import format_summary, run_checks
    from .runner import summary as summarise

    from .runner import only_functions

    names = [function] if isinstance(function, str) else list(function or ())
    mine = only_functions([c for c in all_checks() if c.module == module], names)
    checks = [c for c in mine if c.visibility == "public"]
    hidden = sum(c.points for c in mine if c.visibility == "hidden")
    with implementation(namespace, module) as impl:
        results = run_checks(impl, checks, ref=default_reference())
        sandboxed = isinstance(impl, WorkerImpl)
        notes = list(impl.submission.notes) if sandboxed else []
    by_function = {}
    for r in results:
        by_function.setdefault(r.function, []).append(r)
    for r in results:
        same = by_function[r.function]
        if all(x.status in ("not implemented", "missing") for x in same):  # not started: one line for them all
            if r is same[0]:
                if r.status == "missing":
                    first = "not defined in this notebook yet (run its cell above)"
                else:
                    first = r.message.splitlines()[0] if r.message else "not implemented yet"
                print(f"todo {r.function} ({len(same)} check{'s' if len(same) != 1 else ''}): {first}")
            continue
        print(f"{'ok  ' if r.passed else 'FAIL'} {r.name.removeprefix('test_').replace('_', ' ')}")
        if not r.passed:
            print("\n".join("       " + line for line in r.message.splitlines()[:12]))
    print()
    data = summarise(results, held_back=hidden)
    print(format_summary(data, title=f"{module} self-check"))
    for note in notes:  # e.g. which .py parts the checks took another part's functions from
        print(f"({note})")
    if sandboxed:
        note = _sandbox_note()
        if note:
            print(note)
    return data if summary else None


def _sandbox_note():
    """One line when this machine runs the student's functions with process limits only."""
    from .sandbox import protections

    level = protections().get("level")
    if level != "process limits only":
        return None
    return ("(Your functions ran in a separate process with process limits only: no bubblewrap or Landlock "
            "sandbox is available here. That is fine for checking your own work.)")


class demo:
    """``with demo():`` around a demonstration cell.

    A function the student has not written yet (its ``raise NotImplementedError``, from a
    cell of the notebook or from an exercises/*.py file) ends the block with one printed
    line that names it, and the notebook goes on, so "Run All" on a fresh notebook reaches
    the end. Any other exception is a bug worth seeing: it is raised as usual, with the
    kit's own frames (the trainer, for instance) left out of its traceback, so that what
    remains is the cell and the student's functions. Either way the figures the block
    opened are closed, so no half-drawn plot is shown.
    """

    def __enter__(self):
        self._figures = _figure_numbers()
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        _close_figures_since(self._figures)
        if isinstance(exc, NotImplementedError):
            print(f"demo skipped: {_not_implemented(exc, tb)}")
            return True
        if isinstance(exc, Exception):
            exc.__traceback__ = _without_kit_frames(tb)
        return False


def _figure_numbers():
    plt = sys.modules.get("matplotlib.pyplot")  # never imported here: a demo without plots stays without
    return set(plt.get_fignums()) if plt else set()


def _close_figures_since(before):
    plt = sys.modules.get("matplotlib.pyplot")
    if plt:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _not_implemented(exc, tb):
    """'<function> is not implemented yet (<where it still raises>)'."""
    frames = list(_frames(tb))
    match = re.match(r"(\w+): ", str(exc))  # a skeleton's message starts with its function's name
    name = match.group(1) if match and match.group(1) in kit.module_of() else None
    raised_in = frames[-1].tb_frame if frames else None
    for entry in reversed(frames):
        if name is None or entry.tb_frame.f_code.co_name == name:
            raised_in = entry.tb_frame
            break
    if raised_in is None:
        return f"{name or 'a function'} is not implemented yet"
    name = name or raised_in.f_code.co_name
    where = raised_in.f_globals.get("__name__") or ""
    if where == "__main__":
        place = "its cell above still raises NotImplementedError"
    else:  # an exercises/*.py module (load_parts), named as the student sees the file
        shown = f"{where.replace('.', '/')}.py" if where else Path(raised_in.f_code.co_filename).name
        place = f"{shown} still raises NotImplementedError"
    return f"{name} is not implemented yet ({place})"


def _without_kit_frames(tb):
    """`tb` without the entries of code inside the kit's package (relinked in place)."""
    kept = [entry for entry in _frames(tb) if not _in_kit(entry.tb_frame.f_code.co_filename)]
    for entry, following in zip(kept, kept[1:] + [None]):
        entry.tb_next = following
    return kept[0] if kept else tb


def _in_kit(filename):
    try:
        return Path(filename).resolve().is_relative_to(KIT_DIR)
    except (OSError, ValueError):
        return False


def load_parts(package=None):
    """The exercise modules of `package` (default: $RNN_KIT_IMPL or "exercises"), freshly read.

    Modules already imported are reloaded, in teaching order, so a demo sees the latest
    edit of an exercises/*.py file without restarting the kernel.
    """
    package = package or os.environ.get("RNN_KIT_IMPL", "exercises")
    parts = {}
    for m in kit.MODULES:
        name = f"{package}.{m}"
        parts[m] = importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)
    return types.SimpleNamespace(**parts)
