"""Audio loading: WAV, MP3 and the audio track of video files, at 16 kHz mono.

WAV/FLAC/OGG files are read with :mod:`soundfile`; everything else (MP3 and
the audio track of FLV, MPG, MP4, AVI, ... videos) is decoded with PyAV, which
bundles its own FFmpeg libraries, so no system ``ffmpeg`` is needed.

An unusable file raises :class:`agser.errors.InputError` (stage ``"audio"``)
with a one-line reason:

- the file cannot be opened or decoded (``unreadable``);
- it has no audio stream (``no audio track``);
- it decodes to zero samples (``zero-length``);
- the decoded audio is shorter than the container declares by more than
  10 % and 0.1 s (``truncated``), as happens with a partly copied FLV;
- it is silent: the RMS of the whole signal is below ``silence_dbfs``
  (default -60 dBFS, full scale = 1.0), i.e. no speech the aligner could use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agser.errors import InputError, ParameterError

__all__ = ["load_audio", "rms_dbfs", "SILENCE_DBFS"]

#: Whole-signal RMS (dB re full scale) below which audio counts as silent.
SILENCE_DBFS = -60.0
_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif"}


def rms_dbfs(y):
    """RMS level of a signal in dB relative to full scale (1.0).

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        Float samples in [-1, 1].

    Returns
    -------
    float
        ``20 log10(rms)``; ``-inf`` for an all-zero signal.

    Examples
    --------
    >>> round(rms_dbfs(np.full(100, 0.1)), 1)
    -20.0
    """
    y = np.asarray(y, dtype=np.float64)
    rms = float(np.sqrt(np.mean(y * y))) if y.size else 0.0
    return float(20.0 * np.log10(rms)) if rms > 0 else float("-inf")


def _resample(y, sr_in, sr_out):
    if sr_in == sr_out:
        return y
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(y, sr_out // g, sr_in // g).astype(np.float32)


def _load_soundfile(path, sr):
    import soundfile as sf

    try:
        y, sr_in = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise InputError(f"unreadable audio file {path.name}: {exc}", stage="audio") from exc
    return _resample(y.mean(axis=1), sr_in, sr), None


def _load_av(path, sr):
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable media file {path.name}: {exc}", stage="audio") from exc
    with container:
        if not container.streams.audio:
            kinds = ", ".join(s.type for s in container.streams) or "none"
            raise InputError(
                f"{path.name} has no audio track (streams: {kinds})", stage="audio"
            )
        stream = container.streams.audio[0]
        # Resample keeping the channels, then average them: FFmpeg's own
        # stereo->mono downmix sums at -3 dB each and can exceed full scale.
        resampler = None
        chunks = []
        try:
            for frame in container.decode(stream):
                if resampler is None:
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=sr)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().mean(axis=0))
        except av.error.FFmpegError as exc:
            # A corrupt packet mid-stream: keep what decoded, the duration check
            # below decides whether that is a truncated file.
            if not chunks:
                raise InputError(f"cannot decode audio of {path.name}: {exc}", stage="audio") from exc
        for out in resampler.resample(None) if resampler is not None else ():
            chunks.append(out.to_ndarray().mean(axis=0))
        declared = container.duration / 1e6 if container.duration else None
    y = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return y, declared


def load_audio(path, sr=16000, silence_dbfs=SILENCE_DBFS):
    """Decode an audio file or a video's audio track to float32 mono.

    Parameters
    ----------
    path : str or Path
        WAV/FLAC (soundfile) or anything FFmpeg reads (MP3, FLV, MPG, MP4, ...).
    sr : int
        Output sample rate in Hz (default 16000, the aligner's rate).
    silence_dbfs : float
        Whole-signal RMS level (dBFS) below which the audio is rejected as
        silent; ``None`` disables the check.

    Returns
    -------
    ndarray, shape (n_samples,), float32
        Samples in [-1, 1] at ``sr`` Hz.

    Raises
    ------
    ParameterError
        ``path`` does not exist or ``sr`` is not positive.
    InputError
        Unreadable, no audio track, zero-length, truncated or silent (stage
        ``"audio"``).

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> t = np.arange(8000) / 8000
    >>> f = tempfile.NamedTemporaryFile(suffix=".wav", delete=False).name
    >>> sf.write(f, 0.5 * np.sin(2 * np.pi * 220 * t), 8000)
    >>> load_audio(f).shape
    (16000,)
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"audio path {str(path)!r} does not exist")
    if int(sr) <= 0:
        raise ParameterError(f"sr={sr} must be a positive sample rate in Hz")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is an empty file (0 bytes)", stage="audio")
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        y, declared = _load_soundfile(path, int(sr))
    else:
        y, declared = _load_av(path, int(sr))
    if y.size == 0:
        raise InputError(f"{path.name}: audio track is zero-length", stage="audio")
    got = y.size / sr
    if declared and got < 0.9 * declared - 0.1:
        raise InputError(
            f"{path.name} looks truncated: decoded {got:.2f} s of audio, "
            f"the container declares {declared:.2f} s",
            stage="audio",
        )
    if silence_dbfs is not None:
        level = rms_dbfs(y)
        if level < silence_dbfs:
            raise InputError(
                f"{path.name}: audio is silent (RMS {level:.1f} dBFS < {silence_dbfs:g} dBFS)",
                stage="audio",
            )
    return np.ascontiguousarray(y, dtype=np.float32)
