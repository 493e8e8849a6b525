"""A submission as the grading process reads it: folder, .py file, zip member or notebook -> source text,
read safely; and the text that comes back from a student's process, made safe.

What a student controls is made safe before the grading process uses it: files and text.

Files. A submission is read only through `Folder` and `read_regular`, which read regular
files and nothing else: a symbolic link is never followed (anywhere inside the
submission, nor the submission itself), a FIFO, socket or device is never read, and every
file is capped *before* it is read:

* a .py module: `MAX_MODULE_BYTES` (2 MB);
* a notebook: `MAX_NOTEBOOK_BYTES` (8 MB, outputs included);
* a .zip as handed in: `MAX_ZIP_BYTES` (50 MB; what it unpacks to has its own limits, grading.ZIP_*);
* everything read from one submission: `MAX_SUBMISSION_BYTES` (24 MB).

A file that breaks a rule is refused with a `SubmissionError` that says which rule, in
words for the student ("rnn.py is a symbolic link; only regular files are read"), and
never with anything read from where the link points.

Text. Every string that comes back from a student's process (messages, tracebacks,
printed output, returned strings) goes through `clean_text` where the grading process
receives it: lone surrogates are replaced, control characters other than newline and tab
are dropped, and the length is capped (`MAX_TEXT` characters), so that no student can
stop the class run from writing its files, or swell them.
"""
import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .. import kit
from . import wire

MB = 1024 ** 2
#: caps on what is read from a submission (see the module docstring)
MAX_MODULE_BYTES = 2 * MB
MAX_NOTEBOOK_BYTES = 8 * MB
MAX_ZIP_BYTES = 50 * MB
MAX_SUBMISSION_BYTES = 24 * MB
#: how deep and how wide a submission's folders are looked at (fingerprints, a zip that unpacks into a folder)
MAX_DEPTH = 8
MAX_ENTRIES = 500
#: bytes of a submission hashed for its fingerprint (beyond them, sizes only)
MAX_HASHED_BYTES = 64 * MB

#: characters kept of one message, traceback or printed output from a student's process
MAX_TEXT = 4000

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class SubmissionError(ValueError):
    """A submission, or one file of it, that cannot be read (not JSON, a link, too large, ...)."""


# ---------------------------------------------------------------------------------------
# Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value, limit=MAX_TEXT, *, lines=True, tail=False):
    """`value` as text that is safe to keep and to write: valid UTF-8, no control characters, capped.

    Lone surrogates (which no UTF-8 file can hold) become "?"; control characters other
    than newline and tab are dropped (with lines=False, newlines and tabs become spaces:
    a name on one line). Past `limit` characters the text is cut, and says how much was cut;
    tail=True keeps the end instead of the start (a traceback's last lines matter most).
    With lines=False the result is at most `limit` characters, and cleaning it again
    changes nothing (a student's name is cleaned in more than one place).
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    more = len(text) - limit
    if more > 0:
        text = text[-limit:] if tail else text[:limit - 1] if not lines else text[:limit]
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text)
    if not lines:
        text = text.replace("\n", " ").replace("\t", " ")
    if more > 0 and tail:
        text = f"... ({more} characters before these not shown)\n" + text
    elif more > 0:
        text += f"\n... ({more} more characters not shown)" if lines else "\u2026"
    return text


def shown(name):
    """A file's name as a message may show it: its last part only (no grader's folders), one line, printable."""
    return clean_text(os.path.basename(os.fsdecode(name)), 200, lines=False)


# ---------------------------------------------------------------------------------------
# Files

def describe(mode):
    """What a file of this st_mode is, in words ("a symbolic link", "a named pipe (FIFO)", ...)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def refusal(name, kind):
    """The SubmissionError for `name`, which is `kind` (what `describe` says) instead of a regular file."""
    if kind == "a symbolic link":
        return SubmissionError(f"{shown(name)} is a symbolic link; only regular files are read")
    return SubmissionError(f"{shown(name)} is {kind}, not a regular file; only regular files are read")


def _too_large(name, size, limit):
    return SubmissionError(f"{shown(name)} is {size / MB:.1f} MB; a file like it is read only up to "
                           f"{limit / MB:g} MB (is it really your code?)")


def open_regular(name, limit, *, dir_fd=None):
    """A binary file object for the regular file `name`, refused if it is anything else or over `limit` bytes."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        raise SubmissionError(f"{shown(name)} could not be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):  # decided before opening: a device or a FIFO is never opened
        raise refusal(name, describe(st.st_mode))
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # it became a link since the stat
            raise refusal(name, "a symbolic link") from None
        raise SubmissionError(f"{shown(name)} could not be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise refusal(name, describe(st.st_mode))
        if st.st_size > limit:
            raise _too_large(name, st.st_size, limit)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(name, limit, *, dir_fd=None):
    """The bytes of the regular file `name` (never a link, FIFO or device), at most `limit` of them."""
    with open_regular(name, limit, dir_fd=dir_fd) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew after the size check
        raise _too_large(name, len(data), limit)
    return data


class Budget:
    """Bytes a submission may still have read: every file read counts against one total."""

    def __init__(self, total=None):
        total = MAX_SUBMISSION_BYTES if total is None else total
        self.total, self.left = total, total

    def take(self, name, size):
        if size > self.left:
            raise SubmissionError(f"{shown(name)} was not read: the files of this submission add up to more than "
                                  f"{self.total / MB:g} MB")
        self.left -= size


class Folder:
    """A folder of a submission, opened without following links; its entries are read through it.

    Every name is looked up relative to this folder's descriptor, so a link swapped in
    for a parent folder after it was opened changes nothing.
    """

    def __init__(self, fd, name, budget):
        self.fd, self.name, self.budget = fd, name, budget

    @classmethod
    def open(cls, path, budget=None, *, dir_fd=None):
        """Open the folder `path` (refused if it is a link or not a folder)."""
        try:
            fd = os.open(path, _DIRECTORY, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                try:
                    mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
                except OSError:
                    mode = stat.S_IFLNK if exc.errno == errno.ELOOP else 0
                if stat.S_ISLNK(mode):
                    raise SubmissionError(f"{shown(path)} is a symbolic link; only regular "
                                          f"files and folders are read") from None
            raise SubmissionError(f"{shown(path)} could not be opened as a folder "
                                  f"({exc.strerror})") from None
        return cls(fd, os.path.basename(os.fspath(path)), budget or Budget())

    def kinds(self):
        """{name: "file", "folder", or what else it is ("a symbolic link", ...)}, without following links."""
        out = {}
        with os.scandir(self.fd) as entries:
            for entry in entries:
                if len(out) >= 4 * MAX_ENTRIES:
                    break
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                out[entry.name] = ("file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode)
                                   else describe(mode))
        return out

    def modified(self, name):
        """When the entry `name` was last written (seconds since the epoch), without following a link."""
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mtime

    def read(self, name, limit):
        """The bytes of the regular file `name` in this folder, counted against the submission's budget."""
        with open_regular(name, limit, dir_fd=self.fd) as handle:
            self.budget.take(name, os.fstat(handle.fileno()).st_size)
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise _too_large(name, len(data), limit)
        return data

    def folder(self, name):
        """The sub-folder `name` (refused if it is a link), sharing this submission's budget."""
        return Folder.open(name, self.budget, dir_fd=self.fd)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def hash_tree(path, h):
    """Feed the hash `h` with what `path` holds: names, kinds, sizes and (capped) contents.

    Links are hashed as their text, never followed; only regular files are opened; at most
    MAX_ENTRIES entries, MAX_DEPTH folders deep and MAX_HASHED_BYTES bytes of content are read.
    """
    state = {"entries": 0, "bytes": MAX_HASHED_BYTES}

    def visit(name, relative, dir_fd, depth):
        state["entries"] += 1
        if state["entries"] > MAX_ENTRIES:
            return
        h.update(b"\0" + os.fsencode(relative) + b"\0")
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            h.update(b"(unreadable)")
            return
        size = st.st_size if stat.S_ISREG(st.st_mode) else 0  # a folder's own size varies by file system
        h.update(describe(st.st_mode).encode() + str(size).encode())
        try:
            if stat.S_ISLNK(st.st_mode):
                h.update(os.fsencode(os.readlink(name, dir_fd=dir_fd)))
            elif stat.S_ISREG(st.st_mode):
                with open_regular(name, st.st_size, dir_fd=dir_fd) as handle:
                    while state["bytes"] > 0:
                        chunk = handle.read(min(MB, state["bytes"]))
                        if not chunk:
                            break
                        state["bytes"] -= len(chunk)
                        h.update(chunk)
            elif stat.S_ISDIR(st.st_mode) and depth < MAX_DEPTH:
                fd = os.open(name, _DIRECTORY, dir_fd=dir_fd)
                try:
                    with os.scandir(fd) as entries:
                        names = sorted(entry.name for entry in entries)
                    for child in names[:MAX_ENTRIES]:
                        visit(child, f"{relative}/{child}", fd, depth + 1)
                finally:
                    os.close(fd)
        except (OSError, SubmissionError):
            h.update(b"(unreadable)")

    path = os.fspath(path)
    visit(path, os.path.basename(path), None, 0)


# ---------------------------------------------------------------------------------------
# What was submitted

@dataclass
class Submission:
    """Source text per exercise module, plus notes about how it was read."""

    label: str
    modules: dict = field(default_factory=dict)    # module -> (source, filename shown in tracebacks)
    notes: list = field(default_factory=list)      # things the student should know (e.g. a missing cell)
    carried: dict = field(default_factory=dict)    # module -> the other parts' functions its notebook carries
    #                                                (a notebook's dependency cells), in the order they were read

    def module_of(self, function, part=None):
        """The module a call of `function` goes to: its own, else the first that carries a copy of it.

        For a check of `part` whose notebook carries its own copy of `function`, that copy: each
        notebook runs on its own in Jupyter and in nbgrader, so a part is judged with the functions
        its notebook holds, whatever another part's notebook says (tests/test_nbgrader_course.py).
        """
        if part in self.modules and function in self.carried.get(part, ()):
            return part
        home = kit.module_of()[function]
        if home in self.modules:
            return home
        return next((module for module, copies in self.carried.items() if function in copies), home)

    def wire_modules(self):
        support = {name: ((kit.EXERCISES / f"{name}.py").read_text(), f"{name}.py (kit)") for name in kit.SUPPORT}
        return {**support, **{m: list(v) for m, v in self.modules.items()}}


def load_submission(spec):
    """Read a submission: "exercises", "solutions", a directory, a .py file or a notebook.

    Only regular files are read, each under its cap (autograder/py): a symbolic
    link, a FIFO or a device is refused, the submission itself included. A file of a
    folder that cannot be read becomes a note; a submission that cannot be read at all
    raises SubmissionError, with the reason for the student.
    """
    path = kit.ROOT / spec if spec in ("exercises", "solutions") else Path(spec)
    try:
        mode = os.stat(path, follow_symlinks=False).st_mode
    except OSError:
        raise SubmissionError(f"{spec}: no such file or directory") from None
    if stat.S_ISLNK(mode):
        raise SubmissionError(f"{shown(path.name)} is a symbolic link; only regular files and folders "
                              f"are read (hand in the files themselves)")
    if stat.S_ISDIR(mode):
        with Folder.open(path) as folder:
            sub = _from_directory(folder, str(spec))
    elif path.suffix == ".ipynb":
        sub = Submission(str(spec))
        _add_notebook(sub, read_regular(path, MAX_NOTEBOOK_BYTES), path.name)
    elif path.suffix == ".py" and path.stem in kit.MODULES:
        sub = Submission(str(spec), {path.stem: (_text(read_regular(path, MAX_MODULE_BYTES)),
                                                 path.name)})
    else:
        raise SubmissionError(f"{shown(path.name)}: expected a directory, a notebook (.ipynb) or one of "
                              f"{', '.join(m + '.py' for m in kit.MODULES)}")
    _check_fits(sub)
    return sub


def _text(data):
    """Source bytes as text: UTF-8, else Latin-1 (which decodes anything)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _check_fits(sub):
    """Refuse a submission whose code is too large to send to the sandbox in one message."""
    size = len(json.dumps(sub.wire_modules()))
    room = wire.MAX_HEADER - 64 * 1024
    if size > room:
        raise SubmissionError(f"the code handed in is too large to grade: {size / MB:.1f} MB to send to "
                              f"the sandbox, which takes at most {room / MB:.1f} MB (notebook outputs do "
                              f"not count; is every file really your code?)")


def _read_module(sub, folder, name, limit):
    """The text of `name` in `folder`, or None with a note saying why it was not read."""
    try:
        return _text(folder.read(name, limit))
    except SubmissionError as exc:
        sub.notes.append(str(exc))
        return None


#: the names browsers and file managers give a second download or copy of rnn.py: "rnn (1).py" (Chrome, Edge),
#: "rnn(1).py" (Firefox), "rnn-1.py", "rnn 2.py" and "rnn copy.py" (macOS), "rnn - Copy.py" (Windows)
_COPY = re.compile(r"^(?P<module>[a-z_]+)(?: ?\(\d{1,3}\)|-\d{1,3}| \d{1,3}| copy(?: \d{1,3})?"
                   r"| - Copy(?: \(\d{1,3}\))?)\.py$")


def _newest_copy(folder, kinds, module, notes):
    """Which file holds `module`: <module>.py, or the newest of it and its renamed copies (said in a note)."""
    name = f"{module}.py"
    copies = sorted(n for n in kinds if (m := _COPY.match(n)) and m.group("module") == module
                    and kinds[n] == "file")
    if not copies:
        return name if name in kinds else None
    candidates = ([name] if kinds.get(name) == "file" else []) + copies
    try:
        chosen = max(candidates, key=lambda n: (folder.modified(n), n == name))
    except OSError:
        return name if name in kinds else None
    others = [shown(n) for n in candidates if n != chosen]
    if others:
        notes.append(f"graded {shown(chosen)} as {name}: the newest of "
                     f"{', '.join([shown(chosen), *others])} (second downloads or copies of one file)")
    else:
        notes.append(f"graded {shown(chosen)} as {name} (the name a browser or file manager gives a "
                     f"second download or a copy); name it {name} next time")
    return chosen


def _from_directory(folder, label, depth=0):
    sub = Submission(label)
    kinds = folder.kinds()
    for module in kit.MODULES:
        name = _newest_copy(folder, kinds, module, sub.notes)
        if name is None:
            continue
        if kinds[name] != "file":
            sub.notes.append(str(refusal(name, kinds[name])))
            continue
        text = _read_module(sub, folder, name, MAX_MODULE_BYTES)
        if text is not None:
            sub.modules[module] = (text, name)
    notebooks = sorted(n for n in kinds if n.endswith(".ipynb") and not n.startswith("."))
    for nb in notebooks:
        if kinds[nb] != "file":
            sub.notes.append(str(refusal(nb, kinds[nb])))
            continue
        try:
            _add_notebook(sub, folder.read(nb, MAX_NOTEBOOK_BYTES), nb, skip=set(sub.modules))
        except SubmissionError as exc:
            sub.notes.append(str(exc))
    if not sub.modules and not notebooks:
        children = [n for n, kind in kinds.items() if kind in ("folder", "a symbolic link")
                    and not n.startswith((".", "__")) and not n.endswith((".py", ".ipynb"))]
        if len(children) == 1 and kinds[children[0]] == "folder" and depth < MAX_DEPTH:
            # a zip that unpacked into one folder
            with folder.folder(children[0]) as inner_folder:
                inner = _from_directory(inner_folder, label, depth + 1)
            inner.notes.insert(0, f"read the files inside {shown(children[0])}/")
            return inner
        if len(children) == 1 and kinds[children[0]] != "folder":
            sub.notes.append(f"{shown(children[0])} is a symbolic link; only regular files and folders "
                             f"are read")
        sub.notes.append(f"found none of {', '.join(m + '.py' for m in kit.MODULES)} and no notebook")
    return sub



def module_header(module):
    """The imports and constants a notebook's cells run under, as in the reference module."""
    from ..build import notebook_header  # ast only; cheap

    return "\n".join(notebook_header(module)) + "\n"


def namespace_submission(namespace, module, label="notebook"):
    """A Submission built from the source of the functions a notebook defined, or None.

    The module's own functions, plus those it takes from another part (the GRU's sigmoid),
    are read back with inspect.getsource (IPython keeps cell sources), so a notebook's code
    can run in a worker like any hand-in.
    """
    import inspect

    from ..build import borrowed_functions

    borrowed = [name for names in borrowed_functions(module).values() for name in names]
    wanted = borrowed + list(kit.functions_by_module()[module])
    parts = []
    for name in wanted:
        obj = namespace.get(name)
        if not callable(obj):
            continue
        try:
            parts.append(inspect.getsource(obj))
        except (OSError, TypeError):
            return None
    return Submission(label, {module: (module_header(module) + "\n\n" + "\n\n".join(parts), f"{module}.ipynb")},
                      carried={module: set(borrowed)})


_MAGIC = re.compile(r"^\s*[%!]")


def _cell_source(cell):
    """A code cell's source as text (only its strings: a notebook is untrusted JSON)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        return ""
    # IPython magics and shell escapes are not Python: comment them out, keep line numbers
    return "\n".join("# " + line if _MAGIC.match(line) else line for line in source.splitlines())


#: a function defined at the top level of a cell (found by lines: student code is never parsed in the grader)
_DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(", re.M)


def _add_notebook(sub, data, name, skip=()):
    """Add the modules a notebook (its bytes, `data`) defines: nbgrader answer cells by grade_id, or all its code."""
    try:
        nb = json.loads(data)
        cells = nb["cells"]
        assert isinstance(cells, list)
    except Exception:  # noqa: BLE001 - any malformed JSON (also too deeply nested) is the student's
        raise SubmissionError(f"{shown(name)} is not a readable notebook (it is not valid notebook "
                              f"JSON)") from None
    functions = kit.module_of()
    by_module, plain = {}, []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        grade_id = nbg.get("grade_id") if isinstance(nbg, dict) else None
        source = _cell_source(cell)
        if isinstance(grade_id, str) and nbg.get("solution"):
            owner, _, dep = grade_id.partition("__")
            module = owner if dep else functions.get(grade_id)
            if module in kit.MODULES:
                by_module.setdefault(module, []).append((index, source))
                if dep in functions and owner not in skip:
                    sub.carried.setdefault(owner, set()).add(dep)
                continue
        plain.append((index, source))
    if not by_module:  # a plain notebook: every code cell, for every module whose functions it defines
        code = "\n\n".join(src for _, src in plain)
        code = re.sub(r"^from exercises\.(\w+) import", r"from .\1 import", code, flags=re.M)
        modules = {functions[n] for n in _DEF.findall(code) if n in functions}
        for module in modules:
            if module not in skip:
                sub.modules[module] = (module_header(module) + "\n" + code, name)
        if not modules:
            sub.notes.append(f"{shown(name)} defines none of the exercise functions")
        return
    for module, cells_ in by_module.items():
        if module in skip:
            continue
        body = "\n\n".join(src for _, src in cells_)
        sub.modules[module] = (module_header(module) + "\n" + body, name)
