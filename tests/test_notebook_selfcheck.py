"""A notebook's check cell, called as the generated cell calls it: one function, and the student's prints."""
import importlib.util

from autograder import kit
from autograder.notebook import self_check


def _cells(tmp_path, source):
    """What a notebook's cells define, as a module (inspect.getsource needs a file, as IPython provides)."""
    path = tmp_path / "cells.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("cells", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def test_the_check_cell_runs_one_function_shows_its_prints_and_returns_nothing(tmp_path, capsys):
    reference = (kit.SOLUTIONS / "rnn.py").read_text().replace("from ._validate", "from exercises._validate")
    printing = reference.replace("    return np.tanh(x_t @ Wx + h_prev @ Wh + b)  # (N, H)",
                                 "    print('rnn_step sees', x_t.shape)\n    return np.tanh(x_t @ Wx + h_prev @ Wh + b)")
    assert printing != reference
    assert self_check("rnn", _cells(tmp_path, printing), function="rnn_step") is None
    out = capsys.readouterr().out
    assert "[rnn_step] rnn_step sees (" in out
    assert "rnn_forward" not in out.split("score per part")[0]  # only rnn_step's checks ran
    assert "Every check run here passed." in out
