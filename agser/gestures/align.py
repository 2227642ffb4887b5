"""Eye alignment: put every frame's face in a common, eye-based frame.

After :func:`align_to_eyes` the midpoint between the eye centres is the
origin, the line from the eye centre of points 36-41 to that of points 42-47
points along +x (image ``y`` still points down, so the face is upright), and
the inter-pupil distance (IPD, the distance between the eye centres) is 1.
Head roll, position and size (camera distance, face size) are removed, which
is what makes mouth gestures comparable across frames, speakers and corpora.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = ["LEFT_EYE", "RIGHT_EYE", "eye_centres", "eye_angle", "align_to_eyes"]

#: Points of the eye on the image's left (the subject's right eye).
LEFT_EYE = np.arange(36, 42)
#: Points of the eye on the image's right (the subject's left eye).
RIGHT_EYE = np.arange(42, 48)


def _check(points):
    points = np.asarray(points, dtype=float)
    if points.ndim < 2 or points.shape[-2:] != (68, 2):
        raise ParameterError(f"points must have shape (..., 68, 2), got {points.shape}")
    return points


def eye_centres(points):
    """Centres of the two eyes: the means of points 36-41 and 42-47.

    Parameters
    ----------
    points : array, (..., 68, 2), pixels
        Landmarks of one frame (68, 2) or of T frames (T, 68, 2).

    Returns
    -------
    left, right : numpy.ndarray, (..., 2), same units
        Centre of points 36-41 and of points 42-47 (NaN where any of an
        eye's points is NaN).

    Examples
    --------
    >>> p = np.zeros((68, 2)); p[36:42] = [10, 5]; p[42:48] = [30, 5]
    >>> [c.tolist() for c in eye_centres(p)]
    [[10.0, 5.0], [30.0, 5.0]]
    """
    points = _check(points)
    return points[..., LEFT_EYE, :].mean(axis=-2), points[..., RIGHT_EYE, :].mean(axis=-2)


def eye_angle(points):
    """Angle of the eye line against +x, in degrees (image axes, y down).

    Parameters
    ----------
    points : array, (..., 68, 2)

    Returns
    -------
    numpy.ndarray, (...), degrees in (-180, 180]; NaN where an eye is missing.

    Examples
    --------
    >>> p = np.zeros((68, 2)); p[36:42] = [0, 0]; p[42:48] = [10, 10]
    >>> float(eye_angle(p))
    45.0
    """
    left, right = eye_centres(points)
    d = right - left
    return np.degrees(np.arctan2(d[..., 1], d[..., 0]))


def align_to_eyes(points):
    """Translate, rotate and scale each frame so the eyes sit at (-0.5, 0) and (0.5, 0).

    Parameters
    ----------
    points : array, (T, 68, 2) (or (68, 2)), pixels
        Landmarks; frames with NaN eye points come out all NaN.

    Returns
    -------
    numpy.ndarray, same shape, IPD units
        Origin at the eye midpoint, eye line along +x, inter-pupil distance 1.

    Examples
    --------
    >>> p = np.random.default_rng(0).normal(size=(68, 2))
    >>> p[36:42] = [2, 2]; p[42:48] = [2, 6]          # eye line along +y, IPD 4
    >>> a = align_to_eyes(p)
    >>> np.round(eye_centres(a)[0], 6).tolist(), np.round(eye_centres(a)[1], 6).tolist()
    ([-0.5, 0.0], [0.5, 0.0])
    """
    points = _check(points)
    left, right = eye_centres(points)
    mid = (left + right) / 2
    d = right - left
    with np.errstate(invalid="ignore", divide="ignore"):
        ipd = np.hypot(d[..., 0], d[..., 1])
        # rotation by -theta, divided by the IPD, in one matrix: [[c, s], [-s, c]] / ipd
        c = d[..., 0] / ipd**2
        s = d[..., 1] / ipd**2
    ipd_ok = np.isfinite(ipd) & (ipd > 0)
    c = np.where(ipd_ok, c, np.nan)
    s = np.where(ipd_ok, s, np.nan)
    x = points[..., 0] - mid[..., None, 0]
    y = points[..., 1] - mid[..., None, 1]
    out = np.empty_like(points)
    out[..., 0] = c[..., None] * x + s[..., None] * y
    out[..., 1] = -s[..., None] * x + c[..., None] * y
    return out
