"""The built-in 68-point landmarker: dlib's HOG face detector, its iBUG
68-point shape predictor, and a face tracker between detections.

How a video is processed (:class:`FaceLandmarker`, :func:`extract`):

* **Detection** (the first frame, every ``detect_every`` frames, and whenever
  the track is lost): dlib's HOG detector on the whole frame (downscaled to at
  most ``max_detect_width`` pixels wide), ``run(img, upsample,
  adjust_threshold)``; the best-scoring face is kept and the shape predictor
  fits the 68 points in its box.
* **Tracking** (the frames in between): the predictor's box comes from the
  previous frame's landmarks, not from a detector: it is placed relative to
  the centroid and spread of the rigid points (brows, nose, eyes: 17-47,
  which do not move when the mouth opens), with the geometry that the last
  detection box had relative to them, so the predictor sees the box shape it
  was trained on. The fit is validated by running the HOG detector only in a
  search window around that box (``track_margin`` times its size, rescaled so
  the face is ``track_face_size`` pixels wide): a few times cheaper than a
  full-frame detection. If the window holds no face even at
  ``track_threshold``, or the landmarks drift out of the frame, the track is
  lost and a full detection runs on the same frame. If the window's face
  box overlaps the tracked box by less than ``REANCHOR_IOU``, the predictor
  is re-run in the detected box (the tracked box had drifted).

Confidence and success (OpenFace semantics: points are given whenever a face
is tracked; ``success`` says whether the frame is trusted):

* ``confidence = 1 / (1 + exp(-2 s))`` where ``s`` is the HOG detector's
  SVM score of the face on that frame (full-frame at detections, in the
  search window when tracking). dlib's own threshold ``s = 0`` maps to 0.5,
  ``s = 1`` to 0.88, ``s = 2`` to 0.98.
* ``success = s >= adjust_threshold`` (dlib's threshold by default). A
  tracked face that scores between ``track_threshold`` and it (motion blur,
  a head turn) keeps its points, with ``success = False``.
* Frames with no face: NaN points, confidence 0, success False.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from agser.errors import ParameterError
from agser.landmarks.types import N_POINTS, Landmarks
from agser.landmarks.types import require_face as _require_face  # name clash with the keyword
from agser.landmarks.video import decode_video

__all__ = [
    "predictor_path",
    "score_to_confidence",
    "FaceLandmarker",
    "extract",
    "DEFAULT_DETECT_EVERY",
    "RIGID_POINTS",
]

#: Full-frame re-detection period while tracking (frames); about one second
#: at 25-30 fps, so a better-scoring face that appears is picked up.
DEFAULT_DETECT_EVERY = 30
#: The points that place the tracked box: brows, nose and eyes, which stay
#: put relative to the skull while the jaw and lips move.
RIGID_POINTS = np.arange(17, 48)
#: Below this overlap between the tracked box and the search window's
#: detection, the predictor is re-run in the detected box.
REANCHOR_IOU = 0.5


def predictor_path():
    """Path of ``shape_predictor_68_face_landmarks.dat`` from ``face-recognition-models``.

    The package is located with :func:`importlib.util.find_spec` and not
    imported, because its ``__init__`` needs ``pkg_resources``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ParameterError
        If the package or the model file is not installed.

    Examples
    --------
    >>> predictor_path().name
    'shape_predictor_68_face_landmarks.dat'
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError(
            "the package 'face-recognition-models' is not installed; "
            "pip install face-recognition-models"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / "shape_predictor_68_face_landmarks.dat"
        if path.is_file():
            return path
    raise ParameterError(
        "face-recognition-models has no models/shape_predictor_68_face_landmarks.dat"
    )


def _best_box(rects, scores):
    """The highest-scoring dlib rectangle as (l, t, r, b) pixels and its score, or (None, None)."""
    if len(rects) == 0:
        return None, None
    best = int(np.argmax(scores))
    r = rects[best]
    return np.array([r.left(), r.top(), r.right(), r.bottom()], float), float(scores[best])


@functools.lru_cache(maxsize=None)
def _models():
    import dlib

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path()))


def score_to_confidence(score):
    """Map a HOG detector score to a confidence in [0, 1].

    Parameters
    ----------
    score : float or array
        dlib SVM score (0 is dlib's detection threshold).

    Returns
    -------
    float or numpy.ndarray
        ``1 / (1 + exp(-2 score))``.

    Examples
    --------
    >>> round(float(score_to_confidence(0.0)), 2), round(float(score_to_confidence(1.0)), 2)
    (0.5, 0.88)
    """
    return 1.0 / (1.0 + np.exp(-2.0 * np.asarray(score, dtype=float)))


def _iou(a, b):
    """Intersection over union of two (left, top, right, bottom) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _anchor(points):
    """Centroid (2,) and RMS spread of the rigid points."""
    rigid = points[RIGID_POINTS]
    centre = rigid.mean(axis=0)
    spread = float(np.sqrt(((rigid - centre) ** 2).sum(axis=1).mean()))
    return centre, spread


class FaceLandmarker:
    """Per-video landmarker: detection, tracking, confidence (see module notes).

    Feed it the frames of one video in order; call :meth:`reset` before the
    next video.

    Parameters
    ----------
    detect_every : int, frames
        Full-frame detection period while a face is tracked.
    upsample : int
        Times the detector upsamples the frame (finds faces smaller than
        80 px at about 4x the cost per step); 0 for CREMA-D/GRID-size faces.
    adjust_threshold : float, SVM score units
        Detection threshold passed to dlib (0 = dlib's default); also the
        score a frame needs for ``success``.
    track_threshold : float, SVM score units
        Lower threshold in the tracking search window, below which the
        track counts as lost.
    tracker : bool
        Track between detections; ``False`` detects on every frame.
    max_detect_width : int, pixels
        Frames wider than this are downscaled for full-frame detection.
    track_face_size : float, pixels
        Face width the search window is rescaled to (the HOG window is 80 px).
    track_margin : float
        Search-window size relative to the tracked box.

    Examples
    --------
    >>> lm = FaceLandmarker()
    >>> pts, conf, ok = lm(np.zeros((120, 160), np.uint8))  # no face
    >>> bool(np.isnan(pts).all()), conf, ok
    (True, 0.0, False)
    """

    def __init__(
        self,
        *,
        detect_every=DEFAULT_DETECT_EVERY,
        upsample=0,
        adjust_threshold=0.0,
        track_threshold=-0.5,
        tracker=True,
        max_detect_width=640,
        track_face_size=90.0,
        track_margin=1.6,
    ):
        if int(detect_every) != detect_every or detect_every < 1:
            raise ParameterError(f"detect_every={detect_every!r} must be a positive integer")
        if int(upsample) != upsample or upsample < 0:
            raise ParameterError(f"upsample={upsample!r} must be a non-negative integer")
        if track_threshold > adjust_threshold:
            raise ParameterError(
                f"track_threshold={track_threshold!r} must not exceed "
                f"adjust_threshold={adjust_threshold!r}"
            )
        if max_detect_width < 80:
            raise ParameterError(f"max_detect_width={max_detect_width!r} must be >= 80 pixels")
        if track_margin < 1.2:
            raise ParameterError(f"track_margin={track_margin!r} must be >= 1.2")
        self.detect_every = int(detect_every)
        self.upsample = int(upsample)
        self.adjust_threshold = float(adjust_threshold)
        self.track_threshold = float(track_threshold)
        self.tracker = bool(tracker)
        self.max_detect_width = int(max_detect_width)
        self.track_face_size = float(track_face_size)
        self.track_margin = float(track_margin)
        self.n_detections = 0
        self.reset()

    def reset(self):
        """Forget the tracked face (call between videos)."""
        self._points = None  # last frame's landmarks (68, 2)
        self._box_rel = None  # detection box relative to the rigid-point anchor
        self._since_detect = 0

    # -- pieces ---------------------------------------------------------
    def _predict(self, gray, box):
        import dlib

        _, predictor = _models()
        l, t, r, b = (int(round(v)) for v in box)
        shape = predictor(gray, dlib.rectangle(l, t, r, b))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=float)

    def _detect_full(self, gray):
        """Best face box (l, t, r, b) in frame pixels and its score, or (None, None)."""
        import cv2

        detector, _ = _models()
        h, w = gray.shape
        scale = min(1.0, self.max_detect_width / w)
        img = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        self.n_detections += 1
        box, score = _best_box(*detector.run(img, self.upsample, self.adjust_threshold)[:2])
        return (None, None) if box is None else (box / scale, score)

    def _detect_window(self, gray, box):
        """Best face in the search window around ``box``: (box, score) or (None, None)."""
        import cv2

        detector, _ = _models()
        h, w = gray.shape
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        size = max(box[2] - box[0], box[3] - box[1])
        half = self.track_margin * size / 2
        x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
        x1, y1 = int(min(cx + half, w)), int(min(cy + half, h))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None, None
        k = self.track_face_size / max(size, 1.0)
        crop = gray[y0:y1, x0:x1]
        crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        found, score = _best_box(*detector.run(np.ascontiguousarray(crop), 0, self.track_threshold)[:2])
        return (None, None) if found is None else (found / k + [x0, y0, x0, y0], score)

    def _tracked_box(self):
        centre, spread = _anchor(self._points)
        rel = self._box_rel
        cx, cy = centre + rel[:2] * spread
        half_w, half_h = rel[2] * spread / 2, rel[3] * spread / 2
        return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h])

    def _remember(self, points, box):
        centre, spread = _anchor(points)
        if spread <= 0 or not np.isfinite(spread):
            self.reset()
            return
        c = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        self._box_rel = np.concatenate(
            [(c - centre) / spread, [(box[2] - box[0]) / spread, (box[3] - box[1]) / spread]]
        )
        self._points = points

    def _in_frame(self, points, shape):
        centre, _ = _anchor(points)
        h, w = shape
        return 0 <= centre[0] < w and 0 <= centre[1] < h

    def _result(self, points, score):
        return points, float(score_to_confidence(score)), bool(score >= self.adjust_threshold)

    # -- one frame --------------------------------------------------------
    def __call__(self, gray):
        """Landmarks of one frame.

        Parameters
        ----------
        gray : numpy.ndarray, (H, W) uint8
            The frame in grey levels.

        Returns
        -------
        points : numpy.ndarray, (68, 2) float, pixels (NaN if no face)
        confidence : float in [0, 1]
        success : bool
        """
        gray = np.ascontiguousarray(gray)
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ParameterError(f"frame must be 2-D uint8 grey, got {gray.dtype} {gray.shape}")
        if self.tracker and self._points is not None and self._since_detect < self.detect_every:
            box = self._tracked_box()
            found, score = self._detect_window(gray, box)
            if found is not None:
                reanchor = _iou(found, box) < REANCHOR_IOU
                points = self._predict(gray, found if reanchor else box)
                if self._in_frame(points, gray.shape):
                    if reanchor:
                        self._remember(points, found)
                    else:
                        self._points = points
                    self._since_detect += 1
                    return self._result(points, score)
            self.reset()
        box, score = self._detect_full(gray)
        if box is None:
            self.reset()
            return np.full((N_POINTS, 2), np.nan), 0.0, False
        points = self._predict(gray, box)
        self._remember(points, box)
        self._since_detect = 1
        return self._result(points, score)


def extract(
    video_path,
    *,
    detect_every=DEFAULT_DETECT_EVERY,
    upsample=0,
    max_frames=None,
    tracker=True,
    adjust_threshold=0.0,
    track_threshold=-0.5,
    max_detect_width=640,
    on_truncated="error",
    require_face=True,
):
    """68 facial landmarks of every frame of a video (dlib, with tracking).

    Parameters
    ----------
    video_path : str or Path
        The video.
    detect_every : int, frames
        Full-frame re-detection period while tracking.
    upsample : int
        Detector upsampling steps (for faces under ~80 px).
    max_frames : int, optional
        Process only the first frames.
    tracker : bool
        Track between detections (fast); ``False`` detects on every frame.
    adjust_threshold, track_threshold : float, SVM score units
        Detection threshold (and the score needed for ``success``), and the
        lower threshold that keeps a track alive.
    max_detect_width : int, pixels
        Wider frames are downscaled for full-frame detection.
    on_truncated : {"error", "keep"}
        See :func:`agser.landmarks.video.decode_video`.
    require_face : bool
        Raise :class:`InputError` when no frame has a face (``success``);
        ``False`` returns the all-NaN landmarks instead.

    Returns
    -------
    Landmarks
        ``points`` (T, 68, 2) in pixels of the original frame, ``confidence``
        and ``success`` as defined in the module notes, ``timestamps`` from
        the container.

    Raises
    ------
    InputError
        Unreadable, empty, truncated or frameless video, or (with
        ``require_face``) no face in any frame (stage ``"landmarks"``).

    Examples
    --------
    >>> extract("no/such.flv")
    Traceback (most recent call last):
    ...
    agser.errors.InputError: video 'no/such.flv' does not exist
    """
    landmarker = FaceLandmarker(
        detect_every=detect_every,
        upsample=upsample,
        adjust_threshold=adjust_threshold,
        track_threshold=track_threshold,
        tracker=tracker,
        max_detect_width=max_detect_width,
    )
    points, conf, ok, times = [], [], [], []
    for _, t, gray in decode_video(video_path, max_frames=max_frames, on_truncated=on_truncated, gray=True):
        p, c, s = landmarker(gray)
        points.append(p)
        conf.append(c)
        ok.append(s)
        times.append(t)
    landmarks = Landmarks(
        points=np.stack(points),
        confidence=np.array(conf),
        success=np.array(ok, dtype=bool),
        timestamps=np.array(times),
    )
    return _require_face(landmarks, Path(video_path).name) if require_face else landmarks
