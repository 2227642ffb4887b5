"""AG-acoustic association: spread numbers by hand, and the shuffled baseline."""

import math

import numpy as np
import pandas as pd
import pytest

from agser.analysis.association import (
    association_summary,
    association_table,
    association_test,
    cluster_spread,
)
from agser.errors import ParameterError


def test_spread_by_hand():
    # AG cluster 0: 8 segments in acoustic cluster 0, 2 in 1 -> p = (.8, .2, 0, 0)
    #   H = -(.8 ln .8 + .2 ln .2) = 0.50040; / ln 4 = 0.36096; 90 % needs 2 clusters
    # AG cluster 1: 9 in acoustic 2, 1 in acoustic 3 -> p = (0, 0, .9, .1)
    #   H = -(.9 ln .9 + .1 ln .1) = 0.32508; / ln 4 = 0.23450; 90 % needs 1 cluster
    # AG cluster 2: 1 segment each in 0, 1, 2, 3 -> H / ln 4 = 1; 90 % needs 4
    ag = [0] * 10 + [1] * 10 + [2] * 4
    ac = [0] * 8 + [1] * 2 + [2] * 9 + [3] + [0, 1, 2, 3]
    spread = cluster_spread(ag, ac)
    np.testing.assert_allclose(spread["entropy"], [0.360964, 0.234498, 1.0], atol=1e-6)
    assert spread["n_cover"].tolist() == [2, 1, 4]
    assert spread["n_segments"].tolist() == [10, 10, 4]
    # segment-weighted means: (10*.360964 + 10*.234498 + 4*1) / 24 = 0.414776
    #                         (10*2 + 10*1 + 4*4) / 24 = 1.916667
    h, n = association_summary(ag, ac)
    assert h == pytest.approx(0.414776, abs=1e-6)
    assert n == pytest.approx(46 / 24)
    # K = 8 acoustic clusters in the model: entropy divided by ln 8 instead
    assert cluster_spread(ag, ac, n_acoustic=8)["entropy"].iloc[2] == pytest.approx(math.log(4) / math.log(8))
    table = association_table(ag, ac)
    np.testing.assert_allclose(table.sum(axis=1), 100.0)
    assert table.loc[0, 0] == pytest.approx(80.0)


def _synthetic(n=600, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    emotion = rng.choice(["anger", "happiness", "sadness"], size=n)
    ag = rng.integers(0, 6, size=n)
    # acoustic cluster follows the AG cluster (two AG clusters per acoustic cluster) up to noise
    ac = np.where(rng.random(n) < noise, rng.integers(0, 3, size=n), ag // 2)
    return pd.DataFrame({"emotion": emotion, "cluster": ag, "acoustic_cluster": ac})


def test_associated_labels_beat_the_shuffle():
    df = _synthetic()
    r = association_test(df, n_permutations=200, random_state=1)
    assert list(r.index) == ["anger", "happiness", "sadness", "all"]
    for e in r.index:
        assert r.loc[e, "entropy"] < r.loc[e, "entropy_null"] - 5 * r.loc[e, "entropy_null_sd"]
        assert r.loc[e, "p_entropy"] == pytest.approx(1 / 201)
        assert r.loc[e, "p_n_cover"] < 0.05
    assert r.loc["all", "n_segments"] == len(df)


def test_independent_labels_do_not():
    rng = np.random.default_rng(3)
    df = _synthetic().assign(acoustic_cluster=lambda d: rng.integers(0, 3, size=len(d)))
    r = association_test(df, n_permutations=200, random_state=1)
    # observed sits inside the null: p-values are not small
    assert (r["p_entropy"] > 0.05).all()
    assert (abs(r["entropy"] - r["entropy_null"]) < 4 * r["entropy_null_sd"]).all()


def test_seeded_and_keeps_cluster_sizes():
    df = _synthetic(n=200)
    a = association_test(df, n_permutations=50, random_state=7)
    b = association_test(df, n_permutations=50, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    c = association_test(df, n_permutations=50, random_state=8)
    assert not np.allclose(a["entropy_null"].astype(float), c["entropy_null"].astype(float))


def test_errors():
    with pytest.raises(ParameterError, match="coverage"):
        cluster_spread([0], [0], coverage=0)
    with pytest.raises(ParameterError, match="acoustic_cluster"):
        association_test(pd.DataFrame({"emotion": ["a"], "cluster": [0]}))
    with pytest.raises(ParameterError, match="n_permutations"):
        association_test(_synthetic(n=10), n_permutations=0)


def test_shuffle_within_corpus_removes_a_shared_corpus_effect():
    # Both cluster models split by corpus only: AG cluster = corpus, acoustic cluster = corpus.
    # Shuffling within emotion keeps that link away -> "significant"; shuffling within
    # (emotion, corpus) keeps it in the baseline -> nothing left to find (p = 1).
    rng = np.random.default_rng(0)
    n = 400
    corpus = rng.choice(["A", "B"], size=n)
    df = pd.DataFrame({
        "emotion": rng.choice(["anger", "sadness"], size=n),
        "corpus": corpus,
        "cluster": np.where(corpus == "A", 0, 1) * 2 + rng.integers(0, 2, size=n),
        "acoustic_cluster": np.where(corpus == "A", 0, 1),
    })
    loose = association_test(df, n_permutations=100, random_state=0)
    strict = association_test(df, n_permutations=100, random_state=0, shuffle_within=("corpus",))
    assert (loose["p_entropy"] < 0.02).all()
    assert (strict["p_entropy"] == 1.0).all()
    with pytest.raises(ParameterError, match="speaker"):
        association_test(df, shuffle_within=("speaker",))
