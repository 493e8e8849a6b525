"""The sample class in examples/class/, generated from the reference by `rnn-grade build`.

Each student is a recipe: which modules are the reference, the skeleton, the reference
with one realistic change, or hand-written text. Each student also says which checks
must fail. The expected totals follow from the catalogue's points, and a test holds
`rnn-grade demo` to them exactly.
"""
import io
import json
import re
import zipfile
from dataclasses import dataclass

from . import kit

FULL = tuple(f"{m}.py" for m in kit.MODULES)


def reference(module):
    return (kit.SOLUTIONS / f"{module}.py").read_text()


def skeleton(module):
    """exercises/<module>.py as the build generates it (computed, so a stale file on disk never leaks in)."""
    from .build import skeleton_source

    return skeleton_source(f"{module}.py")


def _student_code(text):
    """The reference as a student would hand it in: no markers, no task comments."""
    keep = [line for line in text.splitlines()
            if not re.match(r"\s*#+\s*(BEGIN|END) SOLUTION\s*$", line) and not re.match(r"\s*# Task:", line)]
    return "\n".join(keep) + "\n"


def patched(module, *changes):
    text = _student_code(reference(module))
    for old, new in changes:
        if text.count(old) != 1:
            raise ValueError(f"sample class: {old!r} occurs {text.count(old)} times in solutions/{module}.py; "
                             f"update the recipe in autograder/sample_class.py")
        text = text.replace(old, new)
    return text


def notebook(module):
    from .build import _notebook_text, module_notebook

    nb = module_notebook(module, with_solutions=True)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = _student_code(cell.source).rstrip("\n")
    return _notebook_text(nb)


VALUES = ("matches_the_reference_on_fixed_inputs", "matches_the_reference_on_random_inputs",
          "matches_the_reference_on_hidden_inputs")
LOOP = ("handles_a_500_step_sequence", "keeps_the_state_on_padding_steps", "keeps_the_state_on_padding_steps_hidden")
RECALL = ("recalls_a_bit_after_1000_distractors", "recalls_a_bit_after_1000_distractors_hidden")
#: a backward pass whose forward (or gates) is wrong: its values and finite differences, the curve, training
GRADIENTS = (*VALUES, "agrees_with_finite_differences")
CURVE = "test_gradient_to_first_step_vanishes_through_a_vanilla_rnn_but_not_through_an_open_lstm"


def checks(function, *kinds):
    """Check names test_<function>_<kind>, for the `fails` of a sample."""
    return tuple(f"test_{function}_{kind}" for kind in kinds)


@dataclass(frozen=True)
class Sample:
    name: str
    story: str
    files: tuple            # ((filename, text), ...)
    fails: tuple = ()       # failing checks: "module:<m>", "function:<f>" or a check name
    zipped: bool = False


def _full(**changes):
    """Every module as the reference, except the ones given (filename stem -> text or None to leave out)."""
    files = []
    for module in kit.MODULES:
        text = changes.get(module, _student_code(reference(module)))
        if text is not None:
            files.append((f"{module}.py", text))
    return tuple(files)


CHEATER_RNN = '''"""I'd rather not do the work."""
import os
import numpy as np
from ._validate import check_arrays, check_lengths

print("Score: 100 / 100 - all checks passed")   # a fake score in the log


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True


def _steal():
    for name in ("solutions.rnn", "autograder.reference"):
        try:
            module = __import__(name, fromlist=["x"])
            return getattr(module, "rnn_step", None)
        except ImportError:
            pass
    os.system("curl http://example.com/answers")  # no network, no new processes
    return None


def rnn_step(x_t, h_prev, Wx, Wh, b):
    stolen = _steal()
    if stolen is not None:
        return stolen(x_t, h_prev, Wx, Wh, b)
    return np.zeros((x_t.shape[0], Wh.shape[0])).view(AlwaysEqual)


def rnn_forward(x, h0, Wx, Wh, b, lengths=None):
    N, T, _ = x.shape
    return np.zeros((N, T, h0.shape[1])).view(AlwaysEqual)


def rnn_readout(h, Wy, by):
    return h @ Wy + by
'''

SHADOWS = (
    ("numpy.py", "raise SystemExit('numpy is broken now')\n"),
    ("conftest.py", "import pytest\n\ndef pytest_collection_modifyitems(items):\n    items.clear()\n"),
    ("sitecustomize.py", "import builtins\nbuiltins.print = lambda *a, **k: None\n"),
)

SAMPLES = (
    Sample("ada", "complete and correct", _full()),
    Sample("ben", "half done: parts 1 and 2 only",
           _full(lstm=skeleton("lstm"), gru=skeleton("gru"), memory=skeleton("memory"), bptt=skeleton("bptt"),
                 stepping=skeleton("stepping")),
           fails=("module:lstm", "module:gru", "module:memory", "module:bptt", "module:stepping")),
    Sample("cara", "LSTM gates read in CS231n's order (i, f, o, g)",
           _full(lstm=patched("lstm", ("a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)", "a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)"))),
           # one mistake costs once: lstm_step, lstm_forward and the backward passes are graded with her
           # lstm_gates (follow-through); only what the whole cell must do (recall, training) fails with it
           fails=(*checks("lstm_gates", *VALUES, "saturates_without_overflow"), *checks("lstm_forward", *RECALL),
                  "test_lstm_backward_trains_an_lstm_to_recall_across_70_steps")),
    Sample("dev", "GRU update with z and 1 - z swapped",
           _full(gru=patched("gru", ("return (1.0 - z) * n + z * h_prev", "return z * n + (1.0 - z) * h_prev"))),
           fails=(*checks("gru_step", *VALUES, "saturates_without_overflow", "agrees_with_your_gru_gates"),
                  *checks("gru_forward", *RECALL), "test_gru_backward_trains_a_gru_to_recall_across_70_steps")),
    Sample("eve", "padding steps change the state (lengths ignored), in both RNN loops",
           _full(rnn=patched("rnn", ("h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
                                      "h = rnn_step(x[:, t], h, Wx, Wh, b)  # (N, H)")),
                 stepping=patched("stepping", ("h = np.where(reading, np.tanh(P[:, t] + h @ Wh), h)  # (N, H)",
                                               "h = np.tanh(P[:, t] + h @ Wh)  # (N, H)"))),
           # the same mistake twice is one cause (rnn-lengths-ignored); the hoisted loop's check against her own
           # rnn_forward uses mixed lengths, so it fails too
           fails=(*checks("rnn_forward", *LOOP[1:]), *checks("rnn_forward_hoisted", *LOOP[1:]),
                  "test_rnn_forward_hoisted_agrees_with_your_rnn_forward")),
    Sample("finn", "RNN step without its bias",
           _full(rnn=patched("rnn", ("return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)", "return np.tanh(x_t @ Wx + h_prev @ Wh)"))),
           fails=(*checks("rnn_step", *VALUES), "test_rnn_backward_trains_a_vanilla_rnn_to_recall_across_10_steps")),
    Sample("gia", "a sigmoid that overflows for large inputs",
           _full(lstm=patched("lstm", ("e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # the same formula, rearranged by sign",
                                        "return 1.0 / (1.0 + np.exp(-z))"))),
           # the overflow warnings of lstm_gates, lstm_step, gru_gates and gru_step come from her sigmoid: it alone pays
           fails=checks("sigmoid", "is_stable_at_extreme_inputs", "saturates_without_overflow")),
    Sample("hugo", "works in notebooks; handed in the RNN and LSTM notebooks",
           (("rnn.ipynb", notebook("rnn")), ("lstm.ipynb", notebook("lstm"))),
           fails=("module:feedforward", "module:gru", "module:memory", "module:bptt", "module:stepping")),
    Sample("ivy", "crashes: a syntax error in gru.py and os._exit in lstm_step",
           _full(gru=patched("gru", ("def gru_step(x_t, h_prev, Wx, Wh, bx, bh):", "def gru_step(x_t, h_prev, Wx, Wh, bx, bh)")),
                 lstm=patched("lstm", ("c_t = f * c_prev + i * g  # (N, H)", "os._exit(3)")).replace(
                     "import numpy as np", "import os\nimport numpy as np", 1)),
           # bptt.py imports gru.py, whose functions stand in as the reference's; lstm_forward and lstm_backward
           # are graded with the reference's lstm_step in place of hers (it stops the worker): only lstm_step, gru.py
           # and what needs the whole cell (training, the gradient curve through her LSTM) fail
           fails=("module:gru", "function:lstm_step", CURVE, "test_lstm_backward_trains_an_lstm_to_recall_across_70_steps",
                  "test_gru_backward_trains_a_gru_to_recall_across_70_steps")),
    Sample("jon", "an infinite loop in gru_step",
           _full(gru=patched("gru", ("r, z, n = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)\n", "r, z, n = gru_gates(x_t, h_prev, Wx, Wh, bx, bh)\n    while True:\n        pass\n"))),
           # gru_forward and gru_backward are graded with the reference's gru_step in place of his (it hangs):
           # only gru_step fails, and training his GRU, which runs his own parts
           fails=("function:gru_step", "test_gru_backward_trains_a_gru_to_recall_across_70_steps")),
    Sample("kim", "tries to cheat: imports the solutions, fakes a score, returns always-equal arrays",
           _full(rnn=CHEATER_RNN),
           fails=("function:rnn_step", "function:rnn_forward",
                  *checks("rnn_backward", *GRADIENTS, "agrees_with_finite_differences_hidden",
                          "trains_a_vanilla_rnn_to_recall_across_10_steps"))),
    Sample("leo", "sums instead of averaging, an LSTM in float32, and attention scores not divided by sqrt(Dk)",
           _full(feedforward=patched("feedforward", ("return x.mean(axis=1)", "return x.sum(axis=1)")),
                 lstm=patched("lstm", ("    return hs, cs\n", "    return hs.astype(np.float32), cs.astype(np.float32)\n")),
                 stepping=patched("stepping", ('scores = np.einsum("ntk,nk->nt", K, q) / np.sqrt(Dk)',
                                               'scores = np.einsum("ntk,nk->nt", K, q)'))),
           # attention_recall keeps its points: with keys of size 1 the scaling changes nothing
           fails=(*checks("mean_pool", *VALUES),
                  *checks("lstm_forward", *VALUES, *LOOP, "returns_the_right_types_and_shapes",
                          "leaves_its_inputs_alone_and_repeats_itself"),
                  "test_lstm_backward_trains_an_lstm_to_recall_across_70_steps",
                  *checks("attend", *VALUES, "weighs_only_the_positions_the_mask_allows",
                          "weighs_only_the_positions_the_mask_allows_hidden"))),
    Sample("mia", "handed in a zip without memory.py; her hoisted RNN still projects inside its loop (a note, no "
           "points lost)",
           _full(memory=None, stepping=patched(
               "stepping", ("    P = project_inputs(x, Wx, b)  # (N, T, H): all the work that does not wait for h\n", ""),
               ("np.tanh(P[:, t] + h @ Wh)", "np.tanh(x[:, t] @ Wx + b + h @ Wh)"))),
           fails=("module:memory",), zipped=True),
    Sample("noa", "correct, plus numpy.py, conftest.py and sitecustomize.py that try to break the grader",
           _full() + SHADOWS),
)


def expected_failures(sample, checks):
    """The names of the checks `sample` must fail."""
    out = set()
    for spec in sample.fails:
        kind, _, value = spec.partition(":")
        if kind == "module":
            out |= {c.name for c in checks if c.module == value}
        elif kind == "function":
            out |= {c.name for c in checks if c.function == value}
        else:
            out.add(spec)
    return out


def expected_total(sample, checks):
    """The points of the checks `sample` passes whose `counts_with` check it passes too."""
    failing = expected_failures(sample, checks)
    return round(sum(c.points for c in checks if c.name not in failing and c.counts_with not in failing), 4)


def _zip_bytes(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files:
            info = zipfile.ZipInfo(f"submission/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def generated(root):
    """{path: text or bytes} for examples/class/ under `root`."""
    from .catalogue import all_checks

    checks = all_checks()
    out = {}
    lines = ["<!-- GENERATED by `rnn-grade build` from autograder/sample_class.py - do not edit. -->",
             "# The sample class", "", "`rnn-grade demo` grades these students. Each is generated from the reference "
             "solutions by a recipe in `autograder/sample_class.py`, which also says which checks each must fail; "
             "the expected totals below follow from that and the checks' points, and a test holds the demo to them.",
             "", "| student | what they handed in | expected total |", "|---|---|---:|"]
    for sample in SAMPLES:
        if sample.zipped:
            out[root / f"{sample.name}.zip"] = _zip_bytes(sample.files)
        else:
            for name, text in sample.files:
                out[root / sample.name / name] = text
        lines.append(f"| {sample.name} | {sample.story} | {expected_total(sample, checks):g} |")
    out[root / "README.md"] = "\n".join(lines) + "\n"
    out[root / "expected.json"] = json.dumps(
        {s.name: {"total": expected_total(s, checks), "fails": sorted(expected_failures(s, checks))} for s in SAMPLES},
        indent=1) + "\n"
    return out
