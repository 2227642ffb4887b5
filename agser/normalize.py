"""Per-speaker normalisation: a scikit-learn transformer over sequences of frames.

Speaker normalisation (Schuller et al. 2010, standard in cross-corpus SER)
removes what is constant for a speaker (and a recording channel) and keeps how
that speaker's utterances differ from each other. It reads speaker ids, never
emotion labels. The same transformer serves two stages:

- SER features: z-score every encoder layer and dimension per speaker
  (``with_std=True``);
- speaker-free mouth gestures: subtract each speaker's mean mouth shape over
  all their frames (``with_std=False``), which removes the speaker's own mouth
  position, width and opening that eye alignment and inter-pupil scaling leave
  in the gesture.

Statistics are accumulated in float64, one sequence at a time, so a corpus
need not fit in memory (:meth:`SpeakerNormalizer.partial_fit`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from agser.errors import ParameterError

__all__ = ["SpeakerNormalizer"]


class SpeakerNormalizer(TransformerMixin, BaseEstimator):
    """Per-speaker mean (and std) of frames, removed from every frame of that speaker.

    Parameters
    ----------
    with_mean : bool
        Subtract the speaker's mean frame.
    with_std : bool
        Divide by the speaker's standard deviation (per feature).
    eps : float
        Added to the variance before the square root (a constant feature stays finite).

    Attributes
    ----------
    speakers_ : numpy.ndarray of str
        The speakers seen, sorted.
    mean_ : dict
        speaker -> float64 array of one frame's shape.
    scale_ : dict
        speaker -> float64 array (ones without ``with_std``).
    n_frames_ : dict
        speaker -> number of frames seen.

    Examples
    --------
    >>> X = [np.array([[0.0], [2.0]]), np.array([[10.0], [14.0]])]
    >>> norm = SpeakerNormalizer(with_std=False).fit(X, groups=["a", "b"])
    >>> [x.ravel().tolist() for x in norm.transform(X, groups=["a", "b"])]
    [[-1.0, 1.0], [-2.0, 2.0]]
    """

    def __init__(self, with_mean=True, with_std=True, eps=1e-6):
        self.with_mean = with_mean
        self.with_std = with_std
        self.eps = eps

    def _reset(self):
        for name in ("speakers_", "mean_", "scale_", "n_frames_", "_sum", "_sumsq"):
            if hasattr(self, name):
                delattr(self, name)

    def fit(self, X, y=None, groups=None):
        """Statistics of each speaker over all their frames.

        Parameters
        ----------
        X : sequence of array, each (n_frames_i, ...)
            Frames along axis 0 of each sequence (an utterance, a segment).
        y : ignored
        groups : array of str, (n_sequences,)
            The speaker of each sequence.

        Returns
        -------
        self
        """
        self._reset()
        return self.partial_fit(X, groups=groups)

    def partial_fit(self, X, y=None, groups=None):
        """Add sequences to the statistics (for corpora read one utterance at a time)."""
        if groups is None:
            raise ParameterError("SpeakerNormalizer needs groups= (the speaker of each sequence)")
        groups = np.asarray(groups, dtype=str)
        if len(groups) != len(X):
            raise ParameterError(f"groups has {len(groups)} entries for {len(X)} sequences")
        if not hasattr(self, "_sum"):
            self._sum, self._sumsq, self.n_frames_ = {}, {}, {}
        for x, spk in zip(X, groups):
            x = np.asarray(x, dtype=np.float64)
            if x.shape[0] == 0:
                continue
            if not np.isfinite(x).all():
                raise ParameterError(f"a sequence of speaker {spk!r} holds NaN or inf")
            if spk not in self._sum:
                self._sum[spk] = np.zeros(x.shape[1:])
                self._sumsq[spk] = np.zeros(x.shape[1:])
                self.n_frames_[spk] = 0
            self._sum[spk] += x.sum(0)
            self._sumsq[spk] += (x * x).sum(0)
            self.n_frames_[spk] += x.shape[0]
        self.speakers_ = np.array(sorted(self.n_frames_), dtype=str)
        self.mean_, self.scale_ = {}, {}
        for spk in self.speakers_:
            n = self.n_frames_[spk]
            mu = self._sum[spk] / n
            var = np.maximum(self._sumsq[spk] / n - mu * mu, 0.0)
            self.mean_[spk] = mu if self.with_mean else np.zeros_like(mu)
            self.scale_[spk] = np.sqrt(var + self.eps) if self.with_std else np.ones_like(mu)
        return self

    def shift_scale(self, speaker):
        """``(shift, scale)`` of one speaker: ``transform(x) = (x - shift) / scale``."""
        check_is_fitted(self, "mean_")
        if speaker not in self.mean_:
            raise ParameterError(f"speaker {speaker!r} was not seen in fit (seen: "
                                 f"{', '.join(self.speakers_[:10])}{' ...' if len(self.speakers_) > 10 else ''})")
        return self.mean_[speaker], self.scale_[speaker]

    def transform(self, X, groups=None):
        """Each sequence with its speaker's statistics removed (float64 arrays)."""
        check_is_fitted(self, "mean_")
        if groups is None:
            raise ParameterError("SpeakerNormalizer.transform needs groups= (the speaker of each sequence)")
        groups = np.asarray(groups, dtype=str)
        if len(groups) != len(X):
            raise ParameterError(f"groups has {len(groups)} entries for {len(X)} sequences")
        out = []
        for x, spk in zip(X, groups):
            shift, scale = self.shift_scale(spk)
            out.append((np.asarray(x, dtype=np.float64) - shift) / scale)
        return out

    def fit_transform(self, X, y=None, groups=None):
        return self.fit(X, groups=groups).transform(X, groups=groups)
