"""Where student code runs: a fork server, inside bubblewrap when the machine has it.

One fork server per grading process imports numpy once and forks a fresh child per
submission (about 2 ms instead of about 100 ms for a new interpreter). Each child:

* runs in its own process group and is killed with it;
* has resource limits: address space, CPU seconds, file size, open files, no core
  dumps, and no new processes (RLIMIT_NPROC = 0; as root the child first becomes
  `nobody`, because the kernel does not apply that limit to root);
* has a private temporary directory, stdin closed, stdout and stderr discarded (what
  the code prints through Python is captured per call, capped, and shown in feedback);
* cannot import the kit (solutions, autograder, tests);
* gets a scrubbed environment and runs under ``python -I``.

With bubblewrap (`bwrap`, Debian package bubblewrap) the fork server also runs in fresh
namespaces: no network, its own PIDs and IPC, and a read-only view of only the
Python installation and the worker file. solutions/, the hidden checks and other
students' files do not exist in there. Without bubblewrap, `PROTECTIONS` lists what is
missing, and every result records the level reached.
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

from . import worker

WORKER = Path(worker.__file__).resolve()
SANDBOX_WORKER = "/opt/rnn-kit/worker.py"


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
    for name in worker.KIT_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            out.append(Path(location).resolve())
    return out


def bwrap_command(python_args):
    """The bwrap argv that runs `python_args` (after the interpreter) in the sandbox."""
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
    made = {"/usr"}
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
    args += ["--perms", "0755", "--dir", "/opt/rnn-kit", "--ro-bind", str(WORKER), SANDBOX_WORKER,
             "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--chdir", "/tmp",
             "--clearenv"]
    for key, value in scrubbed_env().items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:  # the child drops to nobody itself, so that RLIMIT_NPROC applies
        # the server keeps what it needs to drop children to nobody, kill them and remove their folders;
        # the children lose every capability when they become nobody
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL",
                 "--cap-add", "CAP_DAC_OVERRIDE"]
    return args + ["--", sys.executable, "-I", SANDBOX_WORKER, *python_args]


def bwrap_works():
    """True if this process's fork server runs inside bubblewrap (it is started, and tried, once)."""
    return shared_server().sandbox


def protections():
    """What the sandbox gives on this machine: level and the protections that are missing."""
    if bwrap_works():
        return {"level": "bubblewrap", "missing": []}
    why = "not installed" if not shutil.which("bwrap") else "installed but cannot create namespaces here"
    return {"level": "process limits only",
            "missing": [f"bubblewrap ({why}; Debian package bubblewrap)", "network isolation",
                        "a filesystem view without solutions/ and other students' files",
                        "PID and IPC isolation"]}


class ForkServer:
    """A warm process that forks one locked-down worker per submission."""

    def __init__(self, *, sandbox):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        parent, child = socket.socketpair()
        if self.sandbox:
            argv = bwrap_command(["--fork-server", str(child.fileno())])
        else:
            argv = [sys.executable, "-I", str(WORKER), "--fork-server", str(child.fileno())]
        self.process = subprocess.Popen(argv, pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env=scrubbed_env(), cwd="/", start_new_session=True)
        child.close()
        self.control = parent
        self.reader = parent.makefile("rb")

    broken = False

    def start(self):
        """A fresh locked-down worker; raises RuntimeError (and marks the server broken) if that fails."""
        with self._lock:
            try:
                self.control.sendall(b'{"op": "spawn"}\n')
                message, fds, _flags, _addr = socket.recv_fds(self.control, 4096, 2)
                pid = json.loads(message)["pid"] if len(fds) == 2 else None
            except (OSError, ValueError, KeyError, TypeError):
                pid = None
            if not isinstance(pid, int):
                self.broken = True
                raise RuntimeError("the fork server did not hand over a worker")
        process = ForkedWorker(self, pid, fds[0], fds[1])
        try:
            ready, _ = worker.unpack(worker.read_frame(process.from_worker))
        except (OSError, EOFError, ValueError) as exc:
            process.kill()
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
    """A fork server in bubblewrap if it works here (one worker is spawned to prove it), else without."""
    if not os.environ.get("RNN_KIT_NO_BWRAP") and shutil.which("bwrap"):
        server = None
        try:
            server = ForkServer(sandbox=True)
            server.start().kill()  # bubblewrap can fail to make namespaces; a spawn shows it works
            return server
        except (OSError, RuntimeError, ValueError, EOFError, worker.WireError):
            if server is not None:
                server.close()
    return ForkServer(sandbox=False)


def shared_server():
    """This process's fork server, started on first use (a forked grader gets its own)."""
    pid = os.getpid()
    if pid not in _servers or _servers[pid].broken:
        if pid in _servers:
            _servers[pid].close()
        _servers[pid] = _start_server()
        atexit.register(_servers[pid].close)
    return _servers[pid]
