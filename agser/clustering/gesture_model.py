"""The AG cluster model of a set of gesture segments: elbow search, chosen k, final fit.

The one place that turns a run's ``cluster`` parameters into
:class:`~agser.clustering.SoftDTWKMeans` fits, so that a change of the
clustering API is a change here only. Pure: segments and frames in, a model
and tables out; the run layer caches it.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["kmeans_kwargs", "fit_gesture_clusters", "subsample"]


def kmeans_kwargs(params, max_iter):
    """Keyword arguments of :class:`SoftDTWKMeans` from a run's ``cluster`` section.

    Examples
    --------
    >>> from agser.run.schema import defaults
    >>> kmeans_kwargs(defaults()["cluster"], 5)["max_iter"]
    5
    """
    return dict(
        gamma=float(params["gamma"]),
        max_iter=int(max_iter),
        n_init=int(params["n_init"]),
        tol=float(params["tol"]),
        random_state=int(params["seed"]),
        backend=params["backend"],
        dtype=params["dtype"],
        barycenter_sample=params["barycenter_sample"],
        max_iter_barycenter=int(params["max_iter_barycenter"]),
    )


def subsample(n, max_n, seed):
    """Sorted indices of a seeded sub-sample of ``max_n`` of ``n`` items (all when None or more).

    Examples
    --------
    >>> subsample(5, None, 0).tolist(), len(subsample(100, 10, 0))
    ([0, 1, 2, 3, 4], 10)
    """
    if max_n is None or n <= int(max_n):
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(max_n), replace=False))


def _elbow(X, params):
    """Inertia over k_range on X, and the elbow's k."""
    from agser.clustering import choose_k_elbow, fit_k_range

    ks = list(range(params["k_range"][0], params["k_range"][1] + 1))
    # A k above the number of segments cannot be fitted; such k are left out of the table.
    ks = [k for k in ks if k <= len(X)]
    if not ks:
        raise ParameterError(f"cluster.k_range={params['k_range']} exceeds the {len(X)} segments")
    table = fit_k_range(X, ks, **kmeans_kwargs(params, params["elbow_max_iter"]))
    return table, int(choose_k_elbow(table["k"].to_numpy(), table["inertia"].to_numpy()))


def fit_gesture_clusters(segments, frames, mask, params):
    """Fit the AG cluster model on the masked segments.

    Parameters
    ----------
    segments : pandas.DataFrame
        The extraction's segment table.
    frames : list of array, each (n_frames_i, 12, 2)
        The mouth gesture of each segment (row ``i`` of ``segments``), as the
        run clusters it (:func:`agser.gestures.speaker.gesture_frames`).
    mask : array of bool, (n_segments,)
        The segments to cluster (:func:`agser.analysis.selection.select_segments`);
        those with a missing frame are left out and counted.
    params : dict
        A run's ``cluster`` section (:data:`agser.run.schema.SCHEMA`).

    Returns
    -------
    dict
        ``model``, ``elbow`` (DataFrame ``k, inertia, ...``), ``k_elbow``,
        ``k``, ``segments`` (the clustered rows with ``row`` = row in
        ``segments`` and ``cluster`` numbered from 1, as in the paper),
        ``n_elbow``, ``n_fit``, ``n_dropped_nan``.
    """
    from agser.clustering import SoftDTWKMeans
    from agser.gestures.mouth import as_series

    finite = np.array([bool(np.isfinite(f).all()) and len(f) > 0 for f in frames])
    n_nan = int((mask & ~finite).sum())
    rows = np.flatnonzero(mask & finite)
    if len(rows) == 0:
        raise ParameterError(
            f"no segment to cluster for phones={params['phones']!r}, emotions={params['emotions']!r}")
    X = as_series([frames[i] for i in rows])
    elbow_idx = subsample(len(X), params["elbow_max_segments"], params["seed"])
    elbow, k_elbow = _elbow([X[i] for i in elbow_idx], params)
    k = int(params["k"]) if params["k"] is not None else k_elbow
    fit_idx = subsample(len(X), params["fit_max_segments"], params["seed"] + 1)
    model = SoftDTWKMeans(n_clusters=k, **kmeans_kwargs(params, params["max_iter"]))
    model.fit([X[i] for i in fit_idx])
    labels = np.asarray(model.predict(X)) if len(fit_idx) < len(X) else np.asarray(model.labels_)
    table = segments.iloc[rows].reset_index(drop=True)
    table.insert(0, "row", rows)
    table["cluster"] = labels.astype(int) + 1
    return {"model": model, "elbow": elbow, "k_elbow": k_elbow, "k": k, "segments": table,
            "n_elbow": int(len(elbow_idx)), "n_fit": int(len(fit_idx)), "n_dropped_nan": n_nan}
