"""The 12 outer-lip points (iBUG 48-59) that make up a mouth gesture.

Named points (``left``/``right`` are the viewer's, i.e. image, sides):
48 ``left_corner``, 51 ``upper_mid`` (upper lip, middle), 54 ``right_corner``,
57 ``lower_mid`` (lower lip, middle). The outer contour runs 48 -> 54 along
the upper lip and 54 -> 59 -> 48 along the lower lip.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["MOUTH_POINTS", "MOUTH_NAMES", "mouth_points", "mouth_index", "as_series"]

#: iBUG indices of the outer-lip contour.
MOUTH_POINTS = range(48, 60)
#: iBUG index of the named mouth points.
MOUTH_NAMES = {"left_corner": 48, "upper_mid": 51, "right_corner": 54, "lower_mid": 57}


def mouth_points(points):
    """Keep the 12 outer-mouth points 48-59.

    Parameters
    ----------
    points : array, (T, 68, 2) or (68, 2)
        Landmarks (any units).

    Returns
    -------
    numpy.ndarray, (T, 12, 2) or (12, 2)

    Examples
    --------
    >>> p = np.arange(68 * 2, dtype=float).reshape(68, 2)
    >>> m = mouth_points(p)
    >>> m.shape, m[0].tolist() == p[48].tolist()
    ((12, 2), True)
    """
    points = np.asarray(points, dtype=float)
    if points.ndim < 2 or points.shape[-2:] != (68, 2):
        raise ParameterError(f"points must have shape (..., 68, 2), got {points.shape}")
    return points[..., MOUTH_POINTS.start : MOUTH_POINTS.stop, :]


def mouth_index(name_or_point):
    """Position of a mouth point among the 12 (0-11).

    Parameters
    ----------
    name_or_point : str or int
        A name of :data:`MOUTH_NAMES` or an iBUG index 48-59.

    Returns
    -------
    int

    Examples
    --------
    >>> mouth_index("lower_mid"), mouth_index(48)
    (9, 0)
    """
    point = MOUTH_NAMES.get(name_or_point, name_or_point)
    if isinstance(point, str) or point not in MOUTH_POINTS:
        raise ParameterError(
            f"mouth point {name_or_point!r} must be one of {sorted(MOUTH_NAMES)} or 48-59"
        )
    return int(point) - MOUTH_POINTS.start


def as_series(frames):
    """Mouth frames ``(n_frames, 12, 2)`` -> the clustering layout ``(n_frames, 24)``.

    Point-major: ``x48, y48, x49, y49, ...``.

    Parameters
    ----------
    frames : sequence of array, each (n_frames_i, 12, 2)

    Returns
    -------
    list of numpy.ndarray, each float64 (n_frames_i, 24)

    Examples
    --------
    >>> as_series([np.zeros((3, 12, 2))])[0].shape
    (3, 24)
    """
    return [np.asarray(f, dtype=np.float64).reshape(len(f), -1) for f in frames]
