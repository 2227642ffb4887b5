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
           "training_diagnostics", "decide", "main_condition", "oracle_statement", "protocol_table",
           "paper_ag_margins", "calibration_statement", "diagnostics_summary", "controls_statement"]

#: The expected outcome of each control, stated before its result is computed:
#: ``(contrast, expectation, reason)`` per condition. ``expectation``: ``"> 0"``
#: (the CI lies above 0) or ``"~ 0"`` (the CI contains 0).
EXPECTED = {
    "positive": [
        ("upper-bound - source-only", "> 0", "the target's channel damage costs source-only UAR (the "
                                              "calibration set it so, from these two methods alone)"),
        ("AG - AG-shuffled", "> 0", "AG's clusters carry articulation; shuffled ones do not"),
        ("AG-oracle - source-only", "> 0", "with the true articulation as anchors and a real gap, a working "
                                            "anchoring loss must help"),
        ("AG - source-only", "> 0", "the paper's claim, where its premise holds"),
    ],
    "no-shift": [
        ("AG - source-only", "~ 0", "no channel or emotion-style shift: nothing for articulatory anchors to "
                                     "fix (speakers and sentences still differ, which costs source-only some "
                                     "UAR against the upper bound: the calibration measures it)"),
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
    """UAR (%) of each method: ours (mean [95 % CI]) beside the paper's, by test corpus.

    Rows: methods (the paper's, and ours it lacks); columns: the test corpus,
    each with ``ours`` / ``paper``. A cross-corpus method tested on I is
    C->I; the upper bound tested on I is I->I (the same test set).
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
        for label, cross, within in (("tested on I", "C->I", "I->I"), ("tested on C", "I->C", "C->C")):
            d = within if m == "upper-bound" else cross
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
                # the interval is the contrast's own; the p-value is corrected for all the contrasts
                part += (f" (Holm-corrected p = {row['p']:.2g})" if row["p"] < 0.05 else
                         f", but not after the correction for the number of contrasts (Holm p = {row['p']:.2g})")
            parts.append(part)
        sentences.append(f"{a} against {b}: " + "; ".join(parts) + ".")
    if n is not None:
        sentences.append(f"{n} seeds, 95 % confidence intervals of the per-seed paired differences.")
    if condition != "default" and sentences:
        sentences[0] = f"In the {condition} condition, {sentences[0]}"
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
        ``method, direction, seed, best_epoch, epochs_run, best_val_uar`` (UAR of the held-out
        *source* speakers at the epoch kept), ``anchors_per_step, triplets_per_step,
        common_share_source, common_share_target, final_er, final_extra``.
    """
    rows = []
    for (m, d, s), r in runs.items():
        h = r["history"]
        a = r.get("anchors") or {}
        val = np.asarray(h["val_uar"], dtype=float)
        rows.append({"method": m, "direction": d, "seed": s, "best_epoch": h["best_epoch"],
                     "epochs_run": h["epochs_run"],
                     "best_val_uar": float(val[h["best_epoch"] - 1]) if val.size >= h["best_epoch"] else np.nan,
                     "anchors_per_step": float(np.mean(h["anchors"])),
                     "triplets_per_step": float(np.mean(h["triplets"])),
                     "common_share_source": a.get("common_share_source", np.nan),
                     "common_share_target": a.get("common_share_target", np.nan),
                     "final_er": float(h["er"][-1]), "final_extra": float(h["extra"][-1])})
    return pd.DataFrame(rows)


def main_condition(conditions):
    """The condition a chapter's verdict is about: ``default``, else ``positive``, else the first."""
    for name in ("default", "positive"):
        if name in conditions:
            return name
    return list(conditions)[0]


def oracle_statement(contrasts, condition):
    """What AG-oracle against source-only says about the loss itself (one sentence).

    Examples
    --------
    >>> c = pd.DataFrame({"condition": "positive", "direction": ["C->I", "I->C"], "contrast": "AG-oracle - source-only",
    ...                   "mean": [3.0, 2.0], "ci_low": [1.0, 0.5], "ci_high": [5.0, 3.5], "n_seeds": 10, "p": 0.01})
    >>> oracle_statement(c, "positive")[:46]
    'With oracle anchors the loss helps in both dir'
    """
    c = contrasts[(contrasts["condition"] == condition) & (contrasts["contrast"] == "AG-oracle - source-only")]
    if c.empty:
        return "AG-oracle needs simulated corpora; this run has none, so the loss itself is not tested here."
    better = [d for d, lo in zip(c["direction"], c["ci_low"]) if lo > 0]
    text = "; ".join(f"{d} {format_ci(m, lo, hi)}" for d, m, lo, hi in
                     zip(c["direction"], c["mean"], c["ci_low"], c["ci_high"]))
    if len(better) == len(c):
        return f"With oracle anchors the loss helps in both directions ({text} points), so the loss can work."
    if better:
        return (f"With oracle anchors the loss helps only in {', '.join(better)} ({text} points): where it does "
                "not, even the best anchors do not make this loss beat source-only.")
    return (f"Even with oracle anchors the loss does not beat source-only ({text} points): the loss itself is "
            "weak on this run, whatever the anchors.")


def protocol_table(ser):
    """The training choices of a run's ``ser`` section, one row each, with what they mean."""
    rows = [
        ("gamma", ser["gamma"], "weight of the anchoring loss (every method's), fixed a priori"),
        ("margin", ser["margin"], "triplet margin, squared distance of unit vectors (0..4), fixed a priori"),
        ("threshold", ser["threshold"], "overlap s_i (%) below which a cluster gives no anchors (the paper's)"),
        ("normalize", ser["normalize"], "features z-scored per speaker (ids only), then by the training frames"),
        ("batch_size", ser["batch_size"], "source utterances per step, and as many target utterances"),
        ("max_epochs / patience", f"{ser['max_epochs']} / {ser['patience']}",
         "early stopping on held-out source speakers' UAR"),
        ("val_fraction", ser["val_fraction"], "share of a training pool's speakers held out for early stopping"),
        ("ub_folds", ser["ub_folds"], "folds of the test speakers in the upper bound's cross-validation"),
        ("optimiser", f"Adam lr {ser['lr']:g}, weight decay {ser['weight_decay']:g}", ""),
        ("frame network", f"hidden {ser['hidden']}, {ser['n_conv']} conv, kernel {ser['kernel']}, "
                          f"dropout {ser['dropout']:g}", "on a softmax-weighted sum of the encoder layers"),
        ("LA", f"{ser['la_layers']} layers, {ser['la_select']}", "CORAL on the pooled representation the "
         "classifier reads and on that of each chosen layer: Deep CORAL's ||C_s - C_t||^2 / (4 d^2), "
         "weighted by gamma like every extra loss (not rescaled)"),
        ("Hard-AG", f"soft-DTW gamma {ser['sdtw_gamma']:g}", "positive: the nearest same-phone gesture in the "
                                                              "other corpus' batch"),
    ]
    return pd.DataFrame(rows, columns=["choice", "value", "meaning"]).set_index("choice")


def paper_ag_margins():
    """The paper's AG minus each of PA, LA and Hard-AG (UAR points): ``(smallest, largest)``.

    Examples
    --------
    >>> lo, hi = paper_ag_margins(); round(lo, 2), round(hi, 2)
    (0.65, 2.5)
    """
    from agser.analysis.paper import paper_table

    t = paper_table("ser_results").set_index(["method", "direction"])["category_uar"]
    diffs = [t[("AG", d)] - t[(m, d)] for m in ("PA", "LA", "Hard-AG") for d in ("C->I", "I->C")]
    return float(min(diffs)), float(max(diffs))


def calibration_statement(calibration, min_gap):
    """One sentence: the undamaged gap, the damage chosen and what it adds (UAR points).

    Examples
    --------
    >>> calibration_statement({"baseline_gap": 8.8, "chosen": 2.0, "added_gap": 9.1, "reached": True}, 8.0)
    'Without damage, source-only loses 8.8 points against the upper bound (speakers and sentences differ); a channel damage of 2 adds 9.1 points (the first strength of the grid to add at least 8).'
    """
    c = calibration
    tail = (f"(the first strength of the grid to add at least {min_gap:g})" if c["reached"] else
            f"(no strength of the grid added {min_gap:g}; the largest was kept)")
    return (f"Without damage, source-only loses {c['baseline_gap']:.1f} points against the upper bound (speakers "
            f"and sentences differ); a channel damage of {c['chosen']:g} adds {c['added_gap']:.1f} points {tail}.")


def diagnostics_summary(diagnostics, by=("method",)):
    """:func:`training_diagnostics` averaged per method (or ``by``), in narrow, readable columns.

    Returns
    -------
    pandas.DataFrame
        ``best epoch``, ``val UAR`` (held-out source speakers, %), ``anchors / step``,
        ``triplets / step``, ``anchor share`` (% of segments, source / target).
    """
    g = diagnostics.groupby(list(by))
    out = pd.DataFrame({
        "best epoch": g["best_epoch"].mean(),
        "val UAR": g["best_val_uar"].mean(),
        "anchors / step": g["anchors_per_step"].mean(),
        "triplets / step": g["triplets_per_step"].mean(),
        "anchor share": [f"{100 * a:.0f} / {100 * b:.0f}" if np.isfinite(a) else "-"
                         for a, b in zip(g["common_share_source"].mean(), g["common_share_target"].mean())],
    })
    return out


def controls_statement(checks):
    """One sentence: how many expected outcomes of the controls held, and which did not.

    Examples
    --------
    >>> t = pd.DataFrame({"condition": ["no-shift"], "contrast": ["AG - source-only"], "expected": ["~ 0"],
    ...                   "why": [""], "direction": ["C->I"], "found": ["+4.0 [+1.5, +6.5]"], "as expected": ["no"]})
    >>> controls_statement(t)
    '0 of 1 expected outcomes of the controls hold; not as expected: no-shift AG - source-only C->I (expected ~ 0, found +4.0 [+1.5, +6.5]).'
    """
    if checks.empty:
        return "This run has no controls."
    ok = checks["as expected"] == "yes"
    text = f"{int(ok.sum())} of {len(checks)} expected outcomes of the controls hold"
    bad = checks[~ok]
    if len(bad):
        text += "; not as expected: " + "; ".join(
            f"{r.condition} {r.contrast} {r.direction} (expected {r.expected}, found {r.found})"
            for r in bad.itertuples(index=False))
    return text + "."
