"""The reference backward passes (solutions/bptt.py): against torch autograd and finite differences.

bptt.py is the first piece of the BPTT part; it is not yet in the built and graded kit.
"""
import numpy as np
import pytest

from solutions import bptt, gru, lstm, memory, rnn

N, T, D, H = 2, 4, 3, 3


def rel(a, b):
    return np.max(np.abs(a - b)) / max(1e-12, np.max(np.abs(a) + np.abs(b)))


def inputs(seed, blocks):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, T, H)), rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
            rng.standard_normal((N, H)), rng.standard_normal((D, blocks * H)) / 2,
            rng.standard_normal((H, blocks * H)) / 2, rng.standard_normal(blocks * H) / 2,
            rng.standard_normal(blocks * H) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_backward_pass_matches_finite_differences_of_its_forward(seed):
    dhs, x, h0, c0, Wx, Wh, b, b2 = inputs(seed, 1)
    cases = [("rnn", bptt.rnn_backward(dhs, x, h0, Wx, Wh, b),
              lambda x, h0, Wx, Wh, b: rnn.rnn_forward(x, h0, Wx, Wh, b), (x, h0, Wx, Wh, b))]
    dhs, x, h0, c0, Wx, Wh, b, b2 = inputs(seed, 4)
    cases.append(("lstm", bptt.lstm_backward(dhs, x, h0, c0, Wx, Wh, b),
                  lambda x, h0, c0, Wx, Wh, b: lstm.lstm_forward(x, h0, c0, Wx, Wh, b)[0], (x, h0, c0, Wx, Wh, b)))
    dhs, x, h0, c0, Wx, Wh, b, b2 = inputs(seed, 3)
    cases.append(("gru", bptt.gru_backward(dhs, x, h0, Wx, Wh, b, b2),
                  lambda x, h0, Wx, Wh, bx, bh: gru.gru_forward(x, h0, Wx, Wh, bx, bh), (x, h0, Wx, Wh, b, b2)))
    for name, grads, forward, args in cases:
        for k, analytic in enumerate(grads):
            def f(value, k=k):
                changed = list(args)
                changed[k] = value
                return forward(*changed)
            numeric = bptt.numerical_gradient(f, args[k], dhs)
            assert rel(analytic, numeric) < 1e-7, (name, k, rel(analytic, numeric))


def test_backward_passes_match_torch_autograd():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    dhs, x, h0, c0, Wx, Wh, bx, bh = inputs(7, 3)
    cell = torch.nn.GRUCell(D, H)
    with torch.no_grad():
        for param, value in ((cell.weight_ih, Wx.T), (cell.weight_hh, Wh.T), (cell.bias_ih, bx), (cell.bias_hh, bh)):
            param.copy_(torch.tensor(value))
    tx, th0 = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    h, outs = th0, []
    for t in range(T):
        h = cell(tx[:, t], h)
        outs.append(h)
    (torch.stack(outs, 1) * torch.tensor(dhs)).sum().backward()
    got = bptt.gru_backward(dhs, x, h0, Wx, Wh, bx, bh)
    want = (tx.grad, th0.grad, cell.weight_ih.grad.T, cell.weight_hh.grad.T, cell.bias_ih.grad, cell.bias_hh.grad)
    for g, w in zip(got, want):
        assert rel(g, w.numpy()) < 1e-12
    dhs, x, h0, c0, Wx, Wh, b, _ = inputs(8, 4)
    cell = torch.nn.LSTMCell(D, H)
    with torch.no_grad():
        for param, value in ((cell.weight_ih, Wx.T), (cell.weight_hh, Wh.T), (cell.bias_ih, b), (cell.bias_hh, 0 * b)):
            param.copy_(torch.tensor(value))
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    h, c, outs = th0, tc0, []
    for t in range(T):
        h, c = cell(tx[:, t], (h, c))
        outs.append(h)
    (torch.stack(outs, 1) * torch.tensor(dhs)).sum().backward()
    got = bptt.lstm_backward(dhs, x, h0, c0, Wx, Wh, b)
    want = (tx.grad, th0.grad, tc0.grad, cell.weight_ih.grad.T, cell.weight_hh.grad.T, cell.bias_ih.grad)
    for g, w in zip(got, want):
        assert rel(g, w.numpy()) < 1e-12


def test_numerical_gradient_leaves_its_input_unchanged():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    grad = bptt.numerical_gradient(lambda v: v ** 2, x, np.ones_like(x))
    assert np.array_equal(x, before)
    assert np.allclose(grad, 2 * x, atol=1e-6)


def test_the_gradient_to_the_first_step_vanishes_in_a_contractive_rnn_but_not_in_an_lstm_with_an_open_forget_gate():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 120, 3))
    Wx, Wh, b = memory.contractive_rnn_params(3, 4, gain=0.5)
    vanilla = bptt.gradient_to_first_step(bptt.rnn_backward, x, (np.zeros((2, 4)),), (Wx, Wh, b))
    assert memory.geometric_rate(vanilla[:40], floor=1e-300) <= 0.5
    assert vanilla[50] < 1e-20
    Wx, Wh, b = 0.3 * rng.standard_normal((3, 16)), 0.3 * rng.standard_normal((4, 16)), np.zeros(16)
    b[4:8] = 8.0  # forget gate held open
    gated = bptt.gradient_to_first_step(bptt.lstm_backward, x, (np.zeros((2, 4)), np.zeros((2, 4))), (Wx, Wh, b))
    assert memory.geometric_rate(gated, floor=1e-300) > 0.95
    assert gated[100] > 1e-3
