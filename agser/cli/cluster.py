"""``agser cluster``: soft-DTW k-means of the gesture segments of an extract folder.

Every fit goes through the artifact store ``OUT/store`` (keyed by the segment
files and the parameters), so an interrupted k-range search resumes where it
stopped. Writes ``OUT/model.npz`` (:meth:`SoftDTWKMeans.save`; the elbow's k
or ``--k``), ``OUT/labels.csv`` (one row per clustered segment: ``row`` in the
extract's table, its identifying columns, ``cluster`` numbered from 1 as in
the paper), ``OUT/elbow.csv`` (``k, inertia, n_iter, seconds, chosen``) and,
with ``--k-range``, ``OUT/elbow.png``.
"""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--segments", required=True,
                        help="extract folder (segments.parquet + segment_frames.npy; agser extract)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--k", type=int, help="number of clusters")
    group.add_argument("--k-range", metavar="A:B", help="elbow search over k = A..B (inclusive)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--backend", choices=("torch", "tslearn"), default="torch",
                        help="torch: agser's batched soft-DTW (default); tslearn: the reference")
    parser.add_argument("--gamma", type=float, default=1.0, help="soft-DTW smoothing (default 1.0)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--max-iter", type=int, default=30, help="k-means iterations (default 30)")
    parser.add_argument("--max-iter-barycenter", type=int, default=100,
                        help="L-BFGS iterations per barycentre update (default 100)")
    parser.add_argument("--tol", type=float, default=1e-4, help="inertia change that stops (default 1e-4)")
    parser.add_argument("--phones", default="vowels",
                        help="vowels | paper_vowels | all | comma-separated IPA list (default vowels)")
    parser.add_argument("--emotions", default="neutral,anger,happiness,sadness",
                        help="comma-separated emotions to keep, or 'all'")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: small per-diagonal operations gain "
                             "little from more, and lose much on a busy machine)")


def _k_values(args):
    from agser.errors import ParameterError

    if args.k is not None:
        if args.k < 1:
            raise ParameterError(f"--k {args.k} must be >= 1")
        return [args.k]
    lo, sep, hi = args.k_range.partition(":")
    try:
        lo, hi = int(lo), int(hi)
    except ValueError:
        raise ParameterError(f"--k-range {args.k_range!r} must look like A:B") from None
    if not sep or lo < 1 or hi < lo:
        raise ParameterError(f"--k-range {args.k_range!r} must be A:B with 1 <= A <= B")
    return list(range(lo, hi + 1))


def run(args):
    import time
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from agser.analysis.pipeline import as_series, select_segments
    from agser.clustering import SoftDTWKMeans, choose_k_elbow, plot_elbow
    from agser.errors import ParameterError
    from agser.extract import load_segments
    from agser.store import ArtifactStore

    ks = _k_values(args)
    seg_dir = Path(args.segments)
    segments, frames = load_segments(seg_dir)
    phones = args.phones if args.phones in ("vowels", "paper_vowels", "all") else [
        p.strip() for p in args.phones.split(",") if p.strip()
    ]
    emotions = None if args.emotions == "all" else [e.strip() for e in args.emotions.split(",") if e.strip()]
    mask = select_segments(segments, phones, emotions)
    finite = np.array([len(f) > 0 and bool(np.isfinite(f).all()) for f in frames])
    rows = np.flatnonzero(mask & finite)
    n_nan = int((mask & ~finite).sum())
    if len(rows) == 0:
        raise ParameterError(f"no segment in {str(seg_dir)!r} for phones={phones!r}, emotions={emotions!r}")
    ks = [k for k in ks if k <= len(rows)]
    if not ks:
        raise ParameterError(f"every k exceeds the {len(rows)} segments to cluster")
    X = as_series([frames[i] for i in rows])
    print(f"{len(rows)} segments to cluster ({n_nan} left out for missing frames)")

    params = dict(
        gamma=float(args.gamma), max_iter=int(args.max_iter), tol=float(args.tol),
        max_iter_barycenter=int(args.max_iter_barycenter), random_state=int(args.seed),
        backend=args.backend, dtype=args.dtype, device=args.device, n_threads=max(1, int(args.threads)),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = ArtifactStore(out / "store")
    inputs = (seg_dir / "segments.parquet", seg_dir / "segment_frames.npy")
    selection = {"phones": phones, "emotions": emotions}

    table, models = [], {}
    for k in ks:
        def fit(k=k):
            t0 = time.perf_counter()
            model = SoftDTWKMeans(n_clusters=k, **params).fit(X)
            return model, time.perf_counter() - t0

        model, seconds = store.cached(
            "cluster", {**params, "n_clusters": k, **selection}, inputs, fit
        )
        models[k] = model
        table.append({"k": k, "inertia": model.inertia_, "n_iter": model.n_iter_, "seconds": seconds})
        print(f"k={k}: inertia {model.inertia_:.6g} ({model.n_iter_} iterations, {seconds:.1f} s)")
    elbow = pd.DataFrame(table)
    k_best = choose_k_elbow(elbow["k"], elbow["inertia"]) if len(ks) > 1 else ks[0]
    elbow["chosen"] = elbow["k"] == k_best
    elbow.to_csv(out / "elbow.csv", index=False)
    model = models[k_best]
    model.save(out / "model.npz")
    labels = segments.iloc[rows][
        [c for c in ("utterance_id", "corpus", "speaker", "emotion", "phone", "ipa", "start", "end",
                     "n_frames") if c in segments.columns]
    ].reset_index(drop=True)
    labels.insert(0, "row", rows)
    labels["cluster"] = np.asarray(model.labels_, dtype=int) + 1
    labels.to_csv(out / "labels.csv", index=False)
    if len(ks) > 1:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = plot_elbow(elbow["k"], elbow["inertia"], k_best, title=f"{len(rows)} segments")
        ax.figure.tight_layout()
        ax.figure.savefig(out / "elbow.png", dpi=120)
        plt.close(ax.figure)
    print(f"k = {k_best}{' (elbow)' if len(ks) > 1 else ''} -> {out}")
    return 0
