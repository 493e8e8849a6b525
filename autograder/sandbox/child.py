"""The worker's side: load a submission from source text and answer calls into it.

Protocol (grading process -> worker, then worker -> grading process), framed by wire.py:
  {"op": "load", "modules": {name: [source, filename]}, "package": name}  -> {"ok": {name: error or None}}
  {"op": "import", "module": m}  -> {"ok": true} or {"error": "load_error", ...}
  {"op": "call", "function": f, "module": m, "args": [...], "kwargs": {...}, "stand_ins": [g, ...]}
      -> {"ok": value, "stdout": text} or {"error": kind, "message": ..., "traceback": ..., "stdout": ...}
      ("stand_ins", optional: during this call, the submission's own g is replaced by a stand-in)
  {"op": "exit"}
Error kinds: not_implemented, exception, missing, load_error, exit, needs_module.
While a call runs, a stand-in (for a function of a module that did not load, or one named
in "stand_ins") may ask
(worker -> grading process) {"callback": f, "args": [...], "kwargs": {...}} and gets back
{"ok": value}, {"error": text} or {"needs_module": m} (import m first, then call again).

Standard library and numpy only (it runs inside the sandbox). Whatever it reports, the
submission could have changed: the grading process trusts only the values' types and
shapes, checked on arrival.
"""
import io
import os
import sys
import traceback

import numpy as np

try:
    from .wire import (_ASCONTIGUOUS, _NDARRAY, MAX_TEXT, Bound, decode, encode, pack,  # noqa: F401
                       read_frame, unpack, write_frame)
except ImportError:  # run from the sandbox's folder, not as a package
    from wire import (_ASCONTIGUOUS, _NDARRAY, MAX_TEXT, Bound, decode, encode, pack,  # noqa: F401
                      read_frame, unpack, write_frame)

# ---------------------------------------------------------------------------------------
# The kit's own functions a check can hand to a submission (e.g. a known forward pass for
# first_input_influence), so a memory exercise is tested on its own.

def _linear_forward(x, A, M):
    """h_t = h_{t-1} @ M + x_t @ A with h_{-1} = 0: a linear recurrence, x (N, T, D) -> (N, T, H)."""
    x = np.asarray(x, dtype=np.float64)
    hs = np.zeros((x.shape[0], x.shape[1], A.shape[1]))
    h = np.zeros((x.shape[0], A.shape[1]))
    for t in range(x.shape[1]):
        h = h @ M + x[:, t] @ A
        hs[:, t] = h
    return hs


def _squared_forward(x):
    """x (N, T, D) -> cumulative sum of x**2 over time, as (N, T, D): a nonlinear probe."""
    return np.cumsum(np.asarray(x, dtype=np.float64) ** 2, axis=1)


def _sine_forward(x):
    """x (N, T, D) -> cumulative sum of sin(x) over time: curved, so the finite-difference step h matters."""
    return np.cumsum(np.sin(np.asarray(x, dtype=np.float64)), axis=1)


def _linear_backward(dhs, x, h0, A, M):
    """The backward pass of `_linear_forward` (h0 must be zeros): (dx (N, T, D), dh0 (N, H)).

    Lets a check test gradient_to_first_step on a recurrence whose gradients are known,
    without the student's own backward pass.
    """
    dhs, x = np.asarray(dhs, dtype=np.float64), np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    carried = np.zeros((x.shape[0], A.shape[1]))
    for t in reversed(range(x.shape[1])):
        carried = carried + dhs[:, t]  # d loss / d h_t
        dx[:, t] = carried @ A.T
        carried = carried @ M.T
    return dx, carried


PROBES = {"linear": _linear_forward, "squared": _squared_forward, "sine": _sine_forward,
          "linear_backward": _linear_backward}


def resolve_bound(value, lookup):
    """`value` with every Bound in it (also inside tuples and lists) turned into a callable.

    A probe comes from PROBES; a student function from lookup(name).
    """
    if isinstance(value, Bound):
        function = PROBES[value.name] if value.kind == "probe" else lookup(value.name)
        kwargs = {k: resolve_bound(v, lookup) for k, v in value.kwargs.items()}

        def bound(*args, **more):
            return function(*args, **kwargs, **more)
        bound.__name__ = value.name
        return bound
    if isinstance(value, (tuple, list)):
        return type(value)(resolve_bound(v, lookup) for v in value)
    return value


# ---------------------------------------------------------------------------------------
# The worker's side.

class _CappedText(io.TextIOBase):
    def __init__(self):
        self.parts, self.size = [], 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        if self.size < MAX_TEXT:
            self.parts.append(text[:MAX_TEXT - self.size])
        self.size += len(text)
        return len(text)

    def take(self):
        text = "".join(self.parts)
        if self.size > MAX_TEXT:
            text += f"\n... ({self.size - MAX_TEXT} more characters not shown)"
        self.parts, self.size = [], 0
        return text


def _student_traceback(exc, filenames):
    """The traceback of `exc`, keeping only frames in the submission's own files."""
    here = os.path.dirname(os.path.abspath(__file__))

    def theirs(frame):
        if filenames:
            return frame.filename in filenames
        return not (frame.filename.startswith((here, "<frozen")) or "site-packages" in frame.filename)

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if theirs(f)]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines)
    return text[-MAX_TEXT:]


class _Submission:
    """The submitted modules, as a package built from source text (no files needed)."""

    def __init__(self, package, modules):
        import importlib.abc
        import importlib.util
        import types

        self.package, self.sources, self.errors, self.loaded = package, modules, {}, {}
        self.filenames = {filename for _src, filename in modules.values()}
        root = types.ModuleType(package)
        root.__path__ = []
        root.__package__ = package
        sys.modules[package] = root
        sources = self.sources

        class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
            def find_spec(self, fullname, path=None, target=None):
                prefix, _, name = fullname.rpartition(".")
                if prefix == package and name in sources:
                    return importlib.util.spec_from_loader(fullname, self, origin=sources[name][1])
                return None

            def create_module(self, spec):
                return None

            def exec_module(self, module):
                name = module.__name__.rpartition(".")[2]
                source, filename = sources[name]
                module.__file__ = filename
                import linecache  # so tracebacks show the student's lines
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                try:
                    exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
                except BaseException as exc:  # SyntaxError, an exception or sys.exit() at import
                    errors[name] = exc  # its own functions report this error...
                    for function, home in _module_of.items():  # ...while other modules get stand-ins
                        if home == name:
                            module.__dict__[function] = _stand_in(function)

        errors = self.errors
        sys.meta_path.insert(0, Finder())

    def module(self, name):
        if name in self.loaded:
            return self.loaded[name]
        if name in self.errors:
            raise self.errors[name]
        import importlib
        try:
            module = importlib.import_module(f"{self.package}.{name}")
        except BaseException as exc:  # e.g. a module it imports that is not handed in
            self.errors[name] = exc
            raise
        if name in self.errors:  # it did not load (exec_module kept the error and left stand-ins)
            raise self.errors[name]
        self.loaded[name] = module
        return module

    def resolve(self, value):
        return resolve_bound(value, lambda name: self.function(name, _module_of.get(name, "")))

    def exercise_functions(self):
        """[(name, function)] of every exercise function in the modules loaded so far, copies included (a
        notebook's bptt part carries its own lstm_gates: a call to it is a call to lstm_gates)."""
        out = []
        for module in self.loaded.values():
            for name in _module_of:
                function = module.__dict__.get(name)
                if callable(function):
                    out.append((name, function))
        return out

    def function(self, name, module):
        mod = self.module(module)
        function = getattr(mod, name, None)
        if function is None or not callable(function):
            raise _Missing(f"{module}.py does not define a function named {name}")
        return function


class _Missing(Exception):
    pass


class _NeedsModule(BaseException):
    """The grading process answers a stand-in only once it has seen that module fail to load itself."""

    def __init__(self, module):
        super().__init__(module)
        self.module = module


#: (fd from the grading process, fd to it), set by serve(): the channel stand-ins ask through
_PARENT = []


def _stand_in(name):
    """What another module imports in place of `name` when `name`'s own module does not load.

    Calling it asks the grading process, which answers with the reference's value for these
    arguments (only values cross; the grading process checks that the module really failed
    to load). So one file that does not load costs its own points, not those of every file
    that imports it.
    """
    def stand_in(*args, **kwargs):
        fd_in, fd_out = _PARENT
        blobs = []
        header = {"callback": name, "args": [encode(a, blobs) for a in args],
                  "kwargs": {k: encode(v, blobs) for k, v in kwargs.items()}}
        write_frame(fd_out, pack(header, blobs))
        reply, reply_blobs = unpack(read_frame(fd_in))
        if reply.get("needs_module"):
            raise _NeedsModule(str(reply["needs_module"]))
        if "error" in reply:
            raise RuntimeError(str(reply["error"]))
        return decode(reply.get("ok"), reply_blobs)
    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


_module_of = {}


def _reply_error(kind, message, tb="", stdout=""):
    return {"error": kind, "message": message[:MAX_TEXT], "traceback": tb, "stdout": stdout}


class _Calls:
    """The exercise functions a call of `top` calls itself (directly, not through another), seen by sys.setprofile.

    "Fix X first" advice is then about what the student's code really calls, not about the
    reference's call graph. Code the submission runs could switch this off; it would only
    lose itself that advice.
    """

    def __init__(self, functions, top):
        self.names, self.tops = {}, set()
        for name, function in functions:
            code = getattr(function, "__code__", None)
            if code is None:
                continue
            if name == top:
                self.tops.add(code)  # the function called, in whichever module it is defined
            else:
                self.names[code] = name
        self.seen = []

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code in self.names and frame.f_back is not None \
                and frame.f_back.f_code in self.tops:
            name = self.names[frame.f_code]
            if name not in self.seen:
                self.seen.append(name)


def _handle_call(submission, request, out):
    name, module = request.get("function"), request.get("module")
    try:
        function = submission.function(name, module)
    except _Missing as exc:
        return _reply_error("missing", str(exc)), []
    except BaseException as exc:
        kind = "load_error"
        return _reply_error(kind, f"{module}.py could not be loaded: {type(exc).__name__}: {exc}",
                            _student_traceback(exc, submission.filenames), out.take()), []
    args = submission.resolve(request["args"])
    kwargs = submission.resolve(request["kwargs"])
    before = _snapshot(args, kwargs)
    import warnings
    calls = _Calls(submission.exercise_functions() if request.get("trace", True) else (), name)
    swapped = _swap_in_stand_ins(submission, [d for d in request.get("stand_ins") or () if d != name])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sys.setprofile(calls if calls.names else None)
            try:
                value = function(*args, **kwargs)
            finally:
                sys.setprofile(None)
                for namespace, dep, own in swapped:
                    namespace[dep] = own
    except _NeedsModule as exc:
        return {"error": "needs_module", "module": exc.module, "message": "", "stdout": out.take()}, []
    except NotImplementedError as exc:
        return dict(_reply_error("not_implemented", str(exc) or f"{name} is not implemented yet",
                                 _student_traceback(exc, submission.filenames), out.take()), calls=calls.seen), []
    except SystemExit as exc:
        return dict(_reply_error("exit", f"{name} called sys.exit({exc.code!r})",
                                 _student_traceback(exc, submission.filenames), out.take()), calls=calls.seen), []
    except BaseException as exc:
        return dict(_reply_error("exception", f"{type(exc).__name__}: {exc}",
                                 _student_traceback(exc, submission.filenames), out.take()), calls=calls.seen), []
    blobs = []
    try:
        tree = encode(value, blobs, strict=False)
    except BaseException as exc:  # e.g. a huge array: refuse it, never crash
        return _reply_error("exception", f"the value {name} returned could not be sent back: {exc}",
                            stdout=out.take()), []
    notes = []
    for w in caught[:5]:
        try:
            notes.append(f"{w.category.__name__}: {w.message}"[:300])
        except BaseException:
            notes.append("a warning")
    return {"ok": tree, "stdout": out.take(), "warnings": notes, "calls": calls.seen,
            "mutated": _changed(before, function, args, kwargs)}, blobs


def _swap_in_stand_ins(submission, names):
    """For one call: every loaded module's binding of each of `names` (exercise functions) becomes a stand-in
    that the grading process answers with the reference; [(namespace, name, own function)] to put back.

    Asked for in a worker of its own (client.WorkerImpl._with_reference), so nothing a stand-in
    answers stays where the submission's own functions are graded.
    """
    swapped = []
    for name in names:
        if name not in _module_of:
            continue
        for module in submission.loaded.values():
            own = module.__dict__.get(name)
            if callable(own):
                swapped.append((module.__dict__, name, own))
                module.__dict__[name] = _stand_in(name)
    return swapped


def _snapshot(args, kwargs):
    """Raw bytes of every array argument (bytes compare cannot be monkeypatched)."""
    return {key: bytes(memoryview(_ASCONTIGUOUS(v)).cast("B")) for key, v in _arrays(args, kwargs)}


def _arrays(args, kwargs):
    for i, v in enumerate(args):
        if type(v) is _NDARRAY:
            yield i, v
    for k, v in kwargs.items():
        if type(v) is _NDARRAY:
            yield k, v


def _changed(before, function, args, kwargs):
    """Names of the array arguments whose bytes changed during the call."""
    after = _snapshot(args, kwargs)
    changed = [key for key in before if after.get(key) != before[key]]
    if not changed:
        return []
    try:
        import inspect
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    return [(names[k] if k < len(names) else f"argument {k + 1}") if isinstance(k, int) else k for k in changed]


def _calm_signals():
    """Undo timers and handlers a call may have left armed, so they cannot strike during the next call."""
    import signal

    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        try:
            signal.setitimer(timer, 0)
        except (OSError, ValueError):
            pass
    for name in ("SIGALRM", "SIGVTALRM", "SIGPROF", "SIGTERM", "SIGINT", "SIGUSR1", "SIGUSR2", "SIGPIPE"):
        try:
            signal.signal(getattr(signal, name), signal.SIG_DFL if name != "SIGINT" else signal.default_int_handler)
        except (OSError, ValueError, AttributeError):
            pass


# ---------------------------------------------------------------------------------------
# Attempts: what the submission tried that honest code for these exercises never does (open a
# file outside the Python installation, a socket, a process, the kit). Seen by an audit hook,
# which cannot be removed once added, whether or not the sandbox then refused and whether or
# not the code caught the error; sent with each reply, for a person to look at in the class
# report. Nothing here changes a score.

#: [(event, function being called, detail)] not yet sent; at most MAX_ATTEMPTS per worker
_ATTEMPTS = []
_SENT = [0]
MAX_ATTEMPTS = 20
_CALLING = [""]
_EVENTS = {"open": "open", "socket.__new__": "network", "socket.connect": "network", "socket.getaddrinfo": "network",
           "subprocess.Popen": "process", "os.system": "process", "os.exec": "process", "os.posix_spawn": "process",
           "os.spawn": "process", "os.fork": "process", "os.forkpty": "process", "os.kill": "process",
           "os.killpg": "process", "import": "import"}
_KIT_NAMES = ("solutions", "autograder", "tests")


def _audit(event, args):
    kind = _EVENTS.get(event)
    if kind is None or not _CALLING[0] or _SENT[0] + len(_ATTEMPTS) >= MAX_ATTEMPTS:
        return
    try:
        if kind == "open":
            path = args[0]
            if not isinstance(path, (str, bytes)):
                return
            path = os.fsdecode(path)
            if path.startswith(_HONEST_PREFIXES):
                return
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            detail = f"{'write' if writes else 'read'} {path[:300]}"
        elif kind == "import":
            if str(args[0]).partition(".")[0] not in _KIT_NAMES:
                return
            detail = f"import {str(args[0])[:100]}"
        else:
            detail = f"{event} {repr(args[:2])[:200]}"
        _ATTEMPTS.append((kind, _CALLING[0], detail))
    except Exception:  # noqa: BLE001 - the hook must never break the call it watches
        pass


def _honest_prefixes():
    import numpy

    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(numpy.__file__))}
    return tuple(sorted(r.rstrip("/") + "/" for r in roots if r)) + ("/dev/null", "/dev/urandom", "/proc/self/")


_HONEST_PREFIXES = ()


def _new_attempts():
    """The attempts seen since the last reply, as lists for the wire."""
    out = [list(a) for a in _ATTEMPTS]
    _SENT[0] += len(_ATTEMPTS)
    _ATTEMPTS.clear()
    return out


def serve(fd_in, fd_out):
    """Answer requests until told to exit or the parent goes away."""
    global _HONEST_PREFIXES
    _PARENT[:] = [fd_in, fd_out]
    _HONEST_PREFIXES = _honest_prefixes()
    sys.addaudithook(_audit)  # before any student code: it cannot be taken away
    out = _CappedText()
    submission = None
    while True:
        try:
            header, blobs = unpack(read_frame(fd_in))
        except EOFError:
            return
        op = header.get("op")
        if op == "exit":
            return
        if op == "load":
            _module_of.clear()
            _module_of.update(header.get("module_of", {}))
            submission = _Submission(header["package"], {k: tuple(v) for k, v in header["modules"].items()})
            write_frame(fd_out, pack({"ok": True}))
            continue
        if op == "import":  # load one module now, so a hang at import costs one timeout, not one per function
            sys.stdout = sys.stderr = out  # what the module prints at its top level comes back too
            _CALLING[0] = f"{header.get('module')}.py, on import"
            try:
                submission.module(str(header.get("module")))
                reply = {"ok": True, "stdout": out.take()}
            except BaseException as exc:  # what it printed stays in `out`: the first call's load error carries it
                reply = {"error": "load_error", "message": f"{type(exc).__name__}: {exc}"[:MAX_TEXT]}
            finally:
                _CALLING[0] = ""
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            if _ATTEMPTS:
                reply = dict(reply, attempts=_new_attempts())
            write_frame(fd_out, pack(reply))
            continue
        if op == "call":
            request = dict(header)
            request["args"] = decode({"t": "list", "v": header.get("args", [])}, blobs)
            request["kwargs"] = {k: decode(v, blobs) for k, v in header.get("kwargs", {}).items()}
            sys.stdout = sys.stderr = out
            _CALLING[0] = str(request.get("function", ""))
            try:
                reply, reply_blobs = _handle_call(submission, request, out)
            finally:
                _CALLING[0] = ""
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                _calm_signals()
            if _ATTEMPTS:
                reply = dict(reply, attempts=_new_attempts())
            write_frame(fd_out, pack(reply, reply_blobs))
            continue
        write_frame(fd_out, pack(_reply_error("protocol", f"unknown op {op!r}")))


