"""HFEncoder on tiny wav2vec2 / HuBERT / WavLM models built from configs (no download)."""

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")

from agser.acoustic.hf import HFEncoder  # noqa: E402
from agser.errors import ParameterError  # noqa: E402

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            conv_dim=(16, 16), conv_kernel=(10, 8), conv_stride=(5, 64),
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)


def _save(kind, folder, preprocessor=True):
    from transformers import (HubertConfig, HubertModel, Wav2Vec2Config, Wav2Vec2FeatureExtractor,
                              Wav2Vec2Model, WavLMConfig, WavLMModel)

    cfg, model = {"wav2vec2": (Wav2Vec2Config, Wav2Vec2Model), "hubert": (HubertConfig, HubertModel),
                  "wavlm": (WavLMConfig, WavLMModel)}[kind]
    import torch

    torch.manual_seed(0)
    model(cfg(**TINY)).save_pretrained(folder)
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
