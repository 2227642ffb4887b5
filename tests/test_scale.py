"""SER at scale: features read from the store batch by batch, deterministic on CPU, fine-tuned blocks.

The features live in a real :class:`agser.store.ArtifactStore` (one ``.npy``
per utterance, as the encoder pass writes them) and reach training through the
run layer's :class:`agser.run.run.StoredFeatures`, with no cache, so that every
read is a read of the file. Speed and memory are measured in
``benchmarks/bench_scale.py``, not here.
"""

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pytest
import torch

from agser.run.run import StoredFeatures
from agser.run.schema import resolve_params
from agser.ser.estimator import SERClassifier
from agser.ser.methods import anchor_units
from agser.ser.synthetic import synth_corpus
from agser.store import ArtifactStore


def _on_disk(corpus, root):
    """The corpus with its features moved into a store and read back through StoredFeatures."""
    store = ArtifactStore(root)
    keys = {}
    for uid in corpus.utterance_id:
        keys[uid] = store.key("encoded_utterance", {"test": "scale"}, (str(uid),))
        store.save(keys[uid], np.asarray(corpus.features[uid], dtype=np.float16))
    return replace(corpus, features=StoredFeatures(store.root, keys, cache_bytes=0))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    src = _on_disk(synth_corpus("a", n=32, speakers=8, layers=3, dim=6, T=24, seed=0), root)
    tgt = _on_disk(synth_corpus("b", n=32, speakers=8, layers=3, dim=6, T=24, shift=0.5, seed=1), root)
    return src, tgt


def _ag_sets(src, tgt):
    train, adapt = src.subset(np.arange(len(src))), tgt.subset(np.arange(len(tgt)))
    ss, ts, _ = anchor_units("AG", train.segments, adapt.segments, 25.0, 0)
    return train.with_segments(ss), adapt.with_segments(ts)


def _fit(src, tgt, predict=True, **kw):
    train, adapt = _ag_sets(src, tgt)
    params = dict(anchoring="triplet", hidden=8, max_epochs=3, batch_size=8, device="cpu", random_state=3)
    est = SERClassifier(**{**params, **kw}).fit(train, src.labels, target=adapt)
    return est, est.predict_proba(tgt.subset(np.arange(len(tgt)))) if predict else None


def test_features_come_from_the_store(corpora):
    src, _ = corpora
    f = src.features[src.utterance_id[0]]
    assert isinstance(src.features, StoredFeatures) and isinstance(f, np.memmap) and f.dtype == np.float16


def test_cpu_fit_is_deterministic_for_a_seed(corpora):
    src, tgt = corpora
    a, pa = _fit(src, tgt)
    b, pb = _fit(src, tgt)
    assert len(a.history_["er"]) == 3 * 4  # mini-batches: 4 steps per epoch
    assert sum(a.history_["triplets"]) > 0  # the anchoring loss took part
    np.testing.assert_array_equal(pa, pb)
    for key in ("er", "extra", "anchors", "triplets"):
        assert a.history_[key] == b.history_[key], key
    for (k, v), w in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        assert torch.equal(v, w), k
    # another seed trains another model: the comparison above can fail
    c, pc = _fit(src, tgt, random_state=4)
    assert c.history_["er"] != a.history_["er"] and not np.array_equal(pc, pa)


def test_two_loader_workers_give_the_same_fit(corpora):
    src, tgt = corpora
    a, pa = _fit(src, tgt, num_workers=0)
    b, pb = _fit(src, tgt, num_workers=2)
    np.testing.assert_array_equal(pa, pb)
    for key in ("er", "extra", "anchors", "triplets"):
        assert a.history_[key] == b.history_[key], key


def test_protocol_results_do_not_depend_on_loader_workers(corpora):
    """A whole run of the protocol (splits, early stopping, test predictions) with the run's ser section."""
    from agser.ser.protocol import run_experiment

    src, tgt = corpora
    ser = resolve_params({"ser": {"hidden": 8, "max_epochs": 3, "batch_size": 8, "patience": 2,
                                  "device": "cpu"}})["ser"]
    runs = [run_experiment("AG", src, tgt, 0, {**ser, "num_workers": w}) for w in (0, 2)]
    for key in ("uar", "y_pred", "utterance_id", "n_train", "layer_weights"):
        assert runs[0][key] == runs[1][key], key
    for key in ("er", "extra", "val_uar"):
        np.testing.assert_array_equal(runs[0]["history"][key], runs[1]["history"][key])


class CountingFeatures(Mapping):
    """A feature mapping that counts the reads of each utterance (and any listing of it) in ``log``."""

    def __init__(self, features, log):
        self.features = features
        self.log = log

    def __getitem__(self, uid):
        self.log["reads"][uid] = self.log["reads"].get(uid, 0) + 1
        return self.features[uid]

    def __iter__(self):
        self.log["listed"] += 1
        return iter(self.features)

    def __len__(self):
        self.log["listed"] += 1
        return len(self.features)


@pytest.mark.parametrize("anchoring", ["none", "triplet"])
def test_each_epoch_reads_each_training_utterance_once(corpora, anchoring):
    """Reads happen one utterance at a time through the dataset: one more epoch, one more read each."""
    src, tgt = corpora
    reads = []
    for epochs in (2, 3):
        log = {"reads": {}, "listed": 0}
        s = replace(src, features=CountingFeatures(src.features, log))
        t = replace(tgt, features=CountingFeatures(tgt.features, log))
        _fit(s, t, predict=False, anchoring=anchoring, max_epochs=epochs)
        reads.append(log["reads"])
        assert log["listed"] == 0  # nothing walks a whole mapping
    sets = set(src.utterance_id) | (set(tgt.utterance_id) if anchoring == "triplet" else set())
    assert set(reads[0]) == set(reads[1]) == sets
    for uid in sets:
        assert reads[1][uid] - reads[0][uid] == 1, uid


# --------------------------------------------------------------- fine-tuning at scale
NO_DROPOUT = dict(hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0,
                  layerdrop=0.0)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """Two corpora encoded by the stand-in wav2vec2 into a store; its top block to fine-tune."""
    import os

    from agser.acoustic.hf import HFEncoder
    from agser.acoustic.standin import write_standin_wav2vec2
    from agser.ser.data import CorpusData, LayerView
    from agser.ser.finetune import TopBlocks

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = tmp_path_factory.mktemp("tuned")
    enc = HFEncoder(write_standin_wav2vec2(root / "model", num_hidden_layers=2, **NO_DROPOUT))
    store = ArtifactStore(root / "store")
    out = []
    for c, name in enumerate(("a", "b")):
        rng = np.random.default_rng(c)
        n = 16
        labels = np.arange(n) % 4
        keys, lengths = {}, []
        for i in range(n):
            t = np.arange(int(rng.integers(8000, 14000))) / 16000
            wave = np.sin(2 * np.pi * (180 + 140 * labels[i]) * t) + 0.3 * rng.normal(size=t.size)
            f = enc.encode(wave.astype(np.float32))
            keys[f"{name}{i}"] = store.key("encoded_utterance", {"test": "tuned"}, (name, i))
            store.save(keys[f"{name}{i}"], f)
            lengths.append(f.shape[1])
        feats = StoredFeatures(store.root, keys, cache_bytes=0)
        import pandas as pd

        lengths = np.array(lengths)
        segs = pd.DataFrame({"utt": np.arange(n), "start": 0, "end": lengths // 2,
                             "ipa": np.array(["ɑ", "i"])[np.arange(n) % 2], "cluster": 1 + np.arange(n) % 2,
                             "gesture": -1})
        out.append(CorpusData(corpus=name, features=feats, utterance_id=np.array(list(keys)),
                              speaker=np.array([f"{name}s{i % 4}" for i in range(n)]), lengths=lengths,
                              labels=labels, segments=segs, frame_rate=50.0,
                              block_input=LayerView(feats, -2)))
    return enc, TopBlocks(enc, 1, frame_pool=1), out[0], out[1]


def _tuned_fit(src, tgt, blocks, **kw):
    train, adapt = _ag_sets(src, tgt)
    params = dict(anchoring="triplet", hidden=8, dropout=0.0, max_epochs=2, batch_size=4, device="cpu",
                  random_state=0, finetune_lr=1e-2)
    est = SERClassifier(**{**params, **kw}).fit(train, src.labels, target=adapt, blocks=blocks)
    return est, est.predict_proba(tgt.subset(np.arange(len(tgt))))


def test_finetuning_trains_the_top_block_in_mini_batches(tuned):
    enc, blocks, src, tgt = tuned
    before = {k: v.clone() for k, v in blocks.state_dict().items()}
    est, probs = _tuned_fit(src, tgt, blocks)
    assert len(est.history_["er"]) == 2 * 4  # 16 utterances in batches of 4, two epochs
    after = est.top_blocks_.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any("feed_forward" in k for k in changed) and any("attention" in k for k in changed)
    for k, v in blocks.state_dict().items():  # the blocks handed in are not trained
        assert torch.equal(v, before[k]), k
    assert probs.shape == (16, 4) and np.isfinite(probs).all()


def test_finetuning_at_zero_lr_is_the_frozen_model(tuned):
    """finetune_lr = 0: the blocks recompute the cached top layer, so training is the frozen model's."""
    enc, blocks, src, tgt = tuned
    before = {k: v.clone() for k, v in blocks.state_dict().items()}
    still, p_still = _tuned_fit(src, tgt, blocks, finetune_lr=0.0)
    for k, v in still.top_blocks_.state_dict().items():
        assert torch.equal(v, before[k]), k
    frozen, p_frozen = _tuned_fit(replace(src, block_input=None), replace(tgt, block_input=None), None)
    assert frozen.top_blocks_ is None
    np.testing.assert_array_equal(p_still.argmax(1), p_frozen.argmax(1))
    np.testing.assert_allclose(p_still, p_frozen, atol=1e-4)
    np.testing.assert_allclose(still.history_["er"], frozen.history_["er"], rtol=1e-4)
    np.testing.assert_allclose(still.history_["extra"], frozen.history_["extra"], rtol=1e-4, atol=1e-6)
    # and a fine-tuned fit is another model: the comparison can fail
    moved, p_moved = _tuned_fit(src, tgt, blocks, finetune_lr=5e-2)
    assert not np.allclose(p_moved, p_frozen, atol=1e-4)
