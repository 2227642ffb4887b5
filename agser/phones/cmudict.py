"""CMUdict (as shipped in the pocketsphinx wheel) and the stress digits it lacks.

pocketsphinx's ``cmudict-en-us.dict`` has no stress digits, but the paper's
vowels need them (``AH0`` is ə, ``AH1`` is ʌ). :func:`add_stress` gives them by
one heuristic, shared by the simulator's true TextGrids
(:func:`agser.corpora.simulator.text.pronounce`) and the pocketsphinx aligner
(:class:`agser.phones.aligner.PocketsphinxAligner`), so both label alike.
"""

from __future__ import annotations

import functools
import os

from agser.errors import ParameterError
from agser.phones.ipa import is_vowel

__all__ = ["FUNCTION_WORDS", "cmudict_path", "load_cmudict", "add_stress"]

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
