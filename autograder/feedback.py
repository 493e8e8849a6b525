"""One way to compare an answer with the reference, and one way to say what is wrong.

Every check's failure message is built here, in the same order:

1. **type**: an array, a number or a tuple where one is due;
2. **shape** and dtype, with the likely cause ("looks transposed", "batch axis dropped",
   "returned h instead of (h, c)");
3. **values**: the largest error, where it is, and how many elements are off.

Then come the call that produced it (lines to paste into a REPL), the known mistake it
matches, if any, and the function to fix first if one it relies on is wrong.

Tolerance, stated once for the whole kit (float64 throughout): an element matches when
``|got - expected| <= ATOL + RTOL * |expected|``. A gradient compared with centred finite
differences (h = 1e-5) rather than with the reference matches when its relative error,
``max |got - numeric| / max(|numeric|, 1e-12)``, is at most GRADIENT_RTOL.
"""
import numpy as np

from . import kit
from .sandbox.client import CallFailed, Foreign
from .inputs import SIGNATURES

RTOL = 1e-7
ATOL = 1e-9
GRADIENT_RTOL = 1e-6

#: names of the values a function returns as a tuple, in order
OUTPUT_NAMES = {
    "lstm_gates": ("i", "f", "g", "o"),
    "lstm_step": ("h_t", "c_t"),
    "lstm_forward": ("hs", "cs"),
    "gru_gates": ("r", "z", "n"),
    "make_recall_task": ("x", "bits"),
    "latch_lstm_params": ("Wx", "Wh", "b", "Wy", "by"),
    "latch_gru_params": ("Wx", "Wh", "bx", "bh", "Wy", "by"),
    "latch_rnn_params": ("Wx", "Wh", "b", "Wy", "by"),
    "contractive_rnn_params": ("Wx", "Wh", "b"),
    "rnn_step_backward": ("dx", "dh_prev", "dWx", "dWh", "db"),
    "rnn_backward": ("dx", "dh0", "dWx", "dWh", "db"),
    "lstm_step_backward": ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"),
    "lstm_backward": ("dx", "dh0", "dc0", "dWx", "dWh", "db"),
    "gru_step_backward": ("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"),
    "gru_backward": ("dx", "dh0", "dWx", "dWh", "dbx", "dbh"),
    "attend": ("context", "weights"),
}


class CheckFailure(AssertionError):
    """A check's verdict, with a message written for the student."""

    status = "failed"

    def __init__(self, message, *, mistake=None):
        super().__init__(message)
        self.message, self.mistake = message, mistake


def describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} values"
    if isinstance(value, list):
        return f"a list of {len(value)} values"
    if isinstance(value, Foreign):
        return (f"an object of type {value.type_name} ({value.text[:120]}); return plain numpy arrays "
                f"(np.asarray(...)), not subclasses or other objects")
    if value is None:
        return "None (is a `return` missing?)"
    return f"a {type(value).__name__} ({value!r})"


def _shape_hint(got, want):
    if got == want[::-1] and len(got) == 2:
        return "it looks transposed"
    if len(want) == 3 and got == (want[0], want[2]):
        return "it looks like only the last step's state; return the state after every step"
    if len(want) == 3 and got == (want[1], want[0], want[2]):
        return "time and batch axes look swapped: arrays are batch-first, (N, T, ...)"
    if len(got) == len(want) - 1 and got == want[1:]:
        return "the batch axis (N) was dropped"
    if len(got) == len(want) - 1 and got == want[:-1]:
        return "the last axis was summed or indexed away"
    if len(got) == len(want) and any(g == 1 and w != 1 for g, w in zip(got, want)):
        return "an axis has size 1 where more is due; broadcasting may be hiding a missing axis"
    if len(got) == len(want) and len(want) == 2 and got[0] == want[0] and got[1] in (3 * want[1], 4 * want[1]):
        return "it has every gate's block; split the pre-activation into its blocks"
    return ""


def _array_problem(got, want, name):
    what = name or "an array"
    if not isinstance(got, np.ndarray):
        if isinstance(got, (float, np.floating)) and want.ndim == 0:
            got = np.asarray(got)
        else:
            return f"returned {name + ' as ' if name else ''}{describe(got)} where a numpy array of shape {want.shape} is due"
    if want.dtype.kind == "f" and got.dtype != np.float64:
        return (f"returned {what} of dtype {got.dtype}; the kit works in float64 "
                f"(an integer or float32 array somewhere, or an astype?)")
    if want.dtype.kind in "iu" and got.dtype.kind not in "iu":
        return f"returned {what} of dtype {got.dtype} where integers are due"
    if got.shape != want.shape:
        hint = _shape_hint(got.shape, want.shape)
        return f"returned {what} of shape {got.shape}; expected {want.shape}" + (f": {hint}" if hint else "")
    if want.size == 0:
        return None
    got_f, want_f = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(want_f)
    bad = finite & ~np.isfinite(got_f)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"returned {what} containing {got_f[index]} at index {index} where {want_f[index]:.10g} is due "
                f"(an overflow? exp of a large number?)")
    excess = np.abs(got_f - want_f) - (ATOL + RTOL * np.abs(want_f))
    excess[~finite] = np.where(got_f[~finite] == want_f[~finite], -1.0, np.inf)
    if not (excess > 0).any():
        return None
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), want.shape))
    where = f" at index {index}" if index else ""
    count = int((excess > 0).sum())
    return (f"returned {what} with wrong values: the largest error is{where}: got {got_f[index]:.10g}, expected "
            f"{want_f[index]:.10g} (off by {abs(got_f[index] - want_f[index]):.3g}); {count} of {want.size} "
            f"element(s) differ beyond the tolerance (rtol {RTOL:g}, atol {ATOL:g})")


def _scalar_problem(got, want, name):
    what = name or "a value"
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        return f"returned {name + ' as ' if name else ''}{describe(got)} where a number is due"
    if not np.isfinite(got) and np.isfinite(want):
        return f"returned {what} of {got} where {want:.10g} is due"
    if abs(got - want) > ATOL + RTOL * abs(want):
        return f"returned {what} of {got:.10g}; expected {want:.10g} (off by {abs(got - want):.3g})"
    return None


def difference(got, want, function, name=""):
    """What is wrong with `got` as a result of `function` ("returned ..."), or None if it matches `want`."""
    if isinstance(want, Foreign):  # comparing two answers of the student's (a purity check)
        same = isinstance(got, Foreign) and (got.type_name, got.text) == (want.type_name, want.text)
        return None if same else f"returned {describe(got)}; the first call returned {describe(want)}"
    if isinstance(want, tuple):
        names = OUTPUT_NAMES.get(function) or tuple(f"value {k + 1}" for k in range(len(want)))
        spelled = "(" + ", ".join(names) + ")"
        if isinstance(got, np.ndarray):
            for part_name, part in zip(names, want):
                if isinstance(part, np.ndarray) and got.shape == part.shape:
                    return (f"returned a single array where the tuple {spelled} is due: "
                            f"it returned {part_name} instead of {spelled}")
            return f"returned {describe(got)} where the tuple {spelled} is due"
        if not isinstance(got, (tuple, list)):
            return f"returned {describe(got)} where the tuple {spelled} is due"
        if len(got) != len(want):
            return f"returned {len(got)} values where {len(want)} are due: {spelled}"
        problems = [p for p in (difference(g, w, None, n) for n, g, w in zip(names, got, want)) if p]
        if not problems:
            return None
        if len(want) == 2 and matches(got[0], want[1]) and matches(got[1], want[0]):
            return f"returned its two values in the wrong order: return {spelled}, not ({names[1]}, {names[0]})"
        more = f" (and {len(problems) - 1} more of its values are wrong)" if len(problems) > 1 else ""
        return problems[0] + more
    if isinstance(want, np.ndarray):
        return _array_problem(got, want, name)
    if isinstance(want, (float, int, np.floating, np.integer)):
        return _scalar_problem(got, float(want), name)
    raise TypeError(f"cannot compare with a reference value of type {type(want).__name__}")


def matches(got, want):
    try:
        return difference(got, want, None) is None
    except TypeError:
        return False



# --- overflow ----------------------------------------------------------------------------

class Diagnosis:
    """A named mistake read from the answer itself rather than matched against a variant (mistakes.py)."""

    def __init__(self, key, hint):
        self.key, self.hint = key, hint


# A hand-written tanh, (exp(a) - exp(-a)) / (exp(a) + exp(-a)), is inf / inf = nan once |a| passes about 710.
# The answer then holds nan, which no variant can match, so the cause is read from *where* the answer
# stopped being finite: in an output that tanh alone produces, it cannot be the sigmoid.

TANH_OVERFLOW = Diagnosis(
    "tanh-overflow", "a hand-written tanh overflows: (exp(a) - exp(-a)) / (exp(a) + exp(-a)) is inf / inf = nan once "
    "|a| passes about 710. Use np.tanh, which never overflows (the sigmoid is not the problem here)")

#: for each function, the outputs that come out of a tanh alone (all: a function with no sigmoid in it),
#: and the outputs that must be finite for that to be sure (lstm_step's h_t = o * tanh(c_t) needs a finite c_t)
TANH_OUTPUTS = {
    "dense_forward": ("all", ()),
    "rnn_step": ("all", ()),
    "rnn_forward": ("all", ()),
    "lstm_gates": (("g",), ()),
    "lstm_step": (("h_t",), ("c_t",)),
    "gru_gates": (("n",), ()),
}


def _not_finite_where_due(got, want):
    """True if `got` is a float array of `want`'s shape that is inf or nan somewhere `want` is finite."""
    if not (isinstance(got, np.ndarray) and isinstance(want, np.ndarray)):
        return False
    if got.shape != want.shape or got.dtype.kind != "f" or want.dtype.kind != "f":
        return False
    return bool(np.any(~np.isfinite(got) & np.isfinite(want)))


def overflow_mistake(function, got, want):
    """TANH_OVERFLOW if `got` (the student's answer) is inf or nan only where a tanh alone produced it, else None.

    Meant for an answer that raised an overflow warning on large inputs: it tells a
    hand-written tanh from a sigmoid that overflows. A finite answer, like the
    reference's, never names it.
    """
    if function not in TANH_OUTPUTS:
        return None
    tanh_only, finite = TANH_OUTPUTS[function]
    if tanh_only == "all":
        return TANH_OVERFLOW if _not_finite_where_due(got, want) else None
    names = OUTPUT_NAMES[function]
    if not (isinstance(got, (tuple, list)) and isinstance(want, tuple) and len(got) == len(want) == len(names)):
        return None
    parts = dict(zip(names, zip(got, want)))
    bad = {name for name, (g, w) in parts.items() if _not_finite_where_due(g, w)}
    settled = all(isinstance(parts[name][0], np.ndarray) and parts[name][0].dtype.kind == "f"
                  and np.all(np.isfinite(parts[name][0])) for name in finite)
    return TANH_OVERFLOW if bad and bad <= set(tanh_only) and settled else None


# ---------------------------------------------------------------------------------------

def _indent(text, pad="      "):
    return "\n".join(pad + line for line in str(text).splitlines())


def diagnose(ref, function, args, got):
    """The first known mistake whose output `got` matches, or None."""
    for mistake, output in ref.variants(function, args):
        if matches(got, output):
            return mistake
    return None


def dependency_verdict(impl, ref, dep):
    """Why `dep` is not right yet on its standard inputs (reference.trust_inputs), or None; asked once per submission."""
    from .reference import trust_inputs

    cache = impl.__dict__.setdefault("_dependency_verdicts", {})
    if dep not in cache and hasattr(impl, "cannot_run"):
        silent = impl.cannot_run(dep)  # no answer at all (impl.call would let the reference stand in for it)
        if silent:
            cache[dep] = silent
    if dep not in cache:
        args = trust_inputs(dep)
        try:
            got = impl.call(dep, args, {})
        except CallFailed as exc:
            cache[dep] = exc.headline()
        else:
            problem = difference(got, ref.call(dep, args), dep)
            cache[dep] = f"{dep} {problem}" if problem else None
    return cache[dep]


def relies_on(impl, function):
    """The exercise functions the submission's `function` calls itself, as its worker saw it run (child._Calls).

    The reference's call graph (kit.dependencies) stands in only where the submission's cannot be
    known: an implementation that does not report its calls.
    """
    if not hasattr(impl, "calls_of"):
        return kit.dependencies().get(function, ())
    seen = impl.calls_of(function)
    if seen is None:  # its worker died before it could say: what the reference had to stand in for, proven
        return getattr(impl, "replacing", {}).get(function, ())
    return seen


def broken_dependencies(impl, ref, function):
    """[(dependency, reason)] for functions `function` relies on that are not right yet."""
    out = []
    for dep in relies_on(impl, function):
        if dep in SIGNATURES:
            verdict = dependency_verdict(impl, ref, dep)
            if verdict:
                out.append((dep, verdict))
    return out


#: (text in an exception message, likely cause) for errors raised inside a student's code
EXCEPTION_HINTS = (  # the first whose text occurs wins: the specific ones come before "matmul" and "cannot unpack"
    ("NoneType", "a value is None where an array is due: a variable set to None (a cache, a gradient) that is "
                 "never assigned, or a function that ends without `return` (does every function of yours that "
                 "this one calls return its result?)"),
    ("does not have enough dimensions (has 0,", "one side of a matrix product is not an array but None or a plain "
                                                "number: a variable that is never assigned, or a helper that ends "
                                                "without `return`"),
    ("(size 1 is different from", "the array on the right of @ starts with an axis of size 1 that the left one "
                                  "does not end with: most often a size-1 axis has gone missing (x_t must stay "
                                  "(N, 1) when D = 1, h_prev (N, 1) when H = 1, and np.squeeze, .ravel() or "
                                  "x[:, t, 0] drops it), else the wrong array is on the left. Keep every array "
                                  "2-D and do not squeeze"),
    ("; got a 1-D array", "an array lost an axis before it reached this function: np.squeeze, .ravel() or "
                          "indexing like x[:, t, 0] drops a size-1 axis (N = 1 or D = 1); index with x[:, t] "
                          "and keep arrays 2-D"),
    ("slice indices must be integers", "a size used as an index is a float: in Python 3, / always gives a float "
                                       "(Wx.shape[1] / 4 is 2.0). Use integer division, H = Wx.shape[1] // 4"),
    ("'float' object cannot be interpreted as an integer", "a size is a float: in Python 3, / always gives a "
                                                           "float (Wx.shape[1] / 4 is 2.0). Use integer "
                                                           "division, H = Wx.shape[1] // 4"),
    ("matmul", "a matrix product has mismatched shapes: check which weight multiplies which input and the "
               "order (x_t @ Wx is (N, D) @ (D, H); h_prev @ Wh is (N, H) @ (H, H))"),
    ("could not be broadcast", "two arrays' shapes do not fit together: compare the shapes in the docstring "
                               "with the arrays you combine (a missing axis, or time and batch swapped?)"),
    ("too many indices", "an array has fewer axes than you index: arrays are batch-first, x is (N, T, D)"),
    ("cannot unpack", "a function returns a different number of values than you unpack (lstm_step returns "
                      "(h_t, c_t); lstm_gates returns (i, f, g, o))"),
    ("is not defined", "a name is used before it is defined (a missing import, or a helper you did not write)"),
)


def exception_hint(message):
    for needle, hint in EXCEPTION_HINTS:
        if needle in message:
            return hint
    return ""


def failure(impl, ref, function, problem, *, call, args=None, got=None, note=""):
    """A CheckFailure for `function`, with diagnosis and dependency advice when they apply."""
    lines = [f"{function} {problem}"]
    if note:
        lines.append(note)
    if call:
        from .runner import snippet  # with the imports that make it run as pasted (runner imports this module)

        lines.append("  To reproduce (paste into Python):\n" + _indent(snippet(call, impl)))
    mistake = diagnose(ref, function, args, got) if args is not None else None
    if mistake:
        lines.append(f"  Likely cause: {mistake.hint}.")
    for dep, reason in broken_dependencies(impl, ref, function):
        lines.append(f"  Fix {dep} first: {function} relies on it, and it is not right yet ({reason}).")
    return CheckFailure("\n".join(lines), mistake=mistake.key if mistake else None)


def graded_with(impl, function, dependencies):
    """Record that `function` kept its points by follow-through on the submission's own `dependencies`.

    runner.run_check reads the record (``impl.followed``, {function: {dependency}}, reset per check)
    to say so in the check's result.
    """
    impl.__dict__.setdefault("followed", {}).setdefault(function, set()).update(dependencies)


#: how a note starts: a remark on a check that costs no points
NOTE = "Note (no points lost): "


def note(impl, text):
    """Record a remark about the check that is running, one that costs no points (a projection left in a loop).

    runner.run_check (and the pytest plugin) read ``impl.check_notes``, reset per check, and add the
    remarks, each starting with NOTE, to the check's message, passed or not.
    """
    notes = impl.__dict__.setdefault("check_notes", [])
    if NOTE + text not in notes:
        notes.append(NOTE + text)


def followed_through(impl, ref, function, args, got):
    """True when `got` is what the reference `function` computes from the submission's own broken dependencies.

    One mistake costs once: lstm_step built on a wrong lstm_gates is judged against the
    reference step around that lstm_gates, so only lstm_gates loses its points. The
    functions followed through are recorded in ``impl.followed`` ({function: {dependency}})
    for the check's result to say so. A handout's reference cannot do this (it has no
    reference code): there the check fails with "fix X first".
    """
    broken = [dep for dep, _ in broken_dependencies(impl, ref, function)]
    if not broken:
        return False
    want = ref.follow_through(impl, function, args, broken)
    if want is None or not matches(got, want):
        return False
    graded_with(impl, function, broken)
    return True


def expect_reference(impl, ref, function, args, *, call):
    """Call `function` on both sides with `args` and fail with a full message if they differ.

    An answer that differs only because a function it relies on is wrong passes when it
    is what the reference would compute from that function (`followed_through`).
    """
    want = ref.call(function, args)
    got = impl.call(function, args, {})
    problem = difference(got, want, function)
    if problem and not followed_through(impl, ref, function, args, got):
        raise failure(impl, ref, function, problem, call=call, args=args, got=got)
    return got


def expect(condition, impl, ref, function, problem, *, call=""):
    """Fail with `problem` (a sentence about `function`) unless `condition` holds."""
    if not condition:
        raise failure(impl, ref, function, problem, call=call)
