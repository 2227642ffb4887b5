"""How far AG clusters agree with speaker, phone, emotion and corpus (normalised mutual information).

A cluster model of *articulation* should agree with the phone (what the mouth
does) far more than with the speaker (whose mouth it is). Chapter 3 shows this
table for the paper's preprocessing and for speaker-free gestures
(:mod:`agser.gestures.speaker`), and the run's default follows from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["nmi_agreement", "agreement_statement"]


def nmi_agreement(segments):
    """NMI of the clusters with speaker, phone, emotion (within each corpus) and corpus.

    Speakers, and in a real pair of corpora also phones' frequencies, differ
    between corpora, so the first three are computed within each corpus and
    averaged over corpora (weighted by segments); ``nmi_corpus`` is pooled.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``cluster``, ``corpus``, ``speaker``, ``ipa``, ``emotion``.

    Returns
    -------
    dict
        ``nmi_speaker``, ``nmi_phone``, ``nmi_emotion``, ``nmi_corpus``, ``n_segments``.

    Examples
    --------
    >>> df = pd.DataFrame({"cluster": [1, 1, 2, 2], "corpus": "c", "speaker": ["a", "b", "a", "b"],
    ...                    "ipa": ["i", "i", "u", "u"], "emotion": "anger"})
    >>> r = nmi_agreement(df); r["nmi_phone"], r["nmi_speaker"]
    (1.0, 0.0)
    """
    from sklearn.metrics import normalized_mutual_info_score as nmi

    out = {}
    for key, col in (("nmi_speaker", "speaker"), ("nmi_phone", "ipa"), ("nmi_emotion", "emotion")):
        vals, weights = [], []
        for _, g in segments.groupby("corpus", sort=True):
            vals.append(nmi(g[col].astype(str), g["cluster"]))
            weights.append(len(g))
        out[key] = float(np.average(vals, weights=weights)) if vals else float("nan")
    out["nmi_corpus"] = float(nmi(segments["corpus"].astype(str), segments["cluster"]))
    out["n_segments"] = int(len(segments))
    return out


def agreement_statement(table, option):
    """One sentence on what the paper's gestures' clusters follow, and on the run's own choice.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`agser.run.Run.cluster_agreement` (``gestures``, ``nmi_speaker``, ``nmi_phone``).
    option : str
        The run's ``cluster.gestures``.

    Examples
    --------
    >>> t = pd.DataFrame({"gestures": ["paper", "speaker-free"], "nmi_speaker": [0.3, 0.01],
    ...                   "nmi_phone": [0.15, 0.32]})
    >>> print(agreement_statement(t, "speaker-free"))  # doctest: +NORMALIZE_WHITESPACE
    With the paper's preprocessing the clusters agree with the speaker (NMI 0.30) more than with the
    phone (0.15): they encode faces more than articulation. This run clusters speaker-free gestures
    (NMI with speaker 0.01, with phone 0.32).
    """
    t = table.set_index("gestures")
    p, own = t.loc["paper"], t.loc[option]
    more = "more" if p["nmi_speaker"] > p["nmi_phone"] else "less"
    verdict = "they encode faces more than articulation" if more == "more" else "they follow articulation more"
    return (f"With the paper's preprocessing the clusters agree with the speaker (NMI {p['nmi_speaker']:.2f}) "
            f"{more} than with the phone ({p['nmi_phone']:.2f}): {verdict}. This run clusters {option} gestures "
            f"(NMI with speaker {own['nmi_speaker']:.2f}, with phone {own['nmi_phone']:.2f}).")
