"""Where things are, and what the kit's exercises are called.

Every other part of the autograder learns the module and function names from here, and
this file learns them from the reference solutions' ``__all__``. Nothing else keeps a list.
"""
import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = EXERCISES / "notebooks"

#: the exercise modules, in teaching order (the order of the lesson's parts)
MODULES = ("feedforward", "rnn", "lstm", "gru", "memory", "bptt", "stepping")
#: files in solutions/ copied to exercises/ as they are (no solution regions)
SUPPORT = ("_validate",)

#: which part of the lesson each module teaches (README's lesson map, the notebooks' titles)
LESSON_PARTS = {
    "feedforward": "Part 1 - why a feedforward network fails on sequences",
    "rnn": "Part 2 - recurrence: one step, unrolling, reading out",
    "lstm": "Part 4a - the LSTM's gated memory cell",
    "gru": "Part 4b - the GRU's update and reset gates",
    "memory": "Parts 3 and 4c - where simple recurrence forgets, and how gates hold on",
    "bptt": "Part 5 - learning through time: vanishing gradients, and gates that learn to remember",
    "stepping": "Part 6 - the price of reading one step at a time, and attention, which reads all at once",
}


#: written into a student bundle (no solutions/ there): what would otherwise be read from solutions/
KITDATA = Path(__file__).resolve().parent / "kitdata.json"


def source_of(module):
    """solutions/<module>.py, or in a student bundle exercises/<module>.py (same names and imports)."""
    path = SOLUTIONS / f"{module}.py"
    return path if path.exists() else EXERCISES / f"{module}.py"


@lru_cache(maxsize=None)
def bundled():
    """The bundle's kitdata.json as a dict, or {} in the full kit."""
    import json

    return json.loads(KITDATA.read_text()) if KITDATA.exists() and not SOLUTIONS.exists() else {}


def _exports(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError(f"{path} has no __all__")


def _defined_functions(path):
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@lru_cache(maxsize=None)
def functions_by_module():
    """{module: (function names in __all__ order)}, read from solutions/ without importing it."""
    out = {}
    for module in MODULES:
        path = source_of(module)
        defined = _defined_functions(path)
        out[module] = tuple(name for name in _exports(path) if name in defined)
    return out


@lru_cache(maxsize=None)
def module_of():
    """{function name: module name} for every exercise function."""
    return {fn: module for module, fns in functions_by_module().items() for fn in fns}


@lru_cache(maxsize=None)
def dependencies():
    """{function: (exercise functions the reference calls inside it)}, e.g. lstm_step -> (lstm_gates,).

    Read from the reference by AST, so a check can say "fix lstm_gates first" without a
    hand-kept table.
    """
    if bundled():
        return {k: tuple(v) for k, v in bundled()["dependencies"].items()}
    known = module_of()
    out = {}
    for module in MODULES:
        tree = ast.parse((SOLUTIONS / f"{module}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in known:
                called = []
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                        name = sub.func.id
                        if name in known and name != node.name and name not in called:
                            called.append(name)
                out[node.name] = tuple(called)
    return out
