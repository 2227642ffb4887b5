"""The clustering sanity check: trajectories per cluster and corpus, mouth-shaped centres,
and agreement of AG clusters with viseme classes and phone identity.

Mouth points are the iBUG-68 outer-lip points 48-59, stored in that order
(index ``p - 48``). In iBUG numbering point 48 is the *subject's right* mouth
corner (on the image's left) and point 54 the subject's left corner; 51 is
the upper-lip middle and 57 the lower-lip middle. The paper's "right corner"
and "left corner" are read from the subject's side: 48 and 54.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = [
    "MOUTH_POINTS",
    "POINT_NAMES",
    "VISEME_CLASSES",
    "SANITY_PANELS",
    "viseme_of",
    "choose_sanity_clusters",
    "trajectories",
    "plot_sanity",
    "draw_mouth",
    "plot_centres",
    "purity",
    "cluster_agreement",
    "sanity_gaps",
]

#: iBUG-68 indices of the 12 outer-lip points, in storage order.
MOUTH_POINTS = tuple(range(48, 60))
POINT_NAMES = {48: "right corner", 51: "upper-mid", 54: "left corner", 57: "lower-mid"}

#: Viseme (lip-shape) classes used to judge the AG clusters. Our choice, from
#: the lip posture each phone needs: jaw opening, spreading, rounding,
#: closure. Vowels follow the usual visual-vowel groupings; diphthongs go by
#: their onset.
VISEME_CLASSES = {
    "spread": ("i", "ɪ", "eɪ"),
    "open-spread": ("ɛ", "æ"),
    "open": ("ɑ", "ʌ", "aɪ", "aʊ"),
    "rounded": ("u", "ʊ", "oʊ", "ɔ", "ɔɪ", "w"),
    "neutral": ("ə", "ɝ", "ɚ"),
    "bilabial": ("p", "b", "m"),
    "labiodental": ("f", "v"),
    "dental": ("θ", "ð"),
    "postalveolar": ("ʃ", "ʒ", "tʃ", "dʒ", "ɹ"),
    "other-consonant": ("t", "d", "n", "s", "z", "l", "k", "ɡ", "ŋ", "h", "j"),
}
_VISEME_OF = {p: v for v, phones in VISEME_CLASSES.items() for p in phones}

#: The paper's four panels: (phone, point, coordinate). The lower-mid point
#: moves mostly vertically (jaw opening), the corners mostly horizontally
#: (spreading), so each panel plots that coordinate.
SANITY_PANELS = (("ɑ", 57, "y"), ("i", 57, "y"), ("i", 48, "x"), ("i", 54, "x"))


def viseme_of(ipa):
    """Viseme class of IPA phone labels (``"unknown"`` for a label not in VISEME_CLASSES).

    Examples
    --------
    >>> viseme_of(["i", "u", "ɑ", "ə"]).tolist()
    ['spread', 'rounded', 'open', 'neutral']
    """
    return pd.Series([_VISEME_OF.get(str(p), "unknown") for p in ipa], dtype=object)


def choose_sanity_clusters(segments, phones=("ɑ", "i"), n=2):
    """The ``n`` clusters best populated by every phone in every corpus.

    A cluster's score is its smallest count of segments over (corpus, phone)
    pairs, so the chosen clusters can be drawn in every panel.

    Examples
    --------
    >>> df = pd.DataFrame({"corpus": list("AABBAABB"), "ipa": ["i", "ɑ"] * 4,
    ...                    "cluster": [1, 1, 1, 1, 2, 2, 3, 3]})
    >>> choose_sanity_clusters(df)
    [1, 2]
    """
    sub = segments[segments["ipa"].isin(phones)]
    counts = sub.groupby(["cluster", "corpus", "ipa"]).size().unstack(["corpus", "ipa"], fill_value=0)
    corpora = sorted(segments["corpus"].unique())
    full = pd.MultiIndex.from_product([corpora, list(phones)], names=["corpus", "ipa"])
    counts = counts.reindex(columns=full, fill_value=0)
    score = counts.min(axis=1)
    total = counts.sum(axis=1)
    order = sorted(score.index, key=lambda c: (-score[c], -total[c], c))
    return [int(c) if isinstance(c, (np.integer, int)) else c for c in order[:n]]


def trajectories(segments, frames, phone, point, coord, clusters=None):
    """One coordinate of one mouth point over each segment's frames.

    Parameters
    ----------
    segments : pandas.DataFrame
        Rows aligned with ``frames``, columns ``corpus``, ``ipa``, ``cluster``.
    frames : list of numpy.ndarray
        Per segment ``(n_frames, 12, 2)`` mouth points (eye-aligned, IPD units).
    phone : str
        IPA label to select.
    point : int
        iBUG index, 48-59.
    coord : {"x", "y"}
    clusters : sequence, optional
        Clusters to keep (default all).

    Returns
    -------
    pandas.DataFrame
        Long form: ``segment, corpus, cluster, frame, value`` (IPD units).
    """
    if point not in MOUTH_POINTS:
        raise ParameterError(f"point={point!r} must be an outer-lip point 48-59")
    if coord not in ("x", "y"):
        raise ParameterError(f"coord={coord!r} must be 'x' or 'y'")
    if len(frames) != len(segments):
        raise ParameterError(f"{len(frames)} frame arrays for {len(segments)} segments")
    mask = (segments["ipa"].astype(str) == phone).to_numpy()
    if clusters is not None:
        mask = mask & segments["cluster"].isin(list(clusters)).to_numpy()
    rows = []
    j, c = point - 48, "xy".index(coord)
    for i in np.flatnonzero(mask):
        values = np.asarray(frames[i])[:, j, c]
        rows.append(
            pd.DataFrame(
                {
                    "segment": i,
                    "corpus": segments["corpus"].iloc[i],
                    "cluster": segments["cluster"].iloc[i],
                    "frame": np.arange(len(values)),
                    "value": values,
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["segment", "corpus", "cluster", "frame", "value"])
    return pd.concat(rows, ignore_index=True)


def plot_sanity(segments, frames, clusters, panels=SANITY_PANELS, max_segments=25, random_state=0, axes=None):
    """The paper's sanity-check figure: one panel per (phone, point, coordinate).

    Thin lines are up to ``max_segments`` segments per (corpus, cluster);
    thick lines their frame-wise mean. Marker: circle for the first corpus,
    cross for the second; colour: cluster.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.6), squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    rng = np.random.default_rng(random_state)
    corpora = sorted(segments["corpus"].unique())
    markers = dict(zip(corpora, ["o", "x", "s", "^"]))
    colours = dict(zip(clusters, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, (phone, point, coord) in zip(axes, panels):
        long = trajectories(segments, frames, phone, point, coord, clusters)
        for (corpus, cluster), grp in long.groupby(["corpus", "cluster"]):
            ids = grp["segment"].unique()
            if len(ids) > max_segments:
                ids = rng.choice(ids, max_segments, replace=False)
            for sid in ids:
                s = grp[grp["segment"] == sid]
                ax.plot(s["frame"], s["value"], color=colours[cluster], alpha=0.15, lw=0.7)
            mean = grp.groupby("frame")["value"].agg(["mean", "size"])
            mean = mean[mean["size"] >= 3]
            ax.plot(
                mean.index, mean["mean"], color=colours[cluster], marker=markers[corpus], lw=2, ms=5,
            )
        ax.set_title(f"/{phone}/ ({POINT_NAMES.get(point, point)} point {point}, {coord})")
        ax.set_xlabel("frame in segment")
        ax.set_ylabel(f"{coord} (inter-pupil units)")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=colours[cl], marker=markers[co], lw=2, label=f"{co} - cluster {cl}")
        for cl in clusters
        for co in corpora
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    if not fig.get_constrained_layout():  # the book's style lays figures out itself
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def draw_mouth(ax, shape, **style):
    """Draw a 12 x 2 outer-lip shape as a closed polygon (y axis pointing down, as in images)."""
    shape = np.asarray(shape, dtype=float).reshape(12, 2)
    closed = np.vstack([shape, shape[:1]])
    ax.plot(closed[:, 0], closed[:, 1], **style)
    return ax


def plot_centres(centres, ncols=5, labels=None, frames=("first", "middle", "last")):
    """Cluster centres (each ``T x 24`` point-major) drawn as mouth shapes.

    Each panel overlays the centre's first (dotted, light), middle (dashed)
    and last frame (solid, dark), so the gesture's direction over the
    segment shows.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    centres = [np.asarray(c, dtype=float) for c in centres]
    n = len(centres)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.2 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        c = centres[i]
        c = c[~np.isnan(c).any(axis=1)].reshape(-1, 12, 2)
        picks = {"first": 0, "middle": len(c) // 2, "last": len(c) - 1}
        for shade, style, name in zip((0.35, 0.65, 0.95), (":", "--", "-"), frames):
            draw_mouth(ax, c[picks[name]], color=plt.get_cmap("Blues")(shade), ls=style, lw=1.5)
        ax.set_aspect("equal")
        ax.invert_yaxis()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(labels[i] if labels is not None else f"cluster {i}", fontsize=9)
    if not fig.get_constrained_layout():  # the book's style lays figures out itself
        fig.tight_layout()
    return fig


def purity(labels, classes):
    """Share of segments in their cluster's majority class (0-1).

    Examples
    --------
    >>> purity([0, 0, 1, 1], ["a", "a", "a", "b"])
    0.75
    """
    table = pd.crosstab(np.asarray(labels), np.asarray(classes))
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def cluster_agreement(segments, col="cluster", random_state=0):
    """Agreement of AG clusters with viseme classes and with phone identity.

    Parameters
    ----------
    segments : pandas.DataFrame
        With ``ipa`` and the cluster column ``col``.
    random_state : int
        Seed of the shuffled-cluster reference row.

    Returns
    -------
    pandas.DataFrame
        Rows ``viseme class`` and ``phone identity``; columns ``n_classes``,
        ``ARI``, ``NMI``, ``purity`` and ``purity (shuffled clusters)`` (the
        purity that cluster sizes alone give; ARI and NMI of a shuffle are ~0).
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = segments[col].to_numpy()
    shuffled = np.random.default_rng(random_state).permutation(labels)
    targets = {
        "viseme class": viseme_of(segments["ipa"]).to_numpy(),
        "phone identity": segments["ipa"].astype(str).to_numpy(),
    }
    rows = {}
    for name, truth in targets.items():
        rows[name] = {
            "n_classes": int(pd.unique(truth).size),
            "ARI": adjusted_rand_score(truth, labels),
            "NMI": normalized_mutual_info_score(truth, labels),
            "purity": purity(labels, truth),
            "purity (shuffled clusters)": purity(shuffled, truth),
        }
    return pd.DataFrame(rows).T


def sanity_gaps(segments, frames, clusters, panels=SANITY_PANELS):
    """The sanity figure's reading as numbers: between-cluster against between-corpus gaps.

    For each panel, the mean coordinate of each (corpus, cluster) group over
    all frames of its segments; ``between clusters`` is the difference of the
    two clusters (mean over corpora), ``between corpora`` the difference of
    the corpora within a cluster (mean over the two clusters). The paper's
    reading holds in a panel when the first exceeds the second.

    Returns
    -------
    pandas.DataFrame
        Index = panel (``/ɑ/ point 57 (y)``); ``segments``, ``between clusters``,
        ``between corpora``, ``holds`` (bool, NaN where a group has no segment).
    """
    rows = []
    for phone, point, coord in panels:
        long = trajectories(segments, frames, phone, point, coord, clusters)
        m = long.groupby(["corpus", "cluster"])["value"].mean().unstack("cluster").reindex(columns=list(clusters))
        between_clusters = float((m[clusters[0]] - m[clusters[1]]).abs().mean())
        between_corpora = float((m.iloc[0] - m.iloc[1]).abs().mean()) if len(m) == 2 else float("nan")
        ok = np.isfinite(between_clusters) and np.isfinite(between_corpora)
        rows.append({"panel": f"/{phone}/ point {point} ({coord})", "segments": int(long["segment"].nunique()),
                     "between clusters": between_clusters, "between corpora": between_corpora,
                     "holds": bool(between_clusters > between_corpora) if ok else np.nan})
    return pd.DataFrame(rows).set_index("panel")
