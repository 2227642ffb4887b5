"""Eye alignment, mouth points and missing frames, on synthetic and real landmarks."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from agser.errors import ParameterError
from agser.gestures import (
    MOUTH_NAMES,
    align_to_eyes,
    eye_angle,
    eye_centres,
    find_gaps,
    interpolate_gaps,
    missing_frames,
    mouth_index,
    mouth_points,
    span_usable,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CREMA = sorted((DATA / "crema-d-sample").glob("*.flv"))
GRID = sorted((DATA / "grid").glob("*.mpg"))


def _face(rng):
    """A random 68-point 'face' whose eyes are apart along x."""
    p = rng.normal(scale=0.3, size=(68, 2))
    p[36:42] += [-0.5, 0.0]
    p[42:48] += [0.5, 0.0]
    return p


def _similarity(points, angle_deg, scale, shift):
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return scale * points @ rot.T + shift


def test_alignment_recovers_rotated_scaled_shifted_copies_exactly():
    rng = np.random.default_rng(0)
    base = align_to_eyes(_face(rng))
    copies = np.stack(
        [
            _similarity(base, rng.uniform(-170, 170), rng.uniform(20, 300), rng.uniform(-500, 500, 2))
            for _ in range(50)
        ]
    )
    aligned = align_to_eyes(copies)
    assert np.allclose(aligned, base[None], atol=1e-9)
    assert np.all(np.abs(eye_angle(aligned)) < 1e-9)
    left, right = eye_centres(aligned)
    assert np.allclose(left, [-0.5, 0]) and np.allclose(right, [0.5, 0])
    # non-trivial inputs: the copies really were rolled
    assert np.abs(eye_angle(copies)).max() > 45


def test_alignment_is_per_frame_and_nan_safe():
    rng = np.random.default_rng(1)
    frames = np.stack([_similarity(_face(rng), 10 * i, 1 + i, [i, -i]) for i in range(5)])
    frames[1, 40] = np.nan  # an eye point missing: that frame cannot be aligned
    frames[3] = np.nan  # no face at all
    frames[4, 36:48] = frames[4, 36]  # both eyes on one point: IPD 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = align_to_eyes(frames)
    assert out.shape == frames.shape
    assert np.isnan(out[[1, 3, 4]]).all()
    assert np.isfinite(out[[0, 2]]).all()
    assert np.allclose(out[2], align_to_eyes(frames[2]))
    with pytest.raises(ParameterError, match="68, 2"):
        align_to_eyes(np.zeros((5, 12, 2)))


@pytest.mark.skipif(not (CREMA and GRID), reason=f"no sample clips under {DATA}")
def test_eye_line_horizontal_within_half_a_degree_on_real_landmarks():
    from agser.landmarks import extract

    for clip in (CREMA[0], GRID[0]):
        lm = extract(clip, max_frames=40)
        raw = eye_angle(lm.points[lm.success])
        aligned = align_to_eyes(lm.points[lm.success])
        angles = eye_angle(aligned)
        assert np.all(np.abs(angles) < 0.5), (clip.name, np.abs(angles).max())
        ipd = np.linalg.norm(np.subtract(*eye_centres(aligned)), axis=-1)
        assert np.allclose(ipd, 1.0)
        # the raw faces were not all level to begin with (a real head roll)
        assert np.abs(raw).max() > 0.5
        # upright after alignment: the mouth lies below the eye line (y down)
        m = mouth_points(aligned)
        assert np.all(m[:, mouth_index("lower_mid"), 1] > 0.5)
        assert np.all(m[:, mouth_index("left_corner"), 0] < m[:, mouth_index("right_corner"), 0])


def test_mouth_points_and_names():
    p = np.arange(3 * 68 * 2, dtype=float).reshape(3, 68, 2)
    m = mouth_points(p)
    assert m.shape == (3, 12, 2)
    assert np.array_equal(m, p[:, 48:60])
    assert MOUTH_NAMES == {"left_corner": 48, "upper_mid": 51, "right_corner": 54, "lower_mid": 57}
    assert [mouth_index(n) for n in ("left_corner", "upper_mid", "right_corner", "lower_mid")] == [0, 3, 6, 9]
    with pytest.raises(ParameterError, match="mouth point"):
        mouth_index("chin")
    with pytest.raises(ParameterError):
        mouth_index(60)


def test_interpolate_short_gaps_linearly_and_keep_long_and_edge_gaps():
    t = np.arange(20, dtype=float)
    pts = np.stack([np.stack([t, 2 * t], axis=1)] * 3, axis=1)  # (20, 3, 2), linear in t
    truth = pts.copy()
    pts[0] = np.nan  # edge gap: no frame before it
    pts[3:6] = np.nan  # 3 frames: filled
    pts[9:13] = np.nan  # 4 frames: too long
    pts[16, 1, 0] = np.nan  # one coordinate: the frame counts as missing
    success = np.ones(20, bool)
    success[18] = False  # untrusted frame: replaced
    pts[18] += 100
    filled, still = interpolate_gaps(pts, max_gap=3, success=success)
    assert np.flatnonzero(still).tolist() == [0, 9, 10, 11, 12]
    ok = ~still
    assert np.allclose(filled[ok], truth[ok])
    assert np.isnan(filled[still]).all()
    assert np.isnan(pts[3]).all(), "input left untouched"
    filled0, still0 = interpolate_gaps(pts, max_gap=0, success=success)
    assert still0.sum() == missing_frames(pts, success).sum() == 10
    with pytest.raises(ParameterError, match="max_gap"):
        interpolate_gaps(pts, max_gap=-1)


def test_span_usable_names_the_bad_frames():
    still = np.zeros(30, bool)
    still[12:17] = True
    assert find_gaps(still) == [(12, 17)]
    assert span_usable(still, 0, 12) == (True, "")
    ok, reason = span_usable(still, 10, 14, max_gap=3)
    assert not ok
    assert reason == (
        "frames 12-13 of segment frames 10-13 have no face (gap 12-16 longer than 3 frames or at a video edge)"
    )
    assert span_usable(still, 25, 35)[1] == "segment frames 25-34 lie outside the video's 30 frames"
    assert span_usable(still, 5, 5)[1] == "segment frames 5-4 hold no frame"
