"""Time-series k-means under soft-DTW, with batched soft-DTW (numba on CPU, PyTorch on CUDA).

The estimator follows ``tslearn.clustering.TimeSeriesKMeans(metric="softdtw")``
step for step (k-means++ seeding, assignment by soft-DTW, soft-DTW barycentres
by L-BFGS warm-started at the previous centres, stop when the inertia changes
by less than ``tol``) but computes every step as a few large batched calls:

- assignment: one soft-DTW value for each of the ``n x k`` (series, centre)
  pairs, in chunks of ``max_pairs``;
- barycentres: all ``k`` centres are optimised *together* by one L-BFGS-B run
  (scipy) on their concatenation. The objective, the sum over every series of
  its soft-DTW to its own centre, separates over clusters, so its minimiser is
  the set of per-cluster barycentres tslearn finds one by one; each objective
  evaluation is one batched soft-DTW + gradient call over all (centre, member)
  pairs, pairs sorted by length so chunks carry little padding.

Two engines compute those calls: compiled numba kernels, one fused loop per
pair and pairs over threads (:mod:`agser.clustering._soft_dtw_numba`; CPU,
float64), and the PyTorch anti-diagonal programme
(:mod:`agser.clustering._soft_dtw`; CPU or CUDA, float32 or float64). The
numba engine is several times faster on CPU because nothing is dispatched per
anti-diagonal; torch is the one for GPUs. ``backend="auto"`` picks numba on
CPU and torch on CUDA.

Differences from tslearn, on purpose:

- ``inertia_`` is the mean soft-DTW of each series to its centre (the
  objective both algorithms minimise). tslearn reports the mean of *squared*
  soft-DTW values, which is not monotone in fit quality because soft-DTW is
  negative for close series (with ``backend="tslearn"`` its own figure is kept
  as ``tslearn_inertia_``).
- k-means++ samples candidates with probability proportional to the soft-DTW
  *divergence* ``sdtw(x, c) - (sdtw(x, x) + sdtw(c, c)) / 2`` to the closest
  chosen centre, which is >= 0 and 0 at ``x = c`` (tslearn squares raw
  soft-DTW values, which can be negative).
- Empty clusters: tslearn restarts the whole fit; here an empty cluster is
  re-seeded with the series that is worst served by its centre (largest
  soft-DTW divergence to it, taken from a cluster with at least two series),
  resampled to the centre length, and the fit goes on.
- ``barycenter_sample``: optionally, the barycentre step uses at most that
  many randomly drawn members per cluster (a fresh draw each iteration); the
  assignment and the inertia always use every series.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from agser.clustering._soft_dtw import (
    _check_gamma,
    _pairwise_tensor,
    _torch_dtype,
    _value_and_grad_x,
    resolve_backend,
    soft_dtw_batch,
    to_padded,
)
from agser.errors import ParameterError

__all__ = ["SoftDTWKMeans", "NotFittedError", "resample_series"]


class NotFittedError(ParameterError, _SklearnNotFittedError):
    """A model is used before ``fit``: scikit-learn's ``NotFittedError`` and agser's ``ParameterError``.

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    >>> issubclass(NotFittedError, SklearnNotFittedError) and issubclass(NotFittedError, ParameterError)
    True
    """


def resample_series(x, length, size):
    """Linearly resample the first ``length`` frames of ``x`` to ``size`` frames.

    Same rule as tslearn's ``TimeSeriesResampler`` (time axis mapped onto
    ``[0, 1]``).

    Parameters
    ----------
    x : ndarray (T, d)
    length : int
        Frames of ``x`` that belong to the series.
    size : int
        Frames wanted.

    Returns
    -------
    ndarray (size, d)

    Examples
    --------
    >>> resample_series(np.array([[0.0], [1.0]]), 2, 3)[:, 0].tolist()
    [0.0, 0.5, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)[:length]
    t_new = np.linspace(0, 1, size)
    t_old = np.linspace(0, 1, length)
    return np.stack([np.interp(t_new, t_old, x[:, j]) for j in range(x.shape[1])], axis=1)


class SoftDTWKMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means of time series under soft-DTW (fast, batched; tslearn-compatible).

    A scikit-learn estimator (``get_params``/``set_params``/``clone``,
    ``fit_predict``, ``fit_transform``) whose samples are time series rather
    than feature vectors: ``X`` is tslearn's ``(n, T, d)`` array, NaN-padded
    after each series' end, a 2-D ``(n, T)`` array of univariate series, or a
    list of ``(T_i, d)`` arrays.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k.
    gamma : float
        Soft-DTW smoothing (> 0), in units of the squared frame distance.
    max_iter : int
        Maximum k-means iterations (assignment + barycentre update).
    tol : float
        Stop when the inertia changes by less than this between iterations.
    n_init : int
        Independent seedings; the fit with the lowest inertia is kept.
    max_iter_barycenter : int
        L-BFGS iterations per barycentre update (tslearn's parameter).
    tol_barycenter : float
        L-BFGS ``tol`` of the barycentre update (tslearn uses 1e-3).
    init : "k-means++", "random" or array (n_clusters, T_c, d)
        Seeding, or initial centres (all full-length, no NaN).
    barycenter_sample : int or None
        At most this many members per cluster enter a barycentre update
        (None: all). Trades exactness of the update for speed on large data.
    random_state : int, numpy Generator/RandomState or None
    backend : "auto", "numba", "torch" or "tslearn"
        Engine of the soft-DTW computations. ``"numba"``: compiled kernels,
        pairs over threads, float64, CPU only (the fastest on CPU);
        ``"torch"``: the batched PyTorch programme, CPU or CUDA, in ``dtype``;
        ``"auto"``: numba when ``device`` is the CPU, torch otherwise;
        ``"tslearn"`` fits ``tslearn.clustering.TimeSeriesKMeans(metric="softdtw")``
        (the reference) through this interface.
    device : str
        ``"cpu"`` or a torch device such as ``"cuda"`` (torch backend).
    dtype : "float32" or "float64"
        Precision of the torch backend's soft-DTW (float32 is about 2-3x faster
        on CPU; the L-BFGS state is always float64). The numba backend always
        computes in float64.
    max_pairs : int
        Pairs per vectorised torch soft-DTW call (bounds memory).
    n_threads : "auto", int or None
        CPU threads while fitting and predicting (restored afterwards): the
        torch backend's torch threads, or the numba backend's numba threads.
        ``"auto"``: 1 for torch, deliberately (each diagonal step is a small
        operation, which two OpenMP threads speed up little and, on a machine
        busy with other jobs, slow down many-fold while one waits for the
        other), and ``NUMBA_NUM_THREADS`` for numba (all cores unless set;
        its kernels hand blocks of pairs to threads one at a time, so they
        scale with the free cores). None: torch's current setting; numba as
        "auto".
    verbose : bool
        Print the inertia of each iteration.

    Attributes
    ----------
    cluster_centers_ : ndarray (n_clusters, T_c, d)
        Centres; ``T_c`` is the longest series' length (as tslearn).
    labels_ : ndarray (n,) int
        Cluster of each training series.
    inertia_ : float
        Mean soft-DTW of each training series to its centre.
    n_iter_ : int
        k-means iterations run by the kept initialisation.
    n_empty_reseeded_ : int
        Times an empty cluster was re-seeded.
    n_features_in_ : int
        Frame dimension ``d`` of the training series (not their length: series
        of any length can be predicted).

    See Also
    --------
    agser.clustering.soft_dtw_pairwise : the soft-DTW matrix ``transform`` returns.

    Notes
    -----
    ``predict``, ``transform`` and ``save`` of an unfitted model raise
    :class:`NotFittedError` (scikit-learn's, and a ``ParameterError``). A
    refit discards everything learned by the previous fit.

    References
    ----------
    .. [1] M. Cuturi, M. Blondel, "Soft-DTW: a differentiable loss function
       for time-series", ICML 2017.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = [np.sin(np.linspace(0, 3, n))[:, None] + s + 0.01 * rng.normal(size=(n, 1))
    ...      for n, s in zip(rng.integers(3, 8, 20), [0.0, 5.0] * 10)]
    >>> km = SoftDTWKMeans(n_clusters=2, gamma=0.1, random_state=0).fit(X)
    >>> sorted(np.bincount(km.labels_).tolist())
    [10, 10]
    >>> bool((km.predict(X) == km.labels_).all())
    True
    >>> km.transform(X).shape
    (20, 2)
    """

    def __init__(
        self,
        n_clusters=8,
        gamma=1.0,
        max_iter=50,
        tol=1e-6,
        n_init=1,
        max_iter_barycenter=100,
        tol_barycenter=1e-3,
        init="k-means++",
        barycenter_sample=None,
        random_state=None,
        backend="auto",
        device="cpu",
        dtype="float32",
        max_pairs=16384,
        n_threads="auto",
        verbose=False,
    ):
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.max_iter_barycenter = max_iter_barycenter
        self.tol_barycenter = tol_barycenter
        self.init = init
        self.barycenter_sample = barycenter_sample
        self.random_state = random_state
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.max_pairs = max_pairs
        self.n_threads = n_threads
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # samples are series: (n, T, d) arrays and lists of (T_i, d) arrays are taken
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ API
    def fit(self, X, y=None):
        """Cluster a dataset.

        Parameters
        ----------
        X : array (n, T, d) NaN-padded, array (n, T), or list of arrays (T_i, d)
            Series (for gesture segments: frames x 24 coordinates, IPD units).
        y : ignored

        Returns
        -------
        self
        """
        # a refit starts from nothing: no attribute of an earlier fit (such as
        # the tslearn backend's tslearn_model_) may survive into this one
        for name in [v for v in vars(self) if v.endswith("_") and not v.startswith("__")]:
            delattr(self, name)
        backend = self._check_params()
        with _threads(self.n_threads, backend):
            return self._fit(X, backend)

    def _fit(self, X, backend):
        Xp, lengths = to_padded(X)
        n = len(Xp)
        if n < self.n_clusters:
            raise ParameterError(
                f"n_clusters={self.n_clusters} exceeds the {n} series given (n_samples={n})"
            )
        if backend == "tslearn":
            return self._fit_tslearn(Xp, lengths)
        rng = _generator(self.random_state)
        ops = self._ops(backend)
        Xt, lt = ops.tensors(Xp, lengths)
        best = None
        for run in range(int(self.n_init)):
            centres = self._initial_centres(Xp, lengths, Xt, lt, rng, ops)
            result = self._fit_one(Xt, lt, centres, rng, ops)
            if self.verbose and self.n_init > 1:
                print(f"init {run + 1}: inertia {result[2]:.6g}")
            if best is None or result[2] < best[2]:
                best = result
        self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_, self.n_empty_reseeded_ = best
        self.n_features_in_ = Xp.shape[2]
        return self

    def transform(self, X):
        """Soft-DTW of each series to each centre.

        Parameters
        ----------
        X : array (n, T, d) NaN-padded, array (n, T), or list of arrays (T_i, d)

        Returns
        -------
        ndarray (n, n_clusters) float64
        """
        self._check_fitted()
        Xp, lengths = to_padded(X)
        if Xp.shape[2] != self.cluster_centers_.shape[2]:
            raise ParameterError(
                f"series have {Xp.shape[2]} dimensions per frame; the model was fitted on "
                f"{self.cluster_centers_.shape[2]}"
            )
        backend = resolve_backend("auto" if self.backend == "tslearn" else self.backend, self.device)
        ops = self._ops(backend)
        with _threads(getattr(self, "n_threads", None), backend):
            Xt, lt = ops.tensors(Xp, lengths)
            return self._distances(Xt, lt, ops.centres(self.cluster_centers_), ops).cpu().numpy().astype(
                np.float64
            )

    def predict(self, X):
        """Index of the nearest centre (by soft-DTW) of each series.

        Parameters
        ----------
        X : array (n, T, d) NaN-padded, array (n, T), or list of arrays (T_i, d)

        Returns
        -------
        ndarray (n,) int64
        """
        return self.transform(X).argmin(axis=1)

    def save(self, path):
        """Write the fitted model to one ``.npz`` file (arrays + JSON parameters).

        Parameters
        ----------
        path : str or Path
            File to write (``.npz`` is appended by numpy when missing).

        Returns
        -------
        Path
            The file written.
        """
        self._check_fitted()
        params = self.get_params()
        init = params.pop("init")
        params["init"] = init if isinstance(init, str) else "array"
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            cluster_centers_=self.cluster_centers_,
            labels_=self.labels_,
            inertia_=np.float64(self.inertia_),
            n_iter_=np.int64(self.n_iter_),
            params=np.array(json.dumps(params)),
        )
        return path

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        SoftDTWKMeans
            Fitted (centres, labels, inertia, iterations), with the saved
            parameters; an array ``init`` comes back as ``"k-means++"``.

        Examples
        --------
        >>> import tempfile, os
        >>> X = [np.arange(4.0)[:, None], np.arange(5.0)[:, None] + 9, np.ones((3, 1))]
        >>> km = SoftDTWKMeans(n_clusters=2, random_state=0, max_iter=3).fit(X)
        >>> p = km.save(os.path.join(tempfile.mkdtemp(), "model.npz"))
        >>> bool(np.array_equal(SoftDTWKMeans.load(p).predict(X), km.predict(X)))
        True
        """
        path = Path(path)
        if not path.is_file():
            raise ParameterError(f"model file {str(path)!r} does not exist")
        with np.load(path, allow_pickle=False) as z:
            params = json.loads(str(z["params"]))
            if params.get("init") == "array":
                params["init"] = "k-means++"
            model = cls(**params)
            model.cluster_centers_ = z["cluster_centers_"]
            model.labels_ = z["labels_"]
            model.inertia_ = float(z["inertia_"])
            model.n_iter_ = int(z["n_iter_"])
        model.n_features_in_ = model.cluster_centers_.shape[2]
        return model

    # ------------------------------------------------------------- internals
    def _check_params(self):
        """Validate the parameters (at fit time, as scikit-learn wants); the resolved backend."""
        if not (isinstance(self.n_clusters, (int, np.integer)) and self.n_clusters >= 1):
            raise ParameterError(f"n_clusters={self.n_clusters!r} must be a positive integer")
        _check_gamma(self.gamma)
        if self.backend not in ("auto", "numba", "torch", "tslearn"):
            raise ParameterError(
                f"backend={self.backend!r} must be 'auto', 'numba', 'torch' or 'tslearn'"
            )
        backend = self.backend if self.backend == "tslearn" else resolve_backend(self.backend, self.device)
        _torch_dtype(self.dtype)
        for name in ("max_iter", "n_init", "max_pairs"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        if not (isinstance(self.max_iter_barycenter, (int, np.integer)) and self.max_iter_barycenter >= 0):
            raise ParameterError(f"max_iter_barycenter={self.max_iter_barycenter!r} must be >= 0")
        if not (self.n_threads is None or (isinstance(self.n_threads, str) and self.n_threads == "auto") or (
            isinstance(self.n_threads, (int, np.integer)) and self.n_threads >= 1
        )):
            raise ParameterError(f"n_threads={self.n_threads!r} must be 'auto', a positive integer or None")
        if self.barycenter_sample is not None and int(self.barycenter_sample) < 1:
            raise ParameterError(f"barycenter_sample={self.barycenter_sample!r} must be >= 1 or None")
        if not (isinstance(self.init, str) and self.init in ("k-means++", "random")) and not hasattr(
            self.init, "__array__"
        ):
            raise ParameterError(f"init={self.init!r} must be 'k-means++', 'random' or an array")
        return backend

    def _check_fitted(self):
        try:
            check_is_fitted(self, "cluster_centers_")
        except _SklearnNotFittedError as err:
            raise NotFittedError(f"{err} (this SoftDTWKMeans is not fitted yet; call fit first)") from None

    def _ops(self, backend):
        if backend == "numba":
            n = self.n_threads
            return _NumbaOps(self.gamma, None if n in (None, "auto") else int(n))
        return _TorchOps(self.gamma, self.device, self.dtype, self.max_pairs)

    def _distances(self, Xt, lt, centres, ops):
        k, Tc = centres.shape[:2]
        lc = torch.full((k,), Tc, dtype=torch.int64, device=centres.device)
        return ops.pairwise(Xt, lt, centres, lc)

    def _initial_centres(self, Xp, lengths, Xt, lt, rng, ops):
        k, (n, T, d) = self.n_clusters, Xp.shape
        if hasattr(self.init, "__array__"):
            init = np.asarray(self.init, dtype=np.float64)
            if init.ndim != 3 or init.shape[0] != k or init.shape[2] != d or np.isnan(init).any():
                raise ParameterError(
                    f"init array of shape {init.shape} must be ({k}, T_c, {d}) without NaN"
                )
            return init.copy()
        if self.init == "random":
            ids = rng.choice(n, size=k, replace=False)
        else:
            ids = self._kmeans_pp(Xt, lt, rng, ops)
        return np.stack([resample_series(Xp[i], lengths[i], T) for i in ids])

    def _kmeans_pp(self, Xt, lt, rng, ops=None):
        """k-means++ seeds (indices) under the soft-DTW divergence."""
        if ops is None:
            ops = self._ops(resolve_backend("auto" if self.backend == "tslearn" else self.backend, self.device))
        n, k = len(Xt), self.n_clusters
        self_x = ops.self_values(Xt, lt)
        n_trials = 2 + int(np.log(k))

        def divergence(ids):
            ids_t = torch.as_tensor(np.asarray(ids), device=Xt.device)
            T = int(lt[ids_t].max())
            P = ops.pairwise(Xt[ids_t, :T], lt[ids_t], Xt, lt)
            return (P - 0.5 * (self_x[ids_t][:, None] + self_x[None, :])).clamp_(min=0.0)

        ids = [int(rng.integers(n))]
        closest = divergence(ids)[0].double().cpu().numpy()
        for _ in range(1, k):
            pot = closest.sum()
            if not pot > 0:
                # every series coincides with a chosen centre: pick uniformly
                cand = rng.choice(n, size=n_trials)
            else:
                cand = np.searchsorted(np.cumsum(closest), rng.random(n_trials) * pot)
                cand = np.clip(cand, 0, n - 1)
            dc = np.minimum(closest[None, :], divergence(cand).double().cpu().numpy())
            best = int(np.argmin(dc.sum(axis=1)))
            ids.append(int(cand[best]))
            closest = dc[best]
        return ids

    def _fit_one(self, Xt, lt, centres, rng, ops):
        from scipy.optimize import minimize

        old_inertia = np.inf
        reseeded = 0
        it = 0
        for it in range(1, int(self.max_iter) + 1):
            labels, centres, n_re, inertia = self._assign(Xt, lt, centres, ops)
            reseeded += n_re
            if self.verbose:
                print(f"iteration {it}: inertia {inertia:.6g}")
            centres = self._barycentres(Xt, lt, labels, centres, rng, minimize, ops)
            if abs(old_inertia - inertia) < self.tol:
                break
            old_inertia = inertia
        labels, centres, n_re, inertia = self._assign(Xt, lt, centres, ops)
        reseeded += n_re
        return centres, labels.cpu().numpy(), inertia, it, reseeded

    def _assign(self, Xt, lt, centres, ops):
        """Nearest centres, empty clusters reseeded: (labels, centres, n reseeded, inertia)."""
        dist = self._distances(Xt, lt, ops.centres(centres), ops)
        labels, centres, n_re = self._reseed_empty(Xt, lt, dist, dist.argmin(dim=1), centres, ops)
        if n_re:  # reseeded centres moved: the inertia is measured against the new ones
            dist = self._distances(Xt, lt, ops.centres(centres), ops)
        inertia = float(dist.gather(1, labels[:, None]).double().mean())
        return labels, centres, n_re, inertia

    def _reseed_empty(self, Xt, lt, dist, labels, centres, ops):
        k, Tc = centres.shape[:2]
        counts = torch.bincount(labels, minlength=k)
        empty = torch.nonzero(counts == 0).flatten().tolist()
        if not empty:
            return labels, centres, 0
        centres = centres.copy()
        labels = labels.clone()
        own = dist.gather(1, labels[:, None])[:, 0]
        self_x = ops.self_values(Xt, lt)
        # divergence to own centre (the centre's self term is common to its members
        # but differs between clusters, so it is included)
        C = ops.centres(centres)
        self_c = ops.self_values(C, torch.full((k,), Tc, dtype=torch.int64, device=C.device))
        badness = (own - 0.5 * (self_x + self_c[labels])).double()
        for c in empty:
            counts = torch.bincount(labels, minlength=k)
            movable = counts[labels] > 1
            score = torch.where(movable, badness, -torch.inf)
            i = int(torch.argmax(score))
            labels[i] = c
            badness[i] = -torch.inf
            L = int(lt[i])
            centres[c] = resample_series(Xt[i].double().cpu().numpy(), L, Tc)
        return labels, centres, len(empty)

    def _barycentres(self, Xt, lt, labels, centres, rng, minimize, ops):
        if self.max_iter_barycenter == 0:
            return centres
        k = centres.shape[0]
        members = torch.arange(len(Xt), device=Xt.device)
        if self.barycenter_sample is not None:
            lab = labels.cpu().numpy()
            keep = []
            for c in range(k):
                idx = np.nonzero(lab == c)[0]
                if len(idx) > self.barycenter_sample:
                    idx = rng.choice(idx, size=int(self.barycenter_sample), replace=False)
                keep.append(idx)
            members = torch.as_tensor(np.sort(np.concatenate(keep)), device=Xt.device)
        # sort by length so that each chunk pads little
        order = torch.argsort(lt[members], stable=True)
        members = members[order]
        objective = ops.barycentre_objective(Xt, lt, members, labels[members], centres.shape)
        res = minimize(
            objective, centres.ravel().astype(np.float64), method="L-BFGS-B", jac=True,
            tol=self.tol_barycenter, options={"maxiter": int(self.max_iter_barycenter)},
        )
        return res.x.reshape(centres.shape)

    def _fit_tslearn(self, Xp, lengths):
        from tslearn.clustering import TimeSeriesKMeans

        data = Xp.copy()
        for i, L in enumerate(lengths):
            data[i, L:] = np.nan
        init = self.init
        if hasattr(init, "__array__"):
            init = np.asarray(init, dtype=np.float64)
        rs = self.random_state
        if isinstance(rs, np.random.Generator):
            rs = int(rs.integers(2**31 - 1))
        km = TimeSeriesKMeans(
            n_clusters=self.n_clusters, metric="softdtw", max_iter=self.max_iter, tol=self.tol,
            n_init=self.n_init, max_iter_barycenter=self.max_iter_barycenter,
            metric_params={"gamma": float(self.gamma)}, random_state=rs, init=init,
            verbose=bool(self.verbose),
        )
        km.fit(data)
        if km.cluster_centers_ is None:
            raise ParameterError(
                "tslearn TimeSeriesKMeans found an empty cluster in every attempt; "
                "lower n_clusters"
            )
        self.cluster_centers_ = np.asarray(km.cluster_centers_, dtype=np.float64)
        self.labels_ = np.asarray(km.labels_)
        self.n_iter_ = int(km.n_iter_)
        self.tslearn_inertia_ = float(km.inertia_)
        self.n_empty_reseeded_ = 0
        self.n_features_in_ = Xp.shape[2]
        dist = self.transform(data)
        self.inertia_ = float(dist[np.arange(len(dist)), self.labels_].mean())
        self.tslearn_model_ = km
        return self


class _TorchOps:
    """The fit's soft-DTW calls on torch tensors (CPU or CUDA, float32 or float64)."""

    def __init__(self, gamma, device, dtype, max_pairs):
        self.gamma = float(gamma)
        self.device = torch.device(device)
        self.dtype = _torch_dtype(dtype)
        self.max_pairs = int(max_pairs)

    def tensors(self, Xp, lengths):
        return (torch.as_tensor(Xp, dtype=self.dtype, device=self.device),
                torch.as_tensor(lengths, device=self.device))

    def centres(self, C):
        return torch.as_tensor(C, dtype=self.dtype, device=self.device)

    def pairwise(self, A, la, B, lb):
        """(n, m) soft-DTW of every series of A with every series of B."""
        return _pairwise_tensor(A, la, B, lb, self.gamma, self.max_pairs)

    def self_values(self, A, la):
        """soft-DTW of each series with itself, (n,)."""
        out = torch.empty(len(A), dtype=A.dtype, device=A.device)
        for sl in _chunks(len(A), self.max_pairs):
            T = int(la[sl].max())
            out[sl] = soft_dtw_batch(A[sl, :T], A[sl, :T], self.gamma, la[sl], la[sl])
        return out

    def barycentre_objective(self, Xt, lt, members, lab_m, shape):
        """``z -> (sum of soft-DTW of members to their centres, gradient)`` for L-BFGS-B."""
        k, Tc, d = shape
        dev, dt = Xt.device, Xt.dtype
        chunks = []
        for sl in _chunks(len(members), self.max_pairs):
            idx = members[sl]
            T = int(lt[idx].max())
            chunks.append((Xt[idx, :T], lt[idx], lab_m[sl]))
        lc_full = {}
        gamma = self.gamma

        def objective(z):
            C = torch.as_tensor(z.reshape(k, Tc, d), dtype=dt, device=dev)
            total = torch.zeros((), dtype=torch.float64, device=dev)
            G = torch.zeros((k, Tc, d), dtype=dt, device=dev)
            for Xc, lx, lab in chunks:
                B = len(lab)
                if B not in lc_full:
                    lc_full[B] = torch.full((B,), Tc, dtype=torch.int64, device=dev)
                vals, gC = _value_and_grad_x(C[lab], Xc, lc_full[B], lx, gamma)
                total += vals.double().sum()
                G.index_add_(0, lab, gC)
            return float(total), G.double().cpu().numpy().ravel()

        return objective


class _NumbaOps:
    """The fit's soft-DTW calls through the numba kernels.

    The data stay CPU float64 torch tensors, so that the estimator's
    bookkeeping (argmin, bincount, gather) is shared with the torch engine;
    the kernels read them as numpy arrays without a copy.
    """

    def __init__(self, gamma, n_threads):
        from agser.clustering import _soft_dtw_numba

        self.K = _soft_dtw_numba
        self.gamma = float(gamma)
        self.n_threads = n_threads

    def tensors(self, Xp, lengths):
        Xt = torch.from_numpy(np.ascontiguousarray(Xp, dtype=np.float64))
        lt = torch.from_numpy(np.ascontiguousarray(lengths, dtype=np.int64))
        # the data set's lane layout, made on first use and kept for the fit: the
        # assignment and k-means++ set every series against a few others, with
        # the data set as the lanes
        self.data, self.data_lanes = Xt, None
        return Xt, lt

    def centres(self, C):
        return torch.as_tensor(np.ascontiguousarray(C, dtype=np.float64))

    def _with_data(self, rows, lr, ld):
        if self.data_lanes is None:
            self.data_lanes = self.K.lane_set(_np(self.data), _np(ld))
        return self.K.pairwise_lanes(_np(rows), _np(lr), self.data_lanes, self.gamma, self.n_threads)

    def pairwise(self, A, la, B, lb):
        data = getattr(self, "data", None)
        if A is data and len(B) < len(A):
            out = self._with_data(B, lb, la).T
        elif B is data and len(A) < len(B):
            out = self._with_data(A, la, lb)
        else:
            out = self.K.pairwise(_np(A), _np(la), _np(B), _np(lb), self.gamma, self.n_threads)
        return torch.from_numpy(np.ascontiguousarray(out))

    def self_values(self, A, la):
        a, l = _np(A), _np(la)
        return torch.from_numpy(self.K.paired(a, l, a, l, self.gamma, False, self.n_threads)[0])

    def barycentre_objective(self, Xt, lt, members, lab_m, shape):
        # the members' lane layout is built once per barycentre update, not per L-BFGS step
        plan = self.K.barycentre_plan(_np(Xt), _np(lt), _np(lab_m), shape[0], rows=_np(members))
        gamma, K, n_threads = self.gamma, self.K, self.n_threads

        def objective(z):
            total, G = K.barycentre_objective(z.reshape(shape), plan, gamma, n_threads)
            return total, G.ravel()

        return objective


def _np(t):
    """A CPU tensor as the C-contiguous float64 / int64 array the kernels are compiled for."""
    a = t.numpy()
    return np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float64)


class _threads:
    """Set the CPU thread counts for a block, then restore them.

    torch backend: torch's threads. numba backend (whose kernels take their
    thread count as an argument): torch, for its few small bookkeeping
    operations, and BLAS, for the kernels' small frame products, at one
    thread each, so that their idle workers do not spin on the cores the
    kernels' threads need.
    """

    def __init__(self, n, backend="torch"):
        self.n = n
        self.numba = backend == "numba"

    def __enter__(self):
        self.old = torch.get_num_threads()
        if self.numba:
            torch.set_num_threads(1)
            self.blas = _blas_controller().limit(limits=1, user_api="blas")
        elif self.n is not None:
            torch.set_num_threads(1 if self.n == "auto" else int(self.n))

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)
        if self.numba:
            self.blas.restore_original_limits()
        return False


_CONTROLLERS = {}


def _blas_controller():
    """This process's threadpoolctl controller, made once.

    Finding the loaded libraries walks every shared object of the process (3 ms
    measured, a thirtieth of a 600-segment fit); scipy's BLAS, which the
    kernels' frame products call, is imported first so that it is among them.
    """
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    pid = os.getpid()
    if pid not in _CONTROLLERS:
        _CONTROLLERS[pid] = ThreadpoolController()
    return _CONTROLLERS[pid]


def _chunks(n, size):
    return [slice(s, min(n, s + size)) for s in range(0, n, size)]


def _generator(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)
