"""The SER protocol: speaker-independent, size-matched splits; no target label read; ablations; UAR."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from agser.errors import ParameterError
from agser.run.schema import defaults
from agser.ser.data import UtteranceSet
from agser.ser.metrics import binary_uar, ser_metrics, uar
from agser.ser.methods import METHODS, anchor_units, shuffle_units
from agser.ser.protocol import protocol_rows, run_experiment
from agser.ser.splits import speaker_split
from agser.ser.synthetic import synth_corpus

FAST = {**defaults()["ser"], "max_epochs": 3, "patience": 2, "hidden": 8, "max_triplets": 64, "batch_size": 16,
        "device": "cpu"}


@pytest.fixture(scope="module")
def corpora():
    return synth_corpus("sim-crema", n=48, seed=1), synth_corpus("sim-improv", n=48, shift=0.5, seed=2)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_split_is_speaker_independent(seed):
    speakers = np.repeat([f"s{i}" for i in range(7)], 3)
    part = speaker_split(speakers, 0.5, seed)
    a, b = set(speakers[part == "A"]), set(speakers[part == "B"])
    assert a and b and not a & b and a | b == set(speakers)


@pytest.mark.parametrize("seed", [0, 1])
def test_protocol_sets_are_disjoint_and_size_matched(corpora, seed):
    source, target = corpora
    rows = protocol_rows(source, target, seed, within=True)
    spk = target.speaker
    assert not set(spk[rows["adapt"]]) & set(spk[rows["test"]])
    assert not set(source.speaker[rows["train"]]) & set(source.speaker[rows["val"]])
    # every model of the seed trains on the same number of labelled utterances
    assert len(rows["train"]) == rows["n_train"]
    covered = []
    for test, train, val in rows["folds"]:
        assert len(train) == rows["n_train"]
        # the upper bound never trains (or stops early) on the speakers it predicts
        assert not set(spk[test]) & (set(spk[train]) | set(spk[val]))
        covered += list(test)
    assert sorted(covered) == sorted(rows["test"])  # the folds cover the test half exactly


def test_runs_hold_out_target_speakers(corpora):
    source, target = corpora
    rows = protocol_rows(source, target, 0)
    r = run_experiment("PA", source, target, 0, FAST)
    assert set(r["utterance_id"]) == set(target.utterance_id[rows["test"]])
    assert r["n_adapt"] == len(rows["adapt"]) and r["n_test"] == len(rows["test"])
    assert r["n_train"] == rows["n_train"]
    ub = run_experiment("upper-bound", target, target, 0, FAST)
    assert ub["utterance_id"] == r["utterance_id"] and ub["n_train"] == r["n_train"]


def test_unlabelled_set_has_no_labels(corpora):
    target = corpora[1]
    adapt = target.subset(np.arange(len(target)))
    assert type(adapt) is UtteranceSet and not hasattr(adapt, "labels")
    assert "emotion" not in adapt.segments.columns


@pytest.mark.parametrize("method", [m for m in METHODS if m not in ("upper-bound", "source-only")])
def test_target_labels_never_read(corpora, method):
    """Shuffling the target's labels, or removing them from its adaptation half, changes no
    prediction and no trained weight of any anchoring method."""
    source, target = corpora
    rng = np.random.default_rng(5)
    shuffled = dataclasses.replace(target, labels=rng.permutation(target.labels))
    a = run_experiment(method, source, target, 0, FAST)
    b = run_experiment(method, source, shuffled, 0, FAST)
    assert a["y_pred"] == b["y_pred"] and a["utterance_id"] == b["utterance_id"]
    assert a["layer_weights"] == b["layer_weights"]
    np.testing.assert_array_equal(a["history"]["er"], b["history"]["er"])
    assert a["y_true"] != b["y_true"]  # the shuffle did change what evaluation reads
    # the adaptation half with no label at all: the same training
    part = speaker_split(target.speaker, FAST["test_fraction"], 0)
    labels = target.labels.copy()
    labels[part == "A"] = -1
    gone = dataclasses.replace(target, labels=labels)
    c = run_experiment(method, source, gone, 0, FAST)
    assert c["y_pred"] == a["y_pred"] and c["layer_weights"] == a["layer_weights"]


def test_shuffled_ablation_breaks_the_link_but_keeps_counts_and_weights(corpora):
    source, target = corpora
    rows = protocol_rows(source, target, 0)
    ss, ts = source.subset(rows["train"]).segments, target.subset(rows["adapt"]).segments
    ag_s, ag_t, ag_summary = anchor_units("AG", ss, ts, 25.0, seed=0)
    sh_s, sh_t, sh_summary = anchor_units("AG-shuffled", ss, ts, 25.0, seed=0)
    for ag, sh in ((ag_s, sh_s), (ag_t, sh_t)):
        # same number of anchors, the same units as often, the same multiset of weights
        assert (ag["unit"] >= 0).sum() == (sh["unit"] >= 0).sum()
        pd.testing.assert_series_equal(ag["unit"].value_counts().sort_index(), sh["unit"].value_counts().sort_index())
        assert sorted(ag["weight"]) == sorted(sh["weight"])
        # each unit keeps its weights (a unit and its weight move together)
        assert (ag.groupby("unit")["weight"].apply(sorted) == sh.groupby("unit")["weight"].apply(sorted)).all()
        # but which segment carries which unit is broken
        assert (ag["unit"] != sh["unit"]).mean() > 0.3
    assert ag_summary["common_share_source"] == sh_summary["common_share_source"]
    # a different seed, another permutation
    other = anchor_units("AG-shuffled", ss, ts, 25.0, seed=1)[0]
    assert not other["unit"].equals(sh_s["unit"])
    u, w = shuffle_units(np.array([0, 1, 2, -1]), np.array([0.1, 0.2, 0.3, 0.0]), np.random.default_rng(0))
    assert dict(zip(u.tolist(), w.tolist())) == {0: 0.1, 1: 0.2, 2: 0.3, -1: 0.0}


def test_oracle_anchors_come_from_the_oracle_column_only(corpora):
    source, target = corpora
    rows = protocol_rows(source, target, 0)
    ss, ts = source.subset(rows["train"]).segments, target.subset(rows["adapt"]).segments
    a = anchor_units("AG-oracle", ss, ts, 25.0)
    # scrambling the AG clusters changes nothing for the oracle ...
    b = anchor_units("AG-oracle", ss.assign(cluster=ss["cluster"].sample(frac=1, random_state=0).to_numpy()),
                     ts.assign(cluster=-1), 25.0)
    np.testing.assert_array_equal(a[0]["unit"], b[0]["unit"])
    np.testing.assert_array_equal(a[1]["unit"], b[1]["unit"])
    # ... and its units are oracle classes
    assert set(a[0].loc[a[0]["unit"] >= 0, "unit"]) <= set(ss["oracle"])
    with pytest.raises(ParameterError, match="oracle"):
        anchor_units("AG-oracle", ss.drop(columns="oracle"), ts, 25.0)


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


@pytest.mark.parametrize("method", ["AG", "source-only", "Hard-AG"])
def test_deterministic_for_a_seed(corpora, method):
    source, target = corpora
    a = run_experiment(method, source, target, 3, FAST)
    b = run_experiment(method, source, target, 3, FAST)
    for key in ("uar", "neutral", "anger", "happy", "sad", "y_pred", "layer_weights"):
        assert a[key] == b[key], key
    np.testing.assert_array_equal(a["history"]["er"], b["history"]["er"])
    c = run_experiment(method, source, target, 4, FAST)
    assert c["utterance_id"] != a["utterance_id"] or c["layer_weights"] != a["layer_weights"]
