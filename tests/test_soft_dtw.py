"""Parity of agser's batched soft-DTW with tslearn, and its gradient."""

import numpy as np
import pytest
import torch

from agser.clustering import (
    SoftDTWLoss,
    soft_dtw,
    soft_dtw_batch,
    soft_dtw_grad,
    soft_dtw_pairwise,
    to_padded,
)
from agser.errors import ParameterError

tsm = pytest.importorskip("tslearn.metrics")


def _mouth_segments(n, rng, lo=1, hi=12):
    """Segments shaped like the real ones: n_frames x 24 (12 mouth points, IPD units)."""
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    out = []
    for _ in range(n):
        T = int(rng.integers(lo, hi + 1))
        open_ = 0.1 + 0.3 * rng.random() + 0.05 * np.cumsum(rng.normal(size=T))[:, None]
        x = 0.45 * np.cos(ang)[None] + 0.01 * rng.normal(size=(T, 12))
        y = 1.0 + open_ * np.sin(ang)[None] + 0.01 * rng.normal(size=(T, 12))
        out.append(np.stack([x, y], axis=2).reshape(T, 24))
    return out


@pytest.mark.parametrize("gamma", [0.01, 0.1, 1.0, 10.0])
def test_value_matches_tslearn_random(gamma):
    rng = np.random.default_rng(0)
    for _ in range(15):
        tx, ty = rng.integers(1, 10, size=2)
        d = int(rng.integers(1, 4))
        x, y = rng.normal(size=(tx, d)), rng.normal(size=(ty, d))
        ours, ref = soft_dtw(x, y, gamma), tsm.soft_dtw(x, y, gamma=gamma)
        assert abs(ours - ref) <= 1e-6 * max(1.0, abs(ref)), (tx, ty, ours, ref)


def test_value_matches_tslearn_mouth_segments_and_length_one():
    rng = np.random.default_rng(1)
    segs = _mouth_segments(12, rng) + [_mouth_segments(1, rng, 1, 1)[0]]
    assert len(segs[-1]) == 1
    pairs = [(a, b) for a in segs[:5] for b in segs[5:]] + [(segs[-1], segs[-1]), (segs[-1], segs[0])]
    for a, b in pairs:
        ref = tsm.soft_dtw(a, b, gamma=0.1)
        assert abs(soft_dtw(a, b, 0.1) - ref) <= 1e-6 * max(1.0, abs(ref))


def test_length_one_is_the_summed_cost():
    x = np.array([[1.0, 2.0]])
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    # one frame against two: the single alignment path costs both distances
    assert soft_dtw(x, y, 0.5) == pytest.approx((1 + 4) + (0 + 1))


def test_batch_with_unequal_lengths_matches_tslearn_and_grad():
    rng = np.random.default_rng(2)
    B = 20
    X, Y = rng.normal(size=(B, 8, 3)), rng.normal(size=(B, 6, 3))
    lx, ly = rng.integers(1, 9, B), rng.integers(1, 7, B)
    values, E = soft_dtw_grad(X, Y, 0.7, lx, ly)
    for b in range(B):
        ref = tsm.SoftDTW(tsm.SquaredEuclidean(X[b, : lx[b]], Y[b, : ly[b]]), gamma=0.7)
        v = ref.compute()
        assert abs(float(values[b]) - v) <= 1e-6 * max(1.0, abs(v))
        np.testing.assert_allclose(E[b, : lx[b], : ly[b]].numpy(), ref.grad(), rtol=1e-6, atol=1e-10)
        assert float(E[b, lx[b]:].abs().sum()) == 0.0 and float(E[b, :, ly[b]:].abs().sum()) == 0.0


def test_padding_content_is_ignored():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 7, 2)), rng.normal(size=(4, 5, 2))
    lx, ly = np.array([1, 3, 7, 5]), np.array([5, 2, 1, 4])
    v1, gx1, gy1 = soft_dtw_batch(X, Y, 1.0, lx, ly, grad=True)
    X2, Y2 = X.copy(), Y.copy()
    for b in range(4):
        X2[b, lx[b]:] = 1e3
        Y2[b, ly[b]:] = np.nan
    v2, gx2, gy2 = soft_dtw_batch(X2, Y2, 1.0, lx, ly, grad=True)
    torch.testing.assert_close(v1, v2)
    for b in range(4):
        torch.testing.assert_close(gx1[b, : lx[b]], gx2[b, : lx[b]])
        torch.testing.assert_close(gy1[b, : ly[b]], gy2[b, : ly[b]])


def test_gradient_against_finite_differences():
    rng = np.random.default_rng(4)
    X = torch.tensor(rng.normal(size=(3, 4, 2)), requires_grad=True)
    Y = torch.tensor(rng.normal(size=(3, 5, 2)), requires_grad=True)
    loss = SoftDTWLoss(0.5)
    assert torch.autograd.gradcheck(
        lambda a, b: loss(a, b, [4, 2, 3], [5, 5, 1]), (X, Y), eps=1e-6, atol=1e-6
    )


def test_gradient_against_autograd_through_the_recursion():
    """The backward recursion equals autograd through a naive cell-by-cell DP."""
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    y = torch.tensor(rng.normal(size=(4, 3)))
    gamma = 0.3
    D = ((x[:, None] - y[None]) ** 2).sum(-1)
    R = [[torch.tensor(np.inf, dtype=torch.float64)] * 5 for _ in range(6)]
    R[0][0] = torch.tensor(0.0, dtype=torch.float64)
    for i in range(1, 6):
        for j in range(1, 5):
            prev = torch.stack([R[i - 1][j - 1], R[i - 1][j], R[i][j - 1]])
            R[i][j] = D[i - 1, j - 1] - gamma * torch.logsumexp(-prev / gamma, 0)
    (g_ref,) = torch.autograd.grad(R[5][4], x)
    value, gx, _ = soft_dtw_batch(x.detach()[None], y[None], gamma, grad=True)
    assert float(value[0]) == pytest.approx(float(R[5][4].detach()), rel=1e-10)
    torch.testing.assert_close(gx[0], g_ref)


def test_float32_close_to_float64():
    rng = np.random.default_rng(6)
    segs = _mouth_segments(20, rng)
    p64 = soft_dtw_pairwise(segs, segs[:4], gamma=1.0, dtype="float64")
    p32 = soft_dtw_pairwise(segs, segs[:4], gamma=1.0, dtype="float32")
    np.testing.assert_allclose(p32, p64, rtol=1e-4, atol=1e-4)


def test_pairwise_matches_tslearn_cdist_on_nan_padded_dataset():
    rng = np.random.default_rng(7)
    segs = _mouth_segments(9, rng)
    from tslearn.utils import to_time_series_dataset

    data = to_time_series_dataset(segs)  # NaN-padded, tslearn's format
    ref = tsm.cdist_soft_dtw(data, data[:4], gamma=0.2)
    np.testing.assert_allclose(soft_dtw_pairwise(data, data[:4], gamma=0.2), ref, rtol=1e-6, atol=1e-9)
    # the list form gives the same numbers; small max_pairs forces several chunks
    np.testing.assert_allclose(
        soft_dtw_pairwise(segs, segs[:4], gamma=0.2, max_pairs=5), ref, rtol=1e-6, atol=1e-9
    )


def test_to_padded_reads_both_formats():
    a, b = np.ones((2, 3)), np.zeros((4, 3))
    X1, l1 = to_padded([a, b])
    data = np.full((2, 4, 3), np.nan)
    data[0, :2], data[1] = a, b
    X2, l2 = to_padded(data)
    np.testing.assert_array_equal(X1, X2)
    assert l1.tolist() == l2.tolist() == [2, 4]


def test_bad_parameters_raise():
    with pytest.raises(ParameterError, match="gamma"):
        soft_dtw([1.0, 2.0], [1.0], gamma=0.0)
    with pytest.raises(ParameterError, match="dimensions"):
        soft_dtw(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ParameterError, match="no frame"):
        to_padded([np.full((2, 2), np.nan)])
    with pytest.raises(ParameterError, match="x_lengths"):
        soft_dtw_batch(np.ones((2, 3, 1)), np.ones((2, 3, 1)), x_lengths=[4, 1])


def test_nan_inside_a_series_is_refused():
    x = np.ones((3, 2))
    x[1, 0] = np.nan
    with pytest.raises(ParameterError, match="NaN inside"):
        to_padded([x, np.ones((2, 2))])
    with pytest.raises(ParameterError, match="NaN inside"):
        to_padded(x[None])
    # trailing all-NaN frames are padding, in both formats
    y = np.ones((4, 2))
    y[2:] = np.nan
    assert to_padded([y])[1].tolist() == to_padded(y[None])[1].tolist() == [2]
