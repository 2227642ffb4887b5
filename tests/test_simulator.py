"""The built-in simulator: determinism, output formats, physical plausibility."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from agser.corpora import read_manifest
from agser.corpora.simulator import (
    ARTICULATION_COLUMNS,
    corpus_configs,
    corpus_plan,
    read_articulation,
    simulate,
    simulate_utterance,
)
from agser.corpora.simulator.face import mouth_points
from agser.corpora.simulator.synth import formant_tracks
from agser.corpora.simulator.articulation import phone_targets
from agser.corpora.simulator.text import CREMA_SENTENCES, IMPROV_SENTENCES, pronounce
from agser.errors import InputError, ParameterError
from agser.landmarks.openface import read_openface_csv
from agser.phones.ipa import arpabet_to_ipa
from agser.phones.textgrid import read_textgrid

N = 4  # utterances per corpus: enough for every format, fast
REPO = Path(__file__).resolve().parents[1]


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
        assert 1.0 < dur < 4.5  # slow sad utterances reach about 4.1 s (CREMA-D clips: 1-5 s)
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


# ---- the plan: every emotion in every corpus, balanced over speakers --------------

def test_corpus_plan_balanced_for_any_size():
    """Property over many sizes: all four emotions, counts within one, per speaker too."""
    emotions = ("neutral", "anger", "happiness", "sadness")
    for n_speakers in range(1, 21):
        for n in list(range(4, 170)) + [239, 240, 641]:
            plan = corpus_plan(n, n_speakers)
            assert len(plan) == n
            assert [s for s, _ in plan] == [i % n_speakers for i in range(n)]
            assert [e for _, e in plan[:4]] == list(emotions), (n, n_speakers)
            counts = [sum(e == emo for _, e in plan) for emo in emotions]
            assert max(counts) - min(counts) <= 1, (n, n_speakers, counts)
            for s in range(n_speakers):
                mine = [e for sp, e in plan if sp == s]
                c = [mine.count(emo) for emo in emotions]
                assert max(c) - min(c) <= 1, (n, n_speakers, s, c)
                if n % (4 * n_speakers) == 0:
                    assert len(set(c)) == 1, (n, n_speakers, s, c)
                # the emotions rotate: each speaker's utterances 4q .. 4q+3 have all four
                for q in range(len(mine) // 4):
                    assert set(mine[4 * q:4 * q + 4]) == set(emotions), (n, n_speakers, s, q)
    # an utterance's plan does not depend on the corpus size (simulate_utterance relies on it)
    assert corpus_plan(40, 6)[:17] == corpus_plan(17, 6)
    with pytest.raises(ParameterError, match="n_speakers=0"):
        corpus_plan(4, 0)


def test_cli_small_corpus_has_every_emotion(tmp_path):
    """The filed issue: 24 utterances per corpus used to have no sadness."""
    import subprocess
    import sys

    out = tmp_path / "cli"
    res = subprocess.run(
        [sys.executable, "-m", "agser", "simulate", "--out", str(out), "--utterances-per-corpus", "24"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert res.returncode == 0, res.stderr
    m = read_manifest(out / "manifest.csv")
    for corpus, rows in m.groupby("corpus"):
        assert rows["emotion"].value_counts().to_dict() == {
            "neutral": 6, "anger": 6, "happiness": 6, "sadness": 6}, corpus
        per_speaker = rows.groupby("speaker")["emotion"].nunique()
        assert len(per_speaker) == 8 and (per_speaker == 3).all()  # 3 utterances each, 3 emotions


# ---- the articulatory truth on disk -------------------------------------------------

def test_articulation_files_hold_the_audio_articulation(sim):
    m = read_manifest(sim)
    assert "articulation_path" in m.columns
    raw = sim.read_text().splitlines()[1]
    assert ",sim-crema/articulation/" in raw  # relative, as the other paths
    for corpus, rows in m.groupby("corpus"):
        for index, row in enumerate(rows.itertuples()):
            art = read_articulation(row.articulation_path)
            assert list(art.columns) == list(ARTICULATION_COLUMNS)
            lm = read_openface_csv(row.landmarks_path)
            assert len(art) == lm.n_frames
            np.testing.assert_array_equal(art["time"].to_numpy(), lm.timestamps)
            # the same text, too: the timestamp column of the landmark CSV
            stamps = [line.split(", ")[2] for line in Path(row.landmarks_path).read_text().splitlines()[1:]]
            times = [line.split(",")[0] for line in Path(row.articulation_path).read_text().splitlines()[1:]]
            assert stamps == times
            u = simulate_utterance(corpus, index=index, seed=3)
            assert u["sentence"] == row.sentence
            for name in ARTICULATION_COLUMNS[1:]:
                np.testing.assert_allclose(art[name], u["frame_state"][name], rtol=0, atol=5.1e-7)
            # the frame state is the audio's trajectories at the frame times
            np.testing.assert_allclose(
                np.interp(u["frame_state"]["time"], u["tracks"]["time"], u["tracks"]["jaw"]),
                u["frame_state"]["jaw"], atol=0.05)


def test_read_articulation_bad_files(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(ParameterError, match="nope.csv"):
        read_articulation(missing)
    good = "time,jaw,spread,round,closure\n0.000,0.1,0,0,0.6\n0.040,0.2,0,0,0.5\n"
    cases = {
        "truncated.csv": good[:-12],                      # last row cut short
        "columns.csv": "time,jaw\n0.0,0.1\n",             # lip parameters missing
        "empty.csv": "",
        "header.csv": "time,jaw,spread,round,closure\n",  # no frames
        "text.csv": good.replace("0.2", "abc"),
        "order.csv": good.replace("0.040", "0.000"),      # times do not increase
        "binary.csv": b"\xff\xfe\x00garbage\x00\n",
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(InputError, match=name):
            read_articulation(p)
    p = tmp_path / "good.csv"
    p.write_text(good)
    assert read_articulation(p)["closure"].tolist() == [0.6, 0.5]


# ---- the decoupled control ------------------------------------------------------------

DEC = dict(seed=3, utterances_per_corpus=8, speakers_per_corpus=2)  # 4 utterances per speaker


@pytest.fixture(scope="module")
def coupled(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("coupled"), **DEC)


@pytest.fixture(scope="module")
def decoupled(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("decoupled"), decouple_gestures=True, **DEC)


def test_decouple_false_is_the_default_byte_for_byte(sim, tmp_path):
    off = simulate(tmp_path / "off", seed=3, utterances_per_corpus=N, decouple_gestures=False)
    assert _hashes(off.parent) == _hashes(sim.parent)
    assert "gesture_donor" not in read_manifest(off).columns


def test_decoupled_changes_only_the_faces(coupled, decoupled):
    a, b = _hashes(coupled.parent), _hashes(decoupled.parent)
    assert a.keys() - {"manifest.csv"} == b.keys() - {"manifest.csv"}
    for key in a:
        if key == "manifest.csv":
            continue
        if "/landmarks/" in key:
            assert a[key] != b[key], key
        else:  # wav, TextGrid and articulation truth: this utterance's own
            assert a[key] == b[key], key
    mc, md = read_manifest(coupled), read_manifest(decoupled)
    assert mc.drop(columns=[c for c in mc.columns if c.endswith("_path")]).equals(
        md.drop(columns=[c for c in md.columns if c.endswith("_path")] + ["gesture_donor"]))
    # decoupled faces keep this utterance's head pose and dropped frames
    for rc, rd in zip(mc.itertuples(), md.itertuples()):
        lc, ld = read_openface_csv(rc.landmarks_path), read_openface_csv(rd.landmarks_path)
        np.testing.assert_array_equal(lc.success, ld.success)
        np.testing.assert_allclose(lc.points[lc.success, 36:48], ld.points[ld.success, 36:48], atol=2e-3)
    # deterministic for the seed
    again = simulate(Path(str(decoupled.parent) + "-again"), decouple_gestures=True, **DEC)
    assert _hashes(again.parent) == b


def test_decoupled_donor_same_speaker_other_sentence(decoupled):
    m = read_manifest(decoupled).set_index("utterance_id")
    for uid, row in m.iterrows():
        donor = m.loc[row["gesture_donor"]]
        assert donor["corpus"] == row["corpus"] and donor["speaker"] == row["speaker"]
        assert donor["sentence"] != row["sentence"] and donor["transcript"] != row["transcript"]
    # simulate_utterance returns the same decoupled utterance, donor included
    for corpus in ("sim-crema", "sim-improv"):
        rows = m[m["corpus"] == corpus]
        index = 5
        row = rows.iloc[index]
        u = simulate_utterance(corpus, index=index, decouple_gestures=True, **DEC)
        assert rows.index[u["donor"]] == row["gesture_donor"]
        lm = read_openface_csv(row["landmarks_path"])
        ok = lm.success
        np.testing.assert_allclose(lm.points[ok], u["landmarks"].points[ok], atol=5.1e-4)
        coupled_u = simulate_utterance(corpus, index=index, **DEC)
        np.testing.assert_array_equal(u["audio"], coupled_u["audio"])
        for name in ("jaw", "closure"):
            np.testing.assert_array_equal(u["frame_state"][name], coupled_u["frame_state"][name])
            assert not np.array_equal(u["face_state"][name], u["frame_state"][name])
    with pytest.raises(ParameterError, match="decouple_gestures='yes'"):
        simulate_utterance("sim-crema", decouple_gestures="yes")
    with pytest.raises(ParameterError, match="index=8"):
        simulate_utterance("sim-crema", index=8, decouple_gestures=True, **DEC)


def _opening_and_jaws(manifest_path):
    """Per utterance: (lip opening on the landmarks, own true jaw, donor's true jaw warped)."""
    m = read_manifest(manifest_path).set_index("utterance_id")
    out = []
    for uid, row in m.iterrows():
        lm = read_openface_csv(row["landmarks_path"])
        opening = np.linalg.norm(lm.points[:, 57] - lm.points[:, 51], axis=1)  # lower - upper lip
        own = read_articulation(row["articulation_path"])
        donor_jaw = None
        if "gesture_donor" in m.columns:
            d = m.loc[row["gesture_donor"]]
            dart = read_articulation(d["articulation_path"])
            scale = read_textgrid(d["alignment_path"]).duration / read_textgrid(row["alignment_path"]).duration
            donor_jaw = np.interp(own["time"] * scale, dart["time"], dart["jaw"])
        out.append((opening[lm.success], own["jaw"].to_numpy()[lm.success],
                    None if donor_jaw is None else donor_jaw[lm.success]))
    return out


def test_decoupled_mouth_follows_the_donor(coupled, decoupled):
    """The face of a decoupled utterance moves with its donor's jaw, not with its own."""
    corr = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731
    with_own_coupled = [corr(o, j) for o, j, _ in _opening_and_jaws(coupled)]
    dec = _opening_and_jaws(decoupled)
    with_donor = np.array([corr(o, d) for o, _, d in dec])
    with_own = np.array([corr(o, j) for o, j, _ in dec])
    assert np.mean(with_own_coupled) > 0.6          # the measure works on coupled faces
    assert np.mean(with_donor) > 0.6
    assert np.mean(with_own) < np.mean(with_donor) - 0.3
    assert (with_donor > with_own).mean() >= 0.9


# ---- the Corpora chapter, executed with papermill ----------------------------------


@pytest.mark.slow
def test_corpora_chapter_runs(tmp_path, book_root, execute_chapter):
    data = {"source": "simulate", "seed": 1, "utterances_per_corpus": 8,
            "simulator": {"speakers_per_corpus": 2}}
    root = book_root(tmp_path / "root", "test", {"data": data})
    executed = execute_chapter("corpora", root, "test")
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert images >= 4
    assert "16 utterances in 2 corpora" in text
    assert "Within corpus, speaker-independent" in text
    assert (root / "papermill_runs" / "test" / "tables" / "corpora_difficulty.csv").is_file()
