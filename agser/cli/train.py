"""``agser train``: one SER method, direction and seed of a run, through the run's store."""

from __future__ import annotations


def add_arguments(parser):
    from agser.cli import add_run_arguments
    from agser.ser.methods import METHODS

    parser.add_argument("--method", required=True, choices=METHODS, help="SER method")
    parser.add_argument("--direction", required=True,
                        help="source->target corpus codes, e.g. 'C->I' (quote it in a shell); "
                             "'C->C' or 'I->I' for upper-bound")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the model and the triplets")
    add_run_arguments(parser)
    parser.add_argument("--results", default=None,
                        help="results CSV to append one row to (default: the run's tables/ser_results_cli.csv)")


def run(args):
    from pathlib import Path

    import pandas as pd

    from agser.cli import load_run
    from agser.run.ser import RESULT_COLUMNS

    # every parameter is checked here, before any work
    r = load_run(args)
    results = Path(args.results) if args.results else r.tables_dir / "ser_results_cli.csv"
    out = r.ser_run(args.method, args.direction, args.seed)
    figures = [c for c in RESULT_COLUMNS if c not in ("condition", "method", "direction", "seed", "n_train")]
    row = pd.DataFrame([{"condition": "default", "method": args.method, "direction": args.direction,
                         "seed": args.seed, **{k: round(float(out[k]), 4) for k in figures},
                         "n_train": int(out["n_train"])}], columns=list(RESULT_COLUMNS))
    results.parent.mkdir(parents=True, exist_ok=True)
    row.to_csv(results, mode="a", header=not results.is_file(), index=False)
    print(f"{args.method} {args.direction} seed {args.seed}: UAR {out['uar']:.2f} % "
          f"(neutral {out['neutral']:.1f}, anger {out['anger']:.1f}, happy {out['happy']:.1f}, "
          f"sad {out['sad']:.1f}; binary UAR) on {out['n_test']} test utterances -> {results}")
    return 0
