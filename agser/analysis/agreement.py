"""How far AG clusters agree with speaker, phone, emotion and corpus (normalised mutual information).

A cluster model of *articulation* should agree with the phone (what the mouth
does) far more than with the speaker (whose mouth it is). Chapter 3 shows this
table for the paper's preprocessing and for speaker-free gestures
(:mod:`agser.gestures.speaker`), and the run's default follows from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["nmi_agreement"]


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
