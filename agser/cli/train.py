"""``agser train``: one SER method, direction and seed of a run, through the store."""

from __future__ import annotations

METHOD_CHOICES = ("AG", "PA", "LA", "Hard-AG", "source-only", "upper-bound")


def add_arguments(parser):
    parser.add_argument("--method", required=True, choices=METHOD_CHOICES, help="SER method")
    parser.add_argument("--direction", required=True,
                        help="source->target corpus codes, e.g. 'C->I' (quote it in a shell); "
                             "'C->C' or 'I->I' for upper-bound")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the model and the triplets")
    parser.add_argument("--params", required=True,
                        help="run parameters, e.g. papermill_runs/default/params.yaml")
    parser.add_argument("--work-dir", default=None,
                        help="the run's working folder (default: work/ beside --params)")
    parser.add_argument("--results", default=None,
                        help="results CSV to append one row to (default: tables/ser_results.csv "
                             "beside --params)")


def run(args):
    from pathlib import Path

    import pandas as pd
    import yaml

    from agser.errors import ParameterError
    from agser.ser.pipeline import RESULT_COLUMNS
    from agser.ser.train import train_run

    params_path = Path(args.params)
    if not params_path.is_file():
        raise ParameterError(f"--params {args.params!r} does not exist")
    loaded = yaml.safe_load(params_path.read_text()) or {}
    config = loaded.get("parameters", loaded)
    if not isinstance(config, dict):
        raise ParameterError(f"--params {args.params!r} holds no 'parameters' mapping")
    work_dir = Path(args.work_dir) if args.work_dir else params_path.parent / "work"
    results = Path(args.results) if args.results else params_path.parent / "tables" / "ser_results.csv"
    r = train_run(args.method, args.direction, args.seed, config, work_dir)
    row = pd.DataFrame([{"method": args.method, "direction": args.direction, "seed": args.seed,
                         **{k: round(float(r[k]), 4) for k in RESULT_COLUMNS[3:]}}],
                       columns=list(RESULT_COLUMNS))
    results.parent.mkdir(parents=True, exist_ok=True)
    row.to_csv(results, mode="a", header=not results.is_file(), index=False)
    print(f"{args.method} {args.direction} seed {args.seed}: UAR {r['uar']:.2f} % "
          f"(neutral {r['neutral']:.1f}, anger {r['anger']:.1f}, happy {r['happy']:.1f}, "
          f"sad {r['sad']:.1f}; binary UAR) on {r['n_test']} test utterances -> {results}")
    return 0
