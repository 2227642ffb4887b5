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

__all__ = ["cluster_shares", "cluster_overlap", "emotion_overlap"]

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
