"""How good a run's landmarks are (chapter 1): faces found, confidence, gaps, failures.

Pure functions of a manifest, the run's landmarks (:meth:`agser.run.Run.landmarks`)
and the extraction's failure tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.gestures.missing import DEFAULT_MAX_GAP, find_gaps, missing_frames

__all__ = ["FILLED", "LEFT", "landmark_quality", "example_utterances", "failure_summary", "reason_kinds",
           "source_statement", "coverage_statement"]

#: Column of :func:`landmark_quality`: gaps short enough to be interpolated.
FILLED = f"gaps filled (<= {DEFAULT_MAX_GAP} frames, inside)"
#: Column of :func:`landmark_quality`: the other gaps.
LEFT = "gaps left (longer, or at an end)"


def _corpus_rate(manifest, corpus, lms):
    """The manifest's frame rate where it gives one, else the landmarks' (median over utterances)."""
    if "frame_rate" in manifest.columns:
        given = pd.to_numeric(manifest.loc[manifest["corpus"] == corpus, "frame_rate"], errors="coerce")
        if given.notna().any():
            return round(float(given.median()), 2)
    return round(float(np.median([lm.frame_rate for lm in lms])), 2) if lms else float("nan")


def landmark_quality(manifest, landmarks, max_gap=DEFAULT_MAX_GAP):
    """Per corpus: utterances with landmarks, frames with a face, confidence, gaps, frame rate.

    Parameters
    ----------
    manifest : pandas.DataFrame
        ``utterance_id, corpus`` (and ``frame_rate``) of every utterance.
    landmarks : dict
        ``utterance_id -> agser.landmarks.types.Landmarks`` of the utterances that have them.
    max_gap : int
        Longest run of missing frames (with a face on both sides) that is interpolated.

    Returns
    -------
    pandas.DataFrame
        Index ``corpus``; ``utterances, with landmarks, frames, frames with face,
        face %, median confidence (face frames), gaps,`` :data:`FILLED`,
        :data:`LEFT`, ``longest gap (frames), frame rate (Hz)``.

    Examples
    --------
    >>> from agser.landmarks.types import Landmarks
    >>> ok = np.ones(10, bool); ok[[3, 4]] = False
    >>> lm = Landmarks(np.zeros((10, 68, 2)), np.full(10, 0.9), ok, np.arange(10) / 25)
    >>> m = pd.DataFrame({"utterance_id": ["u"], "corpus": ["A"]})
    >>> q = landmark_quality(m, {"u": lm}).loc["A"]
    >>> [float(q[c]) for c in ("face %", "gaps", FILLED, "frame rate (Hz)")]
    [80.0, 1.0, 1.0, 25.0]
    """
    unknown = sorted(set(landmarks) - set(manifest["utterance_id"]))
    if unknown:
        raise ParameterError(f"landmarks of utterance(s) {unknown[:3]} not in the manifest")
    corpus_of = dict(zip(manifest["utterance_id"], manifest["corpus"]))
    rows = []
    for corpus in sorted(manifest["corpus"].unique()):
        lms = [lm for u, lm in landmarks.items() if corpus_of[u] == corpus]
        gaps = [(b - a, a > 0 and b < lm.n_frames and b - a <= max_gap)
                for lm in lms for a, b in find_gaps(missing_frames(lm.points, lm.success))]
        frames = sum(lm.n_frames for lm in lms)
        ok = sum(int(lm.success.sum()) for lm in lms)
        conf = np.concatenate([lm.confidence[lm.success] for lm in lms]) if lms else np.array([])
        rows.append({
            "corpus": corpus, "utterances": int((manifest["corpus"] == corpus).sum()),
            "with landmarks": len(lms), "frames": frames, "frames with face": ok,
            "face %": round(100 * ok / frames, 2) if frames else float("nan"),
            "median confidence (face frames)": round(float(np.median(conf)), 3) if conf.size else float("nan"),
            "gaps": len(gaps), FILLED: sum(f for _, f in gaps), LEFT: sum(not f for _, f in gaps),
            "longest gap (frames)": max((g for g, _ in gaps), default=0),
            "frame rate (Hz)": _corpus_rate(manifest, corpus, lms),
        })
    return pd.DataFrame(rows).set_index("corpus")


def example_utterances(manifest, landmarks, per_corpus=1):
    """The first ``per_corpus`` utterances of each corpus (sorted) that have a face in some frame.

    Examples
    --------
    >>> from agser.landmarks.types import Landmarks
    >>> lm = Landmarks(np.zeros((2, 68, 2)), np.ones(2), np.ones(2, bool), np.arange(2) / 25)
    >>> m = pd.DataFrame({"utterance_id": ["a", "b", "c"], "corpus": ["X", "X", "Y"]})
    >>> example_utterances(m, {"b": lm, "c": lm})
    ['b', 'c']
    """
    out = []
    for _, g in manifest.groupby("corpus", sort=True):
        ids = [u for u in g["utterance_id"] if u in landmarks and landmarks[u].success.any()]
        out += ids[:per_corpus]
    return out


def reason_kinds(reasons):
    """Reasons with their numbers replaced by ``n``, so that one kind of failure is one row.

    Examples
    --------
    >>> reason_kinds(pd.Series(["3 of 5 frames missing", "2 of 9 frames missing"])).tolist()
    ['n of n frames missing', 'n of n frames missing']
    """
    return pd.Series(reasons, dtype=str).str.replace(r"\d+(\.\d+)?", "n", regex=True)


def failure_summary(failures, examples=3):
    """Failures grouped by stage and kind of reason: how many, and a few of the utterances.

    Parameters
    ----------
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` (the extraction's ``failures.csv``).
    examples : int
        Utterance ids listed per row.

    Returns
    -------
    pandas.DataFrame
        ``stage, reason (n: a number), count, utterances``, most frequent first.

    Examples
    --------
    >>> f = pd.DataFrame({"utterance_id": ["a", "b"], "stage": "audio", "reason": ["1 s", "2 s"]})
    >>> failure_summary(f).values.tolist()
    [['audio', 'n s', 2, 'a, b']]
    """
    cols = ["stage", "reason (n: a number)", "count", "utterances"]
    if failures is None or len(failures) == 0:
        return pd.DataFrame(columns=cols)
    f = failures.assign(**{"reason (n: a number)": reason_kinds(failures["reason"]).to_numpy()})
    out = f.groupby(["stage", "reason (n: a number)"])["utterance_id"].agg(
        count="size", utterances=lambda s: ", ".join(sorted(s)[:examples]) + (" ..." if len(s) > examples else ""))
    return out.reset_index().sort_values("count", ascending=False, kind="stable").reset_index(drop=True)[cols]


def source_statement(run, manifest, has_video):
    """One line: the run, its utterances and corpora, and where the landmarks come from (Markdown).

    Examples
    --------
    >>> m = pd.DataFrame({"utterance_id": ["a", "b"], "corpus": ["X", "Y"]})
    >>> source_statement("default", m, False)
    'Run **default**: 2 utterances in corpora X, Y; landmarks from **OpenFace-format CSVs** (no video).'
    """
    source = "**videos** (dlib detector and tracker)" if has_video else "**OpenFace-format CSVs** (no video)"
    return (f"Run **{run}**: {len(manifest)} utterances in corpora "
            f"{', '.join(sorted(manifest['corpus'].unique()))}; landmarks from {source}.")


def coverage_statement(quality, has_video, target=95.0):
    """Whether the frames with a face reach ``target`` %, with what it means (Markdown).

    Examples
    --------
    >>> q = pd.DataFrame({"frames": [100], "frames with face": [97]}, index=["A"])
    >>> coverage_statement(q, True)[:73]
    'The target of landmarks in at least 95 % of the frames of real clips is *'
    """
    frames, faces = int(quality["frames"].sum()), int(quality["frames with face"].sum())
    share = 100 * faces / frames if frames else float("nan")
    if has_video:
        return (f"The target of landmarks in at least {target:g} % of the frames of real clips is "
                + ("**met**" if share >= target else "**not met**")
                + f" on this run ({share:.1f} %). The paper used OpenFace and reports no per-frame success rate; "
                "the landmarker here is dlib's regression-tree shape predictor, not OpenFace's CLNF, so the "
                "points themselves differ in detail.")
    return ("These landmarks are the simulator's, written in OpenFace's CSV format with its nuisances (head roll "
            "and drift, jitter, runs of dropped frames with confidence 0); the paper reports no per-frame "
            "success rate to compare with.")
