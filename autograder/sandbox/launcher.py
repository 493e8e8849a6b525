"""Where student code runs: a fork server, inside bubblewrap when the machine has it.

One fork server per grading process imports numpy once and forks a fresh child per
submission (about 2 ms instead of about 100 ms for a new interpreter). Each child:

* runs in its own process group and is killed with it;
* has resource limits: address space, CPU seconds, file size, open files, no core
  dumps, and no new processes (RLIMIT_NPROC = 0; as root the child first becomes
  `nobody`, because the kernel does not apply that limit to root);
* has a private temporary directory, stdin closed, stdout and stderr discarded (what
  the code prints through Python is captured per call, capped, and shown in feedback);
* confines itself with Landlock and seccomp (confine.py) where the kernel has them:
  reads only the standard library and numpy, creates and writes no file anywhere (so it
  cannot fill a disk, use up inodes or leave anything for the next student), truncates
  nothing, executes nothing, no sockets, no signals or ptrace beyond itself;
* cannot import the kit (solutions, autograder, tests);
* gets a scrubbed environment and runs under ``python -I``.

With bubblewrap (`bwrap`, Debian package bubblewrap) the fork server also runs in fresh
namespaces: no network, its own PIDs and IPC, a read-only view of only the Python
installation and this folder, and a size-capped /tmp. solutions/, the hidden checks and
other students' files do not exist in there.

The level reached (`LEVELS`, strongest first) is recorded in every result; below
"landlock", `warning()` is the paragraph the commands print, and `--require-sandbox`
refuses to grade.
"""
import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from . import wire
from .forkserver import KIT_PACKAGES

HERE = Path(__file__).resolve().parent
FORK_SERVER = HERE / "forkserver.py"
SANDBOX_DIR = "/opt/rnn-kit/sandbox"
SANDBOX_FORK_SERVER = f"{SANDBOX_DIR}/forkserver.py"
#: the sandbox's /tmp, shared by the workers of one fork server one after another (each worker's own
#: folder in it is removed before the next one starts)
TMP_BYTES = 256 * 1024 ** 2

#: sandbox levels, strongest first; each one's meaning is in README's sandbox section
LEVELS = ("bubblewrap+landlock", "bubblewrap", "landlock", "process limits only")
#: what a level lacks, in words for the instructor
_LACKS = {
    "bubblewrap": ["Landlock (Linux 5.13+): defence in depth inside the namespaces"],
    "landlock": ["namespaces (bubblewrap): PID and IPC isolation, a filesystem view without the kit, "
                 "a size-capped /tmp; Landlock and seccomp still hold reads, writes, execution and the network"],
    "process limits only": ["Landlock (Linux 5.13+)", "network isolation",
                            "a filesystem view without solutions/, the hidden checks and other students' files"],
}


def rank(level):
    """0 for the weakest level, len(LEVELS) - 1 for the strongest; -1 for an unknown name."""
    return len(LEVELS) - 1 - LEVELS.index(level) if level in LEVELS else -1


def scrubbed_env():
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine workarounds numpy needs to run at all
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _python_roots():
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    import numpy

    roots.add(Path(numpy.__file__).resolve().parent.parent)  # site-packages holding numpy
    exe = Path(sys.executable).resolve()
    if not any(exe.is_relative_to(r) for r in roots):
        roots.add(exe.parent)
    out = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if not any(root.is_relative_to(o) for o in out):
            out.append(root)
    return out


def _kit_locations():
    """Folders of the kit's own packages, to hide if they sit inside a bound folder (a non-editable install)."""
    import importlib.util

    out = []
    for name in KIT_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            out.append(Path(location).resolve())
    return out


def bwrap_command(program):
    """The bwrap argv that runs `program` (an argv) in the sandbox."""
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--new-session", "--ro-bind", "/usr", "/usr"]  # no --die-with-parent: it follows the starting *thread*;
    # the fork server exits by itself when its control socket closes
    if os.geteuid() != 0:
        args.append("--unshare-user")  # unprivileged: namespaces need a user namespace
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.exists():
            args += ["--ro-bind", str(target), f"/{link}"]
    # /tmp first: an interpreter or venv under /tmp is bound on top of it, not hidden by it
    args += ["--perms", "1777", *(["--size", str(TMP_BYTES)] if _bwrap_has_size() else []), "--tmpfs", "/tmp"]
    made = {"/usr", "/tmp"}
    roots = _python_roots()
    for root in roots:
        for ancestor in reversed(root.parents[:-1]):  # every ancestor readable by nobody
            if str(ancestor) not in made and not str(ancestor).startswith("/usr"):
                args += ["--perms", "0755", "--dir", str(ancestor)]
                made.add(str(ancestor))
        if not str(root).startswith("/usr/"):
            args += ["--ro-bind", str(root), str(root)]
    for location in _kit_locations():
        if any(location.is_relative_to(r) for r in roots):
            args += ["--tmpfs", str(location)]
    args += ["--perms", "0755", "--dir", "/opt/rnn-kit", "--ro-bind", str(HERE), SANDBOX_DIR,
             "--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp", "--clearenv"]
    for key, value in scrubbed_env().items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:  # the child drops to nobody itself, so that RLIMIT_NPROC applies
        # the server keeps what it needs to drop children to nobody, kill them and remove their folders;
        # the children lose every capability when they become nobody
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL",
                 "--cap-add", "CAP_DAC_OVERRIDE"]
    return args + ["--", *program]


def _bwrap_has_size():
    """Whether this bubblewrap caps a tmpfs (--size, bubblewrap 0.7 and later; Ubuntu 22.04 has 0.6)."""
    global _HAS_SIZE
    if _HAS_SIZE is None:
        try:
            done = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=10)
            _HAS_SIZE = "--size" in done.stdout + done.stderr
        except (OSError, subprocess.TimeoutExpired):
            _HAS_SIZE = False
    return _HAS_SIZE


_HAS_SIZE = None


def _bwrap_failure():
    """Why bubblewrap cannot run the worker here, from bubblewrap's own words; None if it can."""
    if os.environ.get("RNN_KIT_NO_BWRAP"):
        return "switched off by RNN_KIT_NO_BWRAP"
    if not shutil.which("bwrap"):
        return "not installed (Debian and Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run(bwrap_command([sys.executable, "-I", "-c", "import numpy"]), capture_output=True,
                              text=True, timeout=30, env=scrubbed_env(), cwd="/", stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"installed, but it did not run here ({exc})"
    if done.returncode == 0:
        return None
    said = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:300]
    return f"installed, but it cannot run the worker here: {said}"


def bwrap_works():
    """True if this process's fork server runs inside bubblewrap (it is started, and tried, once)."""
    return shared_server().sandbox


def protections():
    """What the sandbox gives on this machine: {"level", "applied", "missing", "bwrap"}."""
    server = shared_server()
    applied = server.probe_applied
    # Landlock counts only with seccomp beside it (Landlock alone leaves UDP, and TCP below ABI 4), and as
    # root only once the worker really became nobody
    landlocked = (any(a.startswith("landlock") for a in applied) and "seccomp" in applied
                  and (os.geteuid() != 0 or "uid nobody" in applied))
    if server.sandbox:
        level = "bubblewrap+landlock" if landlocked else "bubblewrap"
    else:
        level = "landlock" if landlocked else "process limits only"
    missing = list(_LACKS.get(level, []))
    if not server.sandbox:
        missing.insert(0, f"bubblewrap: {server.bwrap_failure}")
    return {"level": level, "applied": list(server.probe_applied), "missing": missing}


def warning(sandbox):
    """The paragraph to print when `sandbox` (a protections() dict) is below "landlock", else None."""
    if rank(sandbox.get("level")) >= rank("landlock"):
        return None
    return ("WARNING: student code runs with process limits only on this machine ("
            + "; ".join(sandbox.get("missing", [])) + "). A submission could then read the reference solutions "
            "and the hidden checks, write anywhere this user can (the host's /tmp, other students' results), "
            "and reach the network. To fix it: install bubblewrap (apt-get install bubblewrap), use a kernel "
            "with Landlock (Linux 5.13 or newer, with landlock in the lsm= list), or in Docker allow user "
            "namespaces for bubblewrap (for example docker run --security-opt seccomp=unconfined --security-opt "
            "apparmor=unconfined). "
            "Pass --require-sandbox landlock to refuse to grade on such a machine.")


class SandboxTooWeak(RuntimeError):
    """The host cannot give the sandbox level the instructor required."""


def require(level):
    """Raise SandboxTooWeak unless this machine's sandbox is at least `level` (a name in LEVELS)."""
    if level not in LEVELS:
        raise ValueError(f"sandbox level must be one of {', '.join(LEVELS)}; got {level!r}")
    have = protections()
    if rank(have["level"]) < rank(level):
        raise SandboxTooWeak(f"the sandbox here reaches {have['level']!r}, below the required {level!r} (missing: "
                             + "; ".join(have["missing"]) + "); nothing was graded")
    return have


class ForkServer:
    """A warm process that forks one locked-down worker per submission."""

    def __init__(self, *, sandbox, confine=True):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        parent, child = socket.socketpair()
        serve = (["--fork-server", str(child.fileno())] + ([] if confine else ["--no-confine"])
                 + (["--private-tmp"] if sandbox else []))
        if self.sandbox:
            argv = bwrap_command([sys.executable, "-I", SANDBOX_FORK_SERVER, *serve])
        else:
            argv = [sys.executable, "-I", str(FORK_SERVER), *serve]
        self.process = subprocess.Popen(argv, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env=scrubbed_env(), cwd="/", start_new_session=True)
        child.close()
        self.control = parent
        self.reader = parent.makefile("rb")

    broken = False
    probe_applied = ()   # what the first worker reported it applied
    bwrap_failure = None  # why this server is not in bubblewrap

    def start(self):
        """A fresh locked-down worker; raises RuntimeError (and marks the server broken) if that fails."""
        with self._lock:
            fds = []
            try:
                self.control.sendall(b'{"op": "spawn"}\n')
                message, fds, _flags, _addr = socket.recv_fds(self.control, 4096, 2)
                pid = json.loads(message)["pid"] if len(fds) == 2 else None
            except (OSError, ValueError, KeyError, TypeError):
                pid = None
            for fd in fds:  # recv_fds makes them inheritable: never pass them on to another process
                os.set_inheritable(fd, False)
            if not isinstance(pid, int):
                for fd in fds:
                    os.close(fd)
                self.broken = True
                raise RuntimeError("the fork server did not hand over a worker")
        process = ForkedWorker(self, pid, fds[0], fds[1])
        try:
            ready, _ = wire.unpack(wire.read_frame(process.from_worker))
        except (OSError, EOFError, ValueError) as exc:
            process.kill()
            self.broken = True  # never the student's fault: the next start gets a fresh server
            raise RuntimeError(f"a new worker died before it was ready ({exc})") from None
        process.applied = ready.get("ready", []) if isinstance(ready.get("ready"), list) else []
        return process

    def kill(self, pid):
        """Kill a worker and return how it ended ({"signal": ..., "code": ...})."""
        with self._lock:
            try:
                self.control.sendall(json.dumps({"op": "kill", "pid": pid}).encode() + b"\n")
                reply = json.loads(self.reader.readline() or b"{}")
                if not isinstance(reply, dict):
                    raise ValueError(reply)
                return reply
            except (OSError, ValueError):
                self.broken = True  # the next WorkerImpl gets a new server
                return {}

    def cpu(self, pid):
        """CPU seconds worker `pid` has used so far (None if unknown)."""
        with self._lock:
            try:
                self.control.sendall(json.dumps({"op": "cpu", "pid": pid}).encode() + b"\n")
                reply = json.loads(self.reader.readline() or b"{}")
            except (OSError, ValueError):
                self.broken = True
                return None
        cpu = reply.get("cpu") if isinstance(reply, dict) else None
        return float(cpu) if isinstance(cpu, (int, float)) else None

    def close(self):
        try:
            self.control.sendall(b'{"op": "exit"}\n')
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.control.close()


class ForkedWorker:
    """One child of the fork server, as WorkerImpl sees it."""

    def __init__(self, server, pid, to_worker, from_worker):
        self.server, self.pid, self.to_worker, self.from_worker = server, pid, to_worker, from_worker
        self.exit = None
        self.applied = []

    def _stop(self):
        if self.exit is None:
            self.exit = {}  # set first: the fds are closed exactly once, whatever happens next
            for fd in (self.to_worker, self.from_worker):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.exit = self.server.kill(self.pid)

    def kill(self):
        self._stop()

    def cpu(self):
        """CPU seconds this worker used: so far while it lives, in all once it is stopped."""
        if self.exit is not None:
            cpu = self.exit.get("cpu")
            return float(cpu) if isinstance(cpu, (int, float)) else 0.0
        return self.server.cpu(self.pid) or 0.0

    def describe_exit(self):
        self._stop()
        signum, code = self.exit.get("signal"), self.exit.get("code")
        if isinstance(signum, int) and signum:
            import signal

            name = signal.Signals(signum).name
            hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: a limit was hit)",
                    "SIGSEGV": " (segmentation fault)", "SIGXFSZ": " (file size limit)"}.get(name, "")
            return f"the process was killed by {name}{hint}"
        if isinstance(code, int):
            return f"the process exited with code {code} (os._exit, sys.exit at the top level, or a crash)"
        return "the process stopped answering"


_servers = {}


def _start_server():
    """A fork server in bubblewrap if it works here, else without; one worker is spawned to prove it."""
    failure = _bwrap_failure()
    if failure is None:
        server = None
        try:
            server = ForkServer(sandbox=True, confine=not os.environ.get("RNN_KIT_NO_LANDLOCK"))
            probe = server.start()
            server.probe_applied = tuple(probe.applied)
            probe.kill()
            return server
        except (OSError, RuntimeError, ValueError, EOFError, wire.WireError) as exc:
            failure = f"installed, but the fork server did not start in it ({exc})"
            if server is not None:
                server.close()
    server = ForkServer(sandbox=False, confine=not os.environ.get("RNN_KIT_NO_LANDLOCK"))
    server.bwrap_failure = failure
    try:
        probe = server.start()
        server.probe_applied = tuple(probe.applied)
        probe.kill()
    except RuntimeError:
        pass
    return server


def shared_server():
    """This process's fork server, started on first use (a forked grader gets its own)."""
    pid = os.getpid()
    if pid not in _servers or _servers[pid].broken:
        if pid in _servers:
            _servers[pid].close()
        _servers[pid] = _start_server()
        atexit.register(_servers[pid].close)
    return _servers[pid]
