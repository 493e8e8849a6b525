"""`rnn-grade class --scheduler`: grading on a real Dask cluster, started here as separate processes.

A scheduler (`dask scheduler`) and workers (`dask worker --nthreads 1 --no-nanny`) run on
127.0.0.1, each in its own session, and are ended (and waited for, with everything they
started) when a test is done. The sample class is graded locally and on two workers at the
same time; every student's every check must agree (a call's time limit, hit in one run only on a busy
machine, is the one difference allowed: it says how loaded the machine was, not where the
code ran). Then a worker is killed (SIGKILL) while
it grades a slow submission: the task is retried on the other worker and every student has
exactly one result. Without `distributed` the option says how to get it.
"""
import contextlib
import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import interrupt, kit

SAMPLE = kit.ROOT / "examples" / "class"
#: the sample students graded both ways: correct, half done, follow-through, a crash with stand-ins, an infinite
#: loop, a notebook in a zip (the whole class takes twice as long and shows nothing more about where it ran)
STUDENTS = ["ada", "ben", "cara", "hugo", "ivy", "jon", "mia"]
assert set(STUDENTS) <= set(json.loads((SAMPLE / "expected.json").read_text()))


def _class_folder(where):
    """A class folder with the sample students of STUDENTS, as they are handed in (mia as a zip)."""
    folder = where / "class"
    folder.mkdir()
    for student in STUDENTS:
        source = SAMPLE / student if (SAMPLE / student).is_dir() else SAMPLE / f"{student}.zip"
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / source.name)
    return folder
HAVE_DISTRIBUTED = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DISTRIBUTED, reason="Dask's distributed is not installed "
                                                             "(pip install 'rnn-memory-kit[cluster]')")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc to see what is left running")

#: the sample class as the demo grades it, without the training checks (the cluster changes nothing there)
OPTIONS = ["--skip-training", "--timeout", "3"]


def _dask(command):
    """`dask scheduler` / `dask worker` of this Python (the module form where there is no `dask` script)."""
    script = Path(sys.executable).parent / "dask"
    if script.exists():
        return [str(script), command]
    return [sys.executable, "-m", f"distributed.cli.dask_{command}"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, address, client, workers, logs):
        self.address, self.client, self.workers, self.logs = address, client, workers, logs

    def log(self):
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs)


@contextlib.contextmanager
def dask_cluster(where, workers=2, worker_env=None):
    """A scheduler and `workers` workers on 127.0.0.1; on the way out, every one of them (and what they started)
    is ended and waited for."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes, logs, client = [], [], None

    def start(argv, name, env=None):
        log = where / f"{name}.log"
        logs.append(log)
        with log.open("w") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, cwd=where,
                                       env={**os.environ, "DASK_TEMPORARY_DIRECTORY": str(where / "dask-scratch"),
                                            **(env or {})})
        processes.append(process)
        return process

    try:
        start([*_dask("scheduler"), "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
        started = [start([*_dask("worker"), address, "--nthreads", "1", "--nworkers", "1", "--no-nanny",
                          "--no-dashboard", "--name", f"worker-{i}", "--death-timeout", "30"], f"worker-{i}",
                         worker_env) for i in range(workers)]
        client = Client(address, timeout="30s", set_as_default=False)
        client.wait_for_workers(workers, timeout=60)
        yield Cluster(address, client, started, logs)
    finally:
        if client is not None:
            client.close()
        tree = interrupt.descendants(p.pid for p in processes)  # the workers' fork servers and sandboxes
        for group in (processes[1:], processes[:1]):  # the workers first: without a scheduler they wait for it
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if not interrupt.wait_gone(tree, 10):
            for pid in interrupt.alive(tree):
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"left running after the cluster was ended: {interrupt.alive(tree)}")


def _grade(source, out, *extra):
    return [sys.executable, "-m", "autograder", "class", str(source), "--out", str(out), *extra]


def _checks(out, student):
    graded = json.loads((out / student / "graded.json").read_text())
    return {r["name"]: (r["status"], r["score"]) for r in graded["results"]}, graded


def _differences(local, there):
    """{check: (local, there)} where two runs of one student differ."""
    return {name: (local[name], there.get(name)) for name in local if local[name] != there.get(name)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The sample class graded locally (-j 2) and on two Dask workers, at the same time; the cluster stays up."""
    where = tmp_path_factory.mktemp("cluster")
    sample = _class_folder(where)
    with dask_cluster(where) as cluster:
        started = time.monotonic()
        with (where / "dask.stdout").open("w") as stdout, (where / "dask.stderr").open("w") as stderr:
            there = subprocess.Popen(_grade(sample, where / "dask", *OPTIONS, "--scheduler", cluster.address),
                                     stdout=stdout, stderr=stderr, cwd=where)
        try:
            local = subprocess.run(_grade(sample, where / "local", *OPTIONS, "-j", "2"), capture_output=True,
                                   text=True, timeout=300, cwd=where)
            local_seconds = time.monotonic() - started
            there.wait(300)
        finally:
            if there.poll() is None:
                there.kill()
                there.wait()
        stdout, stderr = (where / "dask.stdout").read_text(), (where / "dask.stderr").read_text()
        print(f"sample class: local {local_seconds:.1f} s, on the cluster {time.monotonic() - started:.1f} s "
              f"(both at once)")
        assert local.returncode == 0, local.stderr[-3000:]
        assert there.returncode == 0, stderr[-3000:] + cluster.log()
        yield where, cluster, (stdout, stderr)


@needs_dask
def test_the_sample_class_on_two_dask_workers_equals_a_local_run_check_by_check(runs):
    where, _cluster, (stdout, stderr) = runs
    local, there = where / "local", where / "dask"
    differ = {}
    for student in STUDENTS:
        mine, graded_here = _checks(local, student)
        theirs, graded_there = _checks(there, student)
        assert set(mine) == set(theirs), student
        if _differences(mine, theirs):
            differ[student] = _differences(mine, theirs)
        assert graded_there["fingerprint"] == graded_here["fingerprint"], student  # so a local run resumes it too
        assert graded_there["notes"] == graded_here["notes"], student
        assert graded_there["sandbox"]["level"] == graded_here["sandbox"]["level"], student
        for name in ("results.json", "feedback.html"):
            assert (there / student / name).is_file(), (student, name)
    assert not differ, differ
    rows = {"local": list(csv.DictReader((local / "grades.csv").open())),
            "dask": list(csv.DictReader((there / "grades.csv").open()))}
    assert [r["student"] for r in rows["dask"]] == [r["student"] for r in rows["local"]] == STUDENTS
    for mine, theirs in zip(rows["local"], rows["dask"]):
        assert (theirs["total"], theirs["status"]) == (mine["total"], mine["status"]), mine["student"]
    assert (there / "report.html").is_file()
    assert "grading on 2 Dask worker(s)" in stderr and "grading [" in stderr  # the progress bar, as locally
    assert f"{len(STUDENTS)} students ({len(STUDENTS)} graded now, 0 kept)" in stdout


@needs_dask
def test_running_it_again_on_the_cluster_grades_only_what_changed(runs):
    where, cluster, _ = runs
    shutil.rmtree(where / "dask" / "ben")  # as if ben had not been graded yet
    again = subprocess.run(_grade(where / "class", where / "dask", *OPTIONS, "--scheduler", cluster.address),
                           capture_output=True, text=True, timeout=120, cwd=where)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(STUDENTS)} students (1 graded now, {len(STUDENTS) - 1} kept)" in again.stdout
    assert _checks(where / "dask", "ben")[0] == _checks(where / "local", "ben")[0]


def _executing(dask_worker):
    """On a worker: the keys of the tasks it is running now."""
    return sorted(str(ts.key) for ts in dask_worker.state.executing)


@needs_dask
def test_a_worker_killed_mid_task_means_the_submission_is_graded_elsewhere_exactly_once(runs, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # _executing travels to the workers by value
    where, _, _ = runs
    source = tmp_path / "class"
    source.mkdir()
    shutil.copytree(SAMPLE / "ada", source / "slow")
    with (source / "slow" / "feedforward.py").open("a") as module:  # slow to import: the kill lands mid-task
        module.write('\n__import__("time").sleep(2.5)\n')
    for student in ("ben", "hugo"):
        shutil.copytree(SAMPLE / student, source / student)
    with dask_cluster(tmp_path) as cluster:
        pids = cluster.client.run(os.getpid)
        run = subprocess.Popen(_grade(source, tmp_path / "out", "--skip-training", "--scheduler", cluster.address),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        try:
            victim, deadline = None, time.monotonic() + 60
            while victim is None and time.monotonic() < deadline and run.poll() is None:
                running = cluster.client.run(_executing)
                victim = next((w for w, keys in running.items() if any("rnn-grade-slow-" in k for k in keys)), None)
                time.sleep(0.1)
            assert victim is not None, "the slow submission was never seen running"
            time.sleep(1.0)  # well inside its ~7 s
            assert any("rnn-grade-slow-" in k for k in cluster.client.run(_executing, workers=[victim])[victim])
            left = interrupt.descendants([pids[victim]])  # its fork server and sandboxed workers
            os.kill(pids[victim], signal.SIGKILL)
            stdout, stderr = run.communicate(timeout=180)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        assert run.returncode == 0, stderr[-3000:] + cluster.log()
        assert interrupt.wait_gone(left, 10), "the killed worker's fork server outlived it"
        assert [w.poll() for w in cluster.workers].count(-signal.SIGKILL) == 1
    out = tmp_path / "out"
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["ben", "hugo", "slow"]  # each exactly once
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["ben", "hugo", "slow"]
    local = where / "local"
    for student, same_as in (("slow", "ada"), ("ben", "ben"), ("hugo", "hugo")):
        mine, _ = _checks(local, same_as)
        theirs, graded = _checks(out, student)
        assert theirs == mine, student
        assert graded["error"] == ""
    assert "3 students (3 graded now, 0 kept)" in stdout


def test_without_distributed_the_option_says_how_to_install_it_and_exits_2(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; from autograder.cli import main; "
            f"sys.exit(main(['class', {str(SAMPLE)!r}, '--out', {str(tmp_path / 'out')!r}, "
            "'--scheduler', 'tcp://127.0.0.1:9']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "pip install 'rnn-memory-kit[cluster]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


WEAK = {"RNN_KIT_NO_BWRAP": "1", "RNN_KIT_NO_LANDLOCK": "1"}  # a worker with process limits only


@needs_dask
def test_a_worker_below_the_required_sandbox_level_refuses_and_nothing_is_graded(tmp_path):
    with dask_cluster(tmp_path, workers=1, worker_env=WEAK) as cluster:
        result = subprocess.run(_grade(SAMPLE, tmp_path / "out", *OPTIONS, "--scheduler", cluster.address,
                                       "--require-sandbox", "landlock"),
                                capture_output=True, text=True, timeout=120, cwd=tmp_path)
        worker = next(iter(cluster.client.nthreads()))
    assert result.returncode == 2, result.stderr
    assert "below the required sandbox level 'landlock'" in result.stderr and worker in result.stderr
    assert "nothing was graded" in result.stderr
    assert not (tmp_path / "out" / "grades.csv").exists() and not (tmp_path / "out" / "ada").exists()


def test_a_task_on_a_worker_that_joined_too_weak_is_refused_not_graded_weaker(tmp_path):
    """A worker that joins after the run started is not asked beforehand: each task checks the level itself."""
    code = f"""
import sys
from autograder.cluster import SandboxRefused, grade_task
from autograder.grading import catalogue_version, read_for_grading
read = read_for_grading({str(SAMPLE / 'ada')!r}, student="ada")
try:
    grade_task(read, 3.0, ("training",), "landlock", catalogue_version())
except SandboxRefused as exc:
    print("refused:", exc)
    sys.exit(0)
sys.exit("graded below the required level")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, **WEAK})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused: the Dask worker" in result.stdout and "below the required 'landlock'" in result.stdout
