"""``agser extract``: landmarks, phones and gesture segments for a manifest."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--manifest", required=True, help="manifest CSV (agser corpus / simulate / fetch-samples)")
    parser.add_argument("--out", required=True,
                        help="output folder: segments.parquet, segment_frames.npy, failures.csv, summary.json")
    from agser.cli import schema_option

    for key in ("workers", "scheduler", "landmarks", "aligner", "max_gap", "min_speech_score", "phone_set"):
        schema_option(parser, "extract", key)
    parser.add_argument("--pronunciation", action="append", default=[], metavar="WORD=PHONES",
                        help="pronunciation of an out-of-vocabulary word, e.g. 'agser=EY1 JH S ER0' (repeatable)")
    parser.add_argument("--pronunciations", default=None, metavar="FILE",
                        help="pronunciations of out-of-vocabulary words: a CMUdict-format file, one "
                             "'WORD  PH1 PH2 ...' line a word (ARPAbet; ';;;' comment lines)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def pronunciations(args):
    """The words of ``--pronunciations FILE``, then the ``--pronunciation`` items (which win)."""
    from agser.cli import option_pairs
    from agser.phones.cmudict import read_pronunciations

    out = read_pronunciations(args.pronunciations) if args.pronunciations else {}
    items = option_pairs("pronunciation", args.pronunciation, form="WORD='P1 P2 ...'")
    out.update({word.lower(): phones for word, phones in items.items()})
    return out


def run(args):
    from agser.cli import schema_overrides
    from agser.run import resolve_params
    from agser.run.extraction import extract_manifest

    # the schema's defaults, with the options given; checked before any work
    extract = resolve_params(schema_overrides(args))["extract"]
    extract.pop("aligner_eval_utterances")
    summary = extract_manifest(
        args.manifest,
        args.out,
        extra_pronunciations=pronunciations(args),
        progress=not args.no_progress,
        **extract,
    )
    for corpus, s in summary.items():
        print(
            f"{corpus}: {s['utterances']} utterances, {s['segments']} segments, "
            f"{s['failures']} failed, {s['frames_with_face']}/{s['frames']} frames with a face"
        )
    print(f"-> {args.out}")
    return 0
