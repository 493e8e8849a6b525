"""The reference as a student handout knows it: answers recorded at release time.

At release time the handout's own public checks run against the live reference through a
`RecordingReference`. It keeps every answer, every finite-difference gradient and, for
functions with known mistakes, the output of every mistake variant, keyed by the digest of
the inputs; plus the answers on every tool's trust inputs. In the handout,
`StoredReference` serves them back. Only inputs that public checks build are ever
recorded; hidden checks are not in the handout, so their inputs never are.

A tool (``ref.tool(impl, function)``) is where a check applies a trusted function to what
the submission produced. The handout has no trusted implementation of it, so the tool is
the submission's own function, once that has reproduced the recorded answer on its trust
inputs. The verdict is then as good as the submission's function: a self-check, never a
grade (class grading always uses the live reference).

The file is one .npz: an index in JSON (value trees in the worker's wire format) and the
arrays as .npy bytes. It is read with allow_pickle=False.
"""
import json
from pathlib import Path

import numpy as np

from ..sandbox import wire
from ..sandbox.client import Bound, digest, freeze

PATH = Path(__file__).resolve().parent.parent / "fixtures.npz"


class Unrecordable(RuntimeError):
    """A check gave the reference something that cannot be stored (a Python callable): use ref.tool for that."""


class MissingFixture(RuntimeError):
    """The bundle holds no stored answer for these inputs."""


class _StoredMistake:
    def __init__(self, key, hint):
        self.key, self.hint = key, hint


class RecordingReference:
    """A live reference that writes down everything it is asked."""

    def __init__(self, live):
        self.live, self.answers, self.mistakes, self.numeric = live, {}, {}, {}

    def call(self, function, args, kwargs=None, *, remember=True):
        key = digest(function, args, kwargs)
        if key is None:
            raise Unrecordable(f"{function} was given an argument that cannot be stored; a check that applies "
                               f"{function} to the submission's own results must use ref.tool(impl, {function!r})")
        value = self.live.call(function, args, kwargs)
        self.answers[key] = value
        if key not in self.mistakes and not kwargs:
            self.mistakes[key] = [(m.key, m.hint, v) for m, v in self.live.variants(function, args)]
        return value

    def variants(self, function, args):
        return self.live.variants(function, args)

    def numerical_gradients(self, forward, args, upstream, *, impl=None, through=()):
        if through:
            return self.live.numerical_gradients(forward, args, upstream, impl=impl, through=through)
        value = self.live.numerical_gradients(forward, args, upstream)
        self.numeric[digest("numerical:" + forward, (*args, upstream))] = value
        return value

    def tool(self, impl, function):
        return self.live.tool(impl, function)

    def follow_through(self, impl, function, args, dependencies, heard=None):
        return self.live.follow_through(impl, function, args, dependencies, heard)

    def record_trust_inputs(self):
        """The answers a handout's tools are held to (see trust_inputs)."""
        from . import TOOLS, trust_inputs
        from ..inputs import SIGNATURES

        for function in (*SIGNATURES, *TOOLS):  # the functions "fix X first" advice and tools ask about
            self.call(function, trust_inputs(function))

    def save(self, path=PATH):
        blobs, index = [], {"answers": {}, "mistakes": {}, "numeric": {}}
        for key, value in self.numeric.items():
            index["numeric"][key] = wire.encode(value, blobs)
        for key, value in self.answers.items():
            index["answers"][key] = wire.encode(value, blobs)
        for key, found in self.mistakes.items():
            index["mistakes"][key] = [[k, hint, wire.encode(v, blobs)] for k, hint, v in found]
        arrays = {"index": np.frombuffer(json.dumps(index).encode(), dtype=np.uint8)}
        arrays.update({f"b{i}": np.frombuffer(b, dtype=np.uint8) for i, b in enumerate(blobs)})
        np.savez_compressed(path, **arrays)


class StoredReference:
    """The reference as a student handout knows it: recorded answers, and the submission's own tools."""

    def __init__(self, index, blobs):
        self.index, self.blobs = index, blobs
        self.numeric = index.get("numeric", {})

    @classmethod
    def load(cls, path=PATH):
        with np.load(path, allow_pickle=False) as data:
            index = json.loads(bytes(data["index"]).decode())
            blobs = [bytes(data[f"b{i}"]) for i in range(len(data.files) - 1)]
        return cls(index, blobs)

    def call(self, function, args, kwargs=None, *, remember=True):
        key = digest(function, args, kwargs)
        tree = self.index["answers"].get(key)
        if tree is None:
            raise MissingFixture(f"the handout holds no recorded answer of {function} for these inputs: "
                                 f"the handout is older than its checks; ask for a new one")
        return freeze(wire.decode(tree, self.blobs))

    def follow_through(self, impl, function, args, dependencies, heard=None):
        """None: a handout has no reference code to run around the student's functions (it says "fix X first")."""
        return None

    def numerical_gradients(self, forward, args, upstream, *, impl=None, through=()):
        if through:
            return None  # as follow_through
        tree = self.numeric.get(digest("numerical:" + forward, (*args, upstream)))
        if tree is None:
            raise MissingFixture(f"the handout holds no recorded finite differences of {forward} for these inputs")
        return freeze(wire.decode(tree, self.blobs))

    def tool(self, impl, function):
        """The submission's own `function` (Bound("kit", name) in its arguments: its own `name` too), once trusted."""
        from ..feedback import CheckFailure, dependency_verdict

        def rebind(value):
            if isinstance(value, Bound) and value.kind == "kit":
                return Bound("student", value.name, **value.kwargs)
            if isinstance(value, (tuple, list)):
                return type(value)(rebind(v) for v in value)
            return value

        def names(value):
            if isinstance(value, Bound):
                return [value.name] if value.kind == "kit" else []
            if isinstance(value, (tuple, list)):
                return [n for v in value for n in names(v)]
            return []

        def apply(*args):
            for name in dict.fromkeys([function, *names(args)]):
                verdict = dependency_verdict(impl, self, name)
                if verdict:
                    raise CheckFailure(
                        f"this check needs a working {name}: the handout has no reference implementation, so it "
                        f"runs your own {name} on your results, and {name} is not right yet ({verdict}). Fix "
                        f"{name} first. (When your work is graded, the reference {name} runs here instead.)")
            return impl.call(function, rebind(args), {}, remember=False)
        return apply

    def variants(self, function, args):
        stored = self.index["mistakes"].get(digest(function, args)) or []
        return [(_StoredMistake(k, hint), wire.decode(tree, self.blobs)) for k, hint, tree in stored]
