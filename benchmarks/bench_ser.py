"""SER training time per run, per method, on a run's corpora (default: the default run).

Usage::

    python benchmarks/bench_ser.py                 # every method, C->I, seed 0, default run
    python benchmarks/bench_ser.py --quick         # source-only, AG and Hard-AG only
    python benchmarks/bench_ser.py --run controls --condition positive

The run's upstream steps (simulation, extraction, clustering, encoder features)
come from its store (computed there when missing). Training is timed uncached
(:func:`agser.ser.protocol.run_experiment` directly, in this process, with the
run's ``ser`` section), wall-clock and CPU. Times are what this machine gives
while whatever else runs: say so when quoting; the ratio between methods is the
steadier figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="source-only, AG and Hard-AG only")
    ap.add_argument("--run", default="default")
    ap.add_argument("--condition", default=None, help="a condition of the run's controls")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from agser.run import Run
    from agser.ser.data import corpus_by_code
    from agser.ser.methods import METHODS
    from agser.ser.protocol import run_experiment

    run = Run.named(args.run)
    if args.condition:
        run = run.condition_run(args.condition)
    t0 = time.perf_counter()
    corpora = run.ser_corpora()
    src, tgt = corpus_by_code(corpora, "C"), corpus_by_code(corpora, "I")
    print(f"run {args.run!r}{' condition ' + args.condition if args.condition else ''}: {len(src)} + {len(tgt)} "
          f"utterances; inputs ready in {time.perf_counter() - t0:.1f} s (cached upstream)")
    methods = ("source-only", "AG", "Hard-AG") if args.quick else METHODS
    methods = [m for m in methods if m != "AG-oracle" or run.oracle() is not None]
    ser = run.params["ser"]
    print(f"{'method':12s} {'wall_s':>7s} {'cpu_s':>7s} {'epochs':>6s} {'n_train':>7s}")
    walls = {}
    for method in methods:
        pair = (tgt, tgt) if method == "upper-bound" else (src, tgt)
        w, c = time.perf_counter(), time.process_time()
        r = run_experiment(method, *pair, args.seed, ser)
        walls[method] = time.perf_counter() - w
        print(f"{method:12s} {walls[method]:7.2f} {time.process_time() - c:7.2f} "
              f"{r['history']['epochs_run']:6d} {r['n_train']:7d}")
    base = walls.get("source-only")
    if base:
        print("relative to source-only: " + ", ".join(f"{m} {t / base:.1f}x" for m, t in walls.items()))
    n_runs = len(run.main_runs())
    mean = sum(walls.values()) / len(walls)
    print(f"the run's table has {n_runs} runs per condition: ~{n_runs * mean:.0f} s of training at this mean, "
          f"~{n_runs * mean / max(1, ser['parallel_runs']):.0f} s with ser.parallel_runs={ser['parallel_runs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
