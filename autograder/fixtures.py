"""Reference answers stored for a student bundle, which has no solutions/.

At release time the bundle's own public checks run against the reference through a
`RecordingReference`. It keeps every answer and, for functions with known mistakes, the
output of every mistake variant, keyed by the digest of the inputs. In the bundle,
`FixtureReference` serves them back. Only inputs that public checks build are ever
recorded; hidden checks are not in the bundle, so their inputs never are.

The file is one .npz: an index in JSON (value trees in the worker's wire format) and the
arrays as .npy bytes. It is read with allow_pickle=False.
"""
import json
from pathlib import Path

import numpy as np

from .sandbox import wire
from .impl import digest, freeze

PATH = Path(__file__).resolve().parent / "fixtures.npz"


class Unrecordable(RuntimeError):
    """A check gave the reference something that cannot be stored (a Python callable)."""


class MissingFixture(RuntimeError):
    """The bundle holds no stored answer for these inputs."""


class _StoredMistake:
    def __init__(self, key, hint):
        self.key, self.hint = key, hint


class RecordingReference:
    """A live reference that writes down everything it is asked."""

    def __init__(self, live):
        self.live, self.answers, self.mistakes = live, {}, {}

    def call(self, function, args, kwargs=None, *, remember=True):
        key = digest(function, args, kwargs)
        if key is None:
            raise Unrecordable(f"{function} was given an argument that cannot be stored; mark the check offline=False")
        value = self.live.call(function, args, kwargs)
        self.answers[key] = value
        if key not in self.mistakes and not kwargs:
            self.mistakes[key] = [(m.key, m.hint, v) for m, v in self.live.variants(function, args)]
        return value

    def variants(self, function, args):
        return self.live.variants(function, args)

    def save(self, path=PATH):
        blobs, index = [], {"answers": {}, "mistakes": {}}
        for key, value in self.answers.items():
            index["answers"][key] = wire.encode(value, blobs)
        for key, found in self.mistakes.items():
            index["mistakes"][key] = [[k, hint, wire.encode(v, blobs)] for k, hint, v in found]
        arrays = {"index": np.frombuffer(json.dumps(index).encode(), dtype=np.uint8)}
        arrays.update({f"b{i}": np.frombuffer(b, dtype=np.uint8) for i, b in enumerate(blobs)})
        np.savez_compressed(path, **arrays)


class FixtureReference:
    """The reference as a student bundle knows it: stored answers only."""

    def __init__(self, index, blobs):
        self.index, self.blobs = index, blobs

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
            raise MissingFixture(f"no stored reference answer for {function} on these inputs; "
                                 f"this check runs when your work is graded")
        return freeze(wire.decode(tree, self.blobs))

    def variants(self, function, args):
        stored = self.index["mistakes"].get(digest(function, args)) or []
        return [(_StoredMistake(k, hint), wire.decode(tree, self.blobs)) for k, hint, tree in stored]
