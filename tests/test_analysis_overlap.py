"""Chapter 4's analysis (agser.analysis.overlap): the reading checked, the ceiling, the findings."""

import numpy as np
import pandas as pd
import pytest

from agser.analysis.overlap import (best_emotions, overlap_analysis, overlap_ceiling, overlap_findings,
                                    paper_reading_check, sim_beside_paper)
from agser.analysis.paper import paper_table
from agser.errors import ParameterError

PAPER_CLUSTERS, PAPER_EMOTIONS = paper_table("cluster_overlap"), paper_table("emotion_overlap")


def _segments(rng, n=400, shift=0.0):
    """Two corpora, six vowels, four emotions, five clusters; corpus B's clusters moved by `shift`."""
    vowels, emotions = ["ɑ", "ə", "ɛ", "i", "æ", "u"], ["neutral", "happiness", "anger", "sadness"]
    rows = []
    for corpus in ("A", "B"):
        ipa = rng.choice(vowels, n)
        base = np.array([vowels.index(v) for v in ipa]) % 5
        moved = rng.random(n) < (shift if corpus == "B" else 0.0)
        cluster = np.where(moved, (base + 1) % 5, base) + 1
        rows.append(pd.DataFrame({"corpus": corpus, "ipa": ipa, "cluster": cluster,
                                  "emotion": rng.choice(emotions, n)}))
    return pd.concat(rows, ignore_index=True)


def test_the_reading_reproduces_the_papers_all_row_for_a_and_i():
    check = paper_reading_check(PAPER_CLUSTERS, PAPER_EMOTIONS)
    assert check.loc["ɑ", "mean of s_i >= 25"] == pytest.approx(68.825)
    assert check.loc["i", "mean of s_i >= 25"] == pytest.approx(73.43, abs=0.01)
    assert (check["mean of s_i >= 25"] - check["paper's All row"]).abs().max() < 2.6
    assert check["common clusters"].tolist() == [4, 3, 3, 3, 3, 3]
    assert list(paper_reading_check(PAPER_CLUSTERS, PAPER_EMOTIONS, threshold=70).columns)[0] == "mean of s_i >= 70"


def test_sim_beside_paper_counts_the_papers_common_clusters():
    t = sim_beside_paper(pd.Series({"ɑ": 60.0}), pd.Series({"ɑ": 2}), PAPER_CLUSTERS, PAPER_EMOTIONS, phones=["ɑ", "u"])
    assert t.loc["ɑ"].tolist() == [2, 4, 60.0, 68.8]
    assert pd.isna(t.loc["u", "common (ours)"]) and t.loc["u", "common (paper)"] == 3


def test_ceiling_of_identical_corpora_is_close_to_their_cross_corpus_sim():
    seg = _segments(np.random.default_rng(0))
    ceiling = overlap_ceiling(seg, phones=["ɑ", "i"], clusters=[1, 2, 3, 4, 5], n_splits=10)
    assert list(ceiling.columns) == ["A vs itself", "B vs itself", "across corpora"]
    # every vowel sits in one cluster in both corpora: full overlap everywhere
    assert ceiling.to_numpy() == pytest.approx(100.0)
    with pytest.raises(ParameterError, match="n_splits=0"):
        overlap_ceiling(seg, n_splits=0)


def test_ceiling_is_above_a_shifted_corpus():
    seg = _segments(np.random.default_rng(1), shift=0.5)
    ceiling = overlap_ceiling(seg, clusters=[1, 2, 3, 4, 5], n_splits=5)
    assert (ceiling["across corpora"] < ceiling["A vs itself"] - 20).all()


def test_findings_and_phrases_when_a_vowel_has_no_common_cluster():
    seg = _segments(np.random.default_rng(2), shift=0.5)
    # /u/ only in corpus A: no common cluster for it
    seg = seg[~((seg["corpus"] == "B") & (seg["ipa"] == "u"))]
    out = overlap_analysis(seg, 5, n_splits=3)
    f = out["findings"]
    assert f["k"] == 5 and f["no_common"] == "/u/" and not f["every_vowel_shared"]
    assert f["shared"] == "/u/ has none" and f["common_lo"] == 0
    assert np.isnan(out["sim"]["u"]) and f["paper_sim_lo"] == 68.8 and f["paper_sim_hi"] == 76.6
    assert f["sim_mae"] == pytest.approx(np.nanmean(np.abs(out["sim"] - PAPER_EMOTIONS.loc["all"])))
    assert list(out["emotion"].index) == ["all", "neutral", "happiness", "anger", "sadness"]
    assert out["counts"].loc["B", "u"] == 0 and out["counts"].loc["A", "u"] > 0
    assert f["cell_lo"] > 0 and f["paper_best_emotion"] == "happiness" and f["paper_worst_emotion"] == "sadness"
    with pytest.raises(ParameterError, match="k=0"):
        overlap_analysis(seg, 0)


def test_best_emotions_marks_vowels_without_any_value():
    ours = pd.DataFrame({"i": [50.0, 70.0], "u": [np.nan, np.nan]}, index=["anger", "sadness"])
    paper = pd.DataFrame({"i": [70.0, 80.0, 60.0], "u": [2.0, 1.0, 2.0]}, index=["all", "anger", "sadness"])
    t = best_emotions(ours, paper, emotions=["anger", "sadness"], phones=["i", "u"])
    assert t.loc["u", "highest (ours)"] == "none" and t.loc["u", "highest (paper)"] == "sadness"
    table, sim, n = pd.DataFrame({"i": [1.0], "u": [0.0]}), pd.Series({"i": 50.0, "u": np.nan}), pd.Series({"i": 1, "u": 0})
    seg = pd.DataFrame({"corpus": ["A"], "ipa": ["i"], "emotion": ["anger"], "cluster": [1]})
    ceiling = pd.DataFrame({"A vs itself": [60.0, np.nan], "across corpora": [50.0, np.nan]}, index=["i", "u"])
    f = overlap_findings(seg, table, sim, n, ceiling, ours, PAPER_CLUSTERS, paper, emotions=["anger", "sadness"],
                         phones=["i", "u"])
    assert not f["emotion_varies"] and f["varies_phrase"].startswith("does not show here")
    assert f["ceiling_gap"] == 10.0 and f["best_emotion"] == "sadness"
