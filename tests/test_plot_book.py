"""The book's figures (agser.plot): at most a page wide, every text legible as displayed, values readable.

A page's text column is 676 px wide in the built book (Chromium, 1280 px
window); a figure wider than that is scaled down, and so is its text. Each
figure function is drawn on small real inputs and every visible text of the
figure must be at least 9 pt *as displayed*.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from agser import plot  # noqa: E402
from agser.landmarks.types import Landmarks  # noqa: E402

COLUMN_PX = 676


@pytest.fixture(autouse=True)
def style():
    plot.book_style()
    yield
    plt.close("all")


def assert_legible(fig, min_pt=9.0):
    width_in = fig.get_figwidth()
    assert width_in <= plot.style.PAGE_WIDTH + 1e-9, f"figure {width_in} in wide"
    scale = min(1.0, COLUMN_PX / (width_in * fig.dpi))
    fig.canvas.draw()
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() * scale < min_pt]
    assert small == [], f"texts below {min_pt} pt as displayed: {small[:5]}"


def _lm(n=20, seed=0, fps=25):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(68, 2)) * 20 + 100
    pts = base + rng.normal(scale=0.5, size=(n, 68, 2))
    ok = np.ones(n, bool)
    ok[5] = False
    return Landmarks(pts, np.where(ok, 0.9, 0.0), ok, np.arange(n) / fps)


def test_heatmap_pair_writes_every_value_in_a_readable_colour():
    ours = pd.DataFrame({"i": [5.0, 95.0, np.nan], "u": [40.0, 60.0, 20.0]}, index=[1, 2, 3])
    paper = pd.DataFrame({"i": [75.3, 0.0], "u": [0.0, 75.5]}, index=[1, 2])
    fig = plot.plot_table_pair(ours, paper, row_label=lambda c: f"cluster {c}")
    assert_legible(fig)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in fig.axes[0].texts}
    # magma: dark at 5 (white text), light at 95 (black text); a missing value is a dash
    assert texts[(0, 0)].get_text() == "5" and texts[(0, 0)].get_color() == "white"
    assert texts[(1, 0)].get_text() == "95" and texts[(1, 0)].get_color() == "black"
    assert texts[(2, 0)].get_text() == "–"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["cluster 1", "cluster 2", "cluster 3"]
    with pytest.raises(Exception, match="must match"):
        plot.plot_table_pair(ours, paper[["u"]])


def test_association_bars_and_legend():
    rng = np.random.default_rng(0)
    seg = pd.DataFrame({"emotion": rng.choice(["happiness", "anger", "sadness"], 300),
                        "cluster": rng.integers(1, 11, 300), "acoustic_cluster": rng.integers(1, 11, 300)})
    fig = plot.plot_association(seg, ["happiness", "anger", "sadness"], 10, 10)
    assert_legible(fig)
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].texts][:2] == ["A1", "A2"]
    heights = np.array([p.get_height() for p in fig.axes[0].patches]).reshape(10, 10)
    assert heights.sum(axis=0) == pytest.approx(100.0)  # each AG cluster's bar adds up to 100 %


def test_landmark_figures():
    lms = {"u": _lm(), "v": _lm(seed=1)}
    for fig in (plot.plot_faces(lms, ["u", "v"]), plot.plot_mouth_pixels(lms, ["u", "v"]),
                plot.plot_confidence(lms, {"u": "A", "v": "B"})):
        assert_legible(fig)
    faces = plot.plot_faces(lms, ["u"])
    assert len(faces.axes) == 3 and faces.axes[0].get_ylabel() == "u"


def test_segmentation_figures():
    from agser.phones.textgrid import Alignment

    lm = _lm(30)
    mouth = lm.points[:, 48:60] / 50
    segs = pd.DataFrame({"phone": ["AA", "K", "IY"], "ipa": ["ɑ", "k", "i"], "frame_start": [2, 8, 12],
                         "n_frames": [5, 3, 6], "start": [0.1, 0.3, 0.5], "corpus": ["A", "A", "B"]})
    phones = pd.DataFrame({"label": ["AA1", "K", "IY0"], "start": [0.1, 0.3, 0.5], "end": [0.3, 0.5, 0.7]})
    audio = np.sin(np.arange(16000) / 10.0).astype(np.float32)
    for fig in (plot.plot_eye_alignment(lm.points, lm.points / 50),
                plot.plot_phone_alignment(audio, Alignment(phones, phones), Alignment(phones, phones)),
                plot.plot_cut_trajectory(lm.timestamps, mouth, segs, 25.0),
                plot.plot_phone_counts(segs), plot.plot_boundary_errors([0.01, 0.02, 0.3])):
        assert_legible(fig)


def test_corpora_figures():
    rng = np.random.default_rng(0)
    shapes = pd.DataFrame({"corpus": ["A", "B"] * 4, "emotion": "anger", "phone": ["AA"] * 4 + ["IY"] * 4,
                           "height": [rng.random(10) for _ in range(8)], "width": [rng.random(10) for _ in range(8)]})
    manifest = pd.DataFrame({"corpus": ["A", "B"] * 8, "emotion": ["neutral", "anger", "happiness", "sadness"] * 4})
    features = rng.normal(size=(16, 86))
    features[:, 80] = np.log(rng.uniform(100, 250, 16))
    pose = pd.DataFrame({"utterance_id": list("abcd"), "corpus": ["A", "A", "B", "B"], "roll_deg": [1.0, 2, 3, 4],
                         "jitter": [0.1, 0.2, 0.1, 0.3], "dropped": [0.0, 0.1, 0.0, 0.2], "ipd_px": [50.0] * 4})
    for fig in (plot.plot_vowel_shapes(shapes), plot.plot_channel(manifest, features, rng.random((16, 257))),
                plot.plot_pose(pose)):
        assert_legible(fig)
    assert plot.corpus_colours(["B", "A"]) == {"A": "tab:blue", "B": "tab:orange"}


def test_example_utterance_figure_on_a_simulated_utterance():
    from agser.corpora.simulator import simulate_utterance

    ex = simulate_utterance("sim-crema", index=0, seed=0)
    fig = plot.plot_example_utterance(ex, ex["audio"])
    assert_legible(fig)
    assert [t.get_text() for t in fig.axes[0].get_legend().texts] == ["F1", "F2", "F3"]


def test_book_style_quiets_the_tqdm_notice_a_page_would_print():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        plot.book_style()
        warnings.warn("IProgress not found. Please update jupyter and ipywidgets.")
        warnings.warn("something else")
    assert [str(w.message) for w in caught] == ["something else"]
    assert matplotlib.rcParams["legend.fontsize"] >= 10 and matplotlib.rcParams["xtick.labelsize"] >= 10


def test_the_legibility_check_catches_a_tiny_legend_and_a_wide_figure():
    fig, ax = plt.subplots(figsize=(plot.style.PAGE_WIDTH, 3))
    ax.plot([0, 1], label="line")
    ax.legend(fontsize=6)
    with pytest.raises(AssertionError, match=r"below 9.0 pt as displayed: \[\('line', 6.0\)\]"):
        assert_legible(fig)
    with pytest.raises(AssertionError, match="figure 10.0 in wide"):
        assert_legible(plt.figure(figsize=(10, 3)))
