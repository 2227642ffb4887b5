"""Chapter 2's figures: eye alignment, phones over the audio, the mouth cut at phones, counts, errors."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_eye_alignment", "plot_phone_alignment", "plot_cut_trajectory", "plot_phone_counts",
           "plot_boundary_errors"]


def plot_eye_alignment(raw, aligned):
    """Every frame's landmarks before (pixels) and after eye alignment (inter-pupil distances).

    Parameters
    ----------
    raw, aligned : numpy.ndarray, shape (n_frames, 68, 2)

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.6))
    other = np.r_[0:48, 60:68]
    for ax, pts, title, unit in ((axes[0], raw, "raw landmarks", "pixels"),
                                 (axes[1], aligned, "eye-aligned, IPD-normalised", "IPD")):
        ax.scatter(pts[:, other, 0].ravel(), pts[:, other, 1].ravel(), s=1, c="0.6", alpha=0.4)
        ax.scatter(pts[:, 48:60, 0].ravel(), pts[:, 48:60, 1].ravel(), s=1, c="tab:red", alpha=0.4)
        ax.invert_yaxis()
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(title)
        ax.set_xlabel(f"x ({unit})")
        ax.set_ylabel(f"y ({unit})")
    return fig


def _draw_phones(ax, phones, y, colour):
    for lab, s, e in phones[["label", "start", "end"]].itertuples(index=False):
        ax.axvline(s, color=colour, lw=0.6, alpha=0.7)
        ax.text((s + e) / 2, y, str(lab).rstrip("012"), ha="center", va="center", fontsize=10, color=colour,
                clip_on=True)


def plot_phone_alignment(audio, alignment, other=None, sr=16000, fmax=6000):
    """Waveform and spectrogram with the phones used (blue, white) and, optionally, another alignment (cyan).

    Parameters
    ----------
    audio : numpy.ndarray, shape (n_samples,)
    alignment, other : agser.phones.textgrid.Alignment
        ``other`` (e.g. pocketsphinx's, beside a reference TextGrid) is drawn lower in the spectrogram.
    sr : int, Hz
    fmax : float, Hz
        Top of the spectrogram.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from scipy.signal import spectrogram

    from agser.plot.style import PAGE_WIDTH

    t = np.arange(len(audio)) / sr
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 4.6), sharex=True, height_ratios=[1, 2])
    a0.plot(t, audio, lw=0.4, color="0.3")
    a0.set_ylabel("amplitude")
    _draw_phones(a0, alignment.phones, 0.85 * np.abs(audio).max(), "tab:blue")
    f, tt, S = spectrogram(audio, fs=sr, nperseg=400, noverlap=240)
    a1.pcolormesh(tt, f, 10 * np.log10(S + 1e-10), shading="auto", cmap="magma")
    a1.set_ylim(0, fmax)
    a1.set_ylabel("Hz")
    a1.set_xlabel("time (s)")
    _draw_phones(a1, alignment.phones, 0.93 * fmax, "white")
    if other is not None:
        _draw_phones(a1, other.phones, 0.8 * fmax, "tab:cyan")
    return fig


def plot_cut_trajectory(times, mouth, segments, frame_rate):
    """Mouth opening (51-57) and width (48-54) over the frames, each segment a band labelled with its phone.

    Parameters
    ----------
    times : numpy.ndarray, shape (n_frames,), s
    mouth : numpy.ndarray, shape (n_frames, 12, 2)
        Eye-aligned points 48-59 (IPD).
    segments : pandas.DataFrame
        The utterance's segments: ``phone, ipa, frame_start, n_frames``.
    frame_rate : float, Hz

    Returns
    -------
    matplotlib Figure
        Vowel bands blue, consonant bands grey.
    """
    import matplotlib.pyplot as plt

    from agser.phones.ipa import is_vowel
    from agser.plot.style import PAGE_WIDTH

    opening = np.linalg.norm(mouth[:, 9] - mouth[:, 3], axis=1)
    width = np.linalg.norm(mouth[:, 6] - mouth[:, 0], axis=1)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.2))
    ax.plot(times, opening, ".-", color="tab:red", label="opening 51-57")
    ax.plot(times, width, ".-", color="tab:green", label="width 48-54")
    period = 1 / frame_rate
    label_y = 1.05 * max(np.nanmax(opening), np.nanmax(width))
    for i, s in enumerate(segments.itertuples()):
        t0 = times[s.frame_start] - period / 2
        t1 = times[s.frame_start + s.n_frames - 1] + period / 2
        vowel = is_vowel(s.phone)
        ax.axvspan(t0, t1, color="tab:blue" if vowel else "tab:gray", alpha=0.25 if vowel else 0.1)
        # alternate heights, so that labels of short neighbouring phones do not overlap
        ax.text((t0 + t1) / 2, label_y * (1.0 if i % 2 == 0 else 1.07), s.ipa, ha="center", fontsize=10)
    ax.set_ylim(top=1.16 * label_y)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("IPD units")
    ax.legend(loc="center right", ncol=2)
    return fig


def plot_phone_counts(segments, top=None):
    """Segments per phone (ARPAbet) and corpus, most frequent first, as grouped horizontal-label bars.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``phone, corpus``.
    top : int, optional
        Only the ``top`` most frequent phones.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    counts = segments.pivot_table(index="phone", columns="corpus", values="start", aggfunc="size", fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index]
    if top is not None:
        counts = counts.iloc[:top]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.2))
    counts.plot.bar(ax=ax, width=0.8)
    ax.set_xlabel("phone (ARPAbet, stress stripped)")
    ax.set_ylabel("segments")
    ax.legend(title=None)
    return fig


def plot_boundary_errors(errors, clip_ms=200):
    """Histogram of absolute boundary errors (ms), clipped at ``clip_ms``.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    fig, ax = plt.subplots(figsize=(PAGE_WIDTH * 0.7, 2.8))
    ax.hist(np.minimum(np.asarray(errors) * 1000, clip_ms), bins=40, color="tab:blue")
    ax.set_xlabel(f"absolute boundary error (ms, clipped at {clip_ms})")
    ax.set_ylabel("boundaries")
    return fig
