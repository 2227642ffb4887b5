"""From one manifest row to phone-bounded mouth-gesture segments, and the extraction folder.

Per utterance (pure functions): phones (a TextGrid, or pocketsphinx on the
audio file, or on the video's own audio track) -> landmarks (an OpenFace CSV,
or dlib on the video) -> eye alignment -> the 12 outer-mouth points ->
interpolation of short face gaps -> :func:`agser.gestures.segment.cut_segments`.
The run layer (:func:`agser.run.extraction.extract_manifest`, ``agser
extract``) runs them over a manifest through the per-utterance runner (the
store, local processes or dask, failure rows) and writes the folder with
:func:`write_extraction`.

Output folder:

- ``segments.parquet``: one row per segment (``utterance_id, corpus,
  speaker, emotion, phone, ipa, start, end, n_frames, frame_offset``, plus
  ``frame_start``, the segment's first video frame in its utterance);
- ``segment_frames.npy``: float32, (total_frames, 12, 2); segment ``i`` is
  rows ``frame_offset[i] : frame_offset[i] + n_frames[i]``;
- ``failures.csv``: ``utterance_id, stage, reason``, one row per utterance
  that gave no segment;
- ``dropped_segments.csv``: phones of otherwise good utterances that gave no
  segment (face gap too long, outside the video), with the reason;
- ``summary.json``: per corpus ``utterances, frames, frames_with_face,
  segments, failures, segments_dropped``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError

__all__ = [
    "check_extract_params",
    "extraction_inputs",
    "landmark_source",
    "load_segments",
    "write_extraction",
    "extract_utterance",
    "utterance_gesture",
    "utterance_phones",
    "SEGMENT_COLUMNS",
]

SEGMENT_COLUMNS = (
    "utterance_id", "corpus", "speaker", "emotion", "phone", "ipa",
    "start", "end", "n_frames", "frame_offset",
)
LANDMARK_SOURCES = ("auto", "openface", "dlib")
ALIGNER_SOURCES = ("auto", "textgrid", "pocketsphinx")
#: Bump when the per-utterance computation changes, so cached results are redone (the cache is
#: keyed by file content and this number, not by the code: editing code must not redo hours of dlib).
EXTRACTION_VERSION = 3


def _path(row, col):
    value = str(row.get(col, "") or "").strip()
    return Path(value) if value else None


def _existing(row, col, stage):
    p = _path(row, col)
    if p is not None and not p.is_file():
        raise InputError(f"{col} {str(p)!r} does not exist", stage=stage)
    return p


def _frame_rate(row):
    value = str(row.get("frame_rate", "") or "").strip()
    try:
        rate = float(value) if value else None
    except ValueError:
        raise InputError(f"frame_rate {value!r} is not a number", stage="landmarks") from None
    return rate if rate and rate > 0 else None


def utterance_gesture(row, landmarks="auto", max_gap=None, lm=None):
    """Landmarks and eye-aligned mouth trajectory of one manifest row.

    Parameters
    ----------
    row : dict or pandas.Series
        A manifest row.
    landmarks : {"auto", "openface", "dlib"}
        ``auto``: the OpenFace CSV of ``landmarks_path`` when set, else dlib
        on ``video_path``.
    max_gap : int, optional
        Longest face gap (frames) to interpolate; ``None`` uses
        :data:`agser.gestures.missing.DEFAULT_MAX_GAP`.
    lm : agser.landmarks.types.Landmarks, optional
        The row's landmarks when already computed (the run layer's
        ``landmarks`` stage); otherwise :func:`utterance_landmarks` is called.

    Returns
    -------
    lm : agser.landmarks.types.Landmarks
        Raw landmarks (T frames, pixels).
    mouth : ndarray, shape (T, 12, 2)
        Eye-aligned, IPD-normalised points 48-59, short gaps interpolated
        (NaN where a gap was too long).

    Raises
    ------
    InputError
        (stage ``"landmarks"``) no landmark source, unreadable or truncated
        video, or no face in any frame.
    """
    from agser.gestures import align_to_eyes, interpolate_gaps, mouth_points

    if lm is None:
        lm = utterance_landmarks(row, landmarks=landmarks)
    mouth = mouth_points(align_to_eyes(lm.points))
    kwargs = {} if max_gap is None else {"max_gap": max_gap}
    mouth, _ = interpolate_gaps(mouth, success=lm.success, **kwargs)
    return lm, mouth


def utterance_landmarks(row, landmarks="auto"):
    """The raw 68-point landmarks of one manifest row.

    Pure: the run layer's ``landmarks`` stage (:func:`agser.run.extraction.cached_landmarks`)
    stores dlib's result, keyed by the video's content, so that the
    extraction and the chapters that draw landmarks run the detector once per
    video.

    Parameters
    ----------
    row : dict or pandas.Series
        A manifest row.
    landmarks : {"auto", "openface", "dlib"}
        ``auto``: the OpenFace CSV of ``landmarks_path`` when set, else dlib
        on ``video_path``.

    Returns
    -------
    agser.landmarks.types.Landmarks
        T frames, pixels.

    Raises
    ------
    InputError
        (stage ``"landmarks"``) no landmark source, unreadable or truncated
        video, or no face in any frame.
    """
    lm_path = _existing(row, "landmarks_path", "landmarks")
    video = _existing(row, "video_path", "landmarks")
    if landmarks == "openface" or (landmarks == "auto" and lm_path is not None):
        if lm_path is None:
            raise InputError("landmarks='openface' but the row has no landmarks_path", stage="landmarks")
        from agser.landmarks.openface import read_openface_csv
        from agser.landmarks.types import require_face

        # read_openface_csv keeps face-less files (a CSV is data, not a failure);
        # dlib's extract below raises the same error itself.
        return require_face(read_openface_csv(lm_path, frame_rate=_frame_rate(row)), lm_path.name)
    if video is None:
        raise InputError("no video_path to detect landmarks on", stage="landmarks")
    from agser.landmarks import extract as extract_landmarks

    return extract_landmarks(video)


def landmark_source(row, landmarks="auto"):
    """The file :func:`utterance_landmarks` reads for a row (its cache key), and its kind.

    Returns
    -------
    (pathlib.Path, str)
        The OpenFace CSV and ``"openface"``, or the video and ``"dlib"``.

    Raises
    ------
    InputError
        (stage ``"landmarks"``) the file is named but missing, or there is none.
    """
    lm_path = _existing(row, "landmarks_path", "landmarks")
    video = _existing(row, "video_path", "landmarks")
    if landmarks == "openface" or (landmarks == "auto" and lm_path is not None):
        if lm_path is None:
            raise InputError("landmarks='openface' but the row has no landmarks_path", stage="landmarks")
        return lm_path, "openface"
    if video is None:
        raise InputError("no video_path to detect landmarks on", stage="landmarks")
    return video, "dlib"


_ALIGNERS = {}


def _aligner(extra_pronunciations, min_speech_score):
    """One pocketsphinx aligner per process and settings (a decoder costs 0.6 s)."""
    from agser.phones.aligner import PocketsphinxAligner

    key = (tuple(sorted((extra_pronunciations or {}).items())), min_speech_score)
    if key not in _ALIGNERS:
        _ALIGNERS[key] = PocketsphinxAligner(
            extra_pronunciations=extra_pronunciations, min_speech_score=min_speech_score
        )
    return _ALIGNERS[key]


def utterance_phones(row, aligner="auto", extra_pronunciations=None, min_speech_score=-30.0,
                     phone_set="auto"):
    """Phone alignment of one manifest row.

    Parameters
    ----------
    row : dict or pandas.Series
    aligner : {"auto", "textgrid", "pocketsphinx"}
        ``auto``: the TextGrid of ``alignment_path`` when set, else
        pocketsphinx on ``audio_path``, or on the audio track of
        ``video_path`` when there is no audio file.
    extra_pronunciations, min_speech_score
        See :class:`agser.phones.aligner.PocketsphinxAligner`.
    phone_set : {"auto", "arpabet", "ipa"}
        Phone set of the TextGrid (see :func:`agser.phones.textgrid.read_textgrid`;
        ``auto`` also reads MFA's IPA TextGrids, mapped to ARPAbet).

    Returns
    -------
    agser.phones.textgrid.Alignment

    Raises
    ------
    InputError
        (stage ``"audio"`` or ``"phones"``) see :func:`agser.phones.audio.load_audio`
        and :meth:`PocketsphinxAligner.align`.
    """
    tg = _existing(row, "alignment_path", "phones")
    if aligner == "textgrid" or (aligner == "auto" and tg is not None):
        if tg is None:
            raise InputError("aligner='textgrid' but the row has no alignment_path", stage="phones")
        from agser.phones.textgrid import read_textgrid

        return read_textgrid(tg, phone_set=phone_set)
    transcript = str(row.get("transcript", "") or "").strip()
    if not transcript:
        raise InputError("empty transcript: pocketsphinx needs the words spoken", stage="phones")
    audio = utterance_audio(row)
    return _aligner(extra_pronunciations, min_speech_score).align(audio, transcript)


def utterance_audio(row, sr=16000):
    """The audio of one manifest row: ``audio_path``, else the track of ``video_path``.

    Parameters
    ----------
    row : dict or pandas.Series
        A manifest row.
    sr : int
        Sample rate of the result, Hz.

    Returns
    -------
    ndarray, shape (n_samples,)
        float32 mono.

    Raises
    ------
    InputError
        (stage ``"audio"``) no audio source, or see :func:`agser.phones.audio.load_audio`.
    """
    from agser.phones.audio import load_audio

    source = _existing(row, "audio_path", "audio") or _existing(row, "video_path", "audio")
    if source is None:
        raise InputError("no audio_path or video_path to align", stage="audio")
    return load_audio(source, sr=sr)


def extract_utterance(row, landmarks="auto", aligner="auto", max_gap=None,
                      extra_pronunciations=None, min_speech_score=-30.0, lm=None, alignment=None,
                      phone_set="auto"):
    """Segments of one manifest row (no failure capture).

    ``lm`` and ``alignment``: the row's landmarks and phone alignment when
    already computed (see :func:`utterance_gesture`, :func:`utterance_phones`).

    Returns
    -------
    dict
        ``segments`` (list of dicts from :func:`cut_segments`), ``dropped``
        (list of dicts with ``reason``), ``frames`` (T), ``frames_with_face``.

    Raises
    ------
    InputError
        With the failing stage (``landmarks``, ``audio``, ``phones``, ``segment``).
    """
    from agser.gestures.missing import DEFAULT_MAX_GAP
    from agser.gestures.segment import cut_segments

    # Phones first: a bad audio file or transcript fails in a fraction of a
    # second, before the far slower landmark detection.
    if alignment is None:
        alignment = utterance_phones(
            row, aligner=aligner, extra_pronunciations=extra_pronunciations,
            min_speech_score=min_speech_score, phone_set=phone_set,
        )
    if max_gap is None:
        max_gap = DEFAULT_MAX_GAP
    lm, mouth = utterance_gesture(row, landmarks=landmarks, max_gap=max_gap, lm=lm)
    segments, dropped = cut_segments(
        mouth, lm.timestamps, alignment.phones, frame_rate=lm.frame_rate, return_dropped=True,
        max_gap=max_gap,
    )
    if not segments:
        reasons = sorted({d["reason"] for d in dropped}) or ["no speech phone in the alignment"]
        raise InputError("no segment: " + "; ".join(reasons), stage="segment")
    return {
        "segments": segments,
        "dropped": dropped,
        "frames": int(lm.n_frames),
        "frames_with_face": int(np.asarray(lm.success, bool).sum()),
    }


def check_extract_params(landmarks, aligner, workers):
    """Raise ParameterError unless the extraction's choices are known."""
    if landmarks not in LANDMARK_SOURCES:
        raise ParameterError(f"landmarks={landmarks!r} must be one of {', '.join(LANDMARK_SOURCES)}")
    if aligner not in ALIGNER_SOURCES:
        raise ParameterError(f"aligner={aligner!r} must be one of {', '.join(ALIGNER_SOURCES)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers={workers!r} must be a positive integer or None")


def extraction_inputs(row):
    """What one row's extraction depends on: its files (by content), transcript and frame rate."""
    inputs = []
    for col in ("audio_path", "video_path", "landmarks_path", "alignment_path"):
        p = _existing(row, col, "input")
        if p is not None:
            inputs.append((col, p))
    inputs.append(("transcript", str(row.get("transcript", "") or "")))
    inputs.append(("frame_rate", str(row.get("frame_rate", "") or "")))
    return tuple(inputs)


def _save_npy(path, array):
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to the temp name
        np.save(f, array)


def _atomic(path, write):
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def write_extraction(out_dir, rows, values, failures):
    """Write an extraction folder from per-utterance results (see the module notes).

    Parameters
    ----------
    out_dir : str or Path
    rows : list of dict
        The manifest rows, in order.
    values : dict
        ``utterance_id -> extract_utterance(...)`` of the rows that succeeded.
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` of the others.

    Returns
    -------
    dict
        The summary written to ``summary.json`` (per corpus counts).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seg_rows, frames, dropped_rows = [], [], []
    offset = 0
    summary = {}
    for row in rows:
        corpus = row["corpus"]
        s = summary.setdefault(corpus, {"utterances": 0, "frames": 0, "frames_with_face": 0,
                                        "segments": 0, "failures": 0, "segments_dropped": 0})
        s["utterances"] += 1
        v = values.get(str(row["utterance_id"]))
        if v is None:
            s["failures"] += 1
            continue
        s["frames"] += v["frames"]
        s["frames_with_face"] += v["frames_with_face"]
        s["segments"] += len(v["segments"])
        s["segments_dropped"] += len(v["dropped"])
        for seg in v["segments"]:
            seg_rows.append({
                "utterance_id": row["utterance_id"], "corpus": corpus, "speaker": row["speaker"],
                "emotion": row["emotion"], "phone": seg["phone"], "ipa": seg["ipa"],
                "start": seg["start"], "end": seg["end"], "n_frames": seg["n_frames"],
                "frame_offset": offset, "frame_start": seg["frame_start"],
            })
            frames.append(seg["frames"])
            offset += seg["n_frames"]
        for d in v["dropped"]:
            dropped_rows.append({"utterance_id": row["utterance_id"], **d})

    segs = pd.DataFrame(seg_rows, columns=list(SEGMENT_COLUMNS) + ["frame_start"])
    segs = segs.astype({"start": float, "end": float, "n_frames": "int64",
                        "frame_offset": "int64", "frame_start": "int64"})
    stack = np.concatenate(frames).astype(np.float32) if frames else np.zeros((0, 12, 2), np.float32)
    _atomic(out / "segment_frames.npy", lambda p: _save_npy(p, stack))
    _atomic(out / "segments.parquet", lambda p: segs.to_parquet(p, index=False))
    _atomic(out / "failures.csv", lambda p: failures.to_csv(p, index=False))
    dropped = pd.DataFrame(dropped_rows, columns=["utterance_id", "phone", "start", "end", "reason"])
    _atomic(out / "dropped_segments.csv", lambda p: dropped.to_csv(p, index=False))
    _atomic(out / "summary.json", lambda p: Path(p).write_text(json.dumps(summary, indent=2)))
    return summary


def load_segments(out_dir):
    """Read the segments an :func:`extract_manifest` run wrote.

    Parameters
    ----------
    out_dir : str or Path
        The extraction output folder.

    Returns
    -------
    segments : pandas.DataFrame
        ``segments.parquet``.
    frames : list of ndarray, each (n_frames_i, 12, 2) float32
        The mouth points of segment ``i`` (row ``i`` of ``segments``).

    Raises
    ------
    ParameterError
        When the folder lacks the files.
    """
    out = Path(out_dir)
    seg_path, arr_path = out / "segments.parquet", out / "segment_frames.npy"
    for p in (seg_path, arr_path):
        if not p.is_file():
            raise ParameterError(f"{str(p)!r} does not exist: run agser extract first")
    segs = pd.read_parquet(seg_path)
    stack = np.load(arr_path)
    frames = [
        stack[o:o + n] for o, n in zip(segs["frame_offset"].to_numpy(), segs["n_frames"].to_numpy())
    ]
    return segs, frames
