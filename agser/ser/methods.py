"""The methods compared in chapters 6 and 7, and the anchor units each uses.

============= ================================================================
method        what it adds to the cross-entropy L_ER on the labelled source
============= ================================================================
source-only   nothing (no anchoring, no target data)
AG            ``gamma * L_AG``: soft-weighted triplets of cross-corpus segments
              sharing a *common* AG cluster (overlap ``s_i >= 25 %`` for the
              anchor's phone); weight ``s_i / 100``
AG-shuffled   AG's loss, anchors and weights, with the (unit, weight) of the
              segments permuted within each corpus: articulation is destroyed,
              everything else kept (the ablation a working AG must beat)
AG-oracle     AG's loss with the simulator's true articulatory class of each
              segment in place of its AG cluster (simulated corpora only): the
              best anchors this loss can get
PA            ``gamma * L_PA``: the same triplet loss, with phone identity as the
              anchor unit, weight 1
LA            ``gamma * CORAL``: CORAL between source and target of the pooled
              representation the classifier uses, and of the same network on
              each encoder layer chosen by the layer-similarity analysis on
              speaker-normalised features (:func:`layer_coral_distance`,
              :func:`choose_layers`); Deep CORAL's normalised loss
Hard-AG       ``gamma * L_hard``: no clustering; a segment's positive is the
              cross-corpus segment of the *same phone* whose mouth gesture is
              nearest under the soft-DTW divergence; negatives are cross-corpus
              segments of another phone; weight 1
upper-bound   trained and tested within one corpus (speaker-independent folds)
============= ================================================================

Triplets are drawn within each training step's mini-batches
(:class:`agser.ser.estimator.SERClassifier`): every segment of the source
batch and of the target batch with an anchor unit is an anchor (at most
``max_triplets``); its positive is drawn among the *other* corpus' batch
segments of the same unit (Hard-AG: the nearest same-phone gesture there), its
negative among that batch's segments of another unit. Both directions enter
one weighted mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["METHODS", "CROSS_METHODS", "TRIPLET_METHODS", "ANCHORING", "check_method", "ag_units",
           "phone_units", "anchor_units", "shuffle_units", "gesture_divergence_by_phone",
           "hard_ag_positives", "layer_coral_distance", "choose_layers", "overlap_table"]

#: Every method name, in the order of the tables.
METHODS = ("upper-bound", "source-only", "PA", "LA", "AG", "Hard-AG", "AG-shuffled", "AG-oracle")
#: Methods trained on one corpus and tested on the other.
CROSS_METHODS = ("source-only", "PA", "LA", "AG", "Hard-AG", "AG-shuffled", "AG-oracle")
#: Methods whose extra loss is a triplet loss over segments.
TRIPLET_METHODS = ("AG", "PA", "Hard-AG", "AG-shuffled", "AG-oracle")
#: The estimator's ``anchoring`` of each method.
ANCHORING = {"upper-bound": "none", "source-only": "none", "PA": "triplet", "LA": "coral", "AG": "triplet",
             "Hard-AG": "hard", "AG-shuffled": "triplet", "AG-oracle": "triplet"}


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


def layer_coral_distance(source_means, target_means):
    """Cross-corpus CORAL distance of each encoder layer (LA's layer analysis).

    Parameters
    ----------
    source_means, target_means : numpy.ndarray, shape (n, n_layers, dim)
        Utterance means of each layer's (speaker-normalised) frame features
        (:func:`agser.ser.data.utterance_means`).

    Returns
    -------
    numpy.ndarray, shape (n_layers,)
        ``||C_s - C_t||_F^2 / (4 dim^2)`` of the utterance means, each
        dimension standardised over both corpora together.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(20, 2, 3)); y = rng.normal(size=(20, 2, 3)); y[:, 1, 0] *= 5
    >>> d = layer_coral_distance(x, y); bool(d[1] > d[0])
    True
    """
    ms, mt = np.asarray(source_means, dtype=np.float64), np.asarray(target_means, dtype=np.float64)
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


def overlap_table(source_segments, target_segments, threshold=25.0, column="cluster"):
    """Cross-corpus overlap ``s_i`` (percent) of each cluster and phone, of two segment tables.

    :func:`agser.analysis.overlap.cluster_overlap` on the segments of both
    sides (those with ``column`` >= 0), with the sides as the two corpora.

    Returns
    -------
    pandas.DataFrame
        Index = cluster, columns = phone (IPA).
    """
    from agser.analysis.overlap import cluster_overlap

    df = pd.concat([source_segments.assign(corpus="source"), target_segments.assign(corpus="target")],
                   ignore_index=True)
    df = df[df[column] >= 0]
    df = df.assign(cluster=df[column])
    result = cluster_overlap(df[["corpus", "ipa", "cluster"]], threshold=threshold)
    return result[0] if isinstance(result, tuple) else result


def shuffle_units(units, weights, rng):
    """Permute the (unit, weight) pairs of one corpus' segments: AG-shuffled's anchors.

    The anchors' number, each unit's count and the multiset of weights stay
    the same; which segment carries which unit becomes random, so the link
    between a segment's articulation and its anchor unit is destroyed.

    Examples
    --------
    >>> u, w = shuffle_units(np.array([0, 0, 1, -1]), np.array([.5, .5, .9, 0.]), np.random.default_rng(1))
    >>> sorted(u.tolist()), sorted(w.tolist())
    ([-1, 0, 0, 1], [0.0, 0.5, 0.5, 0.9])
    """
    order = rng.permutation(len(units))
    return np.asarray(units)[order], np.asarray(weights)[order]


def anchor_units(method, source_segments, target_segments, threshold=25.0, seed=0):
    """The anchor ``unit`` and ``weight`` of every segment of both sides, for a method.

    Reads only the segments' ``ipa``, ``cluster`` and (AG-oracle) ``oracle``
    columns: no label.

    Parameters
    ----------
    method : str
        A triplet method (:data:`TRIPLET_METHODS`).
    source_segments, target_segments : pandas.DataFrame
        The training set's and the unlabelled target set's segment tables.
    threshold : float
        The overlap threshold (percent) of AG's common clusters.
    seed : int
        AG-shuffled's permutation.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, dict)
        Both tables with ``unit`` (-1 = not an anchor) and ``weight`` added,
        and a summary: ``common_share_source`` / ``common_share_target``
        (share of segments with an anchor unit) and ``n_units``.
    """
    if method not in TRIPLET_METHODS:
        raise ParameterError(f"method {method!r} has no anchor units")
    ss, ts = source_segments.copy(), target_segments.copy()
    if method in ("AG", "AG-shuffled", "AG-oracle"):
        column = "oracle" if method == "AG-oracle" else "cluster"
        if column not in ss.columns or column not in ts.columns:
            raise ParameterError(f"method {method!r} needs the segments' {column!r} column"
                                 + (" (simulated corpora only)" if column == "oracle" else ""))
        per_cluster = overlap_table(ss, ts, threshold, column=column)
        for table in (ss, ts):
            u, w = ag_units(table.assign(cluster=table[column]), per_cluster, threshold)
            table["unit"], table["weight"] = u, w
        if method == "AG-shuffled":
            rng = np.random.default_rng([int(seed), 4242])
            for table in (ss, ts):
                table["unit"], table["weight"] = shuffle_units(table["unit"].to_numpy(),
                                                               table["weight"].to_numpy(), rng)
    else:
        # PA and Hard-AG: the phone is the unit (Hard-AG picks its positive within it)
        phones = sorted(set(ss["ipa"].astype(str)) & set(ts["ipa"].astype(str)))
        for table in (ss, ts):
            table["unit"] = phone_units(table, phones)
            table["weight"] = (table["unit"] >= 0).astype(float)
    summary = {"common_share_source": float((ss["unit"] >= 0).mean()) if len(ss) else 0.0,
               "common_share_target": float((ts["unit"] >= 0).mean()) if len(ts) else 0.0,
               "n_units": int(len(set(ss.loc[ss["unit"] >= 0, "unit"]) & set(ts.loc[ts["unit"] >= 0, "unit"])))}
    return ss, ts, summary
