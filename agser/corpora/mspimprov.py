"""MSP-IMPROV adapter: a manifest from the official MSP-IMPROV release.

Layout assumed (the release distributed by the MSP lab, UT Dallas)::

    ROOT/Audio/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.wav
    ROOT/Video/session1/S01A/P/MSP-IMPROV-S01A-F01-P-FM01.avi
    ROOT/Evalution.txt        (the release's spelling; Evaluation.txt is accepted too)

i.e. ``{Audio,Video}/session<N>/S<sentence><target>/<type>/<file>``; only the
file names are parsed, so a flatter tree with the same names also works.

File names are ``MSP-IMPROV-S<ss><E>-<G><nn>-<T>-<turn>``:

- ``S<ss><E>``: target sentence ``ss`` (01-20) and the target emotion ``E``
  of the scenario (A anger, H happiness, S sadness, N neutral);
- ``<G><nn>``: the speaker, gender ``G`` (F or M) of session ``nn`` (01-06);
  each session is one female-male dyad, so the speaker id is ``F01``, ``M01``...;
- ``<T>``: the recording type (:data:`SCENARIO_TYPES`): ``R`` target sentence
  read, ``T`` target sentence improvised inside the scenario, ``S`` other
  improvised turns of the scenario, ``P`` natural interaction between scenarios;
- ``<turn>``: interaction code and turn number (``FM01``), kept as it is.

Labels
------
``Evalution.txt`` holds, for each clip, a line
``UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:2.83; V:3.17; D:3.00; N:3.33``
(consensus category, then mean arousal, valence, dominance, naturalness)
followed by one line per rater and a blank line. ``labels="vote"`` (the
default: the paper uses perceived labels) takes the consensus category:
A/H/S/N map to anger/happiness/sadness/neutral; any other code (O other, X no
agreement) leaves the clip unlabelled (empty emotion), and the raw code is
kept in ``label_code``. ``labels="intended"`` takes the scenario's target
emotion from the file name (meaningful for types R and T only). The
evaluation file names the ``.avi`` with a ``UTD-IMPROV`` prefix; it is matched
to the ``MSP-IMPROV`` media by the rest of the name.

Transcripts
-----------
The release's media carry no transcript this adapter could rely on; pass
``transcripts=`` a CSV (``utterance_id, transcript``) or a folder of
``<utterance_id>.txt`` files. Without it the ``transcript`` column is empty
and the phone aligner cannot run on those clips (they become failure rows
at extraction, or give TextGrids through ``alignment_path``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from agser.corpora.manifest import make_manifest
from agser.errors import ParameterError

__all__ = ["SCENARIO_TYPES", "parse_mspimprov_name", "read_mspimprov_evaluation", "mspimprov_manifest"]

#: Recording-type letter -> description.
SCENARIO_TYPES = {
    "R": "target sentence, read",
    "T": "target sentence, improvised",
    "S": "other improvised turn",
    "P": "natural interaction",
}
#: Emotion letters (file-name target and consensus label) -> manifest labels.
EMOTION_LETTERS = {"A": "anger", "H": "happiness", "S": "sadness", "N": "neutral"}

_NAME = re.compile(
    r"^(?:MSP|UTD)-IMPROV-S(\d{2})([AHSN])-([FM])(\d{2})-([RTSP])-([A-Z]{1,2}\d{2,3})$"
)
_EVAL_LINE = re.compile(r"^\s*((?:MSP|UTD)-IMPROV-[^;\s]+?)(?:\.\w+)?\s*;\s*([A-Za-z]+)\s*;(.*)$")


def parse_mspimprov_name(name):
    """Split an MSP-IMPROV file name into its fields.

    Parameters
    ----------
    name : str or Path
        File name or stem, ``MSP-IMPROV-S01A-F01-P-FM01.wav`` (a ``UTD-IMPROV``
        prefix is accepted and normalised).

    Returns
    -------
    dict
        ``utterance_id, speaker, session, gender, sentence_index,
        target_emotion, scenario, scenario_type, turn``.

    Examples
    --------
    >>> d = parse_mspimprov_name("UTD-IMPROV-S03H-M02-T-MF05.avi")
    >>> d["utterance_id"], d["speaker"], d["target_emotion"], d["scenario"]
    ('MSP-IMPROV-S03H-M02-T-MF05', 'M02', 'happiness', 'T')
    """
    shown = str(name)
    stem = Path(name).name
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    m = _NAME.match(stem)
    if not m:
        raise ParameterError(
            f"MSP-IMPROV file {shown!r}: name is not MSP-IMPROV-S<ss><E>-<G><nn>-<T>-<turn> "
            "(like MSP-IMPROV-S01A-F01-P-FM01)"
        )
    sent, target, gender, session, scenario, turn = m.groups()
    return {
        "utterance_id": "MSP-" + stem.split("-", 1)[1],
        "speaker": f"{gender}{session}",
        "session": int(session),
        "gender": gender,
        "sentence_index": int(sent),
        "target_emotion": EMOTION_LETTERS[target],
        "scenario": scenario,
        "scenario_type": SCENARIO_TYPES[scenario],
        "turn": turn,
    }


def read_mspimprov_evaluation(path):
    """Consensus labels and mean attributes from ``Evalution.txt``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame
        Indexed by utterance id (``MSP-IMPROV-...``), columns ``label_code``
        (raw consensus letter), ``vote_emotion`` (manifest label or empty),
        ``arousal``, ``valence``, ``dominance``, ``naturalness`` (mean ratings,
        1-5; NaN where absent).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "Evalution.txt"
    >>> _ = p.write_text("UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:2.5; V:3.0; D:3.0; N:4.0\\n"
    ...                  "p1-rater; Neutral; A:2; V:3; D:3; N:4\\n\\n")
    >>> row = read_mspimprov_evaluation(p).loc["MSP-IMPROV-S01A-F01-P-FM01"]
    >>> str(row["vote_emotion"]), float(row["arousal"]), float(row["naturalness"])
    ('neutral', 2.5, 4.0)
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"MSP-IMPROV evaluation file {str(path)!r} does not exist")
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        m = _EVAL_LINE.match(line)
        if not m:
            continue  # rater lines, blank lines
        name, code, rest = m.groups()
        try:
            uid = parse_mspimprov_name(name)["utterance_id"]
        except ParameterError:
            continue  # a rater line that happens to start with the clip name
        attrs = dict(re.findall(r"([AVDN])\s*:\s*([0-9.]+)", rest))
        code = code.strip().upper()
        rows.append(
            {
                "utterance_id": uid,
                "label_code": code,
                "vote_emotion": EMOTION_LETTERS.get(code, ""),
                "arousal": float(attrs.get("A", np.nan)),
                "valence": float(attrs.get("V", np.nan)),
                "dominance": float(attrs.get("D", np.nan)),
                "naturalness": float(attrs.get("N", np.nan)),
            }
        )
    if not rows:
        raise ParameterError(
            f"MSP-IMPROV evaluation file {str(path)!r} has no line like "
            "'UTD-IMPROV-S01A-F01-P-FM01.avi; N; A:...'"
        )
    df = pd.DataFrame(rows).drop_duplicates("utterance_id", keep="first")
    return df.set_index("utterance_id")


def _read_transcripts(path):
    path = Path(path)
    if path.is_dir():
        return {p.stem: p.read_text().strip() for p in sorted(path.glob("*.txt"))}
    if path.is_file():
        t = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("utterance_id", "transcript"):
            if col not in t.columns:
                raise ParameterError(f"transcripts file {str(path)!r} lacks column {col!r}")
        return dict(zip(t["utterance_id"], t["transcript"]))
    raise ParameterError(f"transcripts={str(path)!r} is neither a CSV file nor a folder")


def mspimprov_manifest(
    root, labels="vote", evaluation=None, transcripts=None, drop_unlabelled=False,
    corpus="msp-improv",
):
    """Build a manifest from an MSP-IMPROV tree.

    Parameters
    ----------
    root : str or Path
        The release folder (``Audio/``, ``Video/``, ``Evalution.txt``).
    labels : {"vote", "intended"}
        Consensus category from the evaluation file, or the scenario's
        target emotion from the file name.
    evaluation : str or Path, optional
        The evaluation file; by default ``ROOT/Evalution.txt`` or ``ROOT/Evaluation.txt``.
    transcripts : str or Path, optional
        CSV (``utterance_id, transcript``) or folder of ``<id>.txt``.
    drop_unlabelled : bool
        Leave out clips with no usable label instead of keeping them unlabelled.
    corpus : str
        Value of the ``corpus`` column.

    Returns
    -------
    pandas.DataFrame
        Validated manifest, extra columns ``session, gender, sentence_index,
        target_emotion, scenario, scenario_type, turn`` (and with votes
        ``label_code, arousal, valence, dominance, naturalness``).
    """
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"MSP-IMPROV root {str(root)!r} is not a folder")
    if labels not in ("vote", "intended"):
        raise ParameterError(f"labels={labels!r} must be 'vote' or 'intended'")
    media = {}
    for sub, ext, key in (("Audio", ".wav", "audio_path"), ("Video", ".avi", "video_path")):
        base = root / sub
        if not base.is_dir():
            continue
        for p in sorted(base.rglob(f"*{ext}")):
            if p.name.startswith("."):
                continue
            info = parse_mspimprov_name(p)
            media.setdefault(info["utterance_id"], dict(info))[key] = str(p.resolve())
    if not media:
        raise ParameterError(
            f"MSP-IMPROV root {str(root)!r} holds no clips under Audio/ (.wav) or Video/ (.avi)"
        )
    table = None
    if labels == "vote":
        if evaluation is None:
            for name in ("Evalution.txt", "Evaluation.txt"):
                if (root / name).is_file():
                    evaluation = root / name
                    break
            else:
                raise ParameterError(
                    f"labels='vote' needs {str(root / 'Evalution.txt')!r} (or Evaluation.txt); "
                    "pass evaluation=PATH or labels='intended'"
                )
        table = read_mspimprov_evaluation(evaluation)
    texts = _read_transcripts(transcripts) if transcripts is not None else {}

    rows = []
    for uid in sorted(media):
        row = media[uid]
        row.setdefault("audio_path", "")
        row.setdefault("video_path", "")
        row["corpus"] = corpus
        row["transcript"] = texts.get(uid, "")
        if table is None:
            row["emotion"] = row["target_emotion"]
        elif uid in table.index:
            row.update(table.loc[uid].to_dict())
            row["emotion"] = row.pop("vote_emotion")
        else:
            row.update(emotion="", label_code="")
        rows.append(row)
    df = pd.DataFrame(rows)
    if drop_unlabelled:
        df = df[df["emotion"] != ""]
    if df.empty:
        raise ParameterError(f"MSP-IMPROV root {str(root)!r}: no clip left after filtering")
    return make_manifest(df.to_dict("records"))
