"""Chapter 5's figure: each AG cluster's segments over the acoustic clusters, per emotion."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_association"]


def plot_association(segments, emotions, k_ag, k_acoustic, ag_col="cluster", acoustic_col="acoustic_cluster"):
    """One panel per emotion: a stacked bar per AG cluster, split by its share in each acoustic cluster.

    The number above a bar is the AG cluster's segment count; the legend (one
    row under the panels) names the acoustic clusters ``A1``, ``A2``, ...

    Parameters
    ----------
    segments : pandas.DataFrame
        ``emotion``, ``ag_col`` and ``acoustic_col`` (both numbered from 1).
    emotions : sequence of str
        One panel each, labelled (a), (b), ...
    k_ag, k_acoustic : int
        Clusters of the two models.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"emotion": ["anger"] * 4, "cluster": [1, 1, 2, 2], "acoustic_cluster": [1, 2, 2, 2]})
    >>> fig = plot_association(seg, ["anger"], 2, 2)
    >>> [round(p.get_height()) for p in fig.axes[0].patches]
    [50, 0, 50, 100]
    """
    import matplotlib.pyplot as plt

    from agser.analysis.association import association_table
    from agser.plot.style import PAGE_WIDTH

    cmap = plt.get_cmap("tab20" if k_acoustic > 10 else "tab10")
    fig, axes = plt.subplots(1, len(emotions), figsize=(PAGE_WIDTH, 3.4), sharey=True, squeeze=False)
    for n, (ax, emotion) in enumerate(zip(axes[0], emotions)):
        sub = segments[segments["emotion"] == emotion]
        if len(sub):
            table = association_table(sub[ag_col], sub[acoustic_col])
        else:
            table = None
        table = (table if table is not None else association_table([1], [1]).iloc[:0]).reindex(
            index=range(1, k_ag + 1), columns=range(1, k_acoustic + 1)).fillna(0.0)
        sizes = sub[ag_col].value_counts().reindex(range(1, k_ag + 1), fill_value=0)
        bottom = np.zeros(k_ag)
        for j, c in enumerate(table.columns):
            ax.bar(table.index, table[c], bottom=bottom, color=cmap(j % cmap.N), label=f"A{c}", width=0.8)
            bottom += table[c].to_numpy()
        for x, count in sizes.items():
            # upright counts fit over up to 6 bars a panel; more are turned to stay apart
            ax.text(x, 102, str(count), ha="center", va="bottom", fontsize=10, rotation=0 if k_ag <= 6 else 90)
        ax.set_title(f"({'abcdefgh'[n]}) {emotion.capitalize()}", pad=16 if k_ag <= 6 else 28)
        ax.set_xlabel("AG cluster")
        ax.set_xticks(range(1, k_ag + 1))
        ax.set_ylim(0, 100)
    axes[0][0].set_ylabel("% of the AG cluster")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title="acoustic cluster", loc="outside lower center",
               ncol=min(k_acoustic, 10), handlelength=1.0, columnspacing=0.8)
    return fig
