"""The worker: the only process that runs a submission's code.

This file stands alone: it imports nothing from the kit but only the standard library
and numpy, so it can run as ``python -I worker.py`` inside a sandbox that sees nothing
else of the kit. The grading process imports it too, for the wire format below, and then
only ever uses `encode`, `decode`, `read_frame` and `write_frame`.

Wire format. A frame is ``u32 length`` + payload. A payload is ``u32 header length`` +
a UTF-8 JSON header + the blobs the header lists. Every blob is one array in ``.npy``
format. Values travel as a JSON tree whose array leaves point at blobs. Nothing is
pickled, ever. `decode` checks each ``.npy`` header (magic, version, dtype, shape, size)
before numpy reads it, and loads it with ``allow_pickle=False``.

Protocol (parent -> worker, then worker -> parent):
  {"op": "load", "modules": {name: [source, filename]}, "package": name}  -> {"ok": {name: error or None}}
  {"op": "call", "function": f, "module": m, "args": [...], "kwargs": {...}}
      -> {"ok": value, "stdout": text} or {"error": kind, "message": ..., "traceback": ..., "stdout": ...}
  {"op": "exit"}
Error kinds: not_implemented, exception, missing, load_error, exit.
"""
import io
import json
import os
import re
import struct
import sys
import tempfile
import traceback

import numpy as np

MAX_FRAME = 64 * 1024 * 1024       # bytes in one frame from either side
MAX_HEADER = 4 * 1024 * 1024       # bytes of JSON in one frame
MAX_TEXT = 4000                    # characters of printed output or repr kept per call
#: dtypes an array may have on the wire; anything else (objects, strings, records) is refused
WIRE_DTYPES = {"<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}


# numpy names bound once, at start-up: a submission that rebinds np.ndarray changes nothing here
_NDARRAY, _ASCONTIGUOUS, _FROMBUFFER, _DTYPE, _ASARRAY = (np.ndarray, np.ascontiguousarray, np.frombuffer,
                                                          np.dtype, np.asarray)
_BOOLS = (bool, np.bool_)
_SCALARS = (float, np.float64, np.float32, np.int64, np.int32)


class WireError(ValueError):
    """A frame or value that breaks the wire format."""


class Foreign:
    """A returned value that is not an array, a number or a tuple of them.

    Only its type name and a short description cross the wire.
    """

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


class Bound:
    """A function for the worker to pass to a submission's function.

    ``Bound("student", "rnn_forward", h0=...)`` is the submission's own ``rnn_forward``
    with those keyword arguments; ``Bound("probe", "linear", A=..., M=...)`` is one of
    the kit's `PROBES`. Called with positional arguments first.
    """

    def __init__(self, kind, name, **kwargs):
        self.kind, self.name, self.kwargs = kind, name, kwargs


_HEADERS = {}


def _npy_bytes(array):
    """An array as .npy version 1.0 bytes (C order), exactly as numpy's own writer lays them out."""
    array = array if array.flags.c_contiguous else _ASCONTIGUOUS(array)  # keeps 0-d arrays 0-d
    key = (array.dtype.str, array.shape)
    head = _HEADERS.get(key)
    if head is None:
        text = f"{{'descr': '{array.dtype.str}', 'fortran_order': False, 'shape': {tuple(array.shape)!r}, }}"
        pad = 64 - (10 + len(text) + 1) % 64
        text = text + " " * (pad % 64) + "\n"
        head = _NPY_MAGIC + len(text).to_bytes(2, "little") + text.encode("latin-1")
        if len(_HEADERS) < 4096:
            _HEADERS[key] = head
    return head + array.tobytes()


_NPY_MAGIC = b"\x93NUMPY\x01\x00"
_NPY_HEADER = re.compile(r"\{'descr': '([^']{1,8})', 'fortran_order': (False|True), 'shape': \(([0-9, ]{0,120})\), \} *\n")


def _load_npy(blob):
    """Read one .npy blob: strict header check, then the raw numbers (no pickle can be involved).

    Only version 1.0 headers in numpy's own layout are accepted; the dtype must be a wire
    dtype, the shape at most 8-D, and the data exactly as long as the header says.
    """
    if len(blob) < 10 or blob[:8] != _NPY_MAGIC:
        raise WireError("not a .npy version 1.0 array")
    n = int.from_bytes(blob[8:10], "little")
    match = _NPY_HEADER.fullmatch(blob[10:10 + n].decode("latin-1"))
    if not match:
        raise WireError("bad .npy header")
    descr, fortran, shape_text = match.groups()
    if descr not in WIRE_DTYPES:
        raise WireError(f"refused an array of dtype {descr}")
    shape = tuple(int(p) for p in shape_text.replace(" ", "").split(",") if p)
    if len(shape) > 8:
        raise WireError(f"refused an array of shape {shape}")
    dtype = _DTYPE(descr)
    count = 1
    for size in shape:
        count *= size
    data = blob[10 + n:]
    if count * dtype.itemsize != len(data):
        raise WireError(f"array data is {len(data)} bytes, header says {count * dtype.itemsize}")
    array = _FROMBUFFER(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran == "True" else "C")
    return array.copy()  # owns its memory, writable, C order


def encode(value, blobs, *, strict=True):
    """Turn a value into a JSON tree, appending arrays to `blobs` as .npy bytes.

    With strict=False (the worker encoding a submission's return value) anything that
    is not exactly an ndarray of a wire dtype, a number, None, a str, or a tuple/list of
    those becomes a Foreign description instead of raising.
    """
    kind = type(value)
    if kind is _NDARRAY:
        if value.dtype.str in WIRE_DTYPES:
            blobs.append(_npy_bytes(value))
            return {"t": "a", "i": len(blobs) - 1}
        if strict:
            raise WireError(f"cannot send an array of dtype {value.dtype}")
        return {"t": "x", "type": f"ndarray of dtype {value.dtype}", "text": f"shape {value.shape}"}
    if kind in _BOOLS:
        return {"t": "b", "v": bool(value)}
    if kind is int:
        return {"t": "i", "v": value} if abs(value) < 2**53 else {"t": "f", "v": float(value)}
    if kind in _SCALARS:
        blobs.append(_npy_bytes(_ASARRAY(value)))
        return {"t": "s", "i": len(blobs) - 1}  # a 0-d array: NaN and inf survive
    if value is None:
        return {"t": "n"}
    if kind is str:
        return {"t": "str", "v": value[:MAX_TEXT]}
    if kind in (tuple, list):
        return {"t": "tuple" if kind is tuple else "list", "v": [encode(v, blobs, strict=strict) for v in value]}
    if kind is Bound:
        return {"t": "bound", "kind": value.kind, "name": value.name,
                "kwargs": {k: encode(v, blobs) for k, v in value.kwargs.items()}}
    if kind is dict and not strict:
        return {"t": "x", "type": "dict", "text": f"keys {list(value)[:10]!r}"[:MAX_TEXT]}
    if strict:
        raise WireError(f"cannot send a {kind.__name__}")
    try:
        text = repr(value)[:200]
    except BaseException:
        text = "(its repr() failed)"
    return {"t": "x", "type": getattr(kind, "__name__", "object"), "text": text}


def decode(tree, blobs, depth=0):
    """Inverse of `encode`, checking every node; raises WireError on anything unexpected."""
    if depth > 20 or not isinstance(tree, dict):
        raise WireError("malformed value")
    t = tree.get("t")
    if t in ("a", "s"):
        index = tree.get("i")
        if not isinstance(index, int) or not 0 <= index < len(blobs):
            raise WireError("array index out of range")
        array = _load_npy(blobs[index])
        if t == "s":
            if array.ndim != 0:
                raise WireError("a scalar must be 0-d")
            return array[()]
        return array
    if t in ("b", "i", "f", "str"):
        v = tree.get("v")
        want = {"b": bool, "i": int, "f": float, "str": str}[t]
        if type(v) is not want:
            raise WireError("malformed scalar")
        return v
    if t == "n":
        return None
    if t in ("tuple", "list"):
        items = tree.get("v")
        if not isinstance(items, list) or len(items) > 64:
            raise WireError("malformed sequence")
        values = [decode(v, blobs, depth + 1) for v in items]
        return tuple(values) if t == "tuple" else values
    if t == "x":
        return Foreign(str(tree.get("type"))[:100], str(tree.get("text"))[:MAX_TEXT])
    if t == "bound":
        kwargs = tree.get("kwargs")
        if not isinstance(kwargs, dict):
            raise WireError("malformed bound function")
        return Bound(str(tree.get("kind")), str(tree.get("name")),
                     **{str(k): decode(v, blobs, depth + 1) for k, v in kwargs.items()})
    raise WireError(f"unknown value tag {t!r}")


def pack(header, blobs=()):
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, allow_nan=False).encode()
    return b"".join([struct.pack("<I", len(head)), head, *blobs])


def unpack(payload):
    if len(payload) < 4:
        raise WireError("short payload")
    (n,) = struct.unpack("<I", payload[:4])
    if n > MAX_HEADER or 4 + n > len(payload):
        raise WireError("header too large")
    try:
        header = json.loads(payload[4:4 + n].decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"header is not JSON: {exc}") from None
    sizes = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise WireError("malformed blob list")
    if 4 + n + sum(sizes) != len(payload):
        raise WireError("blob sizes do not add up")
    blobs, at = [], 4 + n
    for size in sizes:
        blobs.append(payload[at:at + size])
        at += size
    return header, blobs


def write_frame(fd, payload):
    data = struct.pack("<I", len(payload)) + payload
    view = memoryview(data)
    while view:
        sent = os.write(fd, view)
        view = view[sent:]


def _read_exactly(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd):
    (n,) = struct.unpack("<I", _read_exactly(fd, 4))
    if n > MAX_FRAME:
        raise WireError(f"frame of {n} bytes is over the limit")
    return _read_exactly(fd, n)


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
                source, filename = sources[module.__name__.rpartition(".")[2]]
                module.__file__ = filename
                import linecache  # so tracebacks show the student's lines
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)

        sys.meta_path.insert(0, Finder())

    def module(self, name):
        if name in self.loaded:
            return self.loaded[name]
        if name in self.errors:
            raise self.errors[name]
        import importlib
        try:
            module = importlib.import_module(f"{self.package}.{name}")
        except BaseException as exc:  # SyntaxError, an exception at import, sys.exit() at import
            self.errors[name] = exc
            raise
        self.loaded[name] = module
        return module

    def resolve(self, value):
        return resolve_bound(value, lambda name: self.function(name, _module_of.get(name, "")))

    def function(self, name, module):
        mod = self.module(module)
        function = getattr(mod, name, None)
        if function is None or not callable(function):
            raise _Missing(f"{module}.py does not define a function named {name}")
        return function


class _Missing(Exception):
    pass


_module_of = {}


def _reply_error(kind, message, tb="", stdout=""):
    return {"error": kind, "message": message[:MAX_TEXT], "traceback": tb, "stdout": stdout}


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
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = function(*args, **kwargs)
    except NotImplementedError as exc:
        return _reply_error("not_implemented", str(exc) or f"{name} is not implemented yet",
                            _student_traceback(exc, submission.filenames), out.take()), []
    except SystemExit as exc:
        return _reply_error("exit", f"{name} called sys.exit({exc.code!r})",
                            _student_traceback(exc, submission.filenames), out.take()), []
    except BaseException as exc:
        return _reply_error("exception", f"{type(exc).__name__}: {exc}",
                            _student_traceback(exc, submission.filenames), out.take()), []
    blobs = []
    try:
        tree = encode(value, blobs, strict=False)
    except BaseException as exc:  # e.g. a huge array: refuse it, never crash
        return _reply_error("exception", f"the value {name} returned could not be sent back: {exc}"), []
    notes = []
    for w in caught[:5]:
        try:
            notes.append(f"{w.category.__name__}: {w.message}"[:300])
        except BaseException:
            notes.append("a warning")
    return {"ok": tree, "stdout": out.take(), "warnings": notes,
            "mutated": _changed(before, function, args, kwargs)}, blobs


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


def serve(fd_in, fd_out):
    """Answer requests until told to exit or the parent goes away."""
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
            try:
                submission.module(str(header.get("module")))
                reply = {"ok": True}
            except BaseException as exc:
                reply = {"error": "load_error", "message": f"{type(exc).__name__}: {exc}"[:MAX_TEXT]}
            write_frame(fd_out, pack(reply))
            continue
        if op == "call":
            request = dict(header)
            request["args"] = decode({"t": "list", "v": header.get("args", [])}, blobs)
            request["kwargs"] = {k: decode(v, blobs) for k, v in header.get("kwargs", {}).items()}
            sys.stdout = sys.stderr = out
            try:
                reply, reply_blobs = _handle_call(submission, request, out)
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
                _calm_signals()
            write_frame(fd_out, pack(reply, reply_blobs))
            continue
        write_frame(fd_out, pack(_reply_error("protocol", f"unknown op {op!r}")))


# ---------------------------------------------------------------------------------------
# The fork server: one warm process (numpy already imported) that forks a fresh, locked
# down child per submission. Its parent is the kit's grading process, which is trusted.

#: resource limits of every child: (limit name, soft = hard value)
LIMITS = (("RLIMIT_AS", 4 * 1024 ** 3), ("RLIMIT_CPU", 120), ("RLIMIT_FSIZE", 16 * 1024 ** 2),
          ("RLIMIT_NOFILE", 64), ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", 0))
NOBODY = 65534
KIT_PACKAGES = ("solutions", "autograder", "exercises", "tests")


class _KitBlocker:
    """A meta path finder that refuses to import the kit itself (and so its solutions)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in KIT_PACKAGES:
            raise ImportError(f"importing {fullname!r} is not allowed while grading")
        return None


def lock_down():
    """Make this process fit to run untrusted code; return the protections actually applied."""
    import resource

    applied = []
    os.setsid()  # its own process group: killing the group kills anything it managed to start
    if os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            applied.append("uid nobody")
        except OSError:
            pass
    tmp = tempfile.mkdtemp(prefix=f"rnn-work-{os.getpid()}-", dir="/tmp")  # random name: nothing to squat
    os.chdir(tmp)
    os.environ["TMPDIR"] = tmp
    for name, value in LIMITS:
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            applied.append(name)
        except (ValueError, OSError):
            pass
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.meta_path.insert(0, _KitBlocker())
    for name in list(sys.modules):
        if name.partition(".")[0] in KIT_PACKAGES:
            del sys.modules[name]
    if _CONFINE:
        applied += _confine().confine(read=_READABLE, write=[tmp])
    return applied


def _confine():
    """confine.py, beside this file (imported by path: inside bubblewrap this folder is not a package)."""
    try:
        from . import confine
    except ImportError:
        import importlib.util

        spec = importlib.util.spec_from_file_location("_rnn_kit_confine", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "confine.py"))
        confine = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(confine)
    return confine


#: what a worker may read once confined; set by the fork server after its imports (`readable_paths`)
_READABLE = ()
#: False only when the fork server was told --no-confine (RNN_KIT_NO_LANDLOCK=1: to test the weakest level)
_CONFINE = True


def readable_paths():
    """The standard library (without its site-packages), numpy, and every file already mapped.

    Listed entry by entry, so a kit installed into the same site-packages stays unreadable.
    """
    stdlib = os.path.dirname(os.__file__)
    paths = [os.path.join(stdlib, entry) for entry in sorted(os.listdir(stdlib))
             if entry not in ("site-packages", "dist-packages")]
    paths.append(os.path.dirname(np.__file__))
    paths += _confine().mapped_files()
    return tuple(paths) + ("/dev/urandom", "/dev/null")


def _preload():
    """Import what any child may need, while the files are still readable by the server."""
    import importlib.abc  # noqa: F401
    import importlib.util  # noqa: F401
    import linecache  # noqa: F401
    import types  # noqa: F401
    import warnings  # noqa: F401
    import numpy.lib.format  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401
    for name in ("ctypes", "glob", "shutil", "math", "functools", "itertools", "collections", "copy", "random", "typing", "dataclasses",
                 "numbers", "operator", "string", "enum", "statistics", "time", "encodings.idna", "socket",
                 "numpy.typing", "numpy.lib.stride_tricks", "numpy.fft", "numpy.polynomial"):
        try:
            __import__(name)
        except ImportError:
            pass


def _close_all_but(keep):
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 1024)
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _die_with_parent():
    """Ask the kernel to kill this worker when the fork server dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _remove_workdirs(pid):
    import glob
    import shutil

    for folder in glob.glob(f"/tmp/rnn-work-{pid}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def fork_server(control_fd, confine=True):
    """Serve spawn/kill requests from the grading process on a unix socket (JSON lines)."""
    import signal
    import socket

    global _READABLE, _CONFINE
    _CONFINE = confine
    _preload()
    _READABLE = readable_paths()
    control = socket.socket(fileno=control_fd)
    statuses = {}

    def reap():
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            statuses[pid] = (status, usage.ru_utime + usage.ru_stime)

    reader = control.makefile("rb")
    children = set()
    try:
        _serve_forks(control, reader, children, statuses, reap)
    finally:  # the grader went away or said exit: no worker may outlive it
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _remove_workdirs(pid)


def _serve_forks(control, reader, children, statuses, reap):
    import signal
    import socket
    import time

    while True:
        line = reader.readline()
        if not line:
            return
        request = json.loads(line)
        reap()
        if request["op"] == "spawn":
            to_r, to_w = os.pipe()
            from_r, from_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    _close_all_but({0, 1, 2, to_r, from_w})  # the control channel must not reach student code
                    _die_with_parent()
                    applied = lock_down()
                    write_frame(from_w, pack({"ready": applied}))
                    serve(to_r, from_w)
                finally:
                    os._exit(0)
            os.close(to_r)
            os.close(from_w)
            children.add(pid)
            socket.send_fds(control, [json.dumps({"pid": pid}).encode() + b"\n"], [to_w, from_r])
            os.close(to_w)
            os.close(from_r)
        elif request["op"] == "kill":
            pid = request["pid"]
            for kill in (os.killpg, os.kill):  # the group first, then the process itself
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            deadline = time.monotonic() + 5.0
            while pid not in statuses and time.monotonic() < deadline:
                try:
                    done, status, usage = os.wait4(pid, os.WNOHANG)
                except ChildProcessError:
                    statuses[pid] = (None, None)
                    break
                if done:
                    statuses[pid] = (status, usage.ru_utime + usage.ru_stime)
                else:
                    time.sleep(0.002)
            status, cpu = statuses.pop(pid, (None, None))
            children.discard(pid)
            _remove_workdirs(pid)
            signum = os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None
            code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
            control.sendall(json.dumps({"signal": signum, "code": code, "cpu": cpu}).encode() + b"\n")
        elif request["op"] == "cpu":  # CPU seconds a live worker has used, as the kernel counts them
            control.sendall(json.dumps({"cpu": _cpu_seconds(request["pid"])}).encode() + b"\n")
        elif request["op"] == "exit":
            return


def _cpu_seconds(pid):
    """User + system CPU seconds of a live child, from /proc (None if it is gone)."""
    try:
        with open(f"/proc/{int(pid)}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def main(argv):
    """python -I worker.py FD_IN FD_OUT  (one worker), or  python -I worker.py --fork-server FD"""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # a submission must not reach anything through stdin
    if argv[1] == "--fork-server":
        fork_server(int(argv[2]), confine="--no-confine" not in argv[3:])
        return
    serve(int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
