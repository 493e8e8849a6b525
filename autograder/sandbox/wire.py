"""The wire between the grading process and a worker: frames, arrays, value trees.

Both sides import this file; it imports only the standard library and numpy. A frame is
``u32 length`` + payload. A payload is ``u32 header length`` + a UTF-8 JSON header + the
blobs the header lists. Every blob is one array in ``.npy`` format. Values travel as a
JSON tree whose array leaves point at blobs. Nothing is pickled, ever. `decode` checks each
``.npy`` header (magic, version, dtype, shape, size) before numpy reads it, and loads it
with ``allow_pickle=False``.
"""
import json
import os
import re
import struct

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


