"""Ctrl-C and SIGTERM during `rnn-grade class`, with real signals.

The class command runs in its own session, as in a terminal, and gets the signal the way a
terminal sends it: to its whole process group (the grading processes of -j 2 too). It is
started by a small supervisor that makes itself a child subreaper, so every process the
run leaves behind (a grading process, a fork server, bubblewrap, a worker) becomes the
supervisor's child and is seen, however the machine's other processes look.

* The first signal: exit 130 (143 for SIGTERM) within seconds; grades.csv and report.html
  for everyone finished, the others listed as "not graded (interrupted)" with an empty
  total; a paragraph on stderr saying how to resume; nothing left running. The same command
  then keeps the finished students and grades the rest.
* A second signal: exit at once, no traceback, every file written complete.
"""
import csv
import json
import os
import select
import signal
import subprocess
import sys
import time

import multiprocessing

import pytest

from autograder import classroom, interrupt, kit
from autograder.sample_class import SAMPLES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and a child subreaper")

#: makes itself a child subreaper, runs the command in a new session, and reports (JSON lines):
#: {"pid"} at the start, then {"rc", "exited", "at_exit", "after"}: what still ran under it
#: when the command ended, and 3 s later.
SUPERVISOR = r"""
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
me = os.getpid()

def left():
    while True:  # reap what has ended
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = open(f"/proc/{name}/stat", "rb").read()
            fields = stat[stat.rindex(b")") + 2:].split()
            if int(fields[1]) == me and fields[0] != b"Z":
                cmdline = open(f"/proc/{name}/cmdline", "rb").read().replace(b"\0", b" ")
                found.append([int(name), cmdline.decode(errors="replace")[:300]])
        except (OSError, ValueError):
            pass
    return found

with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    print(json.dumps({"pid": p.pid}), flush=True)
    rc = p.wait()
    exited = time.monotonic()
    at_exit = left()
    deadline = exited + 3
    while left() and time.monotonic() < deadline:
        time.sleep(0.05)
    print(json.dumps({"rc": rc, "exited": exited, "at_exit": at_exit, "after": left()}), flush=True)
"""

SLEEP = 0.4  # seconds at import of rnn.py, lstm.py and gru.py: a slow but correct student, costing no CPU


def slow_class(folder, n):
    """`n` copies of the sample class's complete and correct student, slowed down at import."""
    ada = dict(next(s for s in SAMPLES if s.name == "ada").files)
    for name in ("rnn.py", "lstm.py", "gru.py"):
        ada[name] = f"import time as _t\n_t.sleep({SLEEP})\n" + ada[name]
    for i in range(n):
        student = folder / f"s{i:02d}"
        student.mkdir(parents=True)
        for name, text in ada.items():
            (student / name).write_text(text)
    return folder


def class_command(submissions, out, jobs):
    return [sys.executable, "-m", "autograder", "class", str(submissions), "--out", str(out), "-j", str(jobs),
            "--skip-training", "--timeout", "5"]


class Supervised:
    def __init__(self, command, tmp_path):
        self.stdout, self.stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        self.process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(self.stdout), str(self.stderr),
                                         *command], cwd=kit.ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        text=True)
        self.pid = json.loads(self.process.stdout.readline())["pid"]

    def wait_until_written(self, out, deadline=120):
        end = time.monotonic() + deadline
        while not list(out.glob("*/graded.json")):  # a student's last file: that student is finished
            assert time.monotonic() < end, "no student was finished in time"
            assert self.process.poll() is None, "the class command ended before it could be interrupted"
            time.sleep(0.02)

    def result(self, timeout=60):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:  # the class command hangs: end it, and everything in its process group
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)
            pytest.fail(f"the class command did not end within {timeout} s of the signal")
        report = json.loads(self.process.stdout.readline())
        self.process.wait(10)
        report["stdout"], report["stderr"] = self.stdout.read_text(), self.stderr.read_text()
        return report


def finished(out):
    """{student: results.json bytes} of every student whose resume record is written."""
    return {p.parent.name: (p.parent / "results.json").read_bytes() for p in out.glob("*/graded.json")}


def rows(out):
    return {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(newline=""))}


# Ctrl-C on one job and SIGTERM on the pool: between them every path (the signal to the whole group, to the
# command alone, the pool and no pool) is taken; Ctrl-C on the pool adds 20 s of CI for no new path
@pytest.mark.parametrize("jobs, signum, whole_group", [(1, signal.SIGINT, True), (2, signal.SIGTERM, False)],
                         ids=["ctrl-c -j 1", "sigterm to the class command -j 2"])
def test_the_first_signal_stops_soon_writes_what_is_finished_and_the_same_command_resumes(tmp_path, jobs, signum,
                                                                                           whole_group):
    n = 3 * jobs + 1
    submissions, out = slow_class(tmp_path / "class", n), tmp_path / "out"
    command = class_command(submissions, out, jobs)
    run = Supervised(command, tmp_path)
    run.wait_until_written(out)
    sent = time.monotonic()
    if whole_group:
        os.killpg(run.pid, signum)  # what a terminal does on Ctrl-C: the pool's processes get it too
    else:
        os.kill(run.pid, signum)    # a scheduler stopping the job's process
    result = run.result()
    took = result["exited"] - sent
    print(f"-j {jobs} {signal.Signals(signum).name}: exit {result['rc']} {took:.2f} s after the signal")
    assert result["rc"] == 128 + signum, result["stderr"]
    assert took < 10
    assert result["at_exit"] == [] and result["after"] == [], "processes outlived the run"
    assert "Traceback" not in result["stderr"]

    done = finished(out)
    table = rows(out)
    assert list(table) == [f"s{i:02d}" for i in range(n)], "every student has a row"
    not_graded = [s for s in table if s not in done]
    assert done and not_graded, "interrupted with students on both sides"
    for student, row in table.items():
        if student in done:
            assert row["status"] == "graded"
            assert float(row["total"]) == json.loads(done[student])["score"] == float(row["max_score"])
        else:  # marked, with no number an import could take for a grade
            assert row["status"] == "not graded (interrupted)"
            assert row["total"] == "" and row["seconds"] == ""
            assert all(row[c] == "" for c in row if c.startswith("test_"))
            assert not (out / student / "graded.json").exists()
    report = (out / "report.html").read_text()
    assert f"interrupted ({signal.Signals(signum).name})" in report
    assert f"Graded: {len(done)} of {n} students" in report and ", ".join(not_graded) in report

    err = result["stderr"]
    assert f"interrupted ({signal.Signals(signum).name})" in err and f"Graded: {len(done)} of {n} students" in err
    assert ", ".join(not_graded) in err and "not graded (interrupted)" in err
    assert "run the same command again" in err and f"rnn-grade class {submissions} --out {out}" in err
    assert "not graded (interrupted)" in result["stdout"]
    assert not list(out.rglob("*.tmp"))

    again = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=kit.ROOT,
                           stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} student(s) unchanged since the last run: kept" in again.stderr
    for student, data in done.items():
        assert (out / student / "results.json").read_bytes() == data, f"{student} was graded again"
    table = rows(out)
    assert all(r["status"] == "graded" and float(r["total"]) == float(r["max_score"]) for r in table.values())
    assert "interrupted" not in (out / "report.html").read_text()
    assert sorted(finished(out)) == list(table)


def test_a_second_ctrl_c_exits_at_once_without_a_traceback_and_loses_nothing(tmp_path):
    submissions, out = slow_class(tmp_path / "class", 6), tmp_path / "out"
    run = Supervised(class_command(submissions, out, 2), tmp_path)
    run.wait_until_written(out)
    os.killpg(run.pid, signal.SIGINT)
    time.sleep(0.05)
    second = time.monotonic()
    os.killpg(run.pid, signal.SIGINT)
    result = run.result()
    took = result["exited"] - second
    path = "at once" if "stopped at once" in result["stderr"] else "the first signal's stop had already finished"
    print(f"second Ctrl-C: exit {result['rc']} {took:.2f} s after it ({path})")
    assert result["rc"] == 130
    assert took < 3
    assert "Traceback" not in result["stderr"]
    assert "stopped at once" in result["stderr"] or "run the same command again" in result["stderr"]
    assert result["after"] == [], "processes outlived the run"
    assert finished(out)
    for file in out.rglob("*.json"):  # every file there is whole
        json.loads(file.read_text())
    assert not list(out.rglob("*.tmp"))


# ---------------------------------------------------------------------------------------
# The pool itself, with a stand-in for grading (the forked processes inherit it)

@pytest.fixture
def fake_grading(monkeypatch):
    def grade_one(job):
        if job[0] == "dies":
            os._exit(3)  # as a grading process killed for its memory would
        time.sleep(job[2])
        return {"student": job[0]}

    monkeypatch.setattr(classroom, "_grade_one", grade_one)
    monkeypatch.setattr(classroom, "_init_grader", lambda: None)


def test_a_grading_process_that_dies_loses_only_its_own_job(fake_grading):
    jobs = [(name, None, 0.05, ()) for name in ("a", "dies", "b", "c", "d")]
    got = []
    lost = classroom._grade_in_pool(jobs, 2, lambda data: got.append(data["student"]))
    assert [job[0] for job in lost] == ["dies"]
    assert sorted(got) == ["a", "b", "c", "d"]
    assert multiprocessing.active_children() == []


def test_a_stop_kills_the_pool_at_once_and_records_nothing_after_it(fake_grading):
    jobs = [("quick", None, 0.05, ()), *[(f"slow{i}", None, 60, ()) for i in range(4)]]
    stop, got = interrupt.Stop(), []

    def record(data):
        got.append(data["student"])
        stop.signum = signal.SIGINT  # as the first Ctrl-C does

    started = time.monotonic()
    lost = classroom._grade_in_pool(jobs, 2, record, stop)
    assert time.monotonic() - started < 5
    assert got == ["quick"] and lost == []
    assert multiprocessing.active_children() == [] and not stop.children
