"""The class report for 300 students, as a person sees it in a browser.

A class of 300 is built from plausible results (`synthetic_class`: no submission is graded,
which would take far too long), written the way `rnn-grade class` writes it (report.html,
and the feedback pages of two students), and opened in headless Chromium. A small script
added to a copy of each page records what the page looks like once loaded (its width at a
1280 px window, its sections, the table after a sort and a search, any script error or
network request) into the DOM, which `--dump-dom` hands back. Without Chromium the browser
tests are skipped; the others read the HTML as text.

Set RNN_KIT_REPORT_SCREENSHOT=/tmp/report-300.png to keep a screenshot of the report's first
screens.
"""
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import markupsafe
import pytest

from autograder import classroom, kit
from autograder.catalogue import all_checks, total_points
from autograder.classroom import ClassRun, report_html
from autograder.exporters import report
from autograder.grading import Graded, feedback_html
from autograder.mistakes import HINTS, MISTAKES
from autograder.runner import Result, apply_gates

SANDBOX = {"level": "bubblewrap+landlock", "missing": [],
           "applied": ["uid nobody", "RLIMIT_AS", "RLIMIT_CPU", "landlock abi 7", "seccomp"]}
WIDTH = 1280

# ---------------------------------------------------------------------------------------
# A class of 300, from plausible results

FIRST = ("Ada", "Ben", "Cara", "Dev", "Eve", "Finn", "Gia", "Hugo", "Ivy", "Jon", "Kim", "Leo", "Mia", "Noa", "Omar",
         "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wen", "Xia", "Yusuf", "Zoe")
LAST = ("Abebe", "Becker", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito", "Jansen", "Kowalski",
        "Lopez", "Müller", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi")
#: names a class list really holds, and names a student chose to break the page with
HOSTILE = ('<script>alert("report")</script>', "O'Brien & <b>Sons</b>", "x" * 120, "José García", "名前 テスト",
           "=HYPERLINK(\"http://example.invalid\")", "Ünïcødé\u202eevil")

REPRODUCE = ("  To reproduce (paste into Python):\n      from exercises.{module} import {function}\n"
             "      from autograder.inputs import make_inputs\n      args = make_inputs('{function}', seed=0, N=1)\n"
             "      {function}(*args)")
CHEATS = {  # what a submission's own error says when the sandbox refused it something (see exporters/report.py)
    "import": ("mean_pool", "mean_pool raised an error: ImportError: importing 'solutions' is not allowed while grading"
                            "\nYour code's traceback:\n      File \"feedforward.py\", line 109, in mean_pool\n"
                            "        import solutions.feedforward as S\n"
                            "    ImportError: importing 'solutions' is not allowed while grading"),
    "read": ("pad_or_truncate", "pad_or_truncate raised an error: FileNotFoundError: [Errno 2] No such file or "
                                f"directory: '{kit.ROOT}/solutions/feedforward.py'\nYour code's traceback:\n"
                                "      File \"feedforward.py\", line 86, in pad_or_truncate\n"
                                f"        text = open('{kit.ROOT}/solutions/feedforward.py').read()\n"
                                "    FileNotFoundError: [Errno 2] No such file or directory: "
                                f"'{kit.ROOT}/solutions/feedforward.py'"),
    "network": ("rnn_readout", "rnn_readout raised an error: PermissionError: [Errno 1] Operation not permitted\n"
                               "Your code's traceback:\n      File \"rnn.py\", line 86, in rnn_readout\n"
                               "        s = socket.create_connection(('198.51.100.7', 443))\n"
                               "    PermissionError: [Errno 1] Operation not permitted"),
    "write": ("rnn_step", "rnn_step raised an error: OSError: [Errno 30] Read-only file system: '/home/grader/"
                          "answers.txt'\nYour code's traceback:\n      File \"rnn.py\", line 38, in rnn_step\n"
                          "        open('/home/grader/answers.txt', 'w').write(repr(x_t))\n"
                          "    OSError: [Errno 30] Read-only file system: '/home/grader/answers.txt'"),
    "fake": ("lstm_forward", "lstm_forward returned hs as an object of type AlwaysEqual (AlwaysEqual([[0., 0.]])); "
                             "return plain numpy arrays (np.asarray(...)), not subclasses or other objects where "
                             "a numpy array of shape (2, 5, 4) is due"),
}


def _names(n, rng):
    names = list(HOSTILE)
    while len(names) < n:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name in names:
            name = f"{name} {len(names)}"
        names.append(name)
    return sorted(names)


def _values_message(function, module, rng):
    index = (rng.randrange(4), rng.randrange(6))
    return (f"{function} returned an array with wrong values: the largest error is at index {index}: got "
            f"{rng.uniform(-1, 1):.10g}, expected {rng.uniform(-1, 1):.10g}; 16 of 16 element(s) differ beyond the "
            f"tolerance (rtol 1e-07, atol 1e-09)\n" + REPRODUCE.format(module=module, function=function))


def _student(name, rng, checks, role):
    """One student's Graded: `role` says what kind of hand-in it was (most are "honest")."""
    by_function = {}
    for c in checks:
        by_function.setdefault(c.function, []).append(c)
    ability = rng.betavariate(5, 1.6)
    outcome = {}  # check name -> (status, message, mistake)
    error, notes = "", []
    functions = list(by_function)
    if role == "unreadable":
        error = f"{name}.zip is not a readable zip file (BadZipFile: File is not a zip file)"
        outcome = {c.name: ("error", f"the submission could not be read: {error}", "") for c in checks}
    elif role == "not started":
        outcome = {c.name: ("not implemented", "not implemented yet: write the function body", "") for c in checks}
    else:
        stop = len(functions) if ability > 0.35 else rng.randrange(5, len(functions))
        for i, function in enumerate(functions):
            fchecks = by_function[function]
            module = fchecks[0].module
            if i >= stop:
                for c in fchecks:
                    outcome[c.name] = ("not implemented", f"not implemented yet: {function} raises NotImplementedError",
                                       "")
                continue
            if function in MISTAKES and rng.random() < 0.22 * (1.2 - ability):
                options = MISTAKES[function]  # a few mistakes are common, most are rare
                key = rng.choices(options, weights=[2.0 ** -k for k in range(len(options))])[0].key
                for c in fchecks:
                    if report.check_kind(c.name, c.visibility) in ("fixed", "random", "hidden"):
                        outcome[c.name] = ("failed", _values_message(function, module, rng)
                                           + f"\n  Likely cause: {HINTS[key]}.", key)
            for c in fchecks:
                if c.name not in outcome and rng.random() < 0.12 * (1.05 - ability):
                    outcome[c.name] = ("failed", _values_message(function, module, rng), "")
        if rng.random() < 0.04:  # float32 somewhere in the LSTM
            for c in by_function["lstm_forward"][:3]:
                outcome[c.name] = ("failed", "lstm_forward returned hs of dtype float32; the kit works in float64 "
                                             "(an integer or float32 array somewhere, or an astype?)", "")
        if rng.random() < 0.05:  # a sigmoid that overflows
            for c in checks:
                if c.name.endswith("saturates_without_overflow") and c.module in ("lstm", "gru"):
                    outcome[c.name] = ("failed", f"{c.function} raised a warning on large inputs (|z| ~ 1e3): "
                                                 "RuntimeWarning: overflow encountered in exp. Compute the sigmoid "
                                                 "so exp never sees a large positive number", "")
        if rng.random() < 0.03:
            c = next(c for c in by_function["rnn_step"] if c.name.endswith("saturates_without_overflow"))
            outcome[c.name] = ("failed", "rnn_step raised a warning on large inputs (|z| ~ 1e3): RuntimeWarning: "
                                         f"overflow encountered in exp\n  Likely cause: {HINTS['tanh-overflow']}.",
                               "tanh-overflow")
        if role == "timeout":
            for c in by_function["gru_step"] + by_function["gru_forward"]:
                outcome[c.name] = ("timeout", f"{c.function} did not finish within 10 s (an infinite loop, or far too "
                                              f"slow); later checks that call {c.function} are skipped", "")
        elif role == "crash":
            for c in by_function["lstm_step"]:
                outcome[c.name] = ("error", "lstm_step stopped the process running your code: the process exited "
                                            "with code 3 (os._exit, sys.exit at the top level, or a crash)", "")
        elif role == "syntax":
            for c in checks:
                if c.module == "gru":
                    outcome[c.name] = ("error", "gru.py could not be loaded: SyntaxError: expected ':' (gru.py, line "
                                                "66)\nYour code's traceback:\n      File \"gru.py\", line 66\n"
                                                "        def gru_step(x_t, h_prev, Wx, Wh, bx, bh)\n"
                                                "    SyntaxError: expected ':'", "")
        elif role == "missing":
            notes.append("read the files inside submission/")
            for c in checks:
                if c.module == "memory":
                    outcome[c.name] = ("error", "memory.py could not be loaded: ModuleNotFoundError: No module named "
                                                "'submission.memory'", "")
        elif role in CHEATS:
            function, message = CHEATS[role]
            for c in by_function[function]:
                outcome[c.name] = ("failed" if role == "fake" else "error", message, "")
        elif role == "long message":  # a message with a very long unbroken word: the page must still fit
            c = by_function["rnn_forward"][1]
            outcome[c.name] = ("error", "rnn_forward raised an error: ValueError: " + "shape" * 80, "")
    results = []
    for c in checks:
        status, message, mistake = outcome.get(c.name, ("passed", "", ""))
        results.append(Result(c.name, c.module, c.function, c.points, c.visibility, status,
                              c.points if status == "passed" else 0.0, message, mistake))
    results = apply_gates(results)
    return Graded(name, results, round(sum(r.score for r in results), 4), total_points(checks),
                  round(rng.uniform(1.5, 16.0), 2), "", dict(SANDBOX), notes, error)


def synthetic_class(n=300, seed=300):
    """A ClassRun of `n` students with every kind of result the report shows."""
    rng = random.Random(seed)
    checks = all_checks()
    names = _names(n, rng)
    special = (["unreadable"] * 2 + ["not started"] * 3 + ["timeout"] * 7 + ["crash"] * 5 + ["syntax"] * 4
               + ["missing"] * 3 + list(CHEATS) + ["long message"])
    roles = special + ["honest"] * (n - len(special))
    rng.shuffle(roles)
    graded = {name: _student(name, rng, checks, role) for name, role in zip(names, roles)}
    return ClassRun(Path("out"), graded, seconds=1234.5), dict(zip(names, roles))


@pytest.fixture(scope="module")
def big():
    started = time.perf_counter()
    run, roles = synthetic_class()
    built = time.perf_counter() - started
    return run, roles, built


# ---------------------------------------------------------------------------------------
# The page as text

def test_the_report_of_300_students_renders_in_seconds_with_every_section(big):
    run, roles, built = big
    started = time.perf_counter()
    page = report_html(run)
    seconds = time.perf_counter() - started
    assert built < 10 and seconds < 20, (built, seconds)
    for section in ("summary", "mistakes", "review", "functions", "scores", "students"):
        assert f'id="{section}"' in page, section
    assert page.count('<tr id="s-') == 300
    assert page.count('<details class="fn"') == sum(len(fns) for fns in kit.functions_by_module().values())
    assert page.index('id="mistakes"') < page.index('id="functions"') < page.index('id="students"')


def test_student_names_and_messages_are_escaped(big):
    run, _, _ = big
    page = report_html(run)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;report&#34;)&lt;/script&gt;" in page
    assert "<b>Sons</b>" not in page and "O&#39;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;" in page
    assert page.count("<script>") == 1  # the page's own script, and nothing a student wrote


def test_the_page_needs_nothing_from_the_network(big):
    page = report_html(big[0])
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(http" not in page


def test_each_diagnosed_mistake_counts_students_and_links_each_to_their_row(big):
    run, _, _ = big
    data = report.build(run, folder_of=classroom._safe_name)
    rows = {m["key"]: m for m in data["mistakes"]}
    for key in ("dtype", "overflow-warning", "tanh-overflow"):
        assert key in rows, key
    for key, m in rows.items():
        who = {g.student for g in run.graded.values()
               if any(r.mistake == key or report.message_diagnosis(r) == key for r in g.results)}
        assert {s.name for s in m["students"]} == who
        assert m["hint"], key
    counts = [len(m["students"]) for m in data["mistakes"]]
    assert counts == sorted(counts, reverse=True)
    page = report_html(run)
    first = data["mistakes"][0]
    assert f'<a href="#{first["students"][0].anchor}">' in page and f'id="{first["students"][0].anchor}"' in page


def test_flags_name_unreadable_timeouts_crashes_and_what_the_sandbox_refused(big):
    run, roles, _ = big
    data = report.build(run, folder_of=classroom._safe_name)
    flagged = {s.name: {f.kind for f in s.flags} for s in data["students"]}
    for name, role in roles.items():
        want = {"unreadable": "unreadable", "timeout": "timeout", "crash": "crash", "syntax": "load",
                "missing": "missing", "not started": "notstarted"}.get(role, "cheat" if role in CHEATS else None)
        if want:
            assert want in flagged[name], (name, role, flagged[name])
        if role not in CHEATS:
            assert "cheat" not in flagged[name], (name, role)
    seen = {s.name: " ".join(d for f in s.flags for d in f.details) for s in data["students"]}
    refused = {role: seen[name] for name, role in roles.items() if role in CHEATS}
    assert refused["import"].startswith(report.READING_KIT) and report.READING_KIT in refused["read"]
    assert report.NETWORK in refused["network"] and report.WRITING in refused["write"]
    assert report.FAKES in refused["fake"]


def test_a_check_kind_comes_from_its_name_and_visibility():
    assert report.check_kind("test_rnn_step_returns_the_right_types_and_shapes") == "shapes"
    assert report.check_kind("test_rnn_step_matches_the_reference_on_fixed_inputs") == "fixed"
    assert report.check_kind("test_rnn_step_matches_the_reference_on_random_inputs") == "random"
    assert report.check_kind("test_rnn_step_matches_the_reference_on_hidden_inputs", "hidden") == "hidden"
    assert report.check_kind("test_rnn_step_leaves_its_inputs_alone_and_repeats_itself") == "purity"
    assert report.check_kind("test_rnn_forward_equals_stepping_rnn_step") == "behaviour"
    kinds = {report.check_kind(c.name, c.visibility) for c in all_checks()}
    assert kinds == {k for k, _ in report.KINDS}


@pytest.mark.parametrize("call, error, what", [
    ("pid = os.fork()", "BlockingIOError: [Errno 11] Resource temporarily unavailable", report.PROCESSES),
    ("os.kill(os.getppid(), 9)", "PermissionError: [Errno 1] Operation not permitted", report.PROCESSES),
    ("urllib.request.urlopen('http://example.invalid')", "urllib.error.URLError: <urlopen error [Errno -2] Name or "
                                                          "service not known>", report.NETWORK),
    ("open('/etc/passwd').read()", "PermissionError: [Errno 13] Permission denied: '/etc/passwd'", report.READING),
    ("import autograder.reference", "ImportError: importing 'autograder.reference' is not allowed while grading",
     report.READING_KIT),
])
def test_what_the_sandbox_refused_is_read_from_the_error_it_caused(call, error, what):
    message = (f"rnn_step raised an error: {error}\nYour code's traceback:\n      File \"rnn.py\", line 40, in "
               f"rnn_step\n        {call}\n    {error}")
    assert report.refusal(message)[0] == what
    assert report.refusal("rnn_step raised an error: ValueError: shapes (2,3) and (4,) not aligned") is None


def test_an_honest_import_of_exercises_is_not_called_cheating():
    message = ("rnn_forward raised an error: ImportError: importing 'exercises.rnn' is not allowed while grading\n"
               "Your code's traceback:\n    ImportError: importing 'exercises.rnn' is not allowed while grading")
    assert report.refusal(message) is None
    assert report.refusal("rnn_step returned an object of type matrix ([[1.]]); return plain numpy arrays") is None


def test_without_matplotlib_the_charts_are_tables_with_a_note(big, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    page = report_html(big[0])
    assert "<svg" not in page and 'id="histogram-table"' in page and 'id="parts-table"' in page
    assert "matplotlib is not installed here" in page


def test_with_matplotlib_the_charts_are_inline_svg_with_their_own_ids(big):
    pytest.importorskip("matplotlib")
    page = report_html(big[0])
    assert page.count("<svg") == 2 and "matplotlib is not installed" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_an_interrupted_run_says_so_under_the_title_and_names_who_is_not_graded(big):
    run, _, _ = big
    part = ClassRun(run.out, dict(list(run.graded.items())[:20]), interrupted="SIGINT",
                    not_graded=[s for s in list(run.graded)[20:]])
    page = classroom._report_with_not_graded(report_html(part), part)
    assert page.index("</h1>") < page.index("interrupted (SIGINT)") < page.index('id="mistakes"')
    assert "Graded: 20 of 300 students" in page
    assert str(markupsafe.escape(", ".join(part.not_graded))) in page
    assert "interrupted" not in report_html(run)


# ---------------------------------------------------------------------------------------
# The page in a browser

def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


browser = pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install chromium; "
                                                          ".ci/run installs it): the report is not opened in a browser")

#: runs before the page's own scripts: every error and every request for something outside the file is kept
PROBE_HEAD = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(e.message || ("could not load " + ((e.target && (e.target.src || e.target.href)) || "?")));
}, true);
</script>"""
#: runs after them: what a person would see, written into the DOM for --dump-dom
PROBE_TAIL = """<script>
(function () {
  var out = {errors: window.__errors, width: innerWidth, scroll: document.documentElement.scrollWidth};
  out.h1 = (document.querySelector("h1") || {}).textContent || "";
  out.h2 = Array.prototype.map.call(document.querySelectorAll("h2"), function (h) { return h.textContent; });
  out.requests = performance.getEntriesByType("resource").map(function (r) { return r.name; });
  var wide = [];
  Array.prototype.forEach.call(document.querySelectorAll("body *"), function (el) {
    var box = el.getBoundingClientRect();
    if (box.width && box.right > innerWidth + 1 && !el.closest(".tablewrap")) {
      wide.push(el.tagName + "." + el.className);
    }
  });
  out.wide = wide.slice(0, 10);
  var table = document.getElementById("students-table");
  if (table) {
    var wrap = table.parentNode;
    out.tableOverflow = wrap.scrollWidth - wrap.clientWidth;
    out.rows = table.tBodies[0].rows.length;
    out.toolsShown = !document.getElementById("students-tools").hidden;
    table.tHead.rows[0].cells[1].querySelector("button").click();  /* sort by total: highest first */
    out.firstTotals = Array.prototype.slice.call(table.tBodies[0].rows, 0, 3).map(function (r) {
      return parseFloat(r.cells[1].getAttribute("data-v")); });
    out.maxTotal = Math.max.apply(null, Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return parseFloat(r.cells[1].getAttribute("data-v")); }));
    var search = document.getElementById("students-search");
    search.value = "cheating";
    search.dispatchEvent(new Event("input"));
    out.found = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; }).length;
    out.count = document.getElementById("students-count").textContent;
    search.value = "";
    search.dispatchEvent(new Event("input"));
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
    out.scrollOpen = document.documentElement.scrollWidth;  /* every row opened: still no sideways scrolling */
    out.svgWidths = Array.prototype.map.call(document.querySelectorAll("figure svg"), function (s) {
      return Math.round(s.getBoundingClientRect().width); });
  }
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _run_chromium(args, tmp_path, *, height=1000, timeout=120):
    command = [_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", f"--user-data-dir={tmp_path / 'chromium-profile'}",
               f"--window-size={WIDTH},{height}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def seen_in_browser(page_path, tmp_path):
    """What the probe saw of the page at `page_path` (a copy of it, with the probe added, is what is opened)."""
    text = page_path.read_text()
    probed = page_path.with_name(page_path.stem + ".probe.html")
    head = text.index("<head>") + len("<head>") if "<head>" in text else 0
    probed.write_text(text[:head] + PROBE_HEAD + text[head:] + PROBE_TAIL)
    done = _run_chromium(["--dump-dom", probed.as_uri()], tmp_path)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"no probe in Chromium's DOM (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def write_class(run, out):
    """report.html, in the folder `rnn-grade class` writes it to."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(report_html(run))


@browser
def test_the_300_student_report_fits_1280_px_sorts_searches_and_raises_no_script_error(big, tmp_path):
    run, roles, _ = big
    out = tmp_path / "out"
    write_class(run, out)
    seen = seen_in_browser(out / "report.html", tmp_path)
    assert seen["errors"] == [] and seen["requests"] == []
    assert seen["width"] == WIDTH
    assert seen["scroll"] <= WIDTH and seen["scrollOpen"] <= WIDTH, seen["wide"]
    assert seen["wide"] == [] and seen["tableOverflow"] <= 0
    assert seen["h1"] == "Class report"
    assert seen["h2"] == ["Diagnosed mistakes", "Students to look at", "Exercise functions", "Scores", "All students"]
    assert seen["rows"] == 300 and seen["toolsShown"]
    assert seen["firstTotals"][0] == seen["maxTotal"] and seen["firstTotals"] == sorted(seen["firstTotals"],
                                                                                        reverse=True)
    assert seen["found"] == sum(1 for role in roles.values() if role in CHEATS) and seen["count"].startswith(
        f"{seen['found']} of 300")
    if report.charts.available():
        assert len(seen["svgWidths"]) == 2 and all(300 < w <= WIDTH // 2 for w in seen["svgWidths"])


@browser
def test_two_feedback_pages_fit_1280_px_without_script_errors(big, tmp_path):
    run, roles, _ = big
    out = tmp_path / "out"
    write_class(run, out)
    cheat = next(name for name, role in roles.items() if role == "read")
    hostile = HOSTILE[0]
    for student in (cheat, hostile):
        page = out / classroom._safe_name(student) / "feedback.html"  # where the report's link leads
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_html(run.graded[student]))  # as classroom._write_student writes it
        seen = seen_in_browser(page, tmp_path)
        assert seen["errors"] == [] and seen["requests"] == []
        assert seen["scroll"] <= WIDTH, (student, seen["wide"])
        assert seen["h1"].startswith(f"{student}: ")
        # what cost points comes first (one entry per cause), then the parts, each with its passed checks folded
        assert seen["h2"][:2] == ["What cost points, by cause", "feedforward.py: " + kit.LESSON_PARTS["feedforward"]]


@browser
def test_a_feedback_page_with_a_long_unbroken_word_still_fits_1280_px(big, tmp_path):
    run, roles, _ = big
    student = next(name for name, role in roles.items() if role == "long message")
    page = tmp_path / "out" / classroom._safe_name(student) / "feedback.html"
    page.parent.mkdir(parents=True)
    page.write_text(feedback_html(run.graded[student]))
    seen = seen_in_browser(page, tmp_path)
    assert seen["errors"] == []
    assert seen["scroll"] <= WIDTH, seen["wide"]


@browser
def test_a_screenshot_of_the_300_student_report_is_a_1280_px_png(big, tmp_path):
    run, _, _ = big
    out = tmp_path / "out"
    write_class(run, out)
    shot = Path(os.environ.get("RNN_KIT_REPORT_SCREENSHOT") or tmp_path / "report-300.png")
    done = _run_chromium([f"--screenshot={shot}", (out / "report.html").as_uri()], tmp_path, height=2600)
    assert shot.is_file(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (WIDTH, 2600)


def test_what_a_submission_tries_is_flagged_even_when_it_catches_the_refusal(tmp_path):
    """The worker's audit hook records attempts as values: an rnn_readout that quietly tries to read the
    solutions, open a socket and start a program, catching every error, passes its checks and is still flagged."""
    from autograder.grading import grade
    from autograder.sample_class import _student_code, reference

    quiet = textwrap.dedent(f'''
        def _quietly():
            import os, socket, subprocess
            for act in (lambda: open({str(kit.SOLUTIONS / "rnn.py")!r}).read(),
                        lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
                        lambda: subprocess.run(["/bin/true"])):
                try:
                    act()
                except Exception:
                    pass
        ''')
    text = _student_code(reference("rnn")).replace("def rnn_readout(", quiet + "\n\ndef rnn_readout(", 1)
    text = text.replace("    return h @ Wy + by", "    _quietly()\n    return h @ Wy + by", 1)
    assert "    _quietly()\n" in text
    (tmp_path / "quiet").mkdir()
    (tmp_path / "quiet" / "rnn.py").write_text(text)
    graded = grade(tmp_path / "quiet", checks=[c for c in all_checks() if c.function == "rnn_readout"])
    assert all(r.passed for r in graded.results), [r.message[:200] for r in graded.results]
    kinds = {kind for kind, function, _ in graded.attempts if function == "rnn_readout"}
    assert {"open", "network", "process"} <= kinds, graded.attempts
    cheat = [f for f in report.student_flags(graded) if f.cheat]
    assert cheat and any(report.READING_KIT in line and "solutions/rnn.py" in line for line in cheat[0].details)
    assert any(report.NETWORK in line for line in cheat[0].details)
    assert any(report.PROCESSES in line for line in cheat[0].details)


def test_honest_code_tries_nothing_worth_a_look(tmp_path):
    from autograder.grading import grade

    graded = grade(kit.SOLUTIONS, checks=[c for c in all_checks() if c.module in ("rnn", "lstm")])
    assert graded.attempts == []
