"""Generic CSV adapter: any table of utterances -> a validated manifest.

The CSV needs the manifest columns (:data:`agser.corpora.MANIFEST_COLUMNS`)
or a mapping from manifest column to its own column names. Optional manifest
columns that are absent are filled with the empty string; a ``corpus``
column may be replaced by ``corpus=``. Relative media paths are taken
relative to the CSV's folder (as :func:`agser.corpora.read_manifest` does)
and made absolute. Extra columns are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from agser.corpora.manifest import MANIFEST_COLUMNS, PATH_COLUMNS, make_manifest
from agser.errors import ParameterError

__all__ = ["csv_manifest"]

_REQUIRED = ("utterance_id", "speaker")


def csv_manifest(path, columns=None, corpus=None, emotion_map=None, sep=","):
    """Read a CSV of utterances as a manifest.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    columns : dict, optional
        ``{manifest_column: csv_column}`` for columns named differently in
        the CSV, e.g. ``{"utterance_id": "file", "emotion": "label"}``.
    corpus : str, optional
        Corpus name for every row (required when the CSV has no corpus column).
    emotion_map : dict, optional
        Relabelling of the CSV's emotion values, e.g. ``{"ang": "anger"}``;
        values absent from the map are kept as they are (then validated).
    sep : str
        Field separator.

    Returns
    -------
    pandas.DataFrame
        Validated manifest with absolute media paths.

    Raises
    ------
    ParameterError
        Missing file, a mapped column absent from the CSV, a required column
        missing, or a validation error naming row and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "list.csv").write_text("file,who,label,wav\\nu1,spk1,ang,a/u1.wav\\n")
    >>> m = csv_manifest(d / "list.csv", corpus="mine", emotion_map={"ang": "anger"},
    ...                  columns={"utterance_id": "file", "speaker": "who",
    ...                           "emotion": "label", "audio_path": "wav"})
    >>> m.loc[0, ["utterance_id", "corpus", "emotion"]].tolist()
    ['u1', 'mine', 'anger']
    >>> m.loc[0, "audio_path"] == str(d.resolve() / "a" / "u1.wav")
    True
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"CSV manifest {str(path)!r} does not exist")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)
    columns = dict(columns or {})
    unknown = [k for k in columns if k not in MANIFEST_COLUMNS]
    if unknown:
        raise ParameterError(
            f"columns mapping names {', '.join(map(repr, unknown))}, which are not manifest "
            f"columns ({', '.join(MANIFEST_COLUMNS)})"
        )
    absent = [v for v in columns.values() if v not in df.columns]
    if absent:
        raise ParameterError(
            f"CSV manifest {str(path)!r} has no column {absent[0]!r} (named in the columns "
            f"mapping); it has {', '.join(df.columns)}"
        )
    df = df.rename(columns={v: k for k, v in columns.items()})
    if corpus is not None:
        df["corpus"] = corpus
    elif "corpus" not in df.columns:
        raise ParameterError(f"CSV manifest {str(path)!r} has no 'corpus' column; pass corpus=NAME")
    for col in _REQUIRED:
        if col not in df.columns:
            raise ParameterError(f"CSV manifest {str(path)!r} is missing column {col!r}")
    if emotion_map and "emotion" in df.columns:
        df["emotion"] = [emotion_map.get(e, e) for e in df["emotion"]]
    base = path.resolve().parent
    for col in PATH_COLUMNS:
        if col in df.columns:
            df[col] = [
                "" if not p.strip() else (p.strip() if os.path.isabs(p.strip()) else str(base / p.strip()))
                for p in df[col]
            ]
    return make_manifest(df.to_dict("records"))
