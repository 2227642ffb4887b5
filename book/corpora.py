# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The corpora
#
# The paper works on CREMA-D (91 actors, 12 scripted sentences, six acted emotions,
# 30 fps video) and MSP-IMPROV (12 actors in dyadic improvisations, 4 emotions). Neither
# can be shipped with this book, so the default run uses the package's built-in
# **articulatory-acoustic simulator** (`agser.corpora.simulator`), which writes two
# corpora in the same formats as real ones (16 kHz WAV, OpenFace-format landmark CSVs,
# TextGrids of the phone alignment, a manifest):
#
# - `sim-crema`, CREMA-D-like: the 12 CREMA-D sentences, a clean channel, 30 fps, acted
#   (strong) emotions;
# - `sim-improv`, MSP-IMPROV-like: 14 other everyday sentences, 25 fps, a noisier,
#   slightly reverberant, band-limited channel, subtler emotions, other speakers.
#
# How one utterance is made: the words of the sentence are looked up in CMUdict (as
# shipped with pocketsphinx), each phone gets a duration and targets for jaw opening,
# lip spreading, lip rounding and lip closure (plus tongue position and r-colouring, which
# only the sound sees); Cohen-Massaro dominance functions blend neighbouring targets into
# continuous trajectories. The **same trajectories** drive the 68 face landmarks (the
# lips and the jaw contour move, eyes, brows and nose stay; then head roll, scale and
# translation with slow drift, landmark jitter and dropped frames) and a source-filter
# synthesiser (five formants: F1 with jaw opening, F2 with tongue fronting, spreading and
# rounding, F3 with r-colouring, all scaled by the speaker's vocal-tract length; a glottal
# pulse train, noise for fricatives, bursts for stop releases), followed by the recording
# channel. Emotion changes articulation (excursion size, smile, speaking rate) and voice
# (F0 level and range, loudness, vocal tension and breathiness), by amounts that differ
# between speakers and between utterances. This chapter shows what came out of it.

# %% tags=["parameters"]
# The run whose parameters, corpora and store this page uses (`agser book --run NAME` sets it).
run = "default"
work_dir = None  # None: the run's own papermill_runs/NAME/work

# %%
from agser.run import Run

r = Run.named(run, work_dir=work_dir)
data, extract, cluster, acoustic, ser = (r.section(k) for k in ("data", "extract", "cluster", "acoustic", "ser"))
tables_dir = r.tables_dir
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile as sf
from IPython.display import Markdown, display

from agser.corpora import read_manifest
from agser.phones.ipa import arpabet_to_ipa, strip_stress
from agser.phones.textgrid import read_textgrid
from agser.errors import InputError
from agser.extract import load_segments, utterance_audio

manifest_path = r.manifest_path()
manifest = read_manifest(manifest_path)
simulated = data.get("source", "simulate") == "simulate"
corpora = sorted(manifest["corpus"].unique())
colors = dict(zip(corpora, ["tab:blue", "tab:orange", "tab:green", "tab:red"]))
Path(tables_dir).mkdir(parents=True, exist_ok=True)
display(Markdown(
    f"Run `{run}`: {len(manifest)} utterances in {len(corpora)} corpora "
    f"({', '.join(f'`{c}`' for c in corpora)}), manifest `{Path(manifest_path).name}` "
    f"from the {'simulator, seed ' + str(data.get('seed', 0)) if simulated else 'user'}."
))

# %% [markdown]
# ## Counts per corpus, emotion and speaker
#
# On the simulated corpora every speaker says every emotion in turn, so both corpora are
# balanced over speakers and emotions, and speaker ids start with the corpus code (`C` or
# `I`), so no speaker is in both corpora. On a real corpus the tables show what it holds.

# %%
counts = pd.crosstab(manifest["corpus"], manifest["emotion"], margins=True, margins_name="all")
display(counts)
per_speaker = pd.crosstab([manifest["corpus"], manifest["speaker"]], manifest["emotion"])
display(per_speaker)


def file_measures(manifest):
    """Per-utterance audio measures; an unreadable row gives NaN and a failure row."""
    import librosa

    from agser.corpora.simulator.difficulty import utterance_features

    feats, spectra, durations, failures = [], [], [], []
    for row in manifest.itertuples(index=False):
        try:
            y = utterance_audio(row._asdict())
        except InputError as exc:
            failures.append({"utterance_id": row.utterance_id, "stage": exc.stage, "reason": exc.reason})
            feats.append(None), spectra.append(None), durations.append(np.nan)
            continue
        feats.append(utterance_features(y, 16000))
        spectra.append(np.mean(np.abs(librosa.stft(y, n_fft=512, hop_length=256)) ** 2, axis=1))
        durations.append(len(y) / 16000)
    ok = [i for i, f in enumerate(feats) if f is not None]
    if not ok:
        raise InputError("no utterance of the run has readable audio", stage="audio")
    fill = lambda xs: np.stack([x if x is not None else np.full_like(xs[ok[0]], np.nan) for x in xs])
    return fill(feats), fill(spectra), np.array(durations), pd.DataFrame(
        failures, columns=["utterance_id", "stage", "reason"])


features, spectra, manifest["duration"], audio_failures = r.store.cached(
    "corpora-file-measures", {"version": 2, "data": data}, (Path(manifest_path),), lambda: file_measures(manifest)
)
if len(audio_failures):
    display(Markdown(f"{len(audio_failures)} utterance(s) without usable audio are left out of the "
                     "audio measures below:"))
    display(audio_failures)
summary = manifest.groupby("corpus").agg(
    utterances=("utterance_id", "size"), speakers=("speaker", "nunique"),
    sentences=("transcript", "nunique"), mean_duration_s=("duration", "mean"),
    min_duration_s=("duration", "min"), max_duration_s=("duration", "max"),
)
if "frame_rate" in manifest:
    summary["frame_rate"] = manifest.groupby("corpus")["frame_rate"].first()
display(summary.round(2))
counts.to_csv(Path(tables_dir) / "corpora_counts.csv")

# %% [markdown]
# ## Mouth trajectories of /ɑ/ and /i/
#
# For every /ɑ/ (`AA`) and /i/ (`IY`) segment of the run's extraction (chapter 2: phone
# boundaries from the TextGrids or the aligner, landmarks eye-aligned), the mouth opening
# (distance of lower-lip middle 57 to upper-lip middle 51) and width (corner 48 to
# corner 54) over the frames of the vowel, in units of the inter-pupil distance of the
# same frame (so that face size and head roll drop out), resampled to 10 points. /ɑ/ should open wide with a
# narrower mouth, /i/ stay nearly closed and spread; coarticulation with the neighbouring
# consonants shows as the rise and fall within the vowel.


# %%
def vowel_shapes(segments, frames, phones=("AA", "IY"), n_points=10):
    from agser.gestures.mouth import mouth_index

    top, bottom = mouth_index(51), mouth_index(57)
    left, right = mouth_index(48), mouth_index(54)
    out = []
    grid = np.linspace(0, 1, n_points)
    for seg, m in zip(segments.itertuples(index=False), frames):
        if seg.phone not in phones or len(m) < 2:
            continue
        pos = np.linspace(0, 1, len(m))
        out.append(dict(corpus=seg.corpus, emotion=seg.emotion, phone=seg.phone,
                        height=np.interp(grid, pos, np.linalg.norm(m[:, bottom] - m[:, top], axis=1)),
                        width=np.interp(grid, pos, np.linalg.norm(m[:, right] - m[:, left], axis=1))))
    return pd.DataFrame(out, columns=["corpus", "emotion", "phone", "height", "width"])


shapes = vowel_shapes(*load_segments(r.segments_dir()))
if shapes.empty:
    display(Markdown("No /ɑ/ or /i/ segment of two frames or more in this run: figure skipped."))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
grid = np.linspace(0, 100, 10)
for ax, what in zip(axes, ("height", "width")):
    for (corpus, phone), g in shapes.groupby(["corpus", "phone"]):
        arr = np.stack(g[what].to_numpy())
        mu, sd = arr.mean(0), arr.std(0)
        ls = "-" if phone == "AA" else "--"
        ax.plot(grid, mu, ls, color=colors[corpus], label=f"/{arpabet_to_ipa(phone)}/ {corpus} (n={len(g)})")
        ax.fill_between(grid, mu - sd, mu + sd, color=colors[corpus], alpha=0.12)
    ax.set_xlabel("position in the vowel (%)")
    ax.set_ylabel(f"mouth {what} / inter-pupil distance")
axes[0].set_title("opening (57 - 51)")
axes[1].set_title("width (54 - 48)")
axes[1].legend(fontsize=8, loc="best")
plt.tight_layout()
plt.show()
mid = shapes.assign(h=[h[4:6].mean() for h in shapes["height"]], w=[w[4:6].mean() for w in shapes["width"]])
mid_table = mid.groupby(["phone", "corpus"])[["h", "w"]].mean().rename(
    columns={"h": "opening / IPD", "w": "width / IPD"})
display(mid_table.round(3))

# %% [markdown]
# ## One utterance: the spectrogram and the formants its articulation drives
#
# `simulate_utterance` regenerates any utterance of the run with the simulator's internal
# tracks. The utterance below is the first `sim-crema` one whose sentence has both an
# /ɑ/ and an /i/; the code checks that the regenerated audio equals the WAV file in the
# manifest. The true F1-F3 (where the source is voiced) are drawn over the spectrogram of
# the file; the panel below shows the articulatory trajectories that set them and, at the
# video frames, the mouth opening measured on the landmarks.

# %%
example = None
if simulated:
    from agser.corpora.simulator import simulate_utterance

    knobs = dict(data.get("simulator") or {})
    for row in manifest[manifest["corpus"] == "sim-crema"].itertuples():
        labels = set(strip_stress(p) for p in read_textgrid(row.alignment_path).phones["label"])
        if {"AA", "IY"} <= labels:
            index = int(row.utterance_id.rsplit("_", 1)[1])
            example = simulate_utterance("sim-crema", index=index, seed=int(data.get("seed", 0)), **knobs)
            wav, sr = sf.read(row.audio_path, dtype="float32")
            assert len(wav) == len(example["audio"]) and np.abs(wav - example["audio"]).max() < 1e-3
            break
if example is None:
    display(Markdown("No simulated `sim-crema` utterance with /ɑ/ and /i/ in this run: figure skipped."))
else:
    import librosa

    tr, al = example["tracks"], example["alignment"]
    S = librosa.amplitude_to_db(np.abs(librosa.stft(wav, n_fft=512, hop_length=80)), ref=np.max)
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=[3, 2])
    t_spec = np.arange(S.shape[1]) * 80 / sr
    axes[0].pcolormesh(t_spec, np.fft.rfftfreq(512, 1 / sr), S, vmin=-75, cmap="magma", shading="auto")
    voiced = tr["voice"] > 0.3
    for j, c in enumerate(("cyan", "lime", "white")):
        f = np.where(voiced, tr["formants"][:, j], np.nan)
        axes[0].plot(tr["time"], f, color=c, lw=1.6, label=f"F{j + 1} (simulator)")
    axes[0].set_ylim(0, 5000)
    axes[0].set_ylabel("Hz")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"{example['speaker'].speaker_id}, {example['emotion']}: \"{example['text']}\"")
    for label, start, end in al.phones[["label", "start", "end"]].itertuples(index=False):
        axes[0].axvline(start, color="w", lw=0.3, alpha=0.5)
        axes[0].text((start + end) / 2, 4750, arpabet_to_ipa(label), color="w", ha="center", fontsize=9)
    for name in ("jaw", "spread", "round", "closure"):
        axes[1].plot(tr["time"], tr[name], label=name)
    lm = example["landmarks"]
    ipd = np.linalg.norm(lm.points[:, 36:42].mean(1) - lm.points[:, 42:48].mean(1), axis=1)
    opening = np.linalg.norm(lm.points[:, 57] - lm.points[:, 51], axis=1) / ipd
    axes[1].plot(lm.timestamps, opening * 2, "k.", ms=4, label="landmarks: 2 x opening / IPD")
    axes[1].set_xlabel("time (s)")
    axes[1].legend(fontsize=8, ncol=5, loc="upper right")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## The domain shift in pictures
#
# What differs between the corpora, measured on the files: the long-term average
# spectrum (channel: band limit, noise floor, reverberation tail), the distribution of
# F0 and loudness per emotion (speakers and emotion intensity), and on the landmarks
# head roll, frame-to-frame landmark jitter and the share of frames without a face.


# %%
f0_median = np.exp(features[:, 80])
level_db = features[:, 83]

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
freqs = np.fft.rfftfreq(512, 1 / 16000)
for corpus in corpora:
    m = (manifest["corpus"] == corpus).to_numpy()
    axes[0].plot(freqs, 10 * np.log10(spectra[m].mean(0) + 1e-12), color=colors[corpus], label=corpus)
axes[0].set_xlabel("Hz")
axes[0].set_ylabel("dB")
axes[0].set_title("long-term average spectrum")
axes[0].legend()
emotions = [e for e in ("neutral", "anger", "happiness", "sadness") if e in set(manifest["emotion"])]
for ax, values, title in ((axes[1], f0_median, "median F0 (Hz)"), (axes[2], level_db, "mean frame energy (dB)")):
    pos, box = [], []
    for i, emo in enumerate(emotions):
        for j, corpus in enumerate(corpora):
            m = ((manifest["emotion"] == emo) & (manifest["corpus"] == corpus)).to_numpy()
            box.append(values[m])
            pos.append(i * (len(corpora) + 1) + j)
    bp = ax.boxplot(box, positions=pos, widths=0.8, patch_artist=True, showfliers=False)
    for patch, k in zip(bp["boxes"], range(len(box))):
        patch.set_facecolor(colors[corpora[k % len(corpora)]])
    ax.set_xticks([i * (len(corpora) + 1) + (len(corpora) - 1) / 2 for i in range(len(emotions))], emotions)
    ax.set_title(title)
plt.tight_layout()
plt.show()

# %%
landmarks, landmark_failures = r.landmarks()
corpus_of = dict(zip(manifest["utterance_id"], manifest["corpus"]))
landmark_rows = [(corpus_of[u], lm) for u, lm in landmarks.items()]
if len(landmark_failures):
    display(Markdown(f"{len(landmark_failures)} utterance(s) without usable landmarks are left out:"))
    display(landmark_failures)
pose = []
for corpus, lm in landmark_rows:
    p = lm.points
    le, re_ = p[:, 36:42].mean(1), p[:, 42:48].mean(1)
    ipd = np.linalg.norm(re_ - le, axis=1)
    roll = np.degrees(np.arctan2(re_[:, 1] - le[:, 1], re_[:, 0] - le[:, 0]))
    # nose points 27-35 do not move with speech: their frame-to-frame motion is head
    # motion plus landmark jitter
    nose = p[:, 27:36] / ipd[:, None, None]
    step = np.linalg.norm(np.diff(nose, axis=0), axis=2).mean(1)
    pose.append(dict(corpus=corpus, roll_deg=np.nanmedian(roll), jitter=np.nanmedian(step),
                     dropped=1 - lm.success.mean(), ipd_px=np.nanmedian(ipd)))
pose = pd.DataFrame(pose)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for ax, col, title in zip(axes, ("roll_deg", "jitter", "dropped"),
                          ("head roll per utterance (deg)", "nose landmark motion / frame (IPD)",
                           "share of frames without a face")):
    ax.hist([pose.loc[pose["corpus"] == c, col] for c in corpora], bins=20, label=corpora,
            color=[colors[c] for c in corpora])
    ax.set_title(title)
axes[0].legend()
plt.tight_layout()
plt.show()
display(pose.groupby("corpus").agg(["mean", "std"]).round(3))

# %% [markdown]
# ## How hard is the emotion task? Where the default sits and why
#
# A simulator on which every method scores near 100 %, or all near chance, cannot tell
# methods apart. The check: a logistic regression (standardised features, L2, C = 0.1)
# on utterance-level statistics (mean and standard deviation of 40 log-mel bands, F0
# median and ranges, frame-energy statistics), scored by unweighted average recall (UAR)
# over the four emotions, (a) within each corpus with speaker-independent folds (4 folds,
# no speaker in both training and test), (b) across corpora, trained on all of one and
# tested on all of the other. The simulator's knobs (`expressiveness`, `nuisance`,
# `profile_spread`, `utterance_spread` for difficulty, `shift` for the domain shift) were
# set so that this check lands near the paper's figures (quoted below from its table):
# in-corpus UAR far from perfect, and a loss of several points across corpora. Chance is
# 25 %. This baseline is deliberately simple; the SER chapters train the paper's models.

# %%
from agser.corpora.simulator.difficulty import difficulty_check

labelled = manifest["emotion"].isin(["neutral", "anger", "happiness", "sadness"]).to_numpy()
enough = manifest[labelled].groupby("corpus")["speaker"].nunique().min() >= 2
if not enough:
    display(Markdown("Fewer than two speakers in a corpus: no speaker-independent check possible."))
else:
    diff = difficulty_check(manifest, features=features)
    diff_norm = difficulty_check(manifest, features=features, normalize="corpus")
    diff["uar_corpus_normalised"] = diff_norm["uar"].to_numpy()
    display(diff.round(1))
    diff.to_csv(Path(tables_dir) / "corpora_difficulty.csv", index=False)
    within = diff[diff["kind"] == "within"].set_index("test")["uar"]
    cross = diff[diff["kind"] == "cross"].set_index("test")["uar"]
    drops = {c: within[c] - cross[c] for c in cross.index if c in within.index}
    lo, hi = within.min(), within.max()
    verdict = "inside" if 55 <= lo and hi <= 75 else "outside"
    # the paper's own figures, from the table shipped with the package
    from agser.analysis.paper import paper_table

    ptab = paper_table("ser_results").set_index(["method", "direction"])["category_uar"]
    p_up = {d: ptab[("upper_bound", d)] for d in ("C->C", "I->I")}
    p_loss = {
        "I": p_up["I->I"] - ptab.xs("C->I", level="direction").drop("upper_bound", errors="ignore"),
        "C": p_up["C->C"] - ptab.xs("I->C", level="direction").drop("upper_bound", errors="ignore"),
    }
    loss_lo = min(v.min() for v in p_loss.values())
    loss_hi = max(v.max() for v in p_loss.values())
    display(Markdown(
        f"Within corpus, speaker-independent: {', '.join(f'`{c}` {u:.1f} %' for c, u in within.items())} "
        f"UAR, {verdict} the 55-75 % band the simulator is calibrated for (the paper's upper "
        f"bound: {p_up['C->C']:.1f} % C->C, {p_up['I->I']:.1f} % I->I). Across corpora: "
        f"{', '.join(f'tested on `{c}` {u:.1f} %' for c, u in cross.items())}, "
        f"{' and '.join(f'{d:.1f}' for d in drops.values())} points below the in-corpus result on the "
        f"same test corpus (the paper's cross-corpus methods lose {loss_lo:.1f} to {loss_hi:.1f} points "
        f"against its upper bound on the same test corpus). With {len(manifest)} utterances and "
        f"{manifest['speaker'].nunique()} speakers the test sets are small, so these figures move by "
        f"several points with the seed and the speakers drawn; they show where the task sits, not a "
        f"ranking."
    ))
    cross_norm = diff[diff["kind"] == "cross"].set_index("test")["uar_corpus_normalised"]
    gap = {c: cross_norm[c] - within[c] for c in cross_norm.index if c in within.index}
    display(Markdown(
        "The last column standardises each corpus's features with that corpus's own statistics "
        "before training (unsupervised corpus normalisation). Across corpora it gives "
        f"{', '.join(f'{u:.1f} % on `{c}`' for c, u in cross_norm.items())}, "
        f"{', '.join(f'{d:+.1f}' for d in gap.values())} points against the in-corpus result "
        "(which trains on fewer speakers: three quarters of one corpus). "
        + ("So most of what this baseline loses across corpora is a fixed channel and "
           "speaker-population offset in its features, which such normalisation removes; the "
           "change in how emotions are expressed costs it little. Methods that do not normalise "
           "per corpus meet the full shift."
           if all(g > -3 for g in gap.values()) else
           "Normalisation does not recover all of the loss: part of the shift is the change in "
           "how emotions are expressed, which no fixed offset removes.")
    ))
