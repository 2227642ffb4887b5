"""Sentences and their phones (CMUdict, as shipped in the pocketsphinx wheel)."""

from __future__ import annotations

import functools
import os
import re

from agser.errors import ParameterError

__all__ = [
    "CREMA_SENTENCES",
    "IMPROV_SENTENCES",
    "cmudict_path",
    "load_cmudict",
    "add_stress",
    "pronounce",
]

#: The 12 CREMA-D sentences, by their file-name code.
CREMA_SENTENCES = {
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

#: Everyday sentences of the MSP-IMPROV-like corpus (none shared with CREMA-D).
IMPROV_SENTENCES = {
    "S01": "Can you pass me the salt",
    "S02": "We should call them back tonight",
    "S03": "I left my keys at home",
    "S04": "The bus was late again",
    "S05": "Let's go to the park",
    "S06": "She never told me that",
    "S07": "Why did you do that",
    "S08": "He bought a big black car",
    "S09": "You have to see this",
    "S10": "That was a good movie",
    "S11": "Come back here right now",
    "S12": "I finally got the job today",
    "S13": "Where did you put my bag",
    "S14": "Please wait for me outside",
}

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
    from agser.phones.ipa import is_vowel

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


def words_of(sentence):
    """Lower-case words of a sentence (apostrophes kept).

    Examples
    --------
    >>> words_of("It's eleven o'clock.")
    ["it's", 'eleven', "o'clock"]
    """
    return re.findall(r"[a-z']+", sentence.lower())


def pronounce(sentence):
    """Words of a sentence with their stressed ARPAbet phones.

    Parameters
    ----------
    sentence : str

    Returns
    -------
    list of (str, list of str)

    Raises
    ------
    ParameterError
        Naming a word that is not in CMUdict.

    Examples
    --------
    >>> pronounce("Don't forget a jacket")[0]
    ("don't", ['D', 'OW1', 'N', 'T'])
    """
    d = load_cmudict()
    out = []
    for w in words_of(sentence):
        if w not in d:
            raise ParameterError(f"word {w!r} of sentence {sentence!r} is not in CMUdict")
        out.append((w, add_stress(w, d[w])))
    return out
