"""Cross-corpus overlap of AG clusters: the paper's ``Sim``, as DESIGN.md reads it.

For a phone and corpus ``c``, ``p_c(i) = N_c,i / N_c`` is the share of the
phone's segments of corpus ``c`` that fall in cluster ``i``. The per-cluster
overlap is the ratio of the smaller share to the larger one,

    s_i = 100 * min(p_1(i), p_2(i)) / max(p_1(i), p_2(i)),

so 100 means "both corpora put the same share of this phone into cluster
``i``" and 0 means "only one corpus uses cluster ``i`` for this phone". A
cluster is *common* for the phone when both shares are non-zero and
``s_i >= threshold`` (the paper's 25 %). ``Sim(phone)`` is the mean of
``s_i`` over the common clusters (the ``K`` of the slide's formula); a phone
with no common cluster has ``Sim = NaN`` (there is nothing to average), and a
phone seen in only one corpus has ``s_i = 0`` everywhere.

The slide's formula read literally, ``(1/K) * sum_i min(N1_i/N1, N2_i/N2) * 100``,
gives per-cluster terms that sum to at most 100 over the clusters, while the
paper's per-cluster table has columns summing to nearly 300; the ratio above
is the reading that matches the table (see DESIGN.md, "The analyses").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["cluster_shares", "cluster_overlap", "emotion_overlap", "paper_reading_check", "sim_beside_paper",
           "overlap_ceiling", "best_emotions", "overlap_findings", "overlap_analysis", "OVERLAP_EMOTIONS"]

_REQUIRED = ("corpus", "ipa", "cluster")


def _check(segments, extra=()):
    if not isinstance(segments, pd.DataFrame):
        raise ParameterError(f"segments must be a pandas DataFrame, got {type(segments).__name__}")
    missing = [c for c in (*_REQUIRED, *extra) if c not in segments.columns]
    if missing:
        raise ParameterError(
            f"segments lacks column(s) {missing}; it has {list(segments.columns)}"
        )
    corpora = sorted(pd.unique(segments["corpus"].astype(str)))
    if len(corpora) != 2:
        raise ParameterError(
            f"cluster overlap needs exactly two corpora in segments['corpus'], got {corpora}"
        )
    return corpora


def cluster_shares(segments, corpora=None, clusters=None, phones=None):
    """Share of each phone's segments per cluster, per corpus.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per segment with columns ``corpus``, ``ipa`` and ``cluster``.
    corpora : sequence of str, optional
        The corpora to tabulate (default: those present, sorted).
    clusters, phones : sequence, optional
        Rows and columns of the result (default: those present, sorted).

    Returns
    -------
    dict of str -> pandas.DataFrame
        For each corpus, a clusters x phones table of ``p_c(i)`` (fractions in
        [0, 1]; each column sums to 1 where the phone occurs in that corpus,
        to 0 where it does not).

    Examples
    --------
    >>> df = pd.DataFrame({"corpus": ["A", "A", "B"], "ipa": ["i", "i", "i"], "cluster": [1, 2, 2]})
    >>> cluster_shares(df)["A"]["i"].tolist()
    [0.5, 0.5]
    """
    corpora = list(corpora) if corpora is not None else sorted(pd.unique(segments["corpus"].astype(str)))
    if clusters is None:
        clusters = sorted(pd.unique(segments["cluster"]))
    if phones is None:
        phones = sorted(pd.unique(segments["ipa"].astype(str)))
    out = {}
    for corpus in corpora:
        sub = segments[segments["corpus"].astype(str) == corpus]
        counts = pd.crosstab(sub["cluster"], sub["ipa"].astype(str))
        counts = counts.reindex(index=list(clusters), columns=list(phones), fill_value=0)
        totals = counts.sum(axis=0).replace(0, np.nan)
        out[corpus] = (counts / totals).fillna(0.0).astype(float)
    return out


def _overlap_tables(p1, p2, threshold):
    hi = np.maximum(p1.to_numpy(), p2.to_numpy())
    lo = np.minimum(p1.to_numpy(), p2.to_numpy())
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(hi > 0, 100.0 * lo / np.where(hi > 0, hi, 1.0), 0.0)
    table = pd.DataFrame(s, index=p1.index, columns=p1.columns)
    common = (lo > 0) & (s >= threshold)
    masked = np.where(common, s, np.nan)
    counts = common.sum(axis=0)
    with np.errstate(invalid="ignore"):
        sim_values = np.where(counts > 0, np.nansum(masked, axis=0) / np.maximum(counts, 1), np.nan)
    sim = pd.Series(sim_values, index=p1.columns, name="Sim")
    return table, sim, pd.Series(counts, index=p1.columns, name="n_common")


def cluster_overlap(segments, threshold=25.0, phones=None, clusters=None, return_common=False):
    """Per-cluster overlap ``s_i`` and per-phone ``Sim`` between two corpora.

    Parameters
    ----------
    segments : pandas.DataFrame
        One row per segment with columns ``corpus`` (exactly two distinct
        values), ``ipa`` (phone label) and ``cluster`` (AG cluster id).
    threshold : float
        Minimum ``s_i`` (percent, 0-100) for a cluster to count as common;
        the paper's 25.
    phones : sequence of str, optional
        Columns (phones) of the result, in this order; phones missing from
        ``segments`` get 0 overlap and ``Sim = NaN``. Default: all phones
        present, sorted.
    clusters : sequence, optional
        Rows (cluster ids) of the result; default: all clusters present, sorted.
    return_common : bool
        Also return the number of common clusters per phone.

    Returns
    -------
    table : pandas.DataFrame
        Clusters x phones, ``s_i`` in percent (0-100).
    sim : pandas.Series
        Per phone, the mean of ``s_i`` over its common clusters (percent;
        NaN where none is common).
    n_common : pandas.Series
        Only with ``return_common=True``: common clusters per phone.

    Raises
    ------
    ParameterError
        If a column is missing or ``segments`` does not hold exactly two corpora.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "corpus": ["A"] * 4 + ["B"] * 4,
    ...     "ipa": ["i"] * 8,
    ...     "cluster": [1, 1, 1, 2, 1, 1, 2, 2]})
    >>> table, sim = cluster_overlap(df)
    >>> table["i"].round(1).tolist()   # 100*min(.75,.5)/.75, 100*min(.25,.5)/.5
    [66.7, 50.0]
    >>> round(float(sim["i"]), 2)
    58.33
    """
    corpora = _check(segments)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 100.0:
        raise ParameterError(f"threshold={threshold!r} must be a percentage in [0, 100]")
    shares = cluster_shares(segments, corpora, clusters=clusters, phones=phones)
    table, sim, n_common = _overlap_tables(shares[corpora[0]], shares[corpora[1]], threshold)
    table.index.name = "cluster"
    table.columns.name = "ipa"
    if return_common:
        return table, sim, n_common
    return table, sim


def emotion_overlap(segments, threshold=25.0, phones=None, emotions=None, clusters=None):
    """``Sim`` per phone, overall (row ``"all"``) and within each emotion.

    Within an emotion the shares ``p_c(i)`` are computed over that emotion's
    segments only; the clusters are the same model's.

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`cluster_overlap`, plus an ``emotion`` column.
    threshold : float
        Common-cluster threshold, percent.
    phones : sequence of str, optional
        Columns of the result (default: all phones present, sorted).
    emotions : sequence of str, optional
        Rows after ``"all"`` (default: the emotions present, sorted).
    clusters : sequence, optional
        Cluster ids to consider (default: all present).

    Returns
    -------
    pandas.DataFrame
        Rows ``"all"`` then each emotion, columns the phones, values ``Sim``
        in percent (NaN where a phone has no common cluster in that emotion).

    Examples
    --------
    >>> df = pd.DataFrame({"corpus": list("AABB"), "ipa": ["i"] * 4,
    ...                    "cluster": [1, 2, 1, 2], "emotion": ["anger", "sadness"] * 2})
    >>> emotion_overlap(df).loc[:, "i"].tolist()
    [100.0, 100.0, 100.0]
    """
    _check(segments, extra=("emotion",))
    if phones is None:
        phones = sorted(pd.unique(segments["ipa"].astype(str)))
    if clusters is None:
        clusters = sorted(pd.unique(segments["cluster"]))
    if emotions is None:
        emotions = sorted(e for e in pd.unique(segments["emotion"].astype(str)) if e)
    rows = {"all": cluster_overlap(segments, threshold, phones=phones, clusters=clusters)[1]}
    for emotion in emotions:
        sub = segments[segments["emotion"].astype(str) == emotion]
        if sub["corpus"].nunique() < 2:
            rows[emotion] = pd.Series(np.nan, index=list(phones))
            continue
        rows[emotion] = cluster_overlap(sub, threshold, phones=phones, clusters=clusters)[1]
    out = pd.DataFrame(rows).T
    out.index.name = "emotion"
    out.columns.name = "ipa"
    return out


# -- chapter 4: the paper's reading checked, our Sim beside the paper's, a ceiling, the findings --------


def paper_reading_check(paper_clusters, paper_emotions, threshold=25.0):
    """The reading of ``Sim`` checked on the paper's own numbers.

    The mean of the paper's per-cluster values at or above ``threshold``, per
    vowel, against the paper's "All" row.

    Parameters
    ----------
    paper_clusters : pandas.DataFrame
        The paper's per-cluster table (clusters x vowels, percent).
    paper_emotions : pandas.DataFrame
        The paper's emotion table (row ``all`` and the emotions x vowels).
    threshold : float
        Common-cluster threshold, percent.

    Returns
    -------
    pandas.DataFrame
        Index the vowels; ``mean of s_i >= 25`` (the threshold in the name),
        ``paper's All row``, ``common clusters``.

    Examples
    --------
    >>> from agser.analysis.paper import paper_table
    >>> check = paper_reading_check(paper_table("cluster_overlap"), paper_table("emotion_overlap"))
    >>> check.loc[["ɑ", "i"]].round(1).values.tolist()
    [[68.8, 68.8, 4.0], [73.4, 73.4, 3.0]]
    """
    common = paper_clusters.where(paper_clusters >= float(threshold))
    return pd.DataFrame({f"mean of s_i >= {threshold:g}": common.mean(), "paper's All row": paper_emotions.loc["all"],
                         "common clusters": common.notna().sum()})


def sim_beside_paper(sim, n_common, paper_clusters, paper_emotions, phones=None, threshold=25.0):
    """Common clusters and ``Sim`` per vowel, ours beside the paper's.

    Returns
    -------
    pandas.DataFrame
        Index the vowels; ``common (ours)``, ``common (paper)``, ``Sim (ours)``, ``Sim (paper)``.

    Examples
    --------
    >>> from agser.analysis.paper import paper_table
    >>> t = sim_beside_paper(pd.Series({"i": 50.0}), pd.Series({"i": 2}), paper_table("cluster_overlap"),
    ...                      paper_table("emotion_overlap"), phones=["i"])
    >>> [float(x) for x in t.loc["i"]]
    [2.0, 3.0, 50.0, 73.4]
    """
    phones = list(phones) if phones is not None else list(paper_emotions.columns)
    paper_common = (paper_clusters >= float(threshold)).sum()
    return pd.DataFrame({"common (ours)": n_common.reindex(phones).astype("Int64"),
                         "common (paper)": paper_common.reindex(phones).astype("Int64"),
                         "Sim (ours)": sim.reindex(phones).astype(float),
                         "Sim (paper)": paper_emotions.loc["all"].reindex(phones).astype(float)})


def overlap_ceiling(segments, threshold=25.0, phones=None, clusters=None, n_splits=20, random_state=0):
    """``Sim`` of two random halves of *one* corpus: what sampling noise alone allows.

    Two halves of one corpus share their gestures by construction, so their
    ``Sim`` is a ceiling for corpora of that size; only the part of a
    cross-corpus ``Sim`` below it says the corpora differ.

    Parameters
    ----------
    segments : pandas.DataFrame
        As for :func:`cluster_overlap`.
    threshold, phones, clusters
        As for :func:`cluster_overlap`.
    n_splits : int
        Random halvings per corpus (the mean is reported).
    random_state : int
        Seed of the halvings.

    Returns
    -------
    pandas.DataFrame
        Index the phones; one column ``CORPUS vs itself`` per corpus and
        ``across corpora`` (:func:`cluster_overlap`'s ``Sim``).

    Examples
    --------
    >>> df = pd.DataFrame({"corpus": ["A"] * 40 + ["B"] * 40, "ipa": "i", "cluster": [1, 2] * 40})
    >>> overlap_ceiling(df, n_splits=5).loc["i"].round(0).tolist()
    [76.0, 81.0, 100.0]
    """
    corpora = _check(segments)
    if int(n_splits) < 1:
        raise ParameterError(f"n_splits={n_splits!r} must be >= 1")
    if phones is None:
        phones = sorted(pd.unique(segments["ipa"].astype(str)))
    if clusters is None:
        clusters = sorted(pd.unique(segments["cluster"]))
    rng = np.random.default_rng(random_state)
    out = {}
    for corpus in corpora:
        own = segments[segments["corpus"].astype(str) == corpus]
        sims = []
        for _ in range(int(n_splits)):
            half = np.where(rng.random(len(own)) < 0.5, "half A", "half B")
            if len(set(half)) < 2:
                continue
            sims.append(cluster_overlap(own.assign(corpus=half), threshold, phones=phones, clusters=clusters)[1])
        out[f"{corpus} vs itself"] = pd.concat(sims, axis=1).mean(axis=1) if sims else \
            pd.Series(np.nan, index=list(phones))
    out["across corpora"] = cluster_overlap(segments, threshold, phones=phones, clusters=clusters)[1]
    table = pd.DataFrame(out)
    table.index.name = "ipa"
    return table


def best_emotions(emo, paper_emotions, emotions=("neutral", "happiness", "anger", "sadness"), phones=None):
    """Per vowel, the emotion with the highest ``Sim``: ours and the paper's (``"none"`` where all are NaN).

    Examples
    --------
    >>> ours = pd.DataFrame({"i": [50.0, 70.0]}, index=["anger", "sadness"])
    >>> paper = pd.DataFrame({"i": [80.0, 60.0]}, index=["anger", "sadness"])
    >>> best_emotions(ours, paper, emotions=["anger", "sadness"]).values.tolist()
    [['sadness', 'anger']]
    """
    phones = list(phones) if phones is not None else list(paper_emotions.columns)
    emotions = list(emotions)

    def best(t):
        sub = t.reindex(index=emotions, columns=phones).astype(float)
        return sub.apply(lambda col: col.idxmax() if col.notna().any() else "none")

    return pd.DataFrame({"highest (ours)": best(emo), "highest (paper)": best(paper_emotions)})


def _vowels(names):
    return ", ".join(f"/{v}/" for v in names) if len(names) else "none"


def overlap_findings(segments, table, sim, n_common, ceiling, emo, paper_clusters, paper_emotions,
                     emotions=("neutral", "happiness", "anger", "sadness"), phones=None, threshold=25.0):
    """What chapter 4 says about its tables, as named values (numbers and short phrases) for the prose.

    Parameters
    ----------
    segments : pandas.DataFrame
        The clustered segments (``corpus, ipa, emotion, cluster``).
    table, sim, n_common
        :func:`cluster_overlap` with ``return_common=True``.
    ceiling : pandas.DataFrame
        :func:`overlap_ceiling`.
    emo : pandas.DataFrame
        :func:`emotion_overlap`.
    paper_clusters, paper_emotions : pandas.DataFrame
        The paper's tables (:func:`agser.analysis.paper.paper_table`).
    emotions, phones, threshold
        The emotions, vowels and threshold of the tables.

    Returns
    -------
    dict
        ``k``; ``common_lo``/``common_hi`` (ours) and ``paper_common_lo``/``paper_common_hi``;
        ``no_common`` (vowels without a common cluster, or "none") and
        ``every_vowel_shared`` (bool); ``spread`` (mean number of clusters
        holding a vowel in both corpora); ``sim_lo``/``sim_hi``,
        ``paper_sim_lo``/``paper_sim_hi``, ``sim_mae`` (mean absolute
        difference from the paper's All row), ``sim_within`` (vowels within 10
        points of it); ``ceiling_gap``/``ceiling_gap_lo``/``ceiling_gap_hi``
        (within-corpus ceiling minus cross-corpus Sim); ``best_emotion``,
        ``best_sim``, ``worst_emotion``, ``worst_sim`` (ours, averaged over
        vowels; "none" and NaN without a common cluster) and the paper's
        (``paper_best_emotion`` ...); ``n_best_agree`` and ``best_agree``
        (vowels whose highest-Sim emotion is the paper's); ``emotion_varies``
        (bool: the best emotion differs between vowels); ``cell_lo``,
        ``cell_hi``, ``cell_median`` (segments of a vowel per corpus within one
        emotion); and three phrases for the prose: ``shared`` (which vowels
        have a common cluster), ``spread_phrase`` (whether a vowel spreads over
        several clusters, as in the paper), ``varies_phrase`` (whether the best
        emotion differs between vowels, as in the paper).

    Examples
    --------
    >>> from agser.analysis.paper import paper_table
    >>> df = pd.DataFrame({"corpus": ["A", "B"] * 8, "ipa": ["i"] * 16, "cluster": [1, 1, 2, 2] * 4,
    ...                    "emotion": ["anger"] * 8 + ["sadness"] * 8})
    >>> t, s, n = cluster_overlap(df, phones=["i"], return_common=True)
    >>> f = overlap_findings(df, t, s, n, overlap_ceiling(df, phones=["i"], n_splits=2),
    ...                      emotion_overlap(df, phones=["i"], emotions=["anger", "sadness"]),
    ...                      paper_table("cluster_overlap"), paper_table("emotion_overlap"),
    ...                      emotions=["anger", "sadness"], phones=["i"])
    >>> f["k"], f["common_hi"], f["sim_hi"], f["every_vowel_shared"], f["cell_median"]
    (2, 2, 100.0, True, 4.0)
    >>> f["shared"], f["spread_phrase"]
    ('every vowel has one too', 'as in the paper, a vowel is spread over several clusters')
    """
    phones = list(phones) if phones is not None else list(paper_emotions.columns)
    emotions = list(emotions)
    ours_n = n_common.reindex(phones).fillna(0).astype(int)
    paper_n = (paper_clusters.reindex(columns=phones) >= float(threshold)).sum()
    s = sim.reindex(phones).astype(float)
    paper_all = paper_emotions.loc["all"].reindex(phones).astype(float)
    gap = ceiling.drop(columns="across corpora").mean(axis=1) - ceiling["across corpora"]
    mean_ours = emo.reindex(index=emotions, columns=phones).astype(float).mean(axis=1).dropna()
    mean_paper = paper_emotions.reindex(index=emotions, columns=phones).astype(float).mean(axis=1)
    best = best_emotions(emo, paper_emotions, emotions, phones)
    agree = [v for v in phones if best.loc[v, "highest (ours)"] == best.loc[v, "highest (paper)"]]
    ours_best = best.loc[best["highest (ours)"] != "none", "highest (ours)"]
    cells = segments[segments["ipa"].isin(phones) & segments["emotion"].isin(emotions)].groupby(
        ["corpus", "ipa", "emotion"]).size()
    nan = float("nan")
    return {
        "k": int(len(table.index)),
        "common_lo": int(ours_n.min()), "common_hi": int(ours_n.max()),
        "paper_common_lo": int(paper_n.min()), "paper_common_hi": int(paper_n.max()),
        "no_common": _vowels([v for v in phones if ours_n[v] == 0]),
        "every_vowel_shared": bool((ours_n > 0).all()),
        "spread": float((table.reindex(columns=phones) > 0).sum().mean()),
        "sim_lo": float(np.nanmin(s)) if s.notna().any() else nan,
        "sim_hi": float(np.nanmax(s)) if s.notna().any() else nan,
        "paper_sim_lo": float(paper_all.min()), "paper_sim_hi": float(paper_all.max()),
        "sim_mae": float(np.nanmean(np.abs(s - paper_all))) if s.notna().any() else nan,
        "sim_within": _vowels([v for v in phones if abs(s[v] - paper_all[v]) <= 10]),
        "ceiling_gap": float(np.nanmean(gap)) if gap.notna().any() else nan,
        "ceiling_gap_lo": float(np.nanmin(gap)) if gap.notna().any() else nan,
        "ceiling_gap_hi": float(np.nanmax(gap)) if gap.notna().any() else nan,
        "best_emotion": str(mean_ours.idxmax()) if len(mean_ours) else "none",
        "best_sim": float(mean_ours.max()) if len(mean_ours) else nan,
        "worst_emotion": str(mean_ours.idxmin()) if len(mean_ours) else "none",
        "worst_sim": float(mean_ours.min()) if len(mean_ours) else nan,
        "paper_best_emotion": str(mean_paper.idxmax()), "paper_best_sim": float(mean_paper.max()),
        "paper_worst_emotion": str(mean_paper.idxmin()), "paper_worst_sim": float(mean_paper.min()),
        "n_best_agree": len(agree), "best_agree": _vowels(agree),
        "emotion_varies": bool(ours_best.nunique() > 1),
        "cell_lo": int(cells.min()) if len(cells) else 0, "cell_hi": int(cells.max()) if len(cells) else 0,
        "cell_median": float(cells.median()) if len(cells) else nan,
        "shared": "every vowel has one too" if (ours_n > 0).all() else
                  f"{_vowels([v for v in phones if ours_n[v] == 0])} {'has' if (ours_n == 0).sum() == 1 else 'have'} none",
        "spread_phrase": "as in the paper, a vowel is spread over several clusters"
                         if (table.reindex(columns=phones) > 0).sum().mean() > 1 else
                         "unlike the paper, a vowel is mostly in one cluster",
        "varies_phrase": "holds here too: the best emotion differs between vowels" if ours_best.nunique() > 1
                         else "does not show here: one emotion is best for every vowel",
    }


#: The emotions of the paper's emotion-specific table, in its order.
OVERLAP_EMOTIONS = ("neutral", "happiness", "anger", "sadness")


def overlap_analysis(segments, k, threshold=25.0, phones=None, emotions=OVERLAP_EMOTIONS, n_splits=20,
                     random_state=0):
    """Chapter 4 in one call: ``Sim`` per cluster, vowel and emotion, the ceiling, the paper's tables, findings.

    Parameters
    ----------
    segments : pandas.DataFrame
        The clustered segments (``corpus, ipa, emotion, cluster``; clusters 1..k).
    k : int
        Clusters of the model (the rows of the per-cluster table).
    threshold : float
        Common-cluster threshold, percent (the paper's 25).
    phones : sequence of str, optional
        Vowels (default: the paper's six, :data:`agser.phones.ipa.PAPER_VOWELS`).
    emotions : sequence of str
        Rows of the emotion table after ``all``.
    n_splits, random_state
        Of :func:`overlap_ceiling`.

    Returns
    -------
    dict
        ``table``, ``sim``, ``n_common`` (:func:`cluster_overlap`), ``emotion``
        (:func:`emotion_overlap`), ``ceiling`` (:func:`overlap_ceiling`),
        ``check`` (:func:`paper_reading_check`), ``beside`` (:func:`sim_beside_paper`),
        ``best`` (:func:`best_emotions`), ``paper_clusters``, ``paper_emotions``,
        ``counts`` (segments per corpus and vowel), ``findings``
        (:func:`overlap_findings`), ``phones``, ``emotions``, ``threshold``.

    Examples
    --------
    >>> df = pd.DataFrame({"corpus": ["A", "B"] * 8, "ipa": ["i"] * 16, "cluster": [1, 1, 2, 2] * 4,
    ...                    "emotion": ["anger"] * 8 + ["sadness"] * 8})
    >>> out = overlap_analysis(df, 2, phones=["i"], emotions=["anger", "sadness"], n_splits=2)
    >>> float(out["sim"]["i"]), out["findings"]["common_hi"], list(out["emotion"].index)
    (100.0, 2, ['all', 'anger', 'sadness'])
    """
    from agser.analysis.paper import paper_table
    from agser.phones.ipa import PAPER_VOWELS

    phones = list(phones) if phones is not None else list(PAPER_VOWELS)
    emotions = list(emotions)
    if int(k) < 1:
        raise ParameterError(f"k={k!r} must be a positive number of clusters")
    clusters = list(range(1, int(k) + 1))
    paper_clusters, paper_emotions = paper_table("cluster_overlap"), paper_table("emotion_overlap")
    table, sim, n_common = cluster_overlap(segments, threshold, phones=phones, clusters=clusters, return_common=True)
    emo = emotion_overlap(segments, threshold, phones=phones, emotions=emotions, clusters=clusters)
    ceiling = overlap_ceiling(segments, threshold, phones=phones, clusters=clusters, n_splits=n_splits,
                              random_state=random_state)
    counts = segments[segments["ipa"].isin(phones)].pivot_table(
        index="corpus", columns="ipa", values="cluster", aggfunc="count", fill_value=0).reindex(
        columns=phones, fill_value=0)
    counts.columns.name = None
    return {
        "table": table, "sim": sim, "n_common": n_common, "emotion": emo, "ceiling": ceiling,
        "check": paper_reading_check(paper_clusters, paper_emotions, threshold),
        "beside": sim_beside_paper(sim, n_common, paper_clusters, paper_emotions, phones, threshold),
        "best": best_emotions(emo, paper_emotions, emotions, phones),
        "paper_clusters": paper_clusters, "paper_emotions": paper_emotions, "counts": counts,
        "findings": overlap_findings(segments, table, sim, n_common, ceiling, emo, paper_clusters, paper_emotions,
                                     emotions, phones, threshold),
        "phones": phones, "emotions": emotions, "threshold": float(threshold),
    }
