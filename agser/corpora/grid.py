"""GRID adapter: a manifest from GRID audio-visual sentence clips.

Layout assumed (the GRID corpus as distributed, one folder per talker)::

    ROOT/s1/bbaf2n.mpg          video (MPEG-1, 25 fps; ``video/s1/...`` also works)
    ROOT/s1/bbaf2n.wav          audio, optional (``audio_25k/s1/...`` also works)
    ROOT/s1/bbaf2n.align        word alignment, optional (``align/``, ``alignments/s1/``)

The tree is searched recursively; the talker is the nearest parent folder
named ``s<N>`` (``s1`` ... ``s34``), or ``speaker=`` when the clips sit in a
folder without one (as the LipNet samples do). Clips are matched across
folders by talker and file stem.

The six-letter stem encodes the sentence (:func:`decode_grid_sentence`):
command, colour, preposition, letter, digit, adverb. GRID is read, neutral
speech, so every clip's emotion is ``neutral``.

``.align`` files (``start end word`` per line, in ticks of 1/25000 s, i.e.
1000 ticks = one 25 fps frame) are word alignments, not phone TextGrids: they
go to the extra column ``word_alignment_path`` (read them with
:func:`read_grid_align`), and ``alignment_path`` stays empty so the phone
aligner runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from agser.corpora.manifest import make_manifest
from agser.errors import ParameterError

__all__ = ["GRID_WORDS", "GRID_FRAME_RATE", "decode_grid_sentence", "read_grid_align", "grid_manifest"]

#: Letter codes of each position of a GRID file name.
GRID_WORDS = (
    ("command", {"b": "bin", "l": "lay", "p": "place", "s": "set"}),
    ("colour", {"b": "blue", "g": "green", "r": "red", "w": "white"}),
    ("preposition", {"a": "at", "b": "by", "i": "in", "w": "with"}),
    ("letter", {c: c for c in "abcdefghijklmnopqrstuvxyz"}),  # no 'w' in GRID
    ("digit", {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four",
               "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine"}),
    ("adverb", {"a": "again", "n": "now", "p": "please", "s": "soon"}),
)
#: Video frame rate of GRID, frames per second.
GRID_FRAME_RATE = 25.0
#: Ticks per second in ``.align`` files.
ALIGN_TICKS_PER_SECOND = 25000.0

_SPEAKER = re.compile(r"^s\d+$")


def decode_grid_sentence(name):
    """The sentence a GRID file name encodes.

    Parameters
    ----------
    name : str or Path
        File name or stem, such as ``"bbaf2n.mpg"``.

    Returns
    -------
    str
        The six words, space separated, lower case.

    Raises
    ------
    ParameterError
        Naming the file and the position whose code is unknown.

    Examples
    --------
    >>> decode_grid_sentence("bbaf2n.mpg")
    'bin blue at f two now'
    >>> decode_grid_sentence("swwp2s")
    'set white with p two soon'
    """
    p = Path(str(name))
    stem = p.stem if p.suffix else p.name
    if len(stem) != 6:
        raise ParameterError(
            f"GRID file {str(name)!r}: the name must be 6 codes (command, colour, "
            "preposition, letter, digit, adverb), like bbaf2n"
        )
    words = []
    for code, (position, table) in zip(stem.lower(), GRID_WORDS):
        if code not in table:
            raise ParameterError(
                f"GRID file {str(name)!r}: unknown {position} code {code!r} "
                f"(known: {', '.join(table)})"
            )
        words.append(table[code])
    return " ".join(words)


def read_grid_align(path, keep_silence=False):
    """Read a GRID ``.align`` word alignment.

    Parameters
    ----------
    path : str or Path
    keep_silence : bool
        Keep the ``sil``/``sp`` entries.

    Returns
    -------
    pandas.DataFrame
        Columns ``label``, ``start``, ``end`` (seconds).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.align"
    >>> _ = p.write_text("0 12250 sil\\n12250 19250 set\\n")
    >>> read_grid_align(p).values.tolist()
    [['set', 0.49, 0.77]]
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"GRID alignment {str(path)!r} does not exist")
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ParameterError(f"GRID alignment {str(path)!r} line {i}: expected 'start end word'")
        start, end, label = parts
        if label in ("sil", "sp") and not keep_silence:
            continue
        rows.append({"label": label, "start": int(start) / ALIGN_TICKS_PER_SECOND,
                     "end": int(end) / ALIGN_TICKS_PER_SECOND})
    return pd.DataFrame(rows, columns=["label", "start", "end"])


def _talker(path, root, default):
    for parent in path.relative_to(root).parents:
        if _SPEAKER.match(parent.name):
            return parent.name
    if _SPEAKER.match(root.name):
        return root.name
    return default


def grid_manifest(root, speaker=None, corpus="grid"):
    """Build a manifest from GRID clips.

    Parameters
    ----------
    root : str or Path
        Folder searched recursively for ``.mpg``, ``.wav`` and ``.align`` files.
    speaker : str, optional
        Talker id for clips not under an ``s<N>/`` folder.
    corpus : str
        Value of the ``corpus`` column.

    Returns
    -------
    pandas.DataFrame
        Validated manifest (``utterance_id`` = ``<talker>_<stem>``), extra
        columns ``frame_rate`` (25 where there is video, else NaN), ``sentence`` (the stem) and
        ``word_alignment_path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "s1").mkdir()
    >>> (root / "s1" / "bbaf2n.mpg").touch()
    >>> grid_manifest(root).loc[0, ["utterance_id", "speaker", "transcript"]].tolist()
    ['s1_bbaf2n', 's1', 'bin blue at f two now']
    """
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"GRID root {str(root)!r} is not a folder")
    clips = {}
    kinds = {".mpg": "video_path", ".wav": "audio_path", ".align": "word_alignment_path"}
    for p in sorted(root.rglob("*")):
        key = kinds.get(p.suffix.lower())
        if key is None or p.name.startswith(".") or not p.is_file():
            continue
        talker = _talker(p, root, speaker)
        if talker is None:
            raise ParameterError(
                f"GRID file {str(p)!r} is not under an s<N>/ talker folder; pass speaker=ID, "
                "the talker of the clips in such a folder (e.g. speaker='s1')"
            )
        clips.setdefault((talker, p.stem), {})[key] = str(p.resolve())
    rows = []
    for (talker, stem), files in sorted(clips.items()):
        if "video_path" not in files and "audio_path" not in files:
            continue  # an alignment without its clip
        rows.append(
            {
                "utterance_id": f"{talker}_{stem}",
                "corpus": corpus,
                "speaker": talker,
                "emotion": "neutral",
                "transcript": decode_grid_sentence(stem),
                "audio_path": files.get("audio_path", ""),
                "video_path": files.get("video_path", ""),
                "frame_rate": GRID_FRAME_RATE if "video_path" in files else float("nan"),
                "sentence": stem,
                "word_alignment_path": files.get("word_alignment_path", ""),
            }
        )
    if not rows:
        raise ParameterError(f"GRID root {str(root)!r} holds no .mpg or .wav clips")
    return make_manifest(rows)
