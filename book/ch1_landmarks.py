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
# # 1 Landmark extraction
#
# ## Overview
#
# The paper tracks 68 two-dimensional facial landmarks per video frame with OpenFace
# (the iBUG layout: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67) and keeps
# the 12 outer-lip points 48-59 as the mouth gesture. This chapter shows where the run's
# landmarks come from and how good they are:
#
# - when the manifest has **videos** (the `samples` run: real CREMA-D and GRID clips),
#   the built-in landmarker `agser.landmarks.extract` finds them: dlib's HOG face detector
#   and its iBUG 68-point shape predictor, with a face tracker between full-frame
#   detections. Each frame gets a confidence (a logistic map of the detector's score, 0.5
#   at dlib's threshold) and a success flag, as OpenFace gives them;
# - when it has **landmark CSVs** in OpenFace's format (the `default` run: the simulator
#   writes them, with head motion, jitter and dropped frames), they are read with
#   `agser.landmarks.read_openface_csv`; there are no video frames to draw on.
#
# Frames without a usable face are filled by linear interpolation when the gap is short
# (at most {glue:text}`max_gap` frames, with a face on both sides); a phone segment that
# overlaps a longer gap is dropped, and an utterance with no usable face fails at the
# `landmarks` stage.
#
# 1. The landmarks of every utterance: faces found, confidence, gaps
# 2. Landmarks drawn, and the mouth over time
# 3. Confidence over time
# 4. What failed, and why
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [The corpora](corpora.ipynb) | Necessary | what the run's utterances are |
# | Facial landmarks (iBUG 68) | Helpful | the point numbering used throughout |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
import pandas as pd
from IPython.display import Markdown, display

from agser.analysis.landmarks import (FILLED, LEFT, coverage_statement, example_utterances, failure_summary,
                                      landmark_quality, reason_kinds, source_statement)
from agser.gestures import DEFAULT_MAX_GAP
from agser.plot import book_style, glue_values, page_table, plot_confidence, plot_faces, plot_mouth_pixels
from agser.run import Run

book_style()
pd.set_option("display.max_colwidth", 120)  # failure reasons are read whole
r = Run.named(run, work_dir=work_dir)
manifest = r.manifest()
videos = dict(zip(manifest["utterance_id"], manifest["video_path"].fillna("").astype(str).str.strip()))
has_video = any(videos.values())
landmarks, lm_failures = r.landmarks()
quality = landmark_quality(manifest, landmarks, max_gap=DEFAULT_MAX_GAP)
r.save_table("ch1_landmarks", quality, index=True)
failures = pd.read_csv(r.segments_dir() / "failures.csv", dtype=str, keep_default_na=False)
dropped = pd.read_csv(r.segments_dir() / "dropped_segments.csv", keep_default_na=False)
shown = example_utterances(manifest, landmarks)
glue_values({"max_gap": DEFAULT_MAX_GAP, "n_with": len(landmarks), "n_lm_failed": len(lm_failures),
             "n_failed": len(failures), "n_dropped": len(dropped), "frames": int(quality["frames"].sum()),
             "face_pct": 100 * quality["frames with face"].sum() / max(int(quality["frames"].sum()), 1),
             "n_gaps": int(quality["gaps"].sum()), "n_filled": int(quality[FILLED].sum()),
             "n_left": int(quality[LEFT].sum())})
display(Markdown(source_statement(run, manifest, has_video)))

# %% [markdown]
# ## The landmarks of every utterance
#
# The landmarks are those of the run's extraction (cached in the run's store): detected
# once per video with the extraction's own settings, or read back from the CSVs. One
# column per corpus; below it, any utterance whose landmarks could not be had, with its
# reason.

# %%
display(page_table(quality.astype(object).T))
if len(lm_failures):
    display(lm_failures[["utterance_id", "reason"]])

# %% [markdown]
# Over the run's {glue:text}`n_with` utterances with landmarks,
# **{glue:text}`face_pct:.1f` %** of the {glue:text}`frames` frames have a trusted face.
# Of {glue:text}`n_gaps` runs of frames without a face, {glue:text}`n_filled` were short
# enough to be interpolated; the {glue:text}`n_left` others cost the segments that overlap
# them.
#
# ## Landmarks drawn
#
# Three frames (the first, middle and last with a face) of one utterance per corpus,
# cropped to the face. The 68 points are joined along the iBUG contours (grey), the 12
# outer-lip points of the mouth gesture in red (48, the left corner on the image, a
# square; 57, the middle of the lower lip, a star). With videos they are drawn on the
# frames themselves; without, on a blank canvas in the video's pixel coordinates.

# %%
plot_faces(landmarks, shown, videos=videos if has_video else None);

# %% [markdown]
# The mouth of the same utterances over time: lip opening (point 57 minus point 51,
# vertical) and mouth width (54 minus 48, horizontal), in pixels of the frame, before any
# eye alignment; breaks are frames without a face.

# %%
plot_mouth_pixels(landmarks, shown);

# %% [markdown]
# ## Confidence over time
#
# Per corpus, up to eight utterances (one line each); frames without a trusted face are
# crosses at the bottom. The dotted line is 0.5, dlib's detection threshold on the
# confidence scale (the simulator's CSVs give their own confidences).

# %%
plot_confidence(landmarks, dict(zip(manifest["utterance_id"], manifest["corpus"])));

# %% [markdown]
# ## What failed, and why
#
# The extraction's failure table (`failures.csv`: one row per utterance that gave no
# segment, with the stage and a one-line reason) grouped by stage and kind of reason, and
# the phones of good utterances that gave no segment (`dropped_segments.csv`), for
# example because they overlap a face gap longer than the interpolation limit.
# {glue:text}`n_lm_failed` utterances failed at the landmark stage and
# {glue:text}`n_failed` in all; {glue:text}`n_dropped` phone segments of kept utterances
# were dropped.

# %%
if len(failures):
    display(page_table(failure_summary(failures), index=False))
if len(dropped):
    display(page_table(dropped.groupby(reason_kinds(dropped["reason"]).rename("reason (n: a number)")).size()
                       .rename("segments dropped").sort_values(ascending=False).reset_index(), index=False))
display(Markdown(coverage_statement(quality, has_video)))

# %% [markdown]
# ## Summary
#
# - **Agrees with the paper**: 68 iBUG landmarks per frame, of which the 12 outer-lip
#   points make the mouth gesture; frames without a face are counted and bridged where
#   the gap is short.
# - **Differs**: the landmarker. The paper used OpenFace 2 (a CLNF model); the built-in
#   one is dlib's, with a tracker, and its confidence is a map of dlib's detection score,
#   not OpenFace's. The default run reads the simulator's landmarks, so the landmarker is
#   not exercised there; the `samples` run exercises it on real faces.
# - **Why it matters**: every later chapter works on these points; a frame without a face
#   costs the segments around it ([chapter 2](ch2_segmentation.ipynb)).
