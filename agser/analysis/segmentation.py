"""What chapter 2 counts: segments per vowel and corpus, the extraction's summary, aligner accuracy.

Pure functions of the extraction's tables (``segments.parquet``,
``summary.json``, ``failures.csv``, ``dropped_segments.csv``) and of the
aligner evaluations (:func:`agser.phones.evaluate.evaluate_aligner`,
:func:`word_boundary_evaluation`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError
from agser.phones.evaluate import summarize_errors
from agser.phones.ipa import PAPER_VOWELS

__all__ = ["vowel_segment_table", "extraction_summary", "boundary_table", "evaluation_counts",
           "word_boundary_evaluation", "angle_range", "extraction_totals", "aligner_statements"]


def vowel_segment_table(segments, vowels=PAPER_VOWELS):
    """Segments of the paper's vowels per corpus and emotion.

    Examples
    --------
    >>> s = pd.DataFrame({"corpus": ["A", "A"], "emotion": ["anger"] * 2, "ipa": ["i", "ɑ"], "start": [0, 1]})
    >>> vowel_segment_table(s).values.tolist()
    [[1, 1]]
    """
    v = segments[segments["ipa"].isin(vowels)]
    table = v.pivot_table(index=["corpus", "emotion"], columns="ipa", values="start", aggfunc="size",
                          fill_value=0)
    table = table.reindex(columns=[x for x in vowels if x in table.columns])
    table.columns.name = None
    return table


def extraction_summary(summary, segments):
    """The extraction's ``summary.json`` per corpus, with the share of frames with a face and segment lengths.

    Parameters
    ----------
    summary : dict
        ``corpus -> {utterances, frames, frames_with_face, segments, failures, segments_dropped}``.
    segments : pandas.DataFrame
        The segments (``corpus, n_frames``).

    Returns
    -------
    pandas.DataFrame
        Index corpus; the summary's columns, ``face_%``, and ``mean frames,
        median frames, min frames, max frames`` of the segments.

    Examples
    --------
    >>> s = {"A": {"utterances": 1, "frames": 10, "frames_with_face": 9, "segments": 2, "failures": 0,
    ...            "segments_dropped": 0}}
    >>> seg = pd.DataFrame({"corpus": ["A", "A"], "n_frames": [2, 4]})
    >>> extraction_summary(s, seg).loc["A", ["face_%", "mean frames"]].tolist()
    [90.0, 3.0]
    """
    table = pd.DataFrame(summary).T
    if table.empty:
        raise ParameterError("summary holds no corpus")
    table["face_%"] = (100 * table["frames_with_face"] / table["frames"].clip(lower=1)).astype(float).round(1)
    lengths = segments.groupby("corpus")["n_frames"].describe()[["mean", "50%", "min", "max"]]
    lengths.columns = ["mean frames", "median frames", "min frames", "max frames"]
    return table.join(lengths.round(2))


def extraction_totals(summary):
    """``(utterances, failures, segments, segments dropped)`` over the corpora of ``summary.json``.

    Examples
    --------
    >>> extraction_totals({"A": {"utterances": 3, "failures": 1, "segments": 9, "segments_dropped": 2}})
    (3, 1, 9, 2)
    """
    return tuple(int(sum(s[k] for s in summary.values()))
                 for k in ("utterances", "failures", "segments", "segments_dropped"))


def boundary_table(evaluation):
    """Pooled boundary errors per corpus and over all (``summarize_errors`` columns).

    Parameters
    ----------
    evaluation : pandas.DataFrame
        :func:`agser.phones.evaluate.evaluate_aligner` rows (``corpus``, ``phone_errors``).

    Returns
    -------
    pandas.DataFrame
        Index corpus (and ``all``); ``utterances, boundaries, median_ms, mean_ms,
        within_20ms_pct, within_50ms_pct``.

    Examples
    --------
    >>> e = pd.DataFrame({"corpus": ["A", "B"], "phone_errors": [np.array([0.01]), np.array([0.03])]})
    >>> boundary_table(e)["median_ms"].tolist()
    [10.0, 30.0, 20.0]
    """
    measured = evaluation[evaluation["phone_errors"].notna()]
    rows = []
    for corpus, g in list(measured.groupby("corpus")) + [("all", measured)]:
        errs = np.concatenate(list(g["phone_errors"])) if len(g) else np.array([])
        rows.append({"corpus": corpus, "utterances": len(g), **summarize_errors(errs)})
    return pd.DataFrame(rows).set_index("corpus")


def evaluation_counts(evaluation, threshold=-30.0):
    """How the evaluated utterances came out: same phones, other phones, not aligned, below ``threshold``.

    Examples
    --------
    >>> e = pd.DataFrame({"status": ["ok", "phone sequence differs", "no speech"], "score": [-10, -40, np.nan]})
    >>> evaluation_counts(e)
    {'utterances': 3, 'same': 1, 'differs': 1, 'failed': 1, 'below_threshold': 1}
    """
    status = evaluation["status"].value_counts()
    same, differs = int(status.get("ok", 0)), int(status.get("phone sequence differs", 0))
    return {"utterances": len(evaluation), "same": same, "differs": differs,
            "failed": len(evaluation) - same - differs,
            "below_threshold": int((evaluation["score"] < threshold).sum())}


def word_boundary_evaluation(manifest):
    """pocketsphinx's word boundaries against the GRID ``.align`` word alignments of a manifest.

    Rows with a ``word_alignment_path`` (GRID clips) are aligned with
    pocketsphinx (on the video's audio track) and their word boundaries
    compared with the reference.

    Returns
    -------
    pandas.DataFrame
        ``utterance_id, status`` (``ok``, ``word sequence differs`` or the
        aligner's failure) and the :func:`agser.phones.evaluate.summarize_errors`
        columns; empty when no row has a word alignment.
    """
    from pathlib import Path

    from agser.corpora.grid import read_grid_align
    from agser.extract import utterance_phones
    from agser.phones.evaluate import boundary_errors
    from agser.phones.textgrid import Alignment

    cols = ["utterance_id", "status", "boundaries", "median_ms", "mean_ms", "within_20ms_pct", "within_50ms_pct"]
    if "word_alignment_path" not in manifest:
        return pd.DataFrame(columns=cols)
    refs = manifest[manifest["word_alignment_path"].fillna("").astype(str).str.strip() != ""]
    rows = []
    for _, r in refs.iterrows():
        path = Path(r["word_alignment_path"])
        if not path.is_file():  # not a manifest path column: it may be stale
            path = Path(r["video_path"]).with_suffix(".align")
        words = read_grid_align(path)
        try:
            hyp = utterance_phones(r.to_dict(), aligner="pocketsphinx")
        except InputError as exc:
            rows.append({"utterance_id": r["utterance_id"], "status": exc.reason})
            continue
        err = boundary_errors(Alignment(words, words), hyp, "words")
        rows.append({"utterance_id": r["utterance_id"], "status": "ok" if err is not None else "word sequence differs",
                     **(summarize_errors(err) if err is not None else {})})
    return pd.DataFrame(rows, columns=cols)


def angle_range(angles):
    """``(smallest, largest, largest absolute)`` eye-line angle (degrees) over the frames with a face.

    Examples
    --------
    >>> angle_range(np.array([-2.0, np.nan, 3.0]))
    (-2.0, 3.0, 3.0)
    """
    a = np.asarray(angles, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (float("nan"),) * 3
    return float(a.min()), float(a.max()), float(np.abs(a).max())


def aligner_statements(evaluation, boundaries, words, simulated=False, threshold=-30.0):
    """Two sentences on the aligner's accuracy: phone boundaries (reference TextGrids) and word boundaries (GRID).

    Parameters
    ----------
    evaluation : pandas.DataFrame or None
        :func:`agser.phones.evaluate.evaluate_aligner` (None: no reference TextGrids).
    boundaries : pandas.DataFrame or None
        :func:`boundary_table` of it.
    words : pandas.DataFrame
        :func:`word_boundary_evaluation` (empty: no word references).
    simulated : bool
        The references are the simulator's true alignments (adds a caveat).
    threshold : float
        pocketsphinx's default mismatch threshold.

    Returns
    -------
    dict
        ``phone_eval`` and ``word_eval`` (plain text; ``word_eval`` empty when
        there are no word references).

    Examples
    --------
    >>> e = pd.DataFrame({"corpus": ["A"], "status": ["ok"], "score": [-10.0], "phone_errors": [np.array([0.01])]})
    >>> s = aligner_statements(e, boundary_table(e), pd.DataFrame(columns=["status"]))
    >>> s["phone_eval"][:61], s["word_eval"]
    ('On 1 utterances, 1 were aligned with the same phone sequence ', '')
    """
    if evaluation is None or boundaries is None:
        phone = ("This run has no reference TextGrids with audio, so pocketsphinx's phone boundaries cannot be "
                 "measured against a reference here.")
    else:
        c, s = evaluation_counts(evaluation, threshold), boundaries.loc["all"]
        phone = (f"On {c['utterances']} utterances, {c['same']} were aligned with the same phone sequence as the "
                 f"reference, {c['differs']} with another (matched runs compared) and {c['failed']} not at all; "
                 f"{c['below_threshold']} of the aligned ones score below the default mismatch threshold "
                 f"({threshold:g}). Over {int(s['boundaries'])} boundaries the median absolute error is "
                 f"{s['median_ms']:g} ms and the mean {s['mean_ms']:g} ms; {s['within_20ms_pct']:g} % lie within "
                 f"20 ms and {s['within_50ms_pct']:g} % within 50 ms.")
        if simulated:
            phone += (" The simulator's audio is a source-filter synthesiser and pocketsphinx's acoustic model was "
                      "trained on natural speech, so these figures say how pocketsphinx copes with the "
                      "synthesiser, not its accuracy on real recordings; the default run's segments use the true "
                      "TextGrids.")
    ok = words[words["status"] == "ok"] if len(words) else words
    if not len(words):
        word = ""
    elif not len(ok):
        word = f"pocketsphinx aligned none of the {len(words)} clips with a reference word alignment."
    else:
        word = (f"On {len(ok)} real GRID clip(s) with a reference word alignment, the median absolute word-boundary "
                f"error of pocketsphinx is {float(ok['median_ms'].median()):g} ms ({int(ok['boundaries'].sum())} "
                "boundaries; GRID's reference is quantised to its 40-ms video frames).")
    return {"phone_eval": phone, "word_eval": word}
