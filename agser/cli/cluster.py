"""``agser cluster``: the AG cluster model of a run, or of an extraction folder.

It calls the very stage the book's chapters call (:meth:`agser.run.Run.clusters`,
one store key), so a fit made here is the fit chapter 3 shows, and the other
way round. With ``--run`` / ``--params`` it clusters that run's segments in its
store; with ``--segments DIR`` (an ``agser extract`` folder) it uses the
default parameters and the store ``OUT/store``. Every clustering option is a
key of the run schema's ``cluster`` section (its default is named in
``--help``).

Writes ``OUT/model.npz`` (:meth:`SoftDTWKMeans.save`), ``OUT/labels.csv`` (one
row per clustered segment: ``row`` in the extraction's table, its identifying
columns, ``cluster`` numbered from 1 as in the paper), ``OUT/elbow.csv`` and,
when the elbow search had more than one k, ``OUT/elbow.png``.
"""

from __future__ import annotations

#: The ``cluster`` keys offered as options (``--k-range A:B`` and ``--emotions`` are parsed here).
OPTIONS = ("k", "gamma", "max_iter", "n_init", "tol", "seed", "elbow_max_segments", "elbow_max_iter",
           "fit_max_segments", "barycenter_sample", "max_iter_barycenter", "backend", "dtype")


def add_arguments(parser):
    from agser.cli import schema_option

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run of the book: papermill_runs/RUN/params.yaml")
    source.add_argument("--params", help="a params.yaml anywhere (work folder: work/ beside it)")
    source.add_argument("--segments", help="an extraction folder (agser extract): default parameters")
    parser.add_argument("--work-dir", default=None, help="the run's working folder (with --run / --params)")
    parser.add_argument("--out", default=None,
                        help="output folder (default: clusters/ beside the run's tables; required with "
                             "--segments, whose store is OUT/store)")
    parser.add_argument("--k-range", metavar="A:B", default=None,
                        help="elbow search over k = A..B inclusive (cluster.k_range)")
    parser.add_argument("--phones", default=None,
                        help="vowels | paper_vowels | all | comma-separated IPA list (cluster.phones)")
    parser.add_argument("--emotions", default=None,
                        help="comma-separated emotions to keep, or 'all' (cluster.emotions)")
    for key in OPTIONS:
        schema_option(parser, "cluster", key)


def _overrides(args):
    from agser.cli import schema_overrides
    from agser.errors import ParameterError

    over = schema_overrides(args).get("cluster", {})
    if args.k_range is not None:
        lo, sep, hi = args.k_range.partition(":")
        try:
            over["k_range"] = [int(lo), int(hi)]
        except ValueError:
            raise ParameterError(f"--k-range {args.k_range!r} must look like A:B") from None
        if not sep:
            raise ParameterError(f"--k-range {args.k_range!r} must look like A:B")
    if args.phones is not None:
        over["phones"] = args.phones if args.phones in ("vowels", "paper_vowels", "all") else [
            p.strip() for p in args.phones.split(",") if p.strip()]
    if args.emotions is not None:
        over["emotions"] = None if args.emotions == "all" else [
            e.strip() for e in args.emotions.split(",") if e.strip()]
    return over


def run(args):
    from pathlib import Path

    import numpy as np

    from agser.cli import load_run
    from agser.errors import ParameterError
    from agser.run import Run

    over = {f"cluster.{k}": v for k, v in _overrides(args).items()}
    if args.segments:
        if not args.out:
            raise ParameterError("--segments needs --out (the output folder and its store)")
        r = Run.from_extraction(args.segments, work_dir=Path(args.out), parameters={})
        r = r.with_params(**over) if over else r
    else:
        r = load_run(args)
        r = r.with_params(**over) if over else r
    # every parameter is checked by now, before any work
    out = Path(args.out) if args.out else r.tables_dir.parent / "clusters"
    out.mkdir(parents=True, exist_ok=True)
    emotions = r.params["cluster"]["emotions"]
    ag = r.clusters(emotions="run" if emotions is not None else None)
    print(f"{len(ag['segments'])} segments clustered ({ag['n_dropped_nan']} left out for missing frames)")
    elbow = ag["elbow"].copy()
    elbow["chosen"] = elbow["k"] == ag["k"]
    elbow.to_csv(out / "elbow.csv", index=False)
    ag["model"].save(out / "model.npz")
    labels = ag["segments"][[c for c in ("row", "utterance_id", "corpus", "speaker", "emotion", "phone", "ipa",
                                         "start", "end", "n_frames", "cluster") if c in ag["segments"].columns]]
    labels.to_csv(out / "labels.csv", index=False)
    if len(elbow) > 1:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from agser.clustering import plot_elbow

        ax = plot_elbow(elbow["k"], elbow["inertia"], ag["k_elbow"], title=f"{ag['n_elbow']} segments")
        ax.figure.tight_layout()
        ax.figure.savefig(out / "elbow.png", dpi=120)
        plt.close(ax.figure)
    for row in elbow.itertuples(index=False):
        print(f"k={row.k}: inertia {row.inertia:.6g}")
    print(f"k = {ag['k']} ({'elbow' if r.params['cluster']['k'] is None else 'set'}; "
          f"{int(np.bincount(ag['segments']['cluster']).max())} segments in the largest cluster) -> {out}")
    return 0
