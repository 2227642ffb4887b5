"""Chapter 5's analysis (agser.analysis.association): the acoustic model per layer, the findings."""

import numpy as np
import pandas as pd
import pytest

from agser.analysis.association import (association_by_layer, association_display, association_findings,
                                        association_test)
from agser.errors import ParameterError


def _segments(rng, n=240):
    emotions = np.repeat(["happiness", "anger", "sadness", "neutral"], n // 4)
    cluster = rng.integers(1, 4, n)
    return pd.DataFrame({"corpus": rng.choice(["A", "B"], n), "ipa": rng.choice(["i", "u", "ɑ"], n),
                         "emotion": emotions, "cluster": cluster})


def test_the_layer_that_carries_the_ag_clusters_is_found():
    rng = np.random.default_rng(0)
    seg = _segments(rng)
    informative = np.eye(3)[seg["cluster"] - 1] * 5 + rng.normal(scale=0.3, size=(len(seg), 3))
    noise = rng.normal(size=(len(seg), 3))
    emb = np.stack([noise, informative], axis=1)
    table, labels = association_by_layer(seg, emb, ["noise", "articulation"], 3, n_permutations=99)
    assert list(table.index) == ["noise", "articulation"]
    assert table.loc["articulation", "NMI with AG cluster"] > 0.9 > 0.2 > table.loc["noise", "NMI with AG cluster"]
    assert table.loc["articulation", "p (all)"] == pytest.approx(0.01) and table.loc["noise", "p (all)"] > 0.05
    assert set(labels["articulation"].tolist()) == {1, 2, 3}
    with pytest.raises(ParameterError, match=r"n_layers=3"):
        association_by_layer(seg, emb, ["a", "b", "c"], 3)


def test_findings_count_significant_emotions_and_name_the_layers():
    rng = np.random.default_rng(1)
    seg = _segments(rng)
    # acoustics follow the AG cluster for happiness and anger only
    follows = seg["emotion"].isin(["happiness", "anger"]).to_numpy()
    seg["acoustic_cluster"] = np.where(follows, seg["cluster"], rng.integers(1, 4, len(seg)))
    kw = {"emotions": ["happiness", "anger", "sadness", "neutral"], "n_acoustic": 3, "n_permutations": 199}
    result, strict = association_test(seg, **kw), association_test(seg, shuffle_within=("corpus",), **kw)
    layers = pd.DataFrame({"NMI with corpus": [0.3, 0.01], "NMI with phone": [0.05, 0.2], "p (all)": [0.5, 0.01]},
                          index=["logmel", "cmn"])
    f = association_findings(result, strict, layers, ["happiness", "anger", "sadness"], 199)
    assert (f["n_sig"], f["sig"], f["n_emotions"]) == (2, "happiness, anger", 3)
    assert not f["all_significant"] and f["strict_holds"] and f["n_sig_strict"] == 2
    assert f["phone_layer"] == "cmn" and f["corpus_layer"] == "logmel" and f["n_layers_sig"] == 1
    assert f["p_min"] == 0.005 and f["entropy"] < f["entropy_null"]
    shown = association_display(result, ["happiness", "sadness", "fear"])
    assert list(shown.index) == ["happiness", "sadness"]  # an emotion without segments is left out
    assert list(shown.columns) == ["segments", "entropy", "shuffled", "p", "n90 (shuffled)", "p (n90)"]
    assert shown.loc["happiness", "n90 (shuffled)"] == "{:.2f} ({:.2f})".format(
        result.loc["happiness", "n_cover"], result.loc["happiness", "n_cover_null"])
