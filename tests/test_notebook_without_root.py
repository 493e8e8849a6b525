"""The Colab-like path: a skeleton notebook's check cell, run by a user who is not root, without bubblewrap.

On Google Colab or a laptop without bubblewrap the kit has no namespaces to put the
student's functions in, and perhaps no Landlock either. The check cell must still run
there, score the notebook and say in one line that it ran with process limits only.

CI runs as root, so the notebook's driver (nbclient) and its kernel run as `nobody`, via
setpriv or runuser, with HOME in a fresh folder and RNN_KIT_NO_BWRAP=1 and
RNN_KIT_NO_LANDLOCK=1 (the weakest level, which is what the one-line note is about).
When the Python installation sits in a folder `nobody` cannot enter (pyenv under
/root), a private mount namespace shows that user only the installation's folder
there, read-only; the host's mounts are never touched. Run as a user who is not root,
the driver simply runs as that user.
"""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy
import pytest

from autograder import kit
from autograder.build import module_notebook

nbclient = pytest.importorskip("nbclient")

DRIVER = """\
import sys

import nbclient
import nbformat

nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


def _can_enter(path, uid, gid):
    st = path.stat()
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _blocked(paths, uid, gid):
    """{folder `uid` cannot enter: the names inside it on the way to `paths`}, or a str saying why that cannot be fixed."""
    blocked = {}
    for target in paths:
        target = target.resolve()
        for folder in [*reversed(target.parents), target]:
            if folder.is_dir() and not _can_enter(folder, uid, gid):
                if folder == target:
                    return f"{folder} itself cannot be entered by uid {uid}"
                blocked.setdefault(folder, set()).add(target.relative_to(folder).parts[0])
    return blocked


def _as_nobody(command, env, work):
    """The argv that runs `command` (a list) as `nobody` with exactly `env`, or pytest.skip with the reason."""
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("this machine has no user 'nobody' to run the notebook as")
    if shutil.which("setpriv"):
        drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    elif shutil.which("runuser"):
        drop = ["runuser", "-u", "nobody", "--"]
    else:
        pytest.skip("neither setpriv nor runuser (util-linux) is installed: cannot run the kernel as a user who is not root")
    argv = [*drop, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]
    needed = [Path(sys.executable), Path(sys.prefix), Path(sys.base_prefix), Path(numpy.__file__).parent,
              Path(nbclient.__file__).parent, kit.ROOT, work]
    blocked = _blocked(needed, user.pw_uid, user.pw_gid)
    if isinstance(blocked, str):
        pytest.skip(f"the Python installation is out of reach of 'nobody': {blocked}")
    if not blocked:
        return argv, []
    if not shutil.which("unshare") or subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                                                     capture_output=True, check=False).returncode != 0:
        pytest.skip(f"'nobody' cannot enter {', '.join(map(str, blocked))} and no private mount namespace can be "
                    f"made here (unshare --mount) to let it in")
    # In a private mount namespace: each blocked folder is covered by a 0755 folder that holds read-only
    # binds of only the entries needed inside it (deepest first, so nested ones carry over with --rbind).
    script, covers = ["set -e"], []
    for k, (folder, names) in enumerate(sorted(blocked.items(), key=lambda kv: -len(kv[0].parts))):
        cover = work / f"cover{k}"
        cover.mkdir(mode=0o755)
        cover.chmod(0o755)
        for name in sorted(names):
            (cover / name).mkdir()
            script += [f"mount --rbind '{folder / name}' '{cover / name}'",
                       f"mount -o remount,bind,ro '{cover / name}'"]
        script.append(f"mount --rbind '{cover}' '{folder}'")
        covers.append(cover)
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh", *argv], covers


def _remove(work, covers):
    """Remove `work`. A cover and the mount points in it are only ever rmdir-ed: were anything still bound
    there, rmdir would fail (the folder is not empty) and nothing behind it would be deleted."""
    for cover in covers:
        for point in cover.iterdir():
            point.rmdir()
        cover.rmdir()
    shutil.rmtree(work)


def test_the_check_cell_runs_without_root_and_without_bubblewrap_and_says_so():
    nb = nbformat.read(kit.NOTEBOOKS / "rnn.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_self_check")
    nb.cells = cells[:at + 1]  # setup, answers and the check cell: the demos are tests/test_notebooks.py's
    answered = next(c for c in module_notebook("rnn", with_solutions=True).cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step")
    for cell in nb.cells:  # a student who has written rnn_step: its checks run, and pass, in the weak sandbox
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "rnn_step":
            cell.source = answered.source
    nb.cells.append(nbformat.v4.new_code_cell("import os\nprint('euid', os.geteuid())"))
    work = Path(tempfile.mkdtemp(prefix="rnn-kit-notebook-"))
    covers = []
    try:
        work.chmod(0o755)
        home = work / "home"
        home.mkdir()
        nbformat.write(nb, work / "in.ipynb")
        (work / "driver.py").write_text(DRIVER)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "RNN_KIT_NO_BWRAP": "1", "RNN_KIT_NO_LANDLOCK": "1"}
        command = [sys.executable, str(work / "driver.py"), str(work / "in.ipynb"), str(home / "out.ipynb"), str(home)]
        if os.geteuid() == 0:
            argv, covers = _as_nobody(command, env, work)
            nobody = pwd.getpwnam("nobody")
            os.chown(home, nobody.pw_uid, nobody.pw_gid)
        else:
            argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        out = nbformat.read(home / "out.ipynb", as_version=4)
    finally:
        _remove(work, covers)
    outputs = [o for c in out.cells for o in c.get("outputs", [])]
    assert {(o.output_type, o.get("name")) for o in outputs} == {("stream", "stdout")}
    report = "".join(o.text for o in out.cells[at].outputs)
    assert "rnn self-check: score per part" in report
    assert "ok   rnn step matches the reference on random inputs" in report
    assert "not implemented yet: rnn_forward" in report
    assert "Next thing to fix: rnn_forward (rnn.py)" in report
    assert "ran in a separate process with process limits only" in report
    euid = int(out.cells[-1].outputs[0].text.split()[1])
    assert euid != 0
