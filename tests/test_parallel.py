"""map_utterances: in-process, local processes and a real dask LocalCluster."""

import logging
import os
import time

import pytest

from agser.errors import InputError, ParameterError
from agser.parallel import Failure, Result, failures_frame, map_utterances


def stage_fn(item):
    """Square the value; bad items fail the way real stages do."""
    if item["kind"] == "input":
        raise InputError(f"{item['utterance_id']}.flv: no face in any frame", stage="landmarks")
    if item["kind"] == "bug":
        return 1 / 0
    if item["kind"] == "die":
        os._exit(3)  # a crash in native code kills the worker process
    time.sleep(item.get("sleep", 0))
    return item["value"] ** 2


def items(kinds):
    return [
        {"utterance_id": f"u{i}", "kind": k, "value": i, "sleep": 0.05 * ((7 * i) % 3)}
        for i, k in enumerate(kinds)
    ]


def check(results, kinds):
    assert [r.utterance_id for r in results] == [f"u{i}" for i in range(len(kinds))]
    for i, (r, k) in enumerate(zip(results, kinds)):
        assert isinstance(r, Result)
        if k == "ok":
            assert r.ok and r.value == i * i and r.failure is None
        else:
            assert not r.ok and r.value is None and r.failure.utterance_id == f"u{i}"


KINDS = ["ok", "input", "ok", "bug", "ok", "ok"]


def test_in_process_failures_are_rows_not_crashes(caplog):
    with caplog.at_level(logging.WARNING, logger="agser.parallel"):
        rs = map_utterances(stage_fn, items(KINDS), workers=1, progress=False, stage="extract")
    check(rs, KINDS)
    inp, bug = rs[1].failure, rs[3].failure
    assert (inp.stage, inp.reason) == ("landmarks", "u1.flv: no face in any frame")
    assert inp.detail == ""
    assert bug.stage == "extract" and bug.reason == "ZeroDivisionError: division by zero"
    assert "Traceback" in bug.detail and "1 / 0" in bug.detail
    # The unexpected error is logged, never silent; the expected InputError is just a row.
    assert "u3" in caplog.text and "ZeroDivisionError" in caplog.text and "u1" not in caplog.text
    df = failures_frame(rs)
    assert list(df.columns) == ["utterance_id", "stage", "reason"]
    assert df["utterance_id"].tolist() == ["u1", "u3"]


def test_local_processes_keep_order_and_survive_a_dead_worker():
    kinds = ["ok", "ok", "die", "input", "ok", "ok", "bug", "ok"]
    rs = map_utterances(stage_fn, items(kinds), workers=2, progress=False, stage="extract")
    check(rs, kinds)
    assert "worker process died" in rs[2].failure.reason
    assert rs[3].failure.stage == "landmarks"
    assert rs[6].failure.reason.startswith("ZeroDivisionError")


def test_stage_defaults_to_function_name_and_bad_workers():
    rs = map_utterances(stage_fn, items(["bug"]), workers=1, progress=False)
    assert rs[0].failure.stage == "stage_fn"
    with pytest.raises(ParameterError, match="workers=0"):
        map_utterances(stage_fn, items(["ok"]), workers=0)
    assert map_utterances(stage_fn, [], workers=1) == []


def test_key_and_plain_items():
    rs = map_utterances(abs, [-2, 3], workers=1, progress=False, key=lambda x: f"id{x}")
    assert [(r.utterance_id, r.value) for r in rs] == [("id-2", 2), ("id3", 3)]


def test_failures_frame_of_failures_and_empty():
    df = failures_frame([Failure("a", "phones", "out-of-vocabulary word 'zorp'")])
    assert df.to_dict("records") == [
        {"utterance_id": "a", "stage": "phones", "reason": "out-of-vocabulary word 'zorp'"}]
    empty = failures_frame([Result("b", value=1)])
    assert empty.empty and list(empty.columns) == ["utterance_id", "stage", "reason"]


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        rs = map_utterances(stage_fn, items(KINDS), scheduler=cluster.scheduler_address,
                            progress=False, stage="extract")
        check(rs, KINDS)
        assert rs[1].failure.stage == "landmarks"
        assert rs[3].failure.reason == "ZeroDivisionError: division by zero"
        # A connected client is accepted as well and left open for its owner.
        with distributed.Client(cluster) as client:
            rs2 = map_utterances(stage_fn, items(["ok", "ok"]), scheduler=client, progress=False)
            assert [r.value for r in rs2] == [0, 1]
            assert client.status == "running"


def test_dask_local_cluster_with_worker_processes():
    """Workers in their own processes: the task and its failure travel by pickle."""
    import math

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        rs = map_utterances(math.sqrt, [9.0, -1.0, 16.0], scheduler=cluster.scheduler_address,
                            progress=False, stage="root")
    assert [r.utterance_id for r in rs] == ["9.0", "-1.0", "16.0"]
    assert [r.value for r in rs] == [3.0, None, 4.0]
    assert rs[1].failure == Failure("-1.0", "root", "ValueError: math domain error",
                                    detail=rs[1].failure.detail)


def returns_unpicklable(item):
    if item == "bad":
        return lambda: None  # cannot travel back from the worker
    return item.upper()


def test_unpicklable_fn_is_a_parameter_error_and_unpicklable_value_a_failure():
    with pytest.raises(ParameterError, match="cannot be sent to worker processes"):
        map_utterances(lambda x: x, ["a", "b"], workers=2, progress=False)
    rs = map_utterances(returns_unpicklable, ["a", "bad", "c"], workers=2, progress=False)
    assert [r.value for r in rs] == ["A", None, "C"]
    assert "could not pass it to or from a worker process" in rs[1].failure.reason
    assert map_utterances(lambda x: x * 2, [1], workers=1, progress=False)[0].value == 2
