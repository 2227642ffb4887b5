"""Soft-DTW kernels in numba: one compiled loop per pair, pairs in parallel.

The torch path (:mod:`agser.clustering._soft_dtw`) vectorises over pairs and
lets Python step through the anti-diagonals; each step is a few small tensor
operations, so its cost per series grows with the series' length however small
the batch. Here every pair is one compiled double loop over its cells, and the
pairs are spread over threads (``numba.prange``); nothing is dispatched per
diagonal or per cell.

The forward and backward passes are fused: while the forward pass computes
each cell's soft-min of its three predecessors it also stores the three
soft-max weights (``d cell / d predecessor``), so the backward recursion of
Cuturi & Blondel (2017, Algorithm 2) is a weighted sum with no exponential
left to evaluate; and the gradient with respect to the series is accumulated
from the expected alignment without storing the cost matrix.

Notation as in the torch module: ``P = -R / gamma`` (negated, scaled
accumulated cost), so that ``P[i, j] = lse(P[i-1, j-1], P[i-1, j], P[i, j-1])
- D[i, j] / gamma`` with ``D`` the squared Euclidean frame cost; the value is
``-gamma * P[lx, ly]``. Everything is float64.

All kernels are compiled with ``cache=True``: the first call in a fresh
environment compiles them (a few seconds) and writes the machine code next
to this file (or under ``NUMBA_CACHE_DIR``); later processes load it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["pairwise", "paired", "paired_alignment", "barycentre_objective"]

# fastmath without 'nnan'/'ninf': the border of the programme is -inf and must
# stay -inf; re-association only lets LLVM vectorise the frame-distance sums
_FAST = {"reassoc", "contract", "nsz", "arcp"}
_JIT = dict(cache=True, nogil=True, fastmath=_FAST)
_INF = np.inf


@njit(inline="always", **_JIT)
def _sqdist(x, i, y, j):
    s = 0.0
    for k in range(x.shape[1]):
        t = x[i, k] - y[j, k]
        s += t * t
    return s


@njit(**_JIT)
def _value(x, lx, y, ly, inv_gamma, prev, cur):
    """Soft-DTW value of ``x[:lx]``, ``y[:ly]``; two rows of scratch (>= ly + 1)."""
    prev[0] = 0.0
    for j in range(1, ly + 1):
        prev[j] = -_INF
    for i in range(1, lx + 1):
        cur[0] = -_INF
        for j in range(1, ly + 1):
            a, b, c = prev[j - 1], prev[j], cur[j - 1]
            m = max(a, max(b, c))
            s = math.exp(a - m) + math.exp(b - m) + math.exp(c - m)
            cur[j] = m + math.log(s) - _sqdist(x, i - 1, y, j - 1) * inv_gamma
        prev, cur = cur, prev
    return -prev[ly] / inv_gamma


@njit(**_JIT)
def _forward_backward(x, lx, y, ly, inv_gamma, P, W, E):
    """Value, and the expected alignment ``E[1:lx+1, 1:ly+1] = dValue/dD``.

    ``P`` (>= lx+1, >= ly+1), ``W`` (3, >= lx+1, >= ly+1) and ``E`` (same) are
    scratch; ``W[0|1|2, i, j]`` is the weight of cell (i, j)'s predecessor
    (i-1, j-1) | (i-1, j) | (i, j-1) in its soft-min.
    """
    P[0, 0] = 0.0
    for j in range(1, ly + 1):
        P[0, j] = -_INF
    for i in range(1, lx + 1):
        P[i, 0] = -_INF
        for j in range(1, ly + 1):
            a, b, c = P[i - 1, j - 1], P[i - 1, j], P[i, j - 1]
            m = max(a, max(b, c))
            ea, eb, ec = math.exp(a - m), math.exp(b - m), math.exp(c - m)
            s = ea + eb + ec
            P[i, j] = m + math.log(s) - _sqdist(x, i - 1, y, j - 1) * inv_gamma
            r = 1.0 / s
            W[0, i, j] = ea * r
            W[1, i, j] = eb * r
            W[2, i, j] = ec * r
    # backward: E[i, j] = sum over the successors s of E[s] * (weight of (i, j) in s)
    for i in range(lx, 0, -1):
        for j in range(ly, 0, -1):
            if i == lx:
                e = 1.0 if j == ly else E[i, j + 1] * W[2, i, j + 1]
            elif j == ly:
                e = E[i + 1, j] * W[1, i + 1, j]
            else:
                e = (E[i + 1, j + 1] * W[0, i + 1, j + 1] + E[i + 1, j] * W[1, i + 1, j]
                     + E[i, j + 1] * W[2, i, j + 1])
            E[i, j] = e
    return -P[lx, ly] / inv_gamma


@njit(**_JIT)
def _add_grad_x(x, lx, y, ly, E, scale, g):
    """``g[:lx] += scale * dValue/dx = scale * 2 sum_j E[i, j] (x_i - y_j)``."""
    d = x.shape[1]
    for i in range(lx):
        for j in range(ly):
            w = 2.0 * scale * E[i + 1, j + 1]
            for k in range(d):
                g[i, k] += w * (x[i, k] - y[j, k])


@njit(parallel=True, **_JIT)
def pairwise(X, lx, Y, ly, gamma):
    """Soft-DTW of every ``X[i, :lx[i]]`` with every ``Y[j, :ly[j]]``.

    Parameters
    ----------
    X : float64 array (n, Tx, d), C-contiguous
    lx : int64 array (n,)
    Y : float64 array (m, Ty, d)
    ly : int64 array (m,)
    gamma : float

    Returns
    -------
    float64 array (n, m)
    """
    n, m = X.shape[0], Y.shape[0]
    out = np.empty((n, m))
    inv_gamma = 1.0 / gamma
    W = Y.shape[1] + 1
    for i in prange(n):
        prev = np.empty(W)
        cur = np.empty(W)
        for j in range(m):
            out[i, j] = _value(X[i], lx[i], Y[j], ly[j], inv_gamma, prev, cur)
    return out


@njit(parallel=True, **_JIT)
def paired(X, lx, Y, ly, gamma, grad):
    """Soft-DTW of the pairs ``(X[b], Y[b])``; with ``grad``, also d/dX and d/dY.

    Returns
    -------
    values : float64 array (B,)
    gX, gY : float64 arrays (B, Tx, d), (B, Ty, d)
        Zero beyond the lengths; empty (0, Tx, d) / (0, Ty, d) without ``grad``.
    """
    B, Tx, Ty = X.shape[0], X.shape[1], Y.shape[1]
    inv_gamma = 1.0 / gamma
    values = np.empty(B)
    nb = B if grad else 0
    gX = np.zeros((nb, Tx, X.shape[2]))
    gY = np.zeros((nb, Ty, Y.shape[2]))
    for b in prange(B):
        if grad:
            P = np.empty((Tx + 1, Ty + 1))
            Wt = np.empty((3, Tx + 1, Ty + 1))
            E = np.empty((Tx + 1, Ty + 1))
            values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], inv_gamma, P, Wt, E)
            _add_grad_x(X[b], lx[b], Y[b], ly[b], E, 1.0, gX[b])
            _add_grad_x(Y[b], ly[b], X[b], lx[b], E.T, 1.0, gY[b])
        else:
            prev = np.empty(Ty + 1)
            cur = np.empty(Ty + 1)
            values[b] = _value(X[b], lx[b], Y[b], ly[b], inv_gamma, prev, cur)
    return values, gX, gY


@njit(parallel=True, **_JIT)
def paired_alignment(X, lx, Y, ly, gamma):
    """Values (B,) and expected alignments (B, Tx, Ty), zero beyond the lengths."""
    B, Tx, Ty = X.shape[0], X.shape[1], Y.shape[1]
    inv_gamma = 1.0 / gamma
    values = np.empty(B)
    out = np.zeros((B, Tx, Ty))
    for b in prange(B):
        P = np.empty((Tx + 1, Ty + 1))
        Wt = np.empty((3, Tx + 1, Ty + 1))
        E = np.empty((Tx + 1, Ty + 1))
        values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], inv_gamma, P, Wt, E)
        for i in range(lx[b]):
            for j in range(ly[b]):
                out[b, i, j] = E[i + 1, j + 1]
    return values, out


@njit(parallel=True, **_JIT)
def barycentre_objective(C, lc, X, lx, labels, gamma, n_threads):
    """Sum over series of soft-DTW to its own centre, and its gradient w.r.t. the centres.

    Parameters
    ----------
    C : float64 array (k, Tc, d)
        Centres.
    lc : int64 array (k,)
        Their lengths.
    X : float64 array (M, T, d)
        Member series.
    lx : int64 array (M,)
    labels : int64 array (M,)
        Centre of each member.
    gamma : float
    n_threads : int
        Accumulators to split the pairs over (``numba.get_num_threads()``;
        passed in because a kernel that reads it cannot be cached).

    Returns
    -------
    total : float
        ``sum_m sdtw(C[labels[m]], X[m])``.
    G : float64 array (k, Tc, d)
        Its gradient.
    """
    k, Tc, d = C.shape
    M, T = X.shape[0], X.shape[1]
    inv_gamma = 1.0 / gamma
    # one accumulator per thread (strided pair ranges, so that pairs sorted by
    # length spread evenly): no two threads write the same gradient
    nt = max(1, min(n_threads, M))
    G_t = np.zeros((nt, k, Tc, d))
    tot_t = np.zeros(nt)
    for t in prange(nt):
        P = np.empty((Tc + 1, T + 1))
        Wt = np.empty((3, Tc + 1, T + 1))
        E = np.empty((Tc + 1, T + 1))
        acc = 0.0
        for p in range(t, M, nt):
            c = labels[p]
            acc += _forward_backward(C[c], lc[c], X[p], lx[p], inv_gamma, P, Wt, E)
            _add_grad_x(C[c], lc[c], X[p], lx[p], E, 1.0, G_t[t, c])
        tot_t[t] = acc
    G = np.zeros((k, Tc, d))
    for t in range(nt):
        G += G_t[t]
    return tot_t.sum(), G
