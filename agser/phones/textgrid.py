"""Praat TextGrids: the phone and word alignment of one utterance.

:func:`read_textgrid` reads the long ("text file") and short formats Praat,
the Montreal Forced Aligner (MFA) and this package's simulator write; the
tiers named ``words`` and ``phones`` (MFA also writes ``"<speaker> - words"``)
go into an :class:`Alignment`. :func:`write_textgrid` writes the long format.
Both go through `praatio <https://github.com/timmahrt/praatIO>`_, the library
MFA itself reads and writes TextGrids with; this module adds what a corpus
run needs on top: the checks that turn a truncated or malformed file into an
:class:`~agser.errors.InputError` naming it (praatio returns a truncated
tier as if it were whole), and the phone set.

Phone sets: MFA 3 writes ARPAbet (``english_us_arpa``) or its IPA phone set
(``english_mfa``, the default). ``read_textgrid(..., phone_set="auto")``
tells them apart per file (:func:`agser.phones.ipa.detect_phone_set`) and
returns ARPAbet either way, IPA phones mapped by
:func:`agser.phones.ipa.ipa_to_arpabet` (``ɑː`` -> ``AA``, ``ə`` ->
``AH0``); the file's phone set is kept in ``Alignment.phone_set``.

What praatio cannot do, measured on this package's inputs: numbers in
exponent notation (``xmin = 1e-05``) stop its parser, and a long-format file
must have the blank line after ``Object class = "TextGrid"`` (it reads the
header by line position). Praat and MFA write neither. Speed is no reason
against it: on the 240 TextGrids of the default run's corpora it reads about
3 ms per file, as fast as the hand-written parser it replaced (2.6-3.0 ms).
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
    phone_set : {"arpabet", "ipa"}
        The phone set the source wrote (``"ipa"``: an MFA IPA TextGrid whose
        phones were mapped to ARPAbet on read).

    Examples
    --------
    >>> import pandas as pd
    >>> a = Alignment(pd.DataFrame({"label": ["hi"], "start": [0.1], "end": [0.4]}),
    ...               pd.DataFrame({"label": ["HH", "AY1"], "start": [0.1, 0.2],
    ...                             "end": [0.2, 0.4]}))
    >>> a.duration, a.phone_set
    (0.4, 'arpabet')
    """

    words: pd.DataFrame
    phones: pd.DataFrame
    duration: float = field(default=None)
    phone_set: str = "arpabet"

    def __post_init__(self):
        self.words = _intervals(self.words)
        self.phones = _intervals(self.phones)
        if self.duration is None:
            ends = np.concatenate([self.words["end"].to_numpy(), self.phones["end"].to_numpy()])
            self.duration = float(ends.max()) if ends.size else 0.0
        self.duration = float(self.duration)


def _tier_entries(df, xmax):
    """(start, end, label) rows for praatio, at the 1-us precision the files keep.

    An interval that starts before the previous one ends is clipped to start
    there, as Praat allows no overlap within a tier.
    """
    rows, t = [], 0.0
    for label, start, end in df[["label", "start", "end"]].itertuples(index=False):
        start, end = round(max(float(start), t), 6), round(min(float(end), xmax), 6)
        if end <= start:
            raise ParameterError(
                f"interval {label!r} [{float(start)}, {float(end)}] s has no duration left "
                f"(an earlier interval ends at {t} s, the utterance at {xmax} s)"
            )
        rows.append((start, end, str(label)))
        t = end
    return rows


def write_textgrid(alignment, path):
    """Write an :class:`Alignment` as a Praat long-format TextGrid.

    Gaps between intervals become intervals with an empty label, as Praat
    requires a tier to cover the whole time range. Times are rounded to
    1 us.

    Parameters
    ----------
    alignment : Alignment
    path : str or Path
        Output file (UTF-8); its folder is created.

    Raises
    ------
    ParameterError
        An interval of no duration (Praat cannot hold one).

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
    from praatio import textgrid as tgio

    path = Path(path)
    xmax = round(float(alignment.duration), 6)
    if not xmax > 0:
        raise ParameterError(f"alignment.duration={alignment.duration!r} must be positive")
    tg = tgio.Textgrid(minTimestamp=0, maxTimestamp=xmax)
    for name, df in (("words", alignment.words), ("phones", alignment.phones)):
        tg.addTier(tgio.IntervalTier(name, _tier_entries(df, xmax), 0, xmax))
    path.parent.mkdir(parents=True, exist_ok=True)
    # minimumIntervalLength=None: praatio would otherwise merge short intervals away
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True,
            minimumIntervalLength=None, reportingMode="error")


_LONG_SIZES = re.compile(r"^\s*(?:intervals|points): size = (\d+)", re.MULTILINE)
_LONG_TIERS = re.compile(r"^\s*size = (\d+)", re.MULTILINE)
_SHORT_TIER = re.compile(
    r'"(?:IntervalTier|TextTier)"\s*\n\s*"(?:[^"]|"")*"\s*\n[^\n]*\n[^\n]*\n\s*(\d+)\s*$', re.MULTILINE
)
_SHORT_TIERS = re.compile(r"<exists>\s*\n\s*(\d+)\s*$", re.MULTILINE)


def _declared_sizes(text):
    """Tier count and per-tier entry counts the file declares (None where unreadable)."""
    if "item [" in text:  # long format (praatio tells the formats apart the same way)
        tiers, sizes = _LONG_TIERS.search(text), _LONG_SIZES.findall(text)
    else:
        tiers, sizes = _SHORT_TIERS.search(text), _SHORT_TIER.findall(text)
    return (int(tiers.group(1)) if tiers else None), [int(n) for n in sizes]


def _parse(text, name):
    """praatio's parse of a TextGrid text, checked against the counts the file declares."""
    from praatio.textgrid import IntervalTier, PointTier
    from praatio.utilities import textgrid_io

    head = text.lstrip()[:200]
    if "ooTextFile" not in head or '"TextGrid"' not in head:
        raise InputError(f"{name}: not a Praat TextGrid", stage="phones")
    try:
        parsed = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=True)
        tiers = {}
        for t in parsed["tiers"]:
            cls = IntervalTier if t["class"] == "IntervalTier" else PointTier
            # the tier classes convert the times and reject overlapping or reversed intervals
            t["entries"] = list(t["entries"])
            tiers[t["name"]] = cls(t["name"], t["entries"], t["xmin"], t["xmax"])
        xmax = float(parsed["xmax"])
    except Exception as exc:  # praatio raises ParsingError, IndexError, TypeError, ... on bad text
        raise InputError(f"{name}: malformed or truncated TextGrid ({type(exc).__name__}: {exc})",
                         stage="phones") from exc
    # praatio stops quietly where a file ends early: a cut file reads as a shorter one
    n_tiers, sizes = _declared_sizes(text)
    got = [len(t["entries"]) for t in parsed["tiers"]]
    if (n_tiers is not None and len(got) < n_tiers) or len(sizes) < len(got) or any(
            g < s for g, s in zip(got, sizes)):
        raise InputError(
            f"{name}: truncated TextGrid (declares {n_tiers} tiers of {sizes} entries, "
            f"holds {len(parsed['tiers'])} of {got})",
            stage="phones",
        )
    return xmax, tiers


def _find_tier(tiers, want, name):
    for tier_name, tier in tiers.items():
        key = tier_name.strip().lower()
        if key == want or key.endswith(" - " + want) or key.endswith("-" + want):
            if tier.tierType != "IntervalTier":
                raise InputError(f"{name}: tier {tier_name!r} is a point tier, not intervals",
                                 stage="phones")
            return pd.DataFrame([(e.label, e.start, e.end) for e in tier.entries],
                                columns=["label", "start", "end"])
    raise InputError(
        f"{name}: no tier named {want!r} (tiers: {', '.join(map(repr, tiers)) or 'none'})",
        stage="phones",
    )


def _to_arpabet(labels, phone_set, name):
    """ARPAbet phone labels and the phone set they came in; silences pass unchanged."""
    from agser.gestures.segment import SILENCE_PHONES
    from agser.phones.ipa import detect_phone_set, ipa_to_arpabet

    speech = [x for x in labels if x.lower() not in SILENCE_PHONES]
    try:
        found = detect_phone_set(speech)
    except ParameterError as exc:
        if phone_set == "auto":
            raise InputError(f"{name}: {exc}", stage="phones") from exc
        found = None
    if phone_set != "auto" and found != phone_set:
        from agser.phones.ipa import _is_arpabet, _is_ipa

        check = _is_arpabet if phone_set == "arpabet" else _is_ipa
        bad = [x for x in dict.fromkeys(speech) if not check(x)]
        if bad:
            other = "ipa" if phone_set == "arpabet" else "arpabet"
            raise InputError(
                f"{name}: phone label {bad[0]!r} is not "
                f"{'ARPAbet' if phone_set == 'arpabet' else 'an MFA IPA phone'} "
                f"(phone_set={phone_set!r}; phone_set={other!r} or 'auto' reads "
                f"{'MFA IPA' if other == 'ipa' else 'ARPAbet'} files)",
                stage="phones",
            )
        found = phone_set  # every label fits the set asked for (symbols both sets share)
    if found == "arpabet":
        return list(labels), found
    return [x if x.lower() in SILENCE_PHONES else ipa_to_arpabet(x) for x in labels], found


def read_textgrid(path, keep_silence=False, words_tier="words", phones_tier="phones",
                  phone_set="auto"):
    """Read the word and phone tiers of a TextGrid.

    Parameters
    ----------
    path : str or Path
        Long- or short-format TextGrid (UTF-8, or UTF-16 with a byte-order mark).
    keep_silence : bool
        Keep intervals labelled ``""``, ``sil``, ``sp``, ``spn`` (default: drop).
    words_tier, phones_tier : str
        Tier names; a tier ``"<speaker> - words"`` (MFA, several speakers) matches too.
    phone_set : {"auto", "arpabet", "ipa"}
        The phone set of the phones tier: ``"auto"`` tells ARPAbet from MFA's
        IPA phones per file; ``"arpabet"`` or ``"ipa"`` insist on one. IPA
        phones come back as ARPAbet (:func:`agser.phones.ipa.ipa_to_arpabet`).

    Returns
    -------
    Alignment
        Phone labels in ARPAbet; ``phone_set`` records the file's set.

    Raises
    ------
    ParameterError
        If the file does not exist or ``phone_set`` is unknown.
    InputError
        (stage ``"phones"``) if it is not a TextGrid, is malformed or
        truncated, lacks one of the tiers, or holds phone labels of another
        (or no) phone set; the message names the file.

    Examples
    --------
    An MFA 3 TextGrid of the ``english_mfa`` model (IPA phones):

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mfa.TextGrid"
    >>> _ = p.write_text(
    ...     'File type = "ooTextFile"\\nObject class = "TextGrid"\\n\\n0\\n0.5\\n<exists>\\n2\\n'
    ...     '"IntervalTier"\\n"words"\\n0\\n0.5\\n2\\n0\\n0.1\\n""\\n0.1\\n0.5\\n"hot"\\n'
    ...     '"IntervalTier"\\n"phones"\\n0\\n0.5\\n4\\n0\\n0.1\\n""\\n0.1\\n0.2\\n"h"\\n'
    ...     '0.2\\n0.4\\n"ɑː"\\n0.4\\n0.5\\n"tʰ"\\n', encoding="utf-8")
    >>> a = read_textgrid(p)
    >>> a.phones["label"].tolist(), a.phone_set
    (['HH', 'AA', 'T'], 'ipa')
    """
    from agser.phones.ipa import PHONE_SETS

    if phone_set not in PHONE_SETS:
        raise ParameterError(f"phone_set={phone_set!r} must be one of {', '.join(PHONE_SETS)}")
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
    labels, found = _to_arpabet(out[1]["label"].tolist(), phone_set, path.name)
    phones = out[1].assign(label=labels)
    return Alignment(out[0], phones, duration=xmax, phone_set=found)
