"""What a student controls, made safe before the grading process uses it: files and text.

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
import os
import re
import stat

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
