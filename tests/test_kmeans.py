"""SoftDTWKMeans, the elbow rule and ``agser cluster`` on small inputs."""

import numpy as np
import pandas as pd
import pytest

from agser.clustering import (
    SoftDTWKMeans,
    choose_k_elbow,
    fit_k_range,
    plot_elbow,
    soft_dtw_pairwise,
    to_padded,
)
from agser.errors import ParameterError


def _three_shapes(n_per=8, seed=0):
    """Three clearly different trajectory shapes, 3-7 frames x 2 dims; true labels."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for label, (f, off) in enumerate([(np.sin, 0.0), (np.cos, 2.0), (lambda t: t, -2.0)]):
        for _ in range(n_per):
            T = int(rng.integers(3, 8))
            t = np.linspace(0, 3, T)
            X.append(np.stack([f(t) + off, off + 0.1 * t], axis=1) + 0.02 * rng.normal(size=(T, 2)))
            y.append(label)
    return X, np.array(y)


def _same_partition(a, b):
    return pd.crosstab(a, b).astype(bool).sum(axis=1).max() == 1 and len(set(a)) == len(set(b))


def test_recovers_three_shapes_and_predicts_its_labels():
    X, y = _three_shapes()
    km = SoftDTWKMeans(n_clusters=3, gamma=0.1, max_iter=10, random_state=0).fit(X)
    assert _same_partition(y, km.labels_)
    assert (km.predict(X) == km.labels_).all()
    assert km.cluster_centers_.shape == (3, 7, 2)
    D = km.transform(X)
    assert D.shape == (len(X), 3)
    # inertia_ is the mean soft-DTW to the own centre, scored by the common function
    ref = soft_dtw_pairwise(X, km.cluster_centers_, gamma=0.1, dtype="float64")
    assert km.inertia_ == pytest.approx(ref[np.arange(len(X)), km.labels_].mean(), rel=1e-4)
    assert 1 <= km.n_iter_ <= 10


def test_nan_padded_input_equals_list_input_and_is_reproducible():
    X, _ = _three_shapes(seed=1)
    Xp, lengths = to_padded(X)
    for i, L in enumerate(lengths):
        Xp[i, L:] = np.nan
    a = SoftDTWKMeans(n_clusters=3, gamma=0.1, max_iter=5, random_state=3, dtype="float64").fit(X)
    b = SoftDTWKMeans(n_clusters=3, gamma=0.1, max_iter=5, random_state=3, dtype="float64").fit(Xp)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_)
    assert a.fit_predict(X).tolist() == a.labels_.tolist()


def test_barycentre_lowers_the_inertia_of_the_initial_centres():
    X, _ = _three_shapes(seed=2)
    Xp, lengths = to_padded(X)
    init = np.stack([Xp[i, :7] for i in np.flatnonzero(lengths == 7)[:3]])
    before = soft_dtw_pairwise(X, init, gamma=0.5).min(axis=1).mean()
    km = SoftDTWKMeans(n_clusters=3, gamma=0.5, max_iter=1, init=init).fit(X)
    assert km.inertia_ < before


def test_empty_cluster_is_reseeded():
    from agser.clustering import resample_series

    X, _ = _three_shapes(seed=3)
    T = max(len(x) for x in X)
    # the third centre is so far away that no series picks it
    init = np.stack([resample_series(X[0], len(X[0]), T), resample_series(X[9], len(X[9]), T),
                     np.full((T, 2), 1e3)])
    km = SoftDTWKMeans(n_clusters=3, gamma=0.1, max_iter=5, init=init).fit(X)
    assert km.n_empty_reseeded_ >= 1
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    assert np.abs(km.cluster_centers_).max() < 100


def test_save_and_load_round_trip(tmp_path):
    X, _ = _three_shapes(seed=4)
    km = SoftDTWKMeans(n_clusters=3, gamma=0.1, max_iter=3, random_state=0).fit(X)
    path = km.save(tmp_path / "model")
    assert path.name == "model.npz"
    back = SoftDTWKMeans.load(path)
    np.testing.assert_array_equal(back.cluster_centers_, km.cluster_centers_)
    assert back.gamma == 0.1 and back.n_clusters == 3 and back.inertia_ == km.inertia_
    np.testing.assert_array_equal(back.predict(X), km.predict(X))
    with pytest.raises(ParameterError, match="does not exist"):
        SoftDTWKMeans.load(tmp_path / "missing.npz")


def test_tslearn_backend_same_interface_and_comparable_inertia():
    pytest.importorskip("tslearn")
    X, y = _three_shapes(n_per=5, seed=5)
    Xp, lengths = to_padded(X)
    init = np.stack([np.resize(X[i], (Xp.shape[1], 2)) for i in (0, 5, 10)])
    kw = dict(n_clusters=3, gamma=0.5, max_iter=3, max_iter_barycenter=10, init=init)
    ours = SoftDTWKMeans(**kw, dtype="float64").fit(X)
    ref = SoftDTWKMeans(**kw, backend="tslearn").fit(X)
    assert ref.cluster_centers_.shape == ours.cluster_centers_.shape
    assert hasattr(ref, "tslearn_inertia_")
    assert _same_partition(ours.labels_, ref.labels_)
    # both scored by the same soft-DTW function
    assert ours.inertia_ <= ref.inertia_ + 0.02 * abs(ref.inertia_)


def test_bad_parameters_raise():
    X, _ = _three_shapes(n_per=2)
    with pytest.raises(ParameterError, match="n_clusters"):
        SoftDTWKMeans(n_clusters=0).fit(X)
    with pytest.raises(ParameterError, match="exceeds"):
        SoftDTWKMeans(n_clusters=100).fit(X)
    with pytest.raises(ParameterError, match="backend"):
        SoftDTWKMeans(n_clusters=2, backend="sklearn").fit(X)
    with pytest.raises(ParameterError, match="init"):
        SoftDTWKMeans(n_clusters=2, init=np.zeros((3, 4, 2))).fit(X)
    with pytest.raises(ParameterError, match="not fitted"):
        SoftDTWKMeans(n_clusters=2).predict(X)


def test_choose_k_elbow_rule():
    assert choose_k_elbow([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8.5]) == 3
    # unsorted input gives the same answer
    assert choose_k_elbow([6, 1, 3, 2, 5, 4], [8.5, 100, 12, 40, 9, 10]) == 3
    # a straight line has no elbow: the smallest k
    assert choose_k_elbow([2, 3, 4, 5], [4, 3, 2, 1]) == 2
    # negative inertias (soft-DTW can be < 0) only shift the curve
    assert choose_k_elbow([1, 2, 3, 4, 5, 6], [-0, -60, -88, -90, -91, -91.5]) == 3
    with pytest.raises(ParameterError):
        choose_k_elbow([2, 2], [1, 0])


def test_fit_k_range_and_plot():
    X, _ = _three_shapes(n_per=5, seed=6)
    df, models = fit_k_range(X, [1, 2, 3, 4], gamma=0.1, max_iter=5, random_state=0, return_models=True)
    assert df["k"].tolist() == [1, 2, 3, 4] and set(models) == {1, 2, 3, 4}
    assert df["inertia"].iloc[2] < df["inertia"].iloc[0]
    assert df["chosen"].sum() == 1
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_elbow(df["k"], df["inertia"])
    assert ax.get_xlabel().startswith("number of clusters")


def _fake_extract(folder, rng, n=30):
    """An extract folder in the agser.extract contract: segments.parquet + segment_frames.npy."""
    folder.mkdir()
    ipa = ["i", "ɑ", "t"]
    rows, frames, offset = [], [], 0
    for s in range(n):
        T = int(rng.integers(2, 6))
        kind = s % 3
        pts = np.zeros((T, 12, 2), dtype=np.float32)
        pts[:, :, 0] = np.cos(np.linspace(0, 2 * np.pi, 12, endpoint=False)) * (0.5 + 0.2 * kind)
        pts[:, :, 1] = 1 + np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False)) * (0.1 + 0.2 * kind)
        pts += 0.01 * rng.normal(size=pts.shape).astype(np.float32)
        frames.append(pts)
        rows.append(dict(utterance_id=f"u{s // 3}", corpus=["sim-crema", "sim-improv"][s % 2],
                         speaker="S1", emotion="anger", phone=["IY", "AA", "T"][kind], ipa=ipa[kind],
                         start=0.1 * s, end=0.1 * s + 0.05, n_frames=T, frame_offset=offset))
        offset += T
    pd.DataFrame(rows).to_parquet(folder / "segments.parquet")
    np.save(folder / "segment_frames.npy", np.concatenate(frames))


def test_cli_cluster_k_range(tmp_path, capsys):
    pytest.importorskip("agser.extract")
    from agser.__main__ import main

    _fake_extract(tmp_path / "ext", np.random.default_rng(0))
    argv = ["cluster", "--segments", str(tmp_path / "ext"), "--k-range", "1:3", "--out",
            str(tmp_path / "out"), "--gamma", "0.05", "--max-iter", "5", "--phones", "vowels"]
    assert main(argv) == 0
    out = tmp_path / "out"
    labels = pd.read_csv(out / "labels.csv")
    elbow = pd.read_csv(out / "elbow.csv")
    assert len(labels) == 20  # the 't' segments are not vowels
    assert set(labels["ipa"]) == {"i", "ɑ"}
    assert elbow["k"].tolist() == [1, 2, 3] and elbow["chosen"].sum() == 1
    k = int(elbow.loc[elbow["chosen"], "k"].iloc[0])
    model = SoftDTWKMeans.load(out / "model.npz")
    assert model.n_clusters == k and labels["cluster"].between(1, k).all()
    assert (out / "elbow.png").is_file() and (out / "store").is_dir()
    # a second run reads every fit from the store
    assert main(argv) == 0
    assert pd.read_csv(out / "labels.csv").equals(labels)
    assert main(["cluster", "--segments", str(tmp_path / "nowhere"), "--k", "2", "--out", str(out)]) == 2
