"""The encoder pass at scale: dask against local processes, kill -9 and resume, keyed by checkpoint content.

Real components throughout: a transformers wav2vec2 built from a config
(:mod:`agser.acoustic.standin`), the simulator's corpora, a dask
``LocalCluster`` of worker processes, a SIGKILL.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("transformers")

from agser.run import Run  # noqa: E402

MODEL = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
             conv_dim=[16, 16, 16], conv_kernel=[10, 8, 8], conv_stride=[5, 8, 8],
             num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, seed=0)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A simulated manifest (2 x 6 utterances) and a small wav2vec2 checkpoint folder."""
    from agser.acoustic.standin import write_standin_wav2vec2
    from agser.corpora.simulator import simulate

    root = tmp_path_factory.mktemp("pass")
    manifest = simulate(root / "sim", seed=1, utterances_per_corpus=6, speakers_per_corpus=2)
    model = write_standin_wav2vec2(root / "model", **MODEL)
    return manifest, model


def _params(manifest, model, **extract):
    return {"data": {"source": "manifest", "manifest": str(manifest)},
            "extract": {"workers": 1, **extract},
            "acoustic": {"encoder": "hf", "dtype": "float16",
                         "options": {"name_or_path": str(model), "layers": "all"}}}


@pytest.fixture
def encode_calls(monkeypatch):
    """Counts the utterances the encoder pass encodes in this process (extract.workers: 1)."""
    import agser.run.run as run_module

    calls = []
    real = run_module._encode_row

    def counted(row, **kw):
        calls.append(row["utterance_id"])
        return real(row, **kw)

    monkeypatch.setattr(run_module, "_encode_row", counted)
    return calls


def _features(enc):
    return {uid: np.array(enc["features"][uid]) for uid in enc["features"]}


def _stored(work):
    folder = work / "store" / "encoded_utterance"
    return sorted(folder.glob("*.npy")) if folder.is_dir() else []


#: The encoder pass of a run in a fresh Python: ``script PARAMS_JSON WORK_DIR [SECONDS]``; with
#: SECONDS, each utterance takes that much longer (so that a kill lands mid-way).
PASS = """
import json, sys, time
import agser.run.run as run_module
from agser.run import Run

if __name__ == "__main__":  # the workers (forkserver) import this file too
    if len(sys.argv) > 3:
        real, pause = run_module._encode_row, float(sys.argv[3])

        def slow(row, **kw):
            out = real(row, **kw)
            time.sleep(pause)
            return out

        run_module._encode_row = slow
    enc = Run(json.loads(sys.argv[1]), work_dir=sys.argv[2]).encoded()
    print(len(enc["features"]), len(enc["failures"]))
"""


def _start(tmp_path, params, work, *extra, env=None):
    script = tmp_path / "encode_pass.py"
    script.write_text(PASS)
    # its own session, so that the pass and any worker it starts are killed together
    return subprocess.Popen([sys.executable, str(script), json.dumps(params), str(work), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_dask_cluster_gives_the_local_processes_features(tmp_path, corpus):
    """extract.scheduler (a dask LocalCluster of 2 worker processes) against extract.workers: 2.

    Both sides run torch with one thread per process: the dask nanny sets OMP_NUM_THREADS=1 in
    its workers, and the local pass gets it too (the same kernels, so the same bits).
    """
    distributed = pytest.importorskip("distributed")
    manifest, model = corpus
    proc = _start(tmp_path, _params(manifest, model, workers=2), tmp_path / "local", env={"OMP_NUM_THREADS": "1"})
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the encoder pass in 2 local worker processes did not finish in 300 s")
    assert proc.returncode == 0, err
    assert out.split() == ["12", "0"]
    local = Run(_params(manifest, model, workers=2), work_dir=tmp_path / "local").encoded()

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert client.run(lambda: os.environ.get("OMP_NUM_THREADS")) == dict.fromkeys(
                client.scheduler_info()["workers"], "1")
        run = Run(_params(manifest, model, scheduler=cluster.scheduler_address), work_dir=tmp_path / "dask")
        remote = run.encoded()
    assert remote["features"].keys_ == local["features"].keys_  # the same store keys
    assert len(remote["failures"]) == len(local["failures"]) == 0
    a, b = _features(local), _features(remote)
    assert list(a) == list(b) and len(a) == 12
    for uid in a:
        assert a[uid].dtype == np.float16 and a[uid].shape[0] == 3 and a[uid].shape[2] == 16
        np.testing.assert_array_equal(a[uid], b[uid], err_msg=uid)


@pytest.fixture
def one_thread():
    """torch on one thread in this process, as in the pass started with OMP_NUM_THREADS=1.

    Float reductions may round differently with another number of threads; one
    thread on both sides compares bits.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_kill_9_mid_pass_loses_nothing(tmp_path, corpus, encode_calls, one_thread):
    """SIGKILL after a few utterances are stored; the rerun encodes only the others, to the same values."""
    manifest, model = corpus
    params = _params(manifest, model)
    work = tmp_path / "killed"
    proc = _start(tmp_path, params, work, 0.4, env={"OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 240
    try:
        while len(_stored(work)) < 4:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the pass ended or stalled before 4 utterances were stored: {proc.communicate()}")
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    done = len(_stored(work))
    assert 4 <= done < 12, done
    for path in _stored(work):
        assert np.load(path).dtype == np.float16  # every stored utterance whole and readable

    resumed = Run(params, work_dir=work).encoded()
    assert len(encode_calls) == 12 - done  # only the missing utterances
    assert len(resumed["features"]) == 12 and len(resumed["failures"]) == 0
    encode_calls.clear()
    whole = Run(params, work_dir=tmp_path / "whole").encoded()
    assert len(encode_calls) == 12
    a, b = _features(resumed), _features(whole)
    assert list(a) == list(b)
    for uid in a:
        np.testing.assert_array_equal(a[uid], b[uid], err_msg=uid)


def test_encoder_cache_is_keyed_by_checkpoint_content(tmp_path, corpus, encode_calls):
    """A copied checkpoint reuses the cached features; one changed weight recomputes them all."""
    import torch
    from transformers import Wav2Vec2Model

    manifest, model = corpus
    work = tmp_path / "work"
    first = _features(Run(_params(manifest, model), work_dir=work).encoded())
    assert len(encode_calls) == 12
    copy = shutil.copytree(model, tmp_path / "elsewhere" / "copy")
    encode_calls.clear()
    again = Run(_params(manifest, copy), work_dir=work).encoded()
    assert encode_calls == []
    assert _features(again).keys() == first.keys()
    for uid, f in _features(again).items():
        np.testing.assert_array_equal(f, first[uid])

    m = Wav2Vec2Model.from_pretrained(copy)
    with torch.no_grad():
        m.encoder.layers[-1].feed_forward.output_dense.weight[0, 0] += 0.5
    m.save_pretrained(copy)
    changed = Run(_params(manifest, copy), work_dir=work).encoded()
    assert sorted(encode_calls) == sorted(first)  # every utterance again
    for uid, f in _features(changed).items():
        np.testing.assert_array_equal(f[:-1], first[uid][:-1])  # the blocks below are the same
        assert not np.array_equal(f[-1], first[uid][-1])  # the changed top block's output is not
