"""The simulator's articulatory truth on disk: one CSV per utterance.

``<corpus>/articulation/<uid>.csv`` holds, at every video frame of the
utterance, the articulatory state (see
:mod:`~agser.corpora.simulator.articulation`) from which its audio was
synthesised: the same continuous trajectories the synthesiser sampled at
200 Hz, sampled at the frame times of the landmark CSV. It is what an oracle
(a segment's true articulation) is built from; with ``decouple_gestures`` the
face shows another utterance's articulation, but this file stays the audio's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from agser.corpora.simulator.articulation import PARAMS
from agser.errors import InputError, ParameterError

__all__ = ["ARTICULATION_COLUMNS", "write_articulation", "read_articulation"]

#: Columns of an articulation file: frame time (s), then every articulatory
#: parameter (``tongue`` and ``rhotic`` are acoustic only: not visible on the lips).
ARTICULATION_COLUMNS = ("time",) + PARAMS
#: The columns a file must have; ``tongue`` and ``rhotic`` are optional.
_REQUIRED = ("time", "jaw", "spread", "round", "closure")


def write_articulation(frame_state, path):
    """Write the articulatory state at the video frames as a CSV.

    Parameters
    ----------
    frame_state : dict of str -> numpy.ndarray, shape (T,)
        ``time`` (s) and every name in
        :data:`~agser.corpora.simulator.articulation.PARAMS`
        (``simulate_utterance(...)["frame_state"]``).
    path : str or Path
        Output file; its folder must exist.

    Notes
    -----
    ``time`` is written with 3 decimals, as the landmark CSV writes its
    timestamps, so the rows of both files match by their text; the
    parameters with 6 decimals (their range is about -1 .. 1.2), which keeps
    the files byte-identical across machines whose last floating-point bits differ.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> st = {k: np.zeros(2) for k in ARTICULATION_COLUMNS}
    >>> st["time"] = np.array([0.0, 1 / 30])
    >>> p = os.path.join(tempfile.mkdtemp(), "u.csv")
    >>> write_articulation(st, p)
    >>> open(p).read().splitlines()[:2]
    ['time,jaw,spread,round,closure,tongue,rhotic', '0.000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000']
    """
    t = np.asarray(frame_state["time"], float)
    values = np.column_stack([np.asarray(frame_state[p], float) for p in PARAMS])
    body = np.char.mod("%.6f", values)
    lines = [",".join(ARTICULATION_COLUMNS)]
    lines += [f"{t[k]:.3f}," + ",".join(body[k]) for k in range(len(t))]
    Path(path).write_text("\n".join(lines) + "\n")


def read_articulation(path):
    """Read one utterance's articulatory truth (``articulation_path`` of a simulated manifest).

    Parameters
    ----------
    path : str or Path
        An articulation CSV written by :func:`~agser.corpora.simulator.simulate`.

    Returns
    -------
    pandas.DataFrame
        One row per video frame: ``time`` (s, the landmark CSV's timestamps),
        ``jaw``, ``spread``, ``round``, ``closure`` and, where the file has
        them, ``tongue`` and ``rhotic``; all float.

    Raises
    ------
    ParameterError
        The file does not exist.
    InputError
        The file is not an articulation CSV: unreadable, a missing column, no
        rows, a value that is not a number (a truncated last row), or times
        that do not increase. The message names the file.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "u.csv")
    >>> _ = open(p, "w").write("time,jaw,spread,round,closure\\n0.000,0.1,0,0,0.6\\n0.040,0.2,0,0,0.5\\n")
    >>> read_articulation(p)["jaw"].tolist()
    [0.1, 0.2]
    >>> _ = open(p, "w").write("time,jaw\\n0.000,0.1\\n")
    >>> read_articulation(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agser.errors.InputError: articulation file ...u.csv lacks column(s) 'spread', 'round', 'closure'
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"articulation file {str(path)!r} does not exist")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"articulation file {path}: unreadable CSV ({exc})",
                         stage="articulation") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"articulation file {path} lacks column(s) "
                         f"{', '.join(repr(c) for c in missing)}", stage="articulation")
    if not len(df):
        raise InputError(f"articulation file {path}: no frames", stage="articulation")
    cols = [c for c in ARTICULATION_COLUMNS if c in df.columns]
    out = df[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    bad = out.isna().any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        col = next(c for c in cols if np.isnan(out.at[i, c]))
        raise InputError(f"articulation file {path}: row {i + 1}, column {col!r} is not a number "
                         f"({df.at[i, col]!r}; truncated file?)", stage="articulation")
    if (np.diff(out["time"].to_numpy()) <= 0).any():
        raise InputError(f"articulation file {path}: times do not increase", stage="articulation")
    return out
