"""Sanity-check helpers: viseme classes, cluster choice, trajectories, agreement, figures."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from agser.analysis.sanity import (
    SANITY_PANELS,
    VISEME_CLASSES,
    choose_sanity_clusters,
    cluster_agreement,
    plot_centres,
    plot_sanity,
    purity,
    trajectories,
    viseme_of,
)
from agser.errors import ParameterError
from agser.phones.ipa import PAPER_VOWELS


def test_viseme_classes_cover_paper_vowels_once():
    listed = [p for phones in VISEME_CLASSES.values() for p in phones]
    assert len(listed) == len(set(listed))
    assert "unknown" not in set(viseme_of(PAPER_VOWELS))
    assert viseme_of(["i", "u", "ɑ", "p", "zz"]).tolist() == ["spread", "rounded", "open", "bilabial", "unknown"]


def _toy(seed=0):
    """Two corpora; cluster 1 holds open /ɑ/ and spread /i/, cluster 2 closed variants."""
    rng = np.random.default_rng(seed)
    rows, frames = [], []
    for corpus in ("sim-crema", "sim-improv"):
        for cluster, opening in ((1, 0.6), (2, 0.2)):
            for phone in ("ɑ", "i", "u"):
                for _ in range(6):
                    n = int(rng.integers(2, 6))
                    f = np.zeros((n, 12, 2))
                    f[:, 9, 1] = opening + 0.01 * rng.normal(size=n)  # point 57, y
                    f[:, 0, 0] = -0.5 - (0.1 if phone == "i" else 0)  # point 48, x
                    f[:, 6, 0] = 0.5 + (0.1 if phone == "i" else 0)  # point 54, x
                    rows.append({"corpus": corpus, "ipa": phone, "cluster": cluster, "n_frames": n})
                    frames.append(f)
    # a third cluster with /ɑ/ only in one corpus: never a sanity cluster
    for _ in range(20):
        rows.append({"corpus": "sim-crema", "ipa": "ɑ", "cluster": 3, "n_frames": 2})
        frames.append(np.zeros((2, 12, 2)))
    return pd.DataFrame(rows), frames


def test_choose_sanity_clusters_needs_both_corpora():
    seg, _ = _toy()
    assert choose_sanity_clusters(seg) == [1, 2]


def test_trajectories_pick_point_and_coordinate():
    seg, frames = _toy()
    long = trajectories(seg, frames, "ɑ", 57, "y", clusters=[1])
    assert set(long["cluster"]) == {1}
    assert long["value"].mean() == pytest.approx(0.6, abs=0.01)
    right = trajectories(seg, frames, "i", 48, "x")
    assert np.allclose(right["value"], -0.6)
    with pytest.raises(ParameterError, match="47"):
        trajectories(seg, frames, "i", 47, "x")
    with pytest.raises(ParameterError, match="coord"):
        trajectories(seg, frames, "i", 48, "z")


def test_purity_and_agreement():
    # clusters 0: a a b -> 2; 1: b b -> 2; purity = 4 / 5
    assert purity([0, 0, 0, 1, 1], list("aabbb")) == pytest.approx(0.8)
    seg = pd.DataFrame({"ipa": ["i", "ɪ", "u", "ʊ"] * 10, "cluster": [1, 1, 2, 2] * 10})
    agree = cluster_agreement(seg)
    # clusters are exactly the viseme classes (spread vs rounded) but split phone identity
    assert agree.loc["viseme class", "ARI"] == pytest.approx(1.0)
    assert agree.loc["viseme class", "purity"] == pytest.approx(1.0)
    assert agree.loc["phone identity", "purity"] == pytest.approx(0.5)
    assert agree.loc["viseme class", "purity (shuffled clusters)"] < 1.0


def test_figures_draw():
    seg, frames = _toy()
    fig = plot_sanity(seg, frames, [1, 2])
    assert len(fig.axes) == len(SANITY_PANELS)
    assert len(fig.legends[0].get_texts()) == 4  # 2 corpora x 2 clusters
    centres = np.random.default_rng(0).normal(size=(3, 4, 24))
    centres[1, 3] = np.nan  # padded centre frame is skipped
    fig = plot_centres(list(centres), ncols=2)
    assert len(fig.axes) == 4
