"""The built-in simulator: determinism, output formats, physical plausibility."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agser.corpora import read_manifest
from agser.corpora.simulator import corpus_configs, simulate, simulate_utterance
from agser.corpora.simulator.face import mouth_points
from agser.corpora.simulator.synth import formant_tracks
from agser.corpora.simulator.articulation import phone_targets
from agser.corpora.simulator.text import CREMA_SENTENCES, IMPROV_SENTENCES, pronounce
from agser.errors import ParameterError
from agser.landmarks.openface import read_openface_csv
from agser.phones.ipa import arpabet_to_ipa
from agser.phones.textgrid import read_textgrid

N = 4  # utterances per corpus: enough for every format, fast


def _hashes(folder):
    folder = Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    return simulate(out, seed=3, utterances_per_corpus=N)


def test_deterministic_for_a_seed(sim, tmp_path):
    again = simulate(tmp_path / "again", seed=3, utterances_per_corpus=N)
    assert _hashes(sim.parent) == _hashes(again.parent)
    other = simulate(tmp_path / "other", seed=4, utterances_per_corpus=N)
    a, b = _hashes(sim.parent), _hashes(other.parent)
    assert a.keys() != b.keys() or any(a[k] != b[k] for k in a)
    wav = [k for k in a if k.endswith(".wav") and k in b]
    assert all(a[k] != b[k] for k in wav)


def test_manifest(sim):
    m = read_manifest(sim)
    assert len(m) == 2 * N
    assert set(m["corpus"]) == {"sim-crema", "sim-improv"}
    assert set(m["emotion"]) <= {"neutral", "anger", "happiness", "sadness"}
    assert {"frame_rate", "sentence"} <= set(m.columns)
    rates = m.groupby("corpus")["frame_rate"].first().astype(float).to_dict()
    assert rates == {"sim-crema": 30.0, "sim-improv": 25.0}
    # speakers unique across corpora
    by = m.groupby("speaker")["corpus"].nunique()
    assert (by == 1).all()
    crema = m[m["corpus"] == "sim-crema"]
    assert set(crema["transcript"]) <= set(CREMA_SENTENCES.values())
    assert set(m[m["corpus"] == "sim-improv"]["transcript"]) <= set(IMPROV_SENTENCES.values())
    # paths are written relative to the manifest, so the folder can move
    raw = sim.read_text().splitlines()[1]
    assert ",sim-crema/wav/" in raw


def test_output_formats(sim):
    m = read_manifest(sim)
    for row in m.itertuples():
        audio, sr = sf.read(row.audio_path)
        assert sr == 16000 and audio.ndim == 1
        info = sf.info(row.audio_path)
        assert info.channels == 1 and info.subtype == "PCM_16"
        dur = len(audio) / sr
        assert 1.0 < dur < 3.6
        lm = read_openface_csv(row.landmarks_path)
        assert lm.points.shape[1:] == (68, 2)
        assert lm.success.mean() > 0.7
        assert abs(lm.frame_rate - float(row.frame_rate)) < 0.5
        assert lm.timestamps[-1] <= dur
        al = read_textgrid(row.alignment_path)
        assert al.duration == pytest.approx(dur, abs=1e-3)
        assert " ".join(al.words["label"]) == " ".join(
            w for w, _ in pronounce(row.transcript)
        )
        phones = [p for _, ps in pronounce(row.transcript) for p in ps]
        assert al.phones["label"].tolist() == phones
        for p in phones:
            arpabet_to_ipa(p)  # every label is ARPAbet


def test_all_sentence_words_in_cmudict():
    for text in list(CREMA_SENTENCES.values()) + list(IMPROV_SENTENCES.values()):
        assert pronounce(text)
    with pytest.raises(ParameterError, match="not in CMUdict"):
        pronounce("the blorptastic zzyzx")


def test_simulate_utterance_matches_written_files(sim):
    m = read_manifest(sim)
    row = m[m["corpus"] == "sim-improv"].iloc[1]
    u = simulate_utterance("sim-improv", index=1, seed=3)
    audio, _ = sf.read(row["audio_path"], dtype="float32")
    assert len(audio) == len(u["audio"])
    np.testing.assert_allclose(audio, u["audio"], atol=1.0 / 32768 * 1.01)
    assert u["emotion"] == row["emotion"] and u["text"] == row["transcript"]
    tr = u["tracks"]
    assert tr["formants"].shape == (len(tr["time"]), 5)
    assert set(["jaw", "spread", "round", "closure", "f0"]) <= set(tr)


def test_vowel_formants_and_mouths_plausible():
    """/i/: low F1, high F2, wide and barely open; /ɑ/: high F1, open mouth."""
    def at(phone):
        _, target, _ = phone_targets(phone)[0]
        state = {k: np.r_[v] for k, v in target.items()}
        f, _ = formant_tracks(state, vtl=17.0)
        mp = mouth_points(state)[0]
        return f[0], mp[9, 1] - mp[3, 1], mp[6, 0] - mp[0, 0]  # 57-51 height, 54-48 width

    (f_i, h_i, w_i), (f_a, h_a, w_a), (f_u, h_u, w_u) = at("IY1"), at("AA1"), at("UW1")
    assert f_i[0] < 400 and f_i[1] > 2000
    assert f_a[0] > 650 and f_a[1] < 1300
    assert f_u[0] < 400 and f_u[1] < 1200
    assert h_a > 1.5 * h_i and w_i > w_a > w_u


def test_vowel_formants_in_synthesised_tracks():
    """Coarticulated vowels in running speech keep /i/ and /ɑ/ apart."""
    f = {"IY": [], "AA": []}
    for i in range(6):
        u = simulate_utterance("sim-crema", index=i, seed=0)
        tr, ph = u["tracks"], u["alignment"].phones
        scale = u["speaker"].vtl / 17.0  # back to a 17 cm tract
        for lab, s, e in ph[["label", "start", "end"]].itertuples(index=False):
            if lab[:2] in f:
                k = np.argmin(np.abs(tr["time"] - (s + e) / 2))
                f[lab[:2]].append(tr["formants"][k, :2] * scale)
    i, a = np.mean(f["IY"], axis=0), np.mean(f["AA"], axis=0)
    assert len(f["IY"]) and len(f["AA"])
    assert i[0] < 400 and i[1] > 1700
    assert a[0] > i[0] + 200 and a[1] < i[1] - 600


def test_shift_knobs():
    c0, c1 = corpus_configs(shift=0.0), corpus_configs(shift=1.0)
    assert c0["sim-improv"].snr_db == c0["sim-crema"].snr_db
    assert c1["sim-improv"].snr_db < c1["sim-crema"].snr_db
    assert c1["sim-improv"].band_hz < c0["sim-improv"].band_hz
    assert c0["sim-improv"].expression_mix == 0 < c1["sim-improv"].expression_mix
    assert c1["sim-crema"] == corpus_configs(shift=3.0)["sim-crema"]  # the reference stays put
    assert corpus_configs(rt60_s=0.4)["sim-crema"].rt60_s == 0.4
    with pytest.raises(ParameterError, match="unknown simulator knob"):
        corpus_configs(loudness=3)
    with pytest.raises(ParameterError, match="shift"):
        corpus_configs(shift=-1)
    with pytest.raises(ParameterError, match="utterances_per_corpus"):
        simulate("/nonexistent-never-written", utterances_per_corpus=0)


def test_emotion_cues_spread_not_fixed():
    """Anger is higher and louder than sadness on average, with spread."""
    from agser.corpora.simulator.emotion import emotion_cues
    from agser.corpora.simulator.speakers import make_speakers

    rng = np.random.default_rng(0)
    speakers = make_speakers("C", 6, rng)
    cues = {e: np.array([[emotion_cues(e, s, rng)[c] for c in ("f0_st", "level_db")]
                         for s in speakers for _ in range(10)]) for e in ("anger", "sadness")}
    assert (cues["anger"].mean(0) > cues["sadness"].mean(0) + 2).all()
    assert (cues["anger"].std(0) > 0.5).all()
    # the distributions overlap: some sad utterances are louder than some angry ones
    assert cues["sadness"][:, 1].max() > cues["anger"][:, 1].min()


# ---- the Corpora chapter, executed with papermill ----------------------------------

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_corpora_chapter_runs(tmp_path):
    import jupytext
    import nbformat
    import papermill

    nb = jupytext.read(REPO / "book" / "corpora.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "corpora.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "corpora_out.ipynb"
    data = {"source": "simulate", "seed": 1, "utterances_per_corpus": 8,
            "simulator": {"speakers_per_corpus": 2}}
    papermill.execute_notebook(
        str(src), str(out),
        parameters={"run": "test", "work_dir": str(tmp_path / "work"),
                    "tables_dir": str(tmp_path / "tables"), "repo_root": str(REPO), "data": data},
        cwd=str(REPO), kernel_name="python3", progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert images >= 4
    assert "16 utterances in 2 corpora" in text
    assert "Within corpus, speaker-independent" in text
    assert (tmp_path / "tables" / "corpora_difficulty.csv").is_file()
