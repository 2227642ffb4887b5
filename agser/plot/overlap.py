"""Chapter 4's figure: a table of ours and the paper's as two colour maps with every value written."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_table_pair"]


def plot_table_pair(ours, paper, titles=("ours", "paper"), vmin=0, vmax=100, label="%", cmap="magma",
                    row_label=None, fmt="{:.0f}"):
    """Two tables (same columns) as colour maps side by side, one colour bar, each value readable.

    Rows may differ (a model with fewer clusters than the paper's); NaN
    cells are drawn blank and written as ``–``. Values are written in black
    or white, whichever contrasts with the cell (:func:`agser.plot.annotate_heatmap`).

    Parameters
    ----------
    ours, paper : pandas.DataFrame
        Rows x columns of numbers.
    titles : (str, str)
    vmin, vmax : float
        Colour scale of both maps.
    label : str
        Colour-bar label.
    cmap : str
    row_label : callable, optional
        Row index value -> tick label (default ``str``).
    fmt : str
        Format of the written values.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_table_pair(pd.DataFrame({"i": [10.0, np.nan]}), pd.DataFrame({"i": [90.0]}))
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['10', '–']
    """
    import matplotlib.pyplot as plt

    from agser.errors import ParameterError
    from agser.plot.style import PAGE_WIDTH, annotate_heatmap

    if list(ours.columns) != list(paper.columns):
        raise ParameterError(f"ours has columns {list(ours.columns)}, paper {list(paper.columns)}: they must match")
    row_label = row_label or str
    n_rows = max(len(ours), len(paper))
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 0.34 * n_rows + 1.5), sharey=False)
    norm = plt.Normalize(vmin, vmax)
    for ax, table, title in zip(axes, (ours, paper), titles):
        values = table.to_numpy(dtype=float)
        im = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(table.shape[1]), [f"/{c}/" for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [row_label(i) for i in table.index])
        ax.set_title(title)
        annotate_heatmap(ax, values, fmt=fmt, fontsize=10)
        for (i, j), v in np.ndenumerate(values):
            if not np.isfinite(v):
                ax.text(j, i, "–", ha="center", va="center", fontsize=10, color="0.3")
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    fig.colorbar(im, ax=axes, label=label, shrink=0.9)
    return fig
