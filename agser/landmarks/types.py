"""The :class:`Landmarks` container: 68 facial points per video frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agser.errors import InputError, ParameterError

__all__ = ["Landmarks", "N_POINTS", "frame_rate_from_timestamps", "require_face"]

#: Points per frame in the iBUG 68-point layout (0-16 jaw, 17-26 brows,
#: 27-35 nose, 36-47 eyes, 48-59 outer lips, 60-67 inner lips).
N_POINTS = 68


@dataclass
class Landmarks:
    """68 facial landmarks over the frames of one video.

    Parameters
    ----------
    points : numpy.ndarray, shape (T, 68, 2), float, pixels
        ``x`` (to the right) and ``y`` (downwards) image coordinates; NaN in
        frames without a face.
    confidence : numpy.ndarray, shape (T,), float in [0, 1]
        Detector confidence per frame; 0 where no face was found.
    success : numpy.ndarray, shape (T,), bool
        Whether the frame has a usable face.
    timestamps : numpy.ndarray, shape (T,), float, seconds
        Time of each frame from the start of the video.

    Examples
    --------
    >>> import numpy as np
    >>> lm = Landmarks(np.zeros((3, 68, 2)), np.ones(3), np.ones(3, bool),
    ...                np.arange(3) / 25)
    >>> lm.n_frames, round(lm.frame_rate, 1)
    (3, 25.0)
    """

    points: np.ndarray
    confidence: np.ndarray
    success: np.ndarray
    timestamps: np.ndarray

    def __post_init__(self):
        self.points = np.asarray(self.points, dtype=float)
        if self.points.ndim != 3 or self.points.shape[1:] != (N_POINTS, 2):
            raise ParameterError(
                f"points must have shape (T, {N_POINTS}, 2), got {self.points.shape}"
            )
        t = self.points.shape[0]
        self.confidence = np.asarray(self.confidence, dtype=float).reshape(-1)
        self.success = np.asarray(self.success, dtype=bool).reshape(-1)
        self.timestamps = np.asarray(self.timestamps, dtype=float).reshape(-1)
        for name in ("confidence", "success", "timestamps"):
            n = getattr(self, name).shape[0]
            if n != t:
                raise ParameterError(f"{name} has {n} entries but points has {t} frames")

    @property
    def n_frames(self):
        """Number of frames ``T``."""
        return int(self.points.shape[0])

    @property
    def frame_rate(self):
        """Frames per second, from :func:`frame_rate_from_timestamps` (NaN if < 2 frames)."""
        return frame_rate_from_timestamps(self.timestamps)


def frame_rate_from_timestamps(timestamps):
    """Frames per second of consecutive frames from their timestamps.

    The rate is ``(j - i) / (t[j] - t[i])`` between the first and the last
    frame ``i, j`` with a finite timestamp. Not the median step: OpenFace CSVs
    hold timestamps with 3 decimals, so at 30 fps the steps are 0.033 or 0.034
    s and their median reads 30.3 fps; over the whole span the rounding error
    is at most 1 ms.

    Parameters
    ----------
    timestamps : array, (T,), seconds
        Time of each frame; NaN where unknown.

    Returns
    -------
    float, Hz
        NaN when fewer than two timestamps are finite or they do not increase.

    Examples
    --------
    >>> t = np.round(np.arange(90) / 30, 3)  # 30 fps written with 3 decimals
    >>> round(float(1 / np.median(np.diff(t))), 2), round(frame_rate_from_timestamps(t), 2)
    (30.3, 30.0)
    >>> frame_rate_from_timestamps([0.0])
    nan
    """
    t = np.asarray(timestamps, dtype=float).reshape(-1)
    valid = np.flatnonzero(np.isfinite(t))
    if len(valid) < 2:
        return float("nan")
    span = t[valid[-1]] - t[valid[0]]
    if not span > 0:
        return float("nan")
    return float((valid[-1] - valid[0]) / span)


def require_face(landmarks, source):
    """Return ``landmarks``, or raise :class:`InputError` if no frame has a face.

    Parameters
    ----------
    landmarks : Landmarks
        ``T`` frames; a frame has a face where ``success`` is True.
    source : str
        The file the landmarks come from, named in the reason.

    Raises
    ------
    InputError
        (stage ``"landmarks"``) no frame with ``success``.

    Examples
    --------
    >>> lm = Landmarks(np.full((2, 68, 2), np.nan), [0, 0], [False, False], [0, 0.04])
    >>> require_face(lm, "a.csv")
    Traceback (most recent call last):
    ...
    agser.errors.InputError: a.csv: no face found in any of its 2 frames
    """
    if not np.asarray(landmarks.success, bool).any():
        raise InputError(
            f"{source}: no face found in any of its {landmarks.n_frames} frames", stage="landmarks"
        )
    return landmarks
