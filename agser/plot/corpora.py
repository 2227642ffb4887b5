"""The Corpora chapter's figures: vowel mouth shapes, one utterance's sound and articulation, the domain shift."""

from __future__ import annotations

import numpy as np

__all__ = ["corpus_colours", "plot_vowel_shapes", "plot_example_utterance", "plot_channel", "plot_pose"]

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def corpus_colours(corpora):
    """One colour per corpus, in sorted order.

    Examples
    --------
    >>> corpus_colours(["b", "a"])
    {'a': 'tab:blue', 'b': 'tab:orange'}
    """
    return dict(zip(sorted(corpora), _COLOURS))


def plot_vowel_shapes(shapes):
    """Mean mouth opening and width over the vowel (band: one standard deviation), per vowel and corpus.

    Parameters
    ----------
    shapes : pandas.DataFrame
        :func:`agser.analysis.corpora.vowel_shapes`.

    Returns
    -------
    matplotlib Figure
        Solid lines /ɑ/, dashed /i/ (any other phone dotted); legend under the panels.
    """
    import matplotlib.pyplot as plt

    from agser.phones.ipa import arpabet_to_ipa
    from agser.plot.style import PAGE_WIDTH

    colours = corpus_colours(shapes["corpus"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.6), sharex=True)
    styles = {"AA": "-", "IY": "--"}
    for ax, what, title in zip(axes, ("height", "width"), ("opening (57 - 51)", "width (54 - 48)")):
        for (corpus, phone), g in shapes.groupby(["corpus", "phone"]):
            arr = np.stack(g[what].to_numpy())
            grid = np.linspace(0, 100, arr.shape[1])
            mu, sd = arr.mean(0), arr.std(0)
            ax.plot(grid, mu, styles.get(phone, ":"), color=colours[corpus],
                    label=f"/{arpabet_to_ipa(phone)}/ {corpus} (n={len(g)})")
            ax.fill_between(grid, mu - sd, mu + sd, color=colours[corpus], alpha=0.12)
        ax.set_xlabel("position in the vowel (%)")
        ax.set_ylabel(f"{what} / inter-pupil dist.")
        ax.set_title(title)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=2)
    return fig


def plot_example_utterance(example, wav, sr=16000):
    """The spectrogram of an utterance with the simulator's true F1-F3, and the articulation that set them.

    Parameters
    ----------
    example : dict
        :func:`agser.corpora.simulator.simulate_utterance`'s result.
    wav : numpy.ndarray
        The utterance's audio file (equal to ``example["audio"]``).
    sr : int, Hz

    Returns
    -------
    matplotlib Figure
        Top: spectrogram (dB), F1-F3 where voiced, phone labels. Bottom: jaw,
        spread, round, closure (simulator, 0-1) and the mouth opening measured
        on the landmarks at the video frames.
    """
    import librosa
    import matplotlib.pyplot as plt

    from agser.phones.ipa import arpabet_to_ipa
    from agser.plot.style import PAGE_WIDTH

    tr, al = example["tracks"], example["alignment"]
    S = librosa.amplitude_to_db(np.abs(librosa.stft(wav, n_fft=512, hop_length=80)), ref=np.max)
    fig, axes = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 6.0), sharex=True, height_ratios=[3, 2])
    axes[0].pcolormesh(np.arange(S.shape[1]) * 80 / sr, np.fft.rfftfreq(512, 1 / sr), S, vmin=-75, cmap="magma",
                       shading="auto")
    voiced = tr["voice"] > 0.3
    for j, c in enumerate(("cyan", "lime", "white")):
        axes[0].plot(tr["time"], np.where(voiced, tr["formants"][:, j], np.nan), color=c, lw=1.6,
                     label=f"F{j + 1}")
    axes[0].set_ylim(0, 5000)
    axes[0].set_ylabel("Hz")
    axes[0].legend(loc="upper right", ncol=3, framealpha=0.8)
    axes[0].set_title(f"{example['speaker'].speaker_id}, {example['emotion']}: \"{example['text']}\"", fontsize=11,
                      pad=20)
    for label, start, end in al.phones[["label", "start", "end"]].itertuples(index=False):
        axes[0].axvline(start, color="w", lw=0.3, alpha=0.5)
        # the phones above the spectrogram, where nothing else is drawn
        axes[0].text((start + end) / 2, 1.01, arpabet_to_ipa(label), ha="center", va="bottom", fontsize=10,
                     transform=axes[0].get_xaxis_transform())
    for name in ("jaw", "spread", "round", "closure"):
        axes[1].plot(tr["time"], tr[name], label=name)
    lm = example["landmarks"]
    ipd = np.linalg.norm(lm.points[:, 36:42].mean(1) - lm.points[:, 42:48].mean(1), axis=1)
    opening = np.linalg.norm(lm.points[:, 57] - lm.points[:, 51], axis=1) / ipd
    axes[1].plot(lm.timestamps, opening * 2, "k.", ms=4, label="2 × opening / IPD")
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("articulation")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=10)
    return fig


def plot_channel(manifest, features, spectra, sr=16000, emotions=("neutral", "anger", "happiness", "sadness")):
    """Long-term average spectrum per corpus, and median F0 and frame energy per emotion and corpus.

    Parameters
    ----------
    manifest : pandas.DataFrame
        ``corpus, emotion`` in the rows' order.
    features : numpy.ndarray, shape (n, 86)
        :func:`agser.analysis.corpora.file_measures`' features (NaN rows skipped).
    spectra : numpy.ndarray, shape (n, n_fft // 2 + 1)
        Mean power spectra.
    sr : int, Hz

    Returns
    -------
    matplotlib Figure
        Top: the spectra (dB); bottom: two box plots.
    """
    import matplotlib.pyplot as plt

    from agser.analysis.corpora import F0_COLUMN, LEVEL_COLUMN
    from agser.plot.style import PAGE_WIDTH

    corpora = sorted(manifest["corpus"].unique())
    colours = corpus_colours(corpora)
    fig = plt.figure(figsize=(PAGE_WIDTH, 6.2))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    ax = top.subplots()
    freqs = np.fft.rfftfreq(2 * (spectra.shape[1] - 1), 1 / sr)
    for corpus in corpora:
        m = (manifest["corpus"] == corpus).to_numpy()
        ax.plot(freqs, 10 * np.log10(np.nanmean(spectra[m], axis=0) + 1e-12), color=colours[corpus], label=corpus)
    ax.set_xlabel("Hz")
    ax.set_ylabel("dB")
    ax.set_title("long-term average spectrum")
    ax.legend()
    present = [e for e in emotions if e in set(manifest["emotion"])]
    values = {"median F0 (Hz)": np.exp(features[:, F0_COLUMN]), "mean frame energy (dB)": features[:, LEVEL_COLUMN]}
    for ax, (title, v) in zip(bottom.subplots(1, 2), values.items()):
        pos, box, cols = [], [], []
        for i, emo in enumerate(present):
            for j, corpus in enumerate(corpora):
                m = ((manifest["emotion"] == emo) & (manifest["corpus"] == corpus)).to_numpy() & np.isfinite(v)
                box.append(v[m])
                pos.append(i * (len(corpora) + 1) + j)
                cols.append(colours[corpus])
        bp = ax.boxplot(box, positions=pos, widths=0.8, patch_artist=True, showfliers=False)
        for patch, c in zip(bp["boxes"], cols):
            patch.set_facecolor(c)
        ax.set_xticks([i * (len(corpora) + 1) + (len(corpora) - 1) / 2 for i in range(len(present))],
                      [e[:4] + "." if len(e) > 7 else e for e in present])
        ax.set_title(title)
    return fig


def plot_pose(pose):
    """Histograms per corpus of head roll, nose-landmark motion per frame, and the share of frames without a face.

    Parameters
    ----------
    pose : pandas.DataFrame
        :func:`agser.analysis.corpora.head_pose`.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from agser.plot.style import PAGE_WIDTH

    corpora = sorted(pose["corpus"].unique())
    colours = corpus_colours(corpora)
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 3.0))
    for ax, col, title in zip(axes, ("roll_deg", "jitter", "dropped"),
                              ("head roll (deg)", "nose motion / frame\n(IPD)", "frames without\na face (share)")):
        ax.hist([pose.loc[pose["corpus"] == c, col].dropna() for c in corpora], bins=15, label=corpora,
                color=[colours[c] for c in corpora])
        ax.set_title(title, fontsize=11)
        ax.tick_params(axis="x", labelrotation=30)
    axes[0].set_ylabel("utterances")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(corpora))
    return fig
