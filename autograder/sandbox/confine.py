"""Kernel confinement that needs neither root nor namespaces: Landlock and a seccomp filter.

The worker applies both to itself after forking and before it reads a line of student
code, inside bubblewrap too (defence in depth), so they hold on hosts where bubblewrap
cannot run (Gradescope's Docker, most CI containers). Standard library only: this file
is loaded by path into the sandboxed worker.

Landlock (Linux 5.13+; the ABI version says what the kernel can restrict):

* files: reads only beneath the paths given (the standard library, numpy, the shared
  libraries already mapped), writes only beneath the folders given (the worker is
  given none: it creates no file, so it has no disk or inodes to use up), no execution
  of any file (so no ``os.execv`` into a shell);
* ABI 4+: no TCP bind or connect;
* ABI 6+: no abstract unix sockets and no signals to processes outside the worker.

Seccomp (a small BPF filter, x86-64 and arm64): ``socket()`` of any family, ``ptrace``,
reading or writing other processes' memory, the kernel keyring, ``execve``, new
namespaces or mounts, io_uring (which would go around the filter), bpf and
perf_event_open fail with EPERM, and so does truncation (``truncate``, ``creat``,
``open`` or ``openat`` with O_TRUNC, ``openat2``), which Landlock refuses only from ABI 3
(and O_TRUNC truncates even a file opened read-only); a system call of a foreign ABI (i386 or x32 on x86-64)
kills the process.

`confine(...)` returns the names of what it applied; nothing here raises when the kernel
lacks a feature, the caller records what is missing instead.
"""
import ctypes
import os
import platform
import struct

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.syscall.restype = ctypes.c_long
_LIBC.prctl.restype = ctypes.c_int

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446  # every arch
LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_RULE_PATH_BENEATH = 1, 1

# filesystem rights, by the ABI that introduced them
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK, FS_MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: FS_REFER, 3: FS_TRUNCATE, 5: FS_IOCTL_DEV}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1            # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6
#: rights that may be granted on a single file (the others only on directories)
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV

READ = FS_READ_FILE | FS_READ_DIR
WRITE = (READ | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_TRUNCATE)


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    """The kernel's Landlock ABI version, or 0 where Landlock is missing or switched off."""
    version = _LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _handled_fs(abi):
    return sum(bits for since, bits in FS_BY_ABI.items() if abi >= since)


def _no_new_privs():
    return _LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def landlock(read=(), write=(), abi=None):
    """Restrict this process (and anything it starts) with Landlock; return a label or None.

    `read`: paths whose contents may be read (files or folders, beneath which all is
    readable); `write`: folders that may also be written. Paths that do not exist are left
    out. Everything else is unreadable, nothing is executable; ABI 4+ adds no TCP, ABI 6+ no
    abstract unix sockets and no signals beyond the sandbox.
    """
    abi = landlock_abi() if abi is None else abi
    if abi < 1:
        return None
    fs = _handled_fs(abi)
    fields = [fs]
    if abi >= 4:
        fields.append(NET_BIND_TCP | NET_CONNECT_TCP)
    if abi >= 6:
        fields.append(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    attr = ctypes.create_string_buffer(struct.pack(f"<{len(fields)}Q", *fields), 8 * len(fields))
    ruleset = _LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(8 * len(fields)), ctypes.c_uint32(0))
    if ruleset < 0:
        return None
    try:
        for paths, rights in ((read, READ), (write, WRITE)):
            for path in paths:
                _allow(ruleset, path, rights & fs)
        if not _no_new_privs() or _LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset),
                                                ctypes.c_uint32(0)) != 0:
            return None
    finally:
        os.close(ruleset)
    return f"landlock abi {abi}"


def _allow(ruleset, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not _is_dir(fd):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        _LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                      ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def _is_dir(fd):
    import stat

    try:
        return stat.S_ISDIR(os.fstat(fd).st_mode)
    except OSError:
        return False


# --- seccomp -------------------------------------------------------------------------------

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: system calls the worker never needs and an attacker wants, per architecture
DENIED = {
    "x86_64": {"socket": 41, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
               "add_key": 248, "request_key": 249, "keyctl": 250, "execve": 59, "execveat": 322,
               "unshare": 272, "setns": 308, "mount": 165, "bpf": 321, "perf_event_open": 298,
               "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
               # what Landlock does not cover: a file's mode, owner, times and extended attributes
               "chmod": 90, "fchmod": 91, "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260,
               "fchmodat": 268, "fchmodat2": 452, "utime": 132, "utimes": 235, "futimesat": 261,
               "utimensat": 280, "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
               "lremovexattr": 198, "fremovexattr": 199, "pidfd_send_signal": 424,
               # truncation by path, which Landlock refuses only from ABI 3 (Linux 6.2); creat truncates too,
               # and openat2 hides its flags in a struct the filter cannot read
               "truncate": 76, "creat": 85, "openat2": 437},
    "aarch64": {"socket": 198, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
                "add_key": 217, "request_key": 218, "keyctl": 219, "execve": 221, "execveat": 281,
                "unshare": 97, "setns": 268, "mount": 40, "bpf": 280, "perf_event_open": 241,
                "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                "fchmod": 52, "fchmodat": 53, "fchownat": 54, "fchown": 55, "fchmodat2": 452, "utimensat": 88,
                "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
                "fremovexattr": 16, "pidfd_send_signal": 424, "truncate": 45, "openat2": 437},
}
#: opening calls, with the index of their flags argument: refused with O_TRUNC, which truncates even a file
#: opened read-only and which Landlock below ABI 3 lets through (the worker never needs to truncate)
OPENING = {"x86_64": {"open": (2, 1), "openat": (257, 2)}, "aarch64": {"openat": (56, 2)}}
O_TRUNC = 0o1000
#: system calls that send a signal to the pid in their first argument: allowed only to the worker itself
#: (or its own group, 0), so that no kernel without Landlock's signal scoping lets it kill anyone else
SIGNALLING = {"x86_64": {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
              "aarch64": {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
                          "rt_tgsigqueueinfo": 240}}
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_EPERM = 1
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_X32_BIT = 0x40000000


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def seccomp_program(machine=None, pid=None):
    """The BPF program as a list of (code, jt, jf, k), or None on an architecture not listed.

    Layout: check the ABI; then one comparison per denied call (to EPERM), per signalling
    call (to the pid check) and per opening call (to the check of its flags); allow; EPERM;
    the pid check (first argument `pid` or 0: allow); one O_TRUNC check per flags argument.
    BPF jumps only forward, so every check ends in its own returns.
    """
    machine = machine or platform.machine()
    if machine not in DENIED:
        return None
    pid = os.getpid() if pid is None else pid
    denied, signalling = sorted(DENIED[machine].values()), sorted(SIGNALLING[machine].values())
    program = [(_LD_W_ABS, 0, 0, 4),                       # A = seccomp_data.arch
               (_JEQ_K, 1, 0, AUDIT_ARCH[machine]),        # our ABI: go on; else
               (_RET_K, 0, 0, _RET_KILL_PROCESS),          # i386 via int 0x80 and the like: kill
               (_LD_W_ABS, 0, 0, 0)]                       # A = seccomp_data.nr
    if machine == "x86_64":
        program += [(_JGE_K, 0, 1, _X32_BIT), (_RET_K, 0, 0, _RET_KILL_PROCESS)]  # the x32 ABI
    flag_args = sorted({arg for _number, arg in OPENING[machine].values()})
    compares = ([(n, "eperm") for n in denied] + [(n, "pid") for n in signalling]
                + [(n, f"flags{arg}") for n, arg in sorted(OPENING[machine].values())])
    after = len(program) + len(compares)  # index of the ALLOW return
    labels = {"allow": after, "eperm": after + 1, "pid": after + 2}
    for i, arg in enumerate(flag_args):
        labels[f"flags{arg}"] = after + 7 + 4 * i
    for number, target in compares:
        here = len(program)
        program.append((_JEQ_K, labels[target] - here - 1, 0, number))
    program += [(_RET_K, 0, 0, _RET_ALLOW),                # allow
                (_RET_K, 0, 0, _RET_ERRNO | _EPERM),       # eperm
                (_LD_W_ABS, 0, 0, 16),                     # pid: A = low 32 bits of args[0] (a pid_t)
                (_JEQ_K, 2, 0, pid & 0xFFFFFFFF),          # itself: allow
                (_JEQ_K, 1, 0, 0),                         # its own process group: allow
                (_RET_K, 0, 0, _RET_ERRNO | _EPERM),
                (_RET_K, 0, 0, _RET_ALLOW)]
    for arg in flag_args:                                  # flags: A = low 32 bits of args[arg]
        program += [(_LD_W_ABS, 0, 0, 16 + 8 * arg), (_JSET_K, 0, 1, O_TRUNC),
                    (_RET_K, 0, 0, _RET_ERRNO | _EPERM), (_RET_K, 0, 0, _RET_ALLOW)]
    return program


def seccomp():
    """Install the filter on this process; return a label or None."""
    program = seccomp_program()
    if program is None or not _no_new_privs():
        return None
    filters = (_Filter * len(program))(*[_Filter(*op) for op in program])
    prog = _Program(len(program), filters)
    if _LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        return None
    return "seccomp"


# --- capabilities --------------------------------------------------------------------------

PR_SET_KEEPCAPS = 8
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
_CAP_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def effective_capabilities():
    """The capability numbers this process holds (from /proc/self/status); empty if unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    mask = int(line.split()[1], 16)
                    return {bit for bit in range(64) if mask >> bit & 1}
    except (OSError, ValueError):
        pass
    return set()


def keep_capabilities_across_setuid(keep):
    """Before setuid: keep the permitted capabilities through it (they are all dropped again by `hold_only`)."""
    return _LIBC.prctl(PR_SET_KEEPCAPS, 1 if keep else 0, 0, 0, 0) == 0


def hold_only(capabilities):
    """Make `capabilities` (numbers below 32) this process's whole effective and permitted set; True if done."""
    mask = sum(1 << cap for cap in capabilities)
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)(_CapData(mask, mask, 0), _CapData(0, 0, 0))
    return _LIBC.capset(ctypes.byref(header), data) == 0


def mapped_files():
    """The files mapped into this process (the interpreter, numpy's extension modules, BLAS)."""
    out = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    out.add(parts[5].strip().removesuffix(" (deleted)"))
    except OSError:
        pass
    return sorted(out)


def confine(read=(), write=()):
    """Landlock with these paths, then seccomp; the labels of what was applied."""
    applied = [label for label in (landlock(read, write), seccomp()) if label]
    return applied
