"""Facial landmarks: video decoding, the built-in dlib 68-point landmarker
with tracking, and OpenFace 2 CSV input/output, all giving :class:`Landmarks`."""

from agser.landmarks.dlib_detector import (
    DEFAULT_DETECT_EVERY,
    FaceLandmarker,
    extract,
    predictor_path,
    score_to_confidence,
)
from agser.landmarks.openface import read_openface_csv, write_openface_csv
from agser.landmarks.types import N_POINTS, Landmarks
from agser.landmarks.video import VideoInfo, decode_video, video_info

__all__ = [
    "Landmarks",
    "N_POINTS",
    "read_openface_csv",
    "write_openface_csv",
    "extract",
    "FaceLandmarker",
    "DEFAULT_DETECT_EVERY",
    "predictor_path",
    "score_to_confidence",
    "decode_video",
    "video_info",
    "VideoInfo",
]
