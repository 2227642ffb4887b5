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
# # 2 Preprocessing and segmentation
#
# The paper's preprocessing, as its slides describe it: rotate each frame's landmarks so
# that the line between the eyes is parallel to the x axis, normalise by the
# inter-pupil distance, keep the 12 outer-lip points 48-59, and cut the mouth
# trajectory at **phone boundaries** into articulatory-gesture segments. The paper
# does not say which forced aligner gave its phone boundaries nor how a boundary maps
# to video frames; this book's choices:
#
# - phones come from a TextGrid when the manifest has one (Montreal Forced Aligner or
#   Praat format; the simulator writes the true alignment), otherwise from the built-in
#   aligner, **pocketsphinx** with the en-us acoustic model and CMUdict of its wheel,
#   run on the audio file or on the video's own audio track;
# - a phone `[start, end)` takes the video frames whose timestamps fall inside it; a
#   phone shorter than a frame period takes the one frame nearest its midpoint;
#   silences are not segments (`agser.gestures.segment.cut_segments`);
# - ARPAbet labels lose their stress digit (`AH0` -> `AH`), while the IPA column keeps
#   what stress tells (`AH0` -> ə, `AH1` -> ʌ).
#
# This chapter shows each step on one utterance of the run, then counts the segments
# of the whole run and lists what failed. On the default (simulated) run it also
# measures how far pocketsphinx's boundaries are from the simulator's true ones.

# %% tags=["parameters"]
# The run whose parameters, corpora and store this page uses (`agser book --run NAME` sets it).
run = "default"
work_dir = None  # None: the run's own papermill_runs/NAME/work

# %%
from agser.run import Run

r = Run.named(run, work_dir=work_dir)
data, extract, cluster, acoustic, ser = (r.section(k) for k in ("data", "extract", "cluster", "acoustic", "ser"))
tables_dir = r.tables_dir
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy.signal import spectrogram

from agser.corpora import read_manifest
from agser.errors import InputError
from agser.extract import load_segments, utterance_gesture, utterance_phones
from agser.gestures import align_to_eyes, eye_angle
from agser.phones import PocketsphinxAligner, load_audio
from agser.phones.evaluate import evaluate_aligner, summarize_errors
from agser.phones.ipa import PAPER_VOWELS, is_vowel

pd.set_option("display.max_colwidth", 120)
store = r.store
manifest = read_manifest(r.manifest_path())
extract_dir = r.segments_dir()
segments, seg_frames = load_segments(extract_dir)
failures = pd.read_csv(extract_dir / "failures.csv", dtype=str, keep_default_na=False)
dropped = pd.read_csv(extract_dir / "dropped_segments.csv", keep_default_na=False)
summary = json.loads((extract_dir / "summary.json").read_text())
Path(tables_dir).mkdir(parents=True, exist_ok=True)
display(Markdown(
    f"Run **{run}**: {len(manifest)} utterances, {len(segments)} segments from "
    f"{segments['utterance_id'].nunique()} utterances; {len(failures)} utterances failed."
))

# %% [markdown]
# ## One utterance, step by step
#
# The example is the run's first utterance that gave segments. Its landmarks and phones
# are recomputed here with the same functions and settings as the extraction
# (`agser.extract.utterance_gesture`, `utterance_phones`), cached in the run's store.

# %%
example_id = segments["utterance_id"].iloc[0]
row = manifest.set_index("utterance_id").loc[example_id].to_dict()
row["utterance_id"] = example_id
files = tuple(Path(row[c]) for c in ("audio_path", "video_path", "landmarks_path", "alignment_path") if row[c])
lm_source = extract.get("landmarks", "auto")
lm, mouth = store.cached("ch2-gesture", {"landmarks": lm_source, "version": 1}, files,
                         lambda: utterance_gesture(row, landmarks=lm_source))
alignment = store.cached("ch2-phones", {"aligner": extract.get("aligner", "auto"), "version": 1}, files,
                         lambda: utterance_phones(row, aligner=extract.get("aligner", "auto")))
display(Markdown(
    f"Example **{example_id}** ({row['corpus']}, speaker {row['speaker']}, "
    f"{row['emotion'] or 'unlabelled'}): \"{row['transcript']}\", {lm.n_frames} frames at "
    f"{lm.frame_rate:.2f} fps."
))

# %% [markdown]
# ### Before and after eye alignment
#
# Left: the raw landmarks of every frame (pixels, image axes). Right: after
# `agser.gestures.align_to_eyes`: origin between the eye centres, eye line along +x,
# inter-pupil distance 1. Head roll, position and size are gone, so what still moves
# is the face itself, above all the mouth (points 48-59, red).

# %%
raw = lm.points
aligned = align_to_eyes(raw)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, pts, title, unit in ((axes[0], raw, "raw landmarks", "pixels"),
                             (axes[1], aligned, "eye-aligned, IPD-normalised", "IPD")):
    other = np.r_[0:48, 60:68]
    ax.scatter(pts[:, other, 0].ravel(), pts[:, other, 1].ravel(), s=1, c="0.6", alpha=0.4)
    ax.scatter(pts[:, 48:60, 0].ravel(), pts[:, 48:60, 1].ravel(), s=1, c="tab:red", alpha=0.4)
    ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.set_title(f"{example_id}: {title}")
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
plt.tight_layout()
plt.show()

angle_raw = eye_angle(raw)
angle_al = eye_angle(aligned)
ok = np.isfinite(angle_raw)
display(Markdown(
    f"Eye-line angle over the {int(ok.sum())} frames with a face: before alignment "
    f"{np.nanmin(angle_raw):.2f} to {np.nanmax(angle_raw):.2f} degrees; after, the largest "
    f"deviation from horizontal is {np.nanmax(np.abs(angle_al)):.2e} degrees "
    f"(the issue asks for at most 0.5)."
))

# %% [markdown]
# ### Phone alignment over the waveform and spectrogram
#
# The phones the extraction used for this utterance (a TextGrid where the manifest has
# one, else pocketsphinx). Where the run has reference TextGrids and audio, the
# pocketsphinx alignment of the same audio is drawn below them for comparison.

# %%
audio_file = row["audio_path"] or row["video_path"]
audio = load_audio(audio_file) if audio_file else None
ps_alignment, ps_reason = None, ""
if audio is not None and row["alignment_path"]:
    try:
        ps_alignment = PocketsphinxAligner(min_speech_score=None).align(audio, row["transcript"])
    except InputError as exc:  # shown below, not hidden
        ps_reason = exc.reason


def draw_phones(ax, phones, y, colour):
    for lab, s, e in phones[["label", "start", "end"]].itertuples(index=False):
        ax.axvline(s, color=colour, lw=0.6, alpha=0.7)
        ax.text((s + e) / 2, y, lab.rstrip("012"), ha="center", va="center", fontsize=7, color=colour)


if audio is None:
    display(Markdown("This utterance has no audio file or video to take audio from."))
else:
    t = np.arange(len(audio)) / 16000
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True)
    a0.plot(t, audio, lw=0.4, color="0.3")
    a0.set_ylabel("amplitude")
    draw_phones(a0, alignment.phones, 0.9 * np.abs(audio).max(), "tab:blue")
    f, tt, S = spectrogram(audio, fs=16000, nperseg=400, noverlap=240)
    a1.pcolormesh(tt, f, 10 * np.log10(S + 1e-10), shading="auto", cmap="magma")
    a1.set_ylim(0, 6000)
    a1.set_ylabel("Hz")
    a1.set_xlabel("time (s)")
    draw_phones(a1, alignment.phones, 5600, "white")
    if ps_alignment is not None:
        draw_phones(a1, ps_alignment.phones, 4900, "tab:cyan")
    a0.set_title(f"{example_id}: phones used (blue/white)"
                 + (" and pocketsphinx (cyan)" if ps_alignment is not None else ""))
    plt.tight_layout()
    plt.show()
    if ps_reason:
        display(Markdown(f"pocketsphinx could not align this utterance: {ps_reason}"))

# %% [markdown]
# ### The mouth trajectory cut at phone boundaries
#
# Mouth opening (distance between the upper- and lower-lip midpoints 51 and 57) and
# width (corners 48 to 54), in inter-pupil distances, over the video frames. Each
# coloured band is one segment (vowels darker); frames outside any band are silence or
# phones that were dropped.

# %%
times = lm.timestamps
opening = np.linalg.norm(mouth[:, 9] - mouth[:, 3], axis=1)
width = np.linalg.norm(mouth[:, 6] - mouth[:, 0], axis=1)
ex = segments[segments["utterance_id"] == example_id]
fig, ax = plt.subplots(figsize=(11, 3.8))
ax.plot(times, opening, ".-", color="tab:red", label="opening 51-57")
ax.plot(times, width, ".-", color="tab:green", label="width 48-54")
period = 1 / lm.frame_rate
label_y = 1.05 * max(np.nanmax(opening), np.nanmax(width))
for s in ex.itertuples():
    t0 = times[s.frame_start] - period / 2
    t1 = times[s.frame_start + s.n_frames - 1] + period / 2
    vowel = is_vowel(s.phone)
    ax.axvspan(t0, t1, color="tab:blue" if vowel else "tab:gray", alpha=0.25 if vowel else 0.1)
    ax.text((t0 + t1) / 2, label_y, s.ipa, ha="center", fontsize=8)
ax.set_ylim(top=1.12 * label_y)
ax.set_xlabel("time (s)")
ax.set_ylabel("IPD units")
ax.legend(loc="lower right", fontsize=8)
ax.set_title(f"{example_id}: {len(ex)} segments")
plt.tight_layout()
plt.show()
display(ex[["phone", "ipa", "start", "end", "frame_start", "n_frames"]].reset_index(drop=True))

# %% [markdown]
# ## Segments of the whole run
#
# Counts per phone and corpus, and for the paper's six vowels per emotion and corpus.
# Segment lengths are in video frames: at 25-30 fps most phones span only 1-5 frames.

# %%
by_phone = segments.pivot_table(index="phone", columns="corpus", values="start", aggfunc="size", fill_value=0)
by_phone = by_phone.loc[by_phone.sum(axis=1).sort_values(ascending=False).index]
by_phone.plot.bar(figsize=(12, 3.5), width=0.8)
plt.ylabel("segments")
plt.title("segments per phone (ARPAbet, stress stripped)")
plt.tight_layout()
plt.show()

vowels = segments[segments["ipa"].isin(PAPER_VOWELS)]
vowel_table = vowels.pivot_table(index=["corpus", "emotion"], columns="ipa", values="start",
                                 aggfunc="size", fill_value=0)
vowel_table = vowel_table.reindex(columns=[v for v in PAPER_VOWELS if v in vowel_table.columns])
vowel_table.to_csv(Path(tables_dir) / "ch2_vowel_segments.csv")
display(Markdown("**Segments of the paper's vowels per corpus and emotion**"))
display(vowel_table)

per_corpus = pd.DataFrame(summary).T
per_corpus["face_%"] = (100 * per_corpus["frames_with_face"] / per_corpus["frames"].clip(lower=1)).round(1)
lengths = segments.groupby("corpus")["n_frames"].describe()[["mean", "50%", "min", "max"]]
lengths.columns = ["mean frames", "median frames", "min frames", "max frames"]
per_corpus = per_corpus.join(lengths.round(2))
per_corpus.to_csv(Path(tables_dir) / "ch2_summary.csv")
display(Markdown("**Per corpus** (from `summary.json`)"))
display(per_corpus)

# %% [markdown]
# ## How good is the built-in aligner?
#
# Where the run's utterances come with a reference TextGrid (the simulator writes its
# true alignment), pocketsphinx is run on the audio of a sample of them and its
# boundaries are compared with the reference: every phone start and the last phone's
# end. Where pocketsphinx chose another pronunciation variant than the simulator (status
# "phone sequence differs"), only the runs of phones found in both sequences are paired
# (`agser.phones.evaluate.boundary_errors(..., matched=True)`). The mismatch threshold
# is off here so every utterance is measured; the `score` column tells which ones the
# default threshold (-30) would have rejected.

# %%
has_reference = bool(((manifest["alignment_path"] != "") & (manifest["audio_path"] != "")).any())
if has_reference and extract["aligner_eval_utterances"] > 0:
    inputs = tuple(Path(p) for p in manifest["alignment_path"]) + tuple(Path(p) for p in manifest["audio_path"])
    evaluation = store.cached(
        "ch2-aligner-eval", {"n": int(extract["aligner_eval_utterances"]), "seed": 0, "version": 2}, inputs,
        lambda: evaluate_aligner(manifest, n_utterances=int(extract["aligner_eval_utterances"]), seed=0),
    )
    measured = evaluation[evaluation["phone_errors"].notna()]
    rows = []
    for corpus, g in list(measured.groupby("corpus")) + [("all", measured)]:
        errs = np.concatenate(list(g["phone_errors"])) if len(g) else np.array([])
        rows.append({"corpus": corpus, "utterances": len(g), **summarize_errors(errs)})
    boundary_table = pd.DataFrame(rows).set_index("corpus")
    boundary_table.to_csv(Path(tables_dir) / "ch2_aligner_boundary_error.csv")
    status = evaluation["status"].value_counts()
    rejected = int((evaluation["score"] < -30).sum())
    display(Markdown("**pocketsphinx phone boundaries against the simulator's true TextGrids**"))
    display(boundary_table)
    display(evaluation[["utterance_id", "corpus", "status", "score"]])
    all_err = np.concatenate(list(measured["phone_errors"])) if len(measured) else np.array([])
    if all_err.size:
        plt.figure(figsize=(7, 3))
        plt.hist(np.minimum(all_err * 1000, 200), bins=40, color="tab:blue")
        plt.xlabel("absolute boundary error (ms, clipped at 200)")
        plt.ylabel("boundaries")
        plt.tight_layout()
        plt.show()
    s = boundary_table.loc["all"]
    display(Markdown(
        f"On {len(evaluation)} utterances, {int(status.get('ok', 0))} were aligned with the same "
        f"phone sequence as the reference, {int(status.get('phone sequence differs', 0))} with another "
        f"phone sequence (matched runs compared) and "
        f"{len(evaluation) - int(status.get('ok', 0)) - int(status.get('phone sequence differs', 0))} "
        f"not at all; {rejected} of the aligned ones score below the default mismatch threshold. "
        f"Over {int(s['boundaries'])} boundaries the median absolute error is {s['median_ms']} ms, "
        f"the mean {s['mean_ms']} ms; {s['within_20ms_pct']} % lie within 20 ms and "
        f"{s['within_50ms_pct']} % within 50 ms. Caveat: the simulator's audio is a source-filter "
        "synthesiser, not natural speech, and pocketsphinx's acoustic model was trained on natural "
        "speech, so these figures say how pocketsphinx copes with the synthesiser; they are not "
        "its accuracy on real recordings. The default run's segments use the true TextGrids, "
        "not these alignments."
    ))
else:
    display(Markdown(
        "This run has no reference TextGrids with audio, so the aligner's phone boundary error "
        "cannot be measured here; its phones come from pocketsphinx directly."
    ))

# GRID ships word alignments (`.align`) for some clips: compare pocketsphinx's word boundaries.
if "word_alignment_path" in manifest:
    word_refs = manifest[manifest["word_alignment_path"].fillna("").astype(str).str.strip() != ""]
else:
    word_refs = manifest.iloc[:0]
if len(word_refs):
    from agser.corpora.grid import read_grid_align
    from agser.phones.evaluate import boundary_errors
    from agser.phones.textgrid import Alignment

    word_rows = []
    for _, r in word_refs.iterrows():
        align_path = Path(r["word_alignment_path"])
        if not align_path.is_file():  # the column is not a manifest path column: it may be stale
            align_path = Path(r["video_path"]).with_suffix(".align")
        ref_words = read_grid_align(align_path)
        ref = Alignment(ref_words, ref_words)
        try:
            hyp = utterance_phones(r.to_dict(), aligner="pocketsphinx")
        except InputError as exc:
            word_rows.append({"utterance_id": r["utterance_id"], "status": exc.reason})
            continue
        err = boundary_errors(ref, hyp, "words")
        word_rows.append({"utterance_id": r["utterance_id"],
                          "status": "ok" if err is not None else "word sequence differs",
                          **(summarize_errors(err) if err is not None else {})})
    word_table = pd.DataFrame(word_rows)
    display(Markdown("**pocketsphinx word boundaries against the GRID `.align` word alignments**"))
    display(word_table)
    ok_rows = word_table[word_table["status"] == "ok"]
    if len(ok_rows):
        display(Markdown(
            f"On {len(ok_rows)} real GRID clip(s) with a reference word alignment, the median "
            f"absolute word-boundary error of pocketsphinx is {ok_rows['median_ms'].median()} ms "
            f"({int(ok_rows['boundaries'].sum())} boundaries; GRID's reference is quantised to "
            "its 40-ms video frames)."
        ))

# %% [markdown]
# ## What failed, and why
#
# One row per utterance that gave no segment (`failures.csv`), then the phones of
# otherwise good utterances that were dropped (`dropped_segments.csv`: a face gap
# longer than the interpolation limit, or a phone outside the video).

# %%
if len(failures):
    display(failures)
    display(failures.groupby("stage").size().rename("utterances").to_frame())
else:
    display(Markdown("No utterance failed."))
if len(dropped):
    reason_kind = dropped["reason"].str.replace(r"^\d+ of \d+ frames", "n of m frames", regex=True)
    display(dropped.assign(reason=reason_kind).groupby("reason").size().rename("segments").to_frame())
n_utt = sum(s["utterances"] for s in summary.values())
n_fail = sum(s["failures"] for s in summary.values())
n_drop = sum(s["segments_dropped"] for s in summary.values())
display(Markdown(
    f"In this run {n_fail} of {n_utt} utterances gave no segment and {n_drop} phone segments "
    f"were dropped from otherwise good utterances, against {len(segments)} segments kept. "
    "The paper does not report how many segments it lost, so there is nothing to compare "
    "these counts with; the steps themselves (eye alignment, inter-pupil normalisation, the "
    "12 outer-lip points, phone-bounded segments) follow the paper's slides."
))
