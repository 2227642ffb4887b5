"""CMUdict (as shipped in the pocketsphinx wheel), the stress digits it lacks, user pronunciations.

pocketsphinx's ``cmudict-en-us.dict`` has no stress digits, but the paper's
vowels need them (``AH0`` is ə, ``AH1`` is ʌ). :func:`add_stress` gives them by
one heuristic, shared by the simulator's true TextGrids
(:func:`agser.corpora.simulator.text.pronounce`) and the pocketsphinx aligner
(:class:`agser.phones.aligner.PocketsphinxAligner`), so both label alike.

:func:`read_pronunciations` reads the pronunciations of words CMUdict lacks
from a file in CMUdict's own format (``agser extract --pronunciations FILE``).
"""

from __future__ import annotations

import functools
import os

from agser.errors import ParameterError
from agser.phones.ipa import is_vowel

__all__ = ["FUNCTION_WORDS", "cmudict_path", "load_cmudict", "add_stress", "split_pronunciation",
           "read_pronunciations"]

#: Words that carry no lexical stress in running speech (their AH is a schwa).
FUNCTION_WORDS = frozenset(
    "a an the of to at in on for from by and or but as is was were are am be been it its "
    "it's that than then this these those he she we you i i'm i've we'll they them me my "
    "your his her our us can do does did have has had will would should could not".split()
)


def cmudict_path():
    """Path of ``cmudict-en-us.dict`` inside the installed pocketsphinx wheel."""
    import pocketsphinx

    base = pocketsphinx.get_model_path()
    for cand in (
        os.path.join(base, "en-us", "cmudict-en-us.dict"),
        os.path.join(base, "cmudict-en-us.dict"),
    ):
        if os.path.isfile(cand):
            return cand
    raise ParameterError(f"no cmudict-en-us.dict under the pocketsphinx model path {base!r}")


@functools.lru_cache(maxsize=1)
def load_cmudict():
    """Word -> first pronunciation (list of ARPAbet phones without stress).

    Examples
    --------
    >>> load_cmudict()["jacket"]
    ['JH', 'AE', 'K', 'AH', 'T']
    """
    out = {}
    with open(cmudict_path(), encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            word = parts[0]
            if "(" in word:  # alternative pronunciations: keep the first
                continue
            out[word] = [p for p in parts[1:] if not p.startswith("#")]
    return out


def add_stress(word, phones):
    """Give the vowels of a word stress digits (pocketsphinx's CMUdict has none).

    A heuristic: function words are unstressed (``0``) when their only vowel
    is ``AH`` or ``ER`` and otherwise ``1``; in longer words ``AH`` and ``ER``
    are reduced (``0``) unless every vowel is one of them, the first other
    vowel takes primary stress and the rest secondary.

    Parameters
    ----------
    word : str
    phones : list of str
        ARPAbet phones without stress.

    Returns
    -------
    list of str

    Examples
    --------
    >>> add_stress("couple", ["K", "AH", "P", "AH", "L"])
    ['K', 'AH1', 'P', 'AH0', 'L']
    >>> add_stress("the", ["DH", "AH"])
    ['DH', 'AH0']
    >>> add_stress("about", ["AH", "B", "AW", "T"])
    ['AH0', 'B', 'AW1', 'T']
    """
    vowels = [i for i, p in enumerate(phones) if is_vowel(p)]
    out = list(phones)
    if not vowels:
        return out
    reducible = {"AH", "ER"}
    if len(vowels) == 1:
        i = vowels[0]
        reduced = word.lower() in FUNCTION_WORDS and phones[i] in reducible
        out[i] = phones[i] + ("0" if reduced else "1")
        return out
    full = [i for i in vowels if phones[i] not in reducible]
    primary = full[0] if full else vowels[0]
    for i in vowels:
        if i == primary:
            out[i] = phones[i] + "1"
        elif phones[i] in reducible:
            out[i] = phones[i] + "0"
        else:
            out[i] = phones[i] + "2"
    return out


def split_pronunciation(phones, word):
    """The ARPAbet phones of a user's pronunciation; stress digits kept.

    Parameters
    ----------
    phones : str
        ARPAbet separated by spaces, e.g. ``"JH AE1 K AH0 T"`` (any case).
    word : str
        The word it is for (quoted in the error).

    Returns
    -------
    list of str
        Upper case.

    Raises
    ------
    ParameterError
        Empty, or a phone that is not ARPAbet (named).

    Examples
    --------
    >>> split_pronunciation("jh ae1 k ah0 t", "jakkit")
    ['JH', 'AE1', 'K', 'AH0', 'T']
    >>> split_pronunciation("JH QQ T", "jakkit")
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: pronunciation of 'jakkit' 'JH QQ T': not ARPAbet phones (QQ)
    """
    from agser.phones.ipa import ARPABET_TO_IPA, strip_stress

    toks = str(phones).upper().split()
    bad = [p for p in toks if strip_stress(p) not in ARPABET_TO_IPA]
    if not toks or bad:
        raise ParameterError(
            f"pronunciation of {word!r} {phones!r}: not ARPAbet phones ({', '.join(bad) or 'empty'})"
        )
    return toks


def read_pronunciations(path):
    """Word pronunciations from a CMUdict-format file.

    One word a line: the word, then its ARPAbet phones, separated by spaces or
    tabs (``JAKKIT  JH AE1 K AH0 T``; stress digits optional, any case).
    Blank lines and comment lines (``;;;`` as in CMUdict, or ``#``) are
    skipped. The aligner takes one pronunciation a word, so a second one
    (``WORD(2)`` or the word again) is an error, not silently dropped.

    Parameters
    ----------
    path : str or Path
        UTF-8 text file.

    Returns
    -------
    dict of str -> str
        Lower-case word -> its phones (space separated, upper case), as the
        ``extra_pronunciations`` of :class:`agser.phones.aligner.PocketsphinxAligner`
        and of the extraction take them.

    Raises
    ------
    ParameterError
        A missing file, or a line that is not ``WORD PHONES`` in ARPAbet, or
        a word given twice; the message names the file and line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "extra.dict"
    >>> _ = p.write_text(";;; words CMUdict lacks\\nJAKKIT  JH AE1 K AH0 T\\nagser\\tEY1 JH S ER0\\n")
    >>> read_pronunciations(p)
    {'jakkit': 'JH AE1 K AH0 T', 'agser': 'EY1 JH S ER0'}
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"pronunciation file {str(path)!r} does not exist")
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith((";;;", "#")):
            continue
        where = f"pronunciation file {str(path)!r} line {n}"
        parts = text.split()
        word = parts[0].lower()
        if len(parts) < 2:
            raise ParameterError(f"{where}: {text!r} must be 'WORD PH1 PH2 ...'")
        if word in out or word.endswith(")"):
            raise ParameterError(
                f"{where}: a second pronunciation of {word.split('(')[0]!r}; "
                "the aligner takes one pronunciation a word"
            )
        try:
            phones = split_pronunciation(" ".join(parts[1:]), word)
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        out[word] = " ".join(phones)
    return out
