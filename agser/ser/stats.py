"""Summaries and significance tests of SER results over seeds.

- :func:`summarise`: mean and sample standard deviation (``ddof=1``) over
  seeds of every figure, per method and direction.
- :func:`paired_tests`: AG against each baseline, per direction:
  (1) a two-sided *paired t-test over seeds* on the UAR (each seed shares the
  speaker split, so the pair differs only by the method) and the exact
  two-sided *Wilcoxon signed-rank* test on the same pairs (with 3 seeds its
  smallest possible p is 0.25, so it can never be significant: reported for
  honesty, not for decisions); (2) a *per-utterance exact McNemar test*
  pooled over seeds: for every test utterance and seed, whether each method
  classified it correctly; the discordant counts ``b`` (AG right, baseline
  wrong) and ``c`` give a two-sided binomial p-value. McNemar tests accuracy
  on the pooled predictions, not UAR, and pooled seeds are not independent
  draws, so it is a screening figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from agser.errors import ParameterError

__all__ = ["FIGURES", "summarise", "format_mean_std", "paired_tests", "mcnemar"]

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


def paired_tests(results, runs, reference="AG"):
    """AG (``reference``) against every other cross-corpus method, per direction.

    Parameters
    ----------
    results : pandas.DataFrame
        The results table (``method, direction, seed, uar, ...``).
    runs : dict
        ``(method, direction, seed) -> run dict`` holding ``y_true``,
        ``y_pred`` and ``utterance_id`` (for McNemar).
    reference : str

    Returns
    -------
    pandas.DataFrame
        One row per (direction, baseline): ``n_seeds``, ``delta_uar`` (mean
        of reference - baseline), ``t_p`` (paired t-test), ``wilcoxon_p``,
        ``mcnemar_b``, ``mcnemar_c``, ``mcnemar_p``.
    """
    rows = []
    for direction in results.loc[results["method"] == reference, "direction"].unique():
        ref = results[(results["method"] == reference) & (results["direction"] == direction)] \
            .set_index("seed")["uar"]
        for method in results["method"].unique():
            if method == reference:
                continue
            other = results[(results["method"] == method) & (results["direction"] == direction)] \
                .set_index("seed")["uar"]
            seeds = sorted(set(ref.index) & set(other.index))
            if not seeds:
                continue
            d = ref.loc[seeds].to_numpy() - other.loc[seeds].to_numpy()
            t_p = float(_st.ttest_rel(ref.loc[seeds], other.loc[seeds]).pvalue) \
                if len(seeds) > 1 and np.any(d != d[0]) else np.nan
            w_p = float(_st.wilcoxon(d).pvalue) if len(seeds) > 1 and np.any(d != 0) else np.nan
            ca, cb = [], []
            for seed in seeds:
                ra, rb = runs[(reference, direction, seed)], runs[(method, direction, seed)]
                if ra["utterance_id"] != rb["utterance_id"]:
                    raise ParameterError(f"{reference} and {method} seed {seed} were tested on "
                                         "different utterances")
                ca.append(np.equal(ra["y_true"], ra["y_pred"]))
                cb.append(np.equal(rb["y_true"], rb["y_pred"]))
            b, c, p = mcnemar(np.concatenate(ca), np.concatenate(cb))
            rows.append({"direction": direction, "baseline": method, "n_seeds": len(seeds),
                         "delta_uar": float(d.mean()), "t_p": t_p, "wilcoxon_p": w_p,
                         "mcnemar_b": b, "mcnemar_c": c, "mcnemar_p": p})
    return pd.DataFrame(rows)
