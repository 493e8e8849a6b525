"""The fork server and the lock-down of every worker it forks.

Run as ``python -I forkserver.py --fork-server FD`` (inside bubblewrap from its read-only
copy of this folder, or straight from the kit): it imports numpy and what a submission may
use once, then forks one child per submission on request. Each child locks itself down
(`lock_down`: its own session, `nobody` when started as root, resource limits, a private
folder, no kit imports, Landlock and seccomp from confine.py) before it reads a line of
student code, then serves calls (child.py). Its parent is the grading process, which is
trusted; the children are not. Standard library and numpy only.
"""
import json
import os
import sys
import tempfile

if __package__:
    from . import child, confine
    from .wire import pack, write_frame
else:  # a script in the sandbox's folder, which holds only the sandbox's own modules
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import child
    import confine
    from wire import pack, write_frame

import numpy as np

# ---------------------------------------------------------------------------------------
# The fork server: one warm process (numpy already imported) that forks a fresh, locked
# down child per submission. Its parent is the kit's grading process, which is trusted.

#: resource limits of every child: (limit name, soft = hard value)
LIMITS = (("RLIMIT_AS", 4 * 1024 ** 3), ("RLIMIT_CPU", 120), ("RLIMIT_FSIZE", 16 * 1024 ** 2),
          ("RLIMIT_NOFILE", 64), ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", 0))
NOBODY = 65534
KIT_PACKAGES = ("solutions", "autograder", "exercises", "tests")


class _KitBlocker:
    """A meta path finder that refuses to import the kit itself (and so its solutions)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in KIT_PACKAGES:
            raise ImportError(f"importing {fullname!r} is not allowed while grading")
        return None


def lock_down():
    """Make this process fit to run untrusted code; return the protections actually applied."""
    import resource

    applied = []
    os.setsid()  # its own process group: killing the group kills anything it managed to start
    search = _SEARCH_CAPABILITY if _CONFINE and _SEARCH_CAPABILITY is not None else None
    if os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            if search is not None:
                confine.keep_capabilities_across_setuid(True)
            os.setuid(NOBODY)
            applied.append("uid nobody")
        except OSError:
            pass
        if search is not None:
            confine.keep_capabilities_across_setuid(False)
            if confine.hold_only({search}):
                applied.append("passes folders closed to nobody")
    tmp = tempfile.mkdtemp(prefix=f"rnn-work-{os.getpid()}-", dir="/tmp")  # random name: nothing to squat
    os.chdir(tmp)
    os.environ["TMPDIR"] = tmp
    for name, value in LIMITS:
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            applied.append(name)
        except (ValueError, OSError):
            pass
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.meta_path.insert(0, _KitBlocker())
    for name in list(sys.modules):
        if name.partition(".")[0] in KIT_PACKAGES:
            del sys.modules[name]
    confined = []
    if _CONFINE:  # no folder is writable: a worker creates, fills and truncates nothing, so nothing it could
        # leave behind (bytes, inodes, a squatted name) exists for the next student; its own folder is its cwd only
        confined = confine.confine(read=_READABLE, write=[])
        applied += confined
    if "passes folders closed to nobody" in applied and not any(c.startswith("landlock") for c in confined):
        confine.hold_only(set())  # that capability is safe only inside Landlock's reads, writes and nothing else
        applied.remove("passes folders closed to nobody")
    return applied


#: what a worker may read once confined; set by the fork server after its imports (`readable_paths`)
_READABLE = ()
#: as root, a capability the worker keeps as `nobody` when the Python installation sits below a folder that
#: nobody may not pass (e.g. a venv or pyenv under /root, mode 0700): it lets the worker reach the standard
#: library and numpy there, and Landlock still decides what it reads (nothing else) and writes (nothing);
#: set by the fork server (`search_capability`)
_SEARCH_CAPABILITY = None
#: False only when the fork server was told --no-confine (RNN_KIT_NO_LANDLOCK=1: to test the weakest level)
_CONFINE = True


def readable_paths():
    """The standard library (without its site-packages), numpy, and every file already mapped.

    Listed entry by entry, so a kit installed into the same site-packages stays unreadable.
    """
    stdlib = os.path.dirname(os.__file__)
    paths = [os.path.join(stdlib, entry) for entry in sorted(os.listdir(stdlib))
             if entry not in ("site-packages", "dist-packages")]
    paths.append(os.path.dirname(np.__file__))
    paths += confine.mapped_files()
    return tuple(paths) + ("/dev/urandom", "/dev/null")


def search_capability(paths):
    """The capability a `nobody` worker needs to reach `paths`, or None when every folder above them is
    open to others (or this process is not root, or Landlock is missing: then nothing is kept)."""
    import stat

    if os.geteuid() != 0 or confine.landlock_abi() < 1:
        return None
    closed = False
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        while folder not in ("/", ""):
            try:
                if not os.stat(folder).st_mode & stat.S_IXOTH:
                    closed = True
                    break
            except OSError:
                break
            folder = os.path.dirname(folder)
        if closed:
            break
    if not closed:
        return None
    held = confine.effective_capabilities()
    for capability in (confine.CAP_DAC_READ_SEARCH, confine.CAP_DAC_OVERRIDE):  # read-only bypass first
        if capability in held:
            return capability
    return None


def _preload():
    """Import what any child may need, while the files are still readable by the server."""
    import importlib.abc  # noqa: F401
    import importlib.util  # noqa: F401
    import linecache  # noqa: F401
    import types  # noqa: F401
    import warnings  # noqa: F401
    import numpy.lib.format  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401
    for name in ("ctypes", "glob", "shutil", "math", "functools", "itertools", "collections", "copy", "random", "typing", "dataclasses",
                 "numbers", "operator", "string", "enum", "statistics", "time", "encodings.idna", "socket",
                 "numpy.typing", "numpy.lib.stride_tricks", "numpy.fft", "numpy.polynomial"):
        try:
            __import__(name)
        except ImportError:
            pass


def _close_all_but(keep):
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 1024)
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _die_with_parent():
    """Ask the kernel to kill this worker when the fork server dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _remove_workdirs(pid, children=()):
    """Remove the worker's private folder; with _PRIVATE_TMP (the sandbox's own /tmp), everything in /tmp
    but the folders of `children` still alive, so nothing one student left there reaches the next."""
    import glob
    import shutil

    folders = glob.glob(f"/tmp/rnn-work-{pid}-*")
    if _PRIVATE_TMP:
        keep = tuple(f"rnn-work-{child}-" for child in children)
        folders = [os.path.join("/tmp", name) for name in os.listdir("/tmp") if not name.startswith(keep)]
    for folder in folders:
        _make_removable(folder)
        if os.path.isdir(folder) and not os.path.islink(folder):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            try:
                os.unlink(folder)
            except OSError:
                pass


def _make_removable(top):
    """Give back write and search permission on every folder below `top` (a worker may chmod 000 its own)."""
    for path, folders, _files in os.walk(top):
        for name in folders:
            try:
                os.chmod(os.path.join(path, name), 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass


#: True when this fork server's /tmp is its own (inside bubblewrap): it is emptied after every worker
_PRIVATE_TMP = False


def fork_server(control_fd, confine=True, private_tmp=False):
    """Serve spawn/kill requests from the grading process on a unix socket (JSON lines)."""
    import signal
    import socket

    global _READABLE, _CONFINE, _PRIVATE_TMP, _SEARCH_CAPABILITY
    _PRIVATE_TMP = private_tmp
    _CONFINE = confine
    _preload()
    _READABLE = readable_paths()
    _SEARCH_CAPABILITY = search_capability(_READABLE) if confine else None
    control = socket.socket(fileno=control_fd)
    statuses = {}

    def reap():
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            statuses[pid] = (status, usage.ru_utime + usage.ru_stime)

    reader = control.makefile("rb")
    children = set()
    try:
        _serve_forks(control, reader, children, statuses, reap)
    finally:  # the grader went away or said exit: no worker may outlive it
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _remove_workdirs(pid)


def _serve_forks(control, reader, children, statuses, reap):
    import signal
    import socket
    import time

    while True:
        line = reader.readline()
        if not line:
            return
        request = json.loads(line)
        reap()
        if request["op"] == "spawn":
            to_r, to_w = os.pipe()
            from_r, from_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    _close_all_but({0, 1, 2, to_r, from_w})  # the control channel must not reach student code
                    _die_with_parent()
                    applied = lock_down()
                    write_frame(from_w, pack({"ready": applied}))
                    child.serve(to_r, from_w)
                finally:
                    os._exit(0)
            os.close(to_r)
            os.close(from_w)
            children.add(pid)
            socket.send_fds(control, [json.dumps({"pid": pid}).encode() + b"\n"], [to_w, from_r])
            os.close(to_w)
            os.close(from_r)
        elif request["op"] == "kill":
            pid = request["pid"]
            reap()
            for kill in (os.killpg, os.kill) if pid not in statuses else ():  # a reaped pid may be reused
                try:
                    kill(pid, signal.SIGKILL)  # the group first, then the process itself
                except OSError:
                    pass
            deadline = time.monotonic() + 5.0
            while pid not in statuses and time.monotonic() < deadline:
                try:
                    done, status, usage = os.wait4(pid, os.WNOHANG)
                except ChildProcessError:
                    statuses[pid] = (None, None)
                    break
                if done:
                    statuses[pid] = (status, usage.ru_utime + usage.ru_stime)
                else:
                    time.sleep(0.002)
            status, cpu = statuses.pop(pid, (None, None))
            children.discard(pid)
            _remove_workdirs(pid, children)
            signum = os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None
            code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
            control.sendall(json.dumps({"signal": signum, "code": code, "cpu": cpu}).encode() + b"\n")
        elif request["op"] == "cpu":  # CPU seconds a live worker has used, as the kernel counts them
            control.sendall(json.dumps({"cpu": _cpu_seconds(request["pid"])}).encode() + b"\n")
        elif request["op"] == "exit":
            return


def _cpu_seconds(pid):
    """User + system CPU seconds of a live child, from /proc (None if it is gone)."""
    try:
        with open(f"/proc/{int(pid)}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def main(argv):
    """python -I forkserver.py FD_IN FD_OUT  (one worker), or  python -I forkserver.py --fork-server FD [--no-confine]"""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # a submission must not reach anything through stdin
    if argv[1] == "--fork-server":
        fork_server(int(argv[2]), confine="--no-confine" not in argv[3:], private_tmp="--private-tmp" in argv[3:])
        return
    child.serve(int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
