"""Grade a class on a Dask cluster: ``rnn-grade class DIR --out OUT --scheduler tcp://HOST:PORT``.

The kit does not schedule anything itself: Dask distributed does, and it runs on a laptop
(`dask scheduler`, `dask worker`), on Slurm, PBS and SGE (dask-jobqueue), on Kubernetes
(dask-kubernetes) and in the clouds. The optional extra ``pip install 'rnn-memory-kit[cluster]'``
brings it.

What travels. This process (the client) reads each submission exactly as a local run does
(`grading.read_for_grading`: only regular files, each capped, zips unpacked safely, renamed
copies, notebooks; a refusal becomes that student's reason) and sends the result as data:
the `ReadSubmission` with the Submission's source texts, its fingerprint and notes. A worker
needs no shared file system, only the same version of the kit (checked: a worker whose
checks or reference differ refuses). One task per submission.

On the worker. `grade_task` grades with the same function a local run's grading process uses
(`classroom.grade_one_read`), in the worker's own warm, sandboxed fork server
(`sandbox.launcher.shared_server()`, one per worker process), one submission at a time per
process. A worker below the required sandbox level (``--require-sandbox``) refuses: workers
connected when the run starts are asked first, and the run stops before grading anything if
one of them is too weak; a worker that joins later refuses each task, and the student is
recorded as not graded, with the reason (never graded at a weaker level).

Who writes. Only this process, as results arrive: each student's results.json,
feedback.html and graded.json once, then grades.csv and report.html, exactly as a local run.
Resume, --regrade, the progress bar and Ctrl-C behave as locally (a first Ctrl-C cancels the
tasks not finished; tasks already running on a worker run to their end there, and their
results are dropped).

Retries. A worker that dies mid-task (killed, its node lost) is Dask's to handle: the
scheduler gives the task to another worker, up to its ``distributed.scheduler.allowed-failures``
(default 3; set on the scheduler). After that the student is recorded like a local grading
process that died twice. Every task is one student, and a student is recorded at most once,
so a retried task can never write twice.
"""
import asyncio
import concurrent.futures as futures
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter, deque

from .classroom import ClassError, class_checks, grade_one_read, grader_fault, lost_result
from .grading import catalogue_version, graded_to_dict, read_for_grading

INSTALL = "pip install 'rnn-memory-kit[cluster]'"
#: tasks handed to the scheduler at a time: one per worker thread, so that no submission waits behind a slow
#: one on a busy worker while another worker is idle (the rest wait here, unread, until a result comes back)
PER_THREAD = 1
MIN_IN_FLIGHT = 1


class ClusterError(ClassError):
    """The cluster cannot grade: no scheduler at that address, a worker too weak or on another kit version."""


class SandboxRefused(RuntimeError):
    """Raised by a task on a worker whose sandbox is below the required level."""


class OtherKit(RuntimeError):
    """Raised by a task on a worker whose checks or reference differ from the client's."""


def missing_distributed():
    """None if Dask's distributed can be imported here, else the sentence that says how to get it."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return (f"--scheduler needs Dask's distributed package, which cannot be imported here ({exc}). "
                f"Install it with:  {INSTALL}   (or: pip install distributed)")
    return None


# ---------------------------------------------------------------------------------------
# On the worker

_LOCK = threading.Lock()   # one submission at a time per worker process, whatever its --nthreads
_REFERENCE = []


def _here():
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def worker_info():
    """What a worker brings (asked of every worker when a run starts): its sandbox and its kit version."""
    from .sandbox import protections

    return {"sandbox": protections(), "catalogue": catalogue_version(), "pid": os.getpid()}


def grade_task(read, timeout, skip, required, catalogue):
    """One student, on a Dask worker: graded as a local run's grading process grades it; a Graded as a dict.

    `read` is the ReadSubmission the client made; `required` the sandbox level the client asked for (a
    worker's own $RNN_KIT_REQUIRE_SANDBOX, if stronger, wins); `catalogue` the client's kit version.
    """
    from .sandbox import SandboxTooWeak, rank, require

    required = max(required, os.environ.get("RNN_KIT_REQUIRE_SANDBOX", "none") or "none", key=rank)  # the stronger
    if catalogue != catalogue_version():
        raise OtherKit(f"the Dask worker {_here()} runs another version of the kit (its checks and reference "
                       f"{catalogue_version()}, the client's {catalogue}); install the same version everywhere")
    with _LOCK:
        if required != "none":
            try:
                require(required)
            except SandboxTooWeak as exc:
                raise SandboxRefused(f"the Dask worker {_here()} refused to grade it: {exc}") from None
        if not _REFERENCE:
            from .reference import default_reference

            _REFERENCE.append(default_reference(live=True))
        return grade_one_read(read, timeout=timeout, skip=skip, ref=_REFERENCE[0], required=required)


# ---------------------------------------------------------------------------------------
# On the client

def _connect(scheduler):
    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.registry import get_backend

    try:  # before a Client exists: a half-made one takes 40 s to give up
        get_backend(parse_address(scheduler)[0])
    except ValueError as exc:
        raise ClusterError(f"--scheduler {scheduler}: not a Dask scheduler's address ({exc}); "
                           f"give it as tcp://HOST:PORT") from None
    try:
        return Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc})") from None


def _check_workers(client, required, stream, stop):
    """Wait for a first worker, then ask every connected worker for its sandbox and kit; refuse a bad one."""
    from .sandbox import rank

    if not client.nthreads():
        stream.write(f"waiting for Dask workers to connect to {client.scheduler.address} ...\n")
        stream.flush()
        while not client.nthreads() and not stop.signum:
            time.sleep(0.2)
    if stop.signum:
        return
    try:
        info = client.run(worker_info)
    except Exception as exc:  # noqa: BLE001 - e.g. a worker without the kit cannot unpickle worker_info
        raise ClusterError(f"a Dask worker cannot run the kit ({type(exc).__name__}: {exc}); install "
                           f"rnn-memory-kit, at the version here, on every worker; nothing was graded") from None
    here = catalogue_version()
    other = sorted(w for w, i in info.items() if i["catalogue"] != here)
    if other:
        raise ClusterError(f"{len(other)} Dask worker(s) run another version of the kit ({', '.join(other)}): "
                           f"install the same version on every worker; nothing was graded")
    levels = {w: i["sandbox"] for w, i in info.items()}
    if required != "none":
        weak = sorted(w for w, s in levels.items() if rank(s["level"]) < rank(required))
        if weak:
            details = "; ".join(f"{w} reaches {levels[w]['level']!r} (missing: {'; '.join(levels[w]['missing'])})"
                                for w in weak)
            raise ClusterError(f"{len(weak)} Dask worker(s) are below the required sandbox level {required!r}: "
                               f"{details}; nothing was graded")
    else:
        from .sandbox import warning

        weak = sorted(w for w, s in levels.items() if warning(s))
        if weak:
            stream.write(f"On {len(weak)} of {len(levels)} Dask worker(s) ({', '.join(weak)}): "
                         + warning(levels[weak[0]]) + "\n")
    threads = client.nthreads()
    many = sorted(w for w, n in threads.items() if n > 1)
    if many:
        stream.write(f"note: {len(many)} Dask worker(s) have more than one thread; each grades one submission at a "
                     f"time. Start workers with --nthreads 1 and one process per core (--nworkers).\n")
    counts = Counter(s["level"] for s in levels.values())
    stream.write(f"grading on {len(levels)} Dask worker(s) at {client.scheduler.address} (sandbox: "
                 + ", ".join(f"{n} {level}" for level, n in counts.items()) + ")\n")
    stream.flush()


def grade_on_cluster(todo, scheduler, record, stop, *, stream=sys.stderr):
    """Grade `todo` [(student, path, timeout, skip)] on the Dask cluster at `scheduler`; `record(data)` each result.

    `record` is called here, in this process, once per student, as results arrive. Once `stop`
    has a signal nothing more is sent or recorded, and the tasks not finished are cancelled.
    """
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed import KilledWorker
    except ImportError:  # older distributed
        from distributed.scheduler import KilledWorker

    required = os.environ.get("RNN_KIT_REQUIRE_SANDBOX", "none") or "none"
    catalogue = catalogue_version()
    client = _connect(scheduler)
    pending, running, recorded, resent = deque(todo), {}, set(), {}
    completed = as_completed(loop=client.loop)
    try:
        _check_workers(client, required, stream, stop)
        in_flight, refreshed = MIN_IN_FLIGHT, 0.0
        while (pending or running) and not stop.signum:
            if time.monotonic() - refreshed > 2.0:  # workers come and go (adaptive clusters)
                in_flight = max(MIN_IN_FLIGHT, PER_THREAD * sum(client.nthreads().values()))
                refreshed = time.monotonic()
            while pending and len(running) < in_flight and not stop.signum:
                job = pending.popleft()
                student, path, timeout, skip = job
                try:
                    read = read_for_grading(path, student=student, checks=class_checks(skip))
                except Exception as exc:  # a fault in the grader itself, as in a local run
                    record(graded_to_dict(grader_fault(student, class_checks(skip), exc)))
                    recorded.add(student)
                    continue
                key = f"rnn-grade-{re.sub(r'[^A-Za-z0-9_.-]', '_', student)[:40]}-{uuid.uuid4().hex[:12]}"
                try:
                    future = client.submit(grade_task, read, timeout, skip, required, catalogue, key=key, pure=False)
                except Exception as exc:  # noqa: BLE001 - the client is closed: the scheduler is gone
                    raise ClusterError(_lost_scheduler(scheduler, exc, len(recorded), len(todo))) from None
                running[future] = job
                completed.add(future)
            batch = completed.next_batch(block=False)
            if not batch:
                time.sleep(0.01)
                continue
            for future in batch:
                if stop.signum:
                    break
                job = running.pop(future, None)
                if job is None or job[0] in recorded:
                    continue
                data = _outcome(future, job, KilledWorker, FutureCancelledError)
                if data is None:  # cancelled or lost by the cluster (a scheduler restart?): sent once more
                    resent[job[0]] = resent.get(job[0], 0) + 1
                    if resent[job[0]] <= 1:
                        pending.appendleft(job)
                        continue
                    data = graded_to_dict(lost_result(job, "the Dask cluster lost or cancelled this submission's "
                                                           "task twice"))
                record(data)
                recorded.add(job[0])
    finally:
        if running:
            try:
                client.cancel(list(running))
            except Exception:  # noqa: BLE001 - the scheduler may be gone already
                pass
        client.close(timeout=5)


def _outcome(future, job, killed_worker, cancelled):
    """The Graded (as a dict) a finished task brings back; None if the cluster cancelled or lost it."""
    try:
        return future.result(timeout=120)
    except (cancelled, asyncio.CancelledError, TimeoutError, asyncio.TimeoutError, futures.TimeoutError):
        return None
    except killed_worker as exc:
        return graded_to_dict(lost_result(job, f"the Dask workers grading this submission died each time it was "
                                               f"tried ({exc}); the workers' logs say why"))
    except (SandboxRefused, OtherKit) as exc:
        return graded_to_dict(lost_result(job, f"not graded: {exc}"))
    except Exception as exc:  # noqa: BLE001 - a fault in the grader (or in sending the result): recorded
        return graded_to_dict(grader_fault(job[0], class_checks(job[3]), exc))


def _lost_scheduler(scheduler, exc, done, total):
    return (f"lost the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc}) after {done} of {total} "
            f"students; their own results are written. Run the same command again to grade the rest "
            f"(the students already graded are kept).")
