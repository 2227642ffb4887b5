"""HFEncoder on tiny wav2vec2 / HuBERT / WavLM models built from configs (no download)."""

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")

from agser.acoustic.hf import HFEncoder  # noqa: E402
from agser.errors import ParameterError  # noqa: E402

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            conv_dim=(16, 16), conv_kernel=(10, 8), conv_stride=(5, 64),
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
# few relative-position buckets, so that the tiny WavLM's short inputs reach the log-spaced ones
TINY_EXTRA = {"wavlm": dict(num_buckets=16, max_bucket_distance=20)}


def _save(kind, folder, preprocessor=True, **config):
    from transformers import (HubertConfig, HubertModel, Wav2Vec2Config, Wav2Vec2FeatureExtractor,
                              Wav2Vec2Model, WavLMConfig, WavLMModel)

    cfg, model = {"wav2vec2": (Wav2Vec2Config, Wav2Vec2Model), "hubert": (HubertConfig, HubertModel),
                  "wavlm": (WavLMConfig, WavLMModel)}[kind]
    import torch

    torch.manual_seed(0)
    model(cfg(**{**TINY, **TINY_EXTRA.get(kind, {}), **config})).save_pretrained(folder)
    if preprocessor:
        Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def w2v(tmp_path_factory):
    return _save("wav2vec2", tmp_path_factory.mktemp("w2v") / "m")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.parametrize("kind", ["wav2vec2", "hubert", "wavlm"])
def test_every_layer_at_50_hz(tmp_path, kind):
    enc = HFEncoder(_save(kind, tmp_path / kind))
    wav = np.random.default_rng(0).normal(size=16000).astype(np.float32)
    out = enc.encode(wav)
    assert enc.n_layers == 3 and enc.dim == 32 and enc.frame_rate == 50.0
    assert out.shape == (3, 50, 32) and out.dtype == np.float32
    assert np.isfinite(out).all()
    # layers differ: each block transforms the one below
    assert not np.allclose(out[0], out[2])


def test_layer_choice_and_frozen_by_default(w2v):
    enc = HFEncoder(w2v, layers=[2])
    assert enc.n_layers == 1
    assert not any(p.requires_grad for p in enc.module.parameters())
    full = HFEncoder(w2v).encode(np.ones(8000, np.float32) * 0.1 + np.sin(np.arange(8000)))
    top = enc.encode(np.ones(8000, np.float32) * 0.1 + np.sin(np.arange(8000)))
    np.testing.assert_allclose(top[0], full[2], rtol=1e-5, atol=1e-6)


def test_finetune_top_layers_get_gradients(w2v):
    import torch

    enc = HFEncoder(w2v, finetune_top=1)
    trainable = {n for n, p in enc.module.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("encoder.layers.1.") for n in trainable)
    h = enc.hidden_states(torch.randn(2, 8000))
    assert h.shape == (3, 2, 25, 32)
    h[-1].sum().backward()
    assert enc.module.encoder.layers[1].feed_forward.output_dense.weight.grad is not None
    assert enc.module.encoder.layers[0].feed_forward.output_dense.weight.grad is None


def test_missing_folder_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        HFEncoder(tmp_path / "no-such-model")


def test_offline_hub_id_is_a_parameter_error():
    with pytest.raises(ParameterError, match="could not be loaded"):
        HFEncoder("facebook/not-a-real-wav2vec2-agser")


def test_folder_without_preprocessor_needs_normalize(tmp_path):
    folder = _save("wav2vec2", tmp_path / "m", preprocessor=False)
    with pytest.raises(ParameterError, match="preprocessor_config"):
        HFEncoder(folder)
    assert HFEncoder(folder, normalize=True).normalize is True


def test_bad_layers_and_finetune_top(w2v):
    folder = w2v
    with pytest.raises(ParameterError, match="layers"):
        HFEncoder(folder, layers=[5])
    with pytest.raises(ParameterError, match="finetune_top"):
        HFEncoder(folder, finetune_top=3)


def test_make_encoder_builds_it(w2v):
    from agser.acoustic import make_encoder

    enc = make_encoder({"encoder": "hf", "options": {"name_or_path": str(w2v)}})
    assert isinstance(enc, HFEncoder) and enc.n_layers == 3


# --- SER with the top encoder blocks fine-tuned (ser.finetune_top) --------------------------------

def _hf_corpus(enc, name, seed, n=12, speakers=4, with_blocks=True):
    """A tiny CorpusData encoded by ``enc``; class = sine frequency, varying lengths (padding)."""
    import pandas as pd

    from agser.ser.data import CorpusData, LayerView

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    uids = np.array([f"{name}-{i}" for i in range(n)])
    feats = {}
    for i in range(n):
        t = np.arange(int(rng.integers(5000, 8001))) / 16000
        wav = np.sin(2 * np.pi * (200 + 150 * labels[i]) * t) + 0.3 * rng.normal(size=t.size)
        feats[uids[i]] = enc.encode(wav.astype(np.float32))
    lengths = np.array([feats[u].shape[1] for u in uids])
    segs = pd.DataFrame({"utt": np.arange(n), "start": 0, "end": lengths // 2,
                         "ipa": np.array(["ɑ", "i"])[np.arange(n) % 2], "cluster": 1, "gesture": -1})
    return CorpusData(corpus=name, features=feats, utterance_id=uids,
                      speaker=np.array([f"{name}{i % speakers}" for i in range(n)]), lengths=lengths,
                      labels=labels, segments=segs,
                      # the hidden state entering the top block (finetune_top=1)
                      block_input=LayerView(feats, -2) if with_blocks else None)


@pytest.fixture(scope="module", params=["wav2vec2", "hubert", "wavlm"])
def ft(request, w2v, tmp_path_factory):
    from agser.ser.finetune import TopBlocks

    import os
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kind = request.param
    folder = w2v if kind == "wav2vec2" else _save(kind, tmp_path_factory.mktemp(kind) / "m")
    enc = HFEncoder(folder)
    return enc, TopBlocks(enc, 1), _hf_corpus(enc, "a", 0), _hf_corpus(enc, "b", 1)


def test_top_blocks_reproduce_the_frozen_top_layer_with_padding(ft):
    import torch

    from agser.ser.finetune import pad_block_input

    _, blocks, src, _ = ft
    bx, bl = pad_block_input([src.block_input[u] for u in src.utterance_id])
    assert len(set(bl.tolist())) > 1  # padded batch
    blocks.eval()
    with torch.no_grad():
        top = blocks(bx, bl)[:, 0].numpy()
    for i, (u, n) in enumerate(zip(src.utterance_id, src.lengths)):
        np.testing.assert_allclose(top[i, :n], src.features[u][-1], atol=2e-5)
        assert not top[i, n:].any()


@pytest.mark.parametrize("stable", [False, True])
def test_wavlm_top_blocks_reproduce_every_top_layer(tmp_path, stable):
    """Both WavLM layer-norm variants; n=1 takes block 0's bias from its frozen copy, n=2 copies
    block 0, which computes the bias itself (and trains it)."""
    import torch

    from agser.ser.finetune import TopBlocks, pad_block_input

    enc = HFEncoder(_save("wavlm", tmp_path / "m", do_stable_layer_norm=stable))
    src = _hf_corpus(enc, "a", 0, n=6)
    for n in (1, 2):
        blocks = TopBlocks(enc, n).eval()
        assert (blocks.bias_attention is None) == (n == 2)
        trainable = {k for k, p in blocks.named_parameters() if p.requires_grad}
        assert ("blocks.0.attention.rel_attn_embed.weight" in trainable) == (n == 2)
        bx, bl = pad_block_input([src.features[u][-1 - n] for u in src.utterance_id])
        assert len(set(bl.tolist())) > 1
        with torch.no_grad():
            top = blocks(bx, bl).numpy()
        for i, (u, m) in enumerate(zip(src.utterance_id, src.lengths)):
            np.testing.assert_allclose(top[i, :, :m], src.features[u][-n:], atol=2e-5)
            assert not top[i, :, m:].any()


FT = {"max_epochs": 3, "patience": 3, "hidden": 8, "batch_size": 4, "device": "cpu", "max_triplets": 32}


def _ser(**kw):
    from agser.run.schema import defaults

    return {**defaults()["ser"], **FT, "frame_pool": 1, **kw}


def test_finetune_top_trains_the_top_block_only(ft):
    import torch

    from agser.ser.estimator import SERClassifier

    enc, blocks, src, tgt = ft
    before = {k: v.clone() for k, v in blocks.state_dict().items()}
    feats_before = {u: f.copy() for u, f in src.features.items()}
    est = SERClassifier(hidden=8, max_epochs=4, batch_size=4, finetune_lr=1e-2)
    est.fit(src.subset(np.arange(len(src))), src.labels, blocks=blocks)
    tuned = est.top_blocks_.state_dict()
    changed = [k for k in before if not torch.equal(before[k], tuned[k])]
    assert changed and any("feed_forward" in k for k in changed)
    # WavLM: block 0's attention, kept only for its position bias, stays frozen
    assert not any(k.startswith("bias_attention.") for k in changed)
    # the blocks handed in, the encoder's own block and the cached frozen features are untouched
    for k, v in blocks.state_dict().items():
        assert torch.equal(v, before[k]), k
    for k, v in enc.module.encoder.layers[1].state_dict().items():
        assert torch.equal(v, before["blocks.0." + k]), k
    for u, f in src.features.items():
        np.testing.assert_array_equal(f, feats_before[u])
    y = est.predict(tgt.subset(np.arange(len(tgt))))
    assert y.shape == (len(tgt),)
    # the test set's top layers come from the tuned blocks: without its block input there is none
    no_blocks = _hf_corpus(enc, "b", 1, with_blocks=False)
    with pytest.raises(Exception):
        est.predict(no_blocks.subset(np.arange(len(no_blocks))))


def test_frozen_run_ignores_block_inputs(ft):
    from agser.ser.protocol import run_experiment

    enc, blocks, src, tgt = ft
    plain = _hf_corpus(enc, "a", 0, with_blocks=False), _hf_corpus(enc, "b", 1, with_blocks=False)
    a = run_experiment("PA", *plain, 0, _ser())
    b = run_experiment("PA", src, tgt, 0, _ser())  # no blocks handed in: the frozen model
    assert a["y_pred"] == b["y_pred"] and a["layer_weights"] == b["layer_weights"]
    np.testing.assert_array_equal(a["history"]["er"], b["history"]["er"])


def test_finetuned_run_is_deterministic_and_reads_no_target_label(ft):
    import dataclasses

    from agser.ser.protocol import run_experiment
    from agser.ser.splits import speaker_split

    _, blocks, src, tgt = ft
    ser = _ser(finetune_top=1, finetune_lr=1e-2)
    a = run_experiment("PA", src, tgt, 0, ser, blocks=blocks)
    b = run_experiment("PA", src, tgt, 0, ser, blocks=blocks)
    assert a["y_pred"] == b["y_pred"] and a["layer_weights"] == b["layer_weights"]
    np.testing.assert_array_equal(a["history"]["er"], b["history"]["er"])
    # the same training whether the adaptation half carries its labels or none at all
    part = speaker_split(tgt.speaker, ser["test_fraction"], 0)
    labels = tgt.labels.copy()
    labels[part == "A"] = -1
    c = run_experiment("PA", src, dataclasses.replace(tgt, labels=labels), 0, ser, blocks=blocks)
    assert c["y_pred"] == a["y_pred"] and c["layer_weights"] == a["layer_weights"]
    np.testing.assert_array_equal(a["history"]["extra"], c["history"]["extra"])


@pytest.mark.slow
def test_ser_run_fine_tunes_through_the_store(tmp_path, w2v):
    """A tiny simulated run with the tiny wav2vec2: ser.finetune_top=1 reads the cached encoder
    pass (block input = layer n_blocks - 1), trains, and caches its result apart from the frozen run."""
    from agser.run import Run

    frozen = Run({"data": {"utterances_per_corpus": 16}, "extract": {"workers": 1},
                  "cluster": {"k_range": [3, 3], "elbow_max_iter": 3, "max_iter": 5},
                  "acoustic": {"encoder": "hf", "options": {"name_or_path": str(w2v), "layers": "all"}},
                  "ser": {"max_epochs": 2, "frame_pool": 1, "hidden": 8}},
                 work_dir=tmp_path)
    tuned = frozen.with_params(**{"ser.finetune_top": 1, "ser.finetune_lr": 1e-3})
    corpora = tuned.ser_corpora()
    c = next(iter(corpora.values()))
    assert c.block_input is not None and set(c.utterance_id) <= set(c.block_input)
    for uid, n in zip(c.utterance_id, c.lengths):
        assert c.block_input[uid].shape == (n, 32)
    frozen_c = next(iter(frozen.ser_corpora().values()))
    assert frozen_c.block_input is None
    uid = c.utterance_id[0]
    np.testing.assert_array_equal(c.block_input[uid], frozen_c.features[uid][1, : c.lengths[0]])
    a = tuned.ser_run("source-only", "C->I", 0)
    b = frozen.ser_run("source-only", "C->I", 0)
    assert 0.0 <= a["uar"] <= 100.0 and a["y_pred"] and b["y_pred"]
    assert len(list((tmp_path / "store" / "ser_run").glob("*.pkl"))) == 2
    with pytest.raises(ParameterError, match="needs acoustic.encoder: hf"):
        tuned.with_params(**{"acoustic.encoder": "logmel", "acoustic.options": {}})


#: Encode a tiny simulated run with an HF encoder in 2 local worker processes (a fresh Python).
PARALLEL_PASS = """
import sys
from agser.run import Run

run = Run({"data": {"utterances_per_corpus": 4}, "extract": {"workers": 2},
           "acoustic": {"encoder": "hf", "options": {"name_or_path": sys.argv[1], "layers": "all"}}},
          work_dir=sys.argv[2])
enc = run.encoded()
print(len(enc["features"]), len(enc["failures"]))
"""


@pytest.mark.slow
def test_hf_encoder_pass_in_worker_processes_finishes(tmp_path, w2v):
    """The encoder pass runs in extract.workers local processes (2 by default); with an HF
    encoder the parent has run torch before they start, and they must not hang for it."""
    import os
    import signal
    import subprocess
    import sys

    script = tmp_path / "parallel_pass.py"
    script.write_text(PARALLEL_PASS)
    # its own session, so that the script and its workers can be ended together
    proc = subprocess.Popen([sys.executable, str(script), str(w2v), str(tmp_path / "work")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # 8 tiny utterances take seconds, whatever the workers' start method
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the HF encoder pass in 2 worker processes did not finish in 120 s: forked "
                    "workers of a parent that has run torch (the encoder_info step) deadlock")
    assert proc.returncode == 0, err
    assert out.split() == ["8", "0"]
