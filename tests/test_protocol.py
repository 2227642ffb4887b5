"""The SER protocol: speaker-independent splits, no target label read, UAR, determinism."""

import dataclasses

import numpy as np
import pytest

from agser.ser.synthetic import synth_corpus
from agser.ser.data import LabelledSet, UtteranceSet
from agser.ser.metrics import binary_uar, ser_metrics, uar
from agser.ser.splits import speaker_split
from agser.ser.train import SERConfig, fit_model, run_experiment

FAST = SERConfig(epochs=6, hidden=8, max_triplets=64)


@pytest.fixture(scope="module")
def corpora():
    return synth_corpus("sim-crema", seed=1), synth_corpus("sim-improv", shift=0.5, seed=2)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_split_is_speaker_independent(seed):
    speakers = np.repeat([f"s{i}" for i in range(7)], 3)
    part = speaker_split(speakers, 0.5, seed)
    a, b = set(speakers[part == "A"]), set(speakers[part == "B"])
    assert a and b and not a & b and a | b == set(speakers)


def test_runs_hold_out_target_speakers(corpora):
    source, target = corpora
    part = speaker_split(target.speaker, FAST.test_fraction, 0)
    adapt, test = target.unlabelled(part == "A"), target.labelled(part == "B")
    assert not set(adapt.speaker) & set(test.speaker)
    r = run_experiment("PA", source, target, 0, FAST)
    assert set(r["utterance_id"]) == set(test.utterance_id)
    assert r["n_adapt"] == len(adapt) and r["n_test"] == len(test)


def test_unlabelled_set_has_no_labels(corpora):
    target = corpora[1]
    adapt = target.unlabelled(np.ones(len(target.lengths), bool))
    assert type(adapt) is UtteranceSet and not hasattr(adapt, "labels")
    assert "emotion" not in adapt.segments.columns
    assert isinstance(target.labelled(np.ones(len(target.lengths), bool)), LabelledSet)


@pytest.mark.parametrize("method", ["AG", "PA", "LA", "Hard-AG"])
def test_target_labels_never_read(corpora, method):
    """Shuffling the target's labels leaves every prediction, hence the weights' effect, unchanged,
    and a target whose labels are all removed trains bit-identical weights."""
    source, target = corpora
    rng = np.random.default_rng(5)
    shuffled = dataclasses.replace(target, labels=rng.permutation(target.labels))
    a = run_experiment(method, source, target, 0, FAST)
    b = run_experiment(method, source, shuffled, 0, FAST)
    assert a["y_pred"] == b["y_pred"] and a["utterance_id"] == b["utterance_id"]
    assert a["layer_weights"] == b["layer_weights"]
    assert a["y_true"] != b["y_true"]  # the shuffle did change what evaluation reads

    # Weights: the adaptation half with its real labels vs with no label at all.
    part = speaker_split(target.speaker, FAST.test_fraction, 0)
    gone = dataclasses.replace(target, labels=np.full_like(target.labels, -1))
    train = source.labelled(np.ones(len(source.lengths), bool))
    from agser.ser.train import anchor_plan, _overlap_table
    from agser.ser.methods import layer_coral_distance, choose_layers, gesture_divergence_by_phone

    states = []
    for tgt in (target, gone):
        adapt = tgt.unlabelled(part == "A")
        plan, la = None, None
        if method == "AG":
            plan = anchor_plan(method, train, adapt, FAST,
                               per_cluster=_overlap_table(train.segments, adapt.segments, 25.0))
        elif method == "PA":
            plan = anchor_plan(method, train, adapt, FAST)
        elif method == "Hard-AG":
            div = gesture_divergence_by_phone(list(source.gestures), source.segments["ipa"],
                                              list(tgt.gestures), tgt.segments["ipa"])
            plan = anchor_plan(method, train, adapt, FAST, divergence=div)
        else:
            la = choose_layers(layer_coral_distance(train.features, train.lengths,
                                                    adapt.features, adapt.lengths), 2)
        model, _, _ = fit_model(method, train, adapt, FAST, 0, plan, la)
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    for k in states[0]:
        assert (states[0][k] == states[1][k]).all(), k


def test_uar_by_hand():
    # recalls: neutral 3/4, anger 1/1, happiness 0/1, sadness 1/2 -> UAR 56.25
    y_true = [0, 0, 0, 0, 1, 2, 3, 3]
    y_pred = [0, 0, 0, 1, 1, 0, 3, 2]
    assert uar(y_true, y_pred) == pytest.approx(56.25)
    # neutral one-vs-rest: recall 3/4, specificity (4 non-neutral, 1 called neutral) 3/4
    assert binary_uar(y_true, y_pred)[0] == pytest.approx(75.0)
    m = ser_metrics(y_true, y_pred)
    assert m["uar"] == pytest.approx(56.25) and m["neutral"] == pytest.approx(75.0)
    # sadness: recall 1/2; specificity: 6 others, none called sadness -> 100
    assert m["sad"] == pytest.approx(75.0)
    assert uar([0, 1, 2, 3], [1, 1, 1, 1]) == pytest.approx(25.0)  # one class always: chance


@pytest.mark.parametrize("method", ["AG", "source-only"])
def test_deterministic_for_a_seed(corpora, method):
    source, target = corpora
    a = run_experiment(method, source, target, 3, FAST)
    b = run_experiment(method, source, target, 3, FAST)
    for key in ("uar", "neutral", "anger", "happy", "sad", "y_pred", "layer_weights"):
        assert a[key] == b[key], key
    c = run_experiment(method, source, target, 4, FAST)
    assert c["utterance_id"] != a["utterance_id"] or c["layer_weights"] != a["layer_weights"]
