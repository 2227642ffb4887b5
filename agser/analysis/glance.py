"""Results at a glance: one row per claim of the paper, the paper's figure beside this run's.

Each ``*_row`` function turns what a chapter computes into one row (pure
functions of the chapters' own results), and :func:`glance_table` puts them
in the order of :data:`CLAIMS`. A row's ``agrees`` is one of:

- ``yes``: this run shows what the paper claims, by the rule the row's
  function states;
- ``partly``: some of it (one direction of two, some emotions or panels);
- ``no``: not on this run;
- ``not run``: this run cannot test it (``ours`` says why).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError

__all__ = ["CLAIMS", "AGREES", "elbow_row", "sanity_row", "overlap_row", "emotion_row", "association_row",
           "ser_rows", "glance_table", "glance_glue"]

#: ``(id, claim, chapter)`` of each claim of the paper, in the order of its talk.
CLAIMS = (
    ("elbow", "k = 10 AG clusters, chosen by the elbow", "ch3_clustering"),
    ("sanity", "Sanity check: two clusters differ, the two corpora look alike within one", "ch3_clustering"),
    ("overlap", "Cross-corpus overlap: every vowel has clusters common to both corpora, with a high Sim", "ch4_overlap"),
    ("emotion", "Emotion-specific overlap: some vowels overlap more under some emotions", "ch4_overlap"),
    ("association", "AG-acoustic association: an AG cluster's segments fall in few acoustic clusters",
     "ch5_association"),
    ("ser_ci", "AG beats PA and LA, C->I", "ch6_ser"),
    ("ser_ic", "AG beats PA and LA, I->C", "ch6_ser"),
    ("upper", "AG approaches the upper bound, both directions", "ch6_ser"),
    ("hard", "AG beats Hard-AG, both directions", "ch7_ablation"),
)
#: The values of a row's ``agrees``.
AGREES = ("yes", "partly", "no", "not run")
_COLUMNS = ["claim", "paper", "ours", "agrees", "chapter"]


def _row(claim_id, paper, ours, agrees):
    if agrees not in AGREES:
        raise ParameterError(f"agrees={agrees!r} must be one of {AGREES}")
    return {"id": claim_id, "paper": paper, "ours": ours, "agrees": agrees}


def _share(n, total):
    """yes / partly / no / not run for ``n`` of ``total``."""
    if total == 0:
        return "not run"
    return "yes" if n == total else "partly" if n > 0 else "no"


def elbow_row(k_elbow, k_range):
    """The elbow's k against the paper's 10 (``yes`` when equal).

    Examples
    --------
    >>> elbow_row(5, (2, 12))["ours"], elbow_row(10, (2, 12))["agrees"]
    ('k = 5 (searched 2-12)', 'yes')
    """
    return _row("elbow", "k = 10", f"k = {int(k_elbow)} (searched {k_range[0]}-{k_range[-1]})",
                "yes" if int(k_elbow) == 10 else "no")


def sanity_row(gaps):
    """The sanity check's reading in numbers (:func:`agser.analysis.sanity.sanity_gaps`).

    ``yes`` when the clusters are further apart than the corpora within a
    cluster in every panel that has both corpora; ``partly`` in some.

    Examples
    --------
    >>> g = pd.DataFrame({"holds": [True, False, np.nan]})
    >>> r = sanity_row(g); r["ours"], r["agrees"]
    ('holds in 1 of 2 panels', 'partly')
    """
    holds = gaps["holds"].dropna().astype(bool)
    return _row("sanity", "by eye, in 4 panels", f"holds in {int(holds.sum())} of {len(holds)} panels",
                _share(int(holds.sum()), len(holds)))


def overlap_row(findings, tolerance=10.0):
    """Common clusters and ``Sim`` (:func:`agser.analysis.overlap.overlap_findings`) against the paper's.

    ``yes`` when every vowel has a common cluster and ``Sim`` is within
    ``tolerance`` points of the paper's "All" row on average; ``partly`` when
    only one of the two holds.

    Examples
    --------
    >>> f = {"every_vowel_shared": True, "no_common": "none", "common_lo": 2, "common_hi": 5, "sim_lo": 45.0,
    ...      "sim_hi": 81.0, "sim_mae": 15.3, "paper_common_lo": 3, "paper_common_hi": 4, "paper_sim_lo": 68.8,
    ...      "paper_sim_hi": 76.6}
    >>> r = overlap_row(f); r["paper"], r["agrees"]
    ('3-4 common clusters per vowel; Sim 68.8-76.6', 'partly')
    """
    f = findings
    shared = f"{f['common_lo']}-{f['common_hi']} common clusters per vowel" if f["every_vowel_shared"] else \
        f"no common cluster for {f['no_common']}"
    ours = f"{shared}; Sim {f['sim_lo']:.1f}-{f['sim_hi']:.1f}, {f['sim_mae']:.1f} points from the paper's on average"
    close = bool(np.isfinite(f["sim_mae"]) and f["sim_mae"] <= tolerance)
    agrees = "yes" if f["every_vowel_shared"] and close else "partly" if f["every_vowel_shared"] or close else "no"
    return _row("overlap", f"{f['paper_common_lo']}-{f['paper_common_hi']} common clusters per vowel; "
                           f"Sim {f['paper_sim_lo']:.1f}-{f['paper_sim_hi']:.1f}", ours, agrees)


def emotion_row(findings):
    """Whether the emotion with the highest ``Sim`` differs between vowels (``yes`` when it does).

    Examples
    --------
    >>> f = {"emotion_varies": True, "best_emotion": "anger", "paper_best_emotion": "happiness",
    ...      "n_best_agree": 1}
    >>> print(emotion_row(f)["ours"])
    the best emotion differs between vowels; highest on average: anger; the paper's best for 1 of 6 vowels
    """
    f = findings
    varies = "differs between vowels" if f["emotion_varies"] else "is the same for every vowel"
    return _row("emotion", f"the best emotion differs between vowels; highest on average: {f['paper_best_emotion']}",
                f"the best emotion {varies}; highest on average: {f['best_emotion']}; the paper's best for "
                f"{f['n_best_agree']} of 6 vowels", "yes" if f["emotion_varies"] else "no")


def association_row(findings):
    """The association test (:func:`agser.analysis.association.association_findings`) per emotion drawn.

    ``yes`` when the AG clusters are significantly more concentrated over the
    acoustic clusters than shuffled ones for every emotion the paper draws,
    ``partly`` for some.

    Examples
    --------
    >>> f = {"n_sig": 2, "n_emotions": 3, "entropy": 0.79, "entropy_null": 0.83, "strict_holds": True}
    >>> r = association_row(f); r["agrees"]
    'partly'
    >>> print(r["ours"])
    significant for 2 of 3 emotions (p < 0.05); entropy 0.79 against 0.83 shuffled; beyond a shared corpus effect
    """
    f = findings
    ours = (f"significant for {f['n_sig']} of {f['n_emotions']} emotions (p < 0.05); entropy {f['entropy']:.2f} "
            f"against {f['entropy_null']:.2f} shuffled; "
            + ("beyond a shared corpus effect" if f["strict_holds"] else "not beyond a shared corpus effect"))
    return _row("association", "drawn for happiness, anger, sadness (no number)", ours,
                _share(int(f["n_sig"]), int(f["n_emotions"])))


def _contrast(contrasts, name, direction):
    c = contrasts[(contrasts["contrast"] == name) & (contrasts["direction"] == direction)]
    return None if c.empty else c.iloc[0]


def ser_rows(summary=None, contrasts=None, condition="default", why=None):
    """The four SER claims: AG above PA and LA per direction, towards the upper bound, above Hard-AG.

    Parameters
    ----------
    summary : pandas.DataFrame, optional
        :func:`agser.ser.report.summary_ci` of the run's results.
    contrasts : pandas.DataFrame, optional
        :meth:`agser.run.Run.ser_contrasts`.
    condition : str
        The condition the rows are about (:func:`agser.ser.report.main_condition`).
    why : str, optional
        Why the run trains no SER model; then every row is ``not run``.

    Returns
    -------
    list of dict

    Notes
    -----
    A contrast *beats* when its 95 % interval of the per-seed paired
    difference lies above 0. ``ser_ci``/``ser_ic``: ``yes`` when AG beats both
    PA and LA in that direction, ``partly`` when one. ``upper`` (the paper's AG
    is its cross-corpus method nearest the upper bound): ``yes`` when AG beats
    source-only in both directions, so it closes part of the gap to the upper
    bound, ``partly`` in one. ``hard``: ``yes`` when AG beats Hard-AG in both
    directions, ``partly`` in one.

    Examples
    --------
    >>> rows = ser_rows(why="the samples run has no training corpus pair")
    >>> [r["agrees"] for r in rows], rows[0]["paper"]
    (['not run', 'not run', 'not run', 'not run'], 'AG 57.37; PA 55.33, LA 56.04')
    """
    from agser.analysis.paper import paper_table
    from agser.ser.report import format_ci

    p = paper_table("ser_results").set_index(["method", "direction"])["category_uar"]
    ub = {"C->I": p[("upper_bound", "I->I")], "I->C": p[("upper_bound", "C->C")]}
    paper = {
        "ser_ci": f"AG {p[('AG', 'C->I')]:.2f}; PA {p[('PA', 'C->I')]:.2f}, LA {p[('LA', 'C->I')]:.2f}",
        "ser_ic": f"AG {p[('AG', 'I->C')]:.2f}; PA {p[('PA', 'I->C')]:.2f}, LA {p[('LA', 'I->C')]:.2f}",
        "upper": "AG {:.1f} (C->I) and {:.1f} (I->C) points below the upper bound, the nearest of the "
                 "cross-corpus methods".format(*(ub[d] - p[("AG", d)] for d in ("C->I", "I->C"))),
        "hard": "AG above Hard-AG by {:.2f} (C->I) and {:.2f} (I->C)".format(
            *(p[("AG", d)] - p[("Hard-AG", d)] for d in ("C->I", "I->C"))),
    }
    if why is not None or contrasts is None:
        reason = f"not run: {why}" if why else "not run"
        return [_row(i, paper[i], reason, "not run") for i in ("ser_ci", "ser_ic", "upper", "hard")]
    c = contrasts[contrasts["condition"] == condition]

    def found(names, directions):
        parts, wins, tested = [], 0, 0
        for name in names:
            for d in directions:
                row = _contrast(c, name, d)
                if row is None:
                    continue
                tested += 1
                wins += bool(row["ci_low"] > 0)
                label = name if len(directions) == 1 else f"{name}, {d}"
                parts.append(f"{label} {format_ci(row['mean'], row['ci_low'], row['ci_high'])}")
        return "; ".join(parts) if parts else "no such contrast in this run", wins, tested

    rows = []
    for rid, d in (("ser_ci", "C->I"), ("ser_ic", "I->C")):
        text, wins, tested = found(["AG - PA", "AG - LA"], [d])
        rows.append(_row(rid, paper[rid], text, _share(wins, tested)))
    text, wins, tested = found(["AG - source-only"], ["C->I", "I->C"])
    if summary is not None:
        s = summary.xs(condition, level="condition")["mean"]
        gaps = [f"{s[('upper-bound', t)] - s[('AG', d)]:.1f} ({d})" for d, t in (("C->I", "I->I"), ("I->C", "C->C"))
                if ("upper-bound", t) in s.index and ("AG", d) in s.index]
        if gaps:
            text = f"AG {' and '.join(gaps)} points below the upper bound; {text}"
    rows.append(_row("upper", paper["upper"], text, _share(wins, tested)))
    text, wins, tested = found(["AG - Hard-AG"], ["C->I", "I->C"])
    rows.append(_row("hard", paper["hard"], text, _share(wins, tested)))
    return rows


def glance_table(rows):
    """The rows in the order of :data:`CLAIMS`, with each claim's text and chapter.

    Parameters
    ----------
    rows : list of dict
        One per claim id of :data:`CLAIMS` (the ``*_row`` functions); ids
        neither missing nor repeated.

    Returns
    -------
    pandas.DataFrame
        Index the claim id; ``claim, paper, ours, agrees, chapter``.

    Examples
    --------
    >>> rows = [elbow_row(5, (2, 12)), sanity_row(pd.DataFrame({"holds": [True]}))]
    >>> rows += [{"id": i, "paper": "", "ours": "", "agrees": "not run"} for i, _, _ in CLAIMS[2:]]
    >>> t = glance_table(rows); t.loc["elbow", "chapter"], len(t)
    ('ch3_clustering', 9)
    """
    by_id = {}
    for r in rows:
        if r["id"] in by_id:
            raise ParameterError(f"claim {r['id']!r} has two rows")
        by_id[r["id"]] = r
    ids = [i for i, _, _ in CLAIMS]
    missing, unknown = [i for i in ids if i not in by_id], [i for i in by_id if i not in ids]
    if missing or unknown:
        raise ParameterError(f"rows lack claim(s) {missing} and have unknown claim(s) {unknown}")
    table = pd.DataFrame([{"id": i, "claim": claim, "paper": by_id[i]["paper"], "ours": by_id[i]["ours"],
                           "agrees": by_id[i]["agrees"], "chapter": chapter} for i, claim, chapter in CLAIMS])
    return table.set_index("id")[_COLUMNS]


def glance_glue(table):
    """Names and texts to glue for the glance page: ``ID_claim``, ``ID_paper``, ``ID_ours``, ``ID_agrees``,
    and ``n_yes``, ``n_partly``, ``n_no``, ``n_not_run`` (rows of each verdict).

    Examples
    --------
    >>> t = pd.DataFrame({"claim": ["c"], "paper": ["p"], "ours": ["o"], "agrees": ["yes"], "chapter": ["x"]},
    ...                  index=pd.Index(["elbow"], name="id"))
    >>> g = glance_glue(t); g["elbow_agrees"], g["n_yes"], g["n_not_run"]
    ('yes', 1, 0)
    """
    out = {f"{i}_{col}": str(table.loc[i, col]) for i in table.index for col in ("claim", "paper", "ours", "agrees")}
    counts = table["agrees"].value_counts()
    out.update({f"n_{a.replace(' ', '_')}": int(counts.get(a, 0)) for a in AGREES})
    return out
