"""AG-acoustic association: how AG clusters spread over acoustic clusters.

The paper clusters the same segments twice, once by mouth gesture (AG
clusters) and once by acoustics (acoustic clusters), and draws, for each AG
cluster, the distribution of its segments over the acoustic clusters, per
emotion: "fewer acoustic clusters per AG cluster means a stronger
association". This module turns that picture into numbers and a test:

- ``normalised entropy`` of an AG cluster: the entropy of its distribution
  over the ``K`` acoustic clusters divided by ``log K`` (0: all its segments in
  one acoustic cluster; 1: spread evenly over all of them);
- ``n90`` of an AG cluster: the fewest acoustic clusters that together hold at
  least 90 % of its segments;
- the summary per emotion is the segment-weighted mean of each over the AG
  clusters (so the entropy summary is the conditional entropy
  ``H(acoustic | AG) / log K``, and small clusters do not dominate);
- the baseline shuffles the AG labels among the segments of the emotion
  (cluster sizes kept, any link to acoustics broken), many times with a fixed
  seed; the one-sided p-value is ``(1 + #{null <= observed}) / (1 + n)``.
  A small p-value means the AG clusters sit in fewer acoustic clusters than
  chance would put them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = [
    "fit_acoustic_clusters",
    "association_table",
    "cluster_spread",
    "association_summary",
    "association_test",
    "association_by_layer",
    "association_display",
    "association_findings",
]


def fit_acoustic_clusters(embeddings, n_clusters, random_state=0, n_init=10):
    """The acoustic cluster model: k-means on standardised segment embeddings.

    Each feature is standardised over the segments first, so that no band of
    the embedding dominates the Euclidean distance by its scale alone.

    Parameters
    ----------
    embeddings : numpy.ndarray
        ``(n_segments, dim)`` one layer's segment embeddings.
    n_clusters : int
        Number of acoustic clusters.
    random_state : int
        Seed of k-means++ initialisation.
    n_init : int
        k-means restarts (best inertia kept).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted ``StandardScaler`` + ``KMeans``; ``predict`` gives labels.

    Examples
    --------
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2))] + np.arange(10)[:, None] * 1e-3
    >>> model = fit_acoustic_clusters(X, 2)
    >>> len(set(model.predict(X)))
    2
    """
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(embeddings, dtype=np.float64)
    if X.ndim != 2:
        raise ParameterError(f"embeddings must be (n_segments, dim), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ParameterError("embeddings hold NaN or infinite values: drop failed segments first")
    if not 1 <= int(n_clusters) <= len(X):
        raise ParameterError(f"n_clusters={n_clusters} must be between 1 and the {len(X)} segments")
    model = make_pipeline(
        StandardScaler(), KMeans(n_clusters=int(n_clusters), n_init=n_init, random_state=random_state)
    )
    return model.fit(X)


def _codes(labels):
    labels = np.asarray(labels)
    uniq, codes = np.unique(labels, return_inverse=True)
    return uniq, codes.ravel()


def association_table(ag, acoustic, normalize=True):
    """AG clusters x acoustic clusters: counts, or each row in percent.

    Parameters
    ----------
    ag, acoustic : array-like
        ``(n_segments,)`` AG and acoustic cluster labels of the same segments.
    normalize : bool
        Rows in percent of the AG cluster's segments (each row sums to 100).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> association_table([0, 0, 1, 1], [5, 5, 5, 6]).values.tolist()
    [[100.0, 0.0], [50.0, 50.0]]
    """
    ag, acoustic = np.asarray(ag), np.asarray(acoustic)
    if ag.shape != acoustic.shape or ag.ndim != 1:
        raise ParameterError(f"ag {ag.shape} and acoustic {acoustic.shape} labels must be 1-D of one length")
    table = pd.crosstab(pd.Series(ag, name="ag_cluster"), pd.Series(acoustic, name="acoustic_cluster"))
    if normalize:
        table = 100.0 * table.div(table.sum(axis=1), axis=0)
    return table.astype(float)


def _spread_from_counts(counts, coverage):
    """Normalised entropy and n_cover for each row of a (..., G, K) count array."""
    k = counts.shape[-1]
    totals = counts.sum(axis=-1, keepdims=True)
    p = counts / np.where(totals > 0, totals, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = 0.0 - np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)
    h = h / np.log(k) if k > 1 else np.zeros_like(h)
    ordered = -np.sort(-p, axis=-1)
    # 1e-9 keeps shares that reach the coverage exactly (e.g. 9 of 10) from
    # needing one cluster more through rounding.
    n_cover = (np.cumsum(ordered, axis=-1) < coverage - 1e-9).sum(axis=-1) + 1
    return h, n_cover, totals[..., 0]


def cluster_spread(ag, acoustic, coverage=0.9, n_acoustic=None):
    """Per AG cluster: size, normalised entropy and ``n_cover`` over acoustic clusters.

    Parameters
    ----------
    ag, acoustic : array-like
        ``(n_segments,)`` labels of the same segments.
    coverage : float
        Share (0-1) of an AG cluster's segments that ``n_cover`` must hold.
    n_acoustic : int, optional
        Number of acoustic clusters ``K`` of the model (the entropy is divided
        by ``log K``); default: the number of distinct acoustic labels.

    Returns
    -------
    pandas.DataFrame
        Index: AG cluster; columns ``n_segments``, ``entropy`` (0-1),
        ``n_cover`` (count).

    Examples
    --------
    >>> cluster_spread([0, 0, 0, 1, 1], [0, 0, 0, 0, 1], n_acoustic=2).round(3).values.tolist()
    [[3.0, 0.0, 1.0], [2.0, 1.0, 2.0]]
    """
    if not 0 < coverage <= 1:
        raise ParameterError(f"coverage={coverage!r} must be in (0, 1]")
    g_names, g = _codes(ag)
    a_names, a = _codes(acoustic)
    k = int(n_acoustic) if n_acoustic is not None else len(a_names)
    if k < len(a_names):
        raise ParameterError(f"n_acoustic={n_acoustic} is below the {len(a_names)} acoustic labels present")
    counts = np.zeros((len(g_names), k))
    np.add.at(counts, (g, a), 1)
    h, n_cover, totals = _spread_from_counts(counts, coverage)
    return pd.DataFrame(
        {"n_segments": totals, "entropy": h, "n_cover": n_cover.astype(float)},
        index=pd.Index(g_names, name="ag_cluster"),
    )


def _summary_stats(g, a, n_g, k, coverage):
    """Segment-weighted mean entropy and n_cover; g may be (n_perm, n) for many at once."""
    g = np.atleast_2d(g)
    n_perm = g.shape[0]
    flat = (np.arange(n_perm)[:, None] * n_g + g) * k + a[None, :]
    counts = np.bincount(flat.ravel(), minlength=n_perm * n_g * k).reshape(n_perm, n_g, k).astype(float)
    h, n_cover, totals = _spread_from_counts(counts, coverage)
    w = totals / totals.sum(axis=-1, keepdims=True)
    return (w * h).sum(axis=-1), (w * n_cover).sum(axis=-1)


def association_summary(ag, acoustic, coverage=0.9, n_acoustic=None):
    """Segment-weighted mean normalised entropy and mean ``n_cover``.

    Returns
    -------
    (float, float)
        Mean normalised entropy (0-1), mean number of acoustic clusters
        holding ``coverage`` of an AG cluster.

    Examples
    --------
    >>> association_summary([0, 0, 1, 1], [0, 0, 1, 1])
    (0.0, 1.0)
    """
    g_names, g = _codes(ag)
    a_names, a = _codes(acoustic)
    k = int(n_acoustic) if n_acoustic is not None else len(a_names)
    h, n = _summary_stats(g, a, len(g_names), max(k, len(a_names)), coverage)
    return float(h[0]), float(n[0])


def association_test(
    segments,
    ag_col="cluster",
    acoustic_col="acoustic_cluster",
    emotions=None,
    n_acoustic=None,
    coverage=0.9,
    n_permutations=1000,
    random_state=0,
    include_all=True,
    shuffle_within=(),
):
    """Association summary per emotion against a shuffled-cluster baseline.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per segment with ``emotion``, ``ag_col`` and ``acoustic_col``.
    ag_col, acoustic_col : str
        Columns of the AG and acoustic cluster labels.
    emotions : sequence of str, optional
        Emotions to test (default: all present, sorted).
    n_acoustic : int, optional
        ``K`` of the acoustic model (default: labels present overall).
    coverage : float
        Share for ``n_cover`` (the paper-style "clusters holding 90 %").
    n_permutations : int
        Shuffles of the AG labels within the emotion.
    random_state : int
        Seed of the shuffles.
    include_all : bool
        Add a row ``"all"`` (shuffling within each emotion, pooled).
    shuffle_within : sequence of str
        Further columns (e.g. ``("corpus",)``) within whose values the AG
        labels are shuffled, on top of the emotion: the baseline then keeps
        how AG clusters split by corpus, and tests the association beyond
        what a shared corpus effect on both cluster models would give.

    Returns
    -------
    pandas.DataFrame
        Index: emotion. Columns: ``n_segments``, ``n_ag_clusters``,
        ``entropy``, ``entropy_null``, ``entropy_null_sd``, ``p_entropy``,
        ``n_cover``, ``n_cover_null``, ``n_cover_null_sd``, ``p_n_cover``.

    Examples
    --------
    >>> df = pd.DataFrame({"emotion": ["anger"] * 40, "cluster": [0, 1] * 20,
    ...                    "acoustic_cluster": [0, 1] * 20})
    >>> r = association_test(df, n_permutations=99, include_all=False)
    >>> float(r.loc["anger", "entropy"]), float(r.loc["anger", "p_entropy"])
    (0.0, 0.01)
    """
    for col in ("emotion", ag_col, acoustic_col, *shuffle_within):
        if col not in segments.columns:
            raise ParameterError(f"segments lacks column {col!r}; it has {list(segments.columns)}")
    n_permutations = int(n_permutations)
    if n_permutations < 1:
        raise ParameterError(f"n_permutations={n_permutations} must be >= 1")
    a_names, a_all = _codes(segments[acoustic_col].to_numpy())
    k = int(n_acoustic) if n_acoustic is not None else len(a_names)
    g_names, g_all = _codes(segments[ag_col].to_numpy())
    emo = segments["emotion"].astype(str).to_numpy()
    if emotions is None:
        emotions = sorted(e for e in np.unique(emo) if e)
    rng = np.random.default_rng(random_state)

    def shuffled(idx_groups):
        perms = np.empty((n_permutations, len(g_all)), dtype=g_all.dtype)
        perms[:] = g_all
        for idx in idx_groups:
            block = np.broadcast_to(g_all[idx], (n_permutations, len(idx)))
            perms[:, idx] = rng.permuted(block, axis=1)
        return perms

    rows = {}
    if shuffle_within:
        block = segments[list(shuffle_within)].astype(str).groupby(list(shuffle_within)).ngroup().to_numpy()
    else:
        block = np.zeros(len(segments), dtype=int)
    groups = {
        e: [np.flatnonzero((emo == e) & (block == b)) for b in pd.unique(block[emo == e])] for e in emotions
    }
    targets = [(e, groups[e]) for e in emotions]
    if include_all:
        targets.append(("all", [g for e in emotions for g in groups[e]]))
    for name, idx_groups in targets:
        idx = np.concatenate(idx_groups) if idx_groups else np.array([], dtype=int)
        if idx.size == 0:
            rows[name] = {"n_segments": 0}
            continue
        h_obs, n_obs = _summary_stats(g_all[idx], a_all[idx], len(g_names), k, coverage)
        null = shuffled(idx_groups)[:, idx]
        h_null, n_null = _summary_stats(null, a_all[idx], len(g_names), k, coverage)
        rows[name] = {
            "n_segments": int(idx.size),
            "n_ag_clusters": int(np.unique(g_all[idx]).size),
            "entropy": float(h_obs[0]),
            "entropy_null": float(h_null.mean()),
            "entropy_null_sd": float(h_null.std(ddof=1)) if n_permutations > 1 else float("nan"),
            "p_entropy": float((1 + np.sum(h_null <= h_obs[0] + 1e-12)) / (1 + n_permutations)),
            "n_cover": float(n_obs[0]),
            "n_cover_null": float(n_null.mean()),
            "n_cover_null_sd": float(n_null.std(ddof=1)) if n_permutations > 1 else float("nan"),
            "p_n_cover": float((1 + np.sum(n_null <= n_obs[0] + 1e-12)) / (1 + n_permutations)),
        }
    out = pd.DataFrame(rows).T
    out.index.name = "emotion"
    return out


# -- chapter 5: the acoustic model on every layer, and what the tests say -----------------------------


def association_by_layer(segments, embeddings, layer_names, n_acoustic, emotions=None, coverage=0.9,
                         n_permutations=200, random_state=0):
    """The acoustic cluster model on each encoder layer, and how each relates to corpus, phone and AG.

    An acoustic model whose clusters mostly separate the two *corpora*
    (recording channel) says little about articulation; the layer used should
    have a low NMI with the corpus and a high one with the phone.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per segment: ``corpus, ipa, emotion, cluster`` (the AG cluster).
    embeddings : numpy.ndarray, shape (n_segments, n_layers, dim)
        Finite segment embeddings, row-aligned with ``segments``.
    layer_names : sequence of str
        Names of the ``n_layers`` layers.
    n_acoustic : int
        Acoustic clusters ``K``.
    emotions : sequence of str, optional
        Emotions of the per-layer test (default: all present).
    coverage, n_permutations, random_state
        As for :func:`association_test` (and the k-means seed).

    Returns
    -------
    table : pandas.DataFrame
        Index ``layer``; ``NMI with corpus``, ``NMI with phone``, ``NMI with AG
        cluster``, ``entropy (all)``, ``entropy, shuffled (all)``, ``p (all)``.
    labels : dict
        ``layer name -> (n_segments,)`` acoustic labels, numbered from 1.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> seg = pd.DataFrame({"corpus": ["A", "B"] * 20, "ipa": ["i"] * 20 + ["u"] * 20,
    ...                     "emotion": "anger", "cluster": [1] * 20 + [2] * 20})
    >>> emb = np.stack([np.r_[np.zeros((20, 2)), np.ones((20, 2))], rng.normal(size=(40, 2))], axis=1)
    >>> table, labels = association_by_layer(seg, emb + 0.01 * rng.normal(size=emb.shape), ["a", "b"], 2,
    ...                                      n_permutations=50)
    >>> float(table.loc["a", "NMI with AG cluster"]), sorted(set(labels["a"].tolist()))
    (1.0, [1, 2])
    """
    from sklearn.metrics import normalized_mutual_info_score as nmi

    emb = np.asarray(embeddings)
    if emb.ndim != 3 or emb.shape[0] != len(segments) or emb.shape[1] != len(layer_names):
        raise ParameterError(f"embeddings of shape {emb.shape} must be (n_segments={len(segments)}, "
                             f"n_layers={len(layer_names)}, dim)")
    rows, labels = [], {}
    for i, name in enumerate(layer_names):
        model = fit_acoustic_clusters(emb[:, i], n_acoustic, random_state=random_state)
        lab = model.predict(emb[:, i].astype(np.float64)).astype(int) + 1
        labels[str(name)] = lab
        test = association_test(segments.assign(acoustic_cluster=lab), emotions=emotions, n_acoustic=n_acoustic,
                                coverage=coverage, n_permutations=n_permutations, random_state=random_state)
        rows.append({"layer": str(name), "NMI with corpus": nmi(segments["corpus"], lab),
                     "NMI with phone": nmi(segments["ipa"], lab), "NMI with AG cluster": nmi(segments["cluster"], lab),
                     "entropy (all)": test.loc["all", "entropy"], "entropy, shuffled (all)": test.loc["all", "entropy_null"],
                     "p (all)": test.loc["all", "p_entropy"]})
    return pd.DataFrame(rows).set_index("layer"), labels


def association_display(result, emotions):
    """The test per emotion, compact: observed against shuffled, for the entropy and ``n90``.

    Returns
    -------
    pandas.DataFrame
        Index emotion; ``segments``, ``entropy``, ``shuffled`` (the shuffled
        entropy with its standard deviation), ``p``, ``n90 (shuffled)``, ``p
        (n90)``, rounded.

    Examples
    --------
    >>> r = pd.DataFrame({"n_segments": [10.0], "entropy": [0.5], "entropy_null": [0.6], "entropy_null_sd": [0.01],
    ...                   "p_entropy": [0.01], "n_cover": [2.0], "n_cover_null": [2.5], "p_n_cover": [0.2]},
    ...                  index=["anger"])
    >>> association_display(r, ["anger"]).loc["anger"].tolist()
    [10, '0.500', '0.600 ± 0.010', '0.01', '2.00 (2.50)', '0.2']
    """
    rows = {}
    for e in emotions:
        if e not in result.index or not result.loc[e, "n_segments"] > 0:
            continue
        r = result.loc[e].astype(float)
        rows[e] = {"segments": int(r["n_segments"]), "entropy": f"{r['entropy']:.3f}",
                   "shuffled": f"{r['entropy_null']:.3f} ± {r['entropy_null_sd']:.3f}", "p": f"{r['p_entropy']:.2g}",
                   "n90 (shuffled)": f"{r['n_cover']:.2f} ({r['n_cover_null']:.2f})",
                   "p (n90)": f"{r['p_n_cover']:.2g}"}
    out = pd.DataFrame(rows).T
    out.index.name = "emotion"
    return out


def _names(items):
    return ", ".join(items) if items else "none"


def association_findings(result, strict, per_layer, emotions, n_permutations, alpha=0.05):
    """What chapter 5 says about its tests, as named values for the prose.

    Parameters
    ----------
    result, strict : pandas.DataFrame
        :func:`association_test` with the plain and the within-corpus shuffle
        (each with its ``all`` row).
    per_layer : pandas.DataFrame
        :func:`association_by_layer`'s table.
    emotions : sequence of str
        The emotions the paper draws (happiness, anger, sadness).
    n_permutations : int
        Shuffles of ``result`` and ``strict``.
    alpha : float
        Significance level.

    Returns
    -------
    dict
        ``n_emotions`` (emotions with segments), ``n_sig``/``sig`` (significant by
        entropy), ``n_sig_n90``/``sig_n90``, ``n_sig_strict``/``sig_strict``,
        ``all_significant`` (bool: every emotion, by entropy), ``strict_holds``
        (bool: the ``all`` row beats the within-corpus shuffle), ``p_min`` (the
        smallest attainable p), the ``all`` row's ``entropy``, ``entropy_null``,
        ``n90``, ``n90_null``, ``strict_entropy_null``, ``strict_p``; per layer
        ``phone_layer``/``phone_nmi`` (follows the phone most),
        ``corpus_layer``/``corpus_nmi`` (split most by corpus),
        ``n_layers_sig`` and ``n_layers``; ``alpha``.

    Examples
    --------
    >>> t = pd.DataFrame({"n_segments": [10.0, 10.0], "entropy": [0.5, 0.5], "entropy_null": [0.6, 0.6],
    ...                   "p_entropy": [0.01, 0.01], "n_cover": [2.0, 2.0], "n_cover_null": [2.5, 2.5],
    ...                   "p_n_cover": [0.2, 0.2]}, index=["anger", "all"])
    >>> layers = pd.DataFrame({"NMI with corpus": [0.1], "NMI with phone": [0.3], "p (all)": [0.01]}, index=["x"])
    >>> f = association_findings(t, t, layers, ["anger"], 99)
    >>> f["n_sig"], f["sig"], f["n_sig_n90"], f["all_significant"], f["p_min"]
    (1, 'anger', 0, True, 0.01)
    """
    present = [e for e in emotions if e in result.index and result.loc[e, "n_segments"] > 0]
    sig = [e for e in present if result.loc[e, "p_entropy"] < alpha]
    sig_n = [e for e in present if result.loc[e, "p_n_cover"] < alpha]
    sig_strict = [e for e in present if strict.loc[e, "p_entropy"] < alpha]
    all_row, strict_all = result.loc["all"].astype(float), strict.loc["all"].astype(float)
    return {
        "n_emotions": len(present), "n_sig": len(sig), "sig": _names(sig), "n_sig_n90": len(sig_n),
        "sig_n90": _names(sig_n), "n_sig_strict": len(sig_strict), "sig_strict": _names(sig_strict),
        "all_significant": bool(present) and len(sig) == len(present),
        "strict_holds": bool(strict_all["p_entropy"] < alpha),
        "p_min": 1.0 / (1 + int(n_permutations)),
        "entropy": float(all_row["entropy"]), "entropy_null": float(all_row["entropy_null"]),
        "n90": float(all_row["n_cover"]), "n90_null": float(all_row["n_cover_null"]),
        "strict_entropy_null": float(strict_all["entropy_null"]), "strict_p": float(strict_all["p_entropy"]),
        "phone_layer": str(per_layer["NMI with phone"].idxmax()),
        "phone_nmi": float(per_layer["NMI with phone"].max()),
        "corpus_layer": str(per_layer["NMI with corpus"].idxmax()),
        "corpus_nmi": float(per_layer["NMI with corpus"].max()),
        "n_layers_sig": int((per_layer["p (all)"] < alpha).sum()), "n_layers": len(per_layer), "alpha": alpha,
    }
