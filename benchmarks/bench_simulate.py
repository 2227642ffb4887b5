"""Time the simulator: ``python benchmarks/bench_simulate.py [--quick] [--utterances N] [--difficulty]``.

Prints the wall time of generating both simulated corpora (default size:
120 utterances per corpus) into a temporary folder, and per utterance. With
``--difficulty`` it also prints the calibration check of the Corpora chapter
(logistic-regression UAR within and across corpora, see
:func:`agser.corpora.simulator.difficulty.difficulty_check`). Timings on a
shared machine are noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 utterances per corpus")
    parser.add_argument("--utterances", type=int, default=None, help="utterances per corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shift", type=float, default=1.0)
    parser.add_argument("--difficulty", action="store_true",
                        help="also print the within/cross-corpus UAR of the calibration check")
    args = parser.parse_args(argv)

    from agser.corpora import read_manifest
    from agser.corpora.simulator import DEFAULT_UTTERANCES, simulate
    from agser.phones.cmudict import load_cmudict

    n = args.utterances or (20 if args.quick else DEFAULT_UTTERANCES)
    t0 = time.perf_counter()
    load_cmudict()
    t_dict = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = simulate(tmp, seed=args.seed, utterances_per_corpus=n, shift=args.shift)
        dt = time.perf_counter() - t0
        total = 2 * n
        print(f"CMUdict load: {t_dict:.2f} s")
        print(f"simulate: 2 corpora x {n} utterances = {total} in {dt:.2f} s "
              f"({1000 * dt / total:.1f} ms per utterance)", flush=True)
        if args.difficulty:
            from agser.corpora.simulator.difficulty import difficulty_check

            t0 = time.perf_counter()
            table = difficulty_check(read_manifest(path))
            print(f"difficulty check (seed {args.seed}, shift {args.shift}) "
                  f"in {time.perf_counter() - t0:.1f} s:")
            print(table.round(1).to_string(index=False))


if __name__ == "__main__":
    main()
