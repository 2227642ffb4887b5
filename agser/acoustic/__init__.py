"""Acoustic encoders: frame features per layer, and pooling over phone spans.

``LogMelEncoder`` is built in and needs no weights; ``HFEncoder`` (Hugging Face
wav2vec2 / HuBERT / WavLM) lives in :mod:`agser.acoustic.hf`.
"""

from agser.acoustic.base import Encoder, frame_times, load_waveform, make_encoder, pool_spans
from agser.acoustic.logmel import LAYER_NAMES, LogMelEncoder

__all__ = [
    "Encoder",
    "LogMelEncoder",
    "LAYER_NAMES",
    "frame_times",
    "load_waveform",
    "make_encoder",
    "pool_spans",
]

try:  # the Hugging Face encoder is another stage's file; re-export it once it exists
    from agser.acoustic.hf import HFEncoder  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "agser.acoustic.hf":
        raise
else:
    __all__.append("HFEncoder")
