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
# # Introduction
#
# ## Overview
#
# This book is the reproducible companion of the paper *Mouth Articulation-Based
# Anchoring for Improved Cross-Corpus Speech Emotion Recognition* (S. G. Upadhyay,
# A. N. Salman, C. Busso and C.-C. Lee, arXiv 2412.19909). Every figure and table in it is
# computed, when the book is built, by the `agser` package from the corpora of one *run*;
# the last section of this page says which run built the copy you are reading.
#
# 1. What the paper claims
# 2. What this book does with it
# 3. How to read and re-run the book
# 4. Which run built this copy
#
# ## Prerequisites
#
# | Concept | Importance | Notes |
# |---|---|---|
# | Speech emotion recognition (SER) | Necessary | classifying a recording's emotion from its sound |
# | Cross-corpus transfer | Helpful | training on one labelled corpus, testing on another |
# | [Results at a glance](glance.ipynb) | Helpful | the paper's claims beside this run's results |

# %% tags=["parameters"]
run = "default"
work_dir = None

# %%
from IPython.display import Markdown, display

from agser.analysis.provenance import chapter_list, provenance_table, run_settings
from agser.analysis.tables import paper_uar_table
from agser.book import load_run, toc_chapters
from agser.plot import glue_values, page_table
from agser.run import find_root

root = find_root()
paper = paper_uar_table()
best = paper[["C->I", "I->C"]].drop(index="upper_bound").idxmax()
glue_values({"best_ci": best["C->I"], "best_ic": best["I->C"], "n_chapters": len(toc_chapters(root))})

# %% [markdown]
# ## What the paper claims
#
# A speech emotion recognition model trained on one corpus loses accuracy on another:
# speakers, recording conditions, noise and the way emotions are elicited all differ. The
# usual remedies (transfer learning, semi-supervised and few-shot learning, adversarial
# feature alignment) work on the acoustic features alone. The paper looks instead for
# something that should stay stable across corpora because it is tied to how speech is
# produced: the **articulatory gestures (AGs) of the mouth**. It proceeds in two steps.
#
# **1. Are mouth gestures shared across corpora?** On two audio-visual English corpora,
# CREMA-D (acted, scripted sentences) and MSP-IMPROV (dyadic, improvised and scripted
# speech), the paper tracks 68 facial landmarks per video frame with OpenFace and keeps
# the 12 points of the outer lip contour (48-59); rotates every frame so that the line
# between the eyes is horizontal and scales it by the inter-pupil distance; cuts the mouth
# trajectories at the phone boundaries of a forced alignment; and clusters the
# phone-bounded segments of four emotions (neutral, anger, happiness, sadness) from both
# corpora with time-series k-means under soft-DTW, with 10 clusters chosen by the elbow of
# the inertia curve. A sanity check shows two clusters holding visibly different
# trajectories of the same vowel, while segments of the two corpora in one cluster look
# alike. An overlap measure, $\mathrm{Sim}$, with a 25 % threshold for a cluster to count
# as common, finds that a vowel's segments spread over several clusters, that some
# clusters are shared by both corpora for most vowels, and that the overlap depends on the
# emotion. An association analysis finds that the acoustic (wav2vec 2.0) embeddings of the
# segments of one AG cluster fall into few acoustic clusters.
#
# **2. Can shared gestures anchor cross-corpus SER?** The proposed model has two branches:
# a conventional SER branch (pre-trained acoustic encoder, pooling, classifier,
# cross-entropy loss $L_{ER}$ on the labelled source corpus) and an AG-anchoring branch
# that pulls together the acoustic embeddings of source and unlabelled target segments
# that fall in a common AG cluster (loss $L_{AG}$); training minimises
#
# $$L = L_{ER} + \gamma \, L_{AG}.$$
#
# Against two earlier anchoring methods of the same group, phonetic anchoring (PA, common
# phones as anchors) and layer anchoring (LA, aligning chosen encoder layers), the paper
# reports the best four-class unweighted average recall (UAR) for AG anchoring in both
# directions, CREMA-D to MSP-IMPROV (C->I) and back (I->C), and, in an ablation, that
# anchoring on hard phone-bounded segments without clustering (Hard-AG) does worse.
# Training and testing within one corpus gives the upper bound. The paper's own
# four-category UAR (%), as its slides give them (these are the paper's numbers, not this
# run's; C = CREMA-D, I = MSP-IMPROV):

# %%
display(page_table(paper, digits=2))

# %% [markdown]
# In the paper's table the best cross-corpus method is **{glue:text}`best_ci`** for C->I
# and **{glue:text}`best_ic`** for I->C.
#
# ## What this book does with it
#
# The book runs every one of these steps with the `agser` package, in the paper's order,
# one chapter each. Where the paper has a table, a chapter sets the paper's numbers beside
# the run's own, on the same rows and columns, and says what agrees and what does not;
# [Results at a glance](glance.ipynb) gathers those verdicts on one page. Nothing is copied
# from the paper except its own tables, labelled as such.
#
# CREMA-D and MSP-IMPROV cannot be shipped with the book (MSP-IMPROV is licensed), so the
# **default run** uses the package's built-in articulatory-acoustic simulator: two
# corpora, one CREMA-D-like and one MSP-IMPROV-like, with a known domain shift between
# them (speakers, sentences, frame rate, recording channel, emotion intensity). Its
# results answer the paper's questions on data whose truth is known; they are not the
# paper's results and are not expected to match them number for number. The
# [Corpora](corpora.ipynb) chapter describes the simulator and where its difficulty sits.
# The {glue:text}`n_chapters` pages of this build, as `_toc.yml` lists them:

# %%
display(Markdown(chapter_list(root, toc_chapters(root))))

# %% [markdown]
# ## How to read and re-run the book
#
# Each page is a notebook executed by [papermill](https://papermill.readthedocs.io) and
# rendered by Jupyter Book. A page's code is folded behind "Show code cell source"; the
# one cell shown holds the values the run gave the page (tagged `injected-parameters`).
#
# On a fresh machine, from a checkout of the repository:
#
# ```bash
# make book    # creates .venv, installs agser, runs `agser book --run default`
# make test    # the test suite
# ```
#
# `make book` writes the executed notebooks to `papermill_runs/default/` and the HTML to
# `_build/html/` (open `_build/html/index.html`). Every intermediate result goes through an
# artifact store in `papermill_runs/<run>/work/`, keyed by stage, parameters and inputs, so
# a second build recomputes only what changed and an interrupted build resumes. The
# `agser` command does the same with choices:
#
# ```bash
# agser book --run default                                       # every chapter, then the HTML
# agser book --run default --chapters ch3_clustering --no-html   # one chapter, no HTML
# agser book --run samples                                       # another run
# ```
#
# A **run** is a folder `papermill_runs/<name>/` with a `params.yaml`; a chapter receives
# only the run's name and reads everything else through `agser.run.Run.named`. To run the
# book on your own corpora, build a manifest per corpus with the corpus adapters
# (`agser corpus --help` lists them: CREMA-D, MSP-IMPROV, GRID, a generic CSV):
#
# ```bash
# agser corpus --kind crema-d --root /data/CREMA-D --out mine/crema.csv
# agser corpus --kind msp-improv --root /data/MSP-IMPROV --out mine/improv.csv
# ```
#
# join the two into one manifest (each row keeps its `corpus`):
#
# ```python
# import pandas as pd
# from agser.corpora import read_manifest, write_manifest
# write_manifest(pd.concat([read_manifest("mine/crema.csv"), read_manifest("mine/improv.csv")],
#                          ignore_index=True), "mine/manifest.csv")
# ```
#
# and point a new run at it:
#
# ```yaml
# # papermill_runs/mine/params.yaml
# description: My two corpora.
# parameters:
#   data: {source: manifest, manifest: /abs/path/to/manifest.csv}
#   extract: {landmarks: auto, aligner: auto, workers: 4}
# ```
#
# then `agser book --run mine`. The `paper` run documents every parameter of the paper's
# setting (full CREMA-D and MSP-IMPROV, a wav2vec 2.0 checkpoint); it needs those corpora
# and weights on your machine.
#
# ## Which run built this copy
#
# The run, the code and the versions that built the pages you are reading, then the run's
# own settings (the `parameters:` of its params.yaml; every other value is the default of
# `agser.run.schema`).

# %%
spec = load_run(run, root)
display(page_table(provenance_table(run, spec, root)))
display(Markdown(run_settings(spec)))

# %% [markdown]
# ## Summary
#
# - **The claims**: mouth gestures are shared across corpora, go with the acoustics, and
#   anchor cross-corpus SER better than phones or encoder layers.
# - **This book**: every step of the paper, run on the corpora of one run, each chapter's
#   results beside the paper's; on the default run the corpora are simulated, so the
#   numbers answer the paper's questions on a known truth rather than repeat its results.
# - **Next**: [Results at a glance](glance.ipynb) for the verdicts, then
#   [the corpora](corpora.ipynb).
