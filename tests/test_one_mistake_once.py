"""One mistake costs once: follow-through marking, and stand-ins for a module that does not load.

The CS231n-order, overflowing-sigmoid and bias-less samples of the demo class (cara, gia,
finn in autograder/sample_class.py) hold the follow-through totals; these tests hold the
paths the demo does not show, and what a hostile submission could try with stand-ins.
"""
import textwrap

from autograder import kit
from autograder.catalogue import all_checks
from autograder.grading import grade
from autograder.sample_class import _student_code, reference


def hand_in(folder, **changes):
    """The reference as a student hands it in, with {module: (old, new)} edits or {module: full text}."""
    folder.mkdir()
    for module in kit.MODULES:
        text = _student_code(reference(module))
        change = changes.get(module)
        if isinstance(change, tuple):
            assert text.count(change[0]) == 1, change[0]
            text = text.replace(*change)
        elif isinstance(change, str):
            text = change
        (folder / f"{module}.py").write_text(text)
    return folder


def results_of(folder, checks):
    return {r.name: r for r in grade(folder, checks=checks).results}


def test_a_syntax_error_in_gru_py_leaves_every_function_of_bptt_at_full_marks(tmp_path):
    folder = hand_in(tmp_path / "syntax", gru=("def gru_step(x_t, h_prev, Wx, Wh, bx, bh):",
                                                "def gru_step(x_t, h_prev, Wx, Wh, bx, bh)"))
    bptt = [c for c in all_checks() if c.module == "bptt" and c.group != "training"]
    own = [c for c in all_checks() if c.function == "gru_step"][:2]
    results = results_of(folder, bptt + own)
    assert all(results[c.name].status == "error" and "could not be loaded" in results[c.name].message for c in own)
    lost = [(c.name, results[c.name].status, results[c.name].message[:200]) for c in bptt if not results[c.name].score]
    assert lost == []
    note = results["test_gru_step_backward_matches_the_reference_on_fixed_inputs"].message
    assert "gru.py did not load, so the reference's gru_gates stood in for yours in this check." in note


def test_a_correct_lstm_step_written_without_lstm_gates_keeps_its_points(tmp_path):
    inline = ("    i, f, g, o = lstm_gates(x_t, h_prev, Wx, Wh, b)\n",
              "    a = x_t @ Wx + h_prev @ Wh + b\n"
              "    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), "
              "sigmoid(a[:, 3 * H:])\n")
    text = _student_code(reference("lstm"))
    assert inline[0] in text
    start = text.index("def lstm_step(")
    body = text[start:].replace(inline[0], "    H = h_prev.shape[1]\n" + inline[1], 1)
    text = text[:start] + body
    gates = text.index("def lstm_gates(")
    end = text.index("\ndef ", gates + 1)
    text = text[:gates] + "def lstm_gates(x_t, h_prev, Wx, Wh, b):\n    raise NotImplementedError\n\n" + text[end:]
    checks = [c for c in all_checks() if c.function in ("lstm_gates", "lstm_step")]
    results = results_of(hand_in(tmp_path / "inline", lstm=text), checks)
    assert all(results[c.name].status == "not implemented" for c in checks if c.function == "lstm_gates")
    step = [c for c in checks if c.function == "lstm_step"]
    assert [(c.name, results[c.name].message[:160]) for c in step if results[c.name].score != c.points] == []


def test_a_wrong_function_on_its_own_still_fails_next_to_a_wrong_dependency(tmp_path):
    """Follow-through is no free pass: rnn_forward with its own mistake fails although rnn_step is wrong too."""
    folder = hand_in(tmp_path / "both", rnn=None)
    text = _student_code(reference("rnn"))
    text = text.replace("return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)", "return np.tanh(x_t @ Wx + h_prev @ Wh)")
    text = text.replace("h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
                        "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), 0 * h)  # (N, H)")
    (folder / "rnn.py").write_text(text)
    checks = [c for c in all_checks() if c.name == "test_rnn_forward_keeps_the_state_on_padding_steps"]
    assert results_of(folder, checks)[checks[0].name].status == "failed"


STAND_IN_ORACLE = '''
def _oracle(name, *args):
    """What a hostile submission tries: the worker's own stand-in machinery, for a module that loads."""
    import sys
    worker = next(m for m in list(sys.modules.values()) if isinstance(getattr(m, "_PARENT", None), list))
    return worker._stand_in(name)(*args)


def rnn_readout(h, Wy, by):
    return _oracle("rnn_readout", h, Wy, by)
'''


def test_a_module_that_loads_gets_no_answers_from_the_reference(tmp_path):
    text = _student_code(reference("rnn"))
    start = text.index("def rnn_readout(")
    folder = hand_in(tmp_path / "oracle", rnn=text[:start] + textwrap.dedent(STAND_IN_ORACLE))
    checks = [c for c in all_checks() if c.function == "rnn_readout"]
    results = results_of(folder, checks)
    assert not any(r.score for r in results.values())
    assert "rnn.py loads, so its rnn_readout is the submission's own" in \
        results["test_rnn_readout_matches_the_reference_on_fixed_inputs"].message


FAKED_FAILURE = '''

import sys as _sys
_worker = next(m for m in list(_sys.modules.values()) if isinstance(getattr(m, "_PARENT", None), list))
_worker._Submission.module = lambda self, name: _sys.modules[f"{self.package}.{name}"]  # answer anyway
raise ImportError("pretending not to load, to be given the reference's answers")
'''


def test_a_module_that_pretends_not_to_load_scores_nothing_for_its_own_functions(tmp_path):
    """Its functions answered after all would be answers it chose: the grader counts them as not loading."""
    folder = hand_in(tmp_path / "faker", memory=_student_code(reference("memory")) + FAKED_FAILURE)
    checks = [c for c in all_checks() if c.module == "memory"]
    results = results_of(folder, checks)
    scored = [(n, r.status) for n, r in results.items() if r.score]
    assert scored == []
    assert all(r.status == "error" for r in results.values())


def test_fix_first_advice_names_only_what_the_students_code_calls(tmp_path):
    """rnn_step is wrong in both; only the rnn_forward that calls it is told to fix it first."""
    text = _student_code(reference("rnn")).replace("return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
                                                   "return np.tanh(x_t @ Wx + h_prev @ Wh)")
    own_bug = ("h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
               "h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), 0 * h)  # (N, H)")
    inline = ("h = np.where(active, rnn_step(x[:, t], h, Wx, Wh, b), h)  # (N, H)",
              "h = np.where(active, np.tanh(x[:, t] @ Wx + h @ Wh + b), 0 * h)  # (N, H)")
    check = [c for c in all_checks() if c.name == "test_rnn_forward_keeps_the_state_on_padding_steps"]
    told = {}
    for label, (old, new) in (("calls", own_bug), ("inline", inline)):
        folder = hand_in(tmp_path / label, rnn=text.replace(old, new))
        told[label] = results_of(folder, check)[check[0].name].message
    assert "Fix rnn_step first" in told["calls"]
    assert "Fix rnn_step first" not in told["inline"] and "rnn_forward" in told["inline"]


LSTM_STEP_BODY = "    c_t = f * c_prev + i * g  # (N, H)\n"


def test_a_function_that_gives_no_answer_costs_only_its_own_points(tmp_path):
    """lstm_step raises on every input: lstm_forward and lstm_backward are judged with the reference's lstm_step
    in its place (their own work is right), the checks of the whole cell (training) fail and say what to fix."""
    folder = hand_in(tmp_path / "raises", lstm=(LSTM_STEP_BODY, "    raise ValueError('not finished')\n"))
    wanted = ("lstm_step", "lstm_forward", "lstm_backward")
    checks = [c for c in all_checks() if c.function in wanted]
    results = results_of(folder, checks)
    own = [c for c in checks if c.function == "lstm_step"]
    assert all(not results[c.name].score for c in own)
    later = [c for c in checks if c.function != "lstm_step" and c.group != "training"]
    assert [(c.name, results[c.name].message[:300]) for c in later if not results[c.name].score] == []
    note = results["test_lstm_forward_matches_the_reference_on_fixed_inputs"].message
    assert ("Your lstm_step gave no answer (lstm_step raised an error: ValueError: not finished), so the "
            "reference's lstm_step stood in for yours in this check: it judged lstm_forward's own work.") in note
    trained = results["test_lstm_backward_trains_an_lstm_to_recall_across_70_steps"]
    assert not trained.score and "Fix lstm_step first: lstm_backward relies on it" in trained.message


def test_what_a_stand_in_answers_never_reaches_the_worker_that_grades_the_students_own_functions(tmp_path):
    """A hostile lstm_step raises until lstm_forward has seen a stand-in in its place, then answers right: the
    stand-ins live in a worker of their own, so in the worker that grades lstm_step it never answers."""
    text = _student_code(reference("lstm")).replace(
        LSTM_STEP_BODY, "    if not _SAW:\n        raise ValueError('not finished')\n" + LSTM_STEP_BODY, 1)
    text = text.replace("        h_new, c_new = lstm_step(x[:, t], h, c, Wx, Wh, b)",
                        "        if lstm_step.__code__.co_name != 'lstm_step':\n"
                        "            _SAW.append('a stand-in')\n"
                        "        h_new, c_new = lstm_step(x[:, t], h, c, Wx, Wh, b)", 1)
    text = text.replace("def lstm_step(", "_SAW = []\n\n\ndef lstm_step(", 1)
    assert "_SAW.append" in text and "if not _SAW:" in text
    folder = hand_in(tmp_path / "keeps", lstm=text)
    checks = [c for c in all_checks() if c.function in ("lstm_forward", "lstm_step") and c.group != "training"]
    checks.sort(key=lambda c: c.function != "lstm_forward")  # lstm_forward first: the stand-ins answer before
    results = results_of(folder, checks)
    assert results["test_lstm_forward_matches_the_reference_on_fixed_inputs"].score  # the stand-ins did answer
    assert [c.name for c in checks if c.function == "lstm_step" and results[c.name].score] == []
