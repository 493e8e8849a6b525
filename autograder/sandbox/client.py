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
import select
import time
from dataclasses import dataclass, field

from .. import kit
from . import child, wire
from .submission import (Submission, SubmissionError, clean_text, load_submission,  # noqa: F401  (re-exported)
                         module_header, namespace_submission)
from .wire import Bound, Foreign, WireError  # noqa: F401  (re-exported for checks)

#: wall-clock seconds one call may take before the worker is stopped
DEFAULT_TIMEOUT = 10.0
#: wall-clock seconds all calls of one submission may take together: a safety net against code that waits
#: just under the per-call timeout on every call (a correct submission needs about 3 s in all). Scores that
#: weigh speed count CPU seconds instead (`WorkerImpl.cpu_seconds`), which load does not change.
SUBMISSION_BUDGET = 600.0


class StandInsTooLong(TimeoutError):
    """A call answered by stand-ins went on past its whole allowance (WorkerImpl._exchange)."""


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
        from .launcher import shared_server

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
        self.stand_ins_allowed = True  # False while a check judges the whole cell (runner: the training group)
        self.replacing = {}      # function -> dependencies of it that cannot run, answered by the reference
        self.replaced = []       # (function, dependencies) per call answered that way, in order
        self.standing_in = frozenset()  # in a worker of _with_reference: the functions its stand-ins replace
        self.part = None         # the part whose check is running: its notebook's copies answer (module_of)
        self._helpers = {}       # dependencies -> the WorkerImpl that runs calls with them replaced; and siblings
        self.beside = False      # a sibling (work beside another worker's), and whether it is settled yet
        self.settled = False
        self._runs = {}          # function -> why it cannot run on its trust inputs, or None (asked once)
        self.attempts = []       # (kind, function, detail) the worker's audit hook saw (child._audit)
        self._probing = False
        self._proc = None
        self.closed = False
        self.calls = 0
        self.spent = 0.0         # wall seconds inside calls, all workers together (see SUBMISSION_BUDGET)
        self._cpu_of_stopped = 0.0
        self.budget = SUBMISSION_BUDGET

    # -- process management -------------------------------------------------------------
    def _ensure(self):
        if self._proc is None:
            if self.closed:  # a sibling's thread still training when the run ends starts nothing new
                raise RuntimeError("this submission's workers are closed")
            try:
                self._proc = self.launcher.start()
            except RuntimeError:
                if not self._default_launcher:
                    raise
                from .launcher import shared_server

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
        proc, self._proc = self._proc, None  # one name for it: a sibling's thread may stop it too (close)
        if proc is not None:
            proc.kill()
            self._cpu_of_stopped += self._cpu_of(proc)
        self.imported = set()

    @staticmethod
    def _cpu_of(proc):
        cpu = getattr(proc, "cpu", None)
        return cpu() if callable(cpu) else 0.0

    def cpu_seconds(self, *, beside=True):
        """CPU seconds the submission's code has used so far, every worker it had counted (the kernel's count);
        beside=False leaves out the siblings' (work running beside this worker's, not part of it)."""
        proc = self._proc
        return (self._cpu_of_stopped + (self._cpu_of(proc) if proc is not None else 0.0)
                + sum(helper.cpu_seconds() for helper in list(self._helpers.values()) if beside or not helper.beside))

    def close(self):
        self.closed = True
        for helper in list(self._helpers.values()):
            helper.close()
        proc = self._proc
        if proc is not None:
            try:
                wire.write_frame(proc.to_worker, wire.pack({"op": "exit"}))
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
        from ..inputs import SIGNATURES, make_inputs

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
        remember=False neither looks in nor adds to that memory (one-off inputs, e.g. training batches).

        When the call fails and an exercise function it relies on cannot run at all (it raises,
        is not written yet, stops the worker or hangs on its own inputs), `function` is judged on
        its own work: called again with the reference standing in for those (`_with_reference`).
        """
        if function in self.replacing and self.stand_ins_allowed:
            return self._with_reference(function, args, kwargs, self.replacing[function])
        try:
            return self._own_call(function, args, kwargs, fresh=fresh, remember=remember)
        except CallFailed as failure:
            blocked = self._blocked_by(function, failure)
            if not blocked:
                raise
            try:
                value = self._with_reference(function, args, kwargs, blocked)
            except CallFailed:
                raise failure from None  # it fails on its own as well: its own failure is the one to show
            self.replacing[function] = blocked
            return value

    def _blocked_by(self, function, failure):
        """The exercise functions `function` relies on that cannot run at all, when the reference can stand in."""
        if (self.standing_in or self._probing or not self.stand_ins_allowed
                or getattr(self.reference, "stand_in", None) is None or isinstance(failure, (LoadError, Missing))):
            return ()
        seen = self.calls_of(function)
        candidates = kit.dependencies().get(function, ()) if seen is None else seen  # None: it never got to say
        return tuple(sorted(d for d in candidates if d != function and self.cannot_run(d)))

    def cannot_run(self, function):
        """Why the submission's `function` gives no answer at all on its trust inputs (reference.trust_inputs),
        or None when it answers (right or wrong); asked once per submission."""
        if function not in self._runs:
            from ..reference import trust_inputs

            self._probing, self._runs[function] = True, None
            try:
                self._own_call(function, trust_inputs(function), {})
            except (NotImplementedYet, StudentError, WorkerCrashed, TimedOut) as exc:
                self._runs[function] = exc.headline()
            except CallFailed:
                pass
            finally:
                self._probing = False
        return self._runs[function]

    def _with_reference(self, function, args, kwargs, dependencies):
        """Call `function` in a worker of its own in which the reference stands in for `dependencies`.

        A worker of its own: what the stand-ins answer never reaches the worker that grades
        the submission's own functions. Its time counts to the submission's budget.
        """
        helper = self._helpers.get(dependencies)
        if helper is None:
            helper = WorkerImpl(self.submission, timeout=self.timeout, launcher=self.launcher)
            helper.reference, helper.standing_in, helper.failed = self.reference, frozenset(dependencies), self.failed
            self._helpers[dependencies] = helper
        helper.on_stdout, helper.timeout = self.on_stdout, self.timeout  # the limit of this call (a probe's is short)
        helper.part = self.part
        helper.budget = helper.spent + max(0.0, self.budget - self.spent)
        before = helper.spent
        try:
            value = helper.call(function, args, kwargs, remember=False)
        finally:
            self.spent += helper.spent - before
            self.calls += 1
        self.last = helper.last
        self.replaced.append((function, dependencies))
        return value

    def sibling(self, key, part):
        """A worker of its own for work that runs beside this one's (checks/bptt.train_ahead): the same
        submission and limits, the copies of `part`'s notebook answering, the reference never standing
        in. Its CPU seconds and attempts count as this submission's at once; its time, calls and
        failures once `settle`d."""
        worker = WorkerImpl(self.submission, timeout=self.timeout, launcher=self.launcher)
        worker.reference, worker.part, worker.stand_ins_allowed = self.reference, part, False
        worker.failed = dict(self.failed)
        worker.budget, worker.beside = max(0.0, self.budget - self.spent), True
        self._helpers[key] = worker
        return worker

    def settle(self, worker, calls=0, spent=0.0):
        """Count a finished sibling's calls and wall time after the first `calls` and `spent` to this submission,
        and keep what it gave up on."""
        if worker.settled:
            return
        worker.settled = True
        self.spent += worker.spent - spent
        self.calls += worker.calls - calls
        for function, count in worker.crashes.items():
            self.crashes[function] = self.crashes.get(function, 0) + count
        for function, failure in worker.given_up.items():
            self.given_up.setdefault(function, failure)

    def _own_call(self, function, args, kwargs, *, fresh=False, remember=True):
        if function in self.given_up:
            raise self.given_up[function]
        self._hangs_with(function)
        module = self.submission.module_of(function, self.part)
        blobs = []
        header = {"op": "call", "function": function, "module": module,
                  "args": [wire.encode(a, blobs) for a in args],
                  "kwargs": {k: wire.encode(v, blobs) for k, v in kwargs.items()},
                  "trace": self.calls_of(function) is None}  # what it calls is learned once (tracing costs time)
        if self.standing_in:
            header["stand_ins"] = sorted(self.standing_in)
        key = None
        if remember and not any(isinstance(v, Bound) for v in (*args, *kwargs.values())):
            key = _digest_encoded(f"{module}.{function}", header["args"], header["kwargs"], blobs)
            if not fresh and key in self.memo:
                value, self.last = self.memo[key]
                self._printed(function, self.last.stdout)
                return value
        try:
            value = self._call(function, header, blobs, retry=True)
        except CallFailed as exc:
            self._printed(function, exc.stdout)
            if hasattr(exc, "calls"):  # a worker that died took what it saw with it: still unknown
                self._saw_calls(function, exc.calls)
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

    #: a call whose stand-ins this process answers may take this many times its limit in all
    STAND_IN_ALLOWANCE = 10

    def _exchange(self, proc, header, blobs, limit, total=None):
        """Send one request and wait at most `limit` seconds for its reply; the time counts to `spent`.

        While it waits, a stand-in in the worker may ask for a function of a module that did
        not load, or that the reference replaces (child._stand_in); each such question is
        answered here (`_stand_in`), and the worker's next stretch gets `limit` afresh: each
        question is a round trip between two processes, whose cost grows with the machine's
        load (a 1,000-step forward asks 1,000 times), so only the worker's own stretches are
        held to the limit, and the whole call to STAND_IN_ALLOWANCE times it, or to `total`
        seconds when that is less (StandInsTooLong).
        """
        started = time.monotonic()
        deadline = started + limit
        allowance = limit * self.STAND_IN_ALLOWANCE
        cap = started + (allowance if total is None else min(allowance, max(limit, total)))
        try:
            wire.write_frame(proc.to_worker, wire.pack(header, blobs))
            while True:
                reply, reply_blobs = self._receive(min(deadline, cap))
                if "callback" not in reply:
                    self._note_attempts(reply.get("attempts") if isinstance(reply, dict) else None)
                    return reply, reply_blobs
                wire.write_frame(proc.to_worker, wire.pack(*self._stand_in(reply, reply_blobs)))
                deadline = time.monotonic() + limit
        except TimeoutError:
            if time.monotonic() >= cap:
                raise StandInsTooLong from None
            raise
        finally:
            self.spent += time.monotonic() - started

    #: attempts kept per submission, at most (child._audit: files outside Python, sockets, processes, the kit)
    MAX_ATTEMPTS = 50

    def all_attempts(self):
        """What this submission's workers saw it try (`attempts`), those of `_with_reference` included."""
        out = list(self.attempts)
        for helper in self._helpers.values():
            out += [a for a in helper.attempts if a not in out]
        return out

    def _note_attempts(self, sent):
        """Keep what the worker's audit hook saw the submission try (a person reads it; it changes no score)."""
        if not isinstance(sent, list):
            return
        for item in sent[:20]:
            if len(self.attempts) >= self.MAX_ATTEMPTS:
                return
            if isinstance(item, list) and len(item) == 3 and all(isinstance(v, str) for v in item):
                kind, function, detail = (clean_text(v, 300, lines=False) for v in item)
                if (kind, function, detail) not in self.attempts:
                    self.attempts.append((kind, function, detail))

    #: stand-in questions answered per submission, at most (each is a reference call in this process)
    MAX_STAND_INS = 20000

    def _stand_in(self, header, blobs):
        """The reply to a stand-in's question: the reference's value, only for a module this process saw fail
        or, in a worker of `_with_reference`, for the functions it stands in for."""
        name = header.get("callback")
        if not isinstance(name, str) or name not in kit.module_of():
            return {"error": "no such exercise function"}, ()
        module = self.submission.module_of(name)
        if name not in self.standing_in:
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
        module = header["module"]
        self._import(module)
        if function in self.given_up:
            raise self.given_up[function]
        if self.spent >= self.budget:
            raise self._over_budget(function)
        proc = self._ensure()
        self.calls += 1
        limit = min(self.timeout, self.budget - self.spent)
        try:
            reply, reply_blobs = self._exchange(proc, header, blobs, limit, total=self.budget - self.spent)
        except TimeoutError as exc:
            self._stop()
            if limit < self.timeout or self.spent >= self.budget:  # cut short by the submission's budget
                raise self._over_budget(function) from None
            if isinstance(exc, StandInsTooLong):
                failure = TimedOut(function, f"did not finish within {self.timeout * self.STAND_IN_ALLOWANCE:g} s "
                                             f"while the reference answered for functions it calls (an infinite "
                                             f"loop around them?); later checks that call {function} are skipped")
            else:
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
        if module in self.failed and "error" not in reply:
            reply = {"error": "load_error", "message": self.failed[module]}
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
