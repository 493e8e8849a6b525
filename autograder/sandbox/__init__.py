"""The sandbox: where student code runs, and how the grading process talks to it.

One idea per module: `wire` (frames, .npy blobs, value trees; both sides use it),
`child` (the worker loop: load a submission, call into it, the kit's probes),
`forkserver` (one warm process that forks a locked-down child per submission),
`confine` (the Landlock and seccomp layer every child applies to itself), `launcher`
(the bwrap argv, the fork servers of this process, and the level this machine reaches),
`submission` (a folder, zip member or notebook read safely into source text; text from a
worker made safe) and `client` (the grading side of a worker: calls, timeouts, budgets,
the memo of answers). Bubblewrap binds this folder, and nothing else of the kit, into the
sandbox; `wire`, `child`, `forkserver` and `confine` import only the standard library and
numpy (they run in there), `launcher`, `submission` and `client` only in the grading process.
"""
from .launcher import (LEVELS, ForkServer, SandboxTooWeak, bwrap_command, bwrap_works, protections, rank, require,
                       scrubbed_env, shared_server, warning)

__all__ = ["LEVELS", "ForkServer", "SandboxTooWeak", "bwrap_command", "bwrap_works", "protections", "rank",
           "require", "scrubbed_env", "shared_server", "warning"]
