"""Ctrl-C and SIGTERM during a class run, and the processes that must not outlive it.

`Stop` is installed by `classroom.grade_class` for SIGINT and SIGTERM. The first signal
asks the run to stop: no student is started or recorded after it, what is running is
ended, and grades.csv and report.html are written for everyone finished. A second signal
exits at once (status 128 + signal), but never in the middle of writing a student's files:
that write is finished first, so nothing already graded is lost or half written.

The grading processes of a pool ignore both signals (a terminal sends Ctrl-C to the whole
foreground process group): the parent decides, and kills them. Their fork servers end their
workers and exit as soon as their grading process is gone; `descendants` and `wait_gone`
let the parent wait until they have (from /proc; where there is none they return at once).
"""
import os
import signal
import time

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised out of the student being graded in-process (-j 1) by the first signal."""


def _ignore(signum, frame):
    """A handler that does nothing. Unlike SIG_IGN it is not inherited across exec, so the fork
    servers a grading process starts still see signals normally."""


def ignore_stop_signals():
    """In a pool's grading process: leave SIGINT and SIGTERM to the parent."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _ignore)


def _exit_at_once(signum, frame):
    try:
        os.write(2, b"\nrnn-grade: interrupted. Every result written so far is kept.\n")
    except OSError:
        pass
    os._exit(128 + signum)


def exit_at_once_on_signals():
    """For the command line: outside a class run (before it starts, once it has returned) SIGINT and
    SIGTERM end the command at once, with no traceback. `Stop` takes over during the run."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit_at_once)


def die_with_parent():
    """Ask the kernel to SIGKILL this process when its parent dies (Linux PR_SET_PDEATHSIG)."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was in place
        os._exit(1)


class Stop:
    """What the class run has been told by SIGINT / SIGTERM; see the module docstring."""

    def __init__(self):
        self.signum = None          # the first stop signal received, if any
        self.pid = os.getpid()
        self.children = set()       # pids of pool processes, killed by a second signal
        self.interruptible = False  # True while a student is graded in this process (-j 1)
        self.raised = False         # Interrupted was raised out of a student
        self._writing = 0
        self._pending = None        # a second signal that arrived while results were written
        self._previous = {}

    @property
    def name(self):
        return signal.Signals(self.signum).name if self.signum else ""

    def install(self):
        """Handle SIGINT and SIGTERM from now on (only possible in the main thread)."""
        for signum in STOP_SIGNALS:
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except (ValueError, OSError):  # not the main thread: leave the signals alone
                pass
        return self

    def restore(self):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def _handle(self, signum, frame):
        if os.getpid() != self.pid:  # a pool process that has not yet set its own handlers
            return
        if self.signum is None:
            self.signum = signum
            if self.interruptible:
                self.interruptible = False
                self.raised = True
                raise Interrupted()
            return
        if self._writing:
            self._pending = signum
            return
        self.exit_now(signum)

    def writing(self):
        """A context in which a second signal waits: results being written."""
        stop = self

        class _Writing:
            def __enter__(self):
                stop._writing += 1

            def __exit__(self, *exc):
                stop._writing -= 1
                if not stop._writing and stop._pending:
                    stop.exit_now(stop._pending)

        return _Writing()

    def exit_now(self, signum):
        """The second signal: kill the pool processes (their fork servers follow) and exit."""
        tree = descendants(self.children)
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in self.children:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
        wait_gone(tree, 1.0)
        try:
            os.write(2, b"\nrnn-grade: stopped at once (second interrupt). Every student written so far is kept; "
                        b"grades.csv and report.html may be out of date: run the same command again to finish.\n")
        except OSError:
            pass
        os._exit(128 + signum)


def _process_table():
    """{pid: (ppid, start time, state)} of every process, from /proc ({} without /proc)."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
            fields = data[data.rindex(b")") + 2:].split()
            table[int(name)] = (int(fields[1]), fields[19], fields[0])  # ppid, starttime, state
        except (OSError, ValueError, IndexError):
            continue
    return table


def descendants(pids):
    """{pid: start time} of every process below `pids` now (fork servers, bubblewrap, workers)."""
    table = _process_table()
    below = {}
    for pid, (ppid, _start, _state) in table.items():
        below.setdefault(ppid, []).append(pid)
    found, todo = {}, list(pids)
    while todo:
        for child in below.get(todo.pop(), ()):
            if child not in found:
                found[child] = table[child][1]
                todo.append(child)
    return found


def alive(processes):
    """The pids in {pid: start time} that still run (a zombie has ended; a reused pid is not ours)."""
    table = _process_table()
    return [pid for pid, start in processes.items()
            if pid in table and table[pid][1] == start and table[pid][2] != b"Z"]


def wait_gone(processes, timeout):
    """Wait up to `timeout` seconds until none of {pid: start time} runs; True if none does."""
    deadline = time.monotonic() + timeout
    while processes:
        processes = {pid: processes[pid] for pid in alive(processes)}
        if not processes:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
