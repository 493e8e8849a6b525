"""The reference RNN, LSTM and GRU compute exactly what PyTorch's cells compute.

Weight mapping (documented in each module's docstring):

* RNN and LSTM: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``, ``b = bias_ih + bias_hh``.
* GRU: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``, ``bx = bias_ih``, ``bh = bias_hh``.

Everything runs in float64, so the two implementations agree to rounding error.
The whole file is skipped where torch is not installed.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from solutions.gru import GRU_GATES, gru_forward, gru_gates, gru_step  # noqa: E402
from solutions.lstm import LSTM_GATES, lstm_forward, lstm_gates, lstm_step  # noqa: E402
from solutions.rnn import rnn_forward, rnn_step  # noqa: E402

F64 = torch.float64
TOL = dict(rtol=1e-12, atol=1e-12)

# (N, T, D, H, seed): several random sizes, including N = 1, D = 1 and H = 1.
SIZES = [
    (1, 1, 1, 1, 0),
    (2, 5, 3, 4, 1),
    (4, 7, 6, 2, 2),
    (3, 12, 1, 5, 3),
    (5, 9, 8, 8, 4),
    (7, 4, 10, 3, 5),
]
IDS = [f"N{n}-T{t}-D{d}-H{h}-seed{s}" for n, t, d, h, s in SIZES]


def _np(tensor):
    return tensor.detach().cpu().numpy()


def _randomise(module, rng, scale):
    """Overwrite every parameter of a torch module with N(0, scale^2) draws from a numpy rng.

    PyTorch's default init (uniform in +-1/sqrt(H)) keeps every unit in its linear range;
    larger weights also exercise the saturated parts of sigmoid and tanh.
    """
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(scale=scale, size=tuple(p.shape))))
    return module


def _inputs(rng, N, T, D, H):
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    c0 = rng.normal(scale=0.5, size=(N, H))
    return x, h0, c0


def _rnn_params(cell):
    return _np(cell.weight_ih).T, _np(cell.weight_hh).T, _np(cell.bias_ih + cell.bias_hh)


def _gru_params(cell):
    return _np(cell.weight_ih).T, _np(cell.weight_hh).T, _np(cell.bias_ih), _np(cell.bias_hh)


def _run_cell(cell, x, *state):
    """Loop a torch cell over the time axis; return the stacked outputs as numpy arrays."""
    state = tuple(torch.from_numpy(s) for s in state)
    outs = []
    for t in range(x.shape[1]):
        step = cell(torch.from_numpy(x[:, t]), state if len(state) > 1 else state[0])
        state = step if isinstance(step, tuple) else (step,)
        outs.append(tuple(_np(s) for s in state))
    return tuple(np.stack([o[k] for o in outs], axis=1) for k in range(len(state)))


# --------------------------------------------------------------------------- RNN


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_rnn_step_matches_torch_rnncell(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.RNNCell(D, H, nonlinearity="tanh", dtype=F64), rng, scale)
    x, h0, _ = _inputs(rng, N, T, D, H)
    want = _np(cell(torch.from_numpy(x[:, 0]), torch.from_numpy(h0)))
    got = rnn_step(x[:, 0], h0, *_rnn_params(cell))
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_rnn_forward_matches_torch_rnncell_looped_over_time(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.RNNCell(D, H, nonlinearity="tanh", dtype=F64), rng, scale)
    x, h0, _ = _inputs(rng, N, T, D, H)
    (want,) = _run_cell(cell, x, h0)
    got = rnn_forward(x, h0, *_rnn_params(cell))
    assert got.shape == (N, T, H)
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_rnn_forward_matches_torch_nn_rnn_with_batch_first(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    net = _randomise(torch.nn.RNN(D, H, batch_first=True, dtype=F64), rng, 1.0)
    x, h0, _ = _inputs(rng, N, T, D, H)
    out, h_n = net(torch.from_numpy(x), torch.from_numpy(h0)[None])
    params = (_np(net.weight_ih_l0).T, _np(net.weight_hh_l0).T, _np(net.bias_ih_l0 + net.bias_hh_l0))
    got = rnn_forward(x, h0, *params)
    np.testing.assert_allclose(got, _np(out), **TOL)
    np.testing.assert_allclose(got[:, -1], _np(h_n[0]), **TOL)


# -------------------------------------------------------------------------- LSTM


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_lstm_step_matches_torch_lstmcell(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.LSTMCell(D, H, dtype=F64), rng, scale)
    x, h0, c0 = _inputs(rng, N, T, D, H)
    want_h, want_c = cell(torch.from_numpy(x[:, 0]), (torch.from_numpy(h0), torch.from_numpy(c0)))
    got_h, got_c = lstm_step(x[:, 0], h0, c0, *_rnn_params(cell))
    np.testing.assert_allclose(got_h, _np(want_h), **TOL)
    np.testing.assert_allclose(got_c, _np(want_c), **TOL)


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_lstm_forward_matches_torch_lstmcell_looped_over_time(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.LSTMCell(D, H, dtype=F64), rng, scale)
    x, h0, c0 = _inputs(rng, N, T, D, H)
    want_h, want_c = _run_cell(cell, x, h0, c0)
    got_h, got_c = lstm_forward(x, h0, c0, *_rnn_params(cell))
    assert got_h.shape == got_c.shape == (N, T, H)
    np.testing.assert_allclose(got_h, want_h, **TOL)
    np.testing.assert_allclose(got_c, want_c, **TOL)


@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_lstm_forward_matches_torch_nn_lstm_with_batch_first(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    net = _randomise(torch.nn.LSTM(D, H, batch_first=True, dtype=F64), rng, 1.0)
    x, h0, c0 = _inputs(rng, N, T, D, H)
    out, (h_n, c_n) = net(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    params = (_np(net.weight_ih_l0).T, _np(net.weight_hh_l0).T, _np(net.bias_ih_l0 + net.bias_hh_l0))
    hs, cs = lstm_forward(x, h0, c0, *params)
    np.testing.assert_allclose(hs, _np(out), **TOL)
    np.testing.assert_allclose(hs[:, -1], _np(h_n[0]), **TOL)
    np.testing.assert_allclose(cs[:, -1], _np(c_n[0]), **TOL)


@pytest.mark.parametrize("N,T,D,H,seed", SIZES[1:4], ids=IDS[1:4])
def test_lstm_gates_recombine_into_torchs_next_cell_and_hidden_state(N, T, D, H, seed):
    """lstm_gates is checked indirectly: c' = f*c + i*g and h' = o*tanh(c') from its gates equal torch's."""
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.LSTMCell(D, H, dtype=F64), rng, 1.0)
    x, h0, c0 = _inputs(rng, N, T, D, H)
    want_h, want_c = cell(torch.from_numpy(x[:, 0]), (torch.from_numpy(h0), torch.from_numpy(c0)))
    gates = dict(zip(LSTM_GATES, lstm_gates(x[:, 0], h0, *_rnn_params(cell))))
    c1 = gates["f"] * c0 + gates["i"] * gates["g"]
    np.testing.assert_allclose(c1, _np(want_c), **TOL)
    np.testing.assert_allclose(gates["o"] * np.tanh(c1), _np(want_h), **TOL)


# --------------------------------------------------------------------------- GRU


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_gru_step_matches_torch_grucell(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.GRUCell(D, H, dtype=F64), rng, scale)
    x, h0, _ = _inputs(rng, N, T, D, H)
    want = _np(cell(torch.from_numpy(x[:, 0]), torch.from_numpy(h0)))
    got = gru_step(x[:, 0], h0, *_gru_params(cell))
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("scale", [0.3, 1.5])
@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_gru_forward_matches_torch_grucell_looped_over_time(N, T, D, H, seed, scale):
    rng = np.random.default_rng(seed)
    cell = _randomise(torch.nn.GRUCell(D, H, dtype=F64), rng, scale)
    x, h0, _ = _inputs(rng, N, T, D, H)
    (want,) = _run_cell(cell, x, h0)
    got = gru_forward(x, h0, *_gru_params(cell))
    assert got.shape == (N, T, H)
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("N,T,D,H,seed", SIZES, ids=IDS)
def test_gru_forward_matches_torch_nn_gru_with_batch_first(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    net = _randomise(torch.nn.GRU(D, H, batch_first=True, dtype=F64), rng, 1.0)
    x, h0, _ = _inputs(rng, N, T, D, H)
    out, h_n = net(torch.from_numpy(x), torch.from_numpy(h0)[None])
    params = (_np(net.weight_ih_l0).T, _np(net.weight_hh_l0).T, _np(net.bias_ih_l0), _np(net.bias_hh_l0))
    got = gru_forward(x, h0, *params)
    np.testing.assert_allclose(got, _np(out), **TOL)
    np.testing.assert_allclose(got[:, -1], _np(h_n[0]), **TOL)


def test_gru_with_folded_biases_differs_from_torch_so_both_biases_are_needed():
    """Folding bh into bx (as for the LSTM) is a different model: bh_n sits inside r * (...)."""
    rng = np.random.default_rng(7)
    cell = _randomise(torch.nn.GRUCell(3, 4, dtype=F64), rng, 1.0)
    x, h0, _ = _inputs(rng, 5, 1, 3, 4)
    want = _np(cell(torch.from_numpy(x[:, 0]), torch.from_numpy(h0)))
    Wx, Wh, bx, bh = _gru_params(cell)
    folded = gru_step(x[:, 0], h0, Wx, Wh, bx + bh, np.zeros_like(bh))
    assert np.max(np.abs(folded - want)) > 1e-3


# ------------------------------------------------------------- gate block order

BIG = 30.0  # sigmoid(30) = 1 - 9e-14, sigmoid(-30) = 9e-14


def _torch_lstm_with_bias(bias, D=2, H=3):
    """A torch LSTMCell with zero weights and bias_ih = bias, bias_hh = 0."""
    cell = torch.nn.LSTMCell(D, H, dtype=F64)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih.copy_(torch.from_numpy(bias))
    return cell


def _lstm_bias(H, **blocks):
    """A (4H,) bias in PyTorch's documented block order (W_ii|W_if|W_ig|W_io)."""
    torch_order = ("i", "f", "g", "o")
    return np.concatenate([np.full(H, blocks.get(name, 0.0)) for name in torch_order])


def test_lstm_gate_names_are_pytorchs_block_order():
    assert LSTM_GATES == ("i", "f", "g", "o")


@pytest.mark.parametrize("block", range(4))
def test_a_large_bias_in_lstm_block_k_saturates_the_gate_named_lstm_gates_k(block):
    """Only the gate named LSTM_GATES[block] moves to 1 (g: tanh -> 1); the others stay at 1/2 (g at 0)."""
    H, D = 3, 2
    bias = np.zeros(4 * H)
    bias[block * H:(block + 1) * H] = BIG
    gates = dict(zip(LSTM_GATES, lstm_gates(np.zeros((1, D)), np.zeros((1, H)), np.zeros((D, 4 * H)),
                                            np.zeros((H, 4 * H)), bias)))
    resting = {"i": 0.5, "f": 0.5, "g": 0.0, "o": 0.5}
    for name, value in gates.items():
        if name == LSTM_GATES[block]:
            np.testing.assert_allclose(value, 1.0, atol=1e-12)
        else:
            np.testing.assert_allclose(value, resting[name], atol=0)


@pytest.mark.parametrize(
    "scenario, blocks",
    [
        # forget gate open, input gate shut: the cell is kept, c' = c
        ("keep", dict(i=-BIG, f=BIG, g=0.7, o=BIG)),
        # forget gate shut, input gate open: the cell is overwritten, c' = tanh(b_g)
        ("write", dict(i=BIG, f=-BIG, g=0.7, o=BIG)),
        # output gate shut: h' = 0 whatever the cell holds
        ("hide", dict(i=BIG, f=BIG, g=0.7, o=-BIG)),
    ],
)
def test_torch_and_the_reference_agree_on_what_each_lstm_bias_block_does(scenario, blocks):
    """The same bias vector means the same gate settings in torch and in lstm_step."""
    H, D, N = 3, 2, 4
    rng = np.random.default_rng(11)
    x, h0, c0 = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    bias = _lstm_bias(H, **blocks)
    cell = _torch_lstm_with_bias(bias, D, H)
    th, tc = (_np(t) for t in cell(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0))))
    h, c = lstm_step(x, h0, c0, np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), bias)
    expected_c = {"keep": c0, "write": np.full((N, H), np.tanh(0.7)), "hide": c0 + np.tanh(0.7)}[scenario]
    expected_h = np.zeros((N, H)) if scenario == "hide" else np.tanh(expected_c)
    for cell_state, hidden in ((tc, th), (c, h)):  # torch first, then the reference
        np.testing.assert_allclose(cell_state, expected_c, atol=1e-11)
        np.testing.assert_allclose(hidden, expected_h, atol=1e-11)


def test_gru_gate_names_are_pytorchs_block_order():
    assert GRU_GATES == ("r", "z", "n")


@pytest.mark.parametrize("block", range(3))
def test_a_large_bias_in_gru_block_k_saturates_the_gate_named_gru_gates_k(block):
    H, D = 3, 2
    bx = np.zeros(3 * H)
    bx[block * H:(block + 1) * H] = BIG
    gates = dict(zip(GRU_GATES, gru_gates(np.zeros((1, D)), np.zeros((1, H)), np.zeros((D, 3 * H)),
                                          np.zeros((H, 3 * H)), bx, np.zeros(3 * H))))
    resting = {"r": 0.5, "z": 0.5, "n": 0.0}
    for name, value in gates.items():
        if name == GRU_GATES[block]:
            np.testing.assert_allclose(value, 1.0, atol=1e-12)
        else:
            np.testing.assert_allclose(value, resting[name], atol=0)


def _gru_pair(H, D, r, z, bx_n, bh_n, Wh_n=None):
    """A torch GRUCell and the matching reference parameters, with zero input weights.

    Biases are given per gate in PyTorch's documented order (W_ir|W_iz|W_in).
    """
    bx = np.concatenate([np.full(H, r), np.full(H, z), np.full(H, bx_n)])
    bh = np.concatenate([np.zeros(H), np.zeros(H), np.full(H, bh_n)])
    Wh = np.zeros((H, 3 * H))
    if Wh_n is not None:
        Wh[:, 2 * H:] = Wh_n
    cell = torch.nn.GRUCell(D, H, dtype=F64)
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.copy_(torch.from_numpy(Wh.T.copy()))
        cell.bias_ih.copy_(torch.from_numpy(bx))
        cell.bias_hh.copy_(torch.from_numpy(bh))
    return cell, (np.zeros((D, 3 * H)), Wh, bx, bh)


@pytest.mark.parametrize(
    "r, z, expected",
    [
        # z = 1 keeps the old state: h' = h  (PyTorch: h' = (1 - z) * n + z * h)
        (0.0, BIG, lambda h0, n_open, n_reset: h0),
        # z = 0, r = 1: the candidate sees h @ Wh_n + bh_n in full
        (BIG, -BIG, lambda h0, n_open, n_reset: n_open),
        # z = 0, r = 0: the reset removes h @ Wh_n + bh_n, bias included
        (-BIG, -BIG, lambda h0, n_open, n_reset: n_reset),
    ],
    ids=["update-gate-keeps", "reset-open", "reset-shut"],
)
def test_torch_and_the_reference_agree_on_what_each_gru_bias_block_does(r, z, expected):
    H, D, N = 3, 2, 4
    rng = np.random.default_rng(12)
    x, h0 = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    Wh_n = rng.normal(size=(H, H))
    bx_n, bh_n = 0.3, -0.8
    cell, params = _gru_pair(H, D, r, z, bx_n, bh_n, Wh_n)
    n_open = np.tanh(bx_n + h0 @ Wh_n + bh_n)
    n_reset = np.tanh(np.full((N, H), bx_n))
    want = expected(h0, n_open, n_reset)
    np.testing.assert_allclose(_np(cell(torch.from_numpy(x), torch.from_numpy(h0))), want, atol=1e-11)
    np.testing.assert_allclose(gru_step(x, h0, *params), want, atol=1e-11)
