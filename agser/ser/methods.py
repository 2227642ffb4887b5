"""The methods compared in chapters 6 and 7, and the anchor units each uses.

========== ==================================================================
method     what it adds to the cross-entropy L_ER on the labelled source
========== ==================================================================
source-only nothing (no anchoring, no target data)
AG         ``gamma * L_AG``: soft-weighted triplets of cross-corpus segments
           sharing a *common* AG cluster (overlap ``s_i >= 25 %`` for the
           anchor's phone); weight ``s_i / 100``
PA         ``gamma * L_PA``: the same triplet loss, with phone identity as the
           anchor unit, weight 1
LA         ``gamma * CORAL``: CORAL between source and target utterance
           embeddings of the encoder layers picked by the layer-similarity
           analysis (:func:`layer_coral_distance`, :func:`choose_layers`)
Hard-AG    ``gamma * L_hard``: no clustering; a segment's positive is the
           cross-corpus segment of the *same phone* whose mouth gesture is
           nearest under the soft-DTW divergence; negatives are cross-corpus
           segments of another phone; weight 1
upper-bound trained and tested within one corpus (speaker-independent)
========== ==================================================================

Triplet sampling (all triplet methods): at every training step each eligible
segment of either corpus is an anchor (at most ``max_triplets`` drawn at
random); its positive is drawn uniformly among the *other* corpus' segments of
the same unit (Hard-AG: the fixed nearest gesture), its negative uniformly
among the other corpus' segments of a different unit. Both directions
(source anchors, target anchors) enter one weighted mean.

LA's layer-similarity analysis: for each encoder layer, the CORAL distance
between the standardised utterance-mean features of the source and of the
unlabelled target; the ``la_layers`` layers with the *largest* distance (the
layers where the corpora differ most, so where alignment has work to do) are
aligned, each through the model's trainable input projection (the encoder is
frozen, so a CORAL loss on its raw output would have no gradient).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["METHODS", "CROSS_METHODS", "TRIPLET_METHODS", "check_method", "ag_units",
           "phone_units", "gesture_divergence_by_phone", "hard_ag_positives",
           "layer_coral_distance", "choose_layers"]

#: Every method name, in the order of the paper's table.
METHODS = ("upper-bound", "source-only", "PA", "LA", "AG", "Hard-AG")
#: Methods trained on one corpus and tested on the other.
CROSS_METHODS = ("source-only", "PA", "LA", "AG", "Hard-AG")
#: Methods whose extra loss is a triplet loss over segments.
TRIPLET_METHODS = ("AG", "PA", "Hard-AG")


def check_method(method):
    """Raise :class:`ParameterError` unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise ParameterError(f"method={method!r} must be one of {', '.join(METHODS)}")
    return method


def ag_units(segments, per_cluster, threshold=25.0):
    """AG anchor unit and weight of each segment.

    Parameters
    ----------
    segments : pandas.DataFrame
        Columns ``ipa`` and ``cluster`` (int, -1 = unclustered).
    per_cluster : pandas.DataFrame
        Cross-corpus overlap ``s_i`` in percent, index = cluster, columns =
        phone (IPA), as :func:`agser.analysis.overlap.cluster_overlap` returns
        it; NaN or 0 where the cluster is not shared by both corpora.
    threshold : float
        Clusters whose ``s_i`` for the segment's phone is below this (percent)
        are left out.

    Returns
    -------
    (units, weights) : (numpy.ndarray int, numpy.ndarray float), shape (n,)
        Unit = the AG cluster (-1 = not an anchor), weight = ``s_i / 100``.

    Examples
    --------
    >>> table = pd.DataFrame({"i": [80.0, 10.0]}, index=[0, 1])
    >>> seg = pd.DataFrame({"ipa": ["i", "i", "u"], "cluster": [0, 1, 0]})
    >>> u, w = ag_units(seg, table)
    >>> u.tolist(), w.tolist()
    ([0, -1, -1], [0.8, 0.0, 0.0])
    """
    stacked = per_cluster.stack()
    lookup = {(int(c), str(p)): float(v) for (c, p), v in stacked.items() if np.isfinite(v)}
    s = np.array([lookup.get((int(c), str(p)), 0.0)
                  for c, p in zip(segments["cluster"], segments["ipa"])], dtype=float)
    ok = (s >= threshold) & (s > 0) & (segments["cluster"].to_numpy() >= 0)
    units = np.where(ok, segments["cluster"].to_numpy().astype(int), -1)
    return units, np.where(ok, s / 100.0, 0.0)


def phone_units(segments, phones):
    """Phone-identity unit (PA, Hard-AG negatives) of each segment.

    Parameters
    ----------
    segments : pandas.DataFrame with an ``ipa`` column
    phones : sequence of str
        The shared phone inventory (index = unit id); other phones get -1.

    Examples
    --------
    >>> phone_units(pd.DataFrame({"ipa": ["i", "ɑ", "x"]}), ["ɑ", "i"]).tolist()
    [1, 0, -1]
    """
    lookup = {p: i for i, p in enumerate(phones)}
    return np.array([lookup.get(str(p), -1) for p in segments["ipa"]], dtype=int)


def gesture_divergence_by_phone(gestures_a, ipa_a, gestures_b, ipa_b, gamma=1.0, max_per_phone=400,
                                random_state=0):
    """Soft-DTW divergence between the two corpora's gestures of each shared phone.

    ``D(x, y) = sdtw(x, y) - (sdtw(x, x) + sdtw(y, y)) / 2`` (Blondel et al.
    2021), which unlike raw soft-DTW is not biased towards short or
    self-similar series.

    Parameters
    ----------
    gestures_a, gestures_b : list of numpy.ndarray, each (T_i, 24)
        Flattened mouth gestures of each corpus' segments (IPD units).
    ipa_a, ipa_b : array of str
        Phone of each segment.
    gamma : float
        Soft-DTW smoothing.
    max_per_phone : int
        Segments per phone and corpus kept (random subset, bounds the cost).
    random_state : int

    Returns
    -------
    dict
        ``phone -> (rows_a, rows_b, D)`` with ``D`` of shape
        ``(len(rows_a), len(rows_b))``.
    """
    from agser.clustering import soft_dtw_batch, soft_dtw_pairwise, to_padded

    def self_values(series):
        X, lengths = to_padded(series)
        return soft_dtw_batch(X, X, gamma=gamma, x_lengths=lengths, y_lengths=lengths).numpy()

    rng = np.random.default_rng(random_state)
    ipa_a = np.asarray(ipa_a, dtype=str)
    ipa_b = np.asarray(ipa_b, dtype=str)
    out = {}
    for phone in sorted(set(ipa_a) & set(ipa_b)):
        ra = np.flatnonzero(ipa_a == phone)
        rb = np.flatnonzero(ipa_b == phone)
        if ra.size > max_per_phone:
            ra = np.sort(rng.choice(ra, max_per_phone, replace=False))
        if rb.size > max_per_phone:
            rb = np.sort(rng.choice(rb, max_per_phone, replace=False))
        xa = [np.asarray(gestures_a[i], dtype=np.float64) for i in ra]
        xb = [np.asarray(gestures_b[i], dtype=np.float64) for i in rb]
        cross = soft_dtw_pairwise(xa, xb, gamma=gamma)
        out[phone] = (ra, rb, cross - 0.5 * (self_values(xa)[:, None] + self_values(xb)[None, :]))
    return out


def hard_ag_positives(divergence, rows_anchor, rows_allowed, anchor_is_a=True):
    """Nearest allowed cross-corpus gesture of each anchor segment (Hard-AG).

    Parameters
    ----------
    divergence : dict
        From :func:`gesture_divergence_by_phone`.
    rows_anchor : array of int, shape (n,)
        Gesture row of each anchor segment in its corpus (-1 = none).
    rows_allowed : array of int, shape (m,)
        Gesture row of each candidate segment of the other corpus (-1 = none);
        only these may be positives (e.g. the target's adaptation half).
    anchor_is_a : bool
        Whether the anchors belong to corpus ``a`` of ``divergence``.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Index into ``rows_allowed`` of each anchor's positive, -1 where the
        anchor's gesture has no same-phone candidate.
    """
    rows_anchor = np.asarray(rows_anchor, dtype=int)
    rows_allowed = np.asarray(rows_allowed, dtype=int)
    pos_of_allowed = {int(r): i for i, r in enumerate(rows_allowed) if r >= 0}
    out = np.full(rows_anchor.size, -1, dtype=int)
    where_anchor = {int(r): i for i, r in enumerate(rows_anchor) if r >= 0}
    for ra, rb, D in divergence.values():
        mine, other = (ra, rb) if anchor_is_a else (rb, ra)
        M = D if anchor_is_a else D.T
        cols = np.array([j for j, r in enumerate(other) if int(r) in pos_of_allowed], dtype=int)
        if cols.size == 0:
            continue
        for i, r in enumerate(mine):
            k = where_anchor.get(int(r))
            if k is not None:
                j = cols[np.argmin(M[i, cols])]
                out[k] = pos_of_allowed[int(other[j])]
    return out


def layer_coral_distance(source_features, source_lengths, target_features, target_lengths):
    """Cross-corpus CORAL distance of each encoder layer (LA's layer analysis).

    Parameters
    ----------
    source_features, target_features : numpy.ndarray, shape (n, n_layers, T, dim)
    source_lengths, target_lengths : numpy.ndarray of int, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n_layers,)
        ``||C_s - C_t||_F^2 / (4 dim^2)`` of the utterance-mean features,
        each dimension standardised over both corpora together.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(20, 2, 5, 3)).astype("float32"); n = np.full(20, 5)
    >>> y = rng.normal(size=(20, 2, 5, 3)).astype("float32"); y[:, 1, :, 0] *= 5
    >>> d = layer_coral_distance(x, n, y, n); bool(d[1] > d[0])
    True
    """
    def means(f, n):
        mask = (np.arange(f.shape[2])[None, :] < np.asarray(n)[:, None]).astype(np.float64)
        return np.einsum("nltd,nt->nld", f.astype(np.float64), mask) / mask.sum(1)[:, None, None]

    ms, mt = means(source_features, source_lengths), means(target_features, target_lengths)
    both = np.concatenate([ms, mt])
    mu, sd = both.mean(0), both.std(0) + 1e-8
    ms, mt = (ms - mu) / sd, (mt - mu) / sd
    out = []
    for layer in range(ms.shape[1]):
        cs, ct = np.cov(ms[:, layer], rowvar=False), np.cov(mt[:, layer], rowvar=False)
        out.append(((cs - ct) ** 2).sum() / (4.0 * ms.shape[2] ** 2))
    return np.array(out)


def choose_layers(distance, n_layers=2, select="least-similar"):
    """Layers LA aligns: the ``n_layers`` of largest (or smallest) CORAL distance.

    Examples
    --------
    >>> choose_layers(np.array([0.1, 0.5, 0.3]), 2).tolist()
    [1, 2]
    >>> choose_layers(np.array([0.1, 0.5, 0.3]), 1, select="most-similar").tolist()
    [0]
    """
    if select not in ("least-similar", "most-similar"):
        raise ParameterError(f"la_select={select!r} must be 'least-similar' or 'most-similar'")
    order = np.argsort(distance, kind="stable")
    if select == "least-similar":
        order = order[::-1]
    return np.sort(order[: max(1, min(int(n_layers), len(distance)))])
