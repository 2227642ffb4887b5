"""Training memory and time at the paper's feature shape: does peak memory grow with the corpus?

    python benchmarks/bench_scale.py --utterances 4000 --json out.json [--device cpu|cuda]
    python benchmarks/bench_scale.py                 # N = 1000 and 4000, each in a fresh process
    python benchmarks/bench_scale.py --quick         # N = 100 and 400 (benchmarks/run_all.py)

One measurement (``--utterances N``) trains AG (the triplet-anchored SER model,
:class:`agser.ser.estimator.SERClassifier`) for one epoch on N labelled source
utterances and N unlabelled target utterances whose features have the shape
wav2vec2-base gives: 13 layers x 768 dimensions at 50 frames/s, 2-4 s per
utterance (random values, float16 on disk). They are written as the encoder pass
writes them, one ``.npy`` per utterance through
:meth:`agser.store.ArtifactStore.save`, and read back through the run layer's
:class:`agser.run.run.StoredFeatures` with a 64 MB cache (``--cache-mb``: the
most recently read utterances, far less than the corpus). Each utterance has
8-12 vowel segments of 3-15 frames in one of 10 AG clusters and one of the
paper's 6 vowels; the anchor units come from the real overlap rule
(:func:`agser.ser.methods.anchor_units`; with clusters drawn uniformly every
cluster is common, so every segment is an anchor: the triplet loss's heaviest case).

The peak resident memory is ``getrusage(RUSAGE_SELF).ru_maxrss`` of the
measuring process, a fresh one per N (the sweep starts one per N), so one
measurement's memory never flatters the next. ``seconds_per_epoch`` is the
fit's wall time for its one epoch, the normaliser's streaming passes over both
sets included. Where the disk cannot hold N distinct utterances
(``--distinct``, or too little free space), fewer files are written and
reused under other utterance ids; the output says how many were distinct.

The sweep checks the project's criterion: at N = 4000 a peak of at most 3 GB,
and less than 1.5 times the peak at N = 1000.

Measured on the 2-core CI machine (CPU, float16, batches of 32, 2 torch
threads): N = 1000, peak RSS 2250 MB, 102 s per epoch; N = 4000, 2981 MB, 498 s
(1.32 times the peak at 1000). Most of the peak is one step's two padded
batches (32 x 13 x up to 200 x 768 float32 each) and their autograd buffers;
what still grows with N (about 0.24 MB per source and target utterance) is the
normaliser's per-utterance shift and scale arrays, (N, 13, 768) float32 each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LAYERS, DIM, FRAME_RATE = 13, 768, 50.0
CLUSTERS, VOWELS = 10, ("ɑ", "ə", "ɛ", "i", "æ", "u")
#: Files of the feature store: utterance i of the store is store key _key(i).
STAGE = "encoded_utterance"


def _frames(i, seed=0):
    """Frames of stored utterance i: 2-4 s at 50 frames/s (the same for any N)."""
    return int(round(np.random.default_rng([seed, i]).uniform(2.0, 4.0) * FRAME_RATE))


def _key(store, i):
    return store.key(STAGE, {"bench": "scale", "layers": LAYERS, "dim": DIM}, (i,))


def write_store(root, distinct, dtype="float16", seed=0, log=print):
    """Write utterances 0..distinct-1 that are not there yet; returns the store and bytes on disk."""
    from agser.store import ArtifactStore

    store = ArtifactStore(root)
    t0, written, total = time.perf_counter(), 0, 0
    for i in range(distinct):
        key = _key(store, i)
        n = _frames(i, seed)
        total += LAYERS * n * DIM * np.dtype(dtype).itemsize
        if store.has(key):
            continue
        rng = np.random.default_rng([seed, i, 1])
        store.save(key, rng.standard_normal((LAYERS, n, DIM), dtype=np.float32).astype(dtype))
        written += 1
    if written:
        log(f"wrote {written} utterances ({total / 2**30:.1f} GiB of {dtype} in the store) in "
            f"{time.perf_counter() - t0:.0f} s")
    return store, total


def _corpus(name, n, distinct, store, features_root, cache_bytes, seed):
    """A CorpusData of n utterances over the store's first ``distinct`` files."""
    import pandas as pd

    from agser.run.run import StoredFeatures
    from agser.ser.data import CorpusData

    rng = np.random.default_rng([seed, len(name)])
    offset = 0 if name == "source" else n  # the target's utterances are other files where there are enough
    files = [(offset + i) % distinct for i in range(n)]
    uids = np.array([f"{name}-{i:05d}" for i in range(n)])
    keys = {u: _key(store, f) for u, f in zip(uids, files)}
    lengths = np.array([_frames(f, seed) for f in files])
    speakers = max(4, n // 80)  # CREMA-D: about 80 clips per actor
    rows = []
    for u, T in enumerate(lengths):
        for _ in range(int(rng.integers(8, 13))):
            width = int(rng.integers(3, 16))
            start = int(rng.integers(0, max(1, T - width)))
            rows.append((u, start, min(T, start + width), VOWELS[int(rng.integers(len(VOWELS)))],
                         int(rng.integers(CLUSTERS)) + 1, -1))
    segments = pd.DataFrame(rows, columns=["utt", "start", "end", "ipa", "cluster", "gesture"])
    return CorpusData(corpus=name, features=StoredFeatures(features_root, keys, cache_bytes=cache_bytes),
                      utterance_id=uids, speaker=np.array([f"{name}-s{i % speakers}" for i in range(n)]),
                      lengths=lengths, labels=np.arange(n) % 4, segments=segments, frame_rate=FRAME_RATE)


def measure(n, store_dir, distinct, device="cpu", dtype="float16", batch_size=32, cache_mb=64, threads=2,
            num_workers=0, seed=0, log=print):
    """Train AG one epoch on n source + n target utterances; the figures of this process."""
    import torch

    from agser.ser.estimator import SERClassifier, resolve_device
    from agser.ser.methods import anchor_units

    device = resolve_device(device)
    store, _ = write_store(store_dir, distinct, dtype, seed, log)
    cache = int(cache_mb * 2**20)
    source = _corpus("source", n, distinct, store, store.root, cache, seed)
    target = _corpus("target", n, distinct, store, store.root, cache, seed)
    train, adapt = source.subset(np.arange(n)), target.subset(np.arange(n))
    ss, ts, anchors = anchor_units("AG", train.segments, adapt.segments, 25.0, seed)
    train, adapt = train.with_segments(ss), adapt.with_segments(ts)
    # the paper run's SER settings (papermill_runs/paper/params.yaml), one epoch
    est = SERClassifier(anchoring="triplet", hidden=256, n_conv=2, dropout=0.2, max_epochs=1, batch_size=batch_size,
                        lr=1e-3, max_triplets=8192, device=device, num_workers=num_workers, threads=threads,
                        random_state=seed)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    est.fit(train, source.labels, target=adapt)
    seconds = time.perf_counter() - t0
    out = {"utterances": int(n), "layers": LAYERS, "dim": DIM,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "seconds_per_epoch": seconds, "device": device,
           "target_utterances": int(n), "distinct_files": int(min(distinct, 2 * n)), "dtype": dtype,
           "frames": int(source.lengths.sum() + target.lengths.sum()),
           "feature_gb": float((source.lengths.sum() + target.lengths.sum()) * LAYERS * DIM * 4 / 1e9),
           "steps": len(est.history_["er"]), "batch_size": batch_size, "cache_mb": cache_mb,
           "anchored_share": float(anchors["common_share_source"]), "threads": threads,
           "num_workers": num_workers}
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def _print(r):
    reuse = "" if r["distinct_files"] >= 2 * r["utterances"] else f", {r['distinct_files']} distinct files reused"
    print(f"N = {r['utterances']:>5} (+ {r['target_utterances']} target): {r['layers']} x {r['dim']} at 50 frames/s, "
          f"{r['feature_gb']:.1f} GB as float32{reuse}; {r['steps']} steps of {r['batch_size']}; "
          f"peak RSS {r['peak_rss_mb']:.0f} MB, {r['seconds_per_epoch']:.0f} s per epoch on {r['device']}"
          + (f", peak CUDA {r['peak_cuda_mb']:.0f} MB" if "peak_cuda_mb" in r else ""), flush=True)


def _free_bytes(path):
    return shutil.disk_usage(path).free


def sweep(sizes, args):
    """Each N in a fresh process over one store; prints the figures and checks the criterion."""
    keep = args.store is not None
    root = Path(args.store) if keep else Path(tempfile.mkdtemp(prefix="agser-bench-scale-", dir=args.tmp))
    results = []
    try:
        for n in sizes:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
                out = fh.name
            cmd = [sys.executable, __file__, "--utterances", str(n), "--json", out, "--device", args.device,
                   "--store", str(root), "--dtype", args.dtype, "--batch-size", str(args.batch_size),
                   "--cache-mb", str(args.cache_mb), "--threads", str(args.threads),
                   "--num-workers", str(args.num_workers)]
            if args.distinct:
                cmd += ["--distinct", str(args.distinct)]
            subprocess.run(cmd, check=True)
            results.append(json.loads(Path(out).read_text()))
            os.unlink(out)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    small, big = results[0], results[-1]
    ratio = big["peak_rss_mb"] / small["peak_rss_mb"]
    print(f"peak RSS at N = {big['utterances']} is {ratio:.2f} x the peak at N = {small['utterances']} "
          f"({big['peak_rss_mb']:.0f} MB against {small['peak_rss_mb']:.0f} MB)")
    criterion = [r["utterances"] for r in results] == [1000, 4000]
    ok = ratio < 1.5 and big["peak_rss_mb"] <= 3 * 1024
    if criterion:
        print("criterion (at N = 4000: <= 3 GB and < 1.5 x the peak at N = 1000): " + ("met" if ok else "NOT met"))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "ratio": ratio,
                                               "criterion_met": ok if criterion else None}, indent=1))
    return 0 if ok or not criterion else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, help="one measurement of N source (+ N target) utterances")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--quick", action="store_true", help="the sweep at N = 100 and 400")
    parser.add_argument("--store", help="feature store folder (kept; default: a temporary one, removed)")
    parser.add_argument("--tmp", default=None, help="where the temporary store goes (default: $TMPDIR)")
    parser.add_argument("--distinct", type=int, default=None,
                        help="distinct utterance files at most (default: 2 N where the disk holds them)")
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-mb", type=float, default=64.0, help="StoredFeatures cache, MB")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads of the fit")
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    args = parser.parse_args(argv)
    if args.utterances is None:
        return sweep((100, 400) if args.quick else (1000, 4000), args)
    n = int(args.utterances)
    if n < 8:
        parser.error(f"--utterances {n}: at least 8")
    own = args.store is None
    store = Path(args.store) if not own else Path(tempfile.mkdtemp(prefix="agser-bench-scale-", dir=args.tmp))
    store.mkdir(parents=True, exist_ok=True)
    try:
        distinct = args.distinct or 2 * n
        per_file = LAYERS * 3.0 * FRAME_RATE * DIM * np.dtype(args.dtype).itemsize  # at most 4 s
        fits = int((_free_bytes(store) * 0.8) // per_file) + sum(1 for _ in store.rglob("*.npy"))
        if fits < distinct:
            print(f"the disk holds about {fits} utterances: writing {max(fits, 1)} distinct files and reusing them")
            distinct = max(fits, 1)
        result = measure(n, store, distinct, device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                         cache_mb=args.cache_mb, threads=args.threads, num_workers=args.num_workers)
    finally:
        if own:
            shutil.rmtree(store, ignore_errors=True)
    _print(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
