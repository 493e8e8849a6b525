"""The implementation under test: one object whose methods are the exercise functions.

Checks only ever write ``impl.rnn_step(...)``. Behind that call:

* `WorkerImpl` sends the arguments, as .npy arrays, to a worker process running the
  submission (see sandbox/child.py), and waits at most `timeout` seconds for the reply. The
  grading process never imports or executes the submission.
* `LocalImpl` calls functions already living in this process (a notebook kernel running
  its own self-check). Values still make the same encode/decode round trip, so checks
  see exactly what they would see from a worker.

A call either returns plain values (arrays, floats, tuples of them, or `Foreign` for
anything else) or raises a `CallFailed` saying why, in words meant for the student.
"""
import json
import os
import re
import select
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import kit, untrusted
from .sandbox import child, wire
from .sandbox.wire import Bound, Foreign, WireError  # noqa: F401  (re-exported for checks)
from .untrusted import SubmissionError, clean_text  # noqa: F401  (SubmissionError re-exported)

#: wall-clock seconds one call may take before the worker is stopped
DEFAULT_TIMEOUT = 10.0
#: wall-clock seconds all calls of one submission may take together: a safety net against code that waits
#: just under the per-call timeout on every call (a correct submission needs about 3 s in all). Scores that
#: weigh speed count CPU seconds instead (`WorkerImpl.cpu_seconds`), which load does not change.
SUBMISSION_BUDGET = 600.0


class CallFailed(Exception):
    """A call into the submission did not return a value."""

    status = "error"

    def __init__(self, function, message, traceback="", stdout=""):
        message, traceback, stdout = clean_text(message), clean_text(traceback, tail=True), clean_text(stdout)
        super().__init__(message)
        self.function, self.message, self.traceback, self.stdout = function, message, traceback, stdout

    def explain(self):
        parts = [self.headline()]
        if self.traceback.strip():
            parts.append("Your code's traceback:\n" + _indent(self.traceback.rstrip()))
        if self.stdout.strip():
            parts.append("Your code printed:\n" + _indent(self.stdout.rstrip()))
        return "\n".join(parts)

    def headline(self):
        return f"{self.function} raised an error: {self.message}"


class NotImplementedYet(CallFailed):
    status = "not implemented"

    def headline(self):
        return f"not implemented yet: {self.message}"

    def explain(self):
        return self.headline()


class StudentError(CallFailed):
    pass


class TimedOut(CallFailed):
    status = "timeout"

    def headline(self):
        return f"{self.function} {self.message}"


class WorkerCrashed(CallFailed):
    def headline(self):
        return f"{self.function} stopped the process running your code: {self.message}"


class LoadError(CallFailed):
    def headline(self):
        return self.message


class Missing(CallFailed):
    status = "missing"

    def headline(self):
        return self.message


_KINDS = {"not_implemented": NotImplementedYet, "exception": StudentError, "exit": StudentError,
          "load_error": LoadError, "missing": Missing}


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


# ---------------------------------------------------------------------------------------
# What was submitted

@dataclass
class Submission:
    """Source text per exercise module, plus notes about how it was read."""

    label: str
    modules: dict = field(default_factory=dict)    # module -> (source, filename shown in tracebacks)
    notes: list = field(default_factory=list)      # things the student should know (e.g. a missing cell)
    aliases: dict = field(default_factory=dict)    # function -> the module holding a copy of it (a notebook's
    #                                                dependency cells), used when its own module is not handed in

    def module_of(self, function):
        """The module a call of `function` goes to: its own, else the one that carries a copy of it."""
        home = kit.module_of()[function]
        return self.aliases[function] if home not in self.modules and function in self.aliases else home

    def wire_modules(self):
        support = {name: ((kit.EXERCISES / f"{name}.py").read_text(), f"{name}.py (kit)") for name in kit.SUPPORT}
        return {**support, **{m: list(v) for m, v in self.modules.items()}}


def load_submission(spec):
    """Read a submission: "exercises", "solutions", a directory, a .py file or a notebook.

    Only regular files are read, each under its cap (autograder/untrusted.py): a symbolic
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
        raise SubmissionError(f"{untrusted.shown(path.name)} is a symbolic link; only regular files and folders "
                              f"are read (hand in the files themselves)")
    if stat.S_ISDIR(mode):
        with untrusted.Folder.open(path) as folder:
            sub = _from_directory(folder, str(spec))
    elif path.suffix == ".ipynb":
        sub = Submission(str(spec))
        _add_notebook(sub, untrusted.read_regular(path, untrusted.MAX_NOTEBOOK_BYTES), path.name)
    elif path.suffix == ".py" and path.stem in kit.MODULES:
        sub = Submission(str(spec), {path.stem: (_text(untrusted.read_regular(path, untrusted.MAX_MODULE_BYTES)),
                                                 path.name)})
    else:
        raise SubmissionError(f"{untrusted.shown(path.name)}: expected a directory, a notebook (.ipynb) or one of "
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
        raise SubmissionError(f"the code handed in is too large to grade: {size / untrusted.MB:.1f} MB to send to "
                              f"the sandbox, which takes at most {room / untrusted.MB:.1f} MB (notebook outputs do "
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
    others = [untrusted.shown(n) for n in candidates if n != chosen]
    if others:
        notes.append(f"graded {untrusted.shown(chosen)} as {name}: the newest of "
                     f"{', '.join([untrusted.shown(chosen), *others])} (second downloads or copies of one file)")
    else:
        notes.append(f"graded {untrusted.shown(chosen)} as {name} (the name a browser or file manager gives a "
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
            sub.notes.append(str(untrusted.refusal(name, kinds[name])))
            continue
        text = _read_module(sub, folder, name, untrusted.MAX_MODULE_BYTES)
        if text is not None:
            sub.modules[module] = (text, name)
    notebooks = sorted(n for n in kinds if n.endswith(".ipynb") and not n.startswith("."))
    for nb in notebooks:
        if kinds[nb] != "file":
            sub.notes.append(str(untrusted.refusal(nb, kinds[nb])))
            continue
        try:
            _add_notebook(sub, folder.read(nb, untrusted.MAX_NOTEBOOK_BYTES), nb, skip=set(sub.modules))
        except SubmissionError as exc:
            sub.notes.append(str(exc))
    if not sub.modules and not notebooks:
        children = [n for n, kind in kinds.items() if kind in ("folder", "a symbolic link")
                    and not n.startswith((".", "__")) and not n.endswith((".py", ".ipynb"))]
        if len(children) == 1 and kinds[children[0]] == "folder" and depth < untrusted.MAX_DEPTH:
            # a zip that unpacked into one folder
            with folder.folder(children[0]) as inner_folder:
                inner = _from_directory(inner_folder, label, depth + 1)
            inner.notes.insert(0, f"read the files inside {untrusted.shown(children[0])}/")
            return inner
        if len(children) == 1 and kinds[children[0]] != "folder":
            sub.notes.append(f"{untrusted.shown(children[0])} is a symbolic link; only regular files and folders "
                             f"are read")
        sub.notes.append(f"found none of {', '.join(m + '.py' for m in kit.MODULES)} and no notebook")
    return sub



def module_header(module):
    """The imports and constants a notebook's cells run under, as in the reference module."""
    from .build import notebook_header  # ast only; cheap

    return "\n".join(notebook_header(module)) + "\n"


def namespace_submission(namespace, module, label="notebook"):
    """A Submission built from the source of the functions a notebook defined, or None.

    The module's own functions, plus those it takes from another part (the GRU's sigmoid),
    are read back with inspect.getsource (IPython keeps cell sources), so a notebook's code
    can run in a worker like any hand-in.
    """
    import inspect

    from .build import borrowed_functions

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
                      aliases={name: module for name in borrowed})


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
        raise SubmissionError(f"{untrusted.shown(name)} is not a readable notebook (it is not valid notebook "
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
                    sub.aliases.setdefault(dep, owner)
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
            sub.notes.append(f"{untrusted.shown(name)} defines none of the exercise functions")
        return
    for module, cells_ in by_module.items():
        if module in skip:
            continue
        body = "\n\n".join(src for _, src in cells_)
        sub.modules[module] = (module_header(module) + "\n" + body, name)


# ---------------------------------------------------------------------------------------
# Calling it

@dataclass
class CallInfo:
    """What else happened during the last successful call."""

    warnings: list = field(default_factory=list)   # e.g. "RuntimeWarning: overflow encountered in exp"
    mutated: list = field(default_factory=list)    # arguments changed in place
    stdout: str = ""
    calls: list = field(default_factory=list)      # exercise functions the call called itself (child._Calls)

    @classmethod
    def from_reply(cls, reply):
        def strings(v):
            return [clean_text(s, 300) for s in v[:10]] if isinstance(v, list) else []
        return cls(strings(reply.get("warnings")), strings(reply.get("mutated")), clean_text(reply.get("stdout", "")),
                   called(reply))


def called(reply):
    """The exercise functions a reply says its call called (names only, each a real exercise function)."""
    calls = reply.get("calls")
    known = kit.module_of()
    return [c for c in calls[:64] if isinstance(c, str) and c in known] if isinstance(calls, list) else []


class _Callable:
    """Exposes ``impl.<function>(...)`` for every exercise function."""

    last = CallInfo()
    #: None, or on_stdout(source, text): called with what the student's code printed during each call (a call
    #: answered from memory repeats what it printed), source being the function's name or "rnn.py, on import"
    on_stdout = None

    def _printed(self, source, text):
        if text and self.on_stdout is not None:
            self.on_stdout(source, text)

    def calls_of(self, function):
        """The exercise functions the submission's `function` was seen calling, or None if it never ran."""
        return self.__dict__.get("_calls", {}).get(function)

    def _saw_calls(self, function, calls):
        seen = self.__dict__.setdefault("_calls", {}).setdefault(function, [])
        seen.extend(c for c in calls if c not in seen)

    def __getattr__(self, name):
        if name.startswith("_") or name not in kit.module_of():
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, args, kwargs)

    @staticmethod
    def probe(name, **kwargs):
        """One of the kit's probe functions (child.PROBES) with keyword arguments fixed."""
        return Bound("probe", name, **kwargs)


def _digest_encoded(function, args_tree, kwargs_tree, blobs):
    import hashlib

    h = hashlib.blake2b(json.dumps([function, args_tree, kwargs_tree], sort_keys=True).encode(), digest_size=20)
    for blob in blobs:
        h.update(blob)
    return h.hexdigest()


def digest(function, args, kwargs=None):
    """A key for a call whose arguments are all plain values, or None (e.g. a Python callable)."""
    blobs = []
    try:
        args_tree = [wire.encode(a, blobs) for a in args]
        kwargs_tree = {k: wire.encode(v, blobs) for k, v in (kwargs or {}).items()}
    except WireError:
        return None
    return _digest_encoded(function, args_tree, kwargs_tree, blobs)


def freeze(value):
    """Make arrays in a (possibly nested) value read-only, so a shared cached answer cannot be changed."""
    if isinstance(value, wire.np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, (tuple, list)):
        for v in value:
            freeze(v)
    return value


def _raise_for(function, reply):
    kind = reply.get("error")
    cls = _KINDS.get(kind, StudentError) if isinstance(kind, str) else StudentError
    failure = cls(function, reply.get("message", ""), reply.get("traceback", ""), reply.get("stdout", ""))
    failure.calls = called(reply)
    raise failure


def _cleaned(value):
    """A decoded reply value with every string in it cleaned and capped (clean_text): strings, Foreign texts."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Foreign):
        return Foreign(clean_text(value.type_name, 100, lines=False), clean_text(value.text))
    if isinstance(value, (tuple, list)):
        return type(value)(_cleaned(v) for v in value)
    return value


def _relies_on(function, seen=None):
    """Every exercise function the reference of `function` calls, directly or not."""
    seen = set() if seen is None else seen
    for dep in kit.dependencies().get(function, ()):
        if dep not in seen:
            seen.add(dep)
            _relies_on(dep, seen)
    return seen


class WorkerImpl(_Callable):
    """A submission running in a separate worker process, one call at a time."""

    def __init__(self, submission, *, timeout=DEFAULT_TIMEOUT, launcher=None):
        from .sandbox import shared_server

        self.submission, self.timeout = submission, timeout
        self._default_launcher = launcher is None
        self.launcher = launcher or shared_server()
        self.applied = []
        self.given_up = {}       # function -> CallFailed to repeat without calling again
        self.crashes = {}
        self.memo = {}           # call digest -> (value, CallInfo): checks often repeat a call
        self.cleared = set()     # functions probed after a dependency timed out
        self.imported = set()    # modules loaded in the current worker
        self.failed = {}         # module -> its load error, as this process saw it (an import that failed)
        self.stood_in = []       # functions of a module that does not load, answered by the reference (in order)
        self.reference = None    # what answers stand-ins (set by whoever runs the checks; a LiveReference)
        self._proc = None
        self.calls = 0
        self.spent = 0.0         # wall seconds inside calls, all workers together (see SUBMISSION_BUDGET)
        self._cpu_of_stopped = 0.0
        self.budget = SUBMISSION_BUDGET

    # -- process management -------------------------------------------------------------
    def _ensure(self):
        if self._proc is None:
            try:
                self._proc = self.launcher.start()
            except RuntimeError:
                if not self._default_launcher:
                    raise
                from .sandbox import shared_server

                self.launcher = shared_server()  # a broken server is replaced; try once more
                self._proc = self.launcher.start()
            self.applied = self._proc.applied
            header = {"op": "load", "package": "submission", "modules": self.submission.wire_modules(),
                      "module_of": {f: self.submission.module_of(f) for f in kit.module_of()}}
            reply = self._exchange(self._proc, header, (), max(self.timeout, 10.0))
            if not reply[0].get("ok"):
                raise RuntimeError("the worker did not start")
        return self._proc

    def _stop(self):
        if self._proc is not None:
            self._proc.kill()
            self._cpu_of_stopped += self._cpu_of(self._proc)
            self._proc = None
        self.imported = set()

    @staticmethod
    def _cpu_of(proc):
        cpu = getattr(proc, "cpu", None)
        return cpu() if callable(cpu) else 0.0

    def cpu_seconds(self):
        """CPU seconds the submission's code has used so far, every worker it had counted (the kernel's count)."""
        return self._cpu_of_stopped + (self._cpu_of(self._proc) if self._proc is not None else 0.0)

    def close(self):
        if self._proc is not None:
            try:
                wire.write_frame(self._proc.to_worker, wire.pack({"op": "exit"}))
            except OSError:
                pass
            self._stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _receive(self, deadline):
        fd = self._proc.from_worker
        data = bytearray()
        need = 4
        while len(data) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(1 << 20, need - len(data)))
            if not chunk:
                raise EOFError
            data += chunk
            if need == 4 and len(data) == 4:
                need = 4 + int.from_bytes(data, "little")
                if need - 4 > wire.MAX_FRAME:
                    raise WireError("reply too large")
        return wire.unpack(bytes(data[4:]))

    # -- calling ------------------------------------------------------------------------
    #: seconds a function that relies on a timed-out one gets, on tiny inputs, to show it does not hang too
    PROBE_TIMEOUT = 1.0

    def _hangs_with(self, function):
        """If `function` relies on a function that timed out, probe it on tiny inputs first.

        A looping rnn_step then costs rnn_forward one short probe, not a second full timeout.
        """
        if function in self.cleared:
            return
        self.cleared.add(function)
        hung = [d for d in _relies_on(function) if isinstance(self.given_up.get(d), TimedOut)]
        if not hung:
            return
        from .inputs import SIGNATURES, make_inputs

        if function not in SIGNATURES:
            return
        args = make_inputs(function, 0, N=1, T=2, D=1, H=1, C=1, F=1, T_fixed=1, t=0)
        saved, self.timeout = self.timeout, self.PROBE_TIMEOUT
        try:
            self.call(function, args, {}, fresh=True)
        except TimedOut:
            failure = TimedOut(function, f"did not finish on a tiny input either: it relies on {hung[0]}, which "
                                         f"timed out; fix {hung[0]} first")
            self.given_up[function] = failure
            raise failure from None
        except CallFailed:
            pass
        finally:
            self.timeout = saved

    def call(self, function, args, kwargs, *, fresh=False, remember=True):
        """Run `function` in the worker. Identical calls are answered from memory unless `fresh`;
        remember=False neither looks in nor adds to that memory (one-off inputs, e.g. training batches)."""
        if function in self.given_up:
            raise self.given_up[function]
        self._hangs_with(function)
        module = self.submission.module_of(function)
        blobs = []
        header = {"op": "call", "function": function, "module": module,
                  "args": [wire.encode(a, blobs) for a in args],
                  "kwargs": {k: wire.encode(v, blobs) for k, v in kwargs.items()},
                  "trace": self.calls_of(function) is None}  # what it calls is learned once (tracing costs time)
        key = None
        if remember and not any(isinstance(v, Bound) for v in (*args, *kwargs.values())):
            key = _digest_encoded(function, header["args"], header["kwargs"], blobs)
            if not fresh and key in self.memo:
                value, self.last = self.memo[key]
                self._printed(function, self.last.stdout)
                return value
        try:
            value = self._call(function, header, blobs, retry=True)
        except CallFailed as exc:
            self._printed(function, exc.stdout)
            self._saw_calls(function, getattr(exc, "calls", ()))
            raise
        self._printed(function, self.last.stdout)
        self._saw_calls(function, self.last.calls)
        if key is not None and self._reply_size <= self.MEMO_LIMIT:
            self.memo[key] = (freeze(value), self.last)
        return value

    #: replies larger than this are never kept in memory
    MEMO_LIMIT = 1 << 20

    def _import(self, module):
        """Load `module` in the worker on its own, under the time limit."""
        if module in self.imported:
            return
        self.imported.add(module)
        proc = self._ensure()
        try:
            reply = self._exchange(proc, {"op": "import", "module": module}, (), self.timeout)  # counts to the budget
            if isinstance(reply[0], dict) and reply[0].get("ok"):
                self._printed(f"{module}.py, on import", clean_text(reply[0].get("stdout", "")))
            elif isinstance(reply[0], dict) and reply[0].get("error") == "load_error":
                self.failed[module] = clean_text(reply[0].get("message", ""))
        except TimeoutError:
            self._stop()
            for function in [f for f in kit.module_of() if self.submission.module_of(f) == module]:
                self.given_up[function] = TimedOut(function, f"could not be called: importing {module}.py did not "
                                                             f"finish within {self.timeout:g} s (code at the top "
                                                             f"level of the file that loops or waits?)")
        except (EOFError, OSError, WireError):
            self._stop()  # a crash at import shows up, with its reason, at the first call

    def _over_budget(self, function):
        return TimedOut(function, f"was stopped: the submission's calls have taken {self.spent:.0f} s in all, the "
                                  f"most one submission may use ({self.budget:g} s); every later call is refused "
                                  f"too (code that waits or loops on every call?)")

    def _exchange(self, proc, header, blobs, limit):
        """Send one request and wait at most `limit` seconds for its reply; the time counts to `spent`.

        While it waits, a stand-in in the worker may ask for a function of a module that did
        not load (child._stand_in); each such question is answered here (`_stand_in`).
        """
        started = time.monotonic()
        try:
            wire.write_frame(proc.to_worker, wire.pack(header, blobs))
            while True:
                reply, reply_blobs = self._receive(started + limit)
                if "callback" not in reply:
                    return reply, reply_blobs
                wire.write_frame(proc.to_worker, wire.pack(*self._stand_in(reply, reply_blobs)))
        finally:
            self.spent += time.monotonic() - started

    #: stand-in questions answered per submission, at most (each is a reference call in this process)
    MAX_STAND_INS = 20000

    def _stand_in(self, header, blobs):
        """The reply to a stand-in's question: the reference's value, only for a module this process saw fail."""
        name = header.get("callback")
        if not isinstance(name, str) or name not in kit.module_of():
            return {"error": "no such exercise function"}, ()
        module = self.submission.module_of(name)
        if module not in self.imported:
            return {"needs_module": module}, ()  # not known yet: the call is made again once it is imported
        if module not in self.failed:
            return {"error": f"{module}.py loads, so its {name} is the submission's own"}, ()
        stand = getattr(self.reference, "stand_in", None)
        if stand is None:
            return {"error": f"{module}.py does not load, and nothing here can stand in for its {name}: "
                             f"fix {module}.py first"}, ()
        if len(self.stood_in) >= self.MAX_STAND_INS:
            return {"error": f"{name}: too many calls into {module}.py, which does not load"}, ()
        try:
            args = wire.decode({"t": "list", "v": header.get("args", [])}, blobs)
            kwargs = {str(k): wire.decode(v, blobs) for k, v in dict(header.get("kwargs") or {}).items()}
            out = []
            tree = wire.encode(stand(name, args, kwargs), out)
        except Exception as exc:  # noqa: BLE001 - whatever the submission sent, it gets a reason, not a value
            return {"error": clean_text(f"{name} could not stand in for these arguments: "
                                        f"{type(exc).__name__}: {exc}")}, ()
        self.stood_in.append(name)
        return {"ok": tree}, out

    def _call(self, function, header, blobs, retry=False):
        if self.spent >= self.budget:  # loading and importing count too: every restart re-imports
            raise self._over_budget(function)
        self._import(self.submission.module_of(function))
        if function in self.given_up:
            raise self.given_up[function]
        if self.spent >= self.budget:
            raise self._over_budget(function)
        proc = self._ensure()
        self.calls += 1
        limit = min(self.timeout, self.budget - self.spent)
        try:
            reply, reply_blobs = self._exchange(proc, header, blobs, limit)
        except TimeoutError:
            self._stop()
            if limit < self.timeout:  # cut short by the submission's budget, not by its own timeout
                raise self._over_budget(function) from None
            failure = TimedOut(function, f"did not finish within {self.timeout:g} s (an infinite loop, or far "
                                         f"too slow); later checks that call {function} are skipped")
            self.given_up[function] = failure
            raise failure from None
        except (EOFError, OSError, WireError) as exc:
            reason = self._proc.describe_exit() if self._proc else str(exc)
            self._stop()
            if retry and not isinstance(exc, WireError):
                # the worker may have been broken by an earlier call (a closed pipe, a pending alarm):
                # try once more on a fresh one before blaming this function
                return self._call(function, header, blobs)
            count = self.crashes[function] = self.crashes.get(function, 0) + 1
            failure = WorkerCrashed(function, reason if not isinstance(exc, WireError) else f"sent back garbage ({exc})")
            if count >= 2:
                self.given_up[function] = failure
            raise failure from None
        self._reply_size = sum(len(b) for b in reply_blobs)
        if reply.get("error") == "needs_module" and reply.get("module") in kit.MODULES \
                and reply["module"] not in self.imported:
            self._import(reply["module"])  # now the stand-in can be answered: call again
            return self._call(function, header, blobs, retry=retry)
        if self.submission.module_of(function) in self.failed and "error" not in reply:
            reply = {"error": "load_error", "message": self.failed[self.submission.module_of(function)]}
        if "error" in reply:
            _raise_for(function, reply)
        self.last = CallInfo.from_reply(reply)
        try:
            return _cleaned(wire.decode(reply.get("ok"), reply_blobs))
        except WireError as exc:
            raise WorkerCrashed(function, f"sent back a value that is not a plain array ({exc})") from None


class LocalImpl(_Callable):
    """Functions that already live in this process (a notebook's namespace)."""

    def __init__(self, namespace, label="notebook"):
        self.namespace, self.label = namespace, label

    @staticmethod
    def cpu_seconds():
        """CPU seconds of this process (the notebook's functions run here)."""
        return time.process_time()

    def call(self, function, args, kwargs, *, fresh=False, remember=True):
        import copy

        request = {"function": function, "module": kit.module_of()[function],
                   "args": copy.deepcopy(list(args)), "kwargs": copy.deepcopy(dict(kwargs))}
        out = child._CappedText()
        reply, blobs = child._handle_call(self, request, out)
        self._saw_calls(function, called(reply))
        if "error" in reply:
            _raise_for(function, reply)
        self.last = CallInfo.from_reply(reply)
        return _cleaned(wire.decode(reply["ok"], blobs))

    # the interface child._handle_call expects of a submission
    filenames = frozenset()

    def exercise_functions(self):
        return [(name, f) for name, f in self.namespace.items() if name in kit.module_of() and callable(f)]

    def function(self, name, module):
        target = self.namespace.get(name)
        if not callable(target):
            raise child._Missing(f"{name} is not defined yet (run the cell that defines it)")
        return target

    def resolve(self, value):
        return child.resolve_bound(value, lambda name: self.function(name, ""))
