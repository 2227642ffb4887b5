"""The book's figure style and a heatmap whose every value is readable."""

from __future__ import annotations

import numpy as np

__all__ = ["PAGE_WIDTH", "book_style", "heatmap", "annotate_heatmap", "glue_values", "page_table"]

#: Width of a full-page figure, inches (about the book's text column at 100 dpi).
PAGE_WIDTH = 7.5


def book_style():
    """Set matplotlib's sizes for the book (text >= 9 pt as displayed), quietly.

    Examples
    --------
    >>> import matplotlib
    >>> book_style(); matplotlib.rcParams["font.size"]
    11.0
    """
    import warnings

    import matplotlib

    # tqdm (imported by librosa through pooch) finds no notebook widgets for progress bars
    # the book never shows, and says so on stderr: a notice that is no fault of a page.
    warnings.filterwarnings("ignore", message="IProgress not found")
    matplotlib.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (PAGE_WIDTH, 3.6),
        "font.size": 11.0, "axes.titlesize": 12.0, "axes.labelsize": 11.0, "xtick.labelsize": 10.0,
        "ytick.labelsize": 10.0, "legend.fontsize": 10.0, "figure.titlesize": 12.0,
        "axes.spines.top": False, "axes.spines.right": False, "figure.constrained_layout.use": True,
    })


def annotate_heatmap(ax, values, fmt="{:.0f}", cmap=None, norm=None, fontsize=9):
    """Write each cell's value in black or white, whichever contrasts with the cell's colour.

    Parameters
    ----------
    ax : matplotlib Axes holding the image
    values : array (rows, columns); NaN cells are left blank
    fmt : str
    cmap, norm : the image's colour map and norm (default: the Axes' first image's)
    """
    image = ax.images[0] if ax.images else None
    cmap = cmap or image.cmap
    norm = norm or image.norm
    values = np.asarray(values, dtype=float)
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):
            continue
        r, g, b, _ = cmap(norm(v))
        # relative luminance (ITU-R BT.709): dark cells get white text
        colour = "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"
        ax.text(j, i, fmt.format(v), ha="center", va="center", color=colour, fontsize=fontsize)


def heatmap(table, ax=None, cmap="viridis", vmin=None, vmax=None, fmt="{:.0f}", label=None, title=None):
    """A table as an annotated colour map (rows and columns labelled, every value written).

    Parameters
    ----------
    table : pandas.DataFrame
    ax : matplotlib Axes, optional
    cmap, vmin, vmax : colour scale
    fmt : str
        Format of the written values.
    label : str, optional
        Colour-bar label.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(min(PAGE_WIDTH, 1.2 + 0.7 * table.shape[1]), 0.9 + 0.4 * table.shape[0]))
    im = ax.imshow(table.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    annotate_heatmap(ax, table.to_numpy(dtype=float), fmt=fmt)
    if label is not None:
        ax.figure.colorbar(im, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return ax


def glue_values(values):
    """Glue named values for a chapter's prose (myst-nb's ``{glue:text}`name``), as Python scalars.

    numpy scalars would be glued as ``np.float64(...)`` text; they are
    converted first.

    Parameters
    ----------
    values : dict
        name -> number, string or bool.
    """
    from myst_nb import glue

    for name, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        glue(name, value, display=False)


def page_table(table, digits=None, na="–", index=True):
    """A table as a page shows it: cells spaced apart, numbers rounded, missing values a dash.

    pandas' own HTML leaves narrow numeric columns touching each other in the
    book's theme; this Styler keeps the theme's table look (``class="dataframe"``)
    with room between the columns.

    Parameters
    ----------
    table : pandas.DataFrame
    digits : int, optional
        Decimals of every floating-point value (default: 6 significant digits).
    na : str
        Shown for a missing value.
    index : bool
        Show the index (False: a plain numbered index is left out).

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> import pandas as pd
    >>> html = page_table(pd.DataFrame({"a": [1.234, None]}), digits=1).to_html()
    >>> "1.2" in html and "–" in html and "padding" in html
    True
    >>> "100.000" in page_table(pd.DataFrame({"x": [100.0, "n"]}, dtype=object)).to_html()
    False
    >>> "3.000000" in page_table(pd.DataFrame({"x": [1]}, index=pd.Index([3.0], name="damage"))).to_html()
    False
    """
    import pandas as pd

    def cell(v):
        # floats (also those of object columns, as in a transposed table) rounded; the rest as is
        if isinstance(v, (float, np.floating)):
            if not np.isfinite(v):
                return na
            return f"{v:.{int(digits)}f}" if digits is not None else f"{v:.6g}"
        return na if v is None or v is pd.NA else v

    def label(v):
        # float labels (a grid of strengths, say) as short as they are exact; never rounded to digits
        return f"{v:.6g}" if isinstance(v, (float, np.floating)) else v

    styler = (table.style.format(cell)
              .format_index(label, axis=0)
              .set_table_attributes('class="dataframe"')
              # a label spanning rows (an outer index level) at the top of its rows, where
              # they start: centred, it sat beside the middle of its group, level with another's
              .set_table_styles([{"selector": "td, th", "props": "padding: 0.2em 0.6em;"},
                                 {"selector": "th", "props": "vertical-align: top;"},
                                 {"selector": "td", "props": "text-align: right;"}]))
    # text reads from the left; numbers line up on the right
    text = [c for c in table.columns if table[c].map(lambda v: isinstance(v, str) and len(v) > 12).any()]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    return styler if index else styler.hide(axis="index")
