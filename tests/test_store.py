"""The artifact store: nothing recomputed twice, changes recomputed, killed runs resume."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from agser.errors import ParameterError
from agser.store import ArtifactStore, fingerprint


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, value):
        def fn():
            self.calls += 1
            return value
        return fn


def test_same_inputs_recompute_nothing_even_in_a_new_run(tmp_path):
    f = tmp_path / "in.wav"
    f.write_bytes(b"RIFF....")
    count = Counter()
    args = ("landmarks", {"tracking": True, "k": 10}, (f, np.arange(4.0), "u1"))
    assert ArtifactStore(tmp_path / "s").cached(*args, count({"x": 1})) == {"x": 1}
    assert ArtifactStore(tmp_path / "s").cached(*args, count({"x": 2})) == {"x": 1}
    # Parameter order does not matter; the same file content at a new mtime is the same input.
    os.utime(f, ns=(1, 1))
    args2 = ("landmarks", {"k": 10, "tracking": True}, (f, np.arange(4.0), "u1"))
    assert ArtifactStore(tmp_path / "s").cached(*args2, count({"x": 3})) == {"x": 1}
    assert count.calls == 1


def test_changed_params_or_inputs_recompute(tmp_path):
    store = ArtifactStore(tmp_path / "s")
    f = tmp_path / "clip.flv"
    f.write_bytes(b"first version")
    count = Counter()
    base = store.cached("seg", {"gap": 3}, (f,), count("a"))
    assert base == "a"
    assert store.cached("seg", {"gap": 4}, (f,), count("b")) == "b"          # params
    assert store.cached("other", {"gap": 3}, (f,), count("c")) == "c"        # stage
    f.write_bytes(b"second version!")
    assert store.cached("seg", {"gap": 3}, (f,), count("d")) == "d"          # file content
    f.write_bytes(b"first version")
    assert store.cached("seg", {"gap": 3}, (f,), count("e")) == "a"          # back: cached
    arr = np.zeros((2, 3), np.float32)
    assert store.cached("seg", {}, (arr,), count("f")) == "f"
    assert store.cached("seg", {}, (arr.astype(np.float64),), count("g")) == "g"  # dtype
    assert store.cached("seg", {}, (arr.reshape(3, 2),), count("h")) == "h"       # shape
    df = pd.DataFrame({"a": [1, 2]})
    assert store.cached("seg", {}, (df,), count("i")) == "i"
    assert store.cached("seg", {}, (df.assign(a=[1, 3]),), count("j")) == "j"
    assert count.calls == 9


def test_folder_inputs_hash_every_file(tmp_path):
    d = tmp_path / "corpus"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("1")
    before = fingerprint(d)
    (d / "sub" / "a.txt").write_text("2")
    assert fingerprint(d) != before
    with pytest.raises(ParameterError, match="does not exist"):
        fingerprint(tmp_path / "missing.wav")


def test_bad_stage_name(tmp_path):
    with pytest.raises(ParameterError, match="stage="):
        ArtifactStore(tmp_path).cached("a/b", {}, (), lambda: 1)


# A worker that computes items one by one through the store. With BLOCK >= 0 it
# computes item BLOCK and then hangs while pickling it, i.e. mid-write, so the
# parent can SIGKILL it there.
WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agser.store import ArtifactStore

    root, log, block, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

    def note(text):
        with open(log, "a") as f:
            f.write(text + "\\n")
            f.flush()

    class HangsWhilePickled:
        def __reduce__(self):
            note("writing")
            time.sleep(120)
            return (dict, ())

    def compute(i):
        note(f"computed {i}")
        if i == block:
            return {"i": i, "payload": list(range(100000)) + [HangsWhilePickled()]}
        return {"i": i, "payload": list(range(100000))}

    store = ArtifactStore(root)
    for i in range(n):
        store.cached("item", {"i": i}, (), lambda: compute(i))
    note("done")
    """
)


def _wait_for(log, text, proc, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if log.exists() and text in log.read_text().splitlines():
            return
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.02)
    raise AssertionError(f"worker never wrote {text!r}")


def test_killed_run_resumes_and_never_reads_a_partial_artifact(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    root, n, block = tmp_path / "store", 6, 3
    log1, log2 = tmp_path / "run1.log", tmp_path / "run2.log"
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(log1), str(block), str(n)],
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(log1, "writing", proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert log1.read_text().split("\n")[:-1] == [f"computed {i}" for i in range(block + 1)] + ["writing"]
    store = ArtifactStore(root)
    done = [i for i in range(n) if store.has(store.key("item", {"i": i}, ()))]
    assert done == list(range(block))
    # The kill left a half-written temporary file, never an artifact under the key.
    leftovers = list((root / "item").glob(".tmp-*"))
    assert leftovers and all(p.stat().st_size > 0 for p in leftovers)

    rerun = subprocess.run([sys.executable, str(script), str(root), str(log2), "-1", str(n)],
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert log2.read_text().split("\n")[:-1] == [f"computed {i}" for i in range(block, n)] + ["done"]
    for i in range(n):
        value = store.load(store.key("item", {"i": i}, ()))
        assert value["i"] == i and len(value["payload"]) == 100000


def test_cached_dir_interrupted_by_an_exception_leaves_nothing(tmp_path):
    store = ArtifactStore(tmp_path / "s")

    def fails(folder):
        (folder / "segments.parquet").write_bytes(b"half")
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError, match="killed mid-way"):
        store.cached_dir("extract", {"k": 1}, (), fails)
    key = store.key("extract", {"k": 1}, ())
    assert not store.has(key) and not store.path(key).exists()
    assert list((tmp_path / "s" / "extract").iterdir()) == []  # no temporary folder left

    calls = []

    def works(folder):
        calls.append(folder)
        (folder / "segments.parquet").write_bytes(b"whole")

    out = store.cached_dir("extract", {"k": 1}, (), works)
    assert (out / "segments.parquet").read_bytes() == b"whole" and out == store.path(key)
    assert store.cached_dir("extract", {"k": 1}, (), works) == out and len(calls) == 1


DIR_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agser.store import ArtifactStore

    root, log, hang = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "hang"

    def fill(folder):
        (folder / "a.txt").write_text("part one")
        with open(log, "a") as f:
            f.write("filling\\n")
        if hang:
            time.sleep(120)
        (folder / "b.txt").write_text("part two")

    print(ArtifactStore(root).cached_dir("sim", {"seed": 0}, (), fill))
    """
)


def test_cached_dir_killed_mid_way_is_redone_whole(tmp_path):
    script = tmp_path / "dir_worker.py"
    script.write_text(DIR_WORKER)
    root, log = tmp_path / "store", tmp_path / "fill.log"
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(log), "hang"],
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(log, "filling", proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    store = ArtifactStore(root)
    key = store.key("sim", {"seed": 0}, ())
    assert not store.has(key) and not store.path(key).exists()
    rerun = subprocess.run([sys.executable, str(script), str(root), str(log), "go"],
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    out = store.path(key)
    assert store.has(key) and rerun.stdout.strip() == str(out)
    assert (out / "a.txt").read_text() == "part one" and (out / "b.txt").read_text() == "part two"
    assert log.read_text().count("filling") == 2


def test_code_fingerprint_follows_the_source(tmp_path, monkeypatch):
    # a stage keyed by its code is recomputed after the code changes
    import sys

    from agser.store import code_fingerprint

    pkg = tmp_path / "fakesim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("A = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = code_fingerprint("fakesim")
    assert code_fingerprint("fakesim") == before
    (pkg / "core.py").write_text("A = 2\n")
    sys.modules.pop("fakesim", None)
    assert code_fingerprint("fakesim") != before
    with pytest.raises(ParameterError, match="nosuchmodule"):
        code_fingerprint("nosuchmodule")
