"""Sentences and their phones (CMUdict with stress: :mod:`agser.phones.cmudict`)."""

from __future__ import annotations

import re

# The 12 CREMA-D sentences, by their file-name code: the CREMA-D adapter's own table.
from agser.corpora.cremad import SENTENCES as CREMA_SENTENCES
from agser.errors import ParameterError
from agser.phones.cmudict import add_stress, load_cmudict

__all__ = [
    "CREMA_SENTENCES",
    "IMPROV_SENTENCES",
    "pronounce",
]

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
