"""The Run (agser.run.Run): cached stages, derived runs, runs over an extraction, the cluster CLI.

Every test uses a tiny simulated run (2 speakers, 8 utterances per corpus) and
the real stages; calls are counted by wrapping the real functions.
"""

import functools

import numpy as np
import pandas as pd
import pytest

from agser.errors import ParameterError
from agser.run import Run

CLUSTER = {"k_range": [2, 3], "max_iter": 3, "elbow_max_iter": 2}
PARAMS = {"data": {"utterances_per_corpus": 8, "simulator": {"speakers_per_corpus": 2}},
          "extract": {"workers": 1}, "cluster": CLUSTER}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A run whose corpora, extraction and AG cluster model are in its store."""
    run = Run(PARAMS, work_dir=tmp_path_factory.mktemp("built") / "work")
    run.clusters()
    return run


@pytest.fixture
def counted(monkeypatch):
    """Calls of the simulator, the per-utterance extraction, landmark reading and the cluster fit."""
    import agser.clustering.gesture_model as gesture_model
    import agser.corpora.simulator as simulator
    import agser.extract as extract

    calls = {"simulate": 0, "extract_utterance": 0, "utterance_landmarks": 0, "fit_gesture_clusters": 0}

    def wrap(module, name):
        real = getattr(module, name)

        @functools.wraps(real)  # the schema reads simulate's signature
        def counting(*args, **kw):
            calls[name] += 1
            return real(*args, **kw)

        monkeypatch.setattr(module, name, counting)

    wrap(simulator, "simulate")
    wrap(extract, "extract_utterance")
    wrap(extract, "utterance_landmarks")
    wrap(gesture_model, "fit_gesture_clusters")
    return calls


def _files(folder):
    return {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _same_model(a, b):
    assert a["k"] == b["k"] and a["k_elbow"] == b["k_elbow"]
    np.testing.assert_array_equal(np.asarray(a["model"].cluster_centers_), np.asarray(b["model"].cluster_centers_))
    pd.testing.assert_frame_equal(a["segments"], b["segments"])
    timing = [c for c in a["elbow"].columns if c == "seconds"]
    pd.testing.assert_frame_equal(a["elbow"].drop(columns=timing), b["elbow"].drop(columns=timing))


def test_stages_are_cached_across_run_objects(tmp_path, counted):
    work = tmp_path / "work"
    first = Run(PARAMS, work_dir=work)
    ag = first.clusters()
    n_utt = 16
    assert counted == {"simulate": 1, "extract_utterance": n_utt, "utterance_landmarks": n_utt,
                       "fit_gesture_clusters": 1}
    assert first.clusters() is ag, "the same Run memoises its stages"
    store = _files(work / "store")
    assert len([p for p in store if p.parts[0] == "ag_clusters"]) == 1

    counted.update(dict.fromkeys(counted, 0))
    second = Run(PARAMS, work_dir=work)
    again = second.clusters()
    assert counted == dict.fromkeys(counted, 0), f"a second Run on the same work folder recomputed {counted}"
    _same_model(ag, again)
    assert second.segments_dir() == first.segments_dir()
    landmarks, failures = second.landmarks()
    assert len(landmarks) == n_utt and failures.empty
    assert counted["utterance_landmarks"] == 0, "Run.landmarks read the landmarks the extraction stored"
    # nothing in the store was rewritten; the extraction folder is outside the store
    assert {p: t for p, t in _files(work / "store").items() if p in store} == store


def test_the_label_free_model_shares_the_fit_when_it_selects_the_same_segments(built, counted):
    """Every simulated utterance has one of the four emotions: clusters(emotions=None) (SER's
    model, which reads no label) selects the same rows and reads the same stored fit."""
    ag, free = built.clusters(), built.clusters(emotions=None)
    assert counted["fit_gesture_clusters"] == 0
    _same_model(ag, free)
    assert free["params"]["emotions"] is None and ag["params"]["emotions"] == built.params["cluster"]["emotions"]


def test_with_params_keeps_the_store_and_gives_another_extraction_only_for_other_data(built, counted):
    same = built.with_params(**{"ser.gamma": 0.3, "extract.workers": 2})
    assert same.work_dir == built.work_dir and same.store.root == built.store.root
    assert same.params["ser"]["gamma"] == 0.3 and built.params["ser"]["gamma"] == 1.0
    assert same.segments_dir() == built.segments_dir()
    assert counted["simulate"] == counted["extract_utterance"] == 0

    other = built.with_params(**{"data.seed": 1})
    assert other.manifest_path() != built.manifest_path()
    assert other.segments_dir() != built.segments_dir()
    assert counted["simulate"] == 1 and counted["extract_utterance"] == 16
    assert (built.segments_dir() / "segments.parquet").is_file(), "the first run's folder is kept"
    a, b = built.segments()[0], other.segments()[0]
    assert not a[["utterance_id", "start", "end"]].equals(b[["utterance_id", "start", "end"]])

    gaps = built.with_params(**{"extract.max_gap": 2})
    assert gaps.manifest_path() == built.manifest_path() and gaps.segments_dir() != built.segments_dir()
    with pytest.raises(ParameterError, match=r"cluster\.gammma is not a parameter"):
        built.with_params(**{"cluster.gammma": 2.0})


def test_from_extraction_starts_at_an_extraction_folder(built, tmp_path, counted):
    folder = built.segments_dir()
    run = Run.from_extraction(folder, work_dir=tmp_path / "fx", parameters={"cluster": CLUSTER})
    assert run.segments_dir() == folder
    pd.testing.assert_frame_equal(run.segments()[0], built.segments()[0])
    ag = run.clusters()
    assert counted["simulate"] == 0 and counted["extract_utterance"] == 0, "no manifest is needed"
    assert counted["fit_gesture_clusters"] == 1  # its own store
    _same_model(ag, built.clusters())
    assert len(list((tmp_path / "fx" / "store" / "ag_clusters").iterdir())) == 1
    # a derived run keeps the extraction
    k2 = run.with_params(**{"cluster.k": 2})
    assert k2.segments_dir() == folder and k2.clusters()["k"] == 2
    with pytest.raises(ParameterError, match="has no segments.parquet: run agser extract first"):
        Run.from_extraction(tmp_path, work_dir=tmp_path / "nowhere")


def test_cluster_cli_on_an_extraction_and_run_clusters_share_one_store_key(built, tmp_path, counted):
    from agser.__main__ import main
    from agser.clustering import SoftDTWKMeans

    folder, out = built.segments_dir(), tmp_path / "cli"
    rc = main(["cluster", "--segments", str(folder), "--out", str(out), "--k-range", "2:3",
               "--max-iter", "3", "--elbow-max-iter", "2"])
    assert rc == 0 and counted["fit_gesture_clusters"] == 1
    keys = sorted((out / "store" / "ag_clusters").iterdir())
    assert len(keys) == 1
    # the same stage with the same parameters on that store: read, not fitted again
    ag = Run.from_extraction(folder, work_dir=out, parameters={"cluster": CLUSTER}).clusters()
    assert counted["fit_gesture_clusters"] == 1
    assert sorted((out / "store" / "ag_clusters").iterdir()) == keys
    saved = SoftDTWKMeans.load(out / "model.npz")
    np.testing.assert_array_equal(np.asarray(saved.cluster_centers_), np.asarray(ag["model"].cluster_centers_))
    labels = pd.read_csv(out / "labels.csv")
    assert labels["row"].tolist() == ag["segments"]["row"].tolist()
    assert labels["cluster"].tolist() == ag["segments"]["cluster"].tolist()
    # and the model the book's run made on its own store is that model too
    _same_model(ag, built.clusters())
    # another parameter is another key
    assert main(["cluster", "--segments", str(folder), "--out", str(out), "--k", "2", "--k-range", "2:3",
                 "--max-iter", "3", "--elbow-max-iter", "2"]) == 0
    assert counted["fit_gesture_clusters"] == 2 and len(list((out / "store" / "ag_clusters").iterdir())) == 2


def test_cluster_cli_refuses_a_wrong_option_before_any_work(built, tmp_path, capsys):
    from agser.__main__ import main

    out = tmp_path / "cli"
    assert main(["cluster", "--segments", str(built.segments_dir()), "--out", str(out), "--k-range", "3"]) == 2
    assert "--k-range '3' must look like A:B" in capsys.readouterr().err
    assert main(["cluster", "--segments", str(tmp_path), "--out", str(out)]) == 2
    assert "has no segments.parquet" in capsys.readouterr().err
    assert main(["cluster", "--segments", str(built.segments_dir())]) == 2
    assert "--segments needs --out" in capsys.readouterr().err
    assert not (out / "store").exists()
