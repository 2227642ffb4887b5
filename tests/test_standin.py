"""The stand-in corpora (real release layouts, real adapters), attach_files, the stand-in wav2vec2."""

import argparse
import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agser.corpora import read_manifest
from agser.corpora.cremad import cremad_manifest
from agser.corpora.manifest import attach_files, make_manifest
from agser.corpora.standin import cremad_name, mspimprov_name, write_standin
from agser.errors import ParameterError

KNOBS = dict(seed=3, utterances_per_corpus=12, speakers_per_corpus=4)


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """The stand-in and, for comparison, the simulator's own output for the same seed and knobs."""
    from agser.corpora.simulator import simulate

    out = tmp_path_factory.mktemp("standin")
    sim = tmp_path_factory.mktemp("sim")
    return out, read_manifest(write_standin(out, **KNOBS)), read_manifest(simulate(sim, **KNOBS))


def test_standin_is_laid_out_as_the_releases(standin):
    out, m, _ = standin
    crema, msp = m[m["corpus"] == "crema-d"], m[m["corpus"] == "msp-improv"]
    assert len(crema) == len(msp) == 12
    for r in crema.itertuples():
        assert Path(r.audio_path) == (out / "CREMA-D" / "AudioWAV" / f"{r.utterance_id}.wav").resolve()
    for r in msp.itertuples():
        name = r.utterance_id
        session, sent, kind = int(name.split("-")[3][1:]), name.split("-")[2], name.split("-")[4]
        assert Path(r.audio_path) == (out / "MSP-IMPROV" / "Audio" / f"session{session}" / sent / kind
                                      / f"{name}.wav").resolve()
    for r in m.itertuples():
        folder = "CREMA-D" if r.corpus == "crema-d" else "MSP-IMPROV"
        assert Path(r.landmarks_path) == (out / "OpenFace" / folder / f"{r.utterance_id}.csv").resolve()
        assert Path(r.alignment_path) == (out / "MFA" / folder / f"{r.utterance_id}.TextGrid").resolve()
        assert Path(r.articulation_path) == (out / "truth" / folder / f"{r.utterance_id}.csv").resolve()
    assert (out / "CREMA-D" / "processedResults" / "tabulatedVotes.csv").is_file()
    assert (out / "MSP-IMPROV" / "Evalution.txt").is_file()
    # nothing of the simulator's own folders is left behind
    assert not list(out.glob(".simulator-*")) and not (out / "sim-crema").exists()
    # the corpus codes of the SER directions
    from agser.corpora import CORPUS_CODES

    assert {CORPUS_CODES[c] for c in m["corpus"]} == {"C", "I"}


def test_standin_through_the_adapters_equals_the_simulator(standin):
    """Speakers, emotions, transcripts and every file's bytes, matched through standin_map.csv."""
    out, m, sim = standin
    mapping = pd.read_csv(out / "standin_map.csv", dtype=str, keep_default_na=False)
    assert (mapping["dropped"] == "").all() and len(mapping) == len(sim)
    got = m.set_index("utterance_id")
    ref = sim.set_index("utterance_id")
    speakers = {}
    for row in mapping.itertuples():
        g, r = got.loc[row.utterance_id], ref.loc[row.simulator_id]
        assert g["emotion"] == r["emotion"] and g["transcript"] == r["transcript"]
        assert {"sim-crema": "crema-d", "sim-improv": "msp-improv"}[r["corpus"]] == g["corpus"]
        speakers.setdefault(r["speaker"], set()).add(g["speaker"])
        for col in ("audio_path", "landmarks_path", "alignment_path", "articulation_path"):
            assert filecmp.cmp(g[col], r[col], shallow=False), (row.utterance_id, col)
    # one release speaker per simulated speaker and back
    assert all(len(v) == 1 for v in speakers.values())
    assert len({next(iter(v)) for v in speakers.values()}) == len(speakers) == 8
    # the simulator's speakers alternate female, male: so do the release's ids and demographics
    for sim_speaker, (release,) in speakers.items():
        female = int(sim_speaker[1:]) % 2 == 1
        if sim_speaker.startswith("I"):
            assert release[0] == ("F" if female else "M")
    demo = pd.read_csv(out / "CREMA-D" / "VideoDemographics.csv", dtype=str).set_index("ActorID")["Sex"]
    for r in m[m["corpus"] == "crema-d"].itertuples():
        assert r.sex == demo[r.speaker] == ("Female" if int(r.speaker) % 2 == 1 else "Male")


def test_standin_vote_labels_agree(standin):
    """tabulatedVotes.csv and Evalution.txt carry the simulated emotion as their plurality / consensus."""
    out, m, _ = standin
    votes = cremad_manifest(out / "CREMA-D", labels="vote").set_index("utterance_id")
    crema = m[m["corpus"] == "crema-d"].set_index("utterance_id")
    assert (votes.loc[crema.index, "emotion"] == crema["emotion"]).all()
    assert (votes["vote_agreement"] > 0.5).all()
    msp = m[m["corpus"] == "msp-improv"]
    assert (msp["label_code"] == msp["emotion"].map({"anger": "A", "happiness": "H", "neutral": "N",
                                                     "sadness": "S"})).all()
    assert (msp["target_emotion"] == msp["emotion"]).all()


def test_standin_manifest_is_relative_and_moves(standin, tmp_path):
    import shutil

    out, m, _ = standin
    text = (out / "manifest.csv").read_text()
    assert str(out) not in text
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    again = read_manifest(moved / "manifest.csv")
    assert all(Path(p).is_file() and str(moved) in p for p in again["landmarks_path"])
    pd.testing.assert_frame_equal(again.drop(columns=[c for c in again if c.endswith("_path")]),
                                  m.drop(columns=[c for c in m if c.endswith("_path")]))


@pytest.mark.slow
def test_standin_leaves_out_a_fifth_repeat_and_says_so(tmp_path):
    """One speaker, 25 clips per emotion over 12 sentences: some sentence and emotion come five times."""
    out = tmp_path / "s"
    m = read_manifest(write_standin(out, seed=0, utterances_per_corpus=100, speakers_per_corpus=1))
    mapping = pd.read_csv(out / "standin_map.csv", dtype=str, keep_default_na=False)
    dropped = mapping[mapping["dropped"] != ""]
    assert len(dropped) > 0 and (dropped["corpus"] == "crema-d").all()
    assert dropped["dropped"].str.contains("CREMA-D names hold 4 levels").all()
    crema = m[m["corpus"] == "crema-d"]
    assert len(crema) == 100 - len(dropped) and set(crema["level"]) == {"XX", "HI", "MD", "LO"}
    assert len(m[m["corpus"] == "msp-improv"]) == 100  # turns number the repeats: none left out


def test_release_names():
    assert cremad_name("C03", "ITS", "happiness", repeat=3) == "1003_ITS_HAP_LO"
    with pytest.raises(ParameterError, match="4 levels"):
        cremad_name("C03", "ITS", "happiness", repeat=4)
    with pytest.raises(ParameterError, match="emotion='fear'"):
        cremad_name("C03", "ITS", "fear")
    assert mspimprov_name("I05", "S14", "sadness", turn=12) == ("MSP-IMPROV-S14S-F03-T-FM12", "F03", 3)
    with pytest.raises(ParameterError, match="sentence='IEO'"):
        mspimprov_name("I05", "IEO", "sadness")


# ---------------------------------------------------------------- attach_files
def _manifest(ids):
    return make_manifest([{"utterance_id": u, "corpus": "c", "speaker": "s", "audio_path": f"/a/{u}.wav"}
                          for u in ids])


def test_attach_files_flat_and_recursive(tmp_path):
    (tmp_path / "of").mkdir()
    (tmp_path / "of" / "u1.csv").write_text("x")
    (tmp_path / "of" / "sub").mkdir()
    (tmp_path / "of" / "sub" / "u2.csv").write_text("y")
    (tmp_path / "of" / "u1.txt").write_text("other suffix")
    m = _manifest(["u1", "u2"])
    flat = attach_files(m, "landmarks_path", tmp_path / "of", ".csv", missing="empty")
    assert flat["landmarks_path"].tolist() == [str((tmp_path / "of" / "u1.csv").resolve()), ""]
    deep = attach_files(m, "landmarks_path", tmp_path / "of", ".csv", recursive=True)
    assert deep["landmarks_path"].tolist() == [str((tmp_path / "of" / "u1.csv").resolve()),
                                               str((tmp_path / "of" / "sub" / "u2.csv").resolve())]
    # a new path column, kept by write/read as a path (relative to the manifest, read back absolute)
    from agser.corpora import write_manifest

    new = attach_files(m, "openface_path", tmp_path / "of", ".csv", recursive=True)
    back = read_manifest(write_manifest(new, tmp_path / "m.csv"))
    assert back["openface_path"].tolist() == deep["landmarks_path"].tolist()
    assert "of/u1.csv" in (tmp_path / "m.csv").read_text()
    # the input is not changed
    assert (m["landmarks_path"] == "").all()


def test_attach_files_missing_keeps_or_errors(tmp_path):
    (tmp_path / "u1.TextGrid").write_text("")
    m = _manifest(["u1", "u2", "u3", "u4", "u5"])
    m.loc[1, "alignment_path"] = "/elsewhere/u2.TextGrid"
    kept = attach_files(m, "alignment_path", tmp_path, ".TextGrid", missing="empty")
    assert kept["alignment_path"].tolist()[:3] == [str((tmp_path / "u1.TextGrid").resolve()),
                                                   "/elsewhere/u2.TextGrid", ""]
    with pytest.raises(ParameterError) as err:
        attach_files(m, "alignment_path", tmp_path, ".TextGrid")
    msg = str(err.value)
    assert "4 of 5 utterances have no file <utterance_id>.TextGrid" in msg
    assert "u2.TextGrid" in msg and "and 1 more" in msg


def test_attach_files_bad_arguments(tmp_path):
    m = _manifest(["u1"])
    with pytest.raises(ParameterError, match="folder '.*nope' is not a folder"):
        attach_files(m, "landmarks_path", tmp_path / "nope", ".csv")
    with pytest.raises(ParameterError, match="column='landmarks' must be a path column"):
        attach_files(m, "landmarks", tmp_path, ".csv")
    with pytest.raises(ParameterError, match="missing='skip'"):
        attach_files(m, "landmarks_path", tmp_path, ".csv", missing="skip")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "u1.csv").write_text("")
    (tmp_path / "b" / "u1.csv").write_text("")
    with pytest.raises(ParameterError, match="'u1.csv' is found twice"):
        attach_files(m, "landmarks_path", tmp_path, ".csv", recursive=True)


def test_corpus_cli_attaches_openface_and_mfa_folders(standin, tmp_path, capsys):
    from agser.cli import corpus as cli

    out, m, _ = standin
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    dest = tmp_path / "crema.csv"
    args = parser.parse_args(["--kind", "crema-d", "--root", str(out / "CREMA-D"), "--out", str(dest),
                              "--landmarks-dir", str(out / "OpenFace"), "--alignments-dir", str(out / "MFA")])
    assert cli.run(args) == 0
    got = read_manifest(dest).set_index("utterance_id")
    ref = m[m["corpus"] == "crema-d"].set_index("utterance_id")
    assert got.loc[ref.index, "landmarks_path"].tolist() == ref["landmarks_path"].tolist()
    assert got.loc[ref.index, "alignment_path"].tolist() == ref["alignment_path"].tolist()
    printed = capsys.readouterr().out
    assert "landmarks_path: 12 of 12 utterances have a file" in printed
    # a clip OpenFace did not process: reported, and its row left to the built-in detector
    other = tmp_path / "of"
    other.mkdir()
    first = ref.index[0]
    (other / f"{first}.csv").write_bytes(Path(ref.loc[first, "landmarks_path"]).read_bytes())
    args = parser.parse_args(["--kind", "crema-d", "--root", str(out / "CREMA-D"), "--out", str(dest),
                              "--landmarks-dir", str(other)])
    assert cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "landmarks_path: 1 of 12 utterances have a file" in printed and "11 have none" in printed
    assert "dlib" in printed
    assert (read_manifest(dest)["landmarks_path"] != "").sum() == 1


# ------------------------------------------------------------- the stand-in wav2vec2
@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_standin_wav2vec2_loads_offline_like_a_checkpoint(tmp_path, offline):
    import torch

    from agser.acoustic import make_encoder
    from agser.acoustic.standin import write_standin_wav2vec2

    state = torch.random.get_rng_state()
    folder = write_standin_wav2vec2(tmp_path / "m", num_hidden_layers=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random stream untouched
    assert {p.name for p in folder.iterdir()} >= {"config.json", "preprocessor_config.json"}
    enc = make_encoder({"encoder": "hf", "options": {"name_or_path": str(folder), "layers": "all"}})
    assert (enc.n_layers, enc.dim, enc.frame_rate, enc.normalize) == (4, 32, 50.0, True)
    wave = np.random.default_rng(0).normal(size=48000).astype(np.float32)
    out = enc.encode(wave)
    assert out.shape == (4, 149, 32) and np.isfinite(out).all()
    assert not np.allclose(out[1], out[3])


def test_standin_wav2vec2_is_seeded(tmp_path, offline):
    from agser.acoustic.hf import HFEncoder
    from agser.acoustic.standin import write_standin_wav2vec2
    from agser.store import fingerprint

    a, b, c = (write_standin_wav2vec2(tmp_path / n, seed=s) for n, s in (("a", 0), ("b", 0), ("c", 1)))
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    wave = np.random.default_rng(1).normal(size=16000).astype(np.float32)
    ea, ec = HFEncoder(a).encode(wave), HFEncoder(c).encode(wave)
    np.testing.assert_array_equal(ea, HFEncoder(b).encode(wave))
    assert not np.allclose(ea, ec)


def test_standin_wav2vec2_bad_configuration(tmp_path):
    from agser.acoustic.standin import write_standin_wav2vec2

    with pytest.raises(ParameterError, match="num_hidden_layers=0 must be a positive integer"):
        write_standin_wav2vec2(tmp_path, num_hidden_layers=0)
    with pytest.raises(ParameterError, match="one entry per conv layer"):
        write_standin_wav2vec2(tmp_path, conv_stride=(5, 8))
    with pytest.raises(ParameterError, match="multiple of num_conv_pos_embedding_groups=5"):
        write_standin_wav2vec2(tmp_path, num_conv_pos_embedding_groups=5)
    with pytest.raises(ParameterError, match="hidden_sise is not a Wav2Vec2Config key"):
        write_standin_wav2vec2(tmp_path, hidden_sise=8)
    with pytest.raises(ParameterError, match="conv_dim=8 must be a non-empty list"):
        write_standin_wav2vec2(tmp_path, conv_dim=8)
