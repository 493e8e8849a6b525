"""The reference solutions do what their docstrings say.

Each test name reads as a sentence about one claimed behaviour.
"""
import warnings

import numpy as np
import pytest

from solutions.feedforward import (
    dense_forward,
    flatten_sequence,
    mean_pool,
    pad_or_truncate,
    place_pattern,
    shared_responses,
    slotwise_responses,
)
from solutions.gru import gru_forward
from solutions.lstm import lstm_forward, sigmoid
from solutions.memory import (
    RECALL_CHANNELS,
    contractive_rnn_params,
    first_input_influence,
    geometric_rate,
    latch_gru_params,
    latch_lstm_params,
    latch_rnn_params,
    make_recall_task,
    recall_accuracy,
)
from solutions.rnn import rnn_forward, rnn_readout


def _random_rnn(rng, D, H, scale=0.8):
    return rng.normal(scale=scale, size=(D, H)), rng.normal(scale=scale, size=(H, H)), rng.normal(scale=0.1, size=H)


# ------------------------------------------------------------------- Part 1: feedforward


def test_mean_pool_gives_a_sequence_and_its_reverse_the_same_summary():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 3))
    np.testing.assert_allclose(mean_pool(x), mean_pool(x[:, ::-1]), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(mean_pool(x), x.mean(axis=1))


def test_rnn_forward_gives_a_sequence_and_its_reverse_different_final_states():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 3))
    Wx, Wh, b = _random_rnn(rng, 3, 5)
    h0 = np.zeros((4, 5))
    forward = rnn_forward(x, h0, Wx, Wh, b)[:, -1]
    backward = rnn_forward(x[:, ::-1], h0, Wx, Wh, b)[:, -1]
    assert np.all(np.abs(forward - backward).max(axis=1) > 1e-3)  # every sequence, not just one


def test_slotwise_responses_differ_from_one_position_to_the_next():
    rng = np.random.default_rng(1)
    T, D, H = 6, 3, 4
    W, b, pattern = rng.normal(size=(T * D, H)), rng.normal(size=H), rng.normal(size=D)
    rows = slotwise_responses(W, b, pattern, T)
    assert rows.shape == (T, H)
    for s in range(T):
        for t in range(s + 1, T):
            assert np.abs(rows[s] - rows[t]).max() > 1e-3, (s, t)


def test_slotwise_response_at_position_t_is_the_dense_layer_on_the_flattened_placed_pattern():
    rng = np.random.default_rng(1)
    T, D, H = 5, 2, 3
    W, b, pattern = rng.normal(size=(T * D, H)), rng.normal(size=H), rng.normal(size=D)
    rows = slotwise_responses(W, b, pattern, T)
    for t in range(T):
        seq = place_pattern(pattern, t, T)[None]  # (1, T, D)
        np.testing.assert_allclose(rows[t], dense_forward(flatten_sequence(seq), W, b)[0], rtol=1e-13)


def test_shared_responses_are_the_same_at_every_position():
    rng = np.random.default_rng(2)
    T, D, H = 6, 3, 4
    Wx, b, pattern = rng.normal(size=(D, H)), rng.normal(size=H), rng.normal(size=D)
    rows = shared_responses(Wx, b, pattern, T)
    assert rows.shape == (T, H)
    np.testing.assert_allclose(rows, np.broadcast_to(np.tanh(pattern @ Wx + b), (T, H)), rtol=1e-14, atol=1e-15)


def test_dense_forward_rejects_an_input_of_another_width_and_explains_the_fixed_input_size():
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(12, 4)), rng.normal(size=4)
    dense_forward(rng.normal(size=(2, 12)), W, b)  # the width it was built for is fine
    with pytest.raises(ValueError) as info:
        dense_forward(rng.normal(size=(2, 15)), W, b)
    message = str(info.value)
    for part in ("x has 15 features", "F = 12", "(12, 4)", "fixed", "padding or cutting"):
        assert part in message


@pytest.mark.parametrize("T", [1, 4, 9])
def test_flatten_sequence_width_is_T_times_D_with_steps_laid_end_to_end(T):
    rng = np.random.default_rng(T)
    N, D = 3, 5
    x = rng.normal(size=(N, T, D))
    flat = flatten_sequence(x)
    assert flat.shape == (N, T * D)
    for t in range(T):
        np.testing.assert_array_equal(flat[:, t * D:(t + 1) * D], x[:, t])


def test_pad_or_truncate_pads_with_zeros_at_the_end():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4))
    out = pad_or_truncate(x, 7)
    assert out.shape == (2, 7, 4)
    np.testing.assert_array_equal(out[:, :3], x)
    np.testing.assert_array_equal(out[:, 3:], 0.0)


def test_pad_or_truncate_cuts_the_tail_and_keeps_the_start():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 9, 4))
    out = pad_or_truncate(x, 5)
    assert out.shape == (2, 5, 4)
    np.testing.assert_array_equal(out, x[:, :5])


def test_pad_or_truncate_to_the_same_length_changes_nothing():
    x = np.random.default_rng(4).normal(size=(2, 6, 3))
    np.testing.assert_array_equal(pad_or_truncate(x, 6), x)


def test_place_pattern_puts_the_pattern_at_position_t_and_zeros_elsewhere():
    pattern = np.array([1.0, -2.0, 3.0])
    out = place_pattern(pattern, 2, 5)
    assert out.shape == (5, 3)
    np.testing.assert_array_equal(out[2], pattern)
    np.testing.assert_array_equal(np.delete(out, 2, axis=0), 0.0)


# ------------------------------------------------------------------------- sigmoid


def test_sigmoid_is_exactly_0_and_1_at_minus_and_plus_1e4_without_any_warning():
    z = np.array([-1e4, -1e3, 1e3, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = sigmoid(z)
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1.0])


def test_sigmoid_matches_the_logistic_function_in_the_ordinary_range():
    z = np.linspace(-30, 30, 121).reshape(11, 11)
    out = sigmoid(z)
    assert out.shape == z.shape
    np.testing.assert_allclose(out, 1.0 / (1.0 + np.exp(-z)), rtol=1e-14, atol=1e-300)
    assert sigmoid(0.0) == 0.5


# ------------------------------------------------------------------------- lengths

LENGTHS = np.array([6, 3, 0, 1, 5])  # full, middle, empty, one step, one short
N_L, T_L, D_L, H_L = len(LENGTHS), 6, 3, 4


def _lengths_case(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_L, T_L, D_L))
    h0 = rng.normal(size=(N_L, H_L))
    c0 = rng.normal(size=(N_L, H_L))
    return rng, x, h0, c0


def _check_padding_keeps_the_state(states, state0, lengths):
    """hs[n, -1] is the state at step lengths[n] - 1 (or the initial state), and stays put after it."""
    for n, L in enumerate(lengths):
        expected_last = state0[n] if L == 0 else states[n, L - 1]
        np.testing.assert_array_equal(states[n, -1], expected_last)
        for t in range(L, states.shape[1]):
            np.testing.assert_array_equal(states[n, t], expected_last)


def test_rnn_forward_keeps_the_state_at_padding_steps_beyond_each_length():
    rng, x, h0, _ = _lengths_case(5)
    Wx, Wh, b = _random_rnn(rng, D_L, H_L)
    hs = rnn_forward(x, h0, Wx, Wh, b, lengths=LENGTHS)
    _check_padding_keeps_the_state(hs, h0, LENGTHS)
    full = rnn_forward(x, h0, Wx, Wh, b)
    for n, L in enumerate(LENGTHS):  # real steps are untouched by the padding
        np.testing.assert_array_equal(hs[n, :L], full[n, :L])


def test_lstm_forward_keeps_both_h_and_c_at_padding_steps_beyond_each_length():
    rng, x, h0, c0 = _lengths_case(6)
    Wx, Wh, b = rng.normal(scale=0.8, size=(D_L, 4 * H_L)), rng.normal(scale=0.8, size=(H_L, 4 * H_L)), rng.normal(size=4 * H_L)
    hs, cs = lstm_forward(x, h0, c0, Wx, Wh, b, lengths=LENGTHS)
    _check_padding_keeps_the_state(hs, h0, LENGTHS)
    _check_padding_keeps_the_state(cs, c0, LENGTHS)
    full_h, full_c = lstm_forward(x, h0, c0, Wx, Wh, b)
    for n, L in enumerate(LENGTHS):
        np.testing.assert_array_equal(hs[n, :L], full_h[n, :L])
        np.testing.assert_array_equal(cs[n, :L], full_c[n, :L])


def test_gru_forward_keeps_the_state_at_padding_steps_beyond_each_length():
    rng, x, h0, _ = _lengths_case(7)
    Wx, Wh = rng.normal(scale=0.8, size=(D_L, 3 * H_L)), rng.normal(scale=0.8, size=(H_L, 3 * H_L))
    bx, bh = rng.normal(size=3 * H_L), rng.normal(size=3 * H_L)
    hs = gru_forward(x, h0, Wx, Wh, bx, bh, lengths=LENGTHS)
    _check_padding_keeps_the_state(hs, h0, LENGTHS)
    full = gru_forward(x, h0, Wx, Wh, bx, bh)
    for n, L in enumerate(LENGTHS):
        np.testing.assert_array_equal(hs[n, :L], full[n, :L])


def test_lengths_none_means_every_sequence_has_length_T():
    rng, x, h0, _ = _lengths_case(8)
    Wx, Wh, b = _random_rnn(rng, D_L, H_L)
    np.testing.assert_array_equal(rnn_forward(x, h0, Wx, Wh, b),
                                  rnn_forward(x, h0, Wx, Wh, b, lengths=np.full(N_L, T_L)))


def test_padded_final_state_equals_running_the_unpadded_sequence_alone():
    rng, x, h0, _ = _lengths_case(9)
    Wx, Wh, b = _random_rnn(rng, D_L, H_L)
    hs = rnn_forward(x, h0, Wx, Wh, b, lengths=LENGTHS)
    for n, L in enumerate(LENGTHS):
        if L:
            alone = rnn_forward(x[n:n + 1, :L], h0[n:n + 1], Wx, Wh, b)
            np.testing.assert_allclose(hs[n, -1], alone[0, -1], rtol=1e-14, atol=1e-15)


# ------------------------------------------------------------- the delayed-recall task


def test_make_recall_task_is_deterministic_for_a_seed():
    x1, bits1 = make_recall_task(16, 20, seed=3)
    x2, bits2 = make_recall_task(16, 20, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(bits1, bits2)
    x3, bits3 = make_recall_task(16, 20, seed=4)
    assert not np.array_equal(x1, x3)


def test_make_recall_task_has_the_documented_layout():
    n, gap = 32, 10
    x, bits = make_recall_task(n, gap, seed=1)
    assert RECALL_CHANNELS == ("value", "write", "query")
    value, write, query = (RECALL_CHANNELS.index(c) for c in ("value", "write", "query"))
    assert x.shape == (n, gap + 2, 3) and x.dtype == np.float64
    assert bits.shape == (n,) and bits.dtype == np.int64 and set(np.unique(bits)) <= {0, 1}
    assert 0 < bits.sum() < n  # both bits occur in 32 draws for this seed
    # step 0: the bit as +-1 with the write flag
    np.testing.assert_array_equal(x[:, 0, value], 2.0 * bits - 1.0)
    np.testing.assert_array_equal(x[:, 0, write], 1.0)
    np.testing.assert_array_equal(x[:, 0, query], 0.0)
    # steps 1..gap: +-1 distractors, no flags
    assert set(np.unique(x[:, 1:gap + 1, value])) == {-1.0, 1.0}
    np.testing.assert_array_equal(x[:, 1:gap + 1, write], 0.0)
    np.testing.assert_array_equal(x[:, 1:gap + 1, query], 0.0)
    # last step: the query, value 0
    np.testing.assert_array_equal(x[:, gap + 1], np.broadcast_to([0.0, 0.0, 1.0], (n, 3)))


def test_make_recall_task_draws_the_bits_first_then_the_distractors():
    n, gap, seed = 8, 5, 11
    x, bits = make_recall_task(n, gap, seed=seed)
    rng = np.random.default_rng(seed)
    np.testing.assert_array_equal(bits, rng.integers(0, 2, size=n))
    np.testing.assert_array_equal(x[:, 1:gap + 1, 0], rng.choice([-1.0, 1.0], size=(n, gap)))


def test_make_recall_task_with_gap_0_has_just_the_write_and_the_query():
    x, bits = make_recall_task(4, 0, seed=0)
    assert x.shape == (4, 2, 3)
    np.testing.assert_array_equal(x[:, 1], np.broadcast_to([0.0, 0.0, 1.0], (4, 3)))


def test_recall_accuracy_is_the_fraction_of_rows_whose_top_score_is_the_bit():
    scores = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.4], [-3.0, 3.0]])
    assert recall_accuracy(scores, np.array([1, 0, 1, 0])) == 0.5
    assert recall_accuracy(scores, np.array([1, 0, 0, 1])) == 1.0


# ----------------------------------------------------------- latches at gap 1,000

GAP = 1000


def _lstm_latch_forward(N):
    Wx, Wh, b, Wy, by = latch_lstm_params()
    return (lambda x: lstm_forward(x, np.zeros((N, 1)), np.zeros((N, 1)), Wx, Wh, b)), Wy, by


def _gru_latch_forward(N):
    Wx, Wh, bx, bh, Wy, by = latch_gru_params()
    return (lambda x: gru_forward(x, np.zeros((N, 1)), Wx, Wh, bx, bh)), Wy, by


def _rnn_latch_forward(N):
    Wx, Wh, b, Wy, by = latch_rnn_params()
    return (lambda x: rnn_forward(x, np.zeros((N, 3)), Wx, Wh, b)), Wy, by


LATCHES = {"lstm": _lstm_latch_forward, "gru": _gru_latch_forward, "rnn": _rnn_latch_forward}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("model", ["lstm", "gru", "rnn"])
def test_hand_set_latch_recalls_every_bit_across_1000_distractors(model, seed):
    x, bits = make_recall_task(64, GAP, seed=seed)
    forward, Wy, by = LATCHES[model](64)
    out = forward(x)
    hs = out[0] if isinstance(out, tuple) else out
    assert recall_accuracy(rnn_readout(hs[:, -1], Wy, by), bits) == 1.0


def test_latch_params_have_the_documented_shapes():
    shapes = lambda params: [np.shape(p) for p in params]  # noqa: E731
    assert shapes(latch_lstm_params()) == [(3, 4), (1, 4), (4,), (1, 2), (2,)]
    assert shapes(latch_gru_params()) == [(3, 3), (1, 3), (3,), (3,), (1, 2), (2,)]
    assert shapes(latch_rnn_params()) == [(3, 3), (3, 3), (3,), (3, 2), (2,)]


# -------------------------------------------------------------- forgetting, measured


def test_first_input_influence_decays_geometrically_through_a_contractive_rnn():
    gain = 0.5
    Wx, Wh, b = contractive_rnn_params(3, 8, gain=gain)
    assert np.linalg.norm(Wh, 2) == pytest.approx(gain, rel=1e-12)
    x = np.random.default_rng(0).normal(size=(16, 25, 3))
    influence = first_input_influence(lambda z: rnn_forward(z, np.zeros((16, 8)), Wx, Wh, b), x)
    assert influence.shape == (25,)
    clean = influence > 1e-6  # well above finite-difference noise (~1e-10)
    assert clean[:5].all()
    for t in np.flatnonzero(clean[1:]) + 1:  # each step shrinks the influence by at least `gain`
        assert influence[t] <= gain * influence[t - 1] * (1 + 1e-6), t
    assert geometric_rate(influence) <= gain
    assert influence[-1] < 1e-8 * influence[0]  # after 24 steps almost nothing is left


def test_latched_vanilla_rnn_still_has_a_vanishing_first_input_influence():
    x, _ = make_recall_task(16, 40, seed=2)
    forward, _, _ = _rnn_latch_forward(16)
    influence = first_input_influence(forward, x)
    rate = geometric_rate(influence[1:])
    # the docstring's estimate 2 * (1 - 0.96**2) ~= 0.17 per step
    assert 0.12 < rate < 0.22
    assert influence[15] < 1e-6 * influence[1]  # a millionth of where it started, 14 steps on


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_lstm_and_gru_latches_hold_the_first_input_influence_at_rate_about_1(model):
    x, _ = make_recall_task(16, 200, seed=2)
    forward, _, _ = LATCHES[model](16)
    influence = first_input_influence(forward, x)
    assert geometric_rate(influence) == pytest.approx(1.0, abs=1e-6)
    assert influence[-1] == pytest.approx(influence[0], rel=1e-5)
    assert influence[0] > 1e-3


def test_first_input_influence_does_not_modify_x():
    x, _ = make_recall_task(8, 10, seed=0)
    before = x.copy()
    forward, _, _ = _lstm_latch_forward(8)
    first_input_influence(forward, x)
    np.testing.assert_array_equal(x, before)


def test_first_input_influence_accepts_a_read_only_x():
    x, _ = make_recall_task(8, 10, seed=0)
    x.flags.writeable = False
    forward, _, _ = _rnn_latch_forward(8)
    assert first_input_influence(forward, x).shape == (12,)


def test_first_input_influence_of_a_linear_map_is_its_gain_on_the_unit_vector():
    """A forward h_t = 2 * x_0 (all t) moves by 2 * ||u|| = 2 for any eps: the measure is exact here."""
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    forward = lambda z: np.repeat(2.0 * z[:, :1], z.shape[1], axis=1)  # noqa: E731
    np.testing.assert_allclose(first_input_influence(forward, x), 2.0, rtol=1e-8)


def test_geometric_rate_recovers_the_factor_of_an_exact_geometric_sequence():
    assert geometric_rate(3.0 * 0.4 ** np.arange(12)) == pytest.approx(0.4, rel=1e-12)
    assert geometric_rate(np.full(10, 0.2)) == pytest.approx(1.0, abs=1e-12)


def test_geometric_rate_ignores_values_at_or_below_the_floor():
    values = np.array([1.0, 0.5, 0.25, 0.125, 1e-12, 0.0, 1e-9])
    assert geometric_rate(values[:4]) == pytest.approx(0.5, rel=1e-12)
    # the entries below the floor are not part of the fit
    assert geometric_rate(values) == pytest.approx(0.5, rel=1e-12)


def test_contractive_rnn_params_are_reproducible_and_follow_the_documented_draws():
    D, H, gain, seed = 3, 8, 0.5, 4
    Wx, Wh, b = contractive_rnn_params(D, H, gain=gain, seed=seed)
    rng = np.random.default_rng(seed)
    np.testing.assert_allclose(Wx, rng.standard_normal((D, H)) / np.sqrt(D), rtol=1e-15)
    raw = rng.standard_normal((H, H))
    np.testing.assert_allclose(Wh, raw * gain / np.linalg.norm(raw, 2), rtol=1e-13)
    np.testing.assert_allclose(b, 0.1 * rng.standard_normal(H), rtol=1e-15)
