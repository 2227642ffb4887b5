"""Time-series k-means under soft-DTW, with batched PyTorch soft-DTW.

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
from pathlib import Path

import numpy as np
import torch

from agser.clustering._soft_dtw import (
    _check_gamma,
    _pairwise_tensor,
    _torch_dtype,
    _value_and_grad_x,
    soft_dtw_batch,
    to_padded,
)
from agser.errors import ParameterError

__all__ = ["SoftDTWKMeans", "resample_series"]

_PARAMS = (
    "n_clusters", "gamma", "max_iter", "tol", "n_init", "max_iter_barycenter",
    "tol_barycenter", "init", "barycenter_sample", "random_state", "backend", "device",
    "dtype", "max_pairs", "n_threads", "verbose",
)


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


class SoftDTWKMeans:
    """k-means of time series under soft-DTW (fast, batched; tslearn-compatible).

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
    backend : "torch" or "tslearn"
        ``"tslearn"`` fits ``tslearn.clustering.TimeSeriesKMeans(metric="softdtw")``
        (the reference) through this interface.
    device : str
        Torch device, ``"cpu"`` or ``"cuda"``.
    dtype : "float32" or "float64"
        Precision of the soft-DTW computations (float32 is about 2-3x faster on
        CPU; the L-BFGS state is always float64).
    max_pairs : int
        Pairs per vectorised soft-DTW call (bounds memory).
    n_threads : int or None
        torch CPU threads while fitting and predicting (restored afterwards;
        None: leave torch's setting). The default 1 is deliberate: each
        diagonal step is a small operation, which two OpenMP threads speed up
        little and, on a machine busy with other jobs, slow down many-fold
        while one waits for the other.
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
        backend="torch",
        device="cpu",
        dtype="float32",
        max_pairs=16384,
        n_threads=1,
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

    # ------------------------------------------------------------------ API
    def get_params(self, deep=True):
        """Constructor parameters (scikit-learn convention)."""
        return {p: getattr(self, p) for p in _PARAMS}

    def set_params(self, **params):
        """Set constructor parameters (scikit-learn convention)."""
        for key, value in params.items():
            if key not in _PARAMS:
                raise ParameterError(f"unknown parameter {key!r} for SoftDTWKMeans")
            setattr(self, key, value)
        return self

    def fit(self, X, y=None):
        """Cluster a dataset.

        Parameters
        ----------
        X : array (n, T, d) NaN-padded, or list of arrays (T_i, d)
            Series (for gesture segments: frames x 24 coordinates, IPD units).
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        with _threads(self.n_threads):
            return self._fit(X)

    def _fit(self, X):
        Xp, lengths = to_padded(X)
        n = len(Xp)
        if n < self.n_clusters:
            raise ParameterError(f"n_clusters={self.n_clusters} exceeds the {n} series given")
        if self.backend == "tslearn":
            return self._fit_tslearn(Xp, lengths)
        rng = _generator(self.random_state)
        dev = torch.device(self.device)
        dt = _torch_dtype(self.dtype)
        Xt = torch.as_tensor(Xp, dtype=dt, device=dev)
        lt = torch.as_tensor(lengths, device=dev)
        best = None
        for run in range(int(self.n_init)):
            centres = self._initial_centres(Xp, lengths, Xt, lt, rng)
            result = self._fit_one(Xt, lt, centres, rng)
            if self.verbose and self.n_init > 1:
                print(f"init {run + 1}: inertia {result[2]:.6g}")
            if best is None or result[2] < best[2]:
                best = result
        self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_, self.n_empty_reseeded_ = best
        self.n_features_in_ = Xp.shape[2]
        return self

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def transform(self, X):
        """Soft-DTW of each series to each centre.

        Parameters
        ----------
        X : array (n, T, d) NaN-padded, or list of arrays (T_i, d)

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
        dev = torch.device(self.device)
        dt = _torch_dtype(self.dtype)
        with _threads(getattr(self, "n_threads", None)):
            return self._transform(Xp, lengths, dev, dt)

    def _transform(self, Xp, lengths, dev, dt):
        return self._distances(
            torch.as_tensor(Xp, dtype=dt, device=dev), torch.as_tensor(lengths, device=dev),
            torch.as_tensor(self.cluster_centers_, dtype=dt, device=dev),
        ).cpu().numpy().astype(np.float64)

    def predict(self, X):
        """Index of the nearest centre (by soft-DTW) of each series; ndarray (n,) int."""
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
        if not (isinstance(self.n_clusters, (int, np.integer)) and self.n_clusters >= 1):
            raise ParameterError(f"n_clusters={self.n_clusters!r} must be a positive integer")
        _check_gamma(self.gamma)
        if self.backend not in ("torch", "tslearn"):
            raise ParameterError(f"backend={self.backend!r} must be 'torch' or 'tslearn'")
        _torch_dtype(self.dtype)
        for name in ("max_iter", "n_init", "max_pairs"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        if not (isinstance(self.max_iter_barycenter, (int, np.integer)) and self.max_iter_barycenter >= 0):
            raise ParameterError(f"max_iter_barycenter={self.max_iter_barycenter!r} must be >= 0")
        if self.n_threads is not None and not (
            isinstance(self.n_threads, (int, np.integer)) and self.n_threads >= 1
        ):
            raise ParameterError(f"n_threads={self.n_threads!r} must be a positive integer or None")
        if self.barycenter_sample is not None and int(self.barycenter_sample) < 1:
            raise ParameterError(f"barycenter_sample={self.barycenter_sample!r} must be >= 1 or None")
        if not (isinstance(self.init, str) and self.init in ("k-means++", "random")) and not hasattr(
            self.init, "__array__"
        ):
            raise ParameterError(f"init={self.init!r} must be 'k-means++', 'random' or an array")

    def _check_fitted(self):
        if not hasattr(self, "cluster_centers_"):
            raise ParameterError("this SoftDTWKMeans is not fitted yet; call fit first")

    def _distances(self, Xt, lt, centres):
        k, Tc = centres.shape[:2]
        lc = torch.full((k,), Tc, dtype=torch.int64, device=centres.device)
        return _pairwise_tensor(Xt, lt, centres, lc, float(self.gamma), self.max_pairs)

    def _self_sdtw(self, Xt, lt):
        """soft-DTW of each series with itself, (n,)."""
        out = torch.empty(len(Xt), dtype=Xt.dtype, device=Xt.device)
        for sl in _chunks(len(Xt), self.max_pairs):
            T = int(lt[sl].max())
            out[sl] = soft_dtw_batch(Xt[sl, :T], Xt[sl, :T], self.gamma, lt[sl], lt[sl])
        return out

    def _initial_centres(self, Xp, lengths, Xt, lt, rng):
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
            ids = self._kmeans_pp(Xt, lt, rng)
        return np.stack([resample_series(Xp[i], lengths[i], T) for i in ids])

    def _kmeans_pp(self, Xt, lt, rng):
        """k-means++ seeds (indices) under the soft-DTW divergence."""
        n, k = len(Xt), self.n_clusters
        self_x = self._self_sdtw(Xt, lt)
        n_trials = 2 + int(np.log(k))

        def divergence(ids):
            ids_t = torch.as_tensor(np.asarray(ids), device=Xt.device)
            T = int(lt[ids_t].max())
            P = _pairwise_tensor(Xt[ids_t, :T], lt[ids_t], Xt, lt, float(self.gamma), self.max_pairs)
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

    def _fit_one(self, Xt, lt, centres, rng):
        from scipy.optimize import minimize

        old_inertia = np.inf
        reseeded = 0
        it = 0
        for it in range(1, int(self.max_iter) + 1):
            labels, centres, n_re, inertia = self._assign(Xt, lt, centres)
            reseeded += n_re
            if self.verbose:
                print(f"iteration {it}: inertia {inertia:.6g}")
            centres = self._barycentres(Xt, lt, labels, centres, rng, minimize)
            if abs(old_inertia - inertia) < self.tol:
                break
            old_inertia = inertia
        labels, centres, n_re, inertia = self._assign(Xt, lt, centres)
        reseeded += n_re
        return centres, labels.cpu().numpy(), inertia, it, reseeded

    def _assign(self, Xt, lt, centres):
        """Nearest centres, empty clusters reseeded: (labels, centres, n reseeded, inertia)."""
        dev, dt = Xt.device, Xt.dtype
        dist = self._distances(Xt, lt, torch.as_tensor(centres, dtype=dt, device=dev))
        labels, centres, n_re = self._reseed_empty(Xt, lt, dist, dist.argmin(dim=1), centres)
        if n_re:  # reseeded centres moved: the inertia is measured against the new ones
            dist = self._distances(Xt, lt, torch.as_tensor(centres, dtype=dt, device=dev))
        inertia = float(dist.gather(1, labels[:, None]).double().mean())
        return labels, centres, n_re, inertia

    def _reseed_empty(self, Xt, lt, dist, labels, centres):
        k, Tc = centres.shape[:2]
        counts = torch.bincount(labels, minlength=k)
        empty = torch.nonzero(counts == 0).flatten().tolist()
        if not empty:
            return labels, centres, 0
        centres = centres.copy()
        labels = labels.clone()
        own = dist.gather(1, labels[:, None])[:, 0]
        self_x = self._self_sdtw(Xt, lt)
        # divergence to own centre (the centre's self term is common to its members
        # but differs between clusters, so it is included)
        C = torch.as_tensor(centres, dtype=Xt.dtype, device=Xt.device)
        self_c = soft_dtw_batch(C, C, self.gamma)
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

    def _barycentres(self, Xt, lt, labels, centres, rng, minimize):
        if self.max_iter_barycenter == 0:
            return centres
        k, Tc, d = centres.shape
        dev, dt = Xt.device, Xt.dtype
        members = torch.arange(len(Xt), device=dev)
        if self.barycenter_sample is not None:
            lab = labels.cpu().numpy()
            keep = []
            for c in range(k):
                idx = np.nonzero(lab == c)[0]
                if len(idx) > self.barycenter_sample:
                    idx = rng.choice(idx, size=int(self.barycenter_sample), replace=False)
                keep.append(idx)
            members = torch.as_tensor(np.sort(np.concatenate(keep)), device=dev)
        # sort by length so that each chunk pads little
        order = torch.argsort(lt[members], stable=True)
        members = members[order]
        lab_m = labels[members]
        chunks = []
        for sl in _chunks(len(members), self.max_pairs):
            idx = members[sl]
            T = int(lt[idx].max())
            chunks.append((Xt[idx, :T], lt[idx], lab_m[sl]))
        lc_full = {}
        gamma = float(self.gamma)

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

        res = minimize(
            objective, centres.ravel().astype(np.float64), method="L-BFGS-B", jac=True,
            tol=self.tol_barycenter, options={"maxiter": int(self.max_iter_barycenter)},
        )
        return res.x.reshape(k, Tc, d)

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


class _threads:
    """Set torch's CPU thread count for a block, then restore it."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(int(self.n))

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)
        return False


def _chunks(n, size):
    return [slice(s, min(n, s + size)) for s in range(0, n, size)]


def _generator(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)
