"""Cutting an utterance's mouth trajectory at its phone boundaries.

Rule: a phone spanning ``[start, end)`` seconds takes the video frames whose
timestamps ``t`` satisfy ``start <= t < end``. A phone shorter than a frame
period can contain no frame timestamp; it then takes the one frame nearest
its midpoint, provided that frame lies within one frame period of the phone
(otherwise the phone is outside the video and is dropped). Silences (empty,
``sil``, ``sp``, ``spn``, ``SIL`` labels) are not segments. A segment whose
frames still hold NaN (a face gap longer than the interpolation limit of
:mod:`agser.gestures.missing`) is dropped, with the reason from
:func:`agser.gestures.missing.span_usable`.
"""

from __future__ import annotations

import numpy as np

from agser.errors import InputError, ParameterError
from agser.gestures.missing import DEFAULT_MAX_GAP, missing_frames, span_usable

__all__ = ["cut_segments", "SILENCE_PHONES"]

#: Phone labels that are silence or noise, never segments (compared lower-case).
SILENCE_PHONES = frozenset(["", "sil", "sp", "spn", "<eps>", "<sil>", "sil0", "noise", "+nsn+", "+spn+"])


def cut_segments(mouth_points, timestamps, phones, frame_rate=None, *, return_dropped=False,
                 max_gap=DEFAULT_MAX_GAP):
    """Split a mouth trajectory into phone-bounded segments.

    Parameters
    ----------
    mouth_points : ndarray, shape (T, 12, 2)
        Eye-aligned, inter-pupil-normalised mouth points 48-59 per video
        frame (unitless); NaN where no face.
    timestamps : ndarray, shape (T,), seconds, or None
        Time of each video frame; ``None`` means ``arange(T) / frame_rate``.
    phones : pandas.DataFrame
        Columns ``label`` (ARPAbet, stress digits allowed), ``start``,
        ``end`` (seconds), as ``Alignment.phones``.
    frame_rate : float, optional
        Video frame rate in Hz; needed when ``timestamps`` is None, else
        taken from the timestamps
        (:func:`agser.landmarks.types.frame_rate_from_timestamps`) when not given.
    return_dropped : bool
        Also return the phones that gave no segment, with the reason.
    max_gap : int, frames
        The gap limit :func:`agser.gestures.missing.interpolate_gaps` used on
        ``mouth_points``; only quoted in the reason of a dropped segment.

    Returns
    -------
    segments : list of dict
        One per phone, in time order: ``phone`` (ARPAbet, stress stripped),
        ``ipa`` (from the stressed label: ``AH0`` -> ə), ``start``, ``end``
        (s), ``frame_start``, ``frame_end`` (video frame indices,
        ``[frame_start, frame_end)``), ``n_frames`` and ``frames``
        (n_frames x 12 x 2 float32).
    dropped : list of dict
        Only with ``return_dropped``: ``phone``, ``start``, ``end``, ``reason``.

    Raises
    ------
    ParameterError
        Shapes that disagree, or neither timestamps nor frame_rate.
    InputError
        A phone label that is not ARPAbet (stage ``"segment"``).

    Examples
    --------
    >>> import pandas as pd
    >>> mouth = np.zeros((10, 12, 2))
    >>> ph = pd.DataFrame({"label": ["sil", "AH0", "T"], "start": [0.0, 0.1, 0.3],
    ...                    "end": [0.1, 0.3, 0.31]})
    >>> segs = cut_segments(mouth, None, ph, frame_rate=25.0)
    >>> [(s["phone"], s["ipa"], s["frame_start"], s["n_frames"]) for s in segs]
    [('AH', 'ə', 3, 5), ('T', 't', 8, 1)]
    """
    from agser.phones.ipa import arpabet_to_ipa, strip_stress

    mouth = np.asarray(mouth_points, dtype=np.float32)
    if mouth.ndim != 3 or mouth.shape[1:] != (12, 2):
        raise ParameterError(f"mouth_points must have shape (T, 12, 2), got {mouth.shape}")
    n = mouth.shape[0]
    if timestamps is None:
        if not frame_rate or frame_rate <= 0:
            raise ParameterError(f"frame_rate={frame_rate!r} must be positive when timestamps is None")
        timestamps = np.arange(n) / float(frame_rate)
    timestamps = np.asarray(timestamps, dtype=float).reshape(-1)
    if timestamps.shape[0] != n:
        raise ParameterError(f"timestamps has {timestamps.shape[0]} entries but mouth_points has {n} frames")
    if frame_rate is None or not frame_rate > 0:
        from agser.landmarks.types import frame_rate_from_timestamps

        frame_rate = frame_rate_from_timestamps(timestamps)
        if not frame_rate > 0:  # fewer than two frames: no step to measure
            frame_rate = 25.0
    period = 1.0 / float(frame_rate)
    still_missing = missing_frames(mouth)

    segments, dropped = [], []
    for label, start, end in phones[["label", "start", "end"]].itertuples(index=False):
        label = str(label).strip()
        start, end = float(start), float(end)
        if label.lower() in SILENCE_PHONES:
            continue
        try:
            ipa = arpabet_to_ipa(label)
        except ParameterError as exc:
            # MFA's IPA TextGrids are mapped to ARPAbet by read_textgrid, not here
            raise InputError(
                f"phone label {label!r} is not ARPAbet (IPA phones of an MFA TextGrid: read it "
                "with agser.phones.textgrid.read_textgrid, which maps them to ARPAbet)",
                stage="segment",
            ) from exc
        lo = int(np.searchsorted(timestamps, start, side="left"))
        hi = int(np.searchsorted(timestamps, end, side="left"))
        if hi <= lo:
            if n == 0:
                lo = -1
            else:
                mid = 0.5 * (start + end)
                lo = int(np.argmin(np.abs(timestamps - mid)))
                if abs(timestamps[lo] - mid) > period:
                    lo = -1
            if lo < 0:
                dropped.append({"phone": strip_stress(label), "start": start, "end": end,
                                "reason": "phone lies outside the video's frames"})
                continue
            hi = lo + 1
        usable, reason = span_usable(still_missing, lo, hi, max_gap=max_gap)
        if not usable:
            dropped.append({"phone": strip_stress(label), "start": start, "end": end, "reason": reason})
            continue
        frames = mouth[lo:hi]
        segments.append({
            "phone": strip_stress(label), "ipa": ipa, "start": start, "end": end,
            "frame_start": lo, "frame_end": hi, "n_frames": hi - lo,
            "frames": np.ascontiguousarray(frames, dtype=np.float32),
        })
    return (segments, dropped) if return_dropped else segments
