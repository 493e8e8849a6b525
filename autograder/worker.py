"""The kit's probe functions and the wire format under their old name, as reproduce snippets print it.

``from autograder.worker import _linear_forward`` keeps working; the code lives in
autograder/sandbox/ (wire.py: the wire format; child.py: the worker's side, probes included).
"""
from .sandbox.child import PROBES, _linear_backward, _linear_forward, _sine_forward, _squared_forward  # noqa: F401
from .sandbox.wire import Bound, Foreign, WireError, decode, encode, pack, read_frame, unpack, write_frame  # noqa: F401
