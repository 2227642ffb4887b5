"""A 16 kHz source-filter synthesiser driven by the articulatory state.

The vocal-tract filter is a cascade of five formant resonators whose
frequencies follow the articulation: F1 rises with jaw opening and falls with
lip closure and rounding, F2 rises with tongue fronting and lip spreading and
falls with rounding, F3 falls with r-colouring; all scale with ``17 cm /
vocal-tract length``. The source is a glottal pulse train (open quotient and
closing skew set by vocal tension and breathiness) plus aspiration noise;
fricatives get shaped noise and stop releases a short burst. The filter is
applied frame by frame in the short-time Fourier domain (5 ms hop), so the
whole synthesis is a handful of vectorised numpy operations.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from agser.corpora.simulator.articulation import (
    AFFRICATES,
    FRICATIVES,
    NASALS,
    STOPS,
    VOICELESS,
)
from agser.phones.ipa import is_vowel, strip_stress

__all__ = [
    "SAMPLE_RATE",
    "HOP",
    "formant_tracks",
    "source_tracks",
    "f0_contour",
    "synthesize",
    "apply_channel",
]

SAMPLE_RATE = 16000
HOP = 80  # samples: the control rate is 200 Hz
N_FFT = 512
_BANDWIDTHS = np.array([70.0, 95.0, 140.0, 220.0, 300.0])


def formant_tracks(state, vtl=17.0, breath=0.0):
    """Formant frequencies and bandwidths from the articulatory state.

    Parameters
    ----------
    state : dict of str -> numpy.ndarray, shape (n,)
        ``jaw, spread, round, closure, tongue, rhotic`` (see
        :mod:`~agser.corpora.simulator.articulation`).
    vtl : float, cm
        Vocal-tract length.
    breath : float or numpy.ndarray, shape (n,)
        Breathiness: widens the lower bandwidths.

    Returns
    -------
    freqs, bandwidths : numpy.ndarray, shape (n, 5), Hz

    Examples
    --------
    >>> import numpy as np
    >>> i = dict(jaw=np.r_[0.15], spread=np.r_[0.75], round=np.r_[0.0],
    ...          closure=np.r_[0.0], tongue=np.r_[1.0], rhotic=np.r_[0.0])
    >>> f, b = formant_tracks(i)
    >>> bool(f[0, 0] < 400 and f[0, 1] > 2000)
    True
    """
    jaw, spread, rnd = state["jaw"], state["spread"], state["round"]
    clo, tongue, rho = state["closure"], state["tongue"], state["rhotic"]
    f1 = 240.0 + 620.0 * jaw - 60.0 * rnd - 120.0 * clo
    f2 = 1450.0 + 450.0 * tongue + 220.0 * spread - 450.0 * rnd - 250.0 * clo
    f3 = 2550.0 + 150.0 * tongue - 200.0 * rnd - 800.0 * rho
    f4 = np.full_like(f1, 3500.0)
    f5 = np.full_like(f1, 4500.0)
    freqs = np.stack([f1, f2, f3, f4, f5], axis=1) * (17.0 / float(vtl))
    freqs[:, 0] = np.maximum(freqs[:, 0], 180.0)
    freqs[:, 1] = np.maximum(freqs[:, 1], freqs[:, 0] + 150.0)
    freqs[:, 2] = np.maximum(freqs[:, 2], freqs[:, 1] + 250.0)
    bw = np.broadcast_to(_BANDWIDTHS, freqs.shape).copy()
    widen = 1.0 + 1.5 * np.clip(np.asarray(breath, float), 0.0, None)
    bw[:, 0] *= widen
    bw[:, 1] *= 0.5 + 0.5 * widen
    return freqs, bw


def _resonances(freqs, bws, f):
    """Cascade magnitude response, unity at DC: (n_freq, n_frames)."""
    F = freqs.T[:, None, :]  # (5, 1, n)
    B = bws.T[:, None, :] / 2.0
    ff = f[None, :, None]
    num = F**2 + B**2
    den = np.sqrt(((ff - F) ** 2 + B**2) * ((ff + F) ** 2 + B**2))
    return np.prod(num / den, axis=0)


# frication spectra: (centre Hz, bandwidth Hz, gain)
_FRIC = {
    "S": (5500.0, 2200.0, 1.0), "Z": (5500.0, 2200.0, 0.6),
    "SH": (3000.0, 1400.0, 1.0), "ZH": (3000.0, 1400.0, 0.6),
    "CH": (3200.0, 1500.0, 0.9), "JH": (3200.0, 1500.0, 0.5),
    "F": (4500.0, 4000.0, 0.25), "V": (4500.0, 4000.0, 0.15),
    "TH": (5000.0, 4000.0, 0.2), "DH": (4000.0, 4000.0, 0.12),
}
_BURST = {"P": (1200.0, 2500.0), "B": (1200.0, 2500.0), "T": (4200.0, 2500.0),
          "D": (4000.0, 2500.0), "K": (2200.0, 1200.0), "G": (2200.0, 1200.0),
          "CH": (3200.0, 1500.0), "JH": (3200.0, 1500.0)}


def source_tracks(phones_df, frame_times):
    """Source gates per control frame, from the phone sequence.

    Parameters
    ----------
    phones_df : pandas.DataFrame
        ``label, start, end`` (seconds).
    frame_times : numpy.ndarray, shape (n,), seconds

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n,)
        ``voice`` (voicing amplitude), ``asp`` (aspiration), ``fric``
        (frication amplitude), ``fric_fc``, ``fric_bw`` (Hz), ``burst``
        (burst amplitude), ``nasal`` (0..1).
    """
    n = len(frame_times)
    voice, asp, fric, burst, nasal = (np.zeros(n) for _ in range(5))
    fc, bw = np.full(n, 4000.0), np.full(n, 3000.0)
    for label, start, end in phones_df[["label", "start", "end"]].itertuples(index=False):
        base = strip_stress(label)
        m = (frame_times >= start) & (frame_times < end)
        if is_vowel(label):
            voice[m] = 1.0
        elif base in NASALS:
            voice[m], nasal[m] = 0.45, 1.0
        elif base in STOPS or base in AFFRICATES:
            # closure (voice bar if voiced), then release burst and aspiration
            voice[m] = 0.0 if base in VOICELESS else 0.12
            rel = (frame_times >= end - 0.012) & (frame_times < end)
            burst[rel] = 1.0 if base in VOICELESS else 0.6
            fc[rel], bw[rel] = _BURST[base]
            if base in AFFRICATES:
                fr = (frame_times >= end - 0.04) & (frame_times < end)
                f0, b0, g = _FRIC[base]
                fric[fr], fc[fr], bw[fr] = g, f0, b0
            if base in VOICELESS:
                vot = (frame_times >= end) & (frame_times < end + 0.035)
                asp[vot] = np.maximum(asp[vot], 0.5)
        elif base == "HH":
            asp[m] = 0.8
        elif base in FRICATIVES:
            f0, b0, g = _FRIC[base]
            fric[m], fc[m], bw[m] = g, f0, b0
            voice[m] = 0.0 if base in VOICELESS else 0.45
        else:  # approximants L R W Y
            voice[m] = 0.75
    # 10 ms smoothing so that gates ramp rather than click
    k = np.ones(3) / 3.0
    smooth = lambda x: np.convolve(x, k, mode="same")  # noqa: E731
    return dict(voice=smooth(voice), asp=smooth(asp), fric=smooth(fric), fric_fc=fc,
                fric_bw=bw, burst=burst, nasal=smooth(nasal))


def f0_contour(phones_df, times, f0, range_st, rng, duration):
    """Intonation: accents on stressed vowels over a declining baseline.

    Parameters
    ----------
    phones_df : pandas.DataFrame
        ``label, start, end``; vowels with stress ``1`` carry accents.
    times : numpy.ndarray, shape (n,), seconds
    f0 : float, Hz
        Mean F0 of the utterance.
    range_st : float, semitones
        Mean accent height.
    rng : numpy.random.Generator
    duration : float, seconds

    Returns
    -------
    numpy.ndarray, shape (n,), Hz
    """
    st = -1.2 * range_st * (times / max(duration, 1e-3) - 0.5)  # declination
    for label, start, end in phones_df[["label", "start", "end"]].itertuples(index=False):
        if is_vowel(label) and str(label).endswith("1"):
            h = range_st * float(rng.uniform(0.4, 1.2))
            c = 0.5 * (start + end)
            st = st + h * np.exp(-0.5 * ((times - c) / 0.07) ** 2)
    # slow random wobble (about 4 Hz) of a fraction of a semitone
    knots = rng.normal(0.0, 0.3, size=int(duration * 4) + 3)
    st = st + np.interp(times, np.linspace(0, duration, len(knots)), knots)
    return f0 * 2.0 ** (st / 12.0)


def synthesize(freqs, bws, src, f0, rng, tension=0.0, breath=0.0, level_db=0.0, n_samples=None):
    """Render the waveform from control-rate tracks.

    Parameters
    ----------
    freqs, bws : numpy.ndarray, shape (n, 5), Hz
        Formant frequencies and bandwidths per control frame (every
        :data:`HOP` samples).
    src : dict
        Output of :func:`source_tracks` on the same frames.
    f0 : numpy.ndarray, shape (n,), Hz
    rng : numpy.random.Generator
    tension : float
        Vocal tension (> 0: shorter open phase, sharper closure, brighter).
    breath : float
        Breathiness (> 0: longer open phase, more aspiration noise).
    level_db : float, dB
        Level relative to a neutral utterance, whose voiced parts have an RMS
        of 0.035 (-29 dBFS).
    n_samples : int, optional
        Output length (default ``n * HOP``).

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float64
    """
    n = freqs.shape[0]
    n_samples = int(n_samples or n * HOP)
    t_ctrl = np.arange(n) * HOP
    ts = np.arange(n_samples)
    f0s = np.interp(ts, t_ctrl, f0)
    phase = np.cumsum(f0s / SAMPLE_RATE)
    frac = phase - np.floor(phase)
    oq = float(np.clip(0.6 - 0.12 * tension + 0.12 * breath, 0.35, 0.85))
    rise = float(np.clip(0.68 + 0.1 * tension, 0.55, 0.85))
    tr, tf = rise * oq, (1.0 - rise) * oq
    flow = np.where(
        frac < tr,
        0.5 * (1.0 - np.cos(np.pi * frac / tr)),
        np.where(frac < oq, np.cos(0.5 * np.pi * (frac - tr) / tf), 0.0),
    )
    glottal = np.diff(flow, prepend=0.0) * (SAMPLE_RATE / 200.0)
    white = rng.standard_normal(n_samples)
    aspiration = white * (0.35 + flow) * 0.25
    fnoise = rng.standard_normal(n_samples)

    def stft(x):
        return scipy.signal.stft(x, fs=SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP,
                                 boundary="even", padded=True)[2]

    G, A, N = stft(glottal), stft(aspiration), stft(fnoise)
    m = G.shape[1]
    f = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    idx = np.minimum(np.arange(m), n - 1)
    tract = _resonances(freqs[idx], bws[idx], f)
    # nasal murmur: a low resonance and a damped spectrum above it
    nasal = src["nasal"][idx][None, :]
    tract = tract * (1.0 - nasal * (1.0 - 1.0 / (1.0 + (f[:, None] / 350.0) ** 2)))
    breath_amt = float(np.clip(breath, 0.0, 1.5))
    voiced = src["voice"][idx][None, :] * (G + breath_amt * A) + src["asp"][idx][None, :] * A * 3.0
    fc, fb = src["fric_fc"][idx][None, :], src["fric_bw"][idx][None, :]
    shape = 1.0 / (1.0 + ((f[:, None] - fc) / fb) ** 2)
    noise_amp = src["fric"][idx][None, :] * 0.5 + src["burst"][idx][None, :] * 1.2
    spec = voiced * tract + N * shape * noise_amp
    y = scipy.signal.istft(spec, fs=SAMPLE_RATE, nperseg=N_FFT, noverlap=N_FFT - HOP,
                           boundary=True)[1][:n_samples]
    if y.shape[0] < n_samples:
        y = np.pad(y, (0, n_samples - y.shape[0]))
    # the pulse train's energy grows with F0; speakers should differ in level
    # only through level_db, so the speech is first brought to a fixed RMS
    active = src["voice"][np.minimum(ts // HOP, n - 1)] > 0.5
    rms = np.sqrt(np.mean(y[active] ** 2)) if active.any() else np.sqrt(np.mean(y**2))
    return y * (0.035 / max(float(rms), 1e-12)) * 10.0 ** (level_db / 20.0)


def apply_channel(y, rng, snr_db=40.0, rt60=0.0, band_hz=8000.0, low_hz=50.0, level_db=0.0):
    """Recording channel: reverberation, band limit and additive noise.

    Parameters
    ----------
    y : numpy.ndarray, shape (n,)
        Clean waveform at 16 kHz.
    rng : numpy.random.Generator
    snr_db : float, dB
        Speech-to-noise ratio of the added (pink) noise.
    rt60 : float, seconds
        Reverberation time of an exponentially decaying noise impulse
        response (0: dry).
    band_hz, low_hz : float, Hz
        Pass band of a 4th-order Butterworth filter (``band_hz >= 7900``: no
        upper limit).
    level_db : float, dB
        The speech's gain relative to a neutral utterance (as given to
        :func:`synthesize`): the noise level is set against the speech level
        without this gain, so louder speech gets a higher SNR, as in a room.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    >>> y = apply_channel(x, np.random.default_rng(0), snr_db=10.0, rt60=0.2, band_hz=3400)
    >>> y.shape
    (16000,)
    """
    n = y.shape[0]
    if rt60 > 0:
        t = np.arange(int(rt60 * 1.2 * SAMPLE_RATE)) / SAMPLE_RATE
        h = rng.standard_normal(t.shape[0]) * np.exp(-6.9 * t / rt60)
        h[0] = 0.0
        h *= 0.7 / np.sqrt(np.sum(h**2))
        h[0] = 1.0
        y = scipy.signal.fftconvolve(y, h)[:n]
    if band_hz < 7900:
        sos = scipy.signal.butter(4, [low_hz, band_hz], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    else:
        sos = scipy.signal.butter(2, low_hz, btype="highpass", fs=SAMPLE_RATE, output="sos")
    y = scipy.signal.sosfilt(sos, y)
    speech = y[np.abs(y) > 0.1 * np.max(np.abs(y))] if np.any(y) else y
    p_speech = float(np.mean(speech**2)) if speech.size else 0.0
    p_speech /= 10.0 ** (level_db / 10.0)
    # pink noise: white noise through a -3 dB/octave filter (Kellet's approximation)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    noise = scipy.signal.lfilter(b, a, rng.standard_normal(n))
    noise *= np.sqrt(p_speech / max(np.mean(noise**2), 1e-20) / 10.0 ** (snr_db / 10.0))
    return y + noise
