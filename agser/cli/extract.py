"""``agser extract``: landmarks, phones and gesture segments for a manifest."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--manifest", required=True, help="manifest CSV (agser corpus / simulate / fetch-samples)")
    parser.add_argument("--out", required=True,
                        help="output folder: segments.parquet, segment_frames.npy, failures.csv, summary.json")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: all cores; 1 = in this process)")
    parser.add_argument("--scheduler", default=None,
                        help="dask.distributed scheduler address (tcp://host:8786); utterances run there")
    parser.add_argument("--landmarks", choices=("auto", "openface", "dlib"), default="auto",
                        help="auto: the OpenFace CSV of landmarks_path when set, else dlib on the video")
    parser.add_argument("--aligner", choices=("auto", "textgrid", "pocketsphinx"), default="auto",
                        help="auto: the TextGrid of alignment_path when set, else pocketsphinx")
    parser.add_argument("--max-gap", type=int, default=None,
                        help="longest run of face-less frames to interpolate (default 3)")
    parser.add_argument("--pronunciation", action="append", default=[], metavar="WORD=PHONES",
                        help="pronunciation of an out-of-vocabulary word, e.g. 'agser=EY1 JH S ER0' (repeatable)")
    parser.add_argument("--pronunciations", default=None, metavar="FILE",
                        help="pronunciations of out-of-vocabulary words: a CMUdict-format file, one "
                             "'WORD  PH1 PH2 ...' line a word (ARPAbet; ';;;' comment lines)")
    parser.add_argument("--phone-set", choices=("auto", "arpabet", "ipa"), default="auto",
                        help="phone set of the TextGrids: auto tells ARPAbet from the IPA phones of "
                             "MFA 3's english_mfa model per file (mapped to ARPAbet)")
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
    from agser.extract import extract_manifest

    summary = extract_manifest(
        args.manifest,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        landmarks=args.landmarks,
        aligner=args.aligner,
        max_gap=args.max_gap,
        extra_pronunciations=pronunciations(args),
        phone_set=args.phone_set,
        progress=not args.no_progress,
    )
    for corpus, s in summary.items():
        print(
            f"{corpus}: {s['utterances']} utterances, {s['segments']} segments, "
            f"{s['failures']} failed, {s['frames_with_face']}/{s['frames']} frames with a face"
        )
    print(f"-> {args.out}")
    return 0
