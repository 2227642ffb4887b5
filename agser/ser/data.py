"""Utterance-level SER data: features read on demand, phone segments, anchor units, batches.

Nothing here holds a corpus' frame features in memory. A set of utterances
refers to a mapping ``utterance_id -> (n_layers, n_frames, dim)`` array that
is read when an utterance is asked for (the run's store memory-maps each
utterance's ``.npy``); :class:`UtteranceDataset` pools, normalises and returns
one utterance at a time, and :func:`collate` pads a mini-batch.

:class:`CorpusData` is one corpus as loaded: the feature mapping, the
utterances' ids, speakers, labels (an index into
:data:`agser.ser.metrics.SER_CLASSES`, -1 for any other or no emotion), frame
counts, and a segment table (one phone span per row, in pooled encoder
frames, with its phone, its AG cluster and the row of its mouth gesture).

Training code never receives a target corpus' labels: the target side is an
:class:`UtteranceSet`, which has no labels at all, made by
:meth:`CorpusData.subset`; labels travel separately, as the ``y`` of
:meth:`agser.ser.estimator.SERClassifier.fit`, for source utterances only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.ser.metrics import SER_CLASSES

__all__ = ["SEGMENT_COLUMNS", "UtteranceSet", "CorpusData", "Affine", "FeatureNormalizer", "UtteranceDataset",
           "collate", "pool_frames", "label_index", "segments_to_frames", "corpus_by_code",
           "segments_of_rows", "utterance_means", "LayerView", "pooled_features"]

#: Columns of a segment table: row of the utterance in its set, frame span
#: ``[start, end)`` in pooled encoder frames, phone (IPA), AG cluster (-1 = none)
#: and the row of the segment's mouth gesture (-1 = none). A table may carry more
#: (``oracle``: the simulator's true articulatory class; ``unit``/``weight``: the
#: anchor unit and weight a method gives the segment).
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


def pooled_features(features, utterance_id, pool):
    """One utterance's pooled features from a feature mapping (its own cache when it has one).

    Examples
    --------
    >>> pooled_features({"u": np.ones((1, 4, 2), np.float32)}, "u", 2).shape
    (1, 2, 2)
    """
    if hasattr(features, "pooled"):
        return features.pooled(utterance_id, pool)
    return pool_frames(features[utterance_id], pool)


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
    return f[:, :T].reshape(f.shape[0], T // pool, pool, f.shape[2]).mean(2, dtype=np.float32) \
        .astype(np.float32)


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


def corpus_by_code(corpora, code):
    """The corpus whose name has code ``code`` (``"C"``, ``"I"``; :data:`agser.corpora.CORPUS_CODES`).

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


def segments_of_rows(segments, rows):
    """The segments of some utterances, re-indexed to their position in ``rows``.

    Parameters
    ----------
    segments : pandas.DataFrame
        A segment table whose ``utt`` indexes a set's utterances.
    rows : array of int
        Utterances to keep (positions in that set), in their new order.

    Returns
    -------
    pandas.DataFrame
        The kept segments (index reset), ``utt`` = position in ``rows``, and
        ``source_row``: the segment's row in ``segments``.

    Examples
    --------
    >>> seg = pd.DataFrame({"utt": [0, 1, 1, 2], "start": 0, "end": 1})
    >>> segments_of_rows(seg, [2, 1])[["utt", "source_row"]].values.tolist()
    [[1, 1], [1, 2], [0, 3]]
    """
    rows = np.asarray(rows, dtype=int)
    n = int(segments["utt"].max()) + 1 if len(segments) else 0
    remap = np.full(max(n, int(rows.max()) + 1 if rows.size else 0), -1, dtype=int)
    remap[rows] = np.arange(rows.size)
    utt = segments["utt"].to_numpy()
    keep = remap[utt] >= 0
    out = segments[keep].copy()
    out["source_row"] = np.flatnonzero(keep)
    out["utt"] = remap[utt[keep]]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class UtteranceSet:
    """Utterances without labels, their features read on demand.

    Attributes
    ----------
    features : mapping
        ``utterance_id -> (n_layers, n_frames_raw, dim)`` array (read when asked
        for; may hold more utterances than the set).
    utterance_id, speaker : numpy.ndarray of str, shape (n,)
    lengths : numpy.ndarray of int, shape (n,)
        Frames of each utterance after pooling.
    segments : pandas.DataFrame
        :data:`SEGMENT_COLUMNS` (and any extra column); ``utt`` indexes this set.
    pool : int
        Raw encoder frames averaged into one.
    gestures : sequence of numpy.ndarray, each (T_i, 24)
        The flattened mouth gesture that a segment's ``gesture`` column points to.
    block_input : mapping or None
        ``utterance_id -> (n_frames_raw, dim)``: the input of the lowest
        fine-tuned encoder block (``ser.finetune_top > 0``), else None.
    """

    features: Mapping
    utterance_id: np.ndarray
    speaker: np.ndarray
    lengths: np.ndarray
    segments: pd.DataFrame = field(repr=False)
    pool: int = 1
    gestures: tuple = field(default=(), repr=False)
    block_input: Mapping = field(default=None, repr=False)

    def __len__(self):
        return int(self.lengths.shape[0])

    def with_segments(self, segments):
        """The same set with another segment table (e.g. anchor units added)."""
        return replace(self, segments=segments)


@dataclass(frozen=True)
class CorpusData:
    """All utterances of one corpus, as loaded; see the module docstring.

    Attributes
    ----------
    corpus : str
    features, utterance_id, speaker, lengths, segments, pool, gestures, block_input
        As in :class:`UtteranceSet`.
    labels : numpy.ndarray of int, shape (n,)
        -1 for an utterance outside the four classes (or unlabelled).
    frame_rate : float
        Pooled encoder frames per second.
    """

    corpus: str
    features: Mapping
    utterance_id: np.ndarray
    speaker: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    segments: pd.DataFrame = field(repr=False)
    frame_rate: float = 50.0
    pool: int = 1
    gestures: tuple = field(default=(), repr=False)
    block_input: Mapping = field(default=None, repr=False)

    def __len__(self):
        return int(self.lengths.shape[0])

    def subset(self, rows):
        """The utterances at ``rows`` (positions), as an :class:`UtteranceSet` with no labels."""
        rows = np.asarray(rows, dtype=int)
        return UtteranceSet(features=self.features, utterance_id=self.utterance_id[rows],
                            speaker=self.speaker[rows], lengths=self.lengths[rows],
                            segments=segments_of_rows(self.segments, rows), pool=self.pool,
                            gestures=self.gestures, block_input=self.block_input)

    def labelled_rows(self, mask):
        """Positions of the utterances of ``mask`` (bool, (n,)) that carry one of the four labels."""
        return np.flatnonzero(np.asarray(mask, dtype=bool) & (self.labels >= 0))


class Affine:
    """Per-utterance affine maps ``(x - shift) / scale`` stored once per group (speaker).

    Parameters
    ----------
    shift, scale : numpy.ndarray, (n_groups, n_layers, dim)
    index : numpy.ndarray of int, (n_utterances,)
        The group of each utterance.

    Examples
    --------
    >>> a = Affine(np.zeros((1, 2, 3)), np.ones((1, 2, 3)), np.zeros(5, int))
    >>> a[4][0].shape, a.take([0, 1])[1].shape
    ((2, 3), (2, 2, 3))
    """

    def __init__(self, shift, scale, index):
        self.shift = np.asarray(shift, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        self.index = np.asarray(index, dtype=int)

    def __getitem__(self, i):
        g = self.index[i]
        return self.shift[g], self.scale[g]

    def take(self, rows):
        """``(shift, scale)`` of several utterances, each (len(rows), n_layers, dim)."""
        g = self.index[np.asarray(rows, dtype=int)]
        return self.shift[g], self.scale[g]

    def then(self, mu, sd):
        """This map followed by ``(. - mu) / sd``: ``(x - (s + mu c)) / (c sd)``."""
        return Affine(self.shift + mu[None] * self.scale, self.scale * sd[None], self.index)


class FeatureNormalizer:
    """The normalisation of SER features: per speaker (or utterance), then global.

    1. ``mode="speaker"``: z-score each layer and dimension over all the
       speaker's frames in the set (:class:`agser.normalize.SpeakerNormalizer`,
       speaker ids only, never labels); ``"utterance"``: over the utterance's
       own frames; ``"none"``.
    2. Standardise each layer and dimension by the mean and std of the
       *training* set's frames after step 1 (fitted once on the source).

    Statistics come from one streaming pass per set, reading one utterance at
    a time; they are kept once per speaker (:class:`Affine`), not once per
    utterance, so memory grows with the speakers, not with the corpus.
    :meth:`affine` gives a set's combined maps: ``normalised = (pooled -
    shift) / scale`` on its valid frames.
    """

    MODES = ("speaker", "utterance", "none")

    def __init__(self, mode="speaker"):
        if mode not in self.MODES:
            raise ParameterError(f"ser.normalize={mode!r} must be 'speaker', 'utterance' or 'none'")
        self.mode = mode
        self.global_ = None
        self._fitted = None

    @staticmethod
    def _frames(uset, i):
        f = pooled_features(uset.features, uset.utterance_id[i], uset.pool)
        return f.transpose(1, 0, 2)  # (T, n_layers, dim): frames along axis 0

    def first_stage(self, uset):
        """The :class:`Affine` of step 1 for a set."""
        from agser.normalize import SpeakerNormalizer

        n = len(uset)
        if self.mode == "speaker":
            norm = SpeakerNormalizer()
            for i in range(n):
                norm.partial_fit([self._frames(uset, i)], groups=[uset.speaker[i]])
            speakers = list(norm.speakers_)
            pos = {spk: j for j, spk in enumerate(speakers)}
            return Affine(np.stack([norm.mean_[spk] for spk in speakers]),
                          np.stack([norm.scale_[spk] for spk in speakers]),
                          np.array([pos[spk] for spk in np.asarray(uset.speaker, dtype=str)]))
        if self.mode == "utterance":
            stats = []
            for i in range(n):
                f = self._frames(uset, i).astype(np.float64)
                stats.append((f.mean(0), np.sqrt(f.var(0) + 1e-6)))
            return Affine(np.stack([a for a, _ in stats]), np.stack([b for _, b in stats]), np.arange(n))
        shape = self._frames(uset, 0).shape[1:]
        return Affine(np.zeros((1,) + shape), np.ones((1,) + shape), np.zeros(n, int))

    def fit(self, uset):
        """Fit step 2 on a (training) set; returns self."""
        first = self.first_stage(uset)
        self._fitted = (uset, first)  # affine() of this very set needs no second pass
        total = total_sq = 0.0
        count = 0
        for i in range(len(uset)):
            shift, scale = first[i]
            z = (self._frames(uset, i).astype(np.float64) - shift) / scale
            total = total + z.sum(0)
            total_sq = total_sq + (z * z).sum(0)
            count += z.shape[0]
        mu = total / max(count, 1)
        sd = np.sqrt(np.maximum(total_sq / max(count, 1) - mu * mu, 0.0) + 1e-8)
        self.global_ = (mu.astype(np.float32), sd.astype(np.float32))
        return self

    def affine(self, uset):
        """The :class:`Affine` of the whole map for a set: ``(x - shift) / scale`` per utterance."""
        if self.global_ is None:
            raise ParameterError("FeatureNormalizer.affine before fit")
        if self._fitted is not None and self._fitted[0] is uset:
            first = self._fitted[1]
        else:
            first = self.first_stage(uset)
        return first.then(*self.global_)


class UtteranceDataset:
    """A map-style dataset (``torch.utils.data``) of one set: pooled, normalised utterances.

    ``dataset[i]`` is a dict: ``x`` float32 (n_layers, T_i, dim), ``length``,
    ``index`` (i), ``label`` (-1 when the set has none) and, with fine-tuned
    blocks, ``block`` float32 (n_frames_raw, dim).

    Parameters
    ----------
    uset : UtteranceSet
    affine : Affine
        The set's maps (:meth:`FeatureNormalizer.affine`).
    labels : array of int, optional
    """

    def __init__(self, uset, affine, labels=None):
        self.uset = uset
        self.affine = affine
        self.labels = None if labels is None else np.asarray(labels, dtype=int)

    def __len__(self):
        return len(self.uset)

    def __getitem__(self, i):
        uid = self.uset.utterance_id[i]
        f = pooled_features(self.uset.features, uid, self.uset.pool)
        shift, scale = self.affine[i]
        x = (f - shift[:, None, :]) / scale[:, None, :]
        item = {"x": np.ascontiguousarray(x, dtype=np.float32), "length": int(f.shape[1]), "index": int(i),
                "label": -1 if self.labels is None else int(self.labels[i])}
        if self.uset.block_input is not None:
            item["block"] = np.asarray(self.uset.block_input[uid], dtype=np.float32)
        return item


def collate(items):
    """Pad a list of :class:`UtteranceDataset` items into one batch of tensors.

    Returns
    -------
    dict
        ``x`` (B, n_layers, T_max, dim), zero-padded; ``lengths``, ``labels``,
        ``index`` (B,) long; with fine-tuned blocks ``block`` (B, T_raw_max,
        dim) and ``block_lengths``.

    Examples
    --------
    >>> a = {"x": np.ones((2, 3, 4), np.float32), "length": 3, "index": 0, "label": 1}
    >>> b = {"x": np.ones((2, 5, 4), np.float32), "length": 5, "index": 1, "label": 2}
    >>> batch = collate([a, b])
    >>> tuple(batch["x"].shape), batch["lengths"].tolist()
    ((2, 2, 5, 4), [3, 5])
    """
    import torch

    L, _, D = items[0]["x"].shape
    T = max(it["length"] for it in items)
    x = np.zeros((len(items), L, T, D), np.float32)
    for j, it in enumerate(items):
        x[j, :, : it["length"]] = it["x"]
    out = {"x": torch.from_numpy(x),
           "lengths": torch.tensor([it["length"] for it in items], dtype=torch.long),
           "labels": torch.tensor([it["label"] for it in items], dtype=torch.long),
           "index": torch.tensor([it["index"] for it in items], dtype=torch.long)}
    if "block" in items[0]:
        from agser.ser.finetune import pad_block_input

        bx, bl = pad_block_input([it["block"] for it in items])
        out["block"], out["block_lengths"] = bx, bl
    return out


def utterance_means(uset, affine):
    """Mean over frames of every utterance's normalised features: (n, n_layers, dim) float64.

    Parameters
    ----------
    uset : UtteranceSet
    affine : Affine
        :meth:`FeatureNormalizer.affine` of the set.
    """
    out = np.zeros((len(uset),) + affine.shift.shape[1:], np.float64)
    for i, uid in enumerate(uset.utterance_id):
        f = pooled_features(uset.features, uid, uset.pool).astype(np.float64)
        shift, scale = affine[i]
        out[i] = (f.mean(1) - shift) / scale
    return out


class LayerView(Mapping):
    """``utterance_id -> features[utterance_id][layer]``, read on access (a fine-tuned block's input).

    Examples
    --------
    >>> v = LayerView({"u": np.arange(6).reshape(3, 2, 1)}, -1)
    >>> v["u"].ravel().tolist(), len(v)
    ([4, 5], 1)
    """

    def __init__(self, features, layer):
        self.features = features
        self.layer = int(layer)

    def __getitem__(self, utterance_id):
        return self.features[utterance_id][self.layer]

    def __iter__(self):
        return iter(self.features)

    def __len__(self):
        return len(self.features)
