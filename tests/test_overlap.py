"""Cross-corpus overlap (Sim) checked against values worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from agser.analysis.overlap import cluster_overlap, cluster_shares, emotion_overlap
from agser.errors import ParameterError


def _rows(corpus, phone, counts, emotion="neutral"):
    """counts: {cluster: number of segments}."""
    return [
        {"corpus": corpus, "ipa": phone, "cluster": c, "emotion": emotion}
        for c, n in counts.items()
        for _ in range(n)
    ]


@pytest.fixture
def segments():
    # Phone i, 10 segments per corpus:
    #   A: clusters 1,2,3,4 hold 4,4,1,1 -> p_A = .4 .4 .1 .1
    #   B: clusters 1,2,3   hold 2,6,2   -> p_B = .2 .6 .2 0
    #   s_1 = 100*.2/.4 = 50; s_2 = 100*.4/.6 = 66.667; s_3 = 100*.1/.2 = 50;
    #   s_4 = 0 (cluster 4 only in corpus A: not common).
    #   Sim(i) = (50 + 66.667 + 50) / 3 = 55.556
    # Phone u, 10 segments per corpus:
    #   A: clusters 1,2 hold 1,9 -> p_A = .1 .9
    #   B: clusters 1,2 hold 5,5 -> p_B = .5 .5
    #   s_1 = 100*.1/.5 = 20 (both non-zero but below 25: not common);
    #   s_2 = 100*.5/.9 = 55.556.  Sim(u) = 55.556 (cluster 2 only).
    #   With threshold 0: Sim(u) = (20 + 55.556) / 2 = 37.778
    # Phone ɑ only in corpus A (cluster 3, 2 segments): s = 0 everywhere, Sim = NaN.
    rows = (
        _rows("A", "i", {1: 4, 2: 4, 3: 1, 4: 1})
        + _rows("B", "i", {1: 2, 2: 6, 3: 2})
        + _rows("A", "u", {1: 1, 2: 9})
        + _rows("B", "u", {1: 5, 2: 5})
        + _rows("A", "ɑ", {3: 2})
    )
    return pd.DataFrame(rows)


def test_per_cluster_table_by_hand(segments):
    table, sim = cluster_overlap(segments)
    assert list(table.index) == [1, 2, 3, 4]
    assert list(table.columns) == ["i", "u", "ɑ"]
    np.testing.assert_allclose(table["i"], [50.0, 200 / 3, 50.0, 0.0])
    np.testing.assert_allclose(table["u"], [20.0, 500 / 9, 0.0, 0.0])
    np.testing.assert_allclose(table["ɑ"], [0.0, 0.0, 0.0, 0.0])


def test_sim_by_hand(segments):
    table, sim, n_common = cluster_overlap(segments, return_common=True)
    assert sim["i"] == pytest.approx((50 + 200 / 3 + 50) / 3)  # 55.556
    assert sim["u"] == pytest.approx(500 / 9)  # cluster 1 (20 %) is below threshold
    assert math.isnan(sim["ɑ"])  # phone in one corpus only
    assert n_common.to_dict() == {"i": 3, "u": 1, "ɑ": 0}


def test_threshold_changes_common_set(segments):
    _, sim = cluster_overlap(segments, threshold=0.0)
    assert sim["u"] == pytest.approx((20 + 500 / 9) / 2)  # 37.778
    # threshold 60: only s_2(i) = 66.667 remains common for i, none for u
    _, sim = cluster_overlap(segments, threshold=60.0)
    assert sim["i"] == pytest.approx(200 / 3)
    assert math.isnan(sim["u"])


def test_rows_and_columns_can_be_imposed(segments):
    table, sim = cluster_overlap(segments, phones=["æ", "i"], clusters=[1, 2, 3, 4, 5])
    assert list(table.columns) == ["æ", "i"]
    assert table.loc[5].tolist() == [0.0, 0.0]
    assert math.isnan(sim["æ"])
    assert sim["i"] == pytest.approx((50 + 200 / 3 + 50) / 3)


def test_shares_sum_to_one(segments):
    shares = cluster_shares(segments)
    assert shares["A"]["i"].sum() == pytest.approx(1.0)
    assert shares["B"]["ɑ"].sum() == 0.0  # ɑ absent from B


def test_symmetric_in_corpus_order(segments):
    swapped = segments.assign(corpus=segments["corpus"].map({"A": "Z", "B": "A"}))
    t1, s1 = cluster_overlap(segments)
    t2, s2 = cluster_overlap(swapped)
    pd.testing.assert_frame_equal(t1, t2)
    pd.testing.assert_series_equal(s1, s2)


def test_needs_exactly_two_corpora(segments):
    three = pd.concat([segments, segments.head(1).assign(corpus="C")])
    with pytest.raises(ParameterError, match=r"\['A', 'B', 'C'\]"):
        cluster_overlap(three)
    with pytest.raises(ParameterError, match=r"\['A'\]"):
        cluster_overlap(segments[segments.corpus == "A"])
    with pytest.raises(ParameterError, match="cluster"):
        cluster_overlap(segments.drop(columns="cluster"))
    with pytest.raises(ParameterError, match="threshold"):
        cluster_overlap(segments, threshold=150)


def test_emotion_overlap_by_hand():
    # anger, phone i: A clusters 1,2 hold 1,1 (p .5 .5); B cluster 1 holds 2 (p 1 0)
    #   s_1 = 100*.5/1 = 50, s_2 = 0 -> Sim = 50
    # sadness, phone i: A cluster 2 holds 2; B cluster 2 holds 1 -> s_2 = 100 -> Sim = 100
    # all, phone i: A clusters 1,2 hold 1,3 (p .25 .75); B clusters 1,2 hold 2,1 (p 2/3 1/3)
    #   s_1 = 100*.25/(2/3) = 37.5, s_2 = 100*(1/3)/.75 = 44.444 -> Sim = 40.972
    rows = (
        _rows("A", "i", {1: 1, 2: 1}, "anger")
        + _rows("B", "i", {1: 2}, "anger")
        + _rows("A", "i", {2: 2}, "sadness")
        + _rows("B", "i", {2: 1}, "sadness")
        + _rows("A", "u", {1: 1}, "happiness")  # happiness only in A: NaN row
    )
    out = emotion_overlap(pd.DataFrame(rows), phones=["i"])
    assert list(out.index) == ["all", "anger", "happiness", "sadness"]
    assert out.loc["anger", "i"] == pytest.approx(50.0)
    assert out.loc["sadness", "i"] == pytest.approx(100.0)
    assert out.loc["all", "i"] == pytest.approx((37.5 + 400 / 9) / 2)
    assert math.isnan(out.loc["happiness", "i"])
