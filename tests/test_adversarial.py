"""A class full of attackers: the batch finishes, attackers lose only what they attacked, nobody else changes.

Every case of tests/adversarial_cases.py is written as one student into tmp_path/class_with/,
next to three honest students (the sample class's ada, ben and cara: complete, half done,
and one known mistake). The honest students alone go into tmp_path/class_without/. Both
classes are graded once with ``grade_class(..., jobs=2, timeout=2.0)``, each in a child
process (so that no attack can reach this process's own fork server, and a hang fails the
test instead of the session), and the tests read those two runs back from their output:

* the batch finished, with a result for every student, grades.csv and report.html;
* every honest student's per-check (score, status, message) is identical in both runs;
* every attacker keeps full points on every check of a function it did not attack, and
  scores 0, with a message that is about its code and not about the grader's insides,
  on the checks of the functions it did;
* escape attempts report that they got nowhere, no file appeared outside the sandbox,
  the kit's solutions are untouched, no connection reached the test's listener, and
  nothing an attacker printed reached the grading process's own stdout or stderr.

Cases that damage *other* students (a grader bug, see `Case.isolated`) are graded in a
small class of their own (jobs=1, so that the honest students run in the same fork
server right after the attacker); the test that the honest students are unaffected is a
strict xfail there, with the reason. Known gaps that stay within the attacker's own
result (`Case.gap`) are strict xfails of the per-attacker test.

The main batch runs at every level this host offers (`LEVELS`): bubblewrap + Landlock, and
Landlock alone (RNN_KIT_NO_BWRAP=1); every assertion holds at both. Only where neither
bubblewrap nor Landlock works are the escape attempts skipped with the reason. Destructive
attacks aim beyond the test's own folders only inside bubblewrap's view.

The grader gives up on a function after its first timeout, so each hang costs one 2 s
timeout per affected function; the file takes 30-55 s on 2 cores.
"""
import csv
import hashlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import kit
from autograder.catalogue import all_checks
from autograder.classroom import _safe_name, grade_class
from autograder.sample_class import SAMPLES, expected_total
from autograder.sandbox import protections, rank

import adversarial_cases as A

TIMEOUT = 2.0
JOBS = 2
#: how long a batch may take before the test calls it hung
BATCH_LIMIT = 300.0
HONEST = {"honest-perfect": "ada", "honest-half-done": "ben", "honest-mistake": "cara"}
SAMPLE = {s.name: s for s in SAMPLES}
CHECKS = all_checks()
HOST_LEVEL = protections()["level"]
#: the levels the main batch runs at: this host's best, and Landlock alone where the kernel has Landlock
LEVELS = [HOST_LEVEL] + (["landlock"] if HOST_LEVEL == "bubblewrap+landlock" else [])
LEVEL_ENV = {HOST_LEVEL: {}, "landlock": {"RNN_KIT_NO_BWRAP": "1"}}
#: check groups left out of the batches with attackers: training (no attack aims at the trainer, whose calls
#: go to the same sandboxed worker as every other check's; it is half of a batch's time, and its budgets are
#: tests/test_budgets.py's), so the corpus runs at both levels within CI's time. The honest students alone
#: (`without`) are graded with every check, and their scores must be the expected totals
LEVEL_SKIP = {HOST_LEVEL: ("training",), "landlock": ("training",)}
NO_BWRAP = "the worker is not confined here (neither bubblewrap nor Landlock), and "
#: words in a message that show the grader's own machinery failing, not the student's code
INTERNAL = ("UnicodeDecodeError", "JSONDecodeError", "EOFError", "fork server", "internal grader error",
            "BrokenPipeError", "Traceback (most recent call last)", "WireError")


def student_of(case):
    return f"adv-{case.name}"


# ---------------------------------------------------------------------------------------
# A listener on 127.0.0.1 that the network attack tries to reach

class Listener:
    """Records every TCP connection and UDP datagram that reaches 127.0.0.1:<port>."""

    def __init__(self):
        self.heard = []
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.1)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.udp.settimeout(0.1)
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True),
                        threading.Thread(target=self._receive, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, peer = self.tcp.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                try:
                    data = conn.recv(200)
                except OSError:
                    data = b""
            self.heard.append(("tcp", peer, data))

    def _receive(self):
        while not self.stopped.is_set():
            try:
                data, peer = self.udp.recvfrom(200)
            except OSError:
                continue
            self.heard.append(("udp", peer, data))

    def close(self):
        self.stopped.set()
        for thread in self.threads:
            thread.join(2)
        self.tcp.close()
        self.udp.close()


# ---------------------------------------------------------------------------------------
# Writing and grading classes

def write_entry(root, name, files, zipped=False):
    """One student: a folder of files, or <name>.zip from a builder's {"@zip": bytes}."""
    if zipped:
        path = root / f"{name}.zip"
        path.write_bytes(files["@zip"])
        return path
    folder = root / name
    for relative, content in dict(files).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return folder


def write_honest(root):
    root.mkdir(parents=True, exist_ok=True)
    return tuple(write_entry(root, name, SAMPLE[sample].files) for name, sample in HONEST.items())


def write_attackers(root, out, cases, listener, sandboxed=HOST_LEVEL.startswith("bubblewrap")):
    """Write `cases` into `root`; {case name: Context}. Destructive attacks aim beyond the test's own
    folders only where `sandboxed` (inside bubblewrap's view)."""
    victims = tuple(root / name for name in HONEST)
    contexts = {}
    for case in cases:
        name = student_of(case)
        folder = root / (f"{name}.zip" if case.zipped else name)
        ctx = A.Context(folder, out, victims, listener.port, f"{case.name}-{uuid.uuid4().hex[:8]}", sandboxed)
        write_entry(root, name, case.build(ctx), zipped=case.zipped)
        contexts[case.name] = ctx
    return contexts


@dataclass
class Run:
    """What a batch left in its output folder, read back: {student: Graded} in discover() order."""

    graded: dict
    out: Path


@dataclass
class Batch:
    run: Run
    seconds: float
    printed: str      # everything written to fds 1 and 2 while it ran
    out: Path


def _grade_in_child(submissions, out, jobs, errors, env, skip):
    os.environ.update(env)  # the level: read when this child starts its own fork servers
    try:
        grade_class(submissions, out, jobs=jobs, timeout=TIMEOUT, progress=False, skip=skip)
    except BaseException:
        import traceback

        Path(errors).write_text(traceback.format_exc())
        raise


def grade_batch(submissions, out, jobs=JOBS, env=None, skip=()):
    """grade_class in a child process, with fds 1 and 2 captured; the results are read back from `out`.

    The child keeps the attackers away from this process's own fork server (an attack on the
    fork server's channel would otherwise reach later tests), and a hang fails the test
    instead of the session.
    """
    import multiprocessing

    from autograder.classroom import discover
    from autograder.grading import graded_from_dict

    capture = tempfile.TemporaryFile()
    errors = Path(out).parent / f".{Path(out).name}-errors.txt"
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(capture.fileno(), 1)
    os.dup2(capture.fileno(), 2)
    started = time.monotonic()
    try:
        child = multiprocessing.get_context("fork").Process(target=_grade_in_child,
                                                            args=(submissions, out, jobs, errors, env or {}, skip))
        child.start()
        child.join(BATCH_LIMIT)
        hung = child.is_alive()
        if hung:
            child.kill()
            child.join(10)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    seconds = time.monotonic() - started
    capture.seek(0)
    printed = capture.read().decode("utf-8", "replace")
    if hung:
        pytest.fail(f"grade_class({submissions}) did not finish within {BATCH_LIMIT:g} s")
    assert child.exitcode == 0, f"grade_class({submissions}) failed:\n" + (
        errors.read_text() if errors.exists() else printed[-3000:])
    records = {student: Path(out) / _safe_name(student) / "graded.json" for student, _ in discover(submissions)}
    graded = {student: graded_from_dict(json.loads(record.read_text()))
              for student, record in records.items() if record.exists()}
    return Batch(Run(graded, Path(out)), seconds, printed, Path(out))


def digest(folder):
    h = hashlib.blake2b()
    for file in sorted(Path(folder).rglob("*")):
        if file.is_file():
            h.update(str(file.relative_to(folder)).encode() + b"\0" + file.read_bytes())
    return h.hexdigest()


def outcome(graded):
    """What must not change for an honest student: every check's (score, status, message)."""
    return {r.name: (r.score, r.status, r.message) for r in graded.results}


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def without(tmp_path_factory):
    """The honest students alone."""
    root = tmp_path_factory.mktemp("adversarial")
    write_honest(root / "class_without")
    return grade_batch(root / "class_without", root / "out_without")


@pytest.fixture(scope="module", params=LEVELS)
def main(request, tmp_path_factory, listener, without):
    """The honest students and every case that stays within its own result, at each level of LEVELS."""
    level = request.param
    root = tmp_path_factory.mktemp("adversarial")
    submissions, out = root / "class_with", root / "out_with"
    write_honest(submissions)
    contexts = write_attackers(submissions, out, A.MAIN, listener, sandboxed=level.startswith("bubblewrap"))
    solutions = digest(kit.SOLUTIONS)
    listener.heard.clear()
    batch = grade_batch(submissions, out, env=LEVEL_ENV[level], skip=LEVEL_SKIP[level])
    levels = {g.sandbox.get("level") for g in batch.run.graded.values()}
    assert levels == {level}, f"graded at {levels}, meant to be {level}"
    batch.level, batch.confined = level, rank(level) >= rank("landlock")
    batch.checks = [c for c in CHECKS if c.group not in LEVEL_SKIP[level]]
    batch.contexts = contexts
    batch.submissions = submissions
    batch.solutions_before, batch.solutions_after = solutions, digest(kit.SOLUTIONS)
    time.sleep(0.2)  # let the listener record anything still in flight
    batch.heard = list(listener.heard)
    yield batch
    for ctx in contexts.values():  # without bubblewrap an attack may have got through: clean up after it
        for path in ctx.outside_files.values():
            try:
                path.unlink()
            except OSError:
                pass


_isolated = {}


def params(cases, reason=lambda c: c.gap):
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=reason(c))] if reason(c) else [])
            for c in cases]


# ---------------------------------------------------------------------------------------
# The batch

def test_the_corpus_is_big_enough_and_well_formed():
    assert len(A.CASES) >= 25
    assert len({c.name for c in A.CASES}) == len(A.CASES)
    functions = set(kit.module_of())
    for case in A.CASES:
        assert case.affects <= functions, case.name
        assert not (case.gap and case.isolated), case.name


def test_the_batch_finishes_with_a_result_for_every_student(main, without):
    students = sorted([*HONEST, *(student_of(c) for c in A.MAIN)])
    assert sorted(main.run.graded) == students
    assert sorted(without.run.graded) == sorted(HONEST)
    for name, graded in main.run.graded.items():
        assert [r.name for r in graded.results] == [c.name for c in main.checks], name
        assert graded.score == pytest.approx(sum(r.score for r in graded.results)), name
    print(f"\nclass with {len(students)} students graded in {main.seconds:.1f} s; "
          f"the honest students alone in {without.seconds:.1f} s")


def test_honest_students_get_exactly_what_they_get_without_the_attackers(main, without):
    for name, sample in HONEST.items():
        alone, among = outcome(without.run.graded[name]), outcome(main.run.graded[name])
        changed = [f"{check}: {alone[check][:2]} alone, {among[check][:2]} among attackers\n"
                   f"    alone:  {alone[check][2][:300]!r}\n    among: {among[check][2][:300]!r}"
                   for check in among if alone[check] != among[check]]
        assert not changed, f"{name}:\n" + "\n".join(changed)
        assert sorted(among) == sorted(c.name for c in main.checks)
        assert main.run.graded[name].status == without.run.graded[name].status
        assert without.run.graded[name].score == pytest.approx(expected_total(SAMPLE[sample], CHECKS))


#: what the grader says of a check it passed with the attacker's own dependency (one mistake costs once: the
#: function is judged on its own work, around the attacked one or a stand-in for a module that does not load)
JUDGED_ON_ITS_OWN = ("Graded with your own ", "stood in for yours in this check")


def _targets(case):
    """The affected functions the attack is in: those that call no other affected function."""
    calls = {**kit.dependencies(), "gradient_to_first_step": ("rnn_backward", "lstm_backward")}
    return {f for f in case.affects if not set(calls.get(f, ())) & set(case.affects)}


def _allowed_to_pass(case, result):
    return any(result.name == p or result.name.endswith(p) for p in (*case.may_pass, *A.INDIRECT)) or (
        result.function not in _targets(case) and any(words in result.message for words in JUDGED_ON_ITS_OWN))


@pytest.mark.parametrize("case", params(A.MAIN))
def test_an_attacker_loses_only_the_checks_of_what_it_attacked(main, case):
    if case.needs_bwrap and not main.confined:
        pytest.skip(NO_BWRAP + case.needs_bwrap)
    graded = main.run.graded[student_of(case)]
    problems = []
    if case.unreadable:
        assert graded.status == "unreadable" and graded.error
        for r in graded.results:
            if r.score != 0 or graded.error not in r.message:
                problems.append(f"{r.name}: {r.score} / {r.points}, {r.message[:200]!r}")
        assert not problems, "\n".join(problems)
        return
    for r in graded.results:
        first = r.message.splitlines()[0][:200] if r.message else ""
        if r.function not in case.affects:
            if not (r.passed and r.score == r.points):
                problems.append(f"{r.name}: {r.function} was not attacked, yet {r.status} "
                                f"({r.score:g} / {r.points:g}): {first}")
        elif _allowed_to_pass(case, r):
            continue
        elif r.score != 0 or r.passed:
            problems.append(f"{r.name}: {r.function} was attacked, yet it scored {r.score:g} / {r.points:g}")
        elif not r.message.strip():
            problems.append(f"{r.name}: scored 0 without a message")
        elif any(word in r.message for word in INTERNAL):
            problems.append(f"{r.name}: the message blames the student for a failure of the grader: {first}")
    assert not problems, f"{student_of(case)} ({case.story}):\n" + "\n".join(problems)


REPORTING = [c for c in A.MAIN if c.report]


@pytest.mark.parametrize("case", params(REPORTING, reason=lambda c: ""))
def test_escape_attempts_get_nowhere(main, case):
    if case.needs_bwrap and not main.confined:
        pytest.skip(NO_BWRAP + case.needs_bwrap)
    graded = main.run.graded[student_of(case)]
    reports = [A.attack_report(r.message) for r in graded.results if A.attack_report(r.message)]
    assert reports, f"{case.name}: no ATTACK-REPORT in any message; did the attack run? " \
                    f"{[r.message[:200] for r in graded.results if r.function in case.affects][:1]}"
    assert A.successes(reports[0]) == {}, f"{case.name}: {reports[0]}"


def test_no_file_appears_outside_the_sandbox_and_the_kit_is_untouched(main):
    assert main.solutions_before == main.solutions_after, "solutions/ changed while the class was graded"
    for name in HONEST:  # the delete attack went for these
        assert sorted(p.name for p in (main.submissions / name).iterdir()) == sorted(
            n for n, _ in SAMPLE[HONEST[name]].files)
        assert json.loads((main.out / name / "results.json").read_text())["score"] == main.run.graded[name].score
    if not main.confined:
        pytest.skip(NO_BWRAP + "without it the worker may write wherever user nobody may")
    leaked = [str(p) for ctx in main.contexts.values() for p in ctx.outside_files.values() if p.exists()]
    leaked += [str(p) for p in Path("/tmp").glob("pwned-*") if any(ctx.marker in p.name for ctx in main.contexts.values())]
    assert not leaked


def test_no_connection_reaches_the_machine(main):
    if not main.confined:
        pytest.skip(NO_BWRAP + "without it the worker shares the machine's network")
    assert main.heard == []


def test_nothing_an_attacker_prints_reaches_the_graders_own_output(main):
    for marker in ("FAKE-SCORE", "Score: 100", '"score": 100'):
        assert marker not in main.printed, main.printed[:2000]
    faker = main.run.graded[student_of(_case("fake-score-stdout"))]
    assert faker.score < faker.max_score
    data = json.loads((main.out / student_of(_case("fake-score-stdout")) / "results.json").read_text())
    assert data["score"] == faker.score


def test_the_notebook_shell_escapes_ran_nothing(main):
    ctx = main.contexts["notebook-shell-escapes"]
    assert not (Path("/tmp") / f"pwned-{ctx.marker}").exists()
    assert main.out.is_dir()


def test_grades_csv_report_and_every_results_json_are_complete(main):
    students = list(main.run.graded)
    rows = list(csv.DictReader((main.out / "grades.csv").open()))
    assert [r["student"] for r in rows] == students
    for row in rows:
        assert float(row["total"]) == pytest.approx(main.run.graded[row["student"]].score)
    report = (main.out / "report.html").read_text()
    for name in students:
        assert f"{_safe_name(name)}/feedback.html" in report
        folder = main.out / _safe_name(name)
        data = json.loads((folder / "results.json").read_text())  # complete JSON
        assert data["score"] == pytest.approx(main.run.graded[name].score)
        assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])
        assert name in (folder / "feedback.html").read_text()
        json.loads((folder / "graded.json").read_text())
    assert not [p for p in main.out.rglob("*.tmp")], "a temporary file was left behind"


def _case(name):
    return next(c for c in A.CASES if c.name == name)


# ---------------------------------------------------------------------------------------
# The grading process's own memory

BIG_REPLY_MB = 32


def test_a_student_cannot_make_the_grading_process_hold_every_large_reply(tmp_path):
    """rnn_readout returns a 48 MB array from each of its distinct calls: the grader may not keep them all."""
    import tracemalloc

    from autograder.sandbox.client import WorkerImpl, load_submission
    from autograder.reference import LiveReference
    from autograder.runner import run_checks

    code = f"return np.ones({BIG_REPLY_MB} * 1024 ** 2 // 8) + h.sum()"
    folder = write_entry(tmp_path, "big", A.with_module(rnn=A.inject("rnn", "rnn_readout", code))(None))
    checks = [c for c in CHECKS if c.function == "rnn_readout"]
    ref = LiveReference()
    tracemalloc.start()
    try:
        with WorkerImpl(load_submission(str(folder)), timeout=10.0) as impl:
            run_checks(impl, checks, ref=ref)
            held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert impl.calls >= 4  # distinct calls, each answered with a fresh 48 MB array
    assert held < 2.5 * BIG_REPLY_MB * 1024 ** 2, f"the grader holds {held / 1024 ** 2:.0f} MB after {impl.calls} calls"
