"""Soft-DTW and soft-DTW k-means: agser (numba and PyTorch backends) against tslearn.

Every comparison runs side by side in this one process, on the same data, the
same initial centres and the same settings, and prints the ratio of the wall
times (CPU time beside it: the machine is shared, timings are noisy).

Data: the default run's clusterable segments (``papermill_runs/default``:
simulated corpora, the run's extraction, selected by its ``cluster`` section's
phones and emotions, frames flattened to n_frames x 24), and a fixed set of
``--n`` (2000) segments resampled from them with replacement (seed ``--seed``);
``--data synthetic`` uses gesture-like synthetic segments (``--frames``, by
default 3-15 frames x 24) instead, and says so.

Printed:

1. pairwise soft-DTW throughput (pairs/s, best of 3): the fixed set against 10
   centres, tslearn ``cdist_soft_dtw`` and agser numba / torch float32 / float64;
2. ``SoftDTWKMeans`` (backend numba, then torch) against
   ``tslearn TimeSeriesKMeans(metric="softdtw")`` on the fixed set: k=10, same
   gamma, the same initial centres (agser's k-means++ seeds passed as ``init=``
   to all three), the same ``max_iter``, ``tol`` and barycentre iteration limit;
   wall and CPU time of each (rounds of the three fits in turn, medians), the
   ratios (medians of the per-round ratios), and each fit's inertia scored by one
   common float64 function (tslearn's ``cdist_soft_dtw``: mean over series of
   the soft-DTW to the nearest final centre);
3. the same comparison on long segments (issue 11's bar): 600 synthetic
   segments of 6-20 frames x 24, k=10, 10 iterations; the bar is numba >= 30x
   tslearn's wall time at equal or better inertia;
4. with ``--full``: the time to fit 100,000 segments resampled from the pool
   (measured, not extrapolated), with ``--barycenter-sample`` if given;
5. with ``--compile`` (and ``--full``): the numba compile cost of a fresh
   process, with an empty cache (``NUMBA_CACHE_DIR`` in a temporary folder)
   and then with the cache the first process wrote.

Threads: agser's numba backend runs with ``--threads`` threads (default
"auto": ``NUMBA_NUM_THREADS``, the CPUs unless set; ``--threads 1`` for a
one-thread figure), torch with ``--torch-threads`` (default 1: on a busy
2-core machine two OpenMP threads wait on each other at every small op);
tslearn's soft-DTW k-means is single-threaded. The load average printed at the
start says how busy the shared machine was.

Usage: ``python benchmarks/bench_clustering.py [--quick] [--full] [--compile] [--data synthetic]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def default_run_segments():
    """The default run's clusterable segments as a list of (n_frames, 24) arrays."""
    from agser.analysis.selection import select_segments
    from agser.run import Run

    run = Run.named("default", root=REPO)
    table, _ = run.segments()
    cluster = run.section("cluster")
    frames = run.gesture_frames(cluster.get("gestures"))
    mask = select_segments(table, cluster["phones"], cluster["emotions"])
    finite = np.array([len(f) > 0 and bool(np.isfinite(f).all()) for f in frames])
    rows = np.flatnonzero(mask & finite)
    desc = (f"default run ({run.segments_dir()}): {len(table)} segments, {len(rows)} selected "
            f"(phones={cluster['phones']}, emotions={cluster['emotions']})")
    series = [np.asarray(frames[i], dtype=np.float64).reshape(len(frames[i]), -1) for i in rows]
    return series, desc, float(cluster.get("gamma", 1.0))


def synthetic_segments(n, seed=0, n_types=12, frames=(3, 15)):
    """Gesture-like segments: ``frames[0]``-``frames[1]`` frames x 24 (12 mouth points, IPD units)."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    types = rng.uniform([0.05, 0.35, -0.1], [0.5, 0.6, 0.1], size=(n_types, 3))
    out = []
    for _ in range(n):
        T = int(rng.integers(frames[0], frames[1] + 1))
        a, b = types[rng.integers(n_types)], types[rng.integers(n_types)]
        t = np.linspace(0, 1, T)[:, None]
        p = a + (b - a) * (3 * t**2 - 2 * t**3) + 0.02 * rng.normal(size=3)
        w, h = p[:, 1:2] * (1 - p[:, 2:3]), 0.05 + p[:, 0:1]
        seg = np.stack([w * np.cos(ang)[None], 1.0 + h * np.sin(ang)[None]], axis=2)
        out.append((seg + 0.01 * rng.normal(size=seg.shape)).reshape(T, 24))
    return out


def timed(fn, repeat=1, stat="min"):
    """(last result, wall seconds, CPU seconds): the min or the median over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    agg = np.min if stat == "min" else np.median
    return result, float(agg(walls)), float(agg(cpus))


def nan_padded(series):
    from agser.clustering import to_padded

    X, lengths = to_padded(series)
    for i, L in enumerate(lengths):
        X[i, L:] = np.nan
    return X


def kmeanspp_init(X, k, gamma, seed):
    """agser's k-means++ seeds (soft-DTW divergence), resampled to the longest length."""
    import torch

    from agser.clustering import SoftDTWKMeans, resample_series, to_padded

    Xp, lp = to_padded(X)
    seeder = SoftDTWKMeans(n_clusters=k, gamma=gamma, random_state=seed)
    ids = seeder._kmeans_pp(torch.as_tensor(Xp), torch.as_tensor(lp), np.random.default_rng(seed))
    return np.stack([resample_series(Xp[i], lp[i], Xp.shape[1]) for i in ids])


def compare_kmeans(X, gamma, args, title, max_iter, repeat):
    """tslearn against agser numba and torch on X, same init and settings; figures dict."""
    from tslearn.clustering import TimeSeriesKMeans
    from tslearn.metrics import cdist_soft_dtw

    from agser.clustering import SoftDTWKMeans
    from agser.clustering._soft_dtw_numba import default_threads

    Xnan = nan_padded(X)
    init = kmeanspp_init(X, args.k, gamma, args.seed)
    lengths = np.array([len(x) for x in X])
    print(f"\n== {title} ==")
    print(f"{len(X)} segments of {lengths.min()}-{lengths.max()} frames (mean {lengths.mean():.2f}) x "
          f"{X[0].shape[1]}; k={args.k}, gamma={gamma}, max_iter={max_iter}, tol={args.tol}, "
          f"max_iter_barycenter={args.max_iter_barycenter}; the same k-means++ initial centres "
          f"(agser's, {init.shape[1]} frames) for all; {repeat} round(s) of the three fits in turn, medians")

    def score(centres):
        # one common float64 soft-DTW for every fit: tslearn's own
        return float(cdist_soft_dtw(Xnan, centres, gamma=gamma).min(axis=1).mean())

    common = dict(n_clusters=args.k, gamma=gamma, max_iter=max_iter, tol=args.tol,
                  max_iter_barycenter=args.max_iter_barycenter, init=init)
    # compile / load every kernel outside the timings
    TimeSeriesKMeans(n_clusters=2, metric="softdtw", max_iter=1, max_iter_barycenter=2,
                     metric_params={"gamma": gamma}, init=init[:2]).fit(Xnan[:20])
    SoftDTWKMeans(**{**common, "max_iter": 1, "max_iter_barycenter": 2}, backend="numba").fit(X[:50])

    fits = {
        "tslearn": lambda: TimeSeriesKMeans(
            n_clusters=args.k, metric="softdtw", max_iter=max_iter, tol=args.tol,
            max_iter_barycenter=args.max_iter_barycenter, metric_params={"gamma": gamma}, init=init,
        ).fit(Xnan),
        "numba": lambda: SoftDTWKMeans(**common, backend="numba", n_threads=args.threads, dtype="float64").fit(X),
        "torch": lambda: SoftDTWKMeans(**common, backend="torch", n_threads=args.torch_threads,
                                       dtype=args.dtype).fit(X),
    }
    # the three fits take turns, so that each round sees about the same load on
    # the shared machine; the ratios are medians of the per-round ratios
    walls = {name: [] for name in fits}
    cpus = {name: [] for name in fits}
    models = {}
    for _ in range(repeat):
        for name, fit in fits.items():
            models[name], w, c = timed(fit)
            walls[name].append(w)
            cpus[name].append(c)
    t_ts, c_ts = float(np.median(walls["tslearn"])), float(np.median(cpus["tslearn"]))
    ts = models["tslearn"]
    in_ts = score(ts.cluster_centers_)
    print(f"tslearn TimeSeriesKMeans:        {t_ts:8.3f} s wall {c_ts:8.3f} s CPU  {ts.n_iter_:2d} iterations  "
          f"inertia {in_ts:.6f}")
    fig = dict(n=len(X), frames=[int(lengths.min()), int(lengths.max())], tslearn_s=t_ts,
               tslearn_cpu_s=c_ts, tslearn_inertia=in_ts)
    for backend, threads, dtype in (("numba", args.threads, "float64"),
                                    ("torch", args.torch_threads, args.dtype)):
        model = models[backend]
        t, c = float(np.median(walls[backend])), float(np.median(cpus[backend]))
        ratio = float(np.median(np.array(walls["tslearn"]) / np.array(walls[backend])))
        ratio_cpu = float(np.median(np.array(cpus["tslearn"]) / np.array(cpus[backend])))
        inertia = score(model.cluster_centers_)
        rel = (inertia - in_ts) / abs(in_ts)
        th = f"{threads} thread(s)" if threads != "auto" else f"auto = {default_threads()} thread(s)"
        print(f"agser {backend:<5} ({dtype}, {th}): {t:8.3f} s wall {c:8.3f} s CPU  {model.n_iter_:2d} iterations  "
              f"inertia {inertia:.6f}  -> x{ratio:.1f} wall, x{ratio_cpu:.1f} CPU vs tslearn; "
              f"inertia {100 * rel:+.3f} % of |tslearn| ({'equal or better' if inertia <= in_ts + 1e-9 * abs(in_ts) else 'worse'})")
        fig.update({f"{backend}_s": t, f"{backend}_cpu_s": c, f"{backend}_inertia": inertia,
                    f"{backend}_speedup_wall": ratio, f"{backend}_speedup_cpu": ratio_cpu,
                    f"{backend}_inertia_rel_diff": rel})
    print(f"(load average now {os.getloadavg()[0]:.2f})")
    return fig


def compile_cost():
    """Seconds of a fresh process's first fit: with an empty numba cache, then with the cache it wrote."""
    code = ("import time, numpy as np; t0 = time.perf_counter(); "
            "from agser.clustering import SoftDTWKMeans; t1 = time.perf_counter(); "
            "X = [np.random.default_rng(i).normal(size=(3 + i % 5, 24)) for i in range(40)]; "
            "m = SoftDTWKMeans(n_clusters=3, max_iter=2, random_state=0).fit(X); m.predict(X); "
            "t2 = time.perf_counter(); "
            "m.fit(X); t3 = time.perf_counter(); "
            "print(t1 - t0, t2 - t1, t3 - t2)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("empty cache", "warm cache"):
            res = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                                 check=True)
            imp, first, again = (float(v) for v in res.stdout.split()[-3:])
            out[label] = dict(import_s=imp, first_fit_s=first, second_fit_s=again)
    return out


def long_section(args, figures, finish=True):
    """Issue 11's bar: long synthetic segments, numba against tslearn."""
    lo, hi = (int(v) for v in args.long_frames.split(":"))
    long_X = synthetic_segments(args.long_n, seed=args.seed + 7, frames=(lo, hi))
    fig = compare_kmeans(long_X, 1.0, args, f"long segments: {args.long_n} synthetic segments of {lo}-{hi} "
                         f"frames x 24 (issue 11's bar: numba >= 30x tslearn, inertia equal or better)",
                         args.max_iter, 1 if args.quick else args.repeat)
    met = fig["numba_speedup_wall"] >= 30 and fig["numba_inertia"] <= fig["tslearn_inertia"] + 1e-9 * abs(
        fig["tslearn_inertia"])
    print(f"long-segment ratio (tslearn wall / agser numba wall): x{fig['numba_speedup_wall']:.1f}; "
          f"bar {'met' if met else 'NOT met'}")
    figures["long"] = fig
    if finish and args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("default", "synthetic"), default="default")
    ap.add_argument("--frames", default="3:15", help="frames A:B of --data synthetic segments")
    ap.add_argument("--n", type=int, default=2000, help="resampled segments for the comparison")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--gamma", type=float, default=None, help="default: the run's cluster.gamma")
    ap.add_argument("--max-iter", type=int, default=10)
    ap.add_argument("--max-iter-barycenter", type=int, default=100, help="tslearn's default")
    ap.add_argument("--tol", type=float, default=1e-6, help="tslearn's default")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="torch backend's")
    ap.add_argument("--threads", default="auto", help="numba backend threads (default auto: NUMBA_NUM_THREADS)")
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="k-means fits of each implementation; the median wall and CPU times are shown")
    ap.add_argument("--long-n", type=int, default=600, help="segments of the long-segment comparison")
    ap.add_argument("--long-frames", default="6:20", help="their frames A:B")
    ap.add_argument("--skip-long", action="store_true", help="leave out the long-segment comparison")
    ap.add_argument("--only-long", action="store_true", help="only the long-segment comparison")
    ap.add_argument("--quick", action="store_true",
                    help="fixed set: max_iter 3 and one fit each; long set: one fit each")
    ap.add_argument("--full", action="store_true", help="also fit 100,000 segments and time the compilation")
    ap.add_argument("--compile", action="store_true", help="time the numba compilation of a fresh process")
    ap.add_argument("--n-full", type=int, default=100_000)
    ap.add_argument("--full-frames", default="3:15", help="frames A:B of the 100k segments (synthetic pool)")
    ap.add_argument("--full-max-iter", type=int, default=50, help="max_iter of the 100k fit (tslearn's default)")
    ap.add_argument("--full-backend", default="numba", choices=("numba", "torch"))
    ap.add_argument("--barycenter-sample", type=int, default=None,
                    help="members per cluster in each barycentre update of the --full fit")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    threads_fixed = args.threads
    args.threads = "auto" if args.threads == "auto" else int(args.threads)
    repeat_fixed, max_iter_fixed = args.repeat, args.max_iter
    if args.quick:
        max_iter_fixed = min(args.max_iter, 3)
        repeat_fixed = 1

    import numba
    import torch

    torch.set_num_threads(args.torch_threads)
    from tslearn.metrics import cdist_soft_dtw

    from agser.clustering import SoftDTWKMeans, soft_dtw_pairwise

    def frames(spec):
        a, b = (int(v) for v in spec.split(":"))
        return a, b

    figures = {}
    if args.only_long:
        args.data = "synthetic"
    if args.data == "default":
        pool, desc, run_gamma = default_run_segments()
    else:
        pool = synthetic_segments(5000, seed=args.seed, frames=frames(args.frames))
        desc, run_gamma = f"synthetic gesture-like segments ({args.frames} frames x 24), NOT the default run", 1.0
    gamma = run_gamma if args.gamma is None else args.gamma
    rng = np.random.default_rng(args.seed)
    X = [pool[i] for i in rng.choice(len(pool), size=args.n, replace=True)]
    print(f"data: {desc}")
    print(f"fixed set: {args.n} segments resampled with replacement (seed {args.seed})")
    print(f"agser numba backend threads: {threads_fixed} (auto = NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}); "
          f"torch threads: {args.torch_threads}; tslearn: 1; machine: {os.cpu_count()} CPUs, shared, timings noisy "
          f"(load average {os.getloadavg()[0]:.2f} at start)")
    figures.update(data=desc, n=args.n, gamma=gamma, k=args.k, numba_threads=threads_fixed,
                   torch_threads=args.torch_threads)
    Xnan = nan_padded(X)
    init = kmeanspp_init(X, args.k, gamma, args.seed)

    # 1. pairwise throughput
    if args.only_long:
        return long_section(args, figures)
    print(f"\n== pairwise soft-DTW: the fixed set x {args.k} centres ==")
    n_pairs = len(X) * len(init)
    cdist_soft_dtw(Xnan[:3], init[:2], gamma=gamma)  # numba compilation outside the timing
    ref, t_ts, c_ts = timed(lambda: cdist_soft_dtw(Xnan, init, gamma=gamma), repeat=3)
    print(f"tslearn cdist_soft_dtw:   {n_pairs / t_ts:12,.0f} pairs/s  ({t_ts:.3f} s wall, {c_ts:.3f} s CPU)")
    figures["tslearn_pairs_per_s"] = n_pairs / t_ts
    for backend, dt in (("numba", "float64"), ("torch", "float32"), ("torch", "float64")):
        soft_dtw_pairwise(X[:50], init, gamma=gamma, dtype=dt, backend=backend)
        P, t, c = timed(lambda: soft_dtw_pairwise(X, init, gamma=gamma, dtype=dt, backend=backend), repeat=3)
        err = np.abs(P - ref).max() / max(1.0, np.abs(ref).max())
        print(f"agser {backend} {dt}:   {n_pairs / t:12,.0f} pairs/s  ({t:.3f} s wall, {c:.3f} s CPU) "
              f"x{t_ts / t:.0f} vs tslearn; max rel. deviation {err:.1e}")
        figures[f"agser_{backend}_{dt}_pairs_per_s"] = n_pairs / t

    # 2. k-means on the fixed set
    figures["fixed"] = compare_kmeans(X, gamma, args, f"k-means on the fixed set ({desc})", max_iter_fixed,
                                      repeat_fixed)

    # 3. long segments: the bar of issue 11
    if not args.skip_long:
        long_section(args, figures, finish=False)

    # 4. 100k segments
    if args.full:
        lo, hi = frames(args.full_frames)
        big_pool = pool if args.data == "synthetic" and args.full_frames == args.frames else synthetic_segments(
            5000, seed=args.seed, frames=(lo, hi))
        big_idx = np.random.default_rng(args.seed + 1).choice(len(big_pool), size=args.n_full, replace=True)
        Xbig = [big_pool[i] for i in big_idx]
        threads = args.threads if args.full_backend == "numba" else args.torch_threads
        print(f"\n== fit of {args.n_full:,} segments ({lo}-{hi} frames x 24, resampled from a synthetic pool of "
              f"{len(big_pool)}): backend {args.full_backend}, threads {threads}, k={args.k}, gamma={gamma}, "
              f"k-means++ init, tol={args.tol}, max_iter={args.full_max_iter}, "
              f"max_iter_barycenter={args.max_iter_barycenter}, barycenter_sample={args.barycenter_sample} ==")
        model, t_b, c_b = timed(lambda: SoftDTWKMeans(
            n_clusters=args.k, gamma=gamma, max_iter=args.full_max_iter, tol=args.tol,
            max_iter_barycenter=args.max_iter_barycenter, barycenter_sample=args.barycenter_sample,
            random_state=args.seed, backend=args.full_backend, n_threads=threads, dtype=args.dtype,
            verbose=True).fit(Xbig))
        print(f"{args.n_full:,} segments: {t_b:.1f} s wall ({t_b / 60:.2f} min), {c_b:.1f} s CPU, "
              f"{model.n_iter_} iterations ({t_b / model.n_iter_:.2f} s/iteration), inertia {model.inertia_:.6f}")
        figures.update(full_n=args.n_full, full_fit_s=t_b, full_fit_cpu_s=c_b, full_n_iter=int(model.n_iter_),
                       full_backend=args.full_backend, full_barycenter_sample=args.barycenter_sample)

    # 5. compile cost of a fresh process
    if args.compile or args.full:
        print("\n== numba compilation in a fresh process (SoftDTWKMeans fit + predict of 40 tiny series) ==")
        cc = compile_cost()
        for label, v in cc.items():
            print(f"{label:<12}: import agser.clustering {v['import_s']:.2f} s, first fit {v['first_fit_s']:.2f} s, "
                  f"second fit {v['second_fit_s']:.3f} s")
        figures["compile"] = cc
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
