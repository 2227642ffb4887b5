"""Phones: audio loading, forced alignment (pocketsphinx), TextGrids, ARPAbet to IPA.

Examples
--------
>>> from agser.phones import arpabet_to_ipa, strip_stress
>>> arpabet_to_ipa("AH0"), strip_stress("AH0")
('ə', 'AH')
"""

from agser.phones.aligner import PocketsphinxAligner, normalize_transcript
from agser.phones.audio import load_audio
from agser.phones.cmudict import add_stress, load_cmudict
from agser.phones.ipa import PAPER_VOWELS, arpabet_to_ipa, strip_stress
from agser.phones.textgrid import Alignment, read_textgrid, write_textgrid

__all__ = [
    "Alignment",
    "PAPER_VOWELS",
    "PocketsphinxAligner",
    "add_stress",
    "arpabet_to_ipa",
    "load_audio",
    "load_cmudict",
    "normalize_transcript",
    "read_textgrid",
    "strip_stress",
    "write_textgrid",
]
