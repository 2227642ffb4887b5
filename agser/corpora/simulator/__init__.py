"""The built-in articulatory-acoustic simulator of two emotional AV corpora.

:func:`simulate` writes ``sim-crema`` and ``sim-improv`` (WAV, OpenFace CSV,
TextGrid, manifest); :func:`simulate_utterance` returns one utterance with the
simulator's internal articulatory, formant and F0 tracks.
"""

from agser.corpora.simulator.config import CORPORA, CorpusConfig, corpus_configs
from agser.corpora.simulator.core import (
    DEFAULT_UTTERANCES,
    SIM_EMOTIONS,
    simulate,
    simulate_utterance,
)

__all__ = [
    "CORPORA",
    "CorpusConfig",
    "DEFAULT_UTTERANCES",
    "SIM_EMOTIONS",
    "corpus_configs",
    "simulate",
    "simulate_utterance",
]
