"""Summaries and significance tests of SER results over seeds.

- :func:`summarise`: mean and sample standard deviation (``ddof=1``) over
  seeds of every figure, per method and direction.
- :func:`contrasts`: for each pair of methods of :data:`CONTRASTS` and each
  direction, the per-seed paired differences of UAR (every seed shares the
  speaker split and test set, so a pair differs only by the method), their
  mean with a 95 % t confidence interval, and a two-sided paired t-test whose
  p-value is corrected by Holm's method for the number of contrasts.
- :func:`mcnemar`: an exact McNemar test of two correctness vectors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from agser.errors import ParameterError

__all__ = ["FIGURES", "CONTRASTS", "CONTRAST_COLUMNS", "summarise", "format_mean_std", "mcnemar", "holm",
           "paired_difference", "contrasts"]

FIGURES = ("uar", "neutral", "anger", "happy", "sad")


def summarise(results):
    """Mean and std over seeds per method and direction.

    Parameters
    ----------
    results : pandas.DataFrame
        Rows of ``method, direction, seed`` and :data:`FIGURES`.

    Returns
    -------
    pandas.DataFrame
        Index ``(method, direction)``; columns ``<figure>_mean``,
        ``<figure>_std`` and ``n_seeds``.

    Examples
    --------
    >>> df = pd.DataFrame({"method": ["AG"] * 2, "direction": ["C->I"] * 2, "seed": [0, 1],
    ...                    "uar": [40.0, 50.0], "neutral": 1.0, "anger": 1.0, "happy": 1.0, "sad": 1.0})
    >>> s = summarise(df)
    >>> float(s.loc[("AG", "C->I"), "uar_mean"]), round(float(s.loc[("AG", "C->I"), "uar_std"]), 2)
    (45.0, 7.07)
    """
    g = results.groupby(["method", "direction"], sort=False)
    out = pd.concat({f"{f}_{a}": g[f].agg(a) for f in FIGURES for a in ("mean", "std")}, axis=1)
    out["n_seeds"] = g["seed"].nunique()
    return out


def format_mean_std(summary, digits=1):
    """``"mean ± std"`` strings of :func:`summarise` output, one column per figure."""
    return pd.DataFrame({f: [f"{m:.{digits}f} ± {s:.{digits}f}" if np.isfinite(s) else f"{m:.{digits}f}"
                             for m, s in zip(summary[f"{f}_mean"], summary[f"{f}_std"])]
                         for f in FIGURES}, index=summary.index)


def mcnemar(correct_a, correct_b):
    """Exact two-sided McNemar test of two paired correctness vectors.

    Returns
    -------
    (b, c, p) : (int, int, float)
        ``b`` = A right and B wrong, ``c`` = A wrong and B right.

    Examples
    --------
    >>> mcnemar([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0])[2] < 0.05
    True
    """
    a = np.asarray(correct_a, dtype=bool)
    b_ = np.asarray(correct_b, dtype=bool)
    if a.shape != b_.shape:
        raise ParameterError(f"correctness vectors differ in shape: {a.shape} vs {b_.shape}")
    b = int((a & ~b_).sum())
    c = int((~a & b_).sum())
    p = 1.0 if b + c == 0 else float(_st.binomtest(b, b + c, 0.5).pvalue)
    return b, c, p


#: The contrasts of every SER table (a - b, UAR points), in the order they are shown.
CONTRASTS = (("AG", "source-only"), ("AG", "AG-shuffled"), ("AG-oracle", "source-only"), ("AG", "PA"),
             ("AG", "LA"), ("AG", "Hard-AG"), ("AG-oracle", "AG"), ("upper-bound", "source-only"))
#: Columns of ``tables/ser_contrasts.csv``.
CONTRAST_COLUMNS = ("condition", "direction", "contrast", "mean", "ci_low", "ci_high", "n_seeds", "p", "p_raw")


def holm(p_values):
    """Holm's step-down correction of p-values for the number of tests (NaN left out).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out


def paired_difference(a, b, confidence=0.95):
    """Mean of the per-seed differences ``a - b``, its t confidence interval and paired t-test p.

    Parameters
    ----------
    a, b : array of float, (n_seeds,)
        The two methods' figures on the same seeds (same splits and test sets).

    Returns
    -------
    dict
        ``mean``, ``ci_low``, ``ci_high``, ``n_seeds``, ``p`` (two-sided; NaN
        for fewer than two seeds or differences that are all equal).

    Examples
    --------
    >>> r = paired_difference([60.0, 62.0, 64.0], [58.0, 59.0, 60.0])
    >>> r["mean"], r["n_seeds"], r["ci_low"] > 0
    (3.0, 3, True)
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    mean = float(d.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "ci_low": float("nan"), "ci_high": float("nan"), "n_seeds": n, "p": float("nan")}
    se = float(d.std(ddof=1) / np.sqrt(n))
    half = float(_st.t.ppf(0.5 + confidence / 2, n - 1) * se)
    p = float(_st.ttest_1samp(d, 0.0).pvalue) if se > 0 else float("nan")
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n_seeds": n, "p": p}


def contrasts(results, condition="default", pairs=CONTRASTS):
    """Per-seed paired differences of UAR with 95 % CIs and Holm-corrected p-values.

    A cross-corpus method ``S->T`` is paired with another on the same seed and
    direction; the upper bound ``T->T`` is paired with the cross-corpus
    methods tested on T (the same test set). ``p`` is corrected by Holm's
    method over every contrast and direction of the condition; ``p_raw`` is
    the paired t-test's own.

    Parameters
    ----------
    results : pandas.DataFrame
        ``method, direction, seed, uar``.
    condition : str
    pairs : sequence of (str, str)

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRAST_COLUMNS`; pairs whose methods are not both in
        ``results`` are left out.
    """
    def series(method, direction):
        if method == "upper-bound":
            direction = f"{direction[-1]}->{direction[-1]}"
        g = results[(results["method"] == method) & (results["direction"] == direction)]
        return g.set_index("seed")["uar"]

    rows = []
    for direction in ("C->I", "I->C"):
        for a, b in pairs:
            sa, sb = series(a, direction), series(b, direction)
            seeds = sorted(set(sa.index) & set(sb.index))
            if not seeds:
                continue
            r = paired_difference(sa.loc[seeds].to_numpy(), sb.loc[seeds].to_numpy())
            rows.append({"condition": condition, "direction": direction, "contrast": f"{a} - {b}", **r})
    out = pd.DataFrame(rows, columns=[c for c in CONTRAST_COLUMNS if c != "p_raw"])
    out = out.rename(columns={"p": "p_raw"})
    out["p"] = holm(out["p_raw"].to_numpy()) if len(out) else []
    return out[list(CONTRAST_COLUMNS)]
