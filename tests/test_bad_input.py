"""Bad input: real broken files give one failure row each; the rest of the run completes.

The broken files are made in ``tmp_path``: from the real CREMA-D clips where a
face or real speech is needed, synthesised otherwise (random-pixel video,
near-silent WAV, random bytes).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from agser.corpora.manifest import make_manifest, read_manifest
from agser.errors import ParameterError
from agser.extract import load_segments
from agser.run.extraction import extract_manifest
from agser.phones.textgrid import Alignment, write_textgrid

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CREMA = DATA / "crema-d-sample"
needs_data = pytest.mark.skipif(not CREMA.is_dir(), reason=f"real sample clips not found at {CREMA}")
DFA = "Don't forget a jacket"


def write_video(path, frames, fps=25, audio=None, sr=16000):
    """Encode RGB frames (T, H, W, 3 uint8) as MPEG-4 with PyAV, optionally with AAC audio."""
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream("mpeg4", rate=fps)
        v.width, v.height, v.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        a = None
        if audio is not None:
            a = out.add_stream("aac", rate=sr)
            a.layout = "mono"
        for f in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        if a is not None:
            for i in range(0, len(audio), 1024):
                fr = av.AudioFrame.from_ndarray(audio[i:i + 1024].astype(np.float32)[None],
                                                format="flt", layout="mono")
                fr.sample_rate, fr.pts = sr, i
                for p in a.encode(fr):
                    out.mux(p)
            for p in a.encode():
                out.mux(p)
    return path


def video_frames(path):
    """RGB frames of a real clip, decoded with PyAV."""
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def noise_video(path, seconds=1.0):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (int(25 * seconds), 96, 128, 3), dtype=np.uint8)
    t = np.arange(int(16000 * seconds)) / 16000
    return write_video(path, frames, audio=0.3 * np.sin(2 * np.pi * 180 * t))


def one_word_textgrid(path):
    a = Alignment(pd.DataFrame({"label": ["a"], "start": [0.2], "end": [0.5]}),
                  pd.DataFrame({"label": ["AH0"], "start": [0.2], "end": [0.5]}), duration=1.0)
    write_textgrid(a, path)
    return path


def _row(uid, **kw):
    return {"utterance_id": uid, "corpus": "crema-d", "speaker": "1001", "emotion": "neutral",
            "transcript": DFA, **{k: str(v) for k, v in kw.items()}}


def _run(tmp_path, rows):
    out = tmp_path / "out"
    summary = extract_manifest(make_manifest(rows), out, workers=1, progress=False)
    failures = pd.read_csv(out / "failures.csv", keep_default_na=False)
    return summary, failures.set_index("utterance_id"), out


def test_synthesised_bad_files(tmp_path):
    """No face, silent audio, unreadable file: needs no sample data."""
    noface = noise_video(tmp_path / "noface.mp4")
    tg = one_word_textgrid(tmp_path / "noface.TextGrid")
    sf.write(tmp_path / "silent.wav", np.zeros(16000), 16000)
    (tmp_path / "garbage.flv").write_bytes(np.random.default_rng(1).bytes(20000))
    rows = [
        _row("noface", video_path=noface, alignment_path=tg, transcript="a"),
        _row("silent", audio_path=tmp_path / "silent.wav", video_path=noface),
        _row("garbage", video_path=tmp_path / "garbage.flv"),
        _row("missing", video_path=tmp_path / "gone.flv"),
    ]
    summary, fail, _ = _run(tmp_path, rows)
    assert set(fail.index) == {"noface", "silent", "garbage", "missing"}
    assert fail.loc["missing", "stage"] == "input" and "does not exist" in fail.loc["missing", "reason"]
    assert fail.loc["noface", "stage"] == "landmarks" and "no face" in fail.loc["noface", "reason"]
    assert fail.loc["silent", "stage"] == "audio" and "silent" in fail.loc["silent", "reason"]
    assert fail.loc["garbage", "stage"] == "audio" and "unreadable" in fail.loc["garbage", "reason"]
    assert summary["crema-d"]["failures"] == 4 and summary["crema-d"]["segments"] == 0


@needs_data
def test_real_broken_files_rest_completes(tmp_path):
    good = CREMA / "1001_DFA_NEU_XX.flv"
    src = (CREMA / "1001_DFA_ANG_XX.flv").read_bytes()
    (tmp_path / "truncated.flv").write_bytes(src[: len(src) // 2])
    # the real face, re-encoded without its audio track
    noaudio = write_video(tmp_path / "noaudio.mp4", video_frames(CREMA / "1001_DFA_HAP_XX.flv")[:40])
    sf.write(tmp_path / "silent.wav", np.full(32000, 1e-5), 16000)
    (tmp_path / "garbage.flv").write_bytes(np.random.default_rng(1).bytes(20000))
    noface = noise_video(tmp_path / "noface.mp4")
    tg = one_word_textgrid(tmp_path / "noface.TextGrid")
    rows = [
        _row("good", video_path=good),
        _row("truncated", video_path=tmp_path / "truncated.flv"),
        _row("noaudio", video_path=noaudio),
        _row("silent", audio_path=tmp_path / "silent.wav", video_path=good),
        _row("mismatch", video_path=CREMA / "1001_DFA_SAD_XX.flv",
             transcript="I would like a new alarm clock please tomorrow"),
        _row("garbage", video_path=tmp_path / "garbage.flv"),
        _row("noface", video_path=noface, alignment_path=tg, transcript="a"),
    ]
    summary, fail, out = _run(tmp_path, rows)
    expect = {
        "truncated": ("audio", "truncated"),
        "noaudio": ("audio", "no audio track"),
        "silent": ("audio", "silent"),
        "mismatch": ("phones", "does not match"),
        "garbage": ("audio", "unreadable"),
        "noface": ("landmarks", "no face"),
    }
    assert set(fail.index) == set(expect)
    for uid, (stage, words) in expect.items():
        assert fail.loc[uid, "stage"] == stage, (uid, fail.loc[uid].tolist())
        assert words in fail.loc[uid, "reason"], (uid, fail.loc[uid, "reason"])
    segs, frames = load_segments(out)
    assert set(segs["utterance_id"]) == {"good"} and len(segs) >= 10
    assert summary["crema-d"] == {**summary["crema-d"], "utterances": 7, "failures": 6}


def test_unknown_label_stops_naming_row(tmp_path):
    rows = [_row("u1", video_path="a.flv"), _row("u2", video_path="b.flv", emotion="boredom")]
    df = pd.DataFrame(rows)
    for col in ("audio_path", "landmarks_path", "alignment_path"):
        df[col] = ""
    df.to_csv(tmp_path / "manifest.csv", index=False)
    with pytest.raises(ParameterError, match=r"row 1.*'boredom'"):
        read_manifest(tmp_path / "manifest.csv")
    with pytest.raises(ParameterError, match=r"row 1.*'boredom'"):
        extract_manifest(tmp_path / "manifest.csv", tmp_path / "out", workers=1, progress=False)
    assert not (tmp_path / "out" / "segments.parquet").exists()


def test_bad_parameters_stop(tmp_path):
    rows = [_row("u1", video_path="a.flv")]
    with pytest.raises(ParameterError, match="landmarks='openpose'"):
        extract_manifest(make_manifest(rows), tmp_path, landmarks="openpose")
    with pytest.raises(ParameterError, match="aligner='mfa'"):
        extract_manifest(make_manifest(rows), tmp_path, aligner="mfa")
    with pytest.raises(ParameterError, match="does not exist"):
        extract_manifest(tmp_path / "no-manifest.csv", tmp_path)
