"""Soft-DTW and soft-DTW k-means: agser (batched PyTorch) against tslearn.

Every number comes from the same data: the default run's clusterable segments
(``papermill_runs/default/params.yaml``: simulated corpora, extracted through
``agser.runs.run_segments``, selected by the ``cluster`` section's phones and
emotions, frames flattened to n_frames x 24), and a fixed set of ``--n``
(2000) segments resampled from them with replacement (seed ``--seed``).
``--data synthetic`` uses gesture-like synthetic segments (3-15 frames x 24)
instead, and says so.

Printed:

1. pairwise soft-DTW throughput (pairs/s, best of 3): the 2000 segments against 10 centres,
   agser float32 / float64 and tslearn ``cdist_soft_dtw``;
2. ``SoftDTWKMeans`` against ``tslearn TimeSeriesKMeans(metric="softdtw")``:
   k=10, same gamma, the same initial centres (k-means++ seeds passed as
   ``init=`` to both), same ``max_iter``, ``tol`` and barycentre iteration
   limit; wall and CPU time of each, their ratio, and the final inertia of each
   scored by one common function (mean over series of the float64 soft-DTW to
   the nearest final centre, ``agser.clustering.soft_dtw_pairwise``);
3. with ``--full``: the time to fit 100,000 segments resampled from the same
   pool (measured, not extrapolated).

The machine is shared with other jobs: timings are noisy, CPU time is printed
beside wall time. torch runs with ``--threads`` threads (default 1: on a busy
2-core machine two OpenMP threads wait on each other at every small op).

Usage: ``python benchmarks/bench_clustering.py [--quick] [--full] [--data synthetic]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def default_run_segments(work_dir):
    """The default run's clusterable segments as a list of (n_frames, 24) arrays."""
    import yaml

    from agser.analysis.pipeline import as_series, select_segments
    from agser.extract import load_segments
    from agser.runs import run_segments

    params = yaml.safe_load((REPO / "papermill_runs" / "default" / "params.yaml").read_text())["parameters"]
    out = run_segments(params["data"], params["extract"], work_dir)
    segments, frames = load_segments(out)
    cluster = params.get("cluster") or {}
    mask = select_segments(segments, cluster.get("phones", "vowels"),
                           cluster.get("emotions", ["neutral", "anger", "happiness", "sadness"]))
    finite = np.array([len(f) > 0 and bool(np.isfinite(f).all()) for f in frames])
    rows = np.flatnonzero(mask & finite)
    desc = (f"default run ({out}): {len(segments)} segments, {len(rows)} selected "
            f"(phones={cluster.get('phones', 'vowels')}, four emotions)")
    return as_series([frames[i] for i in rows]), desc, float(cluster.get("gamma", 1.0))


def synthetic_segments(n, seed=0, n_types=12):
    """Gesture-like segments: 3-15 frames x 24 (12 mouth points, IPD units)."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    types = rng.uniform([0.05, 0.35, -0.1], [0.5, 0.6, 0.1], size=(n_types, 3))
    out = []
    for _ in range(n):
        T = int(rng.integers(3, 16))
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("default", "synthetic"), default="default")
    ap.add_argument("--work-dir", default=str(REPO / "papermill_runs" / "default" / "work"),
                    help="work folder of the default run (its artifact store is reused)")
    ap.add_argument("--n", type=int, default=2000, help="resampled segments for the comparison")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--gamma", type=float, default=None, help="default: the run's cluster.gamma")
    ap.add_argument("--max-iter", type=int, default=10)
    ap.add_argument("--max-iter-barycenter", type=int, default=100, help="tslearn's default")
    ap.add_argument("--tol", type=float, default=1e-6, help="tslearn's default")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="k-means fits of each implementation; the median wall and CPU times are shown")
    ap.add_argument("--quick", action="store_true", help="max_iter 3 and one fit each (about a minute)")
    ap.add_argument("--full", action="store_true", help="also fit 100,000 segments")
    ap.add_argument("--n-full", type=int, default=100_000)
    ap.add_argument("--full-max-iter", type=int, default=50, help="max_iter of the 100k fit (tslearn's default)")
    ap.add_argument("--barycenter-sample", type=int, default=None,
                    help="members per cluster in each barycentre update of the --full fit")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.quick:
        args.max_iter = min(args.max_iter, 3)
        args.repeat = 1

    import torch

    torch.set_num_threads(args.threads)
    from tslearn.clustering import TimeSeriesKMeans
    from tslearn.metrics import cdist_soft_dtw

    from agser.clustering import SoftDTWKMeans, soft_dtw_pairwise, to_padded
    from agser.clustering.kmeans import resample_series

    figures = {}
    if args.data == "default":
        pool, desc, run_gamma = default_run_segments(args.work_dir)
    else:
        pool = synthetic_segments(5000, seed=args.seed)
        desc, run_gamma = "synthetic gesture-like segments (3-15 frames x 24), NOT the default run", 1.0
    gamma = run_gamma if args.gamma is None else args.gamma
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(pool), size=args.n, replace=True)
    X = [pool[i] for i in idx]
    lengths = np.array([len(x) for x in X])
    print(f"data: {desc}")
    print(f"fixed set: {args.n} segments resampled with replacement (seed {args.seed}); "
          f"frames per segment {lengths.min()}-{lengths.max()} (mean {lengths.mean():.2f}), d={X[0].shape[1]}")
    print(f"gamma={gamma}  k={args.k}  torch threads={args.threads}  dtype={args.dtype}  "
          f"machine: {torch.get_num_threads()} torch thread(s); shared, timings noisy")
    figures.update(data=desc, n=args.n, gamma=gamma, k=args.k, threads=args.threads, dtype=args.dtype)
    Xnan = nan_padded(X)

    # k-means++ seeds (agser's, under the soft-DTW divergence), full length as tslearn wants
    seeder = SoftDTWKMeans(n_clusters=args.k, gamma=gamma, random_state=args.seed, dtype="float64")
    Xp, lp = to_padded(X)
    Xt = torch.as_tensor(Xp)
    ids = seeder._kmeans_pp(Xt, torch.as_tensor(lp), np.random.default_rng(args.seed))
    init = np.stack([resample_series(Xp[i], lp[i], Xp.shape[1]) for i in ids])

    # 1. pairwise throughput
    print("\n== pairwise soft-DTW: the fixed set x 10 centres ==")
    n_pairs = len(X) * len(init)
    cdist_soft_dtw(Xnan[:3], init[:2], gamma=gamma)  # numba compilation outside the timing
    ref, t_ts, c_ts = timed(lambda: cdist_soft_dtw(Xnan, init, gamma=gamma), repeat=3)
    print(f"tslearn cdist_soft_dtw: {n_pairs / t_ts:12,.0f} pairs/s  ({t_ts:.2f} s wall, {c_ts:.2f} s CPU)")
    figures["tslearn_pairs_per_s"] = n_pairs / t_ts
    for dt in ("float32", "float64"):
        soft_dtw_pairwise(X[:50], init, gamma=gamma, dtype=dt)
        P, t, c = timed(lambda: soft_dtw_pairwise(X, init, gamma=gamma, dtype=dt), repeat=3)
        err = np.abs(P - ref).max() / max(1.0, np.abs(ref).max())
        print(f"agser {dt}:           {n_pairs / t:12,.0f} pairs/s  ({t:.3f} s wall, {c:.3f} s CPU) "
              f"x{t_ts / t:.0f} vs tslearn; max rel. deviation {err:.1e}")
        figures[f"agser_{dt}_pairs_per_s"] = n_pairs / t
    big = init[np.arange(100) % len(init)] + 0.01 * rng.normal(size=(100,) + init.shape[1:])
    _, t, c = timed(lambda: soft_dtw_pairwise(X, big, gamma=gamma, dtype="float32"))
    print(f"agser float32, {len(X)} x 100 = {len(X) * 100:,} pairs: {len(X) * 100 / t:12,.0f} pairs/s")
    figures["agser_float32_pairs_per_s_large"] = len(X) * 100 / t

    # 2. k-means against tslearn
    print(f"\n== k-means, k={args.k}, max_iter={args.max_iter}, tol={args.tol}, "
          f"max_iter_barycenter={args.max_iter_barycenter}, same init; median of {args.repeat} fit(s) each ==")

    def score(centres):
        D = soft_dtw_pairwise(X, centres, gamma=gamma, dtype="float64")
        return float(D.min(axis=1).mean())

    kw = dict(n_clusters=args.k, gamma=gamma, max_iter=args.max_iter, tol=args.tol,
              max_iter_barycenter=args.max_iter_barycenter, init=init, n_threads=args.threads)
    TimeSeriesKMeans(n_clusters=2, metric="softdtw", max_iter=1, max_iter_barycenter=2,
                     metric_params={"gamma": gamma}, init=init[:2]).fit(Xnan[:20])  # compile numba
    ts_km, t_ts, c_ts = timed(lambda: TimeSeriesKMeans(
        n_clusters=args.k, metric="softdtw", max_iter=args.max_iter, tol=args.tol,
        max_iter_barycenter=args.max_iter_barycenter, metric_params={"gamma": gamma}, init=init,
    ).fit(Xnan), repeat=args.repeat, stat="median")
    ours, t_o, c_o = timed(lambda: SoftDTWKMeans(**kw, dtype=args.dtype).fit(X), repeat=args.repeat,
                           stat="median")
    in_ts, in_o = score(ts_km.cluster_centers_), score(ours.cluster_centers_)
    print(f"tslearn TimeSeriesKMeans: {t_ts:8.2f} s wall {c_ts:8.2f} s CPU  {ts_km.n_iter_} iterations "
          f"({t_ts / max(ts_km.n_iter_, 1):.2f} s/iteration)  inertia {in_ts:.6f}")
    print(f"agser SoftDTWKMeans:      {t_o:8.2f} s wall {c_o:8.2f} s CPU  {ours.n_iter_} iterations "
          f"({t_o / max(ours.n_iter_, 1):.2f} s/iteration)  inertia {in_o:.6f}")
    rel = (in_o - in_ts) / abs(in_ts)
    print(f"speed-up: x{t_ts / t_o:.1f} wall, x{c_ts / c_o:.1f} CPU;  inertia (mean soft-DTW to nearest "
          f"centre, common float64 function): agser - tslearn = {in_o - in_ts:+.6f} "
          f"({100 * rel:+.2f} % of |tslearn|; negative = agser better)")
    figures.update(tslearn_fit_s=t_ts, tslearn_fit_cpu_s=c_ts, tslearn_n_iter=int(ts_km.n_iter_),
                   agser_fit_s=t_o, agser_fit_cpu_s=c_o, agser_n_iter=int(ours.n_iter_),
                   speedup_wall=t_ts / t_o, speedup_cpu=c_ts / c_o, tslearn_inertia=in_ts,
                   agser_inertia=in_o, inertia_rel_diff=rel)

    # 3. 100k segments
    if args.full:
        print(f"\n== fit of {args.n_full:,} segments resampled from the same pool: same k, gamma, tol and "
              f"barycentre limit, max_iter={args.full_max_iter}, barycenter_sample={args.barycenter_sample} ==")
        big_idx = np.random.default_rng(args.seed + 1).choice(len(pool), size=args.n_full, replace=True)
        Xbig = [pool[i] for i in big_idx]
        Xb, lb = to_padded(Xbig)
        init_b = np.stack([resample_series(x, len(x), Xb.shape[1]) for x in
                           (Xbig[i] for i in np.random.default_rng(args.seed).choice(args.n_full, args.k, replace=False))])
        model, t_b, c_b = timed(lambda: SoftDTWKMeans(
            **{**kw, "init": init_b, "max_iter": args.full_max_iter}, dtype=args.dtype,
            barycenter_sample=args.barycenter_sample,
            verbose=True).fit(Xbig))
        print(f"{args.n_full:,} segments: {t_b:.1f} s wall ({t_b / 60:.2f} min), {c_b:.1f} s CPU, "
              f"{model.n_iter_} iterations ({t_b / model.n_iter_:.1f} s/iteration), inertia {model.inertia_:.6f}")
        figures.update(full_n=args.n_full, full_fit_s=t_b, full_fit_cpu_s=c_b, full_n_iter=int(model.n_iter_),
                       full_barycenter_sample=args.barycenter_sample)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
