"""The numba soft-DTW kernels against tslearn's soft-DTW and its gradient, in float64."""

import numpy as np
import pytest

from agser.clustering import soft_dtw_pairwise
from agser.clustering import _soft_dtw_numba as K

tsm = pytest.importorskip("tslearn.metrics")

# float64 rounding over a programme of a few hundred cells: relative 1e-12 is
# three orders of magnitude above what the kernels reach (about 1e-14) and
# seven below the torch float32 path
RTOL = 1e-12


def _ragged(rng, n, lo, hi, d):
    lengths = rng.integers(lo, hi + 1, size=n)
    X = np.zeros((n, int(lengths.max()), d))
    for i, L in enumerate(lengths):
        X[i, :L] = rng.normal(size=(L, d))
    return X, lengths


def _tslearn_matrix(X, lx, Y, ly, gamma):
    return np.array([[tsm.soft_dtw(X[i, : lx[i]], Y[j, : ly[j]], gamma=gamma) for j in range(len(Y))]
                     for i in range(len(X))])


@pytest.mark.parametrize("gamma", [0.01, 0.1, 1.0, 10.0])
def test_pairwise_matches_tslearn_with_variable_lengths(gamma):
    rng = np.random.default_rng(0)
    X, lx = _ragged(rng, 9, 1, 12, 3)
    Y, ly = _ragged(rng, 5, 1, 9, 3)
    ref = _tslearn_matrix(X, lx, Y, ly, gamma)
    np.testing.assert_allclose(K.pairwise(X, lx, Y, ly, gamma), ref, rtol=RTOL, atol=RTOL)
    # the other orientation (the 9 series become the lanes) is the transpose
    np.testing.assert_allclose(K.pairwise(Y, ly, X, lx, gamma), ref.T, rtol=RTOL, atol=RTOL)


def test_pairwise_many_lane_groups_and_threads():
    rng = np.random.default_rng(1)
    X, lx = _ragged(rng, 40, 1, 15, 24)
    Y, ly = _ragged(rng, 37, 1, 15, 24)  # more than 16: groups of 8 lanes, the last one part-empty
    ref = _tslearn_matrix(X, lx, Y, ly, 0.5)
    one = K.pairwise(X, lx, Y, ly, 0.5, n_threads=1)
    np.testing.assert_allclose(one, ref, rtol=RTOL, atol=RTOL)
    # the tasks (and so the blocks of the BLAS products) differ with the thread count: rounding only
    np.testing.assert_allclose(K.pairwise(X, lx, Y, ly, 0.5, n_threads=2), one, rtol=1e-14, atol=1e-13)


def test_public_pairwise_backends_agree():
    rng = np.random.default_rng(2)
    segs = [rng.normal(size=(int(t), 4)) for t in rng.integers(1, 10, 15)]
    a = soft_dtw_pairwise(segs, segs[:6], gamma=0.3, backend="numba")
    b = soft_dtw_pairwise(segs, segs[:6], gamma=0.3, backend="torch", dtype="float64")
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL)
    assert np.array_equal(soft_dtw_pairwise(segs, segs[:6], gamma=0.3), a)  # "auto" on the CPU


def test_paired_values_alignments_and_gradients_match_tslearn():
    rng = np.random.default_rng(3)
    X, lx = _ragged(rng, 12, 1, 8, 3)
    Y, ly = _ragged(rng, 12, 1, 6, 3)
    values, gX, gY = K.paired(X, lx, Y, ly, 0.7, grad=True)
    v2, E = K.paired_alignment(X, lx, Y, ly, 0.7)
    np.testing.assert_array_equal(values, v2)
    for b in range(12):
        x, y = X[b, : lx[b]], Y[b, : ly[b]]
        ref = tsm.SoftDTW(tsm.SquaredEuclidean(x, y), gamma=0.7)
        assert values[b] == pytest.approx(ref.compute(), rel=RTOL, abs=RTOL)
        np.testing.assert_allclose(E[b, : lx[b], : ly[b]], ref.grad(), rtol=1e-10, atol=1e-12)
        assert not E[b, lx[b]:].any() and not E[b, :, ly[b]:].any()
        # d/dx of sum_ij E_ij |x_i - y_j|^2, and tslearn's own gradient with respect to x
        np.testing.assert_allclose(gX[b, : lx[b]], 2 * (E[b, : lx[b], : ly[b]].sum(1)[:, None] * x
                                                        - E[b, : lx[b], : ly[b]] @ y), rtol=1e-10, atol=1e-12)
        ref_gx = tsm.SquaredEuclidean(x, y).jacobian_product(ref.grad())
        np.testing.assert_allclose(gX[b, : lx[b]], ref_gx, rtol=1e-10, atol=1e-12)
        assert not gX[b, lx[b]:].any() and not gY[b, ly[b]:].any()
    np.testing.assert_array_equal(K.paired(X, lx, Y, ly, 0.7, n_threads=2)[0], values)


def test_barycentre_objective_is_the_sum_of_pair_values_and_gradients():
    rng = np.random.default_rng(4)
    M, Tc, k = 29, 7, 3
    Xm, lm = _ragged(rng, M, 1, 9, 4)
    labels = rng.integers(0, k, M)
    labels[:k] = np.arange(k)
    C = rng.normal(size=(k, Tc, 4))
    plan = K.barycentre_plan(Xm, lm, labels, k)
    total, G = K.barycentre_objective(C, plan, 0.4, n_threads=1)
    vals, gC, _ = K.paired(C[labels], np.full(M, Tc), Xm, lm, 0.4, grad=True)
    assert total == pytest.approx(vals.sum(), rel=RTOL)
    ref_G = np.zeros_like(C)
    np.add.at(ref_G, labels, gC)
    np.testing.assert_allclose(G, ref_G, rtol=1e-10, atol=1e-10)
    ref_total = sum(tsm.soft_dtw(C[labels[m]], Xm[m, : lm[m]], gamma=0.4) for m in range(M))
    assert total == pytest.approx(ref_total, rel=RTOL)
    total2, G2 = K.barycentre_objective(C, plan, 0.4, n_threads=2)
    assert total2 == pytest.approx(total, rel=1e-14)
    np.testing.assert_allclose(G2, G, rtol=1e-13, atol=1e-13)
    # central differences of the objective along one coordinate
    eps = 1e-6
    Cp, Cm = C.copy(), C.copy()
    Cp[1, 2, 3] += eps
    Cm[1, 2, 3] -= eps
    fd = (K.barycentre_objective(Cp, plan, 0.4)[0] - K.barycentre_objective(Cm, plan, 0.4)[0]) / (2 * eps)
    assert fd == pytest.approx(G[1, 2, 3], rel=1e-6)


def test_length_one_series_and_a_cluster_without_members():
    x = np.array([[[1.0, 2.0]]])
    y = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    # one frame against two: the single alignment path costs both distances
    assert K.pairwise(x, np.array([1]), y, np.array([2]), 0.5)[0, 0] == pytest.approx(5 + 1, rel=RTOL)
    plan = K.barycentre_plan(y, np.array([2]), np.array([0]), 2)
    total, G = K.barycentre_objective(np.ones((2, 3, 2)), plan, 1.0)
    assert np.isfinite(total) and not G[1].any()


def test_polynomial_exp_and_log_are_within_a_few_ulps():
    rng = np.random.default_rng(5)
    x = np.concatenate([-rng.exponential(5, 100_000), -rng.random(100_000), [0.0, -708.0, -709.0, -np.inf]])
    s = np.concatenate([1 + 2 * rng.random(100_000), [1.0, np.sqrt(2), 3.0]])
    ex, ls = K.exp_log_check(x, s)
    ref = np.exp(x)
    ok = ref > 1e-300
    assert np.max(np.abs(ex[ok] - ref[ok]) / np.spacing(ref[ok])) <= 4
    assert ex[-4] == 1.0 and ex[-2] == 0.0 and ex[-1] == 0.0
    # absolute error of log against float64 spacing near its values (|log s| <= 1.1)
    assert np.max(np.abs(ls - np.log(s))) <= 4 * np.spacing(1.0)
    assert ls[-3] == 0.0


def test_threads_work_in_a_forked_child_after_the_parent_used_them():
    import multiprocessing

    rng = np.random.default_rng(6)
    X, lx = _ragged(rng, 30, 1, 6, 2)
    parent = K.pairwise(X, lx, X[:9], lx[:9], 1.0, n_threads=2)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        child = pool.apply_async(K.pairwise, (X, lx, X[:9], lx[:9], 1.0, 2)).get(timeout=120)
    np.testing.assert_array_equal(child, parent)


def test_run_does_every_task_once_on_the_caller_and_the_pool():
    import threading

    seen, threads = [], set()
    lock = threading.Lock()
    # the first two tasks wait for each other: two threads must hold them at
    # once, and with 2 threads the pool has only one, so the caller is the other
    both = threading.Barrier(2, timeout=20)

    def task(t):
        if t < 2:
            both.wait()
        with lock:
            seen.append(t)
            threads.add(threading.current_thread().name)

    K._run(task, 40, 2)
    assert sorted(seen) == list(range(40))
    assert threading.current_thread().name in threads and len(threads) == 2


def test_run_raises_a_tasks_error_after_every_thread_stopped():
    done = []

    def task(t):
        if t == 3:
            raise ValueError(f"task {t} failed")
        done.append(t)

    with pytest.raises(ValueError, match="task 3"):
        K._run(task, 8, 2)
