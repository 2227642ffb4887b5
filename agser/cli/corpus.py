"""``agser corpus``: build a manifest from a corpus tree."""

from __future__ import annotations

import re

KINDS = ("crema-d", "msp-improv", "grid", "csv")
#: Adapter keyword -> the option of this command that sets it.
FLAGS = {"labels": "--labels", "votes": "--votes", "vote_modality": "--vote-modality",
         "evaluation": "--evaluation", "transcripts": "--transcripts", "speaker": "--speaker",
         "corpus": "--corpus", "columns": "--column", "emotion_map": "--emotion-map"}
_KEYWORD = re.compile(r"\b(" + "|".join(FLAGS) + r")=(?:'([^']*)'|(\S+))")


def as_flags(message):
    """An adapter's message with its keyword hints in the form a command-line user types.

    The adapters are Python functions and name their keywords (``pass
    speaker=ID``); here the same value is an option (``--speaker ID``).

    Examples
    --------
    >>> as_flags("not under an s<N>/ talker folder; pass speaker=ID")
    'not under an s<N>/ talker folder; pass --speaker ID'
    >>> as_flags("labels='vote' needs tabulatedVotes.csv; pass votes=PATH")
    '--labels vote needs tabulatedVotes.csv; pass --votes PATH'
    """
    return _KEYWORD.sub(lambda m: f"{FLAGS[m.group(1)]} {m.group(2) if m.group(3) is None else m.group(3)}",
                        str(message))


def add_arguments(parser):
    parser.add_argument("--kind", required=True, choices=KINDS, help="corpus layout")
    parser.add_argument("--root", required=True,
                        help="corpus folder (for --kind csv: the CSV file)")
    parser.add_argument("--out", required=True, help="manifest CSV to write")
    parser.add_argument("--labels", choices=("intended", "vote"), default=None,
                        help="crema-d: intended emotion (default) or raters' vote; "
                             "msp-improv: consensus vote (default) or scenario target")
    parser.add_argument("--votes", default=None,
                        help="crema-d: tabulatedVotes.csv (default: found under --root)")
    parser.add_argument("--vote-modality", choices=("audio-visual", "audio", "video"),
                        default=None, help="crema-d: rating condition of --labels vote")
    parser.add_argument("--drop-ties", action="store_true",
                        help="crema-d: drop clips whose vote is a tie (default: unlabelled)")
    parser.add_argument("--drop-flagged", action="store_true",
                        help="crema-d: leave out the four known-bad clips (default: flagged)")
    parser.add_argument("--evaluation", default=None,
                        help="msp-improv: the evaluation file (default: ROOT/Evalution.txt)")
    parser.add_argument("--transcripts", default=None,
                        help="msp-improv: CSV (utterance_id, transcript) or folder of <id>.txt")
    parser.add_argument("--drop-unlabelled", action="store_true",
                        help="msp-improv: leave out clips with no usable label")
    parser.add_argument("--speaker", default=None,
                        help="grid: talker id of clips not under an s<N>/ folder")
    parser.add_argument("--column", action="append", default=[], metavar="MANIFEST=CSV",
                        help="csv: manifest column and the CSV column that holds it, "
                             "e.g. utterance_id=file (repeatable)")
    parser.add_argument("--emotion-map", action="append", default=[], metavar="CSV=LABEL",
                        help="csv: relabel an emotion value, e.g. ang=anger (repeatable)")
    parser.add_argument("--corpus", default=None, help="value of the corpus column")
    parser.add_argument("--landmarks-dir", default=None, metavar="DIR",
                        help="any kind: folder of OpenFace CSVs named <utterance_id>.csv (searched "
                             "recursively) -> landmarks_path")
    parser.add_argument("--alignments-dir", default=None, metavar="DIR",
                        help="any kind: folder of TextGrids named <utterance_id>.TextGrid, e.g. an MFA "
                             "output folder (searched recursively) -> alignment_path")


#: ``--<flag>``: (manifest column, file suffix, what reads it when a file is missing).
ATTACHED = {"landmarks_dir": ("landmarks_path", ".csv", "extract.landmarks: auto runs dlib on their video"),
            "alignments_dir": ("alignment_path", ".TextGrid",
                               "extract.aligner: auto runs pocketsphinx on their audio")}


def attach(manifest, args, out=print):
    """Fill ``landmarks_path`` / ``alignment_path`` from ``--landmarks-dir`` / ``--alignments-dir``.

    An utterance without a file keeps its column as the adapter left it
    (empty): a tool that failed on a few clips does not stop the manifest,
    and the extraction falls back to the built-in detector or aligner on them.
    How many were found is printed, with the first missing ones.
    """
    from agser.corpora.manifest import attach_files

    for flag, (column, suffix, fallback) in ATTACHED.items():
        folder = getattr(args, flag, None)
        if folder is None:
            continue
        manifest = attach_files(manifest, column, folder, suffix, missing="empty", recursive=True)
        empty = manifest.loc[manifest[column] == "", "utterance_id"].tolist()
        line = f"{column}: {len(manifest) - len(empty)} of {len(manifest)} utterances have a file in {folder}"
        if empty:
            line += (f"; {len(empty)} have none (first: {', '.join(e + suffix for e in empty[:3])}): "
                     f"{fallback}")
        out(line)
    return manifest


def options(args):
    """The adapter options named on the command line for ``args.kind``."""
    from agser.cli import option_pairs

    per_kind = {
        "crema-d": {"labels": args.labels, "votes": args.votes,
                    "vote_modality": args.vote_modality,
                    "drop_ties": args.drop_ties or None,
                    "drop_flagged": args.drop_flagged or None, "corpus": args.corpus},
        "msp-improv": {"labels": args.labels, "evaluation": args.evaluation,
                       "transcripts": args.transcripts,
                       "drop_unlabelled": args.drop_unlabelled or None,
                       "corpus": args.corpus},
        "grid": {"speaker": args.speaker, "corpus": args.corpus},
        "csv": {"corpus": args.corpus, "columns": option_pairs("column", args.column) or None,
                "emotion_map": option_pairs("emotion-map", args.emotion_map) or None},
    }[args.kind]
    given = {k: v for k, v in per_kind.items() if v is not None}
    # Options for another kind are a mistake worth stopping for.
    all_opts = {"labels", "votes", "vote_modality", "drop_ties", "drop_flagged", "evaluation",
                "transcripts", "drop_unlabelled", "speaker", "corpus", "column", "emotion_map"}
    used = set(per_kind) | ({"column"} if args.kind == "csv" else set())
    for name in sorted(all_opts - used):
        value = getattr(args, name)
        if value not in (None, False, []):
            from agser.errors import ParameterError

            raise ParameterError(f"--{name.replace('_', '-')} does not apply to --kind {args.kind}")
    return given


def run(args):
    from agser.corpora.adapters import build_manifest
    from agser.corpora.manifest import write_manifest
    from agser.errors import ParameterError

    opts = options(args)
    try:
        manifest = build_manifest(args.kind, args.root, **opts)
    except ParameterError as exc:
        raise ParameterError(as_flags(exc)) from exc
    manifest = attach(manifest, args)
    path = write_manifest(manifest, args.out)
    counts = manifest["emotion"].replace("", "(unlabelled)").value_counts()
    print(f"{len(manifest)} utterances, {manifest['speaker'].nunique()} speakers -> {path}")
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0
