"""Solution regions: find them, check them, and cut them out of the reference.

A region is the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers; any number of leading ``#`` is accepted, as nbgrader does). Its first line must be
a ``# Task: ...`` comment. That sentence becomes the skeleton's
``NotImplementedError`` message, so a student always knows what to compute.
"""
import re
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
