"""Read and write landmark CSVs in OpenFace 2's ``FeatureExtraction`` format.

OpenFace writes one row per frame with the columns ``frame, face_id,
timestamp, confidence, success``, then ``x_0 .. x_67`` and ``y_0 .. y_67``
(among many others, which are ignored here). Its header separates names by
``", "``, so a plain CSV reader sees names with a leading space; frames
without a face have ``success = 0`` and zeros in the landmark columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError
from agser.landmarks.types import N_POINTS, Landmarks

__all__ = ["read_openface_csv", "write_openface_csv", "OPENFACE_COLUMNS"]

#: The columns :func:`write_openface_csv` writes, in order.
OPENFACE_COLUMNS = (
    ["frame", "face_id", "timestamp", "confidence", "success"]
    + [f"x_{i}" for i in range(N_POINTS)]
    + [f"y_{i}" for i in range(N_POINTS)]
)


def read_openface_csv(path, frame_rate=None):
    """Read an OpenFace 2 CSV into :class:`~agser.landmarks.types.Landmarks`.

    Parameters
    ----------
    path : str or Path
        The CSV file. Header names may carry leading spaces, as OpenFace
        writes them; other columns (gaze, action units, ...) are ignored.
    frame_rate : float, optional
        Frames per second, used only when the file has no ``timestamp``
        column (then ``timestamp = (frame - 1) / frame_rate``).

    Returns
    -------
    Landmarks
        Rows with ``success = 0`` (or any missing landmark value) get NaN
        points and ``success = False``. Where a frame has several faces, the
        one with the highest confidence is kept.

    Raises
    ------
    ParameterError
        If the file does not exist.
    InputError
        If it lacks landmark columns or has no rows (stage ``"landmarks"``).

    Examples
    --------
    >>> import io, tempfile, os
    >>> cols = ["frame", " face_id", " timestamp", " confidence", " success"]
    >>> cols += [f" x_{i}" for i in range(68)] + [f" y_{i}" for i in range(68)]
    >>> row1 = ["1", "0", "0.000", "0.98", "1"] + ["10.5"] * 136
    >>> row2 = ["2", "0", "0.040", "0", "0"] + ["0"] * 136
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "a.csv")
    >>> _ = open(p, "w").write(",".join(cols) + "\\n" + ",".join(row1) + "\\n" + ",".join(row2) + "\\n")
    >>> lm = read_openface_csv(p)
    >>> lm.points.shape, lm.success.tolist(), bool(np.isnan(lm.points[1]).all())
    ((2, 68, 2), [True, False], True)
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"landmark CSV {str(path)!r} does not exist")
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise InputError(f"{path.name}: unreadable CSV ({exc})", stage="landmarks") from exc
    df.columns = [str(c).strip() for c in df.columns]
    xcols = [f"x_{i}" for i in range(N_POINTS)]
    ycols = [f"y_{i}" for i in range(N_POINTS)]
    missing = [c for c in xcols + ycols if c not in df.columns]
    if missing:
        raise InputError(
            f"{path.name}: no OpenFace landmark column {missing[0]!r}", stage="landmarks"
        )
    if len(df) == 0:
        raise InputError(f"{path.name}: no frames", stage="landmarks")
    conf = pd.to_numeric(df["confidence"], errors="coerce") if "confidence" in df else None
    if "frame" in df.columns and df["frame"].duplicated().any():
        # several faces in a frame: keep the most confident one
        order = conf.fillna(-1.0) if conf is not None else pd.Series(0.0, index=df.index)
        df = (
            df.assign(_c=order.values)
            .sort_values(["frame", "_c"], ascending=[True, False], kind="stable")
            .drop_duplicates("frame")
            .drop(columns="_c")
            .reset_index(drop=True)
        )
        conf = pd.to_numeric(df["confidence"], errors="coerce") if "confidence" in df else None
    xy = df[xcols + ycols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    points = np.stack([xy[:, :N_POINTS], xy[:, N_POINTS:]], axis=-1)
    if "success" in df.columns:
        success = pd.to_numeric(df["success"], errors="coerce").fillna(0).to_numpy() > 0
    else:
        success = np.ones(len(df), bool)
    success &= np.isfinite(points).all(axis=(1, 2))
    points[~success] = np.nan
    confidence = (
        conf.fillna(0.0).to_numpy(float) if conf is not None else success.astype(float)
    )
    confidence = np.where(success, confidence, 0.0)
    if "timestamp" in df.columns:
        timestamps = pd.to_numeric(df["timestamp"], errors="coerce").to_numpy(float)
    elif frame_rate and "frame" in df.columns:
        timestamps = (pd.to_numeric(df["frame"]).to_numpy(float) - 1.0) / float(frame_rate)
    else:
        raise InputError(
            f"{path.name}: no 'timestamp' column and no frame_rate given", stage="landmarks"
        )
    return Landmarks(points, confidence, success, timestamps)


def write_openface_csv(landmarks, path, decimals=3):
    """Write landmarks as an OpenFace 2 CSV (header with ``", "`` separators).

    Parameters
    ----------
    landmarks : Landmarks
        ``T`` frames; frames with ``success = False`` are written as OpenFace
        does, with zeros in the landmark columns and ``confidence = 0``.
    path : str or Path
        Output file; its folder is created.
    decimals : int
        Digits after the point for the pixel coordinates.

    Examples
    --------
    >>> import tempfile, os
    >>> lm = Landmarks(np.full((2, 68, 2), 5.0), [0.9, 0.0], [True, False], [0, 0.04])
    >>> p = os.path.join(tempfile.mkdtemp(), "b.csv")
    >>> write_openface_csv(lm, p)
    >>> open(p).readline()[:30]
    'frame, face_id, timestamp, con'
    >>> read_openface_csv(p).success.tolist()
    [True, False]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = landmarks.n_frames
    pts = np.where(landmarks.success[:, None, None], landmarks.points, 0.0)
    pts = np.nan_to_num(pts, nan=0.0)
    conf = np.where(landmarks.success, landmarks.confidence, 0.0)
    lines = [", ".join(OPENFACE_COLUMNS)]
    fmt_xy = f"%.{int(decimals)}f"
    body = np.char.mod(fmt_xy, np.concatenate([pts[:, :, 0], pts[:, :, 1]], axis=1))
    for k in range(t):
        head = f"{k + 1}, 0, {landmarks.timestamps[k]:.3f}, {conf[k]:.2f}, {int(landmarks.success[k])}"
        lines.append(head + ", " + ", ".join(body[k]))
    path.write_text("\n".join(lines) + "\n")
