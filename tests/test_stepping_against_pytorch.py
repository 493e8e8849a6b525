"""Part 6's reference computes what PyTorch computes: softmax, scaled dot-product attention, the hoisted RNN.

* ``softmax(z, axis)`` is ``torch.softmax(z, dim=axis)``, also for scores of size 1e4;
* ``attend(q, K, V, mask)`` is ``torch.nn.functional.scaled_dot_product_attention`` with one
  query per row (L = 1): query (N, 1, Dk), key (N, T, Dk), value (N, T, Dv), and the mask as
  a boolean ``attn_mask`` of shape (N, 1, T), True where a position takes part (PyTorch's
  convention and the kit's). The weights, which PyTorch does not return, are torch.softmax
  of the masked, scaled scores;
* ``rnn_forward_hoisted`` is ``torch.nn.RNN(batch_first=True)`` (the same mapping as Part 2).

Everything runs in float64. The whole file is skipped where torch is not installed.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from solutions.stepping import attend, rnn_forward_hoisted, softmax  # noqa: E402

F64 = torch.float64
TOL = dict(rtol=1e-12, atol=1e-12)
# (N, T, Dk, Dv, seed), N = 1, T = 1 and sizes of 1 included
SIZES = [(1, 1, 1, 1, 0), (2, 5, 3, 4, 1), (4, 7, 6, 2, 2), (3, 12, 1, 5, 3), (5, 9, 8, 8, 4)]
IDS = [f"N{n}-T{t}-Dk{k}-Dv{v}-seed{s}" for n, t, k, v, s in SIZES]


def _mask(rng, N, T):
    mask = rng.random((N, T)) < 0.6
    mask[np.arange(N), rng.integers(0, T, size=N)] = True  # every row reads something
    return mask


@pytest.mark.parametrize("shape, axis", [((4, 6), -1), ((4, 6), 0), ((2, 3, 5), 1), ((7,), 0), ((3, 1), -1)])
def test_softmax_matches_torch_softmax_along_any_axis(shape, axis):
    z = np.random.default_rng(len(shape) + axis).normal(scale=3.0, size=shape)
    want = torch.softmax(torch.from_numpy(z), dim=axis).numpy()
    np.testing.assert_allclose(softmax(z, axis=axis), want, **TOL)


def test_softmax_matches_torch_softmax_for_scores_of_size_1e4():
    z = np.array([[-1e4, 0.0, 1e4, 5e3], [1e4, 1e4, -1e4, 0.0], [-1e4, 1.0 - 1e4, 2.0 - 1e4, -1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow (underflow to 0 is fine)
        got = softmax(z)
    np.testing.assert_allclose(got, torch.softmax(torch.from_numpy(z), dim=-1).numpy(), **TOL)


@pytest.mark.parametrize("N, T, Dk, Dv, seed", SIZES, ids=IDS)
@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "mask"])
def test_attend_matches_torch_scaled_dot_product_attention(N, T, Dk, Dv, seed, masked):
    rng = np.random.default_rng(seed)
    q, K, V = rng.normal(size=(N, Dk)), rng.normal(size=(N, T, Dk)), rng.normal(size=(N, T, Dv))
    mask = _mask(rng, N, T) if masked else None
    context, weights = attend(q, K, V, mask)
    tq, tK, tV = (torch.from_numpy(a) for a in (q[:, None, :], K, V))
    tmask = None if mask is None else torch.from_numpy(mask[:, None, :])
    out = torch.nn.functional.scaled_dot_product_attention(tq, tK, tV, attn_mask=tmask)  # (N, 1, Dv)
    np.testing.assert_allclose(context, out[:, 0].numpy(), **TOL)
    scores = (tq @ tK.transpose(1, 2))[:, 0] / np.sqrt(Dk)  # (N, T)
    if tmask is not None:
        scores = scores.masked_fill(~tmask[:, 0], float("-inf"))
    np.testing.assert_allclose(weights, torch.softmax(scores, dim=-1).numpy(), **TOL)
    assert out.dtype == F64


def test_attend_matches_torch_for_keys_10000_times_larger():
    rng = np.random.default_rng(16)
    q, K, V = rng.normal(size=(3, 4)), 1e4 * rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        context, _ = attend(q, K, V)
    out = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q[:, None], K, V)))
    np.testing.assert_allclose(context, out[:, 0].numpy(), **TOL)


@pytest.mark.parametrize("N, T, D, H, seed", [(1, 1, 1, 1, 0), (3, 8, 4, 5, 1), (2, 20, 3, 2, 2)])
def test_rnn_forward_hoisted_matches_torch_nn_rnn_with_batch_first(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    rnn = torch.nn.RNN(D, H, batch_first=True).to(F64)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.from_numpy(rng.normal(scale=0.8, size=tuple(p.shape))))
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(scale=0.5, size=(N, H))
    out, _ = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    Wx, Wh = rnn.weight_ih_l0.detach().numpy().T, rnn.weight_hh_l0.detach().numpy().T
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(rnn_forward_hoisted(x, h0, Wx, Wh, b), out.detach().numpy(), **TOL)
