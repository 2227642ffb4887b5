"""Soft-DTW kernels in numba: compiled, SIMD across pairs, pairs over threads.

The torch path (:mod:`agser.clustering._soft_dtw`) vectorises over pairs and
lets Python step through the anti-diagonals; each step is a few small tensor
operations, so its cost grows with the series' length however small the batch.
Here each pair's dynamic programme is one compiled double loop over its cells,
with nothing dispatched per diagonal or per cell, and two further levels of
parallelism:

- *lanes*: the innermost loop runs over a group of up to 16 series (the
  "lanes") that share the other side of the pair, laid out last in memory
  (``(T, d, lanes)``), so that LLVM turns each cell update of all lanes into
  SIMD instructions. This needs an exponential and a logarithm LLVM can
  vectorise: :func:`_exp` and :func:`_log` below are polynomial versions
  (within 1 and 3 units in the last place of libm; measured) because numba
  calls libm's scalar ``exp``/``log`` otherwise (numba's vectorised SVML path
  needs Intel's ``icc_rt``, which agser does not depend on).
  ``error_model="numpy"`` keeps division from raising, which would stop the
  vectoriser too.
- *threads*: rows of the pairwise matrix, or groups of barycentre members,
  are spread over ``numba.prange``.

The forward and backward passes are fused: while the forward pass computes
each cell's soft-min of its three predecessors it stores the three soft-max
weights (``d cell / d predecessor``), so the backward recursion of Cuturi &
Blondel (2017, Algorithm 2) is a weighted sum with no exponential left, and
the gradient with respect to the centres is accumulated from the expected
alignment without storing the cost matrix.

Notation as in the torch module: ``P = -R / gamma`` (negated, scaled
accumulated cost), ``P[i, j] = lse(P[i-1, j-1], P[i-1, j], P[i, j-1]) -
D[i, j] / gamma`` with ``D`` the squared Euclidean frame cost (computed from
the differences, as tslearn does, not from ``|x|^2 + |y|^2 - 2 x.y``); the value
is ``-gamma * P[lx, ly]``. Everything is float64.

All kernels are compiled with ``cache=True``: the first call in a fresh
environment compiles them (about 20 s for all of them on a 2-core machine,
measured) and writes the machine code beside this file (or under
``NUMBA_CACHE_DIR``); later processes load it in well under a second.
"""

from __future__ import annotations

import math
import os

import numpy as np

# numba's default threading layer is GNU OpenMP, whose idle workers spin for
# about 300,000 iterations after each parallel region; the kernels below run
# many short regions with Python (BLAS products, L-BFGS) in between, and on a
# machine busy with other jobs the spinning worker takes the core the main
# thread needs (measured: 2 threads 4.6x slower than 1). A short spin keeps the
# wake-up fast when regions follow each other. Only when the user set neither,
# and only for OpenMP runtimes that load after this import (numba's does, at
# its first parallel call).
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = "10000"

from numba import njit, prange, types  # noqa: E402
from numba.extending import intrinsic

__all__ = [
    "pairwise",
    "paired",
    "paired_alignment",
    "barycentre_plan",
    "barycentre_objective",
]

# fastmath without 'nnan'/'ninf' (the programme's border is -inf and must stay
# so) and without 'reassoc' (sums keep their order, so results do not depend
# on the vector width)
_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
_INF = np.inf
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
_SQRT2 = math.sqrt(2.0)
# most lanes in one group; pairwise groups are a multiple of 4 (one AVX2 register)
_MAX_LANES = 16
_BARY_LANES = 8


@intrinsic
def _bits_to_float(typingctx, bits):
    """Reinterpret an int64 as a float64 (LLVM bitcast), so 2^n is built in-register."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@njit(inline="always", **_JIT)
def _exp(x):
    """exp(x) for x <= 0 (x = -inf gives 0): 2^n * exp(r), |r| <= ln2 / 2, Taylor to r^13.

    The polynomial is evaluated by Estrin's scheme (powers r^2, r^4, r^8 and
    independent pairs) rather than Horner's: the soft-DTW recursion waits on
    every exponential, so the depth of the dependency chain (5 instead of 14
    multiply-adds) is what sets the speed.
    """
    xc = max(x, -708.0)
    n = np.floor(xc * _LOG2E + 0.5)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    q0 = 1.0 + r
    q1 = 1.0 / 2.0 + r * (1.0 / 6.0)
    q2 = 1.0 / 24.0 + r * (1.0 / 120.0)
    q3 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    s0 = q0 + r2 * q1
    s1 = q2 + r2 * q3
    s2 = q4 + r2 * q5
    p = (s0 + r4 * s1) + (r4 * r4) * (s2 + r4 * q6)
    v = p * _bits_to_float((np.int64(n) + 1023) << 52)
    # below -708 the true value is under 1e-307: 0, as libm's (subnormals dropped)
    return v if x >= -708.0 else 0.0


@njit(inline="always", **_JIT)
def _log(s):
    """log(s) for 1 <= s <= 3 (a soft-min's sum of three weights, the largest 1).

    ``s = 2^e f`` with ``f`` in (0.707, 1.5], then ``log f = 2 atanh(z)``,
    ``z = (f - 1) / (f + 1)`` in [-0.172, 0.2], by its series to ``z^25``
    (Estrin's scheme in ``w = z^2``, as in :func:`_exp`).
    """
    e = np.float64(s > _SQRT2)
    f = s - 0.5 * s * e
    z = (f - 1.0) / (f + 1.0)
    w = z * z
    w2 = w * w
    w4 = w2 * w2
    q0 = 1.0 + w * (1.0 / 3.0)
    q1 = 1.0 / 5.0 + w * (1.0 / 7.0)
    q2 = 1.0 / 9.0 + w * (1.0 / 11.0)
    q3 = 1.0 / 13.0 + w * (1.0 / 15.0)
    q4 = 1.0 / 17.0 + w * (1.0 / 19.0)
    q5 = 1.0 / 21.0 + w * (1.0 / 23.0)
    s0 = q0 + w2 * q1
    s1 = q2 + w2 * q3
    s2 = q4 + w2 * q5
    q = (s0 + w4 * s1) + (w4 * w4) * (s2 + w4 * (1.0 / 25.0))
    return (2.0 * z * q + e * _LN2_LO) + e * _LN2_HI


@njit(**_JIT)
def exp_log_check(x, s):
    """``_exp`` of every ``x`` (<= 0) and ``_log`` of every ``s`` (in [1, 3]); for tests."""
    ex = np.empty_like(x)
    ls = np.empty_like(s)
    for i in range(x.shape[0]):
        ex[i] = _exp(x[i])
    for i in range(s.shape[0]):
        ls[i] = _log(s[i])
    return ex, ls


@njit(inline="always", **_JIT)
def _softmin_weights(a, b, c):
    """``(m, s, wa, wb, wc)``: ``m = max(a, b, c)``, ``s = sum exp(. - m)`` (in [1, 3])
    and the three un-normalised weights ``exp(. - m)``.

    The largest term is exp(0) = 1: only the other two are evaluated, picked
    by selects so that the lanes loop stays branch-free.
    """
    m = max(a, max(b, c))
    a_max = a >= max(b, c)
    b_max = (not a_max) and b >= c
    e1 = _exp((b if a_max else a) - m)
    e2 = _exp((c if (a_max or b_max) else b) - m)
    wa = 1.0 if a_max else e1
    wb = e1 if a_max else (1.0 if b_max else e2)
    wc = e2 if (a_max or b_max) else 1.0
    return m, 1.0 + e1 + e2, wa, wb, wc


# ---------------------------------------------------------------- one pair
@njit(inline="always", **_JIT)
def _sqdist(x, i, y, j):
    s = 0.0
    for k in range(x.shape[1]):
        t = x[i, k] - y[j, k]
        s += t * t
    return s


@njit(**_JIT)
def _value(x, lx, y, ly, gamma, prev, cur):
    """Soft-DTW value of ``x[:lx]``, ``y[:ly]``; two rows of scratch (>= ly + 1)."""
    inv_gamma = 1.0 / gamma
    prev[0] = 0.0
    for j in range(1, ly + 1):
        prev[j] = -_INF
    for i in range(1, lx + 1):
        cur[0] = -_INF
        for j in range(1, ly + 1):
            a, b, c = prev[j - 1], prev[j], cur[j - 1]
            m = max(a, max(b, c))
            s = _exp(a - m) + _exp(b - m) + _exp(c - m)
            cur[j] = m + _log(s) - _sqdist(x, i - 1, y, j - 1) * inv_gamma
        prev, cur = cur, prev
    return -gamma * prev[ly]


@njit(**_JIT)
def _forward_backward(x, lx, y, ly, gamma, P, W, E):
    """Value, and the expected alignment ``E[1:lx+1, 1:ly+1] = dValue/dD``.

    ``P`` (>= lx+1, >= ly+1), ``W`` (3, >= lx+1, >= ly+1) and ``E`` (same) are
    scratch; ``W[0|1|2, i, j]`` is the weight of cell (i, j)'s predecessor
    (i-1, j-1) | (i-1, j) | (i, j-1) in its soft-min.
    """
    inv_gamma = 1.0 / gamma
    P[0, 0] = 0.0
    for j in range(1, ly + 1):
        P[0, j] = -_INF
    for i in range(1, lx + 1):
        P[i, 0] = -_INF
        for j in range(1, ly + 1):
            a, b, c = P[i - 1, j - 1], P[i - 1, j], P[i, j - 1]
            m = max(a, max(b, c))
            ea, eb, ec = _exp(a - m), _exp(b - m), _exp(c - m)
            s = ea + eb + ec
            P[i, j] = m + _log(s) - _sqdist(x, i - 1, y, j - 1) * inv_gamma
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
    return -gamma * P[lx, ly]


@njit(**_JIT)
def _add_grad_x(x, lx, y, ly, E, g):
    """``g[:lx] += dValue/dx = 2 sum_j E[i, j] (x_i - y_j)``."""
    d = x.shape[1]
    for i in range(lx):
        for j in range(ly):
            w = 2.0 * E[i + 1, j + 1]
            for k in range(d):
                g[i, k] += w * (x[i, k] - y[j, k])


@njit(parallel=True, **_JIT)
def paired(X, lx, Y, ly, gamma, grad):
    """Soft-DTW of the pairs ``(X[b, :lx[b]], Y[b, :ly[b]])``; with ``grad``, d/dX and d/dY.

    Parameters
    ----------
    X : float64 array (B, Tx, d), C-contiguous
    lx : int64 array (B,)
    Y : float64 array (B, Ty, d)
    ly : int64 array (B,)
    gamma : float
    grad : bool

    Returns
    -------
    values : float64 array (B,)
    gX, gY : float64 arrays (B, Tx, d), (B, Ty, d)
        Zero beyond the lengths; empty (0, Tx, d) / (0, Ty, d) without ``grad``.
    """
    B, Tx, Ty = X.shape[0], X.shape[1], Y.shape[1]
    values = np.empty(B)
    nb = B if grad else 0
    gX = np.zeros((nb, Tx, X.shape[2]))
    gY = np.zeros((nb, Ty, Y.shape[2]))
    for b in prange(B):
        if grad:
            P = np.empty((Tx + 1, Ty + 1))
            Wt = np.empty((3, Tx + 1, Ty + 1))
            E = np.empty((Tx + 1, Ty + 1))
            values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], gamma, P, Wt, E)
            _add_grad_x(X[b], lx[b], Y[b], ly[b], E, gX[b])
            _add_grad_x(Y[b], ly[b], X[b], lx[b], E.T, gY[b])
        else:
            prev = np.empty(Ty + 1)
            cur = np.empty(Ty + 1)
            values[b] = _value(X[b], lx[b], Y[b], ly[b], gamma, prev, cur)
    return values, gX, gY


@njit(parallel=True, **_JIT)
def paired_alignment(X, lx, Y, ly, gamma):
    """Values (B,) and expected alignments ``dValue/dD`` (B, Tx, Ty), zero beyond the lengths."""
    B, Tx, Ty = X.shape[0], X.shape[1], Y.shape[1]
    values = np.empty(B)
    out = np.zeros((B, Tx, Ty))
    for b in prange(B):
        P = np.empty((Tx + 1, Ty + 1))
        Wt = np.empty((3, Tx + 1, Ty + 1))
        E = np.empty((Tx + 1, Ty + 1))
        values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], gamma, P, Wt, E)
        for i in range(lx[b]):
            for j in range(ly[b]):
                out[b, i, j] = E[i + 1, j + 1]
    return values, out


# ------------------------------------------------------------ lanes of pairs
@njit(parallel=True, **_JIT)
def _dp_lanes(dot, xn, yn, row0, lx, ly, ty, gamma, n_blocks):
    """Soft-DTW of every row series with every lane series, from frame dot products.

    ``dot[f, g, j, c]`` is the dot product of frame ``f`` of the row series
    (series ``i`` owns frames ``row0[i] .. row0[i] + lx[i] - 1``) with frame
    ``j`` of lane ``c`` of group ``g``; ``xn[f]``, ``yn[g, j, c]`` are the
    frames' squared norms, so the cost is ``xn + yn - 2 dot`` (clipped at 0).
    ``ly`` (G, L) are the lane lengths (>= 1), ``ty`` (G,) each group's longest.
    Returns (n, G, L). Tasks are (block of row series, group) pairs.

    The row being written and the row read are separate buffers, and the left
    neighbour is carried in its own (L,) buffer: were they slices of one
    array, LLVM could not prove the lanes loop free of overlapping loads and
    stores and would leave it scalar (measured: 2-5x slower).
    """
    n = lx.shape[0]
    G, Ty, L = yn.shape
    inv_gamma = 1.0 / gamma
    out = np.empty((n, G, L))
    n_blocks = max(1, min(n_blocks, n))
    per = (n + n_blocks - 1) // n_blocks
    for task in prange(n_blocks * G):
        blk, g = task // G, task % G
        T = ty[g]
        prev = np.empty((Ty + 1, L))
        cur = np.empty((Ty + 1, L))
        left = np.empty(L)
        for i in range(blk * per, min(n, (blk + 1) * per)):
            for c in range(L):
                prev[0, c] = 0.0
            for j in range(1, T + 1):
                for c in range(L):
                    prev[j, c] = -_INF
            for r in range(lx[i]):
                f = row0[i] + r
                xf = xn[f]
                for c in range(L):
                    left[c] = -_INF
                    # column 0 of every row after the first is the border
                    cur[0, c] = -_INF
                for j in range(1, T + 1):
                    for c in range(L):
                        dd = max(xf + yn[g, j - 1, c] - 2.0 * dot[f, g, j - 1, c], 0.0)
                        m, s, _, _, _ = _softmin_weights(prev[j - 1, c], prev[j, c], left[c])
                        v = m + _log(s) - dd * inv_gamma
                        cur[j, c] = v
                        left[c] = v
                prev, cur = cur, prev
            for c in range(L):
                out[i, g, c] = -gamma * prev[ly[g, c], c]
    return out


class _dynamic_schedule:
    """Hand the tasks of a ``prange`` out one at a time (numba's default splits
    them into one fixed share per thread, and then waits for the slowest)."""

    def __enter__(self):
        import numba

        self.old = numba.set_parallel_chunksize(1)

    def __exit__(self, *exc):
        import numba

        numba.set_parallel_chunksize(self.old)
        return False


def _lanes_of(Y, ly, lanes):
    """Y (m, T, d) as groups of ``lanes`` series sorted by length.

    Returns ``Yf`` (G * T * lanes, d) (frames ordered group, frame, lane),
    ``ly_g`` (G, lanes) (1 on the empty lanes of the last group, whose series
    are zero), ``ty`` (G,), and ``slot`` (m,): the flat group * lanes + lane
    position of each series.
    """
    m, T, d = Y.shape
    order = np.argsort(ly, kind="stable")
    G = -(-m // lanes)
    Ys = np.zeros((G * lanes, T, d))
    Ys[:m] = Y[order]
    ls = np.ones(G * lanes, dtype=np.int64)
    ls[:m] = ly[order]
    Yf = np.ascontiguousarray(Ys.reshape(G, lanes, T, d).transpose(0, 2, 1, 3)).reshape(-1, d)
    ly_g = np.ascontiguousarray(ls.reshape(G, lanes))
    slot = np.empty(m, dtype=np.int64)
    slot[order] = np.arange(m)
    return Yf, ly_g, ly_g.max(axis=1).astype(np.int64), slot


def pairwise(X, lx, Y, ly, gamma, n_threads=None, max_cells=1 << 18):
    """Soft-DTW of every ``X[i, :lx[i]]`` with every ``Y[j, :ly[j]]``.

    The side with fewer series becomes the SIMD lanes (soft-DTW is symmetric,
    so the other orientation is its transpose, equal to float64 rounding). The
    frame costs come from one BLAS product per chunk of rows,
    ``|x|^2 + |y|^2 - 2 x.y`` (as in the torch path; the cost of two close frames
    is then exact to about 1e-16 times the frames' squared norm).

    Parameters
    ----------
    X : float64 array (n, Tx, d)
    lx : int array (n,)
        Lengths, 1 <= lx <= Tx.
    Y : float64 array (m, Ty, d)
    ly : int array (m,)
    gamma : float
    n_threads : int, optional
        Threads the rows are split over (default: numba's current setting).
    max_cells : int
        Frame products held at once (8 bytes each; the default keeps them in
        the L2 cache between the BLAS product and the kernel).

    Returns
    -------
    float64 array (n, m)

    Examples
    --------
    >>> x = np.array([[[1.0], [2.0], [3.0]]])
    >>> y = np.array([[[3.0], [4.0], [-3.0]]])
    >>> round(float(pairwise(x, np.array([3]), y, np.array([3]), 1.0)[0, 0]), 4)
    41.1876
    """
    import numba

    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    lx = np.ascontiguousarray(lx, dtype=np.int64)
    ly = np.ascontiguousarray(ly, dtype=np.int64)
    if len(Y) > len(X):
        return pairwise(Y, ly, X, lx, gamma, n_threads, max_cells).T
    n, Tx, d = X.shape
    m = len(Y)
    # the lanes: all of Y when it is small (whole AVX2 registers of 4), else groups of 8
    lanes = min(_MAX_LANES, -(-m // 4) * 4) if m <= _MAX_LANES else _BARY_LANES
    Ty = int(ly.max())
    Yf, ly_g, ty, slot = _lanes_of(Y[:, :Ty], ly, lanes)
    G = len(ty)
    yn = np.einsum("fd,fd->f", Yf, Yf).reshape(G, Ty, lanes)
    nt = numba.get_num_threads() if n_threads is None else int(n_threads)
    out = np.empty((n, G * lanes))
    # only the frames inside the series, in chunks whose products stay in cache
    inside = np.arange(Tx)[None, :] < lx[:, None]
    start = np.concatenate([[0], np.cumsum(lx)]).astype(np.int64)
    width = G * Ty * lanes
    a = 0
    while a < n:
        b = int(np.searchsorted(start, start[a] + max(max_cells // width, int(lx[a])), side="right")) - 1
        b = min(n, max(b, a + 1))
        Xf = X[a:b][inside[a:b]]
        dot = (Xf @ Yf.T).reshape(len(Xf), G, Ty, lanes)
        xn = np.einsum("fd,fd->f", Xf, Xf)
        row0 = start[a:b] - start[a]
        with _dynamic_schedule():
            out[a:b] = _dp_lanes(dot, xn, yn, row0, lx[a:b], ly_g, ty, float(gamma), 4 * nt).reshape(b - a, -1)
        a = b
    return out[:, slot]


@njit(parallel=True, **_JIT)
def _dp_lanes_grad(dot, cn, yn, ll, tg, gamma, n_tasks, E):
    """Soft-DTW of full-length centres with lanes of members, and the expected alignments.

    ``dot[i, g, j, c]``: dot product of frame ``i`` of group ``g``'s centre
    with frame ``j`` of its lane ``c``; ``cn[g, i]``, ``yn[g, j, c]`` the squared
    norms; ``ll`` (G, L) lane lengths (0: an empty lane); ``tg`` (G,) each
    group's longest. Writes ``E[i, g, j, c] = d value / d cost`` (0 beyond a
    lane's length) and returns the sum of the values of the non-empty lanes.

    Forward with rolling rows (the backward needs only the stored weights);
    backward row ``i`` of ``E`` from row ``i + 1`` held in separate buffers,
    the right neighbour carried, as in :func:`_dp_lanes`.
    """
    Tc, G, T, L = dot.shape
    inv_gamma = 1.0 / gamma
    # groups dealt round-robin to n_tasks tasks (groups sorted by length spread
    # evenly), each with its own sum; more tasks than threads, so that a thread
    # slowed by other jobs on the machine leaves its share to the others
    nt = max(1, min(n_tasks, G))
    tot_t = np.zeros(nt)
    for t in prange(nt):
        prev = np.empty((T + 1, L))
        cur = np.empty((T + 1, L))
        side = np.empty(L)
        # weights of the three predecessors of each cell; row Tc + 1 and column
        # T + 1 stay 0 (the backward border)
        W0 = np.zeros((Tc + 2, T + 2, L))
        W1 = np.zeros((Tc + 2, T + 2, L))
        W2 = np.zeros((Tc + 2, T + 2, L))
        Enext = np.empty((T + 2, L))
        Ecur = np.empty((T + 2, L))
        mask = np.empty((T + 2, L))
        seed = np.empty((T + 2, L))
        acc = 0.0
        for g in range(t, G, nt):
            Tg = tg[g]
            for c in range(L):
                prev[0, c] = 0.0
            for j in range(1, Tg + 1):
                for c in range(L):
                    prev[j, c] = -_INF
            for i in range(1, Tc + 1):
                xf = cn[g, i - 1]
                for c in range(L):
                    side[c] = -_INF
                    # column 0 of every row after the first is the border
                    cur[0, c] = -_INF
                for j in range(1, Tg + 1):
                    for c in range(L):
                        dd = max(xf + yn[g, j - 1, c] - 2.0 * dot[i - 1, g, j - 1, c], 0.0)
                        m, s, ea, eb, ec = _softmin_weights(prev[j - 1, c], prev[j, c], side[c])
                        v = m + _log(s) - dd * inv_gamma
                        cur[j, c] = v
                        side[c] = v
                        r = 1.0 / s
                        W0[i, j, c] = ea * r
                        W1[i, j, c] = eb * r
                        W2[i, j, c] = ec * r
                prev, cur = cur, prev
            for c in range(L):
                if ll[g, c] > 0:
                    acc += -gamma * prev[ll[g, c], c]
            # backward: cells after a lane's end (every cell of an empty lane)
            # get 0, its end cell (Tc, length) the seed 1
            for j in range(Tg + 2):
                for c in range(L):
                    mask[j, c] = 1.0 if j <= ll[g, c] else 0.0
                    seed[j, c] = 1.0 if j == ll[g, c] else 0.0
                    Enext[j, c] = 0.0
            for i in range(Tc, 0, -1):
                for c in range(L):
                    side[c] = 0.0
                for j in range(Tg, 0, -1):
                    for c in range(L):
                        e = (Enext[j + 1, c] * W0[i + 1, j + 1, c] + Enext[j, c] * W1[i + 1, j, c]
                             + side[c] * W2[i, j + 1, c]) * mask[j, c]
                        if i == Tc:
                            e += seed[j, c]
                        Ecur[j, c] = e
                        side[c] = e
                        E[i - 1, g, j - 1, c] = e
                for j in range(Tg, T):
                    for c in range(L):
                        E[i - 1, g, j, c] = 0.0
                for c in range(L):
                    Ecur[Tg + 1, c] = 0.0
                Enext, Ecur = Ecur, Enext
        tot_t[t] = acc
    return tot_t.sum()


def barycentre_plan(X, lx, labels, k, max_cells=1 << 22):
    """Members grouped by centre into SIMD lanes of 8, for :func:`barycentre_objective`.

    Parameters
    ----------
    X : float64 array (M, T, d)
        Member series.
    lx : int array (M,)
    labels : int array (M,)
        Centre (0..k-1) of each member.
    k : int
    max_cells : int
        Cells of the cost and alignment arrays held at once (8 bytes each).

    Returns
    -------
    dict
        Each centre's members sorted by length, 8 per group: ``Xf`` (frames
        ordered group, frame, lane; empty lanes zero), ``yn`` (their squared
        norms, (G, T, 8)), ``ll`` (G, 8) lengths (0: empty lane), ``tg`` (G,),
        ``gc`` (G,) the centre of each group, and ``chunks``: runs of groups
        processed together, each a list of (centre, first group, end group).
    """
    X = np.asarray(X, dtype=np.float64)
    lx = np.asarray(lx, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    M, _, d = X.shape
    T = max(1, int(lx.max())) if M else 1
    L = _BARY_LANES
    order = np.lexsort((lx, labels))
    counts = np.bincount(labels, minlength=k)
    groups = -(-counts // L)
    G = int(groups.sum())
    # position of each sorted member: its centre's first group, then its rank within the centre
    first = np.concatenate([[0], np.cumsum(groups)[:-1]]).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    lab_s = labels[order]
    rank = np.arange(M) - start[lab_s]
    flat = (first[lab_s] + rank // L) * L + rank % L
    Xs = np.zeros((G * L, T, d))
    Xs[flat] = X[order, :T]
    ls = np.zeros(G * L, dtype=np.int64)
    ls[flat] = lx[order]
    Xf = np.ascontiguousarray(Xs.reshape(G, L, T, d).transpose(0, 2, 1, 3)).reshape(-1, d)
    ll = np.ascontiguousarray(ls.reshape(G, L))
    gc = np.repeat(np.arange(k, dtype=np.int64), groups)
    # chunks of whole groups small enough for max_cells (per centre frame: T * L cells a group)
    per_chunk = max(1, max_cells // (T * L * 64))
    chunks = []
    for a in range(0, G, per_chunk):
        b = min(G, a + per_chunk)
        runs = []
        for c in np.unique(gc[a:b]):
            idx = np.nonzero(gc[a:b] == c)[0]
            runs.append((int(c), a + int(idx[0]), a + int(idx[-1]) + 1))
        chunks.append((a, b, runs))
    return dict(Xf=Xf, yn=np.einsum("fd,fd->f", Xf, Xf).reshape(G, T, L), ll=ll,
                tg=np.maximum(ll.max(axis=1), 1).astype(np.int64), gc=gc, chunks=chunks, T=T)


def barycentre_objective(C, plan, gamma, n_threads):
    """Sum over members of soft-DTW to their full-length centre, and its gradient.

    Parameters
    ----------
    C : float64 array (k, Tc, d)
        Centres.
    plan : dict
        :func:`barycentre_plan` of the members.
    gamma : float
    n_threads : int
        Threads the groups are dealt to (``numba.get_num_threads()``; passed
        in because a kernel that reads it cannot be cached).

    Returns
    -------
    total : float
        ``sum_m sdtw(C[labels[m]], X[m])``.
    G : float64 array (k, Tc, d)
        Its gradient with respect to ``C``:
        ``2 sum_{m, j} E_m[i, j] (C[i] - X_m[j])``, the second term one BLAS
        product per centre.
    """
    C = np.ascontiguousarray(C, dtype=np.float64)
    k, Tc, d = C.shape
    Xf, yn, ll, tg, T = plan["Xf"], plan["yn"], plan["ll"], plan["tg"], plan["T"]
    L = ll.shape[1]
    cnorm = np.einsum("ktd,ktd->kt", C, C)
    total = 0.0
    grad = np.zeros((k, Tc, d))
    for a, b, runs in plan["chunks"]:
        dot = np.empty((Tc, b - a, T, L))
        for c, g0, g1 in runs:
            dot[:, g0 - a : g1 - a] = (C[c] @ Xf[g0 * T * L : g1 * T * L].T).reshape(Tc, g1 - g0, T, L)
        cn = cnorm[plan["gc"][a:b]]
        E = np.empty((Tc, b - a, T, L))
        with _dynamic_schedule():
            total += _dp_lanes_grad(dot, cn, yn[a:b], ll[a:b], tg[a:b], float(gamma), 4 * int(n_threads), E)
        for c, g0, g1 in runs:
            Ec = E[:, g0 - a : g1 - a].reshape(Tc, -1)
            grad[c] += 2.0 * (C[c] * Ec.sum(axis=1)[:, None] - Ec @ Xf[g0 * T * L : g1 * T * L])
    return total, grad
