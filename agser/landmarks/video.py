"""Decode video frames with their timestamps (OpenCV).

Timestamps: frame index over the header's frame rate (as OpenFace writes
them), checked against the container's presentation time of each frame
(``CAP_PROP_POS_MSEC``, which OpenCV rounds to whole milliseconds, too coarse
to give the frame rate back from its differences). Where the two disagree by
more than half a frame (a variable frame rate, frames missing from the
stream) the presentation time is used; where the backend gives none, or none
that increases, the frame-rate time is used.

Truncated files: a container whose header announces more frames than can be
decoded (FLV, MP4 and AVI headers carry a duration or frame count) is
reported as truncated. With ``on_truncated="error"`` (the default) that is an
:class:`~agser.errors.InputError` raised after the last decodable frame, so a
per-utterance stage drops the utterance with the reason; ``"keep"`` accepts
the frames that could be decoded. Streams without a frame count in their
header (MPEG-1 program streams, whose count OpenCV estimates from the file
size) cannot be told apart from a short clip: their decodable frames are
returned as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agser.errors import InputError, ParameterError

__all__ = ["VideoInfo", "video_info", "decode_video"]

#: Frames that a header's count may exceed the decoded count by before the
#: file counts as truncated (headers round durations; decoders may drop a
#: final incomplete frame).
TRUNCATION_SLACK = 2


@dataclass(frozen=True)
class VideoInfo:
    """What a video's header says.

    Parameters
    ----------
    frame_rate : float, frames per second
    frame_count : int, frames announced by the header (0 if unknown)
    width, height : int, pixels
    """

    frame_rate: float
    frame_count: int
    width: int
    height: int


def _open(path):
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video {str(path)!r} does not exist", stage="landmarks")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: empty video file (0 bytes)", stage="landmarks")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise InputError(
            f"{path.name}: unreadable video (OpenCV cannot open it: not a video or a corrupt header)",
            stage="landmarks",
        )
    return cap


def video_info(path):
    """Frame rate, frame count and size from a video's header.

    Parameters
    ----------
    path : str or Path
        Video file.

    Returns
    -------
    VideoInfo

    Raises
    ------
    InputError
        If the file does not exist or cannot be opened (stage ``"landmarks"``).

    Examples
    --------
    >>> video_info("no/such/clip.flv")
    Traceback (most recent call last):
    ...
    agser.errors.InputError: video 'no/such/clip.flv' does not exist
    """
    import cv2

    cap = _open(path)
    try:
        return VideoInfo(
            frame_rate=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
            frame_count=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0),
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        cap.release()


def decode_video(path, *, max_frames=None, on_truncated="error", gray=False):
    """Yield the frames of a video with their timestamps.

    Parameters
    ----------
    path : str or Path
        Video file (anything OpenCV's FFmpeg backend reads: FLV, MPEG, MP4, AVI, ...).
    max_frames : int, optional
        Stop after this many frames (the truncation check is then skipped).
    on_truncated : {"error", "keep"}
        What to do when the header announces more frames than can be decoded
        (see the module notes): raise :class:`InputError` after the last
        decodable frame, or keep what was decoded.
    gray : bool
        Yield single-channel 8-bit frames instead of BGR.

    Yields
    ------
    index : int
        Frame number from 0.
    timestamp : float, seconds
        Presentation time of the frame.
    frame : numpy.ndarray, (H, W, 3) uint8 BGR, or (H, W) uint8 when ``gray``

    Raises
    ------
    InputError
        Missing, empty or unreadable file; no decodable frame; truncated
        file (with ``on_truncated="error"``). Stage ``"landmarks"``.
    ParameterError
        For a bad ``max_frames`` or ``on_truncated``.

    Examples
    --------
    >>> next(decode_video("missing.mp4"))
    Traceback (most recent call last):
    ...
    agser.errors.InputError: video 'missing.mp4' does not exist
    """
    import cv2

    if on_truncated not in ("error", "keep"):
        raise ParameterError(f"on_truncated={on_truncated!r} must be 'error' or 'keep'")
    if max_frames is not None and (int(max_frames) != max_frames or max_frames < 1):
        raise ParameterError(f"max_frames={max_frames!r} must be a positive integer or None")
    name = Path(path).name
    cap = _open(path)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        announced = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
        index = 0
        last_t = -np.inf
        while max_frames is None or index < max_frames:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            pts = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            t = index / fps if fps > 0 else pts
            if np.isfinite(pts) and pts > last_t and (fps <= 0 or abs(pts - t) > 0.5 / fps):
                t = pts
            if not np.isfinite(t) or t <= last_t:
                t = last_t + (1.0 / fps if fps > 0 else 1.0) if np.isfinite(last_t) else 0.0
            last_t = t
            if gray and frame.ndim == 3:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            yield index, t, frame
            index += 1
    finally:
        cap.release()
    if index == 0:
        raise InputError(
            f"{name}: no decodable video frame"
            + (f" (header announces {announced})" if announced else ""),
            stage="landmarks",
        )
    if max_frames is None and on_truncated == "error" and announced - index > TRUNCATION_SLACK:
        raise InputError(
            f"{name}: truncated video: decoded {index} of the {announced} frames its header announces",
            stage="landmarks",
        )
