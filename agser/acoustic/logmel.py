"""A built-in acoustic encoder that needs no downloaded weights.

Its "layers" are four classic views of the same short-time spectrum, so that
everything written for a layered SSL encoder (layer choice, layer stacking,
per-layer CORAL) also runs on it:

====  =============  ==========================================================
 0    ``logmel``     log mel energies, ``log(mel power + 1e-6)``
 1    ``delta``      their first time derivative (regression over +-2 frames)
 2    ``cmn``        log mel minus its utterance mean (cepstral mean norm.)
 3    ``mfcc``       orthonormal DCT-II of the log mel energies
====  =============  ==========================================================

Every layer has ``dim = n_mels`` (``mfcc`` keeps all ``n_mels``
coefficients), so layers stack into one ``(n_layers, n_frames, dim)`` array.
Frames: 25 ms Hann windows (``n_fft = 400`` at 16 kHz), hop 10 ms, i.e. a
frame rate of 100 Hz; the signal is centre-padded so frame ``t`` is centred at
``t / 100`` seconds. Mel filters span ``fmin``-``fmax`` (20-8000 Hz).
"""

from __future__ import annotations

import numpy as np

from agser.errors import InputError, ParameterError

__all__ = ["LogMelEncoder", "LAYER_NAMES"]

LAYER_NAMES = ("logmel", "delta", "cmn", "mfcc")


def _delta(x, width=2):
    """Regression delta over +-``width`` frames along the last axis, edges repeated."""
    pad = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(width, width)], mode="edge")
    n = x.shape[-1]
    num = sum(k * (pad[..., width + k : width + k + n] - pad[..., width - k : width - k + n]) for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


class LogMelEncoder:
    """Log-mel based frame features at 100 Hz, four layers of ``n_mels`` each.

    Parameters
    ----------
    n_mels : int
        Number of mel bands, which is also ``dim`` of every layer.
    fmin, fmax : float
        Mel filter-bank range in Hz.

    Attributes
    ----------
    sample_rate : int
        16000 Hz.
    frame_rate : float
        100.0 Hz (hop 10 ms).
    frame_offset : float
        0.0 s: frame ``t`` is centred at ``t / frame_rate``.
    n_layers : int
        4 (``LAYER_NAMES``).
    dim : int
        ``n_mels``.

    Examples
    --------
    >>> enc = LogMelEncoder(n_mels=32)
    >>> wav = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> enc.encode(wav).shape
    (4, 101, 32)
    """

    sample_rate = 16000
    frame_rate = 100.0
    frame_offset = 0.0
    layer_names = LAYER_NAMES

    def __init__(self, n_mels=40, fmin=20.0, fmax=8000.0):
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax

    @property
    def n_layers(self):
        return len(LAYER_NAMES)

    @property
    def dim(self):
        return int(self.n_mels)

    def _filters(self):
        if not hasattr(self, "_fb"):
            import librosa

            if int(self.n_mels) < 1:
                raise ParameterError(f"n_mels={self.n_mels!r} must be a positive integer")
            if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
                raise ParameterError(
                    f"fmin={self.fmin!r}, fmax={self.fmax!r} must satisfy 0 <= fmin < fmax <= 8000"
                )
            self._fb = librosa.filters.mel(
                sr=self.sample_rate, n_fft=400, n_mels=int(self.n_mels), fmin=self.fmin, fmax=self.fmax
            ).astype(np.float32)
        return self._fb

    def encode(self, waveform):
        """Frame features of one waveform.

        Parameters
        ----------
        waveform : numpy.ndarray
            ``(n_samples,)`` float, mono, 16 kHz, any amplitude scale.

        Returns
        -------
        numpy.ndarray
            ``(4, 1 + n_samples // 160, n_mels)`` float32.

        Raises
        ------
        InputError
            For an empty or non-finite waveform.
        """
        import librosa

        wav = np.asarray(waveform, dtype=np.float32)
        if wav.ndim != 1:
            raise ParameterError(f"waveform must be 1-D (mono), got shape {wav.shape}")
        if wav.size == 0:
            raise InputError("empty waveform", stage="acoustic")
        if not np.all(np.isfinite(wav)):
            raise InputError("waveform holds NaN or infinite samples", stage="acoustic")
        spec = np.abs(librosa.stft(wav, n_fft=400, hop_length=160, win_length=400, center=True)) ** 2
        logmel = np.log(self._filters() @ spec + 1e-6)  # (n_mels, T)
        from scipy.fft import dct

        layers = np.stack(
            [
                logmel,
                _delta(logmel),
                logmel - logmel.mean(axis=1, keepdims=True),
                dct(logmel, type=2, norm="ortho", axis=0),
            ]
        )
        return np.ascontiguousarray(layers.transpose(0, 2, 1)).astype(np.float32)
