"""The sandbox at every level this host offers, as the commands report and enforce it.

Levels, strongest first (autograder/sandbox/launcher.py LEVELS): bubblewrap + Landlock,
bubblewrap, Landlock only (RNN_KIT_NO_BWRAP=1), process limits only (RNN_KIT_NO_BWRAP=1
RNN_KIT_NO_LANDLOCK=1). Each test starts fresh processes, so the level is decided the way
an instructor's command decides it.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest

from autograder import kit
from autograder.sandbox import confine, protections

WHEELHOUSE = kit.ROOT / ".wheelhouse"
HAS_LANDLOCK = confine.landlock_abi() >= 1
BWRAP_HERE = protections()["level"].startswith("bubblewrap")
LEVEL_ENV = {"landlock": {"RNN_KIT_NO_BWRAP": "1"},
             "process limits only": {"RNN_KIT_NO_BWRAP": "1", "RNN_KIT_NO_LANDLOCK": "1"}}


def rnn_grade(*args, env=None, python=sys.executable, timeout=300):
    return subprocess.run([python, "-m", "autograder", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=kit.ROOT, env={**os.environ, **(env or {})})


def snoop_submission(folder, marker, lazy_import=True):
    """A correct submission whose rnn_readout first tries what a hostile student would, and reports it.

    With `lazy_import` it also imports numpy.ma at call time, as an honest student may: it must work at
    every confined level, also as root with Python below /root (mode 0700).
    """
    source = (kit.SOLUTIONS / "rnn.py").read_text()
    attack = textwrap.dedent(f'''
        def _snoop():
            import os, socket
            {"import numpy.ma  # not imported in advance: read from the Python installation while confined" if lazy_import else ""}
            seen = []
            for what, act in (("read solutions", lambda: open({str(kit.SOLUTIONS / "rnn.py")!r}).read()),
                              ("write host tmp", lambda: open("/tmp/{marker}", "w").write("x")),
                              ("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))):
                try:
                    act()
                    seen.append(what)
                except OSError:
                    pass
            if seen:
                raise RuntimeError("ESCAPED " + ", ".join(seen))
            try:
                os.execv("/bin/true", ["true"])  # if this works the worker is gone, and the checks fail
            except OSError:
                pass
        ''')
    source = source.replace("def rnn_readout(", attack + "\n\ndef rnn_readout(", 1)
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("def rnn_readout("))
    body = next(i for i in range(at + 1, len(lines)) if lines[i].strip().startswith("### BEGIN SOLUTION"))
    lines.insert(body + 1, "    _snoop()")
    folder.mkdir(parents=True)
    (folder / "rnn.py").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("level", ["landlock", "process limits only"])
def test_each_weaker_level_is_reported_by_its_own_reason(level):
    if level == "landlock" and not HAS_LANDLOCK:
        pytest.skip("this kernel has no Landlock")
    done = rnn_grade("grade", "solutions", env=LEVEL_ENV[level])
    assert done.returncode == 0, done.stderr
    assert f"sandbox: {level} (missing: bubblewrap: switched off by RNN_KIT_NO_BWRAP" in done.stdout
    assert "cannot create namespaces" not in done.stdout + done.stderr
    warned = "WARNING: student code runs with process limits only" in done.stderr
    assert warned == (level == "process limits only"), done.stderr


def test_the_weakest_level_refuses_to_grade_when_a_sandbox_is_required(tmp_path):
    out = tmp_path / "out"
    for command in (["grade", "solutions", "--out", str(tmp_path / "results.json")],
                    ["class", str(kit.ROOT / "examples" / "class"), "--out", str(out)],
                    ["demo", "--out", str(out)]):
        done = rnn_grade(*command, "--require-sandbox", "landlock", env=LEVEL_ENV["process limits only"])
        assert done.returncode == 2, done.stdout + done.stderr
        assert "below the required 'landlock'" in done.stderr and "nothing was graded" in done.stderr
        assert not out.exists() and not (tmp_path / "results.json").exists()


def graded(folder, env=None, python=sys.executable):
    """`rnn-grade grade FOLDER --out results.json`: (the sandbox record, {public check of rnn_readout:
    (score, points, output)}, stderr)."""
    out = folder.parent / f"{folder.name}-results.json"
    done = rnn_grade("grade", str(folder), "--out", str(out), env=env, python=python)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    readout = {t["extra_data"]["check"]: (t["score"], t["max_score"], t["output"]) for t in results["tests"]
               if "rnn_readout" in t["extra_data"]["check"] and t["visibility"] == "visible"}
    assert len(readout) == 4  # the public ones: a hidden check's output never quotes the code's message
    return results["extra_data"]["sandbox"], readout, done.stderr


@pytest.mark.skipif(not HAS_LANDLOCK, reason="this kernel has no Landlock")
def test_landlock_alone_keeps_a_student_from_the_solutions_the_host_tmp_the_network_and_exec(tmp_path):
    marker = f"rnn-kit-escape-{uuid.uuid4().hex}"
    sandbox, readout, _ = graded(snoop_submission(tmp_path / "snoop", marker), env=LEVEL_ENV["landlock"])
    assert sandbox["level"] == "landlock" and "seccomp" in sandbox["applied"]
    assert all(score == full for score, full, _ in readout.values()), readout
    assert not Path("/tmp", marker).exists()


def test_without_any_confinement_the_same_student_gets_out_which_is_why_it_is_loud(tmp_path):
    """The control: at "process limits only" the snooping student does get out (so the test above can fail)."""
    marker = f"rnn-kit-escape-{uuid.uuid4().hex}"
    try:
        sandbox, readout, stderr = graded(snoop_submission(tmp_path / "snoop", marker, lazy_import=False),
                                          env=LEVEL_ENV["process limits only"])
        assert sandbox["level"] == "process limits only" and "WARNING" in stderr
        assert all("ESCAPED read solutions, write host tmp, socket" in out for _, _, out in readout.values()), readout
    finally:
        Path("/tmp", marker).unlink(missing_ok=True)


@pytest.mark.skipif(not WHEELHOUSE.is_dir(), reason="no .wheelhouse/: .ci/run downloads it (pip download -d .wheelhouse ...)")
def test_a_venv_under_tmp_gets_the_full_sandbox():
    """A venv in /tmp, without system packages, the kit installed from the wheelhouse: same level as this host's."""
    venv = Path(tempfile.mkdtemp(prefix="rnn-kit-venv-", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        python = str(venv / "bin" / "python")
        pip = [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(WHEELHOUSE),
               "--disable-pip-version-check"]
        subprocess.run(pip + ["numpy", "nbformat", "setuptools", "wheel"], check=True, timeout=300,
                       capture_output=True)
        subprocess.run(pip + ["--no-build-isolation", "--no-deps", "-e", str(kit.ROOT)], check=True, timeout=300,
                       capture_output=True, cwd="/")
        where = subprocess.run([python, "-c", "import numpy, sys; print(sys.prefix, numpy.__file__)"],
                               capture_output=True, text=True, check=True).stdout
        assert where.startswith(str(venv)) and f"{venv}/lib" in where  # numpy from the venv, not the host
        marker = f"rnn-kit-escape-{uuid.uuid4().hex}"
        sandbox, readout, _ = graded(snoop_submission(venv / "student", marker), python=python)
        assert sandbox["level"] == protections()["level"], sandbox
        if BWRAP_HERE:
            assert sandbox["level"].startswith("bubblewrap")
        assert all(score == full for score, full, _ in readout.values()), readout
        assert not Path("/tmp", marker).exists()
        if os.geteuid() == 0 and HAS_LANDLOCK:
            # as root without bubblewrap the worker is `nobody`, and this venv sits in a folder of mode 0700
            assert not venv.stat().st_mode & 0o001
            sandbox, readout, _ = graded(snoop_submission(venv / "student-landlock", marker), python=python,
                                         env=LEVEL_ENV["landlock"])
            assert sandbox["level"] == "landlock", sandbox
            assert "passes folders closed to nobody" in sandbox["applied"], sandbox
            assert all(score == full for score, full, _ in readout.values()), readout
            assert not Path("/tmp", marker).exists()
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def test_a_worker_that_dies_before_it_is_ready_costs_a_fresh_fork_server_not_a_score(monkeypatch):
    """The first worker a fork server hands over dies at once (as when its scratch space is gone): the
    grader starts a new fork server and grades on it; the student loses nothing."""
    from autograder.catalogue import all_checks
    from autograder.sandbox.client import WorkerImpl, load_submission
    from autograder.reference import LiveReference
    from autograder.runner import run_checks
    from autograder.sandbox import launcher

    broken = launcher.shared_server()
    real_start = launcher.ForkServer.start

    def dies_once(self):
        if self is broken:
            process = real_start(self)
            process.kill()  # gone before it could answer: what a full /tmp or a crash at lock-down looks like
            self.broken = True
            raise RuntimeError("a new worker died before it was ready (EOFError)")
        return real_start(self)
    monkeypatch.setattr(launcher.ForkServer, "start", dies_once)
    checks = [c for c in all_checks() if c.function == "rnn_step"]
    with WorkerImpl(load_submission("solutions")) as impl:
        results = run_checks(impl, checks, ref=LiveReference())
        assert impl.launcher is not broken and impl.launcher is launcher.shared_server()
    assert all(r.passed and r.score == r.points for r in results), [r.message for r in results]


@pytest.mark.skipif(not HAS_LANDLOCK, reason="this kernel has no Landlock")
def test_confinement_also_refuses_what_landlock_leaves_open(tmp_path):
    """chmod, utime, truncation and signals to others are not Landlock's to refuse (truncation only from ABI 3,
    signals from ABI 6): seccomp is."""
    victim = tmp_path / "victim.txt"
    victim.write_text("x")
    code = textwrap.dedent(f'''
        import os, sys
        sys.path.insert(0, {str(kit.ROOT / "autograder" / "sandbox")!r})
        import confine
        print(confine.confine(read=[], write=[{str(tmp_path)!r}]))
        for what, act in (("chmod", lambda: os.chmod({str(victim)!r}, 0o666)),
                          ("utime", lambda: os.utime({str(victim)!r}, (0, 0))),
                          ("truncate", lambda: os.truncate({str(victim)!r}, 0)),  # Landlock: only from ABI 3
                          ("O_TRUNC read-only", lambda: os.close(os.open({str(victim)!r}, os.O_RDONLY | os.O_TRUNC))),
                          ("kill -1", lambda: os.kill(-1, 0)), ("kill parent", lambda: os.kill(os.getppid(), 0))):
            try:
                act()
                print(what, "ALLOWED")
            except OSError as exc:
                print(what, "refused", exc.errno)
        os.kill(os.getpid(), 0)  # itself: still allowed
        print("self ok")
        ''')
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    assert "seccomp" in done.stdout and "ALLOWED" not in done.stdout and "self ok" in done.stdout, done.stdout + done.stderr
    assert victim.read_text() == "x"


@pytest.mark.skipif(not BWRAP_HERE, reason="needs bubblewrap")
def test_at_the_bubblewrap_level_nothing_one_student_leaves_in_tmp_reaches_the_next(tmp_path):
    """Without Landlock, /tmp inside bubblewrap is shared by the workers of a fork server: it is emptied after each."""
    writer = (kit.SOLUTIONS / "rnn.py").read_text().replace("def rnn_readout(", textwrap.dedent('''
        def _leave():
            open("/tmp/carry.txt", "w").write("left by the writer")


        def rnn_readout(''').lstrip(), 1)
    writer = writer.replace("    ### BEGIN SOLUTION\n    # Task: return h @ Wy", "    ### BEGIN SOLUTION\n    _leave()\n    # Task: return h @ Wy", 1)
    reader = (kit.SOLUTIONS / "rnn.py").read_text().replace("def rnn_readout(", textwrap.dedent('''
        def _look():
            import os
            if os.path.exists("/tmp/carry.txt"):
                raise RuntimeError("CARRY " + open("/tmp/carry.txt").read())


        def rnn_readout(''').lstrip(), 1)
    reader = reader.replace("    ### BEGIN SOLUTION\n    # Task: return h @ Wy", "    ### BEGIN SOLUTION\n    _look()\n    # Task: return h @ Wy", 1)
    assert "_leave()\n" in writer and "_look()\n" in reader
    for name, text in (("a_writer", writer), ("b_reader", reader)):
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "rnn.py").write_text(text)
    done = rnn_grade("class", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "-j", "1", "--skip-training",
                     env={"RNN_KIT_NO_LANDLOCK": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "b_reader" / "results.json").read_text())
    assert results["extra_data"]["sandbox"]["level"] == "bubblewrap"
    assert not any("CARRY" in t["output"] for t in results["tests"]), [t["output"] for t in results["tests"]
                                                                        if "CARRY" in t["output"]][:1]
