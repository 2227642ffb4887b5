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
# ## Overview
#
# The paper works on CREMA-D (91 actors, 12 scripted sentences, six acted emotions,
# 30 fps video) and MSP-IMPROV (12 actors in dyadic improvisations). Neither can be
# shipped with this book, so the default run uses the package's built-in
# **articulatory-acoustic simulator** (`agser.corpora.simulator`), which writes two corpora
# in the formats of real ones (16 kHz WAV, OpenFace-format landmark CSVs, TextGrids of the
# phone alignment, a manifest):
#
# - `sim-crema`, CREMA-D-like: the 12 CREMA-D sentences, a clean channel, 30 fps, acted
#   (strong) emotions;
# - `sim-improv`, MSP-IMPROV-like: 14 other everyday sentences, 25 fps, a noisier,
#   slightly reverberant, band-limited channel, subtler emotions, other speakers.
#
# How one utterance is made: the words are looked up in CMUdict, each phone gets a
# duration and targets for jaw opening, lip spreading, lip rounding and lip closure (plus
# tongue position and r-colouring, which only the sound sees), and Cohen-Massaro dominance
# functions blend neighbouring targets into continuous trajectories. The **same
# trajectories** drive the 68 face landmarks (then head roll, scale and translation with
# slow drift, landmark jitter and dropped frames) and a source-filter synthesiser (F1 with
# jaw opening; F2 with tongue fronting, spreading and rounding; F3 with r-colouring; all
# scaled by the speaker's vocal-tract length), followed by the recording channel. Emotion
# changes articulation (excursion size, smile, speaking rate) and voice (F0 level and
# range, loudness, tension and breathiness), by amounts that differ between speakers and
# utterances. On another run (the `samples` run: real clips) this chapter describes that
# run's corpora instead.
#
# 1. Counts per corpus, emotion and speaker
# 2. Mouth trajectories of /ɑ/ and /i/
# 3. One utterance: the spectrogram and the formants its articulation drives
# 4. The domain shift in pictures
# 5. How hard the emotion task is
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | [Introduction](intro.ipynb) | Necessary | what the paper claims, what a run is |
# | Formants, source-filter model | Helpful | how mouth shape shapes the sound |
# | Unweighted average recall (UAR) | Helpful | the mean of the classes' recalls; chance 25 % |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from agser.analysis import corpora as measures
from agser.plot import (book_style, glue_values, page_table, plot_channel, plot_example_utterance, plot_pose,
                        plot_vowel_shapes)
from agser.run import Run

book_style()
r = Run.named(run, work_dir=work_dir)
manifest, m = r.manifest(), r.corpus_measures()
counts = pd.crosstab(manifest["corpus"], manifest["emotion"], margins=True, margins_name="all")
r.save_table("corpora_counts", counts, index=True)
segments, frames = r.segments()
shapes = measures.vowel_shapes(segments, frames)
pose = measures.head_pose(r.landmarks()[0], dict(zip(manifest["utterance_id"], manifest["corpus"])))
diff = measures.difficulty_table(manifest, m["features"])
if diff is not None:
    r.save_table("corpora_difficulty", diff)
glue_values({"n_audio_failed": len(m["failures"]), "n_shapes": len(shapes), "n_speakers": manifest["speaker"].nunique(),
             "band_lo": 55, "band_hi": 75})
display(Markdown(measures.corpora_statement(run, manifest, r.is_simulated(), r.params["data"]["seed"])))

# %% [markdown]
# ## Counts per corpus, emotion and speaker
#
# On the simulated corpora every speaker says every emotion in turn, so both corpora are
# balanced over speakers and emotions, and no speaker is in both corpora (speaker ids
# start with the corpus code, `C` or `I`; the paper-standin run renames them as the
# releases do: actors 1001, 1002, ... and F01, M01, ...). On a real corpus the tables show what it holds: the
# utterances per corpus and emotion, the fewest and most utterances a speaker has of each
# emotion, and the corpora's sizes and durations (in seconds); {glue:text}`n_audio_failed` utterances without
# usable audio are left out of the audio measures (listed below it when there are any).

# %%
display(page_table(counts))
display(page_table(pd.crosstab([manifest["corpus"], manifest["speaker"]], manifest["emotion"])
                   .groupby(level="corpus").agg(["min", "max"])))
display(page_table(measures.corpus_summary(manifest, m["durations"]).astype(object).T, digits=2))
if len(m["failures"]):
    display(m["failures"].set_index("utterance_id"))

# %% [markdown]
# ## Mouth trajectories of /ɑ/ and /i/
#
# For every /ɑ/ (`AA`) and /i/ (`IY`) segment of the run's extraction
# ({glue:text}`n_shapes` in all; [chapter 2](ch2_segmentation.ipynb): phone boundaries from
# the TextGrids or the aligner, landmarks eye-aligned), the mouth opening (lower-lip
# middle 57 to upper-lip middle 51) and width (corner 48 to corner 54) over the frames of
# the vowel, in inter-pupil distances of the same frame (so that face size and head roll
# drop out), resampled to 10 points. /ɑ/ should open wide with a narrower mouth, /i/ stay
# nearly closed and spread; coarticulation with the neighbouring consonants shows as the
# rise and fall within the vowel. The table gives both at the middle of the vowel.

# %%
if len(shapes):
    plot_vowel_shapes(shapes)
    plt.show()
    display(page_table(measures.vowel_midpoints(shapes), digits=3))

# %% [markdown]
# ## One utterance: the spectrogram and the formants its articulation drives
#
# On a simulated run, `simulate_utterance` regenerates any utterance with the simulator's
# internal tracks. The utterance below is the first `sim-crema` one whose sentence has both
# an /ɑ/ and an /i/; the regenerated audio is checked to equal the WAV file of the
# manifest. The true F1-F3 (where the source is voiced) are drawn over the spectrogram of
# the file; the panel below shows the articulatory trajectories that set them and, at the
# video frames, the mouth opening measured on the landmarks. (Real corpora have no such
# tracks, and the stand-in's files are renamed as the releases name them: on those runs
# this figure is left out.)

# %%
example = measures.regenerate_example(manifest, r.params["data"]) if r.params["data"]["source"] == "simulate" \
    else None
if example is not None:
    plot_example_utterance(*example);

# %% [markdown]
# ## The domain shift in pictures
#
# What differs between the corpora, measured on the files: the long-term average spectrum
# (the channel: band limit, noise floor, reverberation tail), and the median F0 and
# loudness per emotion (speakers and emotion intensity); then, on the landmarks, head roll,
# frame-to-frame landmark jitter and the share of frames without a face.

# %%
plot_channel(manifest, m["features"], m["spectra"]);
plot_pose(pose)
plt.show()
display(page_table(measures.pose_summary(pose), digits=3))

# %% [markdown]
# ## How hard is the emotion task?
#
# A simulator on which every method scores near 100 %, or all near chance, cannot tell
# methods apart. The check: a logistic regression (standardised features, L2, $C = 0.1$)
# on utterance-level statistics (mean and standard deviation of 40 log-mel bands, F0
# median and ranges, frame-energy statistics), scored by unweighted average recall (UAR)
# over the four emotions, (a) within each corpus with speaker-independent folds (4 folds,
# no speaker in both training and test), (b) across corpora, trained on all of one and
# tested on all of the other. The simulator's knobs (`expressiveness`, `nuisance`,
# `profile_spread`, `utterance_spread` for difficulty, `shift` for the domain shift) were
# set so that this check lands near the paper's figures: in-corpus UAR in a band of
# {glue:text}`band_lo`-{glue:text}`band_hi` %, far from perfect, and a loss of several
# points across corpora. Chance is 25 %. The baseline is deliberately simple; the SER
# chapters train the paper's models. The last column standardises each corpus's features
# with that corpus's own statistics before training.

# %%
if diff is None:
    display(Markdown("Fewer than two speakers with one of the four emotions in a corpus: no "
                     "speaker-independent check is possible on this run."))
else:
    display(page_table(diff.rename(columns={"uar_corpus_normalised": "uar, corpus-normalised"}), digits=1,
                       index=False))
    display(Markdown(measures.difficulty_statement(measures.difficulty_summary(diff), len(manifest),
                                                   manifest["speaker"].nunique())))

# %% [markdown]
# ## Summary
#
# - **Like the paper's corpora**: two audio-visual English corpora with the paper's four
#   emotions, different speakers, sentences, frame rates and recording channels; the
#   mouth opens wide for /ɑ/ and spreads for /i/; an in-corpus task far from perfect and a
#   loss across corpora.
# - **Unlike them**: {glue:text}`n_speakers` speakers and a few hundred utterances instead
#   of hours of speech, and a synthesiser instead of voices; every truth (articulation,
#   phone boundaries) is known.
# - **Why it matters**: the later chapters' numbers are this simulator's answers to the
#   paper's questions, not the paper's results; where they differ, the corpora's size is
#   the first suspect.
