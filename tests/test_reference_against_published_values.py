"""The reference reproduces the expected values published in Stanford CS231n, assignment 3.

The inputs and expected arrays below are the course's own test cells (RNN_Captioning and
LSTM_Captioning notebooks), copied as literals. Each block cites where it was read:
repository, path and commit.

Sources:
  A  Cescfangs/CS231n-Python3, assignment3/RNN_Captioning.ipynb,
     commit 02064129c4a0e33770275709de7a7bda8c2a2710
  B  Paz87/CS231n-2017, assignment3/RNN_Captioning.py (notebook exported to .py),
     commit 1d50c99f2d3796a82ce397141f123f481009368c
  C  deshenkong/cs231n-2016, assignment3/RNN_Captioning.py (same cells, commented out),
     commit a1784df174f1b588df02ec06dbb00310c2f3ac15
  D  0809zheng/CS231n-assignment2019, assignment3/LSTM_Captioning.ipynb,
     commit 3f5c853986637e2eba33f70c982fac7c618ff0f3
  E  AndersonZhangyq/cs231n-2017, assignment3/LSTM_Captioning.ipynb,
     commit f548a2f629d1c663d3f144b9773bae3b404c9034
  F  0809zheng/CS231n-assignment2019, assignment3/cs231n/rnn_layers.py (student solution),
     commit 3f5c853986637e2eba33f70c982fac7c618ff0f3
  G  AndersonZhangyq/cs231n-2017, assignment3/cs231n/rnn_layers.py (student solution),
     commit f548a2f629d1c663d3f144b9773bae3b404c9034

Conventions match ours: batch first, ``x @ Wx + prev_h @ Wh + b``, tanh for the RNN.
Two differences, both handled below:

* CS231n stacks the LSTM gates as i, f, o, g (notebook markdown in D and E; solutions F
  and G split ``a`` as i, f, o, g). We use i, f, g, o (PyTorch), so the last two H-wide
  blocks of Wx, Wh and b are swapped before calling our functions.
* CS231n's ``lstm_forward(x, h0, Wx, Wh, b)`` has no c0 argument; its cell starts at zero.

Tolerance. The notebooks print the expected arrays with numpy's default 8 decimal places,
so each literal is the true value rounded to 8 decimals: |ours - literal| <= 0.5e-8 is the
honest bound (`assert_matches_printed_decimals`). On top of that we check the notebook's own
criterion, CS231n's ``rel_error``, against the bound each notebook states ("errors less
than 1e-8", "on the order of e-8 or less", "error on the order of e-7 or less"). For the
LSTM cells the notebooks in D and E also stored their printed rel_error; ours reproduces
those numbers (to rel 1e-4; D and E themselves differ in the 9th digit of one of them).
"""
import numpy as np
import pytest

from solutions.lstm import lstm_forward, lstm_step
from solutions.rnn import rnn_forward, rnn_step

DECIMALS = 8  # numpy's default print precision, used by every notebook cell below


def rel_error(x, y):
    """CS231n's relative error, as defined in the notebooks (A, D, E)."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def assert_matches_printed_decimals(actual, expected):
    """actual rounds to the printed literal: |actual - expected| <= half a unit in the 8th decimal."""
    assert actual.shape == expected.shape
    half_unit = 0.5 * 10.0 ** -DECIMALS
    np.testing.assert_allclose(actual, expected, rtol=0, atol=half_unit * (1 + 1e-6))


def cs231n_to_ifgo(W, H):
    """Reorder CS231n's i, f, o, g column blocks into our i, f, g, o (works for Wx, Wh and b)."""
    perm = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
    return W[..., perm]


# ---------------------------------------------------------------- rnn_step_forward
# Cell "Vanilla RNN: step forward". Sources: A, B and C agree digit for digit.
#   A: Cescfangs/CS231n-Python3, assignment3/RNN_Captioning.ipynb, commit 02064129c4a0e33770275709de7a7bda8c2a2710
#   B: Paz87/CS231n-2017, assignment3/RNN_Captioning.py, commit 1d50c99f2d3796a82ce397141f123f481009368c
#   C: deshenkong/cs231n-2016, assignment3/RNN_Captioning.py, commit a1784df174f1b588df02ec06dbb00310c2f3ac15
# (An unrelated unittest port has a typo, 0.8775553, in row 2; that copy is not used.)
# Stated tolerance (B): "You should see errors less than 1e-8".


def test_rnn_step_reproduces_cs231n_rnn_step_forward():
    N, D, H = 3, 10, 4

    x = np.linspace(-0.4, 0.7, num=N*D).reshape(N, D)
    prev_h = np.linspace(-0.2, 0.5, num=N*H).reshape(N, H)
    Wx = np.linspace(-0.1, 0.9, num=D*H).reshape(D, H)
    Wh = np.linspace(-0.3, 0.7, num=H*H).reshape(H, H)
    b = np.linspace(-0.2, 0.4, num=H)

    next_h = rnn_step(x, prev_h, Wx, Wh, b)
    expected_next_h = np.asarray([
      [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
      [ 0.66854692,  0.79562378,  0.87755553,  0.92795967],
      [ 0.97934501,  0.99144213,  0.99646691,  0.99854353]])

    assert_matches_printed_decimals(next_h, expected_next_h)
    assert rel_error(expected_next_h, next_h) < 1e-8


# -------------------------------------------------------------------- rnn_forward
# Cell "Vanilla RNN: forward". Sources: A, B and C agree.
#   A: Cescfangs/CS231n-Python3, assignment3/RNN_Captioning.ipynb, commit 02064129c4a0e33770275709de7a7bda8c2a2710
#   B: Paz87/CS231n-2017, assignment3/RNN_Captioning.py, commit 1d50c99f2d3796a82ce397141f123f481009368c
#   C: deshenkong/cs231n-2016, assignment3/RNN_Captioning.py, commit a1784df174f1b588df02ec06dbb00310c2f3ac15
# h has shape (N, T, H) and holds the states for t = 1..T (h0 is not included), like ours.
# Stated tolerance: "errors less than 1e-7".


def test_rnn_forward_reproduces_cs231n_rnn_forward():
    N, T, D, H = 2, 3, 4, 5

    x = np.linspace(-0.1, 0.3, num=N*T*D).reshape(N, T, D)
    h0 = np.linspace(-0.3, 0.1, num=N*H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.4, num=D*H).reshape(D, H)
    Wh = np.linspace(-0.4, 0.1, num=H*H).reshape(H, H)
    b = np.linspace(-0.7, 0.1, num=H)

    h = rnn_forward(x, h0, Wx, Wh, b)
    expected_h = np.asarray([
      [
        [-0.42070749, -0.27279261, -0.11074945,  0.05740409,  0.22236251],
        [-0.39525808, -0.22554661, -0.0409454,   0.14649412,  0.32397316],
        [-0.42305111, -0.24223728, -0.04287027,  0.15997045,  0.35014525],
      ],
      [
        [-0.55857474, -0.39065825, -0.19198182,  0.02378408,  0.23735671],
        [-0.27150199, -0.07088804,  0.13562939,  0.33099728,  0.50158768],
        [-0.51014825, -0.30524429, -0.06755202,  0.17806392,  0.40333043]]])

    assert_matches_printed_decimals(h, expected_h)
    assert rel_error(expected_h, h) < 1e-7


# -------------------------------------------------------------- lstm_step_forward
# Cell "LSTM: step forward". Sources: D and E agree digit for digit.
#   D: 0809zheng/CS231n-assignment2019, assignment3/LSTM_Captioning.ipynb, commit 3f5c853986637e2eba33f70c982fac7c618ff0f3
#   E: AndersonZhangyq/cs231n-2017, assignment3/LSTM_Captioning.ipynb, commit f548a2f629d1c663d3f144b9773bae3b404c9034
# Gate order i, f, o, g: notebook markdown (D, E) and solutions
#   F: 0809zheng/CS231n-assignment2019, assignment3/cs231n/rnn_layers.py, commit 3f5c853986637e2eba33f70c982fac7c618ff0f3
#   G: AndersonZhangyq/cs231n-2017, assignment3/cs231n/rnn_layers.py, commit f548a2f629d1c663d3f144b9773bae3b404c9034
# Stated tolerance: "errors on the order of e-8 or less" (D; E: "around 1e-8 or less").
# Stored output of the cell in E (D stores the same numbers):
#   next_h error:  5.7054131967097955e-09
#   next_c error:  5.8143123088804145e-09

LSTM_STEP_PRINTED_REL_ERROR = {"next_h": 5.7054131967097955e-09, "next_c": 5.8143123088804145e-09}


def _cs231n_lstm_step_case():
    N, D, H = 3, 4, 5
    x = np.linspace(-0.4, 1.2, num=N*D).reshape(N, D)
    prev_h = np.linspace(-0.3, 0.7, num=N*H).reshape(N, H)
    prev_c = np.linspace(-0.4, 0.9, num=N*H).reshape(N, H)
    Wx = np.linspace(-2.1, 1.3, num=4*D*H).reshape(D, 4 * H)
    Wh = np.linspace(-0.7, 2.2, num=4*H*H).reshape(H, 4 * H)
    b = np.linspace(0.3, 0.7, num=4*H)

    expected_next_h = np.asarray([
        [ 0.24635157,  0.28610883,  0.32240467,  0.35525807,  0.38474904],
        [ 0.49223563,  0.55611431,  0.61507696,  0.66844003,  0.7159181 ],
        [ 0.56735664,  0.66310127,  0.74419266,  0.80889665,  0.858299  ]])
    expected_next_c = np.asarray([
        [ 0.32986176,  0.39145139,  0.451556,    0.51014116,  0.56717407],
        [ 0.66382255,  0.76674007,  0.87195994,  0.97902709,  1.08751345],
        [ 0.74192008,  0.90592151,  1.07717006,  1.25120233,  1.42395676]])
    return H, (x, prev_h, prev_c, Wx, Wh, b), expected_next_h, expected_next_c


def test_lstm_step_reproduces_cs231n_lstm_step_forward_after_reordering_gates():
    H, (x, prev_h, prev_c, Wx, Wh, b), expected_next_h, expected_next_c = _cs231n_lstm_step_case()

    next_h, next_c = lstm_step(x, prev_h, prev_c, cs231n_to_ifgo(Wx, H), cs231n_to_ifgo(Wh, H), cs231n_to_ifgo(b, H))

    assert_matches_printed_decimals(next_h, expected_next_h)
    assert_matches_printed_decimals(next_c, expected_next_c)
    assert rel_error(expected_next_h, next_h) < 1e-8
    assert rel_error(expected_next_c, next_c) < 1e-8
    # The notebooks' stored printout (D and E), reproduced: the same floats as the course solution.
    assert rel_error(expected_next_h, next_h) == pytest.approx(LSTM_STEP_PRINTED_REL_ERROR["next_h"], rel=1e-4)
    assert rel_error(expected_next_c, next_c) == pytest.approx(LSTM_STEP_PRINTED_REL_ERROR["next_c"], rel=1e-4)


def test_cs231n_lstm_weights_without_reordering_give_wrong_values():
    """The permutation is needed: fed raw, the i, f, o, g blocks are read as i, f, g, o."""
    H, (x, prev_h, prev_c, Wx, Wh, b), expected_next_h, expected_next_c = _cs231n_lstm_step_case()
    next_h, next_c = lstm_step(x, prev_h, prev_c, Wx, Wh, b)
    assert rel_error(expected_next_h, next_h) > 1e-2
    assert rel_error(expected_next_c, next_c) > 1e-2


# ------------------------------------------------------------------- lstm_forward
# Cell "LSTM: forward". Sources: D and E agree.
#   D: 0809zheng/CS231n-assignment2019, assignment3/LSTM_Captioning.ipynb, commit 3f5c853986637e2eba33f70c982fac7c618ff0f3
#   E: AndersonZhangyq/cs231n-2017, assignment3/LSTM_Captioning.ipynb, commit f548a2f629d1c663d3f144b9773bae3b404c9034
# CS231n's lstm_forward takes no c0: the cell starts at zeros (solutions F and G: c = zeros).
# Stated tolerance: "error on the order of e-7 or less" (D; E: "around 1e-7").
# Stored outputs of the cell (they differ in the 9th digit: summation-order rounding):
#   D:  h error:  8.610537442272635e-08
#   E:  h error:  8.610537452106624e-08

LSTM_FORWARD_PRINTED_REL_ERROR = {"D": 8.610537442272635e-08, "E": 8.610537452106624e-08}


def test_lstm_forward_reproduces_cs231n_lstm_forward_after_reordering_gates_with_zero_c0():
    N, D, H, T = 2, 5, 4, 3
    x = np.linspace(-0.4, 0.6, num=N*T*D).reshape(N, T, D)
    h0 = np.linspace(-0.4, 0.8, num=N*H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.9, num=4*D*H).reshape(D, 4 * H)
    Wh = np.linspace(-0.3, 0.6, num=4*H*H).reshape(H, 4 * H)
    b = np.linspace(0.2, 0.7, num=4*H)

    h, _ = lstm_forward(x, h0, np.zeros_like(h0), cs231n_to_ifgo(Wx, H), cs231n_to_ifgo(Wh, H), cs231n_to_ifgo(b, H))

    expected_h = np.asarray([
     [[ 0.01764008,  0.01823233,  0.01882671,  0.0194232 ],
      [ 0.11287491,  0.12146228,  0.13018446,  0.13902939],
      [ 0.31358768,  0.33338627,  0.35304453,  0.37250975]],
     [[ 0.45767879,  0.4761092,   0.4936887,   0.51041945],
      [ 0.6704845,   0.69350089,  0.71486014,  0.7346449 ],
      [ 0.81733511,  0.83677871,  0.85403753,  0.86935314]]])

    assert_matches_printed_decimals(h, expected_h)
    assert rel_error(expected_h, h) < 1e-7
    # The notebooks' stored printouts (D, E), reproduced to within summation-order rounding.
    for printed in LSTM_FORWARD_PRINTED_REL_ERROR.values():
        assert rel_error(expected_h, h) == pytest.approx(printed, rel=1e-4)


def test_cs231n_permutation_moves_only_the_last_two_blocks():
    H = 3
    blocks = np.repeat(np.array(["i", "f", "o", "g"]), H)  # CS231n layout
    assert "".join(cs231n_to_ifgo(blocks, H)[::H]) == "ifgo"
