"""Tables for a book page: ours beside the paper's in one narrow table."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["paired_cells", "paper_uar_table"]


def paired_cells(ours, paper, rows=None, columns=None, fmt="{:.1f}", sep=" / ", missing="–"):
    """Two tables on the same rows and columns as one table of ``"ours / paper"`` cells.

    Half as wide as :func:`agser.analysis.paper.side_by_side` (one column per
    column, not two), so that a paper-sized table fits a page's text column.
    Rows or columns in only one table are kept, the other's value shown as
    ``missing``.

    Parameters
    ----------
    ours, paper : pandas.DataFrame
    rows, columns : sequence, optional
        Order of rows and columns (default: the paper's, then any extra of ours).
    fmt : str
        Format of a number.
    sep : str
        Between the two values.
    missing : str
        A value one table lacks (or NaN).

    Returns
    -------
    pandas.DataFrame
        Strings.

    Examples
    --------
    >>> a = pd.DataFrame({"i": [1.0, 2.0]}, index=[1, 2])
    >>> b = pd.DataFrame({"i": [3.0]}, index=[1])
    >>> paired_cells(a, b)["i"].tolist()
    ['1.0 / 3.0', '2.0 / –']
    """
    from agser.analysis.paper import side_by_side

    both = side_by_side(ours, paper, rows=rows, columns=columns)

    def cell(x):
        try:
            return missing if x is None or not np.isfinite(float(x)) else fmt.format(float(x))
        except (TypeError, ValueError):
            return str(x)

    columns = list(dict.fromkeys(c for c, _ in both.columns))
    return pd.DataFrame({c: [f"{cell(x)}{sep}{cell(y)}" for x, y in zip(both[(c, "ours")], both[(c, "paper")])]
                         for c in columns}, index=both.index)


def paper_uar_table():
    """The paper's four-category UAR (%) per method (rows) and direction (columns).

    Examples
    --------
    >>> t = paper_uar_table()
    >>> list(t.index), float(t.loc["AG", "C->I"])
    (['upper_bound', 'PA', 'LA', 'AG', 'Hard-AG'], 57.37)
    """
    from agser.analysis.paper import paper_table

    ser = paper_table("ser_results")
    table = ser.pivot(index="method", columns="direction", values="category_uar")
    table = table.loc[["upper_bound", "PA", "LA", "AG", "Hard-AG"], ["C->I", "I->C", "C->C", "I->I"]]
    table.columns.name = None
    return table
