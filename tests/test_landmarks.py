"""Landmarks from real video: decoding, dlib detection with tracking, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agser.errors import InputError, ParameterError
from agser.landmarks import (
    FaceLandmarker,
    Landmarks,
    decode_video,
    extract,
    predictor_path,
    video_info,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CREMA = sorted((DATA / "crema-d-sample").glob("*.flv"))
GRID = sorted((DATA / "grid").glob("*.mpg"))
needs_crema = pytest.mark.skipif(not CREMA, reason=f"no CREMA-D sample clips in {DATA / 'crema-d-sample'}")
needs_grid = pytest.mark.skipif(not GRID, reason=f"no GRID clips in {DATA / 'grid'}")


def _ipd(points):
    return np.linalg.norm(points[:, 36:42].mean(1) - points[:, 42:48].mean(1), axis=1)


def test_predictor_model_is_installed():
    path = predictor_path()
    assert path.is_file() and path.stat().st_size > 50_000_000


@needs_crema
def test_decode_video_frames_and_timestamps():
    clip = CREMA[0]
    info = video_info(clip)
    assert (info.width, info.height) == (480, 360)
    assert info.frame_rate == pytest.approx(29.97, abs=0.01)
    frames = list(decode_video(clip, gray=True))
    assert len(frames) == info.frame_count
    idx, times, imgs = zip(*frames)
    assert list(idx) == list(range(len(frames)))
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    # constant-rate stream: frame index over the frame rate (not the ms-rounded PTS)
    assert times[-1] == pytest.approx((len(frames) - 1) / info.frame_rate, abs=1e-9)
    assert imgs[0].shape == (360, 480) and imgs[0].dtype == np.uint8
    assert len(list(decode_video(clip, max_frames=5))) == 5
    with pytest.raises(ParameterError, match="max_frames"):
        next(decode_video(clip, max_frames=0))


@needs_crema
def test_extract_real_clip_tracks_like_per_frame_detection():
    clip = CREMA[0]
    tracked = extract(clip)
    detected = extract(clip, tracker=False)
    assert isinstance(tracked, Landmarks)
    n = video_info(clip).frame_count
    assert tracked.points.shape == (n, 68, 2)
    assert tracked.success.all() and detected.success.all()
    assert np.all((tracked.confidence > 0.5) & (tracked.confidence <= 1))
    # points lie in the frame; the mouth is below the eyes and the nose tip between
    p = tracked.points
    assert np.all((p[..., 0] >= 0) & (p[..., 0] < 480) & (p[..., 1] >= 0) & (p[..., 1] < 360))
    assert np.all(p[:, 57, 1] > p[:, 30, 1]) and np.all(p[:, 30, 1] > p[:, 36:48, 1].mean(1))
    # tracking (predictor box from the last landmarks) gives the same points as
    # detecting on every frame, to a few percent of the inter-pupil distance
    diff = np.linalg.norm(tracked.points - detected.points, axis=2).mean(1) / _ipd(detected.points)
    assert diff.mean() < 0.03 and diff.max() < 0.1
    assert tracked.frame_rate == pytest.approx(29.97, abs=0.05)


@needs_crema
def test_tracker_follows_a_jump_loses_the_face_and_recovers():
    frames = [g for _, _, g in decode_video(CREMA[1], gray=True, max_frames=40)]
    rng = np.random.default_rng(0)
    shifted = [np.roll(f, 40, axis=1) for f in frames[20:30]]  # the face jumps 40 px right
    noise = [rng.integers(0, 256, frames[0].shape, dtype=np.uint8) for _ in range(4)]
    seq = frames[:20] + shifted + noise + frames[30:40]
    lm = FaceLandmarker(detect_every=30)
    out = []
    for i, g in enumerate(seq):
        out.append(lm(g))
        if i == 29:
            # one full-frame detection for the first 30 frames: the jump was tracked
            assert lm.n_detections == 1
    pts = np.stack([o[0] for o in out])
    conf = np.array([o[1] for o in out])
    ok = np.array([o[2] for o in out])
    assert pts[20, 30, 0] - pts[19, 30, 0] == pytest.approx(40, abs=6)
    assert ok[:30].all() and ok[34:].all()
    assert not ok[30:34].any() and np.isnan(pts[30:34]).all() and np.all(conf[30:34] == 0)
    # back on the unshifted face after the noise
    assert pts[34, 30, 0] - pts[29, 30, 0] == pytest.approx(-40, abs=6)
    # 1 + one per face-free frame + 1 to re-acquire: far fewer than one per frame
    assert lm.n_detections == 1 + 4 + 1
    plain = FaceLandmarker(tracker=False)
    for g in seq:
        plain(g)
    assert plain.n_detections == len(seq)


@pytest.mark.parametrize(
    "kwargs",
    [{"detect_every": 0}, {"upsample": -1}, {"track_threshold": 1.0}, {"max_detect_width": 10}],
)
def test_bad_parameters_stop_at_once(kwargs):
    with pytest.raises(ParameterError):
        FaceLandmarker(**kwargs)


# ---- bad input: real broken files ------------------------------------------------


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist") as err:
        extract(tmp_path / "nope.flv")
    assert err.value.stage == "landmarks"


def test_garbage_and_empty_files_are_unreadable(tmp_path):
    junk = tmp_path / "junk.flv"
    junk.write_bytes(np.random.default_rng(1).bytes(40_000))
    with pytest.raises(InputError, match="unreadable video") as err:
        extract(junk)
    assert err.value.stage == "landmarks"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty video file"):
        extract(empty)


@needs_crema
def test_truncated_flv_is_reported_or_kept_on_request(tmp_path):
    data = CREMA[0].read_bytes()
    cut = tmp_path / "cut.flv"
    cut.write_bytes(data[: int(0.3 * len(data))])
    with pytest.raises(InputError, match=r"truncated video: decoded \d+ of the 67 frames") as err:
        extract(cut)
    assert err.value.stage == "landmarks"
    kept = extract(cut, on_truncated="keep")
    assert 5 < kept.n_frames < 67 and kept.success.mean() >= 0.95
    # the first frames are those of the intact file
    full = extract(CREMA[0], max_frames=kept.n_frames)
    assert np.allclose(kept.points[:5], full.points[:5], atol=1.0)
    header_only = tmp_path / "header.flv"
    header_only.write_bytes(data[: int(0.05 * len(data))])  # header and part of the first frame
    with pytest.raises(InputError, match="no decodable video frame"):
        extract(header_only)


def _write_video(path, frames, fps=25.0):
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV has no MJPG writer"
    for f in frames:
        writer.write(f)
    writer.release()


def test_video_without_a_face(tmp_path):
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(8)]
    frames += [np.full((240, 320, 3), 90, np.uint8)] * 4
    path = tmp_path / "noface.avi"
    _write_video(path, frames)
    with pytest.raises(InputError, match="no face found in any of its 12 frames") as err:
        extract(path)
    assert err.value.stage == "landmarks"
    lm = extract(path, require_face=False)
    assert lm.n_frames == 12 and not lm.success.any()
    assert np.isnan(lm.points).all() and np.all(lm.confidence == 0)
    assert lm.timestamps[1] == pytest.approx(0.04, abs=1e-3)


@needs_crema
def test_face_leaving_a_written_video(tmp_path):
    """A real clip re-encoded with a face-free middle: those frames fail, the rest succeed."""
    frames = [f for _, _, f in decode_video(CREMA[2], max_frames=30)]
    frames[10:16] = [np.zeros_like(frames[0])] * 6
    path = tmp_path / "gap.avi"
    _write_video(path, frames, fps=29.97)
    lm = extract(path)
    assert lm.n_frames == 30
    assert not lm.success[10:16].any() and lm.success[:10].all() and lm.success[16:].all()


# ---- success rate on all real sample clips -------------------------------------------


@needs_crema
@needs_grid
def test_landmarks_found_in_95_percent_of_frames_of_all_sample_clips():
    rates = {}
    for clip in CREMA + GRID:
        lm = extract(clip)
        assert lm.n_frames == video_info(clip).frame_count, clip.name
        rates[clip.name] = lm.success.mean()
    assert len(rates) == len(CREMA) + len(GRID)
    assert min(rates.values()) >= 0.95, rates


# ---- chapter 1, executed with papermill -------------------------------------------


def _run_chapter(tmp_path, data, run, book_root, execute_chapter):
    """Chapter 1 on run RUN (its ``data`` section given) of a throwaway book root.

    Returns the text and image count of its outputs, and the run's tables folder.
    """
    root = book_root(tmp_path / "root", run, {
        "data": data, "extract": {"landmarks": "auto", "aligner": "auto", "workers": 1}})
    executed = execute_chapter("ch1_landmarks", root, run)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "\n".join(
        str(o.get("data", {}).get("text/markdown", "")) + str(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images, root / "papermill_runs" / run / "tables"


@pytest.mark.slow
def test_chapter_on_a_tiny_simulated_run(tmp_path, book_root, execute_chapter):
    pytest.importorskip("agser.corpora.simulator")
    data = {"source": "simulate", "seed": 0, "utterances_per_corpus": 4, "simulator": {}}
    text, images, tables = _run_chapter(tmp_path, data, "tiny", book_root, execute_chapter)
    assert "landmarks from **OpenFace-format CSVs** (no video)" in text
    assert images == 3  # faces on a blank canvas, mouth close-up, confidence over time
    table = pd.read_csv(tables / "ch1_landmarks.csv")
    assert set(table["corpus"]) == {"sim-crema", "sim-improv"}
    assert (table["with landmarks"] == 4).all() and (table["face %"] > 50).all()


@pytest.mark.slow
@needs_crema
def test_chapter_on_real_clips_with_broken_ones(tmp_path, book_root, execute_chapter):
    """The video branch: real frames drawn; a truncated and a face-free video listed as failures."""
    from agser.corpora import make_manifest, write_manifest

    cut = tmp_path / "cut.flv"
    data = CREMA[0].read_bytes()
    cut.write_bytes(data[: int(0.3 * len(data))])
    noface = tmp_path / "noface.avi"
    rng = np.random.default_rng(0)
    _write_video(noface, [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(15)])
    row = {"corpus": "crema-d", "speaker": "1001", "emotion": "anger", "transcript": "Don't forget a jacket"}
    manifest = make_manifest(
        [
            {**row, "utterance_id": CREMA[0].stem, "video_path": str(CREMA[0])},
            {**row, "utterance_id": "cut", "video_path": str(cut)},
            {**row, "utterance_id": "noface", "video_path": str(noface)},
        ]
    )
    write_manifest(manifest, tmp_path / "manifest.csv")
    text, images, tables = _run_chapter(tmp_path, {"source": "manifest", "manifest": str(tmp_path / "manifest.csv")},
                                        "real", book_root, execute_chapter)
    assert "videos** (dlib detector and tracker)" in text
    assert "truncated video: decoded" in text and "no face found in any of its 15 frames" in text
    assert images == 3
    table = pd.read_csv(tables / "ch1_landmarks.csv")
    assert table.loc[0, "with landmarks"] == 1 and table.loc[0, "face %"] >= 95
    assert "is **met**" in text
