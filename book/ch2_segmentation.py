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
# ## Overview
#
# The paper's preprocessing, as its slides describe it: rotate each frame's landmarks so
# that the line between the eyes is parallel to the $x$ axis, normalise by the
# inter-pupil distance (IPD), keep the 12 outer-lip points 48-59, and cut the mouth
# trajectory at **phone boundaries** into articulatory-gesture segments. The paper does
# not say which forced aligner gave its phone boundaries nor how a boundary maps to video
# frames; this book's choices:
#
# - phones come from a TextGrid when the manifest has one (Montreal Forced Aligner or
#   Praat format; the simulator writes the true alignment), otherwise from the built-in
#   aligner, **pocketsphinx** with the en-us acoustic model and CMUdict of its wheel, run
#   on the audio file or on the video's own audio track;
# - a phone $[t_\mathrm{start}, t_\mathrm{end})$ takes the video frames whose timestamps
#   fall inside it; a phone shorter than a frame period takes the one frame nearest its
#   midpoint; silences are not segments (`agser.gestures.segment.cut_segments`);
# - ARPAbet labels lose their stress digit (`AH0` becomes `AH`), while the IPA column
#   keeps what stress tells (`AH0` is ə, `AH1` is ʌ).
#
# 1. One utterance, step by step: eye alignment, phones, the cut
# 2. Segments of the whole run
# 3. How good the built-in aligner is
# 4. What failed, and why
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [Landmark extraction](ch1_landmarks.ipynb) | Necessary | the 68 points this chapter starts from |
# | Forced alignment | Helpful | phones and their times from audio and a transcript |
# | ARPAbet and IPA | Helpful | the two phone alphabets of the tables |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from agser.analysis.landmarks import reason_kinds
from agser.analysis.segmentation import (aligner_statements, angle_range, boundary_table, extraction_summary,
                                         extraction_totals, vowel_segment_table)
from agser.gestures import align_to_eyes, eye_angle
from agser.plot import (book_style, glue_values, page_table, plot_boundary_errors, plot_cut_trajectory,
                        plot_eye_alignment, plot_phone_alignment, plot_phone_counts)
from agser.run import Run

book_style()
r = Run.named(run, work_dir=work_dir)
segments, out = r.segments()[0], r.segments_dir()
summary = json.loads((out / "summary.json").read_text())
failures = pd.read_csv(out / "failures.csv", dtype=str, keep_default_na=False)
dropped = pd.read_csv(out / "dropped_segments.csv", keep_default_na=False)
ex, ev = r.example_utterance(), r.aligner_evaluation()
lm, ex_segments = ex["landmarks"], segments[segments["utterance_id"] == ex["utterance_id"]]
aligned = align_to_eyes(lm.points)
r.save_table("ch2_vowel_segments", vowel_segment_table(segments), index=True)
r.save_table("ch2_summary", extraction_summary(summary, segments), index=True)
boundaries = boundary_table(ev["phones"]) if ev["phones"] is not None else None
if boundaries is not None:
    r.save_table("ch2_aligner_boundary_error", boundaries, index=True)
glue_values({"example": ex["utterance_id"], "transcript": ex["row"]["transcript"], "n_frames": lm.n_frames,
             "fps": lm.frame_rate, "n_ex_segments": len(ex_segments), "n_utterances_ok": segments["utterance_id"].nunique(),
             **dict(zip(("angle_lo", "angle_hi"), angle_range(eye_angle(lm.points))[:2])),
             "angle_after": angle_range(eye_angle(aligned))[2],
             **dict(zip(("n_utt", "n_fail", "n_seg", "n_drop"), extraction_totals(summary))),
             **aligner_statements(ev["phones"], boundaries, ev["words"], simulated=r.is_simulated())})

# %% [markdown]
# ## One utterance, step by step
#
# The example is the run's first utterance that gave segments, **{glue:text}`example`**:
# "{glue:text}`transcript`", {glue:text}`n_frames` frames at {glue:text}`fps:.2f` frames
# per second. Its landmarks and phones are recomputed with the functions and settings of
# the extraction (`agser.extract.utterance_gesture`, `utterance_phones`).
#
# ### Before and after eye alignment
#
# Left: the raw landmarks of every frame (pixels, image axes). Right: after
# `agser.gestures.align_to_eyes`: the origin between the eye centres, the eye line along
# $+x$, the inter-pupil distance 1. Head roll, position and size are gone; what still
# moves is the face itself, above all the mouth (points 48-59, red).

# %%
plot_eye_alignment(lm.points, aligned);

# %% [markdown]
# Over the frames with a face, the eye line's angle runs from {glue:text}`angle_lo:.2f` to
# {glue:text}`angle_hi:.2f` degrees before alignment; after it, the largest deviation from
# horizontal is {glue:text}`angle_after:.1e` degrees: the rotation is exact up to
# floating-point rounding.
#
# ### Phone alignment over the waveform and spectrogram
#
# The phones the extraction used for this utterance (blue on the waveform, white on the
# spectrogram: a TextGrid where the manifest has one, else pocketsphinx). Where the
# utterance has a reference TextGrid, pocketsphinx's alignment of the same audio is drawn
# below them in cyan, for comparison.

# %%
if ex["audio"] is not None:
    plot_phone_alignment(ex["audio"], ex["alignment"], ex["pocketsphinx"]);

# %% [markdown]
# ### The mouth trajectory cut at phone boundaries
#
# Mouth opening (the distance between the upper- and lower-lip midpoints 51 and 57) and
# width (corners 48 to 54), in inter-pupil distances, over the video frames. Each band is
# one of the {glue:text}`n_ex_segments` segments (vowels blue, consonants grey); frames
# outside any band are silence or dropped phones.

# %%
plot_cut_trajectory(lm.timestamps, ex["mouth"], ex_segments, lm.frame_rate)
plt.show()
display(page_table(ex_segments[["phone", "ipa", "start", "end", "frame_start", "n_frames"]], digits=3, index=False))

# %% [markdown]
# ## Segments of the whole run
#
# {glue:text}`n_seg` segments from {glue:text}`n_utterances_ok` utterances. Counts per
# phone and corpus, then the paper's six vowels per corpus and emotion, then the
# extraction's summary per corpus; segment lengths are in video frames (at 25-30 frames
# per second most phones span only 1-5 frames).

# %%
plot_phone_counts(segments)
plt.show()
display(page_table(vowel_segment_table(segments)))
display(page_table(extraction_summary(summary, segments).astype(object).T))

# %% [markdown]
# ## How good is the built-in aligner?
#
# Where the run's utterances come with a reference TextGrid (the simulator writes its true
# alignment), pocketsphinx is run on the audio of a sample of them and its boundaries are
# compared with the reference: every phone start and the last phone's end. Where
# pocketsphinx chose another pronunciation than the reference, only the runs of phones
# found in both sequences are paired (`agser.phones.evaluate.boundary_errors(...,
# matched=True)`). Where the run has GRID clips, their `.align` word alignments are the
# reference for pocketsphinx's word boundaries.
#
# {glue:text}`phone_eval` {glue:text}`word_eval`

# %%
if boundaries is not None:
    display(page_table(boundaries.rename(columns=lambda c: c.replace("_", " ")), digits=1))
    plot_boundary_errors([e for errs in ev["phones"]["phone_errors"].dropna() for e in errs]);
if len(ev["words"]):
    display(page_table(ev["words"], digits=1, index=False))

# %% [markdown]
# ## What failed, and why
#
# In this run {glue:text}`n_fail` of {glue:text}`n_utt` utterances gave no segment, and
# {glue:text}`n_drop` phone segments were dropped from otherwise good utterances, against
# {glue:text}`n_seg` segments kept. Below: the utterances that failed (`failures.csv`),
# then the dropped phones (`dropped_segments.csv`: a face gap longer than the
# interpolation limit, or a phone outside the video) by kind of reason.

# %%
if len(failures):
    display(page_table(failures, index=False))
if len(dropped):
    display(page_table(dropped.groupby(reason_kinds(dropped["reason"]).rename("reason (n: a number)")).size()
                       .rename("segments").reset_index(), index=False))

# %% [markdown]
# ## Summary
#
# - **Agrees with the paper**: the steps themselves (eye alignment, inter-pupil
#   normalisation, the 12 outer-lip points, phone-bounded segments) follow its slides.
# - **Differs, or unknown**: the paper names neither its aligner nor how a phone maps to
#   video frames; the choices above are this book's. The paper does not report how many
#   segments it lost, so the counts above have nothing to be compared with.
# - **Why it matters**: at 25-30 frames per second a vowel is a handful of frames, so a
#   boundary error of a few tens of milliseconds moves a segment by a frame;
#   [chapter 3](ch3_clustering.ipynb) clusters these short segments.
