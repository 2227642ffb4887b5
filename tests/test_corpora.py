"""Corpus adapters, each on a small fake tree laid out like the real corpus."""

import argparse
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from agser.corpora import read_manifest
from agser.corpora.adapters import build_manifest
from agser.corpora.cremad import KNOWN_BAD, cremad_manifest, parse_cremad_name, read_cremad_votes
from agser.corpora.csv_manifest import csv_manifest
from agser.corpora.grid import decode_grid_sentence, grid_manifest, read_grid_align
from agser.corpora.mspimprov import mspimprov_manifest, parse_mspimprov_name
from agser.errors import ParameterError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
META = DATA / "crema-d-meta"
VOTES = META / "tabulatedVotes.csv"
needs_votes = pytest.mark.skipif(
    not VOTES.is_file(), reason=f"real CREMA-D metadata not found at {META}"
)


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


# ----------------------------------------------------------------- CREMA-D
@pytest.fixture
def crema(tmp_path):
    root = tmp_path / "CREMA-D"
    for stem in ("1001_DFA_ANG_XX", "1001_IEO_HAP_LO", "1076_MTI_NEU_XX"):
        touch(root / "AudioWAV" / f"{stem}.wav")
        touch(root / "AudioMP3" / f"{stem}.mp3")
    touch(root / "AudioMP3" / "1002_IOM_SAD_HI.mp3")  # MP3 only
    touch(root / "VideoFlash" / "1001_DFA_ANG_XX.flv")
    touch(root / "VideoFlash" / "1001_IOM_ANG_XX.flv")  # video only; a tie in the votes
    touch(root / "AudioWAV" / "._1001_DFA_ANG_XX.wav")  # macOS junk, ignored
    return root


def test_cremad_intended_labels_media_and_flags(crema):
    m = cremad_manifest(crema).set_index("utterance_id")
    assert list(m.index) == sorted(
        ["1001_DFA_ANG_XX", "1001_IEO_HAP_LO", "1076_MTI_NEU_XX", "1002_IOM_SAD_HI", "1001_IOM_ANG_XX"]
    )
    r = m.loc["1001_DFA_ANG_XX"]
    assert (r.corpus, r.speaker, r.emotion, r.level, r.sentence) == (
        "crema-d", "1001", "anger", "XX", "DFA")
    assert r.transcript == "Don't forget a jacket"
    assert r.audio_path == str((crema / "AudioWAV" / "1001_DFA_ANG_XX.wav").resolve())  # WAV first
    assert r.video_path == str((crema / "VideoFlash" / "1001_DFA_ANG_XX.flv").resolve())
    assert r.frame_rate == pytest.approx(29.97)
    mp3 = m.loc["1002_IOM_SAD_HI"]
    assert mp3.audio_path.endswith("AudioMP3/1002_IOM_SAD_HI.mp3") and mp3.video_path == ""
    assert math.isnan(mp3.frame_rate)
    assert (mp3.emotion, mp3.transcript) == ("sadness", "I'm on my way to the meeting")
    assert m.loc["1001_IEO_HAP_LO", "transcript"] == "It's eleven o'clock"
    assert m.loc["1001_IOM_ANG_XX", "audio_path"] == ""
    bad = m.loc["1076_MTI_NEU_XX"]
    assert bad.flag == "bad" and "no audio" in bad.flag_reason
    assert (m["flag"] == "bad").sum() == 1
    kept = cremad_manifest(crema, drop_flagged=True)
    assert "1076_MTI_NEU_XX" not in set(kept["utterance_id"]) and len(kept) == len(m) - 1


def test_cremad_known_bad_list():
    assert set(KNOWN_BAD) == {"1076_MTI_NEU_XX", "1076_MTI_SAD_XX", "1064_TIE_SAD_XX", "1064_IEO_DIS_MD"}


def test_cremad_bad_names_name_the_file(tmp_path):
    root = tmp_path / "c"
    f = touch(root / "AudioWAV" / "1001_DFA_XYZ_XX.wav")
    with pytest.raises(ParameterError, match=r"1001_DFA_XYZ_XX\.wav.*unknown emotion code 'XYZ'"):
        cremad_manifest(root)
    assert str(f.parent) in str(pytest.raises(ParameterError, cremad_manifest, root).value)
    f.unlink()
    touch(root / "AudioWAV" / "1001_ABC_ANG_XX.wav")
    with pytest.raises(ParameterError, match="unknown sentence code 'ABC'"):
        cremad_manifest(root)
    with pytest.raises(ParameterError, match="not ActorID_Sentence_Emotion_Level"):
        parse_cremad_name("notes.wav")
    with pytest.raises(ParameterError, match="unknown level 'ZZ'"):
        parse_cremad_name("1001_DFA_ANG_ZZ")


def test_cremad_missing_or_empty_root(tmp_path):
    with pytest.raises(ParameterError, match="is not a folder"):
        cremad_manifest(tmp_path / "nowhere")
    (tmp_path / "empty" / "AudioWAV").mkdir(parents=True)
    with pytest.raises(ParameterError, match="no .wav/.mp3/.flv clips"):
        cremad_manifest(tmp_path / "empty")
    with pytest.raises(ParameterError, match="labels='vote' needs tabulatedVotes.csv"):
        touch(tmp_path / "v" / "AudioWAV" / "1001_DFA_ANG_XX.wav")
        cremad_manifest(tmp_path / "v", labels="vote")


def test_cremad_flat_folder(tmp_path):
    touch(tmp_path / "1001_DFA_SAD_XX.flv")
    m = cremad_manifest(tmp_path)
    assert m.loc[0, "video_path"].endswith("1001_DFA_SAD_XX.flv") and m.loc[0, "emotion"] == "sadness"


@needs_votes
def test_cremad_vote_labels_from_real_tabulated_votes(crema):
    (crema / "processedResults").mkdir()
    shutil.copy(VOTES, crema / "processedResults" / "tabulatedVotes.csv")
    shutil.copy(META / "VideoDemographics.csv", crema / "VideoDemographics.csv")
    m = cremad_manifest(crema, labels="vote").set_index("utterance_id")
    # 1001_IEO_HAP_LO: raters who saw and heard it said happy; those who only heard it, neutral.
    assert m.loc["1001_IEO_HAP_LO", "emotion"] == "happiness"
    assert m.loc["1001_IEO_HAP_LO", "intended_emotion"] == "happiness"
    assert 0 < m.loc["1001_IEO_HAP_LO", "vote_agreement"] <= 1
    # A tie (F:N in summaryTable.csv) is unlabelled, not guessed.
    assert m.loc["1001_IOM_ANG_XX", "vote"] == "F:N"
    assert m.loc["1001_IOM_ANG_XX", "emotion"] == ""
    assert m.loc["1001_IOM_ANG_XX", "intended_emotion"] == "anger"
    assert m.loc["1001_DFA_ANG_XX", "sex"] == "Male" and m.loc["1002_IOM_SAD_HI", "sex"] == "Female"
    audio = cremad_manifest(crema, labels="vote", vote_modality="audio").set_index("utterance_id")
    assert audio.loc["1001_IEO_HAP_LO", "emotion"] == "neutral"
    no_ties = cremad_manifest(crema, labels="vote", drop_ties=True)
    assert "1001_IOM_ANG_XX" not in set(no_ties["utterance_id"])
    assert len(no_ties) == len(m) - 1


@needs_votes
def test_cremad_votes_match_summary_table_for_every_clip():
    """The modality digits and the plurality rule reproduce summaryTable.csv exactly."""
    summary = pd.read_csv(META / "summaryTable.csv", keep_default_na=False).set_index("FileName")
    for modality, column in (("audio", "VoiceVote"), ("video", "FaceVote"),
                             ("audio-visual", "MultiModalVote")):
        votes = read_cremad_votes(VOTES, modality=modality)
        assert len(votes) == len(summary) == 7442
        assert (votes["vote"] == summary.loc[votes.index, column]).all(), modality
    tab = pd.read_csv(VOTES, keep_default_na=False)
    av = read_cremad_votes(VOTES)
    assert set(av["vote_emotion"]) == {"", "anger", "disgust", "fear", "happiness", "neutral", "sadness"}
    assert set(tab["emoVote"]) >= set(av["vote"])
    with pytest.raises(ParameterError, match="vote_modality='smell'"):
        read_cremad_votes(VOTES, modality="smell")


# -------------------------------------------------------------- MSP-IMPROV
EVALUATION = """\
UTD-IMPROV-S01A-F01-R-FM01.avi; A; A:3.833333; V:2.000000; D:3.666667; N:3.000000
UTD-IMPROV-S01A-F01-R-FM01-p1; Angry; A:4.0; V:2.0; D:4.0; N:3.0
UTD-IMPROV-S01A-F01-R-FM01-p2; Frustrated; A:3.5; V:2.0; D:3.5; N:3.0

UTD-IMPROV-S01A-M01-S-MF02.avi; N; A:2.500000; V:3.000000; D:3.000000; N:4.000000
UTD-IMPROV-S01A-M01-S-MF02-p1; Neutral; A:2.5; V:3.0; D:3.0; N:4.0

UTD-IMPROV-S02H-F01-P-FM03.avi; X; A:3.000000; V:3.500000; D:3.000000; N:3.500000

UTD-IMPROV-S05S-M02-T-MF01.avi; S; A:1.500000; V:1.800000; D:2.000000; N:3.200000
"""


@pytest.fixture
def msp(tmp_path):
    root = tmp_path / "MSP-IMPROV"
    clips = [
        ("session1", "S01A", "R", "MSP-IMPROV-S01A-F01-R-FM01"),
        ("session1", "S01A", "S", "MSP-IMPROV-S01A-M01-S-MF02"),
        ("session1", "S02H", "P", "MSP-IMPROV-S02H-F01-P-FM03"),
        ("session2", "S05S", "T", "MSP-IMPROV-S05S-M02-T-MF01"),
    ]
    for session, sent, kind, stem in clips:
        touch(root / "Audio" / session / sent / kind / f"{stem}.wav")
        touch(root / "Video" / session / sent / kind / f"{stem}.avi")
    touch(root / "Audio" / "session2" / "S06N" / "R" / "MSP-IMPROV-S06N-F02-R-FF01.wav")  # unrated
    (root / "Evalution.txt").write_text(EVALUATION)
    return root


def test_mspimprov_consensus_labels(msp):
    m = mspimprov_manifest(msp).set_index("utterance_id")
    assert len(m) == 5
    r = m.loc["MSP-IMPROV-S01A-F01-R-FM01"]
    assert (r.corpus, r.speaker, r.emotion, r.session, r.scenario) == ("msp-improv", "F01", "anger", 1, "R")
    assert r.audio_path.endswith("Audio/session1/S01A/R/MSP-IMPROV-S01A-F01-R-FM01.wav")
    assert r.video_path.endswith("Video/session1/S01A/R/MSP-IMPROV-S01A-F01-R-FM01.avi")
    assert r.arousal == pytest.approx(3.833333) and r.scenario_type == "target sentence, read"
    assert m.loc["MSP-IMPROV-S01A-M01-S-MF02", "emotion"] == "neutral"
    assert m.loc["MSP-IMPROV-S01A-M01-S-MF02", "speaker"] == "M01"
    assert m.loc["MSP-IMPROV-S05S-M02-T-MF01", "emotion"] == "sadness"
    # X (no agreement) and a clip missing from the evaluation file are unlabelled.
    assert m.loc["MSP-IMPROV-S02H-F01-P-FM03", ["emotion", "label_code"]].tolist() == ["", "X"]
    assert m.loc["MSP-IMPROV-S06N-F02-R-FF01", "emotion"] == ""
    assert m.loc["MSP-IMPROV-S06N-F02-R-FF01", "video_path"] == ""
    assert set(m["speaker"]) == {"F01", "M01", "M02", "F02"}
    assert len(mspimprov_manifest(msp, drop_unlabelled=True)) == 3


def test_mspimprov_intended_and_transcripts(msp, tmp_path):
    (tmp_path / "tx.csv").write_text("utterance_id,transcript\nMSP-IMPROV-S01A-F01-R-FM01,hello there\n")
    m = mspimprov_manifest(msp, labels="intended", transcripts=tmp_path / "tx.csv")
    m = m.set_index("utterance_id")
    assert m.loc["MSP-IMPROV-S02H-F01-P-FM03", "emotion"] == "happiness"  # scenario target
    assert m.loc["MSP-IMPROV-S01A-F01-R-FM01", "transcript"] == "hello there"
    assert m.loc["MSP-IMPROV-S05S-M02-T-MF01", "transcript"] == ""


def test_mspimprov_errors(msp, tmp_path):
    (msp / "Evalution.txt").unlink()
    with pytest.raises(ParameterError, match="Evalution.txt"):
        mspimprov_manifest(msp)
    touch(msp / "Audio" / "session1" / "S01A" / "R" / "MSP-IMPROV-S01Q-F01-R-FM09.wav")
    with pytest.raises(ParameterError, match="MSP-IMPROV-S01Q-F01-R-FM09.wav"):
        mspimprov_manifest(msp, labels="intended")
    with pytest.raises(ParameterError, match="not a folder"):
        mspimprov_manifest(tmp_path / "nowhere")
    assert parse_mspimprov_name("UTD-IMPROV-S20N-F06-P-FM12.avi")["utterance_id"] == (
        "MSP-IMPROV-S20N-F06-P-FM12")


# -------------------------------------------------------------------- GRID
def test_grid_sentence_decoding():
    assert decode_grid_sentence("bbaf2n.mpg") == "bin blue at f two now"
    assert decode_grid_sentence("lwbsza") == "lay white by s zero again"
    assert decode_grid_sentence("pgiv9p") == "place green in v nine please"
    with pytest.raises(ParameterError, match="unknown colour code 'x'"):
        decode_grid_sentence("bxaf2n")
    with pytest.raises(ParameterError, match="unknown letter code 'w'"):
        decode_grid_sentence("bbaw2n")
    with pytest.raises(ParameterError, match="6 codes"):
        decode_grid_sentence("bbaf2")


def test_grid_tree_with_talker_folders(tmp_path):
    root = tmp_path / "GRID"
    touch(root / "video" / "s1" / "bbaf2n.mpg")
    touch(root / "video" / "s1" / "swwp2s.mpg")
    touch(root / "audio_25k" / "s1" / "bbaf2n.wav")
    touch(root / "video" / "s2" / "bbaf2n.mpg")
    (root / "alignments" / "s1").mkdir(parents=True)
    (root / "alignments" / "s1" / "swwp2s.align").write_text(
        "0 12250 sil\n12250 19250 set\n19250 27250 white\n")
    m = grid_manifest(root).set_index("utterance_id")
    assert sorted(m.index) == ["s1_bbaf2n", "s1_swwp2s", "s2_bbaf2n"]
    r = m.loc["s1_bbaf2n"]
    assert (r.corpus, r.speaker, r.emotion, r.transcript) == ("grid", "s1", "neutral", "bin blue at f two now")
    assert r.audio_path.endswith("audio_25k/s1/bbaf2n.wav") and r.video_path.endswith("video/s1/bbaf2n.mpg")
    assert r.frame_rate == 25.0 and m.loc["s2_bbaf2n", "audio_path"] == ""
    al = read_grid_align(m.loc["s1_swwp2s", "word_alignment_path"])
    assert al["label"].tolist() == ["set", "white"]
    assert al["start"].tolist() == pytest.approx([0.49, 0.77])
    assert m.loc["s1_swwp2s", "alignment_path"] == ""  # word alignment is not a phone TextGrid


def test_grid_flat_folder_needs_speaker(tmp_path, capsys):
    from agser.__main__ import main

    touch(tmp_path / "bbaf2n.mpg")
    with pytest.raises(ParameterError, match="pass speaker=ID"):
        grid_manifest(tmp_path)
    assert grid_manifest(tmp_path, speaker="s9").loc[0, "utterance_id"] == "s9_bbaf2n"
    # on the command line the message names the flag, not the Python keyword
    assert main(["corpus", "--kind", "grid", "--root", str(tmp_path), "--out", str(tmp_path / "m.csv")]) == 2
    err = capsys.readouterr().err
    assert "pass --speaker ID" in err and "(e.g. --speaker s1)" in err and "speaker=" not in err
    assert main(["corpus", "--kind", "grid", "--root", str(tmp_path), "--out", str(tmp_path / "m.csv"),
                 "--speaker", "s9"]) == 0


@pytest.mark.skipif(not (DATA / "grid").is_dir(), reason=f"no GRID samples at {DATA / 'grid'}")
def test_grid_real_samples():
    m = grid_manifest(DATA / "grid", speaker="grid")
    assert len(m) == 11
    r = m.set_index("utterance_id").loc["grid_swwp2s"]
    assert r.transcript == "set white with p two soon"
    words = read_grid_align(r.word_alignment_path)
    assert words["label"].tolist() == ["set", "white", "with", "p", "two", "soon"]
    assert words["end"].iloc[-1] == pytest.approx(55250 / 25000)


# --------------------------------------------------------------------- CSV
def test_csv_manifest_mapping_and_relative_paths(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "list.csv").write_text(
        "file,who,label,wav,notes\n"
        "a1,spk1,ang,media/a1.wav,loud\n"
        "a2,spk2,,/abs/a2.wav,\n"
    )
    m = csv_manifest(tmp_path / "list.csv", corpus="mine", emotion_map={"ang": "anger"},
                     columns={"utterance_id": "file", "speaker": "who", "emotion": "label",
                              "audio_path": "wav"})
    assert m["emotion"].tolist() == ["anger", ""]
    assert m.loc[0, "audio_path"] == str(tmp_path.resolve() / "media" / "a1.wav")
    assert m.loc[1, "audio_path"] == "/abs/a2.wav"
    assert m.loc[0, "notes"] == "loud" and m.loc[0, "video_path"] == ""


def test_csv_manifest_errors(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("utterance_id,speaker,emotion,audio_path\nu1,s1,angry,x.wav\n")
    with pytest.raises(ParameterError, match="no 'corpus' column"):
        csv_manifest(p)
    with pytest.raises(ParameterError, match=r"row 0: column 'emotion' has unknown label 'angry'"):
        csv_manifest(p, corpus="c")
    with pytest.raises(ParameterError, match="no column 'lbl'"):
        csv_manifest(p, corpus="c", columns={"emotion": "lbl"})
    with pytest.raises(ParameterError, match="does not exist"):
        csv_manifest(tmp_path / "none.csv")


# ----------------------------------------------------------- entry points
def test_build_manifest_dispatch_and_bad_options(crema):
    assert len(build_manifest("crema-d", crema)) == 5
    with pytest.raises(ParameterError, match="takes no option 'speaker'"):
        build_manifest("crema-d", crema, speaker="x")
    with pytest.raises(ParameterError, match="kind='timit'"):
        build_manifest("timit", crema)


def test_corpus_cli_writes_a_readable_manifest(crema, tmp_path, capsys):
    from agser.cli import corpus as cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "out" / "manifest.csv"
    args = parser.parse_args(["--kind", "crema-d", "--root", str(crema), "--out", str(out),
                              "--drop-flagged"])
    assert cli.run(args) == 0
    m = read_manifest(out)
    assert len(m) == 4 and "4 utterances" in capsys.readouterr().out
    assert Path(m.loc[0, "audio_path"]).is_absolute()
    bad = parser.parse_args(["--kind", "grid", "--root", str(crema), "--out", str(out),
                             "--labels", "vote"])
    with pytest.raises(ParameterError, match="--labels does not apply to --kind grid"):
        cli.run(bad)


def test_corpus_cli_csv_with_column_mapping(tmp_path):
    from agser.cli import corpus as cli

    (tmp_path / "list.csv").write_text("file,who,label,wav\nq1,spk,ang,a.wav\n")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "m.csv"
    args = parser.parse_args([
        "--kind", "csv", "--root", str(tmp_path / "list.csv"), "--out", str(out), "--corpus", "mine",
        "--column", "utterance_id=file", "--column", "speaker=who", "--column", "emotion=label",
        "--column", "audio_path=wav", "--emotion-map", "ang=anger"])
    assert cli.run(args) == 0
    m = read_manifest(out)
    assert m.loc[0, ["utterance_id", "corpus", "speaker", "emotion"]].tolist() == ["q1", "mine", "spk", "anger"]
    with pytest.raises(ParameterError, match="--column 'oops' must look like NAME=VALUE"):
        cli.run(parser.parse_args(["--kind", "csv", "--root", str(tmp_path / "list.csv"),
                                   "--out", str(out), "--column", "oops"]))
    with pytest.raises(ParameterError, match="--column does not apply to --kind grid"):
        cli.run(parser.parse_args(["--kind", "grid", "--root", str(tmp_path), "--out", str(out),
                                   "--column", "a=b"]))
