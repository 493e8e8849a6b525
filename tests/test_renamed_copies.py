"""A second download of rnn.py is named "rnn (1).py" by the browser: the newest copy is graded, and the note says so."""
import os

import pytest

from autograder.sandbox.client import load_submission


def write(folder, name, text, age):
    path = folder / name
    path.write_text(text)
    stamp = 1_700_000_000 - age  # older files have larger ages
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("copy", ["rnn (1).py", "rnn(2).py", "rnn-1.py", "rnn 2.py", "rnn copy.py",
                                  "rnn - Copy.py", "rnn - Copy (3).py"])
def test_a_renamed_copy_alone_is_graded_as_the_module(tmp_path, copy):
    write(tmp_path, copy, "VERSION = 'copy'\n", 0)
    sub = load_submission(str(tmp_path))
    assert sub.modules["rnn"] == ("VERSION = 'copy'\n", copy)
    assert any(f"graded {copy} as rnn.py" in note for note in sub.notes), sub.notes


def test_the_newest_of_the_original_and_its_copies_is_graded_and_named(tmp_path):
    write(tmp_path, "rnn.py", "VERSION = 'first'\n", 300)
    write(tmp_path, "rnn (1).py", "VERSION = 'second'\n", 200)
    write(tmp_path, "rnn (2).py", "VERSION = 'newest'\n", 100)
    sub = load_submission(str(tmp_path))
    assert sub.modules["rnn"][0] == "VERSION = 'newest'\n"
    note = next(n for n in sub.notes if "graded rnn (2).py as rnn.py" in n)
    assert "rnn.py" in note and "rnn (1).py" in note


def test_the_original_wins_when_it_is_the_newest_and_other_names_are_not_copies(tmp_path):
    write(tmp_path, "rnn.py", "VERSION = 'newest'\n", 0)
    write(tmp_path, "rnn (1).py", "VERSION = 'older'\n", 100)
    write(tmp_path, "rnn_old.py", "VERSION = 'not a copy'\n", 0)
    write(tmp_path, "grun (1).py", "VERSION = 'not a copy of gru'\n", 0)
    sub = load_submission(str(tmp_path))
    assert sub.modules["rnn"][0] == "VERSION = 'newest'\n"
    assert "gru" not in sub.modules
