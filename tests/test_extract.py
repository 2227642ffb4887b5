"""The extraction pipeline: manifest -> segments.parquet / segment_frames.npy / failures / summary."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import agser.extract as extract_mod
from agser.corpora import make_manifest, read_manifest
from agser.errors import ParameterError
from agser.extract import SEGMENT_COLUMNS, load_segments
from agser.run.extraction import extract_manifest
from agser.phones.ipa import arpabet_to_ipa, is_vowel
from agser.store import ArtifactStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def sim_manifest(tmp_path_factory):
    from agser.corpora.simulator import simulate

    return simulate(tmp_path_factory.mktemp("sim"), seed=3, utterances_per_corpus=3)


def _outputs(out):
    segs, frames = load_segments(out)
    return segs, frames, pd.read_csv(out / "failures.csv"), json.loads((out / "summary.json").read_text())


def test_extract_simulated_outputs(sim_manifest, tmp_path):
    summary = extract_manifest(sim_manifest, tmp_path / "out", workers=1, progress=False)
    segs, frames, failures, on_disk = _outputs(tmp_path / "out")
    assert on_disk == summary and set(summary) == {"sim-crema", "sim-improv"}
    assert list(segs.columns[: len(SEGMENT_COLUMNS)]) == list(SEGMENT_COLUMNS)
    assert list(failures.columns) == ["utterance_id", "stage", "reason"] and failures.empty
    # segments point at consecutive rows of the frame store
    stack = np.load(tmp_path / "out" / "segment_frames.npy")
    assert stack.dtype == np.float32 and stack.shape == (segs["n_frames"].sum(), 12, 2)
    assert np.array_equal(segs["frame_offset"].to_numpy(),
                          np.r_[0, np.cumsum(segs["n_frames"].to_numpy())[:-1]])
    assert len(frames) == len(segs) and all(f.shape == (n, 12, 2) for f, n in
                                             zip(frames, segs["n_frames"]))
    assert all(np.isfinite(f).all() for f in frames)
    # eye-aligned, IPD-normalised: the mouth sits below the eyes, about one IPD wide
    allf = np.concatenate(frames)
    width = allf[:, 6, 0] - allf[:, 0, 0]  # point 54 (right corner) - point 48 (left corner)
    assert np.all(allf[:, :, 1] > 0) and 0.4 < np.median(width) < 1.6
    # phones: stress stripped, no silence, IPA from the stressed label
    assert not segs["phone"].str.contains(r"\d").any()
    assert not segs["phone"].str.lower().isin(["sil", "sp", "spn", ""]).any()
    assert (segs.loc[segs["phone"] == "AA", "ipa"] == "ɑ").all()
    allowed = {arpabet_to_ipa(p + (s if is_vowel(p) else ""))
               for p in segs["phone"].unique() for s in ("", "0", "1")}
    assert set(segs["ipa"]) <= allowed
    for corpus, s in summary.items():
        sub = segs[segs["corpus"] == corpus]
        assert s["segments"] == len(sub) and s["utterances"] == 3 and s["failures"] == 0
        assert s["frames"] >= s["frames_with_face"] > 0
    assert (segs["end"] > segs["start"]).all()


def test_resume_uses_store(sim_manifest, tmp_path, monkeypatch):
    m = read_manifest(sim_manifest)
    store = ArtifactStore(tmp_path / "store")
    extract_manifest(m.iloc[:2], tmp_path / "a", store=store, workers=1, progress=False)  # "killed" run
    calls = []
    real = extract_mod.extract_utterance

    def counting(row, **kw):
        calls.append(row["utterance_id"])
        return real(row, **kw)

    monkeypatch.setattr(extract_mod, "extract_utterance", counting)
    extract_manifest(m, tmp_path / "b", store=store, workers=1, progress=False)
    assert sorted(calls) == sorted(m["utterance_id"].iloc[2:])  # only the missing ones
    calls.clear()
    extract_manifest(m, tmp_path / "c", store=store, workers=1, progress=False)
    assert calls == []
    b, c = load_segments(tmp_path / "b"), load_segments(tmp_path / "c")
    pd.testing.assert_frame_equal(b[0], c[0])


def test_processes_and_dask_match_in_process(sim_manifest, tmp_path):
    distributed = pytest.importorskip("distributed")
    m = read_manifest(sim_manifest).iloc[:3]
    extract_manifest(m, tmp_path / "one", workers=1, progress=False)
    extract_manifest(m, tmp_path / "two", workers=2, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        extract_manifest(m, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    ref = load_segments(tmp_path / "one")
    for other in ("two", "dask"):
        got = load_segments(tmp_path / other)
        pd.testing.assert_frame_equal(ref[0], got[0])
        assert all(np.array_equal(x, y) for x, y in zip(ref[1], got[1]))


def _cli(argv):
    import argparse

    from agser.cli import extract as cli

    parser = argparse.ArgumentParser(prog="agser extract")
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def test_cli_extract(sim_manifest, tmp_path, capsys):
    rc = _cli(["--manifest", str(sim_manifest), "--out", str(tmp_path / "o"),
               "--workers", "1", "--no-progress", "--pronunciation", "agser=EY1 JH S ER0"])
    assert rc == 0 and (tmp_path / "o" / "segments.parquet").is_file()
    assert "sim-crema: 3 utterances" in capsys.readouterr().out
    with pytest.raises(ParameterError, match="does not exist"):
        _cli(["--manifest", str(tmp_path / "none.csv"), "--out", str(tmp_path / "p")])
    with pytest.raises(ParameterError, match="WORD="):
        _cli(["--manifest", str(sim_manifest), "--out", str(tmp_path / "p"), "--pronunciation", "oops"])


def test_textgrid_forced_without_alignment_fails_row(sim_manifest, tmp_path):
    m = read_manifest(sim_manifest).iloc[:2].copy()
    m.loc[0, "alignment_path"] = ""
    extract_manifest(m, tmp_path / "o", aligner="textgrid", workers=1, progress=False)
    f = pd.read_csv(tmp_path / "o" / "failures.csv")
    assert f["utterance_id"].tolist() == [m.loc[0, "utterance_id"]]
    assert "no alignment_path" in f.loc[0, "reason"]


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "grid").is_dir(), reason=f"real sample clips not found at {DATA}")
def test_samples_all_clips_give_segments(tmp_path):
    """The samples run's clips: 6 audio-visual CREMA-D + 11 GRID, dlib + pocketsphinx."""
    from agser.corpora.cremad import cremad_manifest
    from agser.corpora.grid import grid_manifest

    crema = cremad_manifest(DATA / "crema-d-sample")
    crema = crema[crema["video_path"] != ""]
    grid = grid_manifest(DATA / "grid", speaker="grid")
    m = make_manifest(pd.concat([crema, grid], ignore_index=True).to_dict("records"))
    summary = extract_manifest(m, tmp_path / "o", workers=2, progress=False)
    segs, _, failures, _ = _outputs(tmp_path / "o")
    assert failures.empty, failures.to_string()
    assert segs.groupby("corpus")["utterance_id"].nunique().to_dict() == {"crema-d": 6, "grid": 11}
    for s in summary.values():
        assert s["frames_with_face"] >= 0.95 * s["frames"]
    # "Don't forget a jacket": the vowels come in order in every CREMA-D clip
    for uid, g in segs[segs["corpus"] == "crema-d"].groupby("utterance_id"):
        vowels = g.loc[g["phone"].isin(["OW", "ER", "EH", "AH", "EY", "AE", "IH"]), "phone"].tolist()
        assert vowels[:3] == ["OW", "ER", "EH"] and vowels[4] == "AE", (uid, vowels)


def test_forced_sources_without_files_fail_rows(sim_manifest, tmp_path):
    """landmarks='dlib' needs a video; the simulated rows have only OpenFace CSVs."""
    m = read_manifest(sim_manifest).iloc[:1]
    summary = extract_manifest(m, tmp_path / "o", landmarks="dlib", workers=1, progress=False)
    f = pd.read_csv(tmp_path / "o" / "failures.csv")
    assert f.loc[0, "stage"] == "landmarks" and "no video_path" in f.loc[0, "reason"]
    assert sum(s["failures"] for s in summary.values()) == 1
    segs, frames = load_segments(tmp_path / "o")
    assert segs.empty and frames == []


def test_openface_csv_without_a_face_fails_the_row(tmp_path):
    # dlib's extract raises this itself; a CSV is read as it is, so the stage checks it
    from agser.errors import InputError
    from agser.landmarks import Landmarks, write_openface_csv

    csv = tmp_path / "noface.csv"
    write_openface_csv(Landmarks(np.full((5, 68, 2), np.nan), np.zeros(5), np.zeros(5, bool),
                                 np.arange(5) / 25), csv)
    with pytest.raises(InputError, match="noface.csv: no face found in any of its 5 frames") as err:
        extract_mod.utterance_gesture({"landmarks_path": str(csv)})
    assert err.value.stage == "landmarks"


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "crema-d-sample").is_dir(), reason=f"real sample clips not found at {DATA}")
def test_chapters_reuse_the_extractions_dlib_landmarks(tmp_path, monkeypatch):
    """dlib runs once per video: Run.landmarks (chapters 0 and 1) reads what extraction stored."""
    import agser.landmarks
    from agser.corpora import write_manifest
    from agser.corpora.cremad import cremad_manifest
    from agser.run import Run

    crema = cremad_manifest(DATA / "crema-d-sample")
    crema = crema[crema["video_path"] != ""].head(2)
    path = write_manifest(crema, tmp_path / "manifest.csv", relative=False)
    run = Run({"data": {"source": "manifest", "manifest": str(path)}, "extract": {"workers": 1}},
              work_dir=tmp_path / "work")

    calls = []
    real = agser.landmarks.extract

    def counted(video, **kw):
        calls.append(str(video))
        return real(video, **kw)

    monkeypatch.setattr(agser.landmarks, "extract", counted)
    run.segments_dir()
    assert len(calls) == 2
    landmarks, failures = run.landmarks()
    assert len(calls) == 2, "Run.landmarks ran dlib again instead of reading the store"
    assert failures.empty and set(landmarks) == set(crema["utterance_id"])
    assert all(lm.points.shape[1:] == (68, 2) and lm.success.mean() > 0.95 for lm in landmarks.values())
