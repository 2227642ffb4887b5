"""The Corpora chapter's measures (agser.analysis.corpora) on a tiny simulated corpus and on known signals."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from agser.analysis import corpora as measures
from agser.errors import InputError, ParameterError
from agser.landmarks.types import Landmarks

DATA = {"seed": 0, "utterances_per_corpus": 8, "simulator": {"speakers_per_corpus": 2}}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from agser.corpora import read_manifest
    from agser.corpora.simulator import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(out, seed=DATA["seed"], utterances_per_corpus=DATA["utterances_per_corpus"], **DATA["simulator"])
    return read_manifest(out / "manifest.csv")


def test_file_measures_one_row_per_utterance_and_a_failure_row_for_bad_audio(sim, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio")
    manifest = pd.concat([sim.iloc[:3], sim.iloc[:1].assign(utterance_id="bad", audio_path=str(broken))],
                         ignore_index=True)
    features, spectra, durations, failures = measures.file_measures(manifest)
    assert features.shape == (4, 86) and spectra.shape == (4, 257) and durations.shape == (4,)
    assert np.isfinite(features[:3]).all() and np.isnan(features[3]).all() and np.isnan(durations[3])
    assert list(failures["utterance_id"]) == ["bad"] and failures.loc[0, "stage"] == "audio"
    wav, sr = sf.read(manifest.loc[0, "audio_path"])
    assert durations[0] == pytest.approx(len(wav) / sr)


def test_file_measures_without_any_readable_audio_says_so(sim, tmp_path):
    missing = sim.iloc[:2].assign(audio_path=str(tmp_path / "none.wav"), video_path="")
    with pytest.raises(InputError, match="no utterance of the run has readable audio"):
        measures.file_measures(missing)


def test_corpus_summary_counts_and_durations(sim):
    durations = np.arange(len(sim), dtype=float)
    table = measures.corpus_summary(sim, durations)
    assert list(table.index) == ["sim-crema", "sim-improv"]
    assert table["utterances"].tolist() == [8, 8] and table["speakers"].tolist() == [2, 2]
    assert table.loc["sim-crema", "max_duration_s"] == durations[(sim["corpus"] == "sim-crema").to_numpy()].max()
    with pytest.raises(ParameterError, match="3 values for 16 manifest rows"):
        measures.corpus_summary(sim, [1.0, 2.0, 3.0])


def test_vowel_shapes_measure_opening_and_width_in_the_eye_aligned_frame():
    seg = pd.DataFrame({"corpus": ["A", "A", "A"], "emotion": ["anger"] * 3, "phone": ["AA", "IY", "K"]})
    m = np.zeros((4, 12, 2))
    m[:, 3, 1], m[:, 9, 1] = -0.1, np.array([0.2, 0.4, 0.4, 0.2])   # points 51 and 57
    m[:, 0, 0], m[:, 6, 0] = -0.4, 0.4                                # corners 48 and 54
    one = np.zeros((1, 12, 2))
    shapes = measures.vowel_shapes(seg, [m, m, one], phones=("AA", "IY", "K"), n_points=4)
    assert list(shapes["phone"]) == ["AA", "IY"]  # a one-frame segment has no trajectory
    assert shapes.loc[0, "height"] == pytest.approx([0.3, 0.5, 0.5, 0.3])
    assert shapes.loc[0, "width"] == pytest.approx([0.8] * 4)
    mid = measures.vowel_midpoints(shapes)
    assert mid.loc[("AA", "A"), "opening / IPD"] == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="3 rows for 2 frame arrays"):
        measures.vowel_shapes(seg, [m, m])


def _face(roll_deg, n=5, scale=50.0):
    """A face whose eye line is rolled by roll_deg (image axes), nose still."""
    pts = np.zeros((n, 68, 2))
    a = np.radians(roll_deg)
    pts[:, 36:42] = [-scale / 2 * np.cos(a), -scale / 2 * np.sin(a)]
    pts[:, 42:48] = [scale / 2 * np.cos(a), scale / 2 * np.sin(a)]
    return Landmarks(pts + 100.0, np.ones(n), np.r_[np.ones(n - 1, bool), False], np.arange(n) / 25)


def test_head_pose_reads_roll_dropped_frames_and_face_size():
    pose = measures.head_pose({"u": _face(10.0), "v": _face(-5.0)}, {"u": "A", "v": "B"})
    assert pose.set_index("utterance_id")["roll_deg"].round(6).to_dict() == {"u": 10.0, "v": -5.0}
    assert pose["dropped"].tolist() == pytest.approx([0.2, 0.2]) and pose["jitter"].tolist() == [0.0, 0.0]
    assert pose["ipd_px"].round(6).tolist() == [50.0, 50.0]
    table = measures.pose_summary(pose)
    assert list(table.index) == ["roll_deg", "jitter", "dropped", "ipd_px"]
    assert table[("A", "mean")]["roll_deg"] == pytest.approx(10.0)


def test_regenerated_example_equals_its_file_and_a_changed_file_is_caught(sim, tmp_path):
    example, wav = measures.regenerate_example(sim, DATA)
    assert {"AA", "IY"} <= {p.rstrip("012") for p in example["alignment"].phones["label"]}
    assert np.abs(wav - example["audio"]).max() < 1e-3
    row = measures.example_utterance_row(sim)
    changed = tmp_path / "changed.wav"
    sf.write(changed, wav * 0.5, 16000)
    other = sim.copy()
    other.loc[other["utterance_id"] == row["utterance_id"], "audio_path"] = str(changed)
    with pytest.raises(InputError, match="differs from the file"):
        measures.regenerate_example(other, DATA)
    assert measures.regenerate_example(sim, DATA, phones=("AA", "ZZZ")) is None


def test_difficulty_table_and_statement_on_the_tiny_corpus(sim):
    features = measures.file_measures(sim)[0]
    diff = measures.difficulty_table(sim, features)
    assert list(diff["kind"]) == ["within", "within", "cross", "cross"]
    assert diff["uar"].between(0, 100).all() and diff["uar_corpus_normalised"].between(0, 100).all()
    s = measures.difficulty_summary(diff)
    assert set(s["within"]) == {"sim-crema", "sim-improv"} and s["paper_upper"] == {"C->C": 66.36, "I->I": 62.1}
    text = measures.difficulty_statement(s, len(sim), 4)
    assert text.startswith("Within corpus, speaker-independent:")
    assert ("inside" if s["in_band"] else "outside") in text
    one_speaker = sim.assign(speaker="S")
    assert measures.difficulty_table(one_speaker, features) is None


def test_difficulty_summary_band_and_paper_losses():
    d = pd.DataFrame({"train": ["A", "B", "A", "B"], "test": ["A", "B", "B", "A"],
                      "kind": ["within", "within", "cross", "cross"], "uar": [80.0, 60.0, 50.0, 55.0],
                      "n_test": 10, "uar_corpus_normalised": [80.0, 60.0, 40.0, 79.0]})
    s = measures.difficulty_summary(d)
    assert not s["in_band"] and s["drop"] == {"B": 10.0, "A": 25.0}
    assert s["normalised_gap"] == {"B": -20.0, "A": -1.0}
    # the paper's smallest loss: AG C->I against the I->I upper bound, 62.10 - 57.37
    assert s["paper_loss"][0] == pytest.approx(4.73)
    assert "Normalisation does not recover all of the loss" in measures.difficulty_statement(s, 10, 2)


def test_corpora_statement():
    m = pd.DataFrame({"utterance_id": list("abc"), "corpus": ["X", "X", "Y"]})
    assert measures.corpora_statement("samples", m, False) == \
        "Run `samples`: 3 utterances in 2 corpora (`X`, `Y`), from the run's manifest."
