"""The built-in articulatory-acoustic simulator of two emotional AV corpora.

:func:`simulate` writes ``sim-crema`` and ``sim-improv`` (WAV, OpenFace CSV,
TextGrid, the articulatory truth, manifest); :func:`simulate_utterance`
returns one utterance with the simulator's internal articulatory, formant and
F0 tracks; :func:`read_articulation` reads an utterance's articulatory truth
(the manifest's ``articulation_path``).
"""

from agser.corpora.simulator.config import CORPORA, CorpusConfig, corpus_configs
from agser.corpora.simulator.core import (
    DEFAULT_UTTERANCES,
    SIM_EMOTIONS,
    corpus_plan,
    simulate,
    simulate_utterance,
)
from agser.corpora.simulator.truth import ARTICULATION_COLUMNS, read_articulation

__all__ = [
    "ARTICULATION_COLUMNS",
    "CORPORA",
    "CorpusConfig",
    "DEFAULT_UTTERANCES",
    "SIM_EMOTIONS",
    "corpus_configs",
    "corpus_plan",
    "read_articulation",
    "simulate",
    "simulate_utterance",
]
