"""The simulator's true articulatory class of each segment: AG-oracle's anchors.

On simulated corpora the articulation that made each utterance's audio is
known (the simulator writes it, ``articulation_path``). A segment's true
articulation is summarised by the lip-visible parameters (jaw opening, lip
spreading, rounding, closure) at 25, 50 and 75 % of its span; k-means on
these summaries of all segments of both corpora gives each segment a class.
These classes are what AG's clusters would be if gestures were measured
without error, speaker geometry or nuisance: the best anchors the AG loss
can get. Only simulator truth is read: no landmark, no audio, no label.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["LIP_PARAMETERS", "span_articulation", "oracle_classes"]

#: The articulatory parameters the face shows (the tongue is hidden).
LIP_PARAMETERS = ("jaw", "spread", "round", "closure")
#: Where in a segment's span the articulation is read.
POSITIONS = (0.25, 0.5, 0.75)


def span_articulation(track, start, end):
    """The lip parameters of one span at 25, 50 and 75 % of it: a (12,) vector, position-major.

    Parameters
    ----------
    track : pandas.DataFrame
        ``time`` (s) and the :data:`LIP_PARAMETERS` columns (the simulator's
        articulation file of the utterance).
    start, end : float
        The span, seconds.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"time": [0.0, 1.0], "jaw": [0.0, 1.0], "spread": 0.0, "round": 0.0, "closure": 0.0})
    >>> span_articulation(t, 0.0, 1.0).reshape(3, 4)[:, 0].tolist()  # position-major: jaw at 25, 50, 75 %
    [0.25, 0.5, 0.75]
    """
    missing = [c for c in ("time", *LIP_PARAMETERS) if c not in track.columns]
    if missing:
        raise ParameterError(f"articulation track lacks column(s) {missing}")
    times = [start + q * (end - start) for q in POSITIONS]
    t = track["time"].to_numpy(dtype=float)
    return np.array([[np.interp(x, t, track[p].to_numpy(dtype=float)) for x in times]
                     for p in LIP_PARAMETERS]).T.ravel()


def oracle_classes(features, k, seed=0):
    """k-means classes (numbered from 1) of segments' true articulation summaries.

    Parameters
    ----------
    features : array, (n_segments, 12)
        :func:`span_articulation` of each segment.
    k : int
        Classes (the AG model's k, so that the oracle differs from AG only in
        what it clusters).
    seed : int

    Returns
    -------
    numpy.ndarray of int, (n_segments,)

    Examples
    --------
    >>> X = np.r_[np.zeros((5, 12)), np.ones((5, 12))]
    >>> c = oracle_classes(X, 2); len(set(c[:5])), len(set(c[5:])), int(c.min())
    (1, 1, 1)
    """
    from sklearn.cluster import KMeans

    X = np.asarray(features, dtype=float)
    if X.ndim != 2 or len(X) < k:
        raise ParameterError(f"oracle_classes needs at least k={k} segments, got an array of shape {X.shape}")
    X = (X - X.mean(0)) / (X.std(0) + 1e-9)
    return KMeans(n_clusters=int(k), n_init=10, random_state=int(seed)).fit_predict(X).astype(int) + 1
