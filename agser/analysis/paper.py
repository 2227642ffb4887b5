"""The paper's tables, shipped with the package, and side-by-side comparison.

The CSVs in ``agser/analysis/paper_tables/`` are copies of the project's
``shared/paper/`` tables (taken from the paper's slides), so the package
needs nothing beside itself:

- ``cluster_overlap``: per-cluster overlap (``s_i``, percent), clusters 1-10
  x vowels ɑ ə ɛ i æ u;
- ``emotion_overlap``: ``Sim`` per vowel, rows ``all`` and four emotions;
- ``ser_results``: the SER performance comparison and Hard-AG ablation.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from agser.errors import ParameterError

__all__ = ["PAPER_TABLES", "paper_table", "side_by_side"]

PAPER_TABLES = ("cluster_overlap", "emotion_overlap", "ser_results")
_INDEX = {"cluster_overlap": "cluster", "emotion_overlap": "emotion", "ser_results": None}


def paper_table(name):
    """One of the paper's tables as a DataFrame.

    Parameters
    ----------
    name : str
        One of ``PAPER_TABLES``.

    Examples
    --------
    >>> t = paper_table("cluster_overlap")
    >>> t.shape, list(t.columns), float(t.loc[1, "ɑ"])
    ((10, 6), ['ɑ', 'ə', 'ɛ', 'i', 'æ', 'u'], 75.3)
    >>> float(paper_table("emotion_overlap").loc["all", "i"])
    73.4
    """
    if name not in PAPER_TABLES:
        raise ParameterError(f"paper table {name!r} is not one of {PAPER_TABLES}")
    with resources.files("agser.analysis").joinpath("paper_tables", f"{name}.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f)
    if _INDEX[name]:
        table = table.set_index(_INDEX[name])
    table.columns.name = None
    return table


def side_by_side(ours, paper, rows=None, columns=None, labels=("ours", "paper")):
    """Two tables on the same rows and columns, the two values of a cell side by side.

    Rows or columns present in only one table are kept (NaN in the other), so
    a different number of clusters shows as rows the paper lacks or we lack.

    Parameters
    ----------
    ours, paper : pandas.DataFrame
    rows, columns : sequence, optional
        Order of rows and columns (default: the paper's, then any extra of ours).
    labels : (str, str)
        Names of the two sub-columns.

    Returns
    -------
    pandas.DataFrame
        Columns a MultiIndex ``(column, label)``.

    Examples
    --------
    >>> a = pd.DataFrame({"i": [1.0, 2.0]}, index=[1, 2])
    >>> b = pd.DataFrame({"i": [3.0]}, index=[1])
    >>> side_by_side(a, b).to_dict("list")
    {('i', 'ours'): [1.0, 2.0], ('i', 'paper'): [3.0, nan]}
    """
    def union(first, second):
        return list(first) + [x for x in second if x not in set(first)]

    rows = list(rows) if rows is not None else union(paper.index, ours.index)
    columns = list(columns) if columns is not None else union(paper.columns, ours.columns)
    a = ours.reindex(index=rows, columns=columns)
    b = paper.reindex(index=rows, columns=columns)
    parts = {}
    for c in columns:
        parts[(c, labels[0])] = a[c]
        parts[(c, labels[1])] = b[c]
    out = pd.DataFrame(parts, index=rows)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    out.index.name = ours.index.name or paper.index.name
    return out
