"""Built-in acoustic encoder and span pooling."""

import numpy as np
import pytest

from agser.acoustic import Encoder, LogMelEncoder, make_encoder, pool_spans
from agser.errors import InputError, ParameterError

SR = 16000


def _tone(freq, seconds, sr=SR):
    return (0.3 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def test_logmel_shape_and_protocol():
    enc = LogMelEncoder(n_mels=24)
    assert isinstance(enc, Encoder)
    assert (enc.sample_rate, enc.frame_rate, enc.n_layers, enc.dim) == (16000, 100.0, 4, 24)
    feats = enc.encode(_tone(300, 0.5))
    assert feats.shape == (4, 1 + 8000 // 160, 24)
    assert feats.dtype == np.float32
    assert np.all(np.isfinite(feats))


def test_logmel_layers_mean_what_they_say():
    enc = LogMelEncoder(n_mels=40)
    low, high = enc.encode(_tone(300, 0.5)), enc.encode(_tone(3000, 0.5))
    # The loudest mel band follows the tone's frequency.
    assert np.argmax(low[0, 25]) < np.argmax(high[0, 25])
    # A steady tone: delta is ~0 in the middle, cmn has zero mean per band.
    assert np.abs(low[1, 10:-10]).max() < 0.05 * np.abs(low[0]).max()
    np.testing.assert_allclose(low[2].mean(axis=0), 0.0, atol=1e-4)
    # MFCC is an orthonormal transform of the log mel: frame norms agree.
    np.testing.assert_allclose(np.linalg.norm(low[3], axis=1), np.linalg.norm(low[0], axis=1), rtol=1e-4)


def test_logmel_bad_input():
    enc = LogMelEncoder()
    with pytest.raises(InputError):
        enc.encode(np.zeros(0, dtype=np.float32))
    with pytest.raises(InputError):
        enc.encode(np.full(100, np.nan, dtype=np.float32))
    with pytest.raises(ParameterError):
        enc.encode(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ParameterError, match="n_mels"):
        LogMelEncoder(n_mels=0).encode(_tone(300, 0.1))


def test_pool_spans_against_loop():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(3, 50, 5)).astype(np.float32)
    spans = np.array([[0.0, 0.1], [0.105, 0.2], [0.33, 0.331], [0.45, 0.6]])
    out = pool_spans(feats, 100.0, spans)
    assert out.shape == (4, 3, 5)
    times = np.arange(50) / 100.0
    for j, (s, e) in enumerate(spans[:2]):
        sel = (times >= s) & (times < e)
        np.testing.assert_allclose(out[j], feats[:, sel].mean(axis=1), rtol=1e-5, atol=1e-6)
    # no frame centre inside [0.33, 0.331): the frame nearest its midpoint (33)
    np.testing.assert_allclose(out[2], feats[:, 33], rtol=1e-6)
    # span running past the end keeps the frames that exist (45..49)
    np.testing.assert_allclose(out[3], feats[:, 45:].mean(axis=1), rtol=1e-5, atol=1e-6)


def test_pool_spans_frame_offset_and_errors():
    feats = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    # frames centred at 0.0125 + t/50 (HF-style 20 ms hop): [0.0, 0.05) holds t = 0, 1
    assert pool_spans(feats, 50.0, [[0.0, 0.05]], frame_offset=0.0125)[0, 0, 0] == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="ends before"):
        pool_spans(feats, 100.0, [[0.2, 0.1]])
    with pytest.raises(ParameterError):
        pool_spans(feats[0], 100.0, [[0.0, 0.1]])


def test_make_encoder():
    assert make_encoder().dim == 40
    assert make_encoder({"encoder": "logmel", "options": {"n_mels": 16}}).dim == 16
    with pytest.raises(ParameterError, match="nope"):
        make_encoder({"encoder": "nope"})


def test_load_waveform_resamples_and_flags_bad_files(tmp_path):
    import soundfile as sf

    from agser.acoustic import load_waveform

    path = tmp_path / "tone.wav"
    sf.write(path, _tone(440, 0.5, sr=8000), 8000)
    wav = load_waveform(path)
    assert wav.dtype == np.float32 and wav.shape == (8000,)
    with pytest.raises(InputError, match="does not exist"):
        load_waveform(tmp_path / "missing.wav")
    sf.write(tmp_path / "silent.wav", np.zeros(8000, dtype=np.float32), 16000)
    with pytest.raises(InputError):
        load_waveform(tmp_path / "silent.wav")


# -- the run-level encoder pass (agser.run.Run) ---------------------------------

ENC = {"encoder": "logmel", "options": {"n_mels": 16}}
TINY_EXTRACT = {"landmarks": "auto", "aligner": "auto", "workers": 1}


@pytest.mark.slow
def test_acoustic_segments_are_keyed_by_audio_content(tmp_path):
    """Two simulations whose manifests and segment tables are byte-identical but whose audio
    differs (another SNR) must not share embeddings in one store; keying on the manifest's
    text did share them."""
    import pandas as pd

    from agser.run import Run

    runs = []
    for snr in (5.0, 30.0):
        params = {"data": {"source": "simulate", "seed": 0, "utterances_per_corpus": 4,
                           "simulator": {"snr_db": snr}},
                  "extract": TINY_EXTRACT, "acoustic": ENC}
        run = Run(params, work_dir=tmp_path / "work")
        manifest = run.manifest_path().read_text()
        segments = pd.read_parquet(run.segments_dir() / "segments.parquet")
        runs.append((manifest, segments, run.acoustic_segments()))
    # the premise: nothing but the audio tells the two apart
    assert runs[0][0] == runs[1][0] and runs[0][1].equals(runs[1][1])
    a, b = runs[0][2]["embeddings"], runs[1][2]["embeddings"]
    assert a.shape == b.shape and np.isfinite(a).all() and np.isfinite(b).all()
    assert not np.allclose(a, b)
    # and the second is what a fresh store computes for that simulation
    fresh = Run(params, work_dir=tmp_path / "fresh").acoustic_segments()
    np.testing.assert_array_equal(fresh["embeddings"], b)


@pytest.mark.slow
def test_one_encoder_pass_feeds_segments_and_ser_with_failure_rows(tmp_path):
    """Chapter 5's segment embeddings and SER's features come from the same cached frames;
    a missing and an unreadable audio file are failure rows in both, not a stopped run."""
    from agser.corpora import read_manifest, write_manifest
    from agser.corpora.simulator import simulate
    from agser.extract import load_segments
    from agser.run import Run

    manifest = read_manifest(simulate(tmp_path / "sim", seed=0, utterances_per_corpus=3))
    missing, broken = manifest["utterance_id"].iloc[0], manifest["utterance_id"].iloc[4]
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wav")
    manifest.loc[0, "audio_path"] = str(tmp_path / "missing.wav")
    manifest.loc[4, "audio_path"] = str(tmp_path / "broken.wav")
    write_manifest(manifest, tmp_path / "manifest.csv")
    params = {"data": {"source": "manifest", "manifest": str(tmp_path / "manifest.csv")},
              "extract": TINY_EXTRACT, "acoustic": ENC, "ser": {"frame_pool": 4}}
    work = tmp_path / "work"

    enc = Run(params, work_dir=work).encoded()
    assert list(enc["failures"]["utterance_id"]) == [missing, broken]
    assert "does not exist" in enc["failures"]["reason"].iloc[0]
    assert list(enc["features"]) == [u for u in manifest["utterance_id"] if u not in (missing, broken)]
    # one memory-mappable .npy per encoded utterance; the unreadable file's failure is stored
    # too (the same bytes fail the same way), the missing one's is not (no content to key by)
    stored = sorted((work / "store" / "encoded_utterance").glob("*.npy"))
    assert len(stored) == len(enc["features"])
    assert not list((work / "store" / "encoded_utterance").glob("*.pkl"))
    assert len(list((work / "store" / "encoded_utterance-failed").glob("*.pkl"))) == 1

    # another Run object on the same work folder: the same stored frames, nothing encoded again
    run = Run(params, work_dir=work)
    mtimes = [p.stat().st_mtime_ns for p in stored]
    seg = run.acoustic_segments()
    corpora = run.ser_corpora()
    assert sorted((work / "store" / "encoded_utterance").glob("*.npy")) == stored
    assert [p.stat().st_mtime_ns for p in stored] == mtimes
    # SER reads those frames (pooled over ser.frame_pool as it reads them) and has the same failures
    assert list(run.ser_failures()["utterance_id"]) == [missing, broken]
    assert sorted(u for c in corpora.values() for u in c.utterance_id) == sorted(enc["features"])
    for c in corpora.values():
        assert c.pool == 4 and c.frame_rate == enc["frame_rate"] / 4
        assert list(c.features) == list(enc["features"])

    segments, _ = load_segments(run.segments_dir())
    # failure rows for the failed utterances that have segments (extraction may drop one
    # without audio before: it is then extraction's failure row)
    assert broken in set(segments["utterance_id"])
    assert set(seg["failures"]["utterance_id"]) == {missing, broken} & set(segments["utterance_id"])
    uid = list(enc["features"])[0]
    frames = enc["features"][uid]
    assert isinstance(run.store.load(enc["features"].keys_[uid], mmap=True), np.memmap), \
        "stored frames can be read memory-mapped"
    assert frames.dtype == np.float32 and frames.shape[0] == enc["n_layers"] == 4
    rows = np.flatnonzero(segments["utterance_id"].to_numpy() == uid)
    np.testing.assert_array_equal(
        seg["embeddings"][rows],
        pool_spans(frames, enc["frame_rate"], segments[["start", "end"]].to_numpy()[rows],
                   frame_offset=enc["frame_offset"]))
    from agser.ser.data import pool_frames

    T = frames.shape[1] // 4 * 4
    corpus = next(c for c in corpora.values() if uid in set(c.utterance_id))
    assert corpus.lengths[list(corpus.utterance_id).index(uid)] == T // 4
    np.testing.assert_allclose(pool_frames(corpus.features[uid], corpus.pool),
                               frames[:, :T].reshape(4, T // 4, 4, -1).mean(2), rtol=1e-6)
    bad = np.isin(segments["utterance_id"].to_numpy(), [missing, broken])
    assert np.isnan(seg["embeddings"][bad]).all() and np.isfinite(seg["embeddings"][~bad]).all()
