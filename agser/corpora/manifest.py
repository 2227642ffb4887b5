"""The manifest: one row per utterance, with a fixed, validated schema."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from agser.errors import ParameterError

__all__ = [
    "MANIFEST_COLUMNS",
    "PATH_COLUMNS",
    "EMOTIONS",
    "CORPUS_CODES",
    "validate_manifest",
    "read_manifest",
    "write_manifest",
    "make_manifest",
    "attach_files",
]

#: Required columns, in order. Extra columns are kept as they are.
MANIFEST_COLUMNS = (
    "utterance_id",
    "corpus",
    "speaker",
    "emotion",
    "transcript",
    "audio_path",
    "video_path",
    "landmarks_path",
    "alignment_path",
)
PATH_COLUMNS = ("audio_path", "video_path", "landmarks_path", "alignment_path")
#: Allowed emotion labels; the empty string means "unlabelled".
EMOTIONS = ("neutral", "anger", "happiness", "sadness", "disgust", "fear")
#: One-letter codes used in direction names such as ``C->I``.
CORPUS_CODES = {
    "crema-d": "C",
    "msp-improv": "I",
    "sim-crema": "C",
    "sim-improv": "I",
    "grid": "G",
}


def make_manifest(rows):
    """Build a validated manifest from a list of dicts.

    Missing optional columns are filled with the empty string.

    Parameters
    ----------
    rows : list of dict
        One dict per utterance with at least ``utterance_id`` and ``corpus``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> m = make_manifest([{"utterance_id": "u1", "corpus": "c", "speaker": "s1",
    ...                     "emotion": "anger", "transcript": "hi", "audio_path": "u1.wav"}])
    >>> list(m.columns[:4]), m.at[0, "video_path"]
    (['utterance_id', 'corpus', 'speaker', 'emotion'], '')
    """
    df = pd.DataFrame(list(rows))
    for col in MANIFEST_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    extra = [c for c in df.columns if c not in MANIFEST_COLUMNS]
    return validate_manifest(df[list(MANIFEST_COLUMNS) + extra])


def validate_manifest(df):
    """Check a manifest and return it with clean string columns.

    Parameters
    ----------
    df : pandas.DataFrame
        Candidate manifest.

    Returns
    -------
    pandas.DataFrame
        The same rows, index reset, the required columns as ``str``.

    Raises
    ------
    ParameterError
        Naming the missing column, or the offending row and column.

    Examples
    --------
    >>> import pandas as pd
    >>> bad = pd.DataFrame({"utterance_id": ["a"], "corpus": ["c"]})
    >>> validate_manifest(bad)
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: manifest is missing column 'speaker'
    """
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"manifest must be a pandas DataFrame, got {type(df).__name__}")
    for col in MANIFEST_COLUMNS:
        if col not in df.columns:
            raise ParameterError(f"manifest is missing column {col!r}")
    df = df.reset_index(drop=True).copy()
    for col in MANIFEST_COLUMNS:
        df[col] = df[col].fillna("").astype(str).str.strip()
    # extra path columns (e.g. GRID's word_alignment_path) are empty, not NaN,
    # on rows of a corpus that lacks them
    for col in _path_columns(df)[len(PATH_COLUMNS):]:
        df[col] = df[col].fillna("").astype(str).str.strip()
    for col in ("utterance_id", "corpus", "speaker"):
        empty = df.index[df[col] == ""]
        if len(empty):
            i = int(empty[0])
            raise ParameterError(f"manifest row {i}: column {col!r} is empty")
    dup = df["utterance_id"].duplicated()
    if dup.any():
        i = int(dup.idxmax())
        raise ParameterError(
            f"manifest row {i}: column 'utterance_id' repeats {df.at[i, 'utterance_id']!r}"
        )
    bad = ~df["emotion"].isin(EMOTIONS + ("",))
    if bad.any():
        i = int(bad.idxmax())
        raise ParameterError(
            f"manifest row {i}: column 'emotion' has unknown label {df.at[i, 'emotion']!r}; "
            f"allowed: {', '.join(EMOTIONS)} or empty"
        )
    no_media = (df["audio_path"] == "") & (df["video_path"] == "") & (df["landmarks_path"] == "")
    if no_media.any():
        i = int(no_media.idxmax())
        raise ParameterError(
            f"manifest row {i} ({df.at[i, 'utterance_id']!r}): columns 'audio_path', "
            "'video_path' and 'landmarks_path' are all empty"
        )
    return df


def _path_columns(df):
    """The required path columns plus any extra column whose name ends in ``_path``."""
    return list(PATH_COLUMNS) + [
        c for c in df.columns if c.endswith("_path") and c not in PATH_COLUMNS
    ]


def read_manifest(path):
    """Read and validate ``manifest.csv``; relative paths become absolute.

    Parameters
    ----------
    path : str or Path
        The CSV file. Relative paths in it (the path columns and any extra
        column ending in ``_path``) are taken relative to its folder.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"manifest {str(path)!r} does not exist")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = validate_manifest(df)
    base = path.resolve().parent
    for col in _path_columns(df):
        df[col] = [
            (p if (p == "" or os.path.isabs(p)) else str(base / p)) for p in df[col]
        ]
    return df


def write_manifest(df, path, relative=True):
    """Validate and write a manifest; paths under its folder are written relative.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path
    relative : bool
        Write paths under the manifest's folder relative to it, so the tree can move.
    """
    df = validate_manifest(df)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.copy()
    if relative:
        base = path.resolve().parent
        for col in _path_columns(out):
            vals = []
            for p in out[col]:
                if p and os.path.isabs(p):
                    try:
                        p = str(Path(p).resolve().relative_to(base))
                    except ValueError:
                        pass
                vals.append(p)
            out[col] = vals
    tmp = path.with_suffix(path.suffix + ".tmp")
    out.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def attach_files(manifest, column, folder, suffix, missing="error", recursive=False):
    """Fill a path column from a folder of per-utterance files named ``<utterance_id><suffix>``.

    The way to add what another tool wrote to a corpus manifest: OpenFace's
    ``FeatureExtraction -out_dir DIR`` writes ``DIR/<video stem>.csv`` and the
    Montreal Forced Aligner ``DIR/<audio stem>.TextGrid`` (in sub-folders
    mirroring its input corpus, hence ``recursive``); the CREMA-D and
    MSP-IMPROV adapters' utterance ids are those stems.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A manifest (:func:`validate_manifest`).
    column : str
        The column to fill (``landmarks_path``, ``alignment_path``, ...); its
        name must end in ``_path``, so that :func:`write_manifest` and
        :func:`read_manifest` treat it as a path.
    folder : str or Path
        Where the files are.
    suffix : str
        What follows the utterance id in a file's name (``".csv"``, ``".TextGrid"``).
    missing : {"error", "empty"}
        An utterance without a file: raise (naming how many and the first
        few expected files), or leave its column empty (a new column) or as
        it was.
    recursive : bool
        Look in the sub-folders of ``folder`` too. A name found twice is an
        error (naming both files).

    Returns
    -------
    pandas.DataFrame
        A validated copy of ``manifest`` with ``column`` holding the absolute
        path of each utterance's file.

    Raises
    ------
    ParameterError
        ``folder`` is not a folder, ``column`` or ``missing`` is not allowed,
        an utterance has no file (``missing="error"``), or a name is found
        twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "u1.TextGrid").write_text("")
    >>> m = make_manifest([{"utterance_id": u, "corpus": "c", "speaker": "s", "audio_path": f"{u}.wav"}
    ...                    for u in ("u1", "u2")])
    >>> out = attach_files(m, "alignment_path", folder, ".TextGrid", missing="empty")
    >>> [pathlib.Path(p).name if p else "" for p in out["alignment_path"]]
    ['u1.TextGrid', '']
    >>> attach_files(m, "alignment_path", folder, ".TextGrid")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: alignment_path: 1 of 2 utterances have no file <utterance_id>.TextGrid in '...': ...u2.TextGrid
    """
    df = validate_manifest(manifest)
    if not str(column).endswith("_path"):
        raise ParameterError(f"column={column!r} must be a path column (a name ending in '_path')")
    if missing not in ("error", "empty"):
        raise ParameterError(f"missing={missing!r} must be 'error' or 'empty'")
    if not suffix:
        raise ParameterError(f"suffix={suffix!r} must be the end of the file names, e.g. '.csv'")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ParameterError(f"{column}: folder {str(folder)!r} is not a folder")
    root = root.resolve()
    found = {}
    walk = os.walk(root) if recursive else [(str(root), None, os.listdir(root))]
    for base, _, names in walk:
        for name in names:
            if not name.endswith(suffix) or name.startswith("."):
                continue
            path = os.path.join(base, name)
            if not os.path.isfile(path):
                continue
            if name in found:
                raise ParameterError(f"{column}: {name!r} is found twice under {str(root)!r}: "
                                     f"{found[name]} and {path}")
            found[name] = path
    paths = [found.get(f"{uid}{suffix}") for uid in df["utterance_id"]]
    absent = [uid for uid, p in zip(df["utterance_id"], paths) if p is None]
    if absent and missing == "error":
        shown = ", ".join(str(root / f"{uid}{suffix}") for uid in absent[:3])
        more = f" and {len(absent) - 3} more" if len(absent) > 3 else ""
        raise ParameterError(f"{column}: {len(absent)} of {len(df)} utterances have no file "
                             f"<utterance_id>{suffix} in {str(root)!r}: {shown}{more}")
    old = df[column].fillna("").astype(str) if column in df.columns else pd.Series("", index=df.index)
    df[column] = [p if p is not None else o for p, o in zip(paths, old)]
    return validate_manifest(df)
