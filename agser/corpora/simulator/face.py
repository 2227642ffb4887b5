"""68 facial landmarks (iBUG layout) from the articulatory state.

The face is built in *face units*: origin at the midpoint between the eye
centres, ``x`` to the right of the image, ``y`` down, inter-pupil distance 1.
Eyes, brows and nose are fixed; the 12 outer-lip points (48-59: 48 the
left corner in the image, 51 upper-lip middle, 54 right corner, 57 lower-lip
middle), the 8 inner-lip points (60-67) and the jaw contour (0-16) follow jaw
opening, spreading, rounding and closure. Head pose (roll, scale,
translation and their slow drift), landmark jitter and dropped frames are
then applied in pixels.
"""

from __future__ import annotations

import numpy as np

from agser.landmarks.types import Landmarks

__all__ = ["static_face", "mouth_points", "face_points", "render_landmarks"]


def static_face(speaker=None):
    """The fixed points (jaw at rest, brows, nose, eyes) in face units.

    Returns
    -------
    numpy.ndarray, shape (68, 2)
        Rows 48-67 (lips) are zero; :func:`face_points` fills them.

    Examples
    --------
    >>> p = static_face()
    >>> float(np.hypot(*(p[36:42].mean(0) - p[42:48].mean(0))))
    1.0
    """
    my = getattr(speaker, "mouth_y", 1.02)
    p = np.zeros((68, 2))
    th = np.linspace(0.0, np.pi, 17)
    p[0:17, 0] = -1.05 * np.cos(th)
    p[0:17, 1] = 0.05 + (my + 0.62) * np.sin(th) ** 0.8
    p[17:22] = np.c_[[-0.95, -0.78, -0.58, -0.38, -0.18], [-0.22, -0.32, -0.36, -0.35, -0.30]]
    p[22:27] = np.c_[[0.18, 0.38, 0.58, 0.78, 0.95], [-0.30, -0.35, -0.36, -0.32, -0.22]]
    p[27:31] = np.c_[[0.0, 0.0, 0.0, 0.0], [0.05, 0.22, 0.38, 0.55]]
    p[31:36] = np.c_[[-0.22, -0.11, 0.0, 0.11, 0.22], [0.62, 0.65, 0.67, 0.65, 0.62]]
    eye = np.c_[[-0.22, -0.08, 0.08, 0.22, 0.08, -0.08], [0.0, -0.06, -0.06, 0.0, 0.05, 0.05]]
    p[36:42] = eye + [-0.5, 0.0]
    p[42:48] = eye + [0.5, 0.0]
    return p


_UP_F = np.array([-0.6, -0.28, 0.0, 0.28, 0.6])  # 49..53
_LO_F = np.array([0.6, 0.28, 0.0, -0.28, -0.6])  # 55..59
_IN_UP_F = np.array([-0.4, 0.0, 0.4])  # 61..63
_IN_LO_F = np.array([0.4, 0.0, -0.4])  # 65..67


def mouth_points(state, speaker=None):
    """The 20 lip points (48-67) for each time step, in face units.

    Parameters
    ----------
    state : dict of str -> numpy.ndarray, shape (T,)
        ``jaw, spread, round, closure`` (see
        :mod:`~agser.corpora.simulator.articulation`).
    speaker : Speaker, optional
        Mouth geometry (``mouth_width``, ``mouth_y``, ``lip_upper``,
        ``lip_lower``, ``open_gain``); average values when omitted.

    Returns
    -------
    numpy.ndarray, shape (T, 20, 2)

    Examples
    --------
    >>> ah = dict(jaw=np.r_[0.85], spread=np.r_[0.0], round=np.r_[0.0], closure=np.r_[0.0])
    >>> ee = dict(jaw=np.r_[0.15], spread=np.r_[0.75], round=np.r_[0.0], closure=np.r_[0.0])
    >>> a, e = mouth_points(ah), mouth_points(ee)
    >>> bool(a[0, 9, 1] - a[0, 3, 1] > e[0, 9, 1] - e[0, 3, 1])   # 57 - 51: taller /ɑ/
    True
    >>> bool(e[0, 6, 0] - e[0, 0, 0] > a[0, 6, 0] - a[0, 0, 0])   # 54 - 48: wider /i/
    True
    """
    g = lambda name, default: getattr(speaker, name, default)  # noqa: E731
    mw, my = g("mouth_width", 0.42), g("mouth_y", 1.02)
    lu, ll, og = g("lip_upper", 0.085), g("lip_lower", 0.105), g("open_gain", 0.36)
    jaw = np.asarray(state["jaw"], float)
    s = np.asarray(state["spread"], float)
    r = np.asarray(state["round"], float)
    c = np.asarray(state["closure"], float)
    o = og * np.clip(jaw, 0.0, None) * (1.0 - c)  # lip opening
    w = mw * (1.0 + 0.22 * s - 0.30 * r - 0.10 * o)  # half-width
    cy = my - 0.06 * np.clip(s - 0.2, 0.0, None) + 0.15 * o  # corners: smile up, open down
    up_in = 0.25 * o
    lo_in = 0.75 * o
    up_out = up_in + lu * (1.0 + 0.4 * r)
    lo_out = lo_in + ll * (1.0 + 0.4 * r) * (1.0 - 0.35 * np.clip(c - 0.5, 0.0, None))
    q = np.clip(0.55 - 0.25 * s + 0.3 * r, 0.3, 1.0)  # profile exponent: rounder when rounded

    def prof(f):
        return (1.0 - np.abs(f)[None, :] ** 2) ** q[:, None]

    T = jaw.shape[0]
    out = np.zeros((T, 20, 2))
    out[:, 0] = np.c_[-w, cy]
    out[:, 6] = np.c_[w, cy]
    out[:, 1:6, 0] = _UP_F[None, :] * w[:, None]
    out[:, 1:6, 1] = cy[:, None] - up_out[:, None] * prof(_UP_F)
    out[:, 3, 1] += 0.012  # cupid's bow
    out[:, 7:12, 0] = _LO_F[None, :] * w[:, None]
    out[:, 7:12, 1] = cy[:, None] + lo_out[:, None] * prof(_LO_F)
    wi = 0.85 * w
    out[:, 12] = np.c_[-wi, cy]
    out[:, 16] = np.c_[wi, cy]
    out[:, 13:16, 0] = _IN_UP_F[None, :] * wi[:, None]
    out[:, 13:16, 1] = cy[:, None] - up_in[:, None] * prof(_IN_UP_F)
    out[:, 17:20, 0] = _IN_LO_F[None, :] * wi[:, None]
    out[:, 17:20, 1] = cy[:, None] + lo_in[:, None] * prof(_IN_LO_F)
    return out


def face_points(state, speaker=None):
    """All 68 points per time step in face units (T x 68 x 2).

    The jaw contour drops with the jaw opening, most at the chin (point 8).
    """
    T = np.asarray(state["jaw"]).shape[0]
    base = static_face(speaker)
    pts = np.broadcast_to(base, (T, 68, 2)).copy()
    og = getattr(speaker, "open_gain", 0.36)
    drop = 0.9 * og * np.clip(np.asarray(state["jaw"], float), 0.0, None)
    weight = np.sin(np.linspace(0.0, np.pi, 17)) ** 2
    pts[:, 0:17, 1] += drop[:, None] * weight[None, :]
    pts[:, 48:68] = mouth_points(state, speaker)
    return pts


def render_landmarks(state, times, speaker, rng, image_size=(480, 360), head_motion=1.0,
                     jitter_px=0.5, drop_rate=0.01):
    """Landmarks in pixels with head pose, jitter and dropped frames.

    Parameters
    ----------
    state : dict of str -> numpy.ndarray, shape (T,)
        Articulatory state at the video frames.
    times : numpy.ndarray, shape (T,), seconds
        Frame timestamps.
    speaker : Speaker
        Face geometry and size (``ipd`` in pixels).
    rng : numpy.random.Generator
    image_size : (int, int), pixels
        Width and height of the (virtual) video.
    head_motion : float
        Scale of the head-pose nuisance: roll (about 3 degrees per unit),
        its drift, translation drift, scale drift and landmark jitter.
    jitter_px : float, pixels
        Landmark jitter at ``head_motion = 1``.
    drop_rate : float
        Expected share of frames without a detected face (in runs of a few
        frames); they get NaN points, confidence 0 and success False.

    Returns
    -------
    Landmarks
    """
    T = len(times)
    pts = face_points(state, speaker)
    dur = max(float(times[-1]) if T else 0.0, 1e-3)
    tt = np.asarray(times, float) / dur

    def drift(sd):
        knots = rng.normal(0.0, sd, size=4)
        return np.interp(tt, np.linspace(0.0, 1.0, 4), knots)

    roll = np.deg2rad(rng.normal(0.0, 3.0 * head_motion) + drift(1.5 * head_motion))
    scale = speaker.ipd * np.exp(drift(0.03 * head_motion))
    w, h = image_size
    cx = w / 2.0 + rng.normal(0.0, 0.05 * w * head_motion) + drift(0.01 * w * head_motion)
    cy = h * 0.4 + rng.normal(0.0, 0.04 * h * head_motion) + drift(0.01 * h * head_motion)
    cos, sin = np.cos(roll), np.sin(roll)
    x = pts[..., 0] * scale[:, None]
    y = pts[..., 1] * scale[:, None]
    px = np.stack([cos[:, None] * x - sin[:, None] * y + cx[:, None],
                   sin[:, None] * x + cos[:, None] * y + cy[:, None]], axis=-1)
    px = px + rng.normal(0.0, jitter_px * head_motion, size=px.shape)
    success = np.ones(T, bool)
    n_runs = rng.poisson(drop_rate * T / 3.0) if drop_rate > 0 else 0
    for _ in range(int(n_runs)):
        start = int(rng.integers(0, max(T, 1)))
        success[start:start + int(rng.integers(1, 6))] = False
    confidence = np.where(success, np.clip(rng.normal(0.95, 0.02, T), 0.5, 0.99), 0.0)
    px[~success] = np.nan
    return Landmarks(px, np.round(confidence, 2), success, np.asarray(times, float))
