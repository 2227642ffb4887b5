"""Choosing the number of clusters by the elbow of inertia against k.

Knee rule (Kneedle, Satopaa et al. 2011, without smoothing): both axes are
scaled to [0, 1] (k by its range, inertia by its range), and the chosen k is
the point of the curve farthest *below* the straight chord that joins the
first and the last point; for the decreasing, convex inertia curve this is
where adding clusters stops paying off. Ties go to the smaller k. When no
point lies below the chord (a straight or concave curve, or fewer than three
k), there is no elbow and the smallest k is returned.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["fit_k_range", "choose_k_elbow", "plot_elbow"]


def choose_k_elbow(ks, inertias):
    """The elbow k of an inertia curve (Kneedle: farthest below the chord).

    Parameters
    ----------
    ks : sequence of int (m,)
        Numbers of clusters, any order, no repeats.
    inertias : sequence of float (m,)
        Inertia of each k (any units; only the shape of the curve matters).

    Returns
    -------
    int

    Examples
    --------
    >>> choose_k_elbow([2, 3, 4, 5, 6, 7], [100, 50, 20, 17, 15, 14])
    4
    >>> choose_k_elbow([2, 3, 4], [3.0, 2.0, 1.0])
    2
    """
    ks = np.asarray(ks, dtype=np.float64)
    y = np.asarray(inertias, dtype=np.float64)
    if ks.ndim != 1 or ks.shape != y.shape or len(ks) == 0:
        raise ParameterError(f"ks {ks.shape} and inertias {y.shape} must be 1-D of equal length")
    if len(np.unique(ks)) != len(ks):
        raise ParameterError(f"ks={ks.astype(int).tolist()} has repeats")
    if not np.all(np.isfinite(y)):
        raise ParameterError("inertias must be finite")
    order = np.argsort(ks)
    ks, y = ks[order], y[order]
    if len(ks) < 3 or y.max() == y.min():
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    yn = (y - y.min()) / (y.max() - y.min())
    chord = yn[0] + (yn[-1] - yn[0]) * x
    below = chord - yn
    best = int(np.argmax(below))
    if not below[best] > 1e-12:
        return int(ks[0])
    return int(ks[best])


def fit_k_range(X, ks, return_models=False, **kw):
    """Fit :class:`SoftDTWKMeans` for each k and tabulate the inertia.

    Parameters
    ----------
    X : array (n, T, d) NaN-padded, or list of arrays (T_i, d)
    ks : iterable of int
        Numbers of clusters to try.
    return_models : bool
        Also return ``{k: fitted model}``.
    **kw
        Further :class:`SoftDTWKMeans` parameters (gamma, max_iter, random_state, ...).

    Returns
    -------
    DataFrame
        Columns ``k``, ``inertia`` (mean soft-DTW to the centre), ``n_iter``,
        ``seconds`` (wall time of the fit), ``chosen`` (True on the elbow k).
    dict, optional
        With ``return_models=True``.

    Examples
    --------
    >>> X = [np.full((3, 1), v) for v in (0.0, 0.1, 5.0, 5.1, 9.0, 9.1)]
    >>> df = fit_k_range(X, [1, 2, 3], gamma=0.01, random_state=0, max_iter=5)
    >>> df["k"].tolist(), bool(df["inertia"].is_monotonic_decreasing)
    ([1, 2, 3], True)
    """
    from agser.clustering.kmeans import SoftDTWKMeans
    from agser.clustering._soft_dtw import to_padded

    ks = [int(k) for k in ks]
    if not ks:
        raise ParameterError("ks is empty")
    data = to_padded(X)
    nan_padded = data[0].copy()
    for i, L in enumerate(data[1]):
        nan_padded[i, L:] = np.nan
    rows, models = [], {}
    for k in ks:
        t0 = time.perf_counter()
        model = SoftDTWKMeans(n_clusters=k, **kw).fit(nan_padded)
        rows.append(
            {"k": k, "inertia": model.inertia_, "n_iter": model.n_iter_,
             "seconds": time.perf_counter() - t0}
        )
        models[k] = model
    df = pd.DataFrame(rows)
    df["chosen"] = df["k"] == choose_k_elbow(df["k"], df["inertia"])
    return (df, models) if return_models else df


def plot_elbow(ks, inertias, k_chosen=None, ax=None, title=None):
    """Plot inertia against k with the chosen k marked.

    Parameters
    ----------
    ks : sequence of int (m,)
    inertias : sequence of float (m,)
        Mean soft-DTW to the centre.
    k_chosen : int, optional
        Default: :func:`choose_k_elbow`.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    ks = np.asarray(ks)
    inertias = np.asarray(inertias, dtype=np.float64)
    if k_chosen is None:
        k_chosen = choose_k_elbow(ks, inertias)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    order = np.argsort(ks)
    ax.plot(ks[order], inertias[order], "o-", color="C0", label="inertia")
    sel = ks == k_chosen
    if sel.any():
        ax.plot(ks[sel], inertias[sel], "o", ms=12, mfc="none", mec="C3", mew=2,
                label=f"elbow: k = {k_chosen}")
    ax.axvline(k_chosen, color="C3", ls=":", lw=1)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia (mean soft-DTW to centre)")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
