"""CREMA-D adapter: a manifest from the official CREMA-D tree.

Layout assumed (the official release, CheyneyComputerScience/CREMA-D)::

    ROOT/AudioWAV/1001_DFA_ANG_XX.wav      16 kHz WAV (preferred audio)
    ROOT/AudioMP3/1001_DFA_ANG_XX.mp3      44.1 kHz MP3 (audio when no WAV)
    ROOT/VideoFlash/1001_DFA_ANG_XX.flv    480x360 VP6 video at 29.97 fps
    ROOT/processedResults/tabulatedVotes.csv   (or ROOT/tabulatedVotes.csv)
    ROOT/VideoDemographics.csv                 (optional: age, sex, race, ethnicity)

When none of the three media folders exists, the media files are looked for
directly in ``ROOT`` (the layout :func:`agser.corpora.samples.fetch_samples`
writes).

File names are ``ActorID_Sentence_Emotion_Level``: four-digit actor, one of
the 12 sentence codes (:data:`SENTENCES`), an emotion code
(:data:`EMOTION_CODES`) and an intensity level (LO, MD, HI or XX =
unspecified).

Labels
------
``labels="intended"`` takes the emotion the actor was asked to portray (from
the file name). ``labels="vote"`` takes the raters' plurality vote from
``tabulatedVotes.csv``: that file holds one row per clip and modality, the
first digit of its unnamed first column being the modality (1 = voice only,
2 = face only, 3 = audio-visual; checked against ``summaryTable.csv``'s
``VoiceVote``/``FaceVote``/``MultiModalVote``). The vote is the category with
the most of the per-category counts ``A, D, F, H, N, S``. A tie between
categories (``emoVote`` like ``N:S``) gives no label: the emotion is empty
(unlabelled, usable as unlabelled target data) unless ``drop_ties=True``
drops the row. A clip absent from the table is unlabelled too. Either way the
intended emotion stays in the ``intended_emotion`` column and the raw vote in
``vote`` (``vote_agreement`` = share of raters who chose the winning label).

Known-bad clips
---------------
The corpus README lists four broken clips (:data:`KNOWN_BAD`). They are kept
and flagged (``flag="bad"``, ``flag_reason``), so a later stage can report
them; ``drop_flagged=True`` leaves them out.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from agser.corpora.manifest import make_manifest
from agser.errors import ParameterError

__all__ = [
    "SENTENCES",
    "EMOTION_CODES",
    "LEVELS",
    "KNOWN_BAD",
    "CREMAD_FRAME_RATE",
    "parse_cremad_name",
    "read_cremad_votes",
    "cremad_manifest",
]

#: The 12 sentence codes and their texts (CREMA-D README).
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
#: File-name emotion codes -> manifest labels.
EMOTION_CODES = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
#: Vote letters of tabulatedVotes.csv -> manifest labels.
VOTE_CODES = {
    "A": "anger",
    "D": "disgust",
    "F": "fear",
    "H": "happiness",
    "N": "neutral",
    "S": "sadness",
}
#: Intensity levels: low, medium, high, unspecified.
LEVELS = ("LO", "MD", "HI", "XX")
#: Clips the corpus README reports as broken, with its reason.
KNOWN_BAD = {
    "1076_MTI_NEU_XX": "very short clip with no audio (CREMA-D README)",
    "1076_MTI_SAD_XX": "error picture and no audio (CREMA-D README)",
    "1064_TIE_SAD_XX": "file with no duration (CREMA-D README)",
    "1064_IEO_DIS_MD": "one minute long, mixes all emotions (CREMA-D README)",
}
#: Frame rate of the VideoFlash clips, frames per second.
CREMAD_FRAME_RATE = 29.97
#: Modality digit of tabulatedVotes.csv's first column.
VOTE_MODALITIES = {"audio": "1", "video": "2", "audio-visual": "3"}

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
_MEDIA = {".wav": "wav", ".mp3": "mp3", ".flv": "flv"}
_FOLDERS = {"AudioWAV": ".wav", "AudioMP3": ".mp3", "VideoFlash": ".flv"}


def parse_cremad_name(name):
    """Split a CREMA-D file name into its fields.

    Parameters
    ----------
    name : str or Path
        File name or stem, such as ``"1001_DFA_ANG_XX.flv"``.

    Returns
    -------
    dict
        ``utterance_id, speaker, sentence, transcript, emotion, level``.

    Raises
    ------
    ParameterError
        When the name does not follow ``ActorID_Sentence_Emotion_Level`` or
        uses an unknown code; the message names the file.

    Examples
    --------
    >>> d = parse_cremad_name("1001_DFA_ANG_XX.flv")
    >>> d["speaker"], d["transcript"], d["emotion"], d["level"]
    ('1001', "Don't forget a jacket", 'anger', 'XX')
    >>> parse_cremad_name("1001_DFA_BOR_XX.wav")
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: CREMA-D file '1001_DFA_BOR_XX.wav': unknown emotion code 'BOR' (known: ANG, DIS, FEA, HAP, NEU, SAD)
    """
    shown = str(name)
    fname = Path(name).name
    stem = fname
    if Path(fname).suffix.lower() in _MEDIA:
        stem = Path(fname).stem
    m = _NAME.match(stem)
    if not m:
        raise ParameterError(
            f"CREMA-D file {shown!r}: name is not ActorID_Sentence_Emotion_Level "
            "(like 1001_DFA_ANG_XX)"
        )
    actor, sentence, emo, level = m.groups()
    if sentence not in SENTENCES:
        raise ParameterError(
            f"CREMA-D file {shown!r}: unknown sentence code {sentence!r} "
            f"(known: {', '.join(SENTENCES)})"
        )
    if emo not in EMOTION_CODES:
        raise ParameterError(
            f"CREMA-D file {shown!r}: unknown emotion code {emo!r} "
            f"(known: {', '.join(EMOTION_CODES)})"
        )
    if level not in LEVELS:
        raise ParameterError(
            f"CREMA-D file {shown!r}: unknown level {level!r} (known: {', '.join(LEVELS)})"
        )
    return {
        "utterance_id": stem,
        "speaker": actor,
        "sentence": sentence,
        "transcript": SENTENCES[sentence],
        "emotion": EMOTION_CODES[emo],
        "level": level,
    }


def read_cremad_votes(path, modality="audio-visual"):
    """The raters' plurality vote per clip from ``tabulatedVotes.csv``.

    Parameters
    ----------
    path : str or Path
        The official ``tabulatedVotes.csv``.
    modality : {"audio-visual", "audio", "video"}
        Which rating condition to use: raters who saw and heard the clip,
        heard it only, or saw it only.

    Returns
    -------
    pandas.DataFrame
        Indexed by clip name, columns ``vote`` (winning letter(s), ``"N:S"``
        for a tie), ``vote_emotion`` (manifest label, empty for a tie),
        ``vote_agreement`` (share of raters who chose the winner, 0-1) and
        ``vote_responses`` (number of raters).
    """
    path = Path(path)
    if modality not in VOTE_MODALITIES:
        raise ParameterError(
            f"vote_modality={modality!r} must be one of {', '.join(VOTE_MODALITIES)}"
        )
    if not path.is_file():
        raise ParameterError(f"CREMA-D votes file {str(path)!r} does not exist")
    t = pd.read_csv(path, dtype={0: str}, keep_default_na=False)
    letters = list(VOTE_CODES)
    need = letters + ["fileName"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise ParameterError(
            f"CREMA-D votes file {str(path)!r} lacks column(s) {', '.join(missing)}; "
            "expected the official tabulatedVotes.csv"
        )
    first = t.columns[0]
    t = t[t[first].astype(str).str[0] == VOTE_MODALITIES[modality]]
    counts = t[letters].to_numpy(dtype=float)
    top = counts.max(axis=1, keepdims=True)
    winners = (counts == top) & (top > 0)
    votes = [":".join(np.array(letters)[w]) for w in winners]
    total = counts.sum(axis=1)
    out = pd.DataFrame(
        {
            "vote": votes,
            "vote_emotion": [VOTE_CODES.get(v, "") for v in votes],
            "vote_agreement": np.where(total > 0, top[:, 0] / np.maximum(total, 1), np.nan),
            "vote_responses": total.astype(int),
        },
        index=pd.Index(t["fileName"].astype(str).to_numpy(), name="utterance_id"),
    )
    return out


def _find(root, names):
    for name in names:
        p = root / name
        if p.is_file():
            return p
    return None


def cremad_manifest(
    root,
    labels="intended",
    votes=None,
    vote_modality="audio-visual",
    drop_ties=False,
    drop_flagged=False,
    corpus="crema-d",
):
    """Build a manifest from a CREMA-D tree.

    Parameters
    ----------
    root : str or Path
        The CREMA-D folder (see the module docstring for the layout).
    labels : {"intended", "vote"}
        Intended emotion from the file name, or the raters' plurality vote.
    votes : str or Path, optional
        ``tabulatedVotes.csv``; by default ``ROOT/processedResults/`` or ``ROOT/``.
    vote_modality : {"audio-visual", "audio", "video"}
        Rating condition for ``labels="vote"``.
    drop_ties : bool
        With ``labels="vote"``, drop clips whose vote is a tie instead of
        keeping them unlabelled.
    drop_flagged : bool
        Leave out the known-bad clips instead of flagging them.
    corpus : str
        Value of the ``corpus`` column.

    Returns
    -------
    pandas.DataFrame
        A validated manifest, one row per clip (sorted by id), with extra
        columns ``sentence``, ``level``, ``intended_emotion``, ``frame_rate``
        (29.97 where there is video, else NaN), ``flag``, ``flag_reason``,
        and, when found, ``age``, ``sex``, ``race``, ``ethnicity`` (from
        ``VideoDemographics.csv``) and the vote columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "VideoFlash").mkdir()
    >>> (root / "VideoFlash" / "1001_DFA_ANG_XX.flv").touch()
    >>> m = cremad_manifest(root)
    >>> m.loc[0, ["utterance_id", "speaker", "emotion", "transcript"]].tolist()
    ['1001_DFA_ANG_XX', '1001', 'anger', "Don't forget a jacket"]
    """
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"CREMA-D root {str(root)!r} is not a folder")
    if labels not in ("intended", "vote"):
        raise ParameterError(f"labels={labels!r} must be 'intended' or 'vote'")

    media = {}  # utterance id -> {"wav": path, "mp3": path, "flv": path}
    folders = [(root / f, ext) for f, ext in _FOLDERS.items() if (root / f).is_dir()]
    if not folders:
        folders = [(root, ext) for ext in _FOLDERS.values()]
    for folder, ext in folders:
        for p in sorted(folder.iterdir()):
            # macOS resource forks and other hidden files are not clips.
            if p.name.startswith(".") or not p.is_file() or p.suffix.lower() != ext:
                continue
            media.setdefault(p.stem, {})[_MEDIA[ext]] = p.resolve()
    if not media:
        raise ParameterError(
            f"CREMA-D root {str(root)!r} holds no .wav/.mp3/.flv clips "
            "(in AudioWAV/, AudioMP3/, VideoFlash/ or the folder itself)"
        )

    vote_table = None
    if labels == "vote":
        if votes is None:
            votes = _find(root, ["processedResults/tabulatedVotes.csv", "tabulatedVotes.csv"])
            if votes is None:
                raise ParameterError(
                    f"labels='vote' needs tabulatedVotes.csv: not found in "
                    f"{str(root / 'processedResults')!r} or {str(root)!r}; pass votes=PATH"
                )
        vote_table = read_cremad_votes(votes, modality=vote_modality)

    demo = None
    demo_path = _find(root, ["VideoDemographics.csv", "processedResults/VideoDemographics.csv"])
    if demo_path is not None:
        demo = pd.read_csv(demo_path, dtype=str, keep_default_na=False)
        demo = demo.set_index("ActorID")

    rows = []
    for uid in sorted(media):
        files = media[uid]
        row = parse_cremad_name(next(iter(files.values())))
        audio = files.get("wav") or files.get("mp3")
        video = files.get("flv")
        row.update(
            corpus=corpus,
            audio_path=str(audio) if audio else "",
            video_path=str(video) if video else "",
            intended_emotion=row["emotion"],
            frame_rate=CREMAD_FRAME_RATE if video else np.nan,
            flag="bad" if uid in KNOWN_BAD else "",
            flag_reason=KNOWN_BAD.get(uid, ""),
        )
        if vote_table is not None:
            if uid in vote_table.index:
                v = vote_table.loc[uid]
                row.update(
                    emotion=v["vote_emotion"],
                    vote=v["vote"],
                    vote_agreement=float(v["vote_agreement"]),
                    vote_responses=int(v["vote_responses"]),
                )
            else:
                row.update(emotion="", vote="", vote_agreement=np.nan, vote_responses=0)
        if demo is not None and row["speaker"] in demo.index:
            d = demo.loc[row["speaker"]]
            row.update(
                age=d.get("Age", ""),
                sex=d.get("Sex", ""),
                race=d.get("Race", ""),
                ethnicity=d.get("Ethnicity", ""),
            )
        rows.append(row)

    df = pd.DataFrame(rows)
    if drop_flagged:
        df = df[df["flag"] == ""]
    if labels == "vote" and drop_ties:
        df = df[~df["vote"].str.contains(":", regex=False)]
    if df.empty:
        raise ParameterError(f"CREMA-D root {str(root)!r}: no clip left after filtering")
    return make_manifest(df.to_dict("records"))
