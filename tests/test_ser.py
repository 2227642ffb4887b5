"""agser.ser: losses, model, anchor units, configuration, the paper run's paths, the CLI."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from agser.errors import ParameterError
from agser.ser.losses import coral_loss, sample_triplets, weighted_triplet_loss
from agser.ser.methods import (ag_units, choose_layers, gesture_divergence_by_phone, hard_ag_positives,
                               phone_units)
from agser.ser.model import SERModel
from agser.run.schema import defaults
from agser.ser.protocol import run_experiment
from agser.ser.synthetic import synth_corpus

REPO = Path(__file__).resolve().parents[1]


def test_triplet_loss_zero_when_satisfied_positive_otherwise():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    near, far = torch.tensor([[1.0, 0.05], [0.0, 1.0]]), torch.tensor([[0.0, 1.0], [1.0, 0.05]])
    # first triplet satisfied (d_ap ~ 0, d_an = 2), second violated (swapped)
    per = weighted_triplet_loss(a[:1], near[:1], far[:1], margin=0.5)
    assert float(per) == 0.0
    bad = weighted_triplet_loss(a[1:], near[1:], far[1:], margin=0.5)
    from agser.ser.losses import pair_distance

    d_an = float(pair_distance(a[1:], far[1:])[0])
    assert float(bad) == pytest.approx(0.5 + 2.0 - d_an, abs=1e-5) and d_an < 0.01
    # weights: only the weighted triplet counts
    w = weighted_triplet_loss(a, near, far, weight=torch.tensor([1.0, 0.0]), margin=0.5)
    assert float(w) == 0.0
    w2 = weighted_triplet_loss(a, near, far, weight=torch.tensor([1.0, 3.0]), margin=0.5)
    assert float(w2) == pytest.approx(0.75 * float(bad), rel=1e-5)


def test_triplet_loss_pulls_positive_closer():
    g = torch.Generator().manual_seed(0)
    a, p, n = (torch.randn(16, 4, generator=g, requires_grad=True) for _ in range(3))
    loss = weighted_triplet_loss(a, p, n, margin=2.0)
    loss.backward()
    with torch.no_grad():
        p2 = p - 0.1 * p.grad
    from agser.ser.losses import pair_distance

    assert pair_distance(a, p2).mean() < pair_distance(a, p).mean()


def test_coral_zero_for_same_and_grows_with_scale():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 5, generator=g)
    assert float(coral_loss(x, x + 3.0)) == pytest.approx(0.0, abs=1e-10)  # mean shift is invisible
    assert float(coral_loss(x, 2 * x)) > float(coral_loss(x, 1.2 * x)) > 0
    with pytest.raises(ParameterError):
        coral_loss(x, x[:, :3])


def test_sample_triplets_respects_units():
    rng = np.random.default_rng(0)
    ga = np.array([0, 1, 2, -1, 0, 1])
    go = np.array([0, 0, 1, 1, 3, 3, -1])
    a, p, n = sample_triplets(ga, go, rng)
    assert set(a.tolist()) <= {0, 1, 4, 5}  # unit 2 has no partner, -1 is not an anchor
    assert (go[p] == ga[a]).all() and (go[n] != ga[a]).all()
    a, p, n = sample_triplets(ga, go, rng, max_triplets=2)
    assert len(a) == 2
    fixed = np.array([6, -1, -1, -1, 2, -1])
    a, p, n = sample_triplets(ga, go, rng, positives=fixed)
    assert a.tolist() == [0, 4] and p.tolist() == [6, 2]


def test_segment_embeddings_are_span_means():
    h = torch.randn(2, 7, 3)
    utt, s, e = torch.tensor([0, 1, 1]), torch.tensor([0, 2, 6]), torch.tensor([3, 5, 7])
    got = SERModel.segment_embeddings(h, utt, s, e)
    want = torch.stack([h[0, 0:3].mean(0), h[1, 2:5].mean(0), h[1, 6:7].mean(0)])
    torch.testing.assert_close(got, want)


def test_model_ignores_padding_and_masks_layers():
    torch.manual_seed(0)
    m = SERModel(n_layers=3, dim=4, hidden=8, layer_mask=[True, False, True]).eval()
    assert float(m.layer_weights().detach()[1]) == 0.0
    x = torch.randn(1, 3, 6, 4)
    padded = torch.cat([x, torch.randn(1, 3, 4, 4)], dim=2)
    a, _ = m(x, torch.tensor([6]))
    b, _ = m(padded, torch.tensor([6]))
    torch.testing.assert_close(a, b)


def test_ag_units_threshold_and_weights():
    table = pd.DataFrame({"i": [60.0, 24.9, 0.0], "u": [30.0, 90.0, 50.0]}, index=[1, 2, 3])
    seg = pd.DataFrame({"ipa": ["i", "i", "u", "u", "i", "ɑ"], "cluster": [1, 2, 2, 3, -1, 1]})
    u, w = ag_units(seg, table, threshold=25.0)
    assert u.tolist() == [1, -1, 2, 3, -1, -1]
    assert w.tolist() == pytest.approx([0.6, 0, 0.9, 0.5, 0, 0])
    assert phone_units(seg, ["i", "u"]).tolist() == [0, 0, 1, 1, 0, -1]


def test_hard_ag_picks_the_nearest_same_phone_gesture():
    base = np.linspace(0, 1, 5)[:, None] * np.ones((1, 24))
    ga = [base, base + 5.0]
    gb = [base + 5.1, base + 0.1, base + 0.05]
    div = gesture_divergence_by_phone(ga, ["i", "i"], gb, ["i", "i", "u"])
    assert set(div) == {"i"}
    pos = hard_ag_positives(div, np.array([0, 1]), np.array([0, 1, 2]))
    assert pos.tolist() == [1, 0]  # segment 2 is another phone, never a positive
    back = hard_ag_positives(div, np.array([0, 1, 2]), np.array([0, 1]), anchor_is_a=False)
    assert back.tolist() == [1, 0, -1]


def test_choose_layers():
    assert choose_layers(np.array([0.3, 0.1, 0.9, 0.5]), 2).tolist() == [2, 3]
    with pytest.raises(ParameterError):
        choose_layers(np.array([0.1]), 1, select="best")


def test_estimator_follows_scikit_learn():
    """SERClassifier: get/set_params from the signature, fit returns self, NotFittedError, predict_proba."""
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from agser.ser.estimator import SERClassifier

    est = SERClassifier(hidden=8, max_epochs=2, batch_size=8, device="cpu")
    assert clone(est).get_params() == est.get_params() and est.get_params()["hidden"] == 8
    c = synth_corpus("sim-crema", n=24, seed=3)
    X = c.subset(np.arange(len(c)))
    with pytest.raises(NotFittedError):
        est.predict(X)
    assert est.fit(X, c.labels) is est
    proba = est.predict_proba(X)
    assert proba.shape == (len(c), 4) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (est.predict(X) == proba.argmax(1)).all() and list(est.classes_) == [0, 1, 2, 3]
    assert est.history_["epochs_run"] == 2 and len(est.history_["er"]) == 2 * 3  # 24 / 8 batches a epoch
    with pytest.raises(ParameterError, match="target"):
        SERClassifier(anchoring="triplet").fit(X, c.labels)
    with pytest.raises(ParameterError, match="anchoring"):
        SERClassifier(anchoring="magic").fit(X, c.labels)


def test_methods_check_their_directions(tmp_path):
    from agser.run import Run

    run = Run(work_dir=tmp_path)
    with pytest.raises(ParameterError, match="upper-bound"):
        run.ser_run("upper-bound", "C->I", 0)
    with pytest.raises(ParameterError, match="cross-corpus"):
        run.ser_run("AG", "C->C", 0)
    with pytest.raises(ParameterError, match="method"):
        run.ser_run("XX", "C->I", 0)
    with pytest.raises(ParameterError, match="direction"):
        run.ser_run("AG", "CI", 0)


def test_every_method_trains_above_chance_on_an_easy_synthetic_pair():
    a = synth_corpus("sim-crema", n=48, seed=1)
    b = synth_corpus("sim-improv", n=48, shift=0.3, seed=2)
    ser = {**defaults()["ser"], "max_epochs": 15, "hidden": 16, "max_triplets": 256, "batch_size": 16,
           "device": "cpu"}
    for method in ("source-only", "AG", "AG-shuffled", "AG-oracle", "PA", "LA", "Hard-AG"):
        r = run_experiment(method, a, b, 0, ser)
        assert r["uar"] > 25.0, method
        assert 0.0 <= r["neutral"] <= 100.0 and r["n_test"] == 24
        h = r["history"]
        assert 1 <= h["best_epoch"] <= h["epochs_run"] <= 15 and len(h["val_uar"]) == h["epochs_run"]
        if method not in ("source-only",):
            assert np.mean(h["triplets"]) > 0 and np.any(h["extra"] != 0), method
    r = run_experiment("upper-bound", b, b, 0, ser)
    assert r["uar"] > 25.0 and r["n_adapt"] == 0


def test_paper_run_errors_clearly_on_missing_paths(tmp_path):
    from agser.run import Run, read_params_file

    spec = read_params_file(REPO / "papermill_runs/paper/params.yaml")
    params = spec["overrides"]
    assert params["acoustic"]["encoder"] == "hf" and params["data"]["source"] == "manifest"
    with pytest.raises(ParameterError, match="does not exist") as err:
        Run(params, work_dir=tmp_path)
    assert params["data"]["manifest"] in str(err.value)
    # with a manifest that exists, the missing wav2vec2 folder is named
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("utterance_id\n")
    params["data"]["manifest"] = str(manifest)
    with pytest.raises(ParameterError, match=params["acoustic"]["options"]["name_or_path"]):
        Run(params, work_dir=tmp_path)
    assert not (tmp_path / "store").exists()  # stopped before any work


@pytest.mark.slow
def test_agser_train_end_to_end_on_a_tiny_simulated_run(tmp_path):
    """`agser train` through the store: simulate, extract, cluster, encode, train, append a row."""
    import pandas as pd

    from agser.__main__ import main

    params = {"description": "tiny", "parameters": {
        "data": {"utterances_per_corpus": 32},
        "cluster": {"k_range": [3, 3], "elbow_max_iter": 3, "max_iter": 5},
        "ser": {"max_epochs": 3, "patience": 2, "device": "cpu", "parallel_runs": 1}}}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True))
    argv = ["train", "--method", "AG", "--direction", "C->I", "--seed", "0", "--params", str(path)]
    assert main(argv) == 0
    assert main(argv) == 0  # cached: same row again
    table = pd.read_csv(tmp_path / "tables" / "ser_results_cli.csv")
    assert list(table.columns) == ["condition", "method", "direction", "seed", "uar", "neutral", "anger", "happy",
                                   "sad", "n_train"]
    assert len(table) == 2 and table.iloc[0].equals(table.iloc[1])
    assert 0.0 <= table["uar"].iloc[0] <= 100.0
    assert (tmp_path / "work" / "store" / "ser_run").is_dir()
    assert main(["train", "--method", "upper-bound", "--direction", "C->I", "--seed", "0",
                 "--params", str(path)]) == 2  # a wrong direction stops with a ParameterError


@pytest.mark.slow
def test_ser_cluster_model_and_oracle_read_no_target_label(tmp_path):
    """Relabelling the target corpus in the manifest (other emotions, or none) leaves the AG
    cluster model that SER uses, every segment's cluster and oracle class unchanged; the
    paper's four-emotion model of chapters 3-5 does see the change."""
    from agser.corpora import read_manifest, write_manifest
    from agser.corpora.simulator import simulate
    from agser.run import Run

    manifest = read_manifest(simulate(tmp_path / "sim", seed=0, utterances_per_corpus=8))
    target = (manifest["corpus"] == "sim-improv").to_numpy()
    relabelled = manifest.copy()
    relabelled.loc[target, "emotion"] = (["fear", "", "disgust", ""] * 2)[:int(target.sum())]
    assert target.sum() == 8 and not relabelled["emotion"].equals(manifest["emotion"])
    got = []
    for name, table in (("original", manifest), ("relabelled", relabelled)):
        write_manifest(table, tmp_path / name / "manifest.csv", relative=False)
        # one store each: nothing is shared but the code
        run = Run({"data": {"source": "manifest", "manifest": str(tmp_path / name / "manifest.csv")},
                   "extract": {"workers": 1}, "cluster": {"k_range": [3, 3], "elbow_max_iter": 2, "max_iter": 5}},
                  work_dir=tmp_path / name / "work")
        got.append((run.ser_clusters(), run._ser_segments(), run.clusters()))
    (m_a, s_a, paper_a), (m_b, s_b, paper_b) = got
    assert m_a["params"]["emotions"] is None
    assert m_a["n_fit"] == m_b["n_fit"] == len(m_a["segments"])
    np.testing.assert_array_equal(m_a["model"].cluster_centers_, m_b["model"].cluster_centers_)
    np.testing.assert_array_equal(m_a["segments"]["cluster"], m_b["segments"]["cluster"])
    pd.testing.assert_frame_equal(s_a["segments"], s_b["segments"])
    assert s_a["segments"]["corpus"].nunique() == 2
    # the test can fail: the four-emotion filter of chapters 3-5 reads the target labels
    assert paper_b["n_fit"] < paper_a["n_fit"] == m_a["n_fit"]


@pytest.mark.slow
def test_oracle_reads_only_simulator_truth(tmp_path):
    """AG-oracle's classes follow the simulator's articulation files and nothing else: new faces
    (other landmark files) and other labels leave them unchanged, other articulation changes them."""
    from agser.corpora import read_manifest, write_manifest
    from agser.corpora.simulator import simulate
    from agser.run import Run

    base = read_manifest(simulate(tmp_path / "sim", seed=0, utterances_per_corpus=8))
    faces = read_manifest(simulate(tmp_path / "faces", seed=0, utterances_per_corpus=8, decouple_gestures=True))
    assert (base["landmarks_path"] != faces["landmarks_path"]).all()

    def oracle(table, name):
        write_manifest(table, tmp_path / name / "manifest.csv", relative=False)
        run = Run({"data": {"source": "manifest", "manifest": str(tmp_path / name / "manifest.csv")},
                   "extract": {"workers": 1}, "cluster": {"k": 3, "k_range": [3, 3], "elbow_max_iter": 2,
                                                          "max_iter": 5}},
                  work_dir=tmp_path / name / "work")
        # a manifest run is no simulation: the oracle is asked for through the simulator's files
        run.is_simulated = lambda: True
        return run.oracle(), run._ser_segments()["segments"]

    a, seg_a = oracle(base, "base")
    # other faces (the decoupled corpus' landmark files), other emotion labels: the same classes
    other = base.assign(landmarks_path=faces["landmarks_path"].to_numpy(),
                        emotion=np.roll(base["emotion"].to_numpy(), 1))
    b, seg_b = oracle(other, "faces")
    pd.testing.assert_frame_equal(seg_a[["utterance_id", "ipa", "start", "end"]],
                                  seg_b[["utterance_id", "ipa", "start", "end"]])
    np.testing.assert_array_equal(a, b)
    # the truth itself changed (every articulation track reversed in time): other classes
    truth = tmp_path / "truth"
    truth.mkdir()
    paths = []
    for p in base["articulation_path"]:
        t = pd.read_csv(p)
        t.iloc[:, 1:] = t.iloc[:, 1:].to_numpy()[::-1]
        q = truth / Path(p).name
        t.to_csv(q, index=False)
        paths.append(str(q))
    c, _ = oracle(base.assign(articulation_path=paths), "truth")
    assert not np.array_equal(a, c)
    # no articulation files: no oracle
    none, _ = oracle(base.drop(columns="articulation_path"), "none")
    assert none is None
