"""Batched soft-DTW (Cuturi & Blondel, 2017) in PyTorch: value and gradient.

The dynamic programme runs over anti-diagonals (``i + j = const``): every cell
of one diagonal depends only on the two diagonals before it, so one diagonal
of *all pairs in the batch* is one vectorised tensor operation and the Python
loop is over ``T_x + T_y`` diagonals, not over cells or pairs. The gradient is
the paper's backward recursion (their Algorithm 2), run as its own reversed
anti-diagonal pass over the stored accumulated costs; autograd is never
threaded through the programme.

The local cost is the squared Euclidean distance between frames, as in
``tslearn.metrics.soft_dtw``; a series may be shorter than its padded length
(``lengths``), and then only its first ``length`` frames count.

Layout: a batch of ``B`` pairs is one ``(T_x, T_y, B)`` grid, pair index
last, and anti-diagonal ``k`` is read and written in place through a strided
view (``V[k, i] = grid[i, k - i]``), a ``(n_i, B)`` slice whose rows are
contiguous runs of ``B`` numbers. Costs are kept divided by ``gamma``, which
saves one multiplication per cell and per operation. Variable lengths cost
nothing in the forward pass (cell ``(l_x, l_y)`` does not depend on the
padding after it); the backward pass zeroes the cells outside each pair's
``l_x x l_y`` rectangle with one precomputed mask.

On CPU the first call turns on ``torch.set_flush_denormal(True)``: the
exponentials of far-off alignment paths underflow into denormal numbers, whose
arithmetic is 10-100x slower on x86; flushing them changes values below about
1e-38 only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse
import torch

from agser.errors import ParameterError

__all__ = [
    "resolve_backend",
    "soft_dtw",
    "soft_dtw_batch",
    "soft_dtw_pairwise",
    "soft_dtw_grad",
    "squared_euclidean_cost",
    "to_padded",
    "SoftDTWLoss",
]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _torch_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return dtype
    key = np.dtype(dtype).name
    if key not in _DTYPES:
        raise ParameterError(f"dtype={dtype!r} must be 'float32' or 'float64'")
    return _DTYPES[key]


def _check_gamma(gamma):
    gamma = float(gamma)
    if not gamma > 0 or not math.isfinite(gamma):
        raise ParameterError(f"gamma={gamma!r} must be a positive finite number")
    return gamma


def resolve_backend(backend, device="cpu"):
    """The soft-DTW engine a ``backend`` choice means on a ``device``.

    Parameters
    ----------
    backend : "auto", "numba" or "torch"
        ``"numba"``: compiled kernels (:mod:`agser.clustering._soft_dtw_numba`),
        CPU, float64; ``"torch"``: the batched PyTorch programme, any device;
        ``"auto"``: numba on the CPU, torch elsewhere (CUDA).
    device : str or torch.device

    Returns
    -------
    "numba" or "torch"

    Examples
    --------
    >>> resolve_backend("auto", "cpu"), resolve_backend("auto", "cuda")
    ('numba', 'torch')
    """
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise ParameterError(f"device={device!r} is not a torch device ({err})") from None
    if backend == "auto":
        return "numba" if kind == "cpu" else "torch"
    if backend == "numba" and kind != "cpu":
        raise ParameterError(f"backend='numba' runs on the CPU only; device={device!r} needs backend='torch'")
    if backend not in ("numba", "torch"):
        raise ParameterError(f"backend={backend!r} must be 'auto', 'numba' or 'torch'")
    return backend


def to_padded(dataset, dtype=np.float64):
    """A dataset of series as one NaN-free padded array and the series lengths.

    Parameters
    ----------
    dataset : array (n, T, d), array (n, T), or sequence of arrays (T_i, d) or (T_i,)
        tslearn's format (rows of NaN after a series' end mark a shorter
        series) or a list of series of any lengths; units as given.
    dtype : numpy dtype
        Dtype of the returned array.

    Returns
    -------
    X : ndarray (n, T_max, d)
        The series, zero-filled after each one's end.
    lengths : ndarray (n,) int64
        Number of frames of each series (>= 1).

    Examples
    --------
    >>> X, lengths = to_padded([np.zeros((2, 3)), np.ones((4, 3))])
    >>> X.shape, lengths.tolist()
    ((2, 4, 3), [2, 4])
    """
    if isinstance(dataset, torch.Tensor):
        dataset = dataset.detach().cpu().numpy()
    if scipy.sparse.issparse(dataset):
        raise ParameterError(f"a sparse {type(dataset).__name__} is not a dataset of series; pass a dense array")
    if not isinstance(dataset, (list, tuple, np.ndarray)) and hasattr(dataset, "__array__"):
        # array-likes (DataFrames, memmaps, ...) are read as arrays
        dataset = np.asarray(dataset)
    if isinstance(dataset, np.ndarray) and np.iscomplexobj(dataset):
        raise ParameterError(f"Complex data not supported (dtype {dataset.dtype})")
    if isinstance(dataset, np.ndarray) and dataset.dtype != object:
        arr = np.asarray(dataset, dtype=dtype)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            # the wording of scikit-learn's own message, which its estimator checks expect
            raise ParameterError(
                f"dataset of shape {arr.shape} must be (n, T, d) or (n, T); Reshape your data: "
                "a single series x of shape (T, d) is x[None]"
            )
        if arr.shape[0] and (arr.shape[1] == 0 or arr.shape[2] == 0):
            raise ParameterError(
                f"series of 0 frames or 0 dimensions: found array with 0 feature(s) "
                f"(shape={dataset.shape}) while a minimum of 1 is required."
            )
        frame_ok = ~np.all(np.isnan(arr), axis=2)
        # tslearn: a series ends at its last frame that is not all-NaN
        lengths = np.where(frame_ok.any(axis=1), arr.shape[1] - np.argmax(frame_ok[:, ::-1], axis=1), 0)
        inside = np.arange(arr.shape[1])[None, :] < lengths[:, None]
        if np.isnan(arr[inside]).any():
            raise ParameterError("NaN inside a series (only trailing NaN padding is allowed)")
        if np.isinf(arr).any():
            raise ParameterError("a series holds an infinite value (inf)")
        X = np.nan_to_num(arr, nan=0.0)
        series_lengths = lengths
    else:
        series = []
        for idx, s in enumerate(dataset):
            s = np.asarray(s)
            if s.dtype.kind == "c":
                raise ParameterError(f"Complex data not supported (series {idx} is complex)")
            s = s.astype(dtype, copy=False)
            if s.ndim == 1:
                s = s[:, None]
            if s.ndim != 2:
                raise ParameterError(f"series {idx} has shape {s.shape}; expected (T, d)")
            series.append(s)
        if not series:
            raise ParameterError("dataset is empty")
        d = {s.shape[1] for s in series}
        if len(d) != 1:
            raise ParameterError(f"series have different frame dimensions {sorted(d)}")
        d = d.pop()
        # one vectorised pass over all frames (a per-series loop of numpy calls
        # costs more than the soft-DTW of a small batch)
        raw = np.array([len(s) for s in series], dtype=np.int64)
        flat = np.concatenate(series, axis=0) if raw.sum() else np.zeros((0, d), dtype=dtype)
        owner = np.repeat(np.arange(len(series)), raw)
        frame = np.arange(len(flat)) - np.repeat(np.cumsum(raw) - raw, raw)
        ok = ~np.all(np.isnan(flat), axis=1)
        # a series ends after its last frame that is not all-NaN (tslearn padding);
        # the frames of a series are contiguous in flat, so one reduceat per series
        series_lengths = np.zeros(len(series), dtype=np.int64)
        nonempty = raw > 0
        if nonempty.any():
            series_lengths[nonempty] = np.maximum.reduceat(np.where(ok, frame + 1, 0), (np.cumsum(raw) - raw)[nonempty])
        keep = frame < series_lengths[owner]
        # lists of arrays rarely carry NaN padding: then every frame is kept, without a copy
        every = bool(keep.all())
        kept = flat if every else flat[keep]
        if np.isnan(kept).any():
            raise ParameterError("NaN inside a series (only trailing NaN padding is allowed)")
        if np.isinf(kept).any():
            raise ParameterError("a series holds an infinite value (inf)")
        T = max(int(series_lengths.max()), 1)
        X = np.zeros((len(series), T, d), dtype=dtype)
        # rows of the (n * T, d) view: one index per frame, not a pair of them
        rows = owner * T + frame
        X.reshape(-1, d)[rows if every else rows[keep]] = kept
    if len(X) == 0:
        raise ParameterError("dataset is empty")
    if np.any(series_lengths < 1):
        bad = int(np.nonzero(series_lengths < 1)[0][0])
        raise ParameterError(f"series {bad} has no frame that is not NaN")
    return X, np.asarray(series_lengths, dtype=np.int64)


def squared_euclidean_cost(X, Y):
    """Squared Euclidean frame costs of a batch of pairs, pair index last.

    Parameters
    ----------
    X : tensor (B, Tx, d)
    Y : tensor (B, Ty, d)

    Returns
    -------
    tensor (Tx, Ty, B), contiguous
        ``|X[b, i] - Y[b, j]|^2`` (squared input units), clipped at 0.

    Examples
    --------
    >>> import torch
    >>> squared_euclidean_cost(torch.zeros(1, 2, 3), torch.ones(1, 1, 3))[:, :, 0]
    tensor([[3.],
            [3.]])
    """
    xx = (X * X).sum(-1)
    yy = (Y * Y).sum(-1)
    D = torch.baddbmm(xx[:, :, None] + yy[:, None, :], X, Y.transpose(1, 2), alpha=-2.0)
    return D.clamp_(min=0.0).permute(1, 2, 0).contiguous()


def _diagonals(grid, Ty_full, n_diag, n_rows):
    """View ``V[k, i] = grid[i, k - i]`` of a contiguous (rows, Ty_full, B) tensor.

    Anti-diagonal ``k`` of the grid becomes one strided (n_rows, B) slice, so
    an update of a whole diagonal of every pair is a single tensor operation
    that reads and writes the grid in place (no skewed copy).
    """
    B = grid.shape[-1]
    return grid.as_strided((n_diag, n_rows, B), (B, (Ty_full - 1) * B, 1), grid.storage_offset())


def _sdtw_core(D, lx, ly, gamma, need_grad):
    """Soft-DTW values and optionally dValue/dD for a batch of cost grids.

    Parameters
    ----------
    D : tensor (Tx, Ty, B), contiguous
        Local costs, pair index last; entries beyond a pair's lengths may hold
        anything finite. May be overwritten (divided by gamma in place).
    lx, ly : tensor (B,) int64
        Lengths of each pair's two series (1 <= lx <= Tx, 1 <= ly <= Ty).
    gamma : float
    need_grad : bool

    Returns
    -------
    values : tensor (B,)
    E : tensor (Tx, Ty, B) or None
        Expected alignment matrix = dValue/dD (zero beyond the lengths).
    """
    Tx, Ty, B = D.shape
    K = Tx + Ty
    dev, dt = D.device, D.dtype
    if dev.type == "cpu":
        # exp() of far-off paths underflows into denormals, which are 10-100x
        # slower on x86; flushing them to zero changes values below 1e-38 only
        torch.set_flush_denormal(True)
    # the diagonal views below assume a contiguous (Tx, Ty, B) layout
    D = D.contiguous()
    D.mul_(1.0 / gamma)
    # D's diagonal view is indexed [k - 2, i - 1] for 1-based cell (i, j = k - i)
    Dd = _diagonals(D, Ty, K - 1, Tx)
    # R, S, E live on a (Tx + 2, Ty + 2) grid: row/column 0 is the DP's border,
    # row Tx + 1 / column Ty + 1 the border of the backward recursion
    W = Ty + 2
    # P = -R / gamma (negated accumulated cost), so that the soft-min of three
    # predecessors is two logaddexp calls: P[i,j] = lse(P[i-1,j-1], P[i-1,j], P[i,j-1]) - D[i,j]
    P = torch.empty((Tx + 2, W, B), dtype=dt, device=dev)
    P[0] = -math.inf
    P[:, 0] = -math.inf
    P[0, 0] = 0.0
    Pd = _diagonals(P, W, K + 3, Tx + 2)
    if need_grad:
        # Q = the log-sum-exp of each cell's predecessors; +inf on the far border
        # so that the backward weights exp(P - Q) of border cells are 0
        Q = torch.empty((Tx + 2, W, B), dtype=dt, device=dev)
        Q[Tx + 1] = math.inf
        Q[:, Ty + 1] = math.inf
        Qd = _diagonals(Q, W, K + 3, Tx + 2)
    for k in range(2, K + 1):
        lo, hi = max(1, k - Ty), min(Tx, k - 1)
        t = torch.logaddexp(Pd[k - 2, lo - 1 : hi], Pd[k - 1, lo - 1 : hi])
        if need_grad:
            t = torch.logaddexp(t, Pd[k - 1, lo : hi + 1], out=Qd[k, lo : hi + 1])
        else:
            torch.logaddexp(t, Pd[k - 1, lo : hi + 1], out=t)
        torch.sub(t, Dd[k - 2, lo - 1 : hi], out=Pd[k, lo : hi + 1])
    b_idx = torch.arange(B, device=dev)
    values = P[lx, ly, b_idx] * -gamma
    if not need_grad:
        return values, None

    E = torch.empty((Tx + 2, W, B), dtype=dt, device=dev)
    E[Tx + 1] = 0.0
    E[:, Ty + 1] = 0.0
    Ed = _diagonals(E, W, K + 3, Tx + 2)
    uniform = bool((lx == Tx).all() and (ly == Ty).all())
    E[Tx, Ty] = 1.0 if uniform else 0.0
    if not uniform:
        # cells inside each pair's (lx, ly) rectangle keep their sum, others are
        # zeroed; the end cell (lx, ly) gets the seed 1 of the recursion
        iv = torch.arange(Tx + 2, device=dev)[:, None, None]
        jv = torch.arange(W, device=dev)[None, :, None]
        M = ((iv <= lx) & (jv <= ly)).to(dt)
        Md = _diagonals(M, W, K + 3, Tx + 2)
        one = torch.zeros((Tx + 2, W, B), dtype=dt, device=dev)
        one[lx, ly, b_idx] = 1.0
        oned = _diagonals(one, W, K + 3, Tx + 2)
    for k in range(K if not uniform else K - 1, 1, -1):
        lo, hi = max(1, k - Ty), min(Tx, k - 1)
        # dR[s]/dR[i,j] = exp(soft-min[s] - R[i,j]) = exp(P[i,j] - Q[s]) for the successors s
        p = Pd[k, lo : hi + 1]
        e = torch.sub(p, Qd[k + 1, lo + 1 : hi + 2]).exp_().mul_(Ed[k + 1, lo + 1 : hi + 2])
        e.addcmul_(torch.sub(p, Qd[k + 1, lo : hi + 1]).exp_(), Ed[k + 1, lo : hi + 1])
        e.addcmul_(torch.sub(p, Qd[k + 2, lo + 1 : hi + 2]).exp_(), Ed[k + 2, lo + 1 : hi + 2])
        if uniform:
            Ed[k, lo : hi + 1] = e
        else:
            torch.addcmul(oned[k, lo : hi + 1], e, Md[k, lo : hi + 1], out=Ed[k, lo : hi + 1])
    return values, E[1 : Tx + 1, 1 : Ty + 1]


def _as_tensor(a, device, dtype):
    if isinstance(a, torch.Tensor):
        return a.to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(a), device=device, dtype=dtype)


def _lengths(lengths, n, T, device, name):
    if lengths is None:
        return torch.full((n,), T, dtype=torch.int64, device=device)
    out = torch.as_tensor(np.asarray(lengths) if not isinstance(lengths, torch.Tensor) else lengths)
    out = out.to(device=device, dtype=torch.int64).reshape(-1)
    if out.shape[0] != n:
        raise ParameterError(f"{name} has {out.shape[0]} entries for {n} series")
    if n and (int(out.min()) < 1 or int(out.max()) > T):
        raise ParameterError(f"{name} must lie in [1, {T}]; got [{int(out.min())}, {int(out.max())}]")
    return out


def soft_dtw_batch(
    X, Y, gamma=1.0, x_lengths=None, y_lengths=None, grad=False, device=None, dtype=None
):
    """Soft-DTW of B pairs ``(X[b], Y[b])`` at once, and optionally its gradients.

    Parameters
    ----------
    X : array or tensor (B, Tx, d)
        First series of each pair, zero- or anything-padded after ``x_lengths``.
    Y : array or tensor (B, Ty, d)
        Second series of each pair.
    gamma : float
        Smoothing (> 0), in units of the squared frame distance.
    x_lengths, y_lengths : int array (B,), optional
        Frames of each series (default: the full padded length).
    grad : bool
        Also return the gradients with respect to ``X`` and ``Y``.
    device : str or torch.device, optional
        Where to compute (default: the device of ``X`` if a tensor, else CPU).
    dtype : "float32" or "float64", optional
        Precision (default: ``X``'s if floating, else float64).

    Returns
    -------
    values : tensor (B,)
        ``soft-DTW_gamma(X[b, :lx], Y[b, :ly])``.
    gX, gY : tensors (B, Tx, d), (B, Ty, d)
        Only with ``grad=True``; zero beyond the lengths.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[1.0], [2.0], [3.0]]], dtype=torch.float64)
    >>> y = torch.tensor([[[3.0], [4.0], [-3.0]]], dtype=torch.float64)
    >>> round(float(soft_dtw_batch(x, y, gamma=1.0)[0]), 4)
    41.1876
    """
    gamma = _check_gamma(gamma)
    if device is None:
        device = X.device if isinstance(X, torch.Tensor) else "cpu"
    if dtype is None:
        dtype = X.dtype if isinstance(X, torch.Tensor) and X.is_floating_point() else torch.float64
    dtype = _torch_dtype(dtype)
    X = _as_tensor(X, device, dtype)
    Y = _as_tensor(Y, device, dtype)
    if X.ndim != 3 or Y.ndim != 3 or X.shape[0] != Y.shape[0] or X.shape[2] != Y.shape[2]:
        raise ParameterError(f"X {tuple(X.shape)} and Y {tuple(Y.shape)} must be (B, Tx, d), (B, Ty, d)")
    B, Tx, _ = X.shape
    Ty = Y.shape[1]
    lx = _lengths(x_lengths, B, Tx, device, "x_lengths")
    ly = _lengths(y_lengths, B, Ty, device, "y_lengths")
    # padded frames must be finite for the cost matrix; they never reach a value
    X = torch.nan_to_num(X)
    Y = torch.nan_to_num(Y)
    D = squared_euclidean_cost(X, Y)
    values, E = _sdtw_core(D, lx, ly, gamma, grad)
    if not grad:
        return values
    # bmm on the pair-last layout is pathologically slow: copy to pair-first once
    E = E.permute(2, 0, 1).contiguous()
    gX = 2.0 * (E.sum(2)[:, :, None] * X - torch.bmm(E, Y))
    gY = 2.0 * (E.sum(1)[:, :, None] * Y - torch.bmm(E.transpose(1, 2), X))
    return values, gX, gY


def _value_and_grad_x(X, Y, lx, ly, gamma):
    """Values (B,) and d/dX (B, Tx, d) for clean tensors; no checks (inner loops)."""
    values, E = _sdtw_core(squared_euclidean_cost(X, Y), lx, ly, gamma, True)
    E = E.permute(2, 0, 1).contiguous()
    return values, 2.0 * (E.sum(2)[:, :, None] * X - torch.bmm(E, Y))


def soft_dtw_grad(X, Y, gamma=1.0, x_lengths=None, y_lengths=None):
    """Expected alignment matrices ``dValue/dD`` of a batch (tslearn's ``SoftDTW.grad()``).

    Parameters
    ----------
    X : array or tensor (B, Tx, d)
    Y : array or tensor (B, Ty, d)
    gamma : float
    x_lengths, y_lengths : int array (B,), optional

    Returns
    -------
    values : tensor (B,)
    E : tensor (B, Tx, Ty)
        Zero beyond each pair's lengths.
    """
    gamma = _check_gamma(gamma)
    dtype = X.dtype if isinstance(X, torch.Tensor) and X.is_floating_point() else torch.float64
    device = X.device if isinstance(X, torch.Tensor) else "cpu"
    X = torch.nan_to_num(_as_tensor(X, device, dtype))
    Y = torch.nan_to_num(_as_tensor(Y, device, dtype))
    lx = _lengths(x_lengths, X.shape[0], X.shape[1], device, "x_lengths")
    ly = _lengths(y_lengths, Y.shape[0], Y.shape[1], device, "y_lengths")
    values, E = _sdtw_core(squared_euclidean_cost(X, Y), lx, ly, gamma, True)
    return values, E.permute(2, 0, 1).contiguous()


def soft_dtw_pairwise(
    X, Y=None, gamma=1.0, x_lengths=None, y_lengths=None, device="cpu", dtype="float64",
    max_pairs=16384, backend="auto",
):
    """Soft-DTW between every series of ``X`` and every series of ``Y``.

    Parameters
    ----------
    X : dataset (n, Tx, d) NaN-padded, list of (T_i, d) arrays, or tensor
        With a tensor, ``x_lengths`` gives the lengths (default: full).
    Y : dataset (m, Ty, d), optional
        Default: ``X``.
    gamma : float
        Smoothing (> 0), in units of the squared frame distance.
    x_lengths, y_lengths : int array, optional
        Only for tensor inputs.
    device : str
        ``"cpu"`` or ``"cuda"``.
    dtype : "float32" or "float64"
        Precision of the torch backend (the numba backend computes in float64).
    max_pairs : int
        Pairs per vectorised torch call; bounds memory (about
        ``max_pairs * (Tx+Ty) * Tx`` numbers, times three with gradients).
    backend : "auto", "numba" or "torch"
        See :func:`resolve_backend`; ``"auto"`` is numba on the CPU (compiled,
        pairs over ``NUMBA_NUM_THREADS`` threads), torch on CUDA.

    Returns
    -------
    ndarray (n, m) float64

    Examples
    --------
    >>> soft_dtw_pairwise([[1, 2, 2, 3]], [[1., 2., 3., 4.], [0, 0, 0, 0]], gamma=1.0).round(4)
    array([[-0.8954, 16.9999]])
    >>> soft_dtw_pairwise([[1, 2, 2, 3]], [[1., 2., 3., 4.]], gamma=1.0, backend="torch").round(4)
    array([[-0.8954]])
    """
    gamma = _check_gamma(gamma)
    if resolve_backend(backend, device) == "numba":
        device, dtype = "cpu", "float64"
    Xt, lx = _dataset_tensor(X, x_lengths, device, dtype)
    if Y is None:
        Yt, ly = Xt, lx
    else:
        Yt, ly = _dataset_tensor(Y, y_lengths, device, dtype)
    if resolve_backend(backend, device) == "numba":
        from threadpoolctl import threadpool_limits

        from agser.clustering._soft_dtw_numba import pairwise

        def c(t):
            return np.ascontiguousarray(t.numpy())

        # BLAS computes the kernels' small frame products inside their threads:
        # one BLAS thread, so that its idle workers do not spin on those cores
        with threadpool_limits(limits=1, user_api="blas"):
            return pairwise(c(Xt), c(lx.to(torch.int64)), c(Yt), c(ly.to(torch.int64)), gamma)
    return _pairwise_tensor(Xt, lx, Yt, ly, gamma, max_pairs).cpu().numpy().astype(np.float64)


def _dataset_tensor(X, lengths, device, dtype):
    dtype = _torch_dtype(dtype)
    if isinstance(X, torch.Tensor):
        X = X.to(device=device, dtype=dtype)
        if X.ndim == 2:
            X = X[:, :, None]
        return torch.nan_to_num(X), _lengths(lengths, X.shape[0], X.shape[1], device, "lengths")
    if lengths is not None:
        raise ParameterError("lengths are only taken with tensor input; mark ends by NaN padding")
    arr, lens = to_padded(X)
    return torch.as_tensor(arr, device=device, dtype=dtype), torch.as_tensor(lens, device=device)


def _pairwise_tensor(X, lx, Y, ly, gamma, max_pairs=16384):
    """(n, m) soft-DTW matrix of padded tensors; chunks rows of X."""
    n, m = X.shape[0], Y.shape[0]
    out = torch.empty((n, m), dtype=X.dtype, device=X.device)
    rows = max(1, max_pairs // max(m, 1))
    Ty = int(ly.max())
    Y = Y[:, :Ty]
    Y2 = (Y * Y).sum(-1)  # (m, Ty)
    # rows sorted by length: each chunk's grid is only as long as its longest row
    order = torch.argsort(lx, stable=True)
    for start in range(0, n, rows):
        sl = order[start : start + rows]
        lxs = lx[sl]
        T = int(lxs.max())
        Xs = X[sl, :T]
        r = Xs.shape[0]
        # the (T, Ty, pairs) cost grid straight from one batched product, pairs
        # ordered centre-major (pair = c * r + row), so no transposing copy:
        # D[t, (u, c), row] = |x_row,t|^2 + |y_c,u|^2 - 2 y_c,u . x_row,t
        Yf = Y.transpose(0, 1).reshape(1, Ty * m, -1).expand(T, -1, -1)
        Xt = Xs.permute(1, 2, 0)  # (T, d, r)
        base = Y2.T.reshape(1, Ty * m, 1) + (Xs * Xs).sum(-1).T.reshape(T, 1, r)
        D = torch.baddbmm(base, Yf, Xt, alpha=-2.0).clamp_(min=0.0).reshape(T, Ty, m * r)
        vals, _ = _sdtw_core(D, lxs.repeat(m), ly.repeat_interleave(r), gamma, need_grad=False)
        vals = vals.reshape(m, r).T
        out[sl] = vals
    return out


def soft_dtw(x, y, gamma=1.0):
    """Soft-DTW between two series (squared Euclidean frame cost), in float64.

    Parameters
    ----------
    x : array (Tx, d) or (Tx,)
        First series; trailing all-NaN frames are dropped (tslearn padding).
    y : array (Ty, d) or (Ty,)
        Second series, same d.
    gamma : float
        Smoothing (> 0), in units of the squared frame distance.

    Returns
    -------
    float

    Examples
    --------
    >>> round(soft_dtw([1, 2, 2, 3], [1., 2., 3., 4.], gamma=1.0), 4)
    -0.8954
    """
    X, lx = to_padded([np.asarray(x, dtype=np.float64)])
    Y, ly = to_padded([np.asarray(y, dtype=np.float64)])
    if X.shape[2] != Y.shape[2]:
        raise ParameterError(f"x has {X.shape[2]} dimensions per frame and y has {Y.shape[2]}")
    return float(soft_dtw_batch(X, Y, gamma, x_lengths=lx, y_lengths=ly)[0])


class _SoftDTWFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, Y, lx, ly, gamma):
        values, gX, gY = soft_dtw_batch(X, Y, gamma, lx, ly, grad=True)
        ctx.save_for_backward(gX, gY)
        return values

    @staticmethod
    def backward(ctx, g):
        gX, gY = ctx.saved_tensors
        return g[:, None, None] * gX, g[:, None, None] * gY, None, None, None


class SoftDTWLoss(torch.nn.Module):
    """Soft-DTW as a differentiable torch module (gradient by the backward recursion).

    Parameters
    ----------
    gamma : float
        Smoothing (> 0).

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros((2, 3, 4), dtype=torch.float64, requires_grad=True)
    >>> y = torch.ones((2, 5, 4), dtype=torch.float64)
    >>> SoftDTWLoss(0.1)(x, y).sum().backward()
    >>> tuple(x.grad.shape)
    (2, 3, 4)
    """

    def __init__(self, gamma=1.0):
        super().__init__()
        self.gamma = _check_gamma(gamma)

    def forward(self, X, Y, x_lengths=None, y_lengths=None):
        """Values (B,) for the pairs ``(X[b], Y[b])``; X (B, Tx, d), Y (B, Ty, d)."""
        lx = _lengths(x_lengths, X.shape[0], X.shape[1], X.device, "x_lengths")
        ly = _lengths(y_lengths, Y.shape[0], Y.shape[1], Y.device, "y_lengths")
        return _SoftDTWFunction.apply(X, Y, lx, ly, self.gamma)
