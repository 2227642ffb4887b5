"""ARPAbet (CMUdict's phone set) to IPA.

Stress digits (``0`` unstressed, ``1`` primary, ``2`` secondary) are allowed
on vowels. They matter for two vowels: ``AH0`` is schwa /ə/ and ``AH1``,
``AH2`` are /ʌ/; ``ER0`` is /ɚ/ and ``ER1``, ``ER2`` are /ɝ/. A bare ``AH``
(an aligner without stress, such as pocketsphinx) is read as /ə/, the far more
frequent of the two in running speech, and a bare ``ER`` as /ɝ/.
"""

from __future__ import annotations

import re

from agser.errors import ParameterError

__all__ = [
    "ARPABET_TO_IPA",
    "ARPABET_VOWELS",
    "VOWELS",
    "PAPER_VOWELS",
    "arpabet_to_ipa",
    "strip_stress",
    "is_vowel",
]

#: The 39 ARPAbet phones of CMUdict, without stress, to IPA.
ARPABET_TO_IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ə", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ",
    "EH": "ɛ", "ER": "ɝ", "EY": "eɪ", "IH": "ɪ", "IY": "i", "OW": "oʊ",
    "OY": "ɔɪ", "UH": "ʊ", "UW": "u",
    "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h",
    "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ", "P": "p",
    "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v", "W": "w",
    "Y": "j", "Z": "z", "ZH": "ʒ",
}
#: The 15 ARPAbet vowels (stress stripped).
ARPABET_VOWELS = frozenset(
    ["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"]
)
#: IPA symbols of all vowels this module produces.
VOWELS = frozenset([ARPABET_TO_IPA[v] for v in ARPABET_VOWELS] + ["ʌ", "ɚ"])
#: The six vowels the paper analyses.
PAPER_VOWELS = ("ɑ", "ə", "ɛ", "i", "æ", "u")

_PHONE = re.compile(r"^([A-Z]{1,2})([012]?)$")


def strip_stress(phone):
    """Remove the stress digit of an ARPAbet phone (``"AH0"`` -> ``"AH"``).

    Examples
    --------
    >>> strip_stress("AH0"), strip_stress("k"), strip_stress("IY")
    ('AH', 'K', 'IY')
    """
    return str(phone).strip().upper().rstrip("012")


def arpabet_to_ipa(phone):
    """IPA symbol of an ARPAbet phone, with or without stress digit.

    Parameters
    ----------
    phone : str
        E.g. ``"AA1"``, ``"ah0"``, ``"SH"``.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        For a label that is not an ARPAbet phone.

    Examples
    --------
    >>> [arpabet_to_ipa(p) for p in ("AA1", "AH0", "AH1", "EH2", "IY", "AE1", "UW0")]
    ['ɑ', 'ə', 'ʌ', 'ɛ', 'i', 'æ', 'u']
    """
    m = _PHONE.match(str(phone).strip().upper())
    if not m or m.group(1) not in ARPABET_TO_IPA:
        raise ParameterError(f"phone={phone!r} is not an ARPAbet phone")
    base, stress = m.groups()
    if stress and base not in ARPABET_VOWELS:
        raise ParameterError(f"phone={phone!r}: a consonant has no stress digit")
    if base == "AH" and stress in ("1", "2"):
        return "ʌ"
    if base == "ER" and stress == "0":
        return "ɚ"
    return ARPABET_TO_IPA[base]


def is_vowel(phone):
    """Whether an ARPAbet phone (stress allowed) is a vowel.

    Examples
    --------
    >>> is_vowel("AA1"), is_vowel("T")
    (True, False)
    """
    return strip_stress(phone) in ARPABET_VOWELS
