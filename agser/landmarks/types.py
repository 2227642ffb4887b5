"""The :class:`Landmarks` container: 68 facial points per video frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agser.errors import ParameterError

__all__ = ["Landmarks", "N_POINTS"]

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
        """Frames per second, from the median timestamp step (NaN if < 2 frames)."""
        if self.n_frames < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.timestamps)))
