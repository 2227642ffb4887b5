"""``agser simulate``: write the two simulated corpora and their manifest."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--out", required=True, help="output folder (gets manifest.csv)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--utterances-per-corpus", type=int, default=None,
        help="utterances per corpus (default 120)",
    )
    parser.add_argument(
        "--shift", type=float, default=1.0,
        help="domain-shift strength between the corpora (0 = none, 1 = default)",
    )
    parser.add_argument(
        "--decouple-gestures", action="store_true",
        help="the decoupled control: each face shows another utterance's articulation "
             "(same speaker, other sentence); audio, TextGrids and articulation files unchanged",
    )


def run(args):
    from agser.corpora.simulator import simulate

    path = simulate(args.out, seed=args.seed, utterances_per_corpus=args.utterances_per_corpus,
                    shift=args.shift, decouple_gestures=args.decouple_gestures)
    print(path)
    return 0
