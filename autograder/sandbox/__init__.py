"""The sandbox: where student code runs, and how the grading process talks to it.

`launcher` starts fork servers (in bubblewrap where it works) and says which level of
protection this machine reaches; `worker` is the process that runs a submission (and
the wire format both sides speak); `confine` is the Landlock and seccomp layer every
worker applies to itself. Bubblewrap binds this folder, and nothing else of the kit,
into the sandbox.
"""
from .launcher import (LEVELS, ForkServer, SandboxTooWeak, bwrap_command, bwrap_works, protections, rank, require,
                       scrubbed_env, shared_server, warning)

__all__ = ["LEVELS", "ForkServer", "SandboxTooWeak", "bwrap_command", "bwrap_works", "protections", "rank",
           "require", "scrubbed_env", "shared_server", "warning"]
