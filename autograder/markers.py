"""Solution regions: find them, check them, and cut them out of the reference.

A region is the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers; any number of leading ``#`` is accepted, as nbgrader does). Its first line must be
a ``# Task: ...`` comment. That sentence becomes the skeleton's
``NotImplementedError`` message, so a student always knows what to compute.
"""
import ast
import copy
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(\s*)#+\s*BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*#+\s*END SOLUTION\s*$")
TASK = re.compile(r"^\s*#\s*Task:\s*(.+?)\s*$")
DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")


class MarkerError(ValueError):
    """A malformed solution region; the message names the file and line."""


@dataclass(frozen=True)
class Region:
    function: str     # the enclosing function's name
    begin: int        # 0-based index of the BEGIN line
    end: int          # 0-based index of the END line
    indent: str       # the BEGIN line's indentation
    task: str         # what the student must compute


def _enclosing_function(lines, index, indent, where):
    for j in range(index - 1, -1, -1):
        m = DEF.match(lines[j])
        if m and len(m.group(1)) < len(indent):
            return m.group(2)
    raise MarkerError(f"{where}:{index + 1}: BEGIN SOLUTION must be inside a function")


def find_regions(text, path="<source>"):
    """Return the regions of `text` in order; raise MarkerError naming path:line if malformed."""
    lines = text.splitlines()
    regions, open_at, indent = [], None, ""
    for i, line in enumerate(lines):
        if m := BEGIN.match(line):
            if open_at is not None:
                raise MarkerError(
                    f"{path}:{i + 1}: BEGIN SOLUTION inside the region opened at line {open_at + 1} "
                    f"(regions cannot nest; close it with ### END SOLUTION first)"
                )
            open_at, indent = i, m.group(1)
        elif END.match(line):
            if open_at is None:
                raise MarkerError(f"{path}:{i + 1}: END SOLUTION without a BEGIN SOLUTION before it")
            body = [l for l in lines[open_at + 1:i] if l.strip()]
            task = TASK.match(body[0]) if body else None
            if not task:
                raise MarkerError(
                    f"{path}:{open_at + 2}: a solution region must start with a '# Task: ...' comment "
                    f"saying what the student computes"
                )
            function = _enclosing_function(lines, open_at, indent, path)
            regions.append(Region(function, open_at, i, indent, task.group(1)))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{path}:{open_at + 1}: BEGIN SOLUTION is never closed by ### END SOLUTION")
    return regions


def strip_solutions(text, path="<source>"):
    """The skeleton of `text`: every region replaced by a task comment and a NotImplementedError."""
    lines = text.splitlines()
    regions = find_regions(text, path)
    out, cursor = [], 0
    for r in regions:
        out.extend(lines[cursor:r.begin])
        message = f"{r.function}: {r.task}"
        out.append(f"{r.indent}# YOUR CODE HERE: {r.task}")
        out.append(f"{r.indent}raise NotImplementedError({message!r})")
        cursor = r.end + 1
    out.extend(lines[cursor:])
    return "\n".join(out) + "\n"


def solution_snippets(path):
    """The code lines of every region in a file (without the Task comment), for leak scans."""
    text = Path(path).read_text()
    lines = text.splitlines()
    return [
        "\n".join(lines[r.begin + 2:r.end]) for r in find_regions(text, str(path))
    ]


# ---------------------------------------------------------------------------------------
# Solution statements with their names changed: what a leak scan looks for beyond verbatim lines.

#: a statement smaller than this many AST nodes (``return h``, ``h = h0``) says nothing about an answer
MIN_NODES = 8


class _Rename(ast.NodeTransformer):
    """Every name (variables, arguments, functions called by name) becomes v0, v1, ... by first use."""

    def __init__(self):
        self.names = {}

    def _new(self, name):
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id=self._new(node.id), ctx=ast.Load()), node)

    def visit_arg(self, node):
        return ast.copy_location(ast.arg(arg=self._new(node.arg)), node)

    def visit_keyword(self, node):
        node.value = self.visit(node.value)
        return node


def _fingerprint(statement):
    """A normalised text of one simple statement, or None when it is too small to mean anything."""
    if sum(1 for _ in ast.walk(statement)) < MIN_NODES:
        return None
    return ast.dump(_Rename().visit(copy.deepcopy(statement)), annotate_fields=False, include_attributes=False)


def _simple_statements(body):
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # a nested function is scanned as a function of its own
        blocks = [getattr(node, f, None) for f in ("body", "orelse", "finalbody")]
        blocks += [h.body for h in getattr(node, "handlers", [])] + [c.body for c in getattr(node, "cases", [])]
        blocks = [b for b in blocks if isinstance(b, list)]
        if blocks:
            for block in blocks:
                yield from _simple_statements(block)
        else:
            yield node


def _fingerprints(body):
    return {fp for fp in map(_fingerprint, _simple_statements(body)) if fp}


def solution_statements(path):
    """{function: (fingerprints of its solution region's statements, the region's code)} for one reference file."""
    text = Path(path).read_text()
    lines = text.splitlines()
    given = _fingerprints(ast.parse(strip_solutions(text, str(path))).body)
    given |= {fp for node in ast.walk(ast.parse(strip_solutions(text, str(path))))
              if isinstance(node, ast.FunctionDef) for fp in _fingerprints(node.body)}
    out = {}
    for r in find_regions(text, str(path)):
        code = textwrap.dedent("\n".join(lines[r.begin + 1:r.end]))
        out[r.function] = (_fingerprints(ast.parse(code).body) - given, code)  # what the skeleton shows is no secret
    return out


def functions_holding(source, solutions, *, least=3, share=0.5):
    """[(function, line, solution function, statements shared)] for every function in `source` that holds
    at least `least` statements of one solution region, and at least `share` of that region's statements
    (names changed or not). `solutions` is {function: fingerprints}."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mine = _fingerprints(node.body)
            for function, theirs in solutions.items():
                shared = len(mine & theirs)
                if theirs and shared >= min(least, len(theirs)) and shared >= share * len(theirs):
                    found.append((node.name, node.lineno, function, shared))
    return found
