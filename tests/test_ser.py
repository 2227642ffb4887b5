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
from agser.ser.synthetic import synth_corpus
from agser.ser.train import SERConfig, run_experiment

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


def test_config_rejects_unknown_keys_and_reads_the_default_run():
    params = yaml.safe_load((REPO / "papermill_runs/default/params.yaml").read_text())["parameters"]
    cfg = SERConfig.from_params(params["ser"])
    assert cfg.gamma == params["ser"]["gamma"] and len(params["ser"]["seeds"]) >= 3
    with pytest.raises(ParameterError, match="ser.gama"):
        SERConfig.from_params({"gama": 1.0})


def test_methods_check_their_directions(tmp_path):
    from agser.ser.pipeline import ser_run

    with pytest.raises(ParameterError, match="upper-bound"):
        ser_run("upper-bound", "C->I", 0, {}, tmp_path)
    with pytest.raises(ParameterError, match="cross-corpus"):
        ser_run("AG", "C->C", 0, {}, tmp_path)
    with pytest.raises(ParameterError, match="method"):
        ser_run("XX", "C->I", 0, {}, tmp_path)
    with pytest.raises(ParameterError, match="direction"):
        ser_run("AG", "CI", 0, {}, tmp_path)


def test_every_method_trains_above_chance_on_an_easy_synthetic_pair():
    a = synth_corpus("sim-crema", n=48, seed=1)
    b = synth_corpus("sim-improv", n=48, shift=0.3, seed=2)
    cfg = SERConfig(epochs=25, hidden=16, max_triplets=256)
    for method in ("source-only", "AG", "PA", "LA", "Hard-AG"):
        r = run_experiment(method, a, b, 0, cfg)
        assert r["uar"] > 25.0, method
        assert 0.0 <= r["neutral"] <= 100.0 and r["n_test"] == 24
    r = run_experiment("upper-bound", b, b, 0, cfg)
    assert r["uar"] > 25.0 and r["n_adapt"] == 0


def test_paper_run_errors_clearly_on_missing_paths(tmp_path):
    from agser.ser.pipeline import check_paths, ser_run

    params = yaml.safe_load((REPO / "papermill_runs/paper/params.yaml").read_text())["parameters"]
    assert params["acoustic"]["encoder"] == "hf" and params["data"]["source"] == "manifest"
    with pytest.raises(ParameterError, match="does not exist") as err:
        check_paths(params)
    assert params["data"]["manifest"] in str(err.value)
    with pytest.raises(ParameterError, match="does not exist"):
        ser_run("AG", "C->I", 0, params, tmp_path)
    # with a manifest that exists, the missing wav2vec2 folder is named
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("utterance_id\n")
    params["data"]["manifest"] = str(manifest)
    with pytest.raises(ParameterError, match=params["acoustic"]["options"]["name_or_path"]):
        check_paths(params)


@pytest.mark.slow
def test_agser_train_end_to_end_on_a_tiny_simulated_run(tmp_path):
    """`agser train` through the store: simulate, extract, cluster, encode, train, append a row."""
    import pandas as pd

    from agser.__main__ import main

    params = yaml.safe_load((REPO / "papermill_runs/default/params.yaml").read_text())
    p = params["parameters"]
    p["data"]["utterances_per_corpus"] = 24
    p["cluster"] = {**(p.get("cluster") or {}), "k_range": [3, 3], "elbow_max_iter": 3, "max_iter": 5}
    p["ser"] = {**p["ser"], "epochs": 3}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True))
    argv = ["train", "--method", "AG", "--direction", "C->I", "--seed", "0", "--params", str(path)]
    assert main(argv) == 0
    assert main(argv) == 0  # cached: same row again
    table = pd.read_csv(tmp_path / "tables" / "ser_results.csv")
    assert list(table.columns) == ["method", "direction", "seed", "uar", "neutral", "anger", "happy", "sad"]
    assert len(table) == 2 and table.iloc[0].equals(table.iloc[1])
    assert 0.0 <= table["uar"].iloc[0] <= 100.0
    assert (tmp_path / "work" / "store" / "ser_run").is_dir()
    assert main(["train", "--method", "upper-bound", "--direction", "C->I", "--seed", "0",
                 "--params", str(path)]) == 2  # a wrong direction stops with a ParameterError


@pytest.mark.slow
def test_ser_cluster_model_reads_no_target_label(tmp_path):
    """Relabelling the target corpus in the manifest (other emotions, or none) leaves the AG
    cluster model that SER uses, and every segment's cluster, unchanged; the paper's
    four-emotion model of chapters 3-5 does see the change."""
    from agser.analysis.pipeline import run_ag_clusters
    from agser.corpora import read_manifest, write_manifest
    from agser.corpora.simulator import simulate
    from agser.ser.pipeline import _ser_segments, ser_clusters

    manifest = read_manifest(simulate(tmp_path / "sim", seed=0, utterances_per_corpus=5))
    target = (manifest["corpus"] == "sim-improv").to_numpy()
    relabelled = manifest.copy()
    relabelled.loc[target, "emotion"] = ["fear", "", "disgust", "", "fear"][:int(target.sum())]
    assert target.sum() == 5 and not relabelled["emotion"].equals(manifest["emotion"])
    extract = {"landmarks": "auto", "aligner": "auto", "workers": 1}
    cluster = {"k_range": [3, 3], "elbow_max_iter": 2, "max_iter": 5, "phones": "vowels",
               "emotions": ["neutral", "anger", "happiness", "sadness"]}
    got = []
    for name, table in (("original", manifest), ("relabelled", relabelled)):
        write_manifest(table, tmp_path / name / "manifest.csv")
        data = {"source": "manifest", "manifest": str(tmp_path / name / "manifest.csv")}
        work = tmp_path / name / "work"  # one store each: nothing is shared but the code
        got.append((ser_clusters(data, extract, cluster, work), _ser_segments(data, extract, cluster, work),
                    run_ag_clusters(data, extract, cluster, work)))
    (m_a, s_a, paper_a), (m_b, s_b, paper_b) = got
    assert m_a["params"]["emotions"] is None
    assert m_a["n_fit"] == m_b["n_fit"] == len(m_a["segments"])
    np.testing.assert_array_equal(m_a["model"].cluster_centers_, m_b["model"].cluster_centers_)
    np.testing.assert_array_equal(m_a["segments"]["cluster"], m_b["segments"]["cluster"])
    pd.testing.assert_frame_equal(s_a["segments"], s_b["segments"])
    assert s_a["segments"]["corpus"].nunique() == 2
    # the test can fail: the four-emotion filter of chapters 3-5 reads the target labels
    assert paper_b["n_fit"] < paper_a["n_fit"] == m_a["n_fit"]
    # where both filters pick the same segments, chapters 3-5 and SER share one fit
    assert len(list((tmp_path / "original" / "work" / "store" / "ag_clusters").glob("*.pkl"))) == 1
    assert len(list((tmp_path / "relabelled" / "work" / "store" / "ag_clusters").glob("*.pkl"))) == 2
