"""Utterance-level SER data: frame features per layer, phone spans, anchor units.

:class:`CorpusData` holds one corpus: padded encoder features of every
utterance (``n x n_layers x T x dim``), their lengths, speakers, labels (an
index into :data:`agser.ser.metrics.SER_CLASSES`, -1 for any other or no
emotion) and a segment table (one phone span per row, in encoder frames, with
its phone, its AG cluster and the row of its mouth gesture).

Training code never receives a target corpus' labels: the target side is an
:class:`UtteranceSet`, which has no ``labels`` field at all, made by
:meth:`CorpusData.unlabelled`; only :class:`LabelledSet` (source, test) carries
them. Segment tables of an :class:`UtteranceSet` keep no ``emotion`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.ser.metrics import SER_CLASSES

__all__ = ["SEGMENT_COLUMNS", "UtteranceSet", "LabelledSet", "CorpusData", "pad_features",
           "pool_frames", "label_index", "segments_to_frames", "corpus_by_code"]

#: Columns of a segment table: row of the utterance in its set, frame span
#: ``[start, end)`` in encoder frames, phone (IPA), AG cluster (-1 = none) and
#: the row of the segment's mouth gesture (-1 = none).
SEGMENT_COLUMNS = ("utt", "start", "end", "ipa", "cluster", "gesture")


def label_index(emotions):
    """Class index of each emotion name, -1 outside the four classes.

    Examples
    --------
    >>> label_index(["anger", "fear", "", "sadness"]).tolist()
    [1, -1, -1, 3]
    """
    lookup = {name: i for i, name in enumerate(SER_CLASSES)}
    return np.array([lookup.get(str(e), -1) for e in emotions], dtype=int)


def pad_features(arrays):
    """Stack (n_layers, T_i, dim) arrays into (n, n_layers, T_max, dim), zero padded.

    Returns
    -------
    (features, lengths) : (numpy.ndarray float32, numpy.ndarray int)

    Examples
    --------
    >>> f, n = pad_features([np.ones((2, 3, 4)), np.ones((2, 5, 4))])
    >>> f.shape, n.tolist()
    ((2, 2, 5, 4), [3, 5])
    """
    if not arrays:
        raise ParameterError("pad_features needs at least one utterance")
    L, _, D = arrays[0].shape
    lengths = np.array([a.shape[1] for a in arrays], dtype=int)
    out = np.zeros((len(arrays), L, int(lengths.max()), D), dtype=np.float32)
    for i, a in enumerate(arrays):
        if a.shape[0] != L or a.shape[2] != D:
            raise ParameterError(f"utterance {i} has features {a.shape}, expected ({L}, T, {D})")
        out[i, :, : a.shape[1]] = a
    return out, lengths


def pool_frames(features, pool):
    """Average every ``pool`` consecutive frames (a trailing remainder is dropped).

    Parameters
    ----------
    features : numpy.ndarray, (n_layers, n_frames, dim)
    pool : int
        Frames averaged into one (1 = none).

    Returns
    -------
    numpy.ndarray, float32, (n_layers, n_frames // pool, dim)

    Examples
    --------
    >>> pool_frames(np.arange(6, dtype=np.float32).reshape(1, 6, 1), 4)[0, :, 0].tolist()
    [1.5]
    """
    f = np.asarray(features)
    pool = int(pool)
    if pool < 1:
        raise ParameterError(f"frame_pool={pool!r} must be a positive integer")
    T = f.shape[1] // pool * pool
    return f[:, :T].reshape(f.shape[0], T // pool, pool, f.shape[2]).mean(2).astype(np.float32)


def corpus_by_code(corpora, code):
    """The :class:`CorpusData` whose corpus has code ``code`` (``"C"``, ``"I"``).

    Examples
    --------
    >>> corpus_by_code({"sim-crema": "c", "sim-improv": "i"}, "I")
    'i'
    """
    from agser.corpora import CORPUS_CODES

    hits = [c for name, c in corpora.items() if CORPUS_CODES.get(name, name) == code]
    if len(hits) != 1:
        raise ParameterError(f"corpus code {code!r} matches {len(hits)} corpora of this run "
                             f"({', '.join(corpora)})")
    return hits[0]


def segments_to_frames(start_s, end_s, frame_rate, lengths):
    """Seconds -> encoder frame span ``[start, end)``, at least one frame, inside the utterance.

    Parameters
    ----------
    start_s, end_s : array of float, shape (n,)
        Segment bounds in seconds.
    frame_rate : float
        Encoder frames per second.
    lengths : array of int, shape (n,)
        Frame count of each segment's utterance.

    Examples
    --------
    >>> s, e = segments_to_frames([0.0, 0.95], [0.05, 1.2], 50.0, [60, 50])
    >>> s.tolist(), e.tolist()
    ([0, 47], [3, 50])
    """
    lengths = np.asarray(lengths, dtype=int)
    start = np.floor(np.asarray(start_s, dtype=float) * frame_rate).astype(int)
    end = np.ceil(np.asarray(end_s, dtype=float) * frame_rate).astype(int)
    start = np.clip(start, 0, np.maximum(lengths - 1, 0))
    end = np.clip(np.maximum(end, start + 1), 1, lengths)
    return start, end


@dataclass(frozen=True)
class UtteranceSet:
    """Utterances without labels (the unlabelled target side).

    Attributes
    ----------
    features : numpy.ndarray, float32, shape (n, n_layers, T, dim)
    lengths : numpy.ndarray of int, shape (n,)
    speaker, utterance_id : numpy.ndarray of str, shape (n,)
    segments : pandas.DataFrame
        :data:`SEGMENT_COLUMNS`; ``utt`` indexes this set's rows.
    block_input : tuple of numpy.ndarray, each (T_enc_i, dim)
        Input of the lowest fine-tuned encoder block of each utterance at the
        encoder's frame rate (``ser.finetune_top > 0``); empty otherwise.
    """

    features: np.ndarray
    lengths: np.ndarray
    speaker: np.ndarray
    utterance_id: np.ndarray
    segments: pd.DataFrame = field(repr=False)
    block_input: tuple = field(default=(), repr=False)

    def __len__(self):
        return int(self.lengths.shape[0])


@dataclass(frozen=True)
class LabelledSet(UtteranceSet):
    """Utterances with class labels (source training set, test set)."""

    labels: np.ndarray = None


@dataclass(frozen=True)
class CorpusData:
    """All utterances of one corpus, as loaded; see the module docstring.

    Attributes
    ----------
    corpus : str
    features, lengths, speaker, utterance_id : as in :class:`UtteranceSet`
    labels : numpy.ndarray of int, shape (n,)
        -1 for an utterance outside the four classes (or unlabelled).
    segments : pandas.DataFrame
        :data:`SEGMENT_COLUMNS` with ``utt`` indexing this corpus' rows.
    frame_rate : float
        Encoder frames per second.
    gestures : sequence of numpy.ndarray, each (T_i, 24)
        Flattened mouth gesture of each segment row ``gesture`` points to
        (Hard-AG); may be empty.
    block_input : tuple of numpy.ndarray, each (T_enc_i, dim)
        As in :class:`UtteranceSet` (empty unless encoder layers are fine-tuned).
    """

    corpus: str
    features: np.ndarray
    lengths: np.ndarray
    speaker: np.ndarray
    utterance_id: np.ndarray
    labels: np.ndarray
    segments: pd.DataFrame = field(repr=False)
    frame_rate: float = 50.0
    gestures: tuple = field(default=(), repr=False)
    block_input: tuple = field(default=(), repr=False)

    def _take(self, rows):
        rows = np.asarray(rows, dtype=int)
        remap = np.full(len(self.lengths), -1, dtype=int)
        remap[rows] = np.arange(rows.size)
        seg = self.segments[remap[self.segments["utt"].to_numpy()] >= 0].copy()
        seg["utt"] = remap[seg["utt"].to_numpy()]
        seg = seg[list(SEGMENT_COLUMNS)].reset_index(drop=True)
        return dict(features=self.features[rows], lengths=self.lengths[rows],
                    speaker=self.speaker[rows], utterance_id=self.utterance_id[rows],
                    segments=seg,
                    block_input=tuple(self.block_input[i] for i in rows) if self.block_input else ())

    def labelled(self, mask):
        """The utterances of ``mask`` (bool, shape (n,)) that carry one of the four labels."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool) & (self.labels >= 0))
        return LabelledSet(labels=self.labels[rows], **self._take(rows))

    def unlabelled(self, mask):
        """The utterances of ``mask``, whatever their label, with no label attached."""
        return UtteranceSet(**self._take(np.flatnonzero(np.asarray(mask, dtype=bool))))
