"""Missing frames: fill short gaps, and say which frame spans stay unusable.

A frame is missing when the landmarker found no face (NaN points) or did not
trust it (``success`` False). Gaps of at most ``max_gap`` consecutive frames
with a valid frame on each side are filled by linear interpolation; longer
gaps, and gaps at the start or end of the video (no frame on one side, so
filling them would be extrapolation), stay missing. A segment that overlaps
a frame that is still missing is dropped, with the reason from
:func:`span_usable`.

Why ``DEFAULT_MAX_GAP = 3`` frames: 3 frames are 100 ms at 30 fps and 120 ms
at 25 fps. Lip movements are slow next to that at these frame rates (the
syllable rate is 4-5 Hz, so one opening-closing cycle takes 200-250 ms), so
a straight line over 3 frames stays close to the true trajectory; over a
longer gap it could skip a whole opening or closing gesture, and the
interpolated segment would show a gesture that was never seen.
"""

from __future__ import annotations

import numpy as np

from agser.errors import ParameterError

__all__ = [
    "DEFAULT_MAX_GAP",
    "missing_frames",
    "find_gaps",
    "interpolate_gaps",
    "span_usable",
]

#: Longest run of missing frames that is filled by interpolation (see module notes).
DEFAULT_MAX_GAP = 3


def missing_frames(points, success=None):
    """Which frames have no usable landmarks.

    Parameters
    ----------
    points : array, (T, K, 2)
        Landmarks (any number K of points, any units).
    success : array of bool, (T,), optional
        Per-frame success flag; frames with ``False`` count as missing.

    Returns
    -------
    numpy.ndarray of bool, (T,)
        True where any coordinate is NaN or ``success`` is False.

    Examples
    --------
    >>> p = np.zeros((4, 2, 2)); p[1, 0, 0] = np.nan
    >>> missing_frames(p, success=[True, True, True, False]).tolist()
    [False, True, False, True]
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 3 or points.shape[-1] != 2:
        raise ParameterError(f"points must have shape (T, K, 2), got {points.shape}")
    missing = np.isnan(points).any(axis=(1, 2))
    if success is not None:
        success = np.asarray(success, dtype=bool).reshape(-1)
        if success.shape[0] != points.shape[0]:
            raise ParameterError(
                f"success has {success.shape[0]} entries but points has {points.shape[0]} frames"
            )
        missing |= ~success
    return missing


def find_gaps(mask):
    """Runs of True in a boolean mask, as half-open ``(start, stop)`` frame spans.

    Parameters
    ----------
    mask : array of bool, (T,)

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> find_gaps([False, True, True, False, True])
    [(1, 3), (4, 5)]
    """
    mask = np.asarray(mask, dtype=bool).reshape(-1)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def interpolate_gaps(points, max_gap=DEFAULT_MAX_GAP, *, success=None):
    """Fill gaps of at most ``max_gap`` missing frames by linear interpolation.

    Parameters
    ----------
    points : array, (T, K, 2)
        Landmarks, NaN where missing.
    max_gap : int, frames
        Longest gap filled; 0 fills nothing.
    success : array of bool, (T,), optional
        Frames with ``False`` are treated as missing (their points are replaced).

    Returns
    -------
    filled : numpy.ndarray, (T, K, 2)
        A copy with the short inner gaps filled; still-missing frames are NaN.
    still_missing : numpy.ndarray of bool, (T,)
        Frames left without landmarks (long gaps, gaps at either end).

    Examples
    --------
    >>> p = np.arange(8, dtype=float).reshape(8, 1, 1).repeat(2, axis=2)
    >>> p[[2, 3]] = np.nan; p[7] = np.nan
    >>> filled, still = interpolate_gaps(p, max_gap=3)
    >>> filled[:, 0, 0].tolist()[:7], still.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [False, False, False, False, False, False, False, True])
    """
    if int(max_gap) != max_gap or max_gap < 0:
        raise ParameterError(f"max_gap={max_gap!r} must be a non-negative integer")
    missing = missing_frames(points, success)
    filled = np.array(points, dtype=float, copy=True)
    filled[missing] = np.nan
    still = missing.copy()
    n = filled.shape[0]
    for start, stop in find_gaps(missing):
        if start == 0 or stop == n or stop - start > max_gap:
            continue
        before, after = filled[start - 1], filled[stop]
        w = (np.arange(start, stop) - (start - 1)) / (stop - (start - 1))
        filled[start:stop] = before + w[:, None, None] * (after - before)
        still[start:stop] = False
    return filled, still


def span_usable(still_missing, start, stop, *, max_gap=DEFAULT_MAX_GAP):
    """Whether a segment's frames are all usable, and if not, why.

    Parameters
    ----------
    still_missing : array of bool, (T,)
        Second output of :func:`interpolate_gaps`.
    start, stop : int, frames
        The segment's half-open frame span ``[start, stop)``.
    max_gap : int, frames
        The gap limit that was used (quoted in the reason).

    Returns
    -------
    usable : bool
    reason : str
        Empty when usable; otherwise one line naming the frames.

    Examples
    --------
    >>> still = np.array([False] * 10); still[4:8] = True
    >>> span_usable(still, 0, 4)
    (True, '')
    >>> span_usable(still, 2, 6)[1]
    'frames 4-5 of segment frames 2-5 have no face (gap 4-7 longer than 3 frames or at a video edge)'
    """
    still_missing = np.asarray(still_missing, dtype=bool).reshape(-1)
    n = still_missing.shape[0]
    start, stop = int(start), int(stop)
    if stop <= start:
        return False, f"segment frames {start}-{stop - 1} hold no frame"
    if start < 0 or stop > n:
        return False, f"segment frames {start}-{stop - 1} lie outside the video's {n} frames"
    inside = still_missing[start:stop]
    if not inside.any():
        return True, ""
    bad = np.flatnonzero(inside) + start
    gaps = [g for g in find_gaps(still_missing) if g[0] < stop and g[1] > start]
    gap_text = ", ".join(f"{a}-{b - 1}" for a, b in gaps)
    return False, (
        f"frames {bad[0]}-{bad[-1]} of segment frames {start}-{stop - 1} have no face "
        f"(gap {gap_text} longer than {max_gap} frames or at a video edge)"
    )
