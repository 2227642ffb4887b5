"""Soft-DTW kernels in numba: compiled, SIMD across pairs, pairs over threads.

The torch path (:mod:`agser.clustering._soft_dtw`) vectorises over pairs and
lets Python step through the anti-diagonals; each step is a few small tensor
operations, so its cost grows with the series' length however small the batch.
Here each pair's dynamic programme is one compiled double loop over its cells,
with nothing dispatched per diagonal or per cell, and two further levels of
parallelism:

- *lanes*: the innermost loop runs over a group of up to 32 series (the
  "lanes") that share the other side of the pair, laid out last in memory,
  so that LLVM turns each cell update of all lanes into SIMD instructions.
  This needs an exponential and a logarithm LLVM can vectorise: :func:`_exp`
  and :func:`_log` below are polynomial versions (within 2 and 5 units in the
  last place of libm's; measured) because numba calls libm's scalar
  ``exp``/``log`` otherwise (its vectorised SVML path needs Intel's
  ``icc_rt``, which agser does not depend on). ``error_model="numpy"`` keeps
  division from raising, which would stop the vectoriser too. The frame
  costs ``|x|^2 + |y|^2 - 2 x.y`` take their products from BLAS, a block of
  series at a time.
- *threads*: blocks of rows of the pairwise matrix, or groups of barycentre
  members, are tasks for a pool of Python threads; the kernels release the
  GIL (see :func:`_run` for why not ``numba.prange``).

The forward and backward passes are fused: while the forward pass computes
each cell's soft-min of its three predecessors it stores the three soft-max
weights (``d cell / d predecessor``), so the backward recursion of Cuturi &
Blondel (2017, Algorithm 2) is a weighted sum with no exponential left, and
the gradient with respect to the centres comes from the expected alignment
and one BLAS product, without storing the cost matrix.

Notation as in the torch module: ``P = -R / gamma`` (negated, scaled
accumulated cost), ``P[i, j] = lse(P[i-1, j-1], P[i-1, j], P[i, j-1]) -
D[i, j] / gamma`` with ``D`` the squared Euclidean frame cost; the value is
``-gamma * P[lx, ly]``. Everything is float64; values agree with tslearn's to
about 1e-14 relative (tests).

All kernels are compiled with ``cache=True``: the first call in a fresh
environment compiles them and writes the machine code beside this file (or
under ``NUMBA_CACHE_DIR``); later processes load it (for the figures, run
``benchmarks/bench_clustering.py --compile``).
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "pairwise",
    "lane_set",
    "pairwise_lanes",
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
# lanes in one group: pairwise (a multiple of 4, one AVX2 register) and
# barycentre groups (members of one centre; measured: 8 lanes 1.8x the time of 16)
_MAX_LANES = 32
_BARY_LANES = 16
# frame products held per BLAS call in the pairwise kernel (doubles)
_BLOCK = 1 << 16


@intrinsic
def _bits_to_float(typingctx, bits):
    """Reinterpret an int64 as a float64 (LLVM bitcast), so 2^n is built in-register."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


# Polynomials of the exponential and the logarithm: Chebyshev interpolants
# (computed in 50-digit arithmetic with mpmath), near-minimax, so that they
# need fewer terms than the Taylor series for the same accuracy:
# exp(r) on |r| <= ln2 / 2, degree 11, relative error 1.7e-17;
# atanh(z) / z as a polynomial in w = z^2 on 0 <= w <= 0.04, degree 7, 2.7e-17.
_EXP_COEFS = (
    1.0, 1.0, 0.5000000000000019, 0.1666666666666668, 0.0416666666664881, 0.008333333333319601,
    0.0013888888952314775, 0.00019841269890047113, 2.4801485482328494e-05, 2.755724091857897e-06,
    2.763263963904103e-07, 2.5110037605963777e-08,
)
_ATANH_COEFS = (
    1.0, 0.33333333333337684, 0.19999999997718426, 0.1428571474076452, 0.11111066625651787,
    0.09093263534125967, 0.07623676457223913, 0.07693501499136236,
)


@njit(inline="always", **_JIT)
def _poly4(t, t2, c0, c1, c2, c3):
    """``c0 + c1 t + c2 t^2 + c3 t^3`` as two independent halves (Estrin's scheme).

    The soft-DTW recursion waits on every exponential and logarithm, so the
    depth of a polynomial's chain of multiply-adds, not their number, is what
    sets the speed: Estrin's scheme (powers t^2, t^4 and independent pairs)
    halves the depth of Horner's.
    """
    return (c0 + t * c1) + t2 * (c2 + t * c3)


@intrinsic
def _prefer_wide_vectors(typingctx):
    """Ask LLVM for 512-bit vectors in the function that calls this (a no-op without AVX-512).

    LLVM's default on AVX-512 CPUs is 256-bit vectors; the 32 lanes of the
    pairwise kernel are long enough for 512 bits, which run it about 15 %
    faster (measured).
    This sets the function's own ``prefer-vector-width`` attribute, so no other
    numba code in the process changes; llvmlite only admits a fixed list of
    function attributes, hence the set.add past its check (and nothing at all
    should that ever fail).
    """
    def codegen(context, builder, signature, args):
        try:
            set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        except Exception:  # pragma: no cover - a newer llvmlite; the default width then
            pass
        return context.get_dummy_value()

    return types.void(), codegen


@njit(inline="always", **_JIT)
def _exp(x):
    """exp(x) for x <= 0 (x = -inf gives 0): 2^n * exp(r), |r| <= ln2 / 2, by ``_EXP_COEFS``."""
    xc = max(x, -708.0)
    n = np.floor(xc * _LOG2E + 0.5)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    c = _EXP_COEFS
    r2 = r * r
    r4 = r2 * r2
    p = _poly4(r, r2, c[0], c[1], c[2], c[3]) + r4 * (
        _poly4(r, r2, c[4], c[5], c[6], c[7]) + r4 * _poly4(r, r2, c[8], c[9], c[10], c[11]))
    v = p * _bits_to_float((np.int64(n) + 1023) << 52)
    # below -708 the true value is under 1e-307: 0, as libm's (subnormals dropped)
    return v if x >= -708.0 else 0.0


@njit(inline="always", **_JIT)
def _log(s):
    """log(s) for 1 <= s <= 3 (a soft-min's sum of three weights, the largest 1).

    ``s = 2^e f`` with ``f`` in (0.707, 1.5], then ``log f = 2 atanh(z)``,
    ``z = (f - 1) / (f + 1)`` in [-0.172, 0.2], by ``_ATANH_COEFS``.
    """
    e = np.float64(s > _SQRT2)
    f = s - 0.5 * s * e
    z = (f - 1.0) / (f + 1.0)
    c = _ATANH_COEFS
    w = z * z
    w2 = w * w
    q = _poly4(w, w2, c[0], c[1], c[2], c[3]) + (w2 * w2) * _poly4(w, w2, c[4], c[5], c[6], c[7])
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


@njit(**_JIT)
def _paired_task(X, lx, Y, ly, gamma, grad, b0, b1, values, gX, gY):
    """Pairs ``b0 .. b1 - 1`` of :func:`paired`, written into its outputs."""
    Tx, Ty = X.shape[1], Y.shape[1]
    P = np.empty((Tx + 1, Ty + 1))
    Wt = np.empty((3, Tx + 1, Ty + 1))
    E = np.empty((Tx + 1, Ty + 1))
    prev = np.empty(Ty + 1)
    cur = np.empty(Ty + 1)
    for b in range(b0, b1):
        if grad:
            values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], gamma, P, Wt, E)
            _add_grad_x(X[b], lx[b], Y[b], ly[b], E, gX[b])
            _add_grad_x(Y[b], ly[b], X[b], lx[b], E.T, gY[b])
        else:
            values[b] = _value(X[b], lx[b], Y[b], ly[b], gamma, prev, cur)


def paired(X, lx, Y, ly, gamma, grad=False, n_threads=None):
    """Soft-DTW of the pairs ``(X[b, :lx[b]], Y[b, :ly[b]])``; with ``grad``, d/dX and d/dY.

    One pair at a time per thread (no lanes): for the few pair-wise calls
    outside the k-means loop (self-similarities, gradients of arbitrary pairs).

    Parameters
    ----------
    X : float64 array (B, Tx, d)
    lx : int array (B,)
    Y : float64 array (B, Ty, d)
    ly : int array (B,)
    gamma : float
    grad : bool
    n_threads : int, optional
        Default: ``NUMBA_NUM_THREADS``.

    Returns
    -------
    values : float64 array (B,)
    gX, gY : float64 arrays (B, Tx, d), (B, Ty, d)
        Zero beyond the lengths; empty (0, Tx, d) / (0, Ty, d) without ``grad``.
    """
    X, Y = _f64(X), _f64(Y)
    lx, ly = _i64(lx), _i64(ly)
    B = len(X)
    values = np.empty(B)
    nb = B if grad else 0
    gX = np.zeros((nb,) + X.shape[1:])
    gY = np.zeros((nb,) + Y.shape[1:])
    edges = _split(B, _tasks(n_threads))
    _run(lambda t: _paired_task(X, lx, Y, ly, float(gamma), bool(grad), edges[t], edges[t + 1], values, gX, gY),
         len(edges) - 1, n_threads)
    return values, gX, gY


@njit(**_JIT)
def paired_alignment(X, lx, Y, ly, gamma):
    """Values (B,) and expected alignments ``dValue/dD`` (B, Tx, Ty), zero beyond the lengths."""
    B, Tx, Ty = X.shape[0], X.shape[1], Y.shape[1]
    values = np.empty(B)
    out = np.zeros((B, Tx, Ty))
    P = np.empty((Tx + 1, Ty + 1))
    Wt = np.empty((3, Tx + 1, Ty + 1))
    E = np.empty((Tx + 1, Ty + 1))
    for b in range(B):
        values[b] = _forward_backward(X[b], lx[b], Y[b], ly[b], gamma, P, Wt, E)
        for i in range(lx[b]):
            for j in range(ly[b]):
                out[b, i, j] = E[i + 1, j + 1]
    return values, out


# ---------------------------------------------------------------- threads
_POOLS = {}


def default_threads():
    """Threads the kernels use unless told: ``NUMBA_NUM_THREADS`` (numba's default: the CPUs)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def _tasks(n_threads):
    n = default_threads() if n_threads is None else max(1, int(n_threads))
    # more tasks than threads: a thread slowed by other jobs on the machine
    # leaves the rest of the work to the others
    return 1 if n == 1 else 4 * n


def _split(n, parts):
    return np.linspace(0, n, min(max(1, parts), max(1, n)) + 1).astype(np.int64)


def _run(fn, n_tasks, n_threads):
    """``fn(t)`` for every task t, on ``n_threads`` Python threads.

    The kernels release the GIL (``nogil``), so plain threads run them in
    parallel. Not numba's ``prange``: its default OpenMP layer shares torch's
    libgomp, whose idle workers spin for milliseconds after each parallel
    region, and on a machine busy with other jobs those spinning workers took
    the cores the working ones needed (measured: 2 threads 4x slower than 1).
    Waiting pool threads here sleep.

    The calling thread works too, with ``n_threads - 1`` pool threads, all
    taking the next task from one queue: the caller's core is the one already
    running, so a call waits on one wake-up fewer (measured side by side on
    2 cores: a fit of 600 segments of 6-20 frames, 41 calls of this, took
    0.9 times the time it took with the caller only waiting).
    """
    n = default_threads() if n_threads is None else max(1, int(n_threads))
    if n == 1 or n_tasks <= 1:
        for t in range(n_tasks):
            fn(t)
        return
    from concurrent.futures import ThreadPoolExecutor

    # keyed by process too: a child forked after the pool started inherits the
    # pool object but none of its threads, and would wait on it forever
    key = (os.getpid(), n)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="agser-sdtw")
    tasks = iter(range(n_tasks))
    lock = threading.Lock()

    def drain():
        while True:
            with lock:
                t = next(tasks, None)
            if t is None:
                return
            fn(t)

    helpers = [pool.submit(drain) for _ in range(min(n, n_tasks) - 1)]
    try:
        drain()
    finally:
        # a task's error is raised once every thread has stopped writing
        for f in helpers:
            f.result()


def _f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _i64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


# ------------------------------------------------------------ lanes of pairs
@njit(**_JIT)
def _row_values(dot, f, gi, xf, yn, g, T, prev, cur, left, inv_gamma, W0=None, W1=None, W2=None):
    """Row ``f`` of the programme for every lane: ``cur[1:T+1]`` from ``prev``.

    The cost of frame ``f`` with frame ``j`` of lane ``c`` of group ``g`` is
    ``xf + yn[g, j, c] - 2 dot[f, gi, j, c]`` (clipped at 0; ``dot`` is 4-D so
    that every index but the lane's is fixed in the lanes loop: a flat
    ``j * L + c`` index, which numba would wrap if negative, made LLVM gather
    the lanes one by one). With ``W0, W1, W2`` (the barycentre's backward
    pass needs them), each cell's three soft-min weights are stored in
    ``W*[j, c]``; numba compiles the call without them separately, the
    stores left out.

    The row written and the row read are separate buffers and the left
    neighbour is carried in its own (L,) buffer: were they slices of one
    array, LLVM could not prove the lanes loop free of overlapping loads and
    stores and would leave it scalar (measured: 2-5x slower). For the same
    reason it is a function of its own, not inlined into the loops where the
    rows swap places (measured: inlined, 3.6x slower).
    """
    _prefer_wide_vectors()
    L = left.shape[0]
    for c in range(L):
        left[c] = -_INF
        # column 0 of every row after the first is the border
        cur[0, c] = -_INF
    for j in range(1, T + 1):
        for c in range(L):
            dd = max(xf + yn[g, j - 1, c] - 2.0 * dot[f, gi, j - 1, c], 0.0)
            m, s, ea, eb, ec = _softmin_weights(prev[j - 1, c], prev[j, c], left[c])
            v = m + _log(s) - dd * inv_gamma
            cur[j, c] = v
            left[c] = v
            if W0 is not None:
                r = 1.0 / s
                W0[j, c] = ea * r
                W1[j, c] = eb * r
                W2[j, c] = ec * r


@njit(**_JIT)
def _dp_lanes_task(X, lx, Yf, yn, ly, ty, gamma, i0, i1, g0, g1, budget, out):
    """Soft-DTW of the row series ``X[i0:i1]`` with the lane series of groups ``g0 .. g1 - 1``.

    ``Yf`` (G, Ty * L, d): G groups of L lane series, frames ordered (frame,
    lane); ``yn`` (G, Ty, L) their frames' squared norms; ``ly`` (G, L) their
    lengths (>= 1); ``ty`` (G,) each group's longest. Writes ``out[i, g, :]``.

    The frame products come from BLAS, one product per block of rows and
    block of groups, of about ``budget`` numbers: large enough that the call
    costs little against the work (a product per group of 8 lanes and 4 rows
    cost more than its programme), small enough for the L2 cache.
    """
    Tx, d = X.shape[1], X.shape[2]
    Ty, L = yn.shape[1], yn.shape[2]
    inv_gamma = 1.0 / gamma
    prev = np.empty((Ty + 1, L))
    cur = np.empty((Ty + 1, L))
    left = np.empty(L)
    width = Ty * L
    rb = max(1, min(i1 - i0, budget // (Tx * width)))
    gb = max(1, min(g1 - g0, budget // (rb * Tx * width)))
    for a in range(i0, i1, rb):
        b = min(i1, a + rb)
        Xa = X[a:b].reshape(((b - a) * Tx, d))
        for h in range(g0, g1, gb):
            h1 = min(g1, h + gb)
            dot = np.dot(Xa, Yf[h:h1].reshape(((h1 - h) * width, d)).T).reshape(((b - a) * Tx, h1 - h, Ty, L))
            for g in range(h, h1):
                T = ty[g]
                for i in range(a, b):
                    for c in range(L):
                        prev[0, c] = 0.0
                    for j in range(1, T + 1):
                        for c in range(L):
                            prev[j, c] = -_INF
                    for r in range(lx[i]):
                        xf = 0.0
                        for k in range(d):
                            xf += X[i, r, k] * X[i, r, k]
                        _row_values(dot, (i - a) * Tx + r, g - h, xf, yn, g, T, prev, cur, left, inv_gamma)
                        prev, cur = cur, prev
                    for c in range(L):
                        out[i, g, c] = -gamma * prev[ly[g, c], c]


@njit(**_JIT)
def _gather_lanes(X, xn, src, Xl, yn):
    """``Xl[g, j * L + c] = X[src[g * L + c], j]`` and ``yn[g, j, c] = xn[...]`` (zeros where ``src`` is -1).

    Written in the order of ``Xl``, frame by frame (the reads are frames of
    ``d`` numbers in any order): one pass over the output, which need not be
    zeroed first.
    """
    T, d = X.shape[1], X.shape[2]
    G, L = yn.shape[0], yn.shape[2]
    for g in range(G):
        for j in range(T):
            for c in range(L):
                q = src[g * L + c]
                row = Xl[g, j * L + c]
                if q >= 0:
                    row[:] = X[q, j]
                    yn[g, j, c] = xn[q, j]
                else:
                    row[:] = 0.0
                    yn[g, j, c] = 0.0


def _lanes_of(Y, ly, lanes):
    """Y (m, T, d) as groups of ``lanes`` series, sorted by length.

    Returns ``Yf`` (G, T * lanes, d) (frames ordered frame, lane; the empty
    lanes of the last group hold zeros), ``yn`` (G, T, lanes) their squared
    norms, ``ly_g`` (G, lanes) (0 on empty lanes), and ``slot`` (m,): the flat
    group * lanes + lane position of each series.
    """
    m, T, d = Y.shape
    order = np.argsort(ly, kind="stable")
    G = -(-m // lanes)
    src = np.full(G * lanes, -1, dtype=np.int64)
    src[:m] = order
    Yf = np.empty((G, T * lanes, d))
    yn = np.empty((G, T, lanes))
    _gather_lanes(Y, np.einsum("ntd,ntd->nt", Y, Y), src, Yf, yn)
    ls = np.zeros(G * lanes, dtype=np.int64)
    ls[:m] = ly[order]
    slot = np.empty(m, dtype=np.int64)
    slot[order] = np.arange(m)
    return Yf, yn, ls.reshape(G, lanes), slot


def pairwise(X, lx, Y, ly, gamma, n_threads=None):
    """Soft-DTW of every ``X[i, :lx[i]]`` with every ``Y[j, :ly[j]]``.

    The side with fewer series becomes the SIMD lanes (soft-DTW is symmetric,
    so the other orientation is its transpose, equal to float64 rounding).
    Frame costs are ``|x|^2 + |y|^2 - 2 x.y`` with the products from BLAS (as
    in the torch path; the cost of two close frames is then exact to about
    1e-16 times the frames' squared norm, not to 1e-16 of itself).

    Parameters
    ----------
    X : float64 array (n, Tx, d)
    lx : int array (n,)
        Lengths, 1 <= lx <= Tx.
    Y : float64 array (m, Ty, d)
    ly : int array (m,)
    gamma : float
    n_threads : int, optional
        Threads the rows are split over (default: ``NUMBA_NUM_THREADS``).

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
    X, Y = _f64(X), _f64(Y)
    lx, ly = _i64(lx), _i64(ly)
    # the lanes: groups of 32 of the larger side, sorted by length, against
    # the rows of the smaller side; a smaller side of up to 16 series in one
    # group (rounded up to whole AVX2 registers of 4) would leave lanes empty
    # (10 centres in 12 lanes), and few lanes leave the programme waiting on
    # its own latency (measured per pair: 8 lanes 1.5x the time of 16, 16
    # lanes 1.07x that of 24 or 32)
    if len(Y) < len(X):
        return pairwise(Y, ly, X, lx, gamma, n_threads).T
    return pairwise_lanes(X, lx, lane_set(Y, ly, min(_MAX_LANES, -(-len(Y) // 4) * 4)), gamma, n_threads)


def lane_set(Y, ly, lanes=_MAX_LANES):
    """Series laid out as SIMD lanes for :func:`pairwise_lanes`: built once, used for many calls.

    Parameters
    ----------
    Y : float64 array (m, T, d)
    ly : int array (m,)
    lanes : int
        Series per group (a multiple of 4).

    Returns
    -------
    tuple
        ``(Yf, yn, ly_read, ty, slot)``: groups of ``lanes`` series sorted by
        length, frames ordered (frame, lane) (:func:`_lanes_of`); their
        squared norms; their lengths (1 for empty lanes, whose values are never
        returned); each group's longest; each series' flat lane position.
    """
    Y, ly = _f64(Y), _i64(ly)
    Ty = int(ly.max())
    Yf, yn, ly_g, slot = _lanes_of(Y if Y.shape[1] == Ty else np.ascontiguousarray(Y[:, :Ty]), ly, lanes)
    ly_read = np.maximum(ly_g, 1)
    return Yf, yn, ly_read, ly_read.max(axis=1).astype(np.int64), slot


def pairwise_lanes(X, lx, lanes, gamma, n_threads=None):
    """:func:`pairwise` of the rows ``X`` with a :func:`lane_set`; (n, m)."""
    X, lx = _f64(X), _i64(lx)
    Yf, yn, ly_read, ty, slot = lanes
    n = len(X)
    G, L = ly_read.shape
    X = X if X.shape[1] == int(lx.max()) else np.ascontiguousarray(X[:, : int(lx.max())])
    out = np.empty((n, G, L))
    # tasks: blocks of rows when there are few groups, else ranges of groups
    n_tasks = _tasks(n_threads)
    rows = _split(n, n_tasks if G < n_tasks else 1)
    groups = _split(G, 1 if G < n_tasks else n_tasks)
    nr = len(rows) - 1
    _run(lambda t: _dp_lanes_task(X, lx, Yf, yn, ly_read, ty, float(gamma), rows[t % nr], rows[t % nr + 1],
                                  groups[t // nr], groups[t // nr + 1], _BLOCK, out),
         nr * (len(groups) - 1), n_threads)
    return out.reshape(n, -1)[:, slot]


@njit(**_JIT)
def _row_alignments(Enext, Ecur, side, W0n, W1n, W2, mask, seed, T, E, rs):
    """Row i of the expected alignment, ``Ecur``, from row i + 1, ``Enext``.

    ``E[i, j] = E[i+1, j+1] W0[i+1, j+1] + E[i+1, j] W1[i+1, j] + E[i, j+1] W2[i, j+1]``
    (the weight of (i, j) in each successor's soft-min), times ``mask`` (0
    after a lane's end), plus ``seed`` (1 at a lane's end cell on the last
    row). Also written to ``E[j - 1, c]``, and added to ``rs`` (per lane).
    """
    L = side.shape[0]
    for c in range(L):
        side[c] = 0.0
        Ecur[T + 1, c] = 0.0
    for j in range(T, 0, -1):
        for c in range(L):
            e = (Enext[j + 1, c] * W0n[j + 1, c] + Enext[j, c] * W1n[j, c] + side[c] * W2[j + 1, c]) * mask[j, c]
            e += seed[j, c]
            Ecur[j, c] = e
            side[c] = e
            E[j - 1, c] = e
            rs[c] += e


@njit(**_JIT)
def _barycentre_task(C, Xl, yn, ll, tg, gamma, c0, g0, g1, grad):
    """Groups ``g0 .. g1 - 1`` (all of centre ``c0``): their total soft-DTW to the centre.

    ``Xl`` (G, T * L, d) member frames ordered (frame, lane); ``yn`` (G, T, L)
    their squared norms; ``ll`` (G, L) lane lengths (0: an empty lane); ``tg``
    (G,) each group's longest. Adds ``d total / d C[c0]`` to ``grad`` (Tc, d).

    One BLAS product gives the frame products of the centre with all the
    groups' frames; per group, the forward pass with rolling rows stores the
    soft-min weights, and the backward recursion runs row by row (row ``i + 1``
    and row ``i`` in separate buffers, the right neighbour carried, as in
    :func:`_row_values`) into the alignments ``E``; a second BLAS product of
    ``E`` with the frames gives the gradient ``2 sum_{j, lanes} E[i, j] (C[i] -
    X_lane[j])``.
    """
    Tc, d = C.shape[1], C.shape[2]
    T, L = yn.shape[1], yn.shape[2]
    width = T * L
    inv_gamma = 1.0 / gamma
    x = C[c0]
    cn = np.empty(Tc)
    for i in range(Tc):
        s2 = 0.0
        for kk in range(d):
            s2 += x[i, kk] * x[i, kk]
        cn[i] = s2
    frames = Xl[g0:g1].reshape(((g1 - g0) * width, d))
    dot = np.dot(x, frames.T).reshape((Tc, g1 - g0, T, L))
    # the alignments of all the groups, 0 after each group's longest
    E = np.zeros((Tc, g1 - g0, T, L))
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
    zero = np.zeros((T + 2, L))
    # row sums of E, per lane: a sum over the lanes inside the lanes loop would
    # be a floating-point reduction, which LLVM leaves scalar without reassociation
    rs = np.zeros((Tc, L))
    acc = 0.0
    for g in range(g0, g1):
        Tg = tg[g]
        gi = g - g0
        for c in range(L):
            prev[0, c] = 0.0
        for j in range(1, Tg + 1):
            for c in range(L):
                prev[j, c] = -_INF
        for i in range(1, Tc + 1):
            _row_values(dot, i - 1, gi, cn[i - 1], yn, g, Tg, prev, cur, side, inv_gamma, W0[i], W1[i], W2[i])
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
            _row_alignments(Enext, Ecur, side, W0[i + 1], W1[i + 1], W2[i], mask, seed if i == Tc else zero,
                            Tg, E[i - 1, gi], rs[i - 1])
            Enext, Ecur = Ecur, Enext
    M = np.dot(E.reshape((Tc, (g1 - g0) * width)), frames)
    for i in range(Tc):
        rsum = 0.0
        for c in range(L):
            rsum += rs[i, c]
        for kk in range(d):
            grad[i, kk] += 2.0 * (x[i, kk] * rsum - M[i, kk])
    return acc


def barycentre_plan(X, lx, labels, k, rows=None, lanes=None):
    """Members grouped by centre into SIMD lanes of 16, for :func:`barycentre_objective`.

    Parameters
    ----------
    X : float64 array (n, T, d)
        Series (zero-padded after their lengths).
    lx : int array (n,)
    labels : int array (M,)
        Centre (0..k-1) of each member.
    k : int
    rows : int array (M,), optional
        Rows of X that are the members (default: all, M = n); they are read
        from X directly, without a copy of the members.
    lanes : int, optional
        Members per group (default 16).

    Returns
    -------
    tuple
        ``(Xl, yn, ll, gc, tg)``: each centre's members sorted by length, 16 per
        group; ``Xl`` (G, T * 16, d) frames ordered (frame, lane), empty lanes
        zero; ``yn`` (G, T, 16) their squared norms; ``ll`` (G, 16) lengths (0:
        empty lane); ``gc`` (G,) the centre of each group; ``tg`` (G,) each
        group's longest member.
    """
    X = _f64(X)
    rows = np.arange(len(X), dtype=np.int64) if rows is None else _i64(rows)
    lm = _i64(lx)[rows]
    labels = _i64(labels)
    M, d = len(rows), X.shape[2]
    T = max(1, int(lm.max())) if M else 1
    L = _BARY_LANES if lanes is None else int(lanes)
    order = np.lexsort((lm, labels))
    counts = np.bincount(labels, minlength=k)
    groups = -(-counts // L)
    G = int(groups.sum())
    # position of each sorted member: its centre's first group, then its rank within the centre
    first = np.concatenate([[0], np.cumsum(groups)[:-1]]).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    lab_s = labels[order]
    rank = np.arange(M) - start[lab_s]
    flat = (first[lab_s] + rank // L) * L + rank % L
    src = np.full(G * L, -1, dtype=np.int64)
    src[flat] = rows[order]
    Xl = np.empty((G, T * L, d))
    yn = np.empty((G, T, L))
    Xs = X if X.shape[1] == T else np.ascontiguousarray(X[:, :T])
    _gather_lanes(Xs, np.einsum("ntd,ntd->nt", Xs, Xs), src, Xl, yn)
    ls = np.zeros(G * L, dtype=np.int64)
    ls[flat] = lm[order]
    ll = ls.reshape(G, L)
    gc = np.repeat(np.arange(k, dtype=np.int64), groups)
    return Xl, yn, ll, gc, np.maximum(ll.max(axis=1), 1).astype(np.int64)


def barycentre_objective(C, plan, gamma, n_threads=None):
    """Sum over members of soft-DTW to their full-length centre, and its gradient.

    Parameters
    ----------
    C : float64 array (k, Tc, d)
        Centres.
    plan : tuple
        :func:`barycentre_plan` of the members.
    gamma : float
    n_threads : int, optional
        Threads the groups are dealt to (default: ``NUMBA_NUM_THREADS``).

    Returns
    -------
    total : float
        ``sum_m sdtw(C[labels[m]], X[m])``.
    G : float64 array (k, Tc, d)
        Its gradient with respect to ``C``.
    """
    Xl, yn, ll, gc, tg = plan
    C = _f64(C)
    k, Tc, d = C.shape
    # tasks: runs of at most `per` groups of one centre, so that each BLAS
    # product covers many groups and its frame products and alignments (about
    # per * Tc * T * 8 numbers) stay in the cache
    per = max(1, (1 << 16) // max(1, Tc * Xl.shape[1]))
    tasks = []
    for c in range(k):
        idx = np.flatnonzero(gc == c)
        for a in range(0, len(idx), per):
            tasks.append((c, int(idx[a]), int(idx[min(len(idx), a + per) - 1]) + 1))
    totals = np.zeros(len(tasks))
    grads = np.zeros((len(tasks), Tc, d))

    def task(t):
        c, g0, g1 = tasks[t]
        totals[t] = _barycentre_task(C, Xl, yn, ll, tg, float(gamma), c, g0, g1, grads[t])

    _run(task, len(tasks), n_threads)
    grad = np.zeros_like(C)
    for t, (c, _, _) in enumerate(tasks):
        grad[c] += grads[t]
    return float(totals.sum()), grad
