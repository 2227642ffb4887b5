"""What chapters 6 and 7 say: summaries, the paper's table beside ours, verdicts, controls.

Pure functions of the results and contrast tables
(:meth:`agser.run.Run.ser_results`, :meth:`agser.run.Run.ser_contrasts`), so
that every sentence a chapter prints about the results is computed here, and
tested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["summary_ci", "paper_beside_ours", "verdict", "EXPECTED", "control_checks", "format_ci",
           "training_diagnostics", "decide"]

#: The expected outcome of each control, stated before its result is computed:
#: ``(contrast, expectation, reason)`` per condition. ``expectation``: ``"> 0"``
#: (the CI lies above 0) or ``"~ 0"`` (the CI contains 0).
EXPECTED = {
    "positive": [
        ("upper-bound - source-only", "> 0", "the target's channel damage costs source-only UAR (the "
                                              "calibration set it so, from these two methods alone)"),
        ("AG-oracle - source-only", "> 0", "with the true articulation as anchors and a real gap, a working "
                                            "anchoring loss must help"),
        ("AG - AG-shuffled", "> 0", "AG's clusters carry articulation; shuffled ones do not"),
        ("AG - source-only", "> 0", "the paper's claim, where its premise holds"),
    ],
    "no-shift": [
        ("upper-bound - source-only", "~ 0", "the corpora differ only in speakers and sentences"),
        ("AG - source-only", "~ 0", "there is nothing for anchoring to fix"),
    ],
    "decoupled": [
        ("upper-bound - source-only", "> 0", "the same channel damage as in positive"),
        ("AG - AG-shuffled", "~ 0", "the faces come from other utterances: the gestures say nothing about "
                                     "the audio, so AG's clusters are as good as shuffled ones"),
        ("AG-oracle - source-only", "> 0", "the oracle reads the true articulation of the audio, which "
                                            "decoupling leaves intact"),
    ],
}


def format_ci(mean, low, high, digits=1):
    """``"+1.2 [-0.4, 2.8]"``.

    Examples
    --------
    >>> format_ci(1.234, -0.4, 2.8)
    '+1.2 [-0.4, +2.8]'
    """
    if not np.isfinite(low):
        return f"{mean:+.{digits}f}"
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def summary_ci(results, figure="uar", confidence=0.95):
    """Mean, 95 % t-interval and seeds of a figure, per condition, method and direction.

    Returns
    -------
    pandas.DataFrame
        Index ``(condition, method, direction)``; ``mean``, ``ci_low``,
        ``ci_high``, ``std``, ``n_seeds``, ``n_train``.
    """
    rows = []
    for (cond, method, direction), g in results.groupby(["condition", "method", "direction"], sort=False):
        x = g[figure].to_numpy(dtype=float)
        n = x.size
        half = float(_st.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"condition": cond, "method": method, "direction": direction, "mean": x.mean(),
                     "ci_low": x.mean() - half, "ci_high": x.mean() + half,
                     "std": x.std(ddof=1) if n > 1 else np.nan, "n_seeds": n,
                     "n_train": int(g["n_train"].iloc[0]) if "n_train" in g else np.nan})
    return pd.DataFrame(rows).set_index(["condition", "method", "direction"])


def paper_beside_ours(summary, condition, methods=None):
    """UAR (%) of each method and direction: ours (mean [95 % CI]) beside the paper's.

    Rows: methods in the paper's order (and ours it lacks); columns: the four
    directions C->I, I->C, C->C, I->I as two sub-columns ``ours`` / ``paper``.
    The upper bound's rows use its within-corpus directions.
    """
    from agser.analysis.paper import paper_table

    paper = paper_table("ser_results")
    paper["method"] = paper["method"].str.replace("upper_bound", "upper-bound")
    paper = paper.set_index(["method", "direction"])["category_uar"]
    ours = summary.xs(condition, level="condition")
    order = ["upper-bound", "AG", "AG-oracle", "AG-shuffled", "Hard-AG", "LA", "PA", "source-only"]
    methods = [m for m in (methods or order) if m in ours.index.get_level_values(0) or
               m in paper.index.get_level_values(0)]
    rows = []
    for m in methods:
        row = {"method": m}
        for label, dirs in (("C->I / C->C", ("C->I", "C->C")), ("I->C / I->I", ("I->C", "I->I"))):
            d = dirs[1] if m == "upper-bound" else dirs[0]
            if (m, d) in ours.index:
                o = ours.loc[(m, d)]
                row[(label, "ours")] = f"{o['mean']:.1f} [{o['ci_low']:.1f}, {o['ci_high']:.1f}]" \
                    if np.isfinite(o["ci_low"]) else f"{o['mean']:.1f}"
            else:
                row[(label, "ours")] = "-"
            row[(label, "paper")] = f"{paper[(m, d)]:.2f}" if (m, d) in paper.index else "-"
        rows.append(row)
    out = pd.DataFrame(rows).set_index("method")
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def decide(row, expectation):
    """Whether a contrast's CI meets an expectation: ``"> 0"`` (above 0), ``"< 0"``, ``"~ 0"`` (contains 0).

    Examples
    --------
    >>> decide({"ci_low": 0.5, "ci_high": 2.0}, "> 0"), decide({"ci_low": -1.0, "ci_high": 2.0}, "~ 0")
    (True, True)
    """
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if expectation == "> 0":
        return lo > 0
    if expectation == "< 0":
        return hi < 0
    if expectation == "~ 0":
        return lo <= 0 <= hi
    raise ValueError(f"expectation={expectation!r} must be '> 0', '< 0' or '~ 0'")


def _describe(row):
    lo, hi = row["ci_low"], row["ci_high"]
    if lo > 0:
        word = "better"
    elif hi < 0:
        word = "worse"
    else:
        word = "no different (the interval holds 0)"
    return word


def verdict(contrasts, condition, contrast="AG - source-only", also=("AG - AG-shuffled",)):
    """One or two sentences: what beats what, in each direction, with the 95 % CI.

    Examples
    --------
    >>> c = pd.DataFrame({"condition": "default", "direction": ["C->I", "I->C"], "contrast": "AG - source-only",
    ...                   "mean": [1.0, -2.0], "ci_low": [-1.0, -3.0], "ci_high": [3.0, -1.0], "n_seeds": 5,
    ...                   "p": [0.4, 0.01]})
    >>> print(verdict(c, "default", also=()))
    AG against source-only: C->I +1.0 points [-1.0, +3.0], no different (the interval holds 0); I->C -2.0 points [-3.0, -1.0], worse (Holm-corrected p = 0.01). 5 seeds, 95 % confidence intervals of the per-seed paired differences.
    """
    c = contrasts[contrasts["condition"] == condition]
    sentences = []
    n = None
    for name in (contrast, *also):
        sub = c[c["contrast"] == name].set_index("direction")
        if sub.empty:
            continue
        a, b = name.split(" - ")
        parts = []
        for d, row in sub.iterrows():
            n = int(row["n_seeds"])
            part = f"{d} {row['mean']:+.1f} points [{row['ci_low']:+.1f}, {row['ci_high']:+.1f}], {_describe(row)}"
            if row["ci_low"] > 0 or row["ci_high"] < 0:
                part += f" (Holm-corrected p = {row['p']:.2g})"
            parts.append(part)
        sentences.append(f"{a} against {b}: " + "; ".join(parts) + ".")
    if n is not None:
        sentences.append(f"{n} seeds, 95 % confidence intervals of the per-seed paired differences.")
    return " ".join(sentences)


def control_checks(contrasts):
    """Each control's expected outcome against what the run found.

    Returns
    -------
    pandas.DataFrame
        ``condition, contrast, expected, why, direction, found (mean [CI]), as expected``.
    """
    rows = []
    for cond, items in EXPECTED.items():
        c = contrasts[contrasts["condition"] == cond]
        if c.empty:
            continue
        for name, expectation, why in items:
            for _, row in c[c["contrast"] == name].iterrows():
                rows.append({"condition": cond, "contrast": name, "expected": expectation, "why": why,
                             "direction": row["direction"],
                             "found": format_ci(row["mean"], row["ci_low"], row["ci_high"]),
                             "as expected": "yes" if decide(row, expectation) else "no"})
    return pd.DataFrame(rows, columns=["condition", "contrast", "expected", "why", "direction", "found",
                                       "as expected"])


def training_diagnostics(runs):
    """One row per run: epochs, anchors and triplets per step, share of segments with an anchor.

    Parameters
    ----------
    runs : dict
        ``(method, direction, seed) -> run dict`` (:meth:`agser.run.Run.ser_runs`).

    Returns
    -------
    pandas.DataFrame
        ``method, direction, seed, best_epoch, epochs_run, anchors_per_step, triplets_per_step,
        common_share_source, common_share_target, final_er, final_extra``.
    """
    rows = []
    for (m, d, s), r in runs.items():
        h = r["history"]
        a = r.get("anchors") or {}
        rows.append({"method": m, "direction": d, "seed": s, "best_epoch": h["best_epoch"],
                     "epochs_run": h["epochs_run"], "anchors_per_step": float(np.mean(h["anchors"])),
                     "triplets_per_step": float(np.mean(h["triplets"])),
                     "common_share_source": a.get("common_share_source", np.nan),
                     "common_share_target": a.get("common_share_target", np.nan),
                     "final_er": float(h["er"][-1]), "final_extra": float(h["extra"][-1])})
    return pd.DataFrame(rows)
