"""Mouth gestures from landmarks: eye alignment, the 12 outer-lip points, missing frames.

Segmentation at phone boundaries lives in :mod:`agser.gestures.segment`.
"""

from agser.gestures.align import LEFT_EYE, RIGHT_EYE, align_to_eyes, eye_angle, eye_centres
from agser.gestures.missing import (
    DEFAULT_MAX_GAP,
    find_gaps,
    interpolate_gaps,
    missing_frames,
    span_usable,
)
from agser.gestures.mouth import MOUTH_NAMES, MOUTH_POINTS, mouth_index, mouth_points

__all__ = [
    "LEFT_EYE",
    "RIGHT_EYE",
    "eye_centres",
    "eye_angle",
    "align_to_eyes",
    "MOUTH_POINTS",
    "MOUTH_NAMES",
    "mouth_points",
    "mouth_index",
    "DEFAULT_MAX_GAP",
    "missing_frames",
    "find_gaps",
    "interpolate_gaps",
    "span_usable",
]
