"""How far an aligner's boundaries are from a reference alignment.

Used in chapter 2 to measure pocketsphinx against the simulator's true
TextGrids. A boundary is the start of every non-silence interval plus the end
of the last one (silences are dropped on both sides, so the edges of pauses
count too). When both alignments have the same label sequence (stress digits
ignored) every boundary is paired. When they differ (pocketsphinx picked
another pronunciation variant of a word) ``boundary_errors(...,
matched=True)`` pairs only the runs of phones that a longest-matching-block
alignment of the two label sequences (:class:`difflib.SequenceMatcher`) finds
in both: the start of each matched phone and the end of each run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import InputError

__all__ = ["boundary_errors", "evaluate_aligner", "summarize_errors"]


def _labels(df, tier):
    from agser.phones.ipa import strip_stress

    labels = df["label"].astype(str)
    return [strip_stress(x) for x in labels] if tier == "phones" else [x.lower() for x in labels]


def boundary_errors(reference, hypothesis, tier="phones", matched=False):
    """Absolute boundary errors (seconds) between two alignments of one utterance.

    Parameters
    ----------
    reference, hypothesis : agser.phones.textgrid.Alignment
    tier : {"phones", "words"}
    matched : bool
        When the label sequences differ, pair the boundaries of the phone
        runs found in both (see the module notes) instead of returning None.

    Returns
    -------
    ndarray, shape (n_boundaries,), seconds, or None
        ``None`` when the label sequences differ (and ``matched`` is False)
        or nothing matches.

    Examples
    --------
    >>> import pandas as pd
    >>> from agser.phones.textgrid import Alignment
    >>> w = pd.DataFrame({"label": ["a"], "start": [0.0], "end": [0.3]})
    >>> ref = Alignment(w, pd.DataFrame({"label": ["AH0", "T"], "start": [0.0, 0.1], "end": [0.1, 0.3]}))
    >>> hyp = Alignment(w, pd.DataFrame({"label": ["AH", "T"], "start": [0.02, 0.12], "end": [0.12, 0.3]}))
    >>> boundary_errors(ref, hyp).round(3).tolist()
    [0.02, 0.02, 0.0]
    """
    r, h = getattr(reference, tier), getattr(hypothesis, tier)
    rl, hl = _labels(r, tier), _labels(h, tier)
    if len(r) == 0 or len(h) == 0:
        return None
    if rl == hl:
        rb = np.r_[r["start"].to_numpy(float), r["end"].to_numpy(float)[-1]]
        hb = np.r_[h["start"].to_numpy(float), h["end"].to_numpy(float)[-1]]
        return np.abs(rb - hb)
    if not matched:
        return None
    from difflib import SequenceMatcher

    rs, re_ = r["start"].to_numpy(float), r["end"].to_numpy(float)
    hs, he = h["start"].to_numpy(float), h["end"].to_numpy(float)
    errs = []
    for a, b, n in SequenceMatcher(None, rl, hl, autojunk=False).get_matching_blocks():
        if n == 0:
            continue
        errs.extend(np.abs(rs[a:a + n] - hs[b:b + n]))
        errs.append(abs(re_[a + n - 1] - he[b + n - 1]))
    return np.asarray(errs) if errs else None


def summarize_errors(errors):
    """Median, mean (ms) and the shares within 20 and 50 ms of pooled errors.

    Examples
    --------
    >>> summarize_errors([0.01, 0.03, 0.07])["within_20ms_pct"]
    33.3
    """
    e = np.asarray(errors, dtype=float).reshape(-1)
    if e.size == 0:
        return {"boundaries": 0, "median_ms": np.nan, "mean_ms": np.nan,
                "within_20ms_pct": np.nan, "within_50ms_pct": np.nan}
    return {
        "boundaries": int(e.size),
        "median_ms": round(float(np.median(e)) * 1000, 1),
        "mean_ms": round(float(np.mean(e)) * 1000, 1),
        "within_20ms_pct": round(float(np.mean(e <= 0.020)) * 100, 1),
        "within_50ms_pct": round(float(np.mean(e <= 0.050)) * 100, 1),
    }


def evaluate_aligner(manifest, n_utterances=20, aligner=None, seed=0):
    """Run pocketsphinx on manifest rows that have a reference TextGrid; compare boundaries.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``audio_path``, ``transcript`` and ``alignment_path`` (the
        reference), e.g. a simulated corpus.
    n_utterances : int
        How many rows to evaluate, drawn at random (``seed``), balanced over
        corpora as far as possible.
    aligner : PocketsphinxAligner, optional
        Default: one with ``min_speech_score=None`` so that every utterance
        is measured; the column ``score`` says which ones the default
        mismatch threshold would have rejected.
    seed : int

    Returns
    -------
    per_utterance : pandas.DataFrame
        ``utterance_id, corpus, status`` (``ok``, ``phone sequence differs``
        or the failure reason), ``score``, ``phone_errors`` (matched
        boundaries, see :func:`boundary_errors`) and ``word_errors``
        (arrays of seconds, or None).
    """
    from agser.phones.aligner import PocketsphinxAligner
    from agser.phones.audio import load_audio
    from agser.phones.textgrid import read_textgrid

    aligner = aligner if aligner is not None else PocketsphinxAligner(min_speech_score=None)
    rows = manifest[(manifest["alignment_path"] != "") & (manifest["audio_path"] != "")]
    rng = np.random.default_rng(seed)
    groups = [g.iloc[rng.permutation(len(g))] for _, g in rows.groupby("corpus", sort=True)]
    picked, i = [], 0
    while len(picked) < min(n_utterances, len(rows)):
        for g in groups:
            if i < len(g) and len(picked) < n_utterances:
                picked.append(g.iloc[i])
        i += 1
    out = []
    for row in picked:
        rec = {"utterance_id": row["utterance_id"], "corpus": row["corpus"], "status": "ok",
               "score": np.nan, "phone_errors": None, "word_errors": None}
        ref = read_textgrid(row["alignment_path"])
        try:
            hyp = aligner.align(load_audio(row["audio_path"]), row["transcript"])
        except InputError as exc:
            rec["status"] = exc.reason
            out.append(rec)
            continue
        rec["score"] = hyp.score
        rec["phone_errors"] = boundary_errors(ref, hyp, "phones", matched=True)
        rec["word_errors"] = boundary_errors(ref, hyp, "words")
        if boundary_errors(ref, hyp, "phones") is None:
            rec["status"] = "phone sequence differs"
        out.append(rec)
    return pd.DataFrame(out, columns=["utterance_id", "corpus", "status", "score",
                                      "phone_errors", "word_errors"])
