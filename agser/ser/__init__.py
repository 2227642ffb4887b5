"""AG-anchored cross-corpus speech emotion recognition (chapters 6 and 7).

- :mod:`agser.ser.data`: utterance-level data sets (frame features per layer,
  phone spans, AG clusters); an unlabelled target set has no labels at all.
- :mod:`agser.ser.model`: the two-branch model (:class:`SERModel`).
- :mod:`agser.ser.losses`: the soft-weighted triplet loss and CORAL.
- :mod:`agser.ser.finetune`: the top N blocks of a Hugging Face encoder,
  fine-tuned with the model (``ser.finetune_top``).
- :mod:`agser.ser.methods`: source-only, AG, PA, LA, Hard-AG, upper bound.
- :mod:`agser.ser.splits`, :mod:`agser.ser.metrics`, :mod:`agser.ser.stats`:
  protocol, UAR and binary per-emotion UAR, seeds and significance.
- :mod:`agser.ser.estimator`: :class:`SERClassifier`, the model as a
  scikit-learn classifier (mini-batches from features on disk, CPU or CUDA,
  early stopping on held-out source speakers).
- :mod:`agser.ser.protocol`: splits, size-matched training sets and
  :func:`run_experiment` (one method, direction and seed on loaded corpora).
  The cached run-level steps that chapters call are the run layer's
  (:mod:`agser.run.ser`).
"""

from agser.ser.data import CorpusData, UtteranceSet
from agser.ser.estimator import SERClassifier
from agser.ser.methods import CROSS_METHODS, METHODS
from agser.ser.metrics import SER_CLASSES, binary_uar, ser_metrics, uar
from agser.ser.model import SERModel
from agser.ser.splits import speaker_split
from agser.ser.protocol import run_experiment

__all__ = [
    "CROSS_METHODS",
    "CorpusData",
    "METHODS",
    "SERClassifier",
    "SERModel",
    "SER_CLASSES",
    "UtteranceSet",
    "binary_uar",
    "run_experiment",
    "ser_metrics",
    "speaker_split",
    "uar",
]
