"""The per-utterance runner (agser.run.runner.map_cached): order, failures, store, workers, dask, kill -9."""

import functools
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agser.errors import InputError, ParameterError
from agser.run.runner import map_cached
from agser.store import ArtifactStore


def rows(n, bad=()):
    return [{"utterance_id": f"u{i}", "x": i, "bad": i in bad} for i in range(n)]


def by_x(row):
    return (row["x"],)


def square(row, log=None):
    """The stage: x squared as an array; a bad row fails as real stages do. ``log`` counts calls
    across processes (one line per call)."""
    if log is not None:
        with open(log, "a") as f:
            f.write(row["utterance_id"] + "\n")
    if row["bad"]:
        raise InputError(f"utterance {row['utterance_id']}: no face in any frame\n  (detector)",
                         stage="landmarks")
    return np.full(3, row["x"] ** 2, dtype=np.float32)


def calls(log):
    return Path(log).read_text().split() if Path(log).exists() else []


def _run(store, items, log, **kw):
    return map_cached(functools.partial(square, log=str(log)), items, store=store, stage="square",
                      params={"p": 1}, inputs=by_x, **kw)


def test_values_in_order_failures_as_rows_and_stored(tmp_path):
    store, log = ArtifactStore(tmp_path / "store"), tmp_path / "calls.log"
    items = rows(6, bad={1, 4})[::-1]  # not sorted by id: the order is the items'
    r = _run(store, items, log)
    assert list(r.values) == ["u5", "u3", "u2", "u0"]
    assert [float(v[0]) for v in r.values.values()] == [25.0, 9.0, 4.0, 0.0]
    assert r.failures.to_dict("records") == [
        {"utterance_id": "u4", "stage": "landmarks", "reason": "utterance u4: no face in any frame (detector)"},
        {"utterance_id": "u1", "stage": "landmarks", "reason": "utterance u1: no face in any frame (detector)"}]
    assert set(r.keys) == set(r.values)
    assert sorted(calls(log)) == sorted(f"u{i}" for i in range(6))
    # each success is one .npy (memory-mappable), each failure one record under <stage>-failed
    assert len(list((tmp_path / "store" / "square").glob("*.npy"))) == 4
    assert len(list((tmp_path / "store" / "square-failed").glob("*.pkl"))) == 2
    assert isinstance(store.load(r.keys["u5"], mmap=True), np.memmap)

    # a second map, through a new store object: nothing computed again, failures included
    again = _run(ArtifactStore(tmp_path / "store"), items, log)
    assert len(calls(log)) == 6, "a stored value or failure was computed again"
    assert list(again.values) == list(r.values) and again.keys == r.keys
    assert all(np.array_equal(again.values[u], r.values[u]) for u in r.values)
    assert again.failures.equals(r.failures)


def test_new_inputs_or_params_are_computed_the_rest_read(tmp_path):
    store, log = ArtifactStore(tmp_path / "store"), tmp_path / "calls.log"
    _run(store, rows(3), log)
    more = rows(5)
    r = _run(store, more, log)
    assert calls(log) == ["u0", "u1", "u2", "u3", "u4"]  # only u3 and u4 are new
    assert list(r.values) == [f"u{i}" for i in range(5)]
    map_cached(functools.partial(square, log=str(log)), more[:1], store=store, stage="square",
               params={"p": 2}, inputs=by_x)
    assert calls(log)[-1] == "u0" and len(calls(log)) == 6  # other params: another key


def test_load_false_gives_store_keys(tmp_path):
    store, log = ArtifactStore(tmp_path / "store"), tmp_path / "calls.log"
    r = _run(store, rows(4, bad={2}), log, load=False)
    assert list(r.values) == ["u0", "u1", "u3"] and r.values == r.keys
    assert all(isinstance(k, str) for k in r.values.values())
    np.testing.assert_array_equal(store.load(r.values["u3"]), np.full(3, 9.0, dtype=np.float32))
    assert list(r.failures["utterance_id"]) == ["u2"]
    # the same keys when the values are loaded
    loaded = _run(store, rows(4, bad={2}), log)
    assert loaded.keys == r.keys and len(calls(log)) == 4


def test_an_input_that_cannot_be_keyed_is_a_failure_not_stored(tmp_path):
    def inputs(row):
        if row["x"] == 1:
            raise InputError("audio 'u1.wav' does not exist", stage="acoustic")
        return (row["x"],)

    store, log = ArtifactStore(tmp_path / "store"), tmp_path / "calls.log"
    r = map_cached(functools.partial(square, log=str(log)), rows(3), store=store, stage="square",
                   params={}, inputs=inputs)
    assert list(r.values) == ["u0", "u2"] and "u1" not in calls(log)
    assert r.failures.to_dict("records") == [
        {"utterance_id": "u1", "stage": "acoustic", "reason": "audio 'u1.wav' does not exist"}]
    assert not (tmp_path / "store" / "square-failed").exists()


def test_bad_stage_name():
    with pytest.raises(ParameterError, match="stage="):
        map_cached(square, rows(1), store=ArtifactStore("never"), stage="a/b", params={}, inputs=by_x)


def test_two_workers_match_in_process(tmp_path):
    log = tmp_path / "calls.log"
    one = _run(ArtifactStore(tmp_path / "one"), rows(6, bad={3}), log, workers=1)
    two = _run(ArtifactStore(tmp_path / "two"), rows(6, bad={3}), log, workers=2)
    assert list(two.values) == list(one.values)
    assert all(np.array_equal(two.values[u], one.values[u]) for u in one.values)
    assert two.failures.equals(one.failures)
    assert sorted(calls(log)) == sorted([f"u{i}" for i in range(6)] * 2)
    # the workers stored what they computed: the parent reads it, computes nothing
    _run(ArtifactStore(tmp_path / "two"), rows(6, bad={3}), log, workers=2)
    assert len(calls(log)) == 12


def test_dask_local_cluster_matches_in_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    log = tmp_path / "calls.log"
    one = _run(ArtifactStore(tmp_path / "one"), rows(5, bad={0}), log)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        store = ArtifactStore(tmp_path / "dask")
        got = _run(store, rows(5, bad={0}), log, scheduler=cluster.scheduler_address)
        again = _run(store, rows(5, bad={0}), log, scheduler=cluster.scheduler_address)
    assert list(got.values) == list(one.values) == ["u1", "u2", "u3", "u4"]
    assert all(np.array_equal(got.values[u], one.values[u]) for u in one.values)
    assert got.failures.equals(one.failures) and again.failures.equals(one.failures)
    assert len(calls(log)) == 10, "the second map on the cluster computed something again"


# A map over 6 items, in this process (workers=1) or in 2 local processes; while the marker
# file exists, item 3's function kills the process it runs in with SIGKILL, after the items
# before it were stored.
KILLED = textwrap.dedent(
    """
    import functools, os, sys
    from pathlib import Path

    from agser.run.runner import map_cached
    from agser.store import ArtifactStore

    root, log, marker, workers = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])

    def stage(row, log):
        with open(log, "a") as f:
            f.write(row["utterance_id"] + "\\n")
        if row["x"] == 3 and marker.exists():
            os.kill(os.getpid(), 9)
        return {"x2": row["x"] ** 2}

    def inputs(row):
        return (row["x"],)

    items = [{"utterance_id": f"u{i}", "x": i} for i in range(6)]
    r = map_cached(functools.partial(stage, log=log), items, store=ArtifactStore(root), stage="killed",
                   params={}, inputs=inputs, workers=workers)
    print(sorted(r.values), list(r.failures["utterance_id"]))
    """
)


def _killed_map(tmp_path, workers):
    """Run the script twice on one store: first with the marker (item 3 kills), then without.

    Returns both processes, the calls each made, and which items were stored after the first.
    """
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    root, marker = tmp_path / "store", tmp_path / "die"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    marker.touch()
    store, out, stored = ArtifactStore(root), [], None
    for log in logs:
        out.append(subprocess.run([sys.executable, str(script), str(root), str(log), str(marker), str(workers)],
                                  capture_output=True, text=True, timeout=120))
        if stored is None:
            stored = [store.has(store.key("killed", {}, (i,))) for i in range(6)]
        marker.unlink(missing_ok=True)
    return out, [calls(log) for log in logs], stored, store


def test_kill_9_mid_map_keeps_the_finished_utterances(tmp_path):
    (first, second), (first_calls, second_calls), stored, store = _killed_map(tmp_path, workers=1)
    assert first.returncode == -signal.SIGKILL, (first.returncode, first.stderr)
    assert first_calls == ["u0", "u1", "u2", "u3"]
    assert stored == [True] * 3 + [False] * 3
    # the second run computes only what the killed one had not stored: u3 (killed mid-way) on
    assert second.returncode == 0, second.stderr
    assert second_calls == ["u3", "u4", "u5"]
    assert second.stdout.strip() == f"{[f'u{i}' for i in range(6)]} []"
    assert store.load(store.key("killed", {}, (4,))) == {"x2": 16}


def test_a_worker_killed_mid_map_is_a_failure_row_and_computed_on_the_rerun(tmp_path):
    (first, second), (first_calls, second_calls), stored, store = _killed_map(tmp_path, workers=2)
    # the parent survives its worker's death: u3 is a failure row, the others are values
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{['u0', 'u1', 'u2', 'u4', 'u5']} ['u3']"
    assert stored == [True] * 3 + [False] + [True] * 2, "the killed computation left no artifact"
    assert set(first_calls) == {f"u{i}" for i in range(6)}
    # the rerun computes u3 alone: it was the only one not stored
    assert second.returncode == 0, second.stderr
    assert second_calls == ["u3"]
    assert second.stdout.strip() == f"{[f'u{i}' for i in range(6)]} []"
