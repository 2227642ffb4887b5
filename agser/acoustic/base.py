"""The acoustic encoder protocol and pooling of frame features over time spans.

Every encoder takes a mono float32 waveform at 16 kHz and returns frame
features for every layer, ``(n_layers, n_frames, dim)``; frame ``t`` is
centred at ``frame_offset + t / frame_rate`` seconds.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from agser.errors import ParameterError

__all__ = ["Encoder", "pool_spans", "segment_embeddings", "frame_times", "make_encoder", "load_waveform"]


@runtime_checkable
class Encoder(Protocol):
    """What every acoustic encoder offers.

    Attributes
    ----------
    sample_rate : int
        Input sample rate in Hz (16000).
    frame_rate : float
        Output frames per second (Hz).
    n_layers : int
        Number of layers returned by :meth:`encode`.
    dim : int
        Feature size of every layer.
    """

    sample_rate: int
    frame_rate: float
    n_layers: int
    dim: int

    def encode(self, waveform):  # pragma: no cover - protocol
        """``waveform``: float32 (n_samples,) at ``sample_rate`` -> (n_layers, n_frames, dim)."""


def frame_times(n_frames, frame_rate, frame_offset=0.0):
    """Centre time (s) of each encoder frame.

    Examples
    --------
    >>> frame_times(3, 100.0).tolist()
    [0.0, 0.01, 0.02]
    """
    return frame_offset + np.arange(int(n_frames)) / float(frame_rate)


def pool_spans(features, frame_rate, spans, frame_offset=0.0):
    """Mean of frame features over time spans, per layer.

    A span takes the frames whose centre lies in ``[start, end)``; a span too
    short to hold any frame centre takes the one frame nearest to its
    midpoint, so every span gets a vector.

    Parameters
    ----------
    features : numpy.ndarray
        ``(n_layers, n_frames, dim)`` frame features of one utterance.
    frame_rate : float
        Frames per second of ``features`` (Hz).
    spans : array-like
        ``(n_spans, 2)`` start and end times in seconds.
    frame_offset : float
        Centre time (s) of frame 0.

    Returns
    -------
    numpy.ndarray
        ``(n_spans, n_layers, dim)`` float32.

    Examples
    --------
    >>> f = np.arange(10, dtype=np.float32).reshape(1, 10, 1)  # 1 layer, 10 frames at 100 Hz
    >>> pool_spans(f, 100.0, [[0.0, 0.03], [0.051, 0.052]])[:, 0, 0].tolist()
    [1.0, 5.0]
    """
    features = np.asarray(features)
    if features.ndim != 3:
        raise ParameterError(f"features must be (n_layers, n_frames, dim), got shape {features.shape}")
    n_layers, n_frames, dim = features.shape
    spans = np.asarray(spans, dtype=float).reshape(-1, 2)
    if n_frames == 0:
        raise ParameterError("features hold no frame")
    if not frame_rate > 0:
        raise ParameterError(f"frame_rate={frame_rate!r} must be positive")
    if np.any(spans[:, 1] < spans[:, 0]):
        bad = spans[spans[:, 1] < spans[:, 0]][0]
        raise ParameterError(f"span {bad.tolist()} ends before it starts")
    times = frame_times(n_frames, frame_rate, frame_offset)
    # Prefix sums make every span an O(1) difference, whatever their number.
    csum = np.concatenate([np.zeros((n_layers, 1, dim)), np.cumsum(features, axis=1, dtype=np.float64)], axis=1)
    lo = np.searchsorted(times, spans[:, 0], side="left")
    hi = np.searchsorted(times, spans[:, 1], side="left")
    empty = hi <= lo
    mid = np.clip(np.rint(((spans[:, 0] + spans[:, 1]) / 2 - frame_offset) * frame_rate), 0, n_frames - 1).astype(int)
    lo = np.where(empty, mid, lo)
    hi = np.where(empty, mid + 1, hi)
    sums = csum[:, hi, :] - csum[:, lo, :]  # (n_layers, n_spans, dim)
    out = sums / (hi - lo)[None, :, None]
    return np.ascontiguousarray(out.transpose(1, 0, 2)).astype(np.float32)


def segment_embeddings(segments, features, failures, frame_rate, n_layers, dim, frame_offset=0.0):
    """Encoder frames averaged over every segment's span (:func:`pool_spans`), per layer.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``utterance_id, start, end`` (seconds) per segment.
    features : mapping
        ``utterance_id -> (n_layers, n_frames, dim)`` frame features.
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` of the utterances that have no features.
    frame_rate : float
        Frames per second (Hz).
    n_layers, dim : int
    frame_offset : float
        Centre time (s) of frame 0.

    Returns
    -------
    embeddings : numpy.ndarray
        float32 ``(n_segments, n_layers, dim)``; NaN rows for segments whose
        utterance has no features.
    failures : pandas.DataFrame
        ``utterance_id, stage, reason`` of the utterances with segments but no
        features.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"utterance_id": ["a", "b"], "start": [0.0, 0.0], "end": [0.02, 0.02]})
    >>> f = {"a": np.ones((1, 5, 2), np.float32)}
    >>> no = pd.DataFrame(columns=["utterance_id", "stage", "reason"])
    >>> e, fail = segment_embeddings(seg, f, no, 100.0, 1, 2)
    >>> e[:, 0, 0].tolist(), fail["utterance_id"].tolist()
    ([1.0, nan], ['b'])
    """
    import pandas as pd

    emb = np.full((len(segments), n_layers, dim), np.nan, dtype=np.float32)
    failed = {r.utterance_id: r for r in failures.itertuples(index=False)}
    rows = []
    spans_all = segments[["start", "end"]].to_numpy()
    for utt, idx in segments.groupby("utterance_id", sort=False).indices.items():
        if utt in failed:
            rows.append({"utterance_id": utt, "stage": failed[utt].stage, "reason": failed[utt].reason})
        elif utt not in features:
            rows.append({"utterance_id": utt, "stage": "acoustic",
                         "reason": f"utterance {utt!r} is not in the manifest"})
        else:
            emb[idx] = pool_spans(features[utt], frame_rate, spans_all[idx], frame_offset=frame_offset)
    return emb, pd.DataFrame(rows, columns=["utterance_id", "stage", "reason"])


def load_waveform(path, sample_rate=16000):
    """Mono float32 audio at ``sample_rate`` Hz from an audio file or a video's sound track.

    The decoding is :func:`agser.phones.audio.load_audio` (soundfile or FFmpeg,
    resampled; unreadable, truncated or silent audio raises ``InputError``);
    a missing file is one utterance's problem here, so it raises
    ``InputError`` too rather than stopping a run.
    """
    from pathlib import Path

    from agser.errors import InputError
    from agser.phones.audio import load_audio

    if not Path(path).is_file():
        raise InputError(f"audio {str(path)!r} does not exist", stage="acoustic")
    return load_audio(path, sr=int(sample_rate))


def make_encoder(params=None):
    """Build the encoder that a run's ``acoustic`` parameters name.

    Parameters
    ----------
    params : dict, optional
        ``{"encoder": "logmel" | "hf", "options": {...}}``; ``options`` are
        the encoder's keyword arguments. Default: ``LogMelEncoder()``.

    Examples
    --------
    >>> make_encoder({"encoder": "logmel", "options": {"n_mels": 20}}).dim
    20
    """
    params = dict(params or {})
    name = params.get("encoder", "logmel")
    options = dict(params.get("options") or {})
    if name == "logmel":
        from agser.acoustic.logmel import LogMelEncoder

        return LogMelEncoder(**options)
    if name == "hf":
        from agser.acoustic.hf import HFEncoder

        return HFEncoder(**options)
    raise ParameterError(f"acoustic.encoder={name!r} must be 'logmel' or 'hf'")
