"""Audio loading and the pocketsphinx forced aligner on real clips."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from agser.errors import InputError, ParameterError
from agser.phones import PocketsphinxAligner, load_audio, normalize_transcript
from agser.phones.aligner import number_to_words
from agser.phones.ipa import arpabet_to_ipa, is_vowel, strip_stress

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CREMA = DATA / "crema-d-sample"
needs_data = pytest.mark.skipif(not CREMA.is_dir(), reason=f"real sample clips not found at {CREMA}")

DFA = "Don't forget a jacket"
#: The vowels of "Don't forget a jacket" (stress stripped). CMUdict has two
#: variants of "a" (AH0, EY1) and of "jacket" (last vowel AH0 or IH0); the
#: aligner picks the one that fits the audio.
DFA_VOWELS = ["OW", "ER", "EH", ("AH", "EY"), "AE", ("IH", "AH")]


@pytest.fixture(scope="module")
def aligner():
    return PocketsphinxAligner()


def _dfa_clips():
    if not CREMA.is_dir():
        return []
    return sorted(CREMA.glob("*_DFA_*"))


# -- audio ---------------------------------------------------------------------

def test_load_wav_resamples_to_16k(tmp_path):
    t = np.arange(22050) / 22050
    sf.write(tmp_path / "a.wav", np.stack([0.3 * np.sin(2 * np.pi * 200 * t)] * 2, axis=1), 22050)
    y = load_audio(tmp_path / "a.wav")
    assert y.dtype == np.float32 and y.ndim == 1 and abs(len(y) - 16000) <= 1
    assert 0.25 < np.abs(y).max() < 0.35  # stereo averaged, not summed


def test_silent_and_empty_audio(tmp_path):
    sf.write(tmp_path / "quiet.wav", np.full(16000, 1e-4), 16000)  # -80 dBFS
    with pytest.raises(InputError, match="silent") as exc:
        load_audio(tmp_path / "quiet.wav")
    assert exc.value.stage == "audio"
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.mp3").write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(InputError, match="unreadable|cannot decode|zero-length"):
        load_audio(tmp_path / "junk.mp3")
    with pytest.raises(ParameterError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")


@needs_data
@pytest.mark.parametrize("name", ["1001_DFA_ANG_XX.flv", "1002_DFA_NEU_XX.mp3", "../grid/bbaf2n.mpg"])
def test_load_real_media(name):
    y = load_audio(CREMA / name)
    assert y.dtype == np.float32 and 1.5 < len(y) / 16000 < 3.5
    assert np.abs(y).max() <= 1.01


@needs_data
def test_truncated_video_audio(tmp_path):
    src = (CREMA / "1001_DFA_ANG_XX.flv").read_bytes()
    (tmp_path / "cut.flv").write_bytes(src[: len(src) // 2])
    with pytest.raises(InputError, match="truncated"):
        load_audio(tmp_path / "cut.flv")


# -- transcript normalisation ----------------------------------------------------

def test_normalize_transcript():
    assert normalize_transcript("Don’t forget a JACKET.") == ["don't", "forget", "a", "jacket"]
    assert normalize_transcript("'Quoted' well-known 21") == ["quoted", "well", "known", "twenty", "one"]
    assert number_to_words(0) == "zero" and number_to_words(110) == "one hundred ten"


# -- aligner -------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("clip", _dfa_clips(), ids=lambda p: p.stem)
def test_dfa_vowels_plausible(aligner, clip):
    y = load_audio(clip)
    al = aligner.align(y, DFA)
    assert al.words["label"].tolist() == ["don't", "forget", "a", "jacket"]
    ph = al.phones
    vowels = ph[[is_vowel(p) for p in ph["label"]]]
    got = [strip_stress(p) for p in vowels["label"]]
    assert len(got) == len(DFA_VOWELS)
    for g, want in zip(got, DFA_VOWELS):
        assert g in (want if isinstance(want, tuple) else (want,))
    if got[3] == "AH":
        assert arpabet_to_ipa(vowels["label"].iloc[3]) == "ə"  # unstressed "a" is a schwa
    starts, ends = ph["start"].to_numpy(), ph["end"].to_numpy()
    assert np.all(np.diff(starts) > 0) and np.all(ends > starts) and np.all(starts[1:] >= ends[:-1] - 1e-9)
    assert 0 < starts[0] and ends[-1] < len(y) / 16000
    dur = (vowels["end"] - vowels["start"]).to_numpy()
    assert np.all((dur >= 0.03) & (dur <= 0.4)), dur
    # each vowel's middle lies in speech: its 20-ms energy within 35 dB of the clip's peak
    frame = 320
    energy = np.array([np.mean(y[i:i + frame] ** 2) for i in range(0, len(y) - frame, frame)])
    peak = 10 * np.log10(energy.max())
    for mid in (0.5 * (vowels["start"] + vowels["end"])).to_numpy():
        e = energy[min(int(mid * 16000) // frame, len(energy) - 1)]
        assert 10 * np.log10(e + 1e-12) > peak - 35, (clip.name, mid)


@needs_data
def test_mismatched_transcript_rejected(aligner):
    y = load_audio(CREMA / "1001_DFA_ANG_XX.flv")
    with pytest.raises(InputError, match="does not match") as exc:
        aligner.align(y, "I would like a new alarm clock please tomorrow")
    assert exc.value.stage == "phones"
    with pytest.raises(InputError, match="does not match"):
        aligner.align(y, "The surface is slick")
    # the decoder is still usable after a failure
    assert aligner.align(y, DFA).phones.shape[0] == 14


def test_noise_does_not_align(aligner):
    noise = np.random.default_rng(0).normal(0, 0.05, 32000).astype(np.float32)
    with pytest.raises(InputError, match="does not match"):
        aligner.align(noise, DFA)


@needs_data
def test_oov_word_named_or_pronounced():
    y = load_audio(CREMA / "1001_DFA_ANG_XX.flv")
    with pytest.raises(InputError, match="'jakkit'") as exc:
        PocketsphinxAligner().align(y, "don't forget a jakkit")
    assert exc.value.stage == "phones"
    # both ways to give it: the Python keyword and the command-line file
    assert "extra_pronunciations={'jakkit': 'P1 P2 ...'}" in exc.value.reason
    assert "agser extract --pronunciations FILE" in exc.value.reason
    assert "lines 'jakkit P1 P2 ...'" in exc.value.reason
    al = PocketsphinxAligner(extra_pronunciations={"Jakkit": "JH AE1 K AH0 T"}).align(
        y, "don't forget a jakkit")
    assert al.words["label"].iloc[-1] == "jakkit"
    assert al.phones["label"].tolist()[-5:] == ["JH", "AE1", "K", "AH0", "T"]


def test_read_pronunciations(tmp_path):
    from agser.phones.cmudict import read_pronunciations

    p = tmp_path / "extra.dict"
    p.write_text(";;; CMUdict-style\n# comment\n\nJAKKIT  JH AE1 K AH0 T\nagser\tey1 jh s er0\n")
    assert read_pronunciations(p) == {"jakkit": "JH AE1 K AH0 T", "agser": "EY1 JH S ER0"}
    for text, match in (("JAKKIT JH QQ T\n", r"line 1: pronunciation of 'jakkit' .*\(QQ\)"),
                        ("JAKKIT\n", "line 1: 'JAKKIT' must be 'WORD PH1 PH2 ...'"),
                        ("A AH0\nB B IY1\nA EY1\n", "line 3: a second pronunciation of 'a'"),
                        ("A AH0\nA(2) EY1\n", "line 2: a second pronunciation of 'a'")):
        p.write_text(text)
        with pytest.raises(ParameterError, match=match):
            read_pronunciations(p)
    with pytest.raises(ParameterError, match="does not exist"):
        read_pronunciations(tmp_path / "none.dict")


@needs_data
def test_cli_pronunciation_file_on_a_real_clip(tmp_path, capsys):
    """agser extract --pronunciations: the OOV word that failed the row aligns, with its phones."""
    from agser.__main__ import main
    from agser.corpora import make_manifest, write_manifest
    from agser.extract import load_segments

    row = {"utterance_id": "1001_DFA_ANG_XX", "corpus": "crema-d", "speaker": "1001",
           "emotion": "anger", "transcript": "Don't forget a jakkit",
           "video_path": str(CREMA / "1001_DFA_ANG_XX.flv")}
    manifest = write_manifest(make_manifest([row]), tmp_path / "manifest.csv")
    argv = ["extract", "--manifest", str(manifest), "--aligner", "pocketsphinx", "--landmarks", "dlib",
            "--workers", "1", "--no-progress"]
    assert main(argv + ["--out", str(tmp_path / "no")]) == 0
    failures = pd.read_csv(tmp_path / "no" / "failures.csv")
    assert failures["stage"].tolist() == ["phones"]
    assert "--pronunciations FILE" in failures.loc[0, "reason"]
    (tmp_path / "extra.dict").write_text(";;; not in CMUdict\nJAKKIT  JH AE1 K AH0 T\n")
    assert main(argv + ["--out", str(tmp_path / "yes"), "--pronunciations", str(tmp_path / "extra.dict")]) == 0
    assert pd.read_csv(tmp_path / "yes" / "failures.csv").empty
    segs, _ = load_segments(tmp_path / "yes")
    # the last word's phones are the file's (the jaw-open AE of "jakkit" among them)
    assert segs["phone"].tolist()[-5:] == ["JH", "AE", "K", "AH", "T"]
    assert segs["ipa"].tolist()[-4:-2] == ["æ", "k"]
    # a missing file stops before any work
    assert main(argv + ["--out", str(tmp_path / "x"), "--pronunciations", str(tmp_path / "none")]) == 2
    assert "pronunciation file" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_cli_pronunciation_items_override_the_file(tmp_path):
    import argparse

    from agser.cli import extract as cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    (tmp_path / "extra.dict").write_text("JAKKIT  JH AE1 K AH0 T\nAGSER EY1 JH S ER0\n")
    args = parser.parse_args(["--manifest", "m.csv", "--out", "o", "--pronunciations",
                              str(tmp_path / "extra.dict"), "--pronunciation", "Jakkit=JH AE1 K IH0 T"])
    assert cli.pronunciations(args) == {"jakkit": "JH AE1 K IH0 T", "agser": "EY1 JH S ER0"}


def test_bad_pronunciation_is_parameter_error():
    with pytest.raises(ParameterError, match="QQ"):
        PocketsphinxAligner(extra_pronunciations={"x": "QQ AH"}).decoder


def test_decoder_reused_and_pickles_without_it(aligner):
    y = 0.3 * np.sin(np.arange(16000) * 0.05).astype(np.float32)
    with pytest.raises(InputError):
        aligner.align(y, "")
    d = aligner.decoder
    assert aligner.decoder is d
    clone = pickle.loads(pickle.dumps(aligner))
    assert "_decoder" not in clone.__dict__ and clone.min_speech_score == aligner.min_speech_score


# -- boundary evaluation ---------------------------------------------------------

def test_boundary_errors_and_summary():
    import pandas as pd

    from agser.phones.evaluate import boundary_errors, summarize_errors
    from agser.phones.textgrid import Alignment

    words = pd.DataFrame({"label": ["hi"], "start": [0.1], "end": [0.5]})
    ref = Alignment(words, pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.2], "end": [0.2, 0.5]}))
    hyp = Alignment(words, pd.DataFrame({"label": ["HH", "AY"], "start": [0.13, 0.21], "end": [0.21, 0.45]}))
    assert np.allclose(boundary_errors(ref, hyp), [0.03, 0.01, 0.05])
    other = Alignment(words, pd.DataFrame({"label": ["HH", "EY"], "start": [0.1, 0.2], "end": [0.2, 0.5]}))
    assert boundary_errors(ref, other) is None
    # matched: only the HH run is paired (its start and end)
    assert np.allclose(boundary_errors(ref, other, matched=True), [0.0, 0.0])
    s = summarize_errors([0.01, 0.03, 0.05, 0.2])
    assert s == {"boundaries": 4, "median_ms": 40.0, "mean_ms": 72.5,
                 "within_20ms_pct": 25.0, "within_50ms_pct": 75.0}


def test_evaluate_aligner_on_simulated(tmp_path):
    from agser.corpora import read_manifest
    from agser.corpora.simulator import simulate
    from agser.phones.evaluate import evaluate_aligner

    m = read_manifest(simulate(tmp_path, seed=1, utterances_per_corpus=2))
    ev = evaluate_aligner(m, n_utterances=3, seed=0)
    assert len(ev) == 3 and set(ev["corpus"]) == {"sim-crema", "sim-improv"}
    measured = ev[ev["phone_errors"].notna()]
    for errs in measured["phone_errors"]:
        assert errs.ndim == 1 and np.all(errs >= 0)
