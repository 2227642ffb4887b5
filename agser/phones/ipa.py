"""ARPAbet (CMUdict's phone set) to IPA, and MFA 3's IPA phones to ARPAbet.

Stress digits (``0`` unstressed, ``1`` primary, ``2`` secondary) are allowed
on vowels. They matter for two vowels: ``AH0`` is schwa /ə/ and ``AH1``,
``AH2`` are /ʌ/; ``ER0`` is /ɚ/ and ``ER1``, ``ER2`` are /ɝ/. A bare ``AH``
(an aligner without stress, such as pocketsphinx) is read as /ə/, the far more
frequent of the two in running speech, and a bare ``ER`` as /ɝ/.

The Montreal Forced Aligner (MFA) 3 writes either phone set: its
``english_us_arpa`` model ARPAbet, its default ``english_mfa`` model (and
``english_us_mfa``, ``english_uk_mfa``) the MFA IPA phone set, which marks
length (``ɑː``), palatalisation (``tʲ``), aspiration (``tʰ``), labialisation
(``kʷ``), syllabic consonants (``n̩``), dental stops (``t̪``) and writes the
diphthongs ``aj aw ej ow ɔj əw``. :func:`ipa_to_arpabet` maps each of its
phones onto the ARPAbet phone of the same class, so that a segment's
``phone`` (ARPAbet) and ``ipa`` (:func:`arpabet_to_ipa` of that phone) mean
the same whichever aligner wrote the file. The rule is the phone's quality
(what the mouth does), not the word's lexical set, because the package
compares mouth gestures:

- marks that keep the phoneme drop: length ``ː``, ``ʲ``, ``ʷ``, ``ʰ``, the
  syllabic ``◌̩`` and the unreleased ``◌̚`` (``ɑː`` -> AA, ``tʲ`` -> T,
  ``n̩`` -> N: a syllabic consonant is one interval, the consonant; CMUdict
  would write AH0 N);
- schwa ``ə`` is AH0 (/ə/); ``ɐ`` and ``ʌ``, MFA's STRUT vowel (jumbo
  ``dʒ ɐ m b ow``), AH1 (/ʌ/); ``ɚ`` ER0; ``ɝ``, ``ɜ`` ER1;
- the rounded ``ɒ`` and ``ɔ`` are AO (/ɔ/), not AA: MFA uses them for the
  rounded LOT and THOUGHT vowels, and a rounded vowel in the unrounded /ɑ/
  class would blur the lip gesture the paper compares; ``a`` (TRAP in
  non-US varieties: trash ``t ɹ a ʃ``) is AE, ``e`` (FACE, bay ``b e``) EY,
  ``o`` and ``əw`` OW, ``ʉ`` UW, ``i`` IY;
- ``t̪``, ``d̪`` (th-stopping: thin ``t̪ ɪ n``) are TH, DH, as MFA's own TIMIT
  mapping has them; the flap ``ɾ`` and the glottal stop ``ʔ`` are T (most are
  /t/; CMUdict has no flap), the nasal flap ``ɾ̃`` N; the palatal ``c``,
  ``ɟ``, ``ç``, ``ɲ``, ``ʎ`` (MFA's allophones before front vowels: kit
  ``cʰ i t``) are K, G, HH, N, L; ``ɫ`` L; ``ɹ`` R; ``j`` Y; the labial-velar
  ``kp``, ``ɡb`` P, B (the lips close); the retroflex ``ʈ``, ``ɖ`` and ``ʋ`` of
  the Indian English dictionary T, D, V.

Sources: the phone inventories of MFA's English dictionaries (mfa-models,
``dictionary/english/{mfa,us_mfa,uk_mfa}/v3.0.0|v3.1.0/README.md``), the
example words of the "English MFA dictionary v3.0.0" page
(``docs/source/dictionary/English/``), and MFA's phone mappings to TIMIT and
Buckeye (``scripts/alignment_benchmarks/mapping_files/mfa_timit_mapping.yaml``,
``mfa_buckeye_mapping.yaml``), all in github.com/MontrealCorpusTools/mfa-models.
"""

from __future__ import annotations

import re
import unicodedata

from agser.errors import ParameterError

__all__ = [
    "ARPABET_TO_IPA",
    "ARPABET_VOWELS",
    "VOWELS",
    "PAPER_VOWELS",
    "PHONE_SETS",
    "MFA_IPA_TO_ARPABET",
    "arpabet_to_ipa",
    "ipa_to_arpabet",
    "detect_phone_set",
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

#: The ``phone_set`` values the TextGrid reader and ``agser extract`` take.
PHONE_SETS = ("auto", "arpabet", "ipa")

#: MFA IPA phones (marks removed, see :data:`_MFA_MARKS`) to ARPAbet, with the
#: stress digit where it decides the IPA class (AH0 ə / AH1 ʌ, ER0 ɚ / ER1 ɝ).
#: The reasons for each choice are in the module notes.
MFA_IPA_TO_ARPABET = {
    # vowels and diphthongs
    "i": "IY", "ɪ": "IH", "e": "EY", "ej": "EY", "eɪ": "EY", "ɛ": "EH", "æ": "AE",
    "a": "AE", "ɑ": "AA", "ɒ": "AO", "ɔ": "AO", "o": "OW", "ow": "OW", "oʊ": "OW",
    "əw": "OW", "ʊ": "UH", "u": "UW", "ʉ": "UW", "ə": "AH0", "ɐ": "AH1", "ʌ": "AH1",
    "ɚ": "ER0", "ɝ": "ER1", "ɜ": "ER1", "aj": "AY", "aɪ": "AY", "aw": "AW", "aʊ": "AW",
    "ɔj": "OY", "ɔɪ": "OY",
    # consonants
    "p": "P", "b": "B", "t": "T", "d": "D", "ʈ": "T", "ɖ": "D", "ʔ": "T", "ɾ": "T",
    "k": "K", "c": "K", "ɡ": "G", "g": "G", "ɟ": "G", "kp": "P", "ɡb": "B",
    "f": "F", "v": "V", "ʋ": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH",
    "ʒ": "ZH", "tʃ": "CH", "dʒ": "JH", "h": "HH", "ç": "HH", "m": "M", "ɱ": "M",
    "n": "N", "ɲ": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ʎ": "L", "ɹ": "R", "r": "R",
    "j": "Y", "w": "W",
    # a mark that changes the phone: looked up before the marks are removed
    "t̪": "TH", "d̪": "DH", "ɾ̃": "N",
}
#: Marks that never change the ARPAbet phone: length, palatalised, labialised,
#: aspirated, syllabic (U+0329), unreleased (U+031A).
_MFA_MARKS = "ːʲʷʰ\u0329\u031a"
_MARK_RE = re.compile(f"[{_MFA_MARKS}]")

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


def ipa_to_arpabet(phone):
    """ARPAbet phone of an MFA IPA phone (see the module notes for the rule).

    Parameters
    ----------
    phone : str
        A phone of MFA's IPA phone set, e.g. ``"ɑː"``, ``"tʲ"``, ``"aj"``,
        ``"n̩"`` (Unicode NFC or NFD).

    Returns
    -------
    str
        ARPAbet, with a stress digit only where it decides the IPA class
        (``"ə"`` -> ``"AH0"``, ``"ɐ"`` -> ``"AH1"``).

    Raises
    ------
    ParameterError
        For a label that is not an MFA IPA phone.

    Examples
    --------
    >>> [ipa_to_arpabet(p) for p in ("ɑː", "ə", "ɛ", "iː", "æ", "ʉː", "tʲ", "aj", "ɐ", "ɫ̩")]
    ['AA', 'AH0', 'EH', 'IY', 'AE', 'UW', 'T', 'AY', 'AH1', 'L']
    >>> [arpabet_to_ipa(ipa_to_arpabet(p)) for p in ("ɑː", "ɐ", "ɒ", "ɚ", "ɜː")]
    ['ɑ', 'ʌ', 'ɔ', 'ɚ', 'ɝ']
    """
    label = unicodedata.normalize("NFC", str(phone).strip())
    out = MFA_IPA_TO_ARPABET.get(label)
    if out is None:
        out = MFA_IPA_TO_ARPABET.get(_MARK_RE.sub("", label))
    if out is None:
        raise ParameterError(f"phone={phone!r} is not an MFA IPA phone")
    return out


def _is_arpabet(label):
    try:
        arpabet_to_ipa(label)
    except ParameterError:
        return False
    return True


def _is_ipa(label):
    try:
        ipa_to_arpabet(label)
    except ParameterError:
        return False
    return True


def detect_phone_set(labels):
    """Which phone set a file's phone labels are written in.

    ARPAbet when every label is ARPAbet, else MFA IPA when every label is
    one of its phones. The two sets share a few symbols (``b``, ``d``, ``s``,
    ``ow``, ``aw``, ...), each meaning the same phone in both, so a file of
    only those reads alike either way.

    Parameters
    ----------
    labels : iterable of str
        Phone labels, silences and noise markers already removed.

    Returns
    -------
    {"arpabet", "ipa"}
        ``"arpabet"`` too for no labels at all.

    Raises
    ------
    ParameterError
        Labels in neither set, or labels of both sets mixed (named).

    Examples
    --------
    >>> detect_phone_set(["DH", "AH0", "S", "ER1"]), detect_phone_set(["ð", "ə", "s", "ɝ"])
    ('arpabet', 'ipa')
    >>> detect_phone_set(["AA1", "ɑ"])
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: phone labels mix ARPAbet ('AA1') and MFA IPA ('ɑ')
    """
    labels = [str(x).strip() for x in labels]
    not_arpabet = list(dict.fromkeys(x for x in labels if not _is_arpabet(x)))
    if not not_arpabet:
        return "arpabet"
    unknown = [x for x in not_arpabet if not _is_ipa(x)]
    if unknown:
        raise ParameterError(
            "phone label(s) " + ", ".join(map(repr, unknown[:5]))
            + " are neither ARPAbet nor MFA IPA phones"
        )
    only_arpabet = list(dict.fromkeys(x for x in labels if not _is_ipa(x)))
    if only_arpabet:
        raise ParameterError(
            f"phone labels mix ARPAbet ({', '.join(map(repr, only_arpabet[:3]))}) "
            f"and MFA IPA ({', '.join(map(repr, not_arpabet[:3]))})"
        )
    return "ipa"
