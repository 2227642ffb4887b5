"""Praat TextGrids: the phone and word alignment of one utterance.

:func:`read_textgrid` reads the long ("text file") and short formats Praat,
the Montreal Forced Aligner and this package's simulator write; the tiers
named ``words`` and ``phones`` (MFA also writes ``"<speaker> - words"``) go
into an :class:`Alignment`. :func:`write_textgrid` writes the long format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from agser.errors import InputError, ParameterError

__all__ = ["Alignment", "read_textgrid", "write_textgrid", "SILENCE_LABELS"]

#: Interval labels that mean "no speech" and are dropped on read by default.
SILENCE_LABELS = frozenset(["", "sil", "sp", "spn", "<eps>", "<sil>"])


def _intervals(df):
    df = pd.DataFrame(df if df is not None else [], columns=None)
    if len(df.columns) == 0:
        df = pd.DataFrame({"label": [], "start": [], "end": []})
    out = pd.DataFrame(
        {
            "label": df["label"].astype(str).to_numpy(),
            "start": df["start"].astype(float).to_numpy(),
            "end": df["end"].astype(float).to_numpy(),
        }
    )
    return out.reset_index(drop=True)


@dataclass
class Alignment:
    """Word and phone intervals of one utterance.

    Parameters
    ----------
    words : pandas.DataFrame
        Columns ``label`` (str), ``start``, ``end`` (float, seconds).
    phones : pandas.DataFrame
        Same columns; labels are ARPAbet phones (with stress digits where the
        aligner gives them).
    duration : float, optional
        Length of the utterance in seconds (the TextGrid's ``xmax``); the last
        interval's end when not given.

    Examples
    --------
    >>> import pandas as pd
    >>> a = Alignment(pd.DataFrame({"label": ["hi"], "start": [0.1], "end": [0.4]}),
    ...               pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.2],
    ...                             "end": [0.2, 0.4]}))
    >>> a.duration
    0.4
    """

    words: pd.DataFrame
    phones: pd.DataFrame
    duration: float = field(default=None)

    def __post_init__(self):
        self.words = _intervals(self.words)
        self.phones = _intervals(self.phones)
        if self.duration is None:
            ends = np.concatenate([self.words["end"].to_numpy(), self.phones["end"].to_numpy()])
            self.duration = float(ends.max()) if ends.size else 0.0
        self.duration = float(self.duration)


def _fmt(x):
    return repr(round(float(x), 6))


def _quote(s):
    return '"' + str(s).replace('"', '""') + '"'


def _fill_gaps(df, xmax):
    """Interval list covering [0, xmax], gaps filled with empty labels."""
    rows, t = [], 0.0
    for label, start, end in df[["label", "start", "end"]].itertuples(index=False):
        start, end = float(start), float(end)
        if start > t + 1e-9:
            rows.append(("", t, start))
        rows.append((label, max(start, t), end))
        t = end
    if xmax > t + 1e-9 or not rows:
        rows.append(("", t, xmax))
    return rows


def write_textgrid(alignment, path):
    """Write an :class:`Alignment` as a Praat long-format TextGrid.

    Gaps between intervals become intervals with an empty label, as Praat
    requires a tier to cover the whole time range.

    Parameters
    ----------
    alignment : Alignment
    path : str or Path
        Output file (UTF-8); its folder is created.

    Examples
    --------
    >>> import tempfile, os, pandas as pd
    >>> a = Alignment(pd.DataFrame({"label": ["hi"], "start": [0.1], "end": [0.4]}),
    ...               pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.2],
    ...                             "end": [0.2, 0.4]}), duration=0.5)
    >>> p = os.path.join(tempfile.mkdtemp(), "a.TextGrid")
    >>> write_textgrid(a, p)
    >>> read_textgrid(p).phones["label"].tolist()
    ['HH', 'AY1']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    xmax = float(alignment.duration)
    out = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {_fmt(xmax)} ",
        "tiers? <exists> ",
        "size = 2 ",
        "item []: ",
    ]
    for k, (name, df) in enumerate((("words", alignment.words), ("phones", alignment.phones)), 1):
        rows = _fill_gaps(df, xmax)
        out += [
            f"    item [{k}]:",
            '        class = "IntervalTier" ',
            f"        name = {_quote(name)} ",
            "        xmin = 0 ",
            f"        xmax = {_fmt(xmax)} ",
            f"        intervals: size = {len(rows)} ",
        ]
        for j, (label, start, end) in enumerate(rows, 1):
            out += [
                f"        intervals [{j}]:",
                f"            xmin = {_fmt(start)} ",
                f"            xmax = {_fmt(end)} ",
                f"            text = {_quote(label)} ",
            ]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


_TOKEN = re.compile(
    r'"((?:[^"]|"")*)"'  # a string ("" escapes a quote)
    r"|(<exists>|<absent>)"  # a flag
    r"|\[\s*\d*\s*\]"  # an index such as [1]: a label, skipped
    r"|!.*"  # a comment to the end of the line
    r"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"  # a number
    r"|[A-Za-z_?][\w?]*"  # a key such as xmin: skipped
)


def _tokens(text):
    for m in _TOKEN.finditer(text):
        s, flag, num = m.group(1), m.group(2), m.group(3)
        if s is not None:
            yield s.replace('""', '"')
        elif flag is not None:
            yield flag
        elif num is not None:
            yield float(num)


def _parse(text, name):
    toks = list(_tokens(text))
    if len(toks) < 2 or toks[0] != "ooTextFile" or toks[1] != "TextGrid":
        raise InputError(f"{name}: not a Praat TextGrid", stage="phones")
    pos = 2
    try:
        _xmin, xmax = float(toks[pos]), float(toks[pos + 1])
        pos += 2
        if toks[pos] == "<absent>":
            return xmax, {}
        pos += 1  # <exists>
        n_tiers = int(toks[pos])
        pos += 1
        tiers = {}
        for _ in range(n_tiers):
            cls, tier_name = toks[pos], toks[pos + 1]
            n = int(toks[pos + 4])
            pos += 5
            if cls == "IntervalTier":
                rows = [
                    (toks[pos + 3 * j + 2], float(toks[pos + 3 * j]), float(toks[pos + 3 * j + 1]))
                    for j in range(n)
                ]
                pos += 3 * n
            else:  # TextTier: points (time, mark), kept as zero-length intervals
                rows = [(toks[pos + 2 * j + 1], float(toks[pos + 2 * j]), float(toks[pos + 2 * j])) for j in range(n)]
                pos += 2 * n
            tiers[str(tier_name)] = pd.DataFrame(rows, columns=["label", "start", "end"])
    except (IndexError, ValueError, TypeError) as exc:
        raise InputError(f"{name}: malformed TextGrid ({exc})", stage="phones") from exc
    return xmax, tiers


def _find_tier(tiers, want, name):
    for tier_name, df in tiers.items():
        key = tier_name.strip().lower()
        if key == want or key.endswith(" - " + want) or key.endswith("-" + want):
            return df
    raise InputError(
        f"{name}: no tier named {want!r} (tiers: {', '.join(map(repr, tiers)) or 'none'})",
        stage="phones",
    )


def read_textgrid(path, keep_silence=False, words_tier="words", phones_tier="phones"):
    """Read the word and phone tiers of a TextGrid.

    Parameters
    ----------
    path : str or Path
        Long- or short-format TextGrid (UTF-8, or UTF-16 with a byte-order mark).
    keep_silence : bool
        Keep intervals labelled ``""``, ``sil``, ``sp``, ``spn`` (default: drop).
    words_tier, phones_tier : str
        Tier names; a tier ``"<speaker> - words"`` (MFA, several speakers) matches too.

    Returns
    -------
    Alignment

    Raises
    ------
    ParameterError
        If the file does not exist.
    InputError
        If it is not a TextGrid or lacks one of the tiers (stage ``"phones"``).
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"TextGrid {str(path)!r} does not exist")
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        text = raw.decode("utf-8-sig", errors="replace")
    xmax, tiers = _parse(text, path.name)
    out = []
    for want in (words_tier, phones_tier):
        df = _find_tier(tiers, want, path.name)
        df = df.assign(label=df["label"].astype(str).str.strip())
        if not keep_silence:
            df = df[~df["label"].str.lower().isin(SILENCE_LABELS)]
        out.append(df.reset_index(drop=True))
    return Alignment(out[0], out[1], duration=xmax)
